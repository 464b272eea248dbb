# tests/faults/common.sh - shared by the fault-matrix, concurrency and
# bad-input suites (tests/faults/t_*.sh).  Source it after tests/lib.sh.
#
# It reuses tests/pam/common.sh (users, config, pam_wrapper service, pt,
# audit_has, last_audit, extra_user) and adds:
#   ptl RHOST USER CODE OPS...   pt with the module's pam_syslog lines captured:
#                                pam_wrapper prints them on stderr (SYSLOG(N):
#                                ...) at PAM_WRAPPER_DEBUGLEVEL; $LOG holds
#                                them, $SEEN the rest (what the user saw:
#                                prompts, info messages, pamtester's verdict).
#   acount                       number of lines in the audit log (0 if none)
#   new_audit N                  the audit lines after the first N
#   at_exit CMD                  run CMD (eval) at exit, before pam_cleanup,
#                                last registered first (mounts, servers)
#   sts_start [stsctl options]   STS endpoint + IMDS emulator with the roles
#                                of the test config; sets AWS_SECTION (call
#                                before pam_setup), STS, STS_URL, IMDS_URL...
#   files_in DIR                 number of entries in DIR (0 if missing)
#   ms_since T0                  milliseconds since T0=$(date +%s%N)

source "$(dirname "${BASH_SOURCE[0]}")/../pam/common.sh"

EXIT_CMDS=()
at_exit() { EXIT_CMDS=("$1" "${EXIT_CMDS[@]}"); }

faults_cleanup() {
	local c
	for c in "${EXIT_CMDS[@]}"; do eval "$c" >/dev/null 2>&1; done
	wait # stops started in the background by at_exit commands
	# Never recurse into a file system still mounted under $T.
	if findmnt -rn -o TARGET | grep -qF "$T/"; then
		echo "# leaving $T: something is still mounted under it" >&2
		for u in alice bob carol dave $EXTRA_USERS; do userdel "${P}$u" >/dev/null 2>&1; done
		for g in dev pii; do groupdel "${P}$g" >/dev/null 2>&1; done
		return
	fi
	pam_cleanup
}
trap faults_cleanup EXIT

ptl() {
	PT_ENV="PAM_WRAPPER_DEBUGLEVEL=${PWDBG:-0}" pt "$@"
	LOG=$(printf '%s\n' "$OUT" | grep -o 'PWRAP_.*')
	SEEN=$(printf '%s\n' "$OUT" | sed 's/PWRAP_[A-Z]*\[[^]]*\] - .*$//' | grep -v '^$')
}

# audit_has JSONLINE KEY VALUE...: as tests/pam/common.sh's, in one jq run
# (jq start-up dominated these suites' run time).
audit_has() {
	local line=$1 prog=true i=0
	local args=()
	shift
	while [ $# -ge 2 ]; do
		args+=(--arg "k$i" "$1" --arg "v$i" "$2")
		prog="$prog and ((.[\$k$i] // \"null\") | tostring) == \$v$i"
		i=$((i + 1))
		shift 2
	done
	if ! printf '%s' "$line" | jq -e "${args[@]}" "$prog" >/dev/null 2>&1; then
		echo "# audit line does not match: $line"
		return 1
	fi
}

acount() { if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi; }
new_audit() { tail -n +"$(($1 + 1))" "$AUDIT" 2>/dev/null; }
files_in() { find "$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# The user saw nothing that says why a login failed (no reason, no path).
seen_nothing_more() {
	if printf '%s\n' "$SEEN" | grep -v '^pamtester: invoking pam_start' |
		grep -qiE 'helper|config|refus|audit|state|reason|signal|garbage|/'; then
		echo "# the user saw more than a generic failure: $SEEN"
		return 1
	fi
}

sts_start() {
	STS=$T/sts
	mkdir -p "$STS"
	at_exit "sts_stop_bg \"$STS\""
	"$ROOT/tests/sts/mkca.sh" "$STS/ca" >/dev/null
	$PY "$ROOT/tests/sts/stsutil.py" bastion-state "$STS/state.json" \
		arn:aws:iam::111122223333:role/bastion-app-readonly \
		arn:aws:iam::111122223333:role/bastion-pii-rds-snapshot
	eval "$("$ROOT/tests/sts/stsctl.sh" start "$STS" --state "$STS/state.json" --lifetime 600 "$@")"
	AWS_SECTION=", \"aws\": { \"region\": \"us-east-1\", \"sts_endpoint\": \"$STS_URL\", \"ca_file\": \"$STS_CA\",
   \"timeout_seconds\": ${STS_TIMEOUT:-2}, \"credentials\": { \"source\": \"imds\", \"imds_endpoint\": \"$IMDS_URL\", \"cache_dir\": \"$T/run/cache\" } }"
	export AWS_SECTION
}
# sts_ctl sts|imds JSON: set faults (curl: python start-up is slow).
sts_ctl() {
	case $1 in
	sts) curl -sf --max-time 10 --cacert "$STS_CA" --data-binary "$2" "$STS_URL/_control" >/dev/null ;;
	imds) curl -sf --max-time 10 --data-binary "$2" "$IMDS_URL/_control" >/dev/null ;;
	esac || echo "# sts_ctl $1 $2 failed"
}

# sts_stop_bg DIR: stop an endpoint pair in the background (faults_cleanup waits).
sts_stop_bg() { "$ROOT/tests/sts/stsctl.sh" stop "$1" >/dev/null 2>&1 & }
