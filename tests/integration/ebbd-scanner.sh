#!/bin/sh
# ebbd-scanner.sh - ebbd's root parent opens no queue file (issue 9). It
# runs under strace, which follows it and not its children, through its
# start (the scan that parks the backlog), live refreshes as new mail
# comes and goes, "ebbctl list" (the reasons Postfix logged, read from its
# defer logs) and a drain that releases and delivers everything. Every
# file the parent opens is logged, and none lies below the queue
# directory, other than the directories themselves: the scanner reads
# the files. Then "ebbctl failsafe", run as root, reads the queue the
# same way: traced alike, it opens no queue file either, and still finds
# the administrator's holds it must leave. (ebbd.sh checks the scanner's
# user and filter; test_sandbox what the filter refuses.)
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq strace useradd

tap_plan 6
N=30
ebb_user
backlog $N
ebbd_config
ebbd_start_traced
ebbctl pause >/dev/null

# 1: the start's scan, done by the scanner, parked the backlog
if wait_for 20 st_eq .parked $N; then
	ok "the backlog is parked ($N)"
else
	not_ok "the backlog is parked" "$(ebbctl status 2>&1)"
fi

# 2: new mail comes and goes: the live index hears of it, by refreshes
ref0=$(st .index.refreshed)
pf_submit 5 || bail_out "smtp-source failed"
if wait_for 30 st_ge .index.refreshed $((ref0 + 5)); then
	ok "mail that came and went reached the index by refreshes"
else
	not_ok "mail that came and went reached the index by refreshes" \
	    "$(ebbctl --json status | jq -c .index)"
fi

# 3: ebbd answers "list" with Postfix's reasons, from the defer logs
ebbctl --json list --limit 5 >"$T/list" 2>"$T/list.err"
n=$(jq -r 'select(.parked_by_ebb and (.delay_reason // "") != "") |
    .queue_id' "$T/list" 2>/dev/null | wc -l)
# no note on stderr: ebbd answered, it did not scan for itself
if [ ! -s "$T/list.err" ] && [ "$n" -eq 5 ]; then
	ok "ebbd lists parked mail with Postfix's reasons ($n of 5)"
else
	not_ok "ebbd lists parked mail with Postfix's reasons" \
	    "$(head -c 600 "$T/list") $(cat "$T/list.err")"
fi

# 4: the drain delivers everything
ebbctl resume >/dev/null
if wait_for 60 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') \
    -ge $((N + 5)) ]"; then
	ok "every message delivered ($((N + 5)))"
else
	not_ok "every message delivered" \
	    "$(grep -c 'status=sent' "$PF_DIR/maillog") of $((N + 5))"
fi
kill -TERM "$parent"
wait_for 10 sh -c "! kill -0 $parent 2>/dev/null" ||
    diag "ebbd did not stop"

spool=$(cd "$PF_SPOOL" && pwd -P)

# 5: the parent's opens
no_queue_opens "$spool" "$T/trace" "the root parent" ledger.db

# 6: ebbctl failsafe as root: three messages the administrator held are
# found and left, and ebbctl itself opened none of their files
bg_stop sink
pf_submit 3 || bail_out "smtp-source failed"
pf_wait_count 3 60 deferred || bail_out "not deferred: $(pf_count deferred)"
postsuper -c "$PF_CONF" -h ALL deferred >/dev/null 2>&1 ||
    bail_out "postsuper -h failed"
# (LeakSanitizer cannot run under ptrace: an ASan build's leak check is off)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -qq -o "$T/trace2" -e trace=open,openat,openat2,creat \
    "$EBBCTL" -c "$EBB_CONF" --json failsafe >"$T/failsafe" 2>"$T/failsafe.err"
held=$(jq -r .admin_held "$T/failsafe" 2>/dev/null)
if queue_opens "$spool" "$T/trace2" >"$T/opens2" 2>&1 && [ "$held" = 3 ]; then
	n=$(tail -n 1 "$T/opens2")
	ok "ebbctl failsafe found 3 admin holds, opening no queue file ($n)"
else
	not_ok "ebbctl failsafe found 3 admin holds, opening no queue file" \
	    "held=$held $(head -n 10 "$T/opens2") $(head -c 300 "$T/failsafe")" \
	    "$(head -c 300 "$T/failsafe.err")"
fi
