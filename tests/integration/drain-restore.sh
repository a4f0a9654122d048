#!/bin/sh
# drain-restore.sh - a restored spool strands nothing ebb parked (issue 9,
# finding 3). A drain parks a backlog beside two administrator's holds
# taken from the same backlog (same senders, recipients and sizes as the
# parked mail); Postfix stops, and every hold file is copied back over
# itself, as a restore from a backup does: each gets a new inode, so
# Postfix renames it to a new queue id at start. failsafe must release
# everything ebb parked, under its new id, and neither administrator's
# hold; each message is delivered once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix postcat smtp-source smtp-sink sqlite3
tap_plan 7
N=24

# message_ids QUEUE - the Message-Id of every message in QUEUE, sorted:
# who each message is, whatever its queue id
message_ids() {
	for _id in $(pf_ids "$1"); do
		postcat -c "$PF_CONF" -hq "$_id" 2>/dev/null |
		    sed -n 's/^Message-Id: *//ip'
	done | sort
}

# ledger_parked - the queue ids with an open ledger row, sorted
ledger_parked() {
	sqlite3 -cmd '.timeout 5000' "$T/state/ledger.db" \
	    "SELECT queue_id FROM parked ORDER BY queue_id"
}

backlog $N
ADMIN=$(pf_ids deferred | head -2)
echo "$ADMIN" | postsuper -c "$PF_CONF" -h - >/dev/null 2>&1
pf_wait_count 2 10 hold || bail_out "the administrator's holds failed"
ADMIN_MIDS=$(message_ids hold)
[ "$(echo "$ADMIN_MIDS" | grep -c .)" -eq 2 ] ||
    bail_out "no Message-Id in the held files: $ADMIN_MIDS"
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

# 1: the drain parks the backlog and releases one
ebbctl drain --limit 1 >"$T/park.out" 2>&1
rc=$?
OLD=$(pf_ids hold)
np=$(ledger_parked | grep -c .)
if [ $rc -eq 75 ] && [ "$np" -eq $((N - 3)) ] &&
    [ "$(echo "$OLD" | grep -c .)" -eq $((N - 1)) ]; then
	ok "drain --limit 1 parks $np beside the administrator's 2"
else
	not_ok "drain --limit 1 parks the backlog" "rc=$rc rows=$np" \
	    "hold=$(pf_count hold)" "$(cat "$T/park.out")"
fi

# 2: the restore: every hold file copied over itself, a new inode each
pf_stop
for f in "$PF_SPOOL"/hold/*; do
	cp -p "$f" "$f.restore" && mv -f "$f.restore" "$f" ||
	    bail_out "cannot copy $f"
done
pf_start || bail_out "postfix did not restart"
renamed() {
	[ "$(pf_count hold)" -eq $((N - 1)) ] &&
	    [ -z "$(pf_ids hold | grep -xF "$OLD")" ]
}
if wait_for 30 renamed; then
	ok "Postfix renames every restored hold file"
else
	not_ok "Postfix renames every restored hold file" \
	    "old: $(echo "$OLD" | tr '\n' ' ')" \
	    "now: $(pf_ids hold | tr '\n' ' ')"
fi

# 3-5: failsafe releases all ebb parked, under the new ids, and says so
ebbctl failsafe >"$T/fs.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "failsafe: released $((N - 3)) messages" \
    "$T/fs.out"; then
	ok "failsafe releases the $((N - 3)) messages ebb parked"
else
	not_ok "failsafe releases the $((N - 3)) messages ebb parked" \
	    "rc=$rc; in hold: $(pf_count hold)" "$(cat "$T/fs.out")"
fi
is "$(message_ids hold | tr '\n' ' ')" "$(echo "$ADMIN_MIDS" | tr '\n' ' ')" \
    "the administrator's two holds stay, and nothing else"
if [ "$(grep -c 'stays in hold' "$T/fs.out")" -eq 2 ] &&
    grep -q "found under a new queue id" "$T/fs.out"; then
	ok "failsafe names the two it leaves and the rows it found again"
else
	not_ok "failsafe names what it leaves and finds" "$(cat "$T/fs.out")"
fi

# 6-7: each released message is delivered, once
pf_flush
wait_for 60 pf_count_is 2
sent=$(sent_ids | wc -l)
is "$sent" $((N - 2)) "every message ebb parked is delivered"
is "$(sent_ids | sort | uniq -d | wc -l)" 0 "each once"
