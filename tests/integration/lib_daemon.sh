# SPDX-License-Identifier: GPL-2.0-only
# Helpers for tests that run `amlguard run` as a daemon in the host namespace: systemd's
# notification socket played by a script, readiness, start, stop and reload.  Sourced after
# lib.sh; the test file sets DAEMON_PID= and TOOLS.

# systemd's notification socket, played by a script: READY=1 and STATUS= land in notify.log.
# $1: how long the script listens, in seconds (120 by default).
notify_socket() {
	local secs=${1:-120}
	: >"$WORK/notify.log"
	rm -f "$WORK/notify.sock"
	bg python3 "$TOOLS/notify_recv.py" "$WORK/notify.sock" "$WORK/notify.log" "$secs"
	wait_for 10 "no notification socket" test -S "$WORK/notify.sock"
}

ready_count() {
	grep -c '^READY=1' "$WORK/notify.log" || true
}

ready_or_dead() {
	[ "$(ready_count)" -ge "$1" ] && return 0
	if [ -n "$DAEMON_PID" ] && ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		cat "$WORK/daemon.err" >&2
		die "the daemon died"
		exit 1
	fi
	return 1
}

# Wait until READY=1 was sent n times in all (at most 60 seconds: loading the datapath takes
# the verifier seconds on a busy machine).
wait_ready() {
	wait_for 60 "no READY=1 (number $1) from the daemon" ready_or_dead "$1" && return 0
	cat "$WORK/daemon.err" >&2
	return 1
}

# Start the daemon in the host namespace (nsenter execs it: $! is its pid).
start_daemon() {
	nsenter --net=/run/netns/"$NS_HOST" env NOTIFY_SOCKET="$WORK/notify.sock" \
		"$AMLGUARD" run "$@" >>"$WORK/daemon.out" 2>>"$WORK/daemon.err" &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	attached "$NS_HOST" "$IF_HOST"
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || die "the daemon exited with $?"
	DAEMON_PID=
}

hup_and_wait() {
	local n
	n=$(($(ready_count) + 1))
	kill -HUP "$DAEMON_PID"
	wait_ready "$n"
}

write_policy() {
	cat >"$WORK/$1.policy"
}
