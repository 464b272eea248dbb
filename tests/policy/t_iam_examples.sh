#!/bin/bash
# t_iam_examples.sh - the example IAM in config/iam passes the policy analysis,
# and each rule of `iamgate check --policies` fails a copy mutated to break it
# (one mutation per copy), with the right message, at the mutated file, and a
# non-zero exit.
#
# The analysis runs through tests/policy/policy_driver.c (ig_policy_check with
# the roles given as NAME:pii|nopii), compiled here from the core sources, so
# this suite does not depend on the CLI's configuration loader.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WORK=$(mktemp -d "$ROOT/build/t-iam-examples.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
DRIVER=$WORK/policy_driver

ROLES=(prod-app-developer:nopii prod-app-operator:nopii prod-infrastructure:nopii
	prod-emergency-maintenance:nopii prod-pii-access:pii prod-iam-admin:nopii
	prod-kms-admin:nopii prod-readonly-auditor:nopii dev-app-developer:nopii
	dev-infrastructure:nopii)
BUCKETS=(--bucket acme-prod-rds-exports --bucket acme-prod-backups)

if ${CC:-cc} -std=c11 -O1 -g -D_GNU_SOURCE -I"$ROOT/include" -Wall -Wextra -Werror \
	-o "$DRIVER" "$ROOT/tests/policy/policy_driver.c" "$ROOT/src/core/policy.c" \
	"$ROOT/src/core/jsonpos.c" "$ROOT/src/base/util.c" "$ROOT/src/base/error.c" -ljansson \
	2>"$WORK/cc.log"; then
	t_ok "build the policy driver"
else
	t_fail "build the policy driver" "$(cat "$WORK/cc.log")"
	t_done
	exit 1
fi

# analyse DIR [ROLE:pii|nopii ...]: run the analysis, output in $OUT, status in $RC.
analyse() {
	local dir=$1
	shift
	OUT=$("$DRIVER" --dir "$dir" "${BUCKETS[@]}" "$@" 2>&1)
	RC=$?
}

# --- the examples pass -------------------------------------------------------
analyse "$ROOT/config/iam" "${ROLES[@]}"
if [ "$RC" -eq 0 ] && [ "$OUT" = "0 error(s)" ]; then
	t_ok "config/iam passes with no error and no warning"
else
	t_fail "config/iam passes with no error and no warning" "rc=$RC $OUT"
fi

OUT=$("$DRIVER" --doc "$ROOT/config/iam/bastion-instance-role/policy.json" "${BUCKETS[@]}" \
	bastion-instance-role:nopii 2>&1)
RC=$?
if [ "$RC" -eq 0 ] && printf '%s\n' "$OUT" | grep -qx 'reach=0' &&
	printf '%s\n' "$OUT" | grep -qx '0 error(s)'; then
	t_ok "bastion instance role policy passes"
else
	t_fail "bastion instance role policy passes" "rc=$RC $OUT"
fi

# Every example file is valid JSON to an independent parser, too.
bad=""
for f in "$ROOT"/config/iam/*/*.json; do
	"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$f" 2>/dev/null || bad="$bad $f"
done
if [ -z "$bad" ]; then t_ok "every example is valid JSON"; else t_fail "every example is valid JSON" "$bad"; fi

# The bastion may assume exactly the mapped roles.
want=$(for r in "${ROLES[@]}"; do n=${r%%:*}; case $n in dev-*) a=444455556666 ;; *) a=111122223333 ;; esac
	echo "arn:aws:iam::$a:role/$n"; done | sort)
got=$("$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
for s in d["Statement"]:
    for r in s["Resource"]: print(r)' "$ROOT/config/iam/bastion-instance-role/policy.json" | sort)
if [ "$want" = "$got" ]; then
	t_ok "bastion instance role assumes exactly the mapped roles"
else
	t_fail "bastion instance role assumes exactly the mapped roles" "want: $want got: $got"
fi

# --- one mutation per rule ---------------------------------------------------
# mutate NAME: copy config/iam to $WORK/NAME and apply mutation NAME there.
mutate() {
	local name=$1 dir=$WORK/$1
	rm -rf "$dir"
	cp -r "$ROOT/config/iam" "$dir"
	"$PY" - "$dir" "$name" <<'EOF'
import json, os, shutil, sys

root, name = sys.argv[1], sys.argv[2]

def load(rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)

def save(rel, doc):
    with open(os.path.join(root, rel), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

def stmt(doc, sid):
    for s in doc["Statement"]:
        if s.get("Sid") == sid:
            return s
    raise SystemExit("no statement " + sid)

def edit(rel, fn):
    doc = load(rel)
    fn(doc)
    save(rel, doc)

def as_list(v):
    return v if isinstance(v, list) else [v]

P = "prod-pii-access/trust.json"
m = {
    "action-star": lambda: edit("prod-app-developer/policy.json", lambda d: d["Statement"].append(
        {"Sid": "Everything", "Effect": "Allow", "Action": "*",
         "Resource": "arn:aws:s3:::acme-dev-artifacts"})),
    "notaction-allow": lambda: edit("prod-readonly-auditor/policy.json", lambda d: stmt(
        d, "ReadAuditTrail").update(NotAction=stmt(d, "ReadAuditTrail").pop("Action"))),
    "resource-star-write": lambda: edit("prod-app-operator/policy.json", lambda d: stmt(
        d, "DeployAppServices").update(Resource="*")),
    "drop-sid": lambda: edit("prod-kms-admin/policy.json", lambda d: d["Statement"][0].pop("Sid")),
    "bad-sid": lambda: edit("prod-kms-admin/policy.json", lambda d: stmt(
        d, "ReadKeys").update(Sid="read_keys")),
    "nonpii-copy-snapshot": lambda: edit("prod-emergency-maintenance/policy.json", lambda d: stmt(
        d, "RecoverProdDatabases")["Action"].append("rds:CopyDBSnapshot")),
    "logs-get-rds": lambda: edit("prod-app-developer/policy.json", lambda d: d["Statement"].append(
        {"Sid": "ReadDatabaseLogs", "Effect": "Allow", "Action": "logs:Get*",
         "Resource": "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/rds/*"})),
    "s3-pii-bucket": lambda: edit("prod-readonly-auditor/policy.json", lambda d: stmt(
        d, "ReadAuditTrail")["Resource"].append("arn:aws:s3:::acme-prod-rds-exports/*")),
    "trust-no-setsourceidentity": lambda: edit("dev-infrastructure/trust.json", lambda d: d[
        "Statement"][0]["Action"].remove("sts:SetSourceIdentity")),
    "trust-no-tagsession": lambda: edit("prod-app-operator/trust.json", lambda d: d[
        "Statement"][0]["Action"].remove("sts:TagSession")),
    "pii-trust-no-source-ip": lambda: edit(P, lambda d: d["Statement"][0]["Condition"][
        "StringLike"].pop("aws:RequestTag/bastion-source-ip")),
    "pii-trust-no-source-identity": lambda: edit(P, lambda d: d["Statement"][0]["Condition"][
        "StringLike"].pop("sts:SourceIdentity")),
    "trust-wrong-principal": lambda: edit("prod-iam-admin/trust.json", lambda d: d["Statement"][0][
        "Principal"].update(AWS="arn:aws:iam::444455556666:root")),
    "trust-service-principal": lambda: edit("dev-app-developer/trust.json", lambda d: d[
        "Statement"][0]["Principal"].update(Service="ec2.amazonaws.com")),
    "infra-rds-star": lambda: edit("prod-infrastructure/policy.json", lambda d: stmt(
        d, "OperateDatabaseInstances").update(Action="rds:*")),
    "backup-restore": lambda: edit("dev-app-developer/policy.json", lambda d: d["Statement"].append(
        {"Sid": "RestoreBackups", "Effect": "Allow", "Action": "backup:StartRestoreJob",
         "Resource": "arn:aws:backup:eu-west-1:444455556666:recovery-point:*"})),
    "malformed-json": lambda: open(os.path.join(root, "prod-kms-admin/policy.json"), "a").write("}\n"),
    "missing-role-dir": lambda: shutil.rmtree(os.path.join(root, "dev-app-developer")),
    "missing-trust": lambda: os.remove(os.path.join(root, "prod-app-operator/trust.json")),
    "pii-unmarked": lambda: None,
}
m[name]()
EOF
}

# check NAME FILE MESSAGE [ROLES...]: the mutated copy fails, and FILE has MESSAGE.
check() {
	local name=$1 file=$2 msg=$3
	shift 3
	local roles=("${ROLES[@]}")
	[ $# -gt 0 ] && roles=("$@")
	if ! mutate "$name" 2>"$WORK/mutate.log"; then
		t_fail "mutation $name" "could not mutate: $(cat "$WORK/mutate.log")"
		return
	fi
	analyse "$WORK/$name" "${roles[@]}"
	local path=$WORK/$name/$file
	if [ "$RC" -ne 1 ]; then
		t_fail "mutation $name fails the check" "exit $RC, want 1: $OUT"
	elif ! printf '%s\n' "$OUT" | grep -F -- "$path" | grep -F -q -- "error: " ||
		! printf '%s\n' "$OUT" | grep -F -- "$path" | grep -F -q -- "$msg"; then
		t_fail "mutation $name fails the check" "no error at $file containing: $msg
$OUT"
	else
		t_ok "mutation $name fails the check: $msg"
	fi
}

check action-star prod-app-developer/policy.json 'Action "*" allows every action'
check notaction-allow prod-readonly-auditor/policy.json 'NotAction with Effect Allow'
check resource-star-write prod-app-operator/policy.json \
	'Resource "*" on write action "ecs:UpdateService" (Update...)'
check drop-sid prod-kms-admin/policy.json 'statement has no Sid'
check bad-sid prod-kms-admin/policy.json 'Sid "read_keys" does not match the Sid naming rule'
check nonpii-copy-snapshot prod-emergency-maintenance/policy.json \
	'reaches customer data (RDS snapshots, exports and restores): rds:CopyDBSnapshot through "rds:CopyDBSnapshot"'
check logs-get-rds prod-app-developer/policy.json \
	'reaches customer data (RDS CloudWatch log groups): logs:GetLogEvents through "logs:Get*"'
check s3-pii-bucket prod-readonly-auditor/policy.json \
	'reaches customer data (objects in a pii bucket): s3:GetObject through "s3:GetObject" on "arn:aws:s3:::acme-prod-rds-exports/*"'
check trust-no-setsourceidentity dev-infrastructure/trust.json \
	'does not allow sts:SetSourceIdentity'
check trust-no-tagsession prod-app-operator/trust.json 'does not allow sts:TagSession'
check pii-trust-no-source-ip prod-pii-access/trust.json \
	'no condition requiring the bastion-source-ip session tag'
check pii-trust-no-source-identity prod-pii-access/trust.json \
	'no condition requiring the source identity'
check trust-wrong-principal prod-iam-admin/trust.json \
	'trusts account "arn:aws:iam::444455556666:root"'
check trust-service-principal dev-app-developer/trust.json \
	'trusts Service principal "ec2.amazonaws.com"'
check infra-rds-star prod-infrastructure/policy.json \
	'reaches customer data (RDS snapshots, exports and restores): rds:CopyDBSnapshot through "rds:*"'
check backup-restore dev-app-developer/policy.json \
	'reaches customer data (AWS Backup recovery points): backup:StartRestoreJob'
check malformed-json prod-kms-admin/policy.json 'malformed JSON'
check missing-role-dir dev-app-developer 'no policy directory for role "dev-app-developer"'
check missing-trust prod-app-operator 'has no trust policy: expected'
pii_flipped=("${ROLES[@]/prod-pii-access:pii/prod-pii-access:nopii}")
check pii-unmarked prod-pii-access/policy.json 'role "prod-pii-access" is not marked pii' \
	"${pii_flipped[@]}"

# The mutation that breaks the trust names the line of the offending statement.
mutate trust-wrong-principal
analyse "$WORK/trust-wrong-principal" "${ROLES[@]}"
line=$(grep -n 'arn:aws:iam::444455556666:root' "$WORK/trust-wrong-principal/prod-iam-admin/trust.json" | cut -d: -f1)
if printf '%s\n' "$OUT" | grep -qF "prod-iam-admin/trust.json:$line: error: trust policy trusts account"; then
	t_ok "finding names the line of the offending principal ($line)"
else
	t_fail "finding names the line of the offending principal" "line $line: $OUT"
fi

# A role marked pii without customer-data reach is a warning, not an error.
pii_extra=("${ROLES[@]/prod-readonly-auditor:nopii/prod-readonly-auditor:pii}")
analyse "$ROOT/config/iam" "${pii_extra[@]}"
if [ "$RC" -eq 0 ] && printf '%s\n' "$OUT" | grep -qF "config/iam/prod-readonly-auditor: warning: role \"prod-readonly-auditor\" is marked pii but none of its policies reach customer data"; then
	t_ok "pii role without customer-data reach: warning, exit 0"
else
	t_fail "pii role without customer-data reach: warning, exit 0" "rc=$RC $OUT"
fi

t_done
