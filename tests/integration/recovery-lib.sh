# recovery-lib.sh - the outage lab's real mode: an aged backlog in a private
# Postfix, relayed into ebb-labhost, and its scorecard (sourced after lib.sh
# and labhost-lib.sh; used by bench/recovery.sh and tests/demo.sh)
#
#   recovery_init N CAPACITY FIRST:LAST
#                     the run's numbers: N messages, the host's capacity R
#                     in msg/s, NR = N/R, and bounce deadlines from FIRST to
#                     LAST times N/R after the start (D0, SPAN), as ebb-lab
#                     --deadlines says them
#   recovery_backlog  a private Postfix (pf_create) on the lab's clock,
#                     whose relay is down, holding N deferred messages
#                     (lab_submit: X-Lab-Id lab-1 .. lab-N); left stopped
#   recovery_age A [SPREAD]
#                     age the stopped backlog against the start time A
#                     (epoch seconds): each message's bounce deadline falls
#                     in A + D0 .. A + D0 + SPAN, its next retry (its
#                     file's mtime) in A .. A + SPREAD (default
#                     MAX_BACKOFF); writes "lab_id queue_id create_time
#                     deadline" lines to $T/backlog
#   recovery_relay [OPTION...]
#                     ebb-labhost "lab" on a free port with these model
#                     options (none: the default host), its fake /proc and
#                     /sys in $T/labroot, its log $T/lab.log; Postfix's
#                     relayhost pointed at it
#   recovery_score START END
#                     the scorecard of the run from START to END (epoch
#                     seconds, fractions allowed) as key=value lines
#   recovery_status ELAPSED FILE
#                     one progress line into FILE (atomically)
#   recovery_table N NR FILE[=LABEL]...
#                     the scorecards side by side, one column per FILE
#                     (labelled with LABEL, else its name without .score)
#
# Postfix's clock, scaled 1/30 so that a run lasts minutes, not days
# (chosen so the retries keep their shape against a drain of about N/R):
#   minimal_backoff_time   300s -> 10s
#   maximal_backoff_time  4000s -> 133s
#   queue_run_delay        300s -> 10s
#   maximal_queue_lifetime, bounce_queue_lifetime  5d -> 3600s: the
#       messages are about 55 minutes old at the start, so every deferral
#       backs off the maximum, as after a long outage.
# Bounces go to senders.test, discarded (transport discard:), so they never
# reach the host. Everything else is Postfix's default (20 connections per
# destination, slow start from 5).
MIN_BACKOFF=10
MAX_BACKOFF=133
RUN_DELAY=10
LIFETIME=3600

recovery_init() {
	N=$1
	CAPACITY=$2
	_first=${3%:*} _last=${3#*:}
	NR=$(awk -v n="$N" -v r="$CAPACITY" 'BEGIN { printf "%.1f", n / r }')
	D0=$(awk -v x="$NR" -v f="$_first" 'BEGIN { printf "%d", x * f }')
	SPAN=$(awk -v x="$NR" -v f="$_first" -v l="$_last" \
	    'BEGIN { printf "%d", x * (l - f) }')
}

recovery_backlog() {
	pf_create
	pf_postconf "maximal_queue_lifetime = ${LIFETIME}s" \
	    "bounce_queue_lifetime = ${LIFETIME}s" \
	    "minimal_backoff_time = ${MIN_BACKOFF}s" \
	    "maximal_backoff_time = ${MAX_BACKOFF}s" \
	    "queue_run_delay = ${RUN_DELAY}s"
	echo "senders.test discard:" >>"$PF_CONF/transport"
	pf_start || return 1
	lab_submit "$N" lab 4 || { diag "submitting the backlog failed"; \
	    return 1; }
	pf_wait_count "$N" 600 deferred || {
		diag "expected $N deferred, have $(pf_count deferred)"
		return 1
	}
	pf_stop
}

# Deadline order is unrelated to queue order, and to the order of the next
# retries: two unrelated permutations of the lab ids.
recovery_age() {
	find "$PF_SPOOL/deferred" -type f | perl -e '
		my ($a, $n, $d0, $span, $life, $spread, $out) = @ARGV;
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
			my $retry = $a + int($spread * (($i * 104729) % $n) / $n);
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
	' "$1" "$N" "$D0" "$SPAN" "$LIFETIME" "${2:-$MAX_BACKOFF}" "$T/backlog"
}

recovery_relay() {
	LAB_PORT=$(free_port)
	labhost_start lab "$LAB_PORT" "$T/labroot" "$@" || return 1
	pf_postconf "relayhost = [127.0.0.1]:$LAB_PORT"
}

# Scored from the labhost's event log (a 250 sent = delivered, at its wall
# time) and Postfix's maillog ("status=expired" = bounced): delivered on
# time (by its deadline), late, bounced, left; reboots, messages dropped by
# them, peak temperature, seconds above the passive trip, mean utilization;
# drain time, to be set against N/R and the safe-capacity bound N / safe
# rate.
recovery_score() {
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
		my ($ua, $ub, $params, $safe, $safe_lim);
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
			elsif ($ev eq "start") {
				$safe = $e->{safe_rate};
				$safe_lim = $e->{safe_rate_limits};
			}
			elsif ($ev eq "sample") {
				# the running mean of the host, differenced over the
				# run: a sample is an instant, busy or idle
				$last = $e;
				$ua //= $e if $e->{wall} >= $start;
				$ub = $e if $e->{wall} <= $end;
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
		    "drain_time=%.0f\ndrained=%d\nrun_time=%.0f\nsafe_rate=%s\n" .
		    "safe_rate_limits=%s\n",
		    $n, $on, $late, $bnc, $left, $dup // 0, $reboots, $dropped,
		    $busy, $exit->{temp_peak}, $exit->{above_passive},
		    $ua && $ub && $ub->{mono} > $ua->{mono} ?
		    ($ub->{utilization_avg} * $ub->{mono} -
		    $ua->{utilization_avg} * $ua->{mono}) /
		    ($ub->{mono} - $ua->{mono}) : 0,
		    ($left ? $end : $lastdone) - $start, $left ? 0 : 1,
		    $end - $start, $safe // 0, $safe_lim // $safe // 0;
	' "$T/backlog" "$T/lab.log" "$PF_DIR/maillog" "$1" "$2"
}

recovery_status() {
	_d=$(grep -c '"event":"delivered"' "$T/lab.log")
	_r=$(grep -c '"event":"down"' "$T/lab.log")
	_t=$(tail -1 "$T/labroot/sys/class/thermal/thermal_zone0/temp" \
	    2>/dev/null)
	printf '%ss: %s delivered, %s queued, %s reboots, %s C\n' "$1" \
	    "$_d" "$(pf_count)" "$_r" "$(( ${_t:-0} / 1000 ))" >"$2.tmp"
	mv "$2.tmp" "$2"
}

recovery_table() {
	_n=$1 _nr=$2
	shift 2
	_labels=
	for _a in "$@"; do
		case $_a in
		*=*) _labels="$_labels|${_a#*=}" ;;
		*) _l=${_a##*/}; _labels="$_labels|${_l%.score}" ;;
		esac
	done
	for _a in "$@"; do
		echo "${_a%%=*}"
	done | awk -v n="$_n" -v nr="$_nr" -v labels="${_labels#|}" '
	FNR == NR { file[++np] = $0; next }
	END {
		split(labels, pol, "|")
		for (i = 1; i <= np; i++)
			while ((getline line < file[i]) > 0) {
				split(line, kv, "=")
				v[i, kv[1]] = kv[2]
			}
		trip = v[1, "safe_rate"]
		safe = v[1, "safe_rate_limits"]
		if (!(safe > 0)) safe = trip
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
			printf "%14s", drain(i, 1)
		printf "\n%-28s", "drain time / (N/R)"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(i, nr)
		printf "\n%-28s", "drain time / safe bound"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(i, n / safe)
		printf "\n%-28s", "  / passive-trip bound"
		for (i = 1; i <= np; i++)
			printf "%14s", drain(i, n / trip)
		printf "\n\nN/R = %s s; safe rate %s msg/s (passive trip and ebb'"'"'s " \
		    "default limits, as ebb-lab),\nsafe bound N / safe rate = %.0f s; " \
		    "at the passive trip alone %s msg/s, %.0f s\n",
		    nr, safe, n / safe, trip, n / trip
	}
	# drain - the drain time of column i over unit; ">" when mail was left
	function drain(i, unit,   x) {
		x = v[i, "drain_time"] / unit
		x = unit == 1 ? sprintf("%d", x) : sprintf("%.2f", x)
		return (v[i, "drained"] ? "" : ">") x
	}
	function row(name, key, pct,   i, x) {
		printf "%-28s", name
		for (i = 1; i <= np; i++) {
			x = v[i, key]
			if (pct)
				x = sprintf("%d (%.0f%%)", x, 100 * x / n)
			printf "%14s", x
		}
		printf "\n"
	}
	' -
}
