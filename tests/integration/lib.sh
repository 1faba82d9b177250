# SPDX-License-Identifier: GPL-2.0-only
# Integration test runner: network namespaces joined by veth pairs, real clients and servers, and
# a cleanup that runs on every exit path.  Only documentation addresses are used on the wire.
#
# A test file sources this, defines test_* functions and calls run_tests "$@".  Each test gets
# fresh namespaces; a test that cannot run because the kernel lacks a feature calls
# skip_test "REASON" (it returns 249).  Each test's result goes, one line
# "PASS|FAIL|SKIP<TAB>name<TAB>reason", to $AMLG_TEST_RESULTS when ctest sets it (scripts/test
# counts them), and run_tests closes with "N passed, N failed, N skipped".

set -u

AMLGUARD=${AMLGUARD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/amlguard}
TESTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Short unique prefix: interface names must stay within 15 characters.
ID=${ID:-$(printf '%04x' $(($$ % 65536)))}
NS_HOST=amlg-$ID-h
NS_REMOTE=amlg-$ID-r
NS_GW=amlg-$ID-g
IF_HOST=ag${ID}h # in NS_HOST, facing the remote side (or the gateway)
IF_REMOTE=ag${ID}r
IF_GW_IN=ag${ID}gi # in NS_GW, facing the compute host
IF_GW_OUT=ag${ID}go
H4=192.0.2.10
H6=2001:db8:ffff::10
WORK=$(mktemp -d /tmp/amlguard-it.XXXXXX)
# The capture generator the build makes, and the third-party data when it is there.
GENCAP=${GENCAP:-$(dirname "$AMLGUARD")/tests/tools/amlg-gencap}
SHARED=${AMLG_SHARED_DIR:-$TESTDIR/../../../shared}
PIDS=()
ATTACHED=()
EXTRA_NS=() # more namespaces a test created, deleted like the others

die() {
	echo "  FAIL: $*" >&2
	echo "$*" >"$WORK/.why"
	return 1
}

# Skip the current test: only for a kernel feature that is missing, never for missing data.
skip_test() {
	echo "  SKIP: $*"
	echo "$*" >"$WORK/.why"
	return 249
}

# Wait until a command succeeds, polling every 0.05 s, for at most SECONDS: 0 as soon as it
# does, 1 (after saying what did not happen) when the time is up.
#   wait_for SECONDS WHAT COMMAND [ARG...]
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + ${secs%.*} + 1))
	while ! "$@"; do
		if [ $SECONDS -ge $end ]; then
			die "$what (waited ${secs} s)"
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# Run a command in a namespace's network only: the mount namespace (and /sys/fs/bpf) stays.
in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

amlg() {
	in_ns "$NS_HOST" "$AMLGUARD" "$@"
}

amlg_gw() {
	in_ns "$NS_GW" "$AMLGUARD" "$@"
}

bg() {
	"$@" &
	PIDS+=($!)
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
	# Whatever still runs inside our namespaces (forked servers' children too).
	for ns in "$NS_HOST" "$NS_REMOTE" "$NS_GW" "${EXTRA_NS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	for p in "${ATTACHED[@]}"; do
		in_ns "${p%%:*}" "$AMLGUARD" -q detach -i "${p#*:}" >/dev/null 2>&1
	done
	ATTACHED=()
	for ns in "$NS_HOST" "$NS_REMOTE" "$NS_GW" "${EXTRA_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# Pins of an interface that vanished with its namespace.
	rm -rf /sys/fs/bpf/amlguard/ag"$ID"* 2>/dev/null
	rm -f /run/amlguard/ag"$ID"*.lock 2>/dev/null
	return 0
}

final_cleanup() {
	cleanup
	rm -rf "$WORK"
}
trap final_cleanup EXIT
trap 'final_cleanup; exit 130' INT TERM

# Host <-> remote over one veth.  The remote side also answers for addresses in
# 198.51.100.0/24 and 203.0.113.0/24 (and 2001:db8:1::/48), routed through it.
setup_direct() {
	ip netns add "$NS_HOST"
	ip netns add "$NS_REMOTE"
	ip link add "$IF_HOST" netns "$NS_HOST" type veth peer name "$IF_REMOTE" netns "$NS_REMOTE"
	in_ns "$NS_HOST" ip link set lo up
	in_ns "$NS_REMOTE" ip link set lo up
	in_ns "$NS_HOST" ip link set "$IF_HOST" up
	in_ns "$NS_REMOTE" ip link set "$IF_REMOTE" up
	in_ns "$NS_HOST" ip addr add $H4/24 dev "$IF_HOST"
	in_ns "$NS_HOST" ip -6 addr add $H6/64 dev "$IF_HOST" nodad
	in_ns "$NS_REMOTE" ip addr add 192.0.2.1/24 dev "$IF_REMOTE"
	in_ns "$NS_REMOTE" ip -6 addr add 2001:db8:ffff::1/64 dev "$IF_REMOTE" nodad
	local a
	for a in 198.51.100.7 198.51.100.53 198.51.100.200 203.0.113.9; do
		in_ns "$NS_REMOTE" ip addr add $a/32 dev lo
	done
	in_ns "$NS_REMOTE" ip -6 addr add 2001:db8:1::5/128 dev lo
	in_ns "$NS_HOST" ip route add 198.51.100.0/24 via 192.0.2.1
	in_ns "$NS_HOST" ip route add 203.0.113.0/24 via 192.0.2.1
	in_ns "$NS_HOST" ip -6 route add 2001:db8:1::/48 via 2001:db8:ffff::1
}

# Compute host <-> gateway (forwarding) <-> remote.  amlguard attaches in the gateway,
# on IF_GW_IN, in gateway role.
setup_gateway() {
	ip netns add "$NS_HOST"
	ip netns add "$NS_GW"
	ip netns add "$NS_REMOTE"
	ip link add "$IF_HOST" netns "$NS_HOST" type veth peer name "$IF_GW_IN" netns "$NS_GW"
	ip link add "$IF_GW_OUT" netns "$NS_GW" type veth peer name "$IF_REMOTE" netns "$NS_REMOTE"
	local ns
	for ns in "$NS_HOST" "$NS_GW" "$NS_REMOTE"; do
		in_ns "$ns" ip link set lo up
	done
	in_ns "$NS_HOST" ip link set "$IF_HOST" up
	in_ns "$NS_GW" ip link set "$IF_GW_IN" up
	in_ns "$NS_GW" ip link set "$IF_GW_OUT" up
	in_ns "$NS_REMOTE" ip link set "$IF_REMOTE" up
	in_ns "$NS_HOST" ip addr add $H4/24 dev "$IF_HOST"
	in_ns "$NS_GW" ip addr add 192.0.2.1/24 dev "$IF_GW_IN"
	in_ns "$NS_GW" ip addr add 198.51.100.1/24 dev "$IF_GW_OUT"
	in_ns "$NS_REMOTE" ip addr add 198.51.100.7/24 dev "$IF_REMOTE"
	in_ns "$NS_REMOTE" ip addr add 203.0.113.9/32 dev lo
	in_ns "$NS_HOST" ip route add default via 192.0.2.1
	in_ns "$NS_REMOTE" ip route add 192.0.2.0/24 via 198.51.100.1
	in_ns "$NS_GW" ip route add 203.0.113.0/24 via 198.51.100.7
	in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1
}

# Remember an attachment so that cleanup detaches it even when the test fails.
attached() {
	ATTACHED+=("$1:$2")
}

# A TCP server in a namespace: echoes each line back (socat fork).
tcp_echo_server() {
	local ns=$1 addr=$2 port=$3 v=4
	case $addr in *:*) v=6 addr="[$addr]" ;; esac
	bg in_ns "$ns" socat -T5 TCP$v-LISTEN:"$port",bind="$addr",reuseaddr,fork EXEC:cat
}

udp_echo_server() {
	local ns=$1 addr=$2 port=$3 v=4
	case $addr in *:*) v=6 addr="[$addr]" ;; esac
	bg in_ns "$ns" socat -T5 UDP$v-RECVFROM:"$port",bind="$addr",reuseaddr,fork EXEC:cat
}

listening() {
	in_ns "$1" ss -Htuln "sport = :$2" | grep -q .
}

# Wait until something listens on a port in a namespace.
wait_listen() {
	wait_for 10 "nothing listens on port $2 in $1" listening "$1" "$2"
}

# Send a line over TCP and expect it back: 0 if it came back within 2 s.  An optional fourth
# argument is the source address to connect from.
tcp_roundtrip() {
	local ns=$1 addr=$2 port=$3 src=${4:+,bind=$4} out
	case $addr in *:*) addr="[$addr]" ;; esac
	out=$(echo "hello-$port" | in_ns "$ns" timeout 3 socat -T2 - TCP:"$addr":"$port",connect-timeout=2$src 2>/dev/null)
	[ "$out" = "hello-$port" ]
}

udp_roundtrip() {
	local ns=$1 addr=$2 port=$3 out
	case $addr in *:*) addr="[$addr]" ;; esac
	out=$(echo "hello-$port" | in_ns "$ns" timeout 3 socat -T1 - UDP:"$addr":"$port" 2>/dev/null)
	[ "$out" = "hello-$port" ]
}

# The rules the offline tests (check, explain, flow logs) start from, written to FILE, and
# after them the rules read from standard input.
#   offline_policy FILE <<'EOF' ... EOF
offline_policy() {
	cat >"$1" <<'EOF'
allow out tcp port 443 to 198.51.100.0/24 flow T-HTTPS
allow out udp port 53 to 198.51.100.53 flow T-DNS
allow out tcp port 443 to 2001:db8:1::/48 flow T-V6
allow in tcp port 44224 from 203.0.113.0/24 flow T-IN-AML
allow out icmp to 198.51.100.0/24 flow T-PING
EOF
	cat >>"$1"
}

# The policy under which the generated corpus and the third-party captures run: the usual
# services to anywhere, written to FILE.
any_service_policy() {
	cat >"$1" <<'EOF'
allow out tcp port { 80, 443 } to any flow WEB
allow out udp port 53 to any flow DNS
allow out icmp to any flow PING
allow out icmpv6 to any flow PING6
EOF
}

# A copy of the capture IN (pcap, little-endian) whose Nth record header (from 1) claims an
# impossible length.
#   pcap_corrupt_record IN OUT N
pcap_corrupt_record() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 24
for _ in range(int(sys.argv[3]) - 1):
    off += 16 + struct.unpack_from("<I", d, off + 8)[0]
struct.pack_into("<I", d, off + 8, 3000000)
open(sys.argv[2], "wb").write(d)
PY
}

# Count JSON log lines matching a jq-like python predicate on the object "e".
count_events() {
	local file=$1 pred=$2
	python3 - "$file" "$pred" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    e = json.loads(line)
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}

# Read the current log into a file (events are consumed).
drain_log() {
	local out=$1
	amlg log -i "$IF_HOST" >>"$out"
}

# One line per test for scripts/test's count (see the top of this file).
record() {
	[ -n "${AMLG_TEST_RESULTS:-}" ] || return 0
	printf '%s\t%s\t%s\n' "$1" "$2" "$(echo "$3" | tr '\t\n' '  ')" >>"$AMLG_TEST_RESULTS"
}

# Through a gateway set up by setup_gateway with amlguard on IF_GW_IN, servers on the remote's
# 443 and 8443 and the host's 2222, and a policy declaring only the first: the declared flow
# passes, the undeclared egress and ingress do not, and both are logged with their direction.
# $1 and $2 name what judges each direction, for the messages.
gateway_judges() {
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "compute -> declared flow through the gateway"
	if tcp_roundtrip "$NS_HOST" 198.51.100.7 8443; then die "undeclared egress passed the gateway"; fi
	if tcp_roundtrip "$NS_REMOTE" $H4 2222; then die "undeclared ingress passed the gateway"; fi
	in_ns "$NS_GW" "$AMLGUARD" log -i "$IF_GW_IN" >"$WORK/log"
	[ "$(count_events "$WORK/log" "e['dir']=='out' and e['dport']==8443 and e['src']=='$H4'")" -ge 1 ] ||
		die "$1 did not report the compute subnet's egress as out"
	[ "$(count_events "$WORK/log" "e['dir']=='in' and e['dport']==2222")" -ge 1 ] ||
		die "$2 did not report the inbound as in"
}

run_tests() {
	local t rc failed=0 passed=0 skipped=0 list why script
	script=$(basename "$0" .sh)
	if [ $# -gt 0 ]; then
		list=("$@")
	else
		mapfile -t list < <(declare -F | awk '{print $3}' | grep '^test_')
	fi
	if [ -n "${AMLG_TEST_RESULTS:-}" ]; then
		mkdir -p "$(dirname "$AMLG_TEST_RESULTS")" && : >"$AMLG_TEST_RESULTS"
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root (network namespaces, BPF)"
		exit 77
	fi
	for t in "${list[@]}"; do
		echo "== $t"
		rm -f "$WORK/.why"
		(
			set -e
			trap "set +e; cleanup" EXIT
			"$t"
		)
		rc=$?
		cleanup
		why=$(cat "$WORK/.why" 2>/dev/null)
		if [ $rc -eq 0 ]; then
			echo "[$t] PASS"
			record PASS "$script/$t" ""
			passed=$((passed + 1))
		elif [ $rc -eq 249 ]; then
			echo "[$t] SKIP: ${why:-the kernel lacks a feature}"
			record SKIP "$script/$t" "${why:-the kernel lacks a feature}"
			skipped=$((skipped + 1))
		else
			echo "[$t] FAIL"
			record FAIL "$script/$t" "${why:-exit $rc}"
			failed=$((failed + 1))
		fi
	done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed -eq 0 ]
}
