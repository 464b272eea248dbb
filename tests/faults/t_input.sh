#!/bin/bash
# tests/faults/t_input.sh - hostile input, each a clear deny with no crash
# and bounded memory:
#  - through libpam (pamtester): user names with odd bytes (space, newline,
#    UTF-8, 300 bytes, leading dash or dot, path characters, 2000 and 20000
#    bytes), non-numeric / short / long / padded / non-ASCII codes, rhost
#    values that are host names, empty, IPv4 shorthand/octal/hex, with a
#    port or prefix, v4-mapped (allowed as IPv4), scoped IPv6, with a
#    newline, very long;
#  - straight into the helper's stdin: NUL bytes (escaped and raw), invalid
#    UTF-8, oversize (> 16 KiB, 1 MiB) and deeply nested JSON, wrong types,
#    unknown keys or phases, trailing data, under an address-space limit
#    with the peak RSS measured.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
MAX_FAILURES=50 pam_setup
write_service timeout=5 debug
PWDBG=2

# --- user names ------------------------------------------------------------------
# odd_user LABEL NAME: denied user_name_unsafe, the raw name kept out of
# the log, exactly one new audit line, the user saw the usual prompt only.
odd_user() {
	local a0 why=""
	a0=$(acount)
	ptl 127.0.0.1 "$2" 123456 authenticate
	[ "$RC" -ne 0 ] || why="rc=0"
	[ "$(acount)" -eq $((a0 + 1)) ] || why="$why; $(($(acount) - a0)) new audit lines"
	audit_has "$(last_audit)" event auth decision deny reason user_name_unsafe user null >/dev/null || why="$why; audit: $(last_audit)"
	printf '%s\n' "$SEEN" | grep -q "Verification code:" || why="$why; no prompt"
	seen_nothing_more >/dev/null || why="$why; user saw: $SEEN"
	if [ -n "$2" ] && grep -qF -- "$2" "$AUDIT"; then why="$why; the raw name is in the audit log"; fi
	if [ -z "$why" ]; then t_ok "user name $1: denied user_name_unsafe, raw bytes not logged"; else t_fail "user name $1" "$why"; fi
}
odd_user "with a space" "${P} alice"
odd_user "with a newline (log injection)" "${P}x"$'\n''{"event":"auth","decision":"allow"}'
odd_user "in UTF-8" "${P}jürgen"
odd_user "of 300 bytes" "$(printf 'a%.0s' $(seq 300))"
odd_user "with a leading dash" "-${P}alice"
odd_user "with a leading dot" ".${P}alice"
odd_user "'..'" ".."
odd_user "with a slash" "${P}a/../../etc/shadow"
odd_user "with a colon" "${P}alice:x"
odd_user "with a tab" "${P}al"$'\t'"ice"
odd_user "with an ANSI escape" "${P}"$'\e[31m'"alice"

# 64 safe bytes: a possible name, just not a user here.
ptl 127.0.0.1 "$(printf 'u%.0s' $(seq 64))" 123456 authenticate
if [ "$RC" -ne 0 ] && audit_has "$(last_audit)" reason user_unknown >/dev/null; then t_ok "user name of 64 safe bytes: denied user_unknown"; else t_fail "64-byte name" "$(last_audit)"; fi

# Longer than the protocol's field limit: the helper refuses the request.
a0=$(acount)
ptl 127.0.0.1 "$(printf 'b%.0s' $(seq 2000))" 123456 authenticate
if [ "$RC" -ne 0 ] && printf '%s\n' "$LOG" | grep -q 'auth: helper refused the request: bad_request' && [ "$(acount)" -eq "$a0" ]; then
	t_ok "user name of 2000 bytes: denied as a bad request (no audit line: no user to name)"
else
	t_fail "2000-byte name" "rc=$RC $LOG"
fi
ptl 127.0.0.1 "$(printf 'c%.0s' $(seq 20000))" 123456 authenticate
if [ "$RC" -ne 0 ] && printf '%s\n' "$LOG" | grep -q 'request too large' && [ "$(acount)" -eq "$a0" ]; then
	t_ok "user name of 20000 bytes: the module refuses to send it (request too large)"
else
	t_fail "20000-byte name" "rc=$RC $LOG"
fi
ptl 127.0.0.1 "" 123456 authenticate
if [ "$RC" -ne 0 ] && [ "$(acount)" -eq "$a0" ]; then t_ok "empty user name: denied before the helper"; else t_fail "empty user" "rc=$RC $OUT"; fi

# --- codes -------------------------------------------------------------------------
extra_user k1
U=${P}k1
good=$(code_for "$SECRET_k1")
for c in 12ab56 12345 1234567 " $good" "$good " "${good}x" "0$good" "+$good" "١٢٣٤٥٦" "" "$(printf '9%.0s' $(seq 600))" "${good:0:3} ${good:3}"; do
	pt 127.0.0.1 "$U" "$c" authenticate
	if [ "$RC" -ne 0 ] && audit_has "$(last_audit)" event auth decision deny reason bad_code user "$U" >/dev/null; then
		t_ok "code '$(printf '%.12s' "$c")' (${#c} chars): denied bad_code"
	else
		t_fail "code '$c'" "rc=$RC $(last_audit)"
	fi
done
fails=$("$CLI" status --config "$CONFIG" "$U" | sed -n 's/^failures: *\([0-9]*\) of.*/\1/p')
if [ "$fails" = 12 ]; then t_ok "each malformed code counted as one failure (12)"; else t_fail "failure count $fails"; fi
pt 127.0.0.1 "$U" "$(code_for "$SECRET_k1")" authenticate
if [ "$RC" -eq 0 ]; then t_ok "control: the well-formed right code works"; else t_fail "k1 control" "$(last_audit)"; fi

# --- rhost -------------------------------------------------------------------------
# All denied before the code is checked, so one right code serves them all.
extra_user h1
U=${P}h1
rhost_deny() { # RHOST REASON
	local a0
	a0=$(acount)
	ptl "$1" "$U" "$(code_for "$SECRET_h1")" authenticate
	if [ "$RC" -ne 0 ] && [ "$(acount)" -eq $((a0 + 1)) ] && audit_has "$(last_audit)" event auth decision deny reason "$2" >/dev/null && seen_nothing_more >/dev/null; then
		t_ok "rhost '$(printf '%.40s' "$1" | tr '\n' '~')': denied $2, one audit line"
	else
		t_fail "rhost '$1'" "rc=$RC $(last_audit)"
	fi
}
rhost_deny localhost rhost_not_an_address
rhost_deny bastion.example.com rhost_not_an_address
rhost_deny "" rhost_missing
rhost_deny "fe80::1%lo" rhost_not_an_address
rhost_deny "fe80::1%eth0" rhost_not_an_address
rhost_deny "::1%1" rhost_not_an_address
rhost_deny 127.1 rhost_not_an_address
rhost_deny 0177.0.0.1 rhost_not_an_address
rhost_deny 0x7f.0.0.1 rhost_not_an_address
rhost_deny 2130706433 rhost_not_an_address
rhost_deny "127.0.0.1 " rhost_not_an_address
rhost_deny " 127.0.0.1" rhost_not_an_address
rhost_deny 127.0.0.1:22 rhost_not_an_address
rhost_deny 127.0.0.1/32 rhost_not_an_address
rhost_deny "[::1]" rhost_not_an_address
rhost_deny 127.0.0.1$'\n'10.0.0.1 rhost_not_an_address
rhost_deny "$(printf '1%.0s' $(seq 1000))" rhost_not_an_address
rhost_deny 198.51.100.7 rhost_not_allowed
rhost_deny ::ffff:198.51.100.7 rhost_not_allowed
if jq -e . "$AUDIT" >/dev/null && [ "$(grep -c '10.0.0.1' "$AUDIT")" -eq 1 ] && jq -s -e 'any(.rhost == "127.0.0.1\n10.0.0.1")' "$AUDIT" >/dev/null; then
	t_ok "an rhost with a newline stays one JSON string in one audit line"
else
	t_fail "newline rhost in audit"
fi
a0=$(acount)
ptl "$(printf '2%.0s' $(seq 2000))" "$U" "$(code_for "$SECRET_h1")" authenticate
if [ "$RC" -ne 0 ] && [ "$(acount)" -eq "$a0" ] && printf '%s\n' "$LOG" | grep -q 'bad_request'; then t_ok "rhost of 2000 bytes: denied as a bad request"; else t_fail "2000-byte rhost" "rc=$RC $LOG"; fi
pt ::ffff:127.0.0.1 "$U" "$(code_for "$SECRET_h1")" authenticate
if [ "$RC" -eq 0 ] && audit_has "$(last_audit)" event auth decision allow rhost ::ffff:127.0.0.1 >/dev/null; then
	t_ok "v4-mapped ::ffff:127.0.0.1 is allowed as 127.0.0.1 (and logged as typed)"
else
	t_fail "v4-mapped allow" "rc=$RC $(last_audit)"
fi
pt "fe80::1%lo" "$U" "" acct_mgmt
if [ "$RC" -ne 0 ] && audit_has "$(last_audit)" event account decision deny reason rhost_not_an_address >/dev/null; then t_ok "account phase: scoped IPv6 denied"; else t_fail "account scoped" "$(last_audit)"; fi

# --- requests straight into the helper -----------------------------------------------
# run_helper FILE: the helper with FILE on stdin, under an address-space
# limit (not under ASan, which reserves terabytes); prints "rc maxrss_kib"
# and leaves the reply in $T/reply.
AS_LIMIT=$((256 * 1024 * 1024))
run_helper() {
	$PY - "$HELPER" "$1" "$T/reply" "$([ "${IG_ASAN:-0}" = 1 ] && echo 0 || echo $AS_LIMIT)" <<'PYEOF'
import resource, subprocess, sys
helper, inp, outp, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def lim():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
with open(inp, "rb") as i, open(outp, "wb") as o:
    try:
        p = subprocess.run([helper], stdin=i, stdout=o, stderr=subprocess.DEVNULL, env={}, preexec_fn=lim, timeout=20)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PYEOF
}
RSS_MAX=0
# bad_req NAME: the request in $T/req gets a bad_request reply, exit 0,
# no audit line, quickly, in bounded memory.
bad_req() {
	local a0 res rc rss t0 ms
	a0=$(acount)
	t0=$(date +%s%N)
	res=$(run_helper "$T/req")
	ms=$(ms_since "$t0")
	rc=${res% *}
	rss=${res#* }
	[ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
	if [ "$rc" = 0 ] && [ "$(jq -c '[.result, .reason]' "$T/reply" 2>/dev/null)" = '["system_err","bad_request"]' ] &&
		[ "$(acount)" -eq "$a0" ] && [ "$ms" -lt 10000 ]; then
		t_ok "$1: bad_request reply, exit 0, ${rss} KiB peak, ${ms} ms"
	else
		t_fail "$1" "rc=$rc reply=$(head -c 300 "$T/reply") new audit lines=$(($(acount) - a0)) ${ms} ms"
	fi
}
req() { # JSON-MEMBERS-AFTER-v: a request with the usual fields replaced/added
	printf '{"v":1,"phase":"auth","config":"%s","rhost":"127.0.0.1","service":"sshd","tty":"ssh",%s}' "$CONFIG" "$1" >"$T/req"
}
req '"user":"'"${P}alice"'","code":"123456"'
res=$(run_helper "$T/req")
if [ "${res% *}" = 0 ] && [ "$(jq -r .reason "$T/reply")" = bad_code ]; then
	t_ok "control: a well-formed request under the same limit is decided (bad_code, ${res#* } KiB peak)"
else
	t_fail "control request" "$res $(cat "$T/reply")"
fi
"$CLI" unlock --config "$CONFIG" "${P}alice" >/dev/null

req '"user":"'"${P}al"'\u0000ice","code":"123456"'
bad_req "NUL byte (escaped \\u0000) in the user name"
req '"user":"'"${P}alice"'","code":"123\u0000456"'
bad_req "NUL byte (escaped) in the code"
req '"user":"'"${P}alice"'","code":"123456"'
printf '{"v":1,"phase":"auth","config":"%s","user":"%s\0x","rhost":"127.0.0.1","code":"1"}' "$CONFIG" "${P}alice" >"$T/req"
bad_req "raw NUL byte inside a JSON string"
printf '{"v":1,"phase":"auth","config":"%s","user":"\xff\xfe","rhost":"127.0.0.1"}' "$CONFIG" >"$T/req"
bad_req "invalid UTF-8 in the user name"
: >"$T/req"
bad_req "empty request"
for j in '[]' '"auth"' 'null' '1' '{}'; do
	printf '%s' "$j" >"$T/req"
	bad_req "request that is not a request object: $j"
done
req '"user":"'"${P}alice"'","code":"123456"}{"v":1'
bad_req "two objects back to back"
req '"user":"'"${P}alice"'","code":"123456"'
printf ' trailing' >>"$T/req"
bad_req "trailing data after the object"
req '"user":5,"code":"123456"'
bad_req "user of the wrong type"
req '"user":"'"${P}alice"'","code":123456'
bad_req "code as a number"
req '"user":"'"${P}alice"'","code":"123456","admin":true'
bad_req "unknown key"
req '"user":"'"${P}alice"'","user":"root","code":"123456"'
bad_req "duplicate key"
printf '{"v":2,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1"}' "$CONFIG" "${P}alice" >"$T/req"
bad_req "wrong protocol version"
printf '{"v":1e400,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1"}' "$CONFIG" "${P}alice" >"$T/req"
bad_req "version as a huge number"
printf '{"v":1,"phase":"setcred","config":"%s","user":"%s","rhost":"127.0.0.1"}' "$CONFIG" "${P}alice" >"$T/req"
bad_req "unknown phase"
printf '{"v":1,"phase":"auth","config":"etc/iamgate.json","user":"%s","rhost":"127.0.0.1"}' "${P}alice" >"$T/req"
bad_req "relative config path"
req '"user":"'"${P}alice"'","code":"'"$(printf '1%.0s' $(seq 1100))"'"'
bad_req "code longer than the field limit (1100 bytes)"
req '"user":"'"${P}alice"'","code":"123456","tty":"'"$(printf 't%.0s' $(seq 15000))"'"'
bad_req "request larger than 16 KiB"
{
	req '"user":"'"${P}alice"'","code":"123456"'
	head -c 1048576 /dev/zero | tr '\0' ' '
} >"$T/req.big"
mv "$T/req.big" "$T/req"
bad_req "request of 1 MiB (read stops at the cap)"
{
	printf '{"v":1,"x":'
	head -c 7000 /dev/zero | tr '\0' '['
	head -c 7000 /dev/zero | tr '\0' ']'
	printf '}'
} >"$T/req"
bad_req "JSON nested 7000 deep (beyond the parser's depth cap)"
{
	printf '{"v":1,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1","service":' "$CONFIG" "${P}alice"
	head -c 1000 /dev/zero | tr '\0' '['
	head -c 1000 /dev/zero | tr '\0' ']'
	printf '}'
} >"$T/req"
bad_req "JSON nested 1000 deep in a field"
{
	printf '{"v":1,"phase":"auth","config":"%s","user":"%s","rhost":"127.0.0.1","service":[' "$CONFIG" "${P}alice"
	for i in $(seq 1800); do printf '{"a":1},'; done
	printf '1]}'
} >"$T/req"
bad_req "a field holding 1800 objects (parsed whole: under the 16 KiB cap)"
if [ "$RSS_MAX" -lt 65536 ]; then t_ok "peak RSS over all bad requests: ${RSS_MAX} KiB (< 64 MiB)"; else t_fail "peak RSS ${RSS_MAX} KiB"; fi

if out=$("$CLI" audit verify --log "$AUDIT" 2>&1); then t_ok "audit chain intact after all of it ($(acount) lines)"; else t_fail "audit verify" "$out"; fi
t_done
