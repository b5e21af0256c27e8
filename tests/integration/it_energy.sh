#!/bin/bash
# it_energy: a job's energy measured end to end. A fake powercap tree
# (this machine has no RAPL) gains energy at 50 W; ebbd samples it while a
# CPU burner runs, gives the job its share, accounts emissions on the
# site's intensity, and shows the result in `ebb report` and at /metrics.
# (Other processes share the node, so the job's share is bounded loosely:
# between 15 and 200 J of the 50 W while it runs about 2 s.)
. "$(dirname "$0")/lib.sh"

pc=$T/powercap/intel-rapl:0
mkdir -p "$pc"
echo package-0 > "$pc/name"
echo 262143328850 > "$pc/max_energy_range_uj"
echo 1000000 > "$pc/energy_uj"
# 50 W: 10,000,000 µJ every 0.2 s, for as long as the test runs.
( uj=1000000; while :; do uj=$((uj + 10000000)); echo $uj > "$pc/energy_uj.new";
  mv "$pc/energy_uj.new" "$pc/energy_uj"; sleep 0.2; done ) &
FEEDER=$!
PROM_PID=
trap 'kill $FEEDER 2>/dev/null; [ -n "$PROM_PID" ] && kill $PROM_PID 2>/dev/null
	wait $PROM_PID 2>/dev/null; cleanup' EXIT
port=$(( 20000 + RANDOM % 30000 ))
write_config 2 "energy:" "  powercap_root: $T/powercap" "metrics:" "  port: $port"
site_de_trace
start_ebbd
grep -q "energy measured by rapl" "$LOG" && ok "RAPL counters found" || fail "not rapl: $(grep energy "$LOG")"
id=$("$EBB" submit -q --name burn -- "$EBB_BURN" 2000)
for _ in $(seq 1 100); do [ "$(job_field "$id" state)" = succeeded ] && break; sleep 0.2; done
expect_eq "burner finished" succeeded "$(job_field "$id" state)"
sleep 1.5
row=$("$EBB" report --format json "$id" | jq '.rows[0] // .jobs[0] // .[0]')
kwh=$(echo "$row" | jq -r .energy_kwh)
awk -v k="$kwh" 'BEGIN { j = k * 3.6e6; exit !(j > 15 && j < 200) }' &&
	ok "job energy $(awk -v k="$kwh" 'BEGIN { printf "%.0f", k * 3.6e6 }') J for ~2 s at 50 W" ||
	fail "job energy ${kwh} kWh"
expect_eq "method" rapl "$(echo "$row" | jq -r .method)"
echo "$row" | jq -e '.emissions_g > 0' >/dev/null && ok "emissions $(echo "$row" | jq .emissions_g) g" ||
	fail "no emissions: $row"
m=$(curl -s "http://127.0.0.1:$port/metrics")
echo "$m" | grep -q '^ebb_node_energy_joules_total{source="rapl"} ' && ok "node energy at /metrics" ||
	fail "no node energy metric"
echo "$m" | grep -q '^ebb_jobs{state="succeeded"} 1$' && ok "job counts at /metrics" ||
	fail "jobs metric: $(echo "$m" | grep ebb_jobs)"
echo "$m" | grep -q '^ebb_site_carbon_intensity_grams_per_kwh{site="local",zone="DE",signal="average",kind="actual"} ' &&
	ok "intensity at /metrics" || fail "intensity metric: $(echo "$m" | grep intensity)"
# A real Prometheus scrapes ebbd and answers a PromQL query.
if PROM=$(command -v prometheus); then
	cat > "$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: ebbd
    static_configs: [{targets: ['127.0.0.1:$port']}]
EOF
	if start_prometheus; then
		got=
		for _ in $(seq 1 200); do
			got=$(curl -sf -G "http://127.0.0.1:$PPORT/api/v1/query" \
			    --data-urlencode 'query=ebb_jobs{job="ebbd",state="succeeded"}' |
			    jq -r '.data.result[0].value[1] // empty')
			[ -n "$got" ] && break; sleep 0.1
		done
		expect_eq "Prometheus scraped ebbd: succeeded jobs" 1 "$got"
		v=$(curl -sf -G "http://127.0.0.1:$PPORT/api/v1/query" \
		    --data-urlencode 'query=ebb_node_energy_joules_total{source="rapl"} > 0' |
		    jq -r '.data.result | length')
		expect_eq "PromQL: node energy measured by RAPL" 1 "$v"
	else
		fail "prometheus did not start"
	fi
else
	echo "skip: Prometheus scrape: the prometheus binary is not installed"
fi
# ebbd stopped with no job running, then started 8 s later: the time it
# was down belonged to no job. A job that ends at once gets the energy of
# its own moment, not the gap's idle share (the default proportional rule
# would hand it most of 8 s x 50 W).
stop_ebbd
sleep 8
start_ebbd
id=$("$EBB" submit -q --name quick -- true)
wait_field "$id" state succeeded 50
j=$("$EBB" report --format json "$id" | jq '.jobs[0].energy_kwh * 3.6e6')
awk -v j="$j" 'BEGIN { exit !(j < 40) }' &&
	ok "a job after a restart with none running: $j J, not the gap's" ||
	fail "a job after a restart with none running got $j J"
finish
