#!/bin/sh
# config-check.sh - "ebbd -n -c FILE" and "ebbctl config" on real files
#
# TAP; run by make check with top_srcdir and top_builddir in the environment.
# Writes only under a mktemp -d directory (the source tree may be read-only).
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
ebbd=$top_builddir/ebbd
ebbctl=$top_builddir/ebbctl
data=$top_srcdir/tests/data/conf
sample=$top_srcdir/contrib/ebb.conf.sample
# the sample as make install writes it, with this build's paths
installed=$top_builddir/contrib/ebb.conf.installed

tmp=$(mktemp -d "${TMPDIR:-/tmp}/config-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.conf"

# "ebbd -n" checks what a start checks, this host included: the user ebb
# exists (made here when root, like the other tests do) and the Postfix
# instance answers postconf (a main.cf of its own here, so the host's
# /etc/postfix need not have one)
if ! id ebb >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin ebb >/dev/null 2>&1
fi
mkdir -p "$tmp/pf"
echo "queue_directory = $tmp/spool" >"$tmp/pf/main.cf"
host_ok=
if id ebb >/dev/null 2>&1 && command -v postconf >/dev/null 2>&1; then
	host_ok=1
fi
# here CONF - CONF with the Postfix instance above and a state directory,
# both in $tmp (the default one, under configure's --localstatedir, need
# not exist on a host where ebb was never installed)
here() {
	_out=$tmp/$(basename "$1")
	sed -e "s|^#*config_directory = /etc/postfix\$|config_directory = $tmp/pf|" \
	    -e "s|^#*state_directory = .*|state_directory = $tmp/state|" \
	    "$1" >"$_out"
	grep -q "^config_directory = $tmp/pf\$" "$_out" ||
	    printf '\n[postfix]\nconfig_directory = %s\n' "$tmp/pf" >>"$_out"
	grep -q "^state_directory = $tmp/state\$" "$_out" ||
	    printf '[general]\nstate_directory = %s\n' "$tmp/state" >>"$_out"
	echo "$_out"
}

n=0
echo "1..24"

# ok_if NAME CMD... - one test point: passes when CMD succeeds
ok_if() {
	name=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/why" 2>&1; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' "$tmp/why"
	fi
}

# run_rc WANT CMD... - CMD exits WANT; its stdout and stderr in $tmp/out
run_rc() {
	want=$1
	shift
	"$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "exit $rc, want $want: $*"
		cat "$tmp/out"
		return 1
	fi
}

# has TEXT - $tmp/out holds the line TEXT (a fixed string)
has() {
	grep -qxF -- "$1" "$tmp/out" || {
		echo "no line \"$1\" in:"
		cat "$tmp/out"
		return 1
	}
}

check_valid() {
	_c=$(here "$data/good.conf")
	run_rc 0 "$ebbd" -n -c "$_c" && has "$_c: configuration is valid"
}

check_bad_value() {
	run_rc 1 "$ebbd" -n -c "$data/bad-duration.conf" &&
	    has "ebbd: error: $data/bad-duration.conf:2: interval:"\
" \"soon\" is not a duration"
}

check_unknown_key() {
	run_rc 1 "$ebbd" -n -c "$data/unknown-key.conf" &&
	    has "ebbd: error: $data/unknown-key.conf:3: unknown key"\
" \"no_such_key\" in [general]"
}

check_missing_file() {
	run_rc 1 "$ebbd" -n -c "$tmp/no-such.conf" &&
	    has "ebbd: error: $tmp/no-such.conf: No such file or directory"
}

check_duplicate() {
	printf '[sensors]\ninterval = 2s\n\ninterval = 3s\n' >"$tmp/dup.conf"
	run_rc 1 "$ebbd" -n -c "$tmp/dup.conf" &&
	    has "ebbd: error: $tmp/dup.conf:4: interval: duplicate key,"\
" first set on line 2"
}

check_cross_key() {
	printf '[drain]\ntarget_high = 0.5\ntarget_low = 0.7\n' >"$tmp/x.conf"
	run_rc 1 "$ebbd" -n -c "$tmp/x.conf" &&
	    has "ebbd: error: $tmp/x.conf:3: target_low: must be below"\
" target_high (0.5)"
}

check_sample_valid() {
	_c=$(here "$sample")
	run_rc 0 "$ebbd" -n -c "$_c" && has "$_c: configuration is valid"
}

# the defaults ebbctl prints are the sample's keys, uncommented
check_defaults_match_sample() {
	run_rc 0 "$ebbctl" -c "$tmp/empty.conf" config -d &&
	    grep -v '^$' "$tmp/out" >"$tmp/defaults" &&
	    sed -n 's/^#\([a-z_]* =\)/\1/p; /^\[/p' "$installed" >"$tmp/sample" &&
	    diff -u "$tmp/sample" "$tmp/defaults"
}

check_defaults_valid() {
	run_rc 0 "$ebbctl" -c "$tmp/empty.conf" config -d &&
	    cp "$tmp/out" "$tmp/d/defaults.conf" &&
	    _c=$(here "$tmp/d/defaults.conf") &&
	    run_rc 0 "$ebbd" -n -c "$_c" &&
	    has "$_c: configuration is valid"
}

# check_refused LINES WANT... - "ebbd -n" on the valid file plus LINES
# (printf text) exits 1 with each WANT as a whole line of its output
# (":LINE:" in a WANT becomes the file's name and that line); the start
# makes the same checks, so it refuses the same (ebbd-perms.sh)
check_refused() {
	_c=$(here "$data/good.conf")
	# shellcheck disable=SC2059	# LINES is a format on purpose
	printf "$1" >>"$_c"
	shift
	run_rc 1 "$ebbd" -n -c "$_c" || return 1
	for _w in "$@"; do
		has "ebbd: error: $_c$_w" || return 1
	done
}

# the issue's three, and the rest that a start refused and -n did not
check_refused_user_root() {
	check_refused '[general]\nuser = root\n' \
	    ":28: user: \"root\" is root (uid 0): name an unprivileged user"\
" for ebbd's milter, control and HTTP process"
}

check_refused_long_socket() {
	_long=/run/$(printf '%0120d' 0).sock
	check_refused "[control]\nsocket = $_long\n" \
	    ":28: socket: 130 bytes, more than the 107 a unix socket path"\
" may have"
}

check_refused_milter_address() {
	_c=$(here "$data/good.conf")
	sed -i 's|^socket = inet:8891@127.0.0.1|socket = inet:3240@127.0.|' "$_c"
	run_rc 1 "$ebbd" -n -c "$_c" &&
	    has "ebbd: error: $_c:17: socket: \"127.0.\" is not an IPv4 address"
}

check_refused_group() {
	check_refused '[control]\ngroup = nosuchgroup42\n' \
	    ":28: group: \"nosuchgroup42\" does not exist"
}

check_refused_mta() {
	_c=$(here "$data/good.conf")
	sed -i 's/^mta = postfix.*/mta = sendmail/' "$_c"
	printf '[sendmail]\nconfig_file = %s/none.cf\n' "$tmp" >>"$_c"
	run_rc 1 "$ebbd" -n -c "$_c" &&
	    grep -q "^ebbd: error: $_c:[0-9]*: config_file: .*$tmp/none.cf: No such file or directory" "$tmp/out"
}

check_refused_postfix() {
	printf '[sensors]\ninterval = 2s\n' >"$tmp/nopf.conf"
	run_rc 1 "$ebbd" -n -c "$tmp/nopf.conf" &&
	    grep -q "^ebbd: error: $tmp/nopf.conf: \[postfix\] config_directory"\
" = /etc/postfix (the default): postconf -c /etc/postfix" "$tmp/out" ||
	    [ -f /etc/postfix/main.cf ]
}

# every error at once, each naming its own key
check_refused_all() {
	check_refused '[general]\nuser = root\n[control]\ngroup = nosuchgroup42\n' \
	    ":28: user: \"root\" is root (uid 0): name an unprivileged user"\
" for ebbd's milter, control and HTTP process" \
	    ":30: group: \"nosuchgroup42\" does not exist"
}

check_effective() {
	run_rc 0 "$ebbctl" -c "$data/good.conf" config &&
	    has "interval = 5s" && has "max_rate = 37.5" &&
	    has "queue_disk_free_min = 1g" && has "user = ebb"
}

# what ebbctl config prints reads back to the same configuration
check_round_trip() {
	"$ebbctl" -c "$data/full.conf" config >"$tmp/a.conf" &&
	    "$ebbctl" -c "$tmp/a.conf" config >"$tmp/b.conf" &&
	    diff -u "$tmp/a.conf" "$tmp/b.conf" &&
	    "$ebbctl" -c "$tmp/empty.conf" config -d >"$tmp/d.conf" &&
	    ! diff -q "$tmp/a.conf" "$tmp/d.conf" >/dev/null
}

check_changed() {
	run_rc 0 "$ebbctl" -c "$data/good.conf" config -n &&
	    printf '%s\n' "[sensors]" "interval = 5s" "" "[limits]" \
	    "psi_io = 75%" "queue_disk_free_min = 1g" "" "[drain]" \
	    "max_rate = 37.5" "" "[milter]" "remote_lifetime = 4d" "" "[http]" "listen = 127.0.0.1:8025" \
	    >"$tmp/want" &&
	    diff -u "$tmp/want" "$tmp/out"
}

check_json() {
	run_rc 0 "$ebbctl" --json -c "$data/good.conf" config -n || return 1
	if command -v jq >/dev/null 2>&1; then
		[ "$(jq -r .sensors.interval "$tmp/out")" = 5s ] &&
		    [ "$(jq -r .drain.max_rate "$tmp/out")" = 37.5 ]
	else
		grep -q '"interval": "5s"' "$tmp/out"
	fi
}

# the example in ebb.conf(5) is valid and ebbctl config -n shows it as there
check_man_example() {
	man=$top_srcdir/man/ebb.conf.5
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$man" >"$tmp/examples" &&
	    sed -n '/^\.Bd/,/^\.Ed/p' "$tmp/examples" |
	    sed -n '2,/^\.Ed/p' | sed '$d' >"$tmp/example.conf" &&
	    grep -q '^\[general\]' "$tmp/example.conf" &&
	    run_rc 0 "$ebbctl" -c "$tmp/example.conf" config -n &&
	    sed -n '/^# ebbctl config -n$/,/^\.Ed/p' "$tmp/examples" |
	    sed '1d;$d' >"$tmp/want" &&
	    diff -u "$tmp/want" "$tmp/out"
}

check_ebbctl_bad_file() {
	run_rc 1 "$ebbctl" -c "$data/bad-duration.conf" config &&
	    has "ebbctl: $data/bad-duration.conf:2: interval:"\
" \"soon\" is not a duration"
}

check_ebbctl_missing_file() {
	run_rc 1 "$ebbctl" -c "$tmp/no-such.conf" config -d
}

check_usage() {
	run_rc 64 "$ebbctl" -c "$tmp/empty.conf" config -x &&
	    run_rc 64 "$ebbctl" -c "$tmp/empty.conf" config extra
}

mkdir -p "$tmp/d"
for t in valid bad_value unknown_key missing_file duplicate cross_key \
    sample_valid defaults_match_sample defaults_valid effective \
    round_trip changed json man_example ebbctl_bad_file ebbctl_missing_file \
    usage refused_user_root refused_long_socket refused_milter_address \
    refused_group refused_mta refused_postfix refused_all; do
	case $t in
	ebbctl*|defaults*|effective|round_trip|changed|json|man_example|usage)
		prog=$ebbctl ;;
	*)	prog=$ebbd ;;
	esac
	if [ ! -x "$prog" ]; then
		n=$((n + 1))
		echo "ok $n - $t # SKIP ${prog##*/} is not built"
		continue
	fi
	case $t in
	valid|sample_valid|defaults_valid|refused_*)
		if [ -z "$host_ok" ]; then
			n=$((n + 1))
			echo "ok $n - $t # SKIP no user ebb or no postconf here"
			continue
		fi ;;
	esac
	ok_if "$t" "check_$t"
done
