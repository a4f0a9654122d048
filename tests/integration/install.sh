#!/bin/sh
# install.sh - "make install" puts every file where the shipped ones expect it
#
# TAP; run by make check. Configures and builds two scratch copies of the
# source in $T: one the way a distribution does (--prefix=/usr
# --sysconfdir=/etc --localstatedir=/var), one under /opt/ebb-test, and
# installs each with DESTDIR. Checks that every path the installed systemd
# unit and cron files name is there (ebb's own under DESTDIR, the system's
# on this host), that the compiled-in defaults and the installed
# documentation name this build's paths, that a second install keeps an
# edited ebb.conf and that uninstall leaves nothing else. No root needed;
# nothing is written outside $T.
. "$(dirname "$0")/lib.sh"

require_cmd make sed grep
tap_plan 17

# the parent make's flags (jobserver, DESTDIR in distcheck) stay out
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR

# build DIR CONFIGURE-ARGS... - configure and build the source in DIR
build() {
	_dir=$1
	shift
	mkdir -p "$_dir" && (cd "$_dir" &&
	    "$top_srcdir/configure" -q "$@" >configure.out 2>&1 &&
	    make -j"$(nproc 2>/dev/null || echo 2)" >make.out 2>&1)
}

# minstall DIR DESTDIR - make install; its output in DIR/install.out
minstall() {
	make -C "$1" install DESTDIR="$2" >"$1/install.out" 2>&1
}

# referenced FILE... - the absolute paths the unit or cron files name
referenced() {
	sed -n -e 's/^#.*//' -e "s/[;=|&']/ /g" -e 'p' "$@" |
	    tr ' \t' '\n\n' | grep '^/' | sed 's/[>].*//' | sort -u
}

# where_expected DESTDIR FILE... - each referenced path that is ebb's is in
# DESTDIR, every other one (/bin/kill, logger, Postfix's queue) is on this
# host; prints those missing
where_expected() {
	_root=$1
	shift
	referenced "$@" | while read -r _p; do
		case $_p in
		/dev/null|/run/*) ;;	# made at run time
		*ebb*)	[ -e "$_root$_p" ] || echo "missing in DESTDIR: $_p" ;;
		*)	[ -e "$_p" ] || echo "missing on this host: $_p" ;;
		esac
	done
}

R=$T/root
if build "$T/usr" --prefix=/usr --sysconfdir=/etc --localstatedir=/var &&
    minstall "$T/usr" "$R"; then
	ok "distribution layout: configure, make, make install DESTDIR"
else
	not_ok "distribution layout: configure, make, make install DESTDIR" \
	    "$(tail -20 "$T/usr/configure.out" "$T/usr/make.out" \
	    "$T/usr/install.out" 2>/dev/null)"
	bail_out "the build failed"
fi

unit=$R/usr/lib/systemd/system/ebbd.service
is "$(cd "$R" && find . -type f | sort | tr '\n' ' ')" \
    "./etc/cron.d/ebb-drain ./etc/cron.d/ebb-failsafe ./etc/ebb/ebb.conf \
./usr/bin/ebb-lab ./usr/bin/ebb-labhost ./usr/bin/ebbctl \
./usr/lib/systemd/system/ebb-failsafe.service \
./usr/lib/systemd/system/ebb-failsafe.timer \
./usr/lib/systemd/system/ebbd.service ./usr/sbin/ebbd \
./usr/share/doc/ebb/ebb.conf.sample ./usr/share/man/man1/ebb-lab.1 \
./usr/share/man/man1/ebb-labhost.1 ./usr/share/man/man5/ebb.conf.5 \
./usr/share/man/man8/ebbctl.8 ./usr/share/man/man8/ebbd.8 " \
    "the files installed"
if [ -d "$R/var/lib/ebb" ] &&
    [ "$(stat -c %a "$R/var/lib/ebb")" = 750 ]; then
	ok "the state directory /var/lib/ebb, mode 0750"
else
	not_ok "the state directory /var/lib/ebb, mode 0750" \
	    "$(ls -ld "$R/var/lib/ebb" 2>&1)"
fi

is "$(grep '^Exec' "$unit" | tr '\n' ' ')" \
    "ExecStartPre=/usr/sbin/ebbd -n ExecStart=/usr/sbin/ebbd -f \
ExecReload=/bin/kill -HUP \$MAINPID " "the unit runs /usr/sbin/ebbd"
missing=$(where_expected "$R" "$unit" "$R/etc/cron.d/ebb-drain" \
    "$R/etc/cron.d/ebb-failsafe" \
    "$R/usr/lib/systemd/system/ebb-failsafe.service")
if [ -z "$missing" ] && referenced "$unit" | grep -qx /var/lib/ebb &&
    sed 's/^#//' "$R/etc/cron.d/ebb-drain" | referenced - |
    grep -qx /usr/bin/ebbctl; then
	ok "every path the unit and the cron files name exists"
else
	not_ok "every path the unit and the cron files name exists" \
	    "$missing" "$(referenced "$unit" "$R/etc/cron.d/ebb-drain")"
fi
is "$(grep -c '^[^#]' "$R/etc/cron.d/ebb-drain")" 0 \
    "ebb-drain is installed off: a drain parks mail only when asked"

# the compiled-in defaults: /etc/ebb/ebb.conf and /var/lib/ebb
is "$("$R/usr/bin/ebbctl" -c /dev/null config -d | grep '^state_directory')" \
    "state_directory = /var/lib/ebb" "ebbctl's default state directory"
if grep -qa '/etc/ebb/ebb\.conf' "$R/usr/bin/ebbctl" &&
    grep -qa '/etc/ebb/ebb\.conf' "$R/usr/sbin/ebbd"; then
	ok "ebbd and ebbctl read /etc/ebb/ebb.conf by default"
else
	not_ok "ebbd and ebbctl read /etc/ebb/ebb.conf by default"
fi
# the installed ebb.conf is the sample: every key at its default
is "$("$R/usr/bin/ebbctl" -c "$R/etc/ebb/ebb.conf" config -n)" "" \
    "the installed ebb.conf sets nothing: all defaults"

# a second install keeps the administrator's ebb.conf
echo "# edited by the administrator" >>"$R/etc/ebb/ebb.conf"
cp "$R/etc/ebb/ebb.conf" "$T/edited.conf"
if minstall "$T/usr" "$R" && cmp -s "$T/edited.conf" "$R/etc/ebb/ebb.conf" &&
    grep -q 'ebb.conf exists: not replaced' "$T/usr/install.out"; then
	ok "a second install keeps an edited ebb.conf, and says so"
else
	not_ok "a second install keeps an edited ebb.conf, and says so" \
	    "$(diff "$T/edited.conf" "$R/etc/ebb/ebb.conf")" \
	    "$(cat "$T/usr/install.out")"
fi

# uninstall leaves the edited ebb.conf and nothing else
make -C "$T/usr" uninstall DESTDIR="$R" >"$T/usr/uninstall.out" 2>&1
is "$(cd "$R" && find . -type f | sort | tr '\n' ' ')" "./etc/ebb/ebb.conf " \
    "uninstall leaves only the edited ebb.conf"

# another layout: every path follows configure
O=/opt/ebb-test
R2=$T/root2
if build "$T/opt" --prefix=$O --sysconfdir=$O/etc --localstatedir=$O/var &&
    minstall "$T/opt" "$R2"; then
	ok "/opt layout: configure, make, make install DESTDIR"
else
	not_ok "/opt layout: configure, make, make install DESTDIR" \
	    "$(tail -20 "$T/opt/make.out" "$T/opt/install.out" 2>/dev/null)"
	bail_out "the build failed"
fi
unit=$R2$O/lib/systemd/system/ebbd.service
missing=$(where_expected "$R2" "$unit" "$R2$O/etc/cron.d/ebb-failsafe")
if [ -z "$missing" ] && grep -qx "ExecStart=$O/sbin/ebbd -f" "$unit" &&
    referenced "$unit" | grep -qx "$O/var/lib/ebb" &&
    grep -q "$O/bin/ebbctl failsafe" "$R2$O/etc/cron.d/ebb-failsafe"; then
	ok "/opt layout: the unit and cron files name $O's paths"
else
	not_ok "/opt layout: the unit and cron files name $O's paths" \
	    "$missing" "$(grep -v '^#' "$unit")"
fi
is "$("$R2$O/bin/ebbctl" -c /dev/null config -d | grep '^state_directory')" \
    "state_directory = $O/var/lib/ebb" \
    "/opt layout: the default state directory"
if grep -qa "$O/etc/ebb/ebb\\.conf" "$R2$O/bin/ebbctl"; then
	ok "/opt layout: the default ebb.conf is $O/etc/ebb/ebb.conf"
else
	not_ok "/opt layout: the default ebb.conf is $O/etc/ebb/ebb.conf"
fi
man=$R2$O/share/man
# no /etc/ebb or /var/lib/ebb left once this build's are taken out
bad=$(for f in "$man"/man*/* "$R2$O/etc/ebb/ebb.conf"; do
	sed -e "s|$O/etc/ebb||g" -e "s|$O/var/lib/ebb||g" "$f" |
	    grep -n -e '/etc/ebb\b' -e '/var/lib/ebb\b' | sed "s|^|$f:|"
done)
if [ -z "$bad" ] &&
    grep -q "^\\.Pa $O/etc/ebb/ebb\\.conf" "$man/man8/ebbd.8" &&
    grep -q "^#state_directory = $O/var/lib/ebb\$" "$R2$O/etc/ebb/ebb.conf"
then
	ok "/opt layout: the man pages and ebb.conf name $O's paths"
else
	not_ok "/opt layout: the man pages and ebb.conf name $O's paths" "$bad"
fi
if command -v mandoc >/dev/null 2>&1; then
	check "/opt layout: the installed man pages are mandoc -Tlint clean" \
	    mandoc -Tlint -Wwarning "$man"/man*/*
else
	skip "/opt layout: the installed man pages are mandoc -Tlint clean" \
	    "mandoc is not installed"
fi
