#!/bin/bash
# it_slurm_multi: two real Slurm clusters in different zones, planned
# together. A job allowed on both runs now on the cleaner one; one that
# may wait goes to the cluster and minute where the grid will be cleanest,
# pending there with that begin time and absent from the other cluster.
# The run-now job is an ordinary user's: sbatch runs as that user, and so
# does the job; links and FIFOs the user plants in its job directory are
# neither followed nor block ebbd. A user's scancel in Slurm cancels the
# job in ebb.
. "$(dirname "$0")/lib.sh"
start_slurm e 17847
start_slurm w 17857
share_bins
id -u ebbsl1 >/dev/null 2>&1 || useradd -M -N -s /bin/sh ebbsl1
getent group ebbsl >/dev/null || groupadd ebbsl
usermod -a -G ebbsl ebbsl1
home=$T/home; mkdir -p "$home"; chown ebbsl1 "$home"
as_user() { setpriv --reuid=ebbsl1 --regid="$(id -g ebbsl1)" --init-groups \
	env -i PATH=/usr/bin:/bin HOME="$home" EBB_SOCKET="$EBB_SOCKET" "$@"; }
m0=$(( $(date +%s) / 60 ))
green=$(( m0 + 3 ))
minute_trace "$T/east.csv" 500 20 $green
minute_trace "$T/west.csv" 100 100
write_config 1 "socket_group: ebbsl" "slot: 1m" "max_gap: 0s" "planner:" "  safety_margin: 0" \
	"  default_max_delay: 0s"
for s in east:e west:w; do
	slurm_site "${s%:*}" "$(eval echo \$SLURM_CONF_${s#*:})"
	site_trace "${s%:*}" "$T/${s%:*}.csv"
done
EBB_TEST_SECRET=provider-token start_ebbd
sq() { SLURM_CONF=$(eval echo \$SLURM_CONF_$1) squeue -h -t all -o "%i %T %S %k"; }

now_job=$(cd "$home" && as_user "$EBB" submit -q --name now --site east,west \
	--duration 1m -- sh -c 'echo "I am $(id -un)"; sleep 3')
later=$("$EBB" submit -q --name later --site east,west --duration 1m --max-delay 6m -- sleep 1)
for _ in $(seq 1 100); do
	[ "$(job_field "$later" ext_id)" != null ] && [ "$(job_field "$now_job" ext_id)" != null ] && break
	sleep 0.2
done
expect_eq "run-now job goes to the cleaner cluster" west "$(job_field "$now_job" site)"
expect_eq "the job that may wait goes to the green one" east "$(job_field "$later" site)"
expect_eq "at its green minute" $(( green * 60 )) "$(job_field "$later" planned_start)"
expect_eq "east has only the waiting job, pending at that minute" \
	"PENDING $(date -d @$(( green * 60 )) +%Y-%m-%dT%H:%M:%S) :$later" \
	"$(sq e | awk '{ sub(/.*:/, ":", $4); print $2, $3, $4 }')"
expect_eq "west has only the run-now job" ":$now_job" \
	"$(sq w | awk '{ sub(/.*:/, ":", $4); print $4 }')"
# sbatch passes its own environment to the batch script (ebb-run): it
# must hold nothing of ebbd's (hole 3).
sup=
for _ in $(seq 1 300); do
	sup=$(pgrep -n -f "ebb-run $T/shared/west/job-$now_job\$") && break
	[ "$(job_field "$now_job" state)" = succeeded ] && break; sleep 0.1
done
if [ -n "$sup" ]; then
	grep -qz EBB_TEST_SECRET "/proc/$sup/environ" &&
	    fail "ebbd's environment reached the job's batch script" ||
	    ok "nothing of ebbd's environment in the job's batch script"
else
	fail "the job's ebb-run was not seen running"
fi
for _ in $(seq 1 100); do [ "$(job_field "$now_job" state)" = succeeded ] && break; sleep 0.2; done
expect_eq "the run-now job ran on west" succeeded "$(job_field "$now_job" state)"
expect_eq "Slurm has it as the user's" ebbsl1 \
	"$(SLURM_CONF=$SLURM_CONF_w squeue -h -t all -j "$(job_field "$now_job" ext_id)" -o %u)"
expect_eq "it ran as the user" "I am ebbsl1" "$(as_user "$EBB" logs "$now_job")"
expect_eq "its job directory is the user's" ebbsl1 \
	"$(stat -c %U "$T/shared/west/job-$now_job")"
# The job directory is the user's: what they plant there leads nowhere
# they could not go themselves (holes 1 and 2 of issue 10).
jd=$T/shared/west/job-$now_job
as_user sh -c "rm -f '$jd/stdout' && ln -s /etc/shadow '$jd/stdout'"
out=$(as_user "$EBB" logs "$now_job" 2>&1); rc=$?
[ "$rc" != 0 ] && ! echo "$out" | grep -q 'root:' &&
	ok "ebb logs does not follow a link to /etc/shadow" || fail "rc $rc: $out"
as_user sh -c "rm -f '$jd/stdout' && mkfifo '$jd/stdout'"
t0=$(date +%s%N)
as_user "$EBB" logs "$now_job" >/dev/null 2>&1 && fail "a FIFO was served as a log" ||
	ok "a FIFO is not served"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] && ok "and does not block ebbd" ||
	fail "ebb logs on a FIFO took over 5 s"
"$EBB" queue >/dev/null && ok "ebbd answers after both" || fail "ebbd stuck"
# job_submit.lua refuses a malformed request for ebb, naming the key.
out=$(cd "$home" && SLURM_CONF=$SLURM_CONF_e sbatch --comment=ebb:nope=1 --wrap true 2>&1); rc=$?
[ "$rc" != 0 ] && echo "$out" | grep -q "ebb: unknown key 'nope' (known: max-delay, deadline, duration, policy)" &&
	ok "sbatch refuses a bad ebb: comment with a clear message" || fail "rc $rc: $out"
out=$(cd "$home" && SLURM_CONF=$SLURM_CONF_e sbatch --comment=ebb:max-delay=soon --wrap true 2>&1); rc=$?
[ "$rc" != 0 ] && echo "$out" | grep -q "ebb: max-delay: 'soon' is not a duration" &&
	ok "and a bad duration" || fail "rc $rc: $out"

# Users keep scancel: cancelling the Slurm job cancels the ebb job.
SLURM_CONF=$SLURM_CONF_e scancel "$(job_field "$later" ext_id)"
for _ in $(seq 1 50); do [ "$(job_field "$later" state)" = cancelled ] && break; sleep 0.2; done
expect_eq "a scancel in Slurm cancels the ebb job" cancelled "$(job_field "$later" state)"
expect_eq "and says so" "cancelled in Slurm (scancel)" "$(job_field "$later" reason)"
finish
