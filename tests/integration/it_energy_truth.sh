#!/bin/bash
# it_energy_truth: a job's measured energy against the truth. A fake
# powercap tree gains exactly 50 W and a fake /proc/stat shows both cpus
# busy, both kept true to the wall clock every 5 ms by
# helpers/fake-counters.py (at real-time priority where it can have it,
# so a loaded machine does not make the counter lag); with the idle rule
# `none`, a single-threaded burner owns its CPU time's share of the
# node's energy: 50 W x (its CPU seconds / 2 cpus' worth) = 25 W x its
# CPU seconds. Its recorded energy must be within 1 % of that.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for cgroups"; exit 77; }

# The fake trees live in memory (/dev/shm), as sysfs and procfs do: on a
# disk, another test's fsyncs stalled a rename of the counter for seconds
# and the samples saw a stale counter then a jump.
fake=$(mktemp -d /dev/shm/ebb-fake.XXXXXX 2>/dev/null) || fake=$T/fake
mkdir -p "$fake"; chmod 755 "$fake"
pc=$fake/powercap/intel-rapl:0
mkdir -p "$pc" "$fake/proc"
echo package-0 > "$pc/name"
echo 262143328850 > "$pc/max_energy_range_uj"
feeder="python3 $EBB_TREE/tests/helpers/fake-counters.py $pc $fake/proc 50"
if chrt -f 10 true 2>/dev/null; then chrt -f 10 $feeder & else $feeder & fi
FEEDER=$!
trap 'kill $FEEDER 2>/dev/null; rm -rf "$fake"; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$fake/proc/stat" ] && break; sleep 0.05; done

# truth ID WHAT: job ID succeeded, and its recorded energy is within 1 %
# of 25 W x its CPU seconds.
truth() {
	local id=$1 what=$2 c j
	wait_field "$id" state succeeded 150
	expect_eq "$what: the burner finished" succeeded "$(job_field "$id" state)"
	c=$(awk -v u="$(job_field "$id" cpu_usec)" 'BEGIN { print u / 1e6 }')
	j=$("$EBB" report --format json "$id" | jq '.jobs[0].energy_kwh * 3.6e6')
	awk -v j="$j" -v c="$c" -v w="$what" 'BEGIN { t = 25 * c; d = (j - t) / t
		printf "%s: measured %.1f J, truth %.1f J (25 W x %.3f CPU s): %+.2f %%\n", w, j, t, c, 100 * d
		exit !(d < 0.01 && d > -0.01) }' && ok "$what: energy within 1 % of the truth" ||
		fail "$what: job energy $j J for $c CPU s at 25 W"
}
write_config 2 "energy:" "  powercap_root: $fake/powercap" "  procfs_root: $fake/proc" "  idle: none"
site_de_trace
start_ebbd
id=$("$EBB" submit -q --name truth -- "$EBB_BURN" 8000)
truth "$id" "a job"
row=$("$EBB" report --format json "$id" | jq '.jobs[0]')
# Emissions are the sum over the job's ledger intervals of E x I x PUE.
sum=$(sqlite3 "$STATE/ebb.db" "SELECT total(energy_j / 3.6e6 * intensity * pue) FROM ledger_intervals WHERE job_id = $id")
g=$(echo "$row" | jq .emissions_g)
awk -v a="$sum" -v b="$g" 'BEGIN { exit !(b > 0 && (a - b) * (a - b) < 1e-18 + 1e-12 * b * b) }' &&
	ok "emissions = sum of E x I x PUE over its intervals ($g g)" ||
	fail "emissions $g g, intervals sum to $sum g"
# kill -9 of ebbd while a job runs: the job's supervisor runs on, the
# restarted ebbd takes the counters up where it left them, and the job's
# energy is still the truth.
id=$("$EBB" submit -q --name truth2 -- "$EBB_BURN" 8000)
wait_field "$id" state running 25
sleep 2.5
kill9_ebbd
sleep 2
start_ebbd
truth "$id" "across a kill -9 of ebbd"
# The job's cgroup goes a moment before ebbd hears its result: here the
# job stops its supervisor as it ends and the test removes the group at
# once, then lets the supervisor go on 2.5 s later. A sample that finds
# the group gone holds its interval for the result: without that, the
# job's CPU time since the sample before (up to a second of it, 25 J)
# would count against nothing.
id=$("$EBB" submit -q --name held -- sh -c "\"$EBB_BURN\" 4000; kill -STOP \$PPID")
wait_field "$id" state running 25
sup=$(pgrep -f "ebb-run .*$STATE/" | head -1)
cg=
for _ in $(seq 1 50); do
	for c in $(cat /proc/"$sup"/task/*/children 2>/dev/null); do
		cg=$(awk -F: '$2 ~ /cpuacct/ {print $3}' /proc/"$c"/cgroup 2>/dev/null)
	done
	[ -n "$cg" ] && break; sleep 0.1
done
case $cg in */job-"$id") ok "job $id in its cgroup" ;; *) fail "job $id's cgroup: '$cg'" ;; esac
SECONDS=0
until rmdir "/sys/fs/cgroup/cpuacct$cg" 2>/dev/null || [ $SECONDS -gt 30 ]; do :; done
for h in /sys/fs/cgroup/*/; do rmdir "$h$cg" 2>/dev/null; done
expect_eq "the cgroup removed as the job ended" "" "$(ls -d /sys/fs/cgroup/cpuacct$cg 2>/dev/null)"
expect_eq "its supervisor stopped" T "$(awk '{print $3}' /proc/$sup/stat)"
sleep 2.5
kill -CONT "$sup"
truth "$id" "its cgroup gone before its result"
grep -q "job $id's cgroup is gone: interval held" "$LOG" && ok "the interval was held" ||
	fail "no interval held for job $id"
finish
