#!/bin/bash
# it_grafana: the Grafana dashboard in examples/grafana/ebb.json asks only
# for what ebbd serves. Every query in it (each panel target's expr and
# each variable's query) must parse (promtool check rules, Debian package
# prometheus), and every metric it names must be a family of a real
# ebbd's /metrics after a job ran and ended (so the per-job families are
# there too). A copy of the dashboard with a misspelt metric must fail
# the same check.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null ||
    { echo "SKIP: promtool is not installed (Debian package prometheus)"; exit 77; }
DASH=$EBB_SRC/examples/grafana/ebb.json
QUERIES=$EBB_TEST_DATA/helpers/dashboard-queries.py

jq -e '.panels | length > 0' "$DASH" >/dev/null &&
    ok "the dashboard is JSON with panels" || fail "$DASH: not a dashboard"
expect_eq "panel ids are unique" "" \
    "$(jq -r '.panels[].id' "$DASH" | sort | uniq -d)"
python3 "$QUERIES" "$DASH" rules > "$T/rules.yml" || fail "reading the queries"
if out=$(promtool check rules "$T/rules.yml" 2>&1); then
	ok "every query parses: $(grep -o '[0-9]* rules found' <<<"$out")"
else
	fail "promtool check rules: $out"
fi

port=$(( 20000 + RANDOM % 30000 ))
write_config 2 "metrics:" "  port: $port" "  job_linger: 1h"
site_de_trace
start_ebbd
id=$("$EBB" submit -q --name dash -- "$EBB_BURN" 300)
wait_field "$id" state succeeded || fail "the job did not succeed"
for _ in $(seq 1 50); do
	m=$(curl -sf "http://127.0.0.1:$port/metrics")
	grep -q '^ebb_recent_job_emissions_grams{' <<<"$m" && break
	sleep 0.2
done
families=$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' <<<"$m" | sort -u)

# check DASHBOARD: each metric its queries name that ebbd does not serve.
check() {
	local names n q
	names=$(python3 "$QUERIES" "$1" names) || { echo "(unreadable queries)"; return; }
	while IFS=$'\t' read -r n q; do
		grep -qxF "$n" <<<"$families" || echo "$n (in: $q)"
	done <<<"$names"
}

missing=$(check "$DASH")
expect_eq "every metric the dashboard names is served by ebbd" "" "$missing"
n=$(python3 "$QUERIES" "$DASH" names | cut -f1 | sort -u | wc -l)
[ "$n" -ge 10 ] && ok "the dashboard uses $n of ebbd's families" ||
    fail "only $n metric names found in the dashboard"
# Each family ebbd serves is on the dashboard.
for f in $families; do
	python3 "$QUERIES" "$DASH" names | cut -f1 | grep -qxF "$f" ||
	    fail "family $f is not on the dashboard"
done

# The check can fail: a misspelt metric in one query is caught.
jq '.panels[3].targets[0].expr |= sub("ebb_jobs"; "ebb_job")' "$DASH" > "$T/bad.json"
expect_eq "a misspelt metric is caught" "ebb_job" "$(check "$T/bad.json" | cut -d' ' -f1)"
finish
