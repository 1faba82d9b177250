#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Running amlguard as a service, under live traffic: readiness, SIGHUP with a good and a bad
# policy, kill -9 and restart without a gap, one daemon per interface, log rotation, alerts with
# their rate limit, metrics checked by promtool, captures read back by tcpdump, the journal,
# and the Debian package with its systemd unit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

TOOLS=$TESTDIR/tools
BUILD=$(dirname "$AMLGUARD")
DAEMON_PID=

# ---- helpers ----------------------------------------------------------------------------------

generation() {
	amlg -j status -i "$IF_HOST" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["policy"]["generation"])'
}

# The value of one sample in a metrics text: metric FILE 'name{labels}'.
metric() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

scrape() {
	in_ns "$NS_HOST" curl -sf "http://127.0.0.1:$1/metrics" >"$2" || die "scrape failed"
}

# A configuration file: the global lines given, then this test's interface with a policy.
write_config() {
	local policy=$1
	shift
	{
		echo "# written by test_ops"
		printf '%s\n' "$@"
		echo "[interface $IF_HOST]"
		echo "policy = $policy"
	} >"$WORK/amlguard.conf"
}

# Sequence numbers received: "count first last contiguous".
seq_summary() {
	python3 - "$1" <<'PY'
import sys
s = [int(x) for x in open(sys.argv[1]) if x.strip()]
contig = s == list(range(s[0], s[0] + len(s))) if s else True
print(len(s), s[0] if s else -1, s[-1] if s else -1, int(contig))
PY
}

# ---- tests ------------------------------------------------------------------------------------

# READY=1 only once the datapath enforces; SIGHUP with a new policy switches a live stream's
# verdict exactly once; SIGHUP with a broken policy changes nothing and says why.
test_reload_good_and_bad() {
	setup_direct
	write_policy v1 <<'EOF'
mode enforce
allow out udp port 5000 to 198.51.100.7 flow T-A
allow out udp port 5001 to 198.51.100.7 flow T-B
EOF
	write_policy v2 <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow T-B
EOF
	cp "$WORK/v1.policy" "$WORK/live.policy"
	write_config "$WORK/live.policy" "metrics-listen = 127.0.0.1:9479"
	notify_socket
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	# ready means enforcing: the filters are there and the policy installed
	in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress | grep -q amlg_egress || die "READY before attach"
	grep -q "STATUS=$IF_HOST enforce (generation 1)" "$WORK/notify.log" || die "no STATUS line"
	local g0 n first last contig sender receiver s1 s2
	g0=$(generation)

	# 1. a good policy: the stream to port 5000 stops at one point and never comes back
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5000 "$WORK/a.seq" 4
	receiver=${PIDS[-1]}
	wait_listen "$NS_REMOTE" 5000
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5000 1500 0.002
	sender=${PIDS[-1]}
	sleep 1.2
	cp "$WORK/v2.policy" "$WORK/live.policy"
	hup_and_wait 2
	wait "$sender"
	wait "$receiver"
	read -r n first last contig <<<"$(seq_summary "$WORK/a.seq")"
	echo "  stream to the port the new policy forbids: $n of 1500 received ($first..$last), contiguous=$contig"
	[ "$n" -gt 100 ] && [ "$n" -lt 1400 ] || die "the switch did not happen in the middle ($n)"
	[ "$first" -eq 0 ] && [ "$contig" -eq 1 ] || die "verdicts flapped: not one contiguous run"
	[ "$(generation)" -eq $((g0 + 1)) ] || die "generation $g0 -> $(generation), expected one swap"

	# 2. a broken policy: nothing changes, one clear error, the daemon keeps running
	printf 'mode audit\nallow out udp port 5000 to 198.51.100.7 flow T-A\nallow out tpc port 1 to any\n' >"$WORK/live.policy"
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5001 "$WORK/b.seq" 3.5
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5000 "$WORK/c.seq" 3.5
	wait_listen "$NS_REMOTE" 5001
	wait_listen "$NS_REMOTE" 5000
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5001 1000 0.002
	s1=${PIDS[-1]}
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5000 1000 0.002
	s2=${PIDS[-1]}
	sleep 0.8
	hup_and_wait 3
	wait "$s1"
	wait "$s2"
	sleep 0.5
	read -r n first last contig <<<"$(seq_summary "$WORK/b.seq")"
	echo "  allowed stream across the bad reload: $n of 1000 received, contiguous=$contig"
	[ "$n" -eq 1000 ] || die "the allowed stream lost packets across a failed reload ($n)"
	[ "$(wc -l <"$WORK/c.seq")" -eq 0 ] || die "the bad reload opened a forbidden port"
	[ "$(generation)" -eq $((g0 + 1)) ] || die "a failed reload changed the generation"
	grep -q "live.policy:3:11: error: unknown protocol 'tpc'" "$WORK/daemon.err" || die "no compiler-style error"
	grep -q "reload: nothing was changed; the running policies stay" "$WORK/daemon.err" || die "no reload error line"
	kill -0 "$DAEMON_PID" || die "the daemon died of a bad policy"
	grep -q "the last reload failed" "$WORK/notify.log" || die "STATUS does not say the reload failed"
	scrape 9479 "$WORK/m"
	[ "$(metric "$WORK/m" 'amlguard_reloads_total{result="failure"}')" = 1 ] || die "failure not counted"
	[ "$(metric "$WORK/m" 'amlguard_reloads_total{result="success"}')" = 1 ] || die "success not counted"
	[ "$(metric "$WORK/m" amlguard_last_reload_successful)" = 0 ] || die "last reload not failed"
	stop_daemon
	grep -q "left enforcing" "$WORK/daemon.err" || die "no exit message"
}

# kill -9, then a restart: the pinned datapath keeps enforcing meanwhile (not one forbidden
# packet reaches the receiver), the allowed stream is not interrupted, and the new daemon adopts
# the state: counters and connection tracking continue.
test_kill9_restart() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow T-OK
EOF
	write_config "$WORK/p.policy" "metrics-listen = 9479" "log-file = $WORK/v.json"
	notify_socket
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	local tcpd s1 s2 s3 g1 ct1 v1 v2 ct2 t_kill t_ready leaked n first last contig
	# nsenter execs tcpdump, so $! is tcpdump itself (a background function would ignore SIGINT)
	nsenter --net=/run/netns/"$NS_REMOTE" tcpdump -i "$IF_REMOTE" -n -U -w "$WORK/forbidden.pcap" \
		'udp port 5000 or tcp port 8443' 2>/dev/null &
	tcpd=$!
	PIDS+=("$tcpd")
	sleep 0.5
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5001 "$WORK/ok.seq" 6
	wait_listen "$NS_REMOTE" 5001
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5001 2000 0.002
	s1=${PIDS[-1]}
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5000 2000 0.002
	s2=${PIDS[-1]}
	bg in_ns "$NS_HOST" python3 "$TOOLS/tcp_syns.py" 198.51.100.7 8443 200 0.02
	s3=${PIDS[-1]}
	sleep 1
	scrape 9479 "$WORK/m1"
	g1=$(generation)
	v1=$(metric "$WORK/m1" "amlguard_packets_total{interface=\"$IF_HOST\",direction=\"out\",verdict=\"violation\"}")
	ct1=$(metric "$WORK/m1" "amlguard_conntrack_entries{interface=\"$IF_HOST\"}")
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	t_kill=$(date +%s.%N)
	sleep 0.5
	: >"$WORK/notify.log"
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	t_ready=$(date +%s.%N)
	grep -q "$IF_HOST: adopted the running datapath (generation $g1)" "$WORK/daemon.err" || die "not adopted"
	wait "$s1"
	wait "$s2"
	wait "$s3"
	sleep 0.5
	scrape 9479 "$WORK/m2"
	kill -TERM "$tcpd"
	wait "$tcpd" 2>/dev/null || true
	leaked=$(tcpdump -r "$WORK/forbidden.pcap" -n 2>/dev/null | wc -l)
	read -r n first last contig <<<"$(seq_summary "$WORK/ok.seq")"
	v2=$(metric "$WORK/m2" "amlguard_packets_total{interface=\"$IF_HOST\",direction=\"out\",verdict=\"violation\"}")
	ct2=$(metric "$WORK/m2" "amlguard_conntrack_entries{interface=\"$IF_HOST\"}")
	echo "  kill -9 to READY=1 of the new daemon: $(python3 -c "print(round($t_ready - $t_kill, 2))") s"
	echo "  forbidden packets at the receiver (2000 UDP + 200 SYN attempts): $leaked"
	echo "  allowed stream: $n of 2000 received, contiguous=$contig"
	echo "  out violations before the kill: $v1, after: $v2; conntrack entries $ct1 -> $ct2"
	[ "$leaked" -eq 0 ] || die "$leaked forbidden packets passed during the restart"
	[ "$n" -eq 2000 ] && [ "$contig" -eq 1 ] || die "the allowed stream was interrupted ($n)"
	[ "$v1" -gt 0 ] && [ "$v2" -gt "$v1" ] || die "counters did not continue ($v1 -> $v2)"
	[ "$ct1" -ge 1 ] && [ "$ct2" -ge "$ct1" ] || die "connection tracking was reset ($ct1 -> $ct2)"
	[ "$(generation)" -eq $((g1 + 1)) ] || die "the restart did not install the policy once"
}

# One daemon per interface; reload and detach step aside while it runs; bad configurations fail
# before anything is attached.
test_one_daemon_per_interface() {
	setup_direct
	write_policy p <<'EOF'
mode audit
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy"
	wait_ready 1
	local out rc cmd
	set +e
	out=$(in_ns "$NS_HOST" timeout 20 "$AMLGUARD" run -i "$IF_HOST" -p "$WORK/p.policy" 2>&1)
	rc=$?
	set -e
	echo "$out"
	[ $rc -eq 2 ] || die "a second daemon: exit $rc"
	echo "$out" | grep -q "$IF_HOST: another amlguard (pid $DAEMON_PID, 'run') holds this interface" || die "no clear refusal"
	for cmd in "reload -i $IF_HOST -p $WORK/p.policy" "detach -i $IF_HOST"; do
		set +e
		# shellcheck disable=SC2086
		out=$(amlg $cmd 2>&1)
		rc=$?
		set -e
		[ $rc -eq 2 ] || die "'$cmd' while the daemon runs: exit $rc"
		echo "$out" | grep -q "the amlguard daemon (pid $DAEMON_PID) manages this interface" || die "'$cmd': '$out'"
	done
	kill -0 "$DAEMON_PID" || die "the daemon died"
	stop_daemon
	# once it is gone, the commands work again
	amlg reload -i "$IF_HOST" -p "$WORK/p.policy" >/dev/null
	printf 'journal = maybe\n[interface %s]\npolcy = /x\n' "$IF_HOST" >"$WORK/bad.conf"
	set +e
	out=$(in_ns "$NS_HOST" "$AMLGUARD" run -c "$WORK/bad.conf" 2>&1)
	rc=$?
	set -e
	echo "$out"
	[ $rc -eq 2 ] || die "a bad configuration: exit $rc"
	echo "$out" | grep -q "bad.conf:1:1: error: journal: expected yes or no, not 'maybe'" || die "no location"
	echo "$out" | grep -q "did you mean 'policy'" || die "no suggestion"
}

# SIGTERM leaves the datapath enforcing; --detach-on-exit removes it.
test_exit_modes() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	tcp_echo_server "$NS_REMOTE" 203.0.113.9 443
	wait_listen "$NS_REMOTE" 443
	notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy"
	wait_ready 1
	stop_daemon
	in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress | grep -q amlg_egress || die "SIGTERM removed the filters"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "not enforcing after the daemon stopped"; fi
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy" --detach-on-exit
	wait_ready 2
	stop_daemon
	[ -z "$(in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress)" ] || die "filters left"
	[ ! -e /sys/fs/bpf/amlguard/"$IF_HOST" ] || die "pins left"
	tcp_roundtrip "$NS_HOST" 203.0.113.9 443 || die "traffic blocked after detach"
}

# logrotate's way: mv the file, SIGHUP, and the next lines go to a new file.
test_log_rotation() {
	setup_direct
	write_policy p <<'EOF'
mode audit
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	mkdir -p "$WORK/log"
	write_config "$WORK/p.policy" "log-file = $WORK/log/violations.json"
	notify_socket
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 203.0.113.9 7001 1 0.01
	sleep 0.5
	mv "$WORK/log/violations.json" "$WORK/log/violations.json.1"
	hup_and_wait 2
	in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 203.0.113.9 7002 1 0.01
	sleep 0.5
	[ -s "$WORK/log/violations.json" ] || die "no new file after the rotation"
	[ "$(count_events "$WORK/log/violations.json.1" "e['dport']==7001")" -eq 1 ] || die "old line not in the rotated file"
	[ "$(count_events "$WORK/log/violations.json.1" "e['dport']==7002")" -eq 0 ] || die "a new line went to the rotated file"
	[ "$(count_events "$WORK/log/violations.json" "e['dport']==7002 and e['dir']=='out' and e['reason']=='no-rule'")" -eq 1 ] ||
		die "new line not in the new file"
}

# Alerts: one per new undeclared egress flow, at most 3 per period then one summary, never more
# than 2 commands at once, failures logged; inbound violations and repeats raise none.
test_alerts() {
	setup_direct
	write_policy p <<'EOF'
mode audit
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	mkdir -p "$WORK/alerts"
	cat >"$WORK/alert.sh" <<EOF
#!/bin/sh
# records its input and how many ran at once, then fails (to be logged)
d=$WORK/alerts
mkdir \$d/run.\$\$
ls -d \$d/run.* | wc -l >> \$d/concurrency
cat > \$d/alert.\$\$.json
sleep 0.5
rmdir \$d/run.\$\$
exit 3
EOF
	chmod +x "$WORK/alert.sh"
	write_config "$WORK/p.policy" "alert-exec = $WORK/alert.sh" "alert-rate = 3/4" \
		"alert-max-running = 2" "alert-window = 600" "metrics-listen = 9479"
	notify_socket
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	local p events summaries maxconc
	# eight new flows out, the first one twice (same source port), one inbound violation
	for p in 7001 7002 7003 7004 7005 7006 7007 7008; do
		in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 203.0.113.9 "$p" 1 0.001 40000
	done
	in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 203.0.113.9 7001 1 0.001 40000
	# inbound, to a port that listens (no ICMP error goes out, which would be egress)
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_recv.py" $H4 9999 "$WORK/in.seq" 2
	sleep 0.3
	in_ns "$NS_REMOTE" python3 "$TOOLS/udp_send.py" $H4 9999 1 0.001
	# the period (4 s) ends, the summary is due, every command finishes
	sleep 6
	events=$(cat "$WORK"/alerts/alert.*.json | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    e = json.loads(line)
    if "summary" not in e:
        assert e["dir"] == "out" and e["dst"] == "203.0.113.9" and e["reason"] == "no-rule", e
        n += 1
print(n)')
	summaries=$(cat "$WORK"/alerts/alert.*.json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if "summary" in e:
        print(e["suppressed"], e["message"])')
	maxconc=$(sort -n "$WORK/alerts/concurrency" | tail -1)
	echo "  alerts: $events for flows, summary '$summaries', at most $maxconc at once"
	[ "$events" -eq 3 ] || die "$events flow alerts, expected 3 (rate 3 per period)"
	[ "$summaries" = "5 5 more undeclared egress flows suppressed" ] || die "summary: '$summaries'"
	[ "$maxconc" -le 2 ] || die "$maxconc alert commands ran at once"
	grep -q "alert: '$WORK/alert.sh' (pid [0-9]*) failed with exit status 3" "$WORK/daemon.err" || die "failure not logged"
	grep -q "alert: 5 more undeclared egress flows suppressed" "$WORK/daemon.err" || die "summary not logged"
	scrape 9479 "$WORK/m"
	[ "$(metric "$WORK/m" 'amlguard_alerts_total{outcome="started"}')" -eq 4 ] || die "alerts started not counted"
	[ "$(metric "$WORK/m" 'amlguard_alerts_total{outcome="suppressed"}')" -eq 5 ] || die "suppressed not counted"
	[ "$(metric "$WORK/m" amlguard_alert_failures_total)" -eq 4 ] || die "failures not counted"
}

# Metrics over HTTP and as a textfile, both accepted by promtool, with the values they claim.
test_metrics() {
	command -v promtool >/dev/null || die "promtool is missing (Debian package prometheus)"
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 53 to 198.51.100.53 flow T-DNS
allow out tcp port 443 to 198.51.100.0/24 flow T-HTTPS
EOF
	udp_echo_server "$NS_REMOTE" 198.51.100.53 53
	wait_listen "$NS_REMOTE" 53
	mkdir -p "$WORK/tf"
	write_config "$WORK/p.policy" "metrics-listen = 127.0.0.1:9479" \
		"metrics-textfile = $WORK/tf/amlguard.prom" "metrics-interval = 1"
	notify_socket
	start_daemon -c "$WORK/amlguard.conf"
	wait_ready 1
	udp_roundtrip "$NS_HOST" 198.51.100.53 53 || die "declared dns failed"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "undeclared passed"; fi
	sleep 1.5
	scrape 9479 "$WORK/m"
	promtool check metrics <"$WORK/m" || die "promtool rejects the exposition"
	local i=$IF_HOST
	[ "$(metric "$WORK/m" "amlguard_flow_packets_total{interface=\"$i\",direction=\"out\",flow=\"T-DNS\"}")" -ge 1 ] || die "no T-DNS packets"
	[ "$(metric "$WORK/m" "amlguard_packets_total{interface=\"$i\",direction=\"in\",verdict=\"allowed\"}")" -ge 1 ] || die "no allowed packets"
	[ "$(metric "$WORK/m" "amlguard_violations_total{interface=\"$i\",direction=\"out\",reason=\"no-rule\"}")" -ge 1 ] || die "no violation"
	[ "$(metric "$WORK/m" "amlguard_dropped_packets_total{interface=\"$i\",direction=\"out\"}")" -ge 1 ] || die "no drop"
	[ "$(metric "$WORK/m" "amlguard_policy_generation{interface=\"$i\"}")" -eq 1 ] || die "generation"
	[ "$(metric "$WORK/m" "amlguard_tags_change_number{interface=\"$i\"}")" -eq 0 ] || die "tags change number"
	[ "$(metric "$WORK/m" "amlguard_conntrack_capacity{interface=\"$i\"}")" -eq 65536 ] || die "ct capacity"
	[ "$(metric "$WORK/m" "amlguard_attached{interface=\"$i\"}")" -eq 1 ] || die "attached"
	# counted by the daemon, by the mode that judged the flow; every combination there
	[ "$(metric "$WORK/m" "amlguard_mode{interface=\"$i\",mode=\"enforce\"}")" -eq 1 ] || die "mode"
	[ "$(metric "$WORK/m" "amlguard_undeclared_egress_flows_total{interface=\"$i\",mode=\"enforce\",reason=\"no-rule\"}")" -eq 1 ] ||
		die "the undeclared flow is not counted once"
	[ "$(metric "$WORK/m" "amlguard_undeclared_egress_flows_total{interface=\"$i\",mode=\"audit\",reason=\"no-rule\"}")" -eq 0 ] ||
		die "an audit-mode flow counted"
	[ "$(metric "$WORK/m" "amlguard_flow_violations_total{interface=\"$i\",mode=\"enforce\",direction=\"out\",flow=\"T-HTTPS\"}")" -eq 0 ] ||
		die "no flow-ID violation series"
	grep -q "^amlguard_events_dropped_total{interface=\"$i\",cause=\"ringbuf_full\"} " "$WORK/m" || die "no ring-buffer drops series"
	grep -q "^amlguard_policy_info{interface=\"$i\",path=\"$WORK/p.policy\",sha256=\"[0-9a-f]\{64\}\",mode=\"enforce\",role=\"host\"} 1$" "$WORK/m" ||
		die "no policy info"
	# only on loopback, and nothing but /metrics
	in_ns "$NS_HOST" ss -Htln "sport = :9479" | grep -q "127.0.0.1:9479" || die "not bound to 127.0.0.1"
	[ "$(in_ns "$NS_HOST" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9479/nope)" = 404 ] || die "not 404"
	# the textfile: complete, valid, no temporary file left behind
	[ -s "$WORK/tf/amlguard.prom" ] || die "no textfile"
	promtool check metrics <"$WORK/tf/amlguard.prom" || die "promtool rejects the textfile"
	grep -q "^amlguard_policy_generation{interface=\"$i\"} 1$" "$WORK/tf/amlguard.prom" || die "textfile content"
	[ "$(find "$WORK/tf" -name '*.tmp' | wc -l)" -eq 0 ] || die "temporary file left"
}

# Captures: plain and gzip, read back by tcpdump, with real timestamps and the snap length.
test_pcap() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	local f
	for f in v.pcap v.pcap.gz; do
		notify_socket
		start_daemon -i "$IF_HOST" -p "$WORK/p.policy" --pcap "$WORK/$f" --snaplen 64
		wait_ready 1
		in_ns "$NS_HOST" python3 "$TOOLS/tcp_syns.py" 203.0.113.9 8443 1 0.1
		in_ns "$NS_HOST" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x"*400, ("203.0.113.9", 6101))'
		sleep 0.5
		stop_daemon
		amlg detach -i "$IF_HOST" >/dev/null
		case $f in
		*.gz) zcat "$WORK/$f" >"$WORK/read.pcap" ;;
		*) cp "$WORK/$f" "$WORK/read.pcap" ;;
		esac
		tcpdump -r "$WORK/read.pcap" -n -tt >"$WORK/read.txt" 2>/dev/null
		cat "$WORK/read.txt"
		grep -q "IP $H4\.[0-9]* > 203.0.113.9.8443: Flags \[S\]" "$WORK/read.txt" || die "$f: no SYN"
		grep -q "IP $H4\.[0-9]* > 203.0.113.9.6101: UDP, length 400" "$WORK/read.txt" || die "$f: no UDP"
		python3 - "$WORK/read.pcap" "$(date +%s)" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic, = struct.unpack("<I", data[:4])
assert magic == 0xa1b23c4d, hex(magic)  # nanosecond timestamps
off, now, n = 24, int(sys.argv[2]), 0
while off < len(data):
    sec, nsec, caplen, length = struct.unpack("<IIII", data[off:off + 16])
    assert abs(sec - now) < 60, (sec, now)  # wall-clock time, not monotonic
    assert caplen <= 64, caplen             # the snap length
    if length > 400:
        assert caplen == 64, caplen
    off += 16 + caplen
    n += 1
assert n >= 2, n
PY
	done
}

# The journal: a stand-in journald socket in a private mount namespace receives each violation
# with MESSAGE and AMLG_* fields.
test_journal() {
	[ -d /run/systemd ] || die "/run/systemd is missing"
	setup_direct
	write_policy p <<'EOF'
mode audit
allow out udp port 53 to 198.51.100.53 flow T-DNS
EOF
	cat >"$WORK/journal.sh" <<EOF
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/journal
python3 $TOOLS/journal_recv.py /run/systemd/journal/socket $WORK/journal.json 60 &
for i in \$(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
exec nsenter --net=/run/netns/$NS_HOST env NOTIFY_SOCKET=$WORK/notify.sock $AMLGUARD run -i $IF_HOST -p $WORK/p.policy --journal
EOF
	notify_socket
	unshare -m --propagation private bash "$WORK/journal.sh" 2>>"$WORK/daemon.err" &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	attached "$NS_HOST" "$IF_HOST"
	wait_ready 1
	in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 203.0.113.9 7001 1 0.01
	sleep 0.5
	stop_daemon
	cat "$WORK/journal.json"
	python3 - "$WORK/journal.json" "$H4" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
e = [x for x in entries if x.get("AMLG_DPORT") == "7001"]
assert len(e) == 1, entries
e = e[0]
assert e["AMLG_DIR"] == "out" and e["AMLG_PROTO"] == "udp" and e["AMLG_REASON"] == "no-rule", e
assert e["AMLG_SRC"] == sys.argv[2] and e["AMLG_DST"] == "203.0.113.9", e
assert e["SYSLOG_IDENTIFIER"] == "amlguard" and e["PRIORITY"] == "4", e
assert e["MESSAGE_ID"] == "7c1a2f0e9b5d4e5f8a3b6c2d1e0f9a84", e
assert "203.0.113.9:7001" in e["MESSAGE"] and "VIOLATION no-rule" in e["MESSAGE"], e
PY
}

# The Debian package: built by cpack, installed with dpkg, run, its unit verified, removed.
test_deb_package() {
	command -v cpack >/dev/null || die "cpack is missing"
	if dpkg-query -W -f='${Status}' amlguard 2>/dev/null | grep -q "install ok"; then
		die "an amlguard package is installed on this machine already: not touching it"
	fi
	[ -f "$BUILD/CPackConfig.cmake" ] || die "no CPackConfig.cmake in $BUILD"
	(cd "$WORK" && cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$WORK/pkg" >/dev/null) || die "cpack failed"
	local deb lib p
	deb=$(ls "$WORK"/pkg/amlguard_*.deb)
	dpkg-deb -f "$deb" Depends | tee "$WORK/depends"
	for lib in libbpf1 libjansson4 libpcap0.8 libsystemd0 libmicrohttpd12 zlib1g; do
		grep -q "$lib" "$WORK/depends" || die "Depends lacks $lib"
	done
	dpkg-deb -c "$deb" >"$WORK/contents"
	for p in ./usr/sbin/amlguard ./etc/amlguard/amlguard.conf ./lib/systemd/system/amlguard.service \
		./usr/share/man/man8/amlguard.8.gz ./usr/share/man/man5/amlguard.policy.5.gz \
		./usr/share/bash-completion/completions/amlguard ./etc/logrotate.d/amlguard \
		./usr/share/amlguard/policies/ ./usr/share/amlguard/prometheus/amlguard.rules.yml \
		./usr/share/amlguard/prometheus/alertmanager.yml ./usr/share/amlguard/prometheus/prometheus-scrape.yml \
		./usr/share/amlguard/grafana/amlguard-dashboard.json \
		./usr/share/doc/amlguard/examples/amlguard-user-data.yml; do
		grep -q " $p" "$WORK/contents" || die "the package lacks $p"
	done
	dpkg-deb -I "$deb" conffiles | grep -q /etc/amlguard/amlguard.conf || die "the configuration is not a conffile"
	# from here on the system has the package: removed on every exit path
	trap 'dpkg --purge amlguard >/dev/null 2>&1; set +e; cleanup' EXIT
	dpkg -i "$deb" >/dev/null || die "dpkg -i failed"
	/usr/sbin/amlguard --version | grep -q "^amlguard [0-9]" || die "the installed binary does not run"
	systemd-analyze verify /lib/systemd/system/amlguard.service || die "systemd-analyze verify failed"
	logrotate -d /etc/logrotate.d/amlguard >"$WORK/logrotate.txt" 2>&1 || die "logrotate rejects the snippet"
	promtool check rules /usr/share/amlguard/prometheus/amlguard.rules.yml >/dev/null ||
		die "promtool rejects the installed rules"
	MANWIDTH=80 man -l /usr/share/man/man8/amlguard.8.gz 2>/dev/null | grep -q "amlguard run" || die "man page"
	bash -c '. /usr/share/bash-completion/completions/amlguard
		COMP_WORDS=(amlguard ru); COMP_CWORD=1; _amlguard; [ "${COMPREPLY[*]}" = run ]' || die "completion"
	dpkg --purge amlguard >/dev/null || die "dpkg --purge failed"
	[ ! -e /usr/sbin/amlguard ] && [ ! -e /lib/systemd/system/amlguard.service ] || die "files left after the purge"
}

# The man page, the bash completion and the --help texts name the same commands and options.
test_docs_consistent() {
	local top=$TESTDIR/../.. cmd opt
	for cmd in $("$AMLGUARD" --help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }'); do
		grep -q "^### $cmd\$" "$top/docs/amlguard.8.md" || die "amlguard.8.md has no section for '$cmd'"
		grep -q "\b$cmd\b" "$top/user/dist/amlguard.bash-completion" || die "the completion lacks '$cmd'"
		"$AMLGUARD" "$cmd" --help >/dev/null || die "'$cmd --help' failed"
	done
	for opt in $("$AMLGUARD" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$opt" "$top/docs/amlguard.8.md" || die "amlguard.8.md does not document run $opt"
		grep -q -- "$opt" "$top/user/dist/amlguard.bash-completion" || die "the completion lacks run $opt"
		case $opt in
		--config | --interface | --policy | --mode | --role | --var | --tags | --ct-size | --help) ;;
		*) grep -q "^#*${opt#--} = " "$top/user/dist/amlguard.conf" || die "amlguard.conf does not show ${opt#--}" ;;
		esac
	done
	python3 "$top/scripts/md2man" amlguard 8 x <"$top/docs/amlguard.8.md" >"$WORK/a.8"
	python3 "$top/scripts/md2man" amlguard.policy 5 x <"$top/docs/policy.md" >"$WORK/p.5"
	for f in "$WORK/a.8" "$WORK/p.5"; do
		man --warnings -l "$f" 2>"$WORK/warn" >/dev/null
		[ ! -s "$WORK/warn" ] || { cat "$WORK/warn"; die "$f: groff warnings"; }
	done
}

run_tests "$@"
