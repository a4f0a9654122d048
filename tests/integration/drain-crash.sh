#!/bin/sh
# drain-crash.sh - kill -9 mid-drain loses nothing and strands nothing: a
# second drain finishes, every message is delivered exactly once
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink

tap_plan 5
N=100
backlog $N
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

"$EBBCTL" -c "$EBB_CONF" drain --max-rate 20 >"$T/first.out" 2>&1 &
FIRST=$!
sleep 2.5
kill -9 $FIRST
wait $FIRST 2>/dev/null
held=$(pf_count hold)
if [ "$held" -gt 0 ] && [ "$held" -lt $N ]; then
	ok "killed mid-drain ($held still parked)"
else
	not_ok "killed mid-drain" "hold=$held"
fi

ebbctl drain >"$T/second.out" 2>&1
is "$?" 0 "second drain completes"
is "$(pf_count hold)" 0 "nothing left parked"
wait_for 30 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $N ]"
is "$(sent_ids | wc -l)" $N "every message delivered"
is "$(sent_ids | sort -u | wc -l)" $N "each exactly once"
