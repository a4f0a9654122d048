#!/bin/sh
# demo.sh - ebb's claim, side by side on the outage lab's modelled host
# (run by ./quickstart demo)
#
# After an outage, with ebb a mail host delivers more mail before it bounces
# than without it, and does not fall over. The demo shows it on the lab's
# modelled host (ebb-labhost(1)), so it behaves the same on any machine,
# idle or busy: ebb reads the modelled host's fake /proc and /sys, never
# this machine's.
#
# Two private Postfix instances on 127.0.0.1, in temporary directories,
# each take the same backlog (bench/recovery.sh's, through
# tests/integration/recovery-lib.sh): N messages deferred while the relay
# was down, aged so that their bounce deadlines (create_time +
# maximal_queue_lifetime, on the lab's clock scaled 1/30) fall from 0.5 to
# 3.5 N/R after the start, in an order unrelated to the queue's. Each
# relays into an ebb-labhost of its own with the same host model. At the
# start every message falls due at once, as when Postfix comes back after
# being down longer than its maximal backoff, and the backlog is drained
# two ways at the same time:
#   Postfix alone  its Postfix starts at the start, on its own schedule;
#   ebbctl drain   its Postfix is already running (nothing is due before
#                  the start, and its next deferred scan is 7 s away), and
#                  "ebbctl drain" starts at the start, with [sensors]
#                  reading its labhost: it parks the backlog and releases
#                  it earliest deadline first within the governor's budget,
#                  with its progress bar on a terminal (log lines
#                  otherwise).
# Before: "ebbctl backlog --top 6" and "ebbctl sensors" on ebb's side.
# During: a line whenever either host reboots, and the Postfix side's
# progress. After: both scorecards side by side, and what they show.
#
# The host model and the backlog were chosen with the simulator, then
# checked in real runs (both below). A small host of 10 msg/s that heats
# fast (thermal time constant 10 s, not the default 30 s), so that
# Postfix's burst of up to 20 connections takes it to its critical trip in
# about 15 s, not minutes; 300 messages, N/R = 30 s, so that ebb's drain,
# held near the host's safe rate by its 75 C temperature limit, ends in 70
# to 90 s and the demo in about 3 minutes; deadlines 15..105 s after the
# start: an earliest-deadline-first drain at 29% of the capacity, well
# below the safe rate, meets them all (ebb has slack for a busy machine),
# while one reboot (60 s down, the messages in progress dropped, their
# retries 133 s away) makes Postfix miss nearly half. The run stops when
# both queues are empty or after 4 N/R (120 s): past the last deadline,
# before Postfix's retries of what the reboot dropped.
#   ebb-lab run --policy all --capacity 10 --tau 10 --messages 300 \
#       --deadlines 0.5:3.5
#     postfix: 160 on time, 138 late, 2 bounced, 1 reboot, 164 s
#     ebb:     300 on time, 0 reboots, peak 70 C, 71 s (safe bound 56 s)
#   this demo, three runs on a busy 2-core VM (load average 1.4 to 2.8):
#     Postfix alone: 152 to 166 on time, 1 to 4 bounced, 131 to 144 still
#                    queued at 120 s, 1 reboot dropping 20, 9 s above
#                    the passive trip
#     ebbctl drain:  300 on time, 0 reboots, peak 71 to 72 C, 71 to 80 s
#
# usage: tests/demo.sh BUILDDIR
#   EBB_DEMO_HOST=real    the older demo instead: this machine's own /proc
#                         and /sys, a local smtp-sink (tests/demo-real.sh)
#   EBB_DEMO_HOST=sendmail  the drain on a private Sendmail instead
#                         (tests/demo-sendmail.sh; ./quickstart demo sendmail)
#   EBB_DEMO_MESSAGES     the backlog (300 here, 3000 with real)
#   EBB_DEMO_LIMIT        the run's time limit in seconds (4 N/R)
# Needs root. Everything is removed at the end, also on Ctrl-C; the
# system's own Postfix (if any) is never touched.
set -u
case ${EBB_DEMO_HOST:-lab} in
real)	exec sh "$(dirname "$0")/demo-real.sh" "$@" ;;
sendmail) exec sh "$(dirname "$0")/demo-sendmail.sh" "$@" ;;
lab)	;;
*)	echo "demo: EBB_DEMO_HOST is lab, real or sendmail" >&2; exit 64 ;;
esac
top_builddir=$(cd "$1" && pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/labhost-lib.sh"
. "$top_srcdir/tests/integration/recovery-lib.sh"

CAPACITY=10
TAU=10
HOST="--capacity $CAPACITY --tau $TAU"
recovery_init "${EBB_DEMO_MESSAGES:-300}" "$CAPACITY" 0.5:3.5
LIMIT=${EBB_DEMO_LIMIT:-$(awk -v x="$NR" 'BEGIN { printf "%d", 4 * x }')}
SETUP=10		# s from aging to the start: labhosts, backlog, sensors
EARLY=3			# s ebb's Postfix runs before the start

say() {
	printf '\n==> %s\n' "$*"
}

# wait_until T - sleep until the epoch second T
wait_until() {
	while [ "$(date +%s)" -lt "$1" ]; do
		sleep 0.1
	done
}

# run_done START - true when this side's queue is empty or LIMIT is up
run_done() {
	[ "$(pf_count)" -eq 0 ] ||
	    [ $(( $(date +%s) - ${1%.*} )) -ge "$LIMIT" ]
}

# ---------------------------------------------------------------------------
# Postfix alone (the script runs itself with EBB_DEMO_OUT set): its own $T,
# Postfix and labhost; writes $OUT/alone.score

if [ -n "${EBB_DEMO_OUT:-}" ]; then
	OUT=$EBB_DEMO_OUT
	recovery_backlog || bail_out "building the backlog failed"
	echo "$T" >"$OUT/alone.dir"
	wait_for 600 test -s "$OUT/go" || bail_out "no start time"
	A=$(cat "$OUT/go")
	recovery_age "$A" 0 || bail_out "aging the backlog failed"
	# shellcheck disable=SC2086
	recovery_relay $HOST || bail_out "ebb-labhost did not start"
	wait_until "$A"
	START=$(date +%s.%N)
	pf_start || bail_out "postfix did not restart"
	_i=0
	until run_done "$START"; do
		[ $((_i % 5)) -eq 0 ] &&
		    recovery_status "$(( $(date +%s) - A ))" "$OUT/alone.status"
		_i=$((_i + 1))
		sleep 1
	done
	END=$(date +%s.%N)
	recovery_status "$(( $(date +%s) - A ))" "$OUT/alone.status"
	pf_stop
	bg_stop lab
	recovery_score "$START" "$END" >"$T/score" || bail_out "scoring failed"
	mv "$T/score" "$OUT/alone.score"
	exit 0
fi

# ---------------------------------------------------------------------------
# the parent: ebb's side in the foreground, Postfix alone beside it

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it starts private Postfix instances)" >&2
	exit 1
fi
for _b in ebbctl ebb-labhost; do
	[ -x "$top_builddir/$_b" ] || bail_out "$top_builddir/$_b: build first"
done
OUT=$T/out
mkdir -p "$OUT"
KID=

# stop_kid - TERM the Postfix-alone side and wait: it stops its own
# Postfix and labhost and removes its directory
stop_kid() {
	[ -n "$KID" ] || return 0
	kill -TERM "$KID" 2>/dev/null
	wait "$KID" 2>/dev/null
	KID=
}
trap '_rc=$?; stop_kid; (exit $_rc); cleanup' EXIT

# event_lines WHO LOG FROM TO - a line for each reboot and each return in
# lines FROM..TO of LOG, said for WHO
event_lines() {
	[ "$4" -ge "$3" ] || return 0
	sed -n "$3,$4p" "$2" 2>/dev/null | perl -MJSON::PP -ne '
		BEGIN { ($who, $t0) = splice(@ARGV, 0, 2) }
		my $e = eval { decode_json($_) } or next;
		if ($e->{event} eq "down") {
			printf "   %s, %ds: the host hit %.0f C and " .
			    "rebooted (%d connections dropped)\n",
			    $who, $e->{wall} - $t0, $e->{temperature},
			    $e->{connections};
		} elsif ($e->{event} eq "up") {
			printf "   %s, %ds: the host is back up\n", $who,
			    $e->{wall} - $t0;
		}' "$1" "$A"
}

# watch - while the run lasts: a line for each reboot on either side, and
# the Postfix side's progress every 30 s; on a terminal each line first
# clears the drain's progress bar, which redraws below it
watch() {
	_clear=
	[ -t 1 ] && _clear=$(printf '\r\033[K')
	_seen_a=0 _seen_e=0 _s=0
	_alog=$(cat "$OUT/alone.dir")/lab.log
	while :; do
		sleep 1
		_s=$((_s + 1))
		_na=$(wc -l 2>/dev/null <"$_alog" || echo "$_seen_a")
		_ne=$(wc -l 2>/dev/null <"$T/lab.log" || echo "$_seen_e")
		{
			event_lines "Postfix alone" "$_alog" \
			    $((_seen_a + 1)) "$_na"
			event_lines "ebbctl drain" "$T/lab.log" \
			    $((_seen_e + 1)) "$_ne"
			[ $((_s % 30)) -eq 0 ] && [ -f "$OUT/alone.status" ] &&
			    echo "   Postfix alone, $(cat "$OUT/alone.status")"
		} | sed "s/^/$_clear/"
		_seen_a=$_na _seen_e=$_ne
	done
}

say "ebb's claim on the outage lab's modelled host"
echo "    A host of $CAPACITY msg/s, thermal time constant $TAU s;" \
    "$N messages (N/R $NR s)."
echo "    Two private Postfix instances on 127.0.0.1 each take the same"
echo "    backlog while their relay is down; each then relays into an"
echo "    ebb-labhost of its own, with the same host model."
EBB_DEMO_OUT=$OUT sh "$0" "$top_builddir" >"$OUT/alone.out" 2>&1 &
KID=$!
recovery_backlog || bail_out "building the backlog failed"
# the Postfix-alone side has built its backlog too, or has failed
wait_for 600 sh -c "test -s '$OUT/alone.dir' || ! kill -0 $KID"
[ -s "$OUT/alone.dir" ] || {
	tail -20 "$OUT/alone.out"
	bail_out "the Postfix-alone side did not build its backlog"
}
A=$(( $(date +%s) + SETUP ))
echo "$A" >"$OUT/go.tmp" && mv "$OUT/go.tmp" "$OUT/go"
recovery_age "$A" 0 || bail_out "aging the backlog failed"
# shellcheck disable=SC2086
recovery_relay $HOST || bail_out "ebb-labhost did not start"
ebb_config '[sensors]' "proc_root = $T/labroot" "sys_root = $T/labroot"
echo "    Aged: bounce deadlines $D0..$((D0 + SPAN)) s after the start;" \
    "all due at the start."

say "ebbctl backlog: by recipient domain, by age and by time to bounce"
ebbctl backlog --top 6

say "ebbctl sensors: the modelled host as ebb sees it"
ebbctl sensors

wait_until $((A - EARLY))
pf_start || bail_out "postfix did not start"
wait_until "$A"
say "The start: Postfix alone, and beside it ebbctl drain" \
    "(limit $LIMIT s)"
watch &
echo $! >"$T/watch.pid"
START=$(date +%s.%N)
ebbctl drain --for "$LIMIT"
rc=$?
wait_for "$LIMIT" run_done "$START"
END=$(date +%s.%N)
pf_stop
bg_stop lab
recovery_score "$START" "$END" >"$OUT/ebb.score" || bail_out "scoring failed"
say "ebbctl drain ended (exit $rc) after $(awk -v s="$START" \
    -v e="$(date +%s.%N)" 'BEGIN { printf "%d", e - s }') s;" \
    "Postfix alone runs to $LIMIT s at most"
wait "$KID"
KID=
bg_stop watch
[ -f "$OUT/alone.score" ] || {
	echo "The Postfix-alone side failed:"
	tail -20 "$OUT/alone.out"
	exit 1
}

say "The scorecards, side by side"
recovery_table "$N" "$NR" "$OUT/alone.score=Postfix alone" \
    "$OUT/ebb.score=ebbctl drain"
echo
awk -F= -v n="$N" -v limit="$LIMIT" -v last=$((D0 + SPAN)) '
	FNR == 1 { k++ }
	{ v[k, $1] = $2 }
	# lost - what Postfix alone lost, as "1 reboot, 20 dropped, ..."
	function lost(   s, past) {
		s = sprintf("%d reboot%s", v[1, "reboots"],
		    v[1, "reboots"] == 1 ? "" : "s")
		if (v[1, "dropped"] > 0)
			s = s sprintf(", %d messages dropped", v[1, "dropped"])
		if (v[1, "bounced"] > 0)
			s = s sprintf(", %d bounced", v[1, "bounced"])
		past = limit >= last ? " past their deadlines" : ""
		if (v[1, "left"] > 0)
			s = s sprintf(", %d still queued%s after %d s",
			    v[1, "left"], past, limit)
		return s
	}
	END {
		trip = v[2, "above_passive"] == 0 ? "passive" : "critical"
		if (v[2, "reboots"] == 0 && v[1, "reboots"] > 0 &&
		    v[2, "on_time"] > v[1, "on_time"])
			printf "Same host, same backlog: Postfix alone " \
			    "overheated the host (%s) and delivered %d of " \
			    "%d on time; ebbctl drain kept it below its " \
			    "%s trip (peak %.0f C) and delivered %d on " \
			    "time.\n", lost(), v[1, "on_time"], n, trip,
			    v[2, "temp_peak"], v[2, "on_time"]
		else
			printf "This run did not show the claim: Postfix " \
			    "alone %s, %d on time; ebbctl drain %d " \
			    "reboots, %d on time.\n", lost(),
			    v[1, "on_time"], v[2, "reboots"], v[2, "on_time"]
	}' "$OUT/alone.score" "$OUT/ebb.score" | fold -s -w 76
say "Tearing down both Postfix instances and labhosts"
exit 0
