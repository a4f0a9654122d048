#!/bin/sh
# ebbd.sh - ebbd drains a real Postfix backlog while "ebbctl status" is
# polled; pause holds releases still, resume and "rate R" restart them at
# that pace; everything is delivered exactly once; the child is confined;
# SIGTERM stops it
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd sqlite3

tap_plan 19
N=100
ebb_user
backlog $N
# parked before Postfix can deliver on its own: ebbd starts first
pf_stop
ebbd_config '[drain]' 'max_rate = 10' 'increase = 1000'

# 1: no daemon
ebbctl status >"$T/nod.out" 2>&1
rc=$?
if [ $rc -eq 69 ] && grep -q 'ebbd is not running' "$T/nod.out"; then
	ok "status without ebbd says so (exit 69)"
else
	not_ok "status without ebbd says so (exit 69)" "rc=$rc" "$(cat "$T/nod.out")"
fi

# 2: a missing [general] user is a clear startup error
sed 's/^\[general\]$/[general]\nuser = nosuchuser42/' "$EBB_CONF" >"$T/nouser.conf"
"$EBBD" -f -c "$T/nouser.conf" >"$T/nouser.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'nosuchuser42.*does not exist' "$T/nouser.out"; then
	ok "missing user is refused clearly"
else
	not_ok "missing user is refused clearly" "rc=$rc" "$(cat "$T/nouser.out")"
fi

# 3-4: it starts, parks the backlog; status answers with the contract keys
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null
pf_start || bail_out "postfix did not restart"
if wait_for 10 sh -c "[ \$(find '$PF_SPOOL/hold' -type f | wc -l) -gt 0 ]" &&
    [ "$(st .parked)" -gt 0 ]; then
	ok "ebbd parks the backlog"
else
	not_ok "ebbd parks the backlog" "$(ebbctl status 2>&1)"
fi
ebbctl status >"$T/st.txt" 2>&1
if head -1 "$T/st.txt" | grep -q ', PAUSED$' &&
    grep -q '^  psi_cpu  *[0-9.]*% limit  *[0-9.]*% ratio ' "$T/st.txt"; then
	ok "status text: PAUSED, and sensors in their units (psi_cpu in %)"
else
	not_ok "status text: PAUSED, and sensors in their units" \
	    "$(cat "$T/st.txt")"
fi
ebbctl --json status >"$T/st.json" 2>&1
if ! grep -Eq '\.[0-9]{15,}' "$T/st.json"; then
	ok "status --json: no float noise"
else
	not_ok "status --json: no float noise" "$(cat "$T/st.json")"
fi
is "$(ebbctl status --watch --count 2 --json | jq -r .ok | tr '\n' ' ')" \
    "true true " "status --watch --count 2: two answers"
if jq -e '.ok and (.pressure|type=="number") and (.sensors|length==8) and
    (.rate|type=="number") and (.window|type=="number") and
    (.cutoff|type=="number") and .paused and (.queues.hold >= 0) and
    (.at_risk|has("1h")) and (.released|type=="number")' "$T/st.json" \
    >/dev/null; then
	ok "status --json carries the contract keys"
else
	not_ok "status --json carries the contract keys" "$(cat "$T/st.json")"
fi

# 5: paused: nothing is released
r1=$(st .released)
h1=$(pf_count hold)
sleep 2.5
r2=$(st .released)
h2=$(pf_count hold)
if [ "$r1" = "$r2" ] && [ "$h1" = "$h2" ] && [ "$h1" -gt 0 ]; then
	ok "pause holds releases still ($h1 parked)"
else
	not_ok "pause holds releases still" "released $r1 -> $r2" "hold $h1 -> $h2"
fi

# 6-7: rate 2 and resume: releases restart, at that pace
ebbctl rate 2 >/dev/null && ebbctl resume >/dev/null
sleep 3
r3=$(st .released)
d=$((r3 - r2))
if [ "$d" -ge 2 ] && [ "$d" -le 10 ]; then
	ok "resume with rate 2 releases at that pace ($d in 3 s)"
else
	not_ok "resume with rate 2 releases at that pace" "released $d in 3 s"
fi
is "$(st '[.paused, .rate_cap] | @tsv')" "false	2" "status shows the rate cap"

# 8: a usage error is 64, an unknown id is refused by ebbd (1)
ebbctl release 'AB;C' >/dev/null 2>&1
rc1=$?
ebbctl release ABCDEF0123 >/dev/null 2>&1
rc2=$?
is "$rc1/$rc2" "64/1" "bad ids: usage error; unknown id refused"

# 9-10: rate off: the rest drains; every message delivered exactly once
ebbctl rate off >/dev/null
wait_for 40 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $N ]"
sent_ids | sort >"$T/sent"
is "$(wc -l <"$T/sent")" $N "every message delivered"
is "$(sort -u "$T/sent" | wc -l)" $N "each delivered once"

# 11: nothing left parked; the ledger agrees
if wait_for 10 sh -c "[ \$(find '$PF_SPOOL/hold' -type f | wc -l) -eq 0 ]" &&
    [ "$(st .parked)" -eq 0 ]; then
	ok "nothing left parked"
else
	not_ok "nothing left parked" "$(ebbctl status 2>&1)"
fi
wait_for 10 sh -c "'$EBBCTL' -c '$EBB_CONF' status | head -1 |
    grep -q ', idle: nothing parked\$'"
is "$(ebbctl status | head -1 | sed 's/.*, //')" "idle: nothing parked" \
    "status with nothing parked says idle, not draining"

# 12: history samples went to the ledger
n=$(sqlite3 "$T/state/ledger.db" 'SELECT count(*) FROM history' 2>&1)
if [ "$n" -ge 3 ] 2>/dev/null; then
	ok "history samples recorded ($n)"
else
	not_ok "history samples recorded" "$n"
fi

# 13: the child is confined: the ebb user, no_new_privs, the seccomp
# filter; and so is the scanner, as Postfix's mail_owner (the queue's)
want=0
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" && want=2
is "$(confined_as "$(id -u ebb)" "$(cat "$T/ebbd.pid")")" "1 1 $want" \
    "the child runs as ebb with no_new_privs and seccomp mode $want"
is "$(confined_as "$(stat -c %u "$PF_SPOOL/deferred")" \
    "$(cat "$T/ebbd.pid")")" "1 1 $want" \
    "the scanner runs as the queue's owner with no_new_privs and seccomp mode $want"

# 14: SIGTERM stops it within 5 s and removes the socket
pid=$(cat "$T/ebbd.pid")
start=$(date +%s)
kill -TERM "$pid"
wait_for 5 sh -c "! kill -0 $pid" && gone=1 || gone=0
if [ $gone -eq 1 ] && [ ! -e "$EBBD_SOCK" ]; then
	ok "SIGTERM stops ebbd within 5 s ($(( $(date +%s) - start )) s)"
else
	not_ok "SIGTERM stops ebbd within 5 s" "$(tail -5 "$T/ebbd.out")"
fi
exit 0
