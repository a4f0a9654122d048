#!/bin/sh
# bench/rescan.sh [BUILDDIR] - bringing the index up to date after 1% of
# the queue changed: ebbd's live path (inotify, qwatch.h) against a rescan
# and a full scan, in one run
#
# On a deferred queue of BENCH_MESSAGES (default 100,000) messages, the
# median of BENCH_RUNS (default 5) runs of bench/rescanbench: change the
# mtime of a different 1% of the files, then time the live update, the
# rescan (every file stat'ed) and a full scan. Budget (issue 12): the live
# update costs <= 10% of a full scan. Above BENCH_SEED messages the queue
# is cloned, as in bench/scan.sh.
#
# Then the same again with the queue read as ebbd reads it, by a scanner
# process over a socket (mta_remote.h, issue 9), and the scanner's cost:
# each way's median through it against the median in-process, same run.
. "$(dirname "$0")/common.sh"
N=${BENCH_MESSAGES:-100000}
RUNS=${BENCH_RUNS:-5}

big_deferred_queue "$N"		# cloned above BENCH_SEED (common.sh)
ebb_config
make -s -C "$top_builddir" bench/rescanbench >/dev/null ||
    bail_out "make bench failed"
"$top_builddir/bench/rescanbench" "$EBB_CONF" "$RUNS" >"$T/runs" ||
    bail_out "rescanbench failed"
live=$(awk '{ print $1 }' "$T/runs" | median)
re=$(awk '{ print $2 }' "$T/runs" | median)
full=$(awk '{ print $3 }' "$T/runs" | median)
set -- $(tail -1 "$T/runs")
echo
echo "index update after $5 of $4 files changed, median of $RUNS runs (seconds):"
printf '  %-34s %9s\n' "live (inotify, ids read: $6)" "$live" \
    "rescan (stat every file)" "$re" "full scan (fresh index)" "$full"
echo "ratios:"
echo "  live / full scan     $(ratio "$live" "$full")   (budget <= 0.10)"
echo "  rescan / full scan   $(ratio "$re" "$full")"
echo "  live / rescan        $(ratio "$live" "$re")"

"$top_builddir/bench/rescanbench" "$EBB_CONF" "$RUNS" remote >"$T/remote" ||
    bail_out "rescanbench remote failed"
rlive=$(awk '{ print $1 }' "$T/remote" | median)
rre=$(awk '{ print $2 }' "$T/remote" | median)
rfull=$(awk '{ print $3 }' "$T/remote" | median)
echo
echo "the same through ebbd's scanner process, median of $RUNS runs (seconds):"
printf '  %-34s %9s\n' "live" "$rlive" "rescan" "$rre" \
    "full scan (a new scanner, fresh index)" "$rfull"
echo "the scanner's cost, through it / in-process:"
echo "  live                 $(ratio "$rlive" "$live")"
echo "  rescan               $(ratio "$rre" "$re")"
echo "  full scan            $(ratio "$rfull" "$full")"
echo "  live / full scan     $(ratio "$rlive" "$rfull")   (budget <= 0.10)"
