#!/bin/sh
# ebbd-live.sh - ebbd keeps its index live by inotify: a change to a
# parked backlog in a real Postfix queue reaches the index (status counts)
# without a full scan; a change inotify cannot see (a queue file rewritten
# through a hard link in another directory) is drift, which the
# cross-check scan counts and logs; an overflow of the kernel's event
# queue (fs.inotify.max_queued_events lowered for this test) makes ebbd
# scan in full, and says so
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd sqlite3

MQE=/proc/sys/fs/inotify/max_queued_events
[ -w "$MQE" ] || skip_all "cannot change $MQE"
OLD_MQE=$(cat "$MQE")
# restore the kernel's limit whatever happens, then the usual cleanup
trap 'echo "$OLD_MQE" >"$MQE"; cleanup' EXIT

tap_plan 8
N=40
ebb_user
backlog $N
pf_stop				# nothing moves but what the test moves
ebbd_config '[drain]' 'rescan_interval = 1h'
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null
wait_for 20 st_eq .parked $N || bail_out "not parked: $(ebbctl status 2>&1)"
# the refreshes after the start: one full scan, then the live path
wait_for 15 st_ge .index.live_updates 1 ||
    bail_out "no live update: $(ebbctl --json status 2>&1)"

# 1: watching
if [ "$(st .index.live)" = true ] && [ "$(st .index.watches)" -ge 5 ]; then
	ok "the queue's directories are watched"
else
	not_ok "the queue's directories are watched" \
	    "$(ebbctl --json status | jq -c .index)"
fi

# 2-3: a message deleted and two touched reach the index by the live path
full0=$(st .index.full_scans)
ref0=$(st .index.refreshed)
set -- $(pf_ids hold)
postsuper -c "$PF_CONF" -d "$1" hold >/dev/null 2>&1 ||
    bail_out "postsuper -d failed"
perl -e 'utime(time, time + 7200, @ARGV) == 2 or die' \
    "$(pf_file "$2")" "$(pf_file "$3")" || bail_out "touch failed"
if wait_for 15 st_eq .queues.hold $((N - 1)) &&
    wait_for 10 st_ge .index.refreshed $((ref0 + 3)); then
	ok "a deletion reaches the index: hold $((N - 1))"
else
	not_ok "a deletion reaches the index" \
	    "$(ebbctl --json status | jq -c '{queues, index}')"
fi
is "$(st .index.full_scans)" "$full0" "... without a full scan"

# 4-5: drift: a hold file's create_time rewritten through a hard link in a
# directory nobody watches, so no event names it; then cross-checks every
# second (a reload): the scan finds it, counts it and says so
f=$(pf_file "$4")
ln "$f" "$T/link" || bail_out "cannot link $f"
perl -e '
	open(my $fh, "+<:raw", $ARGV[0]) or die "$!";
	local $/; my $d = <$fh>;
	$d =~ s/(create_time=)(\d{10})/$1 . ($2 - 86400)/e or die "no create_time";
	seek($fh, 0, 0); print $fh $d; close($fh) or die "$!";
' "$T/link" || bail_out "cannot rewrite $T/link"
rm -f "$T/link"
lu0=$(st .index.live_updates)
wait_for 15 st_ge .index.live_updates $((lu0 + 1))	# nothing sees it
d0=$(st .index_drift)
checks0=$(st .index.checks)
sed -i 's/^rescan_interval = 1h$/rescan_interval = 1s/' "$EBB_CONF"
kill -HUP "$(cat "$T/ebbd.pid")"
if [ "$d0" = 0 ] && wait_for 20 st_ge .index.checks $((checks0 + 1)) &&
    [ "$(st .index_drift)" = 1 ]; then
	ok "the cross-check counts the drift the live path missed"
else
	not_ok "the cross-check counts the drift the live path missed" \
	    "before: $d0" "$(ebbctl --json status | jq -c '{index_drift, index}')"
fi
if grep -q "cross-check scan found drift: 1 messages the live index had wrong, 0 missing, 0 extra (e.g. $4)" \
    "$T/ebbd.out"; then
	ok "... and logs it, naming the message"
else
	not_ok "... and logs it" "$(grep index: "$T/ebbd.out")"
fi

# 6: a clean queue: more cross-checks find nothing more
checks1=$(st .index.checks)
wait_for 15 st_ge .index.checks $((checks1 + 2))
is "$(st .index_drift)" 1 "later cross-checks find no drift"

# 7-8: an overflow: ebbd again, its inotify queue 16 events long; 30 files
# touched overflow it, and the next refresh scans in full
bg_stop ebbd
echo 16 >"$MQE"
sed -i 's/^rescan_interval = 1s$/rescan_interval = 1h/' "$EBB_CONF"
ebbd_start ebbd2 || bail_out "ebbd did not start again"
ebbctl pause >/dev/null
wait_for 15 st_ge .index.live_updates 1 ||
    bail_out "no live update: $(ebbctl --json status 2>&1)"
echo "$OLD_MQE" >"$MQE"
ov0=$(st .index.overflows)
full0=$(st .index.full_scans)
# ebbd's parent stopped while they are touched, so that it cannot read
# the events as fast as they come
pid=$(cat "$T/ebbd2.pid")
kill -STOP "$pid"
find "$PF_SPOOL/hold" -type f | head -30 |
    xargs perl -e 'utime(time, time + 9000, @ARGV) == 30 or die'
rc=$?
kill -CONT "$pid"
[ $rc -eq 0 ] || bail_out "touch failed"
if wait_for 15 st_ge .index.overflows $((ov0 + 1)) &&
    wait_for 15 st_ge .index.full_scans $((full0 + 1)); then
	ok "an overflow of the event queue makes a full scan"
else
	not_ok "an overflow of the event queue makes a full scan" \
	    "$(ebbctl --json status | jq -c .index)"
fi
if grep -q "index: a full scan: the kernel's event queue overflowed" \
    "$T/ebbd2.out"; then
	ok "... and says why"
else
	not_ok "... and says why" "$(grep index: "$T/ebbd2.out")"
fi
bg_stop ebbd2
