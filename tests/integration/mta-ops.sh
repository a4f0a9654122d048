#!/bin/sh
# mta-ops.sh - the Postfix backend's park, release, kick, locate and depth
#
# What the drain builds on, against a real Postfix: park holds exactly the
# ids given (postsuper -h -), an invalid id makes the call do nothing,
# release puts them back in deferred (postsuper -H -), kick delivers now
# (due now + postkick) while the others wait for their retry time, locate finds a
# message in any queue and says when it is gone, depth counts active and
# incoming.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

require_root
require_cmd smtp-source smtp-sink
OPS=$top_builddir/tests/integration/mta_ops
[ -x "$OPS" ] || bail_out "no $OPS (make check builds it)"

tap_plan 14

ops() {
	"$OPS" "$EBB_CONF" "$@"
}

pf_create
pf_start || bail_out "Postfix did not start"
pf_submit 10 || diag "pf_submit failed"
pf_wait_count 10 20 deferred || bail_out "have $(pf_count deferred) deferred"
# the sink now, through a restart: after a reload, delivery agents and the
# queue manager from before it may still run with the old relayhost for a
# moment, and a kick then delivers to the closed port (seen once in CI)
pf_stop
sink_start || diag "smtp-sink did not start"
pf_relay sink
pf_start || bail_out "Postfix did not restart"
ebb_config

is "$(ops queue_directory)" "$PF_SPOOL" "queue_directory from postconf"

# shellcheck disable=SC2046	# queue ids: one word each
set -- $(pf_ids deferred)
if ops park "$1" "$2" "$3" && pf_wait_count 3 5 hold; then
	ok "park holds the ids given"
else
	not_ok "park holds the ids given" "hold has $(pf_count hold)"
fi
ops park "$4" 'x;rm -rf /' >"$T/out" 2>&1
rc=$?
is "$rc $(pf_count hold)" "1 3" "an invalid id: the call does nothing"
is "$(ops scan | tr '\n' ' ')" "files 10 parsed 10 corrupt 0 deferred 7 hold 3 " \
    "scan counts per queue"
is "$(ops locate "$1" | cut -d' ' -f1)" hold "locate: held"
# a deferred file's mtime is its next retry time: due once it has passed
retry=$(stat -c %Y "$(pf_file "$4")")
due=0
[ "$retry" -le "$(date +%s)" ] && due=1
is "$(ops locate "$4")" "deferred waiting $due" \
    "locate: deferred is the waiting role, due by its retry time"
is "$(ops locate FFFFFFFFF9)" "none gone 0" "locate: gone"
ops locate 'x/../y' >/dev/null 2>&1
is "$(ops locate 'x/../y')" "none gone 0" "locate: an invalid id is nowhere"

if ops release "$1" "$2" && pf_wait_count 1 5 hold; then
	ok "release puts them back"
else
	not_ok "release puts them back" "hold has $(pf_count hold)"
fi
is "$(ops locate "$2" | cut -d' ' -f1)" deferred "released into deferred"

ops kick "$4" "$5" || diag "kick failed"
gone() {
	[ "$(ops locate "$4" | cut -d' ' -f1)" = none ] &&
	    [ "$(ops locate "$5" | cut -d' ' -f1)" = none ]
}
if wait_for 15 gone "$@"; then
	ok "kick delivers now"
else
	not_ok "kick delivers now" "$(tail -5 "$PF_DIR/maillog")"
fi
is "$(pf_count deferred) $(pf_count hold)" "7 1" \
    "the others wait for their retry time"
pf_stop

mv "$(pf_file "$6")" "$PF_SPOOL/active/$6"
is "$(ops depth) $(ops locate "$6" | cut -d' ' -f1)" "1 active" \
    "depth counts active and incoming"

ebb_config "[general]" "mta = sendmail" "[sendmail]" \
    "config_file = $T/none.cf"
ops scan >"$T/out" 2>&1
if grep -q "$T/none.cf: No such file or directory" "$T/out"; then
	ok "mta = sendmail without its .cf: a clear error"
else
	not_ok "mta = sendmail without its .cf: a clear error" \
	    "$(cat "$T/out")"
fi
