#!/bin/sh
# sendmail-scanner.sh - with mta = sendmail too, ebbd's root parent opens
# no queue file (issue 9). Sendmail's queue is root's (0700), so the
# scanner that reads it stays uid 0, without a single capability, under
# no_new_privs and its seccomp filter. The parent runs under strace, which
# follows it and not its children, while ebbd parks an aged backlog,
# releases it and has Sendmail deliver it (locate, which reads a qf's K
# line and an hf's reason, asks the scanner); no file below the queue
# directory is among its opens. Then "ebbctl failsafe", run as root and
# traced alike, opens none either and still finds the administrator's
# quarantine, which it must leave.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
. "$top_srcdir/tests/integration/sendmail-lib.sh"
require_sendmail
require_cmd smtp-sink jq perl useradd strace

tap_plan 6
N=30
ebb_user
sm_backlog $N 1
sink_start -d "$T/sink/%M." || bail_out "smtp-sink did not start"
sm_relay sink || bail_out "m4 failed"
ebbd_config '[general]' 'mta = sendmail' '[sendmail]' \
    "config_file = $SM_CF" "sendmail_path = $SM_BIN" \
    '[drain]' 'max_rate = 1000' 'increase = 1000'
spool=$(cd "$SM_QUEUE" && pwd -P)

ebbd_start_traced

# 1: the scanner is root without capabilities, confined
want=0
grep -q '^#define HAVE_SECCOMP 1' "$top_builddir/config.h" && want=2
is "$(confined_as 0 "$parent")" "1 1 $want 0" \
    "the scanner is uid 0 with no capability, no_new_privs, seccomp mode $want"

# 2-3: ebbd drains everything but the administrator's quarantine
wait_for 60 sm_count_is 1
is "$(sm_count)" 1 "ebbd drained the backlog through the scanner"
wait_for 10 sh -c "[ \$(ls '$T/sink' | wc -l) -ge $((N - 1)) ]"
is "$(ls "$T/sink" | wc -l)" $((N - 1)) "every message reached the sink"
kill -TERM "$parent"
wait_for 10 sh -c "! kill -0 $parent 2>/dev/null" ||
    diag "ebbd did not stop"

# 4: the parent's opens
no_queue_opens "$spool" "$T/trace" "the root parent" ledger.db

# 5-6: ebbctl failsafe as root: two more quarantined by the administrator
# join the first; failsafe leaves all three, opening none of their files
bg_stop sink
sm_submit 2 || bail_out "submission failed"
sm_attempt
for id in $(sm_ids qf); do
	sm_run "-Qheld by the postmaster" "-qI$id" >/dev/null 2>&1
done
wait_for 10 sm_count_is 3 hf || bail_out "expected 3 hf, have $(sm_count hf)"
# (LeakSanitizer cannot run under ptrace: an ASan build's leak check is off)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -qq -o "$T/trace2" -e trace=open,openat,openat2,creat \
    "$EBBCTL" -c "$EBB_CONF" --json failsafe >"$T/failsafe" 2>"$T/failsafe.err"
is "$(jq -r .admin_held "$T/failsafe" 2>/dev/null)" 3 \
    "ebbctl failsafe found the 3 quarantines of the administrator's"
no_queue_opens "$spool" "$T/trace2" "ebbctl failsafe" ledger.db
