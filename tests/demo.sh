#!/bin/bash
# tests/demo.sh - iamgate end to end, narrated (`make demo` runs it after
# installing packages and building).  Everything is real except AWS: two
# demo users, TOTP enrollment, OpenSSH's sshd with pam_iamgate.so in its PAM
# stack, the ssh client, the AWS CLI, and an STS-compatible test endpoint +
# IMDSv2 emulator on loopback.  Everything it creates is removed at the end.
# It exits non-zero if any step does not behave as narrated.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source tests/lib.sh
P=demo-$(printf '%04x' $(((($$ << 4) + RANDOM) % 65536)))-
source tests/e2e/sshd.sh

STEP=0
PROBLEMS=()
if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' RD=$'\e[31m' N=$'\e[0m'; else B='' G='' RD='' N=''; fi

step() {
	STEP=$((STEP + 1))
	printf '\n%s== %d. %s%s\n' "$B" "$STEP" "$*" "$N"
}
say() { printf '%s\n' "$@" | fold -s -w 78; }
show() { sed 's/\r$//; s/^/    | /'; }
run_shown() { # show a command and its output
	printf '    %s# %s%s\n' "$B" "$*" "$N"
	"$@" 2>&1 | show
	return "${PIPESTATUS[0]}"
}
# expect WHAT CMD...: check that CMD holds; record a problem if not.
expect() {
	local what=$1
	shift
	if "$@"; then
		printf '    %sas expected:%s %s\n' "$G" "$N" "$what"
	else
		printf '    %sNOT AS EXPECTED:%s %s\n' "$RD" "$N" "$what"
		PROBLEMS+=("step $STEP: $what")
	fi
}
die() {
	printf '%sdemo stopped: %s%s\n' "$RD" "$*" "$N"
	exit 1
}

printf '%siamgate demo%s\n' "$B" "$N"
say "" "iamgate is a PAM module plus a privileged helper for SSH bastions in front of AWS. \
A person logs in with ssh (key + a TOTP code); the gate checks where they come from, \
who they are and the code, then hands them short-lived AWS credentials for the roles \
their Unix groups map to, and writes every decision to a hash-chained audit log." \
	"" "Nothing here talks to AWS: STS and the EC2 metadata service are emulated on \
127.0.0.1 by tests/sts/. Everything else is the real thing."

step "Demo users and groups"
e2e_init || die "setup failed (run as root after make; see above)"
E2E_PII_GROUP=${P}pii-access
E2E_DEV_GROUP=${P}app-developers
PRIYA=${P}priya
DAN=${P}dan
say "Two Unix groups: $E2E_PII_GROUP (may reach customer data) and $E2E_DEV_GROUP; \
$PRIYA belongs to both, $DAN only to the developers. (They are removed at the end.)"
e2e_group "$E2E_DEV_GROUP" && e2e_group "$E2E_PII_GROUP" &&
	e2e_user "$PRIYA" "$E2E_DEV_GROUP" "$E2E_PII_GROUP" && e2e_user "$DAN" "$E2E_DEV_GROUP" ||
	die "cannot create users"
run_shown id "$PRIYA"
run_shown id "$DAN"

step "The STS test endpoint and the IMDSv2 emulator"
say "The bastion's own AWS credentials come from the instance role through IMDSv2; the \
gate uses them to call sts:AssumeRole. Here both services run on loopback, STS over \
HTTPS with a test CA, and STS checks every request's SigV4 signature with botocore."
sts_start || die "cannot start the STS endpoint (see above)"
printf '    STS  %s  (CA %s)\n    IMDS %s\n' "$STS_URL" "$STS_CA" "$IMDS_URL"

step "The gate's configuration"
e2e_config "$(aws_member)" || die "configuration refused"
say "Groups map to roles; each role becomes an AWS CLI profile. rds-snapshot is marked \
pii: it is issued only to $E2E_PII_GROUP members, from the pii-fixed addresses, after \
TOTP. office is 127.0.0.1 and 127.0.0.3, pii-fixed only 127.0.0.3."
jq -r '"pii_group: \(.pii_group)",
	(.allowlists | to_entries[] | "allowlist \(.key): \(.value | join(", "))"),
	(.groups | to_entries[] | "group \(.key): logs in from \(.value.allow_from | join(", ")), gets \(.value.roles | join(", "))"),
	(.roles | to_entries[] | "role \(.key): \(.value.arn)\(if .value.pii then "  [pii]" else "" end)")' "$CONFIG" | show
run_shown "$CLI" check --config "$CONFIG"

step "TOTP enrollment"
say "An admin runs \`iamgate enroll USER\`: it prints the otpauth URI and a QR code for \
the user's authenticator app, then asks for the current code to confirm. Here oathtool \
plays the phone."
# enroll_demo USER [--quiet]: real enrollment, confirming with oathtool's code.
enroll_demo() {
	local u=$1 line secret="" rest code
	coproc ENR { setsid -w "$CLI" enroll --config "$CONFIG" "$u" 2>&1; }
	while IFS= read -r -t 20 line <&"${ENR[0]}"; do
		[ "${2:-}" = --quiet ] || printf '%s\n' "$line" | show
		case $line in otpauth://*)
			[ "${2:-}" = --quiet ] && printf '%s\n' "$line" | show
			secret=${line#*secret=}
			secret=${secret%%&*}
			break
			;;
		esac
	done
	[ -n "$secret" ] || return 1
	code=$(oathtool --totp -b "$secret")
	printf '%s\n' "$code" >&"${ENR[1]}"
	rest=$(timeout 20 cat <&"${ENR[0]}")
	wait "$ENR_PID"
	local rc=$?
	if [ "${2:-}" = --quiet ]; then
		printf '%s\n' "$rest" | grep -v '[▀▄█]' | sed '/^$/d' | show
	else
		printf '%s\n' "$rest" | show
	fi
	printf '    (the app shows %s; typed to confirm)\n' "$code"
	ENROLLED_SECRET=$secret
	return $rc
}
enroll_demo "$PRIYA"
rc=$?
SECRET_PRIYA=$ENROLLED_SECRET
expect "$PRIYA enrolled" [ $rc -eq 0 ]
enroll_demo "$DAN" --quiet
rc=$?
SECRET_DAN=$ENROLLED_SECRET
expect "$DAN enrolled" [ $rc -eq 0 ]

step "sshd with the gate in its PAM stack"
sshd_start || die "sshd did not start"
say "OpenSSH's sshd on 127.0.0.1 port $SSHD_PORT. Debian's sshd has no PAMServiceName, so \
it runs under pam_wrapper, reading its \"sshd\" PAM service from $E/pam.d:"
show <"$E/pam.d/sshd"
say "and these sshd_config lines (the rest is paths and hardening):"
grep -E '^(UsePAM|UseDNS|KbdInteractiveAuthentication|PasswordAuthentication|AuthenticationMethods)' \
	"$E/sshd/sshd_config" | show

# login_demo FROM USER CODE SCRIPT: an interactive login (a terminal, like a
# person's), the shell reading SCRIPT; $OUT is what the user saw (the
# typed-ahead echo of SCRIPT and the shell's "$ " prompts removed).
login_demo() {
	local from=$1 user=$2 code=$3 script=$4 a args=()
	ssh_cmd "$from" "$user" "$code" demo$STEP
	for a in "${SSH_ARGV[@]}"; do
		case $a in -T) args+=(-tt) ;; -n) ;; *) args+=("$a") ;; esac
	done
	# No pager: the AWS CLI would page its output on a terminal.
	printf 'export AWS_PAGER=\n%s\nexit\n' "$script" >"$E/script.$STEP"
	"${SSH_ENVV[@]}" TERM=dumb "${args[@]}" <"$E/script.$STEP" >"$E/out.$STEP" 2>"$E/err.$STEP"
	RC=$?
	OUT=$(sed 's/\r$//' "$E/out.$STEP" | grep -vxF -f "$E/script.$STEP" | sed -E 's/^(\$ )+//; /^\$ ?$/d')
	ERR=$(sed 's/\r$//' "$E/err.$STEP")
	PROMPTS=$(cat "$E/prompts.demo$STEP")
}
SHOW_PROFILES='for p in $(sed -n "s/^\[profile \(.*\)\]$/\1/p" "$AWS_CONFIG_FILE"); do echo "--- aws sts get-caller-identity --profile $p"; AWS_CA_BUNDLE='"$E/ca.pem"' aws --endpoint-url '"$STS_URL"' --output json sts get-caller-identity --profile $p; done'

step "$PRIYA logs in from 127.0.0.3 (a pii-fixed address)"
# The next step's code (valid for 60-90 s): the replay below must still be
# inside the window to be refused as a replay rather than as a stale code.
echo $(($(date +%s) / 30)) >"$E/steps.$PRIYA"
code=$(code_next "$PRIYA" "$SECRET_PRIYA")
say "ssh -p $SSHD_PORT $PRIYA@127.0.0.1 (from 127.0.0.3): the key, then the prompt \
\"Verification code:\", answered with $code from oathtool (her authenticator app). In the \
session she runs the AWS CLI once for each profile she was issued."
login_demo 127.0.0.3 "$PRIYA" "$code" "$SHOW_PROFILES"
printf '%s\n' "$PROMPTS" | sed 's/^/    ssh asked: /'
printf '%s\n' "$OUT" | show
expect "login succeeded" [ "$RC" -eq 0 ]
expect "both profiles issued (app-readonly and pii rds-snapshot)" \
	grep -q "AWS profile rds-snapshot issued" <<<"$OUT"
expect "the AWS CLI works as iamgate-readonly/$PRIYA" \
	grep -q "\"arn:aws:sts::123456789012:assumed-role/iamgate-readonly/$PRIYA\"" <<<"$OUT"
expect "the AWS CLI works as iamgate-pii/$PRIYA" \
	grep -q "\"arn:aws:sts::123456789012:assumed-role/iamgate-pii/$PRIYA\"" <<<"$OUT"
say "GetCallerIdentity does not return SourceIdentity; CloudTrail records it. The \
gate's audit log and the STS endpoint's log show the value the roles were assumed with:"
audit_lines ".event == \"issue\" and .user == \"$PRIYA\"" |
	jq -r '"audit: role \(.role) -> \(.assumed_role_arn)  SourceIdentity=\(.source_identity)  key \(.access_key_id)"' | show
jq -r "select(.action == \"AssumeRole\" and .source_identity == \"$PRIYA\") |
	\"STS:   AssumeRole \(.role_arn)  SourceIdentity=\(.source_identity)  tags \(.tags | tostring)\"" "$STS_LOG" | show
expect "both roles assumed with SourceIdentity=$PRIYA" \
	[ "$(audit_count ".event == \"issue\" and .decision == \"allow\" and .source_identity == \"$PRIYA\"")" -eq 2 ]
sid=$(audit_lines ".event == \"open_session\" and .user == \"$PRIYA\"" | jq -r .session | tail -n 1)
expect "logout removed the session's credential files ($SESSIONS/${sid:0:12}...)" \
	wait_for 10 test ! -e "$SESSIONS/$sid"

step "A wrong code"
wrong=$(code_wrong "$SECRET_PRIYA")
say "$PRIYA types $wrong, which is not her current code."
login_demo 127.0.0.3 "$PRIYA" "$wrong" "echo should-not-run"
printf '%s\n' "$ERR" | show
expect "ssh says Permission denied" [ "$RC" -eq 255 ]
expect "audited as bad_code" [ -n "$(audit_lines ".user == \"$PRIYA\" and .reason == \"bad_code\"")" ]

step "A replayed code"
code=$(code_reuse "$PRIYA" "$SECRET_PRIYA")
say "Someone who saw $PRIYA type $code tries it again while it is still valid."
login_demo 127.0.0.3 "$PRIYA" "$code" "echo should-not-run"
printf '%s\n' "$ERR" | show
expect "ssh says Permission denied" [ "$RC" -eq 255 ]
expect "audited as replayed_code" [ -n "$(audit_lines ".user == \"$PRIYA\" and .reason == \"replayed_code\"")" ]

step "The app developer $DAN logs in from 127.0.0.1"
code=$(code_next "$DAN" "$SECRET_DAN")
say "$DAN is not in $E2E_PII_GROUP: he gets app-readonly and no pii role, wherever he \
comes from."
login_demo 127.0.0.1 "$DAN" "$code" "$SHOW_PROFILES
aws --profile rds-snapshot sts get-caller-identity 2>&1 | tail -n 1"
printf '%s\n' "$OUT" | show
expect "login succeeded" [ "$RC" -eq 0 ]
expect "the AWS CLI works as iamgate-readonly/$DAN" \
	grep -q "\"arn:aws:sts::123456789012:assumed-role/iamgate-readonly/$DAN\"" <<<"$OUT"
expect "no rds-snapshot profile" grep -q "profile (rds-snapshot) could not be found" <<<"$OUT"
expect "no pii role issued to $DAN" \
	[ -z "$(audit_lines ".event == \"issue\" and .user == \"$DAN\" and .pii == true and .decision == \"allow\"")" ]

step "$PRIYA again, from 127.0.0.1 (office, not pii-fixed)"
code=$(code_next "$PRIYA" "$SECRET_PRIYA")
say "Same person, same group, a fresh code, but an address outside pii-fixed: the PII \
rule holds back rds-snapshot."
login_demo 127.0.0.1 "$PRIYA" "$code" 'grep "^\[" "$AWS_SHARED_CREDENTIALS_FILE"'
printf '%s\n' "$OUT" | show
only_readonly() { [ "$RC" -eq 0 ] && grep -qx '\[app-readonly\]' <<<"$OUT" && ! grep -q 'rds-snapshot\]' <<<"$OUT"; }
expect "login succeeded with app-readonly only" only_readonly
expect "audited: rds-snapshot refused, pii_source_not_fixed" \
	[ -n "$(audit_lines ".user == \"$PRIYA\" and .role == \"rds-snapshot\" and .reason == \"pii_source_not_fixed\"")" ]

step "What the auditor sees"
say "Every decision above is a line in $AUDIT. \`iamgate audit show\` lists them, \
\`iamgate audit verify\` proves the hash chain intact:"
run_shown "$CLI" audit show --log "$AUDIT" --utc
run_shown "$CLI" audit verify --log "$AUDIT"
expect "audit chain intact" "$CLI" audit verify --log "$AUDIT" >/dev/null 2>&1
expect "no credential files left behind" [ -z "$(ls -A "$SESSIONS")" ]

step "Stopping everything"
e2e_cleanup
trap - EXIT
expect "sshd stopped" [ -z "$SSHD_PID" ]
expect "demo users and groups removed" [ -z "$(getent passwd "$PRIYA" "$DAN")" ]
say "sshd, the STS endpoint and IMDS are stopped; users, groups and $E are gone."

echo
if [ ${#PROBLEMS[@]} -eq 0 ]; then
	printf '%sDemo complete: every step behaved as narrated.%s\n' "$G$B" "$N"
	exit 0
fi
printf '%sDemo FAILED:%s\n' "$RD$B" "$N"
printf '  %s\n' "${PROBLEMS[@]}"
exit 1
