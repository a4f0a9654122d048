#!/bin/sh
# demo-sendmail.sh - ebb's drain on a real Sendmail (./quickstart demo
# sendmail, or EBB_DEMO_HOST=sendmail through tests/demo.sh)
#
# A private Sendmail 8.17, unpacked from Debian's packages into a temporary
# directory (tests/integration/sendmail-lib.sh; "./quickstart demo
# sendmail" downloads them), comes back from an outage with a backlog of
# deferred messages whose creation times spread over five days, one of
# them quarantined by the postmaster. ebbctl shows the backlog, parks it
# in Sendmail's quarantine, and drains it earliest deadline first into a
# local sink; the postmaster's quarantine stays. Its sensors read this
# machine's own /proc and /sys. Everything is removed at the end; no
# system Sendmail or Postfix is touched.
#
# usage: tests/demo-sendmail.sh BUILDDIR   (EBB_DEMO_MESSAGES: backlog, 300)
set -u
top_builddir=$(cd "$1" && pwd)
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"

N=${EBB_DEMO_MESSAGES:-300}

say() {
	printf '\n==> %s\n' "$*"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it starts a private Sendmail)" >&2
	exit 1
fi
for p in sendmail-bin sendmail-base sendmail-cf libwrap0; do
	ls "$SM_DEBS"/${p}_*.deb >/dev/null 2>&1 || {
		echo "demo: no $p .deb in $SM_DEBS: run ./quickstart demo sendmail" >&2
		exit 1
	}
done

say "A private Sendmail (in $T); its relay is down, so mail defers"
sm_create
mkdir -p "$T/sink"
chown postfix "$T/sink"
say "The outage: $N messages pile up in its queue"
sm_submit "$N" || bail_out "submission failed"
sm_attempt
sm_age_all 423000 || bail_out "aging the backlog failed"	# 0 to 4.9 days
ADMIN=$(sm_ids qf | head -1)
sm_run "-Qheld by the postmaster" "-qI$ADMIN" >/dev/null 2>&1
sm_run -bp | head -8
say "The relay is back (a local smtp-sink)"
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
sm_ebb_config '[drain]' 'max_rate = 400' 'increase = 40'
sed -i -e 's|^proc_root = .*|proc_root = /|' -e 's|^sys_root = .*|sys_root = /|' \
    "$EBB_CONF"
say "ebbctl backlog: by recipient domain, by age and by time to bounce"
ebbctl backlog --top 6
say "ebbctl list: the first to bounce, with Sendmail's own defer reason"
ebbctl list --limit 5
say "ebbctl drain: quarantine the backlog as ebb's, release it earliest deadline first"
ebbctl drain
rc=$?
wait_for 60 sh -c "[ \$(ls '$T/sink' | wc -l) -ge $((N - 1)) ]"
say "Delivered to the sink: $(ls "$T/sink" | wc -l) of $((N - 1)) (drain exit $rc); left: $(sm_count qf) queued, $(sm_count hf) quarantined"
sm_run -bp -qQ | head -6
say "Tearing down the private Sendmail"
exit $rc
