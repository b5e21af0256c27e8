#!/bin/bash
# it_interrupt: an interruptible job under a plan that alternates. With a
# 1-minute grid and intensity that is low in even minutes and high in odd
# ones, ebbd runs the job only in even minutes: it is frozen in its cgroup
# (no CPU at all) in between, and still ends by its deadline.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for cgroups"; exit 77; }
[ -d /sys/fs/cgroup/freezer ] || { echo "SKIP: no cgroup v1 freezer"; exit 77; }

now=$(date +%s)
# Two days of per-minute history: 100 g/kWh in even minutes, 600 in odd.
(
	export TZ=UTC
	echo "time,intensity"
	for ((t = now - now % 60 - 2 * 86400; t <= now; t += 60)); do
		printf '%(%Y-%m-%d %H:%M:%S)T,%d\n' "$t" \
		    $(( (t / 60) % 2 == 0 ? 100 : 600 ))
	done
) > "$T/trace.csv"
write_config 1 "slot: 1m" "max_gap: 0s" "planner:" "  min_chunk: 1m" \
	"  safety_margin: 0" "  replan: 1m"
site_trace XX "$T/trace.csv" "min_refresh: 1m"
start_ebbd
for _ in $(seq 1 50); do
	[ "$("$EBB" sites --json | jq -r '.sites[0].providers[0].status')" = ok ] && break
	sleep 0.1
done

# 90 s of work, logged every second of wall-clock time it runs.
log=$T/ticks; : > "$log"; chmod 666 "$log"
id=$("$EBB" submit -q --name alternate --interruptible --duration 90s \
	--deadline now+8m -- sh -c "for i in \$(seq 90); do date +%s >> $log; sleep 1; done")
for _ in $(seq 1 500); do
	case "$(job_field "$id" state)" in succeeded|failed|cancelled) break;; esac
	sleep 1
done
expect_eq "the job finished" succeeded "$(job_field "$id" state)"
end=$(job_field "$id" end_time); deadline=$(job_field "$id" deadline)
[ "$end" -le "$deadline" ] && ok "by its deadline" || fail "ended after its deadline"
odd=$(awk '{ m[int($1 / 60)]++ } END { for (k in m) if (k % 2 == 1 && m[k] > 3) n++; print n + 0 }' "$log")
even=$(awk '{ m[int($1 / 60)]++ } END { for (k in m) if (k % 2 == 0 && m[k] > 3) n++; print n + 0 }' "$log")
[ "$even" -ge 2 ] && ok "ran in $even cheap (even) minutes" || fail "ran in $even even minutes"
expect_eq "did not run in an expensive (odd) minute" 0 "$odd"
grep -q "job $id frozen" "$LOG" && grep -q "job $id thawed" "$LOG" &&
	ok "frozen and thawed by plan" || fail "no freeze/thaw in the log"
paused=$(jq -r .paused_ms "$STATE/jobs/$id/result.json")
[ "$paused" -ge 50000 ] && ok "spent ${paused} ms frozen" || fail "paused_ms ${paused}"
finish
