#!/bin/sh
# replay.sh - replay every fuzz target's seed corpus (part of make check)
#
# Runs each tests/fuzz/fuzz_X_replay program of the build over
# tests/fuzz/corpus/X/ and merges their TAP into one stream: one test point
# per corpus file, named "X: FILE". top_srcdir and top_builddir come from the
# environment, as make check sets them.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
tmp=$(mktemp "${TMPDIR:-/tmp}/ebb-replay.XXXXXX") || exit 99
trap 'rm -f "$tmp" "$tmp.tap"' EXIT

n=0
for prog in "$top_builddir"/tests/fuzz/fuzz_*_replay; do
	[ -x "$prog" ] || continue
	name=${prog##*/}
	name=${name#fuzz_}
	name=${name%_replay}
	corpus=$top_srcdir/tests/fuzz/corpus/$name
	if [ ! -d "$corpus" ]; then
		n=$((n + 1))
		echo "ok $n - $name # SKIP no tests/fuzz/corpus/$name"
		continue
	fi
	"$prog" "$corpus" >"$tmp"
	rc=$?
	# renumber after the points so far; keep comments, drop the plan
	awk -v off="$n" -v name="$name" -v dir="$corpus/" '
	    /^(not )?ok [0-9]+ - / {
		not = /^not / ? "not " : "";
		sub(/^(not )?ok [0-9]+ - /, "");
		if (index($0, dir) == 1)
			$0 = substr($0, length(dir) + 1);
		printf "%sok %d - %s: %s\n", not, off + (++k), name, $0;
		next
	    }
	    /^1\.\./ { next }
	    { print }' "$tmp" >"$tmp.tap"
	cat "$tmp.tap"
	n=$((n + $(grep -cE '^(not )?ok ' "$tmp.tap")))
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$tmp.tap"; then
		n=$((n + 1))
		echo "not ok $n - $name: the replay exited with $rc"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "1..0 # SKIP no fuzz_*_replay programs built"
else
	echo "1..$n"
fi
