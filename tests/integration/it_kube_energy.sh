#!/bin/bash
# it_kube_energy: the energy of a Kubernetes Job from Kepler's counters,
# read back through a real Prometheus (Debian package) that scrapes a
# fixture exporter serving kepler_container_joules_total for the Job's
# pod. ebbd asks Prometheus after the Job ends (prometheus_lag) and puts
# the counter's growth over the run into the ledger (method kepler); a Job
# whose pods Kepler never saw is modelled from the CPU time the kubelet
# measured (container_cpu_usage_seconds_total), and one nobody measured
# from its cpus and run time, also one shorter than the API's one-second
# stamps. A Job whose pod never becomes ready (its
# image does not pull) is deleted after start_timeout and its job fails
# with the reason. ebbd authenticates
# here with a client certificate (the kubeconfig's fake-cert context),
# which the stand-in checks against its CA. Skips (77) without prometheus
# or python3-jsonschema.
if ! PROM=$(command -v prometheus); then
	echo "SKIP: the prometheus binary is not installed (.ci/deps lists it)"
	exit 77
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kube-lib.sh"
kube_need
PROM_PID= FIX_PID=
stop_all() {
	[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
	[ -n "$FIX_PID" ] && kill "$FIX_PID" 2>/dev/null
	kube_stop
	cleanup
}
trap stop_all EXIT
kube_start "$T/kf" || { echo "FAIL: kube-fake did not start"; exit 1; }
chmod 755 "$T/kf"; chmod 644 "$T/kf/kubeconfig" "$T/kf/ca.crt" "$T/kf/cli.crt"
# the client key: the worker's alone
[ "$(id -u)" = 0 ] && chown ebb "$T/kf/cli.key"

: >"$T/kepler.ctl"
/usr/bin/python3 "$EBB_TREE/tests/helpers/kepler-fixture.py" "$T/kepler.ctl" >"$T/fix.port" &
FIX_PID=$!
for _ in $(seq 1 50); do [ -s "$T/fix.port" ] && break; sleep 0.1; done
cat >"$T/prometheus.yml" <<EOC
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: kepler
    static_configs: [{targets: ['127.0.0.1:$(cat "$T/fix.port")']}]
EOC
start_prometheus || { fail "prometheus did not start"; finish; }

U=ebbk8s1
id -u $U >/dev/null 2>&1 || useradd -M -N -s /bin/sh $U
as_user() { runuser -u $U -- env EBB_SOCKET="$SOCK" "$EBB" "$@"; }
ROOT_JOBS=false write_config 1 "socket_mode: 0666" "planner:" "  default_max_delay: 0s"
site_de_trace
cat >>"$CONF" <<EOC
  - name: k8s
    backend: kubernetes
    cpus: 8
    kubernetes:
      kubeconfig: $KUBECONFIG
      context: fake-cert
      prometheus: http://127.0.0.1:$PPORT
      prometheus_lag: 3s
      start_timeout: 4s
EOC
site_de_trace
start_ebbd

id=$(as_user submit -q --site k8s --image busybox --duration 10s -- true)
wait_field "$id" state running 150 && ok "released at once" || fail "state $(job_field "$id" state)"
name=$(job_field "$id" ext_id)
t0=$(date +%s)
# a Job that Kepler never sees but the kubelet does (half a cpu busy),
# and one nobody measures
m=$(as_user submit -q --site k8s --image busybox --duration 10s -- true)
u=$(as_user submit -q --site k8s --image busybox --duration 10s -- true)
wait_field "$m" state running 150 || fail "second job: $(job_field "$m" state)"
wait_field "$u" state running 150 || fail "third job: $(job_field "$u" state)"
mname=$(job_field "$m" ext_id)
ctl() { # END (empty: running)
	{ echo "joules default $name-abcde 40 $t0 $1"
	  echo "cpu default $mname-fghij 0.5 $t0 $1"; } >"$T/kepler.ctl"
}
ctl ""
sleep 8
# The end with its fraction: a whole second would put the end before a
# value already served, and the counter would go down (read as a reset).
t1=$(date +%s.%N)
ctl "$t1"
for j in "$name" "$mname" "$(job_field "$u" ext_id)"; do
	kube_api POST "/fake/complete/default/$j" >/dev/null
done
wait_field "$id" state succeeded 200 && ok "succeeded" || fail "state $(job_field "$id" state)"
wait_field "$m" state succeeded 200 || fail "second: $(job_field "$m" state)"
wait_field "$u" state succeeded 200 || fail "third: $(job_field "$u" state)"
r=$("$EBB" report --format json "$id")
expect_eq "energy from Kepler" kepler "$(jq -r '.jobs[0].method' <<<"$r")"
kwh=$(jq '.jobs[0].energy_kwh' <<<"$r")
want=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print 40 * (b - a) / 3.6e6 }')
awk -v e="$kwh" -v w="$want" 'BEGIN { exit !(e > 0.85 * w && e < 1.15 * w) }' &&
	ok "energy $kwh kWh, Kepler's counter grew $want kWh" || fail "energy $kwh kWh, want $want"
expect_eq "every API request of ebbd came with the client certificate" cert \
	"$(kube_api GET /fake/log | jq -r 'select(.auth != "token") | .auth' | sort -u | tr '\n' ' ' | sed 's/ $//')"
rm=$("$EBB" report --format json "$m")
expect_eq "a Job Kepler never saw: modelled" model "$(jq -r '.jobs[0].method' <<<"$rm")"
cu=$(job_field "$m" cpu_usec)
awk -v c="$cu" -v a="$t0" -v b="$t1" 'BEGIN { w = 0.5 * (b - a) * 1e6; exit !(c > w - 1e6 && c < w + 1e6) }' &&
	ok "from the kubelet's CPU time, the container's not the pod's ($cu us, 0.5 cpu x $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)" ||
	fail "cpu_usec $cu, want about $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 500000 }')"
ru=$("$EBB" report --format json "$u")
expect_eq "a Job nobody measured: modelled too" model "$(jq -r '.jobs[0].method' <<<"$ru")"
awk -v a="$(jq '.jobs[0].energy_kwh' <<<"$rm")" -v b="$(jq '.jobs[0].energy_kwh' <<<"$ru")" \
	'BEGIN { exit !(a > 0 && b > 0 && a < b) }' &&
	ok "half a cpu busy costs less than the whole cpu held ($(jq '.jobs[0].energy_kwh' <<<"$rm") < $(jq '.jobs[0].energy_kwh' <<<"$ru") kWh)" ||
	fail "energies $(jq '.jobs[0].energy_kwh' <<<"$rm") vs $(jq '.jobs[0].energy_kwh' <<<"$ru")"

# A Job that starts and ends within the same second (the API stamps whole
# seconds) still ran: it has a ledger row, charged for one second.
q=$(as_user submit -q --site k8s --image busybox --duration 10s -- true)
wait_field "$q" state running 150 || fail "short job: $(job_field "$q" state)"
kube_api POST "/fake/complete-at-start/default/$(job_field "$q" ext_id)" >/dev/null
wait_field "$q" state succeeded 200 || fail "short job: $(job_field "$q" state)"
expect_eq "a Job of less than a second ran for no time by the stamps" \
	"$(job_field "$q" start_time)" "$(job_field "$q" end_time)"
rq=$("$EBB" report --format json "$q")
jq -e '.jobs[0].energy_kwh > 0' <<<"$rq" >/dev/null &&
	ok "it has a ledger row ($(jq -c '.jobs[0] | [.method, .energy_kwh]' <<<"$rq"))" ||
	fail "no ledger row for a Job shorter than a second: $rq"

b=$(as_user submit -q --site k8s --image registry.invalid/none:1 --duration 10s -- true)
wait_field "$b" state failed 100 && ok "a Job whose pod never became ready failed" ||
	fail "state $(job_field "$b" state)"
job_field "$b" reason | grep -q "no pod of Job .* was ready 4 s after its release" &&
	ok "with the reason" || fail "reason: $(job_field "$b" reason)"
expect_eq "and its Job is gone" 404 "$(kube_api GET \
	"/apis/batch/v1/namespaces/default/jobs/$(job_field "$b" ext_id)" -o /dev/null -w '%{http_code}')"
finish
