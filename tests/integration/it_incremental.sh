#!/bin/bash
# it_incremental: a submit or a cancel re-plans only what it affects
# (issue 11 item 6). After a first pass, jobs submitted one by one are
# planned in the room the last plan left, each without a planning pass
# (ebbd's debug log), into the same green hour a pass gives them; a
# cancel while no job waits for room asks for no pass either; a job that
# would be late gets a full pass, which moves none of the others.
. "$(dirname "$0")/lib.sh"

dip_trace "$T/trace.csv"
write_config 16 "planner:" "  default_max_delay: 0s"
site_trace XX "$T/trace.csv"
start_ebbd
wait_provider_ok

wait_planned() { # ID
	for _ in $(seq 1 100); do
		[ "$(job_field "$1" state)" = planned ] && return 0; sleep 0.05
	done
	return 1
}
passes() { grep -c 'planning pass:' "$LOG"; }
fresh() { grep -c 'new jobs planned without a pass' "$LOG"; }

first=$("$EBB" submit -q --name flex --duration 30m --max-delay 12h -- true)
wait_planned "$first" || fail "first job is $(job_field "$first" state)"
start=$(job_field "$first" planned_start)
p0=$(passes)
ids=
for i in $(seq 1 10); do
	id=$("$EBB" submit -q --name flex --duration 30m --max-delay 12h -- true)
	wait_planned "$id" || fail "job $id is $(job_field "$id" state)"
	ids="$ids $id"
done
expect_eq "no planning pass for 10 submits" "$p0" "$(passes)"
expect_eq "10 new jobs planned without a pass" 10 "$(fresh)"
same=0
for id in $ids; do
	[ "$(job_field "$id" planned_start)" = "$start" ] &&
	    [ "$(job_field "$id" plan_why)" = green ] && same=$((same + 1))
done
expect_eq "each planned green into the dip like the first" 10 "$same"

set -- $ids
for id in "$1" "$2" "$3"; do
	"$EBB" cancel "$id" >/dev/null || fail "cancel $id"
done
sleep 0.5
expect_eq "no planning pass for 3 cancels (no job waits for room)" "$p0" \
    "$(passes)"

# A blocker on every cpu for 10 minutes starts at once (planned without
# a pass too); then a job that cannot meet its deadline behind it: the
# whole queue is planned again (least slack first), and the others keep
# their plans.
blocker=$("$EBB" submit -q --name blocker --cpus 16 --duration 10m \
    --max-delay 0s -- sleep 60)
for _ in $(seq 1 100); do
	[ "$(job_field "$blocker" state)" = running ] && break; sleep 0.05
done
expect_eq "the blocker runs" running "$(job_field "$blocker" state)"
expect_eq "still no planning pass" "$p0" "$(passes)"
late=$("$EBB" submit -q --name late --duration 5m --deadline now+9m -- true)
for _ in $(seq 1 100); do [ "$(passes)" -gt "$p0" ] && break; sleep 0.05; done
[ "$(passes)" -gt "$p0" ] && ok "a late newcomer gets a full pass" ||
	fail "no pass for a late newcomer"
expect_eq "it is late" late "$(job_field "$late" plan_why)"
moved=0
for id in $first $4 $5 $6 $7 $8 $9 ${10}; do
	[ "$(job_field "$id" planned_start)" = "$start" ] || moved=$((moved + 1))
done
expect_eq "the full pass moved none of the planned jobs" 0 "$moved"
"$EBB" cancel "$late" >/dev/null 2>&1
"$EBB" cancel "$blocker" >/dev/null 2>&1
finish
