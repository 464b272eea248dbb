#!/bin/bash
# tests/run-all.sh - run every test suite and print one summary line.
#
# Suites: lint; every unit test binary (cmocka, TAP output); every shell
# suite tests/*/t_*.sh (TAP via tests/lib.sh); the unit and PAM suites again
# against the ASan+UBSan build; the unit tests under valgrind; each fuzz target
# for a bounded time.  A suite that exits non-zero without a "not ok" line
# counts as one failure.  Logs go to build/test-logs/.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOGS=$ROOT/build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
export CMOCKA_MESSAGE_OUTPUT=TAP
PASS=0
FAIL=0
FAILED_SUITES=()

# run_suite NAME CMD... : run, count "ok"/"not ok" lines, show failures.
run_suite() {
	local name=$1
	shift
	local log=$LOGS/$(echo "$name" | tr '/ ' '__').log
	local start=$SECONDS rc p f
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	printf '%-44s %4d passed %3d failed  %3ds\n' "$name" "$p" "$f" $((SECONDS - start))
	if [ "$f" -ne 0 ]; then
		FAILED_SUITES+=("$name")
		grep -E '^not ok|^#' "$log" | head -30 | sed 's/^/    /'
	fi
}

SUITES=${IG_SUITES:-lint unit shell asan valgrind fuzz}

for s in $SUITES; do
	case $s in
	lint)
		run_suite lint tests/lint.sh
		;;
	unit)
		for t in build/tests/test_*; do
			[ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
		done
		;;
	shell)
		for t in tests/*/t_*.sh; do
			[ -x "$t" ] && run_suite "${t#tests/}" "$t"
		done
		# The same decisions through the long-lived helper's socket alone
		# (helper= points nowhere: the exec fallback would fail closed).
		for t in tests/pam/t_gate.sh tests/pam/t_session.sh; do
			run_suite "serve/${t#tests/}" env IG_SERVE=1 "$t"
		done
		;;
	asan)
		if make --no-print-directory SAN=1 BUILD=build/asan all unit >"$LOGS/asan-build.log" 2>&1; then
			for t in build/asan/tests/test_*; do
				[ -x "$t" ] && run_suite "asan/$(basename "$t")" env \
					ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
					UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$t"
			done
			for t in tests/pam/t_*.sh tests/faults/t_input.sh tests/faults/t_helper.sh \
				tests/faults/t_serve.sh; do
				[ -x "$t" ] && run_suite "asan/${t#tests/}" env BUILD="$ROOT/build/asan" IG_ASAN=1 "$t"
			done
			run_suite asan/serve/pam/t_gate.sh env BUILD="$ROOT/build/asan" IG_ASAN=1 IG_SERVE=1 \
				tests/pam/t_gate.sh
		else
			run_suite asan-build false
			tail -20 "$LOGS/asan-build.log"
		fi
		;;
	valgrind)
		for t in build/tests/test_*; do
			[ -x "$t" ] && run_suite "valgrind/$(basename "$t")" env IG_VALGRIND=1 \
				valgrind -q --error-exitcode=99 --leak-check=full \
				--errors-for-leak-kinds=definite,indirect --track-fds=no "$t"
		done
		;;
	fuzz)
		[ -x tests/fuzz/run.sh ] && run_suite fuzz tests/fuzz/run.sh "${IG_FUZZ_SECONDS:-15}"
		;;
	esac
done

echo
if [ ${#FAILED_SUITES[@]} -ne 0 ]; then
	echo "failed suites: ${FAILED_SUITES[*]} (logs in build/test-logs/)"
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
