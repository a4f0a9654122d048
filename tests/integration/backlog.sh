#!/bin/sh
# backlog.sh - "ebbctl backlog" against a real Postfix queue
#
# Builds a deferred queue on a private Postfix: 12 senders over 4 domains,
# messages with 3 recipients in one domain, the null sender, a message to
# two domains; ages two messages in place (one past its 5-day deadline, one
# a few hours before it) and holds two. Then checks the text table (TOTAL
# first, counts per domain are messages, --by sender-domain, --top,
# --queue) and the JSON (the buckets add up, the aged messages land in
# 1280+, expired and <6h).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

require_root
require_cmd jq smtp-source sendmail perl
[ -x "$EBBCTL" ] || bail_out "no ebbctl in $top_builddir"

tap_plan 17

TOTAL=28

pf_create
pf_postconf "maximal_queue_lifetime = 5d" "bounce_queue_lifetime = 5d"
pf_start || bail_out "Postfix did not start"
pf_submit 24 || diag "pf_submit 24 failed"
pf_submit 2 -f multi@senders.test -t user@d5.test -r 3
printf 'Subject: bounce\n\nnull sender\n' | pf_sendmail -f '' null@d9.test
printf 'Subject: two\n\ntwo domains\n' |
    pf_sendmail -f two@senders.test a@d9.test b@D8.TEST
if pf_wait_count $TOTAL 30 deferred; then
	ok "queue built: $TOTAL deferred messages"
else
	not_ok "queue built: $TOTAL deferred messages" \
	    "have $(pf_count deferred) deferred, $(pf_count) in all" \
	    "$(tail -5 "$PF_DIR/maillog")"
fi
pf_stop

# shellcheck disable=SC2046	# queue ids: one word each
set -- $(pf_ids deferred)
pf_age "$1" $((6 * 86400))			# past its deadline
pf_age "$2" $((5 * 86400 - 3 * 3600))		# 3 hours left
postsuper -c "$PF_CONF" -h "$3" >/dev/null 2>&1
postsuper -c "$PF_CONF" -h "$4" >/dev/null 2>&1
is "$(pf_count hold)" 2 "two messages held"

ebb_config

# cell - the value in column COL (1 = the domain) of the row of DOMAIN
cell() {
	awk -v d="$1" -v c="$2" '$1 == d { print $c; exit }'
}

ebbctl backlog >"$T/out" 2>"$T/err"
is "$?" 0 "backlog exits 0"
is "$(sed -n 3p "$T/out" | awk '{ print $1 }')" TOTAL \
    "TOTAL is the first row after the two header lines"
is "$(cell TOTAL 2 <"$T/out")" $TOTAL "TOTAL counts every message"
is "$(cell d1.test 2 <"$T/out")" 6 "a domain row counts its messages"
is "$(cell d5.test 2 <"$T/out")" 2 \
    "three recipients in one domain count one message"
is "$(cell d9.test 2 <"$T/out") $(cell d8.test 2 <"$T/out")" "2 1" \
    "a message to two domains counts in both rows, lower-cased"
bars=$(awk '{ print index($0, "|") }' "$T/out" | sort -u)
is "$bars" "$(awk 'NR == 1 { print index($0, "|") }' "$T/out")" \
    "the columns line up"

ebbctl backlog --by sender-domain >"$T/out"
is "$(cell MAILER-DAEMON 2 <"$T/out") $(cell senders.test 2 <"$T/out")" \
    "1 3" "by sender domain: the null sender is MAILER-DAEMON"

ebbctl backlog --top 2 >"$T/out"
is "$(wc -l <"$T/out" | tr -d ' ')" 5 "--top 2: two headers, TOTAL, 2 rows"

ebbctl backlog --queue hold >"$T/out"
is "$(cell TOTAL 2 <"$T/out")" 2 "--queue hold: the held messages only"

ebbctl --json backlog >"$T/json"
is "$(jq -r '.rows[0].domain + " " + (.rows[0].total | tostring)' \
    "$T/json")" "TOTAL $TOTAL" "JSON: TOTAL first"
is "$(jq '[.rows[] | (.age | add) == .total and
    (.deadline | add) == .total] | all' "$T/json")" true \
    "JSON: every row's buckets add up to its total"
# age_buckets[9] is 1280+; deadline_buckets 0 expired, 2 <6h
is "$(jq -r '.rows[0] | [.age[9], .deadline[0], .deadline[2]] |
    map(tostring) | join(" ")' "$T/json")" "2 1 1" \
    "JSON: the aged messages are 1280+, one expired, one <6h"

ebbctl backlog --by domain >/dev/null 2>&1
is "$?" 64 "a bad --by is a usage error"
ebbctl backlog --top x >/dev/null 2>&1
is "$?" 64 "a bad --top is a usage error"
