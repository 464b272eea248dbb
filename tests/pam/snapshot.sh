#!/bin/bash
# tests/pam/snapshot.sh OUTDIR [STS_URL CA_FILE] - run by pam_exec (type=open_session) right
# after pam_iamgate's open_session inside a pamtester run, to capture what
# the session got while it exists: the PAM environment, the credential files'
# owners and modes, and what the AWS CLI (as the user) says with them.
out=$1
SNAP_STS_URL=${2:-}
SNAP_CA=${3:-}
mkdir -p "$out"
env | grep -E '^(AWS_|IAMGATE_)' | sort >"$out/env"
if [ -n "${AWS_SHARED_CREDENTIALS_FILE:-}" ]; then
	d=$(dirname "$AWS_SHARED_CREDENTIALS_FILE")
	stat -c '%n %U %a' "$d" "$d/credentials" "$d/config" >"$out/stat" 2>&1
	sed -n 's/^\[\(.*\)\]$/\1/p' "$AWS_SHARED_CREDENTIALS_FILE" >"$out/profiles"
	if [ -n "${SNAP_STS_URL:-}" ]; then
		while read -r prof; do
			runuser -u "$PAM_USER" -- env HOME=/nonexistent \
				AWS_SHARED_CREDENTIALS_FILE="$AWS_SHARED_CREDENTIALS_FILE" \
				AWS_CONFIG_FILE="$AWS_CONFIG_FILE" AWS_REGION="$AWS_REGION" \
				AWS_CA_BUNDLE="$SNAP_CA" AWS_EC2_METADATA_DISABLED=true \
				/usr/bin/aws sts get-caller-identity --profile "$prof" \
				--endpoint-url "$SNAP_STS_URL" --output json >"$out/whoami.$prof" 2>&1
		done <"$out/profiles"
	fi
fi
exit 0
