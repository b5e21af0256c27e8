#!/bin/bash
# it_durability: an acknowledged submit survives kill -9 of ebbd and runs
# exactly once; jobs running while ebbd is killed finish, are recorded once,
# and leave no cgroup behind.
. "$(dirname "$0")/lib.sh"

write_config 1
start_ebbd
marker=$T/marker

# 1. kill -9 right after the acknowledgement (capacity free: the launch may
#    or may not have happened when the daemon dies).
id=$("$EBB" submit -q -- sh -c "echo once >> $marker")
kill9_ebbd
start_ebbd
wait_final 30
expect_eq "job $id survived kill -9 and ran once" 1 "$(grep -c once "$marker")"
expect_eq "job $id state" succeeded "$(job_field "$id" state)" ||
	{ "$EBB" show "$id"; grep -E "job $id[^0-9]" "$LOG"; }

# 2. queued behind a running blocker when ebbd dies: the blocker's supervisor
#    lives on, the restarted ebbd re-adopts it, then runs the queued job once.
: > "$marker"
blocker=$("$EBB" submit -q -- sleep 2)
for _ in $(seq 1 50); do
	[ "$(job_field "$blocker" state)" = running ] && break; sleep 0.1
done
id=$("$EBB" submit -q -- sh -c "echo twice >> $marker")
st=$(job_field "$id" state)
[ "$st" = queued ] || [ "$st" = planned ] && ok "job $id waits for capacity ($st)" ||
	fail "job $id is $st while the only cpu is busy"
kill9_ebbd
sleep 0.5
start_ebbd
wait_final 30
expect_eq "queued job ran exactly once after restart" 1 "$(grep -c twice "$marker")"
expect_eq "blocker re-adopted and recorded" "succeeded" "$(job_field "$blocker" state)"

# 3. kill -9 while several jobs run; some end while ebbd is down.
stop_ebbd
write_config 2
start_ebbd
ids=()
for d in 1 1 3 3; do ids+=("$("$EBB" submit -q -- sh -c "sleep $d; echo done-$d")"); done
for _ in $(seq 1 50); do
	[ "$("$EBB" queue --json | jq '[.[] | select(.state == "running")] | length')" = 2 ] && break
	sleep 0.1
done
kill9_ebbd
sleep 1.5		# the two 1 s jobs end while no daemon runs
start_ebbd
wait_final 60
for id in "${ids[@]}"; do
	expect_eq "job $id finished after the crash" succeeded "$(job_field "$id" state)"
	n=$("$EBB" show --json "$id" | jq '[.events[] | select(.to == "succeeded")] | length')
	expect_eq "job $id result recorded once" 1 "$n"
	n=$("$EBB" show --json "$id" | jq '[.events[] | select(.to == "running")] | length')
	expect_eq "job $id started once" 1 "$n"
done
left=
for id in "${ids[@]}"; do
	cg=$(jq -r .cgroup "$STATE/jobs/$id/spec.json")
	for h in /sys/fs/cgroup/*/; do [ -d "$h$cg" ] && left="$left $h$cg"; done
done
expect_eq "no cgroup left behind" "" "$left"
finish
