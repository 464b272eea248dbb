#!/bin/bash
# tests/faults/t_issuer.sh - the helper split (tests/bench/RESULTS.md):
# iamgate-helper decides auth, account and close_session without libcurl or
# libxml2 and hands open_session to iamgate-issuer from its own directory.
# Checks: the helper does not link libcurl/libxml2 (the issuer does); with
# the issuer missing, not root-owned, group-writable or a symlink, the
# session fails closed (PAM session error, audit "open_session" deny
# "issuer_unavailable", no credentials issued, no AssumeRole made); the
# issuer refuses every phase but open_session; and, as the positive
# control, the same copied pair issues credentials normally.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/common.sh"
ISSUER=${ISSUER:-$BUILD/iamgate-issuer}
STS_TIMEOUT=4 sts_start
pam_setup
ARN_RO=arn:aws:iam::111122223333:role/bastion-app-readonly

# --- what the programs load ------------------------------------------------
needed() { readelf -d "$1" 2>/dev/null | grep NEEDED; }
n=$(needed "$HELPER")
if [ -n "$n" ] && ! grep -qE 'libcurl|libxml2' <<<"$n" && ! ldd "$HELPER" | grep -qE 'libcurl|libxml2'; then
	t_ok "iamgate-helper loads neither libcurl nor libxml2"
else
	t_fail "iamgate-helper libraries" "$(ldd "$HELPER")"
fi
if ldd "$ISSUER" | grep -q libcurl && ldd "$ISSUER" | grep -q libxml2; then
	t_ok "iamgate-issuer links libcurl and libxml2 (the check above can see them)"
else
	t_fail "iamgate-issuer libraries" "$(ldd "$ISSUER")"
fi

# --- the issuer refuses other phases ----------------------------------------
for ph in auth account close_session; do
	A0=$(acount)
	rq=$(jq -cn --arg c "$CONFIG" --arg u "${P}alice" --arg p "$ph" \
		'{v:1, phase:$p, config:$c, user:$u, rhost:"127.0.0.1", service:"iamgate", code:"000000"}')
	out=$(printf "%s" "$rq" | "$ISSUER" 2>&1)
	if [ "$(jq -r '.result + " " + .reason' <<<"$out" 2>/dev/null)" = "system_err bad_request" ] &&
		[ "$(acount)" -eq "$A0" ]; then
		t_ok "iamgate-issuer refuses phase $ph (bad_request, nothing audited)"
	else
		t_fail "iamgate-issuer phase $ph" "$out"
	fi
done

# --- pairs of programs in their own directories -----------------------------
# pair NAME: a root 0755 directory $T/NAME with copies of both programs.
pair() {
	mkdir -p "$T/$1"
	chmod 0755 "$T/$1"
	cp "$HELPER" "$T/$1/iamgate-helper"
	cp "$ISSUER" "$T/$1/iamgate-issuer"
	chmod 0755 "$T/$1/iamgate-helper" "$T/$1/iamgate-issuer"
}
# session DIR USER: auth + open_session + close_session through DIR's helper.
ev() { new_audit "$A0" | jq -c --arg e "$1" 'select(.event == $e)' | tail -n 1; }
session() {
	local u=$2 sec="SECRET_$2"
	HELPER="$T/$1/iamgate-helper" write_service timeout=10 debug
	A0=$(acount)
	N0=$(jq -s '[.[] | select(.action == "AssumeRole")] | length' "$STS_LOG" 2>/dev/null || echo 0)
	ptl 127.0.0.1 "${P}$u" "$(code_for "${!sec}")" authenticate open_session close_session
}
assumes_since() { echo $(($(jq -s '[.[] | select(.action == "AssumeRole")] | length' "$STS_LOG" 2>/dev/null || echo 0) - N0)); }

# fails_closed NAME: the last session was refused at open_session, audited.
fails_closed() {
	local why="" line
	[ "$RC" -ne 0 ] || why="pamtester succeeded"
	printf '%s\n' "$SEEN" | grep -qi "session" || why="$why; no session verdict: $SEEN"
	audit_has "$(ev auth)" decision allow >/dev/null || why="$why; auth not allowed: $(ev auth)"
	line=$(ev open_session)
	audit_has "$line" decision deny reason issuer_unavailable >/dev/null || why="$why; open_session: $line"
	[ -z "$(ev issue)" ] || why="$why; an issue line appeared"
	[ "$(assumes_since)" -eq 0 ] || why="$why; AssumeRole was called"
	[ "$(files_in "$T/run/sessions")" -eq 0 ] || why="$why; a session dir appeared"
	[ "$(files_in "$T/run/grants")" -eq 0 ] || why="$why; the grant was left behind"
	if [ -z "$why" ]; then t_ok "$1"; else t_fail "$1" "$why"; fi
}

extra_user u1
pair missing
rm -f "$T/missing/iamgate-issuer"
session missing u1
fails_closed "issuer missing: open_session fails closed, audited issuer_unavailable"

extra_user u2
pair notroot
chown 65534:65534 "$T/notroot/iamgate-issuer"
session notroot u2
fails_closed "issuer not root-owned: open_session fails closed, audited issuer_unavailable"

extra_user u3
pair gwfile
chmod 0775 "$T/gwfile/iamgate-issuer"
session gwfile u3
fails_closed "group-writable issuer: open_session fails closed"

extra_user u4
pair link
rm -f "$T/link/iamgate-issuer"
ln -s "$ISSUER" "$T/link/iamgate-issuer"
session link u4
fails_closed "issuer reached through a symlink: open_session fails closed"

extra_user u5
pair noexec
chmod 0644 "$T/noexec/iamgate-issuer"
session noexec u5
fails_closed "issuer not executable: open_session fails closed"

# --- positive control: the same kind of pair issues credentials -------------
extra_user u6
pair good
session good u6
why=""
[ "$RC" -eq 0 ] || why="pamtester failed: $SEEN"
audit_has "$(ev open_session)" decision allow reason ok >/dev/null || why="$why; open_session: $(ev open_session)"
audit_has "$(ev issue)" decision allow reason ok role app-readonly >/dev/null || why="$why; issue: $(ev issue)"
[ "$(assumes_since)" -eq 1 ] || why="$why; AssumeRole calls: $(assumes_since)"
audit_has "$(ev close_session)" decision allow reason credentials_removed >/dev/null || why="$why; close: $(ev close_session)"
[ "$(files_in "$T/run/sessions")" -eq 0 ] || why="$why; session dir left"
if [ -z "$why" ]; then t_ok "helper + issuer pair: credentials issued, audited, removed at close"; else t_fail "positive control" "$why"; fi

t_done
