#!/bin/bash
# it_examples: every example the README points at works as documented:
# the configs load, the policies check, and the simulation example saves
# carbon without missing a deadline.
. "$(dirname "$0")/lib.sh"
cd "$EBB_SRC"
for c in examples/ebb.yaml examples/simulate/ebb.yaml examples/slurm/ebb.yaml; do
	if [ "$c" = examples/slurm/ebb.yaml ] && ! command -v sbatch >/dev/null; then
		echo "skipped $c: no Slurm commands here (.ci/deps installs them)"
		continue
	fi
	"$EBBD" -n -c "$c" >/dev/null && ok "$c loads" || fail "$c does not load"
done
for p in examples/policies/*.yaml; do
	"$EBB" policy check "$p" >/dev/null && ok "$p checks" || fail "$p has errors"
done
out=$("$EBB" simulate --json -c examples/simulate/ebb.yaml examples/simulate/pai-week.csv)
expect_eq "all 300 jobs simulated" 300 "$(echo "$out" | jq .jobs)"
expect_eq "no deadline missed" 0 "$(echo "$out" | jq .deadline_misses)"
echo "$out" | jq -e '.savings_pct > 20' >/dev/null &&
	ok "saves $(echo "$out" | jq .savings_pct) % against running at once" ||
	fail "savings $(echo "$out" | jq .savings_pct) %"
finish
