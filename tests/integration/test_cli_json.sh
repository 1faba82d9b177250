#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The command line, the same for every command: with -j each error is one JSON value on standard
# output (an {"error": ...} object, or a policy's diagnostics) and nothing on standard error, exit
# status 2; the policy options' messages; --help lists the options the man page and the bash
# completion name.  No traffic: interfaces that do not exist are enough.
. "$(dirname "$0")/lib.sh"

TOP=$TESTDIR/../..
# every command; those with their own -j (export and run take the global one only)
CMDS="compile attach reload status log detach run check explain fqdn tags udr export audit"
CMDS_J="compile attach reload status log detach check explain fqdn tags udr audit"
NOIF=ag${ID}n # no interface has this name

policy() {
	printf 'platform off\ndefine port = 443\nallow out tcp port $port to 198.51.100.0/24 flow T\n' \
		>"$WORK/p.policy"
}

# Run amlguard ARGS... with its output in $WORK/o and $WORK/e; print its exit status.
exit_status() {
	local rc
	set +e
	"$AMLGUARD" "$@" >"$WORK/o" 2>"$WORK/e"
	rc=$?
	set -e
	echo $rc
}

# amlguard ARGS... must fail with exit status 2, print nothing on stderr and one JSON value on
# stdout: {"error": MSG} or a list of diagnostics, one of them an error whose message holds WANT.
#   json_error WANT ARGS...
json_error() {
	local want=$1 rc
	shift
	rc=$(exit_status "$@")
	[ $rc -eq 2 ] || die "amlguard $*: exit $rc: $(cat "$WORK/o" "$WORK/e")"
	[ ! -s "$WORK/e" ] || die "amlguard $*: stderr under -j: $(cat "$WORK/e")"
	python3 - "$WORK/o" "$want" <<'PY' || die "amlguard $*: not one JSON error with '$want': $(cat "$WORK/o")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
if len(lines) != 1:
    sys.exit("%d lines" % len(lines))
v = json.loads(lines[0])
if isinstance(v, dict):
    msgs = [v["error"]] if list(v) == ["error"] else []
else:
    msgs = [d["message"] for d in v if d.get("level") == "error"]
if not any(sys.argv[2] in m for m in msgs):
    sys.exit("no error with %r in %r" % (sys.argv[2], msgs))
PY
}

# amlguard ARGS... must fail with exit status 2, nothing on stdout, WANT on stderr.
#   text_error WANT ARGS...
text_error() {
	local want=$1 rc
	shift
	rc=$(exit_status "$@")
	[ $rc -eq 2 ] || die "amlguard $*: exit $rc"
	[ ! -s "$WORK/o" ] || die "amlguard $*: stdout: $(cat "$WORK/o")"
	grep -qF -- "$want" "$WORK/e" || die "amlguard $*: no '$want' in: $(cat "$WORK/e")"
}

test_unknown_option() {
	local cmd
	for cmd in $CMDS; do
		json_error "$cmd: unrecognized option '--no-such'" -j "$cmd" --no-such
		json_error "$cmd: invalid option -- 'Z'" -j "$cmd" -Z
		text_error "$cmd: unrecognized option '--no-such'" "$cmd" --no-such
		grep -q "^Usage: amlguard $cmd" "$WORK/e" || die "$cmd: no usage after the error"
	done
	# the command's own -j, after the bad option: JSON all the same
	for cmd in $CMDS_J; do
		json_error "$cmd: unrecognized option '--no-such'" "$cmd" --no-such -j
	done
}

test_missing_argument() {
	local cmd
	for cmd in compile attach reload check explain tags udr export audit; do
		json_error "$cmd: option requires an argument -- 'p'" -j "$cmd" -p
		json_error "$cmd: option '--tags' requires an argument" -j "$cmd" --tags
	done
	for cmd in status log detach fqdn; do
		json_error "$cmd: option requires an argument -- 'i'" "$cmd" -j -i
	done
	json_error "run: option requires an argument -- 'c'" -j run -c
	json_error "run: option '--pcap' requires an argument" -j run --pcap
	text_error "detach: option requires an argument -- 'i'" detach -i
}

# A policy, service-tag file, capture or configuration that is not there.
test_missing_file() {
	policy
	local none=$WORK/none.policy msg="cannot read '$WORK/none.policy'"
	json_error "$msg" compile -j -p "$none"
	json_error "$msg" attach -j -i "$NOIF" -p "$none"
	json_error "$msg" reload -j -i "$NOIF" -p "$none"
	json_error "$msg" check -j -p "$none" --local 192.0.2.0/24 "$WORK/none.pcap"
	json_error "$msg" explain -j -p "$none" out tcp 192.0.2.1:1 198.51.100.1:443
	json_error "$msg" udr -j -p "$none"
	json_error "$msg" -j export -p "$none" --format nsg
	json_error "$msg" -j run -i "$NOIF" -p "$none"
	json_error "$msg" tags -j diff "$WORK/a.json" "$WORK/b.json" -p "$none"
	json_error "$WORK/none.pcap: No such file or directory" \
		check -j -p "$WORK/p.policy" --local 192.0.2.0/24 "$WORK/none.pcap"
	json_error "$WORK/none.txt: cannot open" explain -j -p "$WORK/p.policy" --file "$WORK/none.txt"
	json_error "unable to open $WORK/none.json" audit -j -p "$WORK/p.policy" --nsg "$WORK/none.json"
	json_error "$WORK/none.json: invalid service-tag file" tags -j list --tags "$WORK/none.json"
	json_error "cannot read it: No such file or directory" -j run -c "$WORK/none.conf"
	text_error "amlguard: $none: 1 error, nothing was loaded" compile -p "$none"
}

# -i: not given, not a name, no amlguard there, no interface there.
test_interface() {
	policy
	local cmd
	for cmd in status log fqdn detach; do
		json_error "$NOIF: amlguard is not attached" "$cmd" -j -i "$NOIF"
		json_error "a/b: an interface name has no '/', ':' or white space" "$cmd" -j -i a/b
	done
	json_error "$NOIF: amlguard is not attached" reload -j -i "$NOIF" -p "$WORK/p.policy"
	json_error "$NOIF: no such interface" attach -j -i "$NOIF" -p "$WORK/p.policy"
	for cmd in log fqdn detach; do
		json_error "$cmd: no interface given (-i IFACE)" "$cmd" -j
	done
	for cmd in attach reload; do
		json_error "$cmd: no interface given (-i IFACE)" "$cmd" -j -p "$WORK/p.policy"
	done
	text_error "hint: there is no interface named $NOIF here" log -i "$NOIF"
	[ ! -e /run/amlguard/"$NOIF".lock ] || die "a lock file left"
}

# The policy options of every command that takes a policy: -p, --var, --tags, --mode.
test_policy_options() {
	policy
	local p=$WORK/p.policy bad
	text_error "no policy given (-p POLICY)" compile
	json_error "no policy given (-p POLICY)" compile -j
	for bad in region "" =westus =; do
		text_error "amlguard: error: --var $bad: expected NAME=VALUE" compile -p "$p" --var "$bad"
	done
	text_error "amlguard: error: --var port=80: variable 'port' given twice" \
		compile -p "$p" --var port=8443 --var port=80
	json_error "--var port=80: variable 'port' given twice" \
		check -j -p "$p" --var port=8443 --var=port=80
	text_error "amlguard: error: --what-if x: expected NAME=VALUE" compile -p "$p" --what-if x
	local many=() i
	for i in $(seq 0 64); do many+=(--var "v$i=$i"); done
	text_error "amlguard: error: --var v64=64: more than 64 variables" compile -p "$p" "${many[@]}"
	for bad in drop Enforce AUDIT ""; do
		text_error "amlguard: error: --mode $bad: expected 'audit' or 'enforce'" \
			attach -i "$NOIF" -p "$p" --mode "$bad"
	done
	# --var=NAME=VALUE (the first '=' splits), --mode, and the last -p wins
	"$AMLGUARD" compile -j -p "$WORK/none.policy" --var=port=8443 --mode audit -p "$p" \
		>"$WORK/o" || die "compile with --var=port=8443: exit $?"
	python3 - "$WORK/o" <<'PY' || die "the options did not reach the compile: $(head -c 600 "$WORK/o")"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["mode"] == "audit", c["mode"]
v = {x["name"]: x for x in c["variables"]}
assert str(v["port"]["value"]) == "8443", v
PY
}

# Every command's --help: exit 0, its options listed, each of them in the bash completion's list
# for the command and in the man page (long or short).
test_help_lists_options() {
	local cmd short opt comp n
	for cmd in $CMDS; do
		"$AMLGUARD" "$cmd" --help >"$WORK/h" || die "$cmd --help: exit $?"
		comp=$(awk -v c="$cmd" '$1 == c ")" { on = 1 } on { print } on && /;;/ { exit }' \
			"$TOP/user/dist/amlguard.bash-completion")
		n=0
		# "  -p, --policy POLICY  help" or "      --var NAME=VALUE  help": "-p --policy", "- --var"
		while read -r short opt; do
			n=$((n + 1))
			echo "$comp" | grep -q -- "$opt\b" || die "the completion of $cmd lacks $opt"
			grep -q -- "$opt\b" "$TOP/docs/amlguard.8.md" ||
				{ [ "$short" != - ] && grep -q -- "$short\b" "$TOP/docs/amlguard.8.md"; } ||
				die "amlguard.8.md does not document $cmd $opt"
		done < <(awk '/^Options:/ { on = 1; next }
			on && match($0, /^  (-[a-zA-Z],)? +--[a-z][a-z0-9-]*/) {
				w = substr($0, 1, RLENGTH); gsub(/[ ,]+/, " ", w); sub(/^ /, "", w)
				if (w ~ /^--/) w = "- " w
				print w }' "$WORK/h")
		[ $n -gt 1 ] || die "$cmd --help lists no options"
	done
}

run_tests "$@"
