# kube-lib.sh: starting the local Kubernetes API stand-in for the tests
# (sourced, bash). No Kubernetes API server can run on the test machines;
# tests/helpers/kube-fake.py follows the real API's contract for what ebb
# uses (see its docstring) and is itself checked by kubectl (it_kubefake).
#
# kube_start DIR starts one with a fresh test CA, server and client
# certificates and a token under DIR, and sets KF_PORT, KF_PID, KF_URL,
# KF_DIR and KUBECONFIG (context "fake", namespace "default"); kube_stop
# stops it, kube_restart starts it again on the same port and state;
# kube_api METHOD PATH [curl args] calls it with the token.
# Needs python3 with jsonschema (Debian python3-jsonschema) and openssl;
# kube_need skips the test (exit 77) with a reason when they are missing.

: "${EBB_SRC:?}"
# The tests' own files, wherever lib.sh (if sourced) put the examples.
: "${EBB_TREE:=$EBB_SRC}"
KF_PY=/usr/bin/python3

kube_need() {
	command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
	"$KF_PY" -c 'import jsonschema' 2>/dev/null ||
	    { echo "SKIP: python3-jsonschema not installed (sh .ci/deps)"; exit 77; }
}

kube_certs() {
	local d=$1
	(cd "$d" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ebb-test-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout srv.key -out srv.csr -subj /CN=kube-fake &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -out srv.crt -days 2 -extfile srv.ext &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout cli.key -out cli.csr -subj "/CN=ebb/O=ebb" &&
	printf 'extendedKeyUsage=clientAuth\n' >cli.ext &&
	openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -out cli.crt -days 2 -extfile cli.ext &&
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >token) 2>/dev/null
}

kube_launch() {
	rm -f "$KF_DIR/port"
	"$KF_PY" "$EBB_TREE/tests/helpers/kube-fake.py" --cert "$KF_DIR/srv.crt" \
	    --key "$KF_DIR/srv.key" --ca "$KF_DIR/ca.crt" \
	    --token "$(cat "$KF_DIR/token")" \
	    --schema "$EBB_TREE/tests/data/k8s/job-batch-v1.json" \
	    --state "$KF_DIR/state.json" --port "${1:-0}" ${KF_ARGS:-} \
	    >"$KF_DIR/port" 2>>"$KF_DIR/fake.log" &
	KF_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$KF_DIR/port" ] && break
		kill -0 "$KF_PID" 2>/dev/null || { cat "$KF_DIR/fake.log"; return 1; }
		sleep 0.1
	done
	KF_PORT=$(head -1 "$KF_DIR/port")
	KF_URL=https://127.0.0.1:$KF_PORT
}

kube_start() {
	KF_DIR=$1
	mkdir -p "$KF_DIR"
	kube_certs "$KF_DIR" || { echo "cannot make test certificates"; return 1; }
	kube_launch || return 1
	KUBECONFIG=$KF_DIR/kubeconfig
	export KUBECONFIG
	cat >"$KUBECONFIG" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $KF_URL
    certificate-authority: $KF_DIR/ca.crt
users:
- name: tok
  user:
    token: $(cat "$KF_DIR/token")
- name: cert
  user:
    client-certificate: $KF_DIR/cli.crt
    client-key: $KF_DIR/cli.key
contexts:
- name: fake
  context: {cluster: fake, user: tok, namespace: default}
- name: fake-cert
  context: {cluster: fake, user: cert, namespace: default}
current-context: fake
EOK
}

kube_stop() {
	[ -n "${KF_PID:-}" ] && kill "$KF_PID" 2>/dev/null && wait "$KF_PID" 2>/dev/null
	KF_PID=
}

kube_restart() {
	kube_stop
	kube_launch "$KF_PORT"
}

kube_api() {
	local m=$1 p=$2
	shift 2
	curl -sS --cacert "$KF_DIR/ca.crt" -H "Authorization: Bearer $(cat "$KF_DIR/token")" \
	    -X "$m" "$KF_URL$p" "$@"
}
