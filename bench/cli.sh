#!/bin/sh
# bench/cli.sh [BUILDDIR] - "ebbctl backlog" and "list --limit 20", answered
# by ebbd against scanning the queue, in one run
#
# A private Postfix (stopped) with BENCH_MESSAGES (default 100,000)
# deferred messages: BENCH_SEED (default 200) submitted over SMTP and
# deferred, then copied under fresh queue ids into the hashed deferred
# directories (submitting 100,000 takes far longer). ebbd starts on it
# under a fake overload, parks it all and releases nothing, so the queue
# holds still. Then the median of BENCH_RUNS (default 5) runs, wall
# seconds, of each command with ebbd answering, asked just after one of
# its rescans and at any time (and the slowest: a request that comes while
# ebbd rescans waits for it), and with --scan, how long
# ebbd's loop spent on an answer (its
# "answer_seconds"), and ebbctl's peak resident size.
# Goal (issue 12): < 1 s with ebbd at 1,000,000 messages.
. "$(dirname "$0")/common.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
N=${BENCH_MESSAGES:-100000}
SEED=${BENCH_SEED:-200}
RUNS=${BENCH_RUNS:-5}
require_cmd jq perl useradd

# clone_deferred N - copy the deferred queue's files under fresh short
# queue ids (hex; the first digit is the hash directory, as Postfix's
# hash_queue_depth 1) until it holds N; Postfix must be stopped
clone_deferred() {
	find "$PF_SPOOL/deferred" -type f | perl -e '
		use File::Copy;
		my ($n, $dir) = @ARGV;
		my @src = map { chomp; $_ } <STDIN>;
		my $have = @src;
		for my $h (0..9, "A".."F") {
			mkdir "$dir/$h", 0700 unless -d "$dir/$h";
		}
		my ($uid, $gid) = (stat $src[0])[4, 5];
		for (my $i = 0; $have < $n; $i++) {
			my $id = sprintf("%X%010X", $i % 16, 0xE000000000 + $i);
			my $to = "$dir/" . substr($id, 0, 1) . "/$id";
			my $from = $src[$i % @src];
			copy($from, $to) or die "$to: $!\n";
			chown $uid, $gid, $to;
			chmod 0700, $to;
			$have++;
		}' "$1" "$PF_SPOOL/deferred"
	chown -R postfix "$PF_SPOOL/deferred"
}

# runs CMD... - the median and the largest wall seconds of ebbctl CMD
runs() {
	for _i in $(seq "$RUNS"); do timed "$EBBCTL" -c "$EBB_CONF" "$@"; done \
	    >"$T/runs"
	echo "$(median <"$T/runs") $(sort -g "$T/runs" | tail -1)"
}

# idle - ebbd finished a rescan less than 2 s ago (the next is 5 s after)
idle() {
	[ "$(st '.index_age < 2')" = true ]
}

# runs_idle CMD... - the median wall seconds of ebbctl CMD sent while ebbd
# is not rescanning
runs_idle() {
	for _i in $(seq "$RUNS"); do
		wait_for 120 idle || bail_out "ebbd never finished a rescan"
		timed "$EBBCTL" -c "$EBB_CONF" "$@"
	done | median
}

# peak_kb CMD... - ebbctl's peak resident size, KiB
peak_kb() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M "$EBBCTL" -c "$EBB_CONF" "$@" 2>&1 >/dev/null |
		    tail -1
	else
		echo -
	fi
}

echo "building a queue of $N deferred messages ($SEED submitted, the rest copied)..."
ebb_user
deferred_queue "$SEED"
pf_stop
clone_deferred "$N" || bail_out "cloning failed"
have=$(pf_count deferred)
[ "$have" -ge "$N" ] || bail_out "expected $N deferred, have $have"
ebbd_config
# overload: ebbd parks everything and releases nothing
echo "40.00 40.00 40.00 41/120 4242" >"$T/root/proc/loadavg"
start=$(date +%s)
ebbd_start || bail_out "ebbd did not start"
wait_for 1200 st_eq .parked "$N" ||
    bail_out "ebbd parked $(st .parked) of $N: $(tail -3 "$T/ebbd.out")"
echo "ebbd started and parked $N in $(( $(date +%s) - start )) s"

"$EBBCTL" -c "$EBB_CONF" backlog >/dev/null 2>"$T/err"
[ -s "$T/err" ] && bail_out "ebbd did not answer backlog: $(cat "$T/err")"
"$EBBCTL" -c "$EBB_CONF" list --limit 20 >/dev/null 2>"$T/err"
[ -s "$T/err" ] && bail_out "ebbd did not answer list: $(cat "$T/err")"

b_idle=$(runs_idle backlog)
l_idle=$(runs_idle list --limit 20)
set -- $(runs backlog)
b_ebbd=$1 b_ebbd_max=$2
b_scan=$(runs backlog --scan | cut -d' ' -f1)
set -- $(runs list --limit 20)
l_ebbd=$1 l_ebbd_max=$2
l_scan=$(runs list --limit 20 --scan | cut -d' ' -f1)
for i in $(seq "$RUNS"); do
	raw '{"command":"backlog"}' | jq .answer_seconds
done | median | xargs printf '%.4f' >"$T/ab"
for i in $(seq "$RUNS"); do
	raw '{"command":"list","limit":20}' | jq .answer_seconds
done | median | xargs printf '%.4f' >"$T/al"
for i in $(seq "$RUNS"); do
	raw '{"command":"list","limit":1000,"sort":"size"}' | jq .answer_seconds
done | median | xargs printf '%.4f' >"$T/al1000"
scan=$(st .scan_duration)
age=$(raw '{"command":"backlog"}' | jq .index_age | xargs printf '%.1f')
scan=$(printf '%.2f' "$scan")

echo
echo "$N messages, median of $RUNS runs (wall seconds):"
printf '  %-24s %10s %8s %10s %8s %7s\n' "" "ebbd idle" "ebbd" "(slowest)" \
    "--scan" "ratio"
printf '  %-24s %10s %8s %10s %8s %7s\n' "ebbctl backlog" "$b_idle" "$b_ebbd" \
    "($b_ebbd_max)" "$b_scan" "$(ratio "$b_scan" "$b_idle")"
printf '  %-24s %10s %8s %10s %8s %7s\n' "ebbctl list --limit 20" "$l_idle" \
    "$l_ebbd" "($l_ebbd_max)" "$l_scan" "$(ratio "$l_scan" "$l_idle")"
echo "(ebbd idle: asked within 2 s after a rescan; ebbd: asked at any time,"
echo " so also while ebbd rescans, which it does every 5 s after the last;"
echo " after 5 s without an answer ebbctl scans by itself)"
echo "ebbd's loop per answer (answer_seconds, median): backlog $(cat "$T/ab"), list --limit 20 $(cat "$T/al"), list --limit 1000 --sort size $(cat "$T/al1000")"
echo "ebbd's last rescan took $scan s; index age at the end $age s"
wait_for 120 idle
rb=$(peak_kb backlog)
wait_for 120 idle
rl=$(peak_kb list --limit 20)
echo "ebbctl peak RSS (KiB), ebbd idle: backlog $rb (--scan $(peak_kb backlog --scan)), list --limit 20 $rl (--scan $(peak_kb list --limit 20 --scan))"
