# SPDX-License-Identifier: GPL-2.0-only
# Shared by the scripts/bench sections: namespaces and veths of our own (never the machine's
# interfaces), their cleanup on every exit path, the sysctl we restore, and small helpers.
# Only documentation addresses are used on the wire.

BID=${BID:-$(printf '%04x' $(($$ % 65536)))}
NSLIST=()
SAVED_BPF_STATS=
XDPF_LOADED=

note() {
	echo "  $*" >&2
}

in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# A sender and a receiver namespace joined by one veth: "$1" names the pair.  Receiver (host)
# 192.0.2.10, sender (remote) 192.0.2.1; static neighbours, no IPv6, so nothing but the
# measured traffic crosses the wire.
make_pair() {
	local k=$1 h=bz$BID-$1-h r=bz$BID-$1-r ih=bz${BID}${1}h ir=bz${BID}${1}r
	ip netns add "$h"
	NSLIST+=("$h")
	ip netns add "$r"
	NSLIST+=("$r")
	ip link add "$ih" netns "$h" type veth peer name "$ir" netns "$r"
	local ns
	for ns in "$h" "$r"; do
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		in_ns "$ns" ip link set lo up
	done
	in_ns "$h" ip addr add 192.0.2.10/24 dev "$ih"
	in_ns "$r" ip addr add 192.0.2.1/24 dev "$ir"
	in_ns "$h" ip link set "$ih" up
	in_ns "$r" ip link set "$ir" up
	local mh mr
	mh=$(ip -n "$h" -br link show dev "$ih" | awk '{ print $3 }')
	mr=$(ip -n "$r" -br link show dev "$ir" | awk '{ print $3 }')
	in_ns "$h" ip neigh replace 192.0.2.1 lladdr "$mr" dev "$ih" nud permanent
	in_ns "$r" ip neigh replace 192.0.2.10 lladdr "$mh" dev "$ir" nud permanent
	echo "$k"
}

pair_host() { echo "bz$BID-$1-h"; }
pair_remote() { echo "bz$BID-$1-r"; }
pair_hif() { echo "bz${BID}${1}h"; }

bench_cleanup() {
	local ns p
	for ns in "${NSLIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	if [ -n "$XDPF_LOADED" ]; then
		in_ns "${XDPF_LOADED%%:*}" xdp-filter unload "${XDPF_LOADED#*:}" >/dev/null 2>&1
		XDPF_LOADED=
	fi
	for ns in "${NSLIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NSLIST=()
	# amlguard's pins of interfaces that vanished with their namespace
	rm -rf /sys/fs/bpf/amlguard/bz"$BID"* 2>/dev/null
	if [ -n "$SAVED_BPF_STATS" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$SAVED_BPF_STATS"
		SAVED_BPF_STATS=
	fi
	return 0
}

bpf_stats_on() {
	SAVED_BPF_STATS=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
}

# Median of numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# A JSON field of iperf3 -J output: jfield FILE expression (Python syntax on "d").
jfield() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# CPU time in ns of a task (precise: the scheduler's own accounting).
task_ns() {
	awk '{ print $1 }' /proc/"$1"/schedstat 2>/dev/null || echo 0
}

ksoftirqd_ns() {
	local t=0 p
	for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
		t=$((t + $(task_ns "$p")))
	done
	echo $t
}
