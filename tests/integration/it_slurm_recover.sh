#!/bin/bash
# it_slurm_recover: no duplicates, no losses. slurmctld is stopped while a
# job is submitted through ebb: ebb keeps it and retries, and after the
# restart the job is in Slurm once and runs. ebbd is killed (-9) right
# after sbatch succeeded and before it could record the Slurm id (an sbatch
# wrapper in slurm.bin_dir does it): the restarted ebbd finds the job by
# its tag instead of submitting it again. A running Slurm job cancelled
# through ebb stops (scancel, ebb-run's SIGTERM) and is recorded so.
. "$(dirname "$0")/lib.sh"
start_slurm r 17837
share_bins
export SLURM_CONF=$SLURM_CONF_r

# The real commands, and an sbatch that kills ebbd once when told to.
mkdir -p "$T/slurmbin"
for c in squeue scontrol scancel sacct; do ln -s "$(command -v $c)" "$T/slurmbin/$c"; done
cat > "$T/slurmbin/sbatch" <<EOF
#!/bin/sh
$(command -v sbatch) "\$@"; rc=\$?
if [ -e "$T/crash" ]; then rm -f "$T/crash"; kill -9 "\$(cat "$T/ebbd.pid")"; fi
exit \$rc
EOF
chmod 755 "$T/slurmbin/sbatch"

write_config 1 "planner:" "  default_max_delay: 0s"
slurm_site hpc "$SLURM_CONF_r" "bin_dir: $T/slurmbin"
start_ebbd
echo "$EBBD_PID" > "$T/ebbd.pid"

tagged() { # JOB: how many Slurm jobs carry ebb job JOB's tag
	squeue -h -t all -o %k | grep -c ":$1\$"
}
wait_state() { # ID STATE TRIES
	for _ in $(seq 1 "$3"); do [ "$(job_field "$1" state)" = "$2" ] && return 0; sleep 0.5; done
	return 1
}
ctld_pid=$(cat "$SLURM_DIR_r/run/slurmctld.pid")

# 1. slurmctld down while the job is submitted.
kill -TERM "$ctld_pid"
for _ in $(seq 1 100); do kill -0 "$ctld_pid" 2>/dev/null || break; sleep 0.1; done
a=$("$EBB" submit -q --name during-outage --site hpc -- sh -c 'sleep 2')
[ -n "$a" ] && ok "ebb accepts the job while slurmctld is down" || fail "submit failed"
sleep 12	# sbatch gives up after 9 s here: ebbd must retry
expect_eq "still queued in ebb" planned "$(job_field "$a" state)"
st=$("$EBB" sites --json | jq -c '.sites[] | select(.name == "hpc") | .backend_status')
expect_eq "ebb sites says Slurm is failing" failing "$(echo "$st" | jq -r .state)"
echo "$st" | jq -r .error | grep -q "^squeue: .*Unable to contact slurm controller" &&
	ok "and why" || fail "backend_status: $st"
"$EBB" sites | grep -q "^hpc .* slurm (failing) " && ok "in the table too" ||
	fail "sites: $("$EBB" sites)"
expect_eq "no Slurm id yet" null "$(job_field "$a" ext_id)"
slurmctld -f "$SLURM_CONF" >/dev/null 2>&1
wait_state "$a" succeeded 120 && ok "ran after slurmctld came back" ||
	fail "job is $(job_field "$a" state)"
expect_eq "in Slurm once" 1 "$(tagged "$a")"
expect_eq "ebb sites says Slurm answers again" ok \
	"$("$EBB" sites --json | jq -r '.sites[] | select(.name == "hpc") | .backend_status.state')"
grep -q "job $a: sbatch: .*Unable to contact slurm controller.*; retry" "$LOG" &&
	ok "ebbd retried sbatch" || fail "no retry in the log"

# 2. ebbd killed between sbatch and recording the Slurm id.
touch "$T/crash"
b=$("$EBB" submit -q --name crash --site hpc -- sh -c 'sleep 2')
for _ in $(seq 1 100); do kill -0 "$EBBD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EBBD_PID" 2>/dev/null && fail "ebbd was not killed" || ok "ebbd killed right after sbatch"
wait "$EBBD_PID" 2>/dev/null; EBBD_PID=
[ -e "$T/crash" ] && fail "the wrapper did not run"
expect_eq "Slurm has the job" 1 "$(tagged "$b")"
start_ebbd
wait_state "$b" succeeded 120 && ok "the job ran" || fail "job is $(job_field "$b" state)"
expect_eq "still in Slurm once: found by its tag, not resubmitted" 1 "$(tagged "$b")"
expect_eq "ebb recorded the Slurm id it found" \
	"$(squeue -h -t all -o '%i %k' | awk -v t=":$b" 'substr($2, length($2) - length(t) + 1) == t { print $1 }')" \
	"$(job_field "$b" ext_id)"
grep -q "job $b found in Slurm as .* by its tag" "$LOG" && ok "log says so" || fail "no log line"
"$EBB" show "$b" | grep -q "planned -> planned  in Slurm on hpc as job $(job_field "$b" ext_id)$" &&
	ok "the hand-over is in the job's events" || fail "events: $("$EBB" show "$b" | sed -n '/^events/,$p')"

# 3. Cancel a running Slurm job through ebb.
c=$("$EBB" submit -q --name long --site hpc -- sleep 300)
wait_state "$c" running 60 && ok "long job running" || fail "job is $(job_field "$c" state)"
"$EBB" cancel "$c" >/dev/null
wait_state "$c" cancelled 60 && ok "cancelled through ebb while running" ||
	fail "job is $(job_field "$c" state)"
expect_eq "and why" "cancelled by root while running" "$(job_field "$c" reason)"
expect_eq "Slurm says cancelled" CANCELLED "$(squeue -h -t all -j "$(job_field "$c" ext_id)" -o %T)"
finish
