# SPDX-License-Identifier: GPL-2.0-only
# Section 2: live cost across a veth pair between namespaces, one pair per filter, all holding
# the same prefix set, measured in interleaved rounds:
#  (a) short TCP throughput runs (iperf3), median and spread;
#  (b) a fixed-rate UDP stream of small datagrams, below saturation, the same packets for every
#      filter: CPU time per packet of sender and receiver (on a veth the receive softirq, and so
#      every filter, runs in the sender's context), and the part of it spent in the filter's
#      hook, from the sender's cpu-clock profile (perf record at a fixed period, callchains);
#  (c) for the BPF filters, the kernel's own run-time counters (kernel.bpf_stats_enabled, on
#      only for these runs and restored on exit);
#  (d) the rate at which one core saturates: an unlimited stream of small datagrams from a
#      sender pinned to one CPU (on a veth the receive path and the filter run on that CPU
#      too), packets/s received.

LIVE_SETUPS=(none amlg-audit amlg-enforce amlg-xdp nft ipset xdp-filter tc-empty tc-lpm tc-dir)

live_setup() {
	local name=$1 k=$2 h hif
	h=$(pair_host "$k")
	hif=$(pair_hif "$k")
	case $name in
	none) ;;
	amlg-audit | amlg-enforce)
		in_ns "$h" "$AMLGUARD" -q attach -i "$hif" -p "$GEN/live.policy" --mode "${name#amlg-}"
		;;
	amlg-xdp) # the gateway's fast path: the ingress judged by XDP (native on a veth)
		in_ns "$h" "$AMLGUARD" -q attach -i "$hif" -p "$GEN/live.policy" --mode enforce --xdp
		;;
	nft)
		in_ns "$h" nft -f "$GEN/nft.conf"
		;;
	ipset)
		in_ns "$h" ipset restore <"$GEN/ipset.restore"
		in_ns "$h" iptables -A INPUT -i lo -j ACCEPT
		in_ns "$h" iptables -A INPUT -m set --match-set amlgbench src -j ACCEPT
		in_ns "$h" iptables -P INPUT DROP
		;;
	xdp-filter)
		in_ns "$h" xdp-filter load -m native -p deny -f ipv4 "$hif"
		XDPF_LOADED=$h:$hif
		in_ns "$h" "$BENCH" live xdpf-fill "$GEN/prefixes.txt" >/dev/null
		;;
	tc-empty)
		in_ns "$h" "$BENCH" live attach -i "$hif" --prog empty >/dev/null
		;;
	tc-lpm)
		in_ns "$h" "$BENCH" live attach -i "$hif" --prog lpm -p "$GEN/live.policy" >/dev/null
		;;
	tc-dir)
		in_ns "$h" "$BENCH" live attach -i "$hif" --prog dir16-8-8 -p "$GEN/live.policy" >/dev/null
		;;
	esac
}

# (d) one unlimited UDP run to the allowed port, the sender on CPU 1: packets/s received.
live_sat_run() {
	local name=$1 k=$2 h r sp rate
	h=$(pair_host "$k")
	r=$(pair_remote "$k")
	in_ns "$h" timeout $((LIVE_UDP_SECS + 15)) iperf3 -s -1 -B 192.0.2.10 -p 5202 -J \
		>"$LW/sat-srv.json" 2>/dev/null &
	sp=$!
	wait_port "$h" 5202
	in_ns "$r" taskset -c 1 timeout $((LIVE_UDP_SECS + 10)) iperf3 -c 192.0.2.10 -p 5202 -u \
		-b 0 -l 64 -t "$LIVE_UDP_SECS" >/dev/null 2>&1 || true
	wait "$sp" || true
	rate=$(jfield "$LW/sat-srv.json" "round((d['end']['sum']['packets'] - d['end']['sum']['lost_packets']) / d['end']['sum']['seconds'])" 2>/dev/null || echo 0)
	echo "sat,$name,$rate" >>"$LIVE_CSV"
}

# Sum of run_time_ns and run_cnt of the programs on the receiver's hooks.
live_bpf_counters() {
	local k=$1
	in_ns "$(pair_host "$k")" "$BENCH" live stats -i "$(pair_hif "$k")" |
		awk '{ t += $3; c += $4 } END { printf "%d %d\n", t, c }'
}

task_clock_ns() {
	awk -F, '/task-clock/ { printf "%d\n", $1 * 1000000 }' "$1"
}

# (a) one TCP run: Gbit/s received.
live_tcp_run() {
	local name=$1 k=$2 out=$LW/tcp-$1.json
	if ! in_ns "$(pair_remote "$k")" timeout $((LIVE_TCP_SECS + 10)) \
		iperf3 -c 192.0.2.10 -p 5201 -t "$LIVE_TCP_SECS" -J >"$out" 2>/dev/null; then
		note "live: $name: TCP run failed"
		return 0
	fi
	echo "tcp,$name,$(jfield "$out" "round(d['end']['sum_received']['bits_per_second'] / 1e9, 3)")" >>"$LIVE_CSV"
}

# Two symbols whose inclusive time is the filter's, in a perf profile of the sender (on a veth
# the receiver's softirq runs in the sender's context): the hook with its framework (tc_run,
# nf_hook_slow, the veth's XDP receive), and the filter's own code (the BPF program, the
# nftables chain).
live_syms() {
	case $1 in
	amlg-xdp) echo 'veth_xdp_rcv_skb bpf_prog_[0-9a-f]+_amlg_xdp' ;;
	amlg-*) echo 'tc_run bpf_prog_[0-9a-f]+_amlg_ingress' ;;
	tc-*) echo 'tc_run bpf_prog_[0-9a-f]+_bench_' ;;
	nft | ipset) echo 'nf_hook_slow nft_do_chain_ipv4' ;;
	xdp-filter) echo 'veth_xdp_rcv_skb bpf_prog_[0-9a-f]+_xdpfilt' ;;
	*) echo 'NO-FILTER NO-FILTER' ;;
	esac
}

# Inclusive share (%) of the first symbol matching a regular expression.
perf_share() {
	perf report -i "$1" --children --sort symbol -q --stdio 2>/dev/null |
		awk -v re="$2" '!done && $1 ~ /%$/ && $4 ~ "^" re { sub(/%/, "", $1); print $1; done = 1 }
			END { if (!done) print 0 }'
}

# (b) one fixed-rate UDP run with kernel.bpf_stats_enabled off (its clock reads would land in
# the BPF filters' hook time only): CPU of the sender from cpu-clock samples at a fixed period
# (each sample is PERF_PERIOD ns of CPU), of the receiver from perf stat.
PERF_PERIOD=50000
live_udp_run() {
	local name=$1 k=$2 h r sp k0 k1 samples hookpct filtpct srv sent lost
	h=$(pair_host "$k")
	r=$(pair_remote "$k")
	sysctl -qw kernel.bpf_stats_enabled=0
	in_ns "$h" perf stat -x, -e task-clock -o "$LW/srv.perf" -- \
		timeout $((LIVE_UDP_SECS + 15)) iperf3 -s -1 -B 192.0.2.10 -p 5202 -J >"$LW/srv.json" 2>/dev/null &
	sp=$!
	wait_port "$h" 5202
	k0=$(ksoftirqd_ns)
	in_ns "$r" perf record -q -e cpu-clock -c $PERF_PERIOD -g -o "$LW/cli.data" -- \
		timeout $((LIVE_UDP_SECS + 10)) iperf3 -c 192.0.2.10 -p 5202 -u -b "$LIVE_RATE" -l 64 \
		-t "$LIVE_UDP_SECS" -J >"$LW/cli.json" 2>/dev/null || true
	wait "$sp" || true
	k1=$(ksoftirqd_ns)
	sent=$(jfield "$LW/cli.json" "d['end']['sum']['packets']" 2>/dev/null || echo 0)
	lost=$(jfield "$LW/srv.json" "d['end']['sum']['lost_packets']" 2>/dev/null || echo 0)
	if [ "$sent" -le 0 ]; then
		note "live: $name: UDP run sent nothing"
		return 0
	fi
	samples=$(perf report -i "$LW/cli.data" --no-children -q --stdio --sort comm -n 2>/dev/null |
		awk '$1 ~ /%$/ { n += $2 } END { print n + 0 }')
	set -- $(live_syms "$name")
	hookpct=$(perf_share "$LW/cli.data" "$1")
	filtpct=$(perf_share "$LW/cli.data" "$2")
	srv=$(task_clock_ns "$LW/srv.perf")
	# udp,setup,packets_sent,lost,sender_ns,receiver_ns,ksoftirqd_ns,hook_ns,filter_ns
	echo "udp,$name,$sent,$lost,$((samples * PERF_PERIOD)),$srv,$((k1 - k0)),$(awk -v p="$hookpct" -v q="$filtpct" -v n="$samples" -v t=$PERF_PERIOD 'BEGIN { printf "%d,%d", p / 100 * n * t, q / 100 * n * t }')" >>"$LIVE_CSV"
	# the last profile of each setup, for the report, and where a BPF filter's time goes:
	# inclusive and self ns per packet of the symbols under its hook
	perf report -i "$LW/cli.data" --no-children --sort symbol -q --stdio 2>/dev/null |
		awk '$1 ~ /%$/' | head -60 >"$DATA/live_profile_$name.txt" || true
	case $name in
	amlg-enforce | amlg-xdp | tc-lpm | tc-dir)
		perf report -i "$LW/cli.data" --children --sort symbol -q --stdio 2>/dev/null |
			awk -v n="$sent" -v t="$samples" -v per=$PERF_PERIOD '
				BEGIN { print "symbol,incl_ns,self_ns" }
				$1 ~ /%$/ && $4 ~ /^(tc_run|veth_xdp_rcv_skb|bpf_prog_|trie_|htab_|__htab|lookup_nulls|memcmp|ktime_get_mono|bpf_ktime|array_map|bpf_skb|bpf_ringbuf)/ {
					a = $1; b = $2; sub(/%/, "", a); sub(/%/, "", b)
					printf "%s,%.0f,%.0f\n", $4, a / 100 * t * per / n, b / 100 * t * per / n
				}' >"$DATA/live_breakdown_$name.csv" || true
		;;
	esac
}

# (c) the same stream with kernel.bpf_stats_enabled on and no profiler (whose interrupts would
# land in the programs' run time): run_time_ns and run_cnt of the receiver's programs.
live_stats_run() {
	local name=$1 k=$2 h r sp b0 b1
	h=$(pair_host "$k")
	r=$(pair_remote "$k")
	sysctl -qw kernel.bpf_stats_enabled=1
	in_ns "$h" timeout $((LIVE_UDP_SECS + 15)) iperf3 -s -1 -B 192.0.2.10 -p 5202 >/dev/null 2>&1 &
	sp=$!
	wait_port "$h" 5202
	b0=$(live_bpf_counters "$k")
	in_ns "$r" timeout $((LIVE_UDP_SECS + 10)) iperf3 -c 192.0.2.10 -p 5202 -u -b "$LIVE_RATE" \
		-l 64 -t "$LIVE_UDP_SECS" >/dev/null 2>&1 || true
	wait "$sp" || true
	b1=$(live_bpf_counters "$k")
	sysctl -qw kernel.bpf_stats_enabled=0
	set -- $b0 $b1
	# stats,setup,run_time_ns,run_cnt
	echo "stats,$name,$(($3 - $1)),$(($4 - $2))" >>"$LIVE_CSV"
}

wait_port() {
	local ns=$1 port=$2 i
	for i in $(seq 50); do
		in_ns "$ns" ss -Htuln "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	note "live: nothing listens on $port in $ns"
	return 1
}

section_live() {
	local i name order
	LW=$WORK/live
	mkdir -p "$LW"
	LIVE_CSV=$DATA/live.csv
	echo "kind,setup,v1,v2,v3,v4,v5,v6,v7" >"$LIVE_CSV"
	GEN=$WORK/gen
	mkdir -p "$GEN"
	"$BENCH" gen --dir "$GEN" -n 10000 --include 192.0.2.1/32 --port 5201-5202
	local -A broken=()
	for i in "${!LIVE_SETUPS[@]}"; do
		make_pair "$i" >/dev/null
		if ! live_setup "${LIVE_SETUPS[$i]}" "$i"; then
			note "live: ${LIVE_SETUPS[$i]}: setup failed, not measured"
			echo "failed,${LIVE_SETUPS[$i]}" >>"$LIVE_CSV"
			broken[$i]=1
		fi
		in_ns "$(pair_host "$i")" iperf3 -s -B 192.0.2.10 -p 5201 -D
	done
	bpf_stats_on
	for i in "${!LIVE_SETUPS[@]}"; do
		wait_port "$(pair_host "$i")" 5201
	done
	for round in $(seq "$LIVE_ROUNDS"); do
		note "live: round $round of $LIVE_ROUNDS"
		# a different order every round, so that no filter always runs first or last
		mapfile -t order < <(printf '%s\n' "${!LIVE_SETUPS[@]}" | shuf --random-source=<(yes "$round"))
		for i in "${order[@]}"; do
			[ -z "${broken[$i]:-}" ] || continue
			name=${LIVE_SETUPS[$i]}
			live_tcp_run "$name" "$i"
			live_udp_run "$name" "$i"
			live_sat_run "$name" "$i"
			case $name in amlg-* | tc-* | xdp-filter) live_stats_run "$name" "$i" ;; esac
		done
	done
	# Do the filters filter?  A packet from an address outside the set must not arrive.
	for i in "${!LIVE_SETUPS[@]}"; do
		echo "filters,${LIVE_SETUPS[$i]},$(live_blocks "$i")" >>"$LIVE_CSV"
	done
}

# "yes" if a UDP datagram from 192.0.2.99 (not in the set) is not received, "no" otherwise.
live_blocks() {
	local k=$1 h r got
	h=$(pair_host "$k")
	r=$(pair_remote "$k")
	in_ns "$r" ip addr add 192.0.2.99/24 dev "bz${BID}${k}r" 2>/dev/null || true
	got=$(in_ns "$h" timeout 2 socat -u UDP4-RECV:5300,bind=192.0.2.10 - 2>/dev/null &
		sleep 0.3
		echo probe | in_ns "$r" socat -u - UDP4-SENDTO:192.0.2.10:5300,bind=192.0.2.99 2>/dev/null
		wait)
	[ -n "$got" ] && echo no || echo yes
}
