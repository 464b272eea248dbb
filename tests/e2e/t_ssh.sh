#!/bin/bash
# tests/e2e/t_ssh.sh - the whole path with real parts: the OpenSSH client
# logs in to a real sshd (publickey + keyboard-interactive, the code from
# oathtool) whose PAM stack is pam_iamgate.so; the helper assumes roles at
# the STS test endpoint with base credentials from the IMDSv2 emulator; the
# AWS CLI, run inside the ssh session, proves the credentials work.  Each
# test asserts what the user saw, the files on disk and the audit lines.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/sshd.sh"
T0=$SECONDS

if ! e2e_init; then
	t_fail "e2e setup (see stderr)"
	t_done
	exit 1
fi
E2E_DEV_GROUP=${P}dev
E2E_PII_GROUP=${P}pii
ACCT=123456789012
SECRET_ALICE=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SECRET_BOB=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
SECRET_CAROL=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
SECRET_DAVE=KRUGKIDROVUWG2ZAMJZG653OEBTG66BA
SECRET_ERIN=ONSWG4TFOQQGC3DMN5XW2ZLFOJUW4ZLS
SECRET_FRANK=MZZGC3TLFVZWK4TWMUWW233EMUWWWZLZ
SECRET_GRACE=M5ZGCY3FFVTGC3DMMJQWG2ZNORXXI4BB
A=${P}alice # app developer
B=${P}bob   # app developer and PII-access member
C=${P}carol # app developer: wrong codes, lockout
D=${P}dave  # app developer: two sessions at once
R=${P}erin  # app developer: connects from outside the allowlist
F=${P}frank # app developer: through the serving helper's socket
G=${P}grace # app developer: serving helper stopped (exec fallback)

setup() {
	e2e_group "$E2E_DEV_GROUP" && e2e_group "$E2E_PII_GROUP" &&
		e2e_user "$A" "$E2E_DEV_GROUP" && e2e_user "$B" "$E2E_DEV_GROUP" "$E2E_PII_GROUP" &&
		e2e_user "$C" "$E2E_DEV_GROUP" && e2e_user "$D" "$E2E_DEV_GROUP" &&
		e2e_user "$R" "$E2E_DEV_GROUP" && e2e_user "$F" "$E2E_DEV_GROUP" &&
		e2e_user "$G" "$E2E_DEV_GROUP" &&
		sts_start && e2e_config "$(aws_member)" &&
		e2e_enroll "$A" $SECRET_ALICE && e2e_enroll "$B" $SECRET_BOB &&
		e2e_enroll "$C" $SECRET_CAROL && e2e_enroll "$D" $SECRET_DAVE &&
		e2e_enroll "$R" $SECRET_ERIN && e2e_enroll "$F" $SECRET_FRANK &&
		e2e_enroll "$G" $SECRET_GRACE && sshd_start
}
if setup; then
	t_ok "setup: users, STS endpoint + IMDS, config, sshd on 127.0.0.1:$SSHD_PORT"
else
	t_fail "setup"
	t_done
	exit 1
fi

# The AWS CLI as the remote command, with the session's own environment.
AWSCLI="AWS_CA_BUNDLE=$E/ca.pem aws --endpoint-url $STS_URL --output json --cli-read-timeout 10 --cli-connect-timeout 5"

# tick: how long the previous section took (TAP comment).
TICK=$T0
tick() {
	echo "# ($((SECONDS - TICK)) s)"
	TICK=$SECONDS
}

# diag: TAP comment lines about the last ssh run and the audit tail.
diag() {
	printf 'rc=%s\nstdout: %s\nstderr: %s\nprompts: %s\naudit tail:\n%s\n' "$RC" "$OUT" "$ERR" \
		"$PROMPTS" "$(tail -n 6 "$AUDIT" | jq -c 'del(.prev,.time,.host)')"
}

# field NAME: the value of "NAME=value" in $OUT.
field() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }

# saw_denied: what a refused user sees: ssh fails, "Permission denied",
# the prompt was the gate's, and no remote command ran.
saw_denied() {
	[ "$RC" -eq 255 ] && [ -z "$OUT" ] &&
		printf '%s' "$ERR" | grep -q "Permission denied (keyboard-interactive)" &&
		printf '%s' "$PROMPTS" | grep -q "Verification code:"
}

# no_session_for USER: no open_session/issue line for USER since the mark,
# and no session directory owned by USER.
no_session_for() {
	[ -z "$(audit_since ".user == \"$1\" and (.event == \"open_session\" or .event == \"issue\")")" ] &&
		[ -z "$(find "$SESSIONS" -mindepth 1 -maxdepth 1 -user "$1" 2>/dev/null)" ]
}

# gone SESSION_ID: its directory no longer exists.
gone() { [ ! -e "$SESSIONS/$1" ]; }

tick
# --- 1. allowed login: the AWS CLI works with what the session got ----------
audit_mark
ssh_login 127.0.0.1 "$A" "$(code_next "$A" $SECRET_ALICE)" \
	"echo SID=\$IAMGATE_SESSION; echo CREDS=\$AWS_SHARED_CREDENTIALS_FILE; echo CONF=\$AWS_CONFIG_FILE;
	 echo PROFILE=\$AWS_PROFILE; echo REGION=\$AWS_REGION; echo GRANT=\${IAMGATE_GRANT:-none};
	 echo MODES=\$(stat -c '%U:%a' \"\$(dirname \"\$AWS_SHARED_CREDENTIALS_FILE\")\" \"\$AWS_SHARED_CREDENTIALS_FILE\" \"\$AWS_CONFIG_FILE\");
	 $AWSCLI sts get-caller-identity --profile app-readonly"
SID_A=$(field SID)
arn=$(printf '%s\n' "$OUT" | sed -n '/^{/,/^}/p' | jq -r .Arn 2>/dev/null)
if [ "$RC" -eq 0 ] && [ "$arn" = "arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$A" ]; then
	t_ok "allowed login: aws sts get-caller-identity --profile app-readonly in the session -> $arn"
else
	t_fail "allowed login with working AWS credentials" "$(diag)"
fi
if printf '%s' "$PROMPTS" | grep -qx "($A@127.0.0.1) Verification code: " &&
	[ "$(printf '%s\n' "$PROMPTS" | wc -l)" -eq 1 ]; then
	t_ok "the user was asked once, with the gate's prompt"
else
	t_fail "prompt" "$PROMPTS"
fi
if [ "$(field PROFILE)" = app-readonly ] && [ "$(field REGION)" = us-east-1 ] &&
	[ "$(field CREDS)" = "$SESSIONS/$SID_A/credentials" ] &&
	[ "$(field CONF)" = "$SESSIONS/$SID_A/config" ] && [ "$(field GRANT)" = none ] &&
	[[ $SID_A =~ ^[0-9a-f]{64}$ ]]; then
	t_ok "session env: AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE, AWS_REGION, IAMGATE_SESSION; no IAMGATE_GRANT"
else
	t_fail "session environment" "$(diag)"
fi
if [ "$(field MODES)" = "$A:700 $A:600 $A:600" ]; then
	t_ok "session dir 0700 and both files 0600, owned by the user"
else
	t_fail "credential file owner/mode" "$(field MODES)"
fi
ln_issue=$(audit_since ".event == \"issue\" and .user == \"$A\"")
akid=$(printf '%s' "$ln_issue" | jq -r .access_key_id)
if [ "$(audit_since ".user == \"$A\" and .service == \"sshd\"" | jq -r '[.event, .decision, .reason] | join(":")' | tr '\n' ' ')" = \
	"auth:allow:ok account:allow:ok issue:allow:ok open_session:allow:ok close_session:allow:credentials_removed " ]; then
	t_ok "audit: auth, account, issue, open_session, close_session, in order"
else
	t_fail "audit sequence" "$(audit_since ".user == \"$A\"")"
fi
if [ "$(printf '%s' "$ln_issue" | jq -r '[.rhost, .role, .pii, .source_identity, .assumed_role_arn] | map(tostring) | join(" ")')" = \
	"127.0.0.1 app-readonly false $A arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$A" ] &&
	[ "$(audit_since ".event == \"open_session\" and .user == \"$A\"" | jq -r '"\(.session) \(.roles_issued)"')" = "$SID_A 1" ]; then
	t_ok "audit issue line: role, SourceIdentity, assumed-role ARN; open_session names the session"
else
	t_fail "audit issue line" "$ln_issue"
fi
# The STS endpoint saw AssumeRole with SourceIdentity and tags, then the
# CLI's GetCallerIdentity signed with exactly the issued key.
if has_line "$STS_LOG" ".action == \"AssumeRole\" and .issued_access_key_id == \"$akid\"
	and .source_identity == \"$A\" and .tags[\"bastion-user\"] == \"$A\" and .tags[\"bastion-source-ip\"] == \"127.0.0.1\"" &&
	has_line "$STS_LOG" ".action == \"GetCallerIdentity\" and .access_key_id == \"$akid\"
	and .signature_ok == true and .result == \"ok\""; then
	t_ok "STS: AssumeRole with SourceIdentity and session tags; the CLI signed with the issued key ($akid)"
else
	t_fail "STS log" "$(tail -n 3 "$STS_LOG")"
fi

# The helper's own credentials: the instance role through IMDSv2 (session
# token first, then the role's credentials with it), no IMDSv1 request.
if has_line "$IMDS_LOG" '.method == "PUT" and .path == "/latest/api/token" and .result == "ok"' &&
	has_line "$IMDS_LOG" '.method == "GET" and (.path | startswith("/latest/meta-data/iam/security-credentials/iamgate-bastion-instance"))
	and .token_ok == true and .result == "ok"' &&
	! has_line "$IMDS_LOG" '.method == "GET" and .token_present != true'; then
	t_ok "IMDSv2: the helper got its base credentials with a session token"
else
	t_fail "IMDSv2 use" "$(cat "$IMDS_LOG")"
fi
tick
# --- 2. logout removes the credential files ---------------------------------
if wait_for 10 gone "$SID_A"; then
	t_ok "logout: the session directory is removed"
else
	t_fail "logout removes credentials" "$(ls -la "$SESSIONS/$SID_A" 2>&1)"
fi
# A held session: the files exist on disk (seen by root) while it lives.
audit_mark
ssh_bg 127.0.0.1 "$A" "$(code_next "$A" $SECRET_ALICE)" \
	"echo SID=\$IAMGATE_SESSION; i=0; while [ ! -e $E/bg/hold.release ] && [ \$i -lt 300 ]; do sleep 0.2; i=\$((i+1)); done" hold
if wait_for 20 grep -qs '^SID=' "$E/bg/hold.out"; then
	sid=$(sed -n 's/^SID=//p' "$E/bg/hold.out")
	st=$(stat -c '%U:%G:%a' "$SESSIONS/$sid" "$SESSIONS/$sid/credentials" "$SESSIONS/$sid/config" 2>&1 | tr '\n' ' ')
	if [ "$st" = "$A:$E2E_DEV_GROUP:700 $A:$E2E_DEV_GROUP:600 $A:$E2E_DEV_GROUP:600 " ] &&
		[ "$(stat -c '%U:%a' "$SESSIONS")" = root:711 ] &&
		grep -q '^\[app-readonly\]$' "$SESSIONS/$sid/credentials" &&
		grep -q '^aws_session_token = ' "$SESSIONS/$sid/credentials"; then
		t_ok "while logged in: credentials on disk, user-owned 0600 in 0700, below root 0711"
	else
		t_fail "files during the session" "$st $(stat -c '%U:%a' "$SESSIONS")"
	fi
	touch "$E/bg/hold.release"
	if wait_for 15 test -e "$E/bg/hold.rc" && [ "$(cat "$E/bg/hold.rc")" = 0 ] && wait_for 10 gone "$sid" &&
		[ -n "$(audit_since ".event == \"close_session\" and .user == \"$A\" and .reason == \"credentials_removed\"")" ]; then
		t_ok "logout of the held session: directory gone, close_session credentials_removed audited"
	else
		t_fail "logout of the held session" "$(ls -la "$SESSIONS" 2>&1; audit_since 'true')"
	fi
else
	t_fail "held session did not start" "$(cat "$E/bg/hold.err")"
	t_fail "logout of the held session"
fi

tick
# --- 3. PII-group member from the fixed address: both roles -----------------
audit_mark
ssh_login 127.0.0.3 "$B" "$(code_next "$B" $SECRET_BOB)" \
	"echo PROFILE=\${AWS_PROFILE:-none}; grep '^\[' \"\$AWS_SHARED_CREDENTIALS_FILE\" | tr '\n' ' '; echo;
	 for p in app-readonly rds-snapshot; do $AWSCLI sts get-caller-identity --profile \$p --query Arn --output text; done"
if [ "$RC" -eq 0 ] &&
	printf '%s\n' "$OUT" | grep -qx "arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$B" &&
	printf '%s\n' "$OUT" | grep -qx "arn:aws:sts::$ACCT:assumed-role/iamgate-pii/$B" &&
	printf '%s\n' "$OUT" | grep -qx '\[app-readonly\] \[rds-snapshot\] ' && [ "$(field PROFILE)" = none ]; then
	t_ok "PII member from 127.0.0.3 (pii-fixed): both profiles work in the AWS CLI; no default profile"
else
	t_fail "PII member from the fixed address" "$(diag)"
fi
if [ "$(audit_since ".event == \"issue\" and .user == \"$B\" and .decision == \"allow\"" | jq -r .role | sort | tr '\n' ' ')" = "app-readonly rds-snapshot " ] &&
	[ -n "$(audit_since ".event == \"issue\" and .role == \"rds-snapshot\" and .pii == true and .source_identity == \"$B\" and .rhost == \"127.0.0.3\"")" ]; then
	t_ok "audit: both roles issued, the pii one with SourceIdentity $B from 127.0.0.3"
else
	t_fail "audit for the PII member" "$(audit_since 'true')"
fi
if has_line "$STS_LOG" ".action == \"AssumeRole\" and (.role_arn | endswith(\":role/iamgate-pii\"))
	and .source_identity == \"$B\" and .tags[\"bastion-source-ip\"] == \"127.0.0.3\""; then
	t_ok "STS: the pii role was assumed with SourceIdentity and source-ip tag"
else
	t_fail "STS pii AssumeRole" "$(grep AssumeRole "$STS_LOG" | tail -n 2)"
fi

tick
# --- 4. PII-group member from a non-fixed address: only non-pii roles --------
audit_mark
ssh_login 127.0.0.1 "$B" "$(code_next "$B" $SECRET_BOB)" \
	"echo PROFILE=\${AWS_PROFILE:-none}; grep '^\[' \"\$AWS_SHARED_CREDENTIALS_FILE\" | tr '\n' ' '; echo;
	 $AWSCLI sts get-caller-identity --query Arn --output text;
	 $AWSCLI sts get-caller-identity --profile rds-snapshot --query Arn --output text 2>&1; echo PII_RC=\$?"
if [ "$RC" -eq 0 ] && [ "$(field PROFILE)" = app-readonly ] &&
	printf '%s\n' "$OUT" | grep -qx '\[app-readonly\] ' &&
	printf '%s\n' "$OUT" | grep -qx "arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$B" &&
	printf '%s\n' "$OUT" | grep -q "profile (rds-snapshot) could not be found" &&
	[ "$(field PII_RC)" != 0 ] && [ -n "$(field PII_RC)" ]; then
	t_ok "PII member from 127.0.0.1: only app-readonly; --profile rds-snapshot does not exist"
else
	t_fail "PII member from a non-fixed address" "$(diag)"
fi
if [ -n "$(audit_since ".event == \"issue\" and .user == \"$B\" and .role == \"rds-snapshot\" and .decision == \"deny\" and .reason == \"pii_source_not_fixed\"")" ] &&
	[ "$(audit_since ".event == \"issue\" and .user == \"$B\" and .decision == \"allow\"" | jq -r .role)" = app-readonly ] &&
	! has_line "$STS_LOG" ".action == \"AssumeRole\" and (.role_arn | endswith(\":role/iamgate-pii\"))
	and .tags[\"bastion-source-ip\"] == \"127.0.0.1\""; then
	t_ok "audit: rds-snapshot refused pii_source_not_fixed, never asked of STS"
else
	t_fail "audit for the non-fixed PII login" "$(audit_since 'true')"
fi

tick
# --- 5. replayed code --------------------------------------------------------
audit_mark
ssh_login 127.0.0.1 "$B" "$(code_reuse "$B" $SECRET_BOB)" "echo SHOULD-NOT-RUN"
if saw_denied && [ "$(audit_since ".user == \"$B\"" | jq -r '[.event, .decision, .reason] | join(":")')" = "auth:deny:replayed_code" ] &&
	no_session_for "$B"; then
	t_ok "replayed code: Permission denied, audited replayed_code, nothing issued"
else
	t_fail "replayed code" "$(diag)"
fi

tick
# --- 6. wrong code -------------------------------------------------------------
audit_mark
bad=$(code_wrong $SECRET_CAROL)
ssh_login 127.0.0.1 "$C" "$bad" "echo SHOULD-NOT-RUN"
if saw_denied && [ "$(audit_since ".user == \"$C\"" | jq -r '[.event, .decision, .reason, .failures] | join(":")')" = "auth:deny:bad_code:1" ] &&
	no_session_for "$C"; then
	t_ok "wrong code: Permission denied, audited bad_code (failure 1), nothing issued"
else
	t_fail "wrong code" "$(diag)"
fi

tick
# --- 7. address outside the allowlist ------------------------------------------
audit_mark
ssh_login 127.0.0.2 "$R" "$(code_next "$R" $SECRET_ERIN)" "echo SHOULD-NOT-RUN"
if saw_denied && [ -n "$(audit_since ".event == \"auth\" and .user == \"$R\" and .rhost == \"127.0.0.2\" and .decision == \"deny\" and .reason == \"rhost_not_allowed\"")" ] &&
	[ -z "$(audit_since ".user == \"$R\" and .decision == \"allow\"")" ] && no_session_for "$R"; then
	t_ok "from 127.0.0.2 (outside every allowlist): Permission denied, audited rhost_not_allowed"
else
	t_fail "address outside the allowlist" "$(diag)"
fi
# The same user and a fresh code from an allowed address: it was the address.
ssh_login 127.0.0.1 "$R" "$(code_next "$R" $SECRET_ERIN)" "echo IN"
if [ "$RC" -eq 0 ] && [ "$OUT" = IN ]; then t_ok "the same user from 127.0.0.1 gets in"; else t_fail "control login" "$(diag)"; fi

tick
# --- 8. locked-out user ----------------------------------------------------------
audit_mark
for _ in 2 3; do ssh_login 127.0.0.1 "$C" "$bad" "echo SHOULD-NOT-RUN"; done
if saw_denied && [ -n "$(audit_since ".event == \"lockout\" and .user == \"$C\" and .reason == \"too_many_failures\"")" ]; then
	t_ok "third wrong code: denied, lockout audited"
else
	t_fail "lockout event" "$(diag)"
fi
audit_mark
ssh_login 127.0.0.1 "$C" "$(code_next "$C" $SECRET_CAROL)" "echo SHOULD-NOT-RUN"
if saw_denied && [ "$(audit_since ".user == \"$C\"" | jq -r '[.event, .decision, .reason] | join(":")')" = "auth:deny:locked_out" ] &&
	no_session_for "$C"; then
	t_ok "locked-out user with the right code: Permission denied, audited locked_out"
else
	t_fail "locked-out user" "$(diag)"
fi
if "$CLI" status --config "$CONFIG" "$C" 2>&1 | grep -qi "lock"; then
	t_ok "iamgate status shows the lockout"
else
	t_fail "status" "$("$CLI" status --config "$CONFIG" "$C" 2>&1)"
fi
"$CLI" unlock --config "$CONFIG" "$C" >/dev/null
ssh_login 127.0.0.1 "$C" "$(code_next "$C" $SECRET_CAROL)" "echo IN"
if [ "$RC" -eq 0 ] && [ "$OUT" = IN ]; then t_ok "after iamgate unlock a fresh code gets in"; else t_fail "after unlock" "$(diag)"; fi

tick
# --- 9. two simultaneous sessions of one user ------------------------------------
audit_mark
hold="i=0; while [ ! -e $E/bg/\$IAMGATE_SESSION.release ] && [ \$i -lt 300 ]; do sleep 0.2; i=\$((i+1)); done"
ssh_bg 127.0.0.1 "$D" "$(code_next "$D" $SECRET_DAVE)" \
	"echo SID=\$IAMGATE_SESSION; $AWSCLI sts get-caller-identity --query Arn --output text; echo READY; $hold" s1
wait_for 30 grep -qs '^READY' "$E/bg/s1.out"
ssh_bg 127.0.0.1 "$D" "$(code_next "$D" $SECRET_DAVE)" \
	"echo SID=\$IAMGATE_SESSION; $AWSCLI sts get-caller-identity --query Arn --output text; echo READY; $hold" s2
if wait_for 30 grep -qs '^READY' "$E/bg/s2.out"; then
	s1=$(sed -n 's/^SID=//p' "$E/bg/s1.out")
	s2=$(sed -n 's/^SID=//p' "$E/bg/s2.out")
	if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] &&
		[ "$(stat -c '%U:%a' "$SESSIONS/$s1" "$SESSIONS/$s2" | tr '\n' ' ')" = "$D:700 $D:700 " ] &&
		! cmp -s "$SESSIONS/$s1/credentials" "$SESSIONS/$s2/credentials" &&
		[ "$(grep -hx "arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$D" "$E/bg/s1.out" "$E/bg/s2.out" | wc -l)" -eq 2 ]; then
		t_ok "two sessions at once: two directories, different credentials, both work in the CLI"
	else
		t_fail "two simultaneous sessions" "s1=$s1 s2=$s2 $(cat "$E/bg/s1.out" "$E/bg/s2.out" "$E/bg/s1.err" "$E/bg/s2.err")"
	fi
	touch "$E/bg/$s1.release"
	if wait_for 15 test -e "$E/bg/s1.rc" && wait_for 10 gone "$s1" && [ -e "$SESSIONS/$s2/credentials" ]; then
		t_ok "ending the first session removes only its own files"
	else
		t_fail "first logout" "$(ls -la "$SESSIONS" 2>&1)"
	fi
	touch "$E/bg/$s2.release"
	if wait_for 15 test -e "$E/bg/s2.rc" && wait_for 10 gone "$s2" &&
		[ "$(audit_since ".event == \"open_session\" and .user == \"$D\"" | jq -r .session | sort -u | wc -l)" -eq 2 ] &&
		[ "$(audit_since ".event == \"close_session\" and .user == \"$D\" and .reason == \"credentials_removed\"" | wc -l)" -eq 2 ]; then
		t_ok "ending the second removes its files; two open_session and two close_session audited"
	else
		t_fail "second logout" "$(ls -la "$SESSIONS" 2>&1; audit_since "true")"
	fi
else
	t_fail "two simultaneous sessions did not both start" "$(cat "$E/bg/s1.err" "$E/bg/s2.err")"
	t_fail "first logout"
	t_fail "second logout"
fi

tick
# --- 10. the long-lived helper (iamgate-helper --serve) on socket= ---------------
# helper= names no file while the socket serves, so whatever the gate decides
# came through the socket: auth, account, open_session (the worker execs
# iamgate-issuer from its own directory) and close_session.
SOCK=$E/srv/helper.sock
NOHELPER=$E/srv/no-such-iamgate-helper
install -d -m 0755 -o root -g root "$E/srv"
# workers: the serving parent's children (open_session ends the one that execs the issuer).
workers() { ps -o pid= --ppid "$SERVE_PID" 2>/dev/null | wc -l; }
if serve_start "$SOCK" 2 && [ "$(stat -c '%U:%a:%F' "$SOCK")" = "root:600:socket" ] &&
	wait_for 5 test "$(workers)" -eq 2; then
	t_ok "iamgate-helper --serve: root 0600 socket in a root-owned path, 2 workers ready"
else
	t_fail "serving helper start" "$(cat "$E/serve.log" 2>&1; ls -la "$E/srv")"
fi
e2e_pam_service "config=$CONFIG helper=$NOHELPER socket=$SOCK"
audit_mark
ssh_login 127.0.0.1 "$F" "$(code_next "$F" $SECRET_FRANK)" \
	"echo SID=\$IAMGATE_SESSION; $AWSCLI sts get-caller-identity --profile app-readonly --query Arn --output text"
sid=$(field SID)
seq_f() { audit_since ".user == \"$F\" and .service == \"sshd\"" | jq -r '[.event, .decision, .reason] | join(":")' | tr '\n' ' '; }
if [ "$RC" -eq 0 ] && [[ $sid =~ ^[0-9a-f]{64}$ ]] &&
	printf '%s\n' "$OUT" | grep -qx "arn:aws:sts::$ACCT:assumed-role/iamgate-readonly/$F"; then
	t_ok "login through the socket (helper= does not exist): the AWS CLI in the session is iamgate-readonly/$F"
else
	t_fail "login through the serving helper" "$(diag)"
fi
if wait_for 10 gone "$sid" && wait_for 5 test "$(seq_f)" = \
	"auth:allow:ok account:allow:ok issue:allow:ok open_session:allow:ok close_session:allow:credentials_removed "; then
	t_ok "audit through the socket: auth, account, issue, open_session, close_session; session dir removed"
else
	t_fail "audit through the socket" "$(seq_f)"
fi
if kill -0 "$SERVE_PID" 2>/dev/null && wait_for 5 test "$(workers)" -eq 2; then
	t_ok "the serving helper is still up with 2 workers ready (used ones replaced)"
else
	t_fail "serving helper after the login" "workers=$(workers) $(cat "$E/serve.log")"
fi
audit_mark
bad=$(code_wrong $SECRET_FRANK)
ssh_login 127.0.0.1 "$F" "$bad" "echo SHOULD-NOT-RUN"
if saw_denied && [ "$(audit_since ".user == \"$F\"" | jq -r '[.event, .decision, .reason, .failures] | join(":")')" = "auth:deny:bad_code:1" ] &&
	no_session_for "$F"; then
	t_ok "wrong code through the socket: Permission denied, audited bad_code, nothing issued"
else
	t_fail "wrong code through the socket" "$(diag)"
fi
if serve_stop && [ ! -e "$SOCK" ]; then
	t_ok "SIGTERM: the serving helper exits and removes its socket"
else
	t_fail "serving helper stop" "$(ls -la "$E/srv"; cat "$E/serve.log")"
fi
# Nothing listens: the module falls back to exec'ing helper=.
e2e_pam_service "config=$CONFIG helper=$HELPER socket=$SOCK"
audit_mark
ssh_login 127.0.0.1 "$G" "$(code_next "$G" $SECRET_GRACE)" "echo IN"
if [ "$RC" -eq 0 ] && [ "$OUT" = IN ] &&
	[ -n "$(audit_since ".event == \"open_session\" and .user == \"$G\" and .decision == \"allow\"")" ]; then
	t_ok "serving helper stopped, helper= exists: the login works through the exec fallback"
else
	t_fail "exec fallback" "$(diag)"
fi
# Nothing listens and nothing to exec: denied, and no helper decided anything.
e2e_pam_service "config=$CONFIG helper=$NOHELPER socket=$SOCK"
audit_mark
ssh_login 127.0.0.1 "$G" "$(code_next "$G" $SECRET_GRACE)" "echo SHOULD-NOT-RUN"
if [ "$RC" -eq 255 ] && [ -z "$OUT" ] && printf '%s' "$ERR" | grep -q "Permission denied" &&
	[ -z "$(audit_since '.decision == "allow"')" ] && [ -z "$(audit_since ".user == \"$G\"")" ] &&
	no_session_for "$G"; then
	t_ok "serving helper stopped, helper= missing: Permission denied, no allow line, nothing issued"
else
	t_fail "nothing serving and no helper" "$(diag)"
fi
e2e_pam_service "config=$CONFIG helper=$HELPER ${E2E_MODULE_OPTS:-}"

tick
# --- the audit log as a whole --------------------------------------------------
if out=$("$CLI" audit verify --log "$AUDIT" 2>&1); then
	t_ok "iamgate audit verify: chain intact ($(printf '%s' "$out" | head -n 1))"
else
	t_fail "audit verify" "$out"
fi
if ! jq -c 'paths | map(tostring) | any(. == "code" or . == "secret" or . == "SecretAccessKey"
	or . == "secret_access_key" or . == "SessionToken" or . == "session_token")' "$AUDIT" | grep -q true &&
	! jq -r '.. | strings' "$AUDIT" | grep -qxFf "$E/codes-typed" &&
	! grep -qF -e $SECRET_ALICE -e $SECRET_BOB -e $SECRET_CAROL "$AUDIT" &&
	! grep -q '"aws_secret_access_key\|aws_session_token' "$AUDIT" "$SSHD_LOG"; then
	t_ok "no code, TOTP secret or AWS secret in the audit log or the sshd log"
else
	t_fail "secrets in logs"
fi
if [ -z "$(ls -A "$SESSIONS")" ] && [ -z "$(ls -A "$E/run/grants" 2>/dev/null)" ]; then
	t_ok "every session directory and grant is gone"
else
	t_fail "leftovers" "$(ls -la "$SESSIONS" "$E/run/grants")"
fi
echo "# e2e wall time: $((SECONDS - T0)) s"
t_done
