#!/bin/bash
# it_prometheus: a real Prometheus server scrapes scheduler/metrics.
#
# metrics-demo serves a fixed render of every metric ebbd exports; a
# prometheus started here scrapes it every second, and the Prometheus HTTP
# API must then return every value with its labels (escaped ones too) and
# each family's type and help. Skips (77) only when prometheus is not
# installed (Debian package `prometheus`, in .ci/deps).

if ! PROM=$(command -v prometheus); then
	echo "SKIP: the prometheus binary is not installed" \
	    "(apt-get install prometheus; .ci/deps lists it)"
	exit 77
fi
. "$(dirname "$0")/lib.sh"
: "${EBB_METRICS_DEMO:?run through ctest}"

DEMO_PID=
PROM_PID=
PROM_LOG=$T/prometheus.log

stop_all() {
	[ -n "$PROM_PID" ] && kill -TERM "$PROM_PID" 2>/dev/null &&
	    wait "$PROM_PID" 2>/dev/null
	[ -n "$DEMO_PID" ] && kill -TERM "$DEMO_PID" 2>/dev/null &&
	    wait "$DEMO_PID" 2>/dev/null
	if [ "$FAILS" -gt 0 ]; then
		echo "--- prometheus log ---"; tail -n 20 "$PROM_LOG" 2>/dev/null
		echo "--- metrics-demo log ---"; cat "$T/demo.log" 2>/dev/null
	fi
	cleanup
}
trap stop_all EXIT

# The endpoint on its own.
"$EBB_METRICS_DEMO" >"$T/demo.port" 2>"$T/demo.log" &
DEMO_PID=$!
for _ in $(seq 1 100); do
	[ -s "$T/demo.port" ] && break
	sleep 0.1
done
PORT=$(cat "$T/demo.port")
[ -n "$PORT" ] || { fail "metrics-demo printed no port"; finish; }
body=$(curl -sf "http://127.0.0.1:$PORT/metrics")
expect_eq "ebb_jobs TYPE line once" 1 \
    "$(grep -c '^# TYPE ebb_jobs gauge$' <<<"$body")"
# promtool (same Debian package) parses and lints it: names, types, help.
if out=$(promtool check metrics <<<"$body" 2>&1); then
	ok "promtool check metrics"
else
	fail "promtool check metrics: $out"
fi
expect_eq "404 elsewhere" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")"

cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ebb
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF

start_prometheus || { fail "prometheus did not start"; finish; }

# query PROMQL: the API's JSON answer for an instant query.
query() {
	curl -sf -G "http://127.0.0.1:$PPORT/api/v1/query" \
	    --data-urlencode "query=$1"
}

# value PROMQL: the value of the single series it selects.
value() {
	query "$1" | jq -r 'if (.data.result | length) == 1
	    then .data.result[0].value[1] else "\(.data.result | length) series"
	    end'
}

# Until the first scrape has landed (up == 1 and the samples stored).
scraped=
for _ in $(seq 1 300); do
	if [ "$(value 'up{job="ebb"}')" = 1 ] &&
	    [ "$(query ebb_jobs | jq '.data.result | length')" = 6 ]; then
		scraped=1
		break
	fi
	sleep 0.1
done
[ -n "$scraped" ] || { fail "no successful scrape in 30 s"; finish; }
expect_eq "samples per scrape" 25 \
    "$(value 'scrape_samples_scraped{job="ebb"}')"

for sv in queued=3 planned=2 running=1 succeeded=17 failed=1 cancelled=0; do
	expect_eq "ebb_jobs{state=${sv%=*}}" "${sv#*=}" \
	    "$(value "ebb_jobs{state=\"${sv%=*}\"}")"
done
expect_eq "target labels" "ebb 127.0.0.1:$PORT" \
    "$(query 'ebb_jobs{state="queued"}' |
    jq -r '.data.result[0].metric | "\(.job) \(.instance)"')"

ci=ebb_site_carbon_intensity_grams_per_kwh
expect_eq "intensity actual" 312.5 \
    "$(value "$ci{site=\"berlin-1\",zone=\"DE\",signal=\"average\",kind=\"actual\"}")"
expect_eq "intensity forecast" 298 \
    "$(value "$ci{site=\"berlin-1\",kind=\"forecast\"}")"
expect_eq "escaped site label arrives unescaped" \
    'rack "7"\east US-CAL-CISO actual 401.25' \
    "$(query "$ci{signal=\"marginal\"}" | jq -r '.data.result[] |
    "\(.metric.site) \(.metric.zone) \(.metric.kind) \(.value[1])"')"

expect_eq ebb_job_energy_joules_total 5400000 \
    "$(value ebb_job_energy_joules_total)"
expect_eq ebb_job_emissions_grams 468.75 \
    "$(value ebb_job_emissions_grams)"
expect_eq ebb_job_savings_grams 120.5 \
    "$(value ebb_job_savings_grams)"
expect_eq ebb_build_info 1 "$(value 'ebb_build_info{version="0.1.0"}')"
expect_eq "per-job energy" 3600 \
    "$(value 'ebb_recent_job_energy_joules_total{job_id="41",user="alice",site="berlin-1"}')"
expect_eq "escaped job name arrives unescaped" \
    "$(printf 'say "hi"\n\\o/ bob 90.5')" \
    "$(query 'ebb_recent_job_energy_joules_total{job_id="42"}' |
    jq -r '.data.result[] | "\(.metric.job_name) \(.metric.user) \(.value[1])"')"
expect_eq "per-job emissions" 0.25 \
    "$(value 'ebb_recent_job_emissions_grams{job_name="train"}')"
expect_eq "node energy rapl" 7200000 \
    "$(value 'ebb_node_energy_joules_total{source="rapl"}')"
expect_eq "node energy model" 150000 \
    "$(value 'ebb_node_energy_joules_total{source="model"}')"
expect_eq "provider errors electricitymaps" 2 \
    "$(value 'ebb_provider_errors_total{provider="electricitymaps"}')"
expect_eq "provider errors watttime" 0 \
    "$(value 'ebb_provider_errors_total{provider="watttime"}')"

# HELP and TYPE reached Prometheus's metadata store.
meta() {
	curl -sf -G "http://127.0.0.1:$PPORT/api/v1/metadata" \
	    --data-urlencode "metric=$1" |
	    jq -r ".data[\"$1\"][0] | \"\(.type): \(.help)\""
}
expect_eq "ebb_jobs metadata" "gauge: Jobs by state." "$(meta ebb_jobs)"
expect_eq "energy metadata" "counter: Energy measured for jobs (J)." \
    "$(meta ebb_job_energy_joules_total)"

kill -TERM "$DEMO_PID"; wait "$DEMO_PID"; rc=$?; DEMO_PID=
expect_eq "metrics-demo exits cleanly on SIGTERM" 0 "$rc"
finish
