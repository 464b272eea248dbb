#!/bin/bash
# tests/pam/t_users.sh - the gate against the bastion's own users, through
# libpam (pamtester under pam_wrapper, real users and groups):
#   - a group is its gid: a second group entry carrying the PII group's name
#     makes nobody a member;
#   - the PII allowlist may not hold loopback or the host's own addresses
#     (config refused, every login denied and audited); other allowlists get
#     a warning from `iamgate check`;
#   - an untrusted aws.ca_file refuses the configuration;
#   - changing totp.step_seconds refuses no good code and reopens no used one;
#   - each lockout lasts twice the one before; a success resets the count.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup

# group_db_edit add|del LINE: /etc/group under the shadow tools' own lock
# (lckpwdf's fcntl lock on /etc/.pwd.lock), so parallel useradd/groupadd of
# other suites never interleave with it.
group_db_edit() {
	"$PY" - "$1" "$2" <<'PY'
import fcntl, os, sys
op, line = sys.argv[1], sys.argv[2]
with open("/etc/.pwd.lock", "a") as lk:
    fcntl.lockf(lk, fcntl.LOCK_EX)
    with open("/etc/group") as f:
        lines = f.read().splitlines()
    lines = [l for l in lines if l != line]
    if op == "add":
        lines.append(line)
    tmp = "/etc/group.iamgate-test"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    st = os.stat("/etc/group")
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.rename(tmp, "/etc/group")
PY
}

# --- a group is its gid ---------------------------------------------------
# mallory is in a group that carries the PII group's name, with a gid of its
# own (a directory where users create groups, or a hand-edited file).
useradd -M -N -g "${P}dev" -s /bin/sh "${P}mallory"
EXTRA_USERS="$EXTRA_USERS mallory"
fake_gid=$(( $(getent group "${P}pii" | cut -d: -f3) + 4321 ))
FAKE_LINE="${P}pii:x:${fake_gid}:${P}mallory"
group_db_edit add "$FAKE_LINE"
trap 'group_db_edit del "$FAKE_LINE"; pam_cleanup' EXIT
if id -G "${P}mallory" | tr ' ' '\n' | grep -qx "$fake_gid"; then
	t_ok "the group database gives mallory the look-alike group ($fake_gid)"
else
	t_fail "look-alike group set-up" "$(id "${P}mallory")"
fi
out=$("$CLI" status --config "$CONFIG" --from 127.0.0.7 "${P}mallory" 2>&1)
if ! grep -q "rds-snapshot" <<<"$out" && grep -qE "^groups: +${P}dev *$" <<<"$out"; then
	t_ok "a group named like the PII group but with another gid: no pii role"
else
	t_fail "look-alike group counted as the PII group" "$out"
fi
group_db_edit del "$FAKE_LINE"
# A user whose only link to a mapped group is the look-alike: refused.
useradd -M -N -g users -s /bin/sh "${P}trudy"
EXTRA_USERS="$EXTRA_USERS trudy"
FAKE_LINE="${P}pii:x:${fake_gid}:${P}trudy"
group_db_edit add "$FAKE_LINE"
pt 127.0.0.7 "${P}trudy" "" acct_mgmt
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event account decision deny reason no_mapped_group user "${P}trudy"; then
	t_ok "member of a look-alike of the PII group only: account denied no_mapped_group, audited"
else
	t_fail "look-alike member admitted" "rc=$RC $(last_audit)"
fi
group_db_edit del "$FAKE_LINE"

# --- local addresses in allowlists ----------------------------------------
out=$("$CLI" check --config "$CONFIG" 2>&1)
if grep -q 'warning: allowlist "office" holds a loopback address' <<<"$out"; then
	t_ok "iamgate check warns about loopback in an allowlist"
else
	t_fail "no loopback warning" "$out"
fi
PII_ALLOW_LOCAL=false write_config
out=$("$CLI" check --config "$CONFIG" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'allowlist "pii-fixed" of the PII group holds a loopback address' <<<"$out"; then
	t_ok "iamgate check refuses loopback in the PII allowlist, saying why"
else
	t_fail "pii loopback accepted by check" "rc=$rc $out"
fi
pt 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason config_refused; then
	t_ok "loopback in the PII allowlist: every login denied config_refused, audited"
else
	t_fail "pii loopback: login" "rc=$RC $(last_audit)"
fi
write_config

# --- aws.ca_file must be trusted ------------------------------------------
install -m 0644 /dev/null "$T/etc/ca.pem"
ca_aws=", \"aws\": { \"region\": \"eu-west-1\", \"ca_file\": \"$T/etc/ca.pem\" }"
AWS_SECTION=$ca_aws write_config
if "$CLI" check --config "$CONFIG" >/dev/null 2>&1; then t_ok "a root-owned ca_file is accepted"; else t_fail "trusted ca_file refused" "$("$CLI" check --config "$CONFIG" 2>&1)"; fi
chmod 0666 "$T/etc/ca.pem"
out=$("$CLI" check --config "$CONFIG" 2>&1)
pt 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
if ! "$CLI" check --config "$CONFIG" >/dev/null 2>&1 && grep -q "aws.ca_file $T/etc/ca.pem is not a trusted file" <<<"$out" &&
	[ $RC -ne 0 ] && audit_has "$(last_audit)" reason config_refused; then
	t_ok "a world-writable ca_file refuses the configuration (check and login)"
else
	t_fail "untrusted ca_file" "rc=$RC $out $(last_audit)"
fi
write_config

# --- the step length may change -------------------------------------------
# Wait, if need be, until now is in the first half of a 60 s step, so the
# 30 s code and the 60 s code below fall into the steps meant.
wait_step_start() {
	local s
	s=$(( $(date +%s) % 60 ))
	if [ "$s" -gt 25 ]; then
		echo "# waiting $((60 - s)) s for the start of a 60 s step" >&2
		sleep $((60 - s))
	fi
}
extra_user eve
wait_step_start
pt 127.0.0.1 "${P}eve" "$(code_for "$SECRET_eve")" authenticate
first=$RC
STEP_SECONDS=60 write_config
code60=$(oathtool --totp -s 60 -b "$SECRET_eve")
pt 127.0.0.1 "${P}eve" "$code60" authenticate
if [ "$first" -eq 0 ] && [ $RC -eq 0 ] && audit_has "$(last_audit)" event auth decision allow user "${P}eve"; then
	t_ok "step_seconds 30 -> 60: the first 60 s code is accepted at once"
else
	t_fail "step change refused a good code" "first=$first rc=$RC $(last_audit)"
fi
pt 127.0.0.1 "${P}eve" "$code60" authenticate
if [ $RC -ne 0 ] && audit_has "$(last_audit)" reason replayed_code; then
	t_ok "the 60 s code, used, is a replay"
else
	t_fail "60 s code accepted twice" "rc=$RC $(last_audit)"
fi
write_config

# --- escalating lockout ---------------------------------------------------
extra_user zed
LOCKOUT_SECONDS=1 MAX_FAILURES=2 write_config
lockout_len() { grep '"event":"lockout"' "$AUDIT" | grep "\"user\":\"${P}zed\"" | tail -1 | jq -r .lockout_seconds; }
lockout_no() { grep '"event":"lockout"' "$AUDIT" | grep "\"user\":\"${P}zed\"" | tail -1 | jq -r .lockouts; }
lens=""
for k in 1 2 3; do
	for i in 1 2; do pt 127.0.0.1 "${P}zed" 000000 authenticate; done
	lens="$lens $(lockout_no)/$(lockout_len)"
	sleep $(( 1 << (k - 1) ))
	sleep 1
done
if [ "$lens" = " 1/1 2/2 3/4" ]; then
	t_ok "lockouts double: 1 s, 2 s, 4 s (lockout number/length:$lens)"
else
	t_fail "lockout lengths" "got:$lens"
fi
pt 127.0.0.1 "${P}zed" "$(code_for "$SECRET_zed")" authenticate
for i in 1 2; do pt 127.0.0.1 "${P}zed" 000000 authenticate; done
if [ "$(lockout_no)/$(lockout_len)" = "1/1" ]; then
	t_ok "a success resets the count: the next lockout is the first again"
else
	t_fail "no reset after success" "$(lockout_no)/$(lockout_len)"
fi
out=$("$CLI" status --config "$CONFIG" "${P}zed" 2>&1)
if grep -q "^lockouts: *1 since the last login or unlock" <<<"$out"; then t_ok "status shows the lockout count"; else t_fail "status lockouts" "$out"; fi
write_config
t_done
