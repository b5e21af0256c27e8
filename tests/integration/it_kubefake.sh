#!/bin/bash
# it_kubefake: the local Kubernetes API stand-in (tests/helpers/kube-fake.py)
# is checked with a real client, kubectl, so that it cannot drift from what
# real clients send and accept: create, get, patch (merge), delete and
# get --watch, with a token and with a client certificate over TLS; and
# it enforces what ebb relies on: 401 without credentials, TLS with the
# test CA only, 415 for a patch of another content type, 409 on a stale
# resourceVersion, 422 for a Job the batch/v1 schema or the server-side
# rules refuse, and 410 (an ERROR event in a 200 stream) for a watch from
# an expired resourceVersion.
set -u
: "${EBB_SRC:?run through ctest}"
. "$(dirname "$0")/kube-lib.sh"
kube_need
command -v kubectl >/dev/null ||
    { echo "SKIP: kubectl not installed (Debian kubernetes-client; sh .ci/deps)"; exit 77; }
T=$(mktemp -d /tmp/ebb-kf.XXXXXX)
trap 'kube_stop; [ "$FAILS" = 0 ] && rm -rf "$T"' EXIT
FAILS=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

kube_start "$T/kf" || { echo "FAIL: kube-fake did not start"; exit 1; }
KC="kubectl --request-timeout=10s"

cat >"$T/job.yaml" <<EOJ
apiVersion: batch/v1
kind: Job
metadata:
  name: demo
  labels: {ebb.dev/job: "7"}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "1"]
        resources: {requests: {cpu: 1}}
EOJ
# kubectl's client-side validation needs the protobuf OpenAPI document,
# which the stand-in does not serve: the stand-in validates server-side.
out=$($KC create --validate=false -f "$T/job.yaml" 2>&1)
check "kubectl create: $out" test "$out" = "job.batch/demo created"
check "created suspended, condition Suspended=True" test \
    "$($KC get job demo -o jsonpath='{.spec.suspend} {.status.conditions[?(@.type=="Suspended")].status}')" = "true True"
check "kubectl get -l lists it" test "$($KC get jobs -l ebb.dev/job=7 -o name)" = "job.batch/demo"
sed 's/name: demo/name: demo2/' "$T/job.yaml" >"$T/job2.yaml"
$KC create --validate=false -f "$T/job2.yaml" >/dev/null
check "kubectl get --chunk-size=1 pages through continue tokens" test \
    "$($KC get jobs --chunk-size=1 -o name | tr '\n' ' ')" = "job.batch/demo job.batch/demo2 "
check "the first page said what remains" test \
    "$(kube_api GET '/apis/batch/v1/namespaces/default/jobs?limit=1' | jq -r '.metadata.remainingItemCount')" = 1
$KC delete job demo2 >/dev/null
check "kubectl get -l that matches nothing" test -z "$($KC get jobs -l ebb.dev/job=8 -o name 2>/dev/null)"

$KC get jobs --watch -o jsonpath='{.metadata.name} {.spec.suspend}{"\n"}' >"$T/watch" 2>&1 &
W=$!
sleep 1.5
out=$($KC patch job demo --type merge -p '{"spec":{"suspend":false}}' 2>&1)
check "kubectl patch --type merge: $out" test "$out" = "job.batch/demo patched"
check "released: active 1, startTime set, Suspended=False" test \
    "$($KC get job demo -o jsonpath='{.status.active} {.status.conditions[?(@.type=="Suspended")].status}')" = "1 False"
check "patch went as application/merge-patch+json" \
    grep -q '"method": "PATCH".*"content_type": "application/merge-patch+json"' \
    <(kube_api GET /fake/log)
kube_api POST /fake/complete/default/demo >/dev/null
check "kubectl sees Complete" test \
    "$($KC get job demo -o jsonpath='{.status.conditions[?(@.type=="Complete")].status} {.status.succeeded}')" = "True 1"
out=$(kubectl --context fake-cert get job demo -o name 2>&1)
check "client certificate authenticates: $out" test "$out" = "job.batch/demo"
check "that request used the certificate" test \
    "$(kube_api GET /fake/log | tail -1 | jq -r .auth)" = cert
out=$($KC delete job demo 2>&1)
check "kubectl delete: $out" test "$out" = 'job.batch "demo" deleted'
check "delete went with propagation Background" test \
    "$(kube_api GET /fake/log | jq -r 'select(.method == "DELETE" and (.path | endswith("/demo"))) | .propagation')" = Background
check "gone" test "$($KC get jobs -o name | wc -l)" = 0
sleep 1
kill $W 2>/dev/null; wait $W 2>/dev/null
check "kubectl get --watch saw added, released, deleted: $(tr '\n' '|' <"$T/watch")" \
    test "$(tr '\n' '|' <"$T/watch")" = "demo true|demo false|demo false|demo false|"

# What the stand-in enforces.
code() { kube_api "$@" -o /dev/null -w '%{http_code}'; }
check "no credentials: 401" test "$(curl -sS --cacert "$T/kf/ca.crt" -o /dev/null \
    -w '%{http_code}' "$KF_URL/apis/batch/v1/namespaces/default/jobs")" = 401
check "wrong token: 401" test "$(curl -sS --cacert "$T/kf/ca.crt" -H 'Authorization: Bearer x' \
    -o /dev/null -w '%{http_code}' "$KF_URL/apis/batch/v1/namespaces/default/jobs")" = 401
no_ca() { ! curl -sS -o /dev/null "$KF_URL/version" 2>/dev/null; }
check "TLS: a client without the test CA is refused" no_ca
$KC create --validate=false -f "$T/job.yaml" >/dev/null
rv=$(kube_api GET /apis/batch/v1/namespaces/default/jobs/demo | jq -r .metadata.resourceVersion)
check "patch as application/json: 415" test "$(code PATCH \
    /apis/batch/v1/namespaces/default/jobs/demo -H 'Content-Type: application/json' \
    -d '{"spec":{"suspend":false}}')" = 415
check "patch with the current resourceVersion: 200" test "$(code PATCH \
    /apis/batch/v1/namespaces/default/jobs/demo -H 'Content-Type: application/merge-patch+json' \
    -d "{\"metadata\":{\"resourceVersion\":\"$rv\",\"annotations\":{\"a\":\"1\"}}}")" = 200
check "patch with a stale resourceVersion: 409" test "$(code PATCH \
    /apis/batch/v1/namespaces/default/jobs/demo -H 'Content-Type: application/merge-patch+json' \
    -d "{\"metadata\":{\"resourceVersion\":\"$rv\"},\"spec\":{\"suspend\":false}}")" = 409
check "stale patch changed nothing" test \
    "$(kube_api GET /apis/batch/v1/namespaces/default/jobs/demo | jq -r .spec.suspend)" = true
sed 's/suspend: true/suspnd: true/; s/name: demo/name: typo/' "$T/job.yaml" >"$T/typo.yaml"
# (kubectl 1.20 prints only "The request is invalid": the status is read
# from the stand-in's log)
last_post() { kube_api GET /fake/log | jq -r 'select(.method == "POST") | .status' | tail -1; }
refused() { ! $KC create --validate=false -f "$1" >/dev/null 2>&1 && [ "$(last_post)" = 422 ]; }
check "kubectl create of a Job with an unknown field: refused, 422" refused "$T/typo.yaml"
check "the reason names the field" grep -q "'suspnd' was unexpected" \
    <(kube_api POST /apis/batch/v1/namespaces/default/jobs -H 'Content-Type: application/json' \
    -d "$($KC create --validate=false --dry-run=client -f "$T/typo.yaml" -o json)")
sed 's/name: demo/name: Bad_Name/' "$T/job.yaml" >"$T/name.yaml"
check "kubectl create of a Job with a bad name: refused, 422" refused "$T/name.yaml"
check "patch that breaks the schema: 422" test "$(code PATCH \
    /apis/batch/v1/namespaces/default/jobs/demo -H 'Content-Type: application/merge-patch+json' \
    -d '{"spec":{"suspend":"yes"}}')" = 422
check "create twice: 409" test "$(code POST /apis/batch/v1/namespaces/default/jobs \
    -H 'Content-Type: application/json' -d "$($KC create --validate=false --dry-run=client -f "$T/job.yaml" -o json)")" = 409
old=$rv
kube_api POST /fake/compact >/dev/null
ev=$(kube_api GET "/apis/batch/v1/namespaces/default/jobs?watch=1&resourceVersion=$old&timeoutSeconds=2")
check "watch from an expired resourceVersion: ERROR event with 410 in the stream: $ev" \
    test "$(jq -r '.type + " " + (.object.code|tostring)' <<<"$ev")" = "ERROR 410"
now=$(kube_api GET /apis/batch/v1/namespaces/default/jobs | jq -r .metadata.resourceVersion)
(sleep 1; kube_api PATCH /apis/batch/v1/namespaces/default/jobs/demo \
    -H 'Content-Type: application/merge-patch+json' -d '{"spec":{"suspend":false}}' >/dev/null) &
P=$!
ev=$(kube_api GET "/apis/batch/v1/namespaces/default/jobs?watch=1&resourceVersion=$now&timeoutSeconds=3")
wait $P
check "watch from the list's resourceVersion streams the change: $ev" \
    test "$(jq -r '.type + " " + (.object.spec.suspend|tostring)' <<<"$ev")" = "MODIFIED false"
kube_restart
check "state survives a restart" test \
    "$($KC get job demo -o jsonpath='{.spec.suspend}')" = false

[ "$FAILS" = 0 ] || { echo "$FAILS failed"; exit 1; }
echo "all passed"
