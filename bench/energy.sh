#!/bin/bash
# energy.sh: ebbd's measurement overhead (docs/benchmarks.md). Usage:
#   bash bench/energy.sh [BUILD_DIR]
# Starts a private ebbd whose one site offers 100 cpus, with a fake
# powercap tree (50 W) as its RAPL source, runs 100 `sleep` jobs at once
# and measures ebbd's own CPU time over 60 s of 1-second sampling: each
# sample reads the counters, /proc/stat and 100 cgroups, splits the
# energy and accumulates it for the ledger.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
EBBD=$BUILD/scheduler/ebbd
EBB=$BUILD/scheduler/cli/ebb
export EBB_RUN=$BUILD/runner/ebb-run
T=$(mktemp -d /tmp/ebb-bench-energy.XXXXXX)
export EBB_SOCKET=$T/ebbd.sock
pc=$T/powercap/intel-rapl:0
mkdir -p "$pc"
echo package-0 > "$pc/name"
echo 262143328850 > "$pc/max_energy_range_uj"
echo 0 > "$pc/energy_uj"
( uj=0; while :; do uj=$((uj + 50000000)); echo $uj > "$pc/e.new"
  mv "$pc/e.new" "$pc/energy_uj"; sleep 1; done ) &
feeder=$!
cat > "$T/ebb.yaml" <<EOF
state_dir: $T/state
socket: $T/ebbd.sock
log_level: warn
energy:
  powercap_root: $T/powercap
sites:
  - name: local
    cpus: 100
EOF
"$EBBD" -f -c "$T/ebb.yaml" 2>"$T/ebbd.log" &
pid=$!
trap 'kill $pid $feeder 2>/dev/null; wait $pid 2>/dev/null; pkill -f "ebb-run $T/"; sleep 0.5; rm -rf "$T"' EXIT
for _ in $(seq 1 50); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
for i in $(seq 1 100); do "$EBB" submit -q -- sleep 300 >/dev/null; done
for _ in $(seq 1 100); do
	[ "$("$EBB" queue --json | jq '[.[] | select(.state == "running")] | length')" = 100 ] && break
	sleep 0.2
done
running=$("$EBB" queue --json | jq '[.[] | select(.state == "running")] | length')
echo "machine: $(nproc) cpus, $(uname -r); $running jobs running, sampled every second"
sleep 3
tck=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 60
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
awk -v d=$((t1 - t0)) -v hz="$tck" 'BEGIN {
	printf "ebbd CPU time over 60 s: %.2f s = %.3f %% of one core\n", d / hz, 100 * d / hz / 60
	printf "per 1-second sample of 100 jobs: %.2f ms\n", 1000 * d / hz / 60 }'
