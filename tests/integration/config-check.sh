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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/config-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.conf"

n=0
echo "1..17"

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
	run_rc 0 "$ebbd" -n -c "$data/good.conf" &&
	    has "$data/good.conf: configuration is valid"
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
	run_rc 0 "$ebbd" -n -c "$sample" &&
	    has "$sample: configuration is valid"
}

# the defaults ebbctl prints are the sample's keys, uncommented
check_defaults_match_sample() {
	run_rc 0 "$ebbctl" -c "$tmp/empty.conf" config -d &&
	    grep -v '^$' "$tmp/out" >"$tmp/defaults" &&
	    sed -n 's/^#\([a-z_]* =\)/\1/p; /^\[/p' "$sample" >"$tmp/sample" &&
	    diff -u "$tmp/sample" "$tmp/defaults"
}

check_defaults_valid() {
	run_rc 0 "$ebbctl" -c "$tmp/empty.conf" config -d &&
	    cp "$tmp/out" "$tmp/defaults.conf" &&
	    run_rc 0 "$ebbd" -n -c "$tmp/defaults.conf" &&
	    has "$tmp/defaults.conf: configuration is valid"
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

for t in valid bad_value unknown_key missing_file duplicate cross_key \
    sample_valid defaults_match_sample defaults_valid effective \
    round_trip changed json man_example ebbctl_bad_file ebbctl_missing_file \
    usage; do
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
	ok_if "$t" "check_$t"
done
