#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# "check" over Azure flow logs: generated VNet (version 4) and NSG (version 2) logs, plain and
# gzip, single files and blob trees, every flow state, both directions, IPv6, denied and
# malformed tuples; verdicts, NSG decisions, filters, exit codes, messages naming the file, the
# record and the tuple; shards run with GNU parallel and merged equal the whole.
. "$(dirname "$0")/lib.sh"

GEN="python3 $TESTDIR/../tools/genflowlog.py"

write_spec() {
	offline_policy "$WORK/p.policy" <<'EOF'
allow out tcp port 8443 to 198.51.100.99 flow T-NEVER
EOF
	# NAME PROTO SRC SPORT DST DPORT DIR NSG RULE MAC EXPECTED (status:flow ID or reason)
	cat >"$WORK/spec" <<'EOF'
https      tcp 192.0.2.10 50000 198.51.100.7 443 O A DefaultRule_AllowInternetOutBound 000D3A000001 allowed:T-HTTPS
dns        udp 192.0.2.10 5353 198.51.100.53 53 O A DefaultRule_AllowInternetOutBound 000D3A000001 allowed:T-DNS
https-v6   tcp 2001:db8:ffff::10 50002 2001:db8:1::5 443 O A DefaultRule_AllowInternetOutBound 000D3A000001 allowed:T-V6
in-aml     tcp 203.0.113.5 40000 192.0.2.10 44224 I A AllowAmlInBound 000D3A000001 allowed:T-IN-AML
ping       icmp 192.0.2.10 0 198.51.100.7 0 O A DefaultRule_AllowInternetOutBound 000D3A000001 allowed:T-PING
exfil      tcp 192.0.2.10 50003 203.0.113.9 443 O A DefaultRule_AllowInternetOutBound 000D3A000001 violation:no-rule
wrong-port tcp 192.0.2.10 50004 198.51.100.7 22 O A DefaultRule_AllowInternetOutBound 000D3A000001 violation:port
in-ssh     tcp 198.51.100.7 40001 192.0.2.10 22 I A AllowSSH 000D3A000001 violation:no-rule
exfil-v6   udp 2001:db8:ffff::10 5001 2001:db9::1 53 O A DefaultRule_AllowInternetOutBound 000D3A000001 violation:no-rule
blocked    tcp 192.0.2.10 50005 198.51.100.8 443 O D DenyStorageOutBound 000D3A000001 blocked:T-HTTPS
blocked-v6 tcp 2001:db8:ffff::10 50008 2001:db8:1::9 443 O D DenyStorageOutBound 000D3A000001 blocked:T-V6
scan       tcp 198.51.100.66 40002 192.0.2.10 3389 I D DefaultRule_DenyAllInBound 000D3A000001 attempted:no-rule
nic2-ok    tcp 192.0.2.11 50006 198.51.100.7 443 O A DefaultRule_AllowInternetOutBound 000D3A000002 allowed:T-HTTPS
nic2-bad   tcp 192.0.2.11 50007 203.0.113.10 80 O A DefaultRule_AllowInternetOutBound 000D3A000002 violation:no-rule
EOF
}

# Compare "check -j" output with the spec: every flow once, with its status, flow ID or reason,
# NIC, NSG rule and decision, and the B/C/E counters summed (21 packets, 5160 bytes).
verify() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys, ipaddress
spec = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
fmt = sys.argv[3]
lines = [json.loads(l) for l in open(sys.argv[2])]
flows, summary = lines[:-1], lines[-1]["summary"]
if fmt == "nsg":
    spec = [s for s in spec if s[1] in ("tcp", "udp")]
n = lambda a: str(ipaddress.ip_address(a))
for s in spec:
    name, proto, src, sport, dst, dport, d, nsg, rule, mac, exp = s
    m = [f for f in flows if f["proto"] == proto and f["src"] == n(src) and f["dst"] == n(dst) and
         f["sport"] in (None, int(sport)) and f["dport"] in (None, int(dport))]
    assert len(m) == 1, (name, m)
    f = m[0]
    status, what = exp.split(":")
    assert f["status"] == status, (name, f)
    assert f["dir"] == ("out" if d == "O" else "in"), (name, f)
    assert f["nic"] == ":".join(mac[i:i + 2] for i in range(0, 12, 2)).lower(), (name, f)
    assert f["nsg_rule"] == rule, (name, f)
    assert f["nsg_decision"] == ("deny" if nsg == "D" else "allow"), (name, f)
    if status in ("allowed", "blocked"):
        assert f["verdict"] == "allow" and f["flow"] == what and f["rule"], (name, f)
    else:
        assert f["verdict"] == "violation" and f["reason"] == what, (name, f)
    if nsg == "A":
        assert (f["tuples"], f["packets"], f["bytes"]) == (3, 21, 5160), (name, f)
    else:
        assert (f["tuples"], f["packets"]) == (2, 0), (name, f)
    assert f["acl"] and f["resource"], (name, f)
assert len(flows) == len(spec), (len(flows), len(spec))
count = lambda st: sum(1 for s in spec if s[-1].startswith(st + ":"))
assert summary["violating_flows"] == count("violation"), summary
assert summary["blocked_flows"] == count("blocked"), summary
assert summary["attempted_flows"] == count("attempted"), summary
assert summary["allowed_flows"] == count("allowed"), summary
assert summary["flow_ids_never_seen"] == ["T-NEVER"] + ([] if fmt == "vnet" else ["T-PING"]), summary
assert summary["flow_ids_blocked"]["T-HTTPS"]["flows"] == 1, summary
assert summary["flow_ids_used"]["T-HTTPS"]["flows"] == 2, summary
print(f"{len(flows)} flows as expected")
PY
}

run_check() {
	local want=$1 out=$2
	shift 2
	set +e
	"$AMLGUARD" "$@" >"$out" 2>"$WORK/err"
	local rc=$?
	set -e
	[ $rc -eq "$want" ] || {
		cat "$WORK/err" >&2
		die "check $*: exit $rc, expected $want"
	}
}

test_single_files() {
	write_spec
	local fmt gz
	for fmt in vnet nsg; do
		for gz in "" --gzip; do
			$GEN --format $fmt $gz -o "$WORK/$fmt.json${gz:+.gz}" "$WORK/spec" >/dev/null
			run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/$fmt.json${gz:+.gz}"
			verify "$WORK/spec" "$WORK/out.json" $fmt || die "$fmt$gz: verdicts differ"
		done
	done
	# the content decides, not the name
	cp "$WORK/vnet.json.gz" "$WORK/flows.bin"
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/flows.bin"
	verify "$WORK/spec" "$WORK/out.json" vnet || die "a flow log named .bin"
}

test_blob_trees() {
	write_spec
	local fmt n
	for fmt in vnet nsg; do
		# from 07:59: the first flow's B tuple is in one hour's blob, its C and E in the next
		$GEN --format $fmt --gzip --start 1796284740 --tree "$WORK/$fmt" "$WORK/spec" >"$WORK/gen.json"
		n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$WORK/gen.json")
		[ "$n" -ge 4 ] || die "the generated tree has only $n files"
		find "$WORK/$fmt" -path '*/h=07/*' | grep -q . || die "no blob of 07:00"
		find "$WORK/$fmt" -path '*/y=2026/m=12/d=03/h=0[89]/m=00/macAddress=000D3A00000[12]/PT1H.json.gz' |
			grep -q . || die "not the blob layout"
		run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/$fmt"
		verify "$WORK/spec" "$WORK/out.json" $fmt || die "$fmt tree: verdicts differ"
		tail -1 "$WORK/out.json" | grep -q "\"files\":$n," || die "$fmt tree: not every file read"
	done
	# both trees at once: the same flows twice (the same NICs): counters double
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/vnet" "$WORK/vnet"
	python3 -c '
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])][:-1]
assert all(x["tuples"] in (4, 6) for x in f), f' "$WORK/out.json" || die "twice the same tree"
}

test_report_and_exit_codes() {
	write_spec
	$GEN -o "$WORK/all.json" "$WORK/spec" >/dev/null
	run_check 1 "$WORK/out.txt" check -p "$WORK/p.policy" "$WORK/all.json"
	head -1 "$WORK/out.txt" | grep -q '^VIOLATIONS' || die "the table does not start with violations"
	grep -q '^BLOCKED' "$WORK/out.txt" || die "no blocked section"
	grep -q '^ATTEMPTED' "$WORK/out.txt" || die "no attempted section"
	grep -q 'required flow blocked by NSG rule DenyStorageOutBound' "$WORK/out.txt" ||
		die "the blocked flow does not name the NSG rule"
	grep -q 'never seen: T-NEVER$' "$WORK/out.txt" || die "never-seen flow IDs"
	grep -q '00:0d:3a:00:00:02' "$WORK/out.txt" || die "no NIC"
	# only documented flows: 0; undeclared flows the NSG denied are attempts, not violations: 0
	grep -E 'allowed:|attempted:' "$WORK/spec" >"$WORK/spec.clean"
	$GEN -o "$WORK/clean.json" "$WORK/spec.clean" >/dev/null
	run_check 0 "$WORK/out.txt" check -p "$WORK/p.policy" "$WORK/clean.json"
	grep -q '1 attempted' "$WORK/out.txt" || die "the attempt is not counted"
	# a required flow the NSG blocks is a finding on its own: 1
	grep -E 'allowed:|blocked:' "$WORK/spec" >"$WORK/spec.blocked"
	$GEN -o "$WORK/blocked.json" "$WORK/spec.blocked" >/dev/null
	run_check 1 "$WORK/out.txt" check -p "$WORK/p.policy" "$WORK/blocked.json"
	grep -q '0 violating' "$WORK/out.txt" || die "blocked flows counted as violations"
}

test_filters() {
	write_spec
	$GEN -o "$WORK/all.json" "$WORK/spec" >/dev/null
	# one NIC: its two flows
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" --mac 00:0d:3a:00:00:02 "$WORK/all.json"
	[ "$(grep -c '"nic":"00:0d:3a:00:00:02"' "$WORK/out.json")" -eq 2 ] || die "--mac: the NIC's flows"
	[ "$(wc -l <"$WORK/out.json")" -eq 3 ] || die "--mac: other NICs' flows reported"
	tail -1 "$WORK/out.json" | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
assert s["judged"] == 6 and s["other_nic"] == s["tuples"] - 6 > 0, s' || die "--mac: other NICs' tuples not counted"
	# the first NIC, given as Azure writes it, minus its violations' hours: flows start 10 min
	# apart from 08:00:00.250; the window [08:00, 08:50) holds the first five (all allowed)
	run_check 0 "$WORK/out.json" -j check -p "$WORK/p.policy" --mac 000D3A000001 \
		--since 2026-12-03T08:00 --until 2026-12-03T08:50:00Z "$WORK/all.json"
	[ "$(wc -l <"$WORK/out.json")" -eq 6 ] || die "--since/--until: $(cat "$WORK/out.json")"
	# --local narrows by the NIC-side address: the IPv6 flows only
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" --local 2001:db8:ffff::/48 "$WORK/all.json"
	python3 -c '
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])][:-1]
assert len(f) == 3 and all(":" in x["src"] for x in f), f' "$WORK/out.json" || die "--local"
	# bad arguments
	run_check 2 /dev/null check -p "$WORK/p.policy" --mac 00:0d:3a "$WORK/all.json"
	run_check 2 /dev/null check -p "$WORK/p.policy" --since tomorrow "$WORK/all.json"
	run_check 2 /dev/null check -p "$WORK/p.policy" --since 2026-12-04 --until 2026-12-03 "$WORK/all.json"
	run_check 2 /dev/null check -p "$WORK/p.policy" --shard 4/3 "$WORK/all.json"
}

test_malformed() {
	write_spec
	$GEN --malformed -o "$WORK/bad.json" "$WORK/spec" >/dev/null
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/bad.json"
	cat "$WORK/err"
	grep -q "bad.json: record 0, tuple 4 (records\[0\].flowRecords.flows\[0\].flowGroups\[0\].flowTuples\[4\]): '.*192.0.2.300.*': the source is not an IP address" "$WORK/err" ||
		die "the bad address is not named by file, record and tuple"
	grep -q "bad.json: record 0, tuple 5 .*13 comma-separated fields" "$WORK/err" || die "too few fields"
	grep -q "bad.json: record 0, tuple 6 .*a number, not a string" "$WORK/err" || die "not a string"
	grep -q "bad.json: record 1: a string, not an object" "$WORK/err" || die "the string record"
	grep -q "bad.json: record 2: flowLogVersion 3 is not supported" "$WORK/err" || die "the old record"
	tail -1 "$WORK/out.json" | grep -q '"bad_records":2,"bad_tuples":3,' || die "the counts"
	# the rest is still judged
	verify "$WORK/spec" "$WORK/out.json" vnet || die "malformed input: the good tuples"
	# NSG too, gzip
	$GEN --format nsg --gzip --malformed -o "$WORK/bad.json.gz" "$WORK/spec" >/dev/null
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/bad.json.gz"
	grep -q "record 0, tuple .* (records\[0\].properties.flows\[0\].flows\[0\].flowTuples\[.\])" "$WORK/err" ||
		die "NSG: the tuple path"
	grep -q "properties.Version 7 is not supported" "$WORK/err" || die "NSG: the version"
	# a blob cut short (still being written): the records before it count, exit as usual
	$GEN -o "$WORK/full.json" "$WORK/spec" >/dev/null
	head -c 3000 "$WORK/full.json" >"$WORK/cut.json"
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/cut.json" "$WORK/full.json"
	grep -q "cut.json: record .*: the file ends inside it" "$WORK/err" || die "the cut file"
	tail -1 "$WORK/out.json" | grep -q '"truncated_files":1,' || die "the cut file is not counted"
	# one unreadable file among good ones: named, counted, the rest judged
	echo '{"value": []}' >"$WORK/other.json"
	run_check 1 "$WORK/out.json" -j check -p "$WORK/p.policy" "$WORK/other.json" "$WORK/full.json" "$WORK/none.json"
	grep -q "other.json: not a flow log (no \"records\" array)" "$WORK/err" || die "other.json"
	grep -q "none.json: cannot open" "$WORK/err" || die "none.json"
	tail -1 "$WORK/out.json" | grep -q '"unreadable_files":2,' || die "unreadable files not counted"
	# nothing readable: exit 2
	run_check 2 "$WORK/out.json" check -p "$WORK/p.policy" "$WORK/other.json"
	grep -q "none of the 1 files could be read" "$WORK/err" || die "nothing read"
	# files whose every record is malformed: nothing read either
	echo '{"records": [{"flowLogVersion": 3, "flowRecords": {"flows": []}}, "x"]}' >"$WORK/v3.json"
	run_check 2 "$WORK/out.json" check -p "$WORK/p.policy" "$WORK/v3.json"
	grep -q "v3.json: record 0: flowLogVersion 3 is not supported" "$WORK/err" || die "v3: the record"
	grep -q "not one flow tuple of the 1 files could be read" "$WORK/err" || die "v3: nothing read"
	mkdir "$WORK/empty"
	run_check 2 "$WORK/out.json" check -p "$WORK/p.policy" "$WORK/empty"
	grep -q "no files found" "$WORK/err" || die "an empty directory"
	# a capture and a flow log together
	printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$WORK/c.pcap"
	run_check 2 /dev/null check -p "$WORK/p.policy" --local 192.0.2.0/24 "$WORK/c.pcap" "$WORK/full.json"
	grep -q "flow logs and captures cannot be checked together" "$WORK/err" || die "mixed input"
}

# Shards over GNU parallel, merged: the same report as one run over everything.
test_shard_merge() {
	command -v parallel >/dev/null || die "GNU parallel is not installed (scripts/deps)"
	write_spec
	$GEN --gzip --start 1796284740 --tree "$WORK/tree" "$WORK/spec" >/dev/null
	$GEN --format nsg --tree "$WORK/tree" "$WORK/spec" >/dev/null
	run_check 1 "$WORK/whole.json" -j check -p "$WORK/p.policy" "$WORK/tree"
	# as documented in README: the same command line for every shard, exit 1 is a result
	mkdir "$WORK/shards"
	seq 1 3 | parallel -j 2 --halt now,fail=1 \
		"$AMLGUARD -j check --no-progress -p $WORK/p.policy --shard {}/3 $WORK/tree >$WORK/shards/{}.json; test \$? -le 1"
	ls "$WORK/shards" | wc -l | grep -qx 3 || die "not three shards"
	for s in 1 2 3; do
		[ "$(wc -l <"$WORK/shards/$s.json")" -lt "$(wc -l <"$WORK/whole.json")" ] ||
			die "shard $s has every flow"
	done
	run_check 1 "$WORK/merged.json" -j check --merge "$WORK"/shards/*.json
	diff "$WORK/whole.json" "$WORK/merged.json" || die "merged shards differ from the whole"
	# the table from merged results, and an empty shard (more shards than files)
	run_check 1 "$WORK/merged.txt" check --merge "$WORK"/shards/*.json
	grep -q 'required flow blocked by NSG rule' "$WORK/merged.txt" || die "merged table"
	run_check 0 "$WORK/empty.json" -j check -p "$WORK/p.policy" --shard 50/50 "$WORK/tree"
	run_check 1 "$WORK/merged2.json" -j check --merge "$WORK"/shards/*.json "$WORK/empty.json"
	diff "$WORK/whole.json" "$WORK/merged2.json" || die "an empty shard changed the merge"
	# results of another policy do not merge; neither does a capture's report
	echo "allow out tcp port 443 to any flow ANY" >"$WORK/q.policy"
	run_check 1 "$WORK/other.json" -j check -p "$WORK/q.policy" "$WORK/tree"
	run_check 2 /dev/null check --merge "$WORK/shards/1.json" "$WORK/other.json"
	grep -q "other.json:.*policy_sha256 differs" "$WORK/err" || die "merging across policies"
	echo '{"dir":"out"}' >"$WORK/junk.json"
	run_check 2 /dev/null check --merge "$WORK/junk.json"
	grep -q "junk.json:1: not a flow" "$WORK/err" || die "merging junk"
}

run_tests "$@"
