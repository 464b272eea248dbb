#!/bin/bash
# tests/pkg/t_deb.sh - the Debian package, end to end.
#
# Builds it (or reuses an up-to-date one: packaging/build-deb.sh), checks the
# file list with modes and owners and the conffiles, runs lintian (no error
# or warning that is not overridden, no stale override), then installs it on
# this machine with a real `dpkg -i` (CI runs as root on a throwaway host),
# checks what the postinst made, logs in through the INSTALLED module with
# pamtester under pam_wrapper - no helper= option, so the helper path
# compiled into the package is what runs - and purges it.  The purge also
# runs from the EXIT trap, so a failure leaves nothing installed.
#
# Runs of this suite from several checkouts serialize on a machine-wide
# lock.  The install part is skipped (never forced) when the host already has
# iamgate files this suite did not put there.
source "$(dirname "$0")/../lib.sh"
ig_wait_boot_floor
cd "$ROOT" || exit 1

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
MODULE_PATH=/lib/$MA/security/pam_iamgate.so
HELPER_PATH=/usr/libexec/iamgate/iamgate-helper
ISSUER_PATH=/usr/libexec/iamgate/iamgate-issuer
CLI_PATH=/usr/sbin/iamgate
UNIT_PATH=/lib/systemd/system/iamgate-helper.service
UNIT_LINK=/etc/systemd/system/multi-user.target.wants/iamgate-helper.service
LOCK_UNIT=/lib/systemd/system/iamgate-imds-lockdown.service
LOCK_LINK=/etc/systemd/system/sysinit.target.wants/iamgate-imds-lockdown.service
NFT_PATH=/etc/iamgate/iamgate-imds.nft
LOCK=/run/lock/iamgate-t_deb.lock
MARK=/run/lock/iamgate-t_deb.installed

# ---------------------------------------------------------------- build
# Our own copy of the package and of the list of files it was built from: a
# concurrent `make deb` may replace build/deb/ meanwhile.
W=$(mktemp -d "$BUILD/t-deb.XXXXXX")
chmod 0755 "$W"
trap 'rm -rf "$W"' EXIT
out=$(packaging/build-deb.sh --copy-to "$W" 2>&1)
rc=$?
DEB=$(printf '%s\n' "$out" | tail -n 1)
if [ $rc -eq 0 ] && [ -f "$DEB" ]; then
	t_ok "make deb: $(basename "$DEB")"
else
	t_fail "make deb (packaging/build-deb.sh)" "$(printf '%s\n' "$out" | tail -n 30)"
	t_done
	exit 1
fi

# ------------------------------------------------------------- contents
LIST=$(dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}')

# has MODE OWNER PATH: the package holds PATH with exactly this mode/owner.
has() {
	if grep -qxF -- "$1 $2 ./$3" <<<"$LIST"; then
		t_ok "ships $3 ($1 $2)"
	else
		t_fail "ships $3 as $1 $2" "$(grep -F "./$3" <<<"$LIST" || echo "not in the package")"
	fi
}
has -rw-r--r-- root/root "${MODULE_PATH#/}"
has -rwxr-xr-x root/root "${HELPER_PATH#/}"
has -rwxr-xr-x root/root "${ISSUER_PATH#/}"
has -rwxr-xr-x root/root "${CLI_PATH#/}"
has -rw------- root/root etc/iamgate/iamgate.json
has -rw-r--r-- root/root "${NFT_PATH#/}"
has -rw-r--r-- root/root "${LOCK_UNIT#/}"
has -rw-r--r-- root/root etc/logrotate.d/iamgate
has -rw-r--r-- root/root usr/lib/tmpfiles.d/iamgate.conf
has -rw-r--r-- root/root "${UNIT_PATH#/}"
has drwx------ root/root var/lib/iamgate/totp/
has drwxr-x--- root/root var/log/iamgate/
has -rw-r--r-- root/root usr/share/man/man8/pam_iamgate.8.gz
has -rw-r--r-- root/root usr/share/man/man8/iamgate.8.gz
has -rw-r--r-- root/root usr/share/man/man5/iamgate.json.5.gz
has -rw-r--r-- root/root usr/share/doc/iamgate/examples/iamgate.json
has -rw-r--r-- root/root usr/share/doc/iamgate/copyright
if grep -qx README.md "$W/source-files.txt"; then
	# dh_compress gzips documents over 4 KiB (Debian policy 12.3).
	readme=usr/share/doc/iamgate/README.md
	grep -qxF -- "-rw-r--r-- root/root ./$readme.gz" <<<"$LIST" && readme=$readme.gz
	has -rw-r--r-- root/root "$readme"
fi
absent=$(sed -n 's,^config/,,p' "$W/source-files.txt" | while IFS= read -r f; do
	grep -qxF -- "-rw-r--r-- root/root ./usr/share/doc/iamgate/examples/$f" <<<"$LIST" || echo "$f"
done)
if [ -z "$absent" ]; then t_ok "every file under config/ is in /usr/share/doc/iamgate/examples"; else t_fail "config files missing from the examples" "$absent"; fi

bad=$(grep -E '^.{3}[sS]|^.{6}[sS]' <<<"$LIST")
if [ -z "$bad" ]; then t_ok "nothing setuid or setgid (the helper runs as root because sshd's PAM does)"; else t_fail "setuid/setgid files" "$bad"; fi
bad=$(grep -E '^.{5}w|^.{8}w' <<<"$LIST")
if [ -z "$bad" ]; then t_ok "nothing group- or world-writable"; else t_fail "writable by group/other" "$bad"; fi
bad=$(grep -E ' \./(run|var/run|etc/pam\.d|etc/ssh)/' <<<"$LIST")
if [ -z "$bad" ]; then t_ok "no file in /run, /etc/pam.d or /etc/ssh: the package changes no PAM stack"; else t_fail "files in /run or the PAM/sshd configuration" "$bad"; fi
bad=$(awk '$2 != "root/root"' <<<"$LIST")
if [ -z "$bad" ]; then t_ok "every file is root/root in the archive (the audit group comes from the postinst)"; else t_fail "non-root owners" "$bad"; fi

conffiles=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles 2>/dev/null | sort | tr '\n' ' ')
if [ "$conffiles" = "/etc/iamgate/iamgate-imds.nft /etc/iamgate/iamgate.json /etc/logrotate.d/iamgate " ]; then
	t_ok "conffiles: the configuration, the metadata lockdown rule and the logrotate file"
else
	t_fail "conffiles are: $conffiles"
fi
x=$W/extracted
dpkg-deb -x "$DEB" "$x"
if strings "$x/$MODULE_PATH" | grep -qxF "$HELPER_PATH" && strings "$x/$MODULE_PATH" | grep -qxF /etc/iamgate/iamgate.json; then
	t_ok "the module has $HELPER_PATH and /etc/iamgate/iamgate.json compiled in"
else
	t_fail "the module's compiled-in paths" "$(strings "$x/$MODULE_PATH" | grep -E '^/(usr|etc)/' )"
fi
exports=$(nm -D --defined-only "$x/$MODULE_PATH" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred " ]; then
	t_ok "the packaged module exports only pam_sm_*"
else
	t_fail "packaged module exports: $exports"
fi
for prog in "$HELPER_PATH" "$ISSUER_PATH"; do
	hard=$(readelf -d "$x/$prog" 2>/dev/null | grep -c 'BIND_NOW\|FLAGS_1.*NOW')
	pie=$(readelf -h "$x/$prog" 2>/dev/null | grep -c 'DYN')
	if [ "$hard" -ge 1 ] && [ "$pie" -eq 1 ] && readelf -lW "$x/$prog" | grep -q GNU_RELRO &&
		nm -D "$x/$prog" | grep -q '__stack_chk_fail' && nm -D "$x/$prog" | grep -q '_chk@'; then
		t_ok "the packaged $(basename "$prog") keeps the hardening (PIE, relro, now, stack protector, fortify)"
	else
		t_fail "packaged $(basename "$prog") hardening" "bindnow=$hard pie=$pie"
	fi
done
# The helper runs on every auth call: it must not load libcurl or libxml2
# (open_session's iamgate-issuer does).
needed=$(readelf -d "$x/$HELPER_PATH" 2>/dev/null | grep NEEDED)
if [ -n "$needed" ] && ! grep -qE 'libcurl|libxml2' <<<"$needed"; then
	t_ok "the packaged helper needs neither libcurl nor libxml2"
else
	t_fail "packaged helper's libraries" "$needed"
fi
# The long-lived helper's unit, as serve-spec.md has it.  systemd-analyze
# verify runs on the installed unit below (it needs the programs and man
# pages it names in place).
unit=$x/$UNIT_PATH
bad=""
for l in "Type=simple" "ExecStart=$HELPER_PATH --serve /run/iamgate/helper.sock" "Restart=on-failure" \
	"After=systemd-tmpfiles-setup.service" "WantedBy=multi-user.target" "NoNewPrivileges=yes" \
	"PrivateTmp=yes" "ProtectSystem=full" "LimitCORE=0" "UMask=0077"; do
	grep -qxF -- "$l" "$unit" 2>/dev/null || bad="$bad [$l]"
done
# What would break the helper: another user, a capability or network limit,
# a RuntimeDirectory= (stopping would delete /run/iamgate and the sessions).
bad="$bad$(grep -E '^(User|Group|DynamicUser|CapabilityBoundingSet|AmbientCapabilities|PrivateNetwork|IPAddressDeny|RestrictAddressFamilies|RuntimeDirectory|ProtectSystem=strict|ProtectHome=(yes|tmpfs)|ReadOnlyPaths|InaccessiblePaths)' "$unit" 2>/dev/null | sed 's/^/ forbidden:/')"
if [ -f "$unit" ] && [ -z "$bad" ]; then
	t_ok "the unit runs '$HELPER_PATH --serve /run/iamgate/helper.sock', hardened without limits that break the helper"
else
	t_fail "iamgate-helper.service" "missing or wrong:$bad"
fi
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit" 2>/dev/null)
if [ "$exe" = "$HELPER_PATH" ] && [ -x "$x/$exe" ] && [ -f "$x/$exe" ]; then
	t_ok "the unit's ExecStart program is in the package"
else
	t_fail "ExecStart program $exe not in the package"
fi
# The tmpfiles entry gives the socket's directory a mode the helper accepts
# (root, not writable by group or others).
if grep -qE '^d[[:space:]]+/run/iamgate[[:space:]]+07[05]{2}[[:space:]]+root[[:space:]]+root' "$x/usr/lib/tmpfiles.d/iamgate.conf"; then
	t_ok "tmpfiles.d makes /run/iamgate root-owned and not group/other-writable"
else
	t_fail "/run/iamgate in tmpfiles.d" "$(grep /run/iamgate "$x/usr/lib/tmpfiles.d/iamgate.conf")"
fi
# The metadata lockdown: the rule as in the tree, loaded by a oneshot unit
# early at boot (before the network and the helper; again after
# nftables.service, whose flush removes every table) that never unloads it.
lunit=$x/$LOCK_UNIT
bad=""
for l in "Type=oneshot" "RemainAfterExit=yes" "ExecStart=/usr/sbin/nft -f $NFT_PATH" \
	"DefaultDependencies=no" "Before=network-pre.target iamgate-helper.service shutdown.target" \
	"After=nftables.service" "PartOf=nftables.service" "ReloadPropagatedFrom=nftables.service" \
	"WantedBy=sysinit.target"; do
	grep -qxF -- "$l" "$lunit" 2>/dev/null || bad="$bad [$l]"
done
grep -q '^ExecStop' "$lunit" 2>/dev/null && bad="$bad ExecStop"
grep -qxF "After=iamgate-imds-lockdown.service" "$unit" && grep -qxF "Wants=iamgate-imds-lockdown.service" "$unit" || bad="$bad helper-not-after-lockdown"
if [ -f "$lunit" ] && [ -z "$bad" ] && cmp -s "$x/$NFT_PATH" packaging/nftables/iamgate-imds.nft; then
	t_ok "iamgate-imds-lockdown.service loads $NFT_PATH (as in packaging/nftables) early, before the helper, never unloads it"
else
	t_fail "iamgate-imds-lockdown.service / $NFT_PATH" "missing or wrong:$bad"
fi
if dpkg-deb -f "$DEB" Depends | tr ',' '\n' | grep -qx ' *nftables'; then
	t_ok "the package depends on nftables"
else
	t_fail "Depends: nftables" "$(dpkg-deb -f "$DEB" Depends)"
fi
rm -rf "$x"
# The maintainer scripts enable the unit and start it only where systemd
# runs: without it (a container, a chroot) the install must not fail.
ctl=$W/control
mkdir -p "$ctl"
dpkg-deb -e "$DEB" "$ctl"
if grep -q 'deb-systemd-helper.*enable.*iamgate-helper\.service' "$ctl/postinst" &&
	grep -q 'if \[ -d /run/systemd/system \]' "$ctl/postinst" &&
	grep -q 'deb-systemd-invoke.*iamgate-helper\.service' "$ctl/postinst" &&
	grep -q 'deb-systemd-helper purge.*iamgate-helper\.service' "$ctl/postrm" &&
	grep -q 'deb-systemd-invoke stop.*iamgate-helper\.service' "$ctl/prerm"; then
	t_ok "postinst enables iamgate-helper.service and starts it only under a running systemd; prerm stops it, postrm purges it"
else
	t_fail "systemd snippets in the maintainer scripts" "$(grep -h iamgate-helper "$ctl"/postinst "$ctl"/prerm "$ctl"/postrm 2>/dev/null)"
fi
if grep -q 'deb-systemd-helper.*enable.*iamgate-imds-lockdown\.service' "$ctl/postinst" &&
	grep -q "nft -f $NFT_PATH" "$ctl/postinst" &&
	grep -q 'nft delete table inet iamgate_imds' "$ctl/postrm"; then
	t_ok "postinst loads the lockdown now and enables its unit; postrm's purge unloads it"
else
	t_fail "lockdown in the maintainer scripts" "$(grep -hn 'nft\|imds-lockdown' "$ctl"/postinst "$ctl"/postrm 2>/dev/null)"
fi
rm -rf "$ctl"

# -------------------------------------------------------------- lintian
lint=$(lintian --fail-on error,warning --display-info --pedantic "$DEB" 2>&1)
rc=$?
bad=$(grep -E '^[EW]: |unused-override|mismatched-override' <<<"$lint")
if [ $rc -eq 0 ] && [ -z "$bad" ]; then
	t_ok "lintian: no errors or warnings beyond the documented overrides"
else
	t_fail "lintian (rc $rc)" "$lint"
fi
info=$(grep -E '^[IPX]: ' <<<"$lint")
[ -n "$info" ] && printf '# lintian info: %s\n' "$info"
# Every override says why, in a comment right above it.
uncommented=$(awk '!/^#/ && NF && prev !~ /^#/ {print} {prev=$0}' packaging/debian/iamgate.lintian-overrides)
if [ -z "$uncommented" ]; then t_ok "every lintian override has a comment saying why"; else t_fail "overrides without a reason" "$uncommented"; fi

# ---------------------------------------------------- install and login
if [ "$(id -u)" -ne 0 ]; then
	t_ok "install tests skipped: not root # SKIP"
	t_done
	exit
fi
exec 8>"$LOCK"
if ! flock -w 600 8; then
	t_fail "another run holds $LOCK for more than 10 minutes"
	t_done
	exit 1
fi

installed() { dpkg-query -W -f='${Status}' iamgate 2>/dev/null | grep -q 'install ok installed'; }
# present: dpkg knows iamgate in any state (also half-configured or only its
# configuration files left).
present() { dpkg-query -W -f='${db:Status-Status}\n' iamgate 2>/dev/null | grep -qv '^not-installed$'; }
if present && [ -f "$MARK" ]; then
	dpkg --purge iamgate >/dev/null 2>&1 # left over by a killed run of this suite
fi
foreign=""
present && foreign="the iamgate package"
for p in /etc/iamgate /var/lib/iamgate /var/log/iamgate /usr/libexec/iamgate "$MODULE_PATH" "$CLI_PATH" "$UNIT_PATH" "$LOCK_UNIT"; do
	[ -e "$p" ] && foreign="$foreign $p"
done
nft list table inet iamgate_imds >/dev/null 2>&1 && foreign="$foreign (nftables table inet iamgate_imds)"
if [ -n "$foreign" ]; then
	# A real installation: never overwrite or purge it.
	t_ok "install tests skipped: this host already has$foreign # SKIP"
	t_done
	exit
fi

P=igk$(printf '%x' $((($$ + RANDOM) % 65536)))
T=$W
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
CONFIG=$T/etc/iamgate.json
AUDIT=$T/log/audit.jsonl
SERVICE=iamgate-pkg
PAMWRAP=/usr/lib/$MA/libpam_wrapper.so
getent group iamgate-audit >/dev/null && audit_group_existed=1 || audit_group_existed=0
sshd_pam_before=$(sha256sum /etc/pam.d/sshd 2>/dev/null)

spid=""
cleanup() {
	# A serve-mode helper this suite started (and its workers).
	if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null && wait "$spid" 2>/dev/null; fi
	if present; then dpkg --purge iamgate >/dev/null 2>&1; fi
	rm -f "$MARK"
	userdel "${P}u" >/dev/null 2>&1
	groupdel "${P}g" >/dev/null 2>&1
	# The package keeps iamgate-audit on purge (by design); this suite
	# leaves the host as it found it.
	[ "$audit_group_existed" = 0 ] && groupdel iamgate-audit >/dev/null 2>&1
	rm -rf "$T"
	return 0
}
trap cleanup EXIT
# A killed run still purges (SIGKILL cannot be caught: the next run purges
# what the marker file says it left).
trap 'exit 130' INT TERM HUP

# dpkg -i, retried while another dpkg/apt holds the dpkg lock.
touch "$MARK"
for _ in $(seq 1 30); do
	DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >"$T/dpkg.log" 2>&1 && break
	grep -qi 'lock' "$T/dpkg.log" || break
	sleep 2
done
if installed; then
	t_ok "dpkg -i installs the package"
else
	t_fail "dpkg -i" "$(tail -n 20 "$T/dpkg.log")"
	t_done
	exit 1
fi

# is PATH OWNER:GROUP MODE (octal)
is() {
	local got
	got=$(stat -c '%U:%G %a' "$1" 2>&1)
	if [ "$got" = "$2 $3" ]; then t_ok "installed $1 is $2 $3"; else t_fail "installed $1 is $2 $3" "got: $got"; fi
}
is "$MODULE_PATH" root:root 644
is "$HELPER_PATH" root:root 755
is "$ISSUER_PATH" root:root 755
is "$CLI_PATH" root:root 755
is /etc/iamgate/iamgate.json root:root 600
is /var/lib/iamgate/totp root:root 700
is /var/log/iamgate root:iamgate-audit 750
is /run/iamgate root:root 755
is /run/iamgate/sessions root:root 711
is /run/iamgate/grants root:root 700
is /run/iamgate/cache root:root 700
is "$UNIT_PATH" root:root 644
is "$LOCK_UNIT" root:root 644
is "$NFT_PATH" root:root 644
# Loaded now, in this host's ruleset (it only refuses other users' packets
# to the metadata addresses, which no test sends), and enabled for boot.
loaded=$(nft list table inet iamgate_imds 2>&1)
if grep -q 'ip daddr 169.254.169.254 meta skuid != 0 meta l4proto tcp reject with tcp reset' <<<"$loaded" &&
	grep -q 'ip6 daddr fd00:ec2::254 meta skuid != 0 meta l4proto tcp reject with tcp reset' <<<"$loaded"; then
	t_ok "the postinst loaded the metadata lockdown (table inet iamgate_imds)"
else
	t_fail "lockdown loaded by the postinst" "$loaded $(tail -5 "$T/dpkg.log")"
fi
if [ -L "$LOCK_LINK" ] && [ "$(readlink -f "$LOCK_LINK")" = "$(readlink -f "$LOCK_UNIT")" ]; then
	t_ok "the package enables iamgate-imds-lockdown.service (sysinit.target.wants)"
else
	t_fail "iamgate-imds-lockdown.service enabled" "$(ls -l "$LOCK_LINK" 2>&1)"
fi
# Enabled as Debian does with services; started only where systemd runs
# (this suite's host may have none: then the install must still succeed).
if [ -L "$UNIT_LINK" ] && [ "$(readlink -f "$UNIT_LINK")" = "$(readlink -f "$UNIT_PATH")" ]; then
	t_ok "the package enables iamgate-helper.service (multi-user.target.wants)"
else
	t_fail "iamgate-helper.service enabled" "$(ls -l "$UNIT_LINK" 2>&1)"
fi
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify "$UNIT_PATH" "$LOCK_UNIT" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		t_ok "systemd-analyze verify accepts the installed units (ExecStart, man pages, keys)"
	else
		t_fail "systemd-analyze verify $UNIT_PATH $LOCK_UNIT" "$out"
	fi
	# The check must notice a bad unit: an unknown key and a missing program.
	sed -e 's,^ExecStart=/usr/libexec/iamgate/,ExecStart=/usr/libexec/iamgate/no-such-,' -e '/^\[Service\]/a NoSuchKey=1' \
		"$UNIT_PATH" >"$T/iamgate-helper.service"
	out=$(systemd-analyze verify "$T/iamgate-helper.service" 2>&1)
	if [ $? -ne 0 ] || [ -n "$out" ]; then
		t_ok "systemd-analyze verify notices a broken copy of the unit"
	else
		t_fail "systemd-analyze verify accepts a broken unit"
	fi
	rm -f "$T/iamgate-helper.service"
else
	# No systemd-analyze: the unit's program and its key lines were
	# checked in the package above; check the installed program is there.
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT_PATH")
	if [ -f "$exe" ] && [ -x "$exe" ] && grep -qx '\[Service\]' "$UNIT_PATH" && grep -qx '\[Install\]' "$UNIT_PATH"; then
		t_ok "the installed unit has [Service] and [Install] and its ExecStart program is installed (no systemd-analyze)"
	else
		t_fail "installed unit" "ExecStart=$exe"
	fi
fi
if getent group iamgate-audit | grep -q . && [ "$(getent group iamgate-audit | cut -d: -f3)" -lt 1000 ]; then
	t_ok "postinst created the system group iamgate-audit"
else
	t_fail "group iamgate-audit" "$(getent group iamgate-audit)"
fi
if dpkg-statoverride --list /var/log/iamgate | grep -qx 'root iamgate-audit 750 /var/log/iamgate'; then
	t_ok "the log directory's group is a dpkg-statoverride (kept on upgrades)"
else
	t_fail "statoverride" "$(dpkg-statoverride --list /var/log/iamgate)"
fi
if [ "$(sha256sum /etc/pam.d/sshd 2>/dev/null)" = "$sshd_pam_before" ] && ! dpkg -L iamgate | grep -q '^/etc/pam.d'; then
	t_ok "installing leaves /etc/pam.d/sshd alone"
else
	t_fail "the package touched the PAM configuration"
fi
# The loader resolves every configured group to its gid: the example's
# groups exist for this check (those made here are removed again).
made=()
for g in $(jq -r '.groups | keys[] | select(startswith("#") | not)' /etc/iamgate/iamgate.json); do
	getent group "$g" >/dev/null || { groupadd "$g" && made+=("$g"); }
done
out=$("$CLI_PATH" check --no-probe 2>&1)
for g in "${made[@]}"; do groupdel "$g" 2>/dev/null; done
if [ $? -eq 0 ] && grep -q '^/etc/iamgate/iamgate.json: configuration OK' <<<"$out"; then
	t_ok "iamgate check accepts the installed example configuration"
else
	t_fail "iamgate check on the installed configuration" "$out"
fi
bad=""
for page in pam_iamgate.8 iamgate.8 iamgate.json.5; do
	f=$(man -w "${page%.*}" "${page##*.}" 2>/dev/null)
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null)
	case $f in /usr/share/man/*/$page.gz) ;; *) bad="$bad $page:not-found($f)" ;; esac
	[ -n "$w" ] && bad="$bad $page:$w"
done
if [ -z "$bad" ]; then t_ok "man finds the installed pages and renders them without warnings"; else t_fail "installed man pages" "$bad"; fi

# A login through the installed module: a test user in a mapped group,
# enrolled with the installed CLI, a config of our own (config= option), and
# no helper= option.
groupadd "${P}g"
useradd -M -N -g "${P}g" -s /bin/sh "${P}u"
mkdir -p "$T/etc" "$T/log" "$T/run" "$T/pam.d"
chmod 0755 "$T/etc" "$T/log" "$T/run"
cat >"$CONFIG" <<JSON
{
  "allowlists": { "loopback": ["127.0.0.0/8"] },
  "groups": { "${P}g": { "allow_from": ["loopback"], "roles": [] } },
  "roles": {},
  "totp": { "state_dir": "$T/state", "window": 1, "max_failures": 5 },
  "audit": { "path": "$AUDIT", "syslog": false },
  "session": { "dir": "$T/run/sessions", "grant_dir": "$T/run/grants" }
}
JSON
chmod 0600 "$CONFIG"
# auth by bare name (found where libpam looks: the package's multiarch
# security directory), account by the installed absolute path.
cat >"$T/pam.d/$SERVICE" <<PAM
auth     required pam_iamgate.so config=$CONFIG
account  required $MODULE_PATH config=$CONFIG
PAM
if printf '%s\n' "$SECRET" | "$CLI_PATH" enroll --config "$CONFIG" --import-base32 - --no-verify "${P}u" >/dev/null 2>&1; then
	t_ok "the installed iamgate enrolls a test user"
else
	t_fail "iamgate enroll with the installed CLI"
fi

# pt USER CODE OP: pamtester through pam_wrapper; output in OUT, status in RC.
pt() {
	OUT=$(printf '%s\n' "$2" | env LD_PRELOAD="$PAMWRAP" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam.d" pamtester -v -I rhost=127.0.0.1 "$SERVICE" "$1" "$3" 2>&1)
	RC=$?
}
# audit_is KEY VALUE...: the last audit line has these values.
audit_is() {
	local line k
	line=$(tail -n 1 "$AUDIT" 2>/dev/null)
	while [ $# -ge 2 ]; do
		k=$(jq -r --arg k "$1" '.[$k] // "null"' <<<"$line" 2>/dev/null)
		if [ "$k" != "$2" ]; then
			echo "# audit $1 is $k, not $2: $line"
			return 1
		fi
		shift 2
	done
}

# A wrong code: none of the codes the window accepts right now.
now=$(date +%s)
valid=" $(oathtool --totp -b "$SECRET" -N "@$((now - 30))") $(oathtool --totp -b "$SECRET" -N "@$now") $(oathtool --totp -b "$SECRET" -N "@$((now + 30))") "
wrong=000000
while [[ $valid == *" $wrong "* ]]; do wrong=$(printf '%06d' $((10#$wrong + 1))); done
pt "${P}u" "$wrong" authenticate
if [ $RC -ne 0 ] && grep -q 'Authentication failure' <<<"$OUT" && audit_is event auth decision deny reason bad_code user "${P}u" service "$SERVICE"; then
	t_ok "installed module, wrong code: PAM_AUTH_ERR, audited deny bad_code"
else
	t_fail "wrong code through the installed module" "rc=$RC out=$OUT"
fi

code=$(oathtool --totp -b "$SECRET")
pt "${P}u" "$code" authenticate
if [ $RC -eq 0 ] && grep -q 'successfully authenticated' <<<"$OUT" && audit_is event auth decision allow reason ok user "${P}u" rhost 127.0.0.1 service "$SERVICE"; then
	t_ok "installed module, right code: success via the compiled-in helper, audited allow"
else
	t_fail "right code through the installed module" "rc=$RC out=$OUT audit=$(tail -n 1 "$AUDIT" 2>/dev/null)"
fi
case $OUT in *"Verification code"*) t_ok "the installed module asks for the verification code" ;; *) t_fail "prompt" "$OUT" ;; esac

pt "${P}u" "$code" authenticate
if [ $RC -ne 0 ] && audit_is event auth decision deny reason replayed_code; then
	t_ok "installed module, same code again: denied as replay"
else
	t_fail "replay through the installed module" "rc=$RC out=$OUT"
fi
pt "${P}u" "" acct_mgmt
if [ $RC -eq 0 ] && audit_is event account decision allow; then
	t_ok "installed module, account: mapped group from an allowed address"
else
	t_fail "account through the installed module" "rc=$RC out=$OUT"
fi
if "$CLI_PATH" audit verify --log "$AUDIT" >/dev/null 2>&1; then
	t_ok "the installed iamgate verifies the audit chain"
else
	t_fail "iamgate audit verify" "$("$CLI_PATH" audit verify --log "$AUDIT" 2>&1)"
fi

# ------------------------------------------- the long-lived helper (serve)
# What iamgate-helper.service runs, by hand (no systemd here): the installed
# helper serving a socket of our own, and the installed module asking it
# (socket=).  Then the fallback once it stopped, and fail-closed on a socket
# in a directory others may write.
if grep -qa -- '--serve' "$HELPER_PATH"; then
	SOCKDIR=$T/sock
	SOCK=$SOCKDIR/helper.sock
	mkdir -m 0755 "$SOCKDIR"
	# --requests 1: the worker that answers exits, which shows it was one.
	"$HELPER_PATH" --serve "$SOCK" --workers 2 --requests 1 --config "$CONFIG" </dev/null >"$T/serve.log" 2>&1 &
	spid=$!
	for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
	workers() { pgrep -P "$spid" | sort | tr '\n' ' '; }
	for _ in $(seq 1 50); do [ "$(wc -w <<<"$(workers)")" -eq 2 ] && break; sleep 0.1; done
	before=$(workers)
	if [ -S "$SOCK" ] && [ "$(stat -c '%U %a' "$SOCK")" = "root 600" ] && [ "$(wc -w <<<"$before")" -eq 2 ]; then
		t_ok "the installed helper serves $SOCK (root 0600) with 2 workers"
	else
		t_fail "installed iamgate-helper --serve" "socket: $(stat -c '%U %a %F' "$SOCK" 2>&1) workers: $before log: $(cat "$T/serve.log")"
	fi
	cat >"$T/pam.d/$SERVICE-sock" <<PAM
auth     required pam_iamgate.so config=$CONFIG socket=$SOCK
account  required $MODULE_PATH config=$CONFIG socket=$SOCK
PAM
	# A code of the next time step (the window accepts it; this one's
	# step was used above).
	code=$(oathtool --totp -b "$SECRET" -N "@$(($(date +%s) + 30))")
	SERVICE0=$SERVICE
	SERVICE=$SERVICE-sock
	pt "${P}u" "$code" authenticate
	# The worker that answered exits; the service forks a replacement.
	for _ in $(seq 1 50); do [ "$(workers)" != "$before" ] && break; sleep 0.1; done
	after=$(workers)
	if [ $RC -eq 0 ] && audit_is event auth decision allow service "$SERVICE" && [ -n "$before" ] && [ "$after" != "$before" ]; then
		t_ok "installed module with socket=: auth allowed by a serve-mode worker (workers $before-> $after)"
	else
		t_fail "auth through the socket" "rc=$RC out=$OUT workers $before-> $after audit=$(tail -n 1 "$AUDIT")"
	fi
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	src=$?
	spid=""
	if [ $src -eq 0 ] && [ ! -e "$SOCK" ]; then
		t_ok "SIGTERM: the serving helper removes its socket and exits 0"
	else
		t_fail "serve-mode stop" "exit $src, socket: $(ls -l "$SOCK" 2>&1)"
	fi
	pt "${P}u" "" acct_mgmt
	if [ $RC -eq 0 ] && audit_is event account decision allow service "$SERVICE"; then
		t_ok "socket= with nothing serving: the module executes the helper (account allowed)"
	else
		t_fail "fallback to the exec" "rc=$RC out=$OUT"
	fi
	# A socket file in a directory others may write: refused, no fallback.
	chmod 0777 "$SOCKDIR"
	/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$SOCK"
	n0=$(wc -l <"$AUDIT")
	pt "${P}u" "" acct_mgmt
	if [ $RC -ne 0 ] && [ "$(wc -l <"$AUDIT")" -eq "$n0" ]; then
		t_ok "socket= in a world-writable directory: account fails closed, no helper ran"
	else
		t_fail "untrusted socket" "rc=$RC out=$OUT audit lines $n0 -> $(wc -l <"$AUDIT")"
	fi
	SERVICE=$SERVICE0
	rm -rf "$SOCKDIR"
else
	t_ok "serve-mode tests skipped: the packaged helper has no --serve # SKIP"
fi

# ---------------------------------------------------------------- purge
DEBIAN_FRONTEND=noninteractive dpkg --purge iamgate >"$T/purge.log" 2>&1
left=""
for p in "$MODULE_PATH" "$HELPER_PATH" "$ISSUER_PATH" "$CLI_PATH" /etc/iamgate /etc/logrotate.d/iamgate \
	/usr/lib/tmpfiles.d/iamgate.conf /var/lib/iamgate /var/log/iamgate /run/iamgate "$UNIT_PATH" "$UNIT_LINK" \
	"$LOCK_UNIT" "$LOCK_LINK" \
	/usr/share/man/man8/pam_iamgate.8.gz; do
	{ [ -e "$p" ] || [ -L "$p" ]; } && left="$left $p"
done
dpkg-statoverride --list /var/log/iamgate >/dev/null 2>&1 && left="$left statoverride"
nft list table inet iamgate_imds >/dev/null 2>&1 && left="$left nftables:inet/iamgate_imds"
if ! present && [ -z "$left" ]; then
	t_ok "dpkg --purge removes the package, its configuration, state, statoverride and lockdown table"
else
	t_fail "purge left:$left" "$(tail -n 10 "$T/purge.log")"
fi

t_done
