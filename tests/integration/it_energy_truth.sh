#!/bin/bash
# it_energy_truth: a job's measured energy against the truth. A fake
# powercap tree gains exactly 50 W and a fake /proc/stat shows both cpus
# busy, both written from the wall clock every 20 ms; with the idle rule
# `none`, a single-threaded burner owns its CPU time's share of the
# node's energy: 50 W x (its CPU seconds / 2 cpus' worth) = 25 W x its
# CPU seconds. Its recorded energy must be within 2 % of that.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for cgroups"; exit 77; }

pc=$T/powercap/intel-rapl:0
mkdir -p "$pc" "$T/proc"
echo package-0 > "$pc/name"
echo 262143328850 > "$pc/max_energy_range_uj"
t0=$(date +%s%N)
feed() {
	local now=$(date +%s%N) el
	el=$(( (now - t0) / 1000 ))			# µs since t0
	echo $(( el * 50 )) > "$pc/e.new"; mv "$pc/e.new" "$pc/energy_uj"
	# 2 cpus at 100 Hz, all busy: 200 jiffies a second, none idle.
	# The shape of the real file: the total, then one line per cpu.
	printf 'cpu  %d 0 0 0 0 0 0 0 0 0\ncpu0 %d 0 0 0 0 0 0 0 0 0\ncpu1 %d 0 0 0 0 0 0 0 0 0\n' \
	    $(( el / 5000 )) $(( el / 10000 )) $(( el / 10000 )) > "$T/proc/s.new"
	mv "$T/proc/s.new" "$T/proc/stat"
}
feed
( while :; do feed; sleep 0.02; done ) &
FEEDER=$!
trap 'kill $FEEDER 2>/dev/null; cleanup' EXIT
write_config 2 "energy:" "  powercap_root: $T/powercap" "  procfs_root: $T/proc" "  idle: none"
site_de_trace
start_ebbd
id=$("$EBB" submit -q --name truth -- "$EBB_BURN" 8000)
for _ in $(seq 1 300); do [ "$(job_field "$id" state)" = succeeded ] && break; sleep 0.1; done
expect_eq "burner finished" succeeded "$(job_field "$id" state)"
cpu_s=$(awk -v u="$(job_field "$id" cpu_usec)" 'BEGIN { print u / 1e6 }')
row=$("$EBB" report --format json "$id" | jq '.rows[0] // .jobs[0] // .[0]')
j=$(echo "$row" | jq '.energy_kwh * 3.6e6')
awk -v j="$j" -v c="$cpu_s" 'BEGIN { t = 25 * c; d = (j - t) / t
	printf "measured %.1f J, truth %.1f J (25 W x %.3f CPU s): %+.2f %%\n", j, t, c, 100 * d
	exit !(d < 0.02 && d > -0.02) }' && ok "job energy within 2 % of the truth" ||
	fail "job energy ${j} J for ${cpu_s} CPU s at 25 W"
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
for _ in $(seq 1 50); do [ "$(job_field "$id" state)" = running ] && break; sleep 0.1; done
sleep 2.5
kill9_ebbd
sleep 2
start_ebbd
for _ in $(seq 1 300); do [ "$(job_field "$id" state)" = succeeded ] && break; sleep 0.1; done
expect_eq "burner finished across a restart" succeeded "$(job_field "$id" state)"
cpu_s=$(awk -v u="$(job_field "$id" cpu_usec)" 'BEGIN { print u / 1e6 }')
j=$("$EBB" report --format json "$id" | jq '(.rows[0] // .jobs[0] // .[0]).energy_kwh * 3.6e6')
awk -v j="$j" -v c="$cpu_s" 'BEGIN { t = 25 * c; d = (j - t) / t
	printf "across a restart: measured %.1f J, truth %.1f J: %+.2f %%\n", j, t, 100 * d
	exit !(d < 0.02 && d > -0.02) }' && ok "energy within 2 % across a kill -9 of ebbd" ||
	fail "job energy ${j} J for ${cpu_s} CPU s at 25 W across a restart"
finish
