#!/bin/bash
# bench/quality.sh: planning quality of ebb, measured with `ebb simulate`.
#
# usage: bash bench/quality.sh [BUILD_DIR] [--full] [--only PART]
#
# PART: savings, oracle, lwa or contention (one part only; --only may be
# given more than once). EBB_CONTENTION_RESERVE, if set, fixes the
# planner's reserve in the contention rows (the defaults' `auto`
# otherwise), to compare with a fixed share.
#
# Turns the Alibaba PAI job trace (bench/data/pai_1k.csv: 1,000 jobs over
# 7 days) into workloads (1 cpu = 10 W, deadline = arrival + length + 12 h)
# over the Electricity Maps 2023 hourly traces (LCA column) of DE, GB and
# US-CAL-CISO as three sites, and reports, for each site alone and for all
# three allowed, the savings against running every job at once at its
# origin, under perfect, noise:0.1 and model forecasts, with deadline
# misses (must be 0). The week is replayed four times, from the Mondays
# 2023-02-06, 2023-05-01, 2023-07-31 and 2023-10-30 (arrival second s ->
# that Monday 00:00 UTC + s), so every season counts and the forecaster
# has 28 days of history. With all three sites, job i's origin is site
# i mod 3 (the baseline mixes the three grids).
#
# Then the gap to plan_oracle (exhaustive search) on small slices: 3
# consecutive jobs of the first replay, 20 slices per site set, perfect
# forecast; the floor is 1 %. Once with room for all, once with one cpu
# per site (each job takes a whole site, power kept at 10 W x its cpus),
# so jobs compete for the cleanest hours. Both sides are scored on emissions alone,
# so this part runs without the delay tie-break (delay_g_per_h and
# delay_swing 0; with it the planner and the oracle both trade emissions
# for earlier starts). One cpu per site leaves the reserve at 0 cpus.
#
# Then the LWA rows (skipped with a message when ../shared/data/carbon-
# intensity is absent: those traces may not be redistributed): the "Let's
# Wait Awhile" scenario II workload (bench-lwa gen: 3,387 ML jobs over
# 2020, 1 kW, 4-89.5 h, arrivals 09-17 h on workdays, deadline next
# workday or semi-weekly, one block or interruptible) on the 2020 DE, GB
# and FR traces (30-minute slots, room for every job as in the paper),
# with ebb's defaults (no planner section) and like-for-like settings
# (safety_margin 0, no delay tie-break, horizon 7d, min_chunk 30m), against
# the strict optimum of an independent brute-force search (bench-lwa opt).
# Floor: defaults keep >= 90 % of the like-for-like savings, 0 misses.
# The defaults also run on ebb's own forecaster (--forecast model: history
# only, the interval used for deadline safety); floor: model keeps >= 80 %
# of the defaults' perfect-forecast savings, 0 misses.
#
# Then the contention rows (need the 100k PAI trace, else skipped): the
# whole year on one DE site whose cpus are 1.5, 2 and 3 times the trace's
# mean demand (173, 231, 346; a job asking more gets them all), defaults,
# against earliest-start FCFS (bench-fcfs) on the same jobs: savings,
# misses and mean delay side by side. Jobs whose deadline falls within 2
# days of the trace's end are left out for both, so every run lies
# within the intensity data and the savings are numbers.
#
# --full also runs the 100k-job PAI trace (../shared/data/job-traces/
# pai-100k.csv, whose times are in hours over one year: arrival hour h ->
# 2023-01-01 00:00 UTC + h), all three sites, the three forecasts; skipped
# with a message when the file is absent. Prints Markdown tables.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=build
full=0
only=
while [ $# -gt 0 ]; do
	case $1 in
	--full) full=1 ;;
	--only) only="$only ${2:?--only needs a part}"; shift ;;
	*) build=$1 ;;
	esac
	shift
done
# want PART: run that part (all of them without --only)
want() { [ -z "$only" ] || case " $only " in *" $1 "*) true ;; *) false ;; esac; }
case $build in /*) ;; *) build=$src/$build ;; esac
ebb=$build/scheduler/cli/ebb
lwa=$build/bench/bench-lwa
fcfs=$build/bench/bench-fcfs
for x in "$ebb" "$lwa" "$fcfs"; do
	[ -x "$x" ] || { echo "quality.sh: no $x (build ebb, bench-lwa, bench-fcfs)" >&2; exit 1; }
done
ci2020=$src/../shared/data/carbon-intensity
traces=$src/examples/traces
pai=$src/bench/data/pai_1k.csv
pai100k=$src/../shared/data/job-traces/pai-100k.csv
tmp=$(mktemp -d /tmp/ebb-quality.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

lca="Carbon Intensity gCO₂eq/kWh (LCA)"
site() {	# name file cpus
	cat <<EOF
  - name: $1
    cpus: $3
    zone: $1
    providers: [trace]
    trace:
      file: $traces/$2
      value_column: "$lca"
EOF
}
config() {	# default|0 (delay tie-break) cpus_per_site
	echo "slot: 30m"
	echo "planner:"
	echo "  watts_per_cpu: 10"
	echo "  horizon: 3d"
	echo "  replan: 1h"
	[ "$1" = 0 ] && printf '%s\n' "  delay_g_per_h: 0" "  delay_swing: 0"
	echo "sites:"
	site DE DE-LU_2023_hourly.csv "$2"
	site GB GB_2023_hourly.csv "$2"
	site US-CAL-CISO US-CAL-CISO_2023_hourly.csv "$2"
}
config default 1024 > "$tmp/ebb.yaml"	# the default tie-break
config 0 1024 > "$tmp/ebb0.yaml"	# pure emissions, as the oracle is scored
config 0 1 > "$tmp/ebb0-tight.yaml"	# one job at a time per site

# workload SRC MONDAY_EPOCH SITES UNIT(s per trace unit) > CSV
workload() {
	awk -F, -v base="$2" -v sites="$3" -v unit="$4" '
	BEGIN { n = split(sites, s, "|") }
	NR == 1 { print "id,submit,duration_s,deadline,power_w,cpus," \
	    "interruptible,sites"; next }
	{
		sub_t = base + int($1 * unit + 0.5)
		dur = int($2 * unit + 0.5); if (dur < 1) dur = 1
		# all sites: origin rotates, the others follow it
		if (n == 1) list = s[1]
		else { o = (NR - 2) % n; list = s[o + 1]
		    for (k = 1; k < n; k++) list = list "|" s[(o + k) % n + 1] }
		printf "p%d,%d,%d,%d,,%d,0,%s\n", NR - 1, sub_t, dur,
		    sub_t + dur + 43200, $3, list
	}' "$1"
}

# summary FIELD < text summary
field() { awk -v k="$1" -F': ' '$1 == k { print $2 }'; }

mondays="1675641600 1682899200 1690761600 1698624000"
sets="DE GB US-CAL-CISO DE|GB|US-CAL-CISO"
setname() { case $1 in *"|"*) echo "all three" ;; *) echo "$1" ;; esac; }

if want savings; then
echo "## Savings vs run-now, PAI 1k week x 4 replays (sums over the replays)"
echo
echo "| sites | forecast | jobs | energy kWh | baseline kg | emissions kg | savings | deadline misses | mean delay h | p95 delay h | sim s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for set in $sets; do
	for fc in perfect noise:0.1 model; do
		jobs=0 kwh=0 base=0 em=0 miss=0 dsum=0 p95=0 secs=0
		for m in $mondays; do
			workload "$pai" "$m" "$set" 1 > "$tmp/w.csv"
			t0=$(date +%s.%N)
			"$ebb" simulate -c "$tmp/ebb.yaml" --forecast "$fc" \
			    "$tmp/w.csv" > "$tmp/s.txt"
			t1=$(date +%s.%N)
			read -r jobs kwh base em miss dsum p95 secs < <(awk \
			    -v j="$jobs" -v k="$kwh" -v b="$base" -v e="$em" \
			    -v mi="$miss" -v d="$dsum" -v p="$p95" -v s="$secs" \
			    -v dt="$(echo "$t1 - $t0" | bc)" -F': ' '
			    { v[$1] = $2 }
			    END { printf "%d %.6f %.3f %.3f %d %.1f %.0f %.2f\n",
				j + v["jobs"], k + v["energy_kwh"],
				b + v["baseline_g"], e + v["emissions_g"],
				mi + v["deadline_misses"] + v["unplaced"],
				d + v["mean_delay_s"] * v["jobs"],
				(v["p95_delay_s"] > p ? v["p95_delay_s"] : p),
				s + dt }' "$tmp/s.txt")
		done
		awk -v set="$(setname "$set")" -v fc="$fc" -v j="$jobs" \
		    -v k="$kwh" -v b="$base" -v e="$em" -v mi="$miss" \
		    -v d="$dsum" -v p="$p95" -v s="$secs" 'BEGIN {
			printf "| %s | %s | %d | %.1f | %.2f | %.2f | %.1f %% | %d | %.2f | %.2f | %.1f |\n",
			    set, fc, j, k, b / 1000, e / 1000,
			    100 * (1 - e / b), mi, d / j / 3600, p / 3600, s }'
	done
done
fi

# oracle_table TITLE CONFIG TIGHT(0/1)
oracle_table() {
echo
echo "## $1"
echo
echo "| sites | slices | oracle g | ebb g | gap (sum) | worst slice | deadline misses |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for set in $sets; do
	orc=0 sim=0 worst=0 miss=0 n=0
	workload "$pai" 1675641600 "$set" 1 | tail -n +2 > "$tmp/all.csv"
	for i in $(seq 0 19); do
		{ echo "id,submit,duration_s,deadline,power_w,cpus,interruptible,sites"
		  sed -n "$((i * 50 + 1)),$((i * 50 + 3))p" "$tmp/all.csv" |
		  awk -F, -v OFS=, -v tight="$3" \
		      'tight == 1 { $5 = 10 * $6; $6 = 1 } { print }'; } \
		    > "$tmp/slice.csv"
		"$ebb" simulate -c "$2" --oracle "$tmp/slice.csv" \
		    > "$tmp/s.txt"
		o=$(field oracle_g < "$tmp/s.txt")
		case $o in -*) echo "slice $i: no oracle: $o" >&2; continue ;; esac
		e=$(field emissions_g < "$tmp/s.txt")
		mi=$(field deadline_misses < "$tmp/s.txt")
		read -r orc sim worst miss n < <(awk -v o="$o" -v e="$e" \
		    -v a="$orc" -v b="$sim" -v w="$worst" -v m="$miss" \
		    -v mi="$mi" -v n="$n" 'BEGIN {
			g = o > 0 ? 100 * (e - o) / o : 0
			printf "%.3f %.3f %.4f %d %d\n", a + o, b + e,
			    (g > w ? g : w), m + mi, n + 1 }')
	done
	awk -v set="$(setname "$set")" -v n="$n" -v o="$orc" -v e="$sim" \
	    -v w="$worst" -v m="$miss" 'BEGIN {
		printf "| %s | %d | %.1f | %.1f | %.3f %% | %.3f %% | %d |\n",
		    set, n, o, e, 100 * (e - o) / o, w, m }'
done
}
if want oracle; then
oracle_table "Gap to plan_oracle, perfect forecast, 20 slices of 3 jobs per site set" \
    "$tmp/ebb0.yaml" 0
oracle_table "Gap to plan_oracle, one cpu per site (jobs queue for room)" \
    "$tmp/ebb0-tight.yaml" 1
fi


# The LWA rows.
if want lwa; then
echo
echo "## LWA scenario II (2020): defaults vs like-for-like vs the optimum"
echo
if [ ! -r "$ci2020/ger_ci.csv" ]; then
	echo "lwa: $ci2020 not found, skipped"
else
	echo "| site | deadline | jobs run | optimum | like-for-like | defaults | defaults / like-for-like | misses (defaults, lfl) | sim s (defaults) | defaults, model | model / perfect | misses (model) | sim s (model) |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for zone in DE:ger GB:gb FR:fr; do
		name=${zone%%:*} file=$ci2020/${zone#*:}_ci.csv
		for lfl in 0 1; do
			{ echo "slot: 30m"
			  [ $lfl = 1 ] && printf '%s\n' "planner:" \
			      "  safety_margin: 0" "  delay_g_per_h: 0" \
			      "  delay_swing: 0" "  horizon: 7d" \
			      "  min_chunk: 30m"
			  printf '%s\n' "sites:" "  - name: $name" \
			      "    cpus: 4000" "    zone: $name" \
			      "    providers: [trace]" "    trace:" \
			      "      file: $file"; } > "$tmp/lwa$lfl.yaml"
		done
		for rule in next-workday semi-weekly; do
			for inter in 0 1; do
				"$lwa" gen $rule $inter "$name" > "$tmp/lwa.csv"
				o=$("$lwa" opt "$file" "$tmp/lwa.csv" | field savings_pct)
				t0=$(date +%s.%N)
				"$ebb" simulate -c "$tmp/lwa0.yaml" "$tmp/lwa.csv" > "$tmp/d.txt"
				t1=$(date +%s.%N)
				"$ebb" simulate -c "$tmp/lwa1.yaml" "$tmp/lwa.csv" > "$tmp/l.txt"
				t2=$(date +%s.%N)
				"$ebb" simulate -c "$tmp/lwa0.yaml" --forecast model "$tmp/lwa.csv" > "$tmp/m.txt"
				t3=$(date +%s.%N)
				m=$(field savings_pct < "$tmp/m.txt")
				d=$(field savings_pct < "$tmp/d.txt")
				l=$(field savings_pct < "$tmp/l.txt")
				awk -v site="$name" -v rule="$rule$([ $inter = 1 ] && echo ', interruptible')" \
				    -v j="$(field jobs < "$tmp/d.txt")" -v o="$o" -v d="$d" -v l="$l" \
				    -v md="$(( $(field deadline_misses < "$tmp/d.txt") + $(field unplaced < "$tmp/d.txt") ))" \
				    -v ml="$(( $(field deadline_misses < "$tmp/l.txt") + $(field unplaced < "$tmp/l.txt") ))" \
				    -v s="$(echo "$t1 - $t0" | bc)" -v m="$m" \
				    -v mm="$(( $(field deadline_misses < "$tmp/m.txt") + $(field unplaced < "$tmp/m.txt") ))" \
				    -v sm="$(echo "$t3 - $t2" | bc)" 'BEGIN {
					printf "| %s | %s | %d | %.2f %% | %.2f %% | %.2f %% | %.1f %% | %d, %d | %.1f | %.2f %% | %.1f %% | %d | %.1f |\n",
					    site, rule, j, o, l, d, 100 * d / l, md, ml, s, m, 100 * m / d, mm, sm }'
			done
		done
	done
fi
fi

# The contention rows.
if want contention; then
echo
echo "## Contention: PAI 100k on one DE site at 1.5x, 2x and 3x mean demand, ebb vs FCFS"
echo
if [ ! -r "$pai100k" ]; then
	echo "contention: $pai100k not found, skipped"
else
	# The 2023 trace ends at 2024-01-01 00:00 UTC; a job whose deadline
	# is within 2 days of that end is left out (for both schedulers),
	# so no run, early or late, passes the end of the intensity data.
	tend=1704067200
	mean=$(awk -F, 'NR > 1 { w += $2 * $3; if (NR == 2) f = $1; l = $1 }
	    END { printf "%.6f", w / (l - f) }' "$pai100k")
	echo "| load | cpus | jobs | ebb savings | ebb misses | FCFS misses | ebb mean delay h | FCFS mean delay h | sim s |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for mult in 1.5 2 3; do
		cap=$(awk -v m="$mean" -v x="$mult" 'BEGIN { printf "%d", x * m + 0.5 }')
		awk -F, -v base=1672531200 -v cap="$cap" -v tend="$tend" '
		NR == 1 { print "id,submit,duration_s,deadline,power_w,cpus," \
		    "interruptible,sites"; next }
		{ s = base + int($1 * 3600 + 0.5); d = int($2 * 3600 + 0.5)
		  if (d < 1) d = 1; c = $3 > cap ? cap : $3
		  if (s + d + 43200 > tend - 2 * 86400) next
		  printf "p%d,%d,%d,%d,%d,%d,0,DE\n", NR - 1, s, d,
		      s + d + 43200, 10 * $3, c }' "$pai100k" > "$tmp/w.csv"
		{ printf '%s\n' "slot: 30m" "planner:" "  watts_per_cpu: 10"
		  [ -n "${EBB_CONTENTION_RESERVE:-}" ] &&
		      echo "  reserve: $EBB_CONTENTION_RESERVE"
		  printf '%s\n' "sites:" "  - name: DE" "    cpus: $cap" \
		      "    zone: DE" "    providers: [trace]" "    trace:" \
		      "      file: $traces/DE-LU_2023_hourly.csv" \
		      "      value_column: \"$lca\""; } > "$tmp/cont.yaml"
		"$fcfs" "$cap" "$tmp/w.csv" > "$tmp/f.txt"
		t0=$(date +%s)
		"$ebb" simulate -c "$tmp/cont.yaml" "$tmp/w.csv" > "$tmp/s.txt"
		t1=$(date +%s)
		awk -v x="$mult" -v cap="$cap" \
		    -v fm="$(field deadline_misses < "$tmp/f.txt")" \
		    -v fd="$(field mean_delay_s < "$tmp/f.txt")" -v s=$((t1 - t0)) \
		    -F': ' '{ v[$1] = $2 } END {
			sv = v["savings_pct"] == "null" ? "null" : \
			    sprintf("%.1f %%", v["savings_pct"])
			printf "| %sx | %d | %d | %s | %d | %d | %.2f | %.2f | %d |\n",
			    x, cap, v["jobs"], sv,
			    v["deadline_misses"] + v["unplaced"], fm,
			    v["mean_delay_s"] / 3600, fd / 3600, s }' "$tmp/s.txt"
	done
fi
fi

if [ $full = 1 ]; then
	echo
	if [ ! -r "$pai100k" ]; then
		echo "pai-100k: $pai100k not found, skipped"
		exit 0
	fi
	echo "## PAI 100k (one year), all three sites"
	echo
	echo "| forecast | jobs | baseline t | emissions t | savings | deadline misses | mean delay h | sim s |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	workload "$pai100k" 1672531200 "DE|GB|US-CAL-CISO" 3600 > "$tmp/w.csv"
	for fc in perfect noise:0.1 model; do
		t0=$(date +%s)
		"$ebb" simulate -c "$tmp/ebb.yaml" --forecast "$fc" \
		    "$tmp/w.csv" > "$tmp/s.txt"
		t1=$(date +%s)
		awk -v fc="$fc" -v s=$((t1 - t0)) -F': ' '{ v[$1] = $2 } END {
			printf "| %s | %d | %.2f | %.2f | %.1f %% | %d | %.2f | %d |\n",
			    fc, v["jobs"], v["baseline_g"] / 1e6,
			    v["emissions_g"] / 1e6, v["savings_pct"],
			    v["deadline_misses"] + v["unplaced"],
			    v["mean_delay_s"] / 3600, s }' "$tmp/s.txt"
	done
fi
