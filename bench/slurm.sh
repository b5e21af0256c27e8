#!/bin/bash
# slurm.sh: submitting to Slurm directly vs through ebb (docs/benchmarks.md).
# Usage: bash bench/slurm.sh [BUILD_DIR] [N]     (as root; default N 1000)
# Starts a private single-node Slurm (../shared/tools/slurm-local.sh) and
# a private ebbd with one Slurm site on it, then, one after the other
# against the same slurmctld:
#   1. N x `sbatch --parsable --begin=now+3hours --wrap true` in a loop;
#   2. N x `ebb submit --max-delay 12h -- true` in a loop (each one
#      acknowledged only once it is durable in ebb's sqlite), and the time
#      from the first of those until ebbd has handed all N, planned into
#      the green hour 3 hours ahead, to Slurm (sbatch --begin, one Slurm id
#      recorded per job);
#   3. a burst: N submits from 8 clients at once (bench-submit), then the
#      time until ebbd has handed all of them to Slurm: its hand-over rate
#      when submitting is not the bottleneck.
# Prints both rates and their ratio. Needs ../shared (or EBB_SHARED).
set -eu
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-1000}
EBBD=$BUILD/scheduler/ebbd
EBB=$BUILD/scheduler/cli/ebb
export EBB_RUN=$BUILD/runner/ebb-run
SRC=$(cd "$(dirname "$0")/.." && pwd)
tool=${EBB_SHARED:-$SRC/../shared}/tools/slurm-local.sh
[ -x "$tool" ] || { echo "skipped: no $tool (../shared is absent)"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (slurm-local)"; exit 0; }
T=$(mktemp -d /tmp/ebb-bench-slurm.XXXXXX)
chmod 755 "$T"
export EBB_SOCKET=$T/ebbd.sock
export SLURM_LOCAL_DIR=/tmp/ebbsl-bench-$$ SLURM_LOCAL_CTLD_PORT=18817 \
    SLURM_LOCAL_SLURMD_PORT=18818 SLURM_LOCAL_EXTRA_CONF="MaxJobCount=100000"
eval "$("$tool" start 2>/dev/null)"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; "$tool" purge >/dev/null 2>&1; rm -rf "$T"' EXIT

# A day of hourly history: 500 g/kWh, 50 in the hour 3 hours ahead.
now=$(date +%s)
green=$(( (now / 3600 + 3) % 24 ))
{
	echo "time,intensity"
	for ((t = now - now % 3600 - 86400; t <= now; t += 3600)); do
		TZ=UTC printf '%(%Y-%m-%d %H:%M:%S)T,%d\n' "$t" \
		    $(( t / 3600 % 24 == green ? 50 : 500 ))
	done
} > "$T/trace.csv"
cat > "$T/ebb.yaml" <<EOF
state_dir: $T/state
socket: $T/ebbd.sock
log_level: warn
planner:
  default_max_delay: 12h
sites:
  - name: hpc
    backend: slurm
    cpus: 100000
    zone: XX
    providers: [trace]
    trace:
      file: $T/trace.csv
    slurm:
      conf: $SLURM_CONF
      poll: 2s
      adopt: false
      shared_dir: $T/shared
EOF
mkdir -p "$T/work"; cd "$T/work"
handed() {
	sqlite3 "file:$T/state/ebb.db?mode=ro" \
	    "select count(*) from jobs where ext_id is not null"
}
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do
	sbatch --parsable --begin=now+3hours --wrap true >/dev/null
done
t1=$(date +%s%N)
direct_s=$(calc "($t1 - $t0) / 1e9")
scancel -u root
echo "direct: $N sbatch in $(printf %.2f "$direct_s") s"

"$EBBD" -f -c "$T/ebb.yaml" 2>"$T/ebbd.log" &
pid=$!
for _ in $(seq 1 50); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do
	"$EBB" submit -q --duration 10m -- true >/dev/null
done
t1=$(date +%s%N)
while [ "$(handed)" -lt "$N" ]; do sleep 0.1; done
t2=$(date +%s%N)
ebb_s=$(calc "($t1 - $t0) / 1e9")
handed_s=$(calc "($t2 - $t0) / 1e9")
in_slurm=$(squeue -h -t PENDING -o %k | grep -c '^ebbd:')
hour=$(date -d @$(( now - now % 3600 + 3 * 3600 )) +%Y-%m-%dT%H:)
green_begin=$(squeue -h -t PENDING -o '%S %k' | grep -c "^$hour")
echo "ebb:    $N ebb submit in $(printf %.2f "$ebb_s") s; all $N handed to Slurm $(printf %.2f "$handed_s") s after the first submit"
echo "        in Slurm: $in_slurm pending ebb jobs, $green_begin of them begin in the green hour"
printf 'rates:  sbatch %.0f jobs/s, ebb submit %.0f jobs/s (%.2fx sbatch), hand-over %.0f jobs/s (%.2fx sbatch)\n' \
    "$(calc "$N / $direct_s")" "$(calc "$N / $ebb_s")" \
    "$(calc "$direct_s / $ebb_s")" "$(calc "$N / $handed_s")" \
    "$(calc "$direct_s / $handed_s")"

# 3. A burst through 8 clients, then the hand-over alone.
"$BUILD/bench/bench-submit" -s "$T/ebbd.sock" -c 8 -n "$N" -a true > "$T/burst.txt"
t3=$(date +%s%N)
while [ "$(handed)" -lt $((2 * N)) ]; do sleep 0.1; done
t4=$(date +%s%N)
burst_s=$(calc "($t4 - $t3) / 1e9")
echo "burst:  $(grep -o 'jobs/s=[0-9]*' "$T/burst.txt" | cut -d= -f2) submits/s acknowledged (8 clients); the $N handed to Slurm $(printf %.2f "$burst_s") s after the last acknowledgement"
printf 'hand-over alone: %.0f jobs/s (%.2fx sbatch in a loop)\n' \
    "$(calc "$N / $burst_s")" "$(calc "$direct_s / $burst_s")"
