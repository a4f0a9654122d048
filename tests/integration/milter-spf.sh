#!/bin/sh
# milter-spf.sh - SPF through a real private Postfix, offline: the milter
# (hosted by the test build's ebb-milter-test, whose -z answers libspf2's
# lookups from a zone file instead of DNS) runs with [milter] spf =
# enforce in front of Postfix on 127.0.0.1. The client claims a TEST-NET
# address through XCLIENT (libspf2 passes any loopback client). A pass and a softfail get in
# and carry Received-SPF and Authentication-Results in the queued message;
# a fail is rejected 550 5.7.23 and a temperror answered 451 4.4.3 at MAIL
# FROM; under load a fresh softfail waits (451 4.7.1 after the headers)
# while an urgent softfail and an urgent pass get in; at critical pressure
# a fresh pass waits (451 4.3.2) and an urgent one still gets in. The
# counters agree.
. "$top_srcdir/tests/integration/lib.sh"
require_root
require_cmd postfix postcat perl
HOST=$top_builddir/tests/milter/ebb-milter-test
[ -x "$HOST" ] || skip_all "ebb-milter-test not built"
grep -q '^#define HAVE_SPF2 1' "$top_builddir/config.h" 2>/dev/null ||
    skip_all "built without libspf2"

tap_plan 13
URGENT=$((5 * 86400 - 3600))	# an hour before its sender gives up
SMTP_CLIENT=192.0.2.7

# hdr ID NAME - the value of header NAME in queued message ID
hdr() {
	postcat -c "$PF_CONF" -hq "$1" 2>/dev/null |
	    sed -n "s/^$2: //p" | head -1
}

MPORT=$(free_port)
pf_create --milter "$MPORT"
pf_postconf "mynetworks = 127.0.0.0/8 192.0.2.0/24"
pf_start || bail_out "postfix did not start"
cat >"$T/zone" <<'EOF'
# the client is 192.0.2.7 (smtp_try's XCLIENT)
pass.test	TXT	ok	v=spf1 ip4:192.0.2.0/24 -all
fail.test	TXT	ok	v=spf1 ip4:198.51.100.1 -all
soft.test	TXT	ok	v=spf1 ip4:198.51.100.1 ~all
temp.test	TXT	TRY_AGAIN
EOF
ebb_config '[milter]' "socket = inet:$MPORT@127.0.0.1" 'spf = enforce' \
    'action = tempfail' \
    'client_rate = 0' 'net_rate = 0'
bg_start host "$HOST" -v -c "$EBB_CONF" -z "$T/zone"
wait_for 10 port_in_use "$MPORT" ||
    bail_out "the milter did not listen: $(cat "$T/host.out")"

# 1-2: pass: in, with both headers
r=$(smtp_try a@pass.test 60)
id=$(echo "$r" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
is "$(echo "$r" | cut -d' ' -f1-2)" "mail=250 data=250" "SPF pass is accepted"
rs=$(hdr "$id" Received-SPF)
ar=$(hdr "$id" Authentication-Results)
case "$rs|$ar" in
pass\ *client-ip=192.0.2.7*envelope-from=*a@pass.test*\|*spf=pass*smtp.mailfrom=a@pass.test*)
	ok "the queued message carries Received-SPF and Authentication-Results" ;;
*)	not_ok "the queued message carries the SPF headers" "Received-SPF: $rs" \
	    "Authentication-Results: $ar" ;;
esac

# 3: fail: rejected at MAIL FROM
r=$(smtp_try a@fail.test 60)
if [ "$r" = mail=550 ] && grep -q '^550 5\.7\.23 ' "$T/smtp.reply"; then
	ok "SPF fail is rejected 550 5.7.23 at MAIL FROM"
else
	not_ok "SPF fail is rejected 550 5.7.23" "$r" "$(cat "$T/smtp.reply")"
fi

# 4: temperror: try again later
r=$(smtp_try a@temp.test 60)
if [ "$r" = mail=451 ] && grep -q '^451 4\.4\.3 ' "$T/smtp.reply"; then
	ok "SPF temperror is answered 451 4.4.3"
else
	not_ok "SPF temperror is answered 451 4.4.3" "$r" "$(cat "$T/smtp.reply")"
fi

# 5: softfail on a calm host: in, marked
r=$(smtp_try a@soft.test 60)
id=$(echo "$r" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
rs=$(hdr "$id" Received-SPF)
case "$r|$rs" in
"mail=250 data=250 id="*\|softfail\ *) ok "SPF softfail gets in on a calm host, marked" ;;
*)	not_ok "SPF softfail gets in on a calm host" "$r" "Received-SPF: $rs" ;;
esac

# 6-8: loaded (p = 0.8): softfail is the first to wait, unless urgent
echo "6.40 6.40 6.40 9/120 4242" >"$T/root/proc/loadavg"
wait_for 10 grep -q 'budget p=0.80' "$T/host.out" ||
    diag "the pressure did not rise: $(tail -3 "$T/host.out")"
r=$(smtp_try a@soft.test 60)
if [ "$r" = "mail=250 data=451" ] &&
    grep -q '^451 4\.7\.1 .*SPF' "$T/smtp.reply"; then
	ok "under load a fresh softfail waits (451 4.7.1)"
else
	not_ok "under load a fresh softfail waits" "$r" "$(cat "$T/smtp.reply")"
fi
r=$(smtp_try a@soft.test "$URGENT")
is "$(echo "$r" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "under load an urgent softfail gets in"
r=$(smtp_try a@pass.test "$URGENT")
is "$(echo "$r" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "under load an urgent pass gets in"

# 9-10: critical: a fresh pass waits 451 4.3.2; an urgent one gets in
echo "99.00 50.00 20.00 120/400 4242" >"$T/root/proc/loadavg"
wait_for 10 grep -q 'budget p=12.38' "$T/host.out" ||
    diag "the pressure did not become critical: $(tail -3 "$T/host.out")"
r=$(smtp_try a@pass.test 60)
if [ "$r" = "mail=250 data=451" ] && grep -q '^451 4\.3\.2 ' "$T/smtp.reply"
then
	ok "critical pressure answers a fresh message 451 4.3.2"
else
	not_ok "critical pressure answers 451 4.3.2" "$r" "$(cat "$T/smtp.reply")"
fi
r=$(smtp_try a@pass.test "$URGENT")
is "$(echo "$r" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "critical pressure still takes an urgent message"

# 11-13: the host stops cleanly; its counters agree. libmilter takes up to 5 s to
# notice a stop, more under ASan: wait for the host, do not kill it
pid=$(cat "$T/host.pid")
kill -TERM "$pid"
wait_for 30 sh -c "[ ! -e /proc/$pid ] ||
    grep -q '^State:.*zombie' /proc/$pid/status" ||
    diag "the host did not stop in 30 s"
bg_stop host
if grep -q 'counters .*critical=1 .*spf_fail=1 .*spf_temperror=1 .*spf_defer=1' \
    "$T/host.out"; then
	ok "the counters name each SPF refusal once, and the critical one"
else
	not_ok "the SPF counters" "$(grep counters "$T/host.out")"
fi
if grep -q 'counters .* spf\.pass=4 spf\.fail=1 spf\.softfail=3 spf\.temperror=1 ' \
    "$T/host.out"; then
	ok "SPF was looked up once for each message"
else
	not_ok "SPF looked up once for each message" \
	    "$(grep counters "$T/host.out")"
fi
is "$(pf_count)" 5 "five messages queued: three passes, two softfails"
