#!/bin/sh
# fuzz.sh - the long fuzz run: every libFuzzer target to RUNS inputs
#
#   bench/fuzz.sh [BUILDDIR [RUNS [SECONDS]]]
#
# CI runs each target for seconds (tests/fuzz/run-fuzz.sh); this runs
# each until it has executed RUNS inputs (10,000,000 by default), with
# SECONDS (4 hours) as a ceiling per target, and fails a target that
# crashes or falls short. BUILDDIR (build-fuzz) is a clang build of its
# own. Prints each target's count of runs, then "N passed, N failed".
# EBB_FUZZ_TARGETS="fuzz_proof ..." runs only those (run-fuzz.sh).
# Needs clang and libclang-rt-14-dev; takes tens of minutes per target.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/build-fuzz}
runs=${2:-10000000}
secs=${3:-14400}
exec "$top/tests/fuzz/run-fuzz.sh" "$builddir" "$secs" "$runs"
