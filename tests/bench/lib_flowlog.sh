# SPDX-License-Identifier: GPL-2.0-only
# scripts/bench, section flowlog: "amlguard check" over generated Azure flow logs against jq
# reading the same files (every flow tuple printed), interleaved rounds, wall and CPU time.

# wall_ms cpu_ms maxrss_kb of a command (stdout to $2), "failed" first when it fails.
fl_timed() {
	local log=$1 out=$2 rc=0
	shift 2
	/usr/bin/time -f "%e %U %S %M" -o "$log" "$@" >"$out" 2>"$out.err" || rc=$?
	# exit 1 is "findings" for amlguard check
	[ $rc -le 1 ] || { echo "failed 0 0 0"; return; }
	# the last line: a failing command's status line comes first
	tail -1 "$log" | awk '{ printf "ok %d %d %d\n", $1 * 1000, ($2 + $3) * 1000, $4 }'
}

section_flowlog() {
	local tuples=$FL_TUPLES flows shape file f rnd res jqf bytes
	FL_CSV=$DATA/flowlog.csv
	echo "tool,file,status,tuples,bytes,wall_ms,cpu_ms,maxrss_kb" >"$FL_CSV"
	[ -e "$WORK/check10k.policy" ] || chk_policy
	command -v jq >/dev/null || { note "flowlog: jq is not installed (scripts/deps)"; return; }
	for shape in vnet.json vnet.json.gz nsg.json vnet-tree.gz; do
		file=$WORK/flowlog-$shape
		# long-lived flows: 20 tuples each (B, C every 5 minutes, E), as an hour of a busy NIC
		flows=$((tuples / 20))
		if [ $shape = vnet-tree.gz ]; then
			# an hour of four NICs, a blob each, as downloaded: the files are read in parallel
			for f in 1 2 3 4; do
				mkdir -p "$file/y=2026/m=12/d=03/h=08/m=00/macAddress=000D3A00000$f"
				python3 tests/tools/genflowlog.py --bench $((tuples / 4)) --flows $((flows / 4)) \
					--mac 000D3A00000$f --gzip \
					-o "$file/y=2026/m=12/d=03/h=08/m=00/macAddress=000D3A00000$f/PT1H.json.gz" >/dev/null
			done
		else
			python3 tests/tools/genflowlog.py --bench "$tuples" --flows "$flows" \
				--format "${shape%%.*}" $([ "${shape##*.}" = gz ] && echo --gzip) -o "$file" >/dev/null
		fi
		case $shape in
		vnet*) jqf='.records[].flowRecords.flows[].flowGroups[].flowTuples[]' ;;
		nsg.*) jqf='.records[].properties.flows[].flows[].flowTuples[]' ;;
		esac
		bytes=$(du -sb "$file" | awk '{ print $1 }')
		for rnd in $(seq "$FL_ROUNDS"); do
			res=$(fl_timed "$WORK/time.log" "$WORK/out" "$AMLGUARD" -j check \
				-p "$WORK/check10k.policy" --no-progress "$file")
			echo "amlguard check,$shape,$(echo "$res" | awk -v n="$tuples" -v b="$bytes" \
				'{ print $1 "," n "," b "," $2 "," $3 "," $4 }')" >>"$FL_CSV"
			[ "${res%% *}" = ok ] || note "flowlog: $(head -c 300 "$WORK/out.err")"
			if [ -d "$file" ]; then
				res=$(fl_timed "$WORK/time.log" "$WORK/out" sh -c \
					"find '$file' -name PT1H.json.gz -print0 | sort -z | xargs -0 zcat | jq -c '$jqf'")
			elif [ "${shape##*.}" = gz ]; then
				res=$(fl_timed "$WORK/time.log" "$WORK/out" sh -c "zcat '$file' | jq -c '$jqf'")
			else
				res=$(fl_timed "$WORK/time.log" "$WORK/out" jq -c "$jqf" "$file")
			fi
			[ "$(wc -l <"$WORK/out")" -eq "$tuples" ] || res="failed 0 0 0"
			echo "jq,$shape,$(echo "$res" | awk -v n="$tuples" -v b="$bytes" \
				'{ print $1 "," n "," b "," $2 "," $3 "," $4 }')" >>"$FL_CSV"
		done
		rm -rf "$file" "$WORK/out"
	done
}
