#!/bin/bash
# it_slurm: ebb plans, a real Slurm runs. With a 1-minute grid that is
# green in one minute a little ahead, a job submitted through ebb to a
# Slurm site is handed to Slurm at once, pending with its begin time at
# the planned minute; a re-plan moves that begin time; it runs then under
# ebb-run on the node and its report has energy and emissions. A cancel
# through ebb ends the Slurm job. A plain `sbatch --comment=ebb:...` job
# is deferred by job_submit.lua, adopted by ebbd and started in the green
# minute. Bad input: an unknown partition (sbatch's message reaches the
# user), a GPU job on a node without GPUs (its --gpus reaches sbatch,
# which refuses it) and Slurm commands missing from PATH (config check).
. "$(dirname "$0")/lib.sh"
start_slurm a 17817
share_bins

sq() { SLURM_CONF=$SLURM_CONF_a squeue -h -t all "$@"; }
stime() { date -d "@$1" +%Y-%m-%dT%H:%M:%S; }
expect_begin() { # WHAT SLURM_ID EPOCH: Slurm's begin time becomes EPOCH
	for _ in $(seq 1 50); do [ "$(sq -j "$2" -o %S)" = "$(stime "$3")" ] && break; sleep 0.2; done
	expect_eq "$1" "$(stime "$3")" "$(sq -j "$2" -o %S)"
}
ext_of() { # ID: its Slurm id once handed over ("null" if it never is)
	local e
	for _ in $(seq 1 50); do e=$(job_field "$1" ext_id); [ "$e" != null ] && break; sleep 0.2; done
	echo "$e"
}

m0=$(( $(date +%s) / 60 ))
green=$(( m0 + 2 ))
minute_trace "$T/trace.csv" 600 50 $green
write_config 1 "slot: 1m" "max_gap: 0s" "planner:" "  safety_margin: 0" \
	"  replan: 1m" "  default_max_delay: 0s"
site_trace XX "$T/trace.csv" "min_refresh: 1m"
slurm_site hpc "$SLURM_CONF_a"
echo "    gpus: 1" >> "$CONF"
site_trace XX "$T/trace.csv" "min_refresh: 1m"
slurm_site badpart "$SLURM_CONF_a" "partition: nosuch"
site_trace XX "$T/trace.csv" "min_refresh: 1m"
start_ebbd

# 1. A deferred job: in Slurm at once, pending with the planned begin time.
id=$("$EBB" submit -q --name green --site hpc --duration 20s --max-delay 8m \
	-- sh -c 'echo "hello from $(hostname) in slurm job $SLURM_JOB_ID"; sleep 3')
wait_field "$id" state planned && ok "planned" || fail "job is $(job_field "$id" state)"
planned=$(job_field "$id" planned_start)
expect_eq "planned into the green minute" $(( green * 60 )) "$planned"
ext=$(ext_of "$id")
[ "$ext" != null ] && ok "handed to Slurm as job $ext" || fail "no Slurm id"
"$EBB" show "$id" | grep -q "^ext_id: *$ext (its id in the site's scheduler)" &&
	ok "ebb show gives the Slurm id" || fail "show: $("$EBB" show "$id" | grep ext_id)"
row=$(sq -j "$ext" -o '%T %S %k')
expect_eq "Slurm has it pending at the planned minute, tagged" \
	"PENDING $(stime "$planned") ebbd" \
	"$(echo "$row" | awk '{ print $1, $2, substr($3, 1, 4) }')"

# 2. A re-plan moves the begin time in Slurm: the green minute moves on.
green=$(( m0 + 3 ))
minute_trace "$T/trace.csv" 600 50 $green
"$EBB" sites --refresh >/dev/null
wait_field "$id" planned_start $(( green * 60 )) 150 &&
	ok "re-planned to the new green minute" ||
	fail "planned_start $(job_field "$id" planned_start)"
expect_begin "Slurm's begin time moved with it" "$ext" $(( green * 60 ))

# 3. Cancel through ebb ends the Slurm job (its state, not scancel's rc).
c=$("$EBB" submit -q --name doomed --site hpc --duration 20s --max-delay 8m -- sleep 60)
cext=$(ext_of "$c")
"$EBB" cancel "$c" >/dev/null
expect_eq "ebb says cancelled" cancelled "$(job_field "$c" state)"
for _ in $(seq 1 50); do [ "$(sq -j "$cext" -o %T)" = CANCELLED ] && break; sleep 0.2; done
expect_eq "Slurm says cancelled" CANCELLED "$(sq -j "$cext" -o %T)"

# 4. A plain sbatch job asking for ebb: deferred by the lua plugin, adopted.
mkdir -p "$T/work"; chmod 777 "$T/work"
out=$(cd "$T/work" && SLURM_CONF=$SLURM_CONF_a sbatch --parsable \
	--comment=ebb:max-delay=8m,duration=20s --wrap 'echo adopted; sleep 2' 2>&1)
sid=$(echo "$out" | tail -n 1)
echo "$out" | grep -q "ebb: waiting for a green window" &&
	ok "sbatch tells the user it waits for ebb" || fail "sbatch said: $out"
adopted=
for _ in $(seq 1 50); do
	adopted=$("$EBB" queue --all --json | jq -r ".[] | select(.ext_id == \"$sid\") | .id")
	[ -n "$adopted" ] && break; sleep 0.2
done
[ -n "$adopted" ] && ok "ebbd adopted Slurm job $sid as $adopted" || fail "not adopted"
wait_field "$adopted" planned_start $(( green * 60 )) &&
	ok "adopted job planned into the green minute" ||
	fail "adopted job planned at $(job_field "$adopted" planned_start)"
expect_begin "its begin time moved from the lua default to the green minute" \
	"$sid" $(( green * 60 ))
n=$("$EBB" queue --all --json | jq "[.[] | select(.ext_id == \"$sid\")] | length")
expect_eq "adopted once" 1 "$n"
# A job name that is not UTF-8 (anyone can sbatch one): not adopted, said
# so, and ebbd carries on.
out=$(cd "$T/work" && SLURM_CONF=$SLURM_CONF_a sbatch --parsable \
	--job-name="$(printf 'bad\377name')" \
	--comment=ebb:max-delay=8m,duration=20s --wrap true 2>&1)
bsid=$(echo "$out" | tail -n 1)
for _ in $(seq 1 50); do grep -q "job $bsid asks ebb to plan it, but" "$LOG" && break; sleep 0.2; done
grep -q "job $bsid asks ebb to plan it, but its name, user, directory or comment is not valid UTF-8" "$LOG" &&
	ok "a non-UTF-8 job name is refused in the log" || fail "no log line for job $bsid"
"$EBB" queue >/dev/null && ok "ebbd carries on" || fail "ebbd gone"
SLURM_CONF=$SLURM_CONF_a scancel "$bsid" 2>/dev/null

# 5. Bad input.
bad=$("$EBB" submit -q --name bad --site badpart -- true)
wait_field "$bad" state failed && ok "unknown partition: job failed" ||
	fail "job is $(job_field "$bad" state)"
job_field "$bad" reason | grep -q "badpart refused the job: sbatch: error:.*[Pp]artition" &&
	ok "sbatch's message reaches the user: $(job_field "$bad" reason)" ||
	fail "reason: $(job_field "$bad" reason)"
# GPUs go to sbatch as --gpus: this node has none, so Slurm refuses.
gpu=$("$EBB" submit -q --name gpu --site hpc --gpus 1 -- true)
wait_field "$gpu" state failed && ok "a GPU job Slurm has no GPUs for: failed" ||
	fail "GPU job is $(job_field "$gpu" state)"
job_field "$gpu" reason | grep -qiE "hpc refused the job: sbatch: error:.*(gres|gpu)" &&
	ok "asked Slurm for the GPU: $(job_field "$gpu" reason)" ||
	fail "reason: $(job_field "$gpu" reason)"
out=$(env PATH=/nonexistent "$EBBD" -n -c "$CONF" 2>&1); rc=$?
expect_eq "config check fails without Slurm commands" 1 "$rc"
echo "$out" | grep -q "^$CONF:[0-9]*:[0-9]*: slurm: sbatch, squeue, scontrol, scancel, sacct not found in \$PATH" &&
	ok "and names the file, line and command" || fail "said: $out"

# 6. The jobs run in the green minute and report like local ones.
for _ in $(seq 1 150); do
	s1=$(job_field "$id" state); s2=$(job_field "$adopted" state)
	[ "$s1" = succeeded ] && [ "$s2" = succeeded ] && break
	case "$s1$s2" in *failed*|*cancelled*) break;; esac
	sleep 2
done
expect_eq "ebb job ran in Slurm" succeeded "$(job_field "$id" state)"
expect_eq "adopted job ran" succeeded "$(job_field "$adopted" state)"
st=$(job_field "$id" start_time)
[ "$st" -ge $(( green * 60 )) ] && [ "$st" -lt $(( green * 60 + 60 )) ] &&
	ok "started in the green minute" || fail "started at $(date -d @"$st" +%T)"
"$EBB" logs "$id" | grep -q "^hello from .* in slurm job $ext" &&
	ok "ebb logs shows its output" || fail "logs: $("$EBB" logs "$id")"
expect_eq "Slurm's accounting has it" COMPLETED "$(sq -j "$ext" -o %T)"
r=$("$EBB" report --format json "$id")
kwh=$(echo "$r" | jq '.jobs[0].energy_kwh'); g=$(echo "$r" | jq '.jobs[0].emissions_g')
m=$(echo "$r" | jq -r '.jobs[0].method'); cf=$(echo "$r" | jq '.jobs[0].counterfactual_g')
ci=$(echo "$r" | jq '.jobs[0].intensity_g_per_kwh')
awk -v e="$kwh" 'BEGIN { exit !(e > 0) }' && ok "energy $kwh kWh ($m)" || fail "energy $kwh"
echo "$m" | grep -q "ebb-run" && ok "measured by ebb-run on the node" || fail "method $m"
awk -v i="$ci" 'BEGIN { exit !(i > 0 && i < 300) }' &&
	ok "at the green minute's intensity ($ci g/kWh)" || fail "intensity $ci"
awk -v e="$kwh" -v i="$ci" -v g="$g" 'BEGIN { x = e * i; exit !(g > 0.999 * x && g < 1.001 * x) }' &&
	ok "emissions $g g = E x I" || fail "emissions $g g for $kwh kWh at $ci"
awk -v g="$g" -v c="$cf" 'BEGIN { exit !(c > 2 * g) }' &&
	ok "counterfactual $cf g (run at submit: 600 g/kWh)" || fail "counterfactual $cf"
ra=$("$EBB" report --format json "$adopted")
expect_eq "adopted job's energy is an estimate" estimate "$(echo "$ra" | jq -r '.jobs[0].method')"
finish
