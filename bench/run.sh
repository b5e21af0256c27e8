#!/bin/bash
# run.sh: ebb's daemon benchmarks (docs/benchmarks.md). Usage:
#   bash bench/run.sh [BUILD_DIR]       (make bench)
# Starts a private ebbd whose one site has 1 cpu, occupies it with a
# long job so that everything else stays queued, then measures:
#   1. durable submits/s and latency with 1 and 8 concurrent clients;
#   2. ebbd's resident memory with 10,000 jobs queued, once idle;
#   3. ebbd's wake-ups and CPU time over 30 s with no client (one job runs,
#      so its 1 s energy sampler ticks); then the same for a second ebbd
#      with no job at all.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
EBBD=$BUILD/scheduler/ebbd
EBB=$BUILD/scheduler/cli/ebb
BENCH=$BUILD/bench/bench-submit
export EBB_RUN=$BUILD/runner/ebb-run
T=$(mktemp -d /tmp/ebb-bench.XXXXXX)
export EBB_SOCKET=$T/ebbd.sock
cat > "$T/ebb.yaml" <<EOF
state_dir: $T/state
socket: $T/ebbd.sock
log_level: warn
sites:
  - name: local
    cpus: 1
EOF
"$EBBD" -f -c "$T/ebb.yaml" 2>"$T/ebbd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; pkill -f "ebb-run $T/" ; rm -rf "$T"' EXIT
for _ in $(seq 1 50); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
blocker=$("$EBB" submit -q --name blocker -- sleep 3600)
echo "machine: $(nproc) cpus, $(uname -r), $(stat -f -c %T "$T") at $T"
echo "ebbd pid $pid; job $blocker holds the only cpu, so every submit stays queued"

echo "== durable submits (each acknowledged after its fsync'd commit)"
"$BENCH" -s "$EBB_SOCKET" -c 1 -n 2000
"$BENCH" -s "$EBB_SOCKET" -c 8 -n 8000
queued=$("$EBB" queue --json | jq '[.[] | select(.state == "queued")] | length')

echo "== memory with $queued jobs queued"
sleep 2
grep -E '^(VmRSS|VmHWM)' /proc/$pid/status | tr -s ' \t' ' '

echo "== idle for 30 s"
ctx() { awk '/ctxt_switches/ {n += $2} END {print n}' /proc/$1/status; }
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
idle() { # PID: wake-ups and CPU ticks over 30 s
	local c0 t0 c1 t1
	c0=$(ctx "$1"); t0=$(cpu "$1")
	sleep 30
	c1=$(ctx "$1"); t1=$(cpu "$1")
	echo "wake-ups (context switches) in 30 s: $((c1 - c0))"
	echo "CPU time in 30 s: $((t1 - t0)) ticks of 1/$(getconf CLK_TCK) s"
}
idle $pid

echo "== idle for 30 s, a second ebbd with no job"
sed -e "s#$T/state#$T/state2#" -e "s#$T/ebbd.sock#$T/ebbd2.sock#" \
    "$T/ebb.yaml" > "$T/ebb2.yaml"
"$EBBD" -f -c "$T/ebb2.yaml" 2>>"$T/ebbd.log" &
pid2=$!
sleep 2
idle $pid2
kill $pid2
