#!/bin/bash
# tests/faults/t_concurrency.sh - parallel logins through libpam:
#  - N logins at once with the same valid code: exactly one success, N-1
#    replay denials, every one audited;
#  - N wrong codes at once: failures counted exactly (1..max_failures, each
#    once), the lockout starts exactly at max_failures, the rest are locked
#    out (iamgate status agrees);
#  - many users logging in and out at once with credential issuance: every
#    audit line present, the hash chain intact, no credential directory or
#    grant left behind.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
N=12
sts_start
MAX_FAILURES=$((N + 8)) pam_setup
write_service timeout=30

# par USER CODE RHOST N OPS...: N pamtesters at once; statuses in $T/par/*.
par() {
	local user=$1 code=$2 rhost=$3 n=$4
	shift 4
	rm -rf "$T/par"
	mkdir -p "$T/par"
	for i in $(seq 1 "$n"); do
		(pt "$rhost" "$user" "$code" "$@"; echo "$RC" >"$T/par/$i") &
	done
	wait
}
# jcount USER FILTER: audit lines of USER matching the jq FILTER.
jcount() { jq -s --arg u "$1" "[.[] | select(.user == \$u) | select($2)] | length" "$AUDIT"; }

# --- same valid code, N at once ----------------------------------------------
extra_user r1
U=${P}r1
par "$U" "$(code_for "$SECRET_r1")" 127.0.0.1 $N authenticate
wins=$(cat "$T"/par/* | grep -c '^0$')
if [ "$wins" -eq 1 ] && [ "$(ls "$T/par" | wc -l)" -eq $N ]; then t_ok "$N parallel logins with one valid code: exactly one success"; else t_fail "same code: $wins successes"; fi
a=$(jcount "$U" '.event == "auth" and .decision == "allow"')
r=$(jcount "$U" '.event == "auth" and .decision == "deny" and .reason == "replayed_code"')
o=$(jcount "$U" '.event == "auth"')
if [ "$a" -eq 1 ] && [ "$r" -eq $((N - 1)) ] && [ "$o" -eq $N ]; then
	t_ok "audit: 1 allow and $((N - 1)) replayed_code denials, nothing else"
else
	t_fail "same-code audit" "allow=$a replay=$r all=$o"
fi
if "$CLI" status --config "$CONFIG" "$U" | grep -q "^failures: *$((N - 1)) of"; then t_ok "status counts the $((N - 1)) replays as failures"; else t_fail "replay status" "$("$CLI" status --config "$CONFIG" "$U")"; fi
if [ "$(files_in "$T/run/grants")" -eq 1 ]; then t_ok "exactly one grant was written"; else t_fail "grants: $(files_in "$T/run/grants")"; fi

# --- wrong codes, N at once, lockout at max_failures --------------------------
MAXF=5
MAX_FAILURES=$MAXF write_config
extra_user w1
U=${P}w1
good=$(code_for "$SECRET_w1")
bad=$(printf '%06d' $(((10#$good + 500000) % 1000000)))
par "$U" "$bad" 127.0.0.1 $N authenticate
if [ "$(cat "$T"/par/* | grep -c '^0$')" -eq 0 ]; then t_ok "$N parallel wrong codes: all denied"; else t_fail "a wrong code passed"; fi
bc_lines=$(jq -s -c --arg u "$U" '[.[] | select(.user == $u and .event == "auth" and .reason == "bad_code") | .failures] | sort' "$AUDIT")
if [ "$bc_lines" = "[$(seq -s, 1 $MAXF)]" ]; then
	t_ok "failures counted exactly: bad_code lines carry failures 1..$MAXF, each once"
else
	t_fail "failure counting" "bad_code failures: $bc_lines"
fi
lk=$(jq -s -c --arg u "$U" '[.[] | select(.user == $u and .event == "lockout")]' "$AUDIT")
if [ "$(jq length <<<"$lk")" -eq 1 ] && [ "$(jq '.[0].failures' <<<"$lk")" -eq $MAXF ] && [ "$(jq -r '.[0].reason' <<<"$lk")" = too_many_failures ]; then
	t_ok "one lockout event, started exactly at failure $MAXF"
else
	t_fail "lockout event" "$lk"
fi
lo=$(jcount "$U" '.event == "auth" and .reason == "locked_out"')
if [ "$lo" -eq $((N - MAXF)) ] && [ "$(jcount "$U" '.event == "auth"')" -eq $N ]; then t_ok "the other $((N - MAXF)) were denied locked_out"; else t_fail "locked_out count $lo"; fi
st=$("$CLI" status --config "$CONFIG" "$U")
if printf '%s\n' "$st" | grep -q "^failures: *$MAXF of $MAXF" && ! printf '%s\n' "$st" | grep -q "^locked: *no"; then
	t_ok "iamgate status: $MAXF of $MAXF failures, locked"
else
	t_fail "status after lockout" "$st"
fi
pt 127.0.0.1 "$U" "$good" authenticate
if [ "$RC" -ne 0 ] && audit_has "$(last_audit)" reason locked_out >/dev/null; then t_ok "locked: the right code is refused"; else t_fail "locked right code" "$(last_audit)"; fi

# --- many users in and out at once, with credential issuance ----------------------
M=8
for i in $(seq 1 $M); do extra_user "m$i"; done
n0=$(acount)
s0=$(wc -l <"$STS_LOG")
rm -rf "$T/par"
mkdir -p "$T/par"
t0=$(date +%s%N)
for i in $(seq 1 $M); do
	sec="SECRET_m$i"
	(pt 127.0.0.1 "${P}m$i" "$(code_for "${!sec}")" authenticate open_session close_session
		echo "$RC" >"$T/par/$i"
		printf '%s\n' "$OUT" >"$T/par/out.$i") &
done
wait
ms=$(ms_since "$t0")
if [ "$(cat "$T"/par/[0-9]* | grep -c '^0$')" -eq $M ] && [ "$(grep -l 'AWS profile app-readonly issued' "$T"/par/out.* | wc -l)" -eq $M ]; then
	t_ok "$M users logged in and out at once, each issued app-readonly (${ms} ms)"
else
	t_fail "parallel sessions" "$(cat "$T"/par/[0-9]* | tr '\n' ' ') $(grep -h 'iamgate' "$T"/par/out.* | sort | uniq -c)"
fi
missing=""
for i in $(seq 1 $M); do
	u=${P}m$i
	for want in 'auth allow ok' 'issue allow ok' 'open_session allow ok' 'close_session allow credentials_removed'; do
		set -- $want
		[ "$(new_audit "$n0" | jq -c --arg u "$u" --arg e "$1" --arg d "$2" --arg r "$3" 'select(.user == $u and .event == $e and .decision == $d and .reason == $r)' | wc -l)" -eq 1 ] ||
			missing="$missing $u:$1"
	done
done
if [ -z "$missing" ] && [ "$(acount)" -eq $((n0 + 4 * M)) ]; then
	t_ok "every audit line present: $((4 * M)) new lines, 4 per user (auth, issue, open, close), no extra"
else
	t_fail "audit lines" "missing:$missing; new lines $(($(acount) - n0)) of $((4 * M))"
fi
if out=$("$CLI" audit verify --log "$AUDIT" 2>&1); then t_ok "audit chain intact after the parallel run ($(acount) lines)"; else t_fail "audit verify" "$out"; fi
if jq -s -e 'map(.seq) as $s | [range(1; length)] | all(. as $i | $s[$i] == $s[$i - 1] + 1)' "$AUDIT" >/dev/null; then t_ok "sequence numbers consecutive, no gap, no duplicate"; else t_fail "seq gaps"; fi
keys=$(new_audit "$n0" | jq -r 'select(.event == "issue") | .access_key_id' | sort -u | wc -l)
if [ "$keys" -eq $M ]; then t_ok "$M distinct access keys issued"; else t_fail "distinct keys: $keys"; fi
if [ "$(tail -n +"$((s0 + 1))" "$STS_LOG" | jq -s '[.[] | select(.action == "AssumeRole" and .result == "ok")] | length')" -eq $M ]; then
	t_ok "the endpoint saw exactly $M successful AssumeRole requests"
else
	t_fail "endpoint AssumeRole count" "$(tail -n +"$((s0 + 1))" "$STS_LOG" | jq -c '[.action, .result]' | sort | uniq -c)"
fi
if [ "$(files_in "$T/run/sessions")" -eq 0 ]; then t_ok "no credential directory left behind"; else t_fail "left behind: $(ls "$T/run/sessions")"; fi
if [ "$(find "$T/run/grants" -name '*.json' -newermt "@$((t0 / 1000000000 - 1))" | wc -l)" -eq 0 ]; then t_ok "every grant of the parallel logins was consumed"; else t_fail "grants left"; fi
if no_secrets_in "$AUDIT"; then t_ok "no code or secret in the audit log"; else t_fail "secret in audit"; fi
t_done
