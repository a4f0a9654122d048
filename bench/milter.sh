#!/bin/sh
# bench/milter.sh [BUILDDIR] - what ebb's milter costs Postfix, in one run
#
# A private Postfix relaying to a local sink takes BENCH_MILTER_MESSAGES
# (default 20,000) messages from smtp-source (20 sessions) without a
# milter, then with ebbd running ebb's milter (calm host, so every message
# is admitted after the end of headers), alternating, BENCH_MILTER_ROUNDS
# (default 3) times; the median run of each counts. Prints the throughput
# ratio (budget >= 0.95), and the p99 bucket and the mean of the milter's
# decision time from "ebbctl status --json" (budget < 100 us at p99).
. "$(dirname "$0")/common.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
N=${BENCH_MILTER_MESSAGES:-20000}
ROUNDS=${BENCH_MILTER_ROUNDS:-3}

ebb_user
MPORT=$(free_port)
pf_create --milter "$MPORT"
pf_postconf "smtpd_milters ="
sink_start
pf_relay sink
pf_start || bail_out "postfix did not start"
ebbd_config '[milter]' 'enable = yes' "socket = inet:$MPORT@127.0.0.1" \
    'client_rate = 0' 'net_rate = 0'
ebbd_start || bail_out "ebbd did not start"
wait_for 10 port_in_use "$MPORT" || bail_out "the milter does not listen"

# run - seconds smtp-source takes for N messages
run() {
	timed smtp-source -s 20 -m "$N" -l 1024 -f a@remote.example \
	    -t b@dest.example "127.0.0.1:$PF_PORT"
}

milter() {
	if [ "$1" = on ]; then
		pf_postconf "smtpd_milters = inet:127.0.0.1:$MPORT"
	else
		pf_postconf "smtpd_milters ="
	fi
	pf_reload
	sleep 1
}

: >"$T/without" >"$T/with"
for round in $(seq "$ROUNDS"); do
	milter off
	t=$(run)
	echo "round $round without the milter: ${t}s"
	echo "$t" >>"$T/without"
	milter on
	t=$(run)
	echo "round $round with the milter:    ${t}s"
	echo "$t" >>"$T/with"
done
sleep 2				# the counters reach the parent each second

without=$(awk -v n="$N" -v s="$(median <"$T/without")" \
    'BEGIN { printf "%.0f", n / s }')
with=$(awk -v n="$N" -v s="$(median <"$T/with")" \
    'BEGIN { printf "%.0f", n / s }')
ebbctl --json status | jq -c '.milter' >"$T/milter.json"
p99=$(jq -r '.latency_us | to_entries |
    (map(.value) | add) as $total |
    reduce .[] as $e ({sum: 0, p99: null};
	.sum += $e.value |
	if .p99 == null and .sum >= 0.99 * $total then .p99 = $e.key
	else . end) | .p99' "$T/milter.json")
echo
echo "without the milter: $without messages/s"
echo "with ebb's milter:  $with messages/s"
echo "throughput ratio with / without: $(ratio "$with" "$without")" \
    "(budget >= 0.95)"
echo "decision latency p99: in the $p99 microseconds bucket" \
    "(budget < 100 us); mean $(jq -r '(.latency_sum_us /
    ([.latency_us[]] | add)) * 10 | round / 10' "$T/milter.json") us"
echo "milter counters: $(cat "$T/milter.json")"
