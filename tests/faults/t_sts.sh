#!/bin/bash
# tests/faults/t_sts.sh - credential issuance when AWS misbehaves: the STS
# test endpoint down, slow past the time limit, failing 5xx, throttling
# (then succeeding, or always), answering malformed XML or a huge body,
# dropping the connection, serving a certificate from another CA (or for
# another name, or expired), rejecting expired base credentials or a skewed
# clock; the IMDS emulator down, failing, slow, or returning garbage or
# expired credentials.  Each login runs auth + open_session + close_session
# through libpam and asserts the PAM result, what the user saw, the audit
# lines (issue and open_session with the reason), the session environment
# (pam_exec snapshot) and that no credential directory is left behind.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
STS_TIMEOUT=2 sts_start
# Endpoints with the wrong certificates start now, in the background.
other_start() { # CERT
	local d=$T/sts-$1
	mkdir -p "$d"
	cp -r "$STS/ca" "$d/ca"
	(eval "$("$ROOT/tests/sts/stsctl.sh" start "$d" --state "$STS/state.json" --no-imds --cert "$1" --lifetime 300)" && echo "$STS_URL") >"$d/url" 2>"$d/start.err"
}
for c in other-server wrongname-server expired-server; do
	at_exit "sts_stop_bg '$T/sts-$c'"
	other_start $c &
done
pam_setup
SNAP=$T/snap
snap_service() {
	write_service "$@"
	echo "session  optional pam_exec.so type=open_session $ROOT/tests/pam/snapshot.sh $SNAP" >>"$T/pam.d/iamgate"
}
snap_service
CACHE=$T/run/cache
SESSIONS=$T/run/sessions
U=0
# login: a fresh enrolled user (no waiting for a new TOTP step) logs in
# and out; sets LU (the user), RC, OUT, SEEN, MS, A0 (audit lines before).
login() {
	U=$((U + 1))
	extra_user "u$U"
	LU=${P}u$U
	local sec="SECRET_u$U" t0
	rm -rf "$SNAP"
	A0=$(acount)
	t0=$(date +%s%N)
	ptl 127.0.0.1 "$LU" "$(code_for "${!sec}")" authenticate open_session close_session
	MS=$(ms_since "$t0")
	echo "# login $LU: ${MS} ms"
}
# ev EVENT: the user's last audit line of that event (lines are compact JSON).
ev() { new_audit "$A0" | grep -F "\"user\":\"$LU\"" | grep -F "\"event\":\"$1\"" | tail -1; }
assume_count() { jq -s --arg u "$LU" '[.[] | select(.action == "AssumeRole" and .role_session_name == $u)] | length' "$STS_LOG"; }

# without_creds NAME REASON [issue] [MAX_MS]: logged in (on_issue_failure
# continue), told no credentials, audited with REASON (on the issue line
# too when the STS call itself failed), nothing left behind.
without_creds() {
	local why=""
	[ "$RC" -eq 0 ] || why="rc=$RC"
	audit_has "$(ev auth)" decision allow >/dev/null || why="$why; no auth allow"
	if [ "${3:-}" = issue ]; then
		# The STS call failed: the role's issue line has the reason, the
		# session line counts 0 issued / 1 failed.
		printf '%s\n' "$SEEN" | grep -q "AWS credentials could not be issued; the audit log says why. You are logged in without them" ||
			why="$why; user not told: $SEEN"
		audit_has "$(ev issue)" decision deny reason "$2" role app-readonly >/dev/null || why="$why; issue: $(ev issue)"
		audit_has "$(ev open_session)" decision allow reason none_issued roles_issued 0 roles_failed 1 >/dev/null ||
			why="$why; open_session: $(ev open_session)"
	else
		# No base credentials: nothing was asked of STS; the session line
		# has the reason.
		printf '%s\n' "$SEEN" | grep -q "AWS credentials could not be issued; you are logged in without them" ||
			why="$why; user not told: $SEEN"
		audit_has "$(ev open_session)" decision allow reason "$2" >/dev/null || why="$why; open_session: $(ev open_session)"
		[ -z "$(ev issue)" ] || why="$why; an issue line for a role never asked for: $(ev issue)"
	fi
	printf '%s\n' "$SEEN" | grep -qi "secret\|token\|ASIA" && why="$why; user saw credential material"
	[ "$(ev issue | jq -r '.access_key_id // empty')" = "" ] || why="$why; an access key was audited as issued"
	grep -q '^AWS_SHARED_CREDENTIALS_FILE=' "$SNAP/env" 2>/dev/null && why="$why; session got a credentials file"
	[ "$(files_in "$SESSIONS")" -eq 0 ] || why="$why; credential directory left behind"
	audit_has "$(ev close_session)" decision allow >/dev/null || why="$why; close_session not audited"
	if [ -n "${4:-}" ] && [ "$MS" -gt "$4" ]; then why="$why; took ${MS} ms (> $4)"; fi
	if [ -z "$why" ]; then t_ok "$1"; else t_fail "$1" "$why"; fi
}
sts_fault() { # NAME FAULT_JSON REASON [MAX_MS]
	sts_ctl sts "$2"
	login
	sts_ctl sts '{"reset": true}'
	without_creds "$1" "$3" issue "${4:-}"
}

# --- control: issuance works --------------------------------------------------
login
if [ "$RC" -eq 0 ] && audit_has "$(ev issue)" decision allow reason ok role app-readonly >/dev/null &&
	audit_has "$(ev open_session)" decision allow reason ok >/dev/null &&
	grep -q '^AWS_SHARED_CREDENTIALS_FILE=' "$SNAP/env" && [ "$(files_in "$SESSIONS")" -eq 0 ]; then
	t_ok "control: issued, session env set, removed at close"
else
	t_fail "control login" "rc=$RC $SEEN $(new_audit "$A0")"
fi

# --- STS faults ------------------------------------------------------------------
sts_fault "STS 5xx (always): logged in without credentials, audit http_5xx" '{"fail5xx": {"count": -1}}' http_5xx
if [ "$(ev issue | jq -r .attempts)" -ge 2 ]; then t_ok "5xx was retried ($(ev issue | jq -r .attempts) attempts) within the time limit"; else t_fail "5xx retries" "$(ev issue)"; fi
sts_fault "STS 503: audit http_5xx" '{"fail5xx": {"count": -1, "status": 503}}' http_5xx
sts_fault "STS 20 s slow, timeout_seconds=2: audit timeout, login within 12 s" '{"slow": {"ms": 20000}}' timeout 12000
sts_fault "STS stalling 20 s mid-body: audit timeout, login within 12 s" '{"slow": {"ms": 20000, "where": "body"}}' timeout 12000
sts_fault "STS throttling always: audit Throttling" '{"throttle": {"count": -1}}' Throttling
sts_fault "STS malformed XML (truncated): audit malformed_response" '{"malformed": {"count": -1}}' malformed_response
sts_fault "STS garbage body: audit malformed_response" '{"malformed": {"count": -1, "mode": "garbage"}}' malformed_response
sts_fault "STS HTML body: audit malformed_response" '{"malformed": {"count": -1, "mode": "html"}}' malformed_response
sts_fault "STS valid XML without credentials: audit malformed_response" '{"malformed": {"count": -1, "mode": "nocreds"}}' malformed_response
sts_fault "STS 8 MiB body: audit response_too_large" '{"malformed": {"count": -1, "mode": "huge"}}' response_too_large
sts_fault "STS dropping the connection: audit transport_error" '{"drop": {"count": -1}}' transport_error
sts_fault "base credentials expired (STS ExpiredToken): audit ExpiredToken" '{"expired": true}' ExpiredToken
sts_fault "clock 15 minutes off (signature rejected): audit SignatureDoesNotMatch" '{"clock_offset": 900}' SignatureDoesNotMatch
sts_fault "clock 15 minutes behind: audit SignatureDoesNotMatch" '{"clock_offset": -900}' SignatureDoesNotMatch

# Three attempts and two backoffs must fit the budget even on a loaded
# machine: give this one 8 s instead of 2.
sed -i 's/"timeout_seconds": 2,/"timeout_seconds": 8,/' "$CONFIG"
sts_ctl sts '{"throttle": {"count": 2}}'
login
sts_ctl sts '{"reset": true}'
sed -i 's/"timeout_seconds": 8,/"timeout_seconds": 2,/' "$CONFIG"
if [ "$RC" -eq 0 ] && audit_has "$(ev issue)" decision allow reason ok >/dev/null && grep -q '^AWS_SHARED_CREDENTIALS_FILE=' "$SNAP/env" &&
	[ "$(assume_count)" -eq 3 ] && printf '%s\n' "$SEEN" | grep -q "AWS profile app-readonly issued"; then
	t_ok "throttled twice, then success: 3 AssumeRole requests, issued, user told the profile"
else
	t_fail "throttle then success" "rc=$RC n=$(assume_count) $(ev issue)"
fi

# --- the endpoint's certificate is not the one we trust --------------------------
# other_cert CERT NAME: a second endpoint with that certificate, same state.
other_cert() {
	local d=$T/sts-$1
	[ -s "$d/url" ] || t_fail "$1 endpoint did not start" "$(cat "$d/start.err")"
	AWS_SECTION=", \"aws\": { \"region\": \"us-east-1\", \"sts_endpoint\": \"$(cat "$d/url")\", \"ca_file\": \"$STS_CA\",
   \"timeout_seconds\": 2, \"credentials\": { \"source\": \"imds\", \"imds_endpoint\": \"$IMDS_URL\", \"cache_dir\": \"$CACHE\" } }" write_config
	login
	without_creds "$2" tls_verify_failed issue
	if [ "$(jq -s --arg u "$LU" '[.[] | select(.role_session_name == $u)] | length' "$d/sts.jsonl" 2>/dev/null || echo 0)" -eq 0 ]; then
		t_ok "$1: no request reached the endpoint (TLS refused before any byte of it)"
	else
		t_fail "$1: a request went through"
	fi
}
wait # the three endpoints are up
other_cert other-server "certificate from another CA: audit tls_verify_failed"
other_cert wrongname-server "certificate for another name: audit tls_verify_failed"
other_cert expired-server "expired certificate: audit tls_verify_failed"
write_config

# --- IMDS faults (base credentials), the cache emptied first -----------------------
imds_fault() { # NAME FAULT_JSON REASON [MAX_MS]
	rm -f "$CACHE"/*
	sts_ctl imds "$2"
	login
	sts_ctl imds '{"reset": true}'
	without_creds "$1" "$3" "" "${4:-}"
	# (this user's requests only: a slow-fault request of an earlier test
	# may still be logged by the endpoint once its 20 s are up)
	# (the metadata lockdown's verdict, imds-guard.json, is no credential)
	if [ "$(assume_count)" -eq 0 ] && [ "$(find "$CACHE" -mindepth 1 ! -name imds-guard.json | wc -l)" -eq 0 ]; then
		t_ok "$1: no STS request sent, nothing cached"
	else
		t_fail "$1: STS contacted or cache written"
	fi
}
imds_fault "IMDS dropping connections: audit imds_unavailable" '{"down": {"count": -1}}' imds_unavailable
imds_fault "IMDS 5xx: audit imds_unavailable" '{"fail5xx": {"count": -1}}' imds_unavailable
imds_fault "IMDS 20 s slow (its limit is 2 s): audit imds_unavailable, login within 12 s" '{"slow": {"count": -1, "ms": 20000}}' imds_unavailable 12000
imds_fault "IMDS token refused: audit imds_unavailable" '{"notoken": {"count": -1}}' imds_unavailable
imds_fault "IMDS returning garbage credentials: audit imds_malformed" '{"garbage": {"count": -1}}' imds_malformed
imds_fault "IMDS returning expired credentials: audit base_credentials_expired" '{"expired": {"count": -1}}' base_credentials_expired
rm -f "$CACHE"/*
"$ROOT/tests/sts/stsctl.sh" stop "$STS" imds >/dev/null
login
without_creds "IMDS down (stopped): audit imds_unavailable" imds_unavailable

# --- STS down ------------------------------------------------------------------------
# Base credentials from the environment-free file source would also do; the
# IMDS is gone now, so a root-only credentials file supplies them.
mkdir -p "$T/awsbase"
chmod 0700 "$T/awsbase"
$PY - "$STS/state.json" >"$T/awsbase/credentials" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))["credentials"]["bastion"]
print("[default]\naws_access_key_id = %s\naws_secret_access_key = %s" % (c["access_key_id"], c["secret_access_key"]))
PYEOF
chmod 0600 "$T/awsbase/credentials"
FILE_SECTION=", \"aws\": { \"region\": \"us-east-1\", \"sts_endpoint\": \"$STS_URL\", \"ca_file\": \"$STS_CA\",
   \"timeout_seconds\": 2, \"credentials\": { \"source\": \"file\", \"file\": \"$T/awsbase/credentials\" } }"
"$ROOT/tests/sts/stsctl.sh" stop "$STS" >/dev/null
AWS_SECTION=$FILE_SECTION write_config
login
without_creds "STS down (endpoint stopped): logged in without credentials, audit connect_failed" connect_failed issue

AWS_SECTION=$FILE_SECTION SESSION_EXTRA=', "on_issue_failure": "deny"' write_config
login
if [ "$RC" -ne 0 ] && printf '%s\n' "$SEEN" | grep -q "AWS credentials could not be issued; login refused" &&
	audit_has "$(ev open_session)" decision deny reason connect_failed on_issue_failure deny >/dev/null &&
	audit_has "$(ev issue)" decision deny reason connect_failed >/dev/null && [ "$(files_in "$SESSIONS")" -eq 0 ] &&
	! grep -q '^AWS_SHARED_CREDENTIALS_FILE=' "$SNAP/env" 2>/dev/null; then
	t_ok "STS down with on_issue_failure deny: session refused, user told, audited"
else
	t_fail "STS down deny" "rc=$RC $SEEN $(ev open_session)"
fi

if no_secrets_in "$AUDIT" && ! grep -qF -f <(jq -r '.credentials[] | .secret_access_key, (.session_token // empty)' "$STS/state.json") "$AUDIT"; then
	t_ok "no code, secret or token in the audit log"
else
	t_fail "secrets in audit"
fi
if out=$("$CLI" audit verify --log "$AUDIT" 2>&1); then t_ok "audit chain intact ($(acount) lines)"; else t_fail "audit verify" "$out"; fi
t_done
