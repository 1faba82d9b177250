#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Allowed traffic under load, across CPUs: one UDP flow driven from both ends at AMLG_LOAD_RATE
# datagrams per second each way (12000 by default), an ICMP echo flood and four parallel TCP
# streams, each for AMLG_LOAD_SECONDS (2), in audit and in enforce mode.  The host's end runs on
# CPU 0, the remote end on CPU 1, and the host interface's receive path is steered to CPU 1
# (RPS), so the egress and ingress hooks judge the two ways of one flow on different CPUs at the
# same time.  Each case asserts 0 violations, 0 drops, and conntrack "created" equal to the
# number of real flows; the reverse case, a forbidden flow at the same rate, must be 100 %
# violations (and dropped in enforce mode).  Every case prints its figures on a "figures:" line.
. "$(dirname "$0")/lib.sh"

UDPFLOOD=${UDPFLOOD:-$(dirname "$AMLGUARD")/tests/tools/amlg-udpflood}
RATE=${AMLG_LOAD_RATE:-12000}
SECS=${AMLG_LOAD_SECONDS:-2}
# the UDP ends must reach at least this rate per direction
MIN_RATE=10000

load_setup() {
	local mode=$1
	if [ "$(nproc)" -lt 2 ]; then
		echo "  needs two CPUs"
		return 249
	fi
	setup_direct
	cat >"$WORK/load.policy" <<'EOF'
allow out udp port 5300 to 198.51.100.7 flow L-UDP
allow out icmp to 198.51.100.7 flow L-PING
allow out tcp port 5201 to 198.51.100.7 flow L-TCP
EOF
	# The host interface's receive path (its ingress hook) on CPU 1; the senders pin themselves.
	ip netns exec "$NS_HOST" sh -c "echo 2 >/sys/class/net/$IF_HOST/queues/rx-0/rps_cpus"
	amlg attach -i "$IF_HOST" -p "$WORK/load.policy" --mode "$mode" >/dev/null
	attached "$NS_HOST" "$IF_HOST"
}

# The counters before a case: the figures of a case are what changed during it.
snapshot() {
	amlg -j status -i "$IF_HOST" >"$WORK/before.json"
}

# figures CASE MODE KIND FLOWS SENT_OUT SENT_IN RECV_OUT RECV_IN: read the counters, print the
# figures line, assert.  KIND is "allowed" or "forbidden"; FLOWS the real flows of the case;
# SENT_* what each end sent (out: the host's), RECV_* what each end received (out: the remote's).
figures() {
	amlg -j status -i "$IF_HOST" >"$WORK/status.json"
	python3 - "$WORK/status.json" "$WORK/before.json" "$@" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))[0]
b = json.load(open(sys.argv[2]))[0]
case, mode, kind = sys.argv[3], sys.argv[4], sys.argv[5]
flows, sent_out, sent_in, recv_out, recv_in = (int(x) for x in sys.argv[6:11])
c, cb = s["counters"], b["counters"]
viol = {d: c[d]["violation_packets"] - cb[d]["violation_packets"] for d in ("out", "in")}
allowed = {d: c[d]["allowed_packets"] - cb[d]["allowed_packets"] for d in ("out", "in")}
dropped = sum(c[d]["dropped"] - cb[d]["dropped"] for d in ("out", "in"))
# ARP and neighbour discovery, not part of the case
link = c["matches"]["link"] - cb["matches"]["link"]
matches = {k: v - cb["matches"][k] for k, v in c["matches"].items()}
created = s["conntrack"]["created"] - b["conntrack"]["created"]
failed = s["conntrack"]["create_failed"] - b["conntrack"]["create_failed"]
byreason = {k: v - cb["violations_by_reason"][k] for k, v in c["violations_by_reason"].items() if v - cb["violations_by_reason"][k]}
judged = sum(viol.values()) + sum(allowed.values()) - link
print(f"  figures: case={case} mode={mode} sent_out={sent_out} sent_in={sent_in} "
      f"received_by_remote={recv_out} received_by_host={recv_in} judged={judged} "
      f"violations={sum(viol.values())} (out {viol['out']}, in {viol['in']}) dropped={dropped} "
      f"ct_created={created} ct_failed={failed} "
      f"matches={json.dumps(matches, separators=(',', ':'))}")
ok = True
def check(cond, what):
    global ok
    if not cond:
        print(f"  FAIL: {case}/{mode}: {what}")
        ok = False
if kind == "allowed":
    check(sum(viol.values()) == 0, f"{sum(viol.values())} violations of an allowed flow "
          f"(by reason: {byreason})")
    check(dropped == 0, f"{dropped} packets of an allowed flow dropped")
    check(created == flows, f"conntrack created {created} entries for {flows} flows")
    # egress judges every datagram the host sent
    check(allowed["out"] >= sent_out, f"{allowed['out']} allowed out, {sent_out} sent")
    check(allowed["in"] >= recv_in, f"{allowed['in']} allowed in, {recv_in} received")
else:
    check(judged - link >= 0 and sum(allowed.values()) - link == 0,
          f"{sum(allowed.values()) - link} packets of a forbidden flow allowed")
    check(viol["out"] == sent_out, f"{viol['out']} violations out, {sent_out} sent")
    check(viol["in"] >= recv_in, f"{viol['in']} violations in, {recv_in} received")
    check(created == flows, f"conntrack created {created} entries for {flows} flows")
    if mode == "enforce":
        check(dropped == sum(viol.values()), f"{dropped} dropped of {sum(viol.values())}")
        check(recv_out == 0, f"the remote end received {recv_out} datagrams")
    else:
        check(dropped == 0, f"audit mode dropped {dropped}")
sys.exit(0 if ok else 1)
PY
}

# "sent N received M errors E" -> N M
flood_counts() {
	awk '/^sent /{print $2, $4}' "$1"
}

# One UDP flow, both ends sending RATE datagrams per second: the host (CPU 0) opens it towards
# port PORT, the remote (CPU 1) answers from the first datagram on.
udp_case() {
	local mode=$1 port=$2 kind=$3 so si ro ri rate_out
	snapshot
	bg in_ns "$NS_REMOTE" taskset -c 1 "$UDPFLOOD" -b 198.51.100.7:"$port" -R -r "$RATE" \
		-t "$SECS" -w $((SECS + 1)) >"$WORK/remote.out" 2>"$WORK/remote.err"
	local remote=${PIDS[-1]}
	wait_listen "$NS_REMOTE" "$port"
	in_ns "$NS_HOST" taskset -c 0 timeout $((SECS + 10)) "$UDPFLOOD" -b $H4:40000 \
		-c 198.51.100.7:"$port" -r "$RATE" -t "$SECS" >"$WORK/host.out" ||
		die "the host end failed"
	wait "$remote" || true # nothing arrives at it when enforce mode drops the flow
	read -r so ri < <(flood_counts "$WORK/host.out") || true
	read -r si ro < <(flood_counts "$WORK/remote.out") || true
	si=${si:-0} ro=${ro:-0}
	rate_out=$((so / SECS))
	echo "  udp: host sent $so ($rate_out/s) received $ri; remote sent $si received $ro"
	[ "$rate_out" -ge "$MIN_RATE" ] || die "the host end sent only $rate_out datagrams/s"
	if [ "$kind" = allowed ] || [ "$mode" = audit ]; then
		[ $((si / SECS)) -ge "$MIN_RATE" ] || die "the remote end sent only $((si / SECS))/s"
	fi
	figures "udp-$kind" "$mode" "$kind" 1 "$so" "$si" "$ro" "$ri"
}

ping_case() {
	local mode=$1 tx rx
	snapshot
	in_ns "$NS_HOST" taskset -c 0 ping -q -f -c 100000 -w "$SECS" 198.51.100.7 >"$WORK/ping.out" || true
	read -r tx rx < <(awk '/packets transmitted/{print $1, $4}' "$WORK/ping.out") || true
	echo "  ping: $tx echo requests ($((tx / SECS))/s), $rx replies"
	[ "${tx:-0}" -gt 0 ] && [ "${rx:-0}" -gt 0 ] || die "the echo flood did not run"
	[ "$mode" = audit ] || [ "$rx" -ge $((tx - 1)) ] || die "$((tx - rx)) echo replies missing"
	figures ping "$mode" allowed 1 "$tx" "$rx" "$rx" "$rx"
}

# Four parallel TCP streams (and iperf3's control connection): 5 flows.
tcp_case() {
	local mode=$1
	snapshot
	bg in_ns "$NS_REMOTE" taskset -c 1 iperf3 -s -1 -B 198.51.100.7 -p 5201 >/dev/null 2>&1
	wait_listen "$NS_REMOTE" 5201
	in_ns "$NS_HOST" taskset -c 0 timeout $((SECS + 15)) iperf3 -c 198.51.100.7 -p 5201 -P 4 \
		-t "$SECS" -J >"$WORK/iperf.json" || die "iperf3 failed"
	python3 - "$WORK/iperf.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum_sent"]
print(f"  tcp: {s['bytes']} bytes in 4 streams, {s.get('retransmits', 0)} retransmits,"
      f" {round(s['bits_per_second'] / 1e6)} Mbit/s")
assert s["bytes"] > 0
PY
	figures tcp "$mode" allowed 5 0 0 0 0
}

# All cases on one attachment per mode (loading the datapath is the slow part); each case's
# figures are the counters' change during it, its flows new ones (fresh ports).
load_all() {
	local mode=$1
	load_setup "$mode"
	udp_case "$mode" 5300 allowed
	ping_case "$mode"
	tcp_case "$mode"
	udp_case "$mode" 5399 forbidden
}

test_load_audit() { load_all audit; }
test_load_enforce() { load_all enforce; }

run_tests "$@"
