#!/bin/sh
# scan.sh - the Postfix queue scanner against a real queue and postqueue -j
#
# Builds a queue on a private Postfix: several senders and domains, a
# multi-recipient message, the null sender, a recipient added by a milter
# (stored after E, reached through p records), a partly delivered message
# (a D record: one recipient went to the sink, the other deferred), held
# messages, and files moved into active and incoming as a crash leaves
# them. Then, with the instance stopped (a stable queue), "ebbctl --json
# list" must agree with "postqueue -j" on ids, queues, senders, recipients,
# arrival times and sizes; deadlines must be create_time + the lifetime,
# also after aging messages in place; "scan = postqueue" must agree with the
# direct scan; and corrupt or truncated files must be skipped and reported
# while the valid messages still list.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

require_root
require_cmd jq smtp-source smtp-sink sendmail postcat perl
[ -x "$EBBCTL" ] || bail_out "no ebbctl in $top_builddir"
MILTER=$top_builddir/tests/integration/addrcpt_milter
[ -x "$MILTER" ] || bail_out "no $MILTER (make check builds it)"

tap_plan 36

MAX=432000	# maximal_queue_lifetime = 5d
BOUNCE=172800	# bounce_queue_lifetime = 2d
TOTAL=29

# ---------------------------------------------------------------------
# the queue

MPORT=$(free_port)
bg_start milter "$MILTER" -p "inet:$MPORT@127.0.0.1" -a added@d8.test \
    -t trigger
wait_for 10 port_in_use "$MPORT" || bail_out "the test milter did not start"
pf_create --milter "$MPORT"
pf_postconf "maximal_queue_lifetime = 5d" "bounce_queue_lifetime = 2d"
pf_start || bail_out "Postfix did not start"

pf_submit 24 || diag "pf_submit 24 failed"
pf_submit 2 -f multi@senders.test -t user@d5.test -r 3
pf_submit 1 -f trig@senders.test -t trigger@d7.test
printf 'Subject: bounce\n\nnull sender\n' | pf_sendmail -f '' null@d9.test
# shellcheck disable=SC2119
sink_start || diag "smtp-sink did not start"
printf 'Subject: half\n\ntwo recipients\n' |
    pf_sendmail -f partial@senders.test a@sink.test b@d9.test
if pf_wait_count $TOTAL 30 deferred; then
	ok "queue built: $TOTAL deferred messages"
else
	not_ok "queue built: $TOTAL deferred messages" \
	    "have $(pf_count deferred) deferred, $(pf_count) in all" \
	    "$(tail -5 "$PF_DIR/maillog")"
fi
sink_stop
bg_stop milter KILL

# shellcheck disable=SC2046	# queue ids: one word each
set -- $(pf_ids deferred)
HELD="$1 $2"
postsuper -c "$PF_CONF" -h "$1" >/dev/null 2>&1
postsuper -c "$PF_CONF" -h "$2" >/dev/null 2>&1
pf_wait_count 2 10 hold || diag "hold has $(pf_count hold) messages"
pf_stop

# what a crash leaves: a file in active, one in incoming
ACTIVE=$3
INCOMING=$4
mv "$(pf_file "$ACTIVE")" "$PF_SPOOL/active/$ACTIVE"
mv "$(pf_file "$INCOMING")" "$PF_SPOOL/incoming/$INCOMING"
# a plain message: not the null sender's (its lifetime is the bounce one),
# nor one of the special senders; directory order puts any of them at $5
PLAIN=$(postqueue -c "$PF_CONF" -j 2>/dev/null | jq -r '
    select(.queue_name == "deferred" and .sender != "MAILER-DAEMON" and
    (.sender | test("^(multi|trig|partial)@") | not)) | .queue_id' |
    sed -n '1p')
[ -n "$PLAIN" ] || bail_out "no plain deferred message to age"

ebb_config

# tsv - one line per message, the fields both listers show, sorted
ebb_tsv() {
	jq -r '[.queue_id, .queue, .sender, (.arrival_time|tostring),
	    (.size|tostring), (.recipients|sort|join(","))] | @tsv' "$@" |
	    sort
}
pq_tsv() {
	jq -r '[.queue_id, .queue_name,
	    (if .sender == "MAILER-DAEMON" then "" else .sender end),
	    (.arrival_time|tostring), (.message_size|tostring),
	    ([.recipients[].address]|sort|join(","))] | @tsv' "$@" | sort
}
# field N of both listings, compared
agree() {
	_a=$(ebb_tsv "$T/ebb.json" | cut -f"$1")
	_b=$(pq_tsv "$T/pq.json" | cut -f"$1")
	if [ "$_a" = "$_b" ]; then
		ok "$2 agree with postqueue -j"
	else
		not_ok "$2 agree with postqueue -j" \
		    "$(printf '%s\n' "$_a" >"$T/a"; printf '%s\n' "$_b" >"$T/b";
		    diff "$T/a" "$T/b")"
	fi
}
# field - a field of one message in ebbctl's listing
field() {
	jq -r --arg id "$1" "select(.queue_id == \$id) | $2" "$T/ebb.json"
}

# ---------------------------------------------------------------------
# direct scan versus postqueue -j

ebbctl --json list >"$T/ebb.json" 2>"$T/ebb.err"
rc=$?
n=$(wc -l <"$T/ebb.json")
if [ $rc -eq 0 ] && [ "$n" -eq $TOTAL ]; then
	ok "ebbctl --json list lists $TOTAL messages"
else
	not_ok "ebbctl --json list lists $TOTAL messages" "exit $rc, $n lines" \
	    "$(cat "$T/ebb.err")"
fi
postqueue -c "$PF_CONF" -j >"$T/pq.json" 2>/dev/null
agree 1 "queue ids"
agree 1,2 "queues"
agree 1,3 "senders"
agree 1,6 "recipients"
agree 1,4 "arrival times"
agree 1,5 "sizes"

TRIG=$(jq -r 'select(.sender == "trig@senders.test") | .queue_id' \
    "$T/ebb.json")
is "$(field "$TRIG" '.recipients|sort|join(",")')" \
    "added@d8.test,trigger@d7.test" \
    "a milter's recipient (after E, through p records) is found"
PART=$(jq -r 'select(.sender == "partial@senders.test") | .queue_id' \
    "$T/ebb.json")
if postcat -c "$PF_CONF" -e -q "$PART" 2>/dev/null |
    grep -q 'done_recipient: a@sink.test'; then
	is "$(field "$PART" '.recipients|join(",")')" "b@d9.test" \
	    "a partly delivered message lists only its pending recipient"
else
	not_ok "a partly delivered message lists only its pending recipient" \
	    "no D record in $PART: $(tail -3 "$PF_DIR/maillog")"
fi
is "$(jq -r 'select(.sender == "multi@senders.test") | .recipients |
    length' "$T/ebb.json" | sort -u)" 3 "multi-recipient messages"
NULLID=$(jq -r 'select(.sender == "") | .queue_id' "$T/ebb.json")
is "$(field "$NULLID" '.deadline - .create_time')" $BOUNCE \
    "null sender: deadline = create_time + bounce_queue_lifetime"
is "$(jq -r 'select(.sender != "") | .deadline - .create_time' \
    "$T/ebb.json" | sort -u)" $MAX \
    "others: deadline = create_time + maximal_queue_lifetime"
is "$(jq -r 'select(.queue == "hold") | .queue_id' "$T/ebb.json" | sort |
    tr '\n' ' ')" "$(echo "$HELD" | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "held messages are in the hold queue"
is "$(field "$ACTIVE" .queue) $(field "$INCOMING" .queue)" \
    "active incoming" "active and incoming are scanned"
is "$(field "$PLAIN" .next_retry)" "$(stat -c %Y "$(pf_file "$PLAIN")")" \
    "next_retry is the deferred file's mtime"
is "$(jq -r 'select(.queue != "deferred") | .next_retry' "$T/ebb.json" |
    sort -u)" 0 "no next_retry outside deferred"
is "$(jq -r '.parked_by_ebb' "$T/ebb.json" | sort -u)" false \
    "nothing is parked by ebb"

# ---------------------------------------------------------------------
# options

is "$(ebbctl --json list --queue hold | jq -r .queue | sort | uniq -c |
    awk '{print $1, $2}')" "2 hold" "--queue hold"
is "$(ebbctl list --limit 5 --json | wc -l)" 5 "--limit 5"
sorted() {	# sorted FIELD ORDER - ebbctl's order is FIELD's (n or nr)
	ebbctl --json list "$@" >"$T/sorted.json" 2>/dev/null
}
sorted --sort size
is "$(jq .size "$T/sorted.json" | tr '\n' ' ')" \
    "$(jq .size "$T/sorted.json" | sort -nr | tr '\n' ' ')" \
    "--sort size: largest first"
sorted --sort age
is "$(jq .arrival_time "$T/sorted.json" | tr '\n' ' ')" \
    "$(jq .arrival_time "$T/sorted.json" | sort -n | tr '\n' ' ')" \
    "--sort age: oldest first"
sorted
is "$(jq .deadline "$T/sorted.json" | tr '\n' ' ')" \
    "$(jq .deadline "$T/sorted.json" | sort -n | tr '\n' ' ')" \
    "default order: earliest deadline first"
bad=
for args in "--sort nope" "--queue nope" "--limit 0" "--limit x" "extra"; do
	# shellcheck disable=SC2086
	ebbctl list $args >/dev/null 2>&1
	rc=$?
	[ $rc -eq 64 ] || bad="$bad [$args: exit $rc]"
done
is "$bad" "" "bad options exit 64"
ebbctl list >"$T/table" 2>"$T/err"
is "$(head -1 "$T/table" | awk '{print $1, $2, $3, $4}') \
$(grep -c '^[0-9A-Za-z]\+[ ~!*] ' "$T/table") $(tail -1 "$T/table" | cut -d, -f1)" \
    "QUEUE_ID QUEUE AGE DEADLINE $TOTAL -- $TOTAL messages" \
    "table: header, rows and the total line"
is "$(grep "^$NULLID[ ~!*] " "$T/table" | awk '{print $6}')" "<>" \
    "table: the null sender is <>"

# ---------------------------------------------------------------------
# aging: rewrite T and create_time in place, instance stopped

now=$(date +%s)
pf_age "$PLAIN" 259200 || diag "pf_age $PLAIN failed"
pf_age "$NULLID" 259200 || diag "pf_age $NULLID failed"
ebbctl --json list >"$T/ebb.json" 2>/dev/null
postqueue -c "$PF_CONF" -j >"$T/pq.json" 2>/dev/null
age=$((now - $(field "$PLAIN" .create_time)))
if [ "$age" -ge 259200 ] && [ "$age" -le 259210 ]; then
	ok "an aged message is 3 days old"
else
	not_ok "an aged message is 3 days old" "age $age"
fi
is "$(field "$PLAIN" '.deadline - .create_time') \
$(field "$PLAIN" '.arrival_time == .create_time')" "$MAX true" \
    "aged: deadline = create_time + maximal_queue_lifetime"
agree 1,4 "arrival times after aging"
ebbctl list >"$T/table" 2>"$T/err"
is "$(grep "^$NULLID[ ~!*] " "$T/table" | awk '{print $4}')" expired \
    "an aged null-sender message shows as expired"

# ---------------------------------------------------------------------
# scan = postqueue: the fallback agrees with the direct scan

ebb_config "[postfix]" "scan = postqueue"
ebbctl --json list >"$T/pqmode.json" 2>"$T/pqmode.err"
a=$(ebb_tsv "$T/pqmode.json" | cut -f1,2,3,4,5,6)
b=$(ebb_tsv "$T/ebb.json" | cut -f1,2,3,4,5,6)
if [ "$a" = "$b" ]; then
	ok "scan = postqueue agrees with the direct scan"
else
	not_ok "scan = postqueue agrees with the direct scan" \
	    "$(cat "$T/pqmode.err")" "$(printf '%s\n' "$a" | head -3)" \
	    "$(printf '%s\n' "$b" | head -3)"
fi
ebb_config

# ---------------------------------------------------------------------
# corrupt and truncated files: skipped, counted, logged, no crash

src=$(pf_file "$PLAIN")
size=$(stat -c %s "$src")
mkdir -p "$PF_SPOOL/deferred/F"
head -c $((size / 2)) "$src" >"$PF_SPOOL/deferred/F/FFFFF00001"
cp "$src" "$PF_SPOOL/deferred/F/FFFFF00002"	# a bad size record
printf 'zzzzzzzzzzzzzzzz' | dd of="$PF_SPOOL/deferred/F/FFFFF00002" bs=1 \
    seek=20 conv=notrunc 2>/dev/null
cp "$src" "$PF_SPOOL/deferred/F/FFFFF00003"	# not a record type
printf 'Z' | dd of="$PF_SPOOL/deferred/F/FFFFF00003" bs=1 seek=0 \
    conv=notrunc 2>/dev/null
: >"$PF_SPOOL/deferred/F/FFFFF00004"		# empty
cp "$src" "$PF_SPOOL/deferred/F/FFFFF00005"	# still being written
chmod 700 "$PF_SPOOL/deferred/F/FFFFF0000"[1-4]
chmod 600 "$PF_SPOOL/deferred/F/FFFFF00005"
ebbctl --json list >"$T/ebb2.json" 2>"$T/ebb2.err"
rc=$?
is "$rc $(wc -l <"$T/ebb2.json")" "0 $TOTAL" \
    "corrupt files: exit 0, the valid messages still list"
if grep -q "4 queue files skipped" "$T/ebb2.err"; then
	ok "corrupt files are counted"
else
	not_ok "corrupt files are counted" "$(cat "$T/ebb2.err")"
fi
missing=
for id in FFFFF00001 FFFFF00002 FFFFF00003 FFFFF00004; do
	grep -q "^ebbctl: $id: skipped queue=deferred" "$T/ebb2.err" ||
	    missing="$missing $id"
done
is "$missing" "" "each skipped file is logged by its queue id"
grep -q FFFFF00005 "$T/ebb2.err" "$T/ebb2.json"
is $? 1 "a file without the owner-execute bit is ignored"

# ---------------------------------------------------------------------
# an empty queue: the header and "-- queue is empty", exit 0

rm -f "$PF_SPOOL/deferred/F/FFFFF0000"*
postsuper -c "$PF_CONF" -d ALL >/dev/null 2>&1
ebbctl list >"$T/empty.out" 2>"$T/err"
is "$? $(wc -l <"$T/empty.out") $(tail -1 "$T/empty.out")" \
    "0 2 -- queue is empty" "an empty queue: the header, \"queue is empty\", exit 0"
