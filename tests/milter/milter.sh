#!/bin/sh
# milter.sh - ebb's milter against miltertest, one TAP line per Lua script
#
# Each script runs against its own tests/milter/ebb-milter-test: a fake
# /proc whose load average sets the pressure (4 CPUs, load_per_cpu 2.0, so
# load L gives p = L / 8), a config listening on a free inet port, a state
# directory of its own. The host is stopped with SIGTERM after the script,
# must exit 0 and log its counters (no crash); its log is shown on failure.
. "$top_srcdir/tests/integration/lib.sh"

require_cmd miltertest
HOST=$top_builddir/tests/milter/ebb-milter-test
LUA=$top_srcdir/tests/milter
[ -x "$HOST" ] || skip_all "ebb-milter-test not built"

tap_plan 12

# run_case NAME LOAD SCRIPT [CONFIG LINE...] - one script, one TAP line
run_case() {
	_name=$1 _load=$2 _script=$3
	shift 3
	_d=$T/$_name
	fake_proc "$_d/root"
	echo "$_load $_load $_load 200/400 4242" >"$_d/root/proc/loadavg"
	mkdir -p "$_d/state/milter"
	[ -n "${STATE:-}" ] && printf '%s' "$STATE" >"$_d/state/milter/clients"
	_port=$(free_port)
	{
		echo "[general]"
		echo "state_directory = $_d/state"
		echo "[sensors]"
		echo "proc_root = $_d/root"
		echo "sys_root = $_d/root"
		echo "[milter]"
		echo "socket = inet:$_port@127.0.0.1"
		for _l in "$@"; do echo "$_l"; done
	} >"$_d/ebb.conf"
	bg_start "host-$_name" "$HOST" -c "$_d/ebb.conf"
	if ! wait_for 10 port_in_use "$_port"; then
		not_ok "$_name" "the milter did not listen" \
		    "$(cat "$T/host-$_name.out")"
		return
	fi
	_out=$(miltertest -s "$LUA/$_script" -D port="$_port" \
	    -D srcdir="$LUA" 2>&1)
	_rc=$?
	_pid=$(cat "$T/host-$_name.pid")
	kill -TERM "$_pid" 2>/dev/null
	wait "$_pid"
	_hrc=$?
	rm -f "$T/host-$_name.pid"
	if [ "$_rc" -ne 0 ]; then
		not_ok "$_name" "miltertest: $_out" \
		    "$(cat "$T/host-$_name.out")"
	elif [ "$_hrc" -ne 0 ] ||
	    ! grep -q "counters " "$T/host-$_name.out"; then
		not_ok "$_name" "the host exited $_hrc" \
		    "$(cat "$T/host-$_name.out")"
	elif [ -n "${WANT_LOG:-}" ] &&
	    ! grep -q "$WANT_LOG" "$T/host-$_name.out"; then
		not_ok "$_name" "no \"$WANT_LOG\" in the log" \
		    "$(cat "$T/host-$_name.out")"
	else
		ok "$_name"
	fi
}

run_case calm 0.01 calm.lua "action = tempfail"
WANT_LOG="reason=surge" run_case surge 0.01 surge.lua
run_case loaded 6.4 loaded.lua "action = tempfail"
run_case critical 16 critical.lua "action = tempfail"
WANT_LOG="CRIT2: hold-recorded deadline=" \
    run_case critical-hold 16 critical-hold.lua "action = hold"
WANT_LOG="reason=full_disk" \
    run_case full 0.01 full.lua "action = hold" "[limits]" \
    "queue_disk_free_min = 64t"
WANT_LOG="HOLDME1: hold-recorded deadline=" \
    run_case hold 9.6 hold.lua "action = hold"
run_case bucket 0.01 bucket.lua "action = tempfail" \
    "client_rate = 0.0001" "client_burst = 3" \
    "net_rate = 0.0001" "net_burst = 5"
now=$(date +%s)
STATE="ebb-clients 1
a 192.0.2.50 32 20.000 $((now - 7200)).000 $((now - 7200)) 0 $((now - 7200))
" run_case trickle 6.4 trickle.lua "action = tempfail"
run_case malformed 6.4 malformed.lua "action = tempfail"
if grep -q '^#define HAVE_SPF2 1' "$top_builddir/config.h" 2>/dev/null; then
	run_case spf 0.01 spf.lua "spf = header"
else
	skip "spf" "built without libspf2"
fi

# the state survives a restart; a corrupt state file is one log line
if [ -s "$T/bucket/state/milter/clients" ] &&
    grep -q "^a 198.51.100.10 32 " "$T/bucket/state/milter/clients"; then
	ok "client state saved on stop"
else
	not_ok "client state saved on stop" \
	    "$(cat "$T/bucket/state/milter/clients" 2>&1)"
fi
