#!/bin/sh
# cli.sh - ebbd's and ebbctl's command lines: help, version, --json, config KEY
#
# TAP; run by make check with top_srcdir and top_builddir in the
# environment. Needs neither root nor a Postfix: help and --version work
# without a configuration that loads, and config reads only ebb.conf.
# Writes only under a mktemp -d directory.
top_builddir=${top_builddir:-.}
ebbd=$top_builddir/ebbd
ebbctl=$top_builddir/ebbctl

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.conf"
printf '[sensors]\ninterval = 5s\n' >"$tmp/five.conf"
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
    "$top_builddir/config.h")

n=0
echo "1..19"

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

# run WANT CMD... - CMD exits WANT; stdout in $tmp/out, stderr in $tmp/err
run() {
	want=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	echo "exit $rc, want $want: $*"
	cat "$tmp/out" "$tmp/err"
	return 1
}

# out_is TEXT - stdout is exactly TEXT
out_is() {
	[ "$(cat "$tmp/out")" = "$1" ] && return 0
	printf 'stdout:\n%s\nwant:\n%s\n' "$(cat "$tmp/out")" "$1"
	return 1
}

# err_empty - nothing on stderr
err_empty() {
	[ ! -s "$tmp/err" ] || { echo "stderr:"; cat "$tmp/err"; return 1; }
}

check_ebbd_help() {
	run 0 "$ebbd" -h && err_empty &&
	    grep -q '^usage: ebbd ' "$tmp/out" &&
	    grep -q -- '-n, --check' "$tmp/out" &&
	    run 0 "$ebbd" --help && grep -q '^usage: ebbd ' "$tmp/out"
}

check_versions() {
	[ -n "$version" ] &&
	    run 0 "$ebbd" --version && out_is "ebbd $version" &&
	    run 0 "$ebbd" -V && out_is "ebbd $version" &&
	    run 0 "$ebbctl" --version && out_is "ebbctl $version"
}

check_ebbd_usage() {
	run 64 "$ebbd" -x && grep -q '^usage: ebbd ' "$tmp/err" &&
	    run 64 "$ebbd" stray && grep -q 'unexpected argument "stray"' \
	    "$tmp/err"
}

# every command's -h: exit 0, its usage on stdout, nothing on stderr, even
# with a configuration that does not load
check_every_command_help() {
	cmds=$("$ebbctl" -h | sed -n 's/^  \([a-z]*\).*/\1/p')
	[ -n "$cmds" ] || { echo "no commands in ebbctl -h"; return 1; }
	for c in $cmds; do
		run 0 "$ebbctl" -c "$tmp/no-such.conf" "$c" -h &&
		    err_empty &&
		    grep -q "^usage: ebbctl \[-c file\] \[--json\] $c" \
		    "$tmp/out" || return 1
		run 0 "$ebbctl" "$c" --help || return 1
	done
}

check_list_help() {
	run 0 "$ebbctl" list -h && err_empty &&
	    grep -q -- '--limit N' "$tmp/out" &&
	    grep -q '~ parked by ebb' "$tmp/out"
}

check_unknown_option() {
	run 64 "$ebbctl" -c "$tmp/empty.conf" list --bogus &&
	    grep -q '^usage: ebbctl' "$tmp/err"
}

# --json before or after the command: the same output
check_json_anywhere() {
	run 0 "$ebbctl" -c "$tmp/five.conf" --json config interval &&
	    cp "$tmp/out" "$tmp/before" &&
	    run 0 "$ebbctl" -c "$tmp/five.conf" config interval --json &&
	    cmp -s "$tmp/before" "$tmp/out" &&
	    [ "$(jq -r .sensors.interval "$tmp/out")" = 5s ]
}

check_json_sensors_after() {
	run 0 "$ebbctl" -c "$tmp/empty.conf" sensors --json &&
	    jq -e '.sensors | length > 0' "$tmp/out" >/dev/null
}

check_drain_json_needs_dry_run() {
	run 64 "$ebbctl" -c "$tmp/empty.conf" drain --json &&
	    grep -q -- '--json goes with --dry-run' "$tmp/err"
}

# config KEY...: like postconf KEY, in the order given
check_config_keys() {
	run 0 "$ebbctl" -c "$tmp/five.conf" config max_rate interval &&
	    err_empty &&
	    out_is "max_rate = 100.0
interval = 5s"
}

check_config_key_matches_full() {
	"$ebbctl" -c "$tmp/five.conf" config >"$tmp/full" &&
	    run 0 "$ebbctl" -c "$tmp/five.conf" config user psi_io &&
	    grep -qxF "$(sed -n 1p "$tmp/out")" "$tmp/full" &&
	    grep -qxF "$(sed -n 2p "$tmp/out")" "$tmp/full"
}

check_config_section_key() {
	run 0 "$ebbctl" -c "$tmp/empty.conf" config control.socket &&
	    out_is "control.socket = /run/ebb/ebbd.sock"
}

check_config_unknown_key() {
	run 64 "$ebbctl" -c "$tmp/five.conf" config interval no_such_key &&
	    out_is "interval = 5s" &&
	    [ "$(cat "$tmp/err")" = 'ebbctl config: unknown key "no_such_key" (ebbctl config -d lists them all)' ]
}

check_config_ambiguous_key() {
	run 64 "$ebbctl" -c "$tmp/empty.conf" config socket &&
	    out_is "" && grep -q 'milter.socket control.socket' "$tmp/err"
}

check_config_default_key() {
	run 0 "$ebbctl" -c "$tmp/five.conf" config -d interval &&
	    out_is "interval = 1s" &&
	    run 0 "$ebbctl" -c "$tmp/five.conf" config -n interval max_rate &&
	    out_is "interval = 5s"
}

check_config_json_keys() {
	run 0 "$ebbctl" -c "$tmp/five.conf" config --json interval max_rate &&
	    [ "$(jq -c . "$tmp/out")" = \
	    '{"sensors":{"interval":"5s"},"drain":{"max_rate":"100.0"}}' ]
}

# the man page has an entry for every option the help names
check_man_options() {
	man=${top_srcdir:-.}/man
	missing=
	for o in $("$ebbctl" -h | sed -n 's/^  [a-z]*//p' |
	    grep -o -- '--[a-z-]*' | sort -u) --version; do
		grep -q "Fl Fl ${o#--}\\b" "$man/ebbctl.8" ||
		    missing="$missing $o"
	done
	for o in c f n v h V; do
		grep -q "^\\.It Fl $o\\b" "$man/ebbd.8" ||
		    missing="$missing ebbd:-$o"
	done
	[ -z "$missing" ] || { echo "not in the man pages:$missing"; false; }
}

# the JSON examples render with their quotes (mdoc eats bare ones)
check_man_quotes() {
	command -v mandoc >/dev/null 2>&1 || return 0
	man=${top_srcdir:-.}/man
	# one line, blanks squeezed: an example may wrap
	mandoc -Tascii "$man/ebbd.8" | col -b | tr -s ' \t\n' '   ' \
	    >"$tmp/ebbd.txt" &&
	    mandoc -Tascii "$man/ebbctl.8" | col -b | tr -s ' \t\n' '   ' \
	    >"$tmp/ebbctl.txt" &&
	    grep -qF '{"command": "rate", "rate": 20}' "$tmp/ebbd.txt" &&
	    grep -qF '{"ok": false, "error": "why"}' "$tmp/ebbd.txt" &&
	    grep -qF '{"sensors": {"interval": "1s"}, ...}' "$tmp/ebbctl.txt"
}

ok_if ebbd_help check_ebbd_help
ok_if versions check_versions
ok_if ebbd_usage check_ebbd_usage
ok_if every_command_help check_every_command_help
ok_if list_help check_list_help
ok_if unknown_option check_unknown_option
ok_if json_anywhere check_json_anywhere
ok_if json_sensors_after check_json_sensors_after
ok_if drain_json_needs_dry_run check_drain_json_needs_dry_run
ok_if config_keys check_config_keys
ok_if config_key_matches_full check_config_key_matches_full
ok_if config_section_key check_config_section_key
ok_if config_unknown_key check_config_unknown_key
ok_if config_ambiguous_key check_config_ambiguous_key
ok_if config_default_key check_config_default_key
ok_if config_json_keys check_config_json_keys
ok_if man_options check_man_options
ok_if man_quotes check_man_quotes
ok_if ebbctl_usage_lists_help sh -c \
    "'$ebbctl' -h | grep -q '^       ebbctl command -h | -h | --version\$'"
