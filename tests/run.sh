#!/bin/sh
# run.sh BUILD [JOBS]: the ctest run of `make test`, in two lanes at once.
# The tests labelled `wait` (tests/CMakeLists.txt) spend minutes waiting on
# minute slots with little CPU: they run four at a time beside the rest,
# which run JOBS (default: the number of cores) at a time. The waiting
# lane's output comes after the other's; the exit status is non-zero if
# any test failed in either.
set -u
build=${1:?usage: run.sh BUILD [JOBS]}
jobs=${2:-$(nproc)}
cd "$build" || exit 1
out=$(mktemp) || exit 1
ctest --output-on-failure -L wait -j4 >"$out" 2>&1 &
lane=$!
ctest --output-on-failure -LE wait -j"$jobs"
rc=$?
wait "$lane"
wrc=$?
echo
echo "--- the tests that wait on minute slots (labelled wait), run beside the above ---"
cat "$out"
rm -f "$out"
[ "$rc" = 0 ] && [ "$wrc" = 0 ]
