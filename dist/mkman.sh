#!/bin/sh
# mkman.sh LOWDOWN NAME SECTION SOURCE IN.md OUT: a roff man page from one of
# docs/*.md (the build runs it; see CMakeLists.txt).
#
# The page's first line ("# ebb(1): the ebb command") becomes the title
# NAME(SECTION); when the page has no "## NAME" section, one is made from
# that line ("NAME - the ebb command"). Headings move up one level, so
# "## OPTIONS" is a section (.SH). lowdown (Debian package lowdown) does the
# conversion; nothing here knows roff.
set -eu
lowdown=$1 name=$2 section=$3 source=$4 in=$5 out=$6

awk -v name="$name" '
	NR == 1 {
		what = $0
		sub(/^# [^:]*: */, "", what)
		next
	}
	{ lines[++n] = $0 }
	/^## NAME[ \t]*$/ { hasname = 1 }
	END {
		if (!hasname)
			printf "## NAME\n\n%s - %s\n\n", name, what
		for (i = 1; i <= n; i++)
			print lines[i]
	}' "$in" |
    "$lowdown" -s -Tman -M "title=$name" -M "section=$section" \
	-M "source=$source" -M shiftheadinglevelby=-1 -o "$out.tmp"
mv "$out.tmp" "$out"
