#!/bin/sh
# drain.sh - ebbctl drain against a real Postfix: dry run, lock, delivery
# exactly once, earliest deadline first, admin holds untouched, --max-rate
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink flock jq

tap_plan 13
N=120
backlog $N
# an administrator's own holds: never released by ebb
ADMIN=$(pf_ids deferred | head -4)
echo "$ADMIN" | postsuper -c "$PF_CONF" -h - >/dev/null 2>&1
pf_wait_count 4 10 hold || bail_out "admin hold failed"
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

# 1-3: a dry run plans and changes nothing
ebbctl drain --dry-run >"$T/dry.out" 2>&1
is "$?" 0 "dry run exits 0"
if grep -q "would release $((N - 4)) messages" "$T/dry.out"; then
	ok "dry run plans the deferred backlog"
else
	not_ok "dry run plans the deferred backlog" "$(cat "$T/dry.out")"
fi
if [ "$(pf_count hold)" -eq 4 ] && [ "$(pf_count deferred)" -eq $((N - 4)) ] &&
    [ ! -e "$T/state/ledger.db" ]; then
	ok "dry run changed nothing"
else
	not_ok "dry run changed nothing" "hold=$(pf_count hold)" \
	    "deferred=$(pf_count deferred)" "$(ls "$T/state")"
fi

# 4: a second drain while one runs exits 75 at once, touching nothing
flock "$T/state/drain.lock" sleep 3 &
LOCKER=$!
sleep 0.5
start=$(date +%s)
ebbctl drain >"$T/locked.out" 2>&1
rc=$?
if [ $rc -eq 75 ] && [ $(( $(date +%s) - start )) -le 1 ] &&
    [ "$(pf_count hold)" -eq 4 ]; then
	ok "concurrent drain exits 75 at once"
else
	not_ok "concurrent drain exits 75 at once" "rc=$rc" "$(cat "$T/locked.out")"
fi
wait $LOCKER

# 5: bad options are usage errors
ebbctl drain --max-rate fast >/dev/null 2>&1
is "$?" 64 "bad --max-rate is a usage error"

# 6-7: the drain itself, paced at 40/s
start=$(date +%s.%N)
ebbctl drain -v --max-rate 40 >"$T/drain.out" 2>&1
rc=$?
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
is "$rc" 0 "drain exits 0 when the backlog is gone"
# 116 messages at 40/s with a burst of 40 take at least ~1.9 s
if awk -v e="$elapsed" 'BEGIN { exit !(e >= 1.9) }'; then
	ok "--max-rate paces releases (${elapsed}s)"
else
	not_ok "--max-rate paces releases" "elapsed $elapsed s"
fi

# 8-9: every released message delivered exactly once
wait_for 30 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $((N - 4)) ]"
sent_ids | sort >"$T/sent"
is "$(wc -l <"$T/sent")" $((N - 4)) "every released message delivered"
is "$(sort -u "$T/sent" | wc -l)" $((N - 4)) "each delivered once"

# 10: earliest deadline first
if deadlines_sorted "$T/drain.out"; then
	ok "released earliest deadline first"
else
	not_ok "released earliest deadline first" "$(head -20 "$T/drain.out")"
fi

# 11: the administrator's holds are untouched
is "$(pf_ids hold | tr '\n' ' ')" "$(echo "$ADMIN" | sort | tr '\n' ' ')" \
    "admin holds untouched"

# 12: nothing is left parked by ebb
n=$(ebbctl --json list --queue hold | jq -s '[.[] | select(.parked_by_ebb)] | length')
is "$n" 0 "nothing left parked by ebb"

# 13: failsafe with nothing parked releases nothing
ebbctl failsafe >"$T/fs.out" 2>&1 && [ "$(pf_count hold)" -eq 4 ] &&
    ok "failsafe leaves admin holds alone" ||
    not_ok "failsafe leaves admin holds alone" "$(cat "$T/fs.out")"
