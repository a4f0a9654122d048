#!/bin/sh
# drain-stall.sh - Postfix's queue manager is down: a drain releases mail
# that never leaves, so it gives up after [drain] stall_timeout with exit
# 75 and a warning that names the likely cause, and loses nothing: every
# message is still in the queue, released ones where Postfix delivers
# them, the rest parked. With qmgr back, Postfix and a second drain deliver
# every message once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root
require_cmd postfix smtp-source smtp-sink

tap_plan 6
N=20
backlog $N
ebb_config '[drain]' 'max_rate = 1000' 'increase = 1000' \
    'stall_timeout = 10s'

# no queue manager: master runs, but nothing moves mail out of the queue
cp "$PF_CONF/master.cf" "$T/master.cf.saved"
sed -i '/^qmgr /d' "$PF_CONF/master.cf"
pf_reload
wait_for 10 sh -c "! pgrep -x -P $(pf_master_pid) qmgr >/dev/null" ||
    diag "qmgr still runs"

# 1-3: give up after the stall timeout, exit 75, saying why
t0=$(date +%s)
ebbctl drain >"$T/drain.out" 2>&1
rc=$?
took=$(($(date +%s) - t0))
is "$rc" 75 "a drain that cannot make progress exits 75"
if [ "$took" -ge 10 ] && [ "$took" -lt 60 ]; then
	ok "it gives up after the stall timeout (${took}s)"
else
	not_ok "it gives up after the stall timeout" "${took}s"
fi
if grep -q "no progress for 10s: [0-9]* released messages are still waiting to be delivered; is the MTA's queue manager running?" "$T/drain.out"
then
	ok "the warning names the likely cause"
else
	not_ok "the warning names the likely cause" "$(cat "$T/drain.out")"
fi

# 4: nothing lost: every message is still queued, none delivered
is "$(($(pf_count deferred) + $(pf_count hold) + $(pf_count active) +
    $(pf_count incoming)))" $N "every message is still in the queue"

# 5-6: qmgr back: Postfix delivers what was released, a drain the rest
cp "$T/master.cf.saved" "$PF_CONF/master.cf"
pf_reload
ebbctl drain >"$T/drain2.out" 2>&1
is "$?" 0 "with the queue manager back, a drain finishes"
wait_for 60 sh -c "[ \$(sent_ids | wc -l) -ge $N ]"
is "$(sent_ids | sort | uniq -c | awk '$1 == 1' | wc -l)" $N \
    "every message is delivered once"
