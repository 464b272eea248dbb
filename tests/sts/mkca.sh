#!/bin/bash
# tests/sts/mkca.sh DIR - test PKI for the STS endpoint (EC P-256, openssl).
#
# Writes into DIR (created if missing):
#   ca.pem  ca.key                   the test CA (give ca.pem to clients)
#   server.pem  server.key           signed by ca.pem; SAN localhost, 127.0.0.1, ::1
#   other-ca.pem  other-ca.key       a second, independent CA
#   other-server.pem  other-server.key   signed by other-ca.pem, same SANs
#                                    ("certificate from another CA" fault)
#   wrongname-server.pem/.key        signed by ca.pem, SAN only wrong.example
#                                    (hostname mismatch fault)
#   expired-server.pem/.key          signed by ca.pem, valid 2020-01-01..02 only
# Idempotent: exits at once when every file exists and server.pem is valid
# for another day.  Quiet unless something fails.
set -eu
dir=${1:?usage: mkca.sh DIR}
# The directory stays 0755 so unprivileged test clients can read ca.pem;
# keys are 0600.
mkdir -p "$dir"
cd "$dir"
umask 077

all="ca.pem ca.key server.pem server.key other-ca.pem other-ca.key other-server.pem
other-server.key wrongname-server.pem wrongname-server.key expired-server.pem expired-server.key"
have=1
for f in $all; do [ -s "$f" ] || have=0; done
if [ $have = 1 ] && openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1; then
	exit 0
fi

tmp=$(mktemp -d "$PWD/.mkca.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

run() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; echo "mkca.sh: failed: $*" >&2; exit 1; }; }

newkey() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# mkca NAME CN
mkca() {
	newkey "$tmp/$1.key"
	run openssl req -new -x509 -key "$tmp/$1.key" -out "$tmp/$1.pem" -days 3650 -sha256 \
		-subj "/O=iamgate tests/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash"
}

# mkleaf NAME CA SAN [openssl-ca dates...]
mkleaf() {
	local name=$1 ca=$2 san=$3
	shift 3
	newkey "$tmp/$name.key"
	run openssl req -new -key "$tmp/$name.key" -out "$tmp/$name.csr" -subj "/O=iamgate tests/CN=$name"
	cat >"$tmp/$name.ext" <<-EOF
		basicConstraints=critical,CA:FALSE
		keyUsage=critical,digitalSignature
		extendedKeyUsage=serverAuth
		subjectKeyIdentifier=hash
		authorityKeyIdentifier=keyid
		subjectAltName=$san
	EOF
	if [ $# -eq 0 ]; then
		run openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$ca.pem" -CAkey "$tmp/$ca.key" \
			-CAcreateserial -CAserial "$tmp/$ca.srl" -days 825 -sha256 \
			-extfile "$tmp/$name.ext" -out "$tmp/$name.pem"
	else
		# openssl 3.0 "x509 -req" cannot back-date; "openssl ca" can.
		mkdir -p "$tmp/db"
		: >"$tmp/db/index.txt"
		echo 1000 >"$tmp/db/serial"
		cat >"$tmp/ca.cnf" <<-EOF
			[ca]
			default_ca = t
			[t]
			database = $tmp/db/index.txt
			serial = $tmp/db/serial
			new_certs_dir = $tmp/db
			default_md = sha256
			policy = p
			unique_subject = no
			copy_extensions = none
			[p]
			organizationName = optional
			commonName = supplied
		EOF
		run openssl ca -batch -config "$tmp/ca.cnf" -cert "$tmp/$ca.pem" -keyfile "$tmp/$ca.key" \
			-in "$tmp/$name.csr" -out "$tmp/$name.pem" -notext -extfile "$tmp/$name.ext" "$@"
	fi
}

SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
mkca ca "iamgate test CA"
mkca other-ca "iamgate OTHER test CA"
mkleaf server ca "$SAN"
mkleaf other-server other-ca "$SAN"
mkleaf wrongname-server ca "DNS:wrong.example"
mkleaf expired-server ca "$SAN" -startdate 20200101000000Z -enddate 20200102000000Z

for f in $all; do
	case $f in *.key) chmod 600 "$tmp/$f" ;; *) chmod 644 "$tmp/$f" ;; esac
	mv -f "$tmp/$f" "$f"
done
