#!/bin/sh
# ebbd-limits.sh - ebbd's child under a file descriptor shortage: started
# with a small "ulimit -n", it is flooded with idle HTTP connections (more
# than it has descriptors); its CPU stays low (no accept loop spinning),
# it keeps descriptors free, a control request and an SMTP transaction
# through the milter (Postfix fails closed, so the verdict is the
# milter's) still answer within a second or so, an accept failure is
# logged a few times at most, not millions, and once the idlers are gone
# the HTTP endpoint serves again. Then idle control connections beyond
# [control] max_connections: at most that many are open at once, each
# is closed after [control] idle_timeout, and a request waiting behind
# them is answered.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-sink jq perl curl timeout pgrep

tap_plan 11
NOFILE=96	# ebbd's descriptors: a few dozen beyond what it needs idle
IDLERS=300	# more idle HTTP connections than that

ebb_user
MPORT=$(free_port)
HPORT=$(free_port)
pf_create
pf_postconf "smtpd_milters = inet:127.0.0.1:$MPORT" \
    'milter_default_action = tempfail' 'milter_connect_timeout = 10s' \
    'milter_command_timeout = 10s'
sink_start
pf_relay sink
pf_start || bail_out "postfix did not start"
ebbd_config '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'client_rate = 0' 'net_rate = 0' \
    '[control]' 'max_connections = 4' 'idle_timeout = 2s' \
    '[http]' "listen = 127.0.0.1:$HPORT"

rm -f "$EBBD_SOCK"
bg_start ebbd sh -c 'ulimit -n "$1" && shift && exec "$@"' sh "$NOFILE" \
    "$EBBD" -f -c "$EBB_CONF"
wait_for 20 test -S "$EBBD_SOCK" && wait_for 10 port_in_use "$MPORT" &&
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$HPORT/summary.json" ||
    bail_out "ebbd did not start: $(cat "$T/ebbd.out")"
PARENT=$(cat "$T/ebbd.pid")
CHILD=$(pgrep -P "$PARENT" ebbd | head -1)
[ -n "$CHILD" ] || bail_out "no child process"
is "$(smtp_try warm@remote.example 60 | cut -d' ' -f1-2)" \
    "mail=250 data=250" "the milter answers before the flood"

# cpu_ticks PID - user + system time of PID so far, in clock ticks
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# elapsed CMD... - run CMD, print the seconds it took (exit status kept)
elapsed() {
	_t0=$(date +%s.%N)
	"$@" >"$T/elapsed.out" 2>&1
	_rc=$?
	awk -v a="$_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }'
	return $_rc
}

# idle PORT N SECS - hold N idle TCP connections to PORT for SECS seconds
# (non-blocking connects: a full backlog does not stop the loop)
idle() {
	perl -MIO::Socket::INET -e '
		my ($port, $n, $secs) = @ARGV;
		my @s;
		for (1 .. $n) {
			my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			    PeerPort => $port, Blocking => 0) or last;
			push @s, $s;
		}
		print scalar(@s), "\n";
		sleep $secs;
	' "$@"
}

# idle_unix PATH N SECS - the same on a unix socket
idle_unix() {
	perl -MIO::Socket::UNIX -e '
		my ($path, $n, $secs) = @ARGV;
		my @s;
		for (1 .. $n) {
			my $s = IO::Socket::UNIX->new(Peer => $path) or last;
			push @s, $s;
		}
		print scalar(@s), "\n";
		sleep $secs;
	' "$@"
}

fds() {
	ls "/proc/$1/fd" | wc -l
}

# 2-7: the flood: idle HTTP connections, 12 s
FD0=$(fds "$CHILD")
idle "$HPORT" "$IDLERS" 12 >"$T/idle-http.out" 2>&1 &
IDLE1=$!
sleep 2
t0=$(cpu_ticks "$CHILD")
sleep 3
t1=$(cpu_ticks "$CHILD")
hz=$(getconf CLK_TCK)
pct=$(( (t1 - t0) * 100 / (3 * hz) ))
if [ "$pct" -le 20 ]; then
	ok "the child stays calm under the flood (${pct}% CPU)"
else
	not_ok "the child stays calm under the flood" "${pct}% CPU over 3 s" \
	    "$(grep -c 'accept' "$T/ebbd.out") accept lines in the log"
fi
took=$(elapsed timeout 10 "$EBBCTL" -c "$EBB_CONF" status)
rc=$?
if [ $rc -eq 0 ] && awk -v t="$took" 'BEGIN { exit !(t <= 1.5) }'; then
	ok "a control request answers within a second (${took} s)"
else
	not_ok "a control request answers within a second" \
	    "exit $rc after ${took} s" "$(head -3 "$T/elapsed.out")"
fi
# (Postfix gives up on a silent milter after 10 s, so this ends)
took=$(elapsed smtp_try flood@remote.example 60)
got=$(cut -d' ' -f1-2 "$T/elapsed.out")
if [ "$got" = "mail=250 data=250" ] &&
    awk -v t="$took" 'BEGIN { exit !(t <= 1.5) }'; then
	ok "an SMTP transaction through the milter answers within a second (${took} s)"
else
	not_ok "an SMTP transaction through the milter answers within a second" \
	    "${took} s: $(cat "$T/elapsed.out")"
fi
check "the child is still running" kill -0 "$CHILD"
fd=$(fds "$CHILD")
if [ "$fd" -le $((NOFILE - 16)) ]; then
	ok "the child keeps descriptors free ($FD0 idle, $fd in the flood, of $NOFILE)"
else
	not_ok "the child keeps descriptors free" "$FD0 idle, $fd in the flood, of $NOFILE"
fi
n=$(grep -c -i 'accept' "$T/ebbd.out")
if [ "$n" -le 10 ]; then
	ok "accept trouble is logged a few times at most ($n lines)"
else
	not_ok "accept trouble is logged a few times at most" "$n lines" \
	    "$(grep -i accept "$T/ebbd.out" | sort | uniq -c | sort -rn | head -3)"
fi
wait "$IDLE1"

# 8-9: the idlers are gone: HTTP serves again, the milter still works
if wait_for 15 curl -sf --max-time 2 -o /dev/null \
    "http://127.0.0.1:$HPORT/summary.json"; then
	ok "HTTP serves again once the idlers are gone"
else
	not_ok "HTTP serves again once the idlers are gone" "$(tail -5 "$T/ebbd.out")"
fi
is "$(smtp_try after@remote.example 60 | cut -d' ' -f1-2)" \
    "mail=250 data=250" "the milter answers after the flood"

# 10-11: ten idle control connections, at most 4 at once, each closed
# after 2 s idle: a request behind them waits its turn, and is answered
idle_unix "$EBBD_SOCK" 10 20 >"$T/idle-ctl.out" 2>&1 &
IDLE2=$!
sleep 1
most=0
for i in 1 2 3 4 5 6 7 8; do
	n=$(( $(fds "$CHILD") - FD0 ))
	[ "$n" -gt "$most" ] && most=$n
	sleep 0.5
done
if [ "$most" -le 4 ]; then
	ok "at most [control] max_connections are open at once ($most)"
else
	not_ok "at most [control] max_connections are open at once" "$most"
fi
took=$(elapsed timeout 20 "$EBBCTL" -c "$EBB_CONF" status)
rc=$?
if [ $rc -eq 0 ] && awk -v t="$took" 'BEGIN { exit !(t <= 8) }'; then
	ok "a request behind idle connections is answered (${took} s)"
else
	not_ok "a request behind idle connections is answered" \
	    "exit $rc after ${took} s" "$(head -3 "$T/elapsed.out")"
fi
kill "$IDLE2" 2>/dev/null
wait "$IDLE2" 2>/dev/null || :
