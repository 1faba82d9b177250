#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The differential test against Wireshark: "check -j" and tshark's dissection of the outermost IP
# layer (reassembly off) must give the same flows (5-tuple, direction, packets, bytes) and
# totals, for captures generated here (VLAN, QinQ, VLAN ID 0, IPv4 and IPv6, fragments, extension
# headers, ICMP and ICMPv6 echo and errors, padding, non-IP, a corrupt record; Ethernet, Linux
# cooked v1 and v2, raw IP, gzip) and every third-party capture present.  The differences that
# are meant are listed, one per line with the reason, in tshark-known-differences.txt; any other
# fails, and so does a listed one that no longer occurs.
. "$(dirname "$0")/lib.sh"

GENCAP=${GENCAP:-$(dirname "$AMLGUARD")/tests/tools/amlg-gencap}
SHARED=${AMLG_SHARED_DIR:-$TESTDIR/../../../shared}

write_spec() {
	# NAME PROTO SRC SPORT DST DPORT [OPTION]... (see tests/tools/gencap.c)
	cat >"$WORK/spec" <<'EOF'
tcp4       tcp 192.0.2.10 50000 198.51.100.7 443
tcp4-in    tcp 203.0.113.5 40000 192.0.2.10 44224
udp4       udp 192.0.2.10 5353 198.51.100.53 53
both-local tcp 192.0.2.10 50010 192.0.2.20 8080
vlan100    tcp 192.0.2.10 50001 198.51.100.7 443 vlan=100
vlan200    tcp 192.0.2.10 50001 198.51.100.7 443 vlan=200
vlan0      udp 192.0.2.10 5354 198.51.100.53 53 vlan=0
qinq-88a8  tcp 192.0.2.10 50002 198.51.100.7 443 vlan=100,200 tpid=88a8
qinq-8100  udp 192.0.2.10 5355 198.51.100.53 53 vlan=30,0
vlan3      tcp 192.0.2.10 50003 198.51.100.7 443 vlan=10,20,30
tcp6       tcp 2001:db8:ffff::10 50004 2001:db8:1::5 443
udp6-hop   udp 2001:db8:ffff::10 5356 2001:db8:1::53 53 ext=hop,dst
udp6-rt    udp 2001:db8:ffff::10 5357 2001:db8:1::53 53 ext=routing
tcp6-ah    tcp 2001:db8:ffff::10 50005 2001:db8:1::5 443 ext=ah
udp6-9ext  udp 2001:db8:ffff::10 5358 2001:db8:1::53 53 ext=dst,dst,dst,dst,dst,dst,dst,dst,dst
frag4-udp  udp 192.0.2.10 5000 198.51.100.7 4000 frags=3 payload=100
frag4-tcp  tcp 192.0.2.10 50006 198.51.100.7 443 frags=3
frag4-icmp icmp 192.0.2.10 12 198.51.100.7 0 frags=3 payload=64
frag6-udp  udp 2001:db8:ffff::10 5001 2001:db8:1::5 4000 frags=3 payload=100
frag6-dst  tcp 2001:db8:ffff::10 50007 2001:db8:1::5 443 frags=3 ext=frag,dst
ping4      icmp 192.0.2.10 7 198.51.100.7 0
ping4-id2  icmp 192.0.2.10 8 198.51.100.7 0
ping4-in   icmp 203.0.113.5 11 192.0.2.10 0
ping6      icmpv6 2001:db8:ffff::10 9 2001:db8:1::5 0
ping6-id2  icmpv6 2001:db8:ffff::10 10 2001:db8:1::5 0
unreach4   udp 192.0.2.10 5002 198.51.100.7 33434 unreach
unreach6   udp 2001:db8:ffff::10 5003 2001:db8:1::5 33434 unreach
nonext6    59 2001:db8:ffff::10 0 2001:db8:1::5 0 payload=0 pad=60
nonext6-v  59 2001:db8:ffff::10 0 2001:db8:1::5 0 payload=0 pad=64 vlan=7
udp4-pad   udp 192.0.2.10 5004 198.51.100.7 9 payload=2 pad=60
gre4       47 192.0.2.10 0 198.51.100.7 0 payload=24
foreign    tcp 203.0.113.1 1000 203.0.113.2 443
lldp       ether - 35020 - 0
EOF
}

test_tshark_differential() {
	command -v tshark >/dev/null && command -v mergecap >/dev/null ||
		die "tshark and mergecap are needed (scripts/deps installs the tshark package)"
	write_spec
	local lt caps=() t0=$SECONDS
	for lt in en10mb sll sll2 raw; do
		"$GENCAP" -l $lt "$WORK/spec" "$WORK/gen-$lt.pcap" 2>/dev/null
		caps+=("$WORK/gen-$lt.pcap")
	done
	"$GENCAP" -z "$WORK/spec" "$WORK/gen-en10mb.pcap.gz" 2>/dev/null
	caps+=("$WORK/gen-en10mb.pcap.gz")
	# a record header claiming an impossible length at the 12th packet: both readers stop there
	pcap_corrupt_record "$WORK/gen-en10mb.pcap" "$WORK/gen-corrupt.pcap" 12
	caps+=("$WORK/gen-corrupt.pcap")
	# the frame that separates the captures in tshark's one run over all of them
	echo "marker ether - 34997 - 0" >"$WORK/marker.spec"
	"$GENCAP" "$WORK/marker.spec" "$WORK/marker.pcap" 2>/dev/null
	if [ -d "$SHARED/data/pcaps" ]; then
		caps+=("$SHARED"/data/pcaps/*.pcap* "$SHARED"/data/pcaps/suricata-verify/*.pcap*)
	fi
	# every flow allowed: the comparison is about dissection and grouping, not verdicts
	printf 'allow out any to any flow ALL-OUT\nallow in any from any flow ALL-IN\n' \
		>"$WORK/all.policy"
	python3 "$TESTDIR/tools/tshark_diff.py" --amlguard "$AMLGUARD" --policy "$WORK/all.policy" \
		--known "$TESTDIR/tshark-known-differences.txt" --marker "$WORK/marker.pcap" \
		--local 192.0.2.0/24,2001:db8:ffff::/48 --work "$WORK" "${caps[@]}" ||
		die "check and tshark disagree (lines marked '!' above, or STALE entries)"
	echo "  ${#caps[@]} captures in $((SECONDS - t0)) s"
}

run_tests "$@"
