# tests/lib.sh - tiny TAP helpers for shell test suites.  Source it.
#   t_ok NAME            record a pass
#   t_fail NAME [WHY]    record a failure (WHY goes to stderr-ish diagnostics)
#   t_check NAME CMD...  run CMD; pass if it exits 0
#   t_done               print the plan; exit 1 if anything failed
# Every suite prints "ok N - name" / "not ok N - name" lines; tests/run-all.sh
# counts them.
T_N=0
T_FAILED=0
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3
AWS=/usr/bin/aws

# The gate refuses every TOTP code whose time step could have been used
# before this boot (README: "code_predates_boot"): (window + 1) steps of
# 30 s, 60 s with the tests' window of 1.  A suite that logs in right after
# a machine boots (a fresh CI machine) waits that out, once, and says so.
ig_wait_boot_floor() {
	local up
	up=$(cut -d. -f1 /proc/uptime)
	if [ "$up" -lt 95 ]; then
		echo "# this machine booted ${up} s ago: waiting $((95 - up)) s, until TOTP codes from after the boot are accepted" >&2
		sleep $((95 - up))
	fi
}

t_ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	[ -n "${2:-}" ] && printf '#   %s\n' "$2" | head -40
	return 0
}

t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_fail "$name" "command failed: $*"; fi
}

t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
