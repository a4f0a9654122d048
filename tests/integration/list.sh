#!/bin/sh
# list.sh - "ebbctl list" and "ebbctl drain --dry-run" as an admin reads them
#
# A private Postfix whose relay refuses connections, so its mail defers
# with a reason. Checks an empty queue (a header and "-- queue is empty"),
# then six deferred messages made into each kind list marks: one held by
# the administrator (!), three parked by a drain stopped by --limit (~),
# one moved into the active queue (*), one plain deferred; the total line,
# the defer reason under a row and in JSON, --limit and the total; then
# the dry run: --limit, --json, aligned columns, the same durations as
# list, and the sensor named when pressure holds releases.
. "$top_srcdir/tests/integration/lib.sh"
require_root
require_cmd postfix smtp-source jq perl

tap_plan 22

pf_create
ebb_config

# 1-3: an empty queue
ebbctl list >"$T/out" 2>"$T/err"
is "$?" 0 "an empty queue exits 0"
is "$(sed -n 2p "$T/out") $(wc -l <"$T/out")" "-- queue is empty 2" \
    "an empty queue: the header and \"-- queue is empty\""
ebbctl list --queue hold >"$T/out" 2>"$T/err"
is "$(head -1 "$T/out" | awk '{ print $1, $2 }') $(sed -n 2p "$T/out")" \
    "QUEUE_ID QUEUE -- the hold queue is empty" \
    "--queue hold: the header and \"-- the hold queue is empty\""

pf_start || bail_out "postfix did not start"
pf_submit 6 || bail_out "smtp-source failed"
pf_wait_count 6 60 deferred ||
    bail_out "expected 6 deferred, have $(pf_count deferred)"
# each deferral wrote its reason into the defer log
wait_for 20 sh -c "[ \$(find '$PF_SPOOL/defer' -type f | wc -l) -ge 6 ]" ||
    diag "defer logs: $(find "$PF_SPOOL/defer" -type f | wc -l)"

ADMIN=$(pf_ids deferred | head -1)
postsuper -c "$PF_CONF" -h "$ADMIN" >/dev/null 2>&1
pf_wait_count 1 10 hold || bail_out "admin hold failed"
# a drain that parks the other five and releases two (--limit): the
# released mail is refused again and waits in deferred
ebbctl drain --limit 2 >"$T/drain.out" 2>&1
rc=$?
is "$rc $(pf_count hold)" "75 4" \
    "a drain with --limit 2 leaves three parked by ebb beside the admin's"
pf_stop
ACTIVE=$(pf_ids deferred | head -1)
mv "$(pf_file "$ACTIVE")" "$PF_SPOOL/active/$ACTIVE" ||
    diag "cannot move $ACTIVE into active"

# 5-11: the marks, the total line, the reasons
ebbctl list >"$T/out" 2>"$T/err"
is "$?" 0 "list exits 0"
mark() {	# mark ID - the character after ID in the table
	sed -n "s/^$1\\(.\\).*/\\1/p" "$T/out"
}
is "$(mark "$ADMIN")$(mark "$ACTIVE")" "!*" \
    "! marks the administrator's hold, * the active message"
is "$(grep -c '^[0-9A-Za-z]\+~' "$T/out")" 3 "~ marks the three ebb parked"
is "$(grep -c '^[0-9A-Za-z]\+ ' "$T/out")" 1 "the deferred one has no mark"
is "$(tail -1 "$T/out" | sed 's/, [0-9.]*[KM]*\( bytes\)*;/, SIZE;/')" \
    "-- 6 messages, SIZE; * 1 active, ~ 3 parked by ebb, ! 1 held by the admin" \
    "the total line counts each mark"
if grep -q '^  *(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]*: Connection refused)$' \
    "$T/out"; then
	ok "the defer reason stands under its row"
else
	not_ok "the defer reason stands under its row" "$(cat "$T/out")"
fi
ebbctl --json list >"$T/json" 2>"$T/err"
is "$(jq -r 'select(.queue_id == "'"$ADMIN"'") |
    "\(.held_by_admin) \(.parked_by_ebb) \(.delay_reason | test("Connection refused"))"' \
    "$T/json")" "true false true" \
    "JSON: held_by_admin, parked_by_ebb and delay_reason"

# 12-13: --limit shows fewer rows, the total still counts all
ebbctl list --limit 2 >"$T/out" 2>"$T/err"
is "$(grep -c '^[0-9A-Za-z]\+[ ~!*] ' "$T/out")" 2 "--limit 2: two rows"
is "$(tail -1 "$T/out" | cut -d, -f1)" "-- 2 of 6 messages" \
    "--limit 2: the total says 2 of 6"

# 14-19: the dry run
ebbctl drain --dry-run --limit 2 >"$T/dry" 2>&1
is "$?" 0 "dry run exits 0"
if grep -q '^would release 2 of 4 messages earliest deadline first' "$T/dry"
then
	ok "--dry-run --limit 2: would release 2 of the 4 waiting or parked"
else
	not_ok "--dry-run --limit 2: would release 2 of the 4 waiting or parked" \
	    "$(cat "$T/dry")"
fi
is "$(grep -c '^[0-9A-Za-z]\+[ ~!*] ' "$T/dry")" 2 "--dry-run --limit 2: two rows"
# aligned: every row's QUEUE column starts where the header's does
col=$(grep '^QUEUE_ID' "$T/dry" | awk '{ print index($0, " QUEUE ") }')
bad=$(grep '^[0-9A-Za-z]\+[ ~!*] ' "$T/dry" | awk -v c="$col" '
	{ p = index($0, " deferred "); if (p == 0) p = index($0, " hold ")
	  if (p != c) print }')
is "$bad" "" "dry run: the columns line up under the header"
# durations: at most two units, as list writes them
spans=$(grep '^[0-9A-Za-z]\+[ ~!*] ' "$T/dry" | awk '{ print $3; print $4 }' |
    grep -cv '^\([0-9]*[dhms]\)\{1,2\}$\|^expired$')
is "$spans" 0 "dry run: AGE and DEADLINE in list's duration format"
ebbctl drain --dry-run --limit 2 --json >"$T/dry.json" 2>&1
is "$(jq -r '"\(.would_release) \(.backlog) \(.messages | length) \(.held_by)"' \
    "$T/dry.json")" "2 4 2 null" "dry run --json: the plan as one object"

# 20-21: pressure at its limit: the dry run names the sensor
echo "9.60 5.00 2.00 12/120 4242" >"$T/root/proc/loadavg"
ebbctl drain --dry-run >"$T/dry" 2>&1
if grep -q '^no releases now: load is at [0-9.]* of its limit' "$T/dry"
then
	ok "dry run under pressure names the sensor"
else
	not_ok "dry run under pressure names the sensor" "$(cat "$T/dry")"
fi
is "$(ebbctl --json drain --dry-run | jq -r .held_by)" load \
    "dry run --json under pressure: held_by"

# 22: the dry run changed nothing
is "$(pf_count hold) $(pf_count deferred) $(pf_count active)" "4 1 1" \
    "the dry runs moved nothing"
