#!/bin/sh
# drain-pressure.sh - a fake /proc/loadavg drives pressure: critical pressure
# holds a drain's releases, with a line naming the sensor, until --for ends
# it with mail left parked (exit 75); pressure >= 1 stops releases within
# two sample periods and they resume when it falls, each said once in the
# log
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink

tap_plan 11
N=60
backlog $N
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'
# 4 fake CPUs, load_per_cpu limit 2.0: 9.6 is p = 1.2, 99 is p = 12.4
IDLE="0.01 0.02 0.00 1/120 4242"
LOADED="9.60 5.00 2.00 12/120 4242"
CRITICAL="99.00 50.00 20.00 120/400 4242"

parked() {
	pf_count hold
}

some_parked() {
	[ "$(pf_count hold)" -gt 0 ]
}

# 1-3: critical pressure: park, release nothing, wait it out for --for,
# then exit 75, having said which sensor held it
echo "$CRITICAL" >"$T/root/proc/loadavg"
t0=$(date +%s)
ebbctl drain --for 3 >"$T/critical.out" 2>&1
rc=$?
t1=$(date +%s)
is "$rc $([ $((t1 - t0)) -ge 3 ] && echo waited)" "75 waited" \
    "critical pressure is waited out until --for, then exit 75"
is "$(parked)" $N "nothing released under critical pressure"
if grep -q 'drain: paused p=[0-9.]* sensor=load ratio=[0-9.]*: pressure is critical, releases wait until pressure falls (for up to [0-9]s)' "$T/critical.out"
then
	ok "the log names the sensor and how long the drain waits"
else
	not_ok "the log names the sensor and how long the drain waits" \
	    "$(cat "$T/critical.out")"
fi

# 3-4: the next run picks up what the first parked; p = 1.2 pauses it
echo "$IDLE" >"$T/root/proc/loadavg"
ebbctl drain --max-rate 4 >"$T/drain.out" 2>&1 &
DRAIN=$!
sleep 3
echo "$LOADED" >"$T/root/proc/loadavg"
sleep 2.2			# two sample periods
before=$(parked)
sleep 4
after=$(parked)
if [ "$before" -gt 0 ] && [ "$before" -lt $N ] && [ "$before" -eq "$after" ]
then
	ok "no releases while pressure >= 1 ($after parked)"
else
	not_ok "no releases while pressure >= 1" "before=$before after=$after"
fi
if kill -0 $DRAIN 2>/dev/null; then
	ok "drain waits under pressure"
else
	not_ok "drain waits under pressure" "$(cat "$T/drain.out")"
fi

# 5-8: pressure falls: releases resume after a cautious restart
echo "$IDLE" >"$T/root/proc/loadavg"
sleep 8				# 5 calm samples first
resumed=$(parked)
if [ "$resumed" -lt "$after" ]; then
	ok "releases resume when pressure falls"
else
	not_ok "releases resume when pressure falls" "after=$after now=$resumed"
fi
wait $DRAIN
is "$?" 0 "drain finishes with exit 0"
wait_for 30 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $N ]"
is "$(sent_ids | sort -u | wc -l)" $N "all delivered"
is "$(parked)" 0 "nothing left parked"

# 9-10: without a TTY, one line when releases pause (naming the sensor),
# one when they resume, and no release batch in between
grep -n 'drain: paused \|drain: resumed \|drain: batch=' "$T/drain.out" |
    awk -F: '
	/drain: paused / { np++; if (np == 1) p = $1 }
	/drain: resumed / { nr++; if (nr == 1) r = $1 }
	/drain: batch=/ { if (np && !nr) between++ }
	END { print np + 0, nr + 0, (p && r && p < r) ? "in order" : "out of order",
	    between + 0 }' >"$T/pause.summary"
is "$(cat "$T/pause.summary")" "1 1 in order 0" \
    "pause and resume logged once each, nothing released between"
if grep -q '^ebbctl: drain: paused p=1\.[0-9]* sensor=load ratio=1\.20' \
    "$T/drain.out"; then
	ok "the pause line names the sensor at its limit"
else
	not_ok "the pause line names the sensor at its limit" \
	    "$(grep 'paused' "$T/drain.out")"
fi
