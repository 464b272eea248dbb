#!/bin/sh
# packaging/install-files.sh DESTDIR [UNITDIR] - install every file iamgate
# ships besides the programs (the module, iamgate-helper, iamgate-issuer and
# iamgate: `make install` or the RPM's %install put those where the
# distribution wants them): the example configuration, the metadata lockdown
# rule (iamgate-imds.nft), the tmpfiles.d entry, the logrotate file, the
# systemd units of the long-lived helper (iamgate-helper.service) and of the
# lockdown (iamgate-imds-lockdown.service), the man pages, the
# documentation and the state and log directories.
#
# UNITDIR is where systemd units go: /lib/systemd/system by default (Debian
# 12, where lintian wants them), %{_unitdir} (/usr/lib/systemd/system) for
# the RPM.  Debian's dh_installsystemd finds the unit there and adds the
# enable/start maintainer-script snippets.
#
# One script serves debian/rules and the RPM spec, so both packages carry the
# same files with the same modes (tests/pkg/t_rpm.sh compares them).  Modes
# are set here; the Debian build re-applies the private ones after
# dh_fixperms, which would widen them.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
	echo "usage: $0 DESTDIR [UNITDIR]" >&2
	exit 2
fi
D=$1
UNITDIR=${2:-/lib/systemd/system}
case $UNITDIR in
/*) ;;
*)
	echo "$0: UNITDIR must be an absolute path: $UNITDIR" >&2
	exit 2
	;;
esac
S=$(cd "$(dirname "$0")/.." && pwd)
DOC=$D/usr/share/doc/iamgate

install -d -m 0755 "$D/etc/iamgate" "$D/etc/logrotate.d" "$D/usr/lib/tmpfiles.d" \
	"$D/usr/share/man/man5" "$D/usr/share/man/man8" "$DOC/examples" "$D/var/lib/iamgate" \
	"$D$UNITDIR"

# The configuration holds the allowlists and role ARNs: root only (0600).
install -m 0600 "$S/config/iamgate.json" "$D/etc/iamgate/iamgate.json"
# The metadata lockdown rule: no secret in it, and an admin may extend it
# (a local agent's uid), hence a configuration file.
install -m 0644 "$S/packaging/nftables/iamgate-imds.nft" "$D/etc/iamgate/iamgate-imds.nft"
install -m 0644 "$S/packaging/logrotate/iamgate" "$D/etc/logrotate.d/iamgate"
install -m 0644 "$S/packaging/tmpfiles/iamgate.conf" "$D/usr/lib/tmpfiles.d/iamgate.conf"
# Not started by this script: the package's maintainer scripts enable and
# start it where systemd runs (and do nothing where it does not).
install -m 0644 "$S/packaging/systemd/iamgate-helper.service" "$D$UNITDIR/iamgate-helper.service"
# The audit log's sealing timer: enabled by the administrator after
# `iamgate audit seal-init` (iamgate(8), SEALING).
install -m 0644 "$S/packaging/systemd/iamgate-audit-seal.service" \
	"$S/packaging/systemd/iamgate-audit-seal.timer" "$D$UNITDIR/"
install -m 0644 "$S/packaging/systemd/iamgate-imds-lockdown.service" \
	"$D$UNITDIR/iamgate-imds-lockdown.service"
install -m 0644 "$S/packaging/man/pam_iamgate.8" "$S/packaging/man/iamgate.8" \
	"$D/usr/share/man/man8/"
install -m 0644 "$S/packaging/man/iamgate.json.5" "$D/usr/share/man/man5/"

# TOTP secrets: root only.  The audit log directory: root writes, the
# auditors' group (iamgate-audit, set by the postinst / %files) reads.
install -d -m 0700 "$D/var/lib/iamgate/totp"
install -d -m 0750 "$D/var/log/iamgate"

# Documentation: the README when the tree has one, and everything under
# config/ (the annotated configuration, PAM and sshd snippets, IAM policy
# examples) as examples.
if [ -f "$S/README.md" ]; then
	install -m 0644 "$S/README.md" "$DOC/README.md"
fi
(cd "$S/config" && find . -mindepth 1 -type d | LC_ALL=C sort) | while IFS= read -r d; do
	install -d -m 0755 "$DOC/examples/$d"
done
(cd "$S/config" && find . -type f | LC_ALL=C sort) | while IFS= read -r f; do
	install -m 0644 "$S/config/$f" "$DOC/examples/$f"
done
