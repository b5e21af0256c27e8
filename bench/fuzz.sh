#!/bin/bash
# fuzz.sh: runs each libFuzzer harness (tests/fuzz/) in turn, one process,
# one job at a time, and prints executions and crashes per harness
# (docs/fuzzing.md, docs/benchmarks.md). Usage:
#   bash bench/fuzz.sh BIN_DIR CORPUS_DIR [HARNESS...]     (make fuzz)
# BIN_DIR holds the fuzz_NAME programs of a -DEBB_FUZZ=ON build, CORPUS_DIR
# the seed corpora (tests/fuzz/corpus), read but never written. Default
# harnesses: every fuzz_* in BIN_DIR. Environment:
#   FUZZ_TIME  seconds per harness (default 60)
#   FUZZ_RUNS  also stop a harness after this many executions (default: no)
#   FUZZ_OUT   where the grown corpora, logs and crash inputs go
#              (default BIN_DIR/fuzz-out; cleared per harness)
# A crash leaves FUZZ_OUT/NAME/crash-* (or leak-, timeout-, oom-): replay
# it with BIN_DIR/fuzz_NAME FILE, fix the bug and add the file to
# CORPUS_DIR/NAME. Exits 1 if any harness crashed.
set -eu
BIN=$(cd "$1" && pwd)
CORPUS=$(cd "$2" && pwd)
shift 2
TIME=${FUZZ_TIME:-60}
OUT=${FUZZ_OUT:-$BIN/fuzz-out}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in "$BIN"/fuzz_*; do names+=("${f##*/fuzz_}"); done
fi
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=("-runs=$FUZZ_RUNS")
mkdir -p "$OUT"
failed=0
printf '%-16s %12s %10s %8s %8s\n' harness execs execs/s time_s crashes
for h in "${names[@]}"; do
	d=$OUT/$h
	rm -rf "$d"
	mkdir -p "$d/corpus"
	t0=$(date +%s)
	"$BIN/fuzz_$h" -max_total_time="$TIME" ${runs[@]+"${runs[@]}"} \
	    -timeout=10 -print_final_stats=1 -artifact_prefix="$d/" \
	    "$d/corpus" "$CORPUS/$h" >"$d/log" 2>&1 || true
	t=$(( $(date +%s) - t0 ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" |
	    tail -1)
	crashes=$(find "$d" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 \
	    -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 \
	    -name 'oom-*' | wc -l)
	printf '%-16s %12s %10s %8s %8s\n' "$h" "${execs:-?}" \
	    "$(( ${execs:-0} / (t > 0 ? t : 1) ))" "$t" "$crashes"
	if [ "$crashes" -ne 0 ] || [ -z "$execs" ]; then
		failed=1
		echo "  see $d/log" >&2
	fi
done
exit $failed
