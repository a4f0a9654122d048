#!/bin/sh
# sensors-cli.sh - "ebbctl sensors" against the fake hosts in tests/data
#
# Each case writes a config whose proc_root and sys_root point at one fake
# host (tests/data/host-*: proc/ and sys/ side by side), runs ebbctl and
# checks the JSON with jq, or the table with grep. Speaks TAP.
set -u

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
ebbctl=$top_builddir/ebbctl
data=$top_srcdir/tests/data
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ebb-sensors-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
fails=0
echo "1..12"

# ok COND NAME - one TAP line; COND is the exit status of the check
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}

# conf HOST - a config reading the fake HOST; prints its path
conf() {
	printf '[sensors]\nproc_root = %s\nsys_root = %s\n' \
	    "$data/$1" "$data/$1" > "$tmp/$1.conf"
	echo "$tmp/$1.conf"
}

idle=$(conf host-idle)
over=$(conf host-overloaded)
bad=$(conf host-malformed)
nopsi=$(conf host-nopsi)

"$ebbctl" -c "$idle" --json sensors > "$tmp/idle.json" 2> "$tmp/idle.err"
rc=$?
ok $rc "idle host: ebbctl --json sensors exits 0"
jq -e '.pressure < 0.5 and .pressure >= 0' "$tmp/idle.json" > /dev/null
ok $? "idle host: pressure < 0.5"

"$ebbctl" -c "$over" --json sensors > "$tmp/over.json" 2> "$tmp/over.err"
ok $? "overloaded host: ebbctl --json sensors exits 0"
jq -e '.pressure >= 1 and .budget.rate == 0 and .budget.stopped
    and .budget.critical' "$tmp/over.json" > /dev/null
ok $? "overloaded host: pressure >= 1, releases stopped, critical"

jq -e '[.sensors[].name] == ["load", "psi_cpu", "psi_io", "psi_memory",
    "memory", "temperature", "queue_disk", "mta_queue"]
    and all(.sensors[]; has("present") and has("value") and has("limit")
    and has("ratio"))' "$tmp/idle.json" > /dev/null
ok $? "JSON shape: every sensor with name, present, value, limit, ratio"

jq -e '(.sensors[] | select(.name == "mta_queue")) as $m
    | $m.present == false and $m.value == null and $m.ratio == null
    and ($m.why | length) > 0' "$tmp/idle.json" > /dev/null
ok $? "absent sensor: present false, null value, a reason"

"$ebbctl" -c "$nopsi" sensors --json > "$tmp/nopsi.json" 2> /dev/null
jq -e '([.sensors[] | select(.name | startswith("psi_")) | .present]
    == [false, false, false]) and .npresent == 2 and .pressure < 0.5' \
    "$tmp/nopsi.json" > /dev/null
ok $? "host without PSI: psi_* absent, pressure from the rest"

"$ebbctl" -c "$bad" --json sensors > "$tmp/bad.json" 2> "$tmp/bad.err"
rc=$?
[ $rc -eq 0 ] && jq -e '.pressure == null and .npresent == 0
    and .budget.known == false
    and ([.sensors[] | select(.error)] | length) == 6' \
    "$tmp/bad.json" > /dev/null &&
    grep -q 'warning: sensor load: .*malformed' "$tmp/bad.err"
ok $? "malformed host: sensor errors logged, pressure null, no crash"

"$ebbctl" -c "$idle" sensors > "$tmp/idle.txt" 2>&1
rc=$?
[ $rc -eq 0 ] &&
    grep -Eq '^load +yes +0\.00 +2\.00 +0\.00 .*running 0\.0' \
    "$tmp/idle.txt" &&
    grep -Eq '^mta_queue +absent' "$tmp/idle.txt" &&
    grep -Eq '^pressure 0\.11 ' "$tmp/idle.txt" &&
    grep -Eq '^budget +rate [0-9.]+/s +window [0-9]+ +cutoff' "$tmp/idle.txt"
ok $? "human table: sensors, pressure and budget"

"$ebbctl" -c "$over" sensors --watch --count 2 --json > "$tmp/watch.json" \
    2> /dev/null
[ $? -eq 0 ] && [ "$(wc -l < "$tmp/watch.json")" -eq 2 ] &&
    jq -e -s 'length == 2 and all(.[]; .pressure >= 1)' \
    "$tmp/watch.json" > /dev/null
ok $? "--watch --count 2 --json: one object per line"

"$ebbctl" -c "$idle" sensors --bogus > /dev/null 2> "$tmp/usage.err"
rc=$?
[ $rc -eq 64 ] && grep -q 'usage:' "$tmp/usage.err"
ok $? "unknown option: exit 64 and the usage"

"$ebbctl" -c "$idle" sensors --count 3 > /dev/null 2>&1
[ $? -eq 64 ]
ok $? "--count without --watch: exit 64"

[ $fails -eq 0 ]
