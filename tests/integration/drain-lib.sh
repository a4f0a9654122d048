# drain-lib.sh - a deferred backlog for the drain tests (sourced after lib.sh)
#
# backlog N: a private Postfix with N deferred messages from three senders to
# four domains, their ages spread over 0-4.5 days (so their deadlines differ),
# then the relay switched to a running sink so released mail is delivered.

# backlog - build it; sets BACKLOG_IDS (all ids, sorted)
backlog() {
	pf_create
	pf_start || bail_out "postfix did not start"
	pf_submit "$1" || bail_out "smtp-source failed"
	pf_wait_count "$1" 60 deferred ||
	    bail_out "expected $1 deferred, have $(pf_count deferred)"
	pf_stop
	age_all 388800 || bail_out "aging the backlog failed"
	BACKLOG_IDS=$(pf_ids)
	sink_start
	pf_relay sink
	pf_start || bail_out "postfix did not restart"
}

# age_all SPREAD - make the deferred messages 0..SPREAD seconds old, in an
# order unrelated to their queue ids: one perl over every file, rewriting the
# digits of T and create_time= in place as pf_age does (Postfix stopped).
# Each file's mtime, its next retry time, is set an hour ahead, as after a
# failed attempt, so Postfix does not retry the backlog on its own while a
# test or the demo runs: only what ebb releases is delivered.
age_all() {
	find "$PF_SPOOL/deferred" -type f | sort | perl -e '
		my ($spread) = @ARGV;
		my @files = <STDIN>;
		chomp @files;
		my ($i, $n, $now) = (0, scalar @files, time);
		for my $f (@files) {
			my $when = $now - int(($i++ * 7919 % $n) * $spread / $n);
			open(my $fh, "+<:raw", $f) or die "$f: $!";
			local $/; my $d = <$fh>;
			my $head = substr($d, 0, 8192);
			my $k = 0;
			$k++ if $head =~ s/^(C.{1,4}?[ 0-9]{95}T[\x00-\x7f])(\d{10}) /$1$when /s;
			$k++ if $head =~ s/(create_time=)(\d{10})/$1$when/;
			$k == 2 or die "$f: T or create_time not found\n";
			substr($d, 0, length($head)) = $head;
			seek($fh, 0, 0); print $fh $d; close($fh) or die "$f: $!";
			utime($now, $now + 3600, $f) or die "$f: $!";
		}' "$1"
}

# sent_ids - the queue ids the maillog shows delivered, one line per delivery
sent_ids() {
	sed -n 's/.* postfix\/smtp\[[0-9]*\]: \([0-9A-Za-z]*\): to=.* status=sent .*/\1/p' \
	    "$PF_DIR/maillog"
}

# deadlines_sorted FILE - the "released deadline=N" lines of a -v drain log
# are in non-decreasing deadline order
deadlines_sorted() {
	sed -n 's/^ebbctl: [0-9A-Za-z]*: released .*deadline=\([0-9]*\).*/\1/p' \
	    "$1" >"$T/deadlines"
	[ -s "$T/deadlines" ] && sort -n -c "$T/deadlines"
}
