#!/bin/bash
# it_ledger_short: every job that ran has a ledger row, however short. A
# user saw 3 of 28 short jobs without one; here 40 jobs of `true` (and
# `sleep 0.1`) run, a few at a time on 4 cpus, and each must have its row
# in `ebb report`, with a method and energy that is a number.
. "$(dirname "$0")/lib.sh"

write_config "${CPUS:-4}"
site_de_trace
start_ebbd
wait_provider_ok || fail "the trace provider never answered"
ids=()
for i in $(seq 1 40); do
	if [ $((i % 4)) = 0 ]; then
		ids+=("$("$EBB" submit -q --name short -- sleep 0.1)")
	else
		ids+=("$("$EBB" submit -q --name short -- true)")
	fi
done
wait_final 60
ran=$("$EBB" queue --all --json | jq '[.[] | select(.state == "succeeded")] | length')
expect_eq "all 40 short jobs succeeded" 40 "$ran"
rep=$("$EBB" report --format json)
missing=
for id in "${ids[@]}"; do
	echo "$rep" | jq -e --argjson id "$id" \
	    '.jobs | any(.id == $id and (.energy_kwh | type) == "number" and .method != null)' \
	    >/dev/null || missing="$missing $id"
done
expect_eq "every job that ran has a ledger row" "" "$missing"
finish
