#!/bin/sh
# bench/release.sh [BUILDDIR] - how fast ebb releases parked mail, against
# the shell loop admins write (postsuper -H ID; postqueue -i ID), in one run
#
# ebb: park BENCH_RELEASE_MESSAGES (default 5,000) deferred messages through
# the drain engine, then release them all with an unlimited budget (ledger,
# postsuper -H in batches, the kick). Baseline: the loop over
# BENCH_LOOP_MESSAGES (default 500) held messages. Budget: >= 500/s.
#
# BENCH_MTA=sendmail: the same against a private Sendmail (its relay
# closed, so what is kicked is tried and deferred): ebb parks with -Q and
# releases with -qQ -Q, 100 ids per command, and kicks with -qf -qI
# children; the loop is "sendmail -qQ -Q -qIID; sendmail -qIID" per id.
. "$(dirname "$0")/common.sh"
N=${BENCH_RELEASE_MESSAGES:-5000}
L=${BENCH_LOOP_MESSAGES:-500}

if [ "${BENCH_MTA:-postfix}" = sendmail ]; then
	. "$top_srcdir/tests/integration/sendmail-lib.sh"
	require_sendmail
	echo "building a Sendmail queue of $((N + L)) deferred messages..."
	sm_create
	sm_send alice@senders.test user@d1.test || bail_out "sendmail failed"
	sm_attempt
	sm_clone "$((N + L - 1))" || bail_out "cloning failed"
	# the loop's share: quarantined by hand, by the admin, before ebb runs
	sm_ids qf | head -"$L" >"$T/loop-ids"
	sm_run "-Qby hand" $(sed 's/^/-qI/' "$T/loop-ids") >/dev/null 2>&1
	sm_ebb_config
	set -- $("$top_builddir/bench/releasebench" "$EBB_CONF") ||
	    bail_out "releasebench failed"
	parked=$1 park_s=$2 released=$3 release_s=$4
	loop_s=$(timed sh -c "while read id; do
	    '$SM_BIN' -C '$SM_CF' -qQ -Q -qI\$id;
	    '$SM_BIN' -C '$SM_CF' -qI\$id; done <'$T/loop-ids'")
	ebb_rate=$(awk -v n="$released" -v s="$release_s" 'BEGIN { printf "%.0f", n / s }')
	park_rate=$(awk -v n="$parked" -v s="$park_s" 'BEGIN { printf "%.0f", n / s }')
	loop_rate=$(awk -v n="$L" -v s="$loop_s" 'BEGIN { printf "%.0f", n / s }')
	echo
	echo "ebb parked $parked messages in ${park_s}s: $park_rate/s (scan + ledger + sendmail -Q)"
	echo "ebb released $released messages in ${release_s}s: $ebb_rate/s (ledger + sendmail -qQ -Q + kick; budget >= 500/s)"
	echo "shell loop released $L messages in ${loop_s}s: $loop_rate/s"
	echo "ratio ebb / loop: $(ratio "$ebb_rate" "$loop_rate")"
	exit 0
fi

echo "building a queue of $((N + L)) deferred messages..."
deferred_queue $((N + L))
# the loop's share: held by hand before ebb sees the queue
pf_ids deferred | head -"$L" >"$T/loop-ids"
postsuper -c "$PF_CONF" -h - <"$T/loop-ids" >/dev/null 2>&1
ebb_config

set -- $("$top_builddir/bench/releasebench" "$EBB_CONF") ||
    bail_out "releasebench failed"
parked=$1 park_s=$2 released=$3 release_s=$4
loop_s=$(timed sh -c "while read id; do postsuper -c '$PF_CONF' -H \$id; \
    postqueue -c '$PF_CONF' -i \$id; done <'$T/loop-ids'")
ebb_rate=$(awk -v n="$released" -v s="$release_s" 'BEGIN { printf "%.0f", n / s }')
park_rate=$(awk -v n="$parked" -v s="$park_s" 'BEGIN { printf "%.0f", n / s }')
loop_rate=$(awk -v n="$L" -v s="$loop_s" 'BEGIN { printf "%.0f", n / s }')
echo
echo "ebb parked $parked messages in ${park_s}s: $park_rate/s (scan + ledger + postsuper -h)"
echo "ebb released $released messages in ${release_s}s: $ebb_rate/s (budget >= 500/s)"
echo "shell loop released $L messages in ${loop_s}s: $loop_rate/s"
echo "ratio ebb / loop: $(ratio "$ebb_rate" "$loop_rate")"
