#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The CLI over many inputs at once: "explain --file" against one "explain" per packet, and
# "check --threads N" against the single-threaded run, output for output (AMLG_SHARED_DIR adds
# the third-party captures).
. "$(dirname "$0")/lib.sh"

write_policy() {
	offline_policy "$WORK/p.policy" <<'POL'
allow out icmpv6 to 2001:db8::/32 flow T-PING6
POL
}

# Every kind of answer, and the same flow twice and its reply: each packet is judged alone.
write_queries() {
	cat >"$WORK/q.txt" <<'Q'
# DIR PROTO SRC DST
out tcp 192.0.2.10:50000 198.51.100.7:443
out tcp 192.0.2.10:50000 198.51.100.7:443
in tcp 198.51.100.7:443 192.0.2.10:50000

out udp 192.0.2.10 198.51.100.53:53   # no source port: the default one
out udp 192.0.2.10:5000 198.51.100.7:443
out tcp [2001:db8:ffff::10]:50002 [2001:db8:1::5]:443
out icmp 192.0.2.10 198.51.100.7
out icmpv6 2001:db8:ffff::10 2001:db8:2::1
in tcp 203.0.113.5:40000 192.0.2.10:44224
out tcp 192.0.2.10:50004 198.51.100.7:22
out tcp 192.0.2.10:50003 203.0.113.9:443
out 47 192.0.2.10 198.51.100.7
Q
}

# One "explain" per packet, as FILE's lines ($1), concatenated as --file prints them ($2: plain or
# json).
explain_singles() {
	local file=$1 fmt=$2 line first=1 j=()
	[ "$fmt" = json ] && j=(-j)
	while read -r line; do
		line=${line%%#*}
		[ -n "${line// /}" ] || continue
		[ "$fmt" = plain ] && [ $first -eq 0 ] && echo
		first=0
		# shellcheck disable=SC2086
		"$AMLGUARD" "${j[@]}" explain -p "$WORK/p.policy" $line || [ $? -eq 1 ] ||
			die "explain $line"
	done <"$file"
}

test_explain_file_equals_single() {
	write_policy
	write_queries
	# every kind of answer in JSON; the text layout on a few (each single explain is a load)
	grep -E '50000 198|198.51.100.7:443 192|100.53:53|:22$' "$WORK/q.txt" >"$WORK/qp.txt"
	[ "$(wc -l <"$WORK/qp.txt")" -eq 5 ] || die "the text subset: $(cat "$WORK/qp.txt")"
	local fmt rc q
	for fmt in json plain; do
		local j=()
		q=$WORK/q.txt
		[ $fmt = json ] && j=(-j)
		[ $fmt = plain ] && q=$WORK/qp.txt
		explain_singles "$q" $fmt >"$WORK/single.$fmt"
		set +e
		"$AMLGUARD" "${j[@]}" explain -p "$WORK/p.policy" --file "$q" >"$WORK/file.$fmt"
		rc=$?
		set -e
		[ $rc -eq 1 ] || die "explain --file with violations: exit $rc"
		diff -u "$WORK/single.$fmt" "$WORK/file.$fmt" || die "--file differs ($fmt)"
		# standard input: the same
		"$AMLGUARD" "${j[@]}" explain -p "$WORK/p.policy" --file - <"$q" \
			>"$WORK/stdin.$fmt" || [ $? -eq 1 ]
		cmp "$WORK/file.$fmt" "$WORK/stdin.$fmt" || die "--file - differs ($fmt)"
	done
	[ "$(wc -l <"$WORK/file.json")" -eq 12 ] || die "one JSON object per packet"
	grep -c '"match":"rule"' "$WORK/file.json" | grep -qx 7 || die "each packet judged alone"
	# all allowed: exit 0
	head -3 "$WORK/q.txt" | sed -n 2p >"$WORK/ok.txt"
	"$AMLGUARD" explain -p "$WORK/p.policy" --file "$WORK/ok.txt" >/dev/null ||
		die "all allowed: exit $?"
}

test_explain_file_errors() {
	write_policy
	local rc
	printf 'out tcp 192.0.2.10:1 198.51.100.7:443\n\nout tcp 192.0.2.10:1 198.51.100.7\n' \
		>"$WORK/bad.txt"
	set +e
	"$AMLGUARD" explain -p "$WORK/p.policy" --file "$WORK/bad.txt" >"$WORK/o" 2>"$WORK/e"
	rc=$?
	set -e
	cat "$WORK/e"
	[ $rc -eq 2 ] || die "bad line: exit $rc"
	grep -q "bad.txt:3: '198.51.100.7': tcp needs a destination port" "$WORK/e" ||
		die "the error names file:line"
	[ ! -s "$WORK/o" ] || die "nothing judged before the whole file is read"
	printf 'out tcp 192.0.2.10:1 198.51.100.7:443 extra\n' >"$WORK/bad.txt"
	set +e
	"$AMLGUARD" -j explain -p "$WORK/p.policy" --file - <"$WORK/bad.txt" >"$WORK/o"
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "five words: exit $rc"
	grep -q '<stdin>:1: expected DIR PROTO' "$WORK/o" || die "stdin error: $(cat "$WORK/o")"
	set +e
	"$AMLGUARD" explain -p "$WORK/p.policy" --file "$WORK/none" 2>"$WORK/e"
	rc=$?
	"$AMLGUARD" explain -p "$WORK/p.policy" --file "$WORK/bad.txt" out tcp 1.2.3.4 5.6.7.8:1 \
		2>>"$WORK/e"
	rc2=$?
	: | "$AMLGUARD" explain -p "$WORK/p.policy" --file - 2>>"$WORK/e"
	rc3=$?
	set -e
	cat "$WORK/e"
	[ $rc -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] || die "exits $rc $rc2 $rc3"
	grep -q "none: cannot open" "$WORK/e" || die "missing file"
	grep -q "no packet in the file" "$WORK/e" || die "empty input"
}

# Run "check -j" with each thread count of $THREADS (1 first); every output must equal the
# single-threaded one.
THREADS="1 2"
same_check() {
	local name=$1 t rc
	shift
	for t in $THREADS; do
		set +e
		"$AMLGUARD" -j check --no-progress --threads $t "$@" >"$WORK/$name.$t.json" \
			2>"$WORK/$name.$t.err"
		rc=$?
		set -e
		echo $rc >>"$WORK/$name.$t.json"
		[ $rc -le 1 ] || die "$name --threads $t: exit $rc: $(head -3 "$WORK/$name.$t.err")"
	done
	for t in $THREADS; do
		cmp "$WORK/$name.1.json" "$WORK/$name.$t.json" || die "$name: --threads $t differs"
	done
	echo "  $name: $(tail -2 "$WORK/$name.1.json" | head -1 | cut -c1-160)"
}

# The bench's two shapes (many flows open at once; a new flow nearly every packet: TCP, UDP,
# DNS, ICMP, IPv6 with extension headers, VLAN tags) against the demo policy.
test_check_threads_generated() {
	local bench
	bench=$(dirname "$AMLGUARD")/tests/bench/amlg-bench
	[ -x "$bench" ] || die "no $bench"
	"$bench" pcap -o "$WORK/flows.pcap" -n 40000 -f 64 >/dev/null
	"$bench" pcap -o "$WORK/pp.pcap" -n 40000 >/dev/null
	local pol=$TESTDIR/../../policies/demo/staging.policy
	local l=192.0.2.10/32,2001:db8:ffff::10/128
	same_check flows -p "$pol" --local $l "$WORK/flows.pcap"
	same_check per-packet -p "$pol" --local $l "$WORK/pp.pcap"
	# both files in one run: state carries from one to the next; four workers on two CPUs
	THREADS="1 2 4" same_check two-files -p "$pol" --local $l "$WORK/flows.pcap" "$WORK/pp.pcap" \
		--write-violations "$WORK/v.pcap"
	grep -q '"violating_flows":[1-9]' "$WORK/two-files.1.json" || die "no violations judged"
	# the violations written are the same packets, in the same order
	"$AMLGUARD" check -p "$pol" --local $l --no-progress --threads 1 \
		--write-violations "$WORK/v1.pcap" "$WORK/flows.pcap" >/dev/null || true
	"$AMLGUARD" check -p "$pol" --local $l --no-progress --threads 2 \
		--write-violations "$WORK/v2.pcap" "$WORK/flows.pcap" >/dev/null || true
	[ -s "$WORK/v1.pcap" ] && cmp "$WORK/v1.pcap" "$WORK/v2.pcap" ||
		die "--write-violations differs"
}

# The third-party captures that "check" reads (fragments, ICMP errors quoting flows, DNS, VLAN,
# every link type), all in one run, every address local: an extra, run when they are there.
extra_check_threads_third_party() {
	any_service_policy "$WORK/tp.policy"
	local f files=()
	for f in "$SHARED"/data/pcaps/*.pcap* "$SHARED"/data/pcaps/suricata-verify/*.pcap*; do
		grep -q "^$(basename "$f") error:" "$TESTDIR/golden/thirdparty-summaries.txt" ||
			files+=("$f")
	done
	same_check third-party -p "$WORK/tp.policy" --local 0.0.0.0/0,::/0 "${files[@]}"
}

# A time window and a corrupt record: the same packets judged, the same report of what came before
# the record, the same exit status 2 and message.
test_check_threads_window_and_corrupt() {
	local bench pol=$TESTDIR/../../policies/demo/staging.policy rc t
	bench=$(dirname "$AMLGUARD")/tests/bench/amlg-bench
	"$bench" pcap -o "$WORK/in.pcap" -n 6000 -f 64 >/dev/null
	# one packet a second from 1760000000; record 5000 claims 2 GB
	python3 - "$WORK/in.pcap" "$WORK/c.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, o, i = bytearray(d[:24]), 24, 0
while o < len(d):
    _, _, c, l = struct.unpack("<IIII", d[o:o + 16])
    if i == 5000:
        out += struct.pack("<IIII", 1760000000 + i, 0, 0x7fffffff, 0x7fffffff)
        break
    out += struct.pack("<IIII", 1760000000 + i, 0, c, l) + d[o + 16:o + 16 + c]
    o += 16 + c
    i += 1
open(sys.argv[2], "wb").write(out)
PY
	for t in 1 2; do
		set +e
		"$AMLGUARD" -j check --no-progress --threads $t -p "$pol" \
			--local 192.0.2.10/32,2001:db8:ffff::10/128 --since @1760001000 \
			"$WORK/c.pcap" >"$WORK/w.$t.json" 2>"$WORK/w.$t.err"
		rc=$?
		set -e
		[ $rc -eq 2 ] || die "--threads $t: a corrupt record: exit $rc"
		echo $rc >>"$WORK/w.$t.json"
	done
	cmp "$WORK/w.1.json" "$WORK/w.2.json" || die "--threads 2 differs after a corrupt record"
	cmp "$WORK/w.1.err" "$WORK/w.2.err" || die "the messages differ"
	grep -q '"packets":4000[,}]' "$WORK/w.1.json" || die "packets 1000..4999 judged: $(tail -2 "$WORK/w.1.json")"
	grep -q '{"error":".*packet 5001 (record at byte' "$WORK/w.1.json" || die "the record named"
}

test_check_threads_option() {
	write_policy
	local rc
	for bad in 0 5 x ""; do
		set +e
		"$AMLGUARD" check -p "$WORK/p.policy" --local 192.0.2.0/24 --threads "$bad" \
			/dev/null 2>"$WORK/e"
		rc=$?
		set -e
		[ $rc -eq 2 ] || die "--threads '$bad': exit $rc"
		grep -q "expected a number from 1 to 4" "$WORK/e" || die "--threads '$bad': $(cat "$WORK/e")"
	done
}

if [ $# -eq 0 ] && [ -d "$SHARED/data/pcaps" ]; then
	set -- $(declare -F | awk '{print $3}' | grep '^test_') extra_check_threads_third_party
fi
run_tests "$@"
