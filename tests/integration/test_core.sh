#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Core lifecycle under live traffic: attach, TCP/UDP both ways, violations in the log, audit
# versus enforce, reload under traffic, bad input, detach leaving nothing, gateway role.
. "$(dirname "$0")/lib.sh"

policy_v1() {
	cat >"$WORK/v1.policy" <<'EOF'
# test policy: what the host may do
mode audit
allow out tcp port 443 to 198.51.100.0/24 flow T-HTTPS
allow out udp port 53 to 198.51.100.53 flow T-DNS
allow out tcp port 443 to 2001:db8:1::/48 flow T-V6
allow in tcp port 44224 from 198.51.100.0/24 flow T-IN-AML
allow out tcp port 5201 to 198.51.100.200 flow T-STREAM
EOF
}

# v2: the stream's flow still allowed, HTTPS no longer
policy_v2() {
	cat >"$WORK/v2.policy" <<'EOF'
mode enforce
allow out udp port 53 to 198.51.100.53 flow T-DNS
allow out tcp port 5201 to 198.51.100.200 flow T-STREAM
EOF
}

servers() {
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 203.0.113.9 443
	tcp_echo_server "$NS_REMOTE" 2001:db8:1::5 443
	udp_echo_server "$NS_REMOTE" 198.51.100.53 53
	tcp_echo_server "$NS_HOST" $H4 44224
	tcp_echo_server "$NS_HOST" $H4 2222
	wait_listen "$NS_REMOTE" 443
	wait_listen "$NS_REMOTE" 53
	wait_listen "$NS_HOST" 44224
	wait_listen "$NS_HOST" 2222
}

test_attach_traffic_log() {
	setup_direct
	policy_v1
	servers
	amlg attach -i "$IF_HOST" -p "$WORK/v1.policy"
	attached "$NS_HOST" "$IF_HOST"
	# declared flows, both directions, v4 and v6, TCP and UDP
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "declared https failed"
	tcp_roundtrip "$NS_HOST" 2001:db8:1::5 443 || die "declared https over v6 failed"
	udp_roundtrip "$NS_HOST" 198.51.100.53 53 || die "declared dns failed"
	tcp_roundtrip "$NS_REMOTE" $H4 44224 198.51.100.7 || die "declared inbound failed"
	# undeclared flows still work in audit mode, and are reported
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443 || die "audit mode blocked traffic"
	tcp_roundtrip "$NS_REMOTE" $H4 2222 || die "audit mode blocked inbound"
	drain_log "$WORK/log"
	cat "$WORK/log"
	[ "$(count_events "$WORK/log" "e['dst']=='203.0.113.9' and e['dport']==443 and e['dir']=='out' and e['reason']=='no-rule' and e['action']=='pass' and e['proto']=='tcp' and e['src']=='$H4'")" -ge 1 ] ||
		die "no out violation logged"
	[ "$(count_events "$WORK/log" "e['dst']=='$H4' and e['dport']==2222 and e['dir']=='in' and e['reason']=='no-rule'")" -ge 1 ] ||
		die "no in violation logged"
	[ "$(count_events "$WORK/log" "e['dport']==443 and e['dst']=='198.51.100.7'")" -eq 0 ] ||
		die "a declared flow was logged"
	# one report per flow: the whole exchange is one event each way
	[ "$(count_events "$WORK/log" "e['dst']=='203.0.113.9'")" -eq 1 ] || die "flow reported more than once"
	# every field the log promises
	python3 - "$WORK/log" <<'PY'
import json, sys
need = ["time", "iface", "dir", "proto", "src", "sport", "dst", "dport", "vlan", "reason", "rule", "flow"]
for line in open(sys.argv[1]):
    e = json.loads(line)
    missing = [k for k in need if k not in e]
    assert not missing, missing
PY
	# status counts the rules by flow ID
	amlg -j status -i "$IF_HOST" >"$WORK/status.json"
	python3 - "$WORK/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))[0]
rules = {r["flow"]: r for r in s["rules"] if r["flow"]}
assert s["attached"] and s["mode"] == "audit", s
assert rules["T-HTTPS"]["packets"] > 0, rules["T-HTTPS"]
assert rules["T-DNS"]["packets"] >= 2, rules["T-DNS"]
assert rules["T-IN-AML"]["packets"] > 0
assert s["counters"]["out"]["violation_packets"] > 0
assert s["counters"]["violations_by_reason"]["no-rule"] > 0
PY
	amlg status -i "$IF_HOST" | grep -q "T-HTTPS" || die "plain status lacks flow IDs"
}

test_enforce_drops() {
	setup_direct
	policy_v1
	servers
	amlg attach -i "$IF_HOST" -p "$WORK/v1.policy" --mode enforce
	attached "$NS_HOST" "$IF_HOST"
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "declared flow failed in enforce"
	udp_roundtrip "$NS_HOST" 198.51.100.53 53 || die "declared dns failed in enforce"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "undeclared out flow passed"; fi
	if tcp_roundtrip "$NS_REMOTE" $H4 2222; then die "undeclared in flow passed"; fi
	drain_log "$WORK/log"
	[ "$(count_events "$WORK/log" "e['dst']=='203.0.113.9' and e['action']=='drop'")" -ge 1 ] ||
		die "drop not logged"
	amlg -j status -i "$IF_HOST" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]
assert s["mode"] == "enforce"
assert s["counters"]["out"]["dropped"] > 0 and s["counters"]["in"]["dropped"] > 0, s["counters"]'
}

# A stream running across reloads: not cut while the new policy allows it; cut when not.
test_reload_under_traffic() {
	setup_direct
	policy_v1
	policy_v2
	amlg attach -i "$IF_HOST" -p "$WORK/v1.policy" --mode enforce
	attached "$NS_HOST" "$IF_HOST"
	bg in_ns "$NS_REMOTE" iperf3 -s -B 198.51.100.200 -p 5201 -1
	wait_listen "$NS_REMOTE" 5201
	bg in_ns "$NS_HOST" iperf3 -c 198.51.100.200 -p 5201 -t 4 -b 20M -J --logfile "$WORK/iperf.json"
	local client=${PIDS[-1]} g1 g2 i
	sleep 1
	g1=$(amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"]["generation"])')
	for i in 1 2 3 4 5; do
		amlg reload -i "$IF_HOST" -p "$WORK/v2.policy" >/dev/null
		amlg reload -i "$IF_HOST" -p "$WORK/v1.policy" --mode enforce >/dev/null
	done
	g2=$(amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"]["generation"])')
	[ "$g2" -eq $((g1 + 10)) ] || die "generation $g1 -> $g2 after 10 reloads"
	wait "$client" || die "iperf3 client failed across reloads"
	python3 - "$WORK/iperf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
end = r["end"]
sent = end["sum_sent"]["bytes"]
assert sent > 1_000_000, sent
# no interval without data: the stream was never cut
for iv in r["intervals"]:
    assert iv["sum"]["bytes"] > 0, iv
assert end["sum_sent"].get("retransmits", 0) < 50, end["sum_sent"]
PY
	# v2 does not allow https: after the swap a new https connection fails
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	wait_listen "$NS_REMOTE" 443
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "https before the swap"
	amlg reload -i "$IF_HOST" -p "$WORK/v2.policy"
	if tcp_roundtrip "$NS_HOST" 198.51.100.7 443; then die "https passed after a swap that forbids it"; fi
	udp_echo_server "$NS_REMOTE" 198.51.100.53 53
	wait_listen "$NS_REMOTE" 53
	udp_roundtrip "$NS_HOST" 198.51.100.53 53 || die "dns after the swap"
}

# Bad input: clear message, exit 2, and the running state untouched.
test_bad_input() {
	setup_direct
	policy_v1
	local out rc gen1 gen2
	set +e
	out=$(amlg attach -i nosuchif0 -p "$WORK/v1.policy" 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "missing interface: exit $rc"
	echo "$out" | grep -q "nosuchif0: no such interface" || die "missing interface: '$out'"
	amlg attach -i "$IF_HOST" -p "$WORK/v1.policy"
	attached "$NS_HOST" "$IF_HOST"
	set +e
	out=$(amlg attach -i "$IF_HOST" -p "$WORK/v1.policy" 2>&1)
	rc=$?
	set -e
	[ $rc -eq 2 ] && echo "$out" | grep -q "already attached" || die "second attach: $rc '$out'"
	gen1=$(amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"]["generation"])')
	printf 'mode enforce\nallow out tpc port 443 to 198.51.100.0/24\nallow out udp port 70000 to any\n' >"$WORK/bad.policy"
	set +e
	out=$(amlg reload -i "$IF_HOST" -p "$WORK/bad.policy" 2>&1)
	rc=$?
	set -e
	echo "$out"
	[ $rc -eq 2 ] || die "bad policy: exit $rc"
	echo "$out" | grep -q "bad.policy:2:11: error" || die "no file:line:col for the typo"
	echo "$out" | grep -q "did you mean 'tcp'" || die "no suggestion"
	echo "$out" | grep -q "bad.policy:3:" || die "second error not reported"
	gen2=$(amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]; print(s["policy"]["generation"], s["mode"])')
	[ "$gen2" = "$gen1 audit" ] || die "running policy changed: '$gen1 audit' -> '$gen2'"
	set +e
	amlg reload -i "$IF_HOST" -p "$WORK/nonexistent.policy" >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 2 ] || die "missing policy file: exit $rc"
}

test_detach_leaves_nothing() {
	setup_direct
	policy_v1
	amlg attach -i "$IF_HOST" -p "$WORK/v1.policy"
	attached "$NS_HOST" "$IF_HOST"
	in_ns "$NS_HOST" tc filter show dev "$IF_HOST" ingress | grep -q amlg_ingress || die "no ingress filter"
	in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress | grep -q amlg_egress || die "no egress filter"
	[ "$(stat -c %a /sys/fs/bpf/amlguard/"$IF_HOST"/amlg_ct)" = 600 ] || die "pins not 0600"
	amlg detach -i "$IF_HOST"
	[ -z "$(in_ns "$NS_HOST" tc filter show dev "$IF_HOST" ingress)" ] || die "ingress filter left"
	[ -z "$(in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress)" ] || die "egress filter left"
	! in_ns "$NS_HOST" tc qdisc show dev "$IF_HOST" | grep -q clsact || die "clsact left"
	[ ! -e /sys/fs/bpf/amlguard/"$IF_HOST" ] || die "pins left"
	set +e
	amlg detach -i "$IF_HOST" 2>/dev/null
	local rc=$?
	set -e
	[ $rc -eq 2 ] || die "second detach: exit $rc"
}

# Gateway role: on the compute-facing NIC of a forwarding gateway, ingress is "out".
test_gateway_role() {
	setup_gateway
	cat >"$WORK/gw.policy" <<'EOF'
mode enforce
allow out tcp port 443 to 198.51.100.7 flow GW-HTTPS
EOF
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 8443
	tcp_echo_server "$NS_HOST" $H4 2222
	wait_listen "$NS_REMOTE" 8443
	wait_listen "$NS_HOST" 2222
	amlg_gw attach -i "$IF_GW_IN" -p "$WORK/gw.policy" --role gateway
	attached "$NS_GW" "$IF_GW_IN"
	gateway_judges "the gateway" "the gateway"
}

run_tests "$@"
