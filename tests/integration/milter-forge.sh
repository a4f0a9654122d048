#!/bin/sh
# milter-forge.sh - the parent believes a hold notice only on ebb's proof
# of the hold in the held queue file: an administrator holds two deferred
# messages; ebbd runs the milter with action = hold under pressure; a
# client speaking the milter protocol (miltertest, tests/milter/forge.lua)
# names one of them as its own queue id, so the milter quarantines "it"
# and tells the parent. The parent refuses it: the file carries no proof,
# so it is not parked by ebb, and when the pressure falls the drain leaves
# it in hold. The same attack run as the unprivileged user nobody, as any
# local user could, against the other hold fails the same way; failsafe
# leaves both held and says why.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source jq miltertest runuser

tap_plan 9
IDLE="0.01 0.02 0.00 1/120 4242"
LOADED="9.60 5.00 2.00 12/120 4242"	# 4 fake CPUs: p = 1.2

# forge ID [USER] - the attack: a milter session naming ID, held at its end
forge() {
	_as=
	[ -n "${2:-}" ] && _as="runuser -u $2 --"
	$_as miltertest -s "$top_srcdir/tests/milter/forge.lua" \
	    -D port="$MPORT" -D srcdir="$top_srcdir/tests/milter" -D id="$1"
}

ebb_user
pf_create
pf_start || bail_out "postfix did not start"
pf_submit 2 || bail_out "smtp-source failed"
pf_wait_count 2 60 deferred || bail_out "no deferred messages"
set -- $(pf_ids deferred)
ID=$1 ID2=$2
postsuper -c "$PF_CONF" -h "$ID" >/dev/null 2>&1
postsuper -c "$PF_CONF" -h "$ID2" >/dev/null 2>&1
pf_wait_count 2 10 hold || bail_out "the administrator's holds failed"

MPORT=$(free_port)
ebbd_config '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'action = hold' 'client_rate = 0' 'net_rate = 0'
echo "$LOADED" >"$T/root/proc/loadavg"
ebbd_start || bail_out "ebbd did not start"
wait_for 10 port_in_use "$MPORT" || bail_out "the milter does not listen"
wait_for 10 st_eq .queues.hold 2 || bail_out "ebbd has not scanned the hold"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"

# 1-2: the forged hold is quarantined by the milter, refused by the parent
out=$(forge "$ID" 2>&1)
is "$?" 0 "the milter quarantines the forged message ($out)"
if wait_for 10 grep -q "$ID: not adopted: no proof that ebb held it" \
    "$T/ebbd.out"; then
	ok "the parent refuses the notice and says why"
else
	not_ok "the parent refuses the notice" "$(cat "$T/ebbd.out")"
fi

# 3-4: as nobody, any local user: refused the same way
out=$(forge "$ID2" nobody 2>&1)
is "$?" 0 "nobody's forged message is quarantined by the milter ($out)"
if wait_for 10 grep -q "$ID2: not adopted: no proof that ebb held it" \
    "$T/ebbd.out"; then
	ok "the parent refuses nobody's notice"
else
	not_ok "the parent refuses nobody's notice" "$(cat "$T/ebbd.out")"
fi

# 5-7: nothing parked; calm again, the drain leaves the admin's holds alone
is "$(st .parked)" 0 "the administrator's messages are not parked by ebb"
is "$(st .refused)" 2 "the status counts two refused notices"
echo "$IDLE" >"$T/root/proc/loadavg"
wait_for 10 st_eq .stopped false
sleep 3
check "both are still in hold after the drain ran" \
    test -f "$PF_SPOOL/hold/$ID" -a -f "$PF_SPOOL/hold/$ID2"

# 8-9: failsafe (through ebbd) leaves them, naming each and why
ebbctl failsafe >"$T/fs.out" 2>&1
if grep -q "$ID stays in hold: no ledger row, no proof: the administrator's" \
    "$T/fs.out" && grep -q "$ID2 stays in hold: no ledger row, no proof" \
    "$T/fs.out"; then
	ok "failsafe names each hold it leaves and why"
else
	not_ok "failsafe names each hold it leaves" "$(cat "$T/fs.out")"
fi
check "both are still in hold after failsafe" \
    test -f "$PF_SPOOL/hold/$ID" -a -f "$PF_SPOOL/hold/$ID2"
