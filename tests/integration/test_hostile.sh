#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile input and hostile local users: outputs that never follow a link, locks that cannot be
# stolen and leave nothing behind, several interfaces for one daemon, FIFOs refused, write
# errors that fail, text that is not UTF-8 in JSON and metrics, and the messages a newcomer
# reads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

TOOLS=$TESTDIR/tools
GENCAP=${GENCAP:-$(dirname "$AMLGUARD")/tests/tools/amlg-gencap}
DAEMON_PID=
IF_DUMMY=ag${ID}d

# Run a command expected to fail with exit status 2; its output in $OUT.
fails2() {
	local rc
	set +e
	OUT=$("$@" 2>&1)
	rc=$?
	set -e
	echo "$OUT"
	[ $rc -eq 2 ] || die "'$*': exit $rc, not 2"
}

# READY=1 from the daemon, waited for up to 60 s: loading the datapath takes long on a busy machine.
ready() {
	local i
	for i in $(seq 600); do
		[ "$(ready_count)" -ge 1 ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.err" >&2; die "the daemon died"; }
		sleep 0.1
	done
	cat "$WORK/daemon.err" >&2
	die "no READY=1 from the daemon"
}

# amlguard in the host namespace, bounded in time: what should be refused must not hang.
ns_amlg() {
	timeout 60 nsenter --net=/run/netns/"$NS_HOST" "$AMLGUARD" "$@"
}

policy() {
	cat >"$WORK/p.policy" <<'P'
platform off
mode audit
allow out udp port 53 to 198.51.100.53 flow T-DNS
P
}

# --log-file and --pcap never write through a link, nor in a directory another user controls.
test_outputs_refused() {
	setup_direct
	policy
	echo "precious" >"$WORK/precious"
	mkdir -m 0755 "$WORK/logs"
	ln -s "$WORK/precious" "$WORK/logs/v.json"
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" --log-file "$WORK/logs/v.json"
	echo "$OUT" | grep -q "v.json: cannot open the violation log: it is a symbolic link (not followed)" || die "no clear refusal"
	ln -s "$WORK/precious" "$WORK/logs/v.pcap"
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" --pcap "$WORK/logs/v.pcap"
	echo "$OUT" | grep -q "symbolic link" || die "pcap through a link"
	[ "$(cat "$WORK/precious")" = precious ] || die "the link's target was written"
	mkdir -m 0755 "$WORK/theirs"
	chown 65534:65534 "$WORK/theirs"
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" --log-file "$WORK/theirs/v.json"
	echo "$OUT" | grep -q "the directory $WORK/theirs belongs to uid 65534, not root" || die "another user's directory"
	mkdir -m 0777 "$WORK/open"
	chmod 0777 "$WORK/open"
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" --log-file "$WORK/open/v.json"
	echo "$OUT" | grep -q "writable by others" || die "a world-writable directory"
	# nothing was attached, and nothing is left
	[ ! -e /sys/fs/bpf/amlguard/"$IF_HOST" ] || die "pins left after a refused start"
	[ ! -e /run/amlguard/"$IF_HOST".lock ] || die "lock left after a refused start"
}

# rm of the daemon's lock file: a second daemon is still refused, the first puts its file back.
test_lock_deleted() {
	setup_direct
	policy
	notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy"
	ready
	[ -e /run/amlguard/"$IF_HOST".lock ] || die "no lock file"
	rm -f /run/amlguard/"$IF_HOST".lock
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" --mode enforce
	echo "$OUT" | grep -q "another amlguard (pid $DAEMON_PID, 'run') holds this interface" || die "second daemon not refused"
	fails2 amlg attach -i "$IF_HOST" -p "$WORK/p.policy"
	echo "$OUT" | grep -q "the amlguard daemon (pid $DAEMON_PID) manages this interface" || die "attach not refused"
	local i
	for i in $(seq 30); do
		grep -q "^$DAEMON_PID run" /run/amlguard/"$IF_HOST".lock 2>/dev/null && break
		sleep 0.1
	done
	grep -q "^$DAEMON_PID run" /run/amlguard/"$IF_HOST".lock || die "the daemon did not put its lock file back"
	grep -q "was removed or replaced under this daemon; it holds it again" "$WORK/daemon.err" || die "not said"
	[ "$(amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["mode"])')" = audit ] || die "mode changed"
	kill -0 "$DAEMON_PID" || die "the daemon died"
	stop_daemon
	# its lock file goes with it
	[ ! -e /run/amlguard/"$IF_HOST".lock ] || die "lock file left after the daemon stopped"
}

# run -i A -p X -i B -p Y: both interfaces, each in its own mode.
test_two_interfaces() {
	setup_direct
	in_ns "$NS_HOST" ip link add "$IF_DUMMY" type veth peer name "${IF_DUMMY}p"
	in_ns "$NS_HOST" ip link set "$IF_DUMMY" up
	in_ns "$NS_HOST" ip link set "${IF_DUMMY}p" up
	attached "$NS_HOST" "$IF_DUMMY"
	policy
	sed 's/mode audit/mode enforce/' "$WORK/p.policy" >"$WORK/q.policy"
	notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/q.policy" -i "$IF_DUMMY" -p "$WORK/p.policy" --detach-on-exit
	ready
	amlg -j status | python3 -c '
import json, sys
s = {x["iface"]: x for x in json.load(sys.stdin)}
a, b = sys.argv[1], sys.argv[2]
assert s[a]["mode"] == "enforce" and s[a]["policy"]["path"].endswith("/q.policy"), s.get(a)
assert s[b]["mode"] == "audit" and s[b]["policy"]["path"].endswith("/p.policy"), s.get(b)
' "$IF_HOST" "$IF_DUMMY" || die "not both interfaces, each in its mode"
	stop_daemon
	[ ! -e /sys/fs/bpf/amlguard/"$IF_HOST" ] && [ ! -e /sys/fs/bpf/amlguard/"$IF_DUMMY" ] || die "pins left"
	# the options follow their -i: one without a policy is an error, not a silent default
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" -i "$IF_DUMMY"
	echo "$OUT" | grep -q "run: -i $IF_DUMMY needs -p POLICY" || die "no clear error"
	fails2 ns_amlg run -i "$IF_HOST" -p "$WORK/p.policy" -i "$IF_HOST" -p "$WORK/q.policy"
	echo "$OUT" | grep -q "run: -i $IF_HOST is given twice" || die "twice"
}

# attach and detach, a failed attach, odd names: no lock file, no pin directory stays.
test_nothing_left() {
	setup_direct
	policy
	amlg attach -i "$IF_HOST" -p "$WORK/p.policy" >/dev/null
	attached "$NS_HOST" "$IF_HOST"
	[ -d /sys/fs/bpf/amlguard/"$IF_HOST" ] || die "no pins"
	amlg detach -i "$IF_HOST" >/dev/null
	[ ! -e /sys/fs/bpf/amlguard/"$IF_HOST" ] || die "pin directory left"
	[ ! -e /run/amlguard/"$IF_HOST".lock ] || die "lock file left after detach"
	fails2 amlg attach -i "ag${ID}x" -p "$WORK/p.policy"
	echo "$OUT" | grep -q "ag${ID}x: no such interface" || die "attach to nothing"
	[ ! -e /run/amlguard/"ag${ID}x".lock ] || die "lock file left after a failed attach"
	fails2 amlg detach -i ../../x
	echo "$OUT" | grep -q "amlguard: error: ../../x: an interface name has no '/', ':' or white space" || die "detach ../../x"
	fails2 amlg detach -i "ag${ID}averyveryverylong"
	echo "$OUT" | grep -q "longer than 15 characters" || die "long name"
	[ ! -e /run/amlguard/"ag${ID}averyveryverylong".lock ] || die "lock file of a long name"
	# status, log and fqdn say the same about an interface without amlguard
	local cmd first=
	for cmd in status log fqdn; do
		fails2 amlg $cmd -i "$IF_HOST"
		echo "$OUT" | grep -q "hint: attach it with: amlguard attach -i $IF_HOST -p POLICY" || die "$cmd: no hint"
		[ -z "$first" ] && first=$OUT
		[ "$OUT" = "$first" ] || die "$cmd says something else than status"
	done
}

# check --write-violations: a full device or disk is an error, not a short capture and exit 1.
test_write_errors() {
	policy
	cat >"$WORK/spec" <<'S'
exfil tcp 192.0.2.10 50003 203.0.113.9 443 repeat=400 violation
S
	"$GENCAP" "$WORK/spec" "$WORK/c.pcap" 2>/dev/null
	fails2 timeout 60 "$AMLGUARD" check -p "$WORK/p.policy" --local 192.0.2.0/24 --write-violations /dev/full "$WORK/c.pcap"
	echo "$OUT" | grep -q "/dev/full: cannot write the capture: No space left on device" || die "/dev/full"
	mkdir "$WORK/small"
	mount -t tmpfs -o size=4k tmpfs "$WORK/small" || return 249
	local rc=0 f
	for f in v.pcap v.pcap.gz; do
		set +e
		OUT=$(timeout 20 "$AMLGUARD" check -p "$WORK/p.policy" --local 192.0.2.0/24 --write-violations "$WORK/small/$f" "$WORK/c.pcap" 2>&1)
		rc=$?
		set -e
		echo "$OUT" | tail -3
		rm -f "$WORK/small/$f"
		[ $rc -eq 2 ] || { umount "$WORK/small"; die "$f on a full disk: exit $rc"; }
		echo "$OUT" | grep -q "$f: cannot write the violating packets: No space left on device" || { umount "$WORK/small"; die "$f: no message"; }
	done
	umount "$WORK/small"
	# output that cannot be written: exit 2, never 0
	fails2 sh -c "'$AMLGUARD' compile -p '$WORK/p.policy' >/dev/full"
	echo "$OUT" | grep -q "cannot" || die "a full standard output"
}

# A FIFO as a policy, include or configuration: refused at once, not a hang; the daemon too.
test_fifos() {
	setup_direct
	policy
	mkfifo "$WORK/fifo.policy" "$WORK/fifo.conf"
	fails2 timeout 60 "$AMLGUARD" compile -p "$WORK/fifo.policy"
	echo "$OUT" | grep -q "cannot read '$WORK/fifo.policy': it is a FIFO, not a regular file" || die "FIFO policy"
	printf 'include "fifo.policy"\nallow out tcp port 443 to 192.0.2.1\n' >"$WORK/inc.policy"
	fails2 timeout 60 "$AMLGUARD" compile -p "$WORK/inc.policy"
	echo "$OUT" | grep -q "it is a FIFO" || die "FIFO include"
	fails2 ns_amlg run -c "$WORK/fifo.conf"
	echo "$OUT" | grep -q "fifo.conf: error: cannot read it: it is a FIFO, not a regular file" || die "FIFO config"
	fails2 timeout 60 "$AMLGUARD" tags list --tags "$WORK/fifo.policy"
	# the daemon on SIGHUP: the reload fails, the daemon carries on
	cp "$WORK/p.policy" "$WORK/live.policy"
	notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/live.policy"
	ready
	rm "$WORK/live.policy"
	mkfifo "$WORK/live.policy"
	kill -HUP "$DAEMON_PID"
	local i
	for i in $(seq 50); do
		grep -q "live.policy': it is a FIFO" "$WORK/daemon.err" && break
		sleep 0.1
	done
	grep -q "live.policy': it is a FIFO" "$WORK/daemon.err" || die "SIGHUP on a FIFO not reported"
	kill -0 "$DAEMON_PID" || die "the daemon died"
	stop_daemon
}

# Names that are not UTF-8: JSON stays whole, the metrics textfile stays valid.
test_not_utf8() {
	setup_direct
	local bad
	bad="$WORK/$(printf 'caf\xe9')"
	mkdir "$bad"
	printf 'platform off\nmode audit\nallow out udp port 53 to 198.51.100.53 flow T-DNS comment "caf\xe9"\nnoflow T-X comment "na\xefve"\n' >"$bad/p.policy"
	amlg -j compile -p "$bad/p.policy" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["path"].endswith("caf\\xe9/p.policy"), d["path"]
assert d["noflow"][0]["comment"] == "na\\xefve", d["noflow"]
' || die "compile -j"
	mkdir "$WORK/tf"
	notify_socket
	start_daemon -i "$IF_HOST" -p "$bad/p.policy" --metrics-textfile "$WORK/tf/amlguard.prom" --metrics-interval 1
	ready
	amlg -j status -i "$IF_HOST" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["policy"]["path"].endswith("caf\\xe9/p.policy"), s["policy"]["path"]
' || die "status -j"
	local i
	for i in $(seq 50); do
		[ -s "$WORK/tf/amlguard.prom" ] && break
		sleep 0.1
	done
	grep -q 'caf\\\\xe9/p.policy' "$WORK/tf/amlguard.prom" || die "the path in the textfile"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$WORK/tf/amlguard.prom" || die "promtool rejects the textfile"
	fi
	stop_daemon
}

# --var site=/etc/shadow: refused, and not a line of it shown.
test_not_a_policy() {
	printf 'root:SECRETHASH:19000:0:99999:7:::\n' >"$WORK/shadow"
	printf 'include "$site"\nallow out tcp port 443 to 192.0.2.1\n' >"$WORK/s.policy"
	fails2 timeout 60 "$AMLGUARD" compile -p "$WORK/s.policy" --var site="$WORK/shadow"
	echo "$OUT" | grep -q "shadow:1: error: not a policy file (its name does not end in .policy): none of its lines are shown" || die "no refusal"
	! echo "$OUT" | grep -q SECRET || die "a line of it was shown"
	fails2 timeout 60 "$AMLGUARD" -j compile -p "$WORK/s.policy" --var site="$WORK/shadow"
	! echo "$OUT" | grep -q SECRET || die "a line of it was shown in JSON"
}

# -q is errors only: a policy with a warning says nothing.
test_quiet() {
	printf 'platform off\nset none = { }\nallow out tcp port 443 to @none flow X optional\nallow out tcp port 443 to 192.0.2.1\n' >"$WORK/w.policy"
	"$AMLGUARD" compile -p "$WORK/w.policy" 2>"$WORK/err" >/dev/null
	grep -q warning "$WORK/err" || die "no warning without -q"
	"$AMLGUARD" -q compile -p "$WORK/w.policy" 2>"$WORK/err" >/dev/null
	[ ! -s "$WORK/err" ] || die "-q printed: $(cat "$WORK/err")"
}

run_tests "$@"
