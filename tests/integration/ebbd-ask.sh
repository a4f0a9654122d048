#!/bin/sh
# ebbd-ask.sh - "ebbctl backlog" and "ebbctl list" ask ebbd first
#
# A private Postfix (stopped, so the queue holds still) with a deferred
# backlog: 24 messages from three senders to four domains, aged over 4.5
# days, and 8 with 500 recipients each, too many to fit one answer of
# ebbd; one held by the administrator. ebbd runs under a fake overload,
# so it parks the backlog and releases nothing.
#
# With ebbd: backlog and list are answered by ebbd (no note on stderr,
# "source": "ebbd"), print exactly what --scan prints, with every option;
# an unprivileged member of the [control] group, who may not read the
# queue, gets them from ebbd while --scan is refused; ebbd applies
# --limit itself; a list that does not fit one answer is scanned, and
# said so; malformed backlog and list requests are refused. ebbd stopped
# (SIGSTOP): the answer comes from a scan after the timeout, with a note.
# ebbd gone: a note, and the same answer.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
require_root
require_cmd postfix smtp-source jq perl useradd setpriv

tap_plan 20

ebb_user
pf_create
pf_start || bail_out "postfix did not start"
pf_submit 24 || bail_out "smtp-source failed"
pf_submit 8 -r 500 -t rcpt@wide.test || bail_out "smtp-source -r failed"
pf_wait_count 32 90 deferred ||
    bail_out "expected 32 deferred, have $(pf_count deferred)"
pf_stop
age_all 388800 || bail_out "aging the backlog failed"
ADMIN=$(pf_ids deferred | head -1)
postsuper -c "$PF_CONF" -h "$ADMIN" >/dev/null 2>&1
ebbd_config '[control]' 'group = ebb'
# overload (after ebbd_config, which makes the fake /proc): ebbd parks
# and releases nothing, and pause makes sure, so the queue holds still
echo "40.00 40.00 40.00 41/120 4242" >"$T/root/proc/loadavg" ||
    bail_out "no fake /proc"
ebbd_start || bail_out "ebbd did not start"
ebbctl pause >/dev/null
wait_for 20 st_eq .parked 31 ||
    bail_out "ebbd parked $(st .parked) of 31: $(tail -5 "$T/ebbd.out")"
[ "$(st .released)" = 0 ] || bail_out "ebbd released $(st .released)"

# same_out ARGS... - ebbctl ARGS answers, without a note, what ebbctl
# ARGS --scan prints (the ages move with the clock: wait_for retries)
same_out() {
	ebbctl "$@" >"$T/ask.out" 2>"$T/ask.err" || return 1
	[ -s "$T/ask.err" ] && return 1
	ebbctl "$@" --scan >"$T/scan.out" 2>/dev/null || return 1
	cmp -s "$T/ask.out" "$T/scan.out"
}

# 1-2: list and backlog from ebbd, no note, the same as a scan
if wait_for 5 same_out list --limit 5; then
	ok "list --limit 5 from ebbd: no note, the same as --scan"
else
	not_ok "list --limit 5 from ebbd: no note, the same as --scan" \
	    "$(cat "$T/ask.err"; diff "$T/ask.out" "$T/scan.out")"
fi
bad=
for args in "" "--top 2" "--by sender-domain" "--queue hold" \
    "--queue deferred --by sender-domain --top 1"; do
	# shellcheck disable=SC2086
	wait_for 5 same_out backlog $args || bad="$bad [$args]"
done
is "$bad" "" "backlog from ebbd, with each option: the same as --scan"

# 3-4: every option of list, text and JSON
bad=
for args in "--sort age --limit 5" "--sort size --limit 3" \
    "--queue hold --limit 4" "--queue deferred" "--queue active"; do
	# shellcheck disable=SC2086
	wait_for 5 same_out list $args || bad="$bad [$args]"
done
is "$bad" "" "list from ebbd, with each option: the same as --scan"
bad=
for args in "--limit 5" "--sort age --limit 4" "--queue deferred"; do
	# shellcheck disable=SC2086
	same_out --json list $args || bad="$bad [$args]"
done
is "$bad" "" "list --json from ebbd: the same as --scan"

# 5-6: backlog --json says where it came from, and nothing else differs
ebbctl --json backlog >"$T/b.json" 2>"$T/b.err"
is "$(jq -r '"\(.source) \(.index_age | type)"' "$T/b.json") $(wc -c <"$T/b.err")" \
    "ebbd number 0" "backlog --json: \"source\": \"ebbd\", its index_age"
ebbctl --json backlog --scan >"$T/s.json" 2>/dev/null
is "$(jq -c 'del(.source, .index_age, .now)' "$T/b.json" | md5sum)" \
    "$(jq -c 'del(.source, .now)' "$T/s.json" | md5sum)" \
    "backlog --json: the same table as a scan's"

# 7-9: only ebbd can answer a [control] group member who may not read the
# queue: list and backlog work for user ebb, --scan is refused
asebb() {
	setpriv --reuid=ebb --regid=ebb --clear-groups -- \
	    "$EBBCTL" -c "$EBB_CONF" "$@"
}
if asebb list --scan >/dev/null 2>&1 || asebb backlog --scan >/dev/null 2>&1
then
	not_ok "user ebb cannot scan the queue" "it could"
else
	ok "user ebb cannot scan the queue"
fi
# ebb_same - user ebb's list, without a note, is root's scan, the defer
# reasons too (ebbd reads them from files user ebb may not read); the
# ages move with the clock: wait_for retries
ebb_same() {
	asebb list --limit 3 >"$T/ebb.out" 2>"$T/ebb.err" || return 1
	ebbctl list --limit 3 --scan >"$T/root.out" 2>/dev/null
	[ ! -s "$T/ebb.err" ] && cmp -s "$T/ebb.out" "$T/root.out" &&
	    [ "$(grep -c '^  *(.*)$' "$T/ebb.out")" -eq 3 ]
}
if wait_for 5 ebb_same; then
	ok "user ebb gets list from ebbd, as root would scan it"
else
	not_ok "user ebb gets list from ebbd, as root would scan it" \
	    "$(cat "$T/ebb.err"; diff "$T/ebb.out" "$T/root.out")"
fi
is "$(asebb --json backlog 2>&1 | jq -r .source) $(jq -r .rows[0].total "$T/b.json")" \
    "ebbd 32" "user ebb gets backlog from ebbd"

# 10-11: ebbd applies --limit; a list too long for one answer is scanned
is "$(raw '{"command":"list","limit":3,"sort":"age"}' |
    jq -r '"\(.messages | length) \(.total) \(.truncated) \(.source)"')" \
    "3 32 false ebbd" "ebbd applies the limit and counts all"
ebbctl --json list >"$T/all.json" 2>"$T/all.err"
if grep -q "^ebbctl list: ebbd's answer holds [0-9]* of the 32 messages.*; scanned the queue directly$" \
    "$T/all.err" && [ "$(wc -l <"$T/all.json")" -eq 32 ]; then
	ok "all 32 do not fit one answer: scanned, with a note"
else
	not_ok "all 32 do not fit one answer: scanned, with a note" \
	    "$(cat "$T/all.err"; wc -l <"$T/all.json")"
fi

# 12-14: malformed backlog and list requests are refused
raw '{"command":"list","limit":-1}' '{"command":"list","sort":"name"}' \
    '{"command":"backlog","by":"ip"}' '{"command":"list","queue":"../x"}' \
    '{"command":"backlog","limit":3}' '{"command":"list","top":1}' \
    '{"command":"list","limit":"3"}' '{"command":"backlog","top":2000001}' \
    >"$T/bad.out" 2>&1
is "$(grep -c '"ok":false' "$T/bad.out")" 8 \
    "malformed backlog and list requests each get an error"
is "$(raw '{"command":"list","queue":"nope"}' | jq -r .error)" \
    'unknown queue "nope"' "a queue the MTA does not have is refused"
is "$(ebbctl list --queue hold --limit 1 --scan 2>&1 >/dev/null)" "" \
    "--scan scans without a note"

# 15-16: ebbd that does not answer: a scan after the timeout, with a note
PID=$(st .pid)
ebbctl list --limit 5 --scan >"$T/before.out" 2>/dev/null
kill -STOP "$PID"
start=$(date +%s)
ebbctl list --limit 5 >"$T/slow.out" 2>"$T/slow.err"
rc=$?
took=$(( $(date +%s) - start ))
kill -CONT "$PID"
is "$rc $(cat "$T/slow.err")" \
    "0 ebbctl list: ebbd did not answer in time; scanned the queue directly" \
    "a silent ebbd: the note, then a scan"
if [ "$took" -ge 4 ] && [ "$took" -le 9 ]; then
	ok "a silent ebbd is given up on after the timeout (${took}s)"
else
	not_ok "a silent ebbd is given up on after the timeout" "took ${took}s"
fi

# 17-20: ebbd gone: the note, the same answer
ebbctl --json list --limit 5 >"$T/ebbd.json" 2>/dev/null
ebbctl --json backlog >"$T/ebbd-b.json" 2>/dev/null
bg_stop ebbd
wait_for 10 sh -c "! test -S '$EBBD_SOCK'"
ebbctl --json list --limit 5 >"$T/down.json" 2>"$T/down.err"
is "$? $(cat "$T/down.err")" \
    "0 ebbctl list: ebbd is not running; scanned the queue directly" \
    "ebbd down: list says it scanned"
if cmp -s "$T/ebbd.json" "$T/down.json"; then
	ok "ebbd down: list answers the same"
else
	not_ok "ebbd down: list answers the same" "$(diff "$T/ebbd.json" "$T/down.json")"
fi
ebbctl --json backlog >"$T/down-b.json" 2>"$T/down-b.err"
is "$(cat "$T/down-b.err") $(jq -r .source "$T/down-b.json")" \
    "ebbctl backlog: ebbd is not running; scanned the queue directly scan" \
    "ebbd down: backlog says it scanned"
is "$(jq -c 'del(.source, .now)' "$T/down-b.json" | md5sum)" \
    "$(jq -c 'del(.source, .index_age, .now)' "$T/ebbd-b.json" | md5sum)" \
    "ebbd down: backlog answers the same"
