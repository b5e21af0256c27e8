#!/bin/bash
# it_plan: carbon-aware planning in a real daemon. The site's history has
# a deep daily dip; a job that may wait is planned into the dip with its
# expected saving, one that may not runs at once, and `ebb show` explains
# both. Once the site is loaded, jobs that may wait leave room (reserve).
. "$(dirname "$0")/lib.sh"

dip_trace "$T/trace.csv"
dip=$DIP now=$DIP_NOW
write_config 2 "planner:" "  default_max_delay: 0s"
site_trace XX "$T/trace.csv"
start_ebbd
wait_provider_ok

wait_ebb_state() { # ID STATE
	for _ in $(seq 1 100); do [ "$(job_field "$1" state)" = "$2" ] && return 0; sleep 0.1; done
	return 1
}

flex=$("$EBB" submit -q --name flex --duration 30m --max-delay 12h -- true)
wait_ebb_state "$flex" planned && ok "a job that may wait is planned" ||
	fail "flex job is $(job_field "$flex" state)"
start=$(job_field "$flex" planned_start)
dipstart=$(( now / 3600 * 3600 + 4 * 3600 ))
[ "$start" -ge "$dipstart" ] && [ "$start" -lt $(( dipstart + 1800 )) ] &&
	ok "planned into the dip ($(date -u -d @$start +%H:%M))" ||
	fail "planned at $(date -u -d @$start +%H:%M), dip starts $(date -u -d @$dipstart +%H:%M)"
expect_eq "why" green "$(job_field "$flex" plan_why)"
expect_eq "estimate given by the user" user "$(job_field "$flex" duration_source)"
exp=$(job_field "$flex" expected_g); nowg=$(job_field "$flex" now_g)
awk -v e="$exp" -v n="$nowg" 'BEGIN { exit !(e > 0 && n > 3 * e) }' &&
	ok "expected ${exp} g vs ${nowg} g now" || fail "expected ${exp} g, now ${nowg} g"
"$EBB" show "$flex" | grep -qE '^expected: .*saving' && ok "ebb show explains the plan" ||
	fail "ebb show has no plan"
"$EBB" queue | grep -E "^ *$flex .*planned +green-window +local" >/dev/null &&
	ok "ebb queue shows the state, why it waits, the site and start" || fail "queue: $("$EBB" queue)"

now_job=$("$EBB" submit -q --name quick -- true)
wait_final_one() { for _ in $(seq 1 100); do
	case "$(job_field "$1" state)" in succeeded|failed) return 0;; esac; sleep 0.1; done; return 1; }
wait_final_one "$now_job" && ok "a job with no limits runs at once" || fail "quick job did not run"
expect_eq "its reason" run-now "$(job_field "$now_job" plan_why)"
expect_eq "no estimate: the default" default "$(job_field "$now_job" duration_source)"
# Three runs of a name give the next one an estimate from history.
for i in 1 2 3; do id=$("$EBB" submit -q --name again -- sleep 1); wait_final_one "$id"; done
id=$("$EBB" submit -q --name again -- true); wait_final_one "$id"
expect_eq "estimate from history" history "$(job_field "$id" duration_source)"
d=$(job_field "$id" duration)
[ "$d" -ge 1 ] && [ "$d" -le 3 ] && ok "estimated ${d} s from runs of 1 s" || fail "estimate ${d} s"

tight=$("$EBB" submit -q --name tight --duration 20m --deadline now+25m -- true)
wait_final_one "$tight" && ok "a job without slack runs at once" || fail "tight job waits"

# A restart keeps the plan; cancel removes it.
stop_ebbd; start_ebbd
expect_eq "plan kept across a restart" "planned $start" \
	"$(job_field "$flex" state) $(job_field "$flex" planned_start)"
"$EBB" cancel "$flex" >/dev/null
expect_eq "cancelled planned job" cancelled "$(job_field "$flex" state)"

# The reserve follows the site's load (reserve: auto, docs/ebbd.8.md):
# on this idle 2-cpu site a 2-cpu job that may wait goes into the dip.
# Once 2 cpu-days have been submitted here (a load of 1, whatever became
# of that job), a job waiting for greener hours must leave 0.9 of the
# site free: a 2-cpu one finds no such window and runs at once. After a
# restart ebbd counts the same load from its store.
big=$("$EBB" submit -q --name big --cpus 2 --duration 30m --max-delay 12h -- true)
wait_ebb_state "$big" planned
expect_eq "idle site: a 2-cpu job waits for the dip" green "$(job_field "$big" plan_why)"
"$EBB" cancel "$big" >/dev/null
load=$("$EBB" submit -q --name load --cpus 2 --duration 1d --max-delay 12h -- true)
wait_ebb_state "$load" planned
"$EBB" cancel "$load" >/dev/null
big=$("$EBB" submit -q --name big --cpus 2 --duration 30m --max-delay 12h -- true)
wait_final_one "$big"
expect_eq "loaded site: it runs at once" run-now "$(job_field "$big" plan_why)"
stop_ebbd; start_ebbd
big=$("$EBB" submit -q --name big --cpus 2 --duration 30m --max-delay 12h -- true)
wait_final_one "$big"
expect_eq "after a restart too" run-now "$(job_field "$big" plan_why)"
finish
