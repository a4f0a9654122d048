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
# Postfix's clock, scaled 1/30 so that a run lasts minutes, not days
# (chosen so the retries keep their shape against a drain of about N/R):
#   minimal_backoff_time   300s -> 10s
#   maximal_backoff_time  4000s -> 133s
#   queue_run_delay        300s -> 10s
#   maximal_queue_lifetime, bounce_queue_lifetime  5d -> 3600s: the
#       messages are about 55 minutes old at the start, so every deferral
#       backs off the maximum, as after a long outage;
# each message's next retry (its file's mtime) is spread uniformly over
# the first maximal_backoff_time of the run: its last failed try fell
# somewhere in the last backoff period of an outage longer than that.
# Bounces go to senders.test, discarded (transport discard:), so they never
# reach the host. Everything else is Postfix's default (20 connections per
# destination, slow start from 5).
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
require_root
require_cmd postfix jq perl useradd
for _b in ebbd ebbctl ebb-labhost; do
	[ -x "$top_builddir/$_b" ] || bail_out "$top_builddir/$_b: build first"
done

N=${EBB_RECOVERY_MESSAGES:-2400}
POLICIES=${EBB_RECOVERY_POLICIES:-postfix flush ebbd}
FLUSH_EVERY=${EBB_RECOVERY_FLUSH_EVERY:-30}
MIN_BACKOFF=10
MAX_BACKOFF=133
RUN_DELAY=10
LIFETIME=3600
SETUP=20			# s from aging to the start: labhost, ebbd
# the default host (lab_host_params_default); printed by ebb-labhost too
CAPACITY=20
NR=$(awk -v n="$N" -v r=$CAPACITY 'BEGIN { printf "%.1f", n / r }')
D0=$(awk -v x="$NR" 'BEGIN { printf "%d", x * 0.5 }')
SPAN=$(awk -v x="$NR" 'BEGIN { printf "%d", x * 2.5 }')
LIMIT=${EBB_RECOVERY_LIMIT:-$(awk -v x="$NR" -v b=$MAX_BACKOFF \
    'BEGIN { l = 4 * x; if (l < 2 * b) l = 2 * b; printf "%d", l }')}
export N FLUSH_EVERY LIMIT

# ---------------------------------------------------------------------------
# one policy (the script runs itself with EBB_RECOVERY_CHILD=POLICY): its
# own $T, Postfix, labhost and ebbd; writes $OUT/POLICY.score

# age_backlog A - deadlines and next retries against start time A; writes
# "lab_id queue_id create_time deadline" lines to $T/backlog
age_backlog() {
	find "$PF_SPOOL/deferred" -type f | perl -e '
		my ($a, $n, $d0, $span, $life, $maxb, $out) = @ARGV;
		open(my $o, ">", $out) or die "$out: $!\n";
		my $k = 0;
		while (my $f = <STDIN>) {
			chomp $f;
			open(my $fh, "+<:raw", $f) or die "$f: $!";
			local $/; my $d = <$fh>;
			$d =~ /X-Lab-Id: lab-(\d+)/ or die "$f: no X-Lab-Id\n";
			my $i = $1;
			# two unrelated permutations of 0..n-1
			my $deadline = $a + $d0 + int($span * (($i * 7919) % $n) / $n);
			my $retry = $a + int($maxb * (($i * 104729) % $n) / $n);
			my $when = $deadline - $life;
			my $head = substr($d, 0, 8192);
			my $m = 0;
			$m++ if $head =~ s/^(C.{1,4}?[ 0-9]{95}T[\x00-\x7f])(\d{10}) /$1$when /s;
			$m++ if $head =~ s/(create_time=)(\d{10})/$1$when/;
			$m == 2 or die "$f: T or create_time not found\n";
			substr($d, 0, length($head)) = $head;
			seek($fh, 0, 0); print $fh $d; close($fh) or die "$f: $!";
			utime($retry, $retry, $f) or die "$f: $!";
			(my $qid = $f) =~ s{.*/}{};
			print $o "lab-$i $qid $when $deadline\n";
			$k++;
		}
		$k == $n or die "aged $k of $n\n";
	' "$1" "$N" "$D0" "$SPAN" "$LIFETIME" "$MAX_BACKOFF" "$T/backlog"
}

# score START END - the scorecard of this run as key=value lines
score() {
	perl -MJSON::PP -MTime::Local -e '
		my ($backlog, $lablog, $maillog, $start, $end) = @ARGV;
		my (%deadline, %qid2lab, %done, %bounced, $dup);
		open(my $b, "<", $backlog) or die "$backlog: $!\n";
		while (<$b>) {
			my ($lab, $qid, $create, $dl) = split;
			$deadline{$lab} = $dl;
			$qid2lab{$qid} = $lab;
		}
		my ($reboots, $dropped, $busy, $exit, $last) = (0, 0, 0);
		my ($usum, $un, $params, $safe) = (0, 0);
		open(my $l, "<", $lablog) or die "$lablog: $!\n";
		while (<$l>) {
			my $e = eval { decode_json($_) } or next;
			my $ev = $e->{event};
			if ($ev eq "delivered" && $e->{reply} &&
			    defined $e->{lab_id} && exists $deadline{$e->{lab_id}}) {
				if (exists $done{$e->{lab_id}}) { $dup++; next }
				$done{$e->{lab_id}} = $e->{wall};
			} elsif ($ev eq "down") { $reboots++ }
			elsif ($ev eq "dropped") { $dropped++ }
			elsif ($ev eq "refused" && $e->{reason} eq "busy") { $busy++ }
			elsif ($ev eq "exit") { $exit = $e }
			elsif ($ev eq "start") { $safe = $e->{safe_rate} }
			elsif ($ev eq "sample") {
				$last = $e;
				if ($e->{wall} >= $start && $e->{wall} <= $end) {
					$usum += $e->{utilization}; $un++;
				}
			}
		}
		$exit //= $last;
		my @now = localtime($end);
		open(my $m, "<", $maillog) or die "$maillog: $!\n";
		my %mon; @mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = 0..11;
		while (<$m>) {
			next unless /^(\w{3})\s+(\d+) (\d+):(\d+):(\d+) .*: ([0-9A-Za-z]+): from=.*status=expired/;
			my $lab = $qid2lab{$6} // next;
			$bounced{$lab} //= timelocal($5, $4, $3, $2, $mon{$1}, $now[5]);
		}
		my ($on, $late, $bnc, $left, $lastdone) = (0, 0, 0, 0, $start);
		for my $lab (keys %deadline) {
			if (exists $done{$lab}) {
				$done{$lab} <= $deadline{$lab} ? $on++ : $late++;
				$lastdone = $done{$lab} if $done{$lab} > $lastdone;
			} elsif (exists $bounced{$lab}) {
				$bnc++;
				$lastdone = $bounced{$lab} if $bounced{$lab} > $lastdone;
			} else {
				$left++;
			}
		}
		my $n = keys %deadline;
		printf "n=%d\non_time=%d\nlate=%d\nbounced=%d\nleft=%d\n" .
		    "duplicates=%d\nreboots=%d\ndropped=%d\nbusy=%d\n" .
		    "temp_peak=%.1f\nabove_passive=%.0f\nutilization=%.2f\n" .
		    "drain_time=%.0f\ndrained=%d\nrun_time=%.0f\nsafe_rate=%s\n",
		    $n, $on, $late, $bnc, $left, $dup // 0, $reboots, $dropped,
		    $busy, $exit->{temp_peak}, $exit->{above_passive},
		    $un ? $usum / $un : 0,
		    ($left ? $end : $lastdone) - $start, $left ? 0 : 1,
		    $end - $start, $safe // 0;
	' "$T/backlog" "$T/lab.log" "$PF_DIR/maillog" "$1" "$2"
}

# status ELAPSED - one progress line for the parent
status() {
	_d=$(grep -c '"event":"delivered"' "$T/lab.log")
	_r=$(grep -c '"event":"down"' "$T/lab.log")
	_t=$(tail -1 "$T/labroot/sys/class/thermal/thermal_zone0/temp" \
	    2>/dev/null)
	printf '%ss: %s delivered, %s queued, %s reboots, %s C\n' "$1" \
	    "$_d" "$(pf_count)" "$_r" "$(( ${_t:-0} / 1000 ))" \
	    >"$OUT/$POLICY.status.tmp"
	mv "$OUT/$POLICY.status.tmp" "$OUT/$POLICY.status"
}

policy_run() {
	pf_create
	pf_postconf "maximal_queue_lifetime = ${LIFETIME}s" \
	    "bounce_queue_lifetime = ${LIFETIME}s" \
	    "minimal_backoff_time = ${MIN_BACKOFF}s" \
	    "maximal_backoff_time = ${MAX_BACKOFF}s" \
	    "queue_run_delay = ${RUN_DELAY}s"
	echo "senders.test discard:" >>"$PF_CONF/transport"
	pf_start || bail_out "postfix did not start"
	lab_submit "$N" lab 4 || bail_out "submitting the backlog failed"
	pf_wait_count "$N" 600 deferred ||
	    bail_out "expected $N deferred, have $(pf_count deferred)"
	pf_stop
	A=$(( $(date +%s) + SETUP ))
	age_backlog "$A" || bail_out "aging the backlog failed"

	LAB_PORT=$(free_port)
	labhost_start lab "$LAB_PORT" "$T/labroot" ||
	    bail_out "ebb-labhost did not start"
	pf_postconf "relayhost = [127.0.0.1]:$LAB_PORT"
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
		[ $((_i % 5)) -eq 0 ] && status "$_i"
		[ "$(pf_count)" -eq 0 ] && break
		sleep 1
		_i=$(( $(date +%s) - ${START%.*} ))
	done
	END=$(date +%s.%N)
	status "$_i"
	bg_stop flush
	[ "$POLICY" = ebbd ] && bg_stop ebbd
	pf_stop
	bg_stop lab
	score "$START" "$END" >"$T/score" || bail_out "scoring failed"
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
# shellcheck disable=SC2086
awk -v n="$N" -v nr="$NR" -v policies="$POLICIES" '
	FNR == 1 { p = FILENAME; sub(/.*\//, "", p); sub(/\.score$/, "", p) }
	{ split($0, kv, "="); v[p, kv[1]] = kv[2] }
	END {
		np = split(policies, pol, " ")
		safe = v[pol[1], "safe_rate"]
		printf "\n%-28s", ""
		for (i = 1; i <= np; i++) printf "%14s", pol[i]
		printf "\n"
		row("delivered on time", "on_time", 1)
		row("delivered late", "late", 1)
		row("bounced", "bounced", 1)
		row("left in the queue", "left", 1)
		row("delivered twice", "duplicates", 0)
		row("reboots", "reboots", 0)
		row("dropped by reboots", "dropped", 0)
		row("peak temperature (C)", "temp_peak", 0)
		row("seconds above passive", "above_passive", 0)
		row("mean utilization", "utilization", 0)
		printf "%-28s", "drain time (s)"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(pol[i], 1)
		printf "\n%-28s", "drain time / (N/R)"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(pol[i], nr)
		printf "\n%-28s", "drain time / safe bound"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(pol[i], n / safe)
		printf "\n\nN/R = %s s; safe rate %s msg/s, safe bound N / safe rate = %.0f s\n",
		    nr, safe, n / safe
	}
	# drain - the drain time of policy p over unit; ">" when mail was left
	function drain(p, unit,   x) {
		x = v[p, "drain_time"] / unit
		x = unit == 1 ? sprintf("%d", x) : sprintf("%.2f", x)
		return (v[p, "drained"] ? "" : ">") x
	}
	function row(name, key, pct,   i, x) {
		printf "%-28s", name
		for (i = 1; i <= np; i++) {
			x = v[pol[i], key]
			if (pct)
				x = sprintf("%d (%.0f%%)", x, 100 * x / n)
			printf "%14s", x
		}
		printf "\n"
	}
' $(for p in $POLICIES; do echo "$OUT/$p.score"; done)
echo "bench time: $(( $(date +%s) - BEGAN )) s"
