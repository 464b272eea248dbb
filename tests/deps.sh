#!/bin/bash
# tests/deps.sh - install (as root, only when missing) every Debian package the
# build, the tests, the demo and the benchmarks need, and dynalite (npm, the
# test DynamoDB) pinned by tests/sts/dynalite/package-lock.json into
# $IG_TEST_NODE_DIR (/opt/iamgate-test/dynalite), nothing global.  Safe to
# run repeatedly.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=${IG_TEST_NODE_DIR:-/opt/iamgate-test/dynalite}

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev clang-format valgrind strace
	libpam0g-dev liboath-dev libcurl4-openssl-dev libssl-dev libjansson-dev
	libxml2-dev libqrencode-dev libcmocka-dev
	libpam-wrapper pamtester oathtool libpam-oath libpam-google-authenticator
	openssh-server openssh-client awscli python3 python3-botocore python3-cryptography openssl curl
	jq procps util-linux passwd logrotate nftables iproute2
	debhelper dpkg-dev fakeroot lintian rpm
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# Node from Debian unless a node and npm are there already (another
# packaging of Node conflicts with Debian's npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	missing+=(nodejs npm)
fi

# dynalite: `npm ci` from the committed lock file into NODE_DIR when the
# lock changed (stamp = its sha256); optional native modules left out
# (dynalite then keeps its tables in memory, all the tests need).
install_dynalite() {
	local want have
	want=$(sha256sum "$HERE/sts/dynalite/package-lock.json" | cut -d' ' -f1)
	have=$(cat "$NODE_DIR/.lock-sha256" 2>/dev/null || true)
	if [ "$want" = "$have" ] && [ -f "$NODE_DIR/node_modules/dynalite/index.js" ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "iamgate: dynalite missing in $NODE_DIR; run tests/deps.sh as root" >&2
		return 1
	fi
	echo "iamgate: installing dynalite into $NODE_DIR"
	mkdir -p "$NODE_DIR"
	cp "$HERE/sts/dynalite/package.json" "$HERE/sts/dynalite/package-lock.json" "$NODE_DIR/"
	(cd "$NODE_DIR" && npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
	echo "$want" >"$NODE_DIR/.lock-sha256"
}

if [ ${#missing[@]} -eq 0 ]; then
	install_dynalite
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
install_dynalite
