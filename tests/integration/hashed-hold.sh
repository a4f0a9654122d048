#!/bin/sh
# hashed-hold.sh - ebb finds its parked mail when the administrator hashes
# the hold queue: with hash_queue_names = deferred, defer, hold and
# hash_queue_depth = 2, Postfix keeps a held file two directories down
# (hold/X/Y/ID), and ebb must still know it is held: "ebbctl release ID"
# releases it, and ebbd's live index keeps it parked and counted.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd

tap_plan 4
N=12
ebb_user
backlog $N
pf_stop
pf_postconf "hash_queue_names = deferred, defer, hold" "hash_queue_depth = 2"
pf_relay closed
ebbd_config '[drain]' 'max_rate = 1'
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null 2>&1 || bail_out "ebbctl pause failed"
pf_start || bail_out "postfix did not restart"

# 1: everything parked, two levels down
deep() { find "$PF_SPOOL/hold" -mindepth 3 -type f -perm -u+x | wc -l; }
if wait_for 30 sh -c "[ \$(find '$PF_SPOOL/hold' -mindepth 3 -type f \
    -perm -u+x | wc -l) -ge $N ]" && wait_for 15 st_eq .parked $N; then
	ok "parked mail sits in hold/X/Y/ and ebbd counts it"
else
	not_ok "parked mail sits in hold/X/Y/ and ebbd counts it" \
	    "deep files $(deep), status parked $(st .parked)"
fi

# 2-3: release by id finds it there
ID=$(pf_ids hold | head -1)
ebbctl release "$ID" >"$T/rel.out" 2>&1
rc=$?
is "$rc" 0 "release ID of a message in a hashed hold" || diag "$(cat "$T/rel.out")"
if wait_for 15 sh -c "grep -q ' $ID: to=.*status=deferred' '$PF_DIR/maillog'"; then
	ok "it was sent"
else
	not_ok "it was sent" "$(grep " $ID:" "$PF_DIR/maillog" | tail -3)"
fi

# 4: ebbd's index follows: one fewer parked, the rest still counted
if wait_for 20 st_eq .parked $((N - 1)); then
	ok "the others stay parked"
else
	not_ok "the others stay parked" "status parked $(st .parked)"
fi
