#!/bin/bash
# tests/net/t_imds_lockdown.sh - the metadata lockdown for real.
#
# In a network namespace this suite makes for itself (unshare -n: no
# interface but lo, no route anywhere), the metadata addresses
# 169.254.169.254 and fd00:ec2::254 are put on lo and the IMDSv2 emulator
# (tests/sts/imds.py) answers on port 80 of both, the STS test endpoint on
# 127.0.0.1.  Then, with and without the shipped rule
# (packaging/nftables/iamgate-imds.nft) and with a broken one: what a real
# user can reach (curl as the user: IPv4, IPv6, IPv4-mapped, another port,
# UDP), what `iamgate check` says, whether a login through libpam
# (pamtester under pam_wrapper, the helper and the issuer as installed)
# gets credentials, and the audit record of each refusal.  Nothing here
# reaches an address outside the namespace.
source "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	t_ok "metadata lockdown: skipped, needs root (network namespace, nftables, users) # SKIP"
	t_done
	exit
fi
if [ -z "${IG_NETNS_CHILD:-}" ]; then
	command -v nft >/dev/null && command -v ip >/dev/null || {
		t_fail "nft and ip are installed (tests/deps.sh: nftables, iproute2)"
		t_done
		exit 1
	}
	exec unshare --net env IG_NETNS_CHILD=1 "$0" "$@"
fi

# ------------------------------------------------------------ the namespace
links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
if [ "$links" != "lo " ] || [ -n "$(ip route show; ip -6 route show)" ]; then
	t_fail "a namespace of our own: only lo, no route" "links: $links"
	t_done
	exit 1
fi
ip link set lo up
ip addr add 169.254.169.254/32 dev lo
ip -6 addr add fd00:ec2::254/128 dev lo nodad
t_ok "own network namespace: lo alone, with 169.254.169.254 and fd00:ec2::254"

source "$ROOT/tests/pam/common.sh"
RULE=$ROOT/packaging/nftables/iamgate-imds.nft
STS=$T/sts
SESSION_EXTRA=', "on_issue_failure": "deny"'
IMDS_PIDS=()
cleanup() {
	local p
	for p in "${IMDS_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$ROOT/tests/sts/stsctl.sh" stop "$STS" >/dev/null 2>&1
	pam_cleanup
}
trap cleanup EXIT

mkdir -p "$STS"
"$ROOT/tests/sts/mkca.sh" "$STS/ca" >/dev/null
$PY "$ROOT/tests/sts/stsutil.py" bastion-state "$STS/state.json" \
	arn:aws:iam::111122223333:role/bastion-app-readonly \
	arn:aws:iam::111122223333:role/bastion-pii-rds-snapshot
eval "$("$ROOT/tests/sts/stsctl.sh" start "$STS" --state "$STS/state.json" --no-imds --lifetime 900)"
# The emulator on the metadata addresses, port 80: the real endpoint, as the
# default configuration names it (no imds_endpoint below).
for a in 169.254.169.254 fd00:ec2::254; do
	$PY "$ROOT/tests/sts/imds.py" --state "$STS/state.json" --bind "$a" --port 80 \
		--port-file "$STS/imds-$a.port" --log "$STS/imds.jsonl" --lifetime 900 \
		</dev/null >>"$STS/imds.stderr" 2>&1 &
	IMDS_PIDS+=($!)
done
# Something on another port of the metadata address, to show the rule is
# not about port 80 alone.
$PY -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("169.254.169.254", 8080)); s.listen(64); s.settimeout(900)
while True: s.accept()[0].close()' </dev/null >/dev/null 2>&1 &
IMDS_PIDS+=($!)
for _ in $(seq 100); do
	[ -s "$STS/imds-169.254.169.254.port" ] && [ -s "$STS/imds-fd00:ec2::254.port" ] && break
	sleep 0.1
done
AWS_SECTION=", \"aws\": { \"region\": \"us-east-1\", \"sts_endpoint\": \"$STS_URL\", \"ca_file\": \"$STS_CA\",
   \"timeout_seconds\": 4, \"credentials\": { \"source\": \"imds\", \"cache_dir\": \"$T/run/cache\" } }"
export AWS_SECTION
pam_setup
KEY_ID=$($PY "$ROOT/tests/sts/stsutil.py" cred "$STS/state.json" instance access_key_id)
ALICE_UID=$(id -u "${P}alice")

# as_user CMD...: run CMD as the test user alice (an ordinary account).
as_user() { setpriv --reuid "$ALICE_UID" --regid "$(id -g "${P}alice")" --clear-groups "$@"; }

# steal BASE_URL: as alice, the instance role's access key id through IMDSv2.
steal() {
	as_user bash -c '
		tok=$(curl -sf -m 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$1/latest/api/token") || exit 1
		p=/latest/meta-data/iam/security-credentials/
		role=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: $tok" "$1$p") || exit 1
		curl -sf -m 5 -H "X-aws-ec2-metadata-token: $tok" "$1$p$role"' _ "$1" |
		jq -r .AccessKeyId 2>/dev/null
}
# user_tcp HOST PORT / user_udp HOST PORT: alice connects / sends a datagram.
user_tcp() {
	as_user $PY -c 'import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)' "$1" "$2" 2>/dev/null
}
user_udp() {
	as_user $PY -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))' "$1" "$2" 2>/dev/null
}

# login NAME: a fresh enrolled user NAME logs in: authenticate, open_session
# and close_session in one transaction (on_issue_failure is deny).
login() {
	extra_user "$1"
	local s="SECRET_$1"
	pt 127.0.0.1 "${P}$1" "$(code_for "${!s}")" authenticate open_session close_session
}
# opened NAME: the decision and reason of NAME's open_session audit line.
opened() {
	jq -r --arg u "${P}$1" 'select(.event == "open_session" and .user == $u) | .decision + " " + .reason' "$AUDIT" | tail -n 1
}
assumed() { # NAME: AssumeRole requests the STS endpoint saw for NAME
	jq -s --arg u "${P}$1" '[.[] | select(.action == "AssumeRole" and .source_identity == $u)] | length' "$STS_LOG"
}
# check [OPTIONS]: iamgate check --probe (this namespace's firmware does not
# say EC2, so without --probe the metadata addresses are not tried).
check() { CHECK=$("$CLI" check --config "$CONFIG" --probe "$@" 2>&1); CHECK_RC=$?; }
RECORD=$T/run/cache/imds-guard.json

# --------------------------------------------------------------- no rule
if [ "$(steal http://169.254.169.254)" = "$KEY_ID" ] && [ "$(steal 'http://[fd00:ec2::254]')" = "$KEY_ID" ]; then
	t_ok "no rule: a user takes the instance role's key from 169.254.169.254 and fd00:ec2::254"
else
	t_fail "no rule: the emulator answers users on both addresses" "$(tail -3 "$STS/imds.stderr")"
fi
if [ "$(steal 'http://[::ffff:169.254.169.254]')" = "$KEY_ID" ] && user_tcp 169.254.169.254 8080 && user_udp 169.254.169.254 53; then
	t_ok "no rule: a user reaches it as IPv4-mapped IPv6, on another port, over UDP"
else
	t_fail "no rule: IPv4-mapped, port 8080, UDP"
fi
check
if [ $CHECK_RC -eq 1 ] && grep -q "error: uid 65534 can connect to the instance metadata service at 169.254.169.254:80" <<<"$CHECK" &&
	grep -q "fix: load the lockdown rule" <<<"$CHECK"; then
	t_ok "no rule: iamgate check exits 1, names the address reached and the fix"
else
	t_fail "no rule: iamgate check (rc $CHECK_RC)" "$CHECK"
fi
json=$("$CLI" check --config "$CONFIG" --probe --json 2>/dev/null)
if jq -e '.errors == 1 and .imds_lockdown.holds == false and .imds_lockdown.reason == "imds_reachable_by_users"' <<<"$json" >/dev/null; then
	t_ok "no rule: iamgate check --json says imds_reachable_by_users"
else
	t_fail "check --json" "$json"
fi
out=$("$CLI" check --config "$CONFIG" --no-probe 2>&1)
if [ $? -eq 0 ] && ! grep -q metadata <<<"$out"; then t_ok "check --no-probe tries nothing"; else t_fail "--no-probe" "$out"; fi
rm -f "$T/run/cache/imds-guard.json"
out=$("$CLI" check --config "$CONFIG" 2>&1)
if [ $? -eq 0 ] && grep -q "warning: metadata lockdown not tried: this host's firmware does not say it is an EC2 instance" <<<"$out" &&
	[ ! -e "$T/run/cache/imds-guard.json" ]; then
	t_ok "check without --probe, off EC2: the metadata addresses are not tried, and it says so"
else
	t_fail "check off EC2" "$out"
fi
check
if jq -e '.verdict == "reachable" and .target == "169.254.169.254:80" and .uid == 65534' "$RECORD" >/dev/null 2>&1 &&
	[ "$(stat -c '%U %a' "$RECORD")" = "root 600" ]; then
	t_ok "check records the verdict for the issuer (root 0600)"
else
	t_fail "record" "$(stat -c '%U %a' "$RECORD" 2>&1) $(cat "$RECORD" 2>&1)"
fi
login u1
if [ $RC -ne 0 ] && [ "$(opened u1)" = "deny imds_reachable_by_users" ] && [ "$(assumed u1)" -eq 0 ] &&
	grep -q "while its users can reach the instance metadata service" <<<"$OUT"; then
	t_ok "no rule: the login is refused (deny, imds_reachable_by_users), nothing assumed, the user told why"
else
	t_fail "no rule: login (rc $RC, audit '$(opened u1)', $(assumed u1) AssumeRole)" "$OUT"
fi

# ------------------------------------------------------- the shipped rule
if nft -f "$RULE"; then t_ok "the shipped rule loads ($(basename "$RULE"))"; else t_fail "nft -f $RULE"; fi
if [ -z "$(steal http://169.254.169.254)" ] && [ -z "$(steal 'http://[fd00:ec2::254]')" ] &&
	[ -z "$(steal 'http://[::ffff:169.254.169.254]')" ] && ! user_tcp 169.254.169.254 8080 && ! user_udp 169.254.169.254 53; then
	t_ok "rule: the user reaches neither address, nor IPv4-mapped, nor another port, nor over UDP"
else
	t_fail "rule: a user still reaches the metadata service"
fi
root_key=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
if [ -n "$root_key" ]; then t_ok "rule: root still gets an IMDSv2 token"; else t_fail "rule: root refused"; fi
# The issuer trusts the refusal recorded a moment ago for a minute.
login u2
if [ $RC -ne 0 ] && [ "$(opened u2)" = "deny imds_reachable_by_users" ]; then
	t_ok "rule just loaded: the issuer keeps the verdict recorded under a minute ago (deny)"
else
	t_fail "recorded verdict (rc $RC, audit '$(opened u2)')" "$OUT"
fi
check
if [ $CHECK_RC -eq 0 ] && grep -q "the metadata lockdown holds: uid 65534 cannot connect to 169.254.169.254:80 and \[fd00:ec2::254\]:80" <<<"$CHECK" &&
	jq -e '.verdict == "locked"' "$RECORD" >/dev/null; then
	t_ok "rule: iamgate check says the lockdown holds (both addresses) and records it"
else
	t_fail "rule: check (rc $CHECK_RC)" "$CHECK"
fi
login u3
if [ $RC -eq 0 ] && [ "$(opened u3)" = "allow ok" ] && [ "$(assumed u3)" -eq 1 ]; then
	t_ok "rule: the login gets its credentials (allow ok, one AssumeRole)"
else
	t_fail "rule: login (rc $RC, audit '$(opened u3)', $(assumed u3) AssumeRole)" "$OUT $(tail -2 "$AUDIT")"
fi

# ---------------------------------------------- the rule gone, a minute on
nft delete table inet iamgate_imds
login u4
if [ $RC -eq 0 ] && [ "$(opened u4)" = "allow ok" ]; then
	t_ok "rule removed: a verdict under a minute old still stands (at most one probe a minute)"
else
	t_fail "rule removed, young record (rc $RC, '$(opened u4)')" "$OUT"
fi
jq -c '.checked -= 61' "$RECORD" >"$RECORD.new" && chmod 0600 "$RECORD.new" && mv "$RECORD.new" "$RECORD"
login u5
if [ $RC -ne 0 ] && [ "$(opened u5)" = "deny imds_reachable_by_users" ] && [ "$(assumed u5)" -eq 0 ]; then
	t_ok "rule removed, verdict a minute old: the issuer probes again and refuses"
else
	t_fail "rule removed, old record (rc $RC, '$(opened u5)', $(assumed u5) AssumeRole)" "$OUT"
fi

# ------------------------------------------------- a rule for IPv4 alone
grep -v 'ip6 daddr' "$RULE" >"$T/ipv4-only.nft"
nft -f "$T/ipv4-only.nft"
check
if [ $CHECK_RC -eq 1 ] && grep -q "can connect to the instance metadata service at \[fd00:ec2::254\]:80" <<<"$CHECK"; then
	t_ok "IPv4-only rule: check finds fd00:ec2::254 open (the other family is tried too)"
else
	t_fail "IPv4-only rule: check (rc $CHECK_RC)" "$CHECK"
fi
login u6
if [ $RC -ne 0 ] && [ "$(opened u6)" = "deny imds_reachable_by_users" ]; then
	t_ok "IPv4-only rule: the login is refused"
else
	t_fail "IPv4-only rule: login (rc $RC, '$(opened u6)')" "$OUT"
fi
nft delete table inet iamgate_imds

# --------------------------------------- the long-lived helper, at start
# (its socket is up before the check; the record marks the check done)
recorded() { for _ in $(seq 100); do [ -s "$RECORD" ] && return 0; sleep 0.1; done; return 1; }
rm -f "$RECORD"
serve_start
recorded
if grep -q "iamgate-helper: uid 65534 can connect to the instance metadata service at 169.254.169.254:80" "$T/serve.log" &&
	jq -e '.verdict == "reachable"' "$RECORD" >/dev/null 2>&1; then
	t_ok "iamgate-helper --serve tries the lockdown at start, says it does not hold, records it"
else
	t_fail "serve start" "$(cat "$T/serve.log" 2>&1)"
fi
serve_stop
nft -f "$RULE"
rm -f "$RECORD"
: >"$T/serve.log"
serve_start
recorded
if ! grep -q "can connect" "$T/serve.log" && jq -e '.verdict == "locked"' "$RECORD" >/dev/null 2>&1; then
	t_ok "iamgate-helper --serve with the rule: records that it holds"
else
	t_fail "serve start with the rule" "$(cat "$T/serve.log" 2>&1)"
fi
serve_stop

# ------------------------------------------------------ another probe uid
jq ".aws.credentials.imds_probe_uid = $ALICE_UID" "$CONFIG" >"$CONFIG.new" && chmod 0600 "$CONFIG.new" && mv "$CONFIG.new" "$CONFIG"
check
if [ $CHECK_RC -eq 0 ] && grep -q "uid $ALICE_UID cannot connect" <<<"$CHECK"; then
	t_ok "imds_probe_uid: the lockdown is tried as the configured uid"
else
	t_fail "probe uid" "$CHECK"
fi
# A rule that lets that one uid through: the probe notices.
sed "s/meta skuid != 0/meta skuid != { 0, $ALICE_UID }/" "$RULE" >"$T/exempt.nft"
nft -f "$T/exempt.nft"
check
if [ $CHECK_RC -eq 1 ] && grep -q "uid $ALICE_UID can connect" <<<"$CHECK"; then
	t_ok "a rule exempting the probe uid: check says the lockdown does not hold"
else
	t_fail "exempt rule (rc $CHECK_RC)" "$CHECK"
fi

if no_secrets_in "$AUDIT" && ! grep -qF "$($PY "$ROOT/tests/sts/stsutil.py" cred "$STS/state.json" instance secret_access_key)" "$AUDIT" "$RECORD"; then
	t_ok "no secret in the audit log or the record"
else
	t_fail "secrets in the audit log or the record"
fi
t_done
