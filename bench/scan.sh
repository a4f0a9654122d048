#!/bin/sh
# bench/scan.sh [BUILDDIR] - ebb's queue scan against its baselines, in one run
#
# On a deferred queue of BENCH_MESSAGES (default 100,000) messages, the
# median of BENCH_RUNS (default 5) runs each of: the read floor (walk, open,
# read 1 KiB of every file), ebb's full scan with one thread and with one
# per CPU, postqueue -j and qshape; then ebb's rescan after 1% of the files
# changed, index bytes per message, and ebbctl backlog and list --limit 20
# without ebbd, with no scan cache, a warm one, and a warm one after 1% of
# the files changed. Budgets (issue 12): scan <= 1.1x the floor with one
# thread, >= 3x faster than postqueue -j, index <= 300 bytes per message
# besides the strings, rescan after 1% <= 10% of a full scan; at 1M,
# backlog and list < 5 s with a warm cache.
#
# The million: BENCH_MESSAGES=1000000 BENCH_RUNS=3 bench/scan.sh BUILDDIR
# (about 4 GB in $TMPDIR, removed after; not for CI).
#
# BENCH_MTA=sendmail: the same on a private Sendmail's queue of qf and df
# files (tests/integration/sendmail-lib.sh; the .debs as for its tests),
# against "sendmail -bp" (mailq) instead of postqueue -j and qshape. The
# queue is cloned from one message Sendmail wrote and tried, each copy with
# its own id, sender, recipient and creation time: submitting 100,000
# through sendmail would take most of an hour.
. "$(dirname "$0")/common.sh"
N=${BENCH_MESSAGES:-100000}
RUNS=${BENCH_RUNS:-5}

# col N - the median of column N of stdin
col() {
	awk -v n="$1" '{ print $n }' | median
}

if [ "${BENCH_MTA:-postfix}" = sendmail ]; then
	. "$top_srcdir/tests/integration/sendmail-lib.sh"
	require_sendmail
	echo "building a Sendmail queue of $N deferred messages..."
	sm_create
	sm_send alice@senders.test user@d1.test || bail_out "sendmail failed"
	sm_attempt
	sm_clone "$((N - 1))" || bail_out "cloning failed"
	sm_ebb_config
	for i in $(seq "$RUNS"); do
		"$top_builddir/bench/readfloor" -s "$SM_QUEUE"
	done | awk '{ print $1 }' | median >"$T/floor"
	"$top_builddir/bench/scanbench" "$EBB_CONF" full "$RUNS" >"$T/full" ||
	    bail_out "scanbench failed"
	awk '{ print $1 }' "$T/full" | median >"$T/ebb"
	for i in $(seq "$RUNS"); do timed sm_run -bp; done | median >"$T/mailq"
	"$top_builddir/bench/scanbench" "$EBB_CONF" rescan "$RUNS" \
	    >"$T/rescan" || bail_out "scanbench rescan failed"
	col 1 <"$T/rescan" >"$T/re"
	col 7 <"$T/rescan" >"$T/re.cpu"
	floor=$(cat "$T/floor") ebb=$(cat "$T/ebb") mq=$(cat "$T/mailq")
	re=$(cat "$T/re")
	set -- $(tail -1 "$T/full")
	echo
	echo "scan of $2 Sendmail messages, median of $RUNS runs (seconds):"
	printf '  %-34s %8s\n' "read floor (open + 1 KiB read)" "$floor" \
	    "ebb full scan" "$ebb" "sendmail -bp (mailq)" "$mq" \
	    "ebb rescan, 1% of files changed" "$re"
	echo "ratios:"
	echo "  ebb / floor            $(ratio "$ebb" "$floor")   (budget <= 1.5)"
	echo "  mailq / ebb            $(ratio "$mq" "$ebb")   (budget >= 3)"
	echo "  rescan 1% / full scan  $(ratio "$re" "$ebb")"
	echo "index: $(awk -v b="$3" -v n="$2" 'BEGIN { printf "%.0f", b / n }') bytes per message besides strings"
	exit 0
fi

big_deferred_queue "$N"		# cloned above BENCH_SEED (common.sh)
ebb_config '[general]' 'scan_threads = 1'
cp "$EBB_CONF" "$T/ebb1.conf"
ebb_config
CACHE=$T/state/scan-cache
THREADS=$(getconf _NPROCESSORS_ONLN)

# runs CMD... - "wall_seconds cpu_seconds peak_rss_kB" of RUNS runs of CMD
# (CPU: user and system, children included), one line each. Wall time on
# a busy host says little; CPU time does.
runs() {
	for i in $(seq "$RUNS"); do
		_a=$(date +%s.%N)
		/usr/bin/time -f '%U %S %M' -o "$T/time" "$@" >/dev/null 2>&1
		awk -v a="$_a" -v b="$(date +%s.%N)" \
		    '{ printf "%.4f %.2f %d\n", b - a, $1 + $2, $3 }' "$T/time"
	done
}

# cli NAME cold|warm|touch CMD... - RUNS timed ebbctl runs: with no cache,
# with the cache of the run before, or after a fresh 1% of the files
# changed; medians of seconds into $T/NAME, of CPU seconds $T/NAME.cpu,
# of peak RSS (kB) $T/NAME.rss
cli() {
	_name=$1 _how=$2
	shift 2
	ebbctl "$@" >/dev/null 2>&1	# the cache, warm, for warm and touch
	for i in $(seq "$RUNS"); do
		case $_how in
		cold) rm -f "$CACHE" ;;
		touch) "$top_builddir/bench/scanbench" "$EBB_CONF" touch \
		    "$((i + 50))" ;;
		esac
		RUNS=1 runs "$EBBCTL" -c "$EBB_CONF" "$@"
	done >"$T/$_name.runs"
	col 1 <"$T/$_name.runs" >"$T/$_name"
	col 2 <"$T/$_name.runs" >"$T/$_name.cpu"
	col 3 <"$T/$_name.runs" >"$T/$_name.rss"
}

runs "$top_builddir/bench/readfloor" "$PF_SPOOL" >"$T/floor.runs"
col 1 <"$T/floor.runs" >"$T/floor"
col 2 <"$T/floor.runs" >"$T/floor.cpu"
"$top_builddir/bench/scanbench" "$T/ebb1.conf" full "$RUNS" >"$T/full1" ||
    bail_out "scanbench failed"
col 1 <"$T/full1" >"$T/ebb1"
col 7 <"$T/full1" >"$T/ebb1.cpu"
"$top_builddir/bench/scanbench" "$EBB_CONF" full "$RUNS" >"$T/full" ||
    bail_out "scanbench failed"
col 1 <"$T/full" >"$T/ebb"
col 7 <"$T/full" >"$T/ebb.cpu"
runs postqueue -c "$PF_CONF" -j >"$T/postqueue.runs"
col 1 <"$T/postqueue.runs" >"$T/postqueue"
col 2 <"$T/postqueue.runs" >"$T/postqueue.cpu"
if [ "$N" -le 100000 ]; then
	for i in $(seq "$RUNS"); do timed qshape -c "$PF_CONF" deferred; done |
	    median >"$T/qshape"
else
	echo "-" >"$T/qshape"	# minutes at this size, and not a budget
fi
"$top_builddir/bench/scanbench" "$EBB_CONF" rescan "$RUNS" >"$T/rescan" ||
    bail_out "scanbench rescan failed"
col 1 <"$T/rescan" >"$T/re"
col 7 <"$T/rescan" >"$T/re.cpu"
cli backlog_cold cold backlog
cli backlog_warm warm backlog
cli list_cold cold list --limit 20
cli list_warm warm list --limit 20
cli backlog_touch touch backlog
mkdir -p "$T/cachebench"
"$top_builddir/bench/cachebench" "$T/cachebench" "$N" "$RUNS" \
    >"$T/cachebench.runs" || bail_out "cachebench failed"

floor=$(cat "$T/floor") ebb=$(cat "$T/ebb") ebb1=$(cat "$T/ebb1")
pq=$(cat "$T/postqueue") qs=$(cat "$T/qshape") re=$(cat "$T/re")
set -- $(tail -1 "$T/full")
count=$2 bytes=$3 strings=$4
rss_growth=$(head -1 "$T/full1" | awk '{ print $6 }')
reparsed=$(awk '{ print $5 }' "$T/rescan" | median)
cache_bytes=$(stat -c %s "$CACHE" 2>/dev/null || echo 0)
cpu() {
	cat "$T/$1.cpu" 2>/dev/null || echo -
}
echo
echo "scan of $count deferred messages, median of $RUNS runs (seconds"
echo "of wall time; of CPU time, user and system, of all threads):"
printf '  %-44s %8s %8s\n' "" wall cpu \
    "read floor (open + 1 KiB read, one thread)" "$floor" "$(cpu floor)" \
    "ebb full scan, one thread" "$ebb1" "$(cpu ebb1)" \
    "ebb full scan, $THREADS threads" "$ebb" "$(cpu ebb)" \
    "postqueue -j" "$pq" "$(cpu postqueue)" "qshape deferred" "$qs" - \
    "ebb rescan in memory, 1% of files changed" "$re" "$(cpu re)"
echo "ebbctl without ebbd (seconds, peak RSS):"
for c in backlog_cold backlog_warm backlog_touch list_cold list_warm; do
	case $c in
	backlog_cold) what="backlog, no cache" ;;
	backlog_warm) what="backlog, warm cache" ;;
	backlog_touch) what="backlog, warm cache, 1% of files changed" ;;
	list_cold) what="list --limit 20, no cache" ;;
	list_warm) what="list --limit 20, warm cache" ;;
	esac
	printf '  %-44s %8s %8s %6.0f MB\n' "$what" "$(cat "$T/$c")" \
	    "$(cpu "$c")" "$(awk '{ print $1 / 1024 }' "$T/$c.rss")"
done
echo "ratios (wall time; CPU time):"
echo "  ebb one thread / floor     $(ratio "$ebb1" "$floor"); $(ratio "$(cpu ebb1)" "$(cpu floor)")   (budget <= 1.1)"
echo "  ebb $THREADS threads / floor      $(ratio "$ebb" "$floor")"
echo "  postqueue -j / ebb         $(ratio "$pq" "$ebb"); $(ratio "$(cpu postqueue)" "$(cpu ebb)")   (budget >= 3)"
[ "$qs" != - ] && echo "  qshape / ebb               $(ratio "$qs" "$ebb")"
echo "  rescan 1% / full scan      $(ratio "$re" "$ebb"); $(ratio "$(cpu re)" "$(cpu ebb)")   (budget <= 0.1)"
echo "  backlog 1% changed / full  $(ratio "$(cat "$T/backlog_touch")" "$ebb"); $(ratio "$(cpu backlog_touch)" "$(cpu ebb)")"
echo "index: $(awk -v b="$bytes" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message besides strings (budget <= 300), strings $(awk -v b="$strings" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message"
echo "resident size grew $(awk -v b="$rss_growth" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message in the first one-thread full scan (all of it: index, strings, allocator)"
echo "rescan re-parsed $reparsed files of $count (median)"
echo "scan cache: $(awk -v b="$cache_bytes" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message on disk; for $N messages alone (cachebench), written in $(col 1 <"$T/cachebench.runs") s, loaded in $(col 2 <"$T/cachebench.runs") s"
