#!/bin/bash
# tests/fuzz/run.sh [SECONDS] - build every libFuzzer target in tests/fuzz/
# (clang, ASan+UBSan) and run each for SECONDS (default 20) on a scratch copy
# of its seed corpus tests/fuzz/corpus/NAME/ (plus NAME.dict if present),
# after replaying the checked-in seeds and regression cases.  Crashes land in
# build/fuzz/crashes/; keep each one as a regression case in the corpus.
# Prints TAP; exits non-zero on any finding.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
SECS=${1:-20}
OUT=$ROOT/build/fuzz
mkdir -p "$OUT/obj" "$OUT/crashes"
CC=clang
PKG="jansson liboath libcurl libxml-2.0 libcrypto libqrencode"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined $(pkg-config --cflags $PKG)"
LIBS="$(pkg-config --libs $PKG)"

# The core units, instrumented, once.
objs=()
for src in src/base/*.c src/core/*.c src/aws/*.c; do
	o=$OUT/obj/$(basename "${src%.c}").o
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find include -newer "$o" -name '*.h' | head -1)" ]; then
		$CC $CFLAGS -c "$src" -o "$o" || { t_fail "fuzz build: $src"; t_done; exit 1; }
	fi
	objs+=("$o")
done

run_target() {
	local src=$1 name base corpus work dict log
	base=$(basename "${src%.c}")
	name=${base#fuzz_}
	corpus=tests/fuzz/corpus/$name
	work=$OUT/work/$name
	log=$OUT/$base.log
	if ! $CC $CFLAGS -fsanitize=fuzzer "$src" "${objs[@]}" $LIBS -o "$OUT/$base" 2>"$log"; then
		echo "build"
		return
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "no seed corpus in $corpus"
		return
	fi
	dict=()
	[ -f "tests/fuzz/$base.dict" ] && dict=(-dict="tests/fuzz/$base.dict")
	# Replay every seed and regression case first.
	if ! "$OUT/$base" -runs=0 "${dict[@]}" "$corpus" >>"$log" 2>&1; then
		echo "a checked-in input fails"
		return
	fi
	rm -rf "$work"
	mkdir -p "$work"
	cp -r "$corpus/." "$work/"
	if ! "$OUT/$base" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$OUT/crashes/$name-" -print_final_stats=1 "${dict[@]}" "$work" >>"$log" 2>&1; then
		echo "finding (see $log and $OUT/crashes/)"
		return
	fi
	echo "ok $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$') runs"
}

targets=(tests/fuzz/fuzz_*.c)
# Two at a time: the machines have two cores.
for ((i = 0; i < ${#targets[@]}; i += 2)); do
	a=${targets[$i]}
	b=${targets[$((i + 1))]:-}
	run_target "$a" >"$OUT/res.a" &
	[ -n "$b" ] && run_target "$b" >"$OUT/res.b" &
	wait
	for pair in "$a:$OUT/res.a" "$b:$OUT/res.b"; do
		t=${pair%%:*}
		r=${pair#*:}
		[ -n "$t" ] || continue
		res=$(cat "$r")
		case $res in
		ok*) t_ok "$(basename "$t" .c) ${SECS}s: ${res#ok }" ;;
		*) t_fail "$(basename "$t" .c): $res" "$(tail -20 "$OUT/$(basename "$t" .c).log")" ;;
		esac
	done
done
t_done
