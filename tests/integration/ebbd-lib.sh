# ebbd-lib.sh - running ebbd in the integration tests (sourced after lib.sh
# and drain-lib.sh)
#
#   ebb_user          make sure the unprivileged user "ebb" exists (the
#                     tests create it; ebbd never does)
#   ebbd_config ...   ebb_config with the control socket under $T/run
#   ebbd_start [NAME] start ebbd -f in the background (bg_start NAME,
#                     default ebbd) and wait for its control socket
#   st KEY            a member of "ebbctl --json status" (jq path)
#
# Under AddressSanitizer, freed memory waits in a quarantine (256 MB by
# default) before it is reused, so a process that frees everything it
# allocates still grows by what it freed. The tests that measure memory
# growth start ebbd with the quarantine off, so that growth means a leak.
case ${ASAN_OPTIONS:-} in
*quarantine_size_mb=*) ;;
*)	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
	ASAN_OPTIONS="$ASAN_OPTIONS:thread_local_quarantine_size_kb=0"
	export ASAN_OPTIONS ;;
esac

# ebb_user - the [general] user ebbd drops to
ebb_user() {
	id ebb >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin ebb >/dev/null 2>&1 ||
	    bail_out "cannot create the user ebb"
}

# ebbd_config - ebb_config plus [control] socket = $T/run/ebbd.sock
ebbd_config() {
	EBBD_SOCK=$T/run/ebbd.sock
	ebb_config '[control]' "socket = $EBBD_SOCK" "$@"
}

ebbd_start() {
	_name=${1:-ebbd}
	rm -f "$EBBD_SOCK"
	bg_start "$_name" "$EBBD" -f -c "$EBB_CONF"
	wait_for 20 test -S "$EBBD_SOCK" || {
		diag "ebbd did not start: $(cat "$T/$_name.out")"
		return 1
	}
}

st() {
	ebbctl --json status | jq -r "$1"
}

# raw LINE... - send each line as is to the control socket (one connection),
# print each answer line; "BIG" sends a line of 5000 bytes
raw() {
	perl -MIO::Socket::UNIX -e '
		$SIG{PIPE} = "IGNORE";
		my $s = IO::Socket::UNIX->new(Peer => shift @ARGV) or
		    die "connect: $!\n";
		for my $l (@ARGV) {
			$l = "{\"command\":\"status\",\"x\":\"" . ("a" x 5000) .
			    "\"}" if $l eq "BIG";
			print $s "$l\n";
			my $a = <$s>;
			last unless defined $a;
			print $a;
		}' "$EBBD_SOCK" "$@"
}

# st_ge KEY N - true when status member KEY is >= N (for wait_for)
st_ge() {
	_v=$(st "$1" 2>/dev/null)
	[ -n "$_v" ] && [ "$_v" != null ] && [ "$_v" -ge "$2" ]
}

# st_eq KEY N - true when status member KEY is N (for wait_for)
st_eq() {
	[ "$(st "$1" 2>/dev/null)" = "$2" ]
}

# ebbd_start_traced - start ebbd under strace, which traces its opens
# into $T/trace and follows the root parent alone (no -f); its pid in
# $parent
ebbd_start_traced() {
	rm -f "$EBBD_SOCK"
	bg_start strace strace -qq -o "$T/trace" \
	    -e trace=open,openat,openat2,creat "$EBBD" -f -c "$EBB_CONF"
	wait_for 20 test -S "$EBBD_SOCK" ||
	    bail_out "ebbd did not start: $(cat "$T/strace.out")"
	parent=$(pgrep -P "$(cat "$T/strace.pid")" -x ebbd)
	[ -n "$parent" ] || bail_out "no ebbd under strace"
}

# queue_opens SPOOL TRACE - the opens of an strace trace: files elsewhere,
# directories of the queue, and not one file below SPOOL (a physical path:
# each is printed, and false); the last line counts the opens. Paths the
# trace shows relative were opened against a queue directory's
# descriptor (the backends open nothing else by a relative path).
queue_opens() {
	perl -ne '
		BEGIN { ($spool) = @ARGV; shift @ARGV; $n = 0; $bad = 0 }
		next unless /^open(at2?)?\((\w+, )?"([^"]*)", ([^,)]*)/;
		my ($path, $flags) = ($3, $4);
		$n++;
		next if $flags =~ /O_DIRECTORY/;
		if ($path =~ m{^\Q$spool\E/} || $path !~ m{^/}) {
			print "opened $path ($flags)\n";
			$bad++;
		}
		END { print "$n opens\n"; exit($bad ? 1 : 0) }
	    ' "$1" "$2"
}

# no_queue_opens SPOOL TRACE NAME [SEEN] - a test: NAME, traced into
# TRACE, opened no file below SPOOL (queue_opens), and the trace shows
# it opened a path matching SEEN (that the right process was traced)
no_queue_opens() {
	if queue_opens "$1" "$2" >"$2.opens" 2>&1 &&
	    { [ -z "$4" ] || grep -q "$4" "$2"; }; then
		ok "$3 opened no queue file ($(tail -n 1 "$2.opens"))"
	else
		not_ok "$3 opened no queue file" "$(head -n 10 "$2.opens")"
	fi
}

# confined_as UID PARENT - "uid-ok no_new_privs seccomp-mode" of the
# process named ebbd under PARENT that runs as UID (all of real,
# effective, saved), with a fourth field for UID 0: its effective,
# permitted and bounding capability sets, ORed (0 when it has none)
confined_as() {
	for _c in $(pgrep -P "$2" -x ebbd); do
		_got=$(awk -v u="$1" '
			/^Uid:/ { uid = ($2 == u && $3 == u && $4 == u) }
			/^Cap(Eff|Prm|Bnd):/ { if ($2 !~ /^0+$/) caps = 1 }
			/^NoNewPrivs:/ { nnp = $2 }
			/^Seccomp:/ { sc = $2 }
			END { if (uid) print 1, nnp, sc (u == 0 ? " " caps + 0 : "") }' \
			"/proc/$_c/status" 2>/dev/null)
		[ -n "$_got" ] && echo "$_got" && return
	done
	echo "no process of ebbd under $2 runs as uid $1"
}
