# labhost-lib.sh - ebb-labhost in the tests and bench/recovery.sh (sourced
# after lib.sh)
#
#   labhost_start NAME PORT ROOT [OPTION...]
#                     start ebb-labhost in the background (bg_start NAME,
#                     so the EXIT trap stops it), listening on PORT, its
#                     fake /proc and /sys under ROOT, its event log in
#                     $T/NAME.log; waits for its pidfile, which it writes
#                     once it listens and the fake files exist
#   lab_submit N PREFIX [SESSIONS]
#                     submit N messages to the private Postfix over SMTP,
#                     each with "X-Lab-Id: PREFIX-i" and "Message-ID:
#                     <PREFIX-i@lab.test>" (i = 1..N), from
#                     sender@senders.test to user@dK.test, in SESSIONS
#                     parallel sessions (default 4)
#   lab_events NAME EVENT
#                     how many EVENT lines $T/NAME.log has
#   lab_qids          "LAB_ID QUEUE_ID" for each message the maillog shows
#                     cleanup took (its message-id= line)
#   smtp_probe PORT   one SMTP transaction straight to PORT; prints the
#                     greeting code (or EOF), then the reply code to the
#                     final "." and the seconds it took
EBB_LABHOST=$top_builddir/ebb-labhost

labhost_start() {
	_lname=$1 _lport=$2 _lroot=$3
	shift 3
	rm -f "$T/$_lname.pid.lab"
	bg_start "$_lname" "$EBB_LABHOST" --listen "127.0.0.1:$_lport" \
	    --root "$_lroot" --log "$T/$_lname.log" \
	    --pidfile "$T/$_lname.pid.lab" "$@"
	wait_for 10 test -s "$T/$_lname.pid.lab" || {
		diag "ebb-labhost did not start: $(cat "$T/$_lname.out")"
		return 1
	}
}

lab_submit() {
	perl -MIO::Socket::INET -e '
		my ($port, $n, $prefix, $k) = @ARGV;
		my @kids;
		for my $s (0 .. $k - 1) {
			my $pid = fork() // die "fork: $!\n";
			if ($pid) { push @kids, $pid; next }
			my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			    PeerPort => $port, Timeout => 60)
			    or die "connect: $!\n";
			my $reply = sub { my $l;
				do { $l = <$c>; defined $l or die "eof\n" }
				    while ($l =~ /^\d{3}-/);
				return $l };
			my $cmd = sub { print $c "$_[0]\r\n"; my $r = $reply->();
				$r =~ /^$_[1]/ or die "$_[0]: $r"; };
			$reply->() =~ /^220/ or die "no greeting\n";
			$cmd->("EHLO submit.test", 250);
			for (my $i = $s + 1; $i <= $n; $i += $k) {
				my $d = "d" . ($i % 4 + 1);
				$cmd->("MAIL FROM:<sender\@senders.test>", 250);
				$cmd->("RCPT TO:<user\@$d.test>", 250);
				$cmd->("DATA", 354);
				print $c "From: <sender\@senders.test>\r\n" .
				    "To: <user\@$d.test>\r\n" .
				    "Subject: backlog $i\r\n" .
				    "Message-ID: <$prefix-$i\@lab.test>\r\n" .
				    "X-Lab-Id: $prefix-$i\r\n\r\n" .
				    ("a line of the body of a queued message\r\n"
				    x 8) . ".\r\n";
				my $r = $reply->();
				$r =~ /^250/ or die "message $i: $r";
			}
			$cmd->("QUIT", 221);
			exit 0;
		}
		my $rc = 0;
		for (@kids) { waitpid($_, 0); $rc = 1 if $? }
		exit $rc;
	' "$PF_PORT" "$1" "$2" "${3:-4}"
}

lab_events() {
	grep -c "^{\"event\":\"$2\"" "$T/$1.log"
}

lab_qids() {
	sed -n 's/.* postfix\/cleanup\[[0-9]*\]: \([0-9A-Za-z]*\): message-id=<\([^@>]*\)@lab\.test>.*/\2 \1/p' \
	    "$PF_DIR/maillog"
}

smtp_probe() {
	perl -MIO::Socket::INET -MTime::HiRes=time -e '
		my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $ARGV[0], Timeout => 30) or
		    do { print "CONNECT\n"; exit 0 };
		my $reply = sub { my $l;
			do { $l = <$c>; return "EOF" unless defined $l }
			    while ($l =~ /^\d{3}-/);
			return substr($l, 0, 3) };
		my $g = $reply->();
		print "$g\n";
		exit 0 if $g ne "220";
		for my $l ("EHLO probe.test", "MAIL FROM:<p\@probe.test>",
		    "RCPT TO:<q\@probe.test>", "DATA") {
			print $c "$l\r\n";
			$reply->();
		}
		my $t = time;
		print $c "X-Lab-Id: probe\r\n\r\nprobe\r\n.\r\n";
		my $r = $reply->();
		printf "%s %.3f\n", $r, time - $t;
		print $c "QUIT\r\n";
	' "$1"
}
