#!/bin/bash
# tests/bench/lean_prototype.sh - measure what a lean auth/account helper
# would cost, before anyone restructures the real one.  Not product code,
# not part of `make bench` or `make check`; run as root after `make all`.
#
# Builds into build/bench/lean/, from the tree's own objects and
# helper/prog_helper.c unchanged, with the Makefile's flags:
#   lean           the session phases stubbed (tests/bench/proto/
#                  stub_session.c), so neither libcurl nor libxml2 (nor their
#                  36 dependencies) is linked: jansson, liboath, libcrypto
#   lean-nocrypto  also the audit chain's SHA-256 without libcrypto
#                  (tests/bench/proto/stub_sha256.c)
#   lean-static    also jansson and liboath linked statically: libc only
# then runs tests/bench/profile.sh on build/iamgate-helper and the three;
# profile.sh checks the audit log all of them wrote with `iamgate audit
# verify`.  Extra arguments go to profile.sh (e.g. -n 100).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BUILD/bench/lean
mkdir -p "$OUT"
[ -f "$BUILD/libiamgate.a" ] || {
	echo "lean_prototype: make all first" >&2
	exit 1
}
CFLAGS=(-std=c11 -O2 -g -D_GNU_SOURCE -I"$ROOT/include" -Wall -Wextra -Werror -Wshadow
	-Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla -fstack-protector-strong
	-D_FORTIFY_SOURCE=2 -fstack-clash-protection -fPIE -pie
	-Wl,-z,relro -Wl,-z,now -Wl,--as-needed)
# shellcheck disable=SC2207
INC=($(pkg-config --cflags jansson liboath libcurl libcrypto))
SRC=("$ROOT/helper/prog_helper.c" "$ROOT/tests/bench/proto/stub_session.c")
# The archive goes after the stubs, so the linker takes the stubs' symbols
# and never pulls session.o (and with it sts.o and creds.o) out of it.
gcc "${CFLAGS[@]}" "${INC[@]}" -o "$OUT/lean" "${SRC[@]}" "$BUILD/libiamgate.a" \
	$(pkg-config --libs jansson liboath libcrypto)
gcc "${CFLAGS[@]}" "${INC[@]}" -o "$OUT/lean-nocrypto" "${SRC[@]}" \
	"$ROOT/tests/bench/proto/stub_sha256.c" "$BUILD/libiamgate.a" $(pkg-config --libs jansson liboath)
gcc "${CFLAGS[@]}" "${INC[@]}" -o "$OUT/lean-static" "${SRC[@]}" \
	"$ROOT/tests/bench/proto/stub_sha256.c" "$BUILD/libiamgate.a" \
	-Wl,-Bstatic -ljansson -loath -Wl,-Bdynamic
for h in lean lean-nocrypto lean-static; do
	if ldd "$OUT/$h" | grep -qE 'libcurl|libxml2'; then
		echo "lean_prototype: $h still links libcurl/libxml2" >&2
		exit 1
	fi
done
exec "$ROOT/tests/bench/profile.sh" "$@" "$BUILD/iamgate-helper" "$OUT/lean" "$OUT/lean-nocrypto" "$OUT/lean-static"
