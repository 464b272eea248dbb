#!/bin/bash
# tests/pkg/t_man.sh - the man pages: groff and man render them without a
# single warning, and they document what the code accepts: every key the
# configuration loader knows (src/core/config.c), every option and subcommand
# of the iamgate command (src/cli/main.c, src/cli/audit_cli.c), every
# module option (src/pam/pam_iamgate.c), the long-lived helper's options
# (src/helper/main.c) and service, and the PAM and sshd lines an admin has
# to add.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

MAN=packaging/man
PAGES=("$MAN/pam_iamgate.8" "$MAN/iamgate.8" "$MAN/iamgate.json.5")

# render PAGE: plain ASCII text, wide lines, no hyphenation breaks.
render() { groff -man -Tascii -P-cbou -rLL=250n "$1" 2>/dev/null; }

for p in "${PAGES[@]}"; do
	if [ ! -f "$p" ]; then
		t_fail "$p exists"
		continue
	fi
	w=$(groff -ww -man -z "$p" 2>&1)
	if [ $? -eq 0 ] && [ -z "$w" ]; then t_ok "groff -ww: no warnings in $(basename "$p")"; else t_fail "groff -ww warns on $p" "$w"; fi
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$p" 2>&1 >/dev/null)
	if [ $? -eq 0 ] && [ -z "$w" ]; then t_ok "man --warnings: no warnings in $(basename "$p")"; else t_fail "man --warnings on $p" "$w"; fi
done

# The checker must notice a warning: an unknown macro in a copy.
tmp=$(mktemp -d "$BUILD/t-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
{ cat "$MAN/iamgate.8"; printf '.XYZZY\n'; } >"$tmp/bad.8"
w=$(groff -ww -man -z "$tmp/bad.8" 2>&1)
if [ -n "$w" ]; then t_ok "the warning check detects an undefined macro"; else t_fail "groff -ww stays silent on an undefined macro"; fi

# missing TEXT STRING...: the strings that TEXT does not contain.
missing() {
	local text=$1 w out=""
	shift
	for w in "$@"; do
		grep -qF -- "$w" <<<"$text" || out="$out $w"
	done
	printf '%s' "$out"
}

# --- iamgate.json(5): every key src/core/config.c accepts ------------------
# The loader lists the allowed keys of each object in "keys[]" arrays.
keys=$(awk '/static const char \*const c?keys\[\] = \{/,/\};/' src/core/config.c |
	grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
nkeys=$(wc -w <<<"$keys")
json5=$(render "$MAN/iamgate.json.5")
if [ "$nkeys" -ge 25 ]; then t_ok "found $nkeys configuration keys in src/core/config.c"; else t_fail "only $nkeys keys extracted from src/core/config.c" "$keys"; fi
m=$(missing "$json5" $keys arn pii duration_seconds allow_from roles)
if [ -z "$m" ]; then t_ok "iamgate.json(5) documents every configuration key"; else t_fail "iamgate.json(5) lacks keys:$m"; fi
# Defaults and ranges as the loader has them (a sample that would drift).
m=$(missing "$json5" "900 to 3600; default 900" "6 to 8; default 6" "15 to 300; default 30" \
	"0 to 10; default 1" "1 to 100; default 5" "1 to 604800; default 900" \
	"5 to 600; default 120" "1 to 60; default 5" /var/lib/iamgate/totp \
	/var/log/iamgate/audit.jsonl /run/iamgate/sessions /run/iamgate/grants /run/iamgate/cache \
	/etc/iamgate/aws-credentials http://169.254.169.254 '"continue"' '"deny"' '"imds"' \
	'"file"' "THE PII RULE" pii_not_member pii_source_not_fixed pii_no_mfa)
if [ -z "$m" ]; then t_ok "iamgate.json(5) gives the defaults, ranges and the PII rule"; else t_fail "iamgate.json(5) lacks:$m"; fi
gone=""
for v in "900, 3600, 900" "6, 8, 6" "15, 300, 30" "0, 10, 1" "1, 100, 5" "1, 86400 \* 7, 900" "5, 600, 120" "1, 60, 5"; do
	grep -qE "get_uint\(.*$v, &" src/core/config.c || gone="$gone ($v)"
done
if [ -z "$gone" ]; then t_ok "the ranges in iamgate.json(5) are the ones src/core/config.c checks"; else t_fail "src/core/config.c no longer has the documented ranges$gone"; fi

# --- iamgate(8): every subcommand and option ------------------------------
opts=$(awk '/static const struct option lo\[\] = \{/,/\};/' src/cli/main.c |
	grep -oE '\{"[a-z0-9-]+"' | tr -d '{"' | sort -u | sed 's/^/--/')
aopts=$(grep -oE '^ *\{\{"[a-z-]+"' src/cli/audit_cli.c | grep -oE '[a-z-]+' | sort -u | sed 's/^/--/')
n=$(wc -w <<<"$opts $aopts")
if [ "$n" -ge 15 ]; then t_ok "found $n options in src/cli/main.c and src/cli/audit_cli.c"; else t_fail "only $n options extracted" "$opts $aopts"; fi
cli8=$(render "$MAN/iamgate.8")
m=$(missing "$cli8" $opts $aopts "iamgate check" "iamgate enroll" "iamgate status" \
	"iamgate unlock" "iamgate audit verify" "iamgate audit show" "iamgate audit seal-init" \
	"iamgate audit seal" SEALING "What it does not prove" \
	seal_initialized epoch_sealed seal_key_missing "aws logs get-log-events" "EXIT STATUS")
if [ -z "$m" ]; then t_ok "iamgate(8) documents every subcommand and option"; else t_fail "iamgate(8) lacks:$m"; fi

# --- pam_iamgate(8): options, stack, sshd_config, return codes ------------
mopts=$(grep -oE 'strn?cmp\(argv\[i\], "[a-z]+=?"' src/pam/pam_iamgate.c | grep -oE '"[a-z]+=?"' | tr -d '"')
pam8=$(render "$MAN/pam_iamgate.8")
n=$(wc -w <<<"$mopts")
if [ "$n" -ge 4 ] && [ -z "$(missing "$mopts" config= helper= timeout= debug)" ]; then
	t_ok "found the $n module options in pam_iamgate.c"
else
	t_fail "module options extracted: $mopts"
fi
m=$(missing "$pam8" $mopts socket= "auth       required     pam_iamgate.so" \
	"account    required     pam_iamgate.so" "session    required     pam_iamgate.so" \
	"UsePAM yes" "UseDNS no" "KbdInteractiveAuthentication yes" \
	"AuthenticationMethods publickey,keyboard-interactive" \
	PAM_SUCCESS PAM_AUTH_ERR PAM_PERM_DENIED PAM_SESSION_ERR \
	/usr/libexec/iamgate/iamgate-helper /etc/iamgate/iamgate.json)
if [ -z "$m" ]; then t_ok "pam_iamgate(8) has the options, stack, sshd_config lines and return codes"; else t_fail "pam_iamgate(8) lacks:$m"; fi
# The long-lived helper (iamgate-helper --serve, iamgate-helper.service):
# every option src/helper/main.c compares argv with, the socket option's
# fallback and fail-closed rules, and how to turn the service on.
hopts=$(grep -oE 'strcmp\(argv\[[a-z0-9]+\], "--[a-z-]+"\)' src/helper/main.c | grep -oE '"--[a-z-]+"' | tr -d '"' | sort -u)
m=$(missing "$pam8" $hopts --serve --workers --config "THE LONG-LIVED HELPER" \
	/run/iamgate/helper.sock socket=/run/iamgate/helper.sock iamgate-helper.service \
	"systemctl enable --now iamgate-helper" ENOENT ECONNREFUSED SO_PEERCRED "fails closed" \
	"1 to 64, default 4" /lib/systemd/system/iamgate-helper.service)
if [ -z "$m" ]; then
	t_ok "pam_iamgate(8) documents socket=, iamgate-helper --serve ($(wc -w <<<"$hopts") options in src/helper/main.c) and its service"
else
	t_fail "pam_iamgate(8) lacks:$m"
fi
gone=""
grep -q '#define SERVE_DEFAULT_WORKERS 4$' src/helper/main.c || gone="$gone SERVE_DEFAULT_WORKERS=4"
grep -q '#define SERVE_MAX_WORKERS 64$' src/helper/main.c || gone="$gone SERVE_MAX_WORKERS=64"
if [ -z "$gone" ] || ! grep -q -- '"--serve"' src/helper/main.c; then
	t_ok "the worker range in pam_iamgate(8) is the one src/helper/main.c has"
else
	t_fail "src/helper/main.c no longer has the documented worker range:$gone"
fi
gone=""
for c in PAM_SUCCESS PAM_AUTH_ERR PAM_PERM_DENIED PAM_SESSION_ERR; do
	grep -qw "$c" src/pam/pam_iamgate.c || gone="$gone $c"
done
if [ -z "$gone" ]; then t_ok "the return codes in pam_iamgate(8) are the module's"; else t_fail "pam_iamgate.c no longer uses$gone"; fi

# The metadata lockdown (iamgate(8)) with its reasons as reason.h names
# them, and what PAM applications do with a refused session (pam_iamgate(8)).
lreasons=$(grep -oE 'X\(IMDS_(REACHABLE_BY_USERS|LOCKDOWN_UNVERIFIED), "[a-z_]+"\)' include/iamgate/reason.h | grep -oE '"[a-z_]+"' | tr -d '"')
m=$(missing "$cli8" $lreasons "METADATA LOCKDOWN" /etc/iamgate/iamgate-imds.nft iamgate-imds-lockdown.service \
	"inet iamgate_imds" aws.credentials.imds_probe_uid /run/iamgate/cache/imds-guard.json)
if [ "$(wc -w <<<"$lreasons")" -eq 2 ] && [ -z "$m" ]; then
	t_ok "iamgate(8) documents the metadata lockdown, its rule, unit and reasons ($(echo $lreasons))"
else
	t_fail "iamgate(8) lacks:$m" "reasons found in reason.h: $lreasons"
fi
m=$(missing "$pam8" "A REFUSED SESSION" "exits 254" tests/e2e/t_session_deny.sh "sudo(8)" "su(1)" \
	"login(1)" "cron(8)" "PAM_SESSION_ERR as not fatal")
if [ -z "$m" ]; then t_ok "pam_iamgate(8) says which applications honour a refused session"; else t_fail "pam_iamgate(8) lacks:$m"; fi

# The cross-reference checker must notice a missing key.
m=$(missing "$json5" no_such_key_xyz)
if [ -n "$m" ]; then t_ok "the documentation check detects an undocumented key"; else t_fail "documentation check is blind"; fi

# --- iamgate(8): AUDIT REASONS is exactly the reasons in reason.h ---------
code_reasons=$(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, "[a-z0-9_]+"\)' include/iamgate/reason.h |
	grep -oE '"[a-z0-9_]+"' | tr -d '"' | sort)
man_reasons=$(awk '/^\.SH "AUDIT REASONS"/{on=1; next} /^\.SH/{on=0} on && prev==".TP" && /^\.B /{print $2} {prev=$0}' \
	"$MAN/iamgate.8" | sort)
n=$(printf '%s\n' "$code_reasons" | grep -c .)
undocumented=$(comm -23 <(printf '%s\n' "$code_reasons") <(printf '%s\n' "$man_reasons") | tr '\n' ' ')
stale=$(comm -13 <(printf '%s\n' "$code_reasons") <(printf '%s\n' "$man_reasons") | tr '\n' ' ')
if [ "$n" -ge 80 ] && [ -z "$undocumented" ]; then
	t_ok "every one of the $n reasons in include/iamgate/reason.h is in iamgate(8) AUDIT REASONS"
else
	t_fail "reasons missing from iamgate(8) AUDIT REASONS (found $n in reason.h): $undocumented"
fi
if [ -z "$stale" ]; then
	t_ok "iamgate(8) AUDIT REASONS names no reason the code does not have"
else
	t_fail "iamgate(8) AUDIT REASONS names reasons reason.h does not have: $stale"
fi
# The check must notice a missing entry: drop one from a copy.
grep -v '^\.B grant_uid_mismatch$' "$MAN/iamgate.8" >"$tmp/less.8"
if awk '/^\.SH "AUDIT REASONS"/{on=1; next} /^\.SH/{on=0} on && prev==".TP" && /^\.B /{print $2} {prev=$0}' \
	"$tmp/less.8" | grep -qx grant_uid_mismatch; then
	t_fail "the reason check does not notice a missing entry"
else
	t_ok "the reason check notices a missing entry"
fi

t_done
