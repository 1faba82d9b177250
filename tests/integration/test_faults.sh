#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Faults under load: a full connection-tracking table, a full ring buffer, the pinned state
# removed under the daemon, the interface deleted and created again under it, a storm of
# reloads under an iperf3 stream, a policy file caught half-written; and the security of the
# files amlguard leaves: modes, setuid, a user without the capabilities.  Every test is bounded
# in time, and says what it measured.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

TOOLS=$TESTDIR/tools
DAEMON_PID=

# ---- helpers ----------------------------------------------------------------------------------

# A value out of a JSON document: js FILE 'python expression on j'.
js() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

status() {
	amlg -j status -i "$IF_HOST" >"$WORK/status.json"
}

# The tests of this file share $WORK: each starts with the daemon's logs empty.
fresh_notify_socket() {
	: >"$WORK/daemon.err"
	: >"$WORK/daemon.out"
	notify_socket 150
}

generation() {
	status
	js "$WORK/status.json" 'j[0]["policy"]["generation"]'
}

# Is a line matching the pattern in the daemon's log?
said() {
	grep -q -- "$1" "$WORK/daemon.err"
}

# Wait until the daemon logs a line matching pat: at most secs, and never less than 60 s, since
# what the daemon does first may load the datapath (seconds of verifier time on a busy machine).
wait_log() {
	local pat=$1 secs=${2:-5}
	[ "$secs" -ge 60 ] || secs=60
	wait_for "$secs" "the daemon never said '$pat'" said "$pat" && return 0
	cat "$WORK/daemon.err" >&2
	return 1
}

# Sequence numbers received: "count contiguous".
seq_summary() {
	python3 - "$1" <<'PY'
import sys
s = [int(x) for x in open(sys.argv[1]) if x.strip()]
print(len(s), int(sorted(s) == list(range(len(s)))))
PY
}

# iperf3's JSON: "bytes intervals stalled error" (stalled: intervals that moved nothing; an
# interruption by SIGINT, and the short interval it cuts, are no error).
iperf_summary() {
	python3 - "$1" <<'PY'
import json, sys
# the first document: an interrupted client may write more after it
j = json.JSONDecoder().raw_decode(open(sys.argv[1]).read().lstrip())[0]
iv = [i["sum"] for i in j.get("intervals", [])]
stalled = sum(1 for i in iv if i["bytes"] == 0 and i["seconds"] > 0.5)
err = j.get("error", "")
end = j.get("end", {})
done = max(end.get(k, {}).get("bytes", 0) for k in ("sum_sent", "sum_received", "sum"))
print(done, len(iv), stalled, 0 if not err or err.startswith("interrupt") else 1)
PY
}

map_fds() {
	find /proc/"$1"/fd -lname 'anon_inode:bpf-map' 2>/dev/null | wc -l
}

# Maps of amlguard's datapath that a process and the interface's attached programs keep alive:
# the maps of its fds and of the programs (its own and those attached to IF_HOST), and the
# policy slots' inner maps held by those.  What a reload leak would grow; counted from this
# daemon only, so that other tests loading their own programs meanwhile do not change it.
amlg_maps() {
	local progs
	progs=$(in_ns "$NS_HOST" bpftool -j net show dev "$IF_HOST" |
		python3 -c 'import json, sys; print(" ".join(str(p["id"]) for n in json.load(sys.stdin) for k in ("tc", "xdp") for p in n.get(k, []) if "id" in p))')
	python3 - "$1" $progs <<'PY'
import glob, json, subprocess, sys

def bpftool(*args):
    return json.loads(subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True).stdout)

pid, prog_ids = sys.argv[1], set(int(p) for p in sys.argv[2:])
todo = set()
for info in glob.glob(f"/proc/{pid}/fdinfo/*"):
    try:
        fields = dict(l.split(":", 1) for l in open(info) if ":" in l)
    except OSError:
        continue
    if "map_id" in fields:
        todo.add(int(fields["map_id"]))
    if "prog_id" in fields:
        prog_ids.add(int(fields["prog_id"]))
for p in prog_ids:
    todo.update(bpftool("prog", "show", "id", str(p)).get("map_ids", []))
seen = set()
while todo:
    m = todo.pop()
    if m in seen:
        continue
    seen.add(m)
    info = bpftool("map", "show", "id", str(m))
    if info.get("type") in ("array_of_maps", "hash_of_maps"):
        for e in bpftool("map", "dump", "id", str(m)):
            v = e.get("value")
            if isinstance(v, list) and len(v) == 4:
                todo.add(int.from_bytes(bytes(int(b, 16) for b in v), "little"))
print(len(seen))
PY
}

# ---- faults -----------------------------------------------------------------------------------

# A 1024-entry table churned by thousands of new flows: new flows are still judged right (all
# the allowed datagrams arrive, none of the forbidden), a bulk iperf3 stream goes on, and so
# does a long-lived connection that is idle between the lines its server sends: its entry is
# evicted, and the server's next line finds the flow again by mid-stream pickup.
test_conntrack_full() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out tcp port 5201 to 198.51.100.7 flow F-IPERF
allow out tcp port 7002 to 198.51.100.7 flow F-TICKER
allow out udp port 6000 to 198.51.100.7 flow F-UDP
allow out tcp port 7000 to 198.51.100.7 flow F-SYN
EOF
	amlg attach -i "$IF_HOST" -p "$WORK/p.policy" --ct-size 1024 >/dev/null
	attached "$NS_HOST" "$IF_HOST"
	local ip tk sent_ok sent_bad n contig ticks tcontig bytes iv stalled err
	bg in_ns "$NS_REMOTE" iperf3 -s -1 -B 198.51.100.7 -p 5201 >/dev/null 2>&1
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/tcp_ticker.py" server 198.51.100.7 7002 10 1
	wait_listen "$NS_REMOTE" 5201
	wait_listen "$NS_REMOTE" 7002
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 6000 "$WORK/ok.seq" 12
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 6001 "$WORK/bad.seq" 12
	bg in_ns "$NS_HOST" python3 "$TOOLS/tcp_ticker.py" client 198.51.100.7 7002 "$WORK/ticks" 12
	tk=${PIDS[-1]}
	wait_listen "$NS_REMOTE" 6000
	wait_listen "$NS_REMOTE" 6001
	bg in_ns "$NS_HOST" iperf3 -c 198.51.100.7 -p 5201 -t 10 -b 40M -J --logfile "$WORK/ct-iperf.json"
	ip=${PIDS[-1]}
	sleep 0.7
	# 3000 allowed flows (a source port each), 1500 forbidden, 3000 SYNs: 7 times the table
	sent_ok=$(in_ns "$NS_HOST" python3 "$TOOLS/udp_flows.py" 198.51.100.7 6000 3000 0.0015 sports)
	sent_bad=$(in_ns "$NS_HOST" python3 "$TOOLS/udp_flows.py" 198.51.100.7 6001 1500 0.0005 sports)
	in_ns "$NS_HOST" python3 "$TOOLS/tcp_syns.py" 198.51.100.7 7000 3000 0.0005
	wait "$ip" || die "iperf3 failed"
	wait "$tk"
	status
	read -r n contig <<<"$(seq_summary "$WORK/ok.seq")"
	read -r ticks tcontig <<<"$(seq_summary "$WORK/ticks")"
	read -r bytes iv stalled err <<<"$(iperf_summary "$WORK/ct-iperf.json")"
	echo "  conntrack: $(js "$WORK/status.json" 'j[0]["conntrack"]'); evicted or expired: $(js "$WORK/status.json" 'j[0]["conntrack"]["created"] - j[0]["conntrack"]["entries"]')"
	echo "  matches: $(js "$WORK/status.json" 'j[0]["counters"]["matches"]')"
	echo "  allowed new flows: $n of $sent_ok datagrams received; forbidden: $(wc -l <"$WORK/bad.seq") of $sent_bad"
	echo "  iperf3: $bytes bytes in $iv intervals, $stalled stalled, error $err"
	echo "  idle connection: $ticks of 10 lines (contiguous=$tcontig)"
	[ "$(js "$WORK/status.json" 'j[0]["conntrack"]["capacity"]')" -eq 1024 ] || die "not a 1024-entry table"
	[ "$(js "$WORK/status.json" 'j[0]["conntrack"]["created"]')" -gt 4096 ] || die "the table was not churned"
	[ "$(js "$WORK/status.json" 'j[0]["conntrack"]["entries"]')" -le 1024 ] || die "more entries than capacity"
	[ "$n" -eq "$sent_ok" ] || die "allowed new flows lost: $n of $sent_ok"
	[ "$(wc -l <"$WORK/bad.seq")" -eq 0 ] || die "forbidden flows passed"
	[ "$(js "$WORK/status.json" 'j[0]["counters"]["out"]["violation_packets"]')" -eq "$sent_bad" ] ||
		die "violations counted $(js "$WORK/status.json" 'j[0]["counters"]["out"]["violation_packets"]') of $sent_bad"
	[ "$err" -eq 0 ] && [ "$stalled" -eq 0 ] && [ "$bytes" -gt 0 ] || die "the bulk stream broke"
	[ "$ticks" -eq 10 ] && [ "$tcontig" -eq 1 ] || die "the idle connection broke ($ticks lines)"
	[ "$(js "$WORK/status.json" 'j[0]["counters"]["matches"]["pickup"]')" -gt 0 ] ||
		die "no mid-stream pickup: the idle connection's entry was never evicted"
}

# A flood of violating flows with nobody reading the events: the ring buffer fills, the losses
# are counted (every violation is sent, rate-limited, lost to the full buffer or suppressed),
# and verdicts do not change: the allowed stream arrives whole, nothing forbidden passes.
test_ringbuf_full() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow F-OK
EOF
	amlg attach -i "$IF_HOST" -p "$WORK/p.policy" >/dev/null
	attached "$NS_HOST" "$IF_HOST"
	local tcpd s1 flood n contig leaked viol sent rl full sup logged
	nsenter --net=/run/netns/"$NS_REMOTE" tcpdump -i "$IF_REMOTE" -n -U -w "$WORK/flood.pcap" \
		'udp and dst portrange 10000-65535' 2>/dev/null &
	tcpd=$!
	PIDS+=("$tcpd")
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5001 "$WORK/ok.seq" 8
	wait_listen "$NS_REMOTE" 5001
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5001 2000 0.0025
	s1=${PIDS[-1]}
	# 20000 flows in 4 s: past the token bucket (a burst of 2000, then 1000/s per CPU) and
	# past the ring buffer's 1 MiB (some 3000 events)
	flood=$(in_ns "$NS_HOST" python3 "$TOOLS/udp_flows.py" 198.51.100.7 10000 20000 0.0002 ports)
	wait "$s1"
	sleep 2
	kill -TERM "$tcpd"
	wait "$tcpd" 2>/dev/null || true
	status
	read -r n contig <<<"$(seq_summary "$WORK/ok.seq")"
	leaked=$(tcpdump -r "$WORK/flood.pcap" -n 2>/dev/null | wc -l)
	viol=$(js "$WORK/status.json" 'j[0]["counters"]["out"]["violation_packets"]')
	sent=$(js "$WORK/status.json" 'j[0]["counters"]["events"]["sent"]')
	rl=$(js "$WORK/status.json" 'j[0]["counters"]["events"]["rate_limited"]')
	full=$(js "$WORK/status.json" 'j[0]["counters"]["events"]["ringbuf_full"]')
	sup=$(js "$WORK/status.json" 'j[0]["counters"]["events"]["suppressed"]')
	# the events that were sent are all still there for the first reader
	logged=$(amlg log -i "$IF_HOST" | wc -l)
	echo "  flood: $flood violating flows; counted $viol violations: events sent $sent, rate-limited $rl, ring buffer full $full, suppressed $sup; read back $logged"
	echo "  allowed stream: $n of 2000 received (contiguous=$contig); forbidden at the receiver: $leaked"
	[ "$viol" -eq "$flood" ] || die "violations counted $viol of $flood"
	[ "$full" -gt 0 ] && [ "$rl" -gt 0 ] || die "the ring buffer or the rate limit never overflowed"
	[ $((sent + rl + full + sup)) -eq "$viol" ] || die "events do not add up: $sent+$rl+$full+$sup != $viol"
	[ "$logged" -eq "$sent" ] || die "$logged events read of $sent sent"
	[ "$n" -eq 2000 ] && [ "$contig" -eq 1 ] || die "the allowed stream lost packets ($n)"
	[ "$leaked" -eq 0 ] || die "$leaked forbidden packets passed"
}

# rm -rf of the interface's pinned state under the running daemon: enforcement goes on, the
# daemon says so and pins the maps again (status, log and the next start find them), a reload
# still works.
test_pins_removed() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow F-OK
EOF
	fresh_notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy"
	wait_ready 1
	local g s1 s2 n contig mode
	g=$(generation)
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5001 "$WORK/ok.seq" 5
	bg in_ns "$NS_REMOTE" python3 "$TOOLS/udp_recv.py" 198.51.100.7 5000 "$WORK/bad.seq" 5
	wait_listen "$NS_REMOTE" 5001
	wait_listen "$NS_REMOTE" 5000
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5001 1500 0.002
	s1=${PIDS[-1]}
	bg in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5000 1500 0.002
	s2=${PIDS[-1]}
	sleep 0.5
	rm -rf /sys/fs/bpf/amlguard/"$IF_HOST"
	if amlg status -i "$IF_HOST" >/dev/null 2>&1; then die "status still works without pins?"; fi
	wait_log "$IF_HOST: 15 pinned maps under /sys/fs/bpf/amlguard were removed: pinned them again" 3
	wait "$s1"
	wait "$s2"
	sleep 0.3
	read -r n contig <<<"$(seq_summary "$WORK/ok.seq")"
	echo "  pins removed under a stream: allowed $n of 1500 received (contiguous=$contig), forbidden $(wc -l <"$WORK/bad.seq") of 1500"
	grep "pinned them again" "$WORK/daemon.err" | sed 's/^/  daemon: /'
	[ "$n" -eq 1500 ] && [ "$contig" -eq 1 ] || die "the allowed stream lost packets ($n)"
	[ "$(wc -l <"$WORK/bad.seq")" -eq 0 ] || die "forbidden packets passed"
	[ "$(generation)" -eq "$g" ] || die "the policy changed"
	for p in /sys/fs/bpf/amlguard/"$IF_HOST"/*; do
		mode=$(stat -c %a "$p")
		[ "$mode" = 600 ] || die "$p pinned again with mode $mode"
	done
	hup_and_wait 2
	[ "$(generation)" -eq $((g + 1)) ] || die "a reload after the re-pin did not install"
	kill -0 "$DAEMON_PID" || die "the daemon died"
	stop_daemon
}

# The interface deleted under the daemon, then created again: the daemon says it is not
# protected, attaches afresh when it is back, and enforces from then on.
test_iface_recreated() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out tcp port 443 to 198.51.100.7 flow F-OK
EOF
	tcp_echo_server "$NS_REMOTE" 198.51.100.7 443
	tcp_echo_server "$NS_REMOTE" 203.0.113.9 443
	wait_listen "$NS_REMOTE" 443
	fresh_notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy"
	wait_ready 1
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "allowed traffic blocked"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "forbidden traffic passed"; fi
	local t0 t1
	in_ns "$NS_HOST" ip link del "$IF_HOST"
	wait_log "$IF_HOST: amlguard's tc filters are gone with the interface: the interface is not protected" 3
	# the same names and addresses, as a re-created interface gets them
	ip link add "$IF_HOST" netns "$NS_HOST" type veth peer name "$IF_REMOTE" netns "$NS_REMOTE"
	in_ns "$NS_REMOTE" ip link set "$IF_REMOTE" up
	in_ns "$NS_REMOTE" ip addr add 192.0.2.1/24 dev "$IF_REMOTE"
	in_ns "$NS_HOST" ip addr add $H4/24 dev "$IF_HOST"
	in_ns "$NS_HOST" ip link set "$IF_HOST" up
	t0=$(date +%s.%N)
	in_ns "$NS_HOST" ip route add 198.51.100.0/24 via 192.0.2.1
	in_ns "$NS_HOST" ip route add 203.0.113.0/24 via 192.0.2.1
	wait_log "$IF_HOST: the interface is back: attached afresh" 4
	t1=$(date +%s.%N)
	grep "$IF_HOST: the interface is back" "$WORK/daemon.err" | sed 's/^/  daemon: /'
	echo "  interface up to filters back: at most $(python3 -c "print(round($t1 - $t0, 2))") s"
	in_ns "$NS_HOST" tc filter show dev "$IF_HOST" egress | grep -q amlg_egress || die "no filter"
	tcp_roundtrip "$NS_HOST" 198.51.100.7 443 || die "allowed traffic blocked after the re-attach"
	if tcp_roundtrip "$NS_HOST" 203.0.113.9 443; then die "forbidden traffic passed after the re-attach"; fi
	status
	[ "$(js "$WORK/status.json" 'j[0]["attached"]')" = True ] || die "status: not attached"
	[ "$(js "$WORK/status.json" 'j[0]["counters"]["out"]["dropped"]')" -ge 1 ] || die "no drop counted"
	hup_and_wait 2
	kill -0 "$DAEMON_PID" || die "the daemon died"
	stop_daemon
}

# 100 reloads (two policies in turn, both allowing the stream) while iperf3 runs: not one
# packet judged a violation, the stream never stalls, the daemon's memory and the kernel's
# maps stay where they were.
test_reload_storm() {
	setup_direct
	write_policy a <<'EOF'
mode enforce
allow out tcp port 5201 to 198.51.100.7 flow F-IPERF
allow out udp port 53 to 198.51.100.53 flow F-DNS
EOF
	write_policy b <<'EOF'
mode enforce
allow out tcp port 5201 to 198.51.100.0/24 flow F-IPERF
allow out tcp port 443 to 203.0.113.0/24 flow F-WEB
EOF
	cp "$WORK/a.policy" "$WORK/live.policy"
	fresh_notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/live.policy"
	wait_ready 1
	local ip g0 rss0 rss1 fds0 fds1 maps0 maps1 t0 t1 i bytes iv stalled err viol
	bg in_ns "$NS_REMOTE" iperf3 -s -1 -B 198.51.100.7 -p 5201 >/dev/null 2>&1
	wait_listen "$NS_REMOTE" 5201
	# long enough for any machine; interrupted when the storm is over (nsenter execs it)
	nsenter --net=/run/netns/"$NS_HOST" iperf3 -c 198.51.100.7 -p 5201 -t 120 -b 200M -J \
		--logfile "$WORK/storm-iperf.json" &
	ip=$!
	PIDS+=("$ip")
	sleep 1
	# one reload first: what a reload allocates for good is allocated before measuring
	hup_and_wait 2
	g0=$(generation)
	rss0=$(ps -o rss= -p "$DAEMON_PID")
	fds0=$(map_fds "$DAEMON_PID")
	maps0=$(amlg_maps "$DAEMON_PID")
	t0=$(date +%s.%N)
	for i in $(seq 100); do
		if [ $((i % 2)) -eq 1 ]; then src=b; else src=a; fi
		cp "$WORK/$src.policy" "$WORK/next.policy"
		mv "$WORK/next.policy" "$WORK/live.policy"
		hup_and_wait $((i + 2))
	done
	t1=$(date +%s.%N)
	sleep 1
	kill -0 "$ip" 2>/dev/null || die "iperf3 ended during the storm"
	kill -INT "$ip"
	wait "$ip" || true
	rss1=$(ps -o rss= -p "$DAEMON_PID")
	fds1=$(map_fds "$DAEMON_PID")
	for i in $(seq 30); do
		maps1=$(amlg_maps "$DAEMON_PID")
		[ "$maps1" -le "$maps0" ] && break
		sleep 0.1 # inner maps are freed after an RCU grace period
	done
	read -r bytes iv stalled err <<<"$(iperf_summary "$WORK/storm-iperf.json")"
	status
	viol=$(js "$WORK/status.json" 'sum(j[0]["counters"][d]["violation_packets"] for d in ("out", "in"))')
	echo "  100 reloads in $(python3 -c "print(round($t1 - $t0, 2))") s under iperf3: $bytes bytes in $iv intervals, $stalled stalled, error $err"
	echo "  generation $g0 -> $(generation); violations $viol; allowed packets out $(js "$WORK/status.json" 'j[0]["counters"]["out"]["allowed_packets"]'), in $(js "$WORK/status.json" 'j[0]["counters"]["in"]["allowed_packets"]')"
	echo "  daemon RSS $rss0 -> $rss1 KiB; its map fds $fds0 -> $fds1; maps it keeps alive $maps0 -> $maps1"
	[ "$(generation)" -eq $((g0 + 100)) ] || die "not 100 installs"
	[ "$viol" -eq 0 ] || die "$viol packets judged violations during the storm"
	[ "$err" -eq 0 ] && [ "$stalled" -eq 0 ] && [ "$bytes" -gt 0 ] || die "the stream broke"
	[ "$fds1" -eq "$fds0" ] || die "map fds leaked: $fds0 -> $fds1"
	[ "$maps1" -le "$maps0" ] || die "maps leaked: $maps0 -> $maps1"
	[ $((rss1 - rss0)) -lt 2048 ] || die "the daemon grew by $((rss1 - rss0)) KiB"
	stop_daemon
}

# A policy caught half-written: the reload fails with a clear error and the running policy
# stays; one renamed into place whole is taken.  A file truncated to nothing (the moment a
# rewrite in place starts) is refused too: it would allow nothing.
test_policy_mid_write() {
	setup_direct
	write_policy v1 <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow F-A
EOF
	write_policy v2 <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow F-A
allow out udp port 5000 to 198.51.100.7 flow F-B
EOF
	cp "$WORK/v1.policy" "$WORK/live.policy"
	fresh_notify_socket
	start_daemon -i "$IF_HOST" -p "$WORK/live.policy"
	wait_ready 1
	local g half
	g=$(generation)
	udp_echo_server "$NS_REMOTE" 198.51.100.7 5000
	udp_echo_server "$NS_REMOTE" 198.51.100.7 5001
	wait_listen "$NS_REMOTE" 5000
	# the first rule and half of the second
	half=$(($(wc -c <"$WORK/v2.policy") - 20))
	head -c "$half" "$WORK/v2.policy" >"$WORK/live.policy"
	hup_and_wait 2
	grep -q "live.policy:3:" "$WORK/daemon.err" || die "no error with a location for the half file"
	grep -q "reload: nothing was changed; the running policies stay" "$WORK/daemon.err" || die "no reload error"
	[ "$(generation)" -eq "$g" ] || die "a half-written policy was installed"
	udp_roundtrip "$NS_HOST" 198.51.100.7 5001 || die "the running policy's flow broke"
	if udp_roundtrip "$NS_HOST" 198.51.100.7 5000; then die "the half policy's rule is in force"; fi
	: >"$WORK/live.policy"
	hup_and_wait 3
	grep -q "live.policy' is empty: not a policy" "$WORK/daemon.err" || die "an empty policy was not refused"
	[ "$(generation)" -eq "$g" ] || die "an empty policy was installed"
	udp_roundtrip "$NS_HOST" 198.51.100.7 5001 || die "the running policy's flow broke"
	cp "$WORK/v2.policy" "$WORK/live.policy.new"
	mv "$WORK/live.policy.new" "$WORK/live.policy"
	hup_and_wait 4
	[ "$(generation)" -eq $((g + 1)) ] || die "the whole policy was not installed"
	udp_roundtrip "$NS_HOST" 198.51.100.7 5000 || die "the new policy's rule is not in force"
	grep -E "error|nothing was changed" "$WORK/daemon.err" | sed 's/^/  daemon: /'
	stop_daemon
}

# ---- security ---------------------------------------------------------------------------------

# What amlguard leaves on disk is root's: pins and their directories, the lock, the log, the
# capture and the metrics textfile (readable by node_exporter, writable by nobody else) -- even
# when the daemon starts under umask 000.
test_file_modes() {
	setup_direct
	write_policy p <<'EOF'
mode enforce
allow out udp port 5001 to 198.51.100.7 flow F-OK
EOF
	mkdir -p "$WORK/prom"
	chmod 1777 "$WORK/prom"
	fresh_notify_socket
	# each test runs in its own subshell: the umask goes with it
	umask 000
	start_daemon -i "$IF_HOST" -p "$WORK/p.policy" --log-file "$WORK/v.json" \
		--pcap "$WORK/v.pcap" --metrics-textfile "$WORK/prom/amlguard.prom" \
		--metrics-interval 1
	umask 022
	wait_ready 1
	in_ns "$NS_HOST" python3 "$TOOLS/udp_send.py" 198.51.100.7 5000 3 0.01
	local i f mode want bad=0
	for i in $(seq 30); do
		[ -s "$WORK/v.json" ] && [ -e "$WORK/prom/amlguard.prom" ] && break
		sleep 0.1
	done
	# the lock file lives as long as its holder
	mode=$(stat -c %a /run/amlguard/"$IF_HOST".lock)
	printf '  %-40s %s\n' "/run/amlguard/$IF_HOST.lock" "$mode"
	[ "$mode" = 600 ] || die "the lock file has mode $mode, expected 600"
	[ -z "$(find /run/amlguard/"$IF_HOST".lock -perm /077)" ] || die "the lock readable by others"
	stop_daemon
	[ ! -e /run/amlguard/"$IF_HOST".lock ] || die "the lock file stayed after the daemon stopped"
	while read -r f want; do
		mode=$(stat -c %a "$f")
		printf '  %-40s %s\n' "${f#"$WORK"/}" "$mode"
		if [ "$mode" != "$want" ]; then
			echo "  FAIL: $f has mode $mode, expected $want" >&2
			bad=1
		fi
	done <<EOF
/sys/fs/bpf/amlguard 700
/sys/fs/bpf/amlguard/$IF_HOST 700
/sys/fs/bpf/amlguard/$IF_HOST/amlg_cfg 600
/sys/fs/bpf/amlguard/$IF_HOST/amlg_events 600
/sys/fs/bpf/amlguard/$IF_HOST/amlg_ct 600
$WORK/v.json 640
$WORK/v.pcap 640
$WORK/prom/amlguard.prom 644
EOF
	[ "$bad" -eq 0 ] || die "a file with a mode that lets others in"
	# nothing under the pin root or the lock directory that another user may write or read
	[ -z "$(find /sys/fs/bpf/amlguard/"$IF_HOST" -perm /077)" ] ||
		die "pins readable or writable by others"
	[ -z "$(find "$WORK/prom" -name '*.tmp')" ] || die "a temporary textfile left behind"
}

# A setuid (or setgid) copy refuses to run for anyone; a user without the capabilities gets a
# clear error and exit status 2.
test_privileges() {
	local dir=$WORK/priv out rc cmd
	# nobody must reach the copies and the policy
	mkdir "$dir"
	chmod 755 "$WORK" "$dir"
	cp "$AMLGUARD" "$dir/amlguard"
	printf 'allow out udp port 53 to 198.51.100.53\n' >"$dir/p.policy"
	chmod 644 "$dir/p.policy"
	chmod 4755 "$dir/amlguard"
	set +e
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$dir/amlguard" status 2>&1)
	rc=$?
	set -e
	echo "  setuid root, run by nobody: exit $rc: $(echo "$out" | head -1)"
	[ $rc -eq 2 ] && echo "$out" | grep -q "refusing to run setuid" || die "setuid ran"
	chmod 2755 "$dir/amlguard"
	set +e
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$dir/amlguard" compile \
		-p "$dir/p.policy" 2>&1)
	rc=$?
	set -e
	echo "  setgid, run by nobody: exit $rc"
	[ $rc -eq 2 ] && echo "$out" | grep -q "refusing to run setuid, setgid" || die "setgid ran"
	for cmd in status "attach -i lo -p $dir/p.policy" "log -i lo" "detach -i lo" \
		"run -i lo -p $dir/p.policy"; do
		set +e
		# shellcheck disable=SC2086
		out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
			"$AMLGUARD" $cmd 2>&1)
		rc=$?
		set -e
		echo "  '${cmd%% *}' run by nobody: exit $rc: $(echo "$out" | head -1)"
		[ $rc -eq 2 ] || die "'$cmd' as nobody: exit $rc"
		echo "$out" | grep -q "needs CAP_BPF and CAP_NET_ADMIN" || die "'$cmd' as nobody: '$out'"
	done
	# what needs no kernel works for anyone
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$AMLGUARD" compile \
		-p "$dir/p.policy" >/dev/null || die "compile as nobody failed"
}

run_tests "$@"
