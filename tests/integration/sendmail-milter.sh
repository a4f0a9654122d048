#!/bin/sh
# sendmail-milter.sh - ebb's milter in front of a real private Sendmail
# (INPUT_MAIL_FILTER, as contrib/sendmail.mc.snippet has it): under
# pressure with [milter] action = hold, urgent mail (an old Received:)
# and fresh mail are accepted into Sendmail's quarantine with a reason
# "ebb: ..." and recorded as ebb's, at critical pressure too; when the
# pressure falls ebbd's drain releases what the milter held and Sendmail
# delivers it to the sink. Then with action = tempfail, under pressure,
# urgent mail is admitted (and delivered at once) and fresh mail is
# deferred with a 451.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd smtp-sink jq perl useradd

tap_plan 11
# 4 fake CPUs, load_per_cpu limit 2.0: 9.6 is p = 1.2, 99 is critical
IDLE="0.01 0.02 0.00 1/120 4242"
LOADED="9.60 5.00 2.00 12/120 4242"
CRITICAL="99.00 50.00 20.00 120/400 4242"

# sm_try FROM AGE - one SMTP session to Sendmail (lib.sh's smtp_try);
# prints "mail=CODE [data=CODE id=ID]" with Sendmail's queue id
sm_try() {
	PF_PORT=$SM_PORT
	_r=$(smtp_try "$@")
	_id=$(sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' \
	    "$T/smtp.reply")
	echo "$_r${_id:+ id=$_id}"
}

ebb_user
MPORT=$(free_port)
mkdir -p "$T/sink"
chown postfix "$T/sink"
sm_create --milter "$MPORT"
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
ebbd_config '[general]' 'mta = sendmail' '[sendmail]' \
    "config_file = $SM_CF" "sendmail_path = $SM_BIN" \
    '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'action = hold' 'client_rate = 0' 'net_rate = 0' \
    '[drain]' 'max_rate = 1000' 'increase = 1000'
ebbd_start || bail_out "ebbd did not start"
wait_for 10 port_in_use "$MPORT" || bail_out "the milter does not listen"
sm_start || bail_out "sendmail did not start"

# 1-4: under pressure, urgent and fresh mail are quarantined as ebb's
echo "$LOADED" >"$T/root/proc/loadavg"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"
urgent=$(sm_try old@remote.example $((5 * 86400 - 3600)))
fresh=$(sm_try new@remote.example 60)
ID=$(echo "$urgent" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
FID=$(echo "$fresh" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
is "$(echo "$urgent" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "urgent mail is accepted under pressure"
is "$(echo "$fresh" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "fresh mail is accepted under pressure too, into hold"
wait_for 10 sh -c "[ -n '$ID' ] && [ -f '$SM_QUEUE/hf$ID' ] &&
    [ -n '$FID' ] && [ -f '$SM_QUEUE/hf$FID' ]"
if [ -n "$ID" ] && [ -n "$FID" ] &&
    sm_reason "$ID" | grep -q '^ebb: ' && sm_reason "$FID" | grep -q '^ebb: '
then
	ok "both are in Sendmail's quarantine with an ebb: reason"
else
	not_ok "both are in Sendmail's quarantine with an ebb: reason" \
	    "urgent: $urgent" "fresh: $fresh" "$(ls "$SM_QUEUE")"
fi
wait_for 10 sh -c "\"$EBBCTL\" -c \"$EBB_CONF\" --json list |
    jq -se '[.[] | select(.queue_id == \"$ID\" or
    .queue_id == \"$FID\") | select(.parked_by_ebb)] | length == 2' \
    >/dev/null"
is "$(ebbctl --json list | jq -sr "[.[] | select(.queue_id == \"$ID\" or
    .queue_id == \"$FID\") | select(.parked_by_ebb)] | length")" 2 \
    "ebbctl list shows both parked by ebb"

# 5-6: critical pressure: urgent mail still taken, fresh mail deferred
echo "$CRITICAL" >"$T/root/proc/loadavg"
wait_for 10 st_eq .critical true || diag "pressure did not become critical"
crit=$(sm_try old2@remote.example $((5 * 86400 - 3600)))
CID=$(echo "$crit" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
is "$(echo "$crit" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "critical pressure still takes urgent mail"
crit2=$(sm_try new2@remote.example 60)
C2ID=$(echo "$crit2" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
if [ -n "$C2ID" ] && sm_reason "$C2ID" | grep -q '^ebb: '; then
	ok "critical pressure takes fresh mail into the quarantine (hold)"
else
	not_ok "critical pressure takes fresh mail into the quarantine" \
	    "$crit2" "$(ls "$SM_QUEUE")"
fi

# 7-8: the pressure falls: the drain releases them, Sendmail delivers
echo "$IDLE" >"$T/root/proc/loadavg"
sink_has() {
	grep -l "id $1" "$T"/sink/* >/dev/null 2>&1
}
if wait_for 40 sh -c "[ ! -e '$SM_QUEUE/hf$ID' ] && [ ! -e '$SM_QUEUE/qf$ID' ] &&
    [ ! -e '$SM_QUEUE/hf$FID' ] && [ ! -e '$SM_QUEUE/qf$FID' ] &&
    [ ! -e '$SM_QUEUE/hf$CID' ] && [ ! -e '$SM_QUEUE/qf$CID' ] &&
    [ ! -e '$SM_QUEUE/hf$C2ID' ] && [ ! -e '$SM_QUEUE/qf$C2ID' ]"; then
	ok "the drain releases the held messages and Sendmail delivers them"
else
	not_ok "held messages delivered" "$(ls "$SM_QUEUE")" \
	    "$(tail -5 "$T/ebbd.out")"
fi
n=0
for id in $ID $FID $CID $C2ID; do
	sink_has "$id" && n=$((n + 1))
done
is "$n" 4 "the sink has all four"

# 9-11: action = tempfail: urgent admitted and delivered, fresh deferred
bg_stop ebbd
ebbd_config '[general]' 'mta = sendmail' '[sendmail]' \
    "config_file = $SM_CF" "sendmail_path = $SM_BIN" \
    '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'action = tempfail' 'client_rate = 0' 'net_rate = 0'
echo "$LOADED" >"$T/root/proc/loadavg"
ebbd_start || bail_out "ebbd did not restart"
wait_for 10 port_in_use "$MPORT" || bail_out "the milter does not listen"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"
urgent=$(sm_try old3@remote.example $((5 * 86400 - 3600)))
UID3=$(echo "$urgent" | sed -n 's/.* id=\([0-9A-Za-z]*\).*/\1/p')
is "$(echo "$urgent" | cut -d' ' -f1-2)" "mail=250 data=250" \
    "tempfail mode: urgent mail is admitted under pressure"
if [ -n "$UID3" ] && wait_for 20 sink_has "$UID3"; then
	ok "and delivered at once, not held"
else
	not_ok "and delivered at once, not held" "$urgent" "$(ls "$SM_QUEUE")"
fi
fresh=$(sm_try new3@remote.example 60)
case $fresh in
*=451*) ok "tempfail mode: fresh mail is deferred with 451" ;;
*) not_ok "tempfail mode: fresh mail is deferred with 451" "$fresh" ;;
esac
