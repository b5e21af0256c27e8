#!/bin/bash
# it_submit_plan: when a submitted job may start, in a real daemon.
# --begin: a job is not started before its begin (on a 1-minute planning
# grid it starts in the first slot at or after it), and a max delay counts
# from the begin: with it the job reaches the site's dip, without it not.
# --gpus: on a site with one GPU (and cpus to spare) two GPU jobs run one
# after the other.
# --dry-run: the plan a job would get, the same as its submit then gets,
# and nothing queued (the job ids go on as if it had not been asked), for
# root and for an ordinary user.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create a test user"; exit 77; }
share_bins
id -u ebbsp1 >/dev/null 2>&1 || useradd -M -N -s /bin/sh ebbsp1
getent group ebbsp >/dev/null || groupadd ebbsp
usermod -a -G ebbsp ebbsp1
as1() { (cd / && setpriv --reuid=ebbsp1 --regid="$(id -g ebbsp1)" --init-groups \
	env -i PATH=/usr/bin:/bin EBB_SOCKET="$SOCK" "$@"); }
dip_trace "$T/trace.csv"
now=$DIP_NOW
write_config 2 "socket_group: ebbsp" "slot: 1m" "planner:" "  default_max_delay: 0s"
echo "    gpus: 1" >> "$CONF"
site_trace XX "$T/trace.csv"
start_ebbd
wait_provider_ok
dipstart=$(( now / 3600 * 3600 + 4 * 3600 ))

# A dry run: where, when, how much, and the saving; nothing queued.
first=$("$EBB" submit -q --name first -- true)
wait_field "$first" state succeeded 50
out=$("$EBB" submit --dry-run --name flex --duration 30m --max-delay 12h -- true)
echo "$out" | grep -qE '^would start on local at .* \(green\)$' &&
	echo "$out" | grep -qE '^expected: .* gCO2e \(starting now at its first site: .*, saving .*%\)$' &&
	echo "$out" | grep -qx 'estimate: 30m (user)' &&
	echo "$out" | grep -qx 'dry run: nothing was queued' &&
	ok "ebb submit --dry-run prints the plan" || fail "dry run printed: $out"
dry=$("$EBB" submit --dry-run --json --name flex --duration 30m --max-delay 12h -- true)
expect_eq "--json: a dry run's reply" "true green local null" \
	"$(echo "$dry" | jq -r '"\(.dry_run) \(.job.plan_why) \(.job.site) \(.job.id)"')"
dps=$(echo "$dry" | jq -r .job.planned_start)
[ "$dps" -ge "$dipstart" ] && [ "$dps" -lt $(( dipstart + 1800 )) ] &&
	ok "the dry run's plan is in the dip" ||
	fail "dry run planned at $(date -u -d @"$dps" +%H:%M), dip at $(date -u -d @$dipstart +%H:%M)"
echo "$dry" | jq -e '.job.expected_g > 0 and .job.now_g > 3 * .job.expected_g' >/dev/null &&
	ok "expected and now emissions" || fail "dry run: $dry"
expect_eq "a dry run queues nothing" 0 "$("$EBB" queue --json | jq length)"
flex=$("$EBB" submit -q --name flex --duration 30m --max-delay 12h -- true)
expect_eq "the job ids go on as if there had been no dry run" $((first + 1)) "$flex"
wait_field "$flex" state planned 50
expect_eq "the submit gets the plan the dry run showed" "$dps" "$(job_field "$flex" planned_start)"
# Beside the planned job, in the room its plan leaves: the same plan.
out=$("$EBB" submit --dry-run --json --name flex --duration 30m --max-delay 12h -- true)
expect_eq "again, beside the planned job" "$dps" "$(echo "$out" | jq -r .job.planned_start)"
# An interruptible job is planned by a pass over the whole queue.
out=$("$EBB" submit --dry-run --json --interruptible --duration 30m --max-delay 12h -- true)
expect_eq "an interruptible one (a pass over the queue)" "green $dps" \
	"$(echo "$out" | jq -r '"\(.job.plan_why) \(.job.planned_start)"')"
expect_eq "still nothing queued but the real job" "$flex" "$("$EBB" queue --json | jq -r '[.[].id] | join(" ")')"
"$EBB" cancel "$flex" >/dev/null
expect_eq "a job without limits: at once" "would start now on local (run-now)" \
	"$("$EBB" submit --dry-run -- true | head -n 1)"
# An ordinary user's dry run is theirs and queues nothing either.
out=$(as1 "$EBB" submit --dry-run --json -- /bin/true)
expect_eq "a user's dry run" "ebbsp1 run-now" "$(echo "$out" | jq -r '"\(.job.user) \(.job.plan_why)"')"
expect_eq "nothing queued for the user" 0 "$("$EBB" queue --all --json | jq '[.[] | select(.user == "ebbsp1")] | length')"
expect_err "a dry run is checked like a submit" 2 "ebb submit: sites: unknown site 'mars'" \
	-- as1 "$EBB" submit --dry-run --site mars -- /bin/true

sub=$(date +%s)
later=$("$EBB" submit -q --name later --begin now+40s -- true)
begin=$(job_field "$later" begin)
[ "$begin" -ge $((sub + 40)) ] && [ "$begin" -le $((sub + 42)) ] &&
	ok "begin stored ($((begin - sub)) s after submit)" ||
	fail "begin $begin, submitted at $sub"
wait_field "$later" state planned 50 && ok "a job with a begin is planned" ||
	fail "later is $(job_field "$later" state)"
ps=$(job_field "$later" planned_start)
[ "$ps" -ge "$begin" ] && [ "$ps" -lt $((begin + 60)) ] &&
	ok "planned at its begin's slot (+$((ps - begin)) s)" ||
	fail "planned at $ps, begin $begin"
"$EBB" show "$later" | grep -q '^begin: ' && ok "ebb show prints begin" ||
	fail "ebb show: $("$EBB" show "$later")"
# A job without one, submitted after it, runs at once.
quick=$("$EBB" submit -q --name quick -- true)
wait_field "$quick" state succeeded 50 && ok "a job without a begin runs at once" ||
	fail "quick is $(job_field "$quick" state)"
# Until a moment before its begin it has not started.
while [ "$(date +%s)" -lt $((begin - 2)) ]; do
	st=$(job_field "$later" state)
	[ "$st" = planned ] || break
	sleep 1
done
expect_eq "still waiting 2 s before its begin" planned "$(job_field "$later" state)"
wait_field "$later" state succeeded $(( (ps - $(date +%s) + 20) * 5 )) &&
	ok "it ran once its begin came" || fail "later is $(job_field "$later" state)"
st=$(job_field "$later" start_time)
[ "$st" -ge "$begin" ] && ok "started at $((st - begin)) s past its begin" ||
	fail "started at $st, before its begin $begin"

# The dip comes 4 h from now. A 30-minute job that may start 2 h after a
# begin 3 h from now waits for it; 2 h after its submit it could not.
flex=$("$EBB" submit -q --name flex --duration 30m --begin now+3h --max-delay 2h -- true)
wait_field "$flex" state planned 50
ps=$(job_field "$flex" planned_start)
[ "$ps" -ge "$dipstart" ] && [ "$ps" -lt $(( dipstart + 1800 )) ] &&
	ok "max delay counted from begin: planned into the dip" ||
	fail "planned at $(date -u -d @"$ps" +%H:%M), dip at $(date -u -d @$dipstart +%H:%M)"
expect_eq "why" green "$(job_field "$flex" plan_why)"
early=$("$EBB" submit -q --name early --duration 30m --max-delay 2h -- true)
wait_field "$early" state planned 50
ps=$(job_field "$early" planned_start)
[ "$ps" -lt "$dipstart" ] && ok "without a begin it starts before the dip" ||
	fail "planned at $(date -u -d @"$ps" +%H:%M) without a begin"
# A begin further ahead than any plan reaches (7 days) waits queued; a
# restart keeps begins and plans.
"$EBB" submit --dry-run --begin now+8d -- true | grep -q '^would wait queued: its begin (.*) is further ahead than plans reach' &&
	ok "a dry run says so" || fail "dry run: $("$EBB" submit --dry-run --begin now+8d -- true)"
far=$("$EBB" submit -q --name far --begin now+8d -- true)
sleep 1
expect_eq "a begin past the furthest plan: queued" queued "$(job_field "$far" state)"
before="$(job_field "$flex" begin) $(job_field "$flex" planned_start) $(job_field "$far" begin)"
stop_ebbd; start_ebbd
expect_eq "begins and plan kept across a restart" "$before" \
	"$(job_field "$flex" begin) $(job_field "$flex" planned_start) $(job_field "$far" begin)"
"$EBB" cancel "$flex" "$early" "$far" >/dev/null

# Two 1-GPU jobs on the site's one GPU: the second starts once the first
# has ended, though cpus are free.
g1=$("$EBB" submit -q --name g1 --gpus 1 --duration 5s -- sleep 2)
g2=$("$EBB" submit -q --name g2 --gpus 1 --duration 5s -- sleep 2)
wait_field "$g2" state succeeded 100 && wait_field "$g1" state succeeded 10 &&
	ok "both GPU jobs ran" || fail "g1 $(job_field "$g1" state), g2 $(job_field "$g2" state)"
[ "$(job_field "$g2" start_time)" -ge "$(job_field "$g1" end_time)" ] &&
	ok "one after the other on the one GPU" ||
	fail "g2 started at $(job_field "$g2" start_time), g1 ended at $(job_field "$g1" end_time)"
expect_eq "ebb show prints gpus" "gpus: 1" "$("$EBB" show "$g1" | grep '^gpus:' | tr -s ' ')"

# Bad begins: the daemon's words, exit 2.
dl=$(( $(date +%s) / 60 * 60 + 7200 ))
fmt() { date -u -d @"$1" +%Y-%m-%dT%H:%M:%SZ; }
expect_err "a begin after the deadline allows" 2 \
	"ebb submit: begin: $(fmt $((dl - 600))) is after the latest start the deadline $(fmt $dl) allows for a duration of 20m" -- \
	"$EBB" submit --begin "$(fmt $((dl - 600)))" --deadline "$(fmt $dl)" --duration 20m -- true
expect_err "more GPUs than the site has" 2 \
	"ebb submit: gpus: 2 is more than any allowed site has (1)" -- \
	"$EBB" submit --gpus 2 -- true
expect_err "a begin too far ahead" 2 \
	"ebb submit: begin: 2099-01-01T00:00:00Z is more than 366d ahead" -- \
	"$EBB" submit --begin 2099-01-01T00:00:00Z -- true
finish
