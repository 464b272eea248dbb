#!/bin/bash
# tests/sts/t_endpoint.sh - self-tests of the STS test endpoint, the IMDS
# emulator and the DynamoDB store's servers (dynalite behind its proxy, KMS),
# driven by the real AWS CLI (/usr/bin/aws), curl and a botocore signer.  TAP
# output (tests/lib.sh).
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
HERE=$ROOT/tests/sts
CTL=$HERE/stsctl.sh
UTIL=$HERE/stsutil.py
mkdir -p "$BUILD"
T=$(mktemp -d "$BUILD/t-sts.XXXXXX")
cleanup() {
	"$CTL" stop "$T" >/dev/null 2>&1
	for d in "$T"/alt-*; do [ -d "$d" ] && "$CTL" stop "$d" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT
T0=$(date +%s.%N)
ACCT=123456789012
R=arn:aws:iam::$ACCT:role

if out=$("$CTL" start "$T" 2>&1); then
	eval "$out"
	t_ok "stsctl start: both servers listening"
else
	t_fail "stsctl start" "$out"
	t_done
	exit 1
fi
case "$STS_PORT:$IMDS_PORT" in
*[!0-9:]* | :* | *:) t_fail "ports are numbers" "$STS_PORT $IMDS_PORT" ;;
*) t_ok "ports chosen at run time ($STS_PORT, $IMDS_PORT)" ;;
esac
mkdir -p "$T/home"
# Servers with the certificates a client must refuse; started now so their
# start-up overlaps the tests below.
ALT_PIDS=()
for c in other-server wrongname-server expired-server; do
	"$CTL" start "$T/alt-$c" --no-imds --ca-dir "$T/ca" --state "$STS_STATE" --cert $c \
		>"$T/alt-$c.out" 2>&1 &
	ALT_PIDS+=($!)
done

# awsx PROFILE ARGS... : the real CLI with a clean environment; stdout in
# $T/out, stderr in $T/err.  CREDS, CA, URL, ATTEMPTS override defaults.
awsx() {
	local p=$1
	shift
	env -i PATH=/usr/bin:/bin HOME="$T/home" AWS_CONFIG_FILE="$STS_AWS_CONFIG" \
		AWS_SHARED_CREDENTIALS_FILE="${CREDS:-$STS_AWS_CREDENTIALS}" AWS_CA_BUNDLE="${CA:-$STS_CA}" \
		AWS_MAX_ATTEMPTS="${ATTEMPTS:-1}" AWS_RETRY_MODE=standard AWS_PAGER= \
		AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
		"$AWS" --profile "$p" --endpoint-url "${URL:-$STS_URL}" --output json "$@" \
		>"$T/out" 2>"$T/err"
}
# jget FILE a.b.c : one JSON field
jget() { $PY -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2" 2>/dev/null; }
# logn FILE : line count (a mark);  logsince FILE MARK k=v... : matching entries after MARK
logn() { wc -l <"$1"; }
logsince() { $PY -c 'import json,sys
f,mark=sys.argv[1],int(sys.argv[2])
want=[a.split("=",1) for a in sys.argv[3:]]
n=0
for line in open(f).read().splitlines()[mark:]:
    e=json.loads(line)
    if all(str(e.get(k))==v for k,v in want): n+=1
print(n)' "$@"; }
# expect_err NAME CODE [TEXT]: last awsx failed with CODE (and TEXT in the message)
expect_err() {
	if [ "$rc" -ne 0 ] && grep -q "($2)" "$T/err" && { [ -z "${3:-}" ] || grep -qF -- "$3" "$T/err"; }; then
		t_ok "$1"
	else
		t_fail "$1" "rc=$rc $(cat "$T/err" "$T/out")"
	fi
}
# ctl sts [JSON]: the control path through curl (fast); stsctl.sh ctl is
# used for IMDS below.  Fails on an HTTP error status.
ctl() {
	local a=()
	[ $# -ge 2 ] && a=(--data-binary "$2")
	curl -s --fail-with-body --cacert "$STS_CA" "${a[@]}" "$STS_URL/_control" >"$T/ctl" 2>&1
}
# tc NAME 'SHELL CONDITION' : like t_check, for compound conditions
tc() { if eval "$2"; then t_ok "$1"; else t_fail "$1" "$2"; fi; }
cred() { $PY "$UTIL" cred "$STS_STATE" "$1" "$2"; }
secrets_seen="$(cred bastion secret_access_key) $(cred instance secret_access_key) $(cred instance session_token) $(cred outsider secret_access_key)"

# --- identity and AssumeRole through the real CLI --------------------------
awsx bastion sts get-caller-identity
rc=$?
t_check "CLI get-caller-identity with base user creds" \
	[ $rc = 0 -a "$(jget "$T/out" Arn)" = "arn:aws:iam::$ACCT:user/iamgate-bastion" ]
t_check "CLI sends POST form requests (logged)" \
	[ "$(logsince "$STS_LOG" 0 method=POST action=GetCallerIdentity signature_ok=True)" = 1 ]

m=$(logn "$STS_LOG")
awsx instance sts assume-role --role-arn "$R/iamgate-pii" --role-session-name alice \
	--source-identity alice --duration-seconds 900 \
	--tags Key=bastion-user,Value=alice Key=bastion-source-ip,Value=10.1.2.3
rc=$?
cp "$T/out" "$T/assumed.json"
AK=$(jget "$T/assumed.json" Credentials.AccessKeyId)
SK=$(jget "$T/assumed.json" Credentials.SecretAccessKey)
ST=$(jget "$T/assumed.json" Credentials.SessionToken)
secrets_seen="$secrets_seen $SK $ST"
if [ $rc = 0 ] && [[ $AK == ASIA* ]] && [ ${#SK} = 40 ] && [ ${#ST} -gt 300 ] &&
	[ "$(jget "$T/assumed.json" SourceIdentity)" = alice ] &&
	[ "$(jget "$T/assumed.json" AssumedRoleUser.Arn)" = "arn:aws:sts::$ACCT:assumed-role/iamgate-pii/alice" ] &&
	[[ "$(jget "$T/assumed.json" AssumedRoleUser.AssumedRoleId)" == AROA*:alice ]] &&
	[ -n "$(jget "$T/assumed.json" PackedPolicySize)" ]; then
	t_ok "CLI assume-role with SourceIdentity and tags (instance creds + token)"
else
	t_fail "CLI assume-role with SourceIdentity and tags" "rc=$rc $(cat "$T/err" "$T/out")"
fi
exp=$(jget "$T/assumed.json" Credentials.Expiration)
t_check "Expiration is about 900 s ahead" $PY -c 'import sys,datetime,time
e=datetime.datetime.fromisoformat(sys.argv[1]).timestamp()
sys.exit(0 if 880 < e-time.time() <= 900 else 1)' "$exp"
t_check "log: AssumeRole entry with role, session, SourceIdentity, tags, duration" \
	[ "$(logsince "$STS_LOG" "$m" action=AssumeRole result=ok role_arn="$R/iamgate-pii" \
		role_session_name=alice source_identity=alice duration_seconds=900 \
		"tags={'bastion-source-ip': '10.1.2.3', 'bastion-user': 'alice'}" \
		issued_access_key_id="$AK" token_signed=True)" = 1 ]

printf '[issued]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
	"$AK" "$SK" "$ST" >"$T/issued"
CREDS=$T/issued awsx issued sts get-caller-identity
rc=$?
t_check "issued credentials work for get-caller-identity (CLI)" \
	[ $rc = 0 -a "$(jget "$T/out" Arn)" = "arn:aws:sts::$ACCT:assumed-role/iamgate-pii/alice" ]

# call WHO MODE PARAMS... : botocore-signed request (fast; no CLI start-up),
# output "STATUS\nBODY" in $T/call.  WHO: state credential name or @json.
call() {
	local who=$1
	shift
	$PY "$UTIL" call "$STS_STATE" "$who" "$STS_URL" "$@" --ca "$STS_CA" >"$T/call" 2>&1
}
# got NAME STATUS CODE [TEXT]: last call answered STATUS with error CODE (and TEXT)
got() {
	if [ "$(head -1 "$T/call")" = "$2" ] && grep -q "<Code>$3</Code>" "$T/call" &&
		{ [ -z "${4:-}" ] || grep -qF -- "$4" "$T/call"; }; then
		t_ok "$1"
	else
		t_fail "$1" "$(head -c 600 "$T/call")"
	fi
}
GCI=Action=GetCallerIdentity
AR=Action=AssumeRole
call @"$T/assumed.json" POST $GCI --no-token
got "issued key without its session token -> InvalidClientTokenId" 403 InvalidClientTokenId
call @"$T/assumed.json" POST $GCI --bad-token
got "issued key with a wrong session token -> InvalidClientTokenId" 403 InvalidClientTokenId
call @"$T/assumed.json" POST $AR RoleArn="$R/iamgate-readonly" RoleSessionName=x2 SourceIdentity=alice
got "issued session not trusted by another role -> AccessDenied" 403 AccessDenied \
	"assumed-role/iamgate-pii/alice is not authorized to perform: sts:AssumeRole"

# --- authentication failures ------------------------------------------------
printf '[bad]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$(cred bastion access_key_id)" "WRONGwrongWRONGwrongWRONGwrongWRONGwrong" >"$T/wrongsecret"
printf '[bad]\naws_access_key_id = AKIAUNKNOWNUNKNOWN12\naws_secret_access_key = %s\n' \
	"$(cred bastion secret_access_key)" >"$T/unknown"
secrets_seen="$secrets_seen WRONGwrongWRONGwrongWRONGwrongWRONGwrong"
m=$(logn "$STS_LOG")
CREDS=$T/wrongsecret awsx bad sts get-caller-identity
rc=$?
expect_err "wrong secret -> SignatureDoesNotMatch (CLI)" SignatureDoesNotMatch \
	"The request signature we calculated does not match"
t_check "log: signature_ok false, canonical request kept for debugging" \
	[ "$(logsince "$STS_LOG" "$m" result=SignatureDoesNotMatch signature_ok=False status=403)" = 1 ]
CREDS=$T/unknown awsx bad sts get-caller-identity
rc=$?
expect_err "unknown access key -> InvalidClientTokenId (CLI)" InvalidClientTokenId \
	"The security token included in the request is invalid"
call bastion POST $GCI --region eu-west-1
got "credential scope with a region not served -> SignatureDoesNotMatch" 403 \
	SignatureDoesNotMatch "scoped to a valid region"
call bastion POST $GCI --secret-from outsider
got "signed with another key's secret -> SignatureDoesNotMatch" 403 SignatureDoesNotMatch

# --- trust rules and validation ----------------------------------------------
awsx bastion sts assume-role --role-arn "$R/iamgate-forbidden" --role-session-name alice
rc=$?
expect_err "role whose trust does not name the caller -> AccessDenied (CLI)" AccessDenied \
	"User: arn:aws:iam::$ACCT:user/iamgate-bastion is not authorized to perform: sts:AssumeRole on resource: $R/iamgate-forbidden"
m=$(logn "$STS_LOG")
awsx bastion sts assume-role --role-arn "$R/iamgate-readonly" --role-session-name alice
rc=$?
expect_err "missing SourceIdentity on a role requiring it -> AccessDenied (CLI)" AccessDenied
t_check "log: deny reason recorded" \
	[ "$(logsince "$STS_LOG" "$m" result=AccessDenied "deny_reason=source identity required")" = 1 ]
call outsider POST $AR RoleArn="$R/iamgate-readonly" RoleSessionName=alice SourceIdentity=alice
got "untrusted caller -> AccessDenied" 403 AccessDenied "user/outsider is not authorized"
call bastion POST $AR RoleArn="$R/iamgate-nosuchrole" RoleSessionName=alice
got "role that does not exist -> AccessDenied" 403 AccessDenied
call bastion POST $AR RoleArn="$R/iamgate-pii" RoleSessionName=alice SourceIdentity=alice \
	Tags.member.1.Key=bastion-user Tags.member.1.Value=alice
got "missing required session tag -> AccessDenied" 403 AccessDenied
call bastion POST $AR RoleArn="$R/iamgate-open" RoleSessionName=alice DurationSeconds=600
got "DurationSeconds 600 -> ValidationError" 400 ValidationError "greater than or equal to 900"
call bastion POST $AR RoleArn="$R/iamgate-open" RoleSessionName=alice DurationSeconds=7200
got "DurationSeconds above the role's max -> ValidationError" 400 ValidationError "MaxSessionDuration"
call bastion POST $AR RoleArn="$R/iamgate-open" RoleSessionName='bad name!'
got "RoleSessionName outside its pattern -> ValidationError" 400 ValidationError "roleSessionName"
call bastion POST $AR RoleArn="$R/iamgate-open"
got "RoleSessionName missing -> ValidationError" 400 ValidationError "Member must not be null"
call bastion POST $AR RoleArn="$R/iamgate-open" RoleSessionName=alice \
	Tags.member.1.Key=a Tags.member.1.Value=1 Tags.member.2.Key=A Tags.member.2.Value=2
got "duplicate tag keys (case-insensitive) -> InvalidParameterValue" 400 InvalidParameterValue
call bastion POST $AR RoleArn="$R/iamgate-open" RoleSessionName=bob
t_check "role without requirements: plain AssumeRole works" grep -q '<AccessKeyId>ASIA' "$T/call"

# --- faults through the control path -------------------------------------------
ctl sts '{"expired": true}'
call bastion POST $GCI
got "fault expired: base credentials -> ExpiredToken" 400 ExpiredToken
ctl sts '{"expired": null, "clock_offset": 600}'
call bastion POST $GCI
got "request date 10 min off -> SignatureDoesNotMatch 'Signature expired'" 403 \
	SignatureDoesNotMatch "Signature expired:"
ctl sts '{"clock_offset": -600}'
call bastion POST $GCI
got "request date 10 min ahead -> 'Signature not yet current'" 403 \
	SignatureDoesNotMatch "Signature not yet current"
ctl sts '{"reset": true, "expired_issued": true}'
call @"$T/assumed.json" POST $GCI
got "fault expired_issued: issued credentials -> ExpiredToken" 400 ExpiredToken

# state edits are picked up at run time: expire the bastion key, then restore
cp "$STS_STATE" "$T/state.orig"
$PY -c 'import json,sys,os
s=json.load(open(sys.argv[1])); s["credentials"]["bastion"]["expiration"]="2020-01-01T00:00:00Z"
open(sys.argv[1]+".new","w").write(json.dumps(s)); os.rename(sys.argv[1]+".new", sys.argv[1])' "$STS_STATE"
call bastion POST $GCI
got "state edited at run time: expired base credential -> ExpiredToken" 400 ExpiredToken
cp "$T/state.orig" "$STS_STATE.new" && mv "$STS_STATE.new" "$STS_STATE"
call bastion POST $GCI
t_check "state restored: the same key works again" grep -q '^200' "$T/call"

ctl sts '{"reset": true, "throttle": {"count": 2}}'
m=$(logn "$STS_LOG")
ATTEMPTS=3 awsx bastion sts get-caller-identity
rc=$?
t_check "throttle 2 then success (CLI retried)" [ $rc = 0 ]
t_check "log: 2 x Throttling, then ok" \
	[ "$(logsince "$STS_LOG" "$m" result=Throttling fault=throttle status=400)" = 2 -a \
	"$(logsince "$STS_LOG" "$m" result=ok)" = 1 ]
ctl sts '{"throttle": {"count": 1}}'
call bastion POST $GCI
got "throttle -> 400 Throttling 'Rate exceeded'" 400 Throttling "Rate exceeded"
ctl sts '{"fail5xx": {"status": 503}}'
awsx bastion sts get-caller-identity
rc=$?
expect_err "fail5xx 503 (always) -> ServiceUnavailable (CLI)" ServiceUnavailable
call bastion POST $GCI
got "fail5xx stays on until cleared" 503 ServiceUnavailable
ctl sts '{"fail5xx": {"status": 500, "count": 1}}'
call bastion POST $GCI
got "fail5xx 500 once -> InternalFailure" 500 InternalFailure
call bastion POST $GCI
t_check "after the counted 5xx, requests succeed again" grep -q '^200' "$T/call"
ctl sts '{"malformed": {"count": 1}}'
awsx bastion sts get-caller-identity
rc=$?
t_check "malformed (truncated XML, 200) -> CLI fails to parse" \
	[ $rc -ne 0 -a "$(logsince "$STS_LOG" 0 fault=malformed malformed_mode=truncated status=200)" = 1 ]
ctl sts '{"malformed": {"count": 1, "mode": "garbage"}}'
call bastion POST $GCI
tc "malformed garbage -> 200 with a non-XML body" \
	'[ "$(head -1 "$T/call")" = 200 ] && ! grep -q "<GetCallerIdentityResponse" "$T/call"'
ctl sts '{"drop": {"count": 1}}'
r=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$STS_CA" -X POST "$STS_URL/")
t_check "drop (connection closed, no reply)" \
	[ "$r" = 000 -a "$(logsince "$STS_LOG" 0 fault=drop result=dropped)" = 1 ]
ctl sts '{"fail5xx": {"actions": ["AssumeRole"]}}'
call bastion POST $GCI
t_check "faults restricted to an action leave other actions alone" grep -q '^200' "$T/call"

# slow: measured with curl (no CLI start-up noise), then past a CLI timeout.
# Upper bounds are loose: other jobs may load the machine.
ctl sts '{"reset": true, "slow": {"ms": 700}}'
s=$(curl -s -o /dev/null -w '%{time_total}' --cacert "$STS_CA" -X POST "$STS_URL/")
t_check "slow 700 ms is measurable (took ${s}s)" $PY -c "import sys; sys.exit(0 if 0.7 <= $s < 20 else 1)"
ctl sts '{"slow": {"ms": 1500}}'
m=$(logn "$STS_LOG")
pids=()
for _ in 1 2 3 4 5 6; do
	curl -s -o /dev/null --cacert "$STS_CA" -X POST "$STS_URL/" &
	pids+=($!)
done
wait "${pids[@]}"
# Served concurrently <=> the requests' [start, start+elapsed] intervals
# in the log overlap (a serial server never overlaps them).
t_check "concurrent slow requests are served in parallel (log intervals overlap)" \
	$PY -c 'import json,sys,datetime
iv=[]
for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]:
    e=json.loads(l); t=datetime.datetime.fromisoformat(e["time"].replace("Z","+00:00")).timestamp()
    iv.append((t, t+e["elapsed_ms"]/1000))
best=max(sum(1 for a,b in iv if a<=p<b) for p,_ in iv)
print("# %d requests, up to %d at once" % (len(iv), best))
sys.exit(0 if len(iv)==6 and best>=3 else 1)' "$STS_LOG" "$m"
ctl sts '{"slow": {"ms": 3000, "count": 1}}'
awsx bastion --cli-read-timeout 1 sts get-caller-identity
rc=$?
tc "slow past the client's read timeout -> CLI fails" '[ $rc -ne 0 ] && grep -qi "read timeout" "$T/err"'
# action=None below: the timed-out CLI request above may still be logging
ctl sts '{"slow": {"ms": 100}}'
m=$(logn "$STS_LOG")
s=$(curl -s -o /dev/null -w '%{time_total}' --cacert "$STS_CA" -X POST "$STS_URL/")
tc "slow 100 ms (benchmark setting) adds >= 100 ms (${s}s)" \
	'$PY -c "import sys; sys.exit(0 if 0.1 <= $s < 20 else 1)" &&
	[ "$(logsince "$STS_LOG" "$m" fault=slow action=None)" = 1 ]'

# control interface: bad input refused, state readable
ctl sts '{"nosuchfault": 1}'
rc=$?
tc "control refuses an unknown fault" '[ $rc -ne 0 ] && grep -q "unknown fault" "$T/ctl"'
ctl sts '{"throttle": {"count": "x"}}'
t_check "control refuses a bad count" [ $? -ne 0 ]
ctl sts '{"reset": true}' && ctl sts
t_check "control GET shows no faults after reset and counts requests" $PY -c 'import json,sys
d=json.load(open(sys.argv[1])); sys.exit(0 if d["faults"]=={} and d["stats"]["requests"]>20 and d["stats"]["issued"]==2 else 1)' "$T/ctl"

# --- other request shapes (botocore signer) -------------------------------------
call bastion GET Action=GetCallerIdentity
t_check "GET with header SigV4 accepted" grep -q '^200' "$T/call"
call instance PRESIGN Action=GetCallerIdentity
t_check "presigned GET (query SigV4, token in query) accepted" grep -q '^200' "$T/call"
call instance PRESIGN Action=AssumeRole RoleArn="$R/iamgate-open" RoleSessionName=bob \
	--tamper RoleSessionName=eve
t_check "presigned GET with a tampered parameter -> SignatureDoesNotMatch" \
	grep -q SignatureDoesNotMatch "$T/call"
call instance POST Action=AssumeRole RoleArn="$R/iamgate-open" RoleSessionName=bob \
	--tamper RoleArn="$R/iamgate-readonly"
t_check "POST with a tampered body -> SignatureDoesNotMatch" grep -q SignatureDoesNotMatch "$T/call"
call instance POST Action=GetCallerIdentity --token-unsigned
t_check "session token sent but not signed is accepted (like AWS)" grep -q '^200' "$T/call"
call instance POST Action=GetCallerIdentity --no-token
t_check "temporary key without token (botocore) -> InvalidClientTokenId" \
	grep -q InvalidClientTokenId "$T/call"
call bastion POST Action=NoSuchThing
t_check "unknown action -> InvalidAction" grep -q InvalidAction "$T/call"
r=$(curl -s -w '%{http_code}' --cacert "$STS_CA" -X POST -d 'Action=GetCallerIdentity&Version=2011-06-15' "$STS_URL/")
tc "unsigned request -> 403 MissingAuthenticationToken" \
	'[ "${r: -3}" = 403 ] && [[ $r == *MissingAuthenticationToken* ]]'

# --- TLS: certificates the client must refuse ---------------------------------------
wait "${ALT_PIDS[@]}"
for c in other-server wrongname-server expired-server; do
	[ -s "$T/alt-$c/env" ] || t_fail "start with $c" "$(cat "$T/alt-$c.out")"
done
. "$T/alt-other-server/env"
URL=$STS_URL awsx bastion sts get-caller-identity
rc=$?
tc "CLI refuses a server certificate from another CA" \
	'[ $rc -ne 0 ] && grep -qi "SSL validation failed\|certificate verify failed" "$T/err"'
t_check "curl refuses it too" [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca/ca.pem" -X POST "$STS_URL/")" = 000 ]
t_check "... and accepts it with the other CA (server really up)" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca/other-ca.pem" -X POST "$STS_URL/")" = 403 ]
t_check "no request reached the endpoint behind the refused handshakes" \
	[ "$(logsince "$T/alt-other-server/sts.jsonl" 0)" = 1 ]
. "$T/alt-wrongname-server/env"
t_check "curl refuses a certificate for another host name" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca/ca.pem" -X POST "$STS_URL/")" = 000 ]
. "$T/alt-expired-server/env"
t_check "curl refuses an expired certificate" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca/ca.pem" -X POST "$STS_URL/")" = 000 ]
for c in other-server wrongname-server expired-server; do "$CTL" stop "$T/alt-$c"; done
. "$T/env"
t_check "stsctl stop removes the pid files" [ ! -e "$T/alt-other-server/sts.pid" ]

t_check "--bind refuses a non-loopback address" \
	bash -c "! timeout 10 $PY $HERE/sts_endpoint.py --http --state $STS_STATE --bind 0.0.0.0 2>/dev/null"

# --- IMDSv2 ----------------------------------------------------------------------------
TOK=$(curl -s -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS_URL/latest/api/token")
t_check "IMDS: PUT /latest/api/token returns a token" [ ${#TOK} -ge 40 ]
H="X-aws-ec2-metadata-token: $TOK"
C=/latest/meta-data/iam/security-credentials/
r=$(curl -s -w ' %{http_code}' -H "$H" "$IMDS_URL$C")
t_check "IMDS: role name with the token" [ "$r" = "iamgate-bastion-instance 200" ]
t_check "IMDS: only root may connect (its own nftables table, as on a locked-down bastion)" \
	bash -c "! setpriv --reuid 65534 --regid 65534 --clear-groups curl -s -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' '$IMDS_URL/latest/api/token'"
t_check "IMDS: --bind refuses the metadata address outside a namespace of its own" \
	bash -c "! timeout 10 $PY $HERE/imds.py --state $STS_STATE --bind 169.254.169.254 2>/dev/null"
t_check "IMDS: 401 without a token" [ "$(curl -s -o /dev/null -w '%{http_code}' "$IMDS_URL$C")" = 401 ]
t_check "IMDS: 401 with a wrong token" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: x${TOK#?}" "$IMDS_URL$C")" = 401 ]
t_check "IMDS: token request without a TTL -> 400" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$IMDS_URL/latest/api/token")" = 400 ]
t_check "IMDS: token via GET refused" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS_URL/latest/api/token")" = 405 ]
curl -s -H "$H" "$IMDS_URL${C}iamgate-bastion-instance" >"$T/imds.json"
t_check "IMDS: credentials JSON matches the state's instance credentials" $PY -c 'import json,sys
d=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2]))["credentials"]["instance"]
ok = d["Code"]=="Success" and d["Type"]=="AWS-HMAC" and d["AccessKeyId"]==s["access_key_id"] \
  and d["SecretAccessKey"]==s["secret_access_key"] and d["Token"]==s["session_token"] \
  and d["Expiration"].endswith("Z") and d["LastUpdated"].endswith("Z")
sys.exit(0 if ok else 1)' "$T/imds.json" "$STS_STATE"
t_check "IMDS: unknown role -> 404" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$IMDS_URL${C}other-role")" = 404 ]
env -i PATH=/usr/bin:/bin HOME="$T/home" AWS_CA_BUNDLE="$STS_CA" AWS_REGION=us-east-1 \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_URL/" AWS_MAX_ATTEMPTS=1 \
	"$AWS" --endpoint-url "$STS_URL" --output json sts get-caller-identity >"$T/out" 2>"$T/err"
t_check "CLI takes credentials from the IMDS emulator and the STS endpoint accepts them" \
	[ "$(jget "$T/out" Arn)" = "arn:aws:sts::$ACCT:assumed-role/iamgate-bastion-instance/i-0123456789abcdef0" ]
"$CTL" ctl "$T" imds '{"garbage": {"count": 1}}' >/dev/null
t_check "IMDS fault garbage: credentials body is not JSON" \
	bash -c "! curl -s -H '$H' '$IMDS_URL${C}iamgate-bastion-instance' | $PY -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null"
"$CTL" ctl "$T" imds '{"expired": {"count": 1}}' >/dev/null
curl -s -H "$H" "$IMDS_URL${C}iamgate-bastion-instance" >"$T/imds.json"
t_check "IMDS fault expired: Expiration in the past" $PY -c 'import json,sys,time,datetime
d=json.load(open(sys.argv[1]))
e=datetime.datetime.fromisoformat(d["Expiration"].replace("Z","+00:00")).timestamp()
sys.exit(0 if e < time.time() else 1)' "$T/imds.json"
"$CTL" ctl "$T" imds '{"down": {"count": 1}}' >/dev/null
t_check "IMDS fault down: connection closed without a reply" \
	bash -c "! curl -s -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' '$IMDS_URL/latest/api/token' >/dev/null"
TOK1=$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 1' "$IMDS_URL/latest/api/token")
sleep 1.2
t_check "IMDS: token expires after its TTL" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $TOK1" "$IMDS_URL$C")" = 401 ]
"$CTL" stop "$T" imds
t_check "IMDS stopped: connection refused" \
	bash -c "! curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' '$IMDS_URL/latest/api/token'"
t_check "IMDS stopped: its nftables table is gone" bash -c "! nft list table inet iamgate_test_imds_$IMDS_PORT >/dev/null 2>&1"

# --- logs: one JSON object per line, no secret anywhere ----------------------------------
t_check "logs are JSONL" $PY -c 'import json,sys
for f in sys.argv[1:]:
    for l in open(f): json.loads(l)' "$STS_LOG" "$IMDS_LOG"
t_check "log has an entry for each STS request (>= 40)" [ "$(logsince "$STS_LOG" 0)" -ge 40 ]
leak=""
for s in $secrets_seen $TOK; do
	[ ${#s} -ge 20 ] || { leak="$leak short-secret"; continue; }
	if grep -qrF -- "$s" "$T"/*.jsonl "$T"/*.stderr "$T"/alt-*/*.jsonl "$T"/alt-*/*.stderr; then
		leak="$leak ${s:0:4}..."
	fi
done
t_check "no secret, session token or IMDS token in any log ($(echo $secrets_seen | wc -w) checked)" \
	[ -z "$leak" ]
t_check "no traceback in the servers' stderr" bash -c "! grep -q Traceback '$T'/*.stderr"

# --- the DynamoDB store's servers (--store), driven by the AWS CLI ------------------------
S=$T/alt-store
if sout=$("$CTL" start "$S" --no-imds --ca-dir "$T/ca" --state "$STS_STATE" --store 2>&1); then
	DDB_URL=$(sed -n 's/^export DDB_URL=//p' <<<"$sout")
	KMS_URL=$(sed -n 's/^export KMS_URL=//p' <<<"$sout")
	KMS_KEY_ARN=$(sed -n 's/^export KMS_KEY_ARN=//p' <<<"$sout")
	t_check "stsctl start --store: dynalite, its proxy and KMS listening" \
		[ -n "$DDB_URL" -a -n "$KMS_URL" -a -n "$KMS_KEY_ARN" ]
else
	t_fail "stsctl start --store" "$sout"
fi
awsc() { # PROFILE SERVICE-URL ARGS...: the AWS CLI against a store server
	local p=$1 u=$2
	shift 2
	AWS_CONFIG_FILE=$STS_AWS_CONFIG AWS_SHARED_CREDENTIALS_FILE=$STS_AWS_CREDENTIALS \
		AWS_CA_BUNDLE=$STS_CA AWS_EC2_METADATA_DISABLED=true HOME=$T/home \
		aws --profile "$p" --region us-east-1 --endpoint-url "$u" --output json "$@" 2>&1
}
t_check "table from config/dynamodb/table.json created through the proxy" \
	[ "$("$CTL" table "$S" iamgate-selftest 2>&1)" = iamgate-selftest ]
awsc bastion "$DDB_URL" dynamodb put-item --table-name iamgate-selftest \
	--item '{"user":{"S":"alice"},"ver":{"N":"1"}}' >/dev/null
t_check "the CLI's signed PutItem and GetItem pass the proxy's SigV4 check" bash -c \
	"[ \"\$(jq -r .Item.ver.N <<<'$(awsc bastion "$DDB_URL" dynamodb get-item --table-name iamgate-selftest --key '{"user":{"S":"alice"}}' --consistent-read)')\" = 1 ]"
code=$(curl -s -o "$T/unsigned.out" -w '%{http_code}' --cacert "$STS_CA" -X POST \
	-H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
	-H 'Content-Type: application/x-amz-json-1.0' -d '{}' "$DDB_URL/")
t_check "an unsigned request is refused (400 MissingAuthenticationTokenException)" \
	bash -c "[ $code = 400 ] && grep -q MissingAuthenticationToken '$T/unsigned.out'"
t_check "DynamoDB refuses the outsider (AccessDeniedException)" bash -c \
	"grep -q AccessDeniedException <<<'$(awsc outsider "$DDB_URL" dynamodb list-tables)'"
dk=$(awsc bastion "$KMS_URL" kms generate-data-key --key-id alias/iamgate-test \
	--key-spec AES_256 --encryption-context iamgate-user=alice)
t_check "KMS GenerateDataKey (CLI, alias, encryption context): a 32-byte key" \
	[ "$(jq -r .Plaintext <<<"$dk" | base64 -d | wc -c)" = 32 ]
jq -r .CiphertextBlob <<<"$dk" | base64 -d >"$T/edk.bin"
t_check "KMS Decrypt under the same context gives the same key" [ "$(awsc bastion "$KMS_URL" \
	kms decrypt --ciphertext-blob "fileb://$T/edk.bin" --encryption-context iamgate-user=alice \
	| jq -r .Plaintext)" = "$(jq -r .Plaintext <<<"$dk")" ]
t_check "KMS Decrypt under another user's context: InvalidCiphertextException" bash -c \
	"grep -q InvalidCiphertextException <<<'$(awsc bastion "$KMS_URL" kms decrypt \
	--ciphertext-blob "fileb://$T/edk.bin" --encryption-context iamgate-user=mallory)'"
t_check "KMS without the required context key: AccessDeniedException" bash -c \
	"grep -q AccessDeniedException <<<'$(awsc bastion "$KMS_URL" kms generate-data-key \
	--key-id "$KMS_KEY_ARN" --key-spec AES_256)'"
t_check "the proxy counts its requests per operation" bash -c \
	"[ \"\$('$CTL' ctl '$S' ddb | jq -r .stats.ops.GetItem)\" = 1 ]"
t_check "store servers: logs are JSONL, no key material, no traceback" $PY -c 'import json,sys
key = sys.argv[1]
for f in sys.argv[2:]:
    for l in open(f):
        json.loads(l)
        assert key not in l
' "$(jq -r .Plaintext <<<"$dk")" "$S/ddb.jsonl" "$S/kms.jsonl"
"$CTL" stop "$S" store
t_check "stsctl stop DIR store: dynalite, proxy and KMS gone" \
	[ ! -e "$S/ddb.pid" -a ! -e "$S/kms.pid" -a ! -e "$S/dynalite.pid" ]

"$CTL" stop "$T"
t_check "stsctl stop: both servers gone" [ ! -e "$T/sts.pid" -a ! -e "$T/imds.pid" ]
echo "# elapsed $($PY -c "import time; print(round(time.time() - $T0, 1))") s"
t_done
