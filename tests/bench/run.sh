#!/bin/bash
# tests/bench/run.sh - `make bench`: what the gate costs, beside the modules
# people would pick instead, printed as one table (issue 8).  Never part of
# `make check`; nothing here asserts a time.  Run as root after `make all`.
#
#   1. auth cost per login through libpam under pam_wrapper, fresh TOTP state
#      each time: pam_permit (floor), pam_oath, pam_google_authenticator
#      (DISALLOW_REUSE) and pam_iamgate, both exec'ing its helper per call
#      and asking the long-lived one (iamgate-helper --serve, socket=); in
#      one process (pam_driver auth) and as whole pamtester processes
#      (pam_driver exec); then the helper alone, without PAM, against a bare
#      exec and through the socket, to show where the time goes; and the
#      fsync calls per auth through the socket (strace -c, once); and the
#      I/O floor of this design (io_floor.c: a root server on a socket doing
#      only pam_oath's state write and an audit append)
#   2. issuance: open_session until the credentials are on disk, k = 1, 2,
#      4, 8 roles, the STS test endpoint adding 100 ms to every request
#   3. allowlist: load and per-match time for 10, 1k, 100k CIDRs (v4+v6),
#      and the per-call configuration load with such an allowlist
#   4. audit: appends per second with fsync, 1, 8 and 32 writers
#   5. logins per second end to end (auth + account + open + close against
#      the endpoint, no added latency), 1 and 16 concurrent clients, exec'd
#      helper and long-lived helper
#
# The long-lived helper: started for sections 1 and 5 (stopped after each)
# on a socket in the throwaway directory, --config the configuration those
# requests name (so its workers reuse it, as deployed), with the default 4
# workers for section 1 (one request at a time) and 16 for section 5 (one
# per client: no login waits for a replacement worker to be forked).  The
# socket services name a helper= that does not exist, so an auth that did
# not go through the socket fails, and a failure stops the run.
#
# Machines are noisy: read the ratios; absolute times are context.  The
# table goes to stdout and to build/bench/RESULTS.md (tests/bench/RESULTS.md
# keeps a recorded run with its findings).
#
# Environment: BENCH_SCALE (default 1; 0.2 for a quick look) scales every
# iteration count; BENCH_ONLY="1 3" runs only those sections; BUILD
# (default build); BENCH_BASELINE=DIR, another build directory (an older
# commit's `make all`): 1a and 1b add its module asking its own serving
# helper, in the same rounds, so two versions compare on the same load.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SCALE=${BENCH_SCALE:-1}
PY=/usr/bin/python3
OUTDIR=$BUILD/bench
RESULTS=$OUTDIR/RESULTS.md

die() {
	echo "bench: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (it creates users and root-owned state)"
for f in pam_iamgate.so iamgate-helper iamgate libiamgate-aws.a libiamgate-core.a libiamgate-base.a; do
	[ -e "$BUILD/$f" ] || die "$BUILD/$f missing: make all first"
done
PAMWRAP=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -1)
SECMOD=$(dirname "$(ls /usr/lib/*/security/pam_permit.so /lib/*/security/pam_permit.so 2>/dev/null | head -1)")
[ -n "$PAMWRAP" ] || die "libpam_wrapper.so missing (tests/deps.sh installs libpam-wrapper)"
for m in pam_permit pam_oath pam_google_authenticator; do
	[ -f "$SECMOD/$m.so" ] || die "$SECMOD/$m.so missing (tests/deps.sh)"
done

BASE=${BENCH_BASELINE:-}
if [ -n "$BASE" ]; then
	BASE=$(cd "$BASE" 2>/dev/null && pwd) || die "BENCH_BASELINE=$BENCH_BASELINE: no such directory"
	for f in pam_iamgate.so iamgate-helper; do
		[ -e "$BASE/$f" ] || die "BENCH_BASELINE: $BASE/$f missing (run make all there)"
	done
fi
BASE_PID=""
ONLY=${BENCH_ONLY:-1 2 3 4 5}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

n_of() { # BASE: BASE * SCALE, at least 3
	local v
	v=$(awk -v b="$1" -v s="$SCALE" 'BEGIN { v = int(b * s + 0.5); print (v < 3 ? 3 : v) }')
	echo "$v"
}

# ---- build the bench programs (same strict flags as the tree) ------------
mkdir -p "$OUTDIR"
PKGS="jansson liboath libcurl libxml-2.0 libcrypto libqrencode"
CFLAGS="-std=c11 -O2 -g -D_GNU_SOURCE -I$ROOT/include -Wall -Wextra -Werror -Wshadow \
-Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla -fstack-protector-strong \
-D_FORTIFY_SOURCE=2 $(pkg-config --cflags $PKGS)"
LIBS="$BUILD/libiamgate-aws.a $BUILD/libiamgate-core.a $BUILD/libiamgate-base.a $(pkg-config --libs $PKGS)"
for b in pam_driver cidr_bench audit_bench io_floor; do
	# shellcheck disable=SC2086
	gcc $CFLAGS -o "$OUTDIR/$b" "$ROOT/tests/bench/$b.c" $LIBS -lpam ||
		die "cannot build tests/bench/$b.c"
done
DRV=$OUTDIR/pam_driver

# ---- a throwaway world: users, groups, config, PAM services, endpoint -----
# Under build/ (root-owned, 0755 up to /), so the gate's trusted-path checks
# pass; not /tmp (world-writable parent).
W=$(mktemp -d "$OUTDIR/run.XXXXXX")
chmod 0755 "$W"
P=igb$(printf '%x' $(((RANDOM << 8 ^ $$) % 65536)))
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
USERS=()
GROUPS_MADE=()
STS_DIR=$W/sts
SERVE_PID=""
RUN_MOUNTED=""
cleanup() {
	serve_stop
	[ -z "$BASE_PID" ] || { SERVE_PID=$BASE_PID && ig_serve_stop; }
	"$ROOT/tests/sts/stsctl.sh" stop "$STS_DIR" >/dev/null 2>&1
	for u in "${USERS[@]}"; do userdel "$u" >/dev/null 2>&1; done
	for g in "${GROUPS_MADE[@]}"; do groupdel "$g" >/dev/null 2>&1; done
	[ -z "$RUN_MOUNTED" ] || umount "$W/run" || echo "bench: cannot unmount $W/run" >&2
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The long-lived helper on SOCKET, started from a subshell (not a child a
# bare `wait` would wait for); its directory is root's, 0755, like
# /run/iamgate.
source "$ROOT/tests/serve_lib.sh"
serve_start() { # SOCKET CONFIG WORKERS
	mkdir -p "$(dirname "$1")"
	chmod 0755 "$(dirname "$1")"
	ig_serve_start "$BUILD/iamgate-helper" "$1" "$2" "$W/serve.log" --workers "$3" ||
		die "iamgate-helper --serve $1 did not start: $(cat "$W/serve.log")"
}
serve_stop() {
	ig_serve_stop || echo "bench: iamgate-helper --serve $SERVE_PID did not stop" >&2
}

mkgroup() {
	groupadd "$1" || die "groupadd $1"
	GROUPS_MADE+=("$1")
}
mkuser() { # NAME GROUP
	useradd -M -N -g "$2" -s /bin/sh "$1" || die "useradd $1"
	USERS+=("$1")
}

LOGIN_CLIENTS=16
echo "bench: setting up users, config, PAM services and the STS endpoint..." >&2
mkgroup "${P}dev"
for k in 2 4 8; do mkgroup "${P}k$k"; done
mkuser "${P}a" "${P}dev"
for k in 2 4 8; do mkuser "${P}k$k" "${P}k$k"; done
for i in $(seq 0 $((LOGIN_CLIENTS - 1))); do mkuser "${P}l$i" "${P}dev"; done

mkdir -p "$W/etc" "$W/log" "$W/run" "$W/oath" "$W/ga" "$W/pam.d"
# $W/run stands for /run (grants, session directories, the credentials
# cache), which is a tmpfs on every systemd host, Debian 12 included: a
# tmpfs here too, when this machine lets root mount one.
if mount -t tmpfs -o mode=0755,size=64m iamgate-bench "$W/run" 2>/dev/null; then
	RUN_MOUNTED=1
	RUN_FS=tmpfs
else
	RUN_FS="$(df -T "$W/run" | awk 'NR == 2 { print $2 }') (a tmpfs mount was refused)"
fi
chmod 0755 "$W/etc" "$W/log" "$W/run"
chmod 0700 "$W/oath"
chmod 0755 "$W/ga"

# The endpoint: eight roles that trust the instance role, with the checks
# the gate's requests must pass (SourceIdentity, session tags).
mkdir -p "$STS_DIR"
"$ROOT/tests/sts/mkca.sh" "$STS_DIR/ca" >/dev/null || die "mkca"
# shellcheck disable=SC2046 # one argument per role ARN, on purpose
$PY "$ROOT/tests/sts/stsutil.py" bastion-state "$STS_DIR/state.json" \
	$(for i in $(seq 1 8); do echo "arn:aws:iam::111122223333:role/bench-r$i"; done) || die "endpoint state"
eval "$("$ROOT/tests/sts/stsctl.sh" start "$STS_DIR" --state "$STS_DIR/state.json" --lifetime 1800)" ||
	die "cannot start the STS endpoint"

roles_json() { # K: ["r1", ..., "rK"]
	local s="" i
	for i in $(seq 1 "$1"); do s="$s${s:+, }\"r$i\""; done
	echo "[$s]"
}
write_config() { # FILE WINDOW
	local roles="" i
	for i in $(seq 1 8); do
		roles="$roles${roles:+,
    }\"r$i\": { \"arn\": \"arn:aws:iam::111122223333:role/bench-r$i\" }"
	done
	cat >"$1" <<JSON
{
  "allowlists": { "office": ["127.0.0.0/8", "::1/128", "2001:db8:10::/48"] },
  "groups": {
    "${P}dev": { "allow_from": ["office"], "roles": $(roles_json 1) },
    "${P}k2": { "allow_from": ["office"], "roles": $(roles_json 2) },
    "${P}k4": { "allow_from": ["office"], "roles": $(roles_json 4) },
    "${P}k8": { "allow_from": ["office"], "roles": $(roles_json 8) }
  },
  "roles": {
    $roles
  },
  "totp": { "state_dir": "$W/state", "digits": 6, "step_seconds": 30, "window": $2,
            "max_failures": 5, "lockout_seconds": 900 },
  "audit": { "path": "$W/log/audit.jsonl", "syslog": false },
  "session": { "dir": "$W/run/sessions", "grant_dir": "$W/run/grants" },
  "aws": { "region": "us-east-1", "sts_endpoint": "$STS_URL", "ca_file": "$STS_CA",
           "timeout_seconds": 10,
           "credentials": { "source": "imds", "imds_endpoint": "$IMDS_URL",
                            "cache_dir": "$W/run/cache" } }
}
JSON
	chmod 0600 "$1"
}
CONFIG=$W/etc/iamgate.json
write_config "$CONFIG" 1
# logins: one user per client, each typing the codes of successive time
# steps (replay protection refuses a step used before), so the window is
# wide there (19 HMACs more per auth: microseconds against milliseconds).
CONFIG_WIDE=$W/etc/iamgate-wide.json
write_config "$CONFIG_WIDE" 10
"$BUILD/iamgate" check --config "$CONFIG" >"$W/check.out" 2>&1 || die "config refused: $(cat "$W/check.out")"

IG="$BUILD/pam_iamgate.so config=$CONFIG helper=$BUILD/iamgate-helper"
echo "auth required $SECMOD/pam_permit.so" >"$W/pam.d/permit"
echo "auth required $SECMOD/pam_oath.so usersfile=$W/oath/users.oath window=1 digits=6" >"$W/pam.d/oath"
# GA as deployed: the user's own 0600 file in a directory the user owns (it
# is read and rewritten with the user's file system ids).
echo "auth required $SECMOD/pam_google_authenticator.so secret=$W/ga/\${USER}/google_authenticator" >"$W/pam.d/ga"
mkdir -p "$W/ga/${P}a"
chown "${P}a" "$W/ga/${P}a"
chmod 0700 "$W/ga/${P}a"
echo "auth required $IG" >"$W/pam.d/iamgate"
{
	echo "auth required $IG"
	echo "account required $IG"
	echo "session required $IG"
} >"$W/pam.d/iamgate-full"
sed "s|config=$CONFIG|config=$CONFIG_WIDE|" "$W/pam.d/iamgate-full" >"$W/pam.d/iamgate-wide"
# The same through the long-lived helper: helper= names nothing, so only
# the socket can answer.
SOCK1=$W/serve1/helper.sock
SOCK5=$W/serve5/helper.sock
NOHELPER=$W/no-such-helper
echo "auth required $BUILD/pam_iamgate.so config=$CONFIG helper=$NOHELPER socket=$SOCK1" >"$W/pam.d/iamgate-sock"
sed "s|helper=[^ ]*|helper=$NOHELPER socket=$SOCK5|" "$W/pam.d/iamgate-wide" >"$W/pam.d/iamgate-wide-sock"
export PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$W/pam.d

enroll() { # USER
	echo "$SECRET" | "$BUILD/iamgate" enroll --config "$CONFIG" --import-base32 - --no-verify "$1" >/dev/null ||
		die "enroll $1"
}
for u in "${USERS[@]}"; do enroll "$u"; done

# pam_driver under pam_wrapper (in-process modes); stats line -> variables.
drv() { env LD_PRELOAD="$PAMWRAP" "$DRV" "$@" --secret "$SECRET"; }
# field LINE KEY: the value of KEY=... in a RESULT line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# Inside $(...) its die ends only the subshell: callers add "|| exit 1".
run_or_die() { # LABEL CMD...: the RESULT line of CMD, or die with its stderr
	local label=$1 out
	shift
	out=$("$@" 2>"$W/err") || {
		local rc=$?
		cp "$W/err" "$OUTDIR/failed.err"
		die "$label failed (status $rc; stderr in $OUTDIR/failed.err): $(grep -v '^PWRAP_ERROR' "$W/err" | tail -5)"
	}
	printf '%s\n' "$out" | grep '^RESULT'
}

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
spread() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }'; }

# ---- 1. auth cost ----------------------------------------------------------
if want 1; then
# Cases take turns, iteration by iteration (pam_driver --case), so load that
# comes and goes on a noisy machine falls on all of them alike.  1a and 1c
# run together: the four modules in one process, then the helper alone
# (without PAM): a bare exec, the helper refusing an empty request (exec +
# dynamic linking + its start-up, no config), and its whole auth decision.
# 1a's pam_iamgate minus pam_permit minus 1c's auth decision is the module's
# own share (pam_start's dlopen of it, fork, pipes, waiting).
N_AUTH=$(n_of 300)
N_EXEC=$(n_of 150)
MODULES=(pam_permit pam_oath pam_google_authenticator pam_iamgate pam_iamgate_socket)
declare -A LABEL=([pam_iamgate]="pam_iamgate (exec)" [pam_iamgate_socket]="pam_iamgate (socket)")
CASES=(
	--case "name=pam_permit,service=permit,reset=none"
	--case "name=pam_oath,service=oath,reset=oath,state=$W/oath/users.oath"
	--case "name=pam_google_authenticator,service=ga,reset=ga,state=$W/ga/${P}a/google_authenticator,owner=$(id -u "${P}a")"
	--case "name=pam_iamgate,service=iamgate,reset=iamgate,state=$W/state,clean-dir=$W/run/grants"
	--case "name=pam_iamgate_socket,service=iamgate-sock,reset=iamgate,state=$W/state,clean-dir=$W/run/grants"
)
if [ -n "$BASE" ]; then
	# The baseline: its module, its helper serving its own socket (the
	# protocol and the state format are the same across these versions).
	SOCKB=$W/serve1b/helper.sock
	echo "auth required $BASE/pam_iamgate.so config=$CONFIG helper=$NOHELPER socket=$SOCKB" >"$W/pam.d/iamgate-sock-base"
	MODULES+=(pam_iamgate_socket_base)
	LABEL[pam_iamgate_socket_base]="pam_iamgate (socket), BENCH_BASELINE"
	CASES+=(--case "name=pam_iamgate_socket_base,service=iamgate-sock-base,reset=iamgate,state=$W/state,clean-dir=$W/run/grants")
fi
printf '{}' >"$W/req-empty.json"
printf '{"v":1,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1","service":"bench","tty":"ssh","code":"@CODE@"}' \
	"$CONFIG" "${P}a" >"$W/req-auth.json"
HELPER_CASES=(
	--case "name=true,mode=helper,exe=/bin/true,request=$W/req-empty.json"
	--case "name=start,mode=helper,exe=$BUILD/iamgate-helper,request=$W/req-empty.json,expect=bad_request"
	--case "name=helper_auth,mode=helper,exe=$BUILD/iamgate-helper,request=$W/req-auth.json,expect=\"success\",reset=iamgate,state=$W/state,clean-dir=$W/run/grants"
	--case "name=socket_auth,mode=socket,socket=$SOCK1,request=$W/req-auth.json,expect=\"success\",reset=iamgate,state=$W/state,clean-dir=$W/run/grants"
)
NLIBS=$(ldd "$BUILD/iamgate-helper" | grep -c '=>')
declare -A MED P10 P90
collect() { # HOW LINES: RESULT lines -> MED/P10/P90[HOW.case]
	local how=$1 l c
	while read -r l; do
		c=$(field "$l" case)
		MED[$how.$c]=$(field "$l" p50_us)
		P10[$how.$c]=$(field "$l" p10_us)
		P90[$how.$c]=$(field "$l" p90_us)
	done <<<"$2"
}
if [ -n "$BASE" ]; then
	mkdir -p "$(dirname "$SOCKB")"
	chmod 0755 "$(dirname "$SOCKB")"
	ig_serve_start "$BASE/iamgate-helper" "$SOCKB" "$CONFIG" "$W/serve-base.log" --workers 4 ||
		die "the baseline's iamgate-helper --serve did not start: $(cat "$W/serve-base.log")"
	BASE_PID=$SERVE_PID
	SERVE_PID=""
fi
serve_start "$SOCK1" "$CONFIG" 4
echo "bench: 1a+1c. auth in one process and the helper alone, $N_AUTH rounds of $(((${#CASES[@]} + ${#HELPER_CASES[@]}) / 2)) cases..." >&2
out=$(run_or_die "auth" drv auth --user "${P}a" --n "$N_AUTH" --warmup 5 "${CASES[@]}" "${HELPER_CASES[@]}") || exit 1
collect auth "$out"
echo "bench: 1b. auth as pamtester processes, $N_EXEC rounds of 5 modules..." >&2
out=$(run_or_die "exec" "$DRV" exec --user "${P}a" --n "$N_EXEC" --warmup 3 \
	--preload "$PAMWRAP" --secret "$SECRET" "${CASES[@]}") || exit 1
collect exec "$out"
for how in auth exec; do
	if [ $how = auth ]; then what="1a. auth in one process (pam_start..pam_end), n=$N_AUTH"; else what="1b. auth as a pamtester process, n=$N_EXEC"; fi
	floor=${MED[$how.pam_permit]}
	oath_over=$(awk -v a="${MED[$how.pam_oath]}" -v f="$floor" 'BEGIN { print a - f }')
	for m in "${MODULES[@]}"; do
		med=${MED[$how.$m]}
		if [ "$m" = pam_permit ]; then
			note="floor"
		else
			note=$(awk -v a="$med" -v f="$floor" -v o="$oath_over" \
				'BEGIN { d = a - f; if (o >= 100) printf "+%.2f ms over floor = %.2f x pam_oath'"'"'s", d / 1000, d / o; else printf "+%.2f ms over floor (no ratio: pam_oath'"'"'s +%.2f ms is within the noise)", d / 1000, o / 1000 }')
			case $m in pam_iamgate*) note="$note (target <= 1.00)" ;; esac
		fi
		row "$what" "${LABEL[$m]:-$m}" "$(ms "$med")" "$(spread "${P10[$how.$m]}" "${P90[$how.$m]}")" "$note"
	done
done
what="1c. helper alone, fork+exec+wait, no PAM (same rounds as 1a)"
row "$what" "/bin/true (bare exec)" "$(ms "${MED[auth.true]}")" "$(spread "${P10[auth.true]}" "${P90[auth.true]}")" "exec floor"
row "$what" "iamgate-helper start-up (empty request)" "$(ms "${MED[auth.start]}")" "$(spread "${P10[auth.start]}" "${P90[auth.start]}")" \
	"$(awk -v a="${MED[auth.start]}" -v t="${MED[auth.true]}" -v n="$NLIBS" 'BEGIN { printf "+%.2f ms over a bare exec (%d shared libraries, init)", (a - t) / 1000, n }')"
row "$what" "iamgate-helper auth decision" "$(ms "${MED[auth.helper_auth]}")" "$(spread "${P10[auth.helper_auth]}" "${P90[auth.helper_auth]}")" \
	"$(awk -v a="${MED[auth.helper_auth]}" -v s="${MED[auth.start]}" -v m="${MED[auth.pam_iamgate]}" -v f="${MED[auth.pam_permit]}" \
		'BEGIN { printf "+%.2f ms over start-up (config, groups, TOTP state, grant, audit); the module'"'"'s own share of 1a: %.2f ms", (a - s) / 1000, (m - f - a) / 1000 }')"
row "$what" "iamgate-helper worker (socket) auth decision" "$(ms "${MED[auth.socket_auth]}")" "$(spread "${P10[auth.socket_auth]}" "${P90[auth.socket_auth]}")" \
	"$(awk -v a="${MED[auth.socket_auth]}" -v h="${MED[auth.helper_auth]}" -v m="${MED[auth.pam_iamgate_socket]}" -v f="${MED[auth.pam_permit]}" \
		'BEGIN { printf "connect+request+reply, no exec; %.2f x the exec'"'"'d decision; the module'"'"'s own share of 1a (socket): %.2f ms", (h > 0 ? a / h : 0), (m - f - a) / 1000 }')"

# fsync calls per successful auth through the socket: strace on the serving
# helper and its workers (the idle ones too; replacements are followed)
# for a few auths.  Counts, not times: strace slows everything down.
N_TRACE=10
STRACE_PIDS=(-p "$SERVE_PID")
for pid in $(pgrep -P "$SERVE_PID"); do STRACE_PIDS+=(-p "$pid"); done
strace -f -c -o "$W/strace.out" "${STRACE_PIDS[@]}" 2>"$W/strace.err" &
STRACE_PID=$!
sleep 1
run_or_die "strace auths" "$DRV" socket --user "${P}a" --secret "$SECRET" --n "$N_TRACE" --warmup 0 \
	--socket "$SOCK1" --request "$W/req-auth.json" --expect '"success"' --reset iamgate \
	--state "$W/state" --clean-dir "$W/run/grants" >/dev/null
sleep 0.5 # the replacement workers' start-up (config load) is part of the cost
kill -INT "$STRACE_PID"
wait "$STRACE_PID"
calls() { awk -v s="$1" '$NF == s { print $4; f = 1 } END { if (!f) print 0 }' "$W/strace.out"; }
row "$what" "fsync per auth through the socket (strace -f -c, $N_TRACE auths)" \
	"$(awk -v a="$(calls fsync)" -v b="$(calls fdatasync)" -v n=$N_TRACE 'BEGIN { printf "%.1f fsync", (a + b) / n }')" \
	"$(awk -v t="$(calls total)" -v n=$N_TRACE 'BEGIN { printf "%.0f syscalls per auth", t / n }')" \
	"fsync+fdatasync of the serving helper, its workers and their replacements"
serve_stop
if [ -n "$BASE_PID" ]; then
	SERVE_PID=$BASE_PID
	serve_stop
	BASE_PID=""
fi

# 1d. What this design costs before it checks anything: a pre-forked root
# server on a Unix socket doing only the I/O an auth must do (io_floor.c),
# on the state's file system, beside pam_oath's whole overhead from 1a.
N_FLOOR=$(n_of 300)
echo "bench: 1d. the design's I/O floor, $N_FLOOR rounds of 3 cases..." >&2
mkdir -p "$W/floor"
out=$(run_or_die "io floor" "$OUTDIR/io_floor" "$W/floor" "$N_FLOOR") || exit 1
collect floor "$out"
what="1d. this design's I/O floor: a pre-forked root server on a Unix socket doing only this, n=$N_FLOOR"
oath_1a=$(awk -v a="${MED[auth.pam_oath]}" -v f="${MED[auth.pam_permit]}" 'BEGIN { print a - f }')
floor_note() { # CASE TEXT
	awk -v a="${MED[floor.$1]}" -v o="$oath_1a" -v t="$2" \
		'BEGIN { if (o >= 100) printf "%s; %.2f x pam_oath'"'"'s whole overhead in 1a", t, a / o; else printf "%s", t }'
}
row "$what" "read the request, reply" "$(ms "${MED[floor.ipc]}")" "$(spread "${P10[floor.ipc]}" "${P90[floor.ipc]}")" \
	"$(floor_note ipc "the process boundary")"
row "$what" "+ pam_oath's own state write (new file, fsync, rename over the old)" "$(ms "${MED[floor.state]}")" \
	"$(spread "${P10[floor.state]}" "${P90[floor.state]}")" "$(floor_note state "what pam_oath does to its usersfile")"
row "$what" "+ an audit line (append, fsync)" "$(ms "${MED[floor.audit]}")" "$(spread "${P10[floor.audit]}" "${P90[floor.audit]}")" \
	"$(floor_note audit "DESIGN.md: flushed before the decision is returned; no check made yet")"

fi

# ---- 2. issuance -------------------------------------------------------------
if want 2; then
N_SESS=$(n_of 12)
"$ROOT/tests/sts/stsctl.sh" ctl "$STS_DIR" sts '{"reset": true, "slow": {"ms": 100}}' >/dev/null || die "endpoint control"
for k in 1 2 4 8; do
	u=${P}a
	[ $k -gt 1 ] && u=${P}k$k
	echo "bench: 2. issuance k=$k..." >&2
	line=$(run_or_die "session k=$k" drv session --service iamgate-full --user "$u" --n "$N_SESS" --warmup 1 \
		--reset iamgate --state "$W/state" --expect-profiles "$k") || exit 1
	med=$(field "$line" p50_us)
	[ $k = 1 ] && k1=$med
	row "2. issuance: open_session to credentials on disk, STS +100 ms per request, n=$N_SESS" "k=$k roles" "$(ms "$med")" "$(spread "$(field "$line" p10_us)" "$(field "$line" p90_us)")" \
		"$(awk -v a="$med" -v b="$k1" 'BEGIN { printf "%.2f x the 100 ms delay; %.2f x k=1 (target: about one round trip for any k)", a / 100000, a / b }')"
done
"$ROOT/tests/sts/stsctl.sh" ctl "$STS_DIR" sts '{"reset": true}' >/dev/null || die "endpoint control"

fi

# ---- 3. allowlist ------------------------------------------------------------
if want 3; then
mkdir -p "$W/cidr"
chmod 0755 "$W/cidr"
# 30000 is about the most one allowlist can hold inside the configuration's
# 1 MiB cap: its per-call load is what every helper call pays.
for n in 10 1000 30000 100000; do
	echo "bench: 3. allowlist n=$n..." >&2
	line=$(run_or_die "cidr $n" "$OUTDIR/cidr_bench" "$n" "$(n_of 1000000)" "$W/cidr") || exit 1
	cfg=$(field "$line" config_ms)
	case $cfg in -*) cfg="refused (file over the 1 MiB config cap)" ;; *) cfg="$cfg ms per call" ;; esac
	row "3. allowlist (v4+v6 mixed; load = parse + insert)" "$n CIDRs" "load $(field "$line" load_ms) ms" "match $(field "$line" match_ns) ns" \
		"targets: load < 50 ms, match < 1000 ns; whole config load: $cfg"
done

fi

# ---- 4. audit ------------------------------------------------------------------
if want 4; then
# Group commit: 32 writers must append at least as fast as 1 (target).
for mode in plain sealed; do
	log=$W/log/bench-audit-$mode.jsonl
	extra=()
	[ $mode = sealed ] && extra=(sealed)
	one=""
	for w in 1 8 32; do
		echo "bench: 4. audit ($mode), $w writers..." >&2
		each=$(n_of $((w == 1 ? 400 : (w == 8 ? 50 : 12))))
		line=$(run_or_die "audit $w" "$OUTDIR/audit_bench" "$log" "$w" "$each" "${extra[@]}") || exit 1
		r=$(field "$line" per_s)
		[ "$w" = 1 ] && one=$r
		note=$(awk -v r="$r" 'BEGIN { printf "%.2f ms per append", 1000 / r }')
		[ "$w" = 32 ] && note="$note; target: >= 1 writer's $one /s: $(awk -v a="$r" -v b="$one" 'BEGIN { print (a >= b) ? "met" : "NOT met" }')"
		row "4. audit appends with fsync ($mode)" "$w writer(s)" "$r /s" "$(field "$line" appends) appends in $(field "$line" seconds) s" "$note"
	done
	"$BUILD/iamgate" audit verify --log "$log" >"$W/verify.out" 2>&1 ||
		die "the benchmark's audit log does not verify: $(cat "$W/verify.out")"
done

fi

# ---- 5. logins per second ----------------------------------------------------------
if want 5; then
printf '%s\n' "${P}l"{0..15} >"$W/login-users"
serve_start "$SOCK5" "$CONFIG_WIDE" "$LOGIN_CLIENTS"
for c in 1 16; do
	per=$(n_of $((c == 1 ? 19 : 6)))
	[ "$per" -gt 19 ] && per=19
	for how in exec socket; do
		echo "bench: 5. logins, $c client(s), $how..." >&2
		svc=iamgate-wide
		[ $how = socket ] && svc=iamgate-wide-sock
		line=$(run_or_die "logins $c $how" drv logins --service $svc --users "$W/login-users" --clients "$c" \
			--per-client "$per" --rounds 3 --reset iamgate --state "$W/state") || exit 1
		row "5. logins/s end to end (auth+account+open+close, STS no added latency)" "$c client(s), $how" "$(field "$line" median_per_s) /s" \
			"$(field "$line" min_per_s) .. $(field "$line" max_per_s) over 3 rounds" "$(field "$line" logins) logins a round"
	done
done
serve_stop

fi

# ---- the table -----------------------------------------------------------------------
{
	echo "## make bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"); build dir (TOTP state, audit log, usersfiles) on $(df -T "$BUILD" | awk 'NR == 2 { print $2 }'), the run directory (grants, sessions) on $RUN_FS"
	echo
	echo "| section | case | median | p10 / p90 (or detail) | ratio / note |"
	echo "| --- | --- | --- | --- | --- |"
	printf '%s\n' "${ROWS[@]}"
} >"$RESULTS"
echo
cat "$RESULTS"
