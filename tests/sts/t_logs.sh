#!/bin/bash
# tests/sts/t_logs.sh - the CloudWatch Logs test endpoint (logs_endpoint.py),
# driven by the real AWS CLI: SigV4 verified (a wrong secret is refused),
# events stored in order and out-of-order
# batches refused, the audit shipper's seq ordering counted, the endpoint
# taken down and brought back with what it accepted, and the copy it holds
# read back into `iamgate audit verify --against`.  TAP output.
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
HERE=$ROOT/tests/sts
mkdir -p "$BUILD"
T=$(mktemp -d "$BUILD/t-logs.XXXXXX")
LPID=""
cleanup() {
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	"$HERE/stsctl.sh" stop "$T/sts" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

if out=$("$HERE/stsctl.sh" start "$T/sts" --no-imds --http 2>&1); then
	eval "$out"
	t_ok "the STS endpoint's state (credentials) is ready"
else
	t_fail "stsctl start" "$out"
	t_done
	exit 1
fi

# logs_start: (re)start the endpoint on the same store; LURL is its URL.
logs_start() {
	rm -f "$T/logs.port"
	$PY "$HERE/logs_endpoint.py" --state "$STS_STATE" --http --port 0 --port-file "$T/logs.port" \
		--store "$T/events.jsonl" --log "$T/logs.jsonl" --lifetime 600 2>>"$T/logs.err" &
	LPID=$!
	for _ in $(seq 100); do [ -s "$T/logs.port" ] && break; sleep 0.1; done
	LURL=http://127.0.0.1:$(cat "$T/logs.port" 2>/dev/null)
	[ -s "$T/logs.port" ]
}
logs_stop() {
	kill "$LPID" 2>/dev/null
	wait "$LPID" 2>/dev/null
	LPID=""
}
# awsl PROFILE ARGS... : aws logs against the endpoint; stdout $T/out, stderr $T/err.
awsl() {
	local p=$1
	shift
	env -i PATH=/usr/bin:/bin HOME="$T" AWS_CONFIG_FILE="$STS_AWS_CONFIG" \
		AWS_SHARED_CREDENTIALS_FILE="${CREDS:-$STS_AWS_CREDENTIALS}" AWS_MAX_ATTEMPTS=1 \
		AWS_PAGER= AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
		"$AWS" --profile "$p" --endpoint-url "$LURL" --output json logs "$@" >"$T/out" 2>"$T/err"
}

if logs_start; then t_ok "logs_endpoint listens on loopback ($LURL)"; else t_fail "logs_endpoint start" "$(cat "$T/logs.err")"; t_done; exit 1; fi

awsl bastion create-log-group --log-group-name iamgate-audit &&
	awsl bastion create-log-stream --log-group-name iamgate-audit --log-stream-name bastion-1
r=$?
if [ $r -eq 0 ]; then t_ok "create-log-group and create-log-stream, signed by the CLI, accepted"; else t_fail "create group/stream" "$(cat "$T/err")"; fi

# A wrong secret: the signature does not verify.
sed 's/^\(aws_secret_access_key *= *\).*/\1WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONG/' "$STS_AWS_CREDENTIALS" >"$T/bad-creds"
if CREDS=$T/bad-creds awsl bastion describe-log-streams --log-group-name iamgate-audit; then
	t_fail "a wrong secret is refused"
elif grep -q InvalidSignatureException "$T/err"; then
	t_ok "a wrong secret is refused (InvalidSignatureException)"
else
	t_fail "a wrong secret is refused with InvalidSignatureException" "$(cat "$T/err")"
fi

# Real audit lines, shipped in order.
LOG=$T/log/audit.jsonl
mkdir -p "$T/log" && chmod 0755 "$T/log"
$PY - "$LOG" <<'PY'
import hashlib, json, sys
prev = "0" * 64
out = []
for seq in range(1, 7):
    o = {"time": "2026-11-29T00:00:0%d.000Z" % seq, "seq": seq, "host": "bastion-1",
         "event": "log_start" if seq == 1 else "auth", "user": None if seq == 1 else "u%d" % seq,
         "rhost": None, "service": None, "decision": "info" if seq == 1 else "allow",
         "reason": "new_chain" if seq == 1 else "ok"}
    if seq == 1:
        o["follows_seq"] = 0
    o["prev"] = prev
    s = json.dumps(o, separators=(",", ":"))
    prev = hashlib.sha256(s.encode()).hexdigest()
    out.append(s)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
events() { # events FROM TO : the log's lines FROM..TO as a PutLogEvents list
	$PY -c 'import json,sys
lines=open(sys.argv[1]).read().splitlines()[int(sys.argv[2])-1:int(sys.argv[3])]
print(json.dumps([{"timestamp":1795910400000+i,"message":l} for i,l in enumerate(lines)]))' "$LOG" "$1" "$2"
}
if awsl bastion put-log-events --log-group-name iamgate-audit --log-stream-name bastion-1 \
	--log-events "$(events 1 3)"; then t_ok "put-log-events: 3 audit lines accepted"; else t_fail "put-log-events" "$(cat "$T/err")"; fi
bad='[{"timestamp":1795910400009,"message":"x"},{"timestamp":1795910400001,"message":"y"}]'
if ! awsl bastion put-log-events --log-group-name iamgate-audit --log-stream-name bastion-1 \
	--log-events "$bad" && grep -q 'chronological order' "$T/err"; then
	t_ok "a batch out of timestamp order is refused"
else
	t_fail "a batch out of timestamp order is refused" "$(cat "$T/err")"
fi

# Down, then back: what it accepted is still there; the rest arrives once.
logs_stop
if ! awsl bastion describe-log-streams --log-group-name iamgate-audit; then t_ok "while it is down, calls fail"; else t_fail "a stopped endpoint answered"; fi
logs_start || t_fail "restart" "$(cat "$T/logs.err")"
awsl bastion put-log-events --log-group-name iamgate-audit --log-stream-name bastion-1 \
	--log-events "$(events 3 6)" # line 3 again: the duplicate a crash can make
awsl bastion get-log-events --log-group-name iamgate-audit --log-stream-name bastion-1 --start-from-head
cp "$T/out" "$T/copy.json"
n=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$T/copy.json" 2>/dev/null)
if [ "$n" = 7 ]; then t_ok "after the restart the stream holds all 7 events (one a duplicate)"; else t_fail "events after restart: $n, want 7" "$(cat "$T/err")"; fi
stats=$(curl -s "$LURL/_stats")
if $PY -c 'import json,sys; s=json.loads(sys.argv[1])["iamgate-audit/bastion-1"]; sys.exit(not (s["duplicates"]==1 and s["out_of_order"]==0 and s["last_seq"]==6))' "$stats"; then
	t_ok "seq order checked: 1 duplicate, none out of order, last seq 6"
else
	t_fail "stream stats" "$stats"
fi

# The copy, as the CLI fetched it, against the log.
if "$BUILD/iamgate" audit verify --log "$LOG" --against "$T/copy.json" >"$T/v.out" 2>&1 &&
	grep -q '6 lines the same' "$T/v.out"; then
	t_ok "iamgate audit verify --against the fetched copy: 6 lines the same"
else
	t_fail "verify --against the fetched copy" "$(cat "$T/v.out")"
fi
sed -i 's/"user":"u4"/"user":"u9"/' "$LOG"
if "$BUILD/iamgate" audit verify --log "$LOG" --against "$T/copy.json" >"$T/v.out" 2>&1; then
	t_fail "an edited line is not found against the copy" "$(cat "$T/v.out")"
elif grep -q 'differ from the copy, the first at seq 4' "$T/v.out"; then
	t_ok "a line edited after shipping is named (seq 4)"
else
	t_fail "verify --against names seq 4" "$(cat "$T/v.out")"
fi
if ! grep -qE 'aws_secret_access_key|Signature=' "$T/logs.jsonl" "$T/events.jsonl"; then t_ok "no secret or signature in the endpoint's files"; else t_fail "a secret reached the endpoint's files"; fi
t_done
