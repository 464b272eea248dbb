#!/bin/bash
# tests/faults/t_helper.sh - the module fails closed when its helper or the
# configuration cannot be trusted: helper missing, not root-owned, in a
# group-writable directory, a symlink, crashing, hanging, replying garbage
# or a bad grant; config missing, unparsable, unsafe, symlinked.  Each test
# types the RIGHT code, so only the fault can deny it, and asserts the PAM
# result, what the user saw, the module's log line (pam_syslog, captured
# through pam_wrapper) and that no audit line and no grant appeared (the
# helper never decided).  A positive control at the end proves the code and
# setup were good all along.  Also: the helper itself refuses a terminal on
# stdin, arguments and non-root callers.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup
mkdir -p "$T/bin"
chmod 0755 "$T/bin"
GRANTS=$T/run/grants

# fake NAME SCRIPT-BODY: a root-owned 0755 /bin/sh helper in $T/bin.
fake() {
	printf '#!/bin/sh\n%s\n' "$2" >"$T/bin/$1"
	chmod 0755 "$T/bin/$1"
}

# denied NAME LOGPATTERN [MAX_MS]: the last ptl was a clean fail-closed deny.
denied() {
	local why=""
	[ "$RC" -ne 0 ] || why="pamtester succeeded (rc=0)"
	printf '%s\n' "$SEEN" | grep -q "Verification code:" || why="$why; no prompt"
	printf '%s\n' "$SEEN" | grep -q "Authentication failure" || why="$why; no failure verdict"
	seen_nothing_more >/dev/null || why="$why; user saw: $SEEN"
	printf '%s\n' "$LOG" | grep -qE "$2" || why="$why; module log lacks /$2/: $LOG"
	[ "$(acount)" -eq "$A0" ] || why="$why; an audit line appeared: $(new_audit "$A0")"
	[ "$(files_in "$GRANTS")" -eq 0 ] || why="$why; a grant file appeared"
	if [ -n "${3:-}" ] && [ "$MS" -gt "$3" ]; then why="$why; took ${MS} ms (> $3)"; fi
	if [ -z "$why" ]; then t_ok "$1"; else t_fail "$1" "$why"; fi
}

# try NAME HELPER_PATH LOGPATTERN [MAX_MS] [OPS...]: log in as alice with
# the right code through HELPER_PATH (timeout=2), expect a fail-closed deny.
try() {
	local name=$1 helper=$2 pat=$3 max=${4:-}
	HELPER=$helper write_service timeout=2 debug
	A0=$(acount)
	local t0
	t0=$(date +%s%N)
	ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
	MS=$(ms_since "$t0")
	denied "$name" "$pat" "$max"
}

# --- the helper file cannot be trusted ------------------------------------
try "helper missing: denied, module logs the refusal" "$T/bin/nonexistent" \
	'SYSLOG\(3\): helper refused: .*nonexistent'

cp "$HELPER" "$T/bin/notroot"
chown 65534:65534 "$T/bin/notroot"
try "helper not root-owned: denied before exec" "$T/bin/notroot" \
	'SYSLOG\(3\): helper refused: .*notroot'

mkdir -p "$T/gw"
chmod 0775 "$T/gw"
cp "$HELPER" "$T/gw/iamgate-helper"
try "helper in a group-writable directory: denied" "$T/gw/iamgate-helper" \
	'SYSLOG\(3\): helper refused: .*gw'

cp "$HELPER" "$T/bin/gwfile"
chmod 0775 "$T/bin/gwfile"
try "group-writable helper file: denied" "$T/bin/gwfile" 'SYSLOG\(3\): helper refused: .*gwfile'

ln -s "$HELPER" "$T/bin/link"
try "helper reached through a symlink: denied" "$T/bin/link" 'SYSLOG\(3\): helper refused: .*link'

cp "$HELPER" "$T/bin/noexec"
chmod 0644 "$T/bin/noexec"
try "helper not executable: denied" "$T/bin/noexec" 'helper refused: .*noexec is not an executable file'

# --- the helper misbehaves --------------------------------------------------
fake crash 'kill -SEGV $$'
try "helper crashing (SIGSEGV) before reading: denied" "$T/bin/crash" \
	'SYSLOG\(3\): helper .*crash died of signal 11; failing closed'

# The same crash, with the module's write made to come after the helper's
# death: posix_spawn is wrapped to return only once the child has died
# (waitid WNOWAIT leaves it for the module to reap).  The write then meets a
# pipe with no reader, which raises SIGPIPE; its default would kill the PAM
# application (pamtester here, sshd on a bastion) with no verdict and no log.
cat >"$T/spawnwait.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);
int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	spawn_fn real = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
	siginfo_t si;
	int r = real(pid, path, fa, at, argv, envp);

	if (r == 0)
		(void)waitid(P_PID, (id_t)*pid, &si, WEXITED | WNOWAIT);
	return r;
}
CEOF
if gcc -shared -fPIC -O1 -o "$T/spawnwait.so" "$T/spawnwait.c" -ldl; then
	PRELOAD0=$PRELOAD
	PRELOAD="$PRELOAD $T/spawnwait.so"
	try "helper dead (SIGSEGV) before the request is written: no SIGPIPE for the application; denied, its signal logged" \
		"$T/bin/crash" 'SYSLOG\(3\): helper .*crash died of signal 11; failing closed'
	fake quits 'exit 0'
	try "helper exiting 0 before the request is written: denied, logged as such" \
		"$T/bin/quits" 'SYSLOG\(3\): helper .*quits exited without reading the whole request; failing closed'
	# The application's own SIGPIPE state is left as it was: its mask, and
	# a SIGPIPE it already had pending (blocked) is still pending after.
	cat >"$T/sigpipe.c" <<'CEOF'
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	*r = calloc((size_t)n, sizeof(**r));
	for (int i = 0; i < n; i++)
		if (m[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			(*r)[i].resp = strdup((const char *)d);
	return PAM_SUCCESS;
}
int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	pam_handle_t *h;
	sigset_t set, now;
	int r;
	if (argc != 4)
		return 2;
	c.appdata_ptr = argv[2];
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (strcmp(argv[3], "unblocked") != 0)
		sigprocmask(SIG_BLOCK, &set, NULL);
	if (strcmp(argv[3], "pending") == 0)
		raise(SIGPIPE);
	if (pam_start("iamgate", argv[1], &c, &h) != PAM_SUCCESS)
		return 2;
	pam_set_item(h, PAM_RHOST, "127.0.0.1");
	r = pam_authenticate(h, 0);
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("auth=%d blocked=%d", r, sigismember(&now, SIGPIPE));
	sigpending(&now);
	printf(" pending=%d\n", sigismember(&now, SIGPIPE));
	pam_end(h, r);
	return 0;
}
CEOF
	if gcc -O1 -o "$T/bin/sigpipe" "$T/sigpipe.c" -lpam; then
		HELPER=$T/bin/quits write_service timeout=2
		for want in "unblocked auth=7 blocked=0 pending=0" "blocked auth=7 blocked=1 pending=0" \
			"pending auth=7 blocked=1 pending=1"; do
			out=$(env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
				"$T/bin/sigpipe" "${P}alice" "$(code_for $SECRET_A)" "${want%% *}" 2>&1 | grep -v '^PWRAP_' | tail -1)
			if [ "$out" = "${want#* }" ]; then
				t_ok "SIGPIPE ${want%% *} in the application before auth: left so after a broken pipe ($out)"
			else
				t_fail "SIGPIPE ${want%% *} before auth" "want ${want#* }, got: $out"
			fi
		done
		write_service
	else
		t_fail "application SIGPIPE state" "cannot build the probe"
	fi
	PRELOAD=$PRELOAD0
else
	t_fail "helper dead before the request is written" "cannot build the posix_spawn wrapper"
fi

fake crash2 'cat >/dev/null; kill -ABRT $$'
try "helper crashing (SIGABRT) after reading the request: denied" "$T/bin/crash2" \
	'died of signal 6; failing closed'

fake hang "echo \$\$ >$T/hang.pid; exec sleep 60"
try "helper hanging (sleep 60): killed at timeout=2, denied within 10 s" "$T/bin/hang" \
	'SYSLOG\(3\): helper .*hang did not answer within 2 s' 10000
pid=$(cat "$T/hang.pid" 2>/dev/null)
if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then t_ok "the hanging helper was killed, not left behind"; else
	t_fail "hanging helper $pid still alive"
	kill -KILL "$pid" 2>/dev/null
fi

# A valid success reply, but the helper never exits: the reply is not
# trusted until the helper is done, so the overrun is a deny.
G=$(printf 'a%.0s' $(seq 64))
fake replyhang "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"messages\":[],\"env\":{},\"grant\":\"$G\"}'; echo \$\$ >$T/rh.pid; exec sleep 60"
try "helper replying success but never exiting: killed, denied" "$T/bin/replyhang" \
	'did not answer within 2 s' 10000
kill -KILL "$(cat "$T/rh.pid" 2>/dev/null)" 2>/dev/null

# The helper closes its stdout (EOF) but does not exit: the time limit
# still applies to the wait for its exit status.
fake closehang "cat >/dev/null; exec >&-; echo \$\$ >$T/ch.pid; exec sleep 60"
HELPER=$T/bin/closehang write_service timeout=2 debug
A0=$(acount)
t0=$(date +%s%N)
timeout 30 env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
	PAM_WRAPPER_DEBUGLEVEL=0 pamtester -v -I rhost=127.0.0.1 iamgate "${P}alice" authenticate \
	<<<"$(code_for $SECRET_A)" >"$T/ch.out" 2>&1
RC=$?
MS=$(ms_since "$t0")
if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && [ "$MS" -le 10000 ] && grep -q 'did not exit within 2 s' "$T/ch.out"; then
	t_ok "helper closing stdout and hanging: killed at the time limit, denied (${MS} ms)"
else
	t_fail "helper closing stdout and hanging" "rc=$RC (124: pamtester hung) ${MS} ms $(cat "$T/ch.out")"
fi
kill -KILL "$(cat "$T/ch.pid" 2>/dev/null)" 2>/dev/null

# What the helper inherits from the PAM application: nothing.  The caller
# here blocks SIGTERM, ignores SIGPIPE, holds an extra descriptor and has an
# environment; the helper must start with none of it.  (Signals 32 and 33
# are the C library's own: no program can set them, posix_spawn included.)
cat >"$T/probe.c" <<CEOF
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
extern char **environ;
int main(void)
{
	char line[256], buf[4096];
	int n = 0;
	FILE *out = fopen("$T/probe.out", "w"), *st = fopen("/proc/self/status", "r");
	DIR *d;
	struct dirent *e;

	if (out == NULL || st == NULL)
		return 1;
	for (char **v = environ; *v; v++)
		n++;
	fprintf(out, "ENV %d\\nFDS", n);
	d = opendir("/proc/self/fd");
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && (unsigned)atoi(e->d_name) != (unsigned)dirfd(d) &&
		    atoi(e->d_name) != fileno(out) && atoi(e->d_name) != fileno(st))
			fprintf(out, " %s", e->d_name);
	fprintf(out, "\\n");
	while (fgets(line, sizeof(line), st))
		if (strncmp(line, "SigBlk", 6) == 0 || strncmp(line, "SigIgn", 6) == 0)
			fputs(line, out);
	fclose(out);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	puts("{}");
	return 0;
}
CEOF
gcc -O1 -include stdlib.h -o "$T/bin/probe" "$T/probe.c"
chmod 0755 "$T/bin/probe"
HELPER=$T/bin/probe write_service timeout=2
$PY - "$PRELOAD" "$T/pam.d" "${P}alice" <<'PYEOF' >/dev/null 2>&1 3>"$T/held-open"
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
env = {"LD_PRELOAD": sys.argv[1], "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": sys.argv[2],
       "SECRET_LOOKING": "x", "PATH": os.environ["PATH"]}
r, w = os.pipe()
os.write(w, b"123456\n")
os.close(w)
os.dup2(r, 0)
os.execvpe("pamtester", ["pamtester", "iamgate", sys.argv[3], "authenticate"], env)
PYEOF
probe=$(cat "$T/probe.out" 2>/dev/null)
if printf '%s\n' "$probe" | grep -qx 'SigBlk:[[:space:]]*0*' &&
	ign=$(printf '%s\n' "$probe" | sed -n 's/^SigIgn:[[:space:]]*//p') && [ -n "$ign" ] &&
	[ $((0x$ign & ~0x180000000)) -eq 0 ] &&
	[ "$(printf '%s\n' "$probe" | sed -n 's/^FDS //p' | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "0 1 2 " ] &&
	printf '%s\n' "$probe" | grep -qx 'ENV 0'; then
	t_ok "helper starts with no blocked or ignored signal, only fds 0-2, no inherited environment"
else
	t_fail "helper inheritance" "$probe"
fi

fake garbage 'cat >/dev/null; echo "<xml>not json</xml>"'
try "helper replying garbage: denied" "$T/bin/garbage" 'SYSLOG\(3\): helper .*garbage replied garbage; failing closed'

fake empty 'cat >/dev/null'
try "helper replying nothing (exit 0): denied" "$T/bin/empty" 'replied garbage; failing closed'

fake badgrant "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"messages\":[],\"env\":{},\"grant\":\"../../etc/passwd\"}'"
try "valid JSON, success with a bad grant id: denied" "$T/bin/badgrant" 'replied garbage; failing closed'

fake upgrant "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"grant\":\"$(printf 'A%.0s' $(seq 64))\"}'"
try "success with an uppercase-hex grant id: denied" "$T/bin/upgrant" 'replied garbage'

fake nogrant "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"messages\":[],\"env\":{}}'"
HELPER=$T/bin/nogrant write_service timeout=2 debug
A0=$(acount)
ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ "$RC" -ne 0 ] && printf '%s\n' "$SEEN" | grep -q "Authentication failure" && seen_nothing_more; then
	t_ok "success without a grant id: denied (auth success needs a grant)"
else
	t_fail "success without grant" "rc=$RC $OUT"
fi

fake dupkey "cat >/dev/null; echo '{\"result\":\"auth_err\",\"result\":\"success\",\"reason\":\"ok\",\"grant\":\"$G\"}'"
try "reply with a duplicated result key: denied" "$T/bin/dupkey" 'replied garbage'

fake unkres "cat >/dev/null; echo '{\"result\":\"allow\",\"reason\":\"ok\",\"grant\":\"$G\"}'"
HELPER=$T/bin/unkres write_service timeout=2 debug
ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ "$RC" -ne 0 ]; then t_ok "unknown result word: denied"; else t_fail "unknown result allowed"; fi

fake exit3 "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"grant\":\"$G\"}'; exit 3"
try "success reply but non-zero exit: denied" "$T/bin/exit3" 'exited with status 3; failing closed'

fake huge 'cat >/dev/null; printf "{\"result\":\"success\",\"reason\":\""; head -c 100000 /dev/zero | tr "\0" x; printf "\"}"'
try "reply larger than 64 KiB: denied" "$T/bin/huge" 'reply larger than 65536 bytes'

fake msgs "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"messages\":[1,2],\"grant\":\"$G\"}'"
try "messages that are not strings: denied" "$T/bin/msgs" 'replied garbage'

# Session phases fail closed too.
HELPER=$T/bin/crash write_service timeout=2 debug
ptl 127.0.0.1 "${P}alice" "" open_session
if [ "$RC" -ne 0 ] && printf '%s\n' "$LOG" | grep -q 'died of signal 11'; then t_ok "open_session with a crashing helper: session refused"; else t_fail "open_session crash" "rc=$RC $OUT"; fi
HELPER=$T/bin/hang write_service timeout=2 debug
t0=$(date +%s%N)
ptl 127.0.0.1 "${P}alice" "" acct_mgmt
MS=$(ms_since "$t0")
if [ "$RC" -ne 0 ] && [ "$MS" -le 10000 ]; then t_ok "account with a hanging helper: denied in ${MS} ms"; else t_fail "account hang" "rc=$RC ${MS} ms"; fi
kill -KILL "$(cat "$T/hang.pid" 2>/dev/null)" 2>/dev/null

# --- the configuration cannot be trusted -----------------------------------
# try_config NAME CONFIG_PATH: the helper refuses it (debug: the reason is
# logged), the login is denied, and nothing is audited (the audit log's
# path comes from the very file that was refused).
try_config() {
	A0=$(acount)
	CONFIG=$2 write_service timeout=5 debug
	PWDBG=2 ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
	denied "$1" 'SYSLOG\(7\): auth: auth_err \(config_refused\)'
}
GOOD=$CONFIG
try_config "config missing: denied, config_refused" "$T/etc/missing.json"

printf '{ "allowlists": { "office": ["127.0.0.0/8"] ' >"$T/etc/trunc.json"
chmod 0600 "$T/etc/trunc.json"
try_config "config unparsable (truncated JSON): denied" "$T/etc/trunc.json"

cp "$GOOD" "$T/etc/ww.json"
chmod 0666 "$T/etc/ww.json"
try_config "config world-writable: denied" "$T/etc/ww.json"

cp "$GOOD" "$T/etc/gw.json"
chmod 0620 "$T/etc/gw.json"
try_config "config group-writable: denied" "$T/etc/gw.json"

cp "$GOOD" "$T/etc/user.json"
chown 65534:65534 "$T/etc/user.json"
try_config "config not owned by root: denied" "$T/etc/user.json"

ln -s "$GOOD" "$T/etc/link.json"
try_config "config reached through a symlink: denied" "$T/etc/link.json"

ln -s "$T/etc" "$T/etclink"
try_config "config in a symlinked directory: denied" "$T/etclink/iamgate.json"

mkdir -p "$T/gwetc"
chmod 0777 "$T/gwetc"
cp "$GOOD" "$T/gwetc/iamgate.json"
try_config "config in a world-writable directory: denied" "$T/gwetc/iamgate.json"

head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/etc/big.json"
chmod 0600 "$T/etc/big.json"
try_config "config larger than the size cap: denied" "$T/etc/big.json"

# --- positive control: the same setup with the real helper and config ------
write_service timeout=5
A0=$(acount)
ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ "$RC" -eq 0 ] && audit_has "$(last_audit)" event auth decision allow reason ok; then
	t_ok "control: the real helper and config accept the same right code"
else
	t_fail "control login" "rc=$RC $OUT $(last_audit)"
fi

# --- the module wipes the reply it read -------------------------------------
# A helper answers success with a grant id; right after pam_authenticate, a
# C probe in the same process scans the module's own writable memory (its
# data segment and the bss mapped after it) for that id.
cat >"$T/wipe.c" <<'CEOF'
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static const char *code;
static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	(void)d;
	*r = calloc((size_t)n, sizeof(**r));
	for (int i = 0; i < n; i++)
		if (m[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			(*r)[i].resp = strdup(code);
	return PAM_SUCCESS;
}
int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	pam_handle_t *h;
	char line[4400], path[4096], perms[5];
	unsigned long lo, hi, scanned = 0, hits = 0;
	int in_mod = 0, r;
	FILE *maps;
	if (argc != 5)
		return 2;
	code = argv[3];
	if (pam_start("iamgate", argv[2], &c, &h) != PAM_SUCCESS)
		return 2;
	pam_set_item(h, PAM_RHOST, "127.0.0.1");
	r = pam_authenticate(h, 0);
	if ((maps = fopen("/proc/self/maps", "r")) == NULL)
		return 2;
	while (fgets(line, sizeof(line), maps)) {
		/* "lo-hi perms offset dev inode [path]" (no sscanf: house rule) */
		char *e, *f = line;
		path[0] = '\0';
		lo = strtoul(f, &e, 16);
		if (*e != '-')
			continue;
		hi = strtoul(e + 1, &e, 16);
		if (*e != ' ' || strlen(e + 1) < 4)
			continue;
		memcpy(perms, e + 1, 4);
		perms[4] = '\0';
		for (int field = 0; field < 5 && (f = strchr(f, ' ')) != NULL; field++)
			while (*f == ' ')
				f++;
		if (f != NULL && *f == '/') {
			size_t pl = strcspn(f, "\n");
			if (pl < sizeof(path)) {
				memcpy(path, f, pl);
				path[pl] = '\0';
			}
		}
		if (strcmp(path, argv[1]) == 0)
			in_mod = 2;
		else if (in_mod == 2 && path[0] == '\0')
			in_mod = 1; /* the module's bss, right after its segments */
		else
			in_mod = 0;
		if (in_mod && perms[0] == 'r' && perms[1] == 'w') {
			/* Byte by byte, not memcmp: under the ASan build the
			 * runtime's memcmp would object to the module's redzones. */
			const volatile char *p = (const volatile char *)lo;
			size_t ml = strlen(argv[4]), k;
			for (; p + ml <= (const volatile char *)hi; p++) {
				for (k = 0; k < ml && p[k] == argv[4][k]; k++)
					;
				if (k == ml)
					hits++;
			}
			scanned += hi - lo;
		}
	}
	fclose(maps);
	printf("auth=%d scanned=%lu hits=%lu\n", r, scanned, hits);
	pam_end(h, r);
	return 0;
}
CEOF
WG=$(printf 'c%.0s' $(seq 64))
if gcc -O1 -o "$T/bin/wipe" "$T/wipe.c" -lpam; then
	fake wipegrant "cat >/dev/null; echo '{\"result\":\"success\",\"reason\":\"ok\",\"messages\":[],\"env\":{},\"grant\":\"$WG\"}'"
	HELPER=$T/bin/wipegrant write_service timeout=5
	out=$(env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		"$T/bin/wipe" "$(readlink -f "$MODULE")" "${P}alice" 123456 "$WG" 2>&1 | grep -v '^PWRAP_' | tail -5)
	case $out in
	"auth=0 scanned="*" hits=0") t_ok "the module keeps no copy of the helper's reply (a grant id) in its memory after auth ($out)" ;;
	*) t_fail "reply wiped from the module's memory" "$out" ;;
	esac
	write_service
else
	t_fail "reply wiped from the module's memory" "cannot build the probe"
fi

# --- the helper refuses to run outside the module --------------------------
REQ='{"v":1,"phase":"account","config":"'$CONFIG'","user":"'${P}alice'","rhost":"127.0.0.1","service":"x","tty":""}'
out=$(printf '%s' "$REQ" | setpriv --reuid 65534 --regid 65534 --clear-groups "$HELPER" 2>&1)
rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q "must run as root"; then t_ok "helper refuses a non-root caller (exit 2)"; else t_fail "non-root helper" "rc=$rc $out"; fi
out=$(printf '%s' "$REQ" | "$HELPER" extra-arg 2>&1)
rc=$?
if [ $rc -eq 2 ] && ! printf '%s' "$out" | grep -q result; then t_ok "helper refuses arguments (exit 2)"; else t_fail "helper args" "rc=$rc $out"; fi
out=$($PY - "$HELPER" <<'PYEOF' 2>&1
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.run([sys.argv[1]], stdin=s, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={}, timeout=10)
print(p.returncode, p.stdout.decode(), p.stderr.decode())
PYEOF
)
case $out in 2\ *people\ use*) t_ok "helper refuses a terminal on stdin (exit 2, points to iamgate)" ;; *) t_fail "helper tty" "$out" ;; esac
n0=$(acount)
out=$(printf '%s' "$REQ" | "$HELPER")
if [ $? -eq 0 ] && [ "$(printf '%s' "$out" | jq -r .result)" = success ] && [ "$(acount)" -eq $((n0 + 1)) ]; then
	t_ok "control: the same request as root on a pipe is answered and audited"
else
	t_fail "helper control" "$out"
fi
t_done
