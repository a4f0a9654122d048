#!/bin/sh
# milter-postfix.sh - ebbd runs the milter in its unprivileged child, in
# front of a real private Postfix: at pressure >= 1 with [milter] action =
# hold both an urgent message (an old Received: date) and a fresh one go
# into the hold queue as parked by ebb (accepting is cheap; delivering is
# what the host is short of); at critical pressure urgent mail is still
# taken; when the pressure falls ebbd's drain releases the held messages
# and they are delivered. Hostile headers through Postfix (a 64 KiB
# Received:, a NUL before an old date) are held like any other and crash
# nothing. Then 1,000 concurrent sessions, twice, through the milter: no
# crash, no error, the child's open files and memory stay bounded; and
# SIGTERM stops both processes within 5 s. The milter listens on a unix
# socket in a directory ebbd makes for its unprivileged user, and Postfix
# fails closed, so every verdict is the milter's.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl

tap_plan 18
# 4 fake CPUs, load_per_cpu limit 2.0: 9.6 is p = 1.2, 99 is critical
IDLE="0.01 0.02 0.00 1/120 4242"
LOADED="9.60 5.00 2.00 12/120 4242"
CRITICAL="99.00 50.00 20.00 120/400 4242"

child_pid() {
	pgrep -P "$(st .pid)" ebbd | head -1
}

fds() {
	ls "/proc/$1/fd" | wc -l
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

ebb_user
MSOCK=$T/run/milter/milter.sock
pf_create
pf_postconf "smtpd_milters = unix:$MSOCK" 'milter_default_action = tempfail' \
    'default_process_limit = 1200'
sink_start
pf_relay sink
pf_start || bail_out "postfix did not start"
ebbd_config '[milter]' 'enable = yes' "socket = unix:$MSOCK" \
    'action = hold' 'client_rate = 0' 'net_rate = 0' \
    '[drain]' 'max_rate = 1000' 'increase = 1000'
ebbd_start || bail_out "ebbd did not start"

# 1: the child listens and reports its counters
if wait_for 10 test -S "$MSOCK" &&
    wait_for 10 sh -c "[ \"\$(\"$EBBCTL\" -c \"$EBB_CONF\" --json status |
    jq -r '.milter.connections')\" != null ]"; then
	ok "the milter listens in ebbd's child and reports counters"
else
	not_ok "the milter listens" "$(cat "$T/ebbd.out")"
fi

# 2-5: under pressure, urgent and fresh mail are held as ebb's
echo "$LOADED" >"$T/root/proc/loadavg"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"
urgent=$(smtp_try old@remote.example $((5 * 86400 - 3600)))
fresh=$(smtp_try new@remote.example 60)
ID=$(echo "$urgent" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
FID=$(echo "$fresh" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
is "$(echo "$urgent" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "urgent mail is accepted under pressure"
is "$(echo "$fresh" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "fresh mail is accepted under pressure too"
wait_for 10 sh -c "[ -n \"$ID\" ] && [ -f \"$PF_SPOOL/hold/$ID\" ] &&
    [ -n \"$FID\" ] && [ -f \"$PF_SPOOL/hold/$FID\" ]"
check "both are in the hold queue" test -f "$PF_SPOOL/hold/$ID" -a \
    -f "$PF_SPOOL/hold/$FID"
wait_for 10 sh -c "\"$EBBCTL\" -c \"$EBB_CONF\" --json list |
    jq -se '[.[] | select(.queue_id == \"$ID\" or
    .queue_id == \"$FID\") | select(.parked_by_ebb)] | length == 2' \
    >/dev/null"
is "$(ebbctl --json list | jq -sr "[.[] | select(.queue_id == \"$ID\" or
    .queue_id == \"$FID\") | select(.parked_by_ebb)] | length")" 2 \
    "ebbctl list shows both parked by ebb"

# 6-8: hostile headers through Postfix, still loaded: held, no crash
SMTP_RECEIVED='join("\r\n\t", ("(" x 900) x 72) . "; $date"'
big=$(smtp_try big@remote.example 60)
SMTP_RECEIVED='"from a\0 by b; " . POSIX::strftime("%a, %d %b %Y %H:%M:%S +0000", gmtime(time - 4 * 86400))'
nul=$(smtp_try nul@remote.example 60)
unset SMTP_RECEIVED
is "$(echo "$big" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "a 64 KiB Received: is taken into hold"
is "$(echo "$nul" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "a NUL before an old date is taken into hold"
again=$(smtp_try again@remote.example $((5 * 86400 - 3600)))
is "$(echo "$again" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "the milter still admits urgent mail after them"

# 9: critical pressure: urgent mail is still taken, into hold
echo "$CRITICAL" >"$T/root/proc/loadavg"
wait_for 10 st_eq .critical true || diag "pressure did not become critical"
crit=$(smtp_try old@remote.example $((5 * 86400 - 3600)))
is "$(echo "$crit" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "critical pressure still takes urgent mail"

# 10-11: the pressure falls: the drain releases the held mail, delivered
echo "$IDLE" >"$T/root/proc/loadavg"
if wait_for 40 sh -c "grep -q '$ID: to=.*status=sent' '$PF_DIR/maillog' &&
    grep -q '$FID: to=.*status=sent' '$PF_DIR/maillog'"
then
	ok "the drain releases the held messages and they are delivered"
else
	not_ok "held messages delivered" "$(tail -5 "$PF_DIR/maillog")"
fi
wait_for 10 sh -c "[ \"\$(\"$EBBCTL\" -c \"$EBB_CONF\" --json status |
    jq -r '.milter.held')\" = 6 ]"
is "$(st .milter.held)" 6 "the status counts six held messages"

# 12-17: 1,000 concurrent sessions, twice: bounded fds and memory
CHILD=$(child_pid)
smtp-source -s 1000 -m 1000 -l 512 -f a@remote.example -t b@dest.example \
    "127.0.0.1:$PF_PORT" >"$T/load1.out" 2>&1
fd1=$(fds "$CHILD")
rss1=$(rss_kb "$CHILD")
smtp-source -s 1000 -m 1000 -l 512 -f a@remote.example -t b@dest.example \
    "127.0.0.1:$PF_PORT" >"$T/load2.out" 2>&1
is "$?" 0 "2,000 messages over 1,000 concurrent sessions are accepted"
# Postfix's smtpd processes close their milter connections as their
# sessions end, a moment after smtp-source returns (longer on a busy
# machine): give them 10 s; a leak never comes back down
wait_for 10 sh -c "[ \$(ls /proc/$CHILD/fd | wc -l) -le $((fd1 + 4)) ]"
fd2=$(fds "$CHILD")
rss2=$(rss_kb "$CHILD")
check "the child is still running" kill -0 "$CHILD"
if [ "$fd2" -le $((fd1 + 4)) ]; then
	ok "the child's open files stay bounded ($fd1 -> $fd2)"
else
	not_ok "open files bounded" "$fd1 -> $fd2"
fi
if ldd "$EBBD" 2>/dev/null | grep -q libasan; then
	# ASan keeps freed memory in its quarantine and a cache per thread
	# (1,000 sessions make many): its RSS grows without a leak, about
	# 9 MB a burst here; its leak check at exit is the one that counts
	skip "memory bounded" "an ASan build (${rss1} -> ${rss2} kB)"
elif [ "$rss2" -le $((rss1 + 8192)) ]; then
	ok "the child's memory stays bounded (${rss1} -> ${rss2} kB)"
else
	not_ok "memory bounded" "${rss1} -> ${rss2} kB"
fi
wait_for 10 sh -c "[ \"\$(\"$EBBCTL\" -c \"$EBB_CONF\" --json status |
    jq -r '.milter.messages')\" -ge 2006 ]"
check "every message went through the milter" st_ge .milter.messages 2006
is "$(st .milter.errors)" 0 "no internal errors"

# 18: SIGTERM stops the parent and the milter's child within 5 s
pid=$(cat "$T/ebbd.pid")
start=$(date +%s.%N)
kill -TERM "$pid"
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null && ! kill -0 $CHILD 2>/dev/null"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if ! kill -0 "$pid" 2>/dev/null && ! kill -0 "$CHILD" 2>/dev/null; then
	ok "SIGTERM stops ebbd and its milter within 5 s (${took} s)"
else
	not_ok "SIGTERM stops ebbd and its milter within 5 s" "${took} s" \
	    "$(tail -5 "$T/ebbd.out")"
fi
