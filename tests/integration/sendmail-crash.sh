#!/bin/sh
# sendmail-crash.sh - kill -9 mid-drain against a real Sendmail loses
# nothing and strands nothing: a second drain finishes, and every message
# reaches the sink exactly once (the delivery children of the killed drain
# run on; Sendmail's qf lock keeps two runs off one message)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd smtp-sink perl

tap_plan 5
N=80
sm_backlog $N
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
sm_ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

"$EBBCTL" -c "$EBB_CONF" drain --max-rate 10 >"$T/first.out" 2>&1 &
FIRST=$!
sleep 3
kill -9 $FIRST
wait $FIRST 2>/dev/null
held=$(sm_count hf)
if [ "$held" -gt 0 ] && [ "$held" -lt $N ]; then
	ok "killed mid-drain ($held still parked)"
else
	not_ok "killed mid-drain" "hf=$held" "$(tail -5 "$T/first.out")"
fi

ebbctl drain >"$T/second.out" 2>&1
is "$?" 0 "second drain completes"
wait_for 30 sm_count_is 0
is "$(sm_count)" 0 "nothing left queued or parked"
sink_ids() {
	cat "$T"/sink/* 2>/dev/null | perl -ne \
	    'print "$1\n" if /\(8\.[0-9.\/]+(?:\/ebbtest)?\) id ([0-9A-Za-z]+)/'
}
wait_for 10 sh -c "[ \$(ls '$T/sink' | wc -l) -ge $N ]"
is "$(sink_ids | wc -l)" $N "every message delivered"
is "$(sink_ids | sort -u | wc -l)" $N "each exactly once"
