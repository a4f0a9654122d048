#!/bin/sh
# drain.sh - ebbctl drain against a real Postfix: dry run, lock, delivery
# exactly once, earliest deadline first, admin holds untouched, --max-rate,
# a log line per 5% of the backlog; then a second backlog with mail past its deadline:
# mode = nudge and errors exit 1, --limit and --for exit 75 with mail
# parked, failsafe gives back what ebb parked and only that
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink flock jq

tap_plan 22
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

# 14: without a TTY the drain logs its progress every 5% of the backlog (or
# 30 s), not every batch: each "drain: batch=K" line counts the K messages
# released since the line before it (the -v lines), and none is left out
if awk '
	/^ebbctl: [0-9A-Za-z]+: released / { n++; next }
	/^ebbctl: drain: batch=/ {
		b = $0; sub(/.*batch=/, "", b); sub(/ .*/, "", b)
		r = $0; sub(/.* released=/, "", r); sub(/ .*/, "", r)
		tot += n
		if (b + 0 != n || r + 0 != tot) bad = 1
		n = 0; lines++
	}
	END { exit !(lines > 1 && lines <= 21 && n == 0 && !bad &&
	    tot == want) }
    ' want=$((N - 4)) "$T/drain.out"; then
	ok "progress lines every 5%, counting every release"
else
	not_ok "progress lines every 5%, counting every release" \
	    "$(grep -c 'drain: batch=' "$T/drain.out") batch lines" \
	    "$(head -20 "$T/drain.out")"
fi

# a second backlog of M: three messages past their 5-day deadline (the
# oldest), one held by the administrator before ebb parks anything
M=10
pf_relay closed
pf_submit $M -f dana@senders.test -t user@d5.test ||
    bail_out "smtp-source failed"
pf_wait_count $M 60 deferred ||
    bail_out "expected $M deferred, have $(pf_count deferred)"
pf_stop
age_all 86400 || bail_out "aging the second backlog failed"
EXPIRED=$(pf_ids deferred | head -3)
h=1
for id in $EXPIRED; do
	pf_age "$id" $((432000 + h * 3600)) || bail_out "pf_age $id failed"
	# pf_age wrote the file: its retry time an hour ahead again
	touch -m -d "@$(( $(date +%s) + 3600 ))" "$(pf_file "$id")"
	h=$((h + 1))
done
ADMIN2=$(pf_ids deferred | sed -n 4p)
postsuper -c "$PF_CONF" -h "$ADMIN2" >/dev/null 2>&1
pf_count_is 5 hold || bail_out "admin hold of $ADMIN2 failed"
HELD=$(printf '%s\n' $ADMIN $ADMIN2 | sort | tr '\n' ' ')
pf_relay sink
pf_start || bail_out "postfix did not restart"

# ebb's parked messages in the hold queue
ebb_parked() {
	ebbctl --json list --queue hold |
	    jq -s '[.[] | select(.parked_by_ebb)] | length'
}

# 15: [drain] mode = nudge is not built: refused, nothing touched
{ cat "$EBB_CONF"; echo 'mode = nudge'; } >"$T/nudge.conf"
"$EBBCTL" -c "$T/nudge.conf" drain >"$T/nudge.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q \
    'mode = nudge is not implemented yet; use mode = hold' "$T/nudge.out" &&
    [ "$(pf_count deferred)" -eq $((M - 1)) ] &&
    [ "$(pf_ids hold | tr '\n' ' ')" = "$HELD" ]; then
	ok "mode = nudge is refused with exit 1, nothing touched"
else
	not_ok "mode = nudge is refused with exit 1, nothing touched" \
	    "rc=$rc deferred=$(pf_count deferred) hold=$(pf_count hold)" \
	    "$(cat "$T/nudge.out")"
fi

# 16: an error (no such Postfix config_directory) exits 1, nothing touched
sed "s|^config_directory = .*|config_directory = $T/no-such-dir|" \
    "$EBB_CONF" >"$T/nodir.conf"
"$EBBCTL" -c "$T/nodir.conf" drain >"$T/nodir.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'error:.*no-such-dir' "$T/nodir.out" &&
    [ "$(pf_count deferred)" -eq $((M - 1)) ]; then
	ok "an error exits 1"
else
	not_ok "an error exits 1" "rc=$rc deferred=$(pf_count deferred)" \
	    "$(cat "$T/nodir.out")"
fi

# 17-20: --limit 5 releases the three expired messages first, with a
# warning each, counts them, and exits 75 with the rest parked
ebbctl drain -v --limit 5 >"$T/limit.out" 2>&1
rc=$?
n=$(ebb_parked)
if [ $rc -eq 75 ] && [ "$n" -eq $((M - 1 - 5)) ]; then
	ok "--limit exits 75 with mail still parked ($n)"
else
	not_ok "--limit exits 75 with mail still parked" "rc=$rc parked=$n" \
	    "$(cat "$T/limit.out")"
fi
sed -n 's/^ebbctl: \([0-9A-Za-z]*\): released .*/\1/p' "$T/limit.out" \
    >"$T/limit.order"
# the most overdue first: EXPIRED in reverse, aged 5d+3h, 5d+2h, 5d+1h
is "$(head -3 "$T/limit.order" | tr '\n' ' ')" \
    "$(echo "$EXPIRED" | sort -r | tr '\n' ' ')" \
    "mail past its deadline released first, most overdue first"
# (a warning: LOG_WARNING in syslog; on stderr the line starts with the id)
is "$(sed -n 's/^ebbctl: \([0-9A-Za-z]*\): released expired .*chance$/\1/p' \
    "$T/limit.out" | sort | tr '\n' ' ')" "$(echo "$EXPIRED" | tr '\n' ' ')" \
    "a warning for each expired message"
if grep -q '^ebbctl: drain: done: released=5 expired=3 parked=4 admin_held=5 ' \
    "$T/limit.out"; then
	ok "summary counts the expired releases"
else
	not_ok "summary counts the expired releases" "$(grep 'done:' \
	    "$T/limit.out")"
fi

# 21: --for 2 at one message a second stops with mail left: exit 75
ebbctl drain --for 2 --max-rate 1 >"$T/for.out" 2>&1
rc=$?
n=$(ebb_parked)
if [ $rc -eq 75 ] && [ "$n" -gt 0 ] && [ "$n" -lt 4 ] &&
    grep -q 'drain: --for time is up' "$T/for.out"; then
	ok "--for exits 75 with mail still parked ($n)"
else
	not_ok "--for exits 75 with mail still parked" "rc=$rc parked=$n" \
	    "$(cat "$T/for.out")"
fi

# 22: failsafe releases all ebb parked; the admin's holds stay held
ebbctl failsafe >"$T/fs2.out" 2>&1
rc=$?
n=$(ebb_parked)
if [ $rc -eq 0 ] && [ "$n" -eq 0 ] &&
    [ "$(pf_ids hold | tr '\n' ' ')" = "$HELD" ]; then
	ok "failsafe releases what ebb parked, admin holds untouched"
else
	not_ok "failsafe releases what ebb parked, admin holds untouched" \
	    "rc=$rc parked=$n hold=$(pf_ids hold | tr '\n' ' ')" \
	    "want hold=$HELD" "$(cat "$T/fs2.out")"
fi
