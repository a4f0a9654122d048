#!/bin/sh
# bench/milter.sh [BUILDDIR] - what ebb's milter costs Postfix, in one run
#
# A private Postfix relaying to a local sink takes BENCH_MILTER_MESSAGES
# (default 20,000) messages from smtp-source (20 sessions, one message per
# connection), alternating BENCH_MILTER_ROUNDS (default 3) times between:
#   - no milter;
#   - ebbd running ebb's milter on a unix socket (calm host, so every
#     message is admitted after the end of its headers);
#   - bench/nullmilter, a libmilter milter that decides nothing, on a unix
#     socket and on an inet socket on loopback: what the milter protocol
#     itself costs, with nothing of ebb in it.
# The median run of each counts. Prints the throughput ratios (budget for
# ebb >= 0.95), and the p99 bucket and mean of ebb's decision time from
# "ebbctl status --json" (budget < 100 us at p99).
. "$(dirname "$0")/common.sh"
. "$top_srcdir/tests/integration/ebbd-lib.sh"
N=${BENCH_MILTER_MESSAGES:-20000}
ROUNDS=${BENCH_MILTER_ROUNDS:-3}

ebb_user
EBB_SOCK=$T/run/milter/milter.sock
NULL_SOCK=$T/null.sock
NULL_PORT=$(free_port)
pf_create
sink_start
pf_relay sink
pf_start || bail_out "postfix did not start"
ebbd_config '[milter]' 'enable = yes' "socket = unix:$EBB_SOCK" \
    'client_rate = 0' 'net_rate = 0'
ebbd_start || bail_out "ebbd did not start"
wait_for 10 test -S "$EBB_SOCK" || bail_out "the milter does not listen"
bg_start null-unix "$top_builddir/bench/nullmilter" "unix:$NULL_SOCK"
bg_start null-inet "$top_builddir/bench/nullmilter" "inet:$NULL_PORT@127.0.0.1"
wait_for 10 test -S "$NULL_SOCK" && wait_for 10 port_in_use "$NULL_PORT" ||
    bail_out "the null milter does not listen"
chmod 666 "$NULL_SOCK"

# run - seconds smtp-source takes for N messages
run() {
	timed smtp-source -s 20 -m "$N" -l 1024 -f a@remote.example \
	    -t b@dest.example "127.0.0.1:$PF_PORT"
}

# with MILTER|"" - point smtpd at one milter (or none)
with() {
	pf_postconf "smtpd_milters = $1"
	pf_reload
	sleep 1
}

: >"$T/none" >"$T/ebb" >"$T/null-unix" >"$T/null-inet"
for round in $(seq "$ROUNDS"); do
	for what in none ebb null-unix null-inet; do
		case $what in
		none) with "" ;;
		ebb) with "unix:$EBB_SOCK" ;;
		null-unix) with "unix:$NULL_SOCK" ;;
		null-inet) with "inet:127.0.0.1:$NULL_PORT" ;;
		esac
		t=$(run)
		printf 'round %s %-10s %ss\n' "$round" "$what" "$t"
		echo "$t" >>"$T/$what"
	done
done
sleep 2				# the counters reach the parent each second

rate() {
	awk -v n="$N" -v s="$(median <"$T/$1")" 'BEGIN { printf "%.0f", n / s }'
}
none=$(rate none) ebb=$(rate ebb) nu=$(rate null-unix) ni=$(rate null-inet)
ebbctl --json status | jq -c '.milter' >"$T/milter.json"
p99=$(jq -r '.latency_us | to_entries |
    (map(.value) | add) as $total |
    reduce .[] as $e ({sum: 0, p99: null};
	.sum += $e.value |
	if .p99 == null and .sum >= 0.99 * $total then .p99 = $e.key
	else . end) | .p99' "$T/milter.json")
mean=$(jq -r '(.latency_sum_us / ([.latency_us[]] | add)) * 10 | round / 10' \
    "$T/milter.json")
echo
echo "messages/s, median of $ROUNDS runs of $N:"
echo "  no milter                      $none"
echo "  ebb's milter, unix socket      $ebb"
echo "  null milter, unix socket       $nu"
echo "  null milter, inet on loopback  $ni"
echo "ratios to no milter:"
echo "  ebb's milter          $(ratio "$ebb" "$none")   (budget >= 0.95)"
echo "  null milter, unix     $(ratio "$nu" "$none")"
echo "  null milter, inet     $(ratio "$ni" "$none")   (the protocol over TCP)"
echo "decision latency p99: in the $p99 microseconds bucket" \
    "(budget < 100 us); mean $mean us"
echo "milter counters: $(cat "$T/milter.json")"
