#!/bin/sh
# ledger-lost.sh - a lost ledger is a loud error, and the proof of a hold
# brings ebb's milter holds back (issue 9, finding 4). ebbd's milter holds
# a burst of urgent mail beside an administrator's hold; ebbd stops and
# its ledger is deleted: the next start says so, naming how many held
# messages carry ebb's proof, and records them again. Stopped again, the
# ledger truncated to nothing: "ebbctl adopt --proven" says so too and
# records them; a second run records nothing more. failsafe then releases
# all of them, each delivered once, and leaves the administrator's hold,
# saying why.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink jq perl

tap_plan 12
LOADED="9.60 5.00 2.00 12/120 4242"	# 4 fake CPUs: p = 1.2
N=20
LOUD="was missing or empty and is made anew, while the hold queue holds $N messages with ebb's proof"

# stop_ebbd - SIGTERM, and wait for both processes to go
stop_ebbd() {
	_pid=$(cat "$T/ebbd.pid")
	kill -TERM "$_pid"
	rm -f "$T/ebbd.pid"
	wait_for 10 sh -c "! kill -0 $_pid 2>/dev/null && ! pgrep -P $_pid"
}

# parked_in_list - held messages "ebbctl list" shows parked by ebb
parked_in_list() {
	ebbctl --json list --queue hold | jq -s '[.[] |
	    select(.parked_by_ebb)] | length'
}

ebb_user
MSOCK=$T/run/milter/milter.sock
pf_create
pf_start || bail_out "postfix did not start"
pf_submit 1 || bail_out "smtp-source failed"
pf_wait_count 1 60 deferred || bail_out "no deferred message"
ADMIN=$(pf_ids deferred)
postsuper -c "$PF_CONF" -h "$ADMIN" >/dev/null 2>&1
pf_wait_count 1 10 hold || bail_out "the administrator's hold failed"
pf_postconf "smtpd_milters = unix:$MSOCK" 'milter_default_action = tempfail'
sink_start
pf_relay sink
ebbd_config '[milter]' 'enable = yes' "socket = unix:$MSOCK" \
    'action = hold' 'client_rate = 0' 'net_rate = 0'
echo "$LOADED" >"$T/root/proc/loadavg"

# 1: before ebbd ever ran there is no key: adopt proves nothing, says why
ebbctl adopt --proven >"$T/nokey.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "adopt: no key in $T/state/proof.key" \
    "$T/nokey.out"; then
	ok "adopt --proven without a key exits 1 and says why"
else
	not_ok "adopt --proven without a key" "rc=$rc" "$(cat "$T/nokey.out")"
fi
ebbd_start || bail_out "ebbd did not start"
wait_for 10 test -S "$MSOCK" || bail_out "the milter does not listen"
wait_for 10 st_eq .stopped true || diag "pressure did not rise"

# 2: the milter holds a burst of urgent mail, all recorded; each message
# 100 KiB, so the proof is found in the last of the file's 64 KiB chunks
perl -MPOSIX=strftime -e 'print "Received: from relay.example (relay." .
    "example [192.0.2.7]) by mx.example with ESMTP id 4Ab; " .
    strftime("%a, %d %b %Y %H:%M:%S +0000", gmtime(time - 5 * 86400 + 3600)) .
    "\nSubject: urgent\n\n" . ("x" x 99 . "\n") x 1024' >"$T/msg"
smtp-source -s 5 -m $N -F "$T/msg" -f a@remote.example -t b@dest.example \
    "127.0.0.1:$PF_PORT" >"$T/burst.out" 2>&1
if pf_wait_count $((N + 1)) 30 hold && wait_for 20 st_eq .parked $N; then
	ok "the milter holds $N messages, all parked by ebb"
else
	not_ok "the milter holds $N messages" "hold=$(pf_count hold)" \
	    "parked=$(st .parked)" "$(cat "$T/burst.out")"
fi
pf_ids hold | grep -v "^$ADMIN\$" >"$T/held"

# 3: where Postfix keeps the header a milter adds: at the file's end
far=$(for id in $(cat "$T/held"); do pf_file "$id"; done | perl -ne '
	chomp; open(my $f, "<:raw", $_) or die "$_: $!"; local $/; my $d = <$f>;
	my $at = rindex($d, "X-Ebb-Parked: v1 t=");
	print "$_\n" if length($d) < 102400 || $at < length($d) - 65536;')
is "$far" "" "the proof is in the last 64 KiB of each 100 KiB held file"

# 4-5: the ledger deleted: the next start says so loudly, records them
stop_ebbd || bail_out "ebbd did not stop"
rm -f "$T/state/ledger.db" "$T/state/ledger.db-wal" "$T/state/ledger.db-shm"
ebbd_start || bail_out "ebbd did not restart"
if wait_for 10 grep -q "error: ledger .*$LOUD" "$T/ebbd.out"; then
	ok "ebbd says the ledger is new while hold holds $N proven messages"
else
	not_ok "ebbd says the ledger is new" "$(cat "$T/ebbd.out")"
fi
wait_for 10 st_eq .parked $N
is "$(st .parked)" $N "ebbd records them again by their proof"

# 6-9: truncated to nothing: ebbctl adopt --proven, loud, idempotent
stop_ebbd || bail_out "ebbd did not stop"
: >"$T/state/ledger.db"
rm -f "$T/state/ledger.db-wal" "$T/state/ledger.db-shm"
ebbctl adopt --proven >"$T/adopt.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "ledger .*$LOUD" "$T/adopt.out" &&
    grep -q "adopt: $N held messages recorded as ebb's" "$T/adopt.out"; then
	ok "adopt --proven says the ledger is new and records all $N"
else
	not_ok "adopt --proven records all" "rc=$rc" "$(cat "$T/adopt.out")"
fi
is "$(parked_in_list)" $N "ebbctl list shows the $N parked by ebb"
ebbctl --json adopt --proven >"$T/adopt2.out" 2>&1
is "$(jq -c . "$T/adopt2.out" 2>&1)" \
    "{\"adopted\":0,\"parked\":$N,\"unproven\":1}" \
    "a second run records nothing more"
if ! grep -q "made anew" "$T/adopt2.out"; then
	ok "and says nothing of a new ledger"
else
	not_ok "and says nothing of a new ledger" "$(cat "$T/adopt2.out")"
fi

# 10-12: failsafe releases them all, each delivered once; the admin's stays
ebbctl failsafe >"$T/fs.out" 2>&1
if grep -q "failsafe: released $N messages" "$T/fs.out" &&
    grep -q "$ADMIN stays in hold: no ledger row, no proof" "$T/fs.out" &&
    [ "$(pf_ids hold)" = "$ADMIN" ]; then
	ok "failsafe releases all $N and leaves the administrator's hold"
else
	not_ok "failsafe releases all" "hold: $(pf_ids hold)" "$(cat "$T/fs.out")"
fi
pf_flush
wait_for 60 pf_count_is 1
sent_ids | sort >"$T/sent"
is "$(comm -23 "$T/held" "$T/sent" | wc -l)" 0 "every one is delivered"
is "$(sort "$T/sent" | uniq -d | wc -l)" 0 "each once"
