# tests/serve_lib.sh - start and stop the long-lived helper (iamgate-helper
# --serve) for the PAM, end-to-end and bench harnesses.  Source it.
#
#   ig_serve_start HELPER SOCKET CONFIG LOG [--serve options...]
#       starts `HELPER --serve SOCKET --config CONFIG OPTIONS` from a subshell
#       (so it is no job of the caller's shell, whose bare `wait` would wait
#       for it), appending its output to LOG; sets SERVE_PID; waits at most
#       10 s for the socket.  Returns 1, saying why on stderr, if it did not
#       come up.  (The helper clears its own environment.)
#   ig_serve_stop
#       SIGTERM to $SERVE_PID, then waits at most 10 s until it is gone;
#       clears SERVE_PID.  Returns 1 if it is still there.

SERVE_PID=${SERVE_PID:-}

ig_serve_start() {
	local helper=$1 sock=$2 config=$3 log=$4 pidf
	shift 4
	pidf=$(mktemp "$log.pid.XXXXXX") || return 1
	(
		"$helper" --serve "$sock" --config "$config" "$@" </dev/null >>"$log" 2>&1 &
		echo $! >"$pidf"
	)
	SERVE_PID=$(cat "$pidf")
	rm -f "$pidf"
	for _ in $(seq 1 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# iamgate-helper --serve $sock did not start: $(tail -n 5 "$log")" >&2
	return 1
}

ig_serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	for _ in $(seq 1 200); do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$SERVE_PID" 2>/dev/null && return 1
	SERVE_PID=""
}
