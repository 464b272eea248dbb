#!/bin/bash
# tests/pam/t_cli.sh - the admin commands: enroll (otpauth URI, QR code,
# confirmation code, no silent overwrite), status (state, groups, roles by
# address, the PII rule), unlock (audited).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup
U=${P}dave # mapped (dev), not enrolled by pam_setup

# --- enroll with a new random secret: URI, label, QR code ----------------
out=$("$CLI" enroll --config "$CONFIG" --no-verify "$U" 2>&1)
rc=$?
uri=$(printf '%s\n' "$out" | grep -o 'otpauth://totp/[^ ]*' | head -1)
host=$(hostname)
if [ $rc -eq 0 ] && [[ "$uri" == "otpauth://totp/iamgate%3A${U}@${host}?secret="* ]] &&
	[[ "$uri" == *"&issuer=iamgate&algorithm=SHA1&digits=6&period=30" ]]; then
	t_ok "enroll prints an otpauth URI labelled issuer:user@host"
else
	t_fail "enroll URI" "rc=$rc $out"
fi
if [ "$(printf '%s\n' "$out" | grep -c '[▀▄█]')" -ge 10 ]; then t_ok "enroll draws the QR code with UTF-8 half blocks"; else t_fail "QR code" "$out"; fi
secret=$(printf '%s' "$uri" | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p')
st=$T/state/$U.json
if [ -f "$st" ] && [ "$(stat -c '%U %a' "$st")" = "root 600" ] && [ "$(stat -c '%a' "$T/state")" = 700 ] &&
	[ "${#secret}" -ge 32 ] && audit_has "$(last_audit)" event enroll user "$U" reason secret_created; then
	t_ok "secret saved root 0600 in a 0700 directory (160 bits), enrollment audited"
else
	t_fail "state file" "$(ls -la "$T/state") $(last_audit)"
fi
# The printed secret is the one that works.
pt 127.0.0.1 "$U" "$(code_for "$secret")" authenticate
if [ $RC -eq 0 ]; then t_ok "a code from the printed secret logs in"; else t_fail "login with enrolled secret" "$(last_audit)"; fi

# --- no silent overwrite --------------------------------------------------
before=$(md5sum <"$st")
out=$("$CLI" enroll --config "$CONFIG" --no-verify "$U" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q -- "--force" && [ "$(md5sum <"$st")" = "$before" ]; then
	t_ok "enroll refuses to replace an existing secret without --force"
else
	t_fail "overwrite" "$out"
fi

# --- confirmation code before saving -------------------------------------
NEW=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU
out=$(printf '%s\n%s\n' "$NEW" 000000 | "$CLI" enroll --config "$CONFIG" --import-base32 - --force "$U" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "does not match; nothing saved" && [ "$(md5sum <"$st")" = "$before" ]; then
	t_ok "a wrong confirmation code saves nothing"
else
	t_fail "wrong confirmation" "$out"
fi
out=$(printf '%s\n%s\n' "$NEW" "$(code_for $NEW)" | "$CLI" enroll --config "$CONFIG" --import-base32 - --force "$U" 2>&1)
if [ $? -eq 0 ] && [ "$(md5sum <"$st")" != "$before" ] && audit_has "$(last_audit)" event enroll reason secret_replaced; then
	t_ok "the right confirmation code saves the (replaced) secret, audited"
else
	t_fail "confirmation" "$out"
fi
if ! grep -qF "$NEW" "$AUDIT" && ! grep -qF "$secret" "$AUDIT"; then t_ok "no secret in the audit log"; else t_fail "secret in audit log"; fi

# --- status ---------------------------------------------------------------
pt 127.0.0.1 "${P}bob" 000000 authenticate
out=$("$CLI" status --config "$CONFIG" --from 127.0.0.7 "${P}bob" 2>&1)
if echo "$out" | grep -q "^enrolled: *yes" && echo "$out" | grep -q "^failures: *1 of 3" &&
	echo "$out" | grep -q "^groups: .*${P}dev" && echo "$out" | grep -q "^groups: .*${P}pii" &&
	echo "$out" | grep -qE "role rds-snapshot +pii +issued" && echo "$out" | grep -qE "role app-readonly +issued"; then
	t_ok "status: enrolled, failures, groups, and from the fixed address both roles (pii marked)"
else
	t_fail "status bob fixed" "$out"
fi
out=$("$CLI" status --config "$CONFIG" --from 127.0.0.1 "${P}bob" 2>&1)
if echo "$out" | grep -qE "role rds-snapshot +pii +left out: pii_source_not_fixed"; then
	t_ok "status --from a non-fixed address: the pii role left out, and why"
else
	t_fail "status bob office" "$out"
fi
pt 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
out=$("$CLI" status --config "$CONFIG" --from 198.51.100.1 "${P}alice" 2>&1)
if echo "$out" | grep -q "login from 198.51.100.1: rhost_not_allowed" && echo "$out" | grep -q "^last login: *[0-9T:-]*Z from 127.0.0.1"; then
	t_ok "status: login refused from outside the allowlists; last login time and address"
else
	t_fail "status alice" "$out"
fi
out=$("$CLI" status --config "$CONFIG" "${P}carol" 2>&1)
if echo "$out" | grep -q "^enrolled: *no"; then t_ok "status of a user never enrolled"; else t_fail "status carol" "$out"; fi
if ! "$CLI" status --config "$CONFIG" --from bastion.example "${P}bob" >/dev/null 2>&1; then t_ok "status --from refuses a host name"; else t_fail "status --from hostname"; fi

# --- unlock ---------------------------------------------------------------
for i in 1 2 3; do pt 127.0.0.1 "${P}bob" 000000 authenticate; done
out=$("$CLI" status --config "$CONFIG" "${P}bob" 2>&1)
if echo "$out" | grep -q "^locked: *[0-9T:-]*Z"; then t_ok "status shows locked until when"; else t_fail "status locked" "$out"; fi
if "$CLI" unlock --config "$CONFIG" "${P}bob" >/dev/null && audit_has "$(last_audit)" event unlock user "${P}bob" reason unlocked_by_admin &&
	"$CLI" status --config "$CONFIG" "${P}bob" | grep -q "^locked: *no"; then
	t_ok "unlock clears the lockout, audited"
else
	t_fail "unlock" "$(last_audit)"
fi
if ! "$CLI" unlock --config "$CONFIG" "${P}carol" >/dev/null 2>&1; then t_ok "unlock of a user never enrolled: refused"; else t_fail "unlock carol"; fi
t_done
