#!/bin/sh
# man-lint.sh - mandoc -Tlint -Wwarning over every man page, one test each
#
# TAP; run by make check with top_srcdir in the environment. A page passes
# when mandoc reports no warning and no error; without mandoc the points are
# skipped.
top_srcdir=${top_srcdir:-.}

set -- "$top_srcdir"/man/*.[158]
[ -e "$1" ] || set --
if [ $# -eq 0 ]; then
	echo "1..0 # SKIP no man pages"
	exit 0
fi
echo "1..$#"
n=0
for page; do
	n=$((n + 1))
	name=${page##*/}
	if ! command -v mandoc >/dev/null 2>&1; then
		echo "ok $n - $name # SKIP mandoc is not installed"
	elif out=$(mandoc -Tlint -Wwarning "$page" 2>&1) && [ -z "$out" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
