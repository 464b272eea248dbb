#!/bin/bash
# tests/deps.sh - install (as root, only when missing) every Debian package the
# build, the tests, the demo and the benchmarks need.  Safe to run repeatedly.
set -euo pipefail

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev clang-format valgrind strace
	libpam0g-dev liboath-dev libcurl4-openssl-dev libssl-dev libjansson-dev
	libxml2-dev libqrencode-dev libcmocka-dev
	libpam-wrapper pamtester oathtool libpam-oath libpam-google-authenticator
	openssh-server openssh-client awscli python3 python3-botocore openssl curl
	jq procps util-linux passwd logrotate nftables iproute2
	debhelper dpkg-dev fakeroot lintian rpm
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "iamgate: missing packages: ${missing[*]}" >&2
	echo "iamgate: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "iamgate: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
