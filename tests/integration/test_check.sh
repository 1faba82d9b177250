#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# "check" and "explain": generated captures with known verdicts in every link type, gzip, bad
# files, a generated corpus of odd encapsulations and formats, --write-violations, and live
# versus offline equality; the third-party captures as an extra when ../shared/data is there.
. "$(dirname "$0")/lib.sh"

LOCAL=192.0.2.0/24,2001:db8:ffff::/48

write_policy() {
	offline_policy "$WORK/p.policy" <<'EOF'
allow out icmpv6 to 2001:db8::/32 flow T-PING6
allow out tcp port 8443 to 198.51.100.99 flow T-NEVER
EOF
	# NAME PROTO SRC SPORT DST DPORT [vlan=] EXPECTED
	cat >"$WORK/spec" <<'EOF'
https-v4   tcp 192.0.2.10 50000 198.51.100.7 443 allow:T-HTTPS
https-vlan tcp 192.0.2.10 50001 198.51.100.7 443 vlan=100 allow:T-HTTPS
dns        udp 192.0.2.10 5353 198.51.100.53 53 allow:T-DNS
https-v6   tcp 2001:db8:ffff::10 50002 2001:db8:1::5 443 allow:T-V6
in-aml     tcp 203.0.113.5 40000 192.0.2.10 44224 allow:T-IN-AML
ping       icmp 192.0.2.10 7 198.51.100.7 0 allow:T-PING
ping6      icmpv6 2001:db8:ffff::10 8 2001:db8:2::1 0 allow:T-PING6
exfil      tcp 192.0.2.10 50003 203.0.113.9 443 violation:no-rule
wrong-port tcp 192.0.2.10 50004 198.51.100.7 22 violation:port
udp-proto  udp 192.0.2.10 5000 198.51.100.7 443 violation:proto
in-ssh     tcp 198.51.100.7 40001 192.0.2.10 22 violation:no-rule
wrong-dir  tcp 192.0.2.10 50005 203.0.113.5 44224 violation:no-rule
exfil-v6   udp 2001:db8:ffff::10 5001 2001:db9::1 53 violation:no-rule
foreign    tcp 203.0.113.1 1000 203.0.113.2 443 foreign
EOF
}

# Compare "check -j" output with the spec's expectations, flow by flow.
verify() {
	python3 - "$1" "$2" <<'PY'
import json, sys, ipaddress
spec = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
lines = [json.loads(l) for l in open(sys.argv[2])]
flows, summary = lines[:-1], lines[-1]["summary"]
def norm(a):
    return str(ipaddress.ip_address(a))
per = {"tcp": 7, "udp": 2, "icmp": 2, "icmpv6": 2}
want_foreign = 0
for s in spec:
    name, proto, src, sport, dst, dport, exp = s[0], s[1], s[2], int(s[3]), s[4], int(s[5]), s[-1]
    if exp == "foreign":
        want_foreign += per[proto]
        continue
    m = [f for f in flows if f["src"] == norm(src) and f["dst"] == norm(dst) and
         (f["sport"] in (None, sport)) and (f["dport"] in (None, dport)) and
         (proto.startswith("icmp") or f["dport"] == dport)]
    assert len(m) == 1, (name, m)
    f = m[0]
    verdict, what = exp.split(":")
    assert f["verdict"] == verdict, (name, f)
    if verdict == "allow":
        assert f["flow"] == what and f["reason"] is None, (name, f)
    else:
        assert f["reason"] == what, (name, f)
    assert f["packets"] == per[proto], (name, f)
    if "vlan=100" in s:
        assert f["vlan"] == [100], (name, f)
assert summary["foreign_packets"] == want_foreign, summary
assert summary["violating_flows"] == sum(1 for s in spec if s[-1].startswith("violation")), summary
assert summary["flow_ids_never_seen"] == ["T-NEVER"], summary
assert summary["flow_ids_used"]["T-HTTPS"]["flows"] == 2, summary
PY
}

test_generated_captures() {
	write_policy
	local lt rc spec
	# Link types other than Ethernet carry no VLAN tag.
	sed 's/ vlan=100//' "$WORK/spec" >"$WORK/spec.novlan"
	for lt in en10mb sll sll2 raw; do
		"$GENCAP" -l $lt "$WORK/spec" "$WORK/$lt.pcap" 2>/dev/null
		"$GENCAP" -z -l $lt "$WORK/spec" "$WORK/$lt.pcap.gz" 2>/dev/null
		for f in "$WORK/$lt.pcap" "$WORK/$lt.pcap.gz"; do
			set +e
			"$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL "$f" >"$WORK/out.json"
			rc=$?
			set -e
			[ $rc -eq 1 ] || die "$f: exit $rc, expected 1 (violations)"
			spec=$WORK/spec.novlan
			[ "$lt" = en10mb ] && spec=$WORK/spec
			verify "$spec" "$WORK/out.json" || die "$f: verdicts differ"
		done
	done
	# the human report: violations first, flow IDs never seen
	set +e
	"$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/en10mb.pcap" >"$WORK/out.txt"
	set -e
	head -1 "$WORK/out.txt" | grep -q '^VIOLATIONS' || die "report does not start with violations"
	grep -q 'never seen: T-NEVER' "$WORK/out.txt" || die "no never-seen flow IDs"
	grep -q '^ALLOWED' "$WORK/out.txt" || die "no allowed section"
	# a clean capture exits 0
	grep 'allow:' "$WORK/spec" >"$WORK/spec.clean"
	"$GENCAP" "$WORK/spec.clean" "$WORK/clean.pcap" 2>/dev/null
	"$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/clean.pcap" >/dev/null ||
		die "a clean capture did not exit 0"
	# several captures: conntrack carries across them in order
	"$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL "$WORK/clean.pcap" \
		"$WORK/clean.pcap" | tail -1 | grep -q '"violating_flows":0' ||
		die "two captures in a row"
}

test_write_violations() {
	write_policy
	"$GENCAP" "$WORK/spec" "$WORK/c.pcap" 2>/dev/null
	set +e
	"$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL --write-violations "$WORK/v.pcap.gz" \
		"$WORK/c.pcap" >"$WORK/out.json"
	set -e
	local want got
	want=$(tail -1 "$WORK/out.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["violating_packets"])')
	got=$(zcat "$WORK/v.pcap.gz" | tcpdump -nn -r - 2>/dev/null | wc -l)
	[ "$want" -gt 0 ] && [ "$got" -eq "$want" ] || die "wrote $got violating packets, expected $want"
	zcat "$WORK/v.pcap.gz" | tcpdump -nn -r - 2>/dev/null | grep -q '203.0.113.9.443' ||
		die "the exfiltration flow is not in the violations capture"
}

# Bad files: a clear message naming the file (and packet), exit 2.
test_bad_files() {
	write_policy
	"$GENCAP" "$WORK/spec" "$WORK/good.pcap" 2>/dev/null
	local out rc n
	: >"$WORK/empty.pcap"
	echo "this is not a capture" >"$WORK/text.pcap"
	# cut inside the last packet: reported, not fatal
	n=$(stat -c %s "$WORK/good.pcap")
	head -c $((n - 10)) "$WORK/good.pcap" >"$WORK/trunc.pcap"
	# a record header claiming an impossible length at the 3rd packet
	pcap_corrupt_record "$WORK/good.pcap" "$WORK/corrupt.pcap" 3
	gzip -c "$WORK/good.pcap" | head -c 300 >"$WORK/cut.pcap.gz"
	for f in empty text corrupt nosuchfile; do
		set +e
		out=$("$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/$f.pcap" 2>&1)
		rc=$?
		set -e
		echo "$out" | head -3
		[ $rc -eq 2 ] || die "$f: exit $rc, expected 2"
		echo "$out" | grep -q "$WORK/$f.pcap" || die "$f: the message does not name the file"
	done
	set +e
	out=$("$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/corrupt.pcap" 2>&1)
	set -e
	echo "$out" | grep -q "packet 3 (record at byte [0-9]*)" ||
		die "corrupt: the message does not name the packet and its offset"
	# what came before the corrupt record is reported, then the error (exit 2)
	set +e
	"$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL "$WORK/corrupt.pcap" \
		>"$WORK/corrupt.json" 2>/dev/null
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "corrupt -j: exit $rc"
	python3 - "$WORK/corrupt.json" "$WORK/corrupt.pcap" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = [l["summary"] for l in lines if "summary" in l]
assert len(s) == 1 and s[0]["packets"] == 2, lines
assert sys.argv[2] + ": packet 3" in s[0]["error"], s
assert lines[-1]["error"] == s[0]["error"], lines[-1]
assert sum(l["packets"] for l in lines if "packets" in l and "summary" not in l) == 2, lines
PY
	set +e
	out=$("$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/empty.pcap" 2>&1)
	set -e
	echo "$out" | grep -q "empty" || die "empty: '$out'"
	for f in trunc.pcap cut.pcap.gz; do
		set +e
		out=$("$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL "$WORK/$f" 2>"$WORK/err")
		rc=$?
		set -e
		cat "$WORK/err"
		[ $rc -le 1 ] || die "$f: exit $rc: a truncated end is not an error"
		grep -q "truncated\|ends inside" "$WORK/err" || die "$f: the truncation is not reported"
	done
	# missing --local, no capture: usage errors
	set +e
	"$AMLGUARD" check -p "$WORK/p.policy" "$WORK/good.pcap" 2>/dev/null
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "no --local: exit $rc"
}

# A generated corpus in the third-party captures' spirit: 802.1ad QinQ, IPv6 extension headers,
# TCP, UDP, ICMP and ICMPv6, in every link type, with nanosecond and microsecond timestamps,
# plain and gzip (the link types other than Ethernet carry the IP packets without the tags).  Each summary (packets, flows, violating flows, packets not judged) is the
# one its spec predicts.
test_generated_corpus() {
	any_service_policy "$WORK/tp.policy"
	cat >"$WORK/corpus.spec" <<'EOF'
web        tcp 192.0.2.10 40000 198.51.100.7 443
web6-ext   tcp 2001:db8:ffff::10 40001 2001:db8:1::5 80 ext=hop,dst
dns-qinq   udp 192.0.2.10 5300 198.51.100.53 53 vlan=20 qinq=30
dns6-ext   udp 2001:db8:ffff::10 5301 2001:db8:1::53 53 ext=routing
ping       icmp 192.0.2.10 9 198.51.100.7 0
ping6      icmpv6 2001:db8:ffff::10 10 2001:db8:1::5 0 ext=hop
ssh        tcp 192.0.2.10 40002 198.51.100.7 22 violation
smb-qinq   tcp 192.0.2.10 40003 198.51.100.200 445 vlan=5 qinq=6 violation
ntp6-ext   udp 2001:db8:ffff::10 123 2001:db8:1::123 123 ext=dst violation
other      tcp 203.0.113.1 1000 203.0.113.2 443 foreign
EOF
	# tcp 7 packets a flow, udp, icmp and icmpv6 2: 5*7 + 5*2 = 45, 7 of them foreign
	local lt opt f rc got want="45 9 3 7"
	for lt in en10mb sll sll2 raw; do
		for opt in "" -u -z; do
			# the stamp precision and gzip once, in Ethernet
			[ "$lt" = en10mb ] || [ -z "$opt" ] || continue
			f=$WORK/corpus-$lt$opt.pcap
			[ "$opt" = -z ] && f=$f.gz
			"$GENCAP" -l $lt $opt "$WORK/corpus.spec" "$f" 2>/dev/null
			set +e
			"$AMLGUARD" -j check -p "$WORK/tp.policy" --local $LOCAL "$f" >"$WORK/o.json"
			rc=$?
			set -e
			[ $rc -eq 1 ] || die "$f: exit $rc, expected 1 (violations)"
			got=$(tail -1 "$WORK/o.json" | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print(s["packets"], s["flows"], s["violating_flows"], s["foreign_packets"])')
			echo "  $(basename "$f"): packets, flows, violating flows, not judged: $got"
			[ "$got" = "$want" ] || die "$f: summary $got, expected $want"
		done
	done
}

# The extra: every third-party capture runs; the summaries (packets, flows, violating flows,
# packets not judged) match the reviewed golden ones.  Every address is local: every packet is
# judged "out".  Run only when ../shared/data/pcaps is there (see the end of this file).
extra_third_party_captures() {
	any_service_policy "$WORK/tp.policy"
	local rc
	# one load for all of them: --each judges every capture from a fresh state, as its own run
	set +e
	timeout 600 "$AMLGUARD" -j check --each -p "$WORK/tp.policy" --local 0.0.0.0/0,::/0 \
		"$SHARED"/data/pcaps/*.pcap* "$SHARED"/data/pcaps/suricata-verify/*.pcap* \
		>"$WORK/o.json" 2>"$WORK/e.txt"
	rc=$?
	set -e
	[ $rc -le 2 ] || die "exit $rc (crash or timeout): $(tail -3 "$WORK/e.txt")"
	# a capture that cannot be read: its error, and what was read before a corrupt record
	python3 -c '
import json, os, sys
for line in open(sys.argv[1]):
    s = json.loads(line).get("summary")
    if s is None:
        continue
    name = os.path.basename(s["capture"])
    if s["error"]:
        e = s["error"].split(": ", 1)[1]
        read = " after %d packets, %d flows" % (s["packets"], s["flows"]) \
            if "(record at byte" in e else ""
        print(name, "error:", e + read)
    else:
        print(name, s["packets"], s["flows"], s["violating_flows"], s["foreign_packets"])
' "$WORK/o.json" >"$WORK/summaries"
	diff -u "$TESTDIR/golden/thirdparty-summaries.txt" "$WORK/summaries" ||
		die "third-party summaries changed (review, then update tests/integration/golden/)"
}

test_explain() {
	write_policy
	local out rc
	echo "wrong-port tcp 192.0.2.10 50000 198.51.100.7 22" >"$WORK/ex.spec"
	"$GENCAP" "$WORK/ex.spec" "$WORK/ex.pcap" 2>/dev/null
	out=$("$AMLGUARD" explain -p "$WORK/p.policy" out tcp 192.0.2.10:50000 198.51.100.7:443)
	echo "$out"
	echo "$out" | grep -q "verdict: allow" || die "explain: allowed packet"
	echo "$out" | grep -q "T-HTTPS" || die "explain: no flow ID"
	echo "$out" | grep -q "198.51.100.7 is in 198.51.100.0/24" || die "explain: no prefix"
	set +e
	out=$("$AMLGUARD" -j explain -p "$WORK/p.policy" out tcp 192.0.2.10:50000 198.51.100.7:22)
	rc=$?
	set -e
	[ $rc -eq 1 ] || die "explain: a violation exits 1"
	echo "$out" | python3 -c '
import json, sys
e = json.load(sys.stdin)
assert e["verdict"] == "violation" and e["reason"] == "port", e
near = [r["flow"] for r in e["address_matched_port_did_not"]]
assert "T-HTTPS" in near and "T-PING" in near, near
assert e["address_matched_port_did_not"][0]["remote"]["prefix"] == "198.51.100.0/24", e
# a port violation: rule and flow name the rule whose address matched, as check -j says
assert e["flow"] == "T-HTTPS" and e["rule"]["flow"] == "T-HTTPS", e'
	set +e
	"$AMLGUARD" -j check -p "$WORK/p.policy" --local $LOCAL "$WORK/ex.pcap" >"$WORK/ex.json"
	set -e
	grep -q '"reason":"port".*"flow":"T-HTTPS"' "$WORK/ex.json" ||
		die "check -j: the port violation's flow is not the one explain -j names"
	# the same verdict as check for the same packet
	"$AMLGUARD" -j explain -p "$WORK/p.policy" in tcp 203.0.113.5:40000 192.0.2.10:44224 |
		grep -q '"flow":"T-IN-AML"' || die "explain in: flow"
	set +e
	"$AMLGUARD" explain -p "$WORK/p.policy" sideways tcp 1.2.3.4:1 5.6.7.8:2 2>/dev/null
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "explain: bad direction exit $rc"
}

# What a flow's report says: ICMP echo identifiers, VLANs (keyed by, VLAN ID 0 kept), bytes as
# on the wire in every link type, --each.
test_reporting() {
	write_policy
	cat >"$WORK/r.spec" <<'EOF'
ping-a  icmp 192.0.2.10 7 198.51.100.7 0
ping-b  icmp 192.0.2.10 8 198.51.100.7 0
v0      udp 192.0.2.10 5353 198.51.100.53 53 vlan=0
v100    tcp 192.0.2.10 50000 198.51.100.7 443 vlan=100
v200    tcp 192.0.2.10 50000 198.51.100.7 443 vlan=200,0 tpid=88a8
EOF
	local lt
	for lt in en10mb sll raw; do
		"$GENCAP" -l $lt "$WORK/r.spec" "$WORK/r-$lt.pcap" 2>/dev/null
	done
	"$AMLGUARD" -j check --each -p "$WORK/p.policy" --local $LOCAL "$WORK"/r-*.pcap \
		>"$WORK/r.json"
	python3 - "$WORK/r.json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for l in lines:
    cap = (l["summary"] if "summary" in l else l)["capture"]
    by.setdefault(cap.rsplit("/", 1)[1], []).append(l)
eth, sll, raw = by["r-en10mb.pcap"], by["r-sll.pcap"], by["r-raw.pcap"]
pings = sorted(f["icmp_id"] for f in eth if f.get("proto") == "icmp")
assert pings == [7, 8], eth
vl = sorted(tuple(f["vlan"]) for f in eth if f.get("proto") in ("tcp", "udp"))
assert vl == [(0,), (100,), (200, 0)], vl
# without VLANs the two TCP flows are one
assert len([f for f in raw if f.get("proto") == "tcp"]) == 1, raw
for caps in (eth, sll, raw):
    assert caps[-1]["summary"]["packets"] == 20, caps[-1]
    assert caps[-1]["summary"]["error"] is None, caps[-1]
# bytes: the Ethernet frames; the IP packets alone for raw IP and Linux cooked captures
ip = raw[-1]["summary"]["bytes"]
assert sll[-1]["summary"]["bytes"] == ip, (sll[-1], ip)
tags = 4 * (2 + 7 + 2 * 7)  # v0, v100: one tag a packet; v200: two
assert eth[-1]["summary"]["bytes"] == ip + 14 * 20 + tags, (eth[-1], ip)
PY
	"$AMLGUARD" check -p "$WORK/p.policy" --local $LOCAL "$WORK/r-en10mb.pcap" >"$WORK/r.txt" ||
		true
	grep -q "192.0.2.10 id 7" "$WORK/r.txt" || die "the echo identifier is not in the table"
	grep -q "vlan 200.0" "$WORK/r.txt" || die "the VLANs are not in the table"
}

# The demo's kind of traffic, recorded live with tcpdump while amlguard runs in audit mode:
# checking the recording gives the same violations, flow for flow.
test_live_equals_offline() {
	setup_direct
	write_policy
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 22
	tcp_echo_server "$NS_REMOTE" 203.0.113.9 443
	udp_echo_server "$NS_REMOTE" 198.51.100.53 53
	udp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_HOST" $H4 2222
	wait_listen "$NS_REMOTE" 443
	wait_listen "$NS_HOST" 2222
	amlg attach -i "$IF_HOST" -p "$WORK/p.policy"
	attached "$NS_HOST" "$IF_HOST"
	bg in_ns "$NS_HOST" tcpdump -i "$IF_HOST" -w "$WORK/live.pcap" -U -n not arp
	sleep 1
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443
	tcp_roundtrip "$NS_HOST" 198.51.100.7 22
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443
	udp_roundtrip "$NS_HOST" 198.51.100.53 53
	udp_roundtrip "$NS_HOST" 198.51.100.7 443
	tcp_roundtrip "$NS_REMOTE" $H4 2222
	in_ns "$NS_HOST" ping -c 2 -i 0.2 -q 198.51.100.7 >/dev/null
	sleep 1
	kill "${PIDS[-1]}"
	wait "${PIDS[-1]}" 2>/dev/null || true
	drain_log "$WORK/live.json"
	set +e
	"$AMLGUARD" -j check -p "$WORK/p.policy" --local $H4/32,$H6/128 "$WORK/live.pcap" \
		>"$WORK/offline.json"
	set -e
	python3 - "$WORK/live.json" "$WORK/offline.json" <<'PY'
import json, sys
live = {(e["dir"], e["proto"], e["src"], e["sport"], e["dst"], e["dport"], e["reason"])
        for e in map(json.loads, open(sys.argv[1]))}
off = [json.loads(l) for l in open(sys.argv[2])][:-1]
offline = {(f["dir"], f["proto"], f["src"], f["sport"], f["dst"], f["dport"], f["reason"])
           for f in off if f["verdict"] == "violation"}
print("live:", sorted(live))
print("offline:", sorted(offline))
assert live == offline, (live ^ offline)
assert len(live) >= 4, live
PY
}

# The third-party captures are an extra, run when they are there: every case above generates
# what it needs.
if [ $# -eq 0 ] && [ -d "$SHARED/data/pcaps" ]; then
	set -- $(declare -F | awk '{print $3}' | grep '^test_') extra_third_party_captures
fi
run_tests "$@"
