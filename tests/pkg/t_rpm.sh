#!/bin/bash
# tests/pkg/t_rpm.sh - the RPM spec for RHEL-family hosts.
#
# With Debian's rpm package: `rpmspec --parse`, then a real `rpmbuild -bb`
# of packaging/rpm/iamgate.spec from a tarball of the tree (--nodeps: the
# BuildRequires name RHEL packages, which Debian's empty rpm database cannot
# know), and its file list - paths, modes, owners - compared with the .deb's
# (`dpkg-deb -c`), allowing only the differences the two distributions
# require.  rpmbuild itself fails on a file installed but not in %files.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

SPEC=packaging/rpm/iamgate.spec
if ! command -v rpmspec >/dev/null || ! command -v rpmbuild >/dev/null; then
	t_ok "rpm checks skipped: rpmspec/rpmbuild missing (apt-get install rpm) # SKIP"
	t_done
	exit
fi
W=$(mktemp -d "$BUILD/t-rpm.XXXXXX")
chmod 0755 "$W"
trap '[ -n "${IG_KEEP:-}" ] || rm -rf "$W"' EXIT

# ---------------------------------------------------------------- parse
if parsed=$(rpmspec --parse "$SPEC" 2>&1); then
	t_ok "rpmspec --parse $SPEC"
else
	t_fail "rpmspec --parse" "$parsed"
fi
# section NAME: the body of %NAME in the parsed spec.
section() { awk -v s="%$1" '$1 ~ /^%[a-z]+$/ {on = ($1 == s); next} on' <<<"$parsed"; }
if section pre | grep -q 'getent group iamgate-audit' && section pre | grep -q 'groupadd -r iamgate-audit'; then
	t_ok "%pre creates the system group iamgate-audit when missing"
else
	t_fail "%pre" "$(section pre)"
fi
if section post | grep -q 'systemd-tmpfiles --create /usr/lib/tmpfiles.d/iamgate.conf'; then
	t_ok "%post creates /run/iamgate through tmpfiles.d"
else
	t_fail "%post" "$(section post)"
fi
# The long-lived helper's unit: enabled per the system's preset on install,
# stopped and disabled on erase, restarted on upgrade.
for sec in post preun postun; do
	if section "$sec" | grep -q 'systemctl.*iamgate-helper\.service'; then
		t_ok "%$sec handles iamgate-helper.service"
	else
		t_fail "%$sec lacks iamgate-helper.service" "$(section "$sec")"
	fi
done
# The metadata lockdown: loaded by %post and enabled on a fresh install (not
# left to RHEL's preset, which disables services), stopped, disabled and
# unloaded on erase, restarted (the rule reloaded) on upgrade.
if section post | grep -q '/usr/sbin/nft -f /etc/iamgate/iamgate-imds.nft' &&
	section post | grep -q 'systemctl --no-reload enable iamgate-imds-lockdown\.service' &&
	section preun | grep -q 'systemctl.*iamgate-imds-lockdown\.service' &&
	section postun | grep -q 'systemctl.*iamgate-imds-lockdown\.service' &&
	section postun | grep -q 'nft delete table inet iamgate_imds'; then
	t_ok "%post loads the metadata lockdown and enables its unit; erase unloads it"
else
	t_fail "lockdown in the scriptlets" "$(section post; section preun; section postun)"
fi
if rpmspec -q --requires "$SPEC" 2>/dev/null | grep -qx 'nftables'; then
	t_ok "the RPM requires nftables"
else
	t_fail "Requires: nftables" "$(rpmspec -q --requires "$SPEC" 2>&1)"
fi
rpmver=$(rpmspec -q --srpm --qf '%{version}' "$SPEC" 2>/dev/null)
debver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ -n "$rpmver" ] && [ "$rpmver" = "${debver%%-*}" ]; then
	t_ok "the spec and debian/changelog have the same version ($rpmver)"
else
	t_fail "versions differ: spec $rpmver, debian/changelog $debver"
fi

# ---------------------------------------------------------------- build
out=$(packaging/build-deb.sh --copy-to "$W" 2>&1)
DEB=$(printf '%s\n' "$out" | tail -n 1)
if [ ! -f "$DEB" ]; then
	t_fail "the .deb to compare with (packaging/build-deb.sh)" "$(printf '%s\n' "$out" | tail -n 20)"
	t_done
	exit 1
fi
mkdir -p "$W/rpm/SOURCES"
tar -C "$ROOT" --transform "s,^,iamgate-$rpmver/," -czf "$W/rpm/SOURCES/iamgate-$rpmver.tar.gz" \
	-T "$W/source-files.txt"
if rpmbuild -bb --nodeps --define "_topdir $W/rpm" --define 'debug_package %{nil}' \
	--define '_build_id_links none' "$SPEC" >"$W/rpmbuild.log" 2>&1; then
	t_ok "rpmbuild -bb builds the spec (every installed file is in %files)"
else
	t_fail "rpmbuild -bb" "$(tail -n 30 "$W/rpmbuild.log")"
	t_done
	exit 1
fi
RPM=$(ls "$W"/rpm/RPMS/*/iamgate-"$rpmver"-*.rpm)

# --------------------------------------------------------------- compare
# Both lists as "PERMS OWNER/GROUP PATH", no leading ./ or /, no trailing /.
dpkg-deb -c "$DEB" | awk '{p = $6; sub(/^\.\//, "", p); sub(/\/$/, "", p); if (p != "") print $1, $2, p}' >"$W/deb.all"
rpm -qp --nosignature --qf '[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILENAMES}\n]' "$RPM" |
	sed 's, /, ,' >"$W/rpm.all"

# Modes and owners the distributions set differently, checked one by one.
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
want() {
	if grep -qxF -- "$2" "$W/$1.all"; then t_ok "$1 has: $2"; else t_fail "$1 lacks: $2" "$(grep -F "${2##* }" "$W/$1.all")"; fi
}
want deb "-rw-r--r-- root/root lib/$MA/security/pam_iamgate.so"
want rpm "-rwxr-xr-x root/root usr/lib64/security/pam_iamgate.so"
want deb "drwxr-x--- root/root var/log/iamgate"
want rpm "drwxr-x--- root/iamgate-audit var/log/iamgate"
want rpm "-rw------- root/root etc/iamgate/iamgate.json"
want deb "-rw-r--r-- root/root lib/systemd/system/iamgate-helper.service"
want rpm "-rw-r--r-- root/root usr/lib/systemd/system/iamgate-helper.service"
want deb "-rw-r--r-- root/root lib/systemd/system/iamgate-imds-lockdown.service"
want rpm "-rw-r--r-- root/root usr/lib/systemd/system/iamgate-imds-lockdown.service"
want rpm "-rw-r--r-- root/root etc/iamgate/iamgate-imds.nft"
cfg=$(rpm -qp --nosignature --qf '[%{FILEFLAGS:fflags}|%{FILENAMES}\n]' "$RPM" |
	awk -F'|' '$1 ~ /c/ && $1 ~ /n/ {print $2}' | sort | tr '\n' ' ')
if [ "$cfg" = "/etc/iamgate/iamgate-imds.nft /etc/iamgate/iamgate.json /etc/logrotate.d/iamgate " ]; then
	t_ok "%config(noreplace): the configuration, the metadata lockdown rule and the logrotate file"
else
	t_fail "%config(noreplace) files: $cfg"
fi

# normalize: the module's place and mode (per distribution, checked above),
# the systemd unit directory (/lib on Debian 12, %{_unitdir} on RHEL),
# the audit group (deb: set by the postinst), gzip (Debian compresses docs
# over 4 KiB and both compress man pages, rpm's brp-compress only on RHEL),
# and what only Debian packages carry (copyright, changelog, lintian
# overrides).  Directories count when they are the package's own.
normalize() {
	sed -e "s,^[^ ]* root/root \(lib/$MA\|usr/lib64\)/security/pam_iamgate.so$,MODULE PAMDIR/pam_iamgate.so," \
		-e 's# \(usr/\)\{0,1\}lib/systemd/system/\([^/]*\)$# UNITDIR/\2#' \
		-e 's,^\(drwxr-x---\) root/iamgate-audit var/log/iamgate$,\1 root/root var/log/iamgate,' \
		-e 's,\.gz$,,' |
		grep -vE ' usr/share/doc/iamgate/(copyright|changelog)$| usr/share/lintian(/|$)' |
		awk '$1 !~ /^d/ || $3 ~ /iamgate/' | LC_ALL=C sort
}
normalize <"$W/deb.all" >"$W/deb.norm"
normalize <"$W/rpm.all" >"$W/rpm.norm"
n=$(wc -l <"$W/deb.norm")
if d=$(diff "$W/deb.norm" "$W/rpm.norm"); then
	t_ok "the RPM and the .deb ship the same $n files and directories, modes and owners"
else
	t_fail "file lists differ (< deb, > rpm)" "$d"
fi
# The comparison must notice a difference: drop one line from a copy.
sed '1d' "$W/rpm.norm" >"$W/rpm.cut"
if ! diff -q "$W/deb.norm" "$W/rpm.cut" >/dev/null; then t_ok "the list comparison detects a missing file"; else t_fail "the list comparison is blind"; fi
if [ "$n" -ge 15 ] && grep -q ' etc/iamgate/iamgate.json$' "$W/deb.norm" && grep -q 'PAMDIR/pam_iamgate.so$' "$W/rpm.norm"; then
	t_ok "the compared lists hold the programs and the configuration ($n entries)"
else
	t_fail "the compared lists look empty" "$(cat "$W/deb.norm")"
fi

t_done
