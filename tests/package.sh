#!/bin/sh
# package.sh - build ebb's Debian package, install it, run ebbd as its unit
# does, remove it cleanly
#
#   tests/package.sh BUILDDIR
#
# Makes the release tarball in BUILDDIR (make dist: the package is built from
# what a release ships), builds the .deb with dpkg-buildpackage -us -uc -b,
# runs lintian on it (no error, no warning), installs it with apt, points
# /etc/ebb/ebb.conf at a private Postfix with a small deferred backlog, runs
# the unit's ExecStartPre and ExecStart lines (with systemctl when systemd is
# PID 1, by hand otherwise) and sees ebbd park the backlog and answer
# "ebbctl status"; then removes the package (its prerm gives the parked mail
# back) and purges it. TAP, then one "N passed, N failed" line.
#
# Root, and it changes this host: apt installs the build dependencies,
# debhelper and lintian when missing, and ebb itself for the length of the
# test (it refuses to run when ebb is installed already). Not part of make
# check: it takes a few minutes (.ci/run runs it).
set -u
builddir=${1:-}
[ -n "$builddir" ] && [ -f "$builddir/Makefile" ] || {
	echo "usage: tests/package.sh BUILDDIR (a configured build)" >&2
	exit 64
}
builddir=$(cd "$builddir" && pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$builddir
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"

require_root
PLAN=17
tap_plan $PLAN

# summary - the line .ci/run counts; a test never reached counts as failed
summary() {
	_missed=$((PLAN - tap_n))
	[ "$_missed" -gt 0 ] || _missed=0
	echo "$((tap_n - tap_failed)) passed, $((tap_failed + _missed)) failed"
}

# pkg_cleanup - on any exit: the package goes, whatever happened
pkg_cleanup() {
	if [ -n "${installed:-}" ] &&
	    dpkg-query -W -f='${Status}' ebb 2>/dev/null | grep -q installed
	then
		pkill_ebbd
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ebb \
		    >/dev/null 2>&1
	fi
}
# (exit N) hands the status on to lib.sh's cleanup, which exits with $?
trap '_prc=$?; pkg_cleanup; summary; (exit $_prc); cleanup' EXIT

# pkill_ebbd - stop the ebbd this test started, by its pid file
pkill_ebbd() {
	[ -f "$T/ebbd.pid" ] && bg_stop ebbd
	return 0
}

if dpkg-query -W -f='${Status}' ebb 2>/dev/null | grep -q 'ok installed'
then
	bail_out "ebb is installed on this host: not touching it"
fi

# the tools, then the tarball and the build dependencies
need=
for p in build-essential debhelper dh-autoreconf lintian devscripts \
    postfix; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	diag "installing:$need"
	apt-get update -qq >/dev/null 2>&1
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need \
	    >"$T/apt.out" 2>&1 || bail_out "apt-get install$need failed"
fi
make -s -C "$builddir" dist >"$T/dist.out" 2>&1 ||
    bail_out "make dist failed: $(tail -5 "$T/dist.out")"
tarball=$(ls "$builddir"/ebb-*.tar.gz | tail -1)
mkdir "$T/src"
tar -xzf "$tarball" -C "$T/src" || bail_out "cannot unpack $tarball"
src=$(ls -d "$T"/src/ebb-*)
if ! (cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" \
	    >"$T/apt.out" 2>&1 || bail_out "apt-get build-dep failed"
fi

# 1-3: the package builds from the release tarball, lintian-clean
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$T/build.out" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds it from $(basename "$tarball")"
else
	not_ok "dpkg-buildpackage -us -uc -b builds it" \
	    "$(tail -20 "$T/build.out")"
	bail_out "no package"
fi
deb=$(ls "$T"/src/ebb_*.deb | grep -v dbgsym)
check "the package is named ebb_VERSION_ARCH.deb" test -f "$deb"
lintian --pedantic --display-info "$T"/src/ebb_*.changes >"$T/lintian.out" 2>&1
if ! grep -q '^[EW]: ' "$T/lintian.out"; then
	ok "lintian: no error, no warning"
else
	not_ok "lintian: no error, no warning" "$(grep '^[EW]: ' "$T/lintian.out")"
fi

# 4-7: apt installs it; the user, the state directory, the conffiles
installed=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" \
    >"$T/install.out" 2>&1; then
	ok "apt-get install ./$(basename "$deb")"
else
	not_ok "apt-get install ./$(basename "$deb")" "$(tail -10 "$T/install.out")"
	bail_out "not installed"
fi
uid=$(id -u ebb 2>/dev/null || echo none)
if [ "$uid" != none ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ]; then
	ok "postinst made the system user ebb"
else
	not_ok "postinst made the system user ebb" "uid $uid"
fi
is "$(stat -c '%U %a' /var/lib/ebb 2>&1)" "root 750" \
    "postinst made /var/lib/ebb, root's, mode 0750"
is "$(dpkg-query -W -f='${Conffiles}\n' ebb | awk 'NF { print $1 }' | sort |
    tr '\n' ' ')" "/etc/cron.d/ebb-drain /etc/cron.d/ebb-failsafe \
/etc/ebb/ebb.conf " "the cron files and ebb.conf are conffiles"

# ebb.conf as an admin edits it: this test's Postfix, a fake /proc
pf_create
pf_start || bail_out "postfix did not start"
pf_submit 3 || bail_out "smtp-source failed"
pf_wait_count 3 60 deferred || bail_out "no deferred backlog"
# a loaded host (load 2.4 per CPU, p = 1.2): ebbd parks the backlog and
# holds it, so what it parked is there to see and to give back
fake_proc "$T/root"
echo "9.60 5.00 2.00 12/120 4242" >"$T/root/proc/loadavg"
sed -i -e "s|^#config_directory = /etc/postfix\$|config_directory = $PF_CONF|" \
    -e "s|^#proc_root = /\$|proc_root = $T/root|" \
    -e "s|^#sys_root = /\$|sys_root = $T/root|" /etc/ebb/ebb.conf

# 8-11: the unit's own command lines
unit=/lib/systemd/system/ebbd.service
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
is "$pre | $start" "/usr/sbin/ebbd -n | /usr/sbin/ebbd -f" \
    "the unit runs /usr/sbin/ebbd -n, then -f"
# shellcheck disable=SC2086	# the unit's line, split as systemd does
check "ExecStartPre ($pre) passes" $pre
if [ "$(ps -o comm= -p 1)" = systemd ]; then
	check "systemctl restart ebbd" systemctl restart ebbd
else
	# shellcheck disable=SC2086
	bg_start ebbd $start
	ok "ExecStart ($start) started by hand: systemd is not PID 1"
fi
if wait_for 20 /usr/bin/ebbctl status; then
	ok "ebbd runs: ebbctl status answers"
else
	not_ok "ebbd runs: ebbctl status answers" \
	    "$(tail -10 "$T/ebbd.out" 2>/dev/null)"
fi
parked() {	# parked - how many messages ebbctl list marks ~
	/usr/bin/ebbctl list 2>/dev/null | grep -c '^[0-9A-Za-z]\+~'
}
if wait_for 20 sh -c '[ "$(/usr/bin/ebbctl list | grep -c "^[0-9A-Za-z]\+~")" -ge 1 ]'
then
	ok "ebbd parks the backlog ($(parked) parked by ebb)"
else
	not_ok "ebbd parks the backlog" "$(/usr/bin/ebbctl list 2>&1)"
fi

# 12-13: remove: the prerm gives the parked mail back, ebbd is gone
if DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq ebb \
    >"$T/remove.out" 2>&1; then
	ok "apt-get remove ebb"
else
	not_ok "apt-get remove ebb" "$(tail -10 "$T/remove.out")"
fi
# the installed ebbd only: other ebbd may run on this host (test suites)
wait_for 10 sh -c '! pgrep -f "^/usr/sbin/ebbd " >/dev/null' || true
is "$(pf_count hold) $(pgrep -f '^/usr/sbin/ebbd ' | wc -l)" "0 0" \
    "after remove: nothing left on hold, no ebbd of the package running"

# 14-16: purge leaves nothing of ebb but its user
check "apt-get purge ebb" env DEBIAN_FRONTEND=noninteractive \
    apt-get purge -y -qq ebb
left=$(ls -d /etc/ebb /var/lib/ebb /etc/cron.d/ebb-* /usr/sbin/ebbd \
    /usr/bin/ebbctl /lib/systemd/system/ebbd.service 2>/dev/null)
is "$left" "" "after purge: no file of ebb's left"
check "the user ebb stays (Debian keeps system users)" id ebb
installed=
[ "$tap_failed" -eq 0 ]
