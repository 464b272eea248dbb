#!/bin/bash
# tests/faults/t_serve.sh - the long-lived helper (iamgate-helper --serve)
# and the module's socket= option, through libpam (pamtester under
# pam_wrapper): start-up refusals, the socket it makes, decisions served by
# its one-request workers (with a helper= that does not exist, so nothing
# else can answer), workers replaced, a changed configuration seen, parallel
# logins, a stuck worker failing closed, the exec fallback only when nobody
# listens, and fail closed on a socket or server that cannot be trusted or a
# client that is not root.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup

NOHELPER=$T/no-such-helper
PY=/usr/bin/python3
SOCK=$SERVE_SOCK
serving() { HELPER=$NOHELPER write_service socket="$SOCK" timeout="${1:-10}" debug; }
workers() { pgrep -P "$SERVE_PID" | wc -l; }
wait_workers() { # N: until the serving helper has N workers again (at most 5 s)
	for _ in $(seq 1 100); do
		[ "$(workers)" -eq "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# refuse NAME PATTERN ARGS...: iamgate-helper ARGS exits 2 saying PATTERN.
refuse() {
	local name=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 2 ] && printf '%s\n' "$out" | grep -qE "$pat"; then
		t_ok "$name"
	else
		t_fail "$name" "rc=$rc out=$out"
	fi
}

# --- start-up refusals ---------------------------------------------------------
refuse "--serve with a relative socket path: refused" 'must be absolute' \
	"$HELPER" --serve run/helper.sock
mkdir -p "$T/gw"
chmod 0775 "$T/gw"
refuse "--serve in a group-writable directory: refused with the fix" \
	'socket directory refused: .*gw is writable by group or others.*chmod go-w' \
	"$HELPER" --serve "$T/gw/helper.sock"
: >"$T/run/plain"
refuse "--serve onto a regular file: refused, the file left alone" 'is not a socket' \
	"$HELPER" --serve "$T/run/plain"
[ -f "$T/run/plain" ] || t_fail "the regular file was removed"
refuse "--workers 0: refused" '1 to 64' "$HELPER" --serve "$SOCK" --workers 0
refuse "--workers 65: refused" '1 to 64' "$HELPER" --serve "$SOCK" --workers 65
refuse "--requests 0: refused" '1 to 100000' "$HELPER" --serve "$SOCK" --requests 0
refuse "unknown --serve option: refused" "unknown or incomplete option '--bogus'" \
	"$HELPER" --serve "$SOCK" --bogus
refuse "--serve as a non-root user: refused" 'must run as root' \
	setpriv --reuid 65534 --regid 65534 --clear-groups "$HELPER" --serve "$SOCK"
[ -e "$SOCK" ] && t_fail "a refused start left a socket" || t_ok "no refused start left a socket"

# --- the socket and its workers ----------------------------------------------
serve_start
if [ "$(stat -c '%F %U %a' "$SOCK")" = "socket root 600" ] && wait_workers 2; then
	t_ok "serving: root-owned 0600 socket, 2 workers ready"
else
	t_fail "socket or workers" "$(stat -c '%F %U %a' "$SOCK") workers=$(workers)"
fi
refuse "a second server on the same socket: refused, the first keeps it" \
	'another helper already serves' "$HELPER" --serve "$SOCK"
[ -S "$SOCK" ] || t_fail "the second server removed the first one's socket"

serving
extra_user s1
A0=$(acount)
ptl 127.0.0.1 "${P}s1" "$(code_for "$SECRET_s1")" authenticate acct_mgmt
if [ "$RC" -eq 0 ] && audit_has "$(new_audit "$A0" | sed -n 1p)" event auth decision allow user "${P}s1" &&
	audit_has "$(new_audit "$A0" | sed -n 2p)" event account decision allow user "${P}s1"; then
	t_ok "auth + account answered through the socket (helper= does not exist), audited allow"
else
	t_fail "served login" "rc=$RC $OUT $(new_audit "$A0")"
fi
A0=$(acount)
ptl 127.0.0.1 "${P}alice" 000000 authenticate
if [ "$RC" -ne 0 ] && audit_has "$(new_audit "$A0")" event auth decision deny reason bad_code; then
	t_ok "wrong code through the socket: denied, audited bad_code"
else
	t_fail "served wrong code" "rc=$RC $(new_audit "$A0")"
fi
"$CLI" unlock --config "$CONFIG" "${P}alice" >/dev/null
if wait_workers 2; then t_ok "after requests the pool still holds 2 workers"; else t_fail "pool" "$(workers)"; fi

# Idle workers hold a configuration loaded earlier: a change must be seen.
cp "$CONFIG" "$T/config.orig"
sed -i 's#"127.0.0.0/8", ##' "$CONFIG"
A0=$(acount)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -ne 0 ] && audit_has "$(new_audit "$A0")" event account decision deny reason rhost_not_allowed; then
	t_ok "configuration edited while workers were idle: the edit decides"
else
	t_fail "config change unseen" "rc=$RC $(new_audit "$A0")"
fi
cp "$T/config.orig" "$CONFIG"
chmod 0600 "$CONFIG"
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -eq 0 ]; then t_ok "configuration restored: allowed again"; else t_fail "restore" "$OUT"; fi
chmod 0666 "$CONFIG"
A0=$(acount)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -ne 0 ] && [ "$(acount)" -eq "$A0" ] || audit_has "$(new_audit "$A0")" reason config_refused; then
	t_ok "configuration made world-writable while workers were idle: refused, denied"
else
	t_fail "untrusted config reused" "rc=$RC $(new_audit "$A0")"
fi
chmod 0600 "$CONFIG"

# More logins at once than workers: they queue, none is lost.
for i in 1 2 3 4 5 6 7 8; do
	(
		ptl 127.0.0.1 "${P}alice" "" acct_mgmt
		echo "$RC" >"$T/par.$i"
	) &
done
wait
ok=$(cat "$T"/par.* | grep -c '^0$')
if [ "$ok" -eq 8 ] && wait_workers 2; then
	t_ok "8 parallel account checks with 2 workers: all 8 allowed, pool refilled"
else
	t_fail "parallel" "allowed=$ok workers=$(workers)"
fi

# A worker that dies is replaced.
kill -KILL "$(pgrep -P "$SERVE_PID" | head -1)"
if wait_workers 2; then t_ok "a killed idle worker is replaced"; else t_fail "killed worker not replaced" "$(workers)"; fi

# A worker that does not answer: the module's time limit, fail closed.
serving 2
pkill -STOP -P "$SERVE_PID"
t0=$(date +%s%N)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
ms=$(ms_since "$t0")
pkill -CONT -P "$SERVE_PID"
if [ "$RC" -ne 0 ] && [ "$ms" -lt 5000 ] && printf '%s\n' "$LOG" | grep -q 'did not answer within 2 s'; then
	t_ok "workers stuck: denied after the 2 s limit (${ms} ms), logged"
else
	t_fail "stuck worker" "rc=$RC ms=$ms $LOG"
fi
serving
wait_workers 2 >/dev/null

# A client that is not root gets nothing: no reply, nothing decided, the
# code not used up.
chmod 0666 "$SOCK"
extra_user s2
code=$(code_for "$SECRET_s2")
A0=$(acount)
got=$(setpriv --reuid 65534 --regid 65534 --clear-groups $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
    print(len(s.recv(65536)))
except (BrokenPipeError, ConnectionResetError):  # closed, the request unread
    print(0)' "$SOCK" "{\"v\":1,\"phase\":\"auth\",\"config\":\"$CONFIG\",\"user\":\"${P}s2\",\"rhost\":\"127.0.0.1\",\"service\":\"iamgate\",\"tty\":\"\",\"code\":\"$code\"}" 2>&1)
chmod 0600 "$SOCK"
ptl 127.0.0.1 "${P}s2" "$code" authenticate
if [ "$got" = 0 ] && [ "$RC" -eq 0 ] && [ "$(new_audit "$A0" | wc -l)" -eq 1 ] &&
	audit_has "$(new_audit "$A0")" event auth decision allow user "${P}s2"; then
	t_ok "non-root client: connection closed unanswered, nothing audited, the code still unused"
else
	t_fail "non-root client" "reply bytes=$got rc=$RC $(new_audit "$A0")"
fi

# --- a worker serves several requests, then is replaced ------------------------
# One worker, 4 requests each: the same process answers, and keeps no
# descriptor of a request (allow and deny paths, a refused non-root peer
# among them); the 5th request comes from its replacement.
serve_stop
SERVE_WORKERS=1 serve_start --requests 4
serving
wait_workers 1
w1=$(pgrep -P "$SERVE_PID")
fds1=$(ls "/proc/$w1/fd" | wc -l)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
rc1=$RC
ptl 198.51.100.9 "${P}alice" "" acct_mgmt
rc2=$RC
ptl 127.0.0.1 "${P}carol" "" acct_mgmt
rc3=$RC
w2=$(pgrep -P "$SERVE_PID")
fds2=$(ls "/proc/$w2/fd" | wc -l)
if [ "$rc1" -eq 0 ] && [ "$rc2" -ne 0 ] && [ "$rc3" -ne 0 ] && [ "$w1" = "$w2" ] && [ "$fds1" -eq "$fds2" ]; then
	t_ok "one worker served 3 requests (allow, deny, deny) and holds no descriptor of them ($fds2 open)"
else
	t_fail "worker reuse" "rc=$rc1/$rc2/$rc3 worker $w1 -> $w2 fds $fds1 -> $fds2"
fi
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -eq 0 ] && wait_workers 1 && [ "$(pgrep -P "$SERVE_PID")" != "$w1" ]; then
	t_ok "after --requests 4 the worker exits and a new one serves"
else
	t_fail "worker not replaced after 4 requests" "rc=$RC worker $(pgrep -P "$SERVE_PID") was $w1"
fi
serve_stop

# Workers that live on must not leak: one worker under valgrind serves 5
# requests of different kinds (auth allow, bad code, account allow and deny,
# a request that is not JSON), exits, and valgrind reports on it.
if [ "${IG_ASAN:-0}" != 1 ]; then
	extra_user s3
	serving 60 # valgrind is slow, more so on a loaded machine
	(
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--log-file="$T/vg.%p" "$HELPER" --serve "$SOCK" --workers 1 --requests 5 \
			--config "$CONFIG" </dev/null >>"$T/serve.log" 2>&1 &
		echo $! >"$T/serve.pid"
	)
	SERVE_PID=$(cat "$T/serve.pid")
	for _ in $(seq 1 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
	ptl 127.0.0.1 "${P}s3" "$(code_for "$SECRET_s3")" authenticate
	r1=$RC
	ptl 127.0.0.1 "${P}bob" 000000 authenticate
	r2=$RC
	ptl 127.0.0.1 "${P}alice" "" acct_mgmt
	r3=$RC
	ptl 198.51.100.9 "${P}alice" "" acct_mgmt
	r4=$RC
	junk=$($PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"not json")
s.shutdown(socket.SHUT_WR)
print(s.recv(4096).decode())' "$SOCK")
	serve_stop
	"$CLI" unlock --config "$CONFIG" "${P}bob" >/dev/null
	errs=$(cat "$T"/vg.* 2>/dev/null)
	if [ "$r1" -eq 0 ] && [ "$r2" -ne 0 ] && [ "$r3" -eq 0 ] && [ "$r4" -ne 0 ] &&
		printf '%s' "$junk" | grep -q bad_request && [ -z "$errs" ]; then
		t_ok "a worker serving 5 requests of different kinds under valgrind: no leak, no error"
	else
		t_fail "valgrind worker" "rc=$r1/$r2/$r3/$r4 junk=$junk valgrind: $errs $LOG"
	fi
	serving
else
	t_ok "valgrind worker check skipped under ASan # SKIP"
fi
serve_start

# --- a worker that becomes the issuer is replaced at once ---------------------
# open_session execs iamgate-issuer in the worker, and issuance may take the
# whole STS budget: meanwhile the other logins must still be served.  One
# worker; a stand-in issuer (next to a copy of the helper, as the helper
# finds it) that takes 4 s; an account check during it must be answered
# within its 2 s limit.
serve_stop
mkdir -p "$T/sbin"
chmod 0755 "$T/sbin"
cp "$HELPER" "$T/sbin/iamgate-helper"
printf '#!/bin/sh\ncat >/dev/null\n: >%s\nsleep 4\necho %s\n' "$T/issuer.started" \
	"'{\"result\":\"session_err\",\"reason\":\"standin\",\"messages\":[],\"env\":{}}'" \
	>"$T/sbin/iamgate-issuer"
chmod 0755 "$T/sbin/iamgate-issuer"
HELPER=$T/sbin/iamgate-helper SERVE_WORKERS=1 serve_start
serving 2
extra_user s4
(ptl 127.0.0.1 "${P}s4" "$(code_for "$SECRET_s4")" authenticate open_session >/dev/null 2>&1) &
slow=$!
for _ in $(seq 1 100); do [ -e "$T/issuer.started" ] && break; sleep 0.05; done
t0=$(date +%s%N)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
ms=$(ms_since "$t0")
wait "$slow"
if [ -e "$T/issuer.started" ] && [ "$RC" -eq 0 ] && [ "$ms" -lt 2000 ]; then
	t_ok "while the only worker runs a slow issuer, a replacement answers another login (${ms} ms)"
else
	t_fail "issuer took the only worker" "issuer started: $([ -e "$T/issuer.started" ] && echo yes || echo no) rc=$RC ${ms} ms $LOG"
fi
serve_stop
serve_start

# --- stop, fallback -------------------------------------------------------------
pid=$SERVE_PID
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
SERVE_PID=""
if ! kill -0 "$pid" 2>/dev/null && [ ! -e "$SOCK" ] && ! pgrep -f -- "--serve $SOCK" >/dev/null; then
	t_ok "SIGTERM: the helper and its workers exit, the socket is removed"
else
	t_fail "stop" "alive=$(pgrep -f -- "--serve $SOCK")"
fi
HELPER=$HELPER write_service socket="$SOCK" debug
PWDBG=3 ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -eq 0 ] && printf '%s\n' "$LOG" | grep -q "no helper serves $SOCK"; then
	t_ok "nobody serving: the module executes helper= (same decision)"
else
	t_fail "fallback" "rc=$RC $LOG"
fi
serving
A0=$(acount)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ "$RC" -ne 0 ] && [ "$(acount)" -eq "$A0" ]; then
	t_ok "nobody serving and no helper to execute: denied"
else
	t_fail "nothing to ask" "rc=$RC"
fi

# A helper killed outright: its workers leave too (they would otherwise go
# on serving the socket, and block a restart); the socket left behind has
# nobody listening, the module falls back; a new server replaces it.
serve_start
wait_workers 2
kids=$(pgrep -P "$SERVE_PID" | tr '\n' ' ')
kill -KILL "$SERVE_PID"
SERVE_PID=""
gone=no
for _ in $(seq 1 100); do
	alive=0
	for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
	[ "$alive" -eq 0 ] && gone=yes && break
	sleep 0.05
done
if [ "$gone" = yes ] && ! pgrep -f -- "--serve $SOCK" >/dev/null; then
	t_ok "helper killed with SIGKILL: its idle workers exit too"
else
	t_fail "orphaned workers" "still running: $(pgrep -af -- "--serve $SOCK")"
	pkill -KILL -f -- "--serve $SOCK"
fi
HELPER=$HELPER write_service socket="$SOCK" debug
PWDBG=3 ptl 127.0.0.1 "${P}alice" "" acct_mgmt
if [ -S "$SOCK" ] && [ "$RC" -eq 0 ] && printf '%s\n' "$LOG" | grep -q "Connection refused; executing"; then
	t_ok "stale socket, nobody listening: the module executes helper="
else
	t_fail "stale socket fallback" "rc=$RC $LOG"
fi
if serve_start && serving && ptl 127.0.0.1 "${P}alice" "" acct_mgmt && [ "$RC" -eq 0 ]; then
	t_ok "a new server replaces the stale socket and serves"
else
	t_fail "restart over stale socket" "$(cat "$T/serve.log") $OUT"
fi
serve_stop

# --- sockets and servers that cannot be trusted: fail closed, no fallback ------
# py_server PATH [UID]: a root-bound socket at PATH (listening as UID when
# given), that records the bytes it receives in PATH.got.
py_server() {
	$PY - "$1" "${2:-0}" <<'PY' &
import os, socket, sys
path, uid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o600)
ready, log = open(path + ".ready", "w"), open(path + ".got", "w")
if uid:
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
s.listen(4)
ready.write("listening\n")
ready.close()
while True:
    c, _ = s.accept()
    got = b""
    c.settimeout(3)
    try:
        while True:
            b = c.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    log.write(str(len(got)) + "\n")
    log.flush()
    c.close()
PY
	PYPID=$!
	for _ in $(seq 1 100); do [ -s "$1.ready" ] && break; sleep 0.05; done
}
# untrusted NAME SOCKPATH PATTERN: a login with a good helper= is denied
# before any helper runs, and the module says why.
untrusted() {
	HELPER=$HELPER write_service socket="$2" timeout=2 debug
	A0=$(acount)
	ptl 127.0.0.1 "${P}alice" "" acct_mgmt
	if [ "$RC" -ne 0 ] && [ "$(acount)" -eq "$A0" ] && printf '%s\n' "$LOG" | grep -qE "$3"; then
		t_ok "$1"
	else
		t_fail "$1" "rc=$RC $LOG $(new_audit "$A0")"
	fi
}
py_server "$T/run/nobody.sock" 65534
untrusted "socket served by a non-root process: denied, no fallback" "$T/run/nobody.sock" \
	'served by uid 65534, not root; failing closed'
if [ ! -s "$T/run/nobody.sock.got" ] || ! grep -qv '^0$' "$T/run/nobody.sock.got"; then
	t_ok "the non-root server received no request bytes"
else
	t_fail "request sent to a non-root server" "$(cat "$T/run/nobody.sock.got")"
fi
kill "$PYPID"
py_server "$T/run/theirs.sock"
chown 65534 "$T/run/theirs.sock"
untrusted "socket file not root-owned: denied, no fallback" "$T/run/theirs.sock" \
	'helper socket refused: .*theirs.sock is owned by uid 65534'
kill "$PYPID"
py_server "$T/gw/gw.sock"
untrusted "socket in a group-writable directory: denied, no fallback" "$T/gw/gw.sock" \
	'helper socket refused: .*gw is writable by group or others'
kill "$PYPID"
untrusted "socket path is a regular file: denied, no fallback" "$T/run/plain" \
	'is not a socket; failing closed'
untrusted "relative socket= option: refused" "run/helper.sock" 'socket= must be an absolute path'
wait 2>/dev/null

t_done
