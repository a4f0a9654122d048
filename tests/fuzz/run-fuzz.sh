#!/bin/sh
# run-fuzz.sh - build every libFuzzer target with clang and run each a while
#
#   tests/fuzz/run-fuzz.sh BUILDDIR SECONDS [RUNS]
#
# Configures BUILDDIR (a build of its own, created if need be) with CC=clang
# and --enable-fuzz, builds every program "make fuzz-list" names (every
# tests/fuzz/fuzz_* target of every mk/*.am), and runs each for SECONDS on a
# scratch copy of its seed corpus tests/fuzz/corpus/X/ (with the dictionary
# tests/fuzz/X.dict when there is one). Nothing is written into the source
# tree: the runs, their logs, the grown corpora and any crash inputs stay in
# BUILDDIR/fuzz-run/fuzz_X/. A target that does not build or that crashes
# fails; a crash prints the path of its input. The last line is
# "N passed, N failed", one per target.
#
# With RUNS (the long mode, bench/fuzz.sh), each target runs until it has
# executed RUNS inputs, SECONDS being only a ceiling: a target that is
# stopped by the ceiling before RUNS fails, as "short".
#
# EBB_FUZZ_TARGETS (names such as "fuzz_proof fuzz_config") runs only
# those targets: a long run of one target that changed, without hours of
# the others. A name that is no target fails.
#
# EBB_FUZZ_JOBS=J runs J copies of each target at once on one corpus
# (libFuzzer reloads it, so each sees what the others find), each for
# RUNS/J inputs: the count is their sum, and any copy's crash fails the
# target. For a slow target (fuzz_proof) on a machine with J cores.
#
# Needs clang and libFuzzer: Debian 12 packages clang and libclang-rt-14-dev.
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [ "$2" -gt 0 ] 2>/dev/null ||
    { [ $# -eq 3 ] && ! [ "$3" -gt 0 ] 2>/dev/null; }; then
	echo "usage: run-fuzz.sh BUILDDIR SECONDS [RUNS]" >&2
	exit 64
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$1
secs=$2
runs=${3:-}
case $builddir in /*) ;; *) builddir=$PWD/$builddir ;; esac
passed=0
failed=0

die() {
	echo "run-fuzz: $*"
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
}

command -v clang >/dev/null 2>&1 ||
    die "clang not found: apt-get install clang libclang-rt-14-dev"
if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi) >/dev/null 2>&1 ||
	    die "autoreconf failed in $top"
fi
mkdir -p "$builddir" || die "cannot create $builddir"
cd "$builddir" || die "cannot enter $builddir"

echo "run-fuzz: configure in $builddir"
if ! CC=clang "$top/configure" -q --enable-fuzz >configure.log 2>&1; then
	tail -n 20 configure.log
	die "configure failed (see $builddir/configure.log)"
fi
# only the names: a Makefile that regenerates itself first says so too
targets=$(make -s fuzz-list | grep -E '^tests/fuzz/fuzz_[A-Za-z0-9_]+$') ||
    die "make fuzz-list failed"
[ -n "$targets" ] || die "no fuzz targets"
if [ -n "${EBB_FUZZ_TARGETS:-}" ]; then
	want=
	for n in $EBB_FUZZ_TARGETS; do
		echo "$targets" | grep -qx "tests/fuzz/$n" ||
		    die "EBB_FUZZ_TARGETS: no fuzz target $n"
		want="$want tests/fuzz/$n"
	done
	targets=$want
fi
jobs=$(nproc 2>/dev/null || echo 2)

for t in $targets; do
	name=${t##*/}
	seed=${name#fuzz_}
	work=$builddir/fuzz-run/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/crashes"
	echo "run-fuzz: $name: build"
	if ! make -j"$jobs" "$t" >"$work/build.log" 2>&1; then
		tail -n 20 "$work/build.log"
		echo "run-fuzz: $name: FAILED to build (see $work/build.log)"
		failed=$((failed + 1))
		continue
	fi
	if [ -d "$top/tests/fuzz/corpus/$seed" ]; then
		find "$top/tests/fuzz/corpus/$seed" -maxdepth 1 -type f \
		    -exec cp {} "$work/corpus/" \;
	fi
	# a unit takes milliseconds; the long mode allows 60 s, since a
	# run at low priority on a busy machine was once starved 22 s on an
	# input that replays in 0.07 s (a hang still ends it)
	tmo=10
	[ -n "$runs" ] && tmo=60
	set -- -max_total_time="$secs" -timeout="$tmo" \
	    -rss_limit_mb=2048 \
	    -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$work/crashes/"
	[ -f "$top/tests/fuzz/$seed.dict" ] &&
	    set -- "$@" -dict="$top/tests/fuzz/$seed.dict"
	fjobs=${EBB_FUZZ_JOBS:-1}
	[ "$fjobs" -ge 1 ] 2>/dev/null || die "EBB_FUZZ_JOBS: not a number"
	[ -n "$runs" ] && set -- "$@" -runs="$(( (runs + fjobs - 1) / fjobs ))"
	echo "run-fuzz: $name: run ${runs:+$runs inputs, at most }${secs}s" \
	    "${runs:+in $fjobs copies}"
	pids=
	for j in $(seq "$fjobs"); do
		"./$t" "$@" "$work/corpus" >"$work/fuzz.$j.log" 2>&1 &
		pids="$pids $!"
	done
	rc=0
	for p in $pids; do
		wait "$p" || rc=$?
	done
	cat "$work"/fuzz.*.log >"$work/fuzz.log"
	execs=0
	for j in $(seq "$fjobs"); do
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/fuzz.$j.log" | tail -n 1)
		execs=$((execs + ${n:-0}))
	done
	crashes=$(find "$work/crashes" -type f | sort)
	if [ "$rc" -eq 0 ] && [ -z "$crashes" ] && [ -n "$runs" ] &&
	    [ "${execs:-0}" -lt "$runs" ]; then
		echo "run-fuzz: $name: FAILED short: ${execs:-0} of $runs" \
		    "runs in ${secs}s"
		failed=$((failed + 1))
	elif [ "$rc" -eq 0 ] && [ -z "$crashes" ]; then
		echo "run-fuzz: $name: ok, ${execs:-?} runs," \
		    "corpus $(ls "$work/corpus" | wc -l) inputs"
		passed=$((passed + 1))
	else
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' \
		    "$work/fuzz.log" | head -n 5
		echo "run-fuzz: $name: FAILED (exit $rc, see $work/fuzz.log)"
		for c in $crashes; do
			echo "run-fuzz: $name: crash input: $c"
		done
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
