#!/bin/sh
# scan-cache.sh - the scan in threads, and ebbctl's scan cache, on a real
# Postfix queue
#
# Builds a deferred queue of 300 messages (a multi-recipient one and the
# null sender among them) and holds two, with the instance stopped. Then:
# a cold scan with 1 thread and with 4 give the same list and backlog; a
# warm "ebbctl list" parses nothing and answers the same; after one file
# is rewritten in place (same size), one deleted and one held, a warm run
# re-parses exactly one file, drops one, and answers as a cold scan does;
# a truncated, foreign (another owner), stale (another lifetime) or
# garbage cache is ignored with a note and the answer is still right; a
# crash's leftover scan-cache.new is harmless. EBB_SCAN_STATS makes ebbctl
# say what it parsed and what it took from the cache (mta.h).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

require_root
require_cmd jq smtp-source sendmail perl
[ -x "$EBBCTL" ] || bail_out "no ebbctl in $top_builddir"

tap_plan 27

TOTAL=303

pf_create
pf_postconf "maximal_queue_lifetime = 5d" "bounce_queue_lifetime = 2d"
pf_start || bail_out "Postfix did not start"
pf_submit 300 || diag "pf_submit 300 failed"
pf_submit 2 -f multi@senders.test -t user@d5.test -r 3
printf 'Subject: bounce\n\nnull sender\n' | pf_sendmail -f '' null@d9.test
if pf_wait_count $TOTAL 60 deferred; then
	ok "queue built: $TOTAL deferred messages"
else
	not_ok "queue built: $TOTAL deferred messages" \
	    "have $(pf_count deferred) deferred, $(pf_count) in all"
fi
# shellcheck disable=SC2046	# queue ids: one word each
set -- $(pf_ids deferred)
postsuper -c "$PF_CONF" -h "$1" >/dev/null 2>&1
postsuper -c "$PF_CONF" -h "$2" >/dev/null 2>&1
pf_wait_count 2 10 hold || diag "hold has $(pf_count hold) messages"
pf_stop
AGED=$3 GONE=$4 HELD=$5

CACHE=$T/state/scan-cache

# run NAME THREADS - "ebbctl --json list --scan" and "backlog --json --scan"
# (ebbd is not asked: it does not run here, and the note would say so) into
# $T/NAME.list and $T/NAME.backlog (sorted, "now" dropped), what the scan
# said into $T/NAME.stats, the rest of stderr into $T/NAME.err
run() {
	ebb_config '[general]' "scan_threads = $2"
	EBB_SCAN_STATS=1 ebbctl --json list --scan 2>"$T/$1.err" |
	    jq -cS . | sort >"$T/$1.list"
	grep '^scan:' "$T/$1.err" >"$T/$1.stats"
	EBB_SCAN_STATS=1 ebbctl backlog --json --scan 2>/dev/null |
	    jq -cS 'del(.now)' >"$T/$1.backlog"
}

# scanned NAME FIELD - a number from the scan line ("parsed", "cached", ...)
scanned() {
	awk -v f="$2" '{ for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) }' \
	    "$T/$1.stats"
}

# same A B WHAT - A's list and backlog are B's, and not empty
same() {
	if [ -s "$T/$1.list" ] && [ -s "$T/$1.backlog" ] &&
	    cmp -s "$T/$1.list" "$T/$2.list" &&
	    cmp -s "$T/$1.backlog" "$T/$2.backlog"; then
		ok "$3"
	else
		not_ok "$3" "$(diff "$T/$1.list" "$T/$2.list" | head -5)" \
		    "$(diff "$T/$1.backlog" "$T/$2.backlog" | head -5)"
	fi
}

# ---------------------------------------------------------------------
# threads

rm -f "$CACHE"
run one 1
is "$(wc -l <"$T/one.list")" $TOTAL "one thread lists every message"
is "$(scanned one parsed)" $TOTAL "a cold scan parses every file"
rm -f "$CACHE"
run four 4
same four one "four threads give what one gives"
is "$(scanned four parsed)" $TOTAL "four threads parse every file once"
is "$(jq -r 'select(.sender == "multi@senders.test" or .sender == "") |
    .recipients | length' "$T/four.list" | sort | tr '\n' ' ')" "1 3 3 " \
    "the null sender and the three recipients of a message are there"

# ---------------------------------------------------------------------
# a warm cache

[ -f "$CACHE" ]
is "$?" 0 "the scan left a cache in the state directory"
is "$(scanned four cache)" none "the cold run had no cache"
run warm 2
same warm one "a warm run answers as a cold one"
is "$(scanned warm cache)" loaded "the warm run loaded the cache"
is "$(scanned warm parsed)/$(scanned warm cached)" "0/$TOTAL" \
    "a warm run parses nothing"
[ -s "$T/warm.err" ] && [ "$(grep -vc '^scan:' "$T/warm.err")" -gt 0 ]
is "$?" 1 "a warm run says nothing else"

# what changed: a file rewritten in place, one deleted, one held
pf_age "$AGED" $((3 * 86400 + 3600))	# 47h left: not near a bucket || diag "pf_age failed"
rm -f "$(pf_file "$GONE")"
postsuper -c "$PF_CONF" -h "$HELD" >/dev/null 2>&1
run changed 2
is "$(scanned changed parsed)" 1 "after a change, only the changed file is parsed"
is "$(scanned changed removed)" 1 "the deleted file is dropped"
is "$(scanned changed cached)" $((TOTAL - 2)) "the rest comes from the cache"
rm -f "$CACHE"
run cold 2
same changed cold "the warm run after a change answers as a cold one"
is "$(jq -r "select(.queue_id == \"$HELD\") | .queue" "$T/changed.list")" \
    hold "the held message is in hold"

# ---------------------------------------------------------------------
# caches not to trust

run ok 2		# a cache written from the queue as it is
size=$(stat -c %s "$CACHE")
truncate -s $((size / 2)) "$CACHE"
run truncated 2
same truncated cold "a truncated cache: the right answer"
grep -q "scan-cache ignored: truncated" "$T/truncated.err"
is "$?" 0 "a truncated cache: a note says it is ignored"
is "$(scanned truncated parsed)" $((TOTAL - 1)) "a truncated cache: all parsed"

chown nobody "$CACHE"
run foreign 2
grep -q "scan-cache ignored: not a file of this user" "$T/foreign.err"
is "$?" 0 "a cache of another user is ignored"
same foreign cold "a cache of another user: the right answer"

printf 'garbage' >"$CACHE.new"
head -c 4096 /dev/urandom >"$CACHE"
run garbage 2
grep -q "scan-cache ignored: not an ebb scan cache" "$T/garbage.err"
is "$?" 0 "garbage is not a cache"
run again 2
is "$(scanned again cache)/$(scanned again parsed)" loaded/0 \
    "the cache is rewritten over a crash's leftover scan-cache.new"

# another lifetime: every deadline moves, the cache is stale
pf_postconf "maximal_queue_lifetime = 4d"
run stale 2
grep -q "scan-cache ignored: made for another" "$T/stale.err"
is "$?" 0 "a cache made with another lifetime is ignored"
d0=$(jq -r 'select(.sender != "") | .deadline - .create_time' \
    "$T/stale.list" | sort -u)
is "$d0" 345600 "the deadlines follow the new lifetime"
is "$(scanned stale parsed)" $((TOTAL - 1)) "the stale cache: all parsed"
