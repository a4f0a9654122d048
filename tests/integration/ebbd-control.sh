#!/bin/sh
# ebbd-control.sh - ebbd's control plane against a real Postfix: a fake
# overload stops releases within two ticks; malformed, oversized and
# unknown requests get an error and change nothing; release and hold by
# id touch only what they may; SIGHUP with a broken config keeps the old
# one; failsafe over the socket gives everything back and stops ebbd
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl useradd

tap_plan 14
N=80
ebb_user
backlog $N
pf_stop
# an administrator's own hold: never touched
ADMIN=$(pf_ids deferred | head -1)
postsuper -c "$PF_CONF" -h "$ADMIN" >/dev/null 2>&1
ebbd_config '[drain]' 'max_rate = 2' 'increase = 1000'
ebbd_start || bail_out "ebbd did not start"
pf_start || bail_out "postfix did not restart"
wait_for 10 st_ge .released 1

# 1-2: overload (load 40 per 4 cpus against a limit of 2): releases stop
# within two ticks, and the status says why
echo "40.00 40.00 40.00 41/120 4242" >"$T/root/proc/loadavg"
sleep 2.2
r1=$(st .released)
sleep 2.5
r2=$(st .released)
if [ "$r1" = "$r2" ]; then
	ok "overload stops releases within two ticks"
else
	not_ok "overload stops releases within two ticks" "released $r1 -> $r2"
fi
is "$(st '[.stopped, .rate, (.pressure >= 1)] | @tsv')" "true	0	true" \
    "status shows the stop"
fake_proc "$T/root"

# 3-6: bad requests: an error each, nothing changes, ebbd runs on
ebbctl pause >/dev/null
raw 'not json' '{"command":"reboot"}' '{"command":"rate","rate":-5}' \
    '{"command":"pause","now":1}' \
    '{"command":"release","ids":["../../etc/passwd"]}' \
    '{"command":"hold","ids":["A B"]}' >"$T/bad.out" 2>&1
n=$(grep -c '"ok":false' "$T/bad.out")
is "$n" 6 "malformed and unknown requests each get an error"
raw BIG '{"command":"resume"}' >"$T/big.out" 2>&1
if grep -q 'too long' "$T/big.out" && [ "$(wc -l <"$T/big.out")" -eq 1 ]; then
	ok "an oversized request is refused and the connection closed"
else
	not_ok "an oversized request is refused" "$(cut -c1-200 "$T/big.out")"
fi
is "$(st '[.paused, (.rate_cap|tostring)] | @tsv')" "true	null" \
    "bad requests changed nothing"
if grep -q 'refused a request' "$T/ebbd.out"; then
	not_ok "the child never forwarded a bad request" "$(grep refused "$T/ebbd.out")"
else
	ok "the child never forwarded a bad request"
fi

# 7: release by id: the administrator's hold is refused and stays held
ebbctl release "$ADMIN" >"$T/rel.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && [ -n "$(find "$PF_SPOOL/hold" -name "$ADMIN")" ]; then
	ok "release refuses a hold that is not ebb's"
else
	not_ok "release refuses a hold that is not ebb's" "rc=$rc" "$(cat "$T/rel.out")"
fi

# 8: release by id: one of ebb's parked messages goes now, while paused
# (the relay is closed, so it comes back deferred)
pf_relay closed
ID=$(pf_ids hold | grep -v "^$ADMIN\$" | head -1)
ebbctl release "$ID" >/dev/null 2>&1
if wait_for 15 sh -c "grep -q ' $ID: to=.*status=deferred' '$PF_DIR/maillog'"; then
	ok "release ID sends one parked message now"
else
	not_ok "release ID sends one parked message now" "$(grep "$ID" "$PF_DIR/maillog" | tail -3)"
fi

# 9: new deferred mail is parked by the next rescan; the message ebb just
# released is not parked again (the MTA retries it on its own schedule)
pf_submit 1 -t rcpt@late.test || bail_out "smtp-source failed"
if wait_for 15 sh -c "[ \$(find '$PF_SPOOL/hold' -type f | wc -l) -eq $(( $(pf_count hold) + 1 )) ]" &&
    [ -n "$(find "$PF_SPOOL/deferred" -name "$ID")" ]; then
	ok "newly deferred mail is parked, a released message is not"
else
	not_ok "newly deferred mail is parked, a released message is not" \
	    "hold: $(pf_count hold) deferred: $(pf_ids deferred | tr '\n' ' ')"
fi

# 10: hold by id: the deferred message is parked as ebb's
p1=$(st .parked)
ebbctl hold "$ID" >"$T/hold.out" 2>&1
if [ -n "$(find "$PF_SPOOL/hold" -name "$ID")" ] &&
    [ "$(st .parked)" -eq $((p1 + 1)) ]; then
	ok "hold ID parks a deferred message as ebb's"
else
	not_ok "hold ID parks a deferred message as ebb's" "$(cat "$T/hold.out")"
fi
pf_relay sink

# 11: SIGHUP with a broken config: ebbd keeps running on the old one
cp "$EBB_CONF" "$T/good.conf"
echo "no_such_key = 1" >>"$EBB_CONF"
kill -HUP "$(cat "$T/ebbd.pid")"
sleep 1
if raw '{"command":"status"}' | grep -q '"ok":true' &&
    grep -q 'keeping the configuration' "$T/ebbd.out"; then
	ok "SIGHUP with a broken config keeps the old one"
else
	not_ok "SIGHUP with a broken config keeps the old one" "$(tail -3 "$T/ebbd.out")"
fi
cp "$T/good.conf" "$EBB_CONF"
kill -HUP "$(cat "$T/ebbd.pid")"
wait_for 5 grep -q 'reloaded the configuration' "$T/ebbd.out" ||
    diag "a good config did not reload"

# 12-14: failsafe over the socket: everything ebb parked is released, the
# administrator's hold stays, ebbd stops
parked=$(st .parked)
raw '{"command":"failsafe"}' >"$T/fs.out" 2>&1
if jq -e ".ok and .released == $parked" "$T/fs.out" >/dev/null 2>&1; then
	ok "failsafe releases all $parked parked"
else
	not_ok "failsafe releases all parked" "parked=$parked" "$(cat "$T/fs.out")"
fi
pid=$(cat "$T/ebbd.pid")
if wait_for 5 sh -c "! kill -0 $pid"; then
	ok "ebbd stops after failsafe"
else
	not_ok "ebbd stops after failsafe"
fi
is "$(pf_ids hold | tr -d '\n')" "$ADMIN" "only the administrator's hold is left"
exit 0
