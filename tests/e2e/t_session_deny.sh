#!/bin/bash
# tests/e2e/t_session_deny.sh - a refused session phase through the real
# sshd.  With on_issue_failure "deny" and STS down, pam_iamgate fails
# open_session; OpenSSH then restricts the connection and the child it
# forks for the session exits 254 before the user's command runs.  This
# suite keeps that proven: no command output, no trace of the command on
# disk, exit status 254, sshd's own record of the failed pam_open_session,
# and the gate's open_session deny in the audit log.  Controls: the same
# command with STS up runs, and with on_issue_failure "continue" and STS
# down it runs without credentials.  (sshd shows the session's PAM
# messages on stdout before its child exits: the user sees the gate's
# refusal and nothing else.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/sshd.sh"

if ! e2e_init; then
	t_fail "e2e setup (see stderr)"
	t_done
	exit 1
fi
E2E_DEV_GROUP=${P}dev
E2E_PII_GROUP=${P}pii
E2E_ON_ISSUE_FAILURE=deny
U1=${P}una  # STS up: the control
U2=${P}ugo  # STS down, deny
U3=${P}uma  # STS down, continue
S1=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
S2=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
S3=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
setup() {
	e2e_group "$E2E_DEV_GROUP" && e2e_group "$E2E_PII_GROUP" &&
		e2e_user "$U1" "$E2E_DEV_GROUP" && e2e_user "$U2" "$E2E_DEV_GROUP" &&
		e2e_user "$U3" "$E2E_DEV_GROUP" &&
		sts_start && e2e_config "$(aws_member)" &&
		e2e_enroll "$U1" $S1 && e2e_enroll "$U2" $S2 && e2e_enroll "$U3" $S3 && sshd_start
}
if setup; then
	t_ok "setup: users, STS endpoint + IMDS, on_issue_failure deny, sshd on 127.0.0.1:$SSHD_PORT"
else
	t_fail "setup"
	t_done
	exit 1
fi
diag() {
	printf 'rc=%s\nstdout: %s\nstderr: %s\naudit tail:\n%s\n' "$RC" "$OUT" "$ERR" \
		"$(tail -n 4 "$AUDIT" | jq -c 'del(.prev,.time,.host)')"
}
# The remote command: says so on stdout and leaves a file in the home.
CMD='echo "command ran as $(id -un)"; echo "key=${AWS_SHARED_CREDENTIALS_FILE:-none}"; touch "$HOME/ran"'
# opened USER: decision, reason and on_issue_failure of USER's open_session line.
opened() {
	jq -r --arg u "$1" 'select(.event == "open_session" and .user == $u) | "\(.decision) \(.reason) \(.on_issue_failure // "-")"' "$AUDIT" | tail -n 1
}

# --- control: STS up ----------------------------------------------------
ssh_login 127.0.0.1 "$U1" "$(code_next "$U1" $S1)" "$CMD"
if [ "$RC" -eq 0 ] && grep -qx "command ran as $U1" <<<"$OUT" && grep -q "^key=$SESSIONS/" <<<"$OUT" &&
	[ -e "$E/home/$U1/ran" ] && [ "$(opened "$U1")" = "allow ok -" ]; then
	t_ok "STS up: the command runs with credentials (open_session allow ok)"
else
	t_fail "STS up: control login" "$(diag)"
fi

# --- STS down, on_issue_failure deny ------------------------------------
"$STSCTL" stop "$E/sts" sts >/dev/null 2>&1
if ! curl -s -o /dev/null --max-time 5 --cacert "$STS_CA" "$STS_URL"; then
	t_ok "STS stopped (its port refuses)"
else
	t_fail "STS still answers at $STS_URL"
fi
n0=$(wc -l <"$SSHD_LOG")
ssh_login 127.0.0.1 "$U2" "$(code_next "$U2" $S2)" "$CMD"
# sshd shows the PAM messages (display_loginmsg) before the child exits:
# the gate's refusal is all the user gets.
if [ "$RC" -eq 254 ] && [ "$OUT" = "iamgate: AWS credentials could not be issued; login refused." ] &&
	[ ! -e "$E/home/$U2/ran" ]; then
	t_ok "STS down, deny: only the gate's refusal, no command output, nothing ran, ssh exits 254"
else
	t_fail "STS down, deny: the command must not run" "$(diag)"
fi
if [ "$(opened "$U2")" = "deny connect_failed deny" ] &&
	[ "$(audit_count "select(.user == \"$U2\" and .event == \"auth\" and .decision == \"allow\")")" -eq 1 ]; then
	t_ok "audit: auth allowed, then open_session deny connect_failed with on_issue_failure deny"
else
	t_fail "audit of the refused session: '$(opened "$U2")'" "$(diag)"
fi
sshd_said=$(tail -n +"$((n0 + 1))" "$SSHD_LOG")
if grep -q "PAM: pam_open_session(): " <<<"$sshd_said"; then
	t_ok "sshd logged the failed pam_open_session"
else
	t_fail "sshd log" "$sshd_said"
fi
if [ -z "$(find "$SESSIONS" -mindepth 1 -maxdepth 1 2>/dev/null)" ]; then
	t_ok "no credential directory was left"
else
	t_fail "credential directories left" "$(ls -l "$SESSIONS")"
fi

# --- STS down, on_issue_failure continue --------------------------------
E2E_ON_ISSUE_FAILURE=continue
e2e_config "$(aws_member)"
ssh_login 127.0.0.1 "$U3" "$(code_next "$U3" $S3)" "$CMD"
if [ "$RC" -eq 0 ] && grep -qx "command ran as $U3" <<<"$OUT" && grep -qx "key=none" <<<"$OUT" &&
	[ "$(opened "$U3")" = "allow none_issued -" ]; then
	t_ok "STS down, continue: the command runs, without credentials (open_session allow none_issued)"
else
	t_fail "STS down, continue" "$(diag)"
fi
t_done
