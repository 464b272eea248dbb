#!/bin/bash
# packaging/build-deb.sh - build the iamgate Debian package (`make deb`).
#
# Copies the source tree (the files packaging/source-files.sh lists) to
# build/deb/iamgate-VERSION/, puts packaging/debian/ there as debian/, and
# runs `dpkg-buildpackage -us -uc -b`.  The packages land in build/deb/; the
# last line printed is the path of the .deb.
#
# A fingerprint of the copied files is kept next to the .deb: when nothing
# changed, the existing package is reused (tests call this script too).
# Concurrent runs serialize on a lock in build/deb/.
#
# --copy-to DIR: also copy the .deb, and the list of source files it was
# built from (source-files.txt), to DIR while holding the lock, and print the
# copy's path: a concurrent rebuild cannot pull the package from under a
# test that uses it.
set -euo pipefail

COPY_TO=
if [ "${1:-}" = --copy-to ] && [ -n "${2:-}" ]; then
	COPY_TO=$(cd "$2" && pwd)
elif [ $# -ne 0 ]; then
	echo "usage: $0 [--copy-to DIR]" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/deb
cd "$ROOT"

VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null || dpkg --print-architecture)
SRC=$OUT/iamgate-$VERSION
DEB=$OUT/iamgate_${VERSION}_$ARCH.deb

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
if ! flock -w 900 9; then
	echo "build-deb: another package build holds $OUT/.lock" >&2
	exit 1
fi

mapfile -d '' FILES < <(packaging/source-files.sh)
if [ ${#FILES[@]} -eq 0 ]; then
	echo "build-deb: no source files found under $ROOT" >&2
	exit 1
fi
fingerprint=$( {
	printf '%s\n' "$VERSION"
	stat -c '%a %n' "${FILES[@]}"
	sha256sum "${FILES[@]}"
} | sha256sum | cut -d' ' -f1)

# result: print the package's path (or copy it first, see --copy-to).
result() {
	if [ -n "$COPY_TO" ]; then
		cp "$DEB" "$COPY_TO/"
		printf '%s\n' "${FILES[@]}" >"$COPY_TO/source-files.txt"
		echo "$COPY_TO/$(basename "$DEB")"
	else
		echo "$DEB"
	fi
}

if [ -f "$DEB" ] && [ "$(cat "$OUT/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
	echo "build-deb: $DEB is up to date"
	result
	exit 0
fi

rm -rf "$SRC" "$OUT"/*.deb "$OUT"/*.ddeb "$OUT"/*.changes "$OUT"/*.buildinfo \
	"$OUT/.fingerprint"
mkdir -p "$SRC"
printf '%s\0' "${FILES[@]}" | tar -C "$ROOT" --null -T - -cf - | tar -C "$SRC" -xf -
cp -a packaging/debian "$SRC/debian"

# The Makefile takes BUILD, SAN, HELPER_PATH, ... from the environment; a
# caller's values (a test suite's BUILD, an ASan build) must not leak into
# the package.  Nor may a parent make's job server.
echo "build-deb: building $DEB (log: $OUT/build.log)"
if ! (cd "$SRC" && env -u BUILD -u SAN -u CC -u EXTRA_CFLAGS -u HELPER_PATH -u CONFIG_PATH \
	-u PREFIX -u DESTDIR -u CORE_SRC -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	dpkg-buildpackage -us -uc -b -Jauto) >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; full log in $OUT/build.log" >&2
	exit 1
fi
if [ ! -f "$DEB" ]; then
	echo "build-deb: dpkg-buildpackage did not produce $DEB" >&2
	exit 1
fi
echo "$fingerprint" >"$OUT/.fingerprint"
result
