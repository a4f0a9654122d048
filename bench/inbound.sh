#!/bin/sh
# bench/inbound.sh [BUILDDIR] - issue 14's real mode: the inbound flood of
# remote senders against a private Postfix, alone and with ebbd's milter,
# scored side by side
#
# For each policy, in one invocation (in parallel by default, each with
# everything of its own: Postfix, ebb-labhost, ebbd, ports, temporary
# directory):
#   postfix  a private Postfix on 127.0.0.1, no milter, relaying to its
#            own ebb-labhost (the default host model: scanning plus
#            mailbox delivery at 20 msg/s that overheats and reboots);
#   ebbd     the same plus ebbd with [milter] enable = yes, action = hold,
#            its [sensors] reading the labhost's fake /proc and /sys, and
#            Postfix's smtpd_milters pointing at ebbd's milter socket
#            (milter_default_action = tempfail, so every verdict is ebb's).
#            Everything else is ebbd's default.
#
# The flood, the same for each: "ebb-lab senders" (src/lab/senders.c's
# remote MTAs: Postfix, Exim with delay_after_cutoff, Exchange Online,
# qmail, Gmail; 2 connections per sender) with EBB_INBOUND_SENDERS (40)
# senders and EBB_INBOUND_MESSAGES (2400) messages after a 4.5-day outage,
# seed EBB_INBOUND_SEED (1), speaking real SMTP to the policy's Postfix.
# Each session claims its sender's own address with XCLIENT (10.X.Y.1,
# which mynetworks lets relay), so the milter's per-client trickle tells
# the senders apart.
#
# Time is compressed C = 24 times (EBB_INBOUND_COMPRESS), as in "ebb-lab
# inbound": the senders' schedules and lifetimes run 24x faster (a lab
# hour is a day), and so do the durations that stand for them: Postfix's
# own (minimal_backoff_time 13s, maximal_backoff_time 167s,
# queue_run_delay 13s, maximal_queue_lifetime and bounce_queue_lifetime
# 5h) and ebbd's [milter] remote_lifetime 5h, domain_lifetimes (Exchange
# Online 1h, Gmail 3h), urgent 30m, trickle 150s. 24 is the most the
# configuration allows: domain_lifetimes takes 1h at least, and Exchange
# Online's 1d / 24 is exactly that. The host, ebbd's sensors and governor
# and the SMTP sessions run in real seconds.
#
# The run: the senders start at the same moment for every policy and go
# until every message is accepted or lost or EBB_INBOUND_LIMIT seconds
# pass (default 2.5 x the safe-capacity bound, N / the host's safe rate);
# then Postfix and ebbd get the rest of the limit to move what they
# accepted to the pipeline. Scored from the senders' event log, the
# labhost's event log (a 250 sent = reached the pipeline) and Postfix's
# maillog (milter-hold = held by ebb): offered, accepted, lost (the
# sender gave up; of which Exim's delay_after_cutoff), pending at the
# senders, held by ebb, tempfailed and rejected sessions, urgent refusals
# (refused within [milter] urgent of the deadline the milter estimates
# from the Received: date and its configured lifetime), reboots, peak
# temperature, seconds above the passive trip, and the time until every
# accepted message reached the pipeline against the safe-capacity bound
# (accepted / the host's safe rate, as "ebb-lab inbound" computes it).
#
# EBB_INBOUND_RUNS=K repeats the whole comparison K times and adds a
# column of medians. EBB_INBOUND_POLICIES (default "postfix ebbd"),
# EBB_INBOUND_SERIAL=1 (one policy after another), EBB_INBOUND_KEEP=DIR
# (copy each policy's logs there). Needs root; removes everything it made.
# A run of 2400 messages takes about 8 minutes on a 2-core machine.
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
for _b in ebbd ebbctl ebb-labhost ebb-lab; do
	[ -x "$top_builddir/$_b" ] || bail_out "$top_builddir/$_b: build first"
done

POLICIES=${EBB_INBOUND_POLICIES:-postfix ebbd}
N=${EBB_INBOUND_MESSAGES:-2400}
SENDERS=${EBB_INBOUND_SENDERS:-40}
SEED=${EBB_INBOUND_SEED:-1}
C=${EBB_INBOUND_COMPRESS:-24}
RUNS=${EBB_INBOUND_RUNS:-1}
SETUP=15			# s from the start of setup to the flood
SAFE_RATE=12.6			# the default host's; checked against its log
LIMIT=${EBB_INBOUND_LIMIT:-$(awk -v n="$N" -v r="$SAFE_RATE" \
    'BEGIN { l = 2.5 * n / r; if (l < 120) l = 120; printf "%d", l }')}
export N SENDERS SEED C LIMIT

# scaled - seconds s / C, at least lo, as "Ns" for main.cf and ebb.conf
scaled() {
	awk -v s="$1" -v c="$C" -v lo="${2:-1}" \
	    'BEGIN { x = int(s / c + 0.5); if (x < lo) x = lo; printf "%ds", x }'
}

# ---------------------------------------------------------------------------
# one policy (the script runs itself with EBB_INBOUND_CHILD=POLICY): its
# own $T, Postfix, labhost and ebbd; writes $OUT/POLICY.score

policy_run() {
	A=$1
	pf_create
	pf_postconf "mynetworks = 127.0.0.0/8 10.0.0.0/8" \
	    "minimal_backoff_time = $(scaled 300)" \
	    "maximal_backoff_time = $(scaled 4000)" \
	    "queue_run_delay = $(scaled 300)" \
	    "maximal_queue_lifetime = $(scaled 432000 3600)" \
	    "bounce_queue_lifetime = $(scaled 432000 3600)" \
	    "default_process_limit = 300"
	recovery_relay || bail_out "ebb-labhost did not start"
	if [ "$POLICY" = ebbd ]; then
		ebb_user
		MSOCK=$T/run/milter/milter.sock
		pf_postconf "smtpd_milters = unix:$MSOCK" \
		    "milter_default_action = tempfail"
		_day=$(scaled 86400 3600) _3d=$(scaled 259200 3600)
		ebbd_config '[sensors]' "proc_root = $T/labroot" \
		    "sys_root = $T/labroot" \
		    '[milter]' 'enable = yes' "socket = unix:$MSOCK" \
		    'action = hold' \
		    "remote_lifetime = $(scaled 432000 3600)" \
		    "domain_lifetimes = outlook.com=$_day hotmail.com=$_day live.com=$_day gmail.com=$_3d googlemail.com=$_3d" \
		    "urgent = $(scaled 43200 60)" \
		    "trickle = $(scaled 3600 60)"
		ebbd_start || bail_out "ebbd did not start"
		wait_for 20 test -S "$MSOCK" ||
		    bail_out "ebbd's milter did not listen"
	fi
	pf_start || bail_out "postfix did not start"
	while [ "$(date +%s)" -lt "$A" ]; do
		sleep 0.2
	done
	bg_start senders "$top_builddir/ebb-lab" senders \
	    --connect "127.0.0.1:$PF_PORT" --messages "$N" \
	    --senders "$SENDERS" --seed "$SEED" --compress "$C" \
	    --duration "$LIMIT" --xclient --events "$T/senders.log"
	START=$(date +%s.%N)
	_i=0
	while [ "$_i" -lt "$LIMIT" ]; do
		[ $((_i % 5)) -eq 0 ] && status "$_i"
		if ! kill -0 "$(cat "$T/senders.pid")" 2>/dev/null &&
		    [ "$(pf_count)" -eq 0 ]; then
			break
		fi
		sleep 1
		_i=$(( $(date +%s) - ${START%.*} ))
	done
	END=$(date +%s.%N)
	status "$_i"
	bg_stop senders
	if [ "$POLICY" = ebbd ]; then
		ebbctl --json status >"$T/ebbd.status" 2>/dev/null
		bg_stop ebbd
	fi
	pf_stop
	bg_stop lab
	score "$START" "$END" >"$T/score" || bail_out "scoring failed"
	if [ -n "${EBB_INBOUND_KEEP:-}" ]; then
		_k=$EBB_INBOUND_KEEP/run$RUN/$POLICY
		mkdir -p "$_k"
		cp "$T/senders.log" "$T/lab.log" "$T/score" "$PF_DIR/maillog" \
		    "$_k/"
		[ -f "$T/ebbd.out" ] && cp "$T/ebbd.out" "$T/ebbd.status" \
		    "$EBB_INBOUND_CONF" "$_k/" 2>/dev/null
	fi
	mv "$T/score" "$OUT/$POLICY.score"
}

# status ELAPSED - one progress line into $OUT/POLICY.status
status() {
	_a=$(grep -c '"event":"accepted"' "$T/senders.log" 2>/dev/null)
	_l=$(grep -c '"event":"lost"' "$T/senders.log" 2>/dev/null)
	_d=$(grep -c '"event":"delivered"' "$T/lab.log")
	_r=$(grep -c '"event":"down"' "$T/lab.log")
	_t=$(tail -1 "$T/labroot/sys/class/thermal/thermal_zone0/temp" \
	    2>/dev/null)
	printf '%ss: %s accepted, %s lost, %s delivered, %s queued, %s reboots, %s C\n' \
	    "$1" "${_a:-0}" "${_l:-0}" "$_d" "$(pf_count)" "$_r" \
	    "$(( ${_t:-0} / 1000 ))" >"$OUT/$POLICY.status.tmp"
	mv "$OUT/$POLICY.status.tmp" "$OUT/$POLICY.status"
}

# score START END - the inbound scorecard as key=value lines
score() {
	perl -MJSON::PP -e '
		my ($senders, $lablog, $maillog, $start, $end, $c) = @ARGV;
		my (%acc, %qid, %done, %life, $endrec);
		my ($refused, $urgent, $lost, $cutoff) = (0, 0, 0, 0);
		# [milter] as bench/inbound.sh configures it, in real seconds
		my $remote = 432000 / $c;
		%life = map { $_ => 86400 / $c }
		    qw(outlook.com hotmail.com live.com);
		$life{$_} = 259200 / $c for qw(gmail.com googlemail.com);
		my $urgent_s = 43200 / $c;
		open(my $s, "<", $senders) or die "$senders: $!\n";
		while (<$s>) {
			my $e = eval { decode_json($_) } or next;
			my $ev = $e->{event};
			if ($ev eq "accepted") {
				$acc{$e->{lab_id}} = $e->{wall};
				$qid{$e->{queue_id}} = $e->{lab_id};
			} elsif ($ev eq "refused") {
				$refused++;
				my $l = $life{$e->{domain}} // $remote;
				$l = 3600 if $l < 3600;
				$urgent++ if $e->{first_queued} + $l - $e->{wall}
				    <= $urgent_s;
			} elsif ($ev eq "end") {
				$endrec = $e;
			}
		}
		$endrec or die "$senders: no end record\n";
		my ($reboots, $dropped, $exit, $last, $safe) = (0, 0);
		my ($ua, $ub);
		open(my $l, "<", $lablog) or die "$lablog: $!\n";
		while (<$l>) {
			my $e = eval { decode_json($_) } or next;
			my $ev = $e->{event};
			if ($ev eq "delivered" && $e->{reply} &&
			    defined $e->{lab_id} && exists $acc{$e->{lab_id}}) {
				$done{$e->{lab_id}} //= $e->{wall};
			} elsif ($ev eq "down") { $reboots++ }
			elsif ($ev eq "dropped") { $dropped++ }
			elsif ($ev eq "exit") { $exit = $e }
			elsif ($ev eq "start") {
				# as ebb-lab: within the default limits of ebb too
				$safe = $e->{safe_rate_limits} // $e->{safe_rate};
			}
			elsif ($ev eq "sample") {
				# the running mean of the host, differenced over the
				# run: a sample is an instant, and a drain that
				# releases once a second is idle at most of them
				$last = $e;
				$ua //= $e if $e->{wall} >= $start;
				$ub = $e if $e->{wall} <= $end;
			}
		}
		$exit //= $last;
		my $held = 0;
		open(my $m, "<", $maillog) or die "$maillog: $!\n";
		while (<$m>) {
			$held++ if /: ([0-9A-Za-z]+): milter-hold: / &&
			    exists $qid{$1};
		}
		my ($lastdone, $lastacc, $undelivered) = ($start, $start, 0);
		for my $id (keys %acc) {
			$lastacc = $acc{$id} if $acc{$id} > $lastacc;
			if (!exists $done{$id}) { $undelivered++; next }
			$lastdone = $done{$id} if $done{$id} > $lastdone;
		}
		my $n = $endrec->{accepted};
		printf "messages=%d\noffered=%d\naccepted=%d\nlost=%d\n" .
		    "lost_cutoff=%d\npending=%d\nheld=%d\nsessions=%d\n" .
		    "tempfailed=%d\nrejected=%d\nconnect_failed=%d\ncut=%d\n" .
		    "urgent_refusals=%d\nreboots=%d\ndropped=%d\n" .
		    "temp_peak=%.1f\nabove_passive=%.0f\nutilization=%.2f\n" .
		    "accept_time=%.1f\npipeline_time=%.1f\nundelivered=%d\n" .
		    "safe_rate=%s\nsafe_bound=%.1f\nrun_time=%.0f\n",
		    $endrec->{messages}, $endrec->{offered}, $n,
		    $endrec->{lost}, $endrec->{lost_cutoff},
		    $endrec->{pending}, $held, $endrec->{sessions},
		    $endrec->{tempfailed}, $endrec->{rejected},
		    $endrec->{connect_failed}, $endrec->{cut}, $urgent,
		    $reboots, $dropped, $exit->{temp_peak},
		    $exit->{above_passive},
		    $ua && $ub && $ub->{mono} > $ua->{mono} ?
		    ($ub->{utilization_avg} * $ub->{mono} -
		    $ua->{utilization_avg} * $ua->{mono}) /
		    ($ub->{mono} - $ua->{mono}) : 0,
		    $lastacc - $start,
		    ($undelivered ? $end : $lastdone) - $start, $undelivered,
		    $safe // 0, $safe ? $n / $safe : 0, $end - $start;
	' "$T/senders.log" "$T/lab.log" "$PF_DIR/maillog" "$1" "$2" "$C"
}

if [ -n "${EBB_INBOUND_CHILD:-}" ]; then
	POLICY=$EBB_INBOUND_CHILD
	OUT=$EBB_INBOUND_OUT
	RUN=$EBB_INBOUND_RUN
	EBB_INBOUND_CONF=$T/ebb.conf
	policy_run "$EBB_INBOUND_AT"
	exit 0
fi

# ---------------------------------------------------------------------------
# the parent: the policies side by side

for p in $POLICIES; do
	case $p in
	postfix|ebbd) ;;
	*) bail_out "EBB_INBOUND_POLICIES: unknown policy $p" ;;
	esac
done
KIDS=

# stop_kids - TERM each policy still running and wait: each stops its own
# Postfix, labhost, ebbd and senders and removes its directory
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

# start POLICY AT - run one policy in the background, its flood at AT
start() {
	EBB_INBOUND_CHILD=$1 EBB_INBOUND_OUT=$OUT EBB_INBOUND_RUN=$RUN \
	    EBB_INBOUND_AT=$2 sh "$0" "$top_builddir" >"$OUT/$1.out" 2>&1 &
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

# table FILE=LABEL... - the scorecards side by side
table() {
	for _a in "$@"; do
		echo "$_a"
	done | awk '
	{ split($0, fl, "="); file[++np] = fl[1]; pol[np] = fl[2] }
	END {
		for (i = 1; i <= np; i++)
			while ((getline line < file[i]) > 0) {
				split(line, kv, "=")
				v[i, kv[1]] = kv[2]
			}
		n = v[1, "messages"]
		printf "\n%-34s", ""
		for (i = 1; i <= np; i++) printf "%16s", pol[i]
		printf "\n"
		row("messages offered (tried)", "offered", 1)
		row("accepted", "accepted", 1)
		row("lost (sender gave up)", "lost", 1)
		row("  of which Exim cutoff", "lost_cutoff", 0)
		row("pending at the senders", "pending", 0)
		row("held by ebb", "held", 0)
		row("SMTP sessions", "sessions", 0)
		row("tempfailed sessions (4xx)", "tempfailed", 0)
		row("rejected sessions (5xx)", "rejected", 0)
		row("urgent refusals", "urgent_refusals", 0)
		row("reboots", "reboots", 0)
		row("dropped by reboots", "dropped", 0)
		row("peak temperature (C)", "temp_peak", 0)
		row("seconds above passive", "above_passive", 0)
		row("mean utilization", "utilization", 0)
		row("last acceptance (s)", "accept_time", 0)
		printf "%-34s", "all accepted in pipeline (s)"
		for (i = 1; i <= np; i++)
			printf "%16s", (v[i, "undelivered"] > 0 ? ">" : "") \
			    v[i, "pipeline_time"]
		printf "\n"
		row("accepted, not in pipeline at end", "undelivered", 0)
		row("safe bound: accepted/safe rate", "safe_bound", 0)
		printf "%-34s", "pipeline time / safe bound"
		for (i = 1; i <= np; i++)
			printf "%16s", (v[i, "undelivered"] > 0 ? ">" : "") \
			    (v[i, "safe_bound"] > 0 ? sprintf("%.2f",
			    v[i, "pipeline_time"] / v[i, "safe_bound"]) : "-")
		printf "\n\n%d messages from %s senders; safe rate %s msg/s " \
		    "(passive trip and ebb'"'"'s default limits, as ebb-lab)\n",
		    n, ENVIRON["SENDERS"], v[1, "safe_rate"]
	}
	function row(name, key, pct,   i, x) {
		printf "%-34s", name
		for (i = 1; i <= np; i++) {
			x = v[i, key]
			if (pct && n > 0)
				x = sprintf("%d (%.1f%%)", x, 100 * x / n)
			printf "%16s", x
		}
		printf "\n"
	}
	'
}

# median_scores POLICY - $T/median.POLICY.score: each key's median over
# the runs
median_scores() {
	cat "$T"/run*/"$1.score" | awk -F= '
	{ v[$1, ++k[$1]] = $2; if (!($1 in seen)) { seen[$1]; key[++nk] = $1 } }
	END {
		for (j = 1; j <= nk; j++) {
			m = k[key[j]]
			for (a = 1; a <= m; a++) x[a] = v[key[j], a] + 0
			for (a = 2; a <= m; a++)
				for (b = a; b > 1 && x[b - 1] > x[b]; b--) {
					t = x[b]; x[b] = x[b - 1]; x[b - 1] = t
				}
			med = m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
			print key[j] "=" med
		}
	}' >"$T/median.$1.score"
}

BEGAN=$(date +%s)
echo "inbound: $N messages from $SENDERS senders (seed $SEED), time" \
    "compressed ${C}x, limit $LIMIT s, policies: $POLICIES"
RUN=1
while [ "$RUN" -le "$RUNS" ]; do
	OUT=$T/run$RUN
	mkdir -p "$OUT"
	if [ "${EBB_INBOUND_SERIAL:-0}" = 1 ]; then
		for p in $POLICIES; do
			echo "run $RUN: $p..."
			start "$p" $(( $(date +%s) + SETUP ))
			watch
		done
	else
		echo "run $RUN: $POLICIES in parallel..."
		_at=$(( $(date +%s) + SETUP ))
		for p in $POLICIES; do
			start "$p" "$_at"
		done
		watch
	fi
	for p in $POLICIES; do
		[ -f "$OUT/$p.score" ] && continue
		echo "policy $p failed:"
		tail -20 "$OUT/$p.out"
		exit 1
	done
	# shellcheck disable=SC2046
	table $(for p in $POLICIES; do echo "$OUT/$p.score=$p"; done)
	RUN=$((RUN + 1))
done
if [ "$RUNS" -gt 1 ]; then
	echo "medians over $RUNS runs:"
	for p in $POLICIES; do
		median_scores "$p"
	done
	# shellcheck disable=SC2046
	table $(for p in $POLICIES; do echo "$T/median.$p.score=$p"; done)
fi
echo "bench time: $(( $(date +%s) - BEGAN )) s"
