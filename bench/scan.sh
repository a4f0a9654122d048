#!/bin/sh
# bench/scan.sh [BUILDDIR] - ebb's queue scan against its baselines, in one run
#
# On a deferred queue of BENCH_MESSAGES (default 100,000) messages, the
# median of BENCH_RUNS (default 5) runs each of: the read floor (walk, open,
# read 1 KiB of every file), ebb's full scan, postqueue -j and qshape; then
# ebb's rescan after 1% of the files changed, and index bytes per message.
# Budgets (DESIGN.md): scan <= 1.5x the floor, >= 3x faster than postqueue -j,
# index <= 300 bytes per message besides the strings.
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
	awk '{ print $1 }' "$T/rescan" | median >"$T/re"
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

echo "building a queue of $N deferred messages..."
deferred_queue "$N"
pf_stop				# a quiet queue: nothing moves while we measure
ebb_config

for i in $(seq "$RUNS"); do "$top_builddir/bench/readfloor" "$PF_SPOOL"; done |
    awk '{ print $1 }' | median >"$T/floor"
"$top_builddir/bench/scanbench" "$EBB_CONF" full "$RUNS" >"$T/full" ||
    bail_out "scanbench failed"
awk '{ print $1 }' "$T/full" | median >"$T/ebb"
for i in $(seq "$RUNS"); do timed postqueue -c "$PF_CONF" -j; done |
    median >"$T/postqueue"
for i in $(seq "$RUNS"); do timed qshape -c "$PF_CONF" deferred; done |
    median >"$T/qshape"
"$top_builddir/bench/scanbench" "$EBB_CONF" rescan "$RUNS" >"$T/rescan" ||
    bail_out "scanbench rescan failed"
awk '{ print $1 }' "$T/rescan" | median >"$T/re"

floor=$(cat "$T/floor") ebb=$(cat "$T/ebb") pq=$(cat "$T/postqueue")
qs=$(cat "$T/qshape") re=$(cat "$T/re")
set -- $(tail -1 "$T/full")
count=$2 bytes=$3 strings=$4
rss_growth=$(head -1 "$T/full" | awk '{ print $6 }')
reparsed=$(awk '{ print $5 }' "$T/rescan" | median)
echo
echo "scan of $count deferred messages, median of $RUNS runs (seconds):"
printf '  %-34s %8s\n' "read floor (open + 1 KiB read)" "$floor" \
    "ebb full scan" "$ebb" "postqueue -j" "$pq" "qshape deferred" "$qs" \
    "ebb rescan, 1% of files changed" "$re"
echo "ratios:"
echo "  ebb / floor            $(ratio "$ebb" "$floor")   (budget <= 1.5)"
echo "  postqueue -j / ebb     $(ratio "$pq" "$ebb")   (budget >= 3)"
echo "  qshape / ebb           $(ratio "$qs" "$ebb")"
echo "  rescan 1% / full scan  $(ratio "$re" "$ebb")"
echo "index: $(awk -v b="$bytes" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message besides strings (budget <= 300), strings $(awk -v b="$strings" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message"
echo "resident size grew $(awk -v b="$rss_growth" -v n="$count" 'BEGIN { printf "%.0f", b / n }') bytes per message in the first full scan (all of it: index, strings, allocator)"
echo "rescan re-parsed $reparsed files of $count (median)"
