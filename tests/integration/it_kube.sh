#!/bin/bash
# it_kube: ebb plans, a Kubernetes API (the local stand-in kube-fake.py,
# which validates every Job against the batch/v1 schema) holds the Job.
# With a 1-minute grid green a little ahead, a job submitted by an
# ordinary user to a kubernetes site becomes a suspended Job at once,
# labelled with its id, running as that user's uid and gid, with the GPUs it
# asked for as an nvidia.com/gpu limit; a re-plan
# only moves the release; at the planned minute a merge patch with the
# Job's resourceVersion releases it; the cluster's end reaches ebb (state,
# report with a modelled energy). Cancel deletes the Job (propagation
# Background). A create whose answer is lost makes no second Job; an API
# server that is down is waited for; a watch whose resourceVersion expired
# lists again. A suspended Job created with kubectl and annotated
# ebb.dev/max-delay is adopted and released in the green minute; one
# that Kueue manages is left alone. Two clusters in different zones: a
# job allowed on both runs where the grid is clean now. Bad input: an
# image that is not an image reference, a job without an image.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kube-lib.sh"
kube_need
U=ebbk8s1
id -u $U >/dev/null 2>&1 || useradd -M -N -s /bin/sh $U
# LISTs come in pages of 2 Jobs at most, so ebb's span several.
KF_ARGS="--max-page 2"
kube_start "$T/kf" || { echo "FAIL: kube-fake did not start"; exit 1; }
trap 'kube_stop; cleanup' EXIT
# The unprivileged worker reads the kubeconfig and the CA.
chmod 755 "$T/kf"; chmod 644 "$T/kf/kubeconfig" "$T/kf/ca.crt"

as_user() { runuser -u $U -- env EBB_SOCKET="$SOCK" "$EBB" "$@"; }
jobs_labelled() { # ID: the Jobs in the cluster for ebb job ID
	kube_api GET "/apis/batch/v1/namespaces/default/jobs?labelSelector=ebb.dev/job%3D$1"
}
fake_log() { kube_api GET /fake/log; }

m0=$(( $(date +%s) / 60 ))
green=$(( m0 + 2 ))
minute_trace "$T/trace.csv" 600 50 $green
ROOT_JOBS=false write_config 1 "slot: 1m" "max_gap: 0s" "socket_mode: 0666" \
	"planner:" "  safety_margin: 0" "  replan: 1m" "  default_max_delay: 0s"
site_trace XX "$T/trace.csv" "min_refresh: 1m"
cat >>"$CONF" <<EOC
  - name: k8s
    backend: kubernetes
    cpus: 8
    gpus: 2
    kubernetes:
      kubeconfig: $KUBECONFIG
      node_selector: {ebb.dev/pool: green}
EOC
site_trace XX "$T/trace.csv" "min_refresh: 1m"
cat >>"$CONF" <<EOC
  - name: k8s-b
    backend: kubernetes
    cpus: 8
    kubernetes:
      kubeconfig: $KUBECONFIG
      namespace: team-b
EOC
minute_trace "$T/clean.csv" 50 50
site_trace YY "$T/clean.csv" "min_refresh: 1m"
start_ebbd

# 1. Deferred: a suspended Job at once, as the user.
id=$(as_user submit -q --name green --site k8s --image busybox:1.36 --gpus 1 \
	--duration 20s --max-delay 8m -- sh -c 'echo hello')
wait_field "$id" state planned && ok "planned" || fail "job is $(job_field "$id" state)"
expect_eq "planned into the green minute" $(( green * 60 )) "$(job_field "$id" planned_start)"
for _ in $(seq 1 50); do [ "$(job_field "$id" ext_id)" != null ] && break; sleep 0.2; done
name=$(job_field "$id" ext_id)
expect_eq "handed over as a Job named after the job" "ebb-" "${name:0:4}"
job=$(kube_api GET "/apis/batch/v1/namespaces/default/jobs/$name")
expect_eq "the Job is suspended" true "$(jq -r .spec.suspend <<<"$job")"
expect_eq "labelled with the job id" "$id" "$(jq -r '.metadata.labels["ebb.dev/job"]' <<<"$job")"
expect_eq "pod runs as the submitter" "$(id -u $U) $(id -g $U) true" \
	"$(jq -r '.spec.template.spec.securityContext | "\(.runAsUser) \(.runAsGroup) \(.runAsNonRoot)"' <<<"$job")"
expect_eq "image and command" 'busybox:1.36 ["sh","-c","echo hello"]' \
	"$(jq -c -r '.spec.template.spec.containers[0] | "\(.image) \(.command)"' <<<"$job")"
expect_eq "node selector of the site" green \
	"$(jq -r '.spec.template.spec.nodeSelector["ebb.dev/pool"]' <<<"$job")"
expect_eq "its GPUs, limit and request" "1 1" \
	"$(jq -r '.spec.template.spec.containers[0].resources | "\(.limits["nvidia.com/gpu"]) \(.requests["nvidia.com/gpu"])"' <<<"$job")"
expect_eq "no privilege escalation" false \
	"$(jq -r '.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation' <<<"$job")"

# 2. A re-plan moves only the release: the Job stays suspended.
green=$(( m0 + 3 ))
minute_trace "$T/trace.csv" 600 50 $green
"$EBB" sites --refresh >/dev/null
wait_field "$id" planned_start $(( green * 60 )) 150 &&
	ok "re-planned to the new green minute" ||
	fail "planned_start $(job_field "$id" planned_start)"

# 3. Cancel deletes the Job.
c=$(as_user submit -q --name doomed --site k8s --image busybox --duration 20s \
	--max-delay 8m -- sleep 60)
for _ in $(seq 1 50); do [ "$(job_field "$c" ext_id)" != null ] && break; sleep 0.2; done
cname=$(job_field "$c" ext_id)
as_user cancel "$c" >/dev/null
wait_field "$c" state cancelled && ok "cancelled" || fail "state $(job_field "$c" state)"
for _ in $(seq 1 50); do [ "$(jobs_labelled "$c" | jq '.items | length')" = 0 ] && break; sleep 0.2; done
expect_eq "its Job is gone" 0 "$(jobs_labelled "$c" | jq '.items | length')"
expect_eq "deleted with propagation Background" Background \
	"$(fake_log | jq -r "select(.method == \"DELETE\" and (.path | endswith(\"/$cname\"))) | .propagation")"

# 4. A create whose answer is lost: found by its label, not created twice.
posts() { fake_log | jq -s '[.[] | select(.method == "POST")] | length'; }
kube_api POST /fake/drop-next-create >/dev/null
p0=$(posts)
d=$(as_user submit -q --name lost --site k8s --image busybox --duration 20s \
	--max-delay 8m -- true)
for _ in $(seq 1 100); do [ "$(job_field "$d" ext_id)" != null ] && break; sleep 0.2; done
expect_eq "the lost create's Job was found again" "ebb-" "$(job_field "$d" ext_id | cut -c1-4)"
sleep 2
expect_eq "exactly one Job for it" 1 "$(jobs_labelled "$d" | jq '.items | length')"
expect_eq "one create sent for it (none after the lost answer)" 1 "$(( $(posts) - p0 ))"
expect_eq "and it is still planned, not refused" planned "$(job_field "$d" state)"

# 5. The API server down: ebb waits, then creates the Job once.
kube_stop
e=$(as_user submit -q --name waits --site k8s --image busybox --duration 20s \
	--max-delay 8m -- true)
sleep 3
expect_eq "not handed over while the API is down" null "$(job_field "$e" ext_id)"
"$EBB" sites --json | jq -e '[.. | objects | select(.name? == "k8s") | .backend_status.state] | index("failing")' >/dev/null &&
	ok "ebb sites says the API is failing" || fail "sites: $("$EBB" sites --json)"
kube_launch "$KF_PORT"
for _ in $(seq 1 150); do [ "$(job_field "$e" ext_id)" != null ] && break; sleep 0.2; done
[ "$(job_field "$e" ext_id)" != null ] && ok "handed over once the API is back" || fail "not handed over"
expect_eq "exactly one Job for it" 1 "$(jobs_labelled "$e" | jq '.items | length')"

# 6. Adoption (controller mode): a suspended Job made with kubectl.
kjob() { # NAME ANNOTATIONS LABELS
	cat <<EOJ
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
  annotations: {$2}
  labels: {$3}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sleep, "1"]}]
EOJ
}
kjob adoptme '"ebb.dev/max-delay": 8m, "ebb.dev/duration": 20s' 'team: x' >"$T/adopt.yaml"
kjob kueued '"ebb.dev/max-delay": 8m' '"kueue.x-k8s.io/queue-name": q' >"$T/kueue.yaml"
kjob elsewhere '"ebb.dev/max-delay": 8m, "ebb.dev/sites": "k8s-b"' '' >"$T/elsewhere.yaml"
kubectl --validate=false create -f "$T/adopt.yaml" >/dev/null &&
	kubectl --validate=false create -f "$T/kueue.yaml" >/dev/null &&
	kubectl --validate=false create -f "$T/elsewhere.yaml" >/dev/null ||
	fail "kubectl create"
adopted=
for _ in $(seq 1 100); do
	adopted=$("$EBB" queue --all --json | jq -r '.[] | select(.ext_id == "adoptme") | .id')
	[ -n "$adopted" ] && break; sleep 0.2
done
[ -n "$adopted" ] && ok "the kubectl Job was adopted as job $adopted" || fail "not adopted"
wait_field "$adopted" planned_start $(( green * 60 )) 150 &&
	ok "adopted Job planned into the green minute" ||
	fail "adopted Job planned at $(job_field "$adopted" planned_start)"
expect_eq "its duration from the annotation" 20 "$(job_field "$adopted" duration)"
expect_eq "adopted once" 1 "$("$EBB" queue --all --json | jq '[.[] | select(.ext_id == "adoptme")] | length')"
expect_eq "the Kueue Job is not ebb's" 0 "$("$EBB" queue --all --json | jq '[.[] | select(.ext_id == "kueued")] | length')"
grep -q "Job kueued asks ebb to plan it but Kueue manages it" "$LOG" &&
	ok "and the log says why" || fail "no log line for the Kueue Job"
expect_eq "a Job whose ebb.dev/sites names another cluster is not adopted" 0 \
	"$("$EBB" queue --all --json | jq '[.[] | select(.ext_id == "elsewhere")] | length')"
grep -q "Job elsewhere asks ebb to plan it but its ebb.dev/sites does not list k8s" "$LOG" &&
	ok "and the log says why" || fail "no log line for the Job meant elsewhere"

# 7. Two clusters: a job allowed on both goes where the grid is clean now.
b=$(as_user submit -q --name anywhere --site k8s,k8s-b --image busybox 	--duration 20s --max-delay 8m -- true)
wait_field "$b" site k8s-b && ok "placed on the cleaner cluster" || fail "site $(job_field "$b" site)"
for _ in $(seq 1 50); do [ "$(job_field "$b" state)" = running ] && break; sleep 0.2; done
expect_eq "released there at once" running "$(job_field "$b" state)"
expect_eq "in that cluster's namespace" 1 \
	"$(kube_api GET "/apis/batch/v1/namespaces/team-b/jobs?labelSelector=ebb.dev/job%3D$b" | jq '.items | length')"

# 8. A watch whose resourceVersion expired: ebb lists again.
n0=$(fake_log | jq -r 'select(.method == "GET" and .watch != true and (.path | endswith("/jobs")))' | jq -s length)
kube_api POST /fake/compact >/dev/null
kube_api PATCH "/apis/batch/v1/namespaces/default/jobs/$name" \
	-H 'Content-Type: application/merge-patch+json' -d '{"metadata":{"annotations":{"x":"1"}}}' >/dev/null
for _ in $(seq 1 50); do
	n1=$(fake_log | jq -r 'select(.method == "GET" and .watch != true and (.path | endswith("/jobs")))' | jq -s length)
	[ "$n1" -gt "$n0" ] && break; sleep 0.2
done
[ "$n1" -gt "$n0" ] && ok "listed again after 410 Expired" || fail "no new LIST ($n0 -> $n1)"
fake_log | jq -r 'select(.method == "GET" and .watch != true and (.path | endswith("/jobs"))) | .query' |
	grep -q "continue=" && ok "LISTs went over several pages" || fail "no continue token used"
expect_eq "and every Job of ours was found: none reported gone" 0 "$(grep -c 'deleted in Kubernetes\|vanished while' "$LOG")"

# 9. A Job someone made first with the name ebb would give: not taken.
inst=$(cat "$STATE/kube-instance")
[ ${#inst} = 16 ] && ok "instance id $inst kept in the state" || fail "instance '$inst'"
last=$("$EBB" queue --all --json | jq '[.[].id] | max')
sq=$((last + 1))
kjob "ebb-$inst-$sq" '' '' >"$T/squat.yaml"
kubectl --validate=false create -f "$T/squat.yaml" >/dev/null || fail "kubectl create squat"
s=$(as_user submit -q --name squatted --site k8s --image busybox --duration 20s --max-delay 8m -- true)
expect_eq "the next id is the squatted one" "$sq" "$s"
wait_field "$s" state failed 100 && ok "the job fails rather than take it" || fail "state $(job_field "$s" state)"
job_field "$s" reason | grep -q "not made by ebb" && ok "and says why" || fail "reason: $(job_field "$s" reason)"
expect_eq "the squatter's Job is untouched" true \
	"$(kube_api GET "/apis/batch/v1/namespaces/default/jobs/ebb-$inst-$sq" | jq -r .spec.suspend)"

# 10. Bad input.
out=$(as_user submit --site k8s --image 'busybox;rm -rf /' -- true 2>&1); rc=$?
expect_eq "an image that is no image reference: exit 2" 2 "$rc"
echo "$out" | grep -q "image: .* is not an image reference" && ok "says why: $out" || fail "said: $out"
out=$(as_user submit --site k8s --duration 20s --max-delay 8m -- true 2>&1); rc=$?
expect_eq "a job without an image for a Kubernetes site: exit 2" 2 "$rc"
echo "$out" | grep -q "run containers only: give an image" && ok "says why: $out" || fail "said: $out"
out=$(as_user submit --site local --image busybox -- true 2>&1); rc=$?
expect_eq "an image for a site without containers: exit 2" 2 "$rc"
echo "$out" | grep -q "none of the job's sites runs containers" && ok "says why: $out" || fail "said: $out"

# 11. Released at the planned minute with a merge patch and the Job's
# resourceVersion (the first one meets a change made just before it: 409,
# read again, patched again); the cluster's end reaches ebb.
kube_api POST "/fake/race-next-patch/default/$name" >/dev/null
# A Job template as the job file, through ebb to the cluster.
kjob tmpl '"ebb.dev/max-delay": 8m, "ebb.dev/duration": 20s, "ebb.dev/sites": k8s' '' >"$T/tmpl.yaml"
sed -i 's/command: \[sleep, "1"\]/command: [sleep], args: ["2"], resources: {limits: {cpu: 1500m, memory: 64Mi}}/' "$T/tmpl.yaml"
tj=$(as_user submit -q -f "$T/tmpl.yaml")
for _ in $(seq 1 50); do [ "$(job_field "$tj" ext_id)" != null ] && break; sleep 0.2; done
tjob=$(kube_api GET "/apis/batch/v1/namespaces/default/jobs/$(job_field "$tj" ext_id)")
expect_eq "a Job template: its container as ebb makes it" 'busybox ["sleep","2"] 2 67108864' \
	"$(jq -c -r '.spec.template.spec.containers[0] | "\(.image) \(.command) \(.resources.limits.cpu) \(.resources.limits.memory)"' <<<"$tjob")"
expect_eq "named after the template" tmpl "$(job_field "$tj" name)"

for _ in $(seq 1 240); do
	[ "$(kube_api GET "/apis/batch/v1/namespaces/default/jobs/$name" | jq -r .spec.suspend)" = false ] && break
	sleep 1
done
now=$(date +%s)
[ "$now" -ge $(( green * 60 )) ] && [ "$now" -lt $(( green * 60 + 60 )) ] &&
	ok "released in the green minute" || fail "released at $(date -d @$now +%T), green $(date -d @$((green * 60)) +%T)"
rel="select(.method == \"PATCH\" and (.path | endswith(\"/$name\")) and .patch.spec.suspend == false)"
p=$(fake_log | jq -c "$rel" | head -1)
expect_eq "as application/merge-patch+json" application/merge-patch+json "$(jq -r .content_type <<<"$p")"
[ "$(jq -r .patch_rv <<<"$p")" != null ] && ok "carrying the Job's resourceVersion" || fail "patch: $p"
expect_eq "released after one conflict: two patches, the first 409" "409 200" \
	"$(fake_log | jq -r "$rel | .status" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the second with the version the first lacked" 2 \
	"$(fake_log | jq -r "$rel | .patch_rv" | sort -u | wc -l)"
wait_field "$id" state running && ok "running" || fail "state $(job_field "$id" state)"
wait_field "$adopted" state running && ok "the adopted Job was released too" ||
	fail "adopted: $(job_field "$adopted" state)"
expect_eq "the Kueue Job is still suspended" true \
	"$(kube_api GET /apis/batch/v1/namespaces/default/jobs/kueued | jq -r .spec.suspend)"
sleep 2
kube_api POST "/fake/complete/default/$name" >/dev/null
wait_field "$id" state succeeded && ok "succeeded" || fail "state $(job_field "$id" state)"
kube_api POST "/fake/fail/default/$(job_field "$adopted" ext_id)" >/dev/null
wait_field "$adopted" state failed && ok "a Failed Job fails" || fail "state $(job_field "$adopted" state)"
job_field "$adopted" reason | grep -q "Job failed in Kubernetes: BackoffLimitExceeded" &&
	ok "with the cluster's reason" || fail "reason: $(job_field "$adopted" reason)"
r=$("$EBB" report --format json "$id")
expect_eq "energy modelled from cpus and run time" model "$(jq -r '.jobs[0].method' <<<"$r")"
awk -v e="$(jq '.jobs[0].energy_kwh' <<<"$r")" 'BEGIN { exit !(e > 0) }' &&
	ok "energy $(jq '.jobs[0].energy_kwh' <<<"$r") kWh" || fail "report: $r"

grep -q "$(cat "$T/kf/token")" "$LOG" && fail "the token is in ebbd's log" || ok "no token in the log"
finish
