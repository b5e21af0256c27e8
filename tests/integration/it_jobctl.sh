#!/bin/bash
# it_jobctl: job control and honest reasons in a real daemon. On a 2-cpu
# site whose intensity dips 4 hours from now: a job that may wait shows
# REASON green-window, one that needs both cpus while one is busy shows
# room; hold keeps a job out of every plan until release; update re-plans
# at once and refuses running jobs; start-now runs a job at once where
# there is room, recorded as the user's choice with no saving claimed;
# cancel by --name/--user/--state acts on matching active jobs only and
# refuses an empty request. A second real user can neither see nor touch
# the first one's jobs.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create test users"; exit 77; }
share_bins
test_users ebbjc1 ebbjc2

dip_trace "$T/trace.csv"
write_config 2 "socket_mode: 0666" "planner:" "  default_max_delay: 0s"
site_trace XX "$T/trace.csv"
start_ebbd
wait_provider_ok || fail "the trace provider never answered"
reason() { "$EBB" queue --json | jq -r --argjson id "$1" '.[] | select(.id == $id) | .wait_reason'; }
wait_reason() { # ID REASON
	for _ in $(seq 1 50); do [ "$(reason "$1")" = "$2" ] && return 0; sleep 0.1; done
	return 1
}

# --- reasons
busy=$("$EBB" submit -q --name busy --duration 1h -- sleep 120)
wait_field "$busy" state running 50 || fail "busy job never ran"
green=$("$EBB" submit -q --name green --duration 10m --max-delay 8h -- true)
wide=$("$EBB" submit -q --name wide --cpus 2 --duration 5m -- true)
wait_reason "$green" green-window && ok "a deferred job waits for a green window" ||
	fail "green job's reason: $(reason "$green")"
wait_reason "$wide" room && ok "a job that wants to run now waits for room" ||
	fail "wide job's reason: $(reason "$wide") ($(job_field "$wide" plan_why))"
expect_eq "a running job has no reason" - "$(reason "$busy")"
"$EBB" queue | head -n 1 | grep -q ' REASON ' && ok "ebb queue has a REASON column" ||
	fail "no REASON column: $("$EBB" queue | head -n 1)"
"$EBB" queue | grep -E "^ *$green +green +root +planned +green-window " >/dev/null &&
	ok "the REASON column says green-window" || fail "queue: $("$EBB" queue)"
"$EBB" show "$wide" | grep -q '^waits: *room: waits for room' && ok "ebb show says it waits for room" ||
	fail "show: $("$EBB" show "$wide" | grep waits)"

# --- hold and release
expect_eq "hold" "job $green held" "$("$EBB" hold "$green")"
expect_eq "held job is queued" queued "$(job_field "$green" state)"
expect_eq "held flag" true "$(job_field "$green" held)"
expect_eq "held job has no plan" 0 "$(job_field "$green" planned_start)"
wait_reason "$green" held && ok "REASON held" || fail "held job's reason: $(reason "$green")"
"$EBB" show "$green" | grep -q '^state: *queued (held)$' && ok "ebb show says held" ||
	fail "show: $("$EBB" show "$green" | grep '^state')"
expect_err "hold twice" 1 "ebb hold: job $green: already held" -- "$EBB" hold "$green"
out=$("$EBB" hold --json "$green"); rc=$?
expect_eq "hold --json of a held job: exit 1" 1 "$rc"
expect_eq "hold --json: the refusal as JSON" "$green false job $green: already held" \
	"$(jq -r '.[0] | "\(.id) \(.ok) \(.error)"' <<<"$out")"
expect_err "hold a running job" 1 "ebb hold: job $busy: running since $(date -u -d @"$(job_field "$busy" start_time)" +%Y-%m-%dT%H:%M:%SZ): cannot hold it" -- "$EBB" hold "$busy"
sleep 1.5	# passes come and go: a held job stays out of them
expect_eq "still held after planning passes" "queued 0" \
	"$(job_field "$green" state) $(job_field "$green" planned_start)"
stop_ebbd || fail "ebbd did not stop cleanly"
start_ebbd
sleep 1
expect_eq "still held after a restart" "queued true held" \
	"$(job_field "$green" state) $(job_field "$green" held) $(reason "$green")"
expect_eq "release" "job $green released" "$("$EBB" release "$green")"
wait_field "$green" state planned 50 && ok "released job is planned again" ||
	fail "released job is $(job_field "$green" state)"
expect_eq "released job's reason" green-window "$(reason "$green")"
"$EBB" show --json "$green" | jq -r '.events[].reason' | grep -q '^held by root$' &&
	ok "the hold is in the job's history" || fail "no hold event"

# --- update
upd=$("$EBB" submit -q --name upd --duration 10m --max-delay 8h -- true)
wait_reason "$upd" green-window || fail "upd job's reason: $(reason "$upd")"
out=$("$EBB" update "$upd" --max-delay 30m) && ok "update: $out" || fail "update failed: $out"
expect_eq "max_delay changed" 1800 "$(job_field "$upd" max_delay)"
# The dip is 4 h away: within 30 min nothing is cleaner, so it runs now.
wait_field "$upd" state succeeded 50 && ok "re-planned at once: ran within its new max-delay" ||
	fail "updated job is $(job_field "$upd" state), planned at $(job_field "$upd" planned_start)"
"$EBB" show --json "$upd" | jq -r '.events[].reason' | grep -q '^updated by root: max_delay 30m$' &&
	ok "the update is in the job's history" || fail "no update event"
"$EBB" update "$green" --duration 20m >/dev/null || fail "update --duration"
expect_eq "duration changed" "1200 user" "$(job_field "$green" duration) $(job_field "$green" duration_source)"
wait_reason "$green" green-window && ok "still waiting for the green window" ||
	fail "reason after update: $(reason "$green")"
expect_err "update a running job" 1 "ebb update: job $busy: running since $(date -u -d @"$(job_field "$busy" start_time)" +%Y-%m-%dT%H:%M:%SZ): cannot update it" -- "$EBB" update "$busy" --duration 2h
expect_err "update an ended job" 1 "ebb update: job $upd: already succeeded: cannot update it" -- "$EBB" update "$upd" --duration 2h
expect_err "a deadline in the past" 2 "ebb update: deadline: 2001-01-01T00:00:00Z is not in the future" -- "$EBB" update "$green" --deadline 2001-01-01T00:00:00Z
out=$("$EBB" update "$green" --deadline now+10m 2>&1); rc=$?
expect_eq "a deadline too soon for the duration, as at submit: exit 2" 2 "$rc"
echo "$out" | grep -q "is too soon for a duration of 20m" && ok "and says so" ||
	fail "too-soon deadline: $out"
n0=$("$EBB" show --json "$green" | jq '.events | length')
"$EBB" update "$green" --duration 20m >/dev/null || fail "update to the same duration"
expect_eq "an update that changes nothing writes no history" "$n0" \
	"$("$EBB" show --json "$green" | jq '.events | length')"

# --- start-now
expect_err "start-now without room" 1 "ebb start-now: job $wide: no site it may run on has room for it now (its cpus and memory are taken, or planned for other jobs); it stays planned" -- "$EBB" start-now "$wide"
expect_eq "start-now" "job $green started now" "$("$EBB" start-now "$green")"
wait_field "$green" state succeeded 50 && ok "started at once and ran" ||
	fail "start-now job is $(job_field "$green" state)"
expect_eq "recorded as the user's choice" true "$(job_field "$green" start_now)"
"$EBB" show "$green" | grep -q '^plan: *started at once on its user.s request (ebb start-now)' &&
	ok "ebb show says it was started now by its user" || fail "show: $("$EBB" show "$green" | grep '^plan')"
"$EBB" show --json "$green" | jq -r '.events[].reason' | grep -q 'started at once by root (ebb start-now)' &&
	ok "start-now in the job's history" || fail "no start-now event"
for _ in $(seq 1 50); do
	row=$("$EBB" report --format json "$green" | jq -c '.jobs[0]')
	[ "$(echo "$row" | jq -r .emissions_g)" != null ] && break; sleep 0.2
done
expect_eq "report: no saving claimed for it" "null start-now" \
	"$(echo "$row" | jq -r '"\(.saving_g) \(.choice)"')"
expect_err "start-now of an ended job" 1 "ebb start-now: job $green: already succeeded: cannot start it now" -- "$EBB" start-now "$green"

# --- another user's jobs
mine=$(as ebbjc1 "$EBB" submit -q --name mine --duration 10m --max-delay 8h --workdir /tmp -- true)
[ -n "$mine" ] && ok "user ebbjc1 submitted job $mine" || fail "ebbjc1 cannot submit"
for c in hold release start-now cancel; do
	expect_err "ebbjc2 cannot $c ebbjc1's job" 1 "ebb $c: job $mine: no such job" -- as ebbjc2 "$EBB" $c "$mine"
done
expect_err "ebbjc2 cannot update ebbjc1's job" 1 "ebb update: job $mine: no such job" -- as ebbjc2 "$EBB" update "$mine" --max-delay 1h
expect_err "ebbjc2's cancel --user ebbjc1 matches nothing" 1 "ebb cancel: no active job that you may cancel matches" -- as ebbjc2 "$EBB" cancel --user ebbjc1
expect_err "ebbjc2's cancel --name mine matches nothing" 1 "ebb cancel: no active job that you may cancel matches" -- as ebbjc2 "$EBB" cancel --name mine
expect_eq "ebbjc1's job untouched" "planned false 28800" \
	"$(job_field "$mine" state) $(job_field "$mine" held) $(job_field "$mine" max_delay)"
expect_eq "its owner holds it" "job $mine held" "$(as ebbjc1 "$EBB" hold "$mine")"
expect_eq "its owner releases it" "job $mine released" "$(as ebbjc1 "$EBB" release "$mine")"
as ebbjc2 "$EBB" queue --all --json | jq -e --argjson id "$mine" 'any(.id == $id) | not' >/dev/null &&
	ok "ebbjc2 does not see it in ebb queue" || fail "ebbjc2 sees ebbjc1's job"

# --- cancel filters
expect_err "cancel without ids or filter" 2 "ebb cancel: give the ids of the jobs to cancel, or --name, --user or --state (nothing is cancelled without one)" -- "$EBB" cancel
expect_err "a filter that matches nothing" 1 "ebb cancel: no active job that you may cancel matches" -- "$EBB" cancel --name no-such-name
a1=$("$EBB" submit -q --name batch-a --duration 10m --max-delay 8h -- true)
a2=$("$EBB" submit -q --name batch-a --duration 10m --max-delay 8h -- true)
b1=$("$EBB" submit -q --name batch-b --duration 10m --max-delay 8h -- true)
wait_field "$b1" state planned 50
expect_err "ids that do not match the filter" 1 "ebb cancel: none of these jobs is active and matches" -- "$EBB" cancel --name batch-a "$b1"
expect_eq "cancel --name" "job $a1 cancelled
job $a2 cancelled" "$("$EBB" cancel --name batch-a)"
expect_eq "the others are left" "planned planned running" \
	"$(job_field "$b1" state) $(job_field "$mine" state) $(job_field "$busy" state)"
expect_eq "cancel --user --state --json" "$mine true" \
	"$("$EBB" cancel --json --user ebbjc1 --state planned | jq -r '.[] | "\(.id) \(.ok)"')"
expect_eq "cancel --state running" "job $busy is running: stopping it" "$("$EBB" cancel --state running)"
wait_field "$busy" state cancelled 50 && ok "the running job was cancelled" || fail "busy is $(job_field "$busy" state)"
expect_eq "batch-b still planned" planned "$(job_field "$b1" state)"
finish
