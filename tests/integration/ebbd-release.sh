#!/bin/sh
# ebbd-release.sh - "ebbctl release ID" and "ebbctl hold ID" keep ebbd's
# bookkeeping right: after them and a rescan, every queue count in
# "ebbctl --json status" is >= 0 and matches the queue, ebbd logs no
# "history sample out of range", and the history goes on being written.
#
# Part 1 releases two parked messages by id while ebbd is paused; the sink
# delivers them, the next rescan drops them from the index. Part 2, on a
# fresh ebbd with the relay closed, parks a message the drain had released
# (deferred again) by id, lets the drain release it once more, and checks
# the counts after each step.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd sqlite3

tap_plan 12
N=30

# ledger SQL - a query on ebb's ledger (ebbd writes it meanwhile: WAL)
ledger() {
	sqlite3 -cmd '.timeout 5000' "$T/state/ledger.db" "$@"
}

# scan_moved OLD - ebbd finished a rescan since scan_duration was OLD
scan_moved() {
	_s=$(st .scan_duration 2>/dev/null)
	[ -n "$_s" ] && [ "$_s" != null ] && [ "$_s" != "$1" ]
}

# rescans K - wait for K more rescans (ebbd rescans every 5 s)
rescans() {
	for _k in $(seq 1 "$1"); do
		_old=$(st .scan_duration)
		wait_for 15 scan_moved "$_old" || {
			diag "no rescan within 15 s (scan_duration $_old)"
			return 1
		}
	done
}

# queues_line - ebbd's queue counts and the queue's own, for diagnostics
queues_line() {
	printf 'status: %s; queue: incoming %s active %s deferred %s hold %s\n' \
	    "$(ebbctl --json status | jq -c .queues)" "$(pf_count incoming)" "$(pf_count active)" \
	    "$(pf_count deferred)" "$(pf_count hold)"
}

# counts_nonneg - every count in status .queues is >= 0
counts_nonneg() {
	ebbctl --json status | jq -e '.queues | to_entries | length == 4 and
	    all(.value >= 0)' >/dev/null
}

# counts_match Q... - status .queues.Q equals pf_count Q for each Q
counts_match() {
	for _q in "$@"; do
		[ "$(st ".queues.$_q")" = "$(pf_count "$_q")" ] || return 1
	done
}

# history_since T0 - the ledger's history has a sample at or after T0
history_since() {
	_h=$(ledger 'SELECT max(time) FROM history')
	[ -n "$_h" ] && [ "$_h" -ge "$1" ]
}

# check_books PART LOG - tests: counts >= 0, hold matches the queue, no
# "out of range" in LOG, history written after now
check_books() {
	if counts_nonneg; then
		ok "$1: every queue count is >= 0"
	else
		not_ok "$1: every queue count is >= 0" "$(queues_line)"
	fi
	if counts_match hold deferred; then
		ok "$1: hold and deferred counts match the queue"
	else
		not_ok "$1: hold and deferred counts match the queue" \
		    "$(queues_line)"
	fi
	if grep -q 'history sample out of range' "$2"; then
		not_ok "$1: no \"history sample out of range\"" \
		    "$(grep -c 'out of range' "$2") lines in $(basename "$2")," \
		    "$(grep 'out of range' "$2" | head -2)"
	else
		ok "$1: no \"history sample out of range\""
	fi
	_t0=$(date +%s)
	if wait_for 5 history_since "$_t0"; then
		ok "$1: history is still written"
	else
		not_ok "$1: history is still written" \
		    "newest sample $(ledger 'SELECT max(time) FROM history'), now $_t0"
	fi
}

ebb_user
backlog $N
# parked before Postfix can deliver on its own: ebbd starts first
pf_stop
ebbd_config '[drain]' 'max_rate = 2' 'increase = 1000'
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null || bail_out "pause failed"
pf_start || bail_out "postfix did not restart"
wait_for 10 st_ge .parked 3 || bail_out "ebbd parked nothing: $(queues_line)"

# 1-6: release two parked ids; the sink delivers them
IDS=$(ebbctl --json list --queue hold |
    jq -r 'select(.parked_by_ebb) | .queue_id' | head -2)
[ "$(echo "$IDS" | wc -w)" -eq 2 ] || bail_out "no two parked ids: $IDS"
# shellcheck disable=SC2086	# two queue ids
ebbctl release $IDS >"$T/release.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'released 2' "$T/release.out"; then
	ok "release of two parked ids exits 0"
else
	not_ok "release of two parked ids exits 0" "rc=$rc" \
	    "$(cat "$T/release.out")"
fi
sent() {
	for _id in $IDS; do
		grep -q " $_id: to=.*status=sent" "$PF_DIR/maillog" || return 1
	done
}
if wait_for 15 sent; then
	ok "both released messages are delivered"
else
	not_ok "both released messages are delivered" \
	    "$(for id in $IDS; do grep "$id" "$PF_DIR/maillog" | tail -1; done)"
fi
# two rescans: the second one starts after the deliveries
rescans 2 || diag "checking the counts without a rescan seen"
check_books "release" "$T/ebbd.out"

# 7-12: a fresh ebbd (fresh counts), the relay closed, releases at once
bg_stop ebbd
pf_stop
pf_relay closed
pf_start || bail_out "postfix did not restart"
ebbd_config '[drain]' 'max_rate = 1000' 'increase = 1000'
ebbd_start ebbd2 || bail_out "ebbd did not start again"
# the drain releases every parked message; each is deferred again and
# stays there (ebb does not park again what it released within the hour)
if ! wait_for 30 sh -c "[ \$(find '$PF_SPOOL/hold' -type f | wc -l) -eq 0 ] &&
    [ \$(find '$PF_SPOOL/active' '$PF_SPOOL/incoming' -type f | wc -l) -eq 0 ]"; then
	bail_out "the drain did not release everything: $(queues_line)"
fi
ebbctl pause >/dev/null || bail_out "pause failed"
D=$(pf_ids deferred | head -1)
[ -n "$D" ] || bail_out "nothing deferred: $(queues_line)"
ebbctl hold "$D" >"$T/hold.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(pf_ids hold)" = "$D" ] &&
    ebbctl --json list --queue hold | jq -e 'select(.parked_by_ebb)' |
    grep -q "$D"; then
	ok "hold of a deferred id parks it as ebb's"
else
	not_ok "hold of a deferred id parks it as ebb's" "rc=$rc" \
	    "$(cat "$T/hold.out")" "hold: $(pf_ids hold | tr '\n' ' ')"
fi
rescans 1 || diag "checking the counts without a rescan seen"
if counts_match hold deferred; then
	ok "hold: hold and deferred counts match the queue after a rescan"
else
	not_ok "hold: hold and deferred counts match the queue after a rescan" \
	    "$(queues_line)"
fi
# the drain releases it again (to the closed relay: deferred once more)
hold_empty() {
	[ "$(find "$PF_SPOOL/hold" -type f | wc -l)" -eq 0 ]
}
ebbctl resume >/dev/null
if ! wait_for 15 hold_empty; then
	diag "the drain did not release $D: $(queues_line)"
fi
rescans 2 || diag "checking the counts without a rescan seen"
check_books "hold, then released by the drain" "$T/ebbd2.out"
exit 0
