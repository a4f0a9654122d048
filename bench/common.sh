# common.sh - shared by the benchmarks (sourced): the integration harness,
# the built tree, and a median over a column of numbers
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/drain-lib.sh"
require_root

# median - of the numbers on stdin, one per line
median() {
	sort -g | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
		  else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# timed CMD... - wall seconds CMD takes, its output discarded
timed() {
	_a=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	awk -v a="$_a" -v b="$(date +%s.%N)" 'BEGIN { printf "%.4f\n", b - a }'
}

# ratio A B - A / B with two decimals
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

# deferred_queue N - a private Postfix with N deferred messages, stopped
# big_deferred_queue N - a stopped Postfix with N deferred messages: with
# more than BENCH_SEED (default 2,000), its own BENCH_SEED deferred
# messages copied under fresh ids (bench/qclone.c) up to N, since a
# million through SMTP takes hours. Stopped: nothing moves but what the
# benchmark changes.
big_deferred_queue() {
	_seed=${BENCH_SEED:-2000}
	if [ "$1" -gt "$_seed" ]; then
		echo "building a queue of $_seed deferred messages, cloned to $1..."
		deferred_queue "$_seed" 3600
		pf_stop
		"$top_builddir/bench/qclone" "$PF_SPOOL" "$(($1 - _seed))" \
		    >/dev/null || bail_out "qclone failed"
	else
		echo "building a queue of $1 deferred messages..."
		deferred_queue "$1"
		pf_stop
	fi
}

deferred_queue() {
	pf_create
	pf_start || bail_out "postfix did not start"
	pf_submit "$1" || bail_out "smtp-source failed"
	pf_wait_count "$1" "${2:-1200}" deferred ||
	    bail_out "expected $1 deferred, have $(pf_count deferred)"
}

make -s -C "$top_builddir" bench/scanbench bench/readfloor bench/qclone \
    bench/cachebench bench/releasebench >/dev/null ||
    bail_out "make bench failed"
