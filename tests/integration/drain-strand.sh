#!/bin/sh
# drain-strand.sh - a message ebb parked is never stranded in hold: when
# its hold file cannot be read at a rescan (corrupt contents, mode 000, or
# ebbctl out of file descriptors), the drain keeps its ledger row open and
# says so, and failsafe still releases it; the administrator's holds stay.
#
# How the three kinds of damage look to a scanner running as root:
#   corrupt   the first record bytes overwritten, size kept: the parser
#             rejects the file ("unexpected record type"). postsuper -H
#             still moves it to deferred, and qmgr then saves it to the
#             "corrupt" queue: it has left hold, which is all ebb owes it.
#   mode 000  root reads it anyway (CAP_DAC_OVERRIDE), but the owner-execute
#             bit is Postfix's "file complete" mark: without it ebb's
#             scanner and postsuper both take the file for one still being
#             written. postsuper -H skips it ("Released from hold: 0
#             messages", exit 0), so ebb cannot release it; it must then
#             keep its row open and name it rather than drop it silently.
#   EMFILE    ebbctl under a low "ulimit -n": every limit at which it, or
#             the scanner that reads the files for it as root, runs out of
#             descriptors ("Too many open files") fails the run and strands
#             nothing. The empty hash directories of the deferred queue are
#             removed first (Postfix makes them again when it needs them).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink sqlite3 perl

tap_plan 18
N=24

# ledger SQL - a query on ebb's ledger
ledger() {
	sqlite3 -cmd '.timeout 5000' "$T/state/ledger.db" "$@"
}

# ledger_parked - the queue ids with an open ledger row, sorted
ledger_parked() {
	ledger "SELECT queue_id FROM parked ORDER BY queue_id"
}

# row_open ID - ID has an open ledger row (parked, parking or releasing)
row_open() {
	[ "$(ledger "SELECT count(*) FROM parked WHERE queue_id = '$1'")" -eq 1 ]
}

# row_settled ID - ID has no open row and a settled one
row_settled() {
	! row_open "$1" &&
	    [ "$(ledger "SELECT count(*) FROM settled WHERE queue_id = '$1'")" -ge 1 ]
}

# in_hold ID - a file of ID is in the hold queue, whatever its mode
in_hold() {
	[ -n "$(find "$PF_SPOOL/hold" -type f -name "$1" 2>/dev/null)" ]
}

# kept ID - not stranded by a drain: still in hold with its row open, or
# released (gone from hold, row settled)
kept() {
	if in_hold "$1"; then row_open "$1"; else row_settled "$1"; fi
}

# where ID - one line about ID for diagnostics
where() {
	printf '%s: files: %s; open row: %s; settled: %s\n' "$1" \
	    "$(find "$PF_SPOOL" -type f -name "$1" -printf '%P(%m) ' 2>/dev/null)" \
	    "$(ledger "SELECT state FROM parked WHERE queue_id = '$1'")" \
	    "$(ledger "SELECT outcome FROM settled WHERE queue_id = '$1'" |
	    tr '\n' ' ')"
}

# held_without_row IDS... - the ids still in hold whose row is closed
held_without_row() {
	for _id in "$@"; do
		in_hold "$_id" && ! row_open "$_id" && echo "$_id"
	done
}

# reported ID FILE MIN - the output names ID, or its "done:" summary
# counts at least MIN damaged files (corrupt=, unreadable=, incomplete=)
reported() {
	grep -q "$1" "$2" && return 0
	_n=$(grep 'done:' "$2" | tr ' ' '\n' |
	    sed -n 's/^\(corrupt\|unreadable\|incomplete\|damaged\)=\([0-9]*\)$/\2/p' |
	    awk '{ s += $1 } END { print s + 0 }')
	[ "$_n" -ge "$3" ]
}

# damage ID - overwrite the first 16 bytes of its queue file, size kept
damage() {
	perl -e 'open(my $f, "+<:raw", $ARGV[0]) or die "$ARGV[0]: $!";
	    print $f "\xff" x 16; close($f) or die "$ARGV[0]: $!"' \
	    "$(pf_file "$1")"
}

backlog $N
# an administrator's own holds: never touched
ADMIN=$(pf_ids deferred | head -2)
echo "$ADMIN" | postsuper -c "$PF_CONF" -h - >/dev/null 2>&1
pf_wait_count 2 10 hold || bail_out "admin hold failed"
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000'

# 1: park the backlog, release one
ebbctl drain --limit 1 >"$T/park.out" 2>&1
rc=$?
PARKED=$(ledger_parked)
np=$(echo "$PARKED" | grep -c .)
if [ $rc -eq 75 ] && [ "$np" -eq $((N - 3)) ] &&
    [ -z "$(for id in $PARKED; do in_hold "$id" || echo "$id"; done)" ]; then
	ok "drain --limit 1 parked the backlog ($np rows open, all in hold)"
else
	not_ok "drain --limit 1 parked the backlog" "rc=$rc rows=$np" \
	    "$(cat "$T/park.out")"
fi
A=$(echo "$PARKED" | sed -n 1p)
B=$(echo "$PARKED" | sed -n 2p)
if [ -z "$A" ] || [ -z "$B" ]; then
	bail_out "nothing parked: $(cat "$T/park.out")"
fi
# the rest: the EMFILE case is told by these alone
REST=$(echo "$PARKED" | grep -vxF -e "$A" -e "$B")
damage "$A" || bail_out "cannot damage $A"
chmod 000 "$(pf_file "$B")" || bail_out "cannot chmod $B"

# 2-3: a dry run names both damaged parked files
ebbctl drain --dry-run >"$T/dry.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "$A" "$T/dry.out"; then
	ok "dry run names the corrupt parked file"
else
	not_ok "dry run names the corrupt parked file $A" "rc=$rc" \
	    "$(head -8 "$T/dry.out")"
fi
if grep -q "$B" "$T/dry.out"; then
	ok "dry run names the parked file of mode 000"
else
	not_ok "dry run names the parked file of mode 000 ($B)" \
	    "$(head -8 "$T/dry.out")"
fi

# 4-8: a drain that does not release them keeps their rows open and says
# which files it could not read
ebbctl drain --limit 2 >"$T/limit.out" 2>&1
rc=$?
is "$rc" 75 "drain --limit 2 exits 75 with mail left"
if kept "$A"; then
	ok "the corrupt file's row stays open"
else
	not_ok "the corrupt file's row stays open" "$(where "$A")" \
	    "$(grep -e "$A" -e 'reconciled' "$T/limit.out")"
fi
if kept "$B"; then
	ok "the mode 000 file's row stays open"
else
	not_ok "the mode 000 file's row stays open" "$(where "$B")" \
	    "$(grep -e "$B" -e 'reconciled' "$T/limit.out")"
fi
if reported "$A" "$T/limit.out" 1; then
	ok "the drain reports the corrupt file"
else
	not_ok "the drain reports the corrupt file $A" "$(cat "$T/limit.out")"
fi
if reported "$B" "$T/limit.out" 2; then
	ok "the drain reports the mode 000 file"
else
	not_ok "the drain reports the mode 000 file $B" "$(cat "$T/limit.out")"
fi

# 9-12: ebbctl out of file descriptors. What was released is delivered
# first, so that deferred is empty and its hash directories can go.
if ! wait_for 30 sh -c "[ -z \"\$(find '$PF_SPOOL/incoming' \
    '$PF_SPOOL/active' '$PF_SPOOL/deferred' -type f)\" ]"; then
	diag "released mail still queued:" \
	    "$(find "$PF_SPOOL/incoming" "$PF_SPOOL/active" \
	    "$PF_SPOOL/deferred" -type f)"
fi
find "$PF_SPOOL/deferred" -mindepth 1 -type d -empty -delete
# As root the files are read by ebbctl's scanner process (scanner.h),
# which needs fewer descriptors than ebbctl itself: at a low limit
# whichever runs out first fails the run. Every limit from 6 up to the
# first at which nothing runs out must fail the drain (not exit 0) and
# leave every parked row open; then failsafe at the highest of them (the
# one that gets furthest) must too.
lo=
bad_rc=
bad_rows=
for lim in $(seq 6 24); do
	sh -c "ulimit -n $lim && exec \"\$0\" -c \"\$1\" drain --limit 1" \
	    "$EBBCTL" "$EBB_CONF" >"$T/emfile.out" 2>&1
	rc=$?
	grep -q 'Too many open files' "$T/emfile.out" || break
	[ -n "$lo" ] || lo=$lim
	[ $rc -ne 0 ] || bad_rc="$bad_rc $lim"
	# shellcheck disable=SC2086	# a list of queue ids
	lost=$(held_without_row $REST)
	[ -z "$lost" ] || bad_rows="$bad_rows $lim:$(echo "$lost" | wc -l)"
done
if [ -n "$lo" ]; then
	hi=$((lim - 1))
	ok "ulimit -n $lo to $hi: ebbctl runs out of descriptors (EMFILE)"
	is "${bad_rc# }" "" "drain under those limits never exits 0"
	is "${bad_rows# }" "" "drain under those limits keeps the rows open"
	sh -c "ulimit -n $hi && exec \"\$0\" -c \"\$1\" failsafe" \
	    "$EBBCTL" "$EBB_CONF" >"$T/fs-emfile.out" 2>&1
	rc=$?
	# shellcheck disable=SC2086	# a list of queue ids
	lost=$(held_without_row $REST)
	if [ -z "$lost" ]; then
		ok "failsafe under ulimit -n $hi keeps the rows open"
	else
		not_ok "failsafe under ulimit -n $hi keeps the rows open" \
		    "rc=$rc; $(echo "$lost" | wc -l) in hold with a closed row" \
		    "$(grep -v 'skipped queue=hold' "$T/fs-emfile.out")"
	fi
else
	not_ok "ulimit -n: ebbctl runs out of descriptors (EMFILE)" \
	    "not even at 6: $(cat "$T/emfile.out")"
	for t in "drain under those limits never exits 0" \
	    "drain under those limits keeps the rows open" \
	    "failsafe under a low ulimit -n keeps the rows open"; do
		not_ok "$t" "not run: the EMFILE case was not reached"
	done
fi

# 13-16: failsafe with the files as they are: everything ebb parked
# leaves hold, except the mode 000 file postsuper will not touch, which
# keeps its row and is named; the administrator's holds stay
ebbctl failsafe >"$T/fs.out" 2>&1
rc=$?
if ! in_hold "$A" && row_settled "$A"; then
	ok "failsafe releases the corrupt file"
else
	not_ok "failsafe releases the corrupt file" "rc=$rc" "$(where "$A")" \
	    "$(cat "$T/fs.out")"
fi
if { ! in_hold "$B" && row_settled "$B"; } ||
    { in_hold "$B" && row_open "$B" && grep -q "$B" "$T/fs.out"; }; then
	ok "failsafe releases the mode 000 file or keeps and names it"
else
	not_ok "failsafe releases the mode 000 file or keeps and names it" \
	    "rc=$rc" "$(where "$B")" "$(cat "$T/fs.out")"
fi
left=
for id in $REST; do
	{ ! in_hold "$id" && row_settled "$id"; } || left="$left $id"
done
if [ -z "$left" ]; then
	ok "failsafe releases everything else ebb parked"
else
	# shellcheck disable=SC2086	# a list of queue ids
	set -- $left
	not_ok "failsafe releases everything else ebb parked" \
	    "$# left in hold; the first: $(where "$1")" "$(cat "$T/fs.out")"
fi
is "$(for id in $ADMIN; do in_hold "$id" && echo "$id"; done | tr '\n' ' ')" \
    "$(echo "$ADMIN" | tr '\n' ' ')" "the administrator's holds stay"

# 17-18: failsafe itself meets a corrupt file: a second backlog (the sink
# stopped, so it defers), parked by a drain, one file damaged, failsafe
sink_stop
M=6
before=$(pf_count deferred)
pf_submit $M -f erin@senders.test -t user@r2.test ||
    bail_out "smtp-source failed"
pf_wait_count $((before + M)) 60 deferred ||
    bail_out "expected $((before + M)) deferred, have $(pf_count deferred)"
OLD=$(ledger_parked)
ebbctl drain --limit 1 >"$T/park2.out" 2>&1
PARKED2=$(ledger_parked | grep -vxF "${OLD:-.}" || true)
C=$(echo "$PARKED2" | sed -n 1p)
[ -n "$C" ] || bail_out "the second drain parked nothing: $(cat "$T/park2.out")"
damage "$C" || bail_out "cannot damage $C"
ebbctl failsafe >"$T/fs2.out" 2>&1
rc=$?
if ! in_hold "$C" && row_settled "$C"; then
	ok "failsafe releases a file it cannot read"
else
	not_ok "failsafe releases a file it cannot read" "rc=$rc" \
	    "$(where "$C")" "$(cat "$T/fs2.out")"
fi
left=
for id in $PARKED2; do
	[ "$id" = "$C" ] && continue
	in_hold "$id" && left="$left $id"
done
held=$(for id in $ADMIN; do in_hold "$id" && echo "$id"; done | tr '\n' ' ')
if [ -z "$left" ] && [ "$held" = "$(echo "$ADMIN" | tr '\n' ' ')" ]; then
	ok "failsafe releases the rest, the administrator's holds stay"
else
	not_ok "failsafe releases the rest, the administrator's holds stay" \
	    "still in hold:$left" "admin held: $held" "$(cat "$T/fs2.out")"
fi
