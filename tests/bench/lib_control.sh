# SPDX-License-Identifier: GPL-2.0-only
# Section 3: the control plane.  Compile time and peak memory of each policy (the shipped ones,
# the benchmark's compute policy on the real tag file, the synthetic 10 k and 100 k sets), with
# the CLI and, when the CLI cannot resolve service tags yet, with the benchmark's jansson
# resolver; reload time on an attached veth and the gap during reloads, measured by a
# fixed-rate UDP stream to an allowed port; kernel memory of the maps; the latency of the
# commands that load the datapath (explain, check of a small capture) against compile's, same
# policy, in interleaved rounds.
# Section 4: "amlguard check" against tcpdump on a large generated capture, one and two threads.

# time -v of a command: "status wall_ms maxrss_kb", the command's stdout in $2.
timed() {
	local log=$1 out=$2 rc=0
	shift 2
	/usr/bin/time -v -o "$log" "$@" >"$out" 2>"$out.err" || rc=$?
	awk -v rc=$rc '
		/Elapsed \(wall clock\)/ { n = split($NF, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; ms = s * 1000 }
		/Maximum resident set size/ { rss = $NF }
		END { printf "%s %d %d\n", rc == 0 ? "ok" : "failed", ms, rss }' "$log"
}

ctl_compile() {
	local p=$1 name=$2 i res st ms rss extra msg
	for tool in cli helper; do
		local runs_ms=() runs_rss=()
		st=ok extra=
		for i in $(seq "$CTL_RUNS"); do
			if [ $tool = cli ]; then
				res=$(timed "$WORK/time.log" "$WORK/out" "$AMLGUARD" compile -p "$p" --tags "$TAGS")
				# a policy that needs a region: the one the benchmark uses throughout
				if [ "${res%% *}" != ok ] && grep -q "undefined variable 'region'" "$WORK/out.err"; then
					res=$(timed "$WORK/time.log" "$WORK/out" "$AMLGUARD" compile -p "$p" \
						--tags "$TAGS" --var region=$REGION)
				fi
			else
				res=$(timed "$WORK/time.log" "$WORK/out" "$BENCH" compile -p "$p" -t "$TAGS" \
					-v region=$REGION)
				extra=$(tr ' ' ';' <"$WORK/out")
			fi
			set -- $res
			st=$1
			[ "$st" = ok ] || break
			runs_ms+=("$2")
			runs_rss+=("$3")
		done
		if [ "$st" != ok ]; then
			msg=$(grep -m1 -E 'error' "$WORK/out.err" | tr ',' ';' | cut -c1-120)
			echo "compile,$name,$tool,failed,,,${msg:-exit status non-zero}" >>"$CTL_CSV"
			continue
		fi
		ms=$(printf '%s\n' "${runs_ms[@]}" | median)
		rss=$(printf '%s\n' "${runs_rss[@]}" | median)
		echo "compile,$name,$tool,ok,$ms,$rss,$extra" >>"$CTL_CSV"
	done
}

# UDP datagrams dropped for a full socket receive buffer in a namespace (RcvbufErrors).
udp_rcvbuf_errors() {
	in_ns "$1" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp
}

ctl_reload() {
	local k=r h r hif i t0 t1 sp sent lost rb0 rb1
	make_pair "$k" >/dev/null
	h=$(pair_host "$k")
	r=$(pair_remote "$k")
	hif=$(pair_hif "$k")
	# v2: the same set and one more rule, so that every reload installs a different policy
	cp "$GEN/live.policy" "$WORK/v1.policy"
	{
		cat "$GEN/live.policy"
		echo "allow out tcp port 443 to 198.51.100.0/24 flow BENCH-EXTRA"
	} >"$WORK/v2.policy"
	in_ns "$h" "$AMLGUARD" -q attach -i "$hif" -p "$WORK/v1.policy" --mode enforce >/dev/null
	in_ns "$h" "$BENCH" live mapmem "/sys/fs/bpf/amlguard/$hif" |
		while read -r m b; do echo "mapmem,$m,$b" >>"$CTL_CSV"; done
	# A stream to an allowed port, through every reload: nothing may be lost or misjudged.  A
	# datagram amlguard passes can still be lost above it, when the receiver's socket buffer
	# is full: the host namespace's UDP RcvbufErrors say how many.
	rb0=$(udp_rcvbuf_errors "$h")
	in_ns "$h" timeout $((CTL_RELOADS * 3 + 30)) iperf3 -s -1 -B 192.0.2.10 -p 5202 -J \
		>"$WORK/gap-srv.json" 2>/dev/null &
	sp=$!
	wait_port "$h" 5202
	in_ns "$r" timeout $((CTL_RELOADS * 3 + 30)) iperf3 -c 192.0.2.10 -p 5202 -u -b 5M -l 64 \
		-t $((CTL_RELOADS / 2 + 4)) -J >"$WORK/gap-cli.json" 2>/dev/null &
	local cp=$!
	sleep 1
	for i in $(seq "$CTL_RELOADS"); do
		t0=$(date +%s%N)
		in_ns "$h" "$AMLGUARD" -q reload -i "$hif" -p "$WORK/v$((i % 2 + 1)).policy" >/dev/null
		t1=$(date +%s%N)
		echo "reload,$i,$(((t1 - t0) / 1000))" >>"$CTL_CSV"
		sleep 0.3
	done
	wait "$cp" || true
	wait "$sp" || true
	sent=$(jfield "$WORK/gap-cli.json" "d['end']['sum']['packets']" 2>/dev/null || echo 0)
	lost=$(jfield "$WORK/gap-srv.json" "d['end']['sum']['lost_packets']" 2>/dev/null || echo -1)
	in_ns "$h" "$AMLGUARD" -j status -i "$hif" >"$WORK/status.json"
	rb1=$(udp_rcvbuf_errors "$h")
	# gap,reloads,sent,lost,violations,dropped,allowed in,receive-buffer overflows
	python3 - "$WORK/status.json" "$sent" "$lost" "$CTL_RELOADS" "$((rb1 - rb0))" >>"$CTL_CSV" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))[0]
c = s["counters"]
viol = c["in"]["violation_packets"] + c["out"]["violation_packets"]
drop = c["in"]["dropped"] + c["out"]["dropped"]
print(f"gap,{sys.argv[4]},{sys.argv[2]},{sys.argv[3]},{viol},{drop},{c['in']['allowed_packets']},"
      f"{sys.argv[5]}")
PY
	# peak memory of one reload
	res=$(timed "$WORK/time.log" "$WORK/out" nsenter --net=/run/netns/"$h" "$AMLGUARD" -q reload \
		-i "$hif" -p "$WORK/v1.policy")
	echo "reload_rss,${res// /,}" >>"$CTL_CSV"
}

# Latency of the CLI: compile, one explain, explain --file of CLI_TUPLES packets, and check of a
# 100-packet capture, each with the same policy, in CTL_RUNS interleaved rounds: the 10 k-prefix
# check policy, and the benchmark's compute policy on the real tag file.
# Rows: cli,WHAT,POLICY,ROUND,WALL_MS.
CLI_TUPLES=1000
ctl_cli_run() {
	local what=$1 label=$2 round=$3 t0 t1 rc=0
	shift 3
	t0=$(date +%s%N)
	case $what in
	compile) "$AMLGUARD" compile "$@" >/dev/null 2>&1 || rc=$? ;;
	explain) "$AMLGUARD" explain "$@" out tcp 192.0.2.10:40000 198.51.100.20:443 >/dev/null 2>&1 || rc=$? ;;
	explain-file) "$AMLGUARD" explain "$@" --file "$WORK/tuples.txt" >/dev/null 2>&1 || rc=$? ;;
	check-small)
		"$AMLGUARD" check "$@" --no-progress --local 192.0.2.10/32,2001:db8:ffff::10/128 \
			"$WORK/small.pcap" >/dev/null 2>&1 || rc=$?
		;;
	esac
	t1=$(date +%s%N)
	# 1 is "a violation was found": these inputs have some
	if [ $rc -gt 1 ]; then
		note "cli: $what with $label failed (exit $rc)"
		return 0
	fi
	echo "cli,$what,$label,$round,$(((t1 - t0) / 1000000))" >>"$CTL_CSV"
}

ctl_cli() {
	local i what
	chk_policy
	"$BENCH" pcap -o "$WORK/small.pcap" -n 100 -f 20 >/dev/null
	python3 - "$CLI_TUPLES" >"$WORK/tuples.txt" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"out tcp 192.0.2.10:{40000 + i} 198.51.100.{20 + i % 40}:{443 if i % 3 else 8443}")
PY
	for i in $(seq "$CTL_RUNS"); do
		for what in compile explain explain-file check-small; do
			ctl_cli_run $what "10 k prefixes" "$i" -p "$WORK/check10k.policy"
			[ -e "$TAGS" ] || continue
			ctl_cli_run $what compute-eastus2.policy "$i" -p tests/bench/compute-eastus2.policy \
				--tags "$TAGS"
		done
	done
}

section_control() {
	local p
	CTL_CSV=$DATA/control.csv
	echo "kind,a,b,c,d,e,f,g" >"$CTL_CSV"
	GEN=$WORK/gen
	mkdir -p "$GEN" "$WORK/gen100k"
	"$BENCH" gen --dir "$GEN" -n 10000 --include 192.0.2.1/32 --port 5201-5202
	"$BENCH" gen --dir "$WORK/gen100k" -n 100000 --include 192.0.2.1/32
	for p in "${policies[@]}"; do
		ctl_compile "$p" "$p"
	done
	ctl_compile tests/bench/compute-eastus2.policy tests/bench/compute-eastus2.policy
	ctl_compile "$GEN/live.policy" "synthetic 10 k prefixes"
	ctl_compile "$WORK/gen100k/live.policy" "synthetic 100 k prefixes"
	ctl_cli
	ctl_reload
}

# The 10 k-prefix policy "check" is measured with: the demo policy (whose addresses the
# captures use) and 10 000 generated prefixes on a rule of their own.
chk_policy() {
	mkdir -p "$WORK/chkgen"
	"$BENCH" gen --dir "$WORK/chkgen" -n 10000 >/dev/null
	{
		cat policies/demo/staging.policy
		sed -n '/^set big/,/^}/p' "$WORK/chkgen/live.policy"
		echo "allow out tcp port 8443 to @big flow BIG"
	} >"$WORK/check10k.policy"
}

section_check() {
	local res pk shape file threads tool
	CHK_CSV=$DATA/check.csv
	echo "tool,capture,status,packets,wall_ms,maxrss_kb" >"$CHK_CSV"
	pk=$PCAP_PACKETS
	chk_policy
	for shape in flows per-packet; do
		file=$WORK/$shape.pcap
		if [ "$shape" = flows ]; then
			"$BENCH" pcap -o "$file" -n "$pk" -f 256
		else
			"$BENCH" pcap -o "$file" -n "$pk"
		fi
		res=$(timed "$WORK/time.log" "$WORK/out" tcpdump -r "$file" -w /dev/null)
		echo "tcpdump -r,$shape,$(echo "$res" | awk -v n="$pk" '{ print $1 "," n "," $2 "," $3 }')" >>"$CHK_CSV"
		# exit status 1 means "violations found", which these captures have
		for threads in 1 2; do
			res=$(timed "$WORK/time.log" "$WORK/out" "$AMLGUARD" check -p "$WORK/check10k.policy" \
				--local 192.0.2.10/32,2001:db8:ffff::10/128 --no-progress --threads $threads "$file")
			if [ "${res%% *}" != ok ] && grep -q "Exit status: 1" "$WORK/time.log"; then
				res="ok ${res#* }"
			fi
			tool="amlguard check"
			[ $threads = 1 ] || tool="amlguard check --threads $threads"
			echo "$tool,$shape,$(echo "$res" | awk -v n="$pk" '{ print $1 "," n "," $2 "," $3 }')" >>"$CHK_CSV"
			[ "${res%% *}" = ok ] || note "check: $(head -c 300 "$WORK/out.err")"
		done
		rm -f "$file"
	done
}
