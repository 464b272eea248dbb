# tests/e2e/sshd.sh - a throwaway world with a real OpenSSH sshd whose PAM
# stack is pam_iamgate.so, the real ssh client, and the STS test endpoint +
# IMDSv2 emulator (tests/sts).  Source it after tests/lib.sh; used by the
# e2e suites and by tests/demo.sh.
#
# Debian's OpenSSH has no PAMServiceName, so sshd runs under pam_wrapper,
# which makes libpam read the "sshd" service from our own directory.  Every
# port is chosen at run time; every file lives under $E (below $E2E_BASE,
# /run/iamgate-e2e by default: outside the checkout, root-owned 0755 all the
# way up, as the gate's trusted-path checks and the test users want);
# e2e_cleanup (trap EXIT) stops what was started and removes users, groups
# and $E.
#
#   e2e_init                     make $E, the client key, the askpass script
#   e2e_group NAME / e2e_user NAME [GROUP [SUPPLEMENTARY]]
#                                real group / user (home under $E, shell
#                                /bin/sh, an authorized key for the client)
#   e2e_enroll USER SECRET       enroll a base32 TOTP secret
#   e2e_config [AWS_JSON]        write the gate's config ($CONFIG);
#                                on_issue_failure is $E2E_ON_ISSUE_FAILURE
#                                (default continue)
#   sts_start / sts_stop         STS endpoint + IMDS (tests/sts/stsctl.sh)
#   sshd_start / sshd_stop       sshd on 127.0.0.1:$SSHD_PORT
#   e2e_pam_service OPTIONS      rewrite the sshd PAM service's module options
#   serve_start SOCK [N] / serve_stop   iamgate-helper --serve on SOCK
#   code_next USER SECRET        a TOTP code for a step this user has not
#                                used yet and that stays valid >= 30 s
#   ssh_login FROM USER CODE CMD ssh from address FROM; $OUT $ERR $RC $PROMPTS
#   ssh_bg FROM USER CODE CMD NAME   the same, in the background ($E/bg/NAME.*)
#   audit_lines JQ_FILTER        audit lines of this run matching a jq filter

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}
SSH_BIN=${SSH_BIN:-/usr/bin/ssh}
PAMWRAP=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so
[ -f "$PAMWRAP" ] || PAMWRAP=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -1)
E2E_BASE=${E2E_BASE:-/run/iamgate-e2e}
MODULE=${MODULE:-$BUILD/pam_iamgate.so}
HELPER=${HELPER:-$BUILD/iamgate-helper}
CLI=${CLI:-$BUILD/iamgate}
STSCTL=$ROOT/tests/sts/stsctl.sh
# Short unique prefix: user names stay well under 32 characters.
P=${P:-ige$(printf '%04x' $(((($$ << 4) + RANDOM) % 65536)))}
E_USERS=()
E_GROUPS=()
E_BG_PIDS=()
SSHD_PID=
SERVE_PID=
STS_STARTED=0

# e2e_log MSG: a diagnostic line (TAP comment).
e2e_log() { printf '# %s\n' "$*"; }

e2e_require() {
	local missing=() b
	for b in "$SSHD_BIN" "$SSH_BIN" /usr/bin/ssh-keygen /usr/bin/oathtool /usr/bin/jq \
		"$AWS" "$PY" /usr/bin/timeout /usr/sbin/useradd "$MODULE" "$HELPER" "$CLI" "$STSCTL"; do
		[ -x "$b" ] || [ -f "$b" ] || missing+=("$b")
	done
	[ -f "$PAMWRAP" ] || missing+=(libpam_wrapper.so)
	if [ ${#missing[@]} -ne 0 ]; then
		echo "e2e: missing: ${missing[*]} (run tests/deps.sh and make all)" >&2
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "e2e: must run as root (real users, sshd)" >&2
		return 1
	fi
}

e2e_init() {
	e2e_require || return 1
	# The test users must reach their keys, homes and session files, so the
	# run lives outside the checkout (which may sit under a 0700 home such
	# as /root), in a root-owned directory every user can traverse.
	install -d -m 0755 -o root -g root "$E2E_BASE" || return 1
	E=$(mktemp -d "$E2E_BASE/e2e.XXXXXX") || return 1
	chmod 0755 "$E"
	mkdir -p "$E/etc" "$E/log" "$E/run" "$E/home" "$E/keys" "$E/sshd" "$E/pam.d" \
		"$E/client" "$E/bg" "$E/sts"
	chmod 0755 "$E/etc" "$E/log" "$E/run" "$E/home" "$E/keys" "$E/pam.d" "$E/bg"
	chmod 0700 "$E/sshd" "$E/client" "$E/sts"
	CONFIG=$E/etc/iamgate.json
	AUDIT=$E/log/audit.jsonl
	SESSIONS=$E/run/sessions
	: >"$E/codes-typed"
	chmod 0600 "$E/codes-typed"
	ssh-keygen -q -t ed25519 -N '' -C "iamgate-e2e-client" -f "$E/client/id" || return 1
	# The askpass answers the keyboard-interactive prompt with the code in
	# $IG_CODE_FILE and records every prompt it was shown.
	cat >"$E/client/askpass" <<'SH'
#!/bin/sh
printf '%s\n' "$1" >>"$IG_PROMPT_LOG"
case $1 in
*"Verification code"*) exec cat "$IG_CODE_FILE" ;;
esac
exit 1
SH
	chmod 0700 "$E/client/askpass"
	trap e2e_cleanup EXIT
}

e2e_cleanup() {
	local u g p
	for p in "${E_BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sshd_stop
	serve_stop || kill -KILL "$SERVE_PID" 2>/dev/null
	sts_stop
	for u in "${E_USERS[@]}"; do retry userdel "$u" >/dev/null 2>&1; done
	for g in "${E_GROUPS[@]}"; do
		getent group "$g" >/dev/null && retry groupdel "$g" >/dev/null 2>&1
	done
	[ -n "${E:-}" ] && [ -d "$E" ] && [ -z "${E2E_KEEP:-}" ] && rm -rf "$E"
	return 0
}

# retry CMD...: useradd/groupadd fail while another process holds the
# passwd/group lock (parallel test runs): try again, a bounded number of times.
retry() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"$@" && return 0
		sleep 0.$((RANDOM % 9 + 1))
	done
	return 1
}

e2e_group() {
	retry groupadd "$1" || return 1
	E_GROUPS+=("$1")
}

# e2e_user NAME [PRIMARY_GROUP [SUPPLEMENTARY,GROUPS]]
e2e_user() {
	local u=$1 args=(-M -d "$E/home/$1" -s /bin/sh)
	if [ -n "${2:-}" ]; then args+=(-N -g "$2"); else args+=(-U); fi
	[ -n "${3:-}" ] && args+=(-G "$3")
	# -p '*': not locked ("!"), and no password: key + TOTP only.
	retry useradd -p '*' "${args[@]}" "$u" || return 1
	E_USERS+=("$u")
	[ -z "${2:-}" ] && E_GROUPS+=("$u")
	install -d -m 0700 -o "$u" -g "$(id -g "$u")" "$E/home/$u"
	# sshd's StrictModes: root-owned key file in root-owned 0755 directories.
	install -m 0644 "$E/client/id.pub" "$E/keys/$u"
}

e2e_enroll() {
	printf '%s\n' "$2" | "$CLI" enroll --config "$CONFIG" --import-base32 - --no-verify "$1" >/dev/null
}

# e2e_config [AWS_MEMBER]: the gate's config.  Office = 127.0.0.1 and
# 127.0.0.3; pii-fixed = 127.0.0.3 only; 127.0.0.2 is outside everything.
# $E2E_PII_GROUP and $E2E_DEV_GROUP name the two mapped groups.
e2e_config() {
	local aws=${1:-}
	cat >"$CONFIG" <<JSON
{
  "pii_group": "$E2E_PII_GROUP",
  "pii_allow_local": true,
  "allowlists": {
    "office": ["127.0.0.1/32", "127.0.0.3/32"],
    "pii-fixed": ["127.0.0.3/32"]
  },
  "groups": {
    "$E2E_DEV_GROUP": { "allow_from": ["office"], "roles": ["app-readonly"] },
    "$E2E_PII_GROUP": { "allow_from": ["pii-fixed"], "roles": ["rds-snapshot"] }
  },
  "roles": {
    "app-readonly": { "arn": "arn:aws:iam::123456789012:role/iamgate-readonly" },
    "rds-snapshot": { "arn": "arn:aws:iam::123456789012:role/iamgate-pii", "pii": true,
                      "duration_seconds": 900 }
  },
  "totp": { "state_dir": "$E/state", "issuer": "iamgate-demo", "digits": 6,
            "step_seconds": 30, "window": 1, "max_failures": ${E2E_MAX_FAILURES:-3},
            "lockout_seconds": 900 },
  "audit": { "path": "$AUDIT", "syslog": false },
  "session": { "dir": "$SESSIONS", "grant_dir": "$E/run/grants", "grant_ttl_seconds": 120,
               "on_issue_failure": "${E2E_ON_ISSUE_FAILURE:-continue}" }${aws:+,
  $aws}
}
JSON
	chmod 0600 "$CONFIG"
	"$CLI" check --config "$CONFIG" >"$E/check.out" 2>&1 || {
		cat "$E/check.out" >&2
		return 1
	}
}

# sts_start: the STS endpoint (HTTPS, test CA) and the IMDSv2 emulator, with
# a state whose two roles trust only the instance role, require
# SourceIdentity and allow no session tags but the gate's three (the pii one
# requires all three), like the trust policies in the README.  Exports STS_URL,
# STS_CA, IMDS_URL...; $E/ca.pem is a copy of the CA any user may read.
sts_start() {
	local st=$E/sts/state.json out
	$PY "$ROOT/tests/sts/stsutil.py" init-state "$st" || return 1
	jq '.roles = {
	  ("arn:aws:iam::" + .account + ":role/iamgate-readonly"): {
	    "trust": [("arn:aws:iam::" + .account + ":role/" + .imds.role)],
	    "require_source_identity": true, "required_tags": [],
	    "allowed_tags": ["bastion-user", "bastion-source-ip", "bastion-host"],
	    "max_session_duration": 3600 },
	  ("arn:aws:iam::" + .account + ":role/iamgate-pii"): {
	    "trust": [("arn:aws:iam::" + .account + ":role/" + .imds.role)],
	    "require_source_identity": true,
	    "required_tags": ["bastion-user", "bastion-source-ip", "bastion-host"],
	    "allowed_tags": ["bastion-user", "bastion-source-ip", "bastion-host"],
	    "max_session_duration": 3600 } }' "$st" >"$st.new" && mv "$st.new" "$st" || return 1
	chmod 0600 "$st"
	out=$(STS_LIFETIME=${STS_LIFETIME:-900} "$STSCTL" start "$E/sts" --state "$st" 2>&1) || {
		echo "$out" >&2
		return 1
	}
	eval "$out"
	STS_STARTED=1
	install -m 0644 "$STS_CA" "$E/ca.pem"
	mkdir -p "$E/imds-cache"
	chmod 0700 "$E/imds-cache"
}

sts_stop() {
	[ "$STS_STARTED" = 1 ] || return 0
	"$STSCTL" stop "$E/sts" >/dev/null 2>&1
	STS_STARTED=0
}

# The config's aws member for the running STS endpoint + IMDS.
aws_member() {
	cat <<JSON
"aws": { "region": "us-east-1", "sts_endpoint": "$STS_URL", "ca_file": "$STS_CA",
           "timeout_seconds": 5,
           "credentials": { "source": "imds", "imds_endpoint": "$IMDS_URL",
                            "cache_dir": "$E/imds-cache" } }
JSON
}

free_port() {
	$PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# e2e_pam_service OPTIONS: (re)write the "sshd" PAM service: the gate on
# the auth, account and session lines, each with OPTIONS.  libpam reads it at
# every pam_start, so a running sshd uses the new lines from its next login.
e2e_pam_service() {
	# Only the gate: no pam_unix, so nothing else can decide a login.
	cat >"$E/pam.d/sshd.new" <<PAM || return 1
auth     required $MODULE $1
account  required $MODULE $1
session  required $MODULE $1
PAM
	mv -f "$E/pam.d/sshd.new" "$E/pam.d/sshd"
}

# serve_start SOCKET [WORKERS]: the long-lived helper (iamgate-helper --serve)
# on SOCKET with the gate's config (tests/serve_lib.sh).  Sets SERVE_PID,
# SERVE_LOG.
source "$(dirname "${BASH_SOURCE[0]}")/../serve_lib.sh"
serve_start() {
	SERVE_LOG=$E/serve.log
	ig_serve_start "$HELPER" "$1" "$CONFIG" "$SERVE_LOG" --workers "${2:-2}"
}

# serve_stop: SIGTERM the serving helper; wait (at most 10 s) until it is
# gone.  Returns 1 if it is still there.
serve_stop() { ig_serve_stop; }

# sshd_start: write the service file and sshd_config, start sshd on a free
# port (retrying when another process takes the port first), wait until it
# listens.  Sets SSHD_PORT, SSHD_PID, SSHD_LOG, KNOWN_HOSTS.
sshd_start() {
	ig_wait_boot_floor
	local try i
	e2e_pam_service "config=$CONFIG helper=$HELPER ${E2E_MODULE_OPTS:-}" || return 1
	[ -f "$E/sshd/host_ed25519_key" ] ||
		ssh-keygen -q -t ed25519 -N '' -C iamgate-e2e-host -f "$E/sshd/host_ed25519_key" || return 1
	# sshd's privilege separation directory (systemd makes it on a real host).
	[ -d /run/sshd ] || install -d -m 0755 /run/sshd
	SSHD_LOG=$E/sshd/sshd.log
	for try in 1 2 3 4 5; do
		SSHD_PORT=$(free_port) || return 1
		cat >"$E/sshd/sshd_config" <<CFG
ListenAddress 127.0.0.1:$SSHD_PORT
HostKey $E/sshd/host_ed25519_key
PidFile $E/sshd/sshd.pid
UsePAM yes
UseDNS no
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey,keyboard-interactive
AuthorizedKeysFile $E/keys/%u
StrictModes yes
PermitRootLogin no
AllowUsers ${P}*
PermitUserEnvironment no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PrintMotd no
PrintLastLog no
LoginGraceTime 30
MaxAuthTries 6
MaxStartups 30:30:60
ClientAliveInterval 10
LogLevel VERBOSE
CFG
		: >"$SSHD_LOG"
		"$SSHD_BIN" -t -f "$E/sshd/sshd_config" >>"$SSHD_LOG" 2>&1 || {
			cat "$SSHD_LOG" >&2
			return 1
		}
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_PRELOAD="$PAMWRAP" PAM_WRAPPER=1 \
			PAM_WRAPPER_SERVICE_DIR="$E/pam.d" \
			"$SSHD_BIN" -D -e -f "$E/sshd/sshd_config" </dev/null >>"$SSHD_LOG" 2>&1 &
		SSHD_PID=$!
		for i in $(seq 100); do
			grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$SSHD_LOG" && break
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.1
		done
		if grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$SSHD_LOG"; then
			KNOWN_HOSTS=$E/client/known_hosts
			printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
				"$(cut -d' ' -f1,2 "$E/sshd/host_ed25519_key.pub")" >"$KNOWN_HOSTS"
			return 0
		fi
		sshd_stop
		grep -q "Bind to port $SSHD_PORT .*failed\|Cannot bind any address" "$SSHD_LOG" || break
	done
	echo "e2e: sshd did not start:" >&2
	cat "$SSHD_LOG" >&2
	return 1
}

sshd_stop() {
	local i kids
	[ -n "$SSHD_PID" ] || return 0
	if kill -0 "$SSHD_PID" 2>/dev/null; then
		# Its per-connection children first (they outlive the listener),
		# so their sessions close and the gate's close_session runs.
		kids=$(ps -o pid= --ppid "$SSHD_PID" 2>/dev/null)
		[ -n "$kids" ] && kill -TERM $kids 2>/dev/null
		kill -TERM "$SSHD_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SSHD_PID" 2>/dev/null
	fi
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# code_next USER SECRET: the code for the first step this run has not used
# for USER, never earlier than the current step (so it stays valid for at
# least one more step: window 1), waiting when that step is still too far
# ahead (more than one step).  Records the step in $E/steps.USER.
code_next() {
	local u=$1 s=$2 now cur last step
	now=$(date +%s)
	cur=$((now / 30))
	last=$(cat "$E/steps.$u" 2>/dev/null || echo 0)
	step=$((last + 1))
	[ "$step" -lt "$cur" ] && step=$cur
	while [ "$step" -gt $((cur + 1)) ]; do
		sleep $((30 - now % 30)).2
		now=$(date +%s)
		cur=$((now / 30))
	done
	echo "$step" >"$E/steps.$u"
	oathtool --totp -b "$s" -N "@$((step * 30))"
}

# code_wrong SECRET: six digits that are none of the codes of the steps
# around now (so the gate must answer bad_code).
code_wrong() {
	local now c i near=" "
	now=$(date +%s)
	for i in -2 -1 0 1 2 3; do near="$near$(oathtool --totp -b "$1" -N "@$((now + i * 30))") "; done
	for i in $(seq 20); do
		c=$(printf '%06d' $(((RANDOM * 32768 + RANDOM) % 1000000)))
		case $near in *" $c "*) ;; *) echo "$c"; return 0 ;; esac
	done
	return 1
}

# code_reuse USER SECRET: the code of the last step code_next gave USER.
code_reuse() {
	oathtool --totp -b "$2" -N "@$(($(cat "$E/steps.$1") * 30))"
}

# ssh_cmd FROM USER CODE NAME: prepare the argv and environment of one ssh
# run in SSH_ARGV / SSH_ENVV; prompts go to $E/prompts.NAME.
ssh_cmd() {
	local from=$1 user=$2 code=$3 name=$4
	printf '%s\n' "$code" >"$E/client/code.$name"
	chmod 0600 "$E/client/code.$name"
	[ -n "$code" ] && printf '%s\n' "$code" >>"$E/codes-typed"
	: >"$E/prompts.$name"
	SSH_ENVV=(env -i PATH=/usr/bin:/bin DISPLAY= SSH_ASKPASS="$E/client/askpass"
		SSH_ASKPASS_REQUIRE=force IG_CODE_FILE="$E/client/code.$name"
		IG_PROMPT_LOG="$E/prompts.$name")
	SSH_ARGV=(timeout -k 5 "${E2E_SSH_TIMEOUT:-60}" "$SSH_BIN" -F /dev/null -T -n
		-o BatchMode=no -o IdentitiesOnly=yes -o IdentityFile="$E/client/id"
		-o IdentityAgent=none -o UserKnownHostsFile="$KNOWN_HOSTS"
		-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes
		-o PreferredAuthentications=publickey,keyboard-interactive
		-o KbdInteractiveAuthentication=yes -o PasswordAuthentication=no
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10
		-o ServerAliveInterval=5 -o ServerAliveCountMax=3 -o LogLevel=ERROR
		-b "$from" -p "$SSHD_PORT" -l "$user" 127.0.0.1)
}

# ssh_login FROM USER CODE CMD: run CMD over ssh; stdout in $OUT, stderr in
# $ERR, exit status in $RC, the prompts the client was shown in $PROMPTS.
ssh_login() {
	local n=$((${E_SSH_N:-0} + 1))
	E_SSH_N=$n
	ssh_cmd "$1" "$2" "$3" "fg$n"
	"${SSH_ENVV[@]}" "${SSH_ARGV[@]}" "$4" >"$E/out.fg$n" 2>"$E/err.fg$n"
	RC=$?
	OUT=$(cat "$E/out.fg$n")
	ERR=$(cat "$E/err.fg$n")
	PROMPTS=$(cat "$E/prompts.fg$n")
}

# ssh_bg FROM USER CODE CMD NAME: the same in the background; stdout in
# $E/bg/NAME.out, stderr NAME.err, exit status NAME.rc when done.
ssh_bg() {
	ssh_cmd "$1" "$2" "$3" "$5"
	(
		"${SSH_ENVV[@]}" "${SSH_ARGV[@]}" "$4" >"$E/bg/$5.out" 2>"$E/bg/$5.err"
		echo $? >"$E/bg/$5.rc"
	) &
	E_BG_PIDS+=($!)
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# audit_lines JQ_FILTER: the audit lines (compact JSON) for which the filter
# is true.
audit_lines() { jq -c "select($1)" "$AUDIT" 2>/dev/null; }

# audit_count JQ_FILTER
audit_count() { audit_lines "$1" | wc -l; }

# has_line FILE JQ_FILTER: some JSON line of FILE matches (jq 1.6's -e
# looks only at the last input, so count matches instead).
has_line() { jq -c "select($2)" "$1" 2>/dev/null | grep -q .; }

# audit_mark: remember how long the audit log is; audit_since FILTER then
# looks only at lines appended after the mark.
audit_mark() { AUDIT_MARK=$(wc -l <"$AUDIT" 2>/dev/null || echo 0); }
audit_since() { tail -n +$((AUDIT_MARK + 1)) "$AUDIT" | jq -c "select($1)" 2>/dev/null; }
