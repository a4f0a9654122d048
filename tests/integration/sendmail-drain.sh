#!/bin/sh
# sendmail-drain.sh - ebbctl drain and failsafe against a real Sendmail: a
# drain delivers an aged backlog to a sink, each message once, releasing
# in deadline order, and never touches the admin's own quarantines; then,
# on a new backlog with the relay closed, failsafe gives back everything
# ebb parked and nothing else
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd smtp-sink perl

tap_plan 11
N=60
ADMIN_REASON="held by the postmaster"
sm_backlog $N 2
sm_ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

admin_untouched() {
	for id in $ADMIN; do
		[ "$(sm_reason "$id")" = "$ADMIN_REASON" ] || return 1
	done
}

# 1-7: the drain, to a sink
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
start=$(date +%s)
ebbctl drain -v --max-rate 50 >"$T/drain.out" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
diag "drained $((N - 2)) messages in ${elapsed}s"
is "$rc" 0 "drain exits 0"
wait_for 30 sm_count_is 0 qf
is "$(sm_count qf)" 0 "nothing left queued"
if sm_count_is 2 hf && admin_untouched; then
	ok "the admin's quarantines are untouched"
else
	not_ok "the admin's quarantines are untouched" "hf=$(sm_count hf)" \
	    "$(for id in $ADMIN; do sm_reason "$id"; done)"
fi
# the sink keeps each message in a file; its Received: names the queue id
sink_ids() {
	cat "$T"/sink/* 2>/dev/null | perl -ne \
	    'print "$1\n" if /\(8\.[0-9.\/]+(?:\/ebbtest)?\) id ([0-9A-Za-z]+)/'
}
wait_for 10 sh -c "[ \$(ls '$T/sink' | wc -l) -ge $((N - 2)) ]"
is "$(sink_ids | wc -l)" $((N - 2)) "every message reached the sink"
is "$(sink_ids | sort -u | wc -l)" $((N - 2)) "each exactly once"
if deadlines_sorted "$T/drain.out"; then
	ok "released earliest deadline first"
else
	not_ok "released earliest deadline first" "$(head -20 "$T/deadlines")"
fi
if grep -q "released=$((N - 2))" "$T/drain.out"; then
	ok "the drain counts what it released"
else
	not_ok "the drain counts what it released" "$(tail -3 "$T/drain.out")"
fi

# 8-10: failsafe: a new backlog, the relay closed; a drain parks it all,
# releases a few and stops; failsafe gives back every message ebb parked
# and only those (the admin's two stay quarantined)
sm_relay closed || bail_out "m4 failed"
sm_submit $((N - 2)) || bail_out "submission failed"
sm_attempt
wait_for 10 sm_count_is $((N - 2)) qf || bail_out "expected $((N - 2)) qf"
# a queue id that contains another (ids grow a digit past pid 999999):
# -qI of the short one would pick both, so ebb must leave it alone
SHORT=$(sm_ids qf | head -1)
cp "$(sm_file "$SHORT")" "$SM_QUEUE/qf${SHORT}7"
cp "$SM_QUEUE/df$SHORT" "$SM_QUEUE/df${SHORT}7"
N=$((N + 1))
ebbctl drain --max-rate 1 --for 2 >"$T/first.out" 2>&1
rc=$?
parked=$(sm_count hf)
if [ $rc -eq 75 ] && [ "$parked" -gt $((N - 10)) ]; then
	ok "a drain cut short leaves mail parked (exit 75)"
else
	not_ok "a drain cut short leaves mail parked (exit 75)" "rc=$rc" \
	    "hf=$parked" "$(tail -5 "$T/first.out")"
fi
if [ -f "$SM_QUEUE/qf$SHORT" ] && grep -q "^ebbctl: $SHORT: not passed to sendmail -qI: it would also match ${SHORT}7" \
    "$T/first.out"; then
	ok "an id that another id contains is not passed to -qI"
else
	not_ok "an id that another id contains is not passed to -qI" \
	    "$(ls "$SM_QUEUE" | grep "$SHORT")" "$(grep "$SHORT" "$T/first.out")"
fi
ebbctl failsafe >"$T/failsafe.out" 2>&1
is "$?" 0 "failsafe exits 0"
if sm_count_is $((N - 2)) qf && sm_count_is 2 hf && admin_untouched; then
	ok "failsafe gave back all ebb parked, not the admin's"
else
	not_ok "failsafe gave back all ebb parked, not the admin's" \
	    "qf=$(sm_count qf) hf=$(sm_count hf)" "$(cat "$T/failsafe.out")"
fi

