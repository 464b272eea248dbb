#!/bin/bash
# tests/faults/t_state.sh - the helper's own files under attack or broken:
# the TOTP state directory missing, unsafe or read-only; a state or lock
# file replaced by a symlink (the pam_oath CVE-2024-47191 shape: never
# followed, never chowned), a hard link, a FIFO, garbage; the grant
# directory a symlink; the audit log a symlink, in an unsafe directory, or
# on a full disk (the decision is then a deny); the clock far off.  Each
# test types the RIGHT code and asserts the PAM result, what the user saw,
# and the audit line (or, when the audit log itself is the fault, the
# module's record of the helper's reason and that nothing was granted).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
pam_setup
write_service timeout=5 debug
STATE=$T/state
GRANTS=$T/run/grants

# victim FILE: a file some user owns (the target an attacker points at).
victim() {
	printf 'victim data, must stay as is\n' >"$1"
	chown 65534:65534 "$1"
	chmod 0644 "$1"
	touch -d '2020-01-01 00:00:00' "$1"
}
vstat() { stat -c '%u:%g %a %s %Y %h' "$1"; }
VSTAT0="65534:65534 644 29 $(date -d '2020-01-01 00:00:00' +%s) 1"
victim_intact() { # FILE
	if [ "$(vstat "$1")" = "$VSTAT0" ] && grep -qx 'victim data, must stay as is' "$1"; then return 0; fi
	echo "# victim changed: $(vstat "$1") / $VSTAT0: $(head -c 200 "$1")"
	return 1
}

# deny_audited NAME USER REASON: last ptl was denied and audited with REASON.
deny_audited() {
	local why=""
	[ "$RC" -ne 0 ] || why="rc=0"
	printf '%s\n' "$SEEN" | grep -q "Authentication failure" || why="$why; no failure verdict"
	seen_nothing_more >/dev/null || why="$why; user saw: $SEEN"
	audit_has "$(last_audit)" event auth decision deny user "$2" reason "$3" >/dev/null ||
		why="$why; audit: $(last_audit)"
	if [ -z "$why" ]; then t_ok "$1"; else t_fail "$1" "$why"; fi
}
# control NAME USER: the same user's right code works once the fault is gone
# (the deny happened before the code was even checked or counted).
control() {
	local sec="SECRET_$2"
	pt 127.0.0.1 "${P}$2" "$(code_for "${!sec}")" authenticate
	if [ "$RC" -eq 0 ] && audit_has "$(last_audit)" event auth decision allow >/dev/null; then t_ok "$1"; else t_fail "$1" "rc=$RC $(last_audit)"; fi
}
# Enrolled up front: enrollment is audited, and the audit log breaks below.
for u in s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 c1; do extra_user $u; done
SECRET_bob=$SECRET_B

# --- state directory ------------------------------------------------------
mv "$STATE" "$T/state.saved"
ptl 127.0.0.1 "${P}alice" "$(code_for $SECRET_A)" authenticate
deny_audited "state directory missing: login denied as not_enrolled" "${P}alice" not_enrolled
if [ "$(stat -c '%U %a %F' "$STATE")" = "root 700 directory" ]; then t_ok "missing state directory is created root 0700"; else t_fail "state dir created" "$(stat -c '%U %a %F' "$STATE")"; fi
rm -rf "$STATE"
mv "$T/state.saved" "$STATE"

chmod 0770 "$STATE"
ptl 127.0.0.1 "${P}s1" "$(code_for $SECRET_s1)" authenticate
deny_audited "group-writable state directory: denied state_dir_unsafe" "${P}s1" state_dir_unsafe
if [ "$(stat -c %a "$STATE")" = 770 ]; then t_ok "the unsafe state directory is refused, not silently re-moded"; else t_fail "state dir mode changed"; fi
chmod 0700 "$STATE"
control "state directory fixed: the same right code works (the deny came before the code check)" s1

chown 65534 "$STATE"
ptl 127.0.0.1 "${P}s2" "$(code_for $SECRET_s2)" authenticate
deny_audited "state directory not owned by root: denied state_dir_unsafe" "${P}s2" state_dir_unsafe
chown 0 "$STATE"

mv "$STATE" "$T/state.real"
ln -s "$T/state.real" "$STATE"
ptl 127.0.0.1 "${P}s2" "$(code_for $SECRET_s2)" authenticate
deny_audited "state directory replaced by a symlink: denied state_dir_unsafe" "${P}s2" state_dir_unsafe
rm "$STATE"
mv "$T/state.real" "$STATE"
control "state directory restored: right code works" s2

if mount --bind "$STATE" "$STATE" 2>/dev/null && mount -o remount,bind,ro "$STATE"; then
	at_exit "umount '$STATE'"
	ptl 127.0.0.1 "${P}s3" "$(code_for $SECRET_s3)" authenticate
	deny_audited "read-only state directory (unwritable): denied state_unavailable" "${P}s3" state_unavailable
	umount "$STATE"
	control "state directory writable again: right code works" s3
else
	umount "$STATE" 2>/dev/null
	t_fail "cannot bind-mount the state directory read-only (mount not permitted?)"
fi

# --- state and lock files: never followed, never chowned --------------------
victim "$T/victim1"
ln -sf "$T/victim1" "$STATE/${P}s4.json"
ptl 127.0.0.1 "${P}s4" "$(code_for $SECRET_s4)" authenticate
deny_audited "state file replaced by a symlink to a user's file: denied state_file_unsafe" "${P}s4" state_file_unsafe
"$CLI" unlock --config "$CONFIG" "${P}s4" >/dev/null 2>&1
ucode=$?
"$CLI" status --config "$CONFIG" "${P}s4" >/dev/null 2>&1
scode=$?
if victim_intact "$T/victim1" && [ -L "$STATE/${P}s4.json" ] && [ "$(readlink "$STATE/${P}s4.json")" = "$T/victim1" ]; then
	t_ok "symlink never followed or chowned: target's owner, mode, size, mtime and content unchanged"
else
	t_fail "symlinked state file: victim or link changed"
fi
if [ $ucode -ne 0 ] && [ $scode -ne 0 ]; then t_ok "iamgate unlock/status refuse the symlinked state file"; else t_fail "cli on symlink" "unlock=$ucode status=$scode"; fi

# A symlink to another user's valid state must not let her code in.
cp -p "$STATE/${P}bob.json" "$T/bob.before"
ln -sf "$STATE/${P}bob.json" "$STATE/${P}s5.json"
ptl 127.0.0.1 "${P}s5" "$(code_for $SECRET_B)" authenticate
deny_audited "state file symlinked to bob's valid state: bob's code refused for another user" "${P}s5" state_file_unsafe
if cmp -s "$STATE/${P}bob.json" "$T/bob.before" && [ "$(stat -c '%U %a %h' "$STATE/${P}bob.json")" = "root 600 1" ]; then t_ok "bob's state untouched (no step consumed through the link)"; else t_fail "bob's state changed"; fi
rm "$STATE/${P}s5.json"
control "bob's code still works for bob" bob

victim "$T/victim2"
ln -sf "$T/victim2" "$STATE/.${P}s6.lock"
ptl 127.0.0.1 "${P}s6" "$(code_for $SECRET_s6)" authenticate
deny_audited "lock file replaced by a symlink: denied state_file_unsafe" "${P}s6" state_file_unsafe
if victim_intact "$T/victim2"; then t_ok "symlinked lock file: target untouched"; else t_fail "lock victim changed"; fi
rm "$STATE/.${P}s6.lock"
control "lock file removed: it is recreated and the right code works" s6

# A hard link to a file elsewhere that root owns (same file system).
mv "$STATE/${P}s7.json" "$T/s7.saved"
ln "$T/s7.saved" "$STATE/${P}s7.json"
ptl 127.0.0.1 "${P}s7" "$(code_for $SECRET_s7)" authenticate
deny_audited "state file with a second hard link: denied state_file_unsafe" "${P}s7" state_file_unsafe
rm "$STATE/${P}s7.json"
mv "$T/s7.saved" "$STATE/${P}s7.json"
control "hard link gone: right code works" s7

chmod 0644 "$STATE/${P}s8.json"
ptl 127.0.0.1 "${P}s8" "$(code_for $SECRET_s8)" authenticate
deny_audited "state file readable by others (0644): denied state_file_unsafe" "${P}s8" state_file_unsafe
chmod 0600 "$STATE/${P}s8.json"
chown 65534 "$STATE/${P}s8.json"
ptl 127.0.0.1 "${P}s8" "$(code_for $SECRET_s8)" authenticate
deny_audited "state file owned by a user: denied state_file_unsafe" "${P}s8" state_file_unsafe
if [ "$(stat -c %u "$STATE/${P}s8.json")" = 65534 ]; then t_ok "a foreign-owned state file is refused, never chowned back"; else t_fail "state file chowned"; fi
chown 0 "$STATE/${P}s8.json"
control "state file fixed: right code works" s8

mv "$STATE/${P}s9.json" "$T/s9.saved"
mkfifo -m 0600 "$STATE/${P}s9.json"
# A helper blocked on the FIFO would be killed by the module and audit
# nothing; the audited reason proves it did not block.
ptl 127.0.0.1 "${P}s9" "$(code_for $SECRET_s9)" authenticate
deny_audited "state file replaced by a FIFO: denied state_file_unsafe without blocking" "${P}s9" state_file_unsafe
rm "$STATE/${P}s9.json"
printf '{"v":1,"secret":' >"$STATE/${P}s9.json"
chmod 0600 "$STATE/${P}s9.json"
ptl 127.0.0.1 "${P}s9" "$(code_for $SECRET_s9)" authenticate
deny_audited "state file holding garbage: denied state_unavailable" "${P}s9" state_unavailable
mv "$T/s9.saved" "$STATE/${P}s9.json"

# --- grant directory --------------------------------------------------------
mkdir -p "$T/grants.elsewhere"
chmod 0700 "$T/grants.elsewhere"
rm -rf "$GRANTS"
ln -s "$T/grants.elsewhere" "$GRANTS"
ptl 127.0.0.1 "${P}s10" "$(code_for $SECRET_s10)" authenticate
deny_audited "grant directory replaced by a symlink: denied grant_unavailable" "${P}s10" grant_unavailable
if [ "$(files_in "$T/grants.elsewhere")" -eq 0 ]; then t_ok "nothing written through the grant-directory symlink"; else t_fail "grant written through symlink"; fi
rm "$GRANTS"

# --- audit log: no record, no access -----------------------------------------
# audit_fails NAME USER: the right code was refused because the audit record
# could not be written; no grant was left behind for the refused login.
audit_fails() {
	local why=""
	[ "$RC" -ne 0 ] || why="rc=0: a login was allowed without an audit record"
	printf '%s\n' "$SEEN" | grep -q "Authentication failure" || why="$why; no failure verdict"
	seen_nothing_more >/dev/null || why="$why; user saw: $SEEN"
	printf '%s\n' "$LOG" | grep -q 'SYSLOG(7): auth: auth_err (audit_unavailable)' || why="$why; helper reason not audit_unavailable: $LOG"
	[ "$(files_in "$GRANTS")" -eq 0 ] || why="$why; $(files_in "$GRANTS") grant file(s) left for a refused login"
	if [ -z "$why" ]; then t_ok "$1"; else t_fail "$1" "$why"; fi
}
PWDBG=2

mv "$AUDIT" "$T/audit.saved"
victim "$T/victim3"
ln -s "$T/victim3" "$AUDIT"
ptl 127.0.0.1 "${P}s10" "$(code_for $SECRET_s10)" authenticate
audit_fails "audit log replaced by a symlink: right code denied (audit_unavailable)" s10
if victim_intact "$T/victim3"; then t_ok "audit symlink never followed: target untouched"; else t_fail "audit victim changed"; fi
rm "$AUDIT"
mv "$T/audit.saved" "$AUDIT"

chmod 0775 "$T/log"
ptl 127.0.0.1 "${P}s11" "$(code_for $SECRET_s11)" authenticate
audit_fails "audit directory group-writable: right code denied" s11
chmod 0755 "$T/log"
chown 65534 "$T/log"
sleep 0
ptl 127.0.0.1 "${P}carol" 123456 authenticate
if [ "$RC" -ne 0 ] && printf '%s\n' "$LOG" | grep -q 'audit_unavailable'; then t_ok "audit directory owned by a user: denials still denied, reason audit_unavailable"; else t_fail "audit dir owner" "$OUT"; fi
chown 0 "$T/log"

victim "$T/victim4"
mv "$AUDIT.head" "$T/head.saved" 2>/dev/null
ln -s "$T/victim4" "$AUDIT.head"
ptl 127.0.0.1 "${P}s12" "$(code_for $SECRET_s12)" authenticate
audit_fails "audit head (lock) file replaced by a symlink: right code denied" s12
if victim_intact "$T/victim4"; then t_ok "audit head symlink: target untouched"; else t_fail "head victim changed"; fi
rm "$AUDIT.head"
mv "$T/head.saved" "$AUDIT.head" 2>/dev/null
if "$CLI" audit verify --log "$AUDIT" >/dev/null 2>&1; then t_ok "the audit chain is intact after the refused writes"; else t_fail "audit verify" "$("$CLI" audit verify --log "$AUDIT" 2>&1 | tail -3)"; fi

# --- audit log on a full disk --------------------------------------------------
FULL=$T/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=64k,mode=0755 tmpfs "$FULL" 2>/dev/null; then
	at_exit "umount -l '$FULL'"
	AUDIT_MAIN=$AUDIT
	AUDIT=$FULL/audit.jsonl
	write_config
	dd if=/dev/zero of="$FULL/filler" bs=4k >/dev/null 2>&1
	ptl 127.0.0.1 "${P}s13" "$(code_for $SECRET_s13)" authenticate
	audit_fails "disk full before the first audit line: right code denied" s13
	# A log with lines, then the disk fills: write until a denial cannot be
	# recorded, then the right code must be refused too.
	rm -f "$FULL/filler"
	pt 127.0.0.1 "${P}carol" 123456 authenticate
	n_before=$(acount)
	dd if=/dev/zero of="$FULL/filler" bs=4k >/dev/null 2>&1
	full=0
	for i in $(seq 1 40); do
		ptl 127.0.0.1 "${P}carol" 123456 authenticate
		if printf '%s\n' "$LOG" | grep -q audit_unavailable; then full=1; break; fi
	done
	if [ $full = 1 ]; then
		ptl 127.0.0.1 "${P}s14" "$(code_for $SECRET_s14)" authenticate
		audit_fails "disk full mid-log: right code denied (audit_unavailable)" s14
	else
		t_fail "the full disk never made an audit write fail (40 tries)"
	fi
	rm -f "$FULL/filler"
	pt 127.0.0.1 "${P}s15" "$(code_for $SECRET_s15)" authenticate
	if [ "$RC" -eq 0 ] && audit_has "$(last_audit)" event auth decision allow user "${P}s15"; then t_ok "space freed: logins work and are audited again"; else t_fail "after disk full" "rc=$RC $(last_audit)"; fi
	# A write cut short by ENOSPC is cut back off the file by the writer
	# (under its lock), so no fragment stays behind: the chain verifies.
	out=$("$CLI" audit verify --log "$AUDIT" 2>&1)
	vrc=$?
	if [ $vrc -eq 0 ]; then
		t_ok "audit chain verifies after the disk-full episode (no fragment left)"
	else
		t_fail "verify after disk full" "rc=$vrc $out"
	fi
	if [ "$(jq -R 'fromjson? // "BAD"' "$AUDIT" | grep -c '^"BAD"$')" -eq 0 ]; then t_ok "every audit line is whole JSON"; else t_fail "torn audit lines" "$(tail -c 600 "$AUDIT")"; fi
	AUDIT=$AUDIT_MAIN
	write_config
	umount "$FULL"
else
	t_fail "tmpfs mount not permitted: the disk-full case could not run"
fi

# --- clock far off ---------------------------------------------------------------
now=$(date +%s)
for off in +600 -600 +90; do
	pt 127.0.0.1 "${P}c1" "$(oathtool --totp -b "$SECRET_c1" -N "@$((now $off))")" authenticate
	if [ "$RC" -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason bad_code >/dev/null; then
		t_ok "code from a clock ${off} s off: denied bad_code"
	else
		t_fail "clock $off" "rc=$RC $(last_audit)"
	fi
done
"$CLI" unlock --config "$CONFIG" "${P}c1" >/dev/null
pt 127.0.0.1 "${P}c1" "$(oathtool --totp -b "$SECRET_c1" -N "@$((now + 30))")" authenticate
if [ "$RC" -eq 0 ]; then t_ok "a code one step ahead (inside window 1) is accepted"; else t_fail "window +1" "$(last_audit)"; fi

if out=$("$CLI" audit verify --log "$AUDIT" 2>&1); then t_ok "main audit chain intact at the end ($(acount) lines)"; else t_fail "final verify" "$out"; fi
t_done
