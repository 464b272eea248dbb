#!/bin/bash
# packaging/source-files.sh - print, NUL-separated and sorted, the files of
# the source tree that make up a package's source: tracked and untracked but
# not ignored files, without build/ and tests/ (the package builds and tests
# nothing from there).  Paths are relative to the repository root.  Used by
# build-deb.sh and by tests/pkg/t_rpm.sh for the RPM's source tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do
			case $f in build/* | tests/* | debian-build/*) continue ;; esac
			if [ -f "$f" ]; then printf '%s\0' "$f"; fi
		done | LC_ALL=C sort -z
else
	find Makefile src include config packaging README.md \
		-type f -print0 2>/dev/null | LC_ALL=C sort -z
fi
