#!/bin/sh
# bench/recovery.sh [BUILDDIR] - issue 13's real mode: the same backlog
# drained three ways into the lab's modelled host, scored side by side
#
# For each policy, in one invocation (in parallel by default, each with
# everything of its own: Postfix, ebb-labhost, ebbd, temporary directory):
#   postfix  Postfix alone, on its own schedule;
#   flush    Postfix plus "postqueue -f" at the start and every 30 s;
#   ebbd     ebbd with the default [drain] and [limits], its [sensors]
#            reading the labhost's fake /proc and /sys, a state directory
#            of its own. It parks the backlog before Postfix starts
#            (paused, so nothing leaves early) and resumes at the start.
#
# The backlog, the same for each: a private Postfix whose relayhost is
# down takes N messages (EBB_RECOVERY_MESSAGES, default 2400), each with a
# unique X-Lab-Id; stopped, they are aged in place (T and create_time, as
# pf_age does) so that their bounce deadlines, create_time +
# maximal_queue_lifetime, fall uniformly from 0.5 N/R to 3 N/R after the
# start (60..360 s for 2400 on the default host, R = its capacity, 20
# msg/s): an earliest-deadline-first drain at a third of the capacity or
# more meets every deadline, and the host's safe rate (12.6 msg/s,
# passive trip) is above that. Deadline order is unrelated to queue order.
#
# Postfix's clock is scaled 1/30 so that a run lasts minutes, not days
# (recovery-lib.sh says how: maximal_backoff_time 133 s, messages about 55
# minutes old at the start, so every deferral backs off the maximum, as
# after a long outage); each message's next retry (its file's mtime) is
# spread uniformly over the first maximal_backoff_time of the run: its last
# failed try fell somewhere in the last backoff period of an outage longer
# than that.
#
# Then: ebb-labhost with the default host model on a free port, the relay
# pointed at it, the policy started at the same moment for all, and the
# run goes until nothing is left in the queue or a time limit of max(4
# N/R, 2 maximal_backoff_time) (EBB_RECOVERY_LIMIT overrides). Scored from
# the labhost's event log (a 250 sent = delivered, at its wall time) and
# Postfix's maillog ("status=expired" = bounced): delivered on time (by
# its deadline), late, bounced, left; reboots, messages dropped by them,
# peak temperature, seconds above the passive trip, mean utilization;
# drain time against N/R and the safe-capacity bound N / safe rate.
#
# The backlog, its aging, the labhost, the scorecard and its table are
# tests/integration/recovery-lib.sh's, shared with the demo (tests/demo.sh).
#
# EBB_RECOVERY_MESSAGES=300 is the quick mode (a smoke test of the
# machinery: 300 messages cannot heat the default host; a few minutes).
# EBB_RECOVERY_POLICIES (default "postfix flush ebbd"),
# EBB_RECOVERY_SERIAL=1 (one policy after another), EBB_RECOVERY_KEEP=DIR
# (copy each policy's logs there). Needs root; removes everything it made.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
. "$top_srcdir/tests/integration/labhost-lib.sh"
. "$top_srcdir/tests/integration/recovery-lib.sh"
require_root
require_cmd postfix jq perl useradd
for _b in ebbd ebbctl ebb-labhost; do
	[ -x "$top_builddir/$_b" ] || bail_out "$top_builddir/$_b: build first"
done

POLICIES=${EBB_RECOVERY_POLICIES:-postfix flush ebbd}
FLUSH_EVERY=${EBB_RECOVERY_FLUSH_EVERY:-30}
SETUP=20			# s from aging to the start: labhost, ebbd
# the default host (lab_host_params_default); printed by ebb-labhost too
recovery_init "${EBB_RECOVERY_MESSAGES:-2400}" 20 0.5:3.0
LIMIT=${EBB_RECOVERY_LIMIT:-$(awk -v x="$NR" -v b=$MAX_BACKOFF \
    'BEGIN { l = 4 * x; if (l < 2 * b) l = 2 * b; printf "%d", l }')}
export N FLUSH_EVERY LIMIT

# ---------------------------------------------------------------------------
# one policy (the script runs itself with EBB_RECOVERY_CHILD=POLICY): its
# own $T, Postfix, labhost and ebbd; writes $OUT/POLICY.score

policy_run() {
	recovery_backlog || bail_out "building the backlog failed"
	A=$(( $(date +%s) + SETUP ))
	recovery_age "$A" || bail_out "aging the backlog failed"
	recovery_relay || bail_out "ebb-labhost did not start"
	if [ "$POLICY" = ebbd ]; then
		ebb_user
		ebbd_config '[sensors]' "proc_root = $T/labroot" \
		    "sys_root = $T/labroot"
		ebbd_start || bail_out "ebbd did not start"
		ebbctl pause >/dev/null || bail_out "ebbctl pause failed"
		wait_for $((SETUP - 2)) st_eq .parked "$N" ||
		    diag "ebbd parked $(st .parked) of $N before the start"
	fi
	while [ "$(date +%s)" -lt "$A" ]; do
		sleep 0.2
	done
	START=$(date +%s.%N)
	pf_start || bail_out "postfix did not restart"
	case $POLICY in
	flush)
		# the sleep goes with the loop when bg_stop ends it
		bg_start flush sh -c "trap 'kill \$s 2>/dev/null; exit 0' TERM
		    while :; do
			postqueue -c '$PF_CONF' -f >/dev/null 2>&1
			sleep $FLUSH_EVERY & s=\$!; wait \$s
		    done"
		;;
	ebbd)
		ebbctl resume >/dev/null || bail_out "ebbctl resume failed"
		;;
	esac
	_i=0
	while [ "$_i" -lt "$LIMIT" ]; do
		[ $((_i % 5)) -eq 0 ] &&
		    recovery_status "$_i" "$OUT/$POLICY.status"
		[ "$(pf_count)" -eq 0 ] && break
		sleep 1
		_i=$(( $(date +%s) - ${START%.*} ))
	done
	END=$(date +%s.%N)
	recovery_status "$_i" "$OUT/$POLICY.status"
	bg_stop flush
	[ "$POLICY" = ebbd ] && bg_stop ebbd
	pf_stop
	bg_stop lab
	recovery_score "$START" "$END" >"$T/score" || bail_out "scoring failed"
	awk -v s="$START" -v a="$A" \
	    'BEGIN { printf "start_skew=%.1f\n", s - a }' >>"$T/score"
	if [ -n "${EBB_RECOVERY_KEEP:-}" ]; then
		mkdir -p "$EBB_RECOVERY_KEEP/$POLICY"
		cp "$T/lab.log" "$T/backlog" "$T/score" "$PF_DIR/maillog" \
		    "$EBB_RECOVERY_KEEP/$POLICY/"
		[ -f "$T/ebbd.out" ] && cp "$T/ebbd.out" \
		    "$EBB_RECOVERY_KEEP/$POLICY/"
	fi
	mv "$T/score" "$OUT/$POLICY.score"
}

if [ -n "${EBB_RECOVERY_CHILD:-}" ]; then
	POLICY=$EBB_RECOVERY_CHILD
	OUT=$EBB_RECOVERY_OUT
	policy_run
	exit 0
fi

# ---------------------------------------------------------------------------
# the parent: the policies side by side

for p in $POLICIES; do
	case $p in
	postfix|flush|ebbd) ;;
	*) bail_out "EBB_RECOVERY_POLICIES: unknown policy $p" ;;
	esac
done
OUT=$T/out
mkdir -p "$OUT"
KIDS=

# stop_kids - TERM each policy still running and wait: each stops its own
# Postfix, labhost and ebbd and removes its directory
stop_kids() {
	for _k in $KIDS; do
		kill -TERM "${_k#*:}" 2>/dev/null
	done
	for _k in $KIDS; do
		wait "${_k#*:}" 2>/dev/null
	done
	KIDS=
}
trap '_rc=$?; stop_kids; (exit $_rc); cleanup' EXIT

# start POLICY - run one policy in the background
start() {
	EBB_RECOVERY_CHILD=$1 EBB_RECOVERY_OUT=$OUT sh "$0" "$top_builddir" \
	    >"$OUT/$1.out" 2>&1 &
	KIDS="$KIDS $1:$!"
}

# running - the policies still running
running() {
	_r=
	for _k in $KIDS; do
		kill -0 "${_k#*:}" 2>/dev/null && _r="$_r ${_k%%:*}"
	done
	echo $_r
}

# watch - a progress line every 30 s until every policy is done
watch() {
	_s=0
	while [ -n "$(running)" ]; do
		sleep 1
		_s=$((_s + 1))
		[ $((_s % 30)) -eq 0 ] || continue
		_line=
		for _p in $POLICIES; do
			_line="$_line  $_p: $(cat "$OUT/$_p.status" 2>/dev/null ||
			    echo 'setting up')"
		done
		echo "[$_s s]$_line"
	done
	stop_kids
}

BEGAN=$(date +%s)
echo "recovery: $N messages, host capacity $CAPACITY msg/s (N/R ${NR} s)," \
    "deadlines $D0..$((D0 + SPAN)) s after the start, limit $LIMIT s"
if [ "${EBB_RECOVERY_SERIAL:-0}" = 1 ]; then
	for p in $POLICIES; do
		echo "running $p..."
		start "$p"
		watch
	done
else
	echo "running $POLICIES in parallel..."
	for p in $POLICIES; do
		start "$p"
	done
	watch
fi

for p in $POLICIES; do
	[ -f "$OUT/$p.score" ] && continue
	echo "policy $p failed:"
	tail -20 "$OUT/$p.out"
	exit 1
done

# the scorecards side by side
# shellcheck disable=SC2046
recovery_table "$N" "$NR" $(for p in $POLICIES; do echo "$OUT/$p.score"; done)
echo "bench time: $(( $(date +%s) - BEGAN )) s"
