#!/bin/bash
# tests/pam/t_gate.sh - the gate's auth and account decisions through libpam:
# pamtester under pam_wrapper, real users and groups, one test per allow and
# deny path, each asserting the PAM result and the audit line.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup

# --- the module exports only pam_sm_* -----------------------------------
exports=$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred " ]; then
	t_ok "module exports only the five pam_sm_* functions"
else
	t_fail "module exports: $exports"
fi

# --- allow ---------------------------------------------------------------
code_a=$(code_for $SECRET_A)
pt 127.0.0.1 "${P}alice" "$code_a" authenticate
if [ $RC -eq 0 ] && audit_has "$(last_audit)" event auth decision allow reason ok user "${P}alice" rhost 127.0.0.1 service iamgate; then
	t_ok "right code from an allowed address: success, audited allow"
else
	t_fail "allow path" "rc=$RC out=$OUT audit=$(last_audit)"
fi
case "$OUT" in *code*) t_ok "prompt mentions the code" ;; *) t_fail "prompt" "$OUT" ;; esac

# --- replay --------------------------------------------------------------
pt 127.0.0.1 "${P}alice" "$code_a" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason replayed_code; then
	t_ok "same code twice: denied as replay, audited"
else
	t_fail "replay" "rc=$RC audit=$(last_audit)"
fi

# --- wrong code ----------------------------------------------------------
pt 127.0.0.1 "${P}bob" 000000 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason bad_code user "${P}bob"; then
	t_ok "wrong code: denied, audited bad_code"
else
	t_fail "wrong code" "rc=$RC audit=$(last_audit)"
fi
pt 127.0.0.1 "${P}bob" "12ab56" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" reason bad_code; then t_ok "non-numeric code: denied"; else t_fail "non-numeric code" "$(last_audit)"; fi
pt 127.0.0.1 "${P}bob" "$(printf '1%.0s' $(seq 1 900))" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" reason bad_code; then t_ok "overlong code: denied"; else t_fail "overlong code" "$(last_audit)"; fi
"$CLI" unlock --config "$CONFIG" "${P}bob" >/dev/null

# --- source address ------------------------------------------------------
pt 198.51.100.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason rhost_not_allowed rhost 198.51.100.1; then
	t_ok "address outside every allowlist: denied rhost_not_allowed"
else
	t_fail "rhost outside" "rc=$RC audit=$(last_audit)"
fi
pt evil.example.com "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason rhost_not_an_address; then
	t_ok "host name as rhost: denied without DNS"
else
	t_fail "hostname rhost" "rc=$RC audit=$(last_audit)"
fi
pt "" "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason rhost_missing; then
	t_ok "no rhost: denied rhost_missing"
else
	t_fail "no rhost" "rc=$RC audit=$(last_audit)"
fi
pt "fe80::1%lo" "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" reason rhost_not_an_address; then t_ok "scoped IPv6 rhost: denied"; else t_fail "scoped v6" "$(last_audit)"; fi
pt 2001:db8:10::5 "${P}bob" "$(code_for $SECRET_B)" authenticate
if [ $RC -eq 0 ] && audit_has "$(last_audit)" decision allow rhost 2001:db8:10::5; then t_ok "IPv6 source inside the office /48: allowed"; else t_fail "v6 allow" "rc=$RC $(last_audit)"; fi
sleep 0
pt ::ffff:127.0.0.9 "${P}alice" 000000 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" reason bad_code; then
	t_ok "IPv4-mapped IPv6 rhost matches as IPv4 (reaches the code check)"
else
	t_fail "v4-mapped" "$(last_audit)"
fi
"$CLI" unlock --config "$CONFIG" "${P}alice" >/dev/null

# --- who ----------------------------------------------------------------
pt 127.0.0.1 "${P}carol" 123456 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason no_mapped_group; then t_ok "user in no mapped group: denied no_mapped_group"; else t_fail "unmapped" "$(last_audit)"; fi
case "$OUT" in *code*) t_ok "unmapped user sees the same prompt" ;; *) t_fail "unmapped prompt" "$OUT" ;; esac
pt 127.0.0.1 "${P}dave" 123456 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason not_enrolled; then t_ok "user without a secret: denied not_enrolled"; else t_fail "not enrolled" "$(last_audit)"; fi
case "$OUT" in *code*) t_ok "unenrolled user sees the same prompt" ;; *) t_fail "unenrolled prompt" "$OUT" ;; esac
pt 127.0.0.1 "nosuchuser$P" 123456 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason user_unknown; then t_ok "unknown user: denied user_unknown"; else t_fail "unknown user" "$(last_audit)"; fi
pt 127.0.0.1 "../../etc/x" 123456 authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason user_name_unsafe user null; then t_ok "unsafe user name: denied, name kept out of the log"; else t_fail "unsafe name" "$(last_audit)"; fi

# --- lockout -------------------------------------------------------------
for i in 1 2 3; do pt 127.0.0.1 "${P}bob" 000000 authenticate; done
if grep -q "\"event\":\"lockout\"" "$AUDIT" && audit_has "$(last_audit 2)" event lockout user "${P}bob" reason too_many_failures; then
	t_ok "max_failures wrong codes: lockout audited"
else
	t_fail "lockout event" "$(tail -3 "$AUDIT")"
fi
pt 127.0.0.1 "${P}bob" "$(code_for $SECRET_B)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" decision deny reason locked_out; then t_ok "locked out: right code refused"; else t_fail "locked" "rc=$RC $(last_audit)"; fi
if "$CLI" unlock --config "$CONFIG" "${P}bob" >/dev/null && audit_has "$(last_audit)" event unlock user "${P}bob"; then t_ok "iamgate unlock clears the lockout, audited"; else t_fail "unlock" "$(last_audit)"; fi
sleep 31 # the code above used this step; wait for a fresh one
pt 127.0.0.1 "${P}bob" "$(code_for $SECRET_B)" authenticate
if [ $RC -eq 0 ]; then t_ok "after unlock the right code works"; else t_fail "after unlock" "$(last_audit)"; fi

# --- account -------------------------------------------------------------
pt 127.0.0.1 "${P}alice" "" acct_mgmt
if [ $RC -eq 0 ] && audit_has "$(last_audit)" event account decision allow; then t_ok "account: mapped group, allowed address"; else t_fail "account allow" "$(last_audit)"; fi
pt 198.51.100.1 "${P}alice" "" acct_mgmt
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event account decision deny reason rhost_not_allowed; then t_ok "account: address not allowed, denied"; else t_fail "account rhost" "$(last_audit)"; fi
pt 127.0.0.1 "${P}carol" "" acct_mgmt
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event account decision deny reason no_mapped_group; then t_ok "account: no mapped group, denied"; else t_fail "account unmapped" "$(last_audit)"; fi

# --- parallel logins with the same code: exactly one succeeds -----------
SECRET_C=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
echo "$SECRET_C" | "$CLI" enroll --config "$CONFIG" --import-base32 - --no-verify "${P}dave" >/dev/null
code=$(code_for $SECRET_C)
for i in $(seq 1 6); do
	(pt 127.0.0.1 "${P}dave" "$code" authenticate; echo $RC >"$T/par.$i") &
done
wait
wins=$(cat "$T"/par.* | grep -c '^0$')
if [ "$wins" -eq 1 ]; then t_ok "6 parallel logins with one code: exactly one success"; else t_fail "parallel replay: $wins successes"; fi

# --- audit lines never carry codes or secrets ---------------------------
if no_secrets_in "$AUDIT"; then t_ok "no code or secret in the audit log ($(wc -l <"$AUDIT") lines)"; else t_fail "audit log holds a code or secret"; fi

# --- configuration refused -> every login denied -------------------------
chmod 0666 "$CONFIG"
pt 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ]; then t_ok "world-writable config: login denied"; else t_fail "unsafe config allowed a login"; fi
chmod 0600 "$CONFIG"
cp "$CONFIG" "$T/etc/good.json"
sed -i 's/"window": 1/"window": 1, "windw": 2/' "$CONFIG"
pt 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason config_refused && last_audit | grep -q 'windw'; then
	t_ok "config with an unknown key: login denied, refusal and its reason audited"
else
	t_fail "bad config" "rc=$RC $(last_audit)"
fi
out=$("$CLI" check --config "$CONFIG" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "iamgate.json:[0-9]*:[0-9]*: .*windw.*unknown key"; then t_ok "iamgate check names file:line:col of the bad key"; else t_fail "check output" "$out"; fi
cp "$T/etc/good.json" "$CONFIG"
if "$CLI" check --config "$CONFIG" >/dev/null; then t_ok "iamgate check accepts the good config"; else t_fail "check good"; fi

t_done
