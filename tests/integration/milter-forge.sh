#!/bin/sh
# milter-forge.sh - the parent does not believe a hold notice for mail
# that was held before: an administrator holds a deferred message; ebbd
# runs the milter with action = hold under pressure; a client speaking the
# milter protocol (miltertest, tests/milter/forge.lua) names that message
# as its own queue id, so the milter quarantines "it" and tells the
# parent. The parent refuses it: the message is not parked by ebb, and
# when the pressure falls the drain leaves it in hold.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source jq miltertest

tap_plan 4
IDLE="0.01 0.02 0.00 1/120 4242"
LOADED="9.60 5.00 2.00 12/120 4242"	# 4 fake CPUs: p = 1.2

ebb_user
pf_create
pf_start || bail_out "postfix did not start"
pf_submit 1 || bail_out "smtp-source failed"
pf_wait_count 1 60 deferred || bail_out "no deferred message"
ID=$(pf_ids deferred)
postsuper -c "$PF_CONF" -h "$ID" >/dev/null 2>&1
pf_wait_count 1 10 hold || bail_out "the administrator's hold failed"

MPORT=$(free_port)
ebbd_config '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'action = hold' 'client_rate = 0' 'net_rate = 0'
echo "$LOADED" >"$T/root/proc/loadavg"
ebbd_start || bail_out "ebbd did not start"
wait_for 10 port_in_use "$MPORT" || bail_out "the milter does not listen"
wait_for 10 st_eq .queues.hold 1 || bail_out "ebbd has not scanned the hold"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"

# 1-2: the forged hold is quarantined by the milter, refused by the parent
out=$(miltertest -s "$top_srcdir/tests/milter/forge.lua" -D port="$MPORT" \
    -D srcdir="$top_srcdir/tests/milter" -D id="$ID" 2>&1)
is "$?" 0 "the milter quarantines the forged message ($out)"
if wait_for 10 grep -q "$ID: milter: a hold notice for a message held before it: refused" \
    "$T/ebbd.out"; then
	ok "the parent refuses the notice and says why"
else
	not_ok "the parent refuses the notice" "$(cat "$T/ebbd.out")"
fi

# 3-4: nothing parked; calm again, the drain leaves the admin's hold alone
is "$(st .parked)" 0 "the administrator's message is not parked by ebb"
echo "$IDLE" >"$T/root/proc/loadavg"
wait_for 10 st_eq .stopped false
sleep 3
check "it is still in hold after the drain ran" test -f "$PF_SPOOL/hold/$ID"
