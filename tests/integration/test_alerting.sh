#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Alerting across hosts, every part real: three amlguard daemons (three "hosts", each a network
# namespace with a veth to a monitoring namespace), one Prometheus scraping them with the shipped
# rules (their durations shortened by tests/alerting/fast-rules), one Alertmanager with the
# shipped example configuration (its timers shortened, its receivers pointed at a local webhook
# listener).  An undeclared egress flow on one host reaches the on-call receiver naming that
# host, within a bounded time; declared in the policy and reloaded, the alert resolves.  The
# same flow from a host in maintenance (a HostMaintenance alert) is inhibited.  The alert and
# resolve latencies are measured and printed.
. "$(dirname "$0")/lib.sh"

TOOLS=$TESTDIR/tools
DIST=$TESTDIR/../../user/dist/prometheus
NS_MON=amlg-$ID-m
BR=ag${ID}br
MON=192.0.2.1
WEBHOOK_PORT=9095
ALERT_BOUND=30   # seconds from the first undeclared packet to the notification, at most
RESOLVE_BOUND=45 # seconds from the fix to the resolved notification, at most

hns() { echo "amlg-$ID-$1"; }
hif() { echo "ag${ID}$1"; }
haddr() { echo "192.0.2.1$1"; }
# known before any test runs, so that the runner's cleanup deletes them on every exit path
EXTRA_NS=("$NS_MON" "$(hns 1)" "$(hns 2)" "$(hns 3)")

# The monitoring namespace holds a bridge; each host namespace is joined to it by a veth.
setup_fleet() {
	local n ns
	ip netns add "$NS_MON"
	in_ns "$NS_MON" ip link set lo up
	in_ns "$NS_MON" ip link add "$BR" type bridge
	in_ns "$NS_MON" ip link set "$BR" up
	in_ns "$NS_MON" ip addr add $MON/24 dev "$BR"
	# the destinations: one declared (198.51.100.53), one not (203.0.113.9)
	in_ns "$NS_MON" ip addr add 198.51.100.53/32 dev lo
	in_ns "$NS_MON" ip addr add 203.0.113.9/32 dev lo
	for n in 1 2 3; do
		ns=$(hns $n)
		ip netns add "$ns"
		ip link add "$(hif $n)" netns "$ns" type veth peer name "ag${ID}p$n" netns "$NS_MON"
		in_ns "$NS_MON" ip link set "ag${ID}p$n" master "$BR" up
		in_ns "$ns" ip link set lo up
		in_ns "$ns" ip link set "$(hif $n)" up
		in_ns "$ns" ip addr add "$(haddr $n)/24" dev "$(hif $n)"
		in_ns "$ns" ip route add default via $MON
	done
}

policy_v1() {
	cat <<'P'
mode audit
allow in tcp port 9479 from 192.0.2.1 flow MON-SCRAPE
allow out udp port 53 to 198.51.100.53 flow T-DNS
P
}

start_host() {
	local n=$1 ns
	ns=$(hns $n)
	mkdir -p "$WORK/h$n"
	policy_v1 >"$WORK/h$n/live.policy"
	cat >"$WORK/h$n/amlguard.conf" <<C
log-file = $WORK/h$n/violations.json
metrics-listen = $(haddr $n):9479
alert-window = 5
[interface $(hif $n)]
policy = $WORK/h$n/live.policy
C
	# nsenter execs the daemon: $! is its pid, for SIGHUP
	nsenter --net=/run/netns/"$ns" "$AMLGUARD" run -c "$WORK/h$n/amlguard.conf" \
		>"$WORK/h$n/daemon.out" 2>"$WORK/h$n/daemon.err" &
	PIDS+=($!)
	eval "HOST${n}_PID=$!"
	attached "$ns" "$(hif $n)"
}

wait_scrapable() {
	local n=$1 i
	# the daemon listens before it attaches (a slow BPF load holds the first request)
	for i in $(seq 100); do
		in_ns "$NS_MON" curl -sf -m 60 -o /dev/null "http://$(haddr $n):9479/metrics" && return 0
		sleep 0.1
	done
	cat "$WORK/h$n/daemon.err" >&2
	die "host $n: no metrics"
}

# A PromQL query's result in the monitoring namespace, as JSON.
promql() {
	in_ns "$NS_MON" curl -sf --get "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1"
}

# Notifications received (lines of the webhook file) matching a Python predicate on "n" (the
# notification: path, received, body) and "a" (one of its alerts); prints "count first_time".
notifications() {
	python3 - "$WORK/webhook.json" "$1" <<'PY'
import json, sys
n_ok, first = 0, None
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    n = json.loads(line)
    for a in n["body"]["alerts"]:
        if eval(sys.argv[2]):
            n_ok += 1
            first = n["received"] if first is None else first
            break
print(n_ok, first if first is not None else "-")
PY
}

# Wait until a notification matches (at most $2 seconds); prints its receive time.
wait_notification() {
	local pred=$1 secs=$2 deadline c t
	deadline=$(($(date +%s) + secs))
	while [ "$(date +%s)" -le "$deadline" ]; do
		read -r c t < <(notifications "$pred")
		if [ "$c" -gt 0 ]; then
			echo "$t"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

test_undeclared_egress_alert() {
	command -v prometheus >/dev/null || die "prometheus is missing (Debian package prometheus)"
	command -v prometheus-alertmanager >/dev/null ||
		die "prometheus-alertmanager is missing (Debian package prometheus-alertmanager)"
	local n t0 t_alert t_fix t_res c t
	local started=$SECONDS
	setup_fleet
	for n in 1 2 3; do
		start_host $n
	done
	for n in 1 2 3; do
		wait_scrapable $n
	done
	echo "  three daemons attached and serving metrics after $((SECONDS - started)) s"

	# Prometheus: the shipped scrape example and rules, at test speed.
	bash "$TESTDIR/../alerting/fast-rules" "$DIST/amlguard.rules.yml" >"$WORK/fast.rules.yml"
	sed -E -e 's/(scrape|evaluation)_interval: 15s/\1_interval: 1s/' \
		-e "s|/usr/share/amlguard/prometheus/amlguard.rules.yml|$WORK/fast.rules.yml|" \
		-e "s|targets: \[\"10.0.0.4:9479\".*|targets: [\"$(haddr 1):9479\", \"$(haddr 2):9479\", \"$(haddr 3):9479\"]|" \
		"$DIST/prometheus-scrape.yml" >"$WORK/prometheus.yml"
	promtool check config "$WORK/prometheus.yml" >/dev/null || die "promtool rejects the test configuration"
	grep -q "$(haddr 3):9479" "$WORK/prometheus.yml" || die "the targets were not substituted"
	# Alertmanager: the shipped example, timers of a second, receivers on the local listener.
	sed -E -e 's/(group_wait|group_interval): .*/\1: 1s/' \
		-e "s|http://127.0.0.1:9095/|http://127.0.0.1:$WEBHOOK_PORT/|" \
		"$DIST/alertmanager.yml" >"$WORK/alertmanager.yml"
	amtool check-config "$WORK/alertmanager.yml" >/dev/null || die "amtool rejects the test configuration"

	bg in_ns "$NS_MON" python3 "$TOOLS/webhook_recv.py" 127.0.0.1 $WEBHOOK_PORT "$WORK/webhook.json" 150
	bg in_ns "$NS_MON" prometheus-alertmanager --config.file="$WORK/alertmanager.yml" \
		--storage.path="$WORK/am" --web.listen-address=127.0.0.1:9093 \
		--cluster.listen-address= --log.level=warn
	bg in_ns "$NS_MON" prometheus --config.file="$WORK/prometheus.yml" \
		--storage.tsdb.path="$WORK/prom" --web.listen-address=127.0.0.1:9090 \
		--rules.alert.resend-delay=1s --log.level=warn
	# all three targets up, and their undeclared-egress counters there (at 0)
	local i up=0
	for i in $(seq 150); do
		up=$(promql 'count(up{job="amlguard"} == 1)' 2>/dev/null |
			python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null || echo 0)
		[ "$up" = 3 ] && break
		sleep 0.2
	done
	[ "$up" = 3 ] || die "Prometheus does not see three amlguard targets up ($up)"
	[ "$(promql 'count(amlguard_undeclared_egress_flows_total{mode="audit",reason="no-rule"} == 0)' |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')" = 3 ] ||
		die "the undeclared egress counters are not there from the start"

	# Host 3 is in maintenance: its amlguard alerts are inhibited (and the marker not notified).
	in_ns "$NS_MON" amtool alert add --alertmanager.url=http://127.0.0.1:9093 \
		alertname=HostMaintenance host="$(haddr 3)" || die "cannot post the maintenance alert"

	# Declared traffic on every host; after a few evaluations, nobody was notified.
	for n in 1 2 3; do
		bg in_ns "$(hns $n)" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 100
while time.time() < end:
    s.sendto(b"q", ("198.51.100.53", 53)); time.sleep(0.3)'
	done
	sleep 3
	read -r c t < <(notifications 'True')
	[ "$c" -eq 0 ] || { cat "$WORK/webhook.json"; die "notified of declared traffic"; }

	# Host 3 (in maintenance) and host 2 send an undeclared flow (one UDP 5-tuple each, five
	# packets a second).
	bg in_ns "$(hns 3)" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 100
while time.time() < end:
    s.sendto(b"m", ("203.0.113.9", 4445)); time.sleep(0.2)'
	bg in_ns "$(hns 2)" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
open(sys.argv[1], "w").write(repr(time.time()))
end = time.time() + 100
while time.time() < end:
    s.sendto(b"x", ("203.0.113.9", 4444)); time.sleep(0.2)' "$WORK/t0"
	local firing="n['path'] == '/oncall' and n['body']['status'] == 'firing' and a['labels']['alertname'] == 'AmlguardUndeclaredEgress' and a['labels']['host'] == '$(haddr 2)' and a['status'] == 'firing'"
	t_alert=$(wait_notification "$firing" $ALERT_BOUND) ||
		die "no alert for host 2 within $ALERT_BOUND s"
	for i in $(seq 20); do [ -s "$WORK/t0" ] && break; sleep 0.1; done
	t0=$(cat "$WORK/t0")
	# the notification names the host, the interface, the reason and where to look
	python3 - "$WORK/webhook.json" "$(haddr 2)" "$(hif 2)" <<'PY' || die "the notification does not say what happened"
import json, sys
host, ifname = sys.argv[2], sys.argv[3]
for line in open(sys.argv[1]):
    n = json.loads(line)
    if n["body"]["status"] != "firing":
        continue
    assert n["body"]["groupLabels"] == {"host": host}, n["body"]["groupLabels"]
    assert n["body"]["receiver"] == "amlguard-oncall", n["body"]["receiver"]
    a = n["body"]["alerts"][0]
    assert a["labels"]["interface"] == ifname and a["labels"]["reason"] == "no-rule", a["labels"]
    assert a["labels"]["severity"] == "critical", a["labels"]
    assert f"Undeclared egress from {host} ({ifname}, reason no-rule)" == a["annotations"]["summary"]
    assert f"amlguard log -i {ifname}" in a["annotations"]["description"]
    print("  notified:", a["annotations"]["summary"])
    break
else:
    sys.exit(1)
PY
	# host 3's alert is in Alertmanager, inhibited by the maintenance marker
	local inhibited=0
	for i in $(seq 50); do
		inhibited=$(in_ns "$NS_MON" curl -sf --get http://127.0.0.1:9093/api/v2/alerts \
			--data-urlencode 'filter=alertname="AmlguardUndeclaredEgress"' \
			--data-urlencode "filter=host=\"$(haddr 3)\"" | python3 -c '
import json, sys
a = json.load(sys.stdin)
print(int(len(a) == 1 and a[0]["status"]["state"] == "suppressed" and len(a[0]["status"]["inhibitedBy"]) == 1))')
		[ "$inhibited" = 1 ] && break
		sleep 0.2
	done
	[ "$inhibited" = 1 ] || die "host 3's alert is not inhibited by its maintenance"
	[ "$(count_events "$WORK/h3/violations.json" "e['dst'] == '203.0.113.9' and e['dport'] == 4445")" -ge 1 ] ||
		die "host 3 did not report its flow"
	# the JSON log line the notification points at is there
	[ "$(count_events "$WORK/h2/violations.json" "e['dst'] == '203.0.113.9' and e['dport'] == 4444 and e['reason'] == 'no-rule'")" -ge 1 ] ||
		die "no violation in host 2's log"

	# The flow goes on: the alert stays firing past the 20 s range of its first count (the flow
	# is counted again at each report, 10 s apart, as alert-window = 5).
	python3 -c 'import sys, time; time.sleep(max(0.0, float(sys.argv[1]) + 26 - time.time()))' "$t0"
	read -r c t < <(notifications "n['body']['status'] == 'resolved' or a['status'] == 'resolved'")
	[ "$c" -eq 0 ] || die "resolved while the undeclared flow went on"
	# Prometheus fires for hosts 2 and 3 (Alertmanager holds host 3's back), not for host 1
	[ "$(promql 'ALERTS{alertname="AmlguardUndeclaredEgress",alertstate="firing"}' |
		python3 -c 'import json,sys; print(" ".join(sorted(r["metric"]["host"] for r in json.load(sys.stdin)["data"]["result"])))')" = "$(haddr 2) $(haddr 3)" ] ||
		die "the alert is not firing in Prometheus for hosts 2 and 3 only"

	# Fixed: the flow is declared in host 2's policy and the daemon reloaded.
	{
		policy_v1
		echo "allow out udp port 4444 to 203.0.113.9 flow T-NEW"
	} >"$WORK/h2/next.policy"
	mv "$WORK/h2/next.policy" "$WORK/h2/live.policy"
	t_fix=$(python3 -c 'import time; print(repr(time.time()))')
	kill -HUP "$HOST2_PID"
	local resolved="n['path'] == '/oncall' and a['labels']['alertname'] == 'AmlguardUndeclaredEgress' and a['labels']['host'] == '$(haddr 2)' and a['status'] == 'resolved'"
	t_res=$(wait_notification "$resolved" $RESOLVE_BOUND) ||
		die "not resolved within $RESOLVE_BOUND s of the fix"

	# Nothing else was notified: no other host, no other alert.
	read -r c t < <(notifications "a['labels'].get('host') != '$(haddr 2)' or a['labels']['alertname'] != 'AmlguardUndeclaredEgress'")
	[ "$c" -eq 0 ] || { cat "$WORK/webhook.json"; die "unexpected notifications"; }
	python3 - "$t0" "$t_alert" "$t_fix" "$t_res" <<'PY'
import sys
t0, ta, tf, tr = map(float, sys.argv[1:])
print(f"  alert latency (first undeclared packet -> webhook): {ta - t0:.1f} s")
print(f"  resolve latency (policy reloaded -> webhook resolved): {tr - tf:.1f} s")
print("  (test durations: scrape and evaluation 1 s, for: 2s, ranges [20s], group_wait and")
print("   group_interval 1 s; production: 15 s, the shipped for: and ranges, 10 s / 5 m)")
PY
}

run_tests "$@"
