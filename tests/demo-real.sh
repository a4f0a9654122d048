#!/bin/sh
# demo-real.sh - ebb's main job on this machine (EBB_DEMO_HOST=real
# ./quickstart demo, through tests/demo.sh)
#
# A private Postfix on 127.0.0.1 in a temporary directory comes back from an
# outage with a backlog of a few thousand deferred messages whose arrival
# times spread over five days, to several domains. ebbctl shows the backlog,
# then drains it earliest deadline first within the host's budget into a
# local sink, with a progress bar. Everything is removed at the end; the
# system's own Postfix (if any) is never touched.
#
# Its sensors read this machine's own /proc and /sys: on a busy machine the
# drain waits for it. tests/demo.sh shows the same job on the outage lab's
# modelled host instead, which behaves the same anywhere.
#
# usage: tests/demo-real.sh BUILDDIR   (EBB_DEMO_MESSAGES sets the backlog size)
set -u
top_builddir=$(cd "$1" && pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"

N=${EBB_DEMO_MESSAGES:-3000}

say() {
	printf '\n==> %s\n' "$*"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it starts a private Postfix)" >&2
	exit 1
fi

say "A private Postfix on 127.0.0.1 (in $T); its relay is down, so mail defers"
pf_create
pf_start || bail_out "postfix did not start"
say "The outage: $N messages pile up in the deferred queue"
pf_submit "$N" || bail_out "smtp-source failed"
pf_wait_count "$N" 120 deferred ||
    bail_out "expected $N deferred, have $(pf_count deferred)"
pf_stop
age_all 423000 || bail_out "aging the backlog failed"	# 0 to 4.9 days old
say "The relay is back (a local smtp-sink); Postfix restarts"
sink_start
pf_relay sink
pf_start || bail_out "postfix did not restart"
ebb_config '[drain]' 'max_rate = 400' 'increase = 40'
# the demo watches this host's real /proc and /sys, not the tests' fake ones
sed -i -e 's|^proc_root = .*|proc_root = /|' -e 's|^sys_root = .*|sys_root = /|' \
    "$EBB_CONF"

say "ebbctl backlog: by recipient domain, by age and by time to bounce"
ebbctl backlog --top 6

say "ebbctl sensors: this host as ebb sees it"
ebbctl sensors

say "ebbctl drain: park the backlog, release it earliest deadline first"
ebbctl drain
rc=$?
wait_for 60 sh -c "[ \$(grep -c 'status=sent' '$PF_DIR/maillog') -ge $N ]"
say "Delivered to the sink: $(grep -c 'status=sent' "$PF_DIR/maillog") of $N (drain exit $rc); left in the queue: $(pf_count)"
say "Tearing down the private Postfix"
exit $rc
