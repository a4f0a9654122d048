#!/bin/sh
# demo.sh - ebb's main job on a built-in default (run by ./quickstart demo)
#
# Shows this host as ebb sees it: every sensor, its limit, and the pressure
# and release budget the governor would grant, refreshed for a few seconds.
set -eu
builddir=$1
echo "This host as ebb sees it (ebbctl sensors --watch, 5 seconds):"
timeout --foreground 5 "$builddir/ebbctl" sensors --watch || [ $? -eq 124 ]
