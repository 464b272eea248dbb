#!/bin/bash
# tests/pam/t_session.sh - credential issuance through libpam: pamtester runs
# authenticate + open_session + close_session in one transaction against the
# STS test endpoint (HTTPS, test CA, SigV4 checked by botocore) with base
# credentials from the IMDSv2 emulator.  pam_exec right after pam_iamgate
# captures the session while it exists; the endpoint's request log proves
# which AssumeRole requests were (not) made.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"

STS=$T/sts
mkdir -p "$STS"
trap '"$ROOT"/tests/sts/stsctl.sh stop "$STS" >/dev/null 2>&1; pam_cleanup' EXIT
# Endpoint state: our two roles trust the instance role, require SourceIdentity
# and the gate's session tags.
"$ROOT/tests/sts/mkca.sh" "$STS/ca" >/dev/null
$PY "$ROOT/tests/sts/stsutil.py" bastion-state "$STS/state.json" \
	arn:aws:iam::111122223333:role/bastion-app-readonly \
	arn:aws:iam::111122223333:role/bastion-pii-rds-snapshot
eval "$("$ROOT/tests/sts/stsctl.sh" start "$STS" --state "$STS/state.json" --lifetime 600)"
AWS_SECTION=", \"aws\": { \"region\": \"us-east-1\", \"sts_endpoint\": \"$STS_URL\", \"ca_file\": \"$STS_CA\",
   \"timeout_seconds\": 4, \"credentials\": { \"source\": \"imds\", \"imds_endpoint\": \"$IMDS_URL\", \"cache_dir\": \"$T/run/cache\" } }"
export AWS_SECTION
pam_setup
# Session stack: iamgate, then a snapshot of what the session got.
snap_service() { # [STS_URL CA]: also ask the AWS CLI (slow: ~2 s a call)
	write_service
	echo "session  optional pam_exec.so type=open_session $ROOT/tests/pam/snapshot.sh $T/snap $*" >>"$T/pam.d/iamgate"
}
snap_service "$STS_URL" "$STS_CA"
ARN_RO=arn:aws:iam::111122223333:role/bastion-app-readonly
ARN_PII=arn:aws:iam::111122223333:role/bastion-pii-rds-snapshot
assume_count() { # ROLE_ARN [SOURCE_IDENTITY]: AssumeRole requests in the endpoint log
	jq -s --arg r "$1" --arg u "${2:-}" '[.[] | select(.action == "AssumeRole" and .role_arn == $r and ($u == "" or .source_identity == $u))] | length' "$STS_LOG"
}
session_dirs() { find "$T/run/sessions" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
login() { # RHOST USER SECRET
	rm -rf "$T/snap"
	pt "$1" "$2" "$(code_for "$3")" authenticate open_session close_session
}

# --- PII member from the fixed address: both roles -----------------------
login 127.0.0.7 "${P}bob" "$SECRET_B"
if [ $RC -eq 0 ]; then t_ok "pii member from the fixed address: auth + session succeed"; else t_fail "bob login" "$OUT $(tail -3 "$AUDIT")"; fi
if [ "$(sort "$T/snap/profiles" 2>/dev/null | tr '\n' ' ')" = "app-readonly rds-snapshot " ]; then t_ok "both profiles written"; else t_fail "profiles" "$(cat "$T/snap/profiles" 2>&1)"; fi
if awk -v u="${P}bob" '{ if ($2 != u) bad = 1 } $1 ~ /credentials$|config$/ { if ($3 != "600") bad = 1 } END { exit bad }' "$T/snap/stat" && grep -q " 700$" "$T/snap/stat"; then
	t_ok "session dir 0700 and files 0600, owned by the user"
else
	t_fail "modes/owners" "$(cat "$T/snap/stat")"
fi
if grep -q "^AWS_SHARED_CREDENTIALS_FILE=$T/run/sessions/[0-9a-f]\{64\}/credentials$" "$T/snap/env" && grep -q "^AWS_CONFIG_FILE=" "$T/snap/env" && grep -q "^AWS_REGION=us-east-1$" "$T/snap/env" && ! grep -q "^AWS_PROFILE=" "$T/snap/env" && ! grep -q IAMGATE_GRANT "$T/snap/env"; then
	t_ok "session env: credentials/config files and region set, grant id gone"
else
	t_fail "env" "$(cat "$T/snap/env")"
fi
if jq -e --arg u "${P}bob" '.Arn | test(":assumed-role/bastion-pii-rds-snapshot/" + $u + "$")' "$T/snap/whoami.rds-snapshot" >/dev/null 2>&1 &&
	jq -e '.Arn | test(":assumed-role/bastion-app-readonly/")' "$T/snap/whoami.app-readonly" >/dev/null 2>&1; then
	t_ok "the AWS CLI, as the user, gets the assumed-role ARNs with the issued credentials"
else
	t_fail "aws cli" "$(cat "$T/snap"/whoami.* 2>&1 | head -20)"
fi
if [ "$(session_dirs)" -eq 0 ]; then t_ok "close_session removed the credential directory"; else t_fail "dir left behind" "$(ls "$T/run/sessions")"; fi
if [ "$(assume_count "$ARN_PII" "${P}bob")" -eq 1 ] &&
	jq -s -e --arg u "${P}bob" '[.[] | select(.action=="AssumeRole" and .source_identity==$u)] | all(.tags["bastion-user"] == $u and .tags["bastion-source-ip"] == "127.0.0.7" and .signature_ok == true)' "$STS_LOG" >/dev/null; then
	t_ok "endpoint saw the pii AssumeRole with SourceIdentity, session tags and a valid signature"
else
	t_fail "endpoint log" "$(tail -3 "$STS_LOG")"
fi
if jq -s -e --arg u "${P}bob" '[.[] | select(.event=="issue" and .decision=="allow" and .user==$u)] | length == 2 and all(.access_key_id | test("^ASIA")) and all(.source_identity == $u) and all(.expiration > 0)' "$AUDIT" >/dev/null; then
	t_ok "each issued role audited: role, ARN, SourceIdentity, access key id, expiry"
else
	t_fail "issue audit" "$(grep '"issue"' "$AUDIT" | tail -2)"
fi
if jq -s -e --arg u "${P}bob" '[.[] | select(.event=="close_session" and .user==$u)] | last | .reason == "credentials_removed"' "$AUDIT" >/dev/null; then t_ok "close_session audited"; else t_fail "close audit" "$(tail -2 "$AUDIT")"; fi

# --- PII member from a non-fixed address: only the non-pii role ---------
snap_service
# (another PII member: bob's code for this time step is spent)
extra_user bob2 pii
before=$(assume_count "$ARN_PII")
login 127.0.0.1 "${P}bob2" "$SECRET_bob2"
if [ $RC -eq 0 ] && [ "$(cat "$T/snap/profiles")" = "app-readonly" ] && grep -q "^AWS_PROFILE=app-readonly$" "$T/snap/env"; then
	t_ok "pii member from elsewhere: logged in with only the non-pii role (AWS_PROFILE set)"
else
	t_fail "bob elsewhere" "rc=$RC $(cat "$T/snap/profiles" 2>&1)"
fi
if [ "$(assume_count "$ARN_PII")" -eq "$before" ] && jq -s -e --arg u "${P}bob2" '[.[] | select(.event=="issue" and .decision=="deny" and .user==$u)] | last | .reason == "pii_source_not_fixed" and .role == "rds-snapshot"' "$AUDIT" >/dev/null; then
	t_ok "no pii AssumeRole was sent; audit says pii_source_not_fixed"
else
	t_fail "pii from non-fixed" "$(grep '"issue"' "$AUDIT" | tail -2)"
fi

# --- non-PII user: never a pii request -----------------------------------
sleep 0
login 127.0.0.1 "${P}alice" "$SECRET_A"
if [ $RC -eq 0 ] && [ "$(cat "$T/snap/profiles")" = "app-readonly" ] && [ "$(assume_count "$ARN_PII" "${P}alice")" -eq 0 ]; then
	t_ok "app developer: only app-readonly, no pii AssumeRole"
else
	t_fail "alice" "rc=$RC"
fi

# --- a session without a grant from this transaction's auth -------------
n=$(wc -l <"$STS_LOG")
rm -rf "$T/snap"
pt 127.0.0.7 "${P}bob" "" open_session close_session
if [ $RC -eq 0 ] && [ ! -s "$T/snap/profiles" ] && [ "$(wc -l <"$STS_LOG")" -eq "$n" ] &&
	jq -s -e '[.[] | select(.event=="open_session")] | last | .decision == "deny" and .reason == "no_grant"' "$AUDIT" >/dev/null; then
	t_ok "open_session without a grant: nothing issued, no request sent, audited no_grant"
else
	t_fail "no grant" "rc=$RC $(tail -2 "$AUDIT")"
fi

# --- faults: each ends in the configured behaviour with an audit line ---
ctl() { "$ROOT/tests/sts/stsctl.sh" ctl "$STS" sts "$1" >/dev/null; }
for u in f1 f2 f3 f4 f5; do extra_user $u; done
fault_login() { # NAME FAULT_JSON EXPECTED_REASON USER
	local sec="SECRET_$4"
	ctl "$2"
	login 127.0.0.1 "${P}$4" "${!sec}"
	ctl '{"reset": true}'
	if [ $RC -eq 0 ] && jq -s -e --arg r "$3" '[.[] | select(.event=="issue")] | last | .decision == "deny" and .reason == $r' "$AUDIT" >/dev/null &&
		echo "$OUT" | grep -q "could not be issued"; then
		t_ok "$1: user logged in without credentials, told so; audit reason $3"
	else
		t_fail "$1" "rc=$RC out=$OUT audit=$(grep '"issue"' "$AUDIT" | tail -1)"
	fi
}
fault_login "STS 5xx" '{"fail5xx": {"count": -1}}' http_5xx f1
fault_login "malformed XML" '{"malformed": {"count": -1}}' malformed_response f2
fault_login "STS slower than the time limit" '{"slow": {"ms": 6000}}' timeout f3
ctl '{"throttle": {"count": 2}}'
login 127.0.0.1 "${P}f4" "$SECRET_f4"
if [ $RC -eq 0 ] && [ "$(cat "$T/snap/profiles" 2>/dev/null)" = "app-readonly" ] && jq -s -e '[.[] | select(.event=="issue")] | last | .decision == "allow"' "$AUDIT" >/dev/null; then
	t_ok "throttled twice then success: retried and issued"
else
	t_fail "throttle" "rc=$RC $(grep '"issue"' "$AUDIT" | tail -1)"
fi
ctl '{"reset": true}'

# on_issue_failure: deny
SESSION_EXTRA=', "on_issue_failure": "deny"' write_config
ctl '{"fail5xx": {"count": -1}}'
login 127.0.0.1 "${P}f5" "$SECRET_f5"
ctl '{"reset": true}'
if [ $RC -ne 0 ] && jq -s -e '[.[] | select(.event=="open_session")] | last | .decision == "deny"' "$AUDIT" >/dev/null; then
	t_ok "on_issue_failure deny: the session is refused, audited"
else
	t_fail "deny on failure" "rc=$RC $(tail -2 "$AUDIT")"
fi
write_config

if no_secrets_in "$AUDIT" && ! grep -qF -f <(jq -r '.credentials[] | .secret_access_key, (.session_token // empty)' "$STS/state.json") "$AUDIT"; then
	t_ok "no code, secret or token in the audit log"
else
	t_fail "secrets in audit"
fi
t_done
