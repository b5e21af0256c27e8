#!/bin/bash
# it_metrics_jobs: per-job series at ebbd's /metrics, with two real users.
#
# A flooding user runs 10 jobs and queues 4 more; another user runs two,
# submitted in between (so that neither the oldest nor the newest 4 jobs
# are the fair share), one a CPU burner whose name holds a quote, a
# backslash and a newline. With metrics.job_series at 4 the per-job
# families show 4 jobs, shared round-robin (2 each), and say how many were
# left out; queued jobs have none. The burner's energy counter rises while
# it runs, its settled emissions appear when it ends (cancelled), and its
# series go once job_linger has passed. Every scrape passes `promtool check metrics`
# (Debian package prometheus), and ebb_build_info names ebbd's version.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create test users"; exit 77; }
command -v promtool >/dev/null ||
    { echo "SKIP: promtool is not installed (Debian package prometheus)"; exit 77; }
share_bins
test_users ebbmx1 ebbmx2
cd "$T" || exit 1

port=$(( 20000 + RANDOM % 30000 ))
ROOT_JOBS=false write_config 12 "socket_mode: 0666" "metrics:" \
    "  port: $port" "  job_series: 4" "  job_linger: 3s"
site_de_trace
start_ebbd

# scrape: one GET /metrics into $m, checked by promtool (not in a
# subshell, so that a failure counts).
scrape() {
	local out
	m=$(curl -sf "http://127.0.0.1:$port/metrics") ||
	    { fail "GET /metrics failed"; return 1; }
	if out=$(promtool check metrics <<<"$m" 2>&1); then
		ok "promtool check metrics"
	else
		fail "promtool check metrics: $out"
	fi
}
# ids BODY: the job_id of each job with an energy series, sorted.
ids() {
	grep '^ebb_recent_job_energy_joules_total{' <<<"$1" |
	    sed 's/.*job_id="\([0-9]*\)".*/\1/' | sort -n | tr '\n' ' '
}
# sample BODY FAMILY JOB_ID: that job's value in the family, or nothing.
sample() {
	grep "^$2{job_id=\"$3\"," <<<"$1" | awk '{print $NF}'
}

version=$("$EBBD" -V | awk '{print $2}')
scrape
expect_eq "ebb_build_info" "ebb_build_info{version=\"$version\"} 1" \
    "$(grep '^ebb_build_info' <<<"$m")"
expect_eq "no job, no per-job series" "" "$(ids "$m")"
expect_eq "nothing omitted" "ebb_recent_jobs_omitted 0" \
    "$(grep '^ebb_recent_jobs_omitted' <<<"$m")"

flood=()
flood_some() {
	local i
	for i in $(seq "$1" "$2"); do
		flood+=("$(as ebbmx1 "$EBB" submit -q --name "flood$i" -- /bin/sleep 60)")
	done
}
name=$(printf 'say "hi"\\o/\nbye')
flood_some 1 5
bid=$(as ebbmx2 "$EBB" submit -q --name "$name" -- "$EBB_BURN" 60000)
[ -n "$bid" ] || { fail "the burner was refused"; finish; }
flood_some 6 10
other=$(as ebbmx2 "$EBB" submit -q --name other -- /bin/sleep 60)
flood_some 11 14
# 12 cpus: 10 of the flooder's jobs run, 4 wait.
for _ in $(seq 1 100); do
	[ "$("$EBB" queue --json | jq '[.[] | select(.state == "running")] | length')" = 12 ] &&
	    break
	sleep 0.2
done
expect_eq "running jobs" 12 \
    "$("$EBB" queue --json | jq '[.[] | select(.state == "running")] | length')"

scrape
got=$(ids "$m")
expect_eq "4 jobs have series" 4 "$(wc -w <<<"$got")"
expect_eq "the other user's jobs keep their series" "$bid $other" \
    "$(grep '^ebb_recent_job_energy_joules_total{.*user="ebbmx2"' <<<"$m" |
    sed 's/.*job_id="\([0-9]*\)".*/\1/' | sort -n | xargs)"
expect_eq "the flooder's share: its 2 newest running" \
    "${flood[8]} ${flood[9]}" \
    "$(grep '^ebb_recent_job_energy_joules_total{.*user="ebbmx1"' <<<"$m" |
    sed 's/.*job_id="\([0-9]*\)".*/\1/' | sort -n | xargs)"
expect_eq "the left-out jobs are counted" "ebb_recent_jobs_omitted 8" \
    "$(grep '^ebb_recent_jobs_omitted' <<<"$m")"
for q in "${flood[@]}"; do
	[ "$(job_field "$q" state)" = queued ] || [ "$(job_field "$q" state)" = planned ] ||
	    continue
	grep -q "job_id=\"$q\"" <<<"$m" && fail "queued job $q has a series"
done
expect_eq "the name escaped, labels in order" 1 \
    "$(grep -cF "{job_id=\"$bid\",job_name=\"say \\\"hi\\\"\\\\o/\\nbye\",user=\"ebbmx2\",site=\"local\"} " <<<"$m")"
expect_eq "per-job series in all" 4 \
    "$(grep -c '^ebb_recent_job_' <<<"$m")"

# The burner's counter rises while it runs, and never goes down.
e1=$(sample "$m" ebb_recent_job_energy_joules_total "$bid")
sleep 2
scrape
e2=$(sample "$m" ebb_recent_job_energy_joules_total "$bid")
awk -v a="$e1" -v b="$e2" 'BEGIN { exit !(b > a) }' &&
    ok "energy rises while it runs ($e1 J, then $e2 J)" ||
    fail "energy did not rise while it ran: $e1 J, then $e2 J"

as ebbmx2 "$EBB" cancel "$bid" >/dev/null
wait_field "$bid" state cancelled || fail "the burner was not cancelled"
for _ in $(seq 1 20); do
	scrape
	g=$(sample "$m" ebb_recent_job_emissions_grams "$bid")
	[ -n "$g" ] && break
	sleep 0.1
done
awk -v g="$g" 'BEGIN { exit !(g > 0) }' &&
    ok "settled emissions of the ended job: $g g" || fail "no emissions: [$g]"
e3=$(sample "$m" ebb_recent_job_energy_joules_total "$bid")
awk -v a="$e2" -v b="$e3" 'BEGIN { exit !(b >= a) }' &&
    ok "energy counter went on at the end ($e3 J)" ||
    fail "energy counter went down at the end: $e2 J, then $e3 J"
r=$(as ebbmx2 "$EBB" report --format json "$bid" | jq -r '.jobs[0].emissions_g')
awk -v a="$r" -v b="$g" 'BEGIN { d = a - b; exit !(a > 0 && d < 1e-9 * a && -d < 1e-9 * a) }' &&
    ok "its emissions are its ledger's" ||
    fail "emissions $g g at /metrics, $r g in ebb report"
all=$(grep '^ebb_job_energy_joules_total ' <<<"$m" | awk '{print $2}')
awk -v a="$all" -v b="$e3" 'BEGIN { exit !(a >= b) }' &&
    ok "the total counts the job ($all J)" || fail "total $all J < job's $e3 J"

# Past job_linger the ended job gives its place to a running one (ends
# are whole seconds: 3 s after an end at 100.0 is 103, still in).
sleep 4.5
scrape
got=$(ids "$m")
grep -qw "$bid" <<<"$got" && fail "the ended job still has series after job_linger" ||
    ok "the ended job's series are gone after job_linger"
expect_eq "the flooder's jobs take the place" 3 \
    "$(grep -c '^ebb_recent_job_energy_joules_total{.*user="ebbmx1"' <<<"$m")"

as ebbmx1 "$EBB" cancel "${flood[@]}" >/dev/null 2>&1
as ebbmx2 "$EBB" cancel "$other" >/dev/null 2>&1
finish
