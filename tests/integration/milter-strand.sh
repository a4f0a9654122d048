#!/bin/sh
# milter-strand.sh - stopping ebbd while its milter holds mail strands
# nothing (issue 9, finding 2). Under pressure with [milter] action = hold,
# a burst of urgent mail goes through a real Postfix into hold; ebbd is
# stopped mid-burst, first with SIGTERM, then, restarted, with kill -9.
# The hold notices still on their way are lost with it, but every message
# the milter held carries ebb's proof: the restart records the first
# burst's orphans, "ebbctl failsafe" the second's, and releases all of
# them; every message is delivered exactly once and nothing stays held.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl

tap_plan 9
LOADED="9.60 5.00 2.00 12/120 4242"	# 4 fake CPUs: p = 1.2
N=150

# burst NAME - N urgent messages (a Received: 4 days and 23 hours old)
# over 10 sessions at once, in the background
burst() {
	perl -MPOSIX=strftime -e 'print "Received: from relay.example " .
	    "(relay.example [192.0.2.7]) by mx.example with ESMTP id 4Ab; " .
	    strftime("%a, %d %b %Y %H:%M:%S +0000",
	    gmtime(time - 5 * 86400 + 3600)) . "\nFrom: <a\@remote.example>\n" .
	    "Subject: urgent\n\nhello\n"' >"$T/msg"
	bg_start "$1" smtp-source -s 10 -m $N -F "$T/msg" \
	    -f a@remote.example -t b@dest.example "127.0.0.1:$PF_PORT"
}

# kill_at SIG HELD - once HELD messages are in hold, signal ebbd's parent
kill_at() {
	wait_for 60 sh -c "[ \$(find '$PF_SPOOL/hold' -type f | wc -l) -ge $2 ]" ||
	    diag "only $(pf_count hold) held"
	_pid=$(cat "$T/ebbd.pid")
	_kids=$(pgrep -P "$_pid")
	kill "-$1" "$_pid"
	rm -f "$T/ebbd.pid"
	wait_for 10 sh -c "! kill -0 $_pid 2>/dev/null" || return 1
	for _k in $_kids; do
		wait_for 10 sh -c "! kill -0 $_k 2>/dev/null" || return 1
	done
}

# orphans - held messages the ledger does not know
orphans() {
	ebbctl --json list --queue hold | jq -s '[.[] |
	    select(.parked_by_ebb | not)] | length'
}

ebb_user
MSOCK=$T/run/milter/milter.sock
pf_create
pf_postconf "smtpd_milters = unix:$MSOCK" 'milter_default_action = tempfail'
sink_start
pf_relay sink
pf_start || bail_out "postfix did not start"
ebbd_config '[milter]' 'enable = yes' "socket = unix:$MSOCK" \
    'action = hold' 'client_rate = 0' 'net_rate = 0'
echo "$LOADED" >"$T/root/proc/loadavg"
ebbd_start || bail_out "ebbd did not start"
wait_for 10 test -S "$MSOCK" || bail_out "the milter does not listen"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"
check "a proof key is made, root's, mode 0600" sh -c \
    "[ \"\$(stat -c '%u %a %s' '$T/state/proof.key')\" = '0 600 32' ]"

# 2-3: SIGTERM mid-burst; the restart adopts what the notices did not say
burst burst1
kill_at TERM 30 || bail_out "ebbd did not stop on SIGTERM"
bg_stop burst1
held1=$(pf_count hold)
lost1=$(orphans)
diag "SIGTERM: $held1 held, $lost1 of them not in the ledger"
ebbd_start ebbd || bail_out "ebbd did not restart"
if wait_for 20 st_eq .parked "$held1" && [ "$(orphans)" -eq 0 ]; then
	ok "the restart records all $held1 held messages ($lost1 by proof)"
else
	not_ok "the restart records all held messages" "held=$held1" \
	    "parked=$(st .parked) orphans=$(orphans)" "$(tail -5 "$T/ebbd.out")"
fi
is "$(st .adopted)" "$lost1" "the status counts the adopted ones"

# 4-6: kill -9 mid-burst; failsafe releases every milter hold
burst burst2
kill_at KILL $((held1 + 30)) || bail_out "ebbd did not die on kill -9"
bg_stop burst2
held2=$(pf_count hold)
lost2=$(orphans)
diag "kill -9: $held2 held, $lost2 of them not in the ledger"
pf_ids hold | sort >"$T/held"
if [ "$lost2" -ge 1 ]; then
	ok "kill -9 left $lost2 held messages out of the ledger"
else
	not_ok "kill -9 left held messages out of the ledger" \
	    "held=$held2 (the burst may have ended before the kill)"
fi
ebbctl failsafe >"$T/fs.out" 2>&1
is "$?" 0 "failsafe succeeds"
if [ "$(pf_count hold)" -eq 0 ] &&
    grep -q "failsafe: released $held2 messages" "$T/fs.out" &&
    grep -q "failsafe: $lost2 of them held by ebb's milter" "$T/fs.out" &&
    ! grep -q "stays in hold" "$T/fs.out"; then
	ok "failsafe releases all $held2 held messages ($lost2 by proof)"
else
	not_ok "failsafe releases every milter hold" "hold=$(pf_count hold)" \
	    "$(cat "$T/fs.out")"
fi

# 7-9: every message delivered exactly once, nothing left
pf_flush
wait_for 60 pf_count_is 0
sent_ids | sort >"$T/sent"
comm -23 "$T/held" "$T/sent" >"$T/missing"
is "$(wc -l <"$T/missing")" 0 "every held message is delivered"
is "$(sort "$T/sent" | uniq -d | wc -l)" 0 "each delivered once"
is "$(pf_count)" 0 "nothing is left in the queue"
