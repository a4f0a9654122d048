#!/bin/sh
# ebbd-crash.sh - kill -9 at any moment loses nothing and strands nothing:
# ebbd killed while parking and again mid-drain, then restarted, delivers
# every message exactly once and leaves nothing parked
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd

tap_plan 7
N=120
ebb_user
backlog $N
pf_stop		# ebbd parks before Postfix delivers on its own
ebbd_config '[drain]' 'max_rate = 8' 'increase = 1000'

# kill9 NAME - kill -9 ebbd's parent; its child must go too
kill9() {
	_pid=$(cat "$T/$1.pid")
	_kids=$(pgrep -P "$_pid")
	kill -9 "$_pid"
	rm -f "$T/$1.pid"
	wait_for 5 sh -c "! kill -0 $_pid 2>/dev/null" || return 1
	for _k in $_kids; do
		wait_for 5 sh -c "! kill -0 $_k 2>/dev/null" || return 1
	done
}

# 1: killed while parking (right after start)
bg_start ebbd1 "$EBBD" -f -c "$EBB_CONF"
sleep 0.3
if kill9 ebbd1; then
	ok "kill -9 while parking: parent and child gone"
else
	not_ok "kill -9 while parking: parent and child gone" "$(ps -ef | grep ebbd)"
fi

# 2: killed mid-drain
ebbd_start ebbd2 || bail_out "ebbd did not start"
pf_start || bail_out "postfix did not restart"
wait_for 20 st_ge .released 10
parked=$(st .parked)
if kill9 ebbd2 && [ "$parked" -gt 0 ]; then
	ok "kill -9 mid-drain ($parked still parked)"
else
	not_ok "kill -9 mid-drain" "parked=$parked"
fi

# 3: a restart takes the stale socket and the lock over
if ebbd_start ebbd3 && [ "$(st .ok)" = true ]; then
	ok "restart after kill -9"
else
	not_ok "restart after kill -9" "$(cat "$T/ebbd3.out")"
fi

# 4-5: everything delivered, exactly once
wait_for 40 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $N ]"
sent_ids | sort >"$T/sent"
is "$(wc -l <"$T/sent")" $N "every message delivered"
is "$(sort -u "$T/sent" | wc -l)" $N "each delivered once"

# 6: nothing stranded: no hold, nothing open in the ledger
wait_for 10 st_eq .parked 0
if [ "$(pf_count hold)" -eq 0 ] && [ "$(st .parked)" -eq 0 ] &&
    [ "$(pf_count)" -eq 0 ]; then
	ok "nothing left parked or queued"
else
	not_ok "nothing left parked or queued" "queue: $(pf_count)" "$(ebbctl status 2>&1)"
fi

# 7: a second ebbd refuses to start while one runs (the drain lock)
"$EBBD" -f -c "$EBB_CONF" >"$T/second.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'another ebbd' "$T/second.out" &&
    [ "$(st .ok)" = true ]; then
	ok "a second ebbd refuses to start"
else
	not_ok "a second ebbd refuses to start" "rc=$rc" "$(cat "$T/second.out")"
fi
exit 0
