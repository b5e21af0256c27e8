#!/bin/bash
# it_slurm_gone: ebbd down while its Slurm jobs end and leave Slurm's queue
# (MinJobAge=2 s here). On restart, a job that ran is recorded from the
# result ebb-run left in the shared directory; a job the user cancelled
# with scancel while it was pending is recorded cancelled, from sacct -c
# (accounting storage is off: the jobcomp file).
. "$(dirname "$0")/lib.sh"
export SLURM_LOCAL_MIN_JOB_AGE=2
start_slurm g 17867
share_bins
export SLURM_CONF=$SLURM_CONF_g
m0=$(( $(date +%s) / 60 ))
minute_trace "$T/trace.csv" 600 50 $(( m0 + 8 ))
write_config 1 "slot: 1m" "max_gap: 0s" "planner:" "  safety_margin: 0" \
	"  default_max_delay: 0s"
slurm_site hpc "$SLURM_CONF_g"
site_trace XX "$T/trace.csv"
start_ebbd
ext_of() {
	local e
	for _ in $(seq 1 50); do e=$(job_field "$1" ext_id); [ "$e" != null ] && break; sleep 0.2; done
	echo "$e"
}
gone() { # SLURM_ID: until squeue no longer lists it
	for _ in $(seq 1 60); do
		[ -z "$(squeue -h -t all -j "$1" -o %i 2>/dev/null)" ] && return 0; sleep 0.5
	done
	return 1
}

ran=$("$EBB" submit -q --name ran --site hpc -- sh -c 'echo done; sleep 2')
waits=$("$EBB" submit -q --name waits --site hpc --duration 1m --max-delay 20m -- true)
rext=$(ext_of "$ran"); wext=$(ext_of "$waits")
[ "$rext" != null ] && [ "$wext" != null ] && ok "both in Slurm ($rext, $wext)" ||
	fail "Slurm ids $rext $wext"
expect_eq "one waits in Slurm" PENDING "$(squeue -h -j "$wext" -o %T)"
stop_ebbd
scancel "$wext"
gone "$rext" && gone "$wext" && ok "both ended and left Slurm's queue while ebbd was down" ||
	fail "still in squeue: $(squeue -h -t all -o '%i %T')"
start_ebbd
for _ in $(seq 1 100); do
	[ "$(job_field "$ran" state)" = succeeded ] && [ "$(job_field "$waits" state)" = cancelled ] && break
	sleep 0.2
done
expect_eq "the job that ran: from its result" succeeded "$(job_field "$ran" state)"
expect_eq "its output" done "$("$EBB" logs "$ran")"
kwh=$("$EBB" report --format json "$ran" | jq '.jobs[0].energy_kwh')
awk -v e="$kwh" 'BEGIN { exit !(e > 0) }' && ok "and its energy ($kwh kWh)" || fail "energy $kwh"
expect_eq "the job scancelled while pending: from sacct -c" cancelled "$(job_field "$waits" state)"
expect_eq "and why" "cancelled in Slurm (scancel)" "$(job_field "$waits" reason)"
finish
