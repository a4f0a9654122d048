#!/bin/sh
# sendmail-ebbd.sh - ebbd with mta = sendmail against a real Sendmail: it
# starts, "ebbctl status" shows Sendmail's queues and the backlog, the
# continuous drain parks the aged backlog and delivers it to the sink,
# the admin's quarantine stays, and the metrics name Sendmail's queues
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd smtp-sink jq perl useradd curl

tap_plan 7
N=40
ebb_user
sm_backlog $N 1
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
HTTP_PORT=$(free_port)
ebbd_config '[general]' 'mta = sendmail' '[sendmail]' \
    "config_file = $SM_CF" "sendmail_path = $SM_BIN" \
    '[drain]' 'max_rate = 1000' 'increase = 1000' \
    '[http]' "listen = 127.0.0.1:$HTTP_PORT"

"$EBBD" -n -c "$EBB_CONF" >"$T/check.out" 2>&1
is "$?" 0 "ebbd -n accepts mta = sendmail"
ebbd_start || bail_out "ebbd did not start"
check "ebbctl status answers" ebbctl status
names=$(ebbctl --json status | jq -r '.queues | keys | sort | join(",")')
is "$names" "quarantine,quarantine-admin,queue,running" \
    "status names Sendmail's queues"

# the continuous drain: everything but the admin's quarantine delivered
wait_for 60 sm_count_is 1
is "$(sm_count)" 1 "ebbd drained the backlog"
is "$(sm_reason "$ADMIN")" "held by the postmaster" \
    "the admin's quarantine is untouched"
wait_for 10 sh -c "[ \$(ls '$T/sink' | wc -l) -ge $((N - 1)) ]"
is "$(ls "$T/sink" | wc -l)" $((N - 1)) "every message reached the sink"
if curl -s "http://127.0.0.1:$HTTP_PORT/metrics" |
    grep -q '^ebb_backlog{queue="quarantine-admin"} 1$'; then
	ok "the metrics name Sendmail's queues"
else
	not_ok "the metrics name Sendmail's queues" \
	    "$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep ebb_backlog)"
fi
