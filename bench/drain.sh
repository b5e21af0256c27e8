#!/bin/bash
# drain.sh: how fast ebbd works through a deep queue of short jobs
# (issue 11 item 6, docs/benchmarks.md). Usage, as root:
#   bash bench/drain.sh [BUILD_DIR]
# Environment: JOBS (default 2000), CPUS (the site's, 2), DRAIN_S (stop
# measuring after this many seconds of draining, default: until empty),
# KEEP=1 keeps the scratch directory.
#
# Starts a private ebbd as root (a privileged parent and a worker as user
# ebb, root_jobs: true) with one local site of CPUS cpus. A blocker job
# takes every cpu while JOBS one-second jobs (`--duration 1s`) are
# submitted, then ends, and the queue drains. Each job writes the wall
# time (microseconds) at which its command begins and ends. Measured:
#   - start latency: after the k-th end (ends sorted), the (k+CPUS)-th
#     start is the one that end made room for (k > 0: at that start k+CPUS
#     jobs have started and at most CPUS run, so k have ended); latency =
#     that start - that end, both as the jobs saw them, so it includes
#     ebb-run noticing the end, ebbd recording it and starting the next
#     supervisor;
#   - drain rate: jobs ended / (last end - first start);
#   - ebbd's own part of that latency: from its log line recording an end
#     to its next "launched" line (ms resolution; the rest is ebb-run
#     noticing the end and starting the next job);
#   - ebbd's planning passes (its debug log) and its CPU time.
set -u
export LC_ALL=C
BUILD=$(cd "${1:-build}" && pwd) || exit 2
JOBS=${JOBS:-2000}
CPUS=${CPUS:-2}
. "$(dirname "$0")/lib.sh"
bench_root drain.sh jq awk
bench_ebb_user
bench_dir drain
LOG=$T/ebbd.log
cat > "$T/ebb.yaml" <<EOF2
state_dir: $T/state
socket: $T/ebbd.sock
root_jobs: true
kill_grace: 1s
sites:
  - name: local
    backend: local
    cpus: $CPUS
EOF2
chmod 644 "$T/ebb.yaml"

pid=
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sleep 2		# the supervisors of jobs still running end with them
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
"$EBBD" -f -d -c "$T/ebb.yaml" 2>"$LOG" &
pid=$!
for _ in $(seq 1 100); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
"$EBB" queue >/dev/null || { echo "ebbd did not start"; cat "$LOG"; exit 1; }

echo "machine: $(nproc) cpus, $(uname -r), load $(cut -d" " -f1-3 /proc/loadavg); ebbd from $BUILD"
blocker=$("$EBB" submit -q --name blocker --cpus "$CPUS" --duration 10m -- \
    /bin/sh -c "while [ ! -e $T/go ]; do sleep 0.05; done")
for _ in $(seq 1 100); do
	[ "$("$EBB" show --json "$blocker" | jq -r .job.state)" = running ] && break
	sleep 0.1
done
# The job: its start and end times (us), with no fork but sleep.
# (Short O_APPEND writes: lines never mix.)
JOB='echo "S ${EPOCHREALTIME/./}" >> '"$T"'/times; sleep 1; echo "E ${EPOCHREALTIME/./}" >> '"$T"'/times'
t0=$(date +%s.%N)
for i in $(seq 1 "$JOBS"); do
	echo "$i"
done | EBB=$EBB JOB=$JOB xargs -P 4 -n 50 sh -c 'for i; do "$EBB" submit -q \
    --name drain --duration 1s -- /bin/bash -c "$JOB" >/dev/null || exit 1
    done' sh 2>&1 | head -3
t1=$(date +%s.%N)
queued=$("$EBB" queue --json | jq '[.[] | select(.name == "drain" and .state != "running")] | length')
awk -v a="$t0" -v b="$t1" -v n="$JOBS" -v q="$queued" 'BEGIN {
	printf "%d jobs submitted in %.1f s; %d waiting behind the blocker\n",
	    n, b - a, q }'
cpu0=$(awk '{print $14 + $15}' /proc/$(pgrep -P "$pid" ebbd || echo "$pid")/stat)
touch "$T/go"
end=$((SECONDS + ${DRAIN_S:-$((JOBS * 4 + 600))}))
# (Watch the jobs' own lines: asking ebbd for its queue would load it.)
while [ $SECONDS -lt $end ]; do
	[ "$(cat "$T/times" 2>/dev/null | grep -c '^E')" -ge "$JOBS" ] && break
	sleep 1
done
sleep 1
worker=$(pgrep -P "$pid" ebbd || echo "$pid")
cpu1=$(awk '{print $14 + $15}' /proc/"$worker"/stat)
left=$("$EBB" queue --json | jq length)
ok=$("$EBB" queue --all --json | jq '[.[] | select(.name == "drain" and .state == "succeeded")] | length')
echo "$ok of $JOBS jobs succeeded; $left still active${DRAIN_S:+ after ${DRAIN_S} s}"
awk -v cpus="$CPUS" -v hz="$(getconf CLK_TCK)" -v ticks=$((cpu1 - cpu0)) '
$1 == "S" { s[++ns] = $2 }
$1 == "E" { e[++ne] = $2 }
function sort(a, n,   i, j, t, gap) {	# shell sort
	for (gap = int(n / 2); gap > 0; gap = int(gap / 2))
		for (i = gap + 1; i <= n; i++) {
			t = a[i]
			for (j = i; j > gap && a[j - gap] > t; j -= gap)
				a[j] = a[j - gap]
			a[j] = t
		}
}
END {
	sort(s, ns); sort(e, ne)
	m = 0
	for (k = 1; k <= ne && k + cpus <= ns; k++)
		lat[++m] = (s[k + cpus] - e[k]) / 1000.0
	sort(lat, m)
	sum = 0
	for (k = 1; k <= m; k++) sum += lat[k]
	printf "start latency after an end (ms, %d ends): median %.1f, mean %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
	    m, lat[int(m * 0.5) + 1], sum / m, lat[int(m * 0.9) + 1],
	    lat[int(m * 0.99) + 1], lat[m]
	span = (e[ne] - s[1]) / 1e6
	printf "drain: %d jobs in %.1f s: %.2f jobs/s (ideal %d/s)\n", ne, span,
	    ne / span, cpus
	printf "ebbd worker CPU time while draining: %.1f s\n", ticks / hz
}' "$T/times"
# ebbd's own part: from the log line of an end to the next launch.
awk '/ebbd\[/ { split(substr($1, 12, 12), h, ":"); t = h[1] * 3600 + h[2] * 60 + h[3] }
/ (succeeded|failed|cancelled): / { q[++nq] = t }
/: launched$/ && hq < nq { l[++m] = 1000 * (t - q[++hq]) }
function sort(a, n,   i, j, x, gap) {
	for (gap = int(n / 2); gap > 0; gap = int(gap / 2))
		for (i = gap + 1; i <= n; i++) {
			x = a[i]
			for (j = i; j > gap && a[j - gap] > x; j -= gap)
				a[j] = a[j - gap]
			a[j] = x
		}
}
END { if (!m) exit; sort(l, m)
	printf "ebbd: end recorded -> next supervisor launched (ms, %d): median %.0f, p90 %.0f, p99 %.0f, max %.0f\n",
	    m, l[int(m * 0.5) + 1], l[int(m * 0.9) + 1], l[int(m * 0.99) + 1], l[m] }' "$LOG"
grep -o 'planning pass: [0-9]* active jobs in [0-9.]* s' "$LOG" |
    awk '{ t = $7; s += t; if (t > mx) mx = t; n++ }
    END { if (n) printf "planning passes: %d, mean %.1f ms, max %.1f ms\n", n, 1000 * s / n, 1000 * mx }'
