#!/bin/bash
# tests/bench/profile.sh - where an iamgate-helper's time goes, for one or
# more helper binaries side by side (before/after a change).  Not part of
# `make bench` or `make check`; run as root after `make all`.
#
#   tests/bench/profile.sh [-n N] [-k] HELPER [HELPER...]
#
# For each helper, against a throwaway user, config and state (no AWS):
#   Ir      instructions (callgrind, deterministic: the number to compare on
#           a noisy machine) for an empty request (exec, dynamic linking,
#           start-up; the helper refuses it) and for a successful auth, and
#           the auth's instructions by shared object (ld.so, libcrypto, ...)
#   sys     per auth (strace -f -c): shared objects opened, fsync calls,
#           all syscalls
#   wall    median fork+exec+wait time of both requests, the helpers taking
#           turns (pam_driver helper), n=N (default 200); noisy, context only
# and finally `iamgate audit verify` on the log all of them appended to.
# -k keeps the work directory (callgrind files) and prints its path.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
N=200
KEEP=0
while getopts "n:k" o; do
	case $o in
	n) N=$OPTARG ;;
	k) KEEP=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || {
	echo "usage: $0 [-n N] [-k] HELPER [HELPER...]" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || {
	echo "profile: run as root" >&2
	exit 1
}
for t in valgrind callgrind_annotate strace; do
	command -v $t >/dev/null || {
		echo "profile: $t missing" >&2
		exit 1
	}
done
HELPERS=()
for h in "$@"; do HELPERS+=("$(cd "$(dirname "$h")" && pwd)/$(basename "$h")"); done

mkdir -p "$BUILD/bench"
DRV=$BUILD/bench/pam_driver
PKGS="jansson liboath libcurl libxml-2.0 libcrypto libqrencode"
if [ ! -x "$DRV" ] || [ "$ROOT/tests/bench/pam_driver.c" -nt "$DRV" ] || [ "$BUILD/libiamgate-core.a" -nt "$DRV" ]; then
	# shellcheck disable=SC2046
	gcc -std=c11 -O2 -g -D_GNU_SOURCE -I"$ROOT/include" -Wall -Wextra -Werror \
		$(pkg-config --cflags $PKGS) -o "$DRV" "$ROOT/tests/bench/pam_driver.c" \
		"$BUILD/libiamgate-aws.a" "$BUILD/libiamgate-core.a" "$BUILD/libiamgate-base.a" $(pkg-config --libs $PKGS) -lpam || exit 1
fi

W=$(mktemp -d "$BUILD/bench/prof.XXXXXX")
chmod 0755 "$W"
P=igp$(printf '%x' $(((RANDOM << 8 ^ $$) % 65536)))
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
cleanup() {
	userdel "${P}a" >/dev/null 2>&1
	groupdel "${P}dev" >/dev/null 2>&1
	if [ $KEEP = 1 ]; then echo "profile: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
groupadd "${P}dev" && useradd -M -N -g "${P}dev" -s /bin/sh "${P}a" || exit 1
mkdir -p "$W/etc" "$W/log" "$W/run"
chmod 0755 "$W/etc" "$W/log" "$W/run"
cat >"$W/etc/iamgate.json" <<JSON
{
  "allowlists": { "office": ["127.0.0.0/8", "::1/128"] },
  "groups": { "${P}dev": { "allow_from": ["office"], "roles": ["r1"] } },
  "roles": { "r1": { "arn": "arn:aws:iam::111122223333:role/bench-r1" } },
  "totp": { "state_dir": "$W/state", "digits": 6, "step_seconds": 30, "window": 1,
            "max_failures": 5, "lockout_seconds": 900 },
  "audit": { "path": "$W/log/audit.jsonl", "syslog": false },
  "session": { "dir": "$W/run/sessions", "grant_dir": "$W/run/grants" }
}
JSON
chmod 0600 "$W/etc/iamgate.json"
enroll() {
	echo "$SECRET" | "$BUILD/iamgate" enroll --force --config "$W/etc/iamgate.json" \
		--import-base32 - --no-verify "${P}a" >/dev/null 2>&1
}
enroll || {
	echo "profile: enroll failed" >&2
	exit 1
}
printf '{}' >"$W/req-empty.json"
auth_req() { # the request with the current code (fresh state: re-enrolled)
	printf '{"v":1,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1","service":"bench","tty":"ssh","code":"%s"}' \
		"$W/etc/iamgate.json" "${P}a" "$(oathtool --totp -b "$SECRET")"
}
# Instructions by shared object, from callgrind_annotate's flat profile.
by_object() {
	callgrind_annotate --auto=no --threshold=100 --inclusive=no "$1" 2>/dev/null | awk '
		/file:function/ { go = 1; next }
		go && /^ *[0-9,]+ / && !/PROGRAM TOTALS/ {
			v = $1; gsub(",", "", v); obj = "other"
			if (match($0, /\[[^]]*\]$/)) obj = substr($0, RSTART + 1, RLENGTH - 2)
			else if ($0 ~ /\/elf\/|dl-/) obj = "ld-linux-x86-64.so.2" # inlined, no [object]
			sub(".*/", "", obj); sub(/\.so.*/, "", obj); sub(/^ld-linux-x86-64$/, "ld.so", obj)
			s[obj] += v
		}
		END { for (o in s) printf "%d %s\n", s[o], o }' | sort -rn |
		awk '{ printf "%s%s %.1fM", (NR > 1 ? ", " : ""), $2, $1 / 1e6 } NR == 5 { exit }'
}
ir() { grep -o 'refs: *[0-9,]*' | tr -d ', ' | cut -d: -f2; }

echo "| helper | libs | Ir empty request | Ir auth | auth Ir by object | .so opened | fsync | syscalls | wall empty | wall auth |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
CASES=()
i=0
declare -A ROW
for h in "${HELPERS[@]}"; do
	i=$((i + 1))
	libs=$(ldd "$h" | grep -c '=>')
	e=$(valgrind --tool=callgrind --callgrind-out-file="$W/cg.empty.$i" "$h" <"$W/req-empty.json" 2>&1 >/dev/null | ir)
	enroll
	auth_req >"$W/req.json"
	a=$(valgrind --tool=callgrind --callgrind-out-file="$W/cg.auth.$i" "$h" <"$W/req.json" 2>&1 >/dev/null | ir)
	grep -q '"success"' < <(enroll && auth_req | "$h") || echo "profile: $h: auth did not succeed" >&2
	objs=$(by_object "$W/cg.auth.$i")
	enroll
	auth_req >"$W/req.json"
	strace -f -c -o "$W/strace.$i" "$h" <"$W/req.json" >/dev/null 2>&1
	enroll
	auth_req >"$W/req.json"
	strace -f -e trace=openat -o "$W/open.$i" "$h" <"$W/req.json" >/dev/null 2>&1
	so=$(grep -v ENOENT "$W/open.$i" | grep -c '\.so')
	fs=$(awk '$NF == "fsync" { print $4 }' "$W/strace.$i")
	tot=$(awk '$NF == "total" { print $4 }' "$W/strace.$i")
	ROW[$i]="| $(basename "$h") | $libs | $(awk -v v="$e" 'BEGIN { printf "%.2fM", v / 1e6 }') | $(awk -v v="$a" 'BEGIN { printf "%.2fM", v / 1e6 }') | $objs | $so | ${fs:-0} | $tot"
	CASES+=(--case "name=empty$i,exe=$h,request=$W/req-empty.json,expect=bad_request"
		--case "name=auth$i,exe=$h,request=$W/req-auth.json,expect=\"success\",reset=iamgate,state=$W/state,clean-dir=$W/run/grants")
done
printf '{"v":1,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1","service":"bench","tty":"ssh","code":"@CODE@"}' \
	"$W/etc/iamgate.json" "${P}a" >"$W/req-auth.json"
out=$("$DRV" helper --user "${P}a" --n "$N" --warmup 3 --secret "$SECRET" "${CASES[@]}") || exit 1
med() { printf '%s\n' "$out" | grep "case=$1 " | tr ' ' '\n' | sed -n 's/^p50_us=//p' | awk '{ printf "%.2f ms", $1 / 1000 }'; }
for i in $(seq 1 ${#HELPERS[@]}); do
	echo "${ROW[$i]} | $(med empty$i) | $(med auth$i) |"
done
echo
echo "(n=$N each for wall times, helpers taking turns; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
# Every helper above appended to one log: the chain must hold.
"$BUILD/iamgate" audit verify --log "$W/log/audit.jsonl" | head -1
