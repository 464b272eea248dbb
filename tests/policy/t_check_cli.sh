#!/bin/bash
# tests/policy/t_check_cli.sh - `iamgate check --config --policies` on the
# shipped example configuration and IAM examples, and on mutated copies.
source "$(dirname "$0")/../lib.sh"
CLI=$BUILD/iamgate
T=$(mktemp -d "$BUILD/t-check.XXXXXX")
chmod 0755 "$T"
# The loader resolves every configured group to its gid on this host: the
# example's groups exist for the length of the suite (those this suite
# creates are removed again).
MADE_GROUPS=()
for g in $(jq -r '.groups | keys[] | select(startswith("#") | not)' "$ROOT/config/iamgate.json"); do
	getent group "$g" >/dev/null || { groupadd "$g" && MADE_GROUPS+=("$g"); }
done
cleanup() {
	for g in "${MADE_GROUPS[@]}"; do groupdel "$g" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
cp "$ROOT/config/iamgate.json" "$T/iamgate.json"
chmod 0600 "$T/iamgate.json"
cp -r "$ROOT/config/iam" "$T/iam"

out=$("$CLI" check --no-probe --config "$T/iamgate.json" --policies "$T/iam" 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "configuration OK: 3 allowlists, 10 groups, 10 roles; policies OK"; then
	t_ok "shipped example config + config/iam: check passes"
else
	t_fail "example check" "$out"
fi

# A non-pii role that can read RDS snapshots: refused with file:line.
f=$T/iam/prod-app-developer/policy.json
jq '.Statement += [{"Sid": "SnapshotPeek", "Effect": "Allow", "Action": "rds:*", "Resource": "*"}]' "$f" >"$f.new" && mv "$f.new" "$f"
out=$("$CLI" check --no-probe --config "$T/iamgate.json" --policies "$T/iam" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -qE "prod-app-developer/policy.json:[1-9][0-9]*: error: .*(customer data|pii)"; then
	t_ok "non-pii role reaching RDS snapshots: exit 1, file:line: error"
else
	t_fail "mutated check (rc=$rc)" "$out"
fi
json=$("$CLI" check --no-probe --config "$T/iamgate.json" --policies "$T/iam" --json 2>/dev/null)
if echo "$json" | jq -e '.errors >= 1 and (.findings | any(.severity == "error" and (.file | test("prod-app-developer"))))' >/dev/null; then
	t_ok "--json lists the same finding for tools"
else
	t_fail "--json" "$json"
fi

# --policies without the bastion role: a clear refusal.
jq 'del(.policy.bastion_role_arn)' "$T/iamgate.json" >"$T/nobastion.json" && chmod 0600 "$T/nobastion.json"
out=$("$CLI" check --no-probe --config "$T/nobastion.json" --policies "$T/iam" 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "bastion_role_arn"; then t_ok "--policies without bastion_role_arn: says what to add"; else t_fail "no bastion arn" "$out"; fi

# Without --policies the config alone is checked.
if "$CLI" check --no-probe --config "$T/nobastion.json" >/dev/null 2>&1; then t_ok "check without --policies: config only"; else t_fail "config-only check"; fi
t_done
