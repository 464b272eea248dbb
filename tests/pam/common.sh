# tests/pam/common.sh - set up a throwaway world for PAM tests: real users
# and groups (CI runs as root), a config, a pam_wrapper service dir, and
# helpers to run pamtester and read the audit log.  Source it after lib.sh.
#
# Everything lives under $T (inside build/, root-owned, 0755 all the way up,
# so the gate's trusted-path checks pass) and is removed by pam_cleanup.

PAMWRAP=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so
[ -f "$PAMWRAP" ] || PAMWRAP=$(ls /usr/lib/*/libpam_wrapper.so 2>/dev/null | head -1)

# Under the ASan+UBSan build the module needs the sanitizer runtimes loaded
# first into pamtester (which is not instrumented).
PRELOAD=$PAMWRAP
if [ "${IG_ASAN:-0}" = 1 ]; then
	PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so) $PAMWRAP"
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi

# Short unique prefix: user names stay under 32 characters.
P=ig$(printf '%x' $(( ($$ + RANDOM) % 65536 )))
T=$(mktemp -d "$BUILD/t-pam.XXXXXX")
chmod 0755 "$T"
SECRET_A=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SECRET_B=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
CONFIG=$T/etc/iamgate.json
AUDIT=$T/log/audit.jsonl
MODULE=${MODULE:-$BUILD/pam_iamgate.so}
HELPER=${HELPER:-$BUILD/iamgate-helper}
CLI=${CLI:-$BUILD/iamgate}

pam_cleanup() {
	serve_stop
	for u in alice bob carol dave $EXTRA_USERS; do userdel "${P}$u" >/dev/null 2>&1; done
	for g in dev pii; do groupdel "${P}$g" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap pam_cleanup EXIT

# write_config [extra top-level JSON members, with trailing comma]
write_config() {
	mkdir -p "$T/etc" "$T/log" "$T/run"
	chmod 0755 "$T/etc" "$T/log" "$T/run"
	cat >"$CONFIG" <<JSON
{
  ${1:-}
  "pii_group": "${P}pii",
  "pii_allow_local": ${PII_ALLOW_LOCAL:-true},
  "allowlists": {
    "office": ["127.0.0.0/8", "::1/128", "2001:db8:10::/48"],
    "pii-fixed": ["127.0.0.7/32"]
  },
  "groups": {
    "${P}dev": { "allow_from": ["office"], "roles": ["app-readonly"] },
    "${P}pii": { "allow_from": ["pii-fixed"], "roles": ["rds-snapshot"] }
  },
  "roles": {
    "app-readonly": { "arn": "arn:aws:iam::111122223333:role/bastion-app-readonly" },
    "rds-snapshot": { "arn": "arn:aws:iam::111122223333:role/bastion-pii-rds-snapshot", "pii": true }
  },
  "totp": { "state_dir": "$T/state", "digits": 6, "step_seconds": ${STEP_SECONDS:-30}, "window": 1,
            "max_failures": ${MAX_FAILURES:-3}, "lockout_seconds": ${LOCKOUT_SECONDS:-900} },
  "audit": { "path": "$AUDIT", "syslog": false },
  "session": { "dir": "$T/run/sessions", "grant_dir": "$T/run/grants" ${SESSION_EXTRA:-} }
  ${AWS_SECTION:-}
}
JSON
	chmod 0600 "$CONFIG"
}

# The long-lived helper (iamgate-helper --serve) on $SERVE_SOCK.  With
# IG_SERVE=1 pam_setup starts it and write_service points the module at it
# with a helper= that does not exist, so every decision of the suite is
# proven to come through the socket (the exec fallback would fail closed).
SERVE_SOCK=$T/run/helper.sock
source "$(dirname "${BASH_SOURCE[0]}")/../serve_lib.sh"
serve_start() { # [extra --serve options]
	ig_serve_start "$HELPER" "$SERVE_SOCK" "$CONFIG" "$T/serve.log" \
		--workers "${SERVE_WORKERS:-2}" "$@"
}
serve_stop() { ig_serve_stop; }

# write_service [module options...]: a pam_wrapper service "iamgate".
write_service() {
	mkdir -p "$T/pam.d"
	local opts="config=$CONFIG helper=$HELPER $*"
	[ "${IG_SERVE:-0}" = 1 ] && opts="config=$CONFIG helper=$T/no-such-helper socket=$SERVE_SOCK $*"
	cat >"$T/pam.d/iamgate" <<PAM
auth     required $MODULE $opts
account  required $MODULE $opts
session  required $MODULE $opts
PAM
}

pam_setup() {
	ig_wait_boot_floor
	groupadd "${P}dev"
	groupadd "${P}pii"
	useradd -M -N -g "${P}dev" -s /bin/sh "${P}alice"            # app developer
	useradd -M -N -g "${P}dev" -G "${P}pii" -s /bin/sh "${P}bob" # PII-access member
	useradd -M -N -s /bin/sh "${P}carol"                         # in no mapped group
	useradd -M -N -g "${P}dev" -s /bin/sh "${P}dave"             # mapped, never enrolled
	write_config
	write_service
	if [ "${IG_SERVE:-0}" = 1 ]; then serve_start || exit 1; fi
	echo "$SECRET_A" | "$CLI" enroll --config "$CONFIG" --import-base32 - --no-verify "${P}alice" >/dev/null
	echo "$SECRET_B" | "$CLI" enroll --config "$CONFIG" --import-base32 - --no-verify "${P}bob" >/dev/null
}

code_for() { oathtool --totp -b "$1"; }

# extra_user NAME [GROUP]: another enrolled app developer (also in ${P}GROUP) (secret in $SECRET_<NAME>), so
# tests need not wait for a fresh time step to log in again.
EXTRA_USERS=""
extra_user() { # NAME [SUPPLEMENTARY_GROUP_SUFFIX]
	local s g=()
	s=$(head -c 20 /dev/urandom | base32 | tr -d '=')
	[ -n "${2:-}" ] && g=(-G "${P}$2")
	useradd -M -N -g "${P}dev" "${g[@]}" -s /bin/sh "${P}$1"
	EXTRA_USERS="$EXTRA_USERS $1"
	printf -v "SECRET_$1" '%s' "$s"
	echo "$s" | "$CLI" enroll --config "$CONFIG" --import-base32 - --no-verify "${P}$1" >/dev/null
}

# pt RHOST USER CODE OPS... : pamtester under pam_wrapper; output in $OUT, status in $RC.
pt() {
	local rhost=$1 user=$2 code=$3
	shift 3
	local rh=()
	[ -n "$rhost" ] && rh=(-I "rhost=$rhost")
	[ -n "$code" ] && printf '%s\n' "$code" >>"$T/codes-typed"
	OUT=$(printf '%s\n' "$code" | env LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam.d" ${PT_ENV:-} \
		pamtester -v "${rh[@]}" iamgate "$user" "$@" 2>&1)
	RC=$?
}

# last_audit [N]: the Nth line from the end of the audit log (default 1).
last_audit() { tail -n "${1:-1}" "$AUDIT" 2>/dev/null | head -n 1; }

# audit_has JSONLINE KEY VALUE...: each key has the value (jq -e).
audit_has() {
	local line=$1
	shift
	while [ $# -ge 2 ]; do
		if [ "$(printf '%s' "$line" | jq -r --arg k "$1" '.[$k] // "null"' 2>/dev/null)" != "$2" ]; then
			echo "# audit $1 != $2 in: $line"
			return 1
		fi
		shift 2
	done
}

# no_secrets_in FILE: no enrolled secret, no typed code (as a whole value),
# and no "code" key anywhere in the JSON lines of FILE.
no_secrets_in() {
	local f=$1
	if grep -qF -e "$SECRET_A" -e "$SECRET_B" "$f"; then echo "# secret found in $f"; return 1; fi
	if jq -e 'paths | map(tostring) | any(. == "code" or . == "secret" or . == "SecretAccessKey" or . == "SessionToken")' "$f" 2>/dev/null | grep -q true; then
		echo "# a code/secret key in $f"; return 1
	fi
	if jq -r '.. | strings' "$f" | grep -qxFf "$T/codes-typed"; then echo "# a typed code in $f"; return 1; fi
	return 0
}
