#!/bin/bash
# it_export: final ledger rows pushed to a loopback receiver
# (helpers/export-sink.py) that is down, fails with 5xx, hangs, redirects,
# answers too much, refuses large batches, restarts, and loses an
# acknowledgement while ebbd is killed with -9. In the end the receiver
# holds every final ledger row, equal to `ebb report`'s, each key exactly
# once except the rows of the one batch whose acknowledgement was lost
# (the documented duplicate, counted); the rows carry the bearer token. A
# second user's job name, written to forge a row, arrives as a name; an
# https endpoint is refused until export.ca_file names its CA (SIGHUP).
. "$(dirname "$0")/lib.sh"

SINK=$T/sink
mkdir -p "$SINK"
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill -KILL $SINK_PID 2>/dev/null; cleanup' EXIT
echo ok > "$SINK/mode"
echo "s3cret-token" > "$SINK/token"
cp "$SINK/token" "$T/token"
[ "$(id -u)" = 0 ] && chown ebb "$T/token"	# read by the worker
PORT=$((20000 + RANDOM % 30000))
MPORT=$((PORT > 35000 ? PORT - 10000 : PORT + 10000))
# metric NAME: its value at ebbd's /metrics (empty if absent).
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

start_sink() {
	python3 "$EBB_TREE/tests/helpers/export-sink.py" "$SINK" "$PORT" \
	    ${TLS:+"$T/cert.pem" "$T/key.pem"} >>"$SINK/out" 2>&1 &
	SINK_PID=$!
	for _ in $(seq 1 100); do
		[ "$(grep -c listening "$SINK/out")" -ge "${1:-1}" ] && return 0
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "export-sink did not start:"; cat "$SINK/out"; exit 1
}
stop_sink() { kill -KILL "$SINK_PID"; wait "$SINK_PID" 2>/dev/null; SINK_PID=; }
# Distinct keys, and rows, the receiver holds.
nkeys() { [ -f "$SINK/rows.jsonl" ] && jq -r .key "$SINK/rows.jsonl" | sort -u | wc -l || echo 0; }
nrows() { [ -f "$SINK/rows.jsonl" ] && wc -l < "$SINK/rows.jsonl" || echo 0; }
# Requests the receiver saw in MODE.
nreq() { grep -c " $1 " "$SINK/requests.log" 2>/dev/null; }
# wait_until SECONDS CMD...: until CMD succeeds.
wait_until() {
	local end=$((SECONDS + $1)); shift
	while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.2; done
	return 1
}
keys_are() { [ "$(nkeys)" = "$1" ]; }
reqs_at_least() { [ "$(nreq "$1")" -ge "$2" ]; }
final_rows() { "$EBB" report --format json | jq '[.jobs[] | select(.status == "final")] | length'; }
finals_are() { [ "$(final_rows)" = "$1" ]; }
# run_jobs N: N short jobs, all ended and their rows final.
TOTAL=0
run_jobs() {
	local i
	for i in $(seq 1 "$1"); do "$EBB" submit -q -- true >/dev/null; done
	TOTAL=$((TOTAL + $1))
	wait_final 60 && wait_until 30 finals_are $TOTAL ||
	    fail "$TOTAL final ledger rows (have $(final_rows))"
}

write_config 2 "socket_mode: 0666" "metrics:" "  port: $MPORT" "energy:" "  final_after: 0s" "export:" \
    "  url: http://127.0.0.1:$PORT/ingest" "  batch: 3" "  interval: 1s" \
    "  timeout: 4s" "  max_backoff: 1s" "  token_file: $T/token"
start_ebbd

# 1. The endpoint is down: rows wait; up: they arrive.
run_jobs 4
wait_until 20 grep -q "export: connection refused" "$LOG" &&
    ok "endpoint down: connection refused logged" || fail "no refusal logged"
start_sink
wait_until 30 keys_are $TOTAL && ok "endpoint up: $TOTAL rows arrived" ||
    fail "after the outage: $(nkeys) of $TOTAL rows"
expect_eq "rows came in batches of at most 3" 0 \
    "$(awk '$3 > 3' "$SINK/requests.log" | wc -l)"

# 2. A row that becomes final after one of a larger job id is not skipped.
long=$("$EBB" submit -q -- sh -c "while [ ! -e $T/go ]; do sleep 0.1; done")
wait_field "$long" state running 50
"$EBB" submit -q -- true >/dev/null
TOTAL=$((TOTAL + 1))
wait_until 20 keys_are $TOTAL && ok "short job's row sent while job $long runs" ||
    fail "short job: $(nkeys) of $TOTAL rows"
expect_eq "job $long still running then" running "$(job_field "$long" state)"
touch "$T/go"
TOTAL=$((TOTAL + 1))
wait_final 60; wait_until 30 finals_are $TOTAL
wait_until 20 keys_are $TOTAL && ok "row of job $long, final later, not skipped" ||
    fail "job $long's row never sent ($(nkeys) of $TOTAL)"

# 2b. A second user names a job to break out of its JSON string: the
#     row arrives with that name, and no other row with it.
if [ "$(id -u)" = 0 ]; then
	U=ebbexp1
	test_users $U
	evil='x"},{"key":"forged","id":99}],"rows":[{"\\é'
	as $U "$EBB" submit -q --workdir /tmp --name "$evil" -- true >/dev/null ||
	    fail "submit as $U"
	TOTAL=$((TOTAL + 1))
	wait_final 60; wait_until 30 finals_are $TOTAL
	wait_until 20 keys_are $TOTAL && ok "$U's row arrived" || fail "$U's row: $(nkeys) of $TOTAL"
	expect_eq "its name, as written" "$evil" \
	    "$(jq -r --arg u $U 'select(.user == $u) | .name' "$SINK/rows.jsonl")"
	expect_eq "no forged key" 0 "$(grep -c '"key": "forged"' "$SINK/rows.jsonl")"
else
	echo "skip: a second user's job (needs root to create the user)"
fi

# 3. 5xx: retried with backoff; nothing stored until it answers 2xx.
echo fail500 > "$SINK/mode"
run_jobs 2
wait_until 20 reqs_at_least fail500 2 && ok "5xx retried" || fail "5xx: $(nreq fail500) tries"
expect_eq "nothing stored during the 5xx" $((TOTAL - 2)) "$(nkeys)"
expect_eq "/metrics: 2 rows waiting" 2 "$(metric ebb_export_rows_waiting)"
[ "$(metric ebb_export_failures_total)" -ge 2 ] && ok "/metrics: failures counted" ||
    fail "/metrics: failures $(metric ebb_export_failures_total)"
echo ok > "$SINK/mode"
wait_until 20 keys_are $TOTAL && ok "after the 5xx: $TOTAL rows" || fail "after 5xx: $(nkeys) of $TOTAL"

# 4. A hang: the 4 s timeout ends the POST, the rows are sent again.
echo hang > "$SINK/mode"
run_jobs 2
wait_until 20 reqs_at_least hang 2 && ok "hung POST timed out and was retried" ||
    fail "hang: $(nreq hang) tries"
grep -q "export: timed out after 4.0 s" "$LOG" && ok "timeout logged" || fail "no timeout logged"
echo ok > "$SINK/mode"
wait_until 20 keys_are $TOTAL && ok "after the hang: $TOTAL rows" || fail "after hang: $(nkeys) of $TOTAL"

# 5. A redirect is not followed, a huge answer is cut, a 413 halves the
#    batch: none of them loses a row.
echo fail500 > "$SINK/mode"
run_jobs 3
printf 'redirect\nhuge\nmax1\n' > "$SINK/mode"
wait_until 30 keys_are $TOTAL && ok "after redirect, huge answer and 413: $TOTAL rows" ||
    fail "redirect/huge/413: $(nkeys) of $TOTAL"
expect_eq "one redirect, one huge answer" "1 1" "$(nreq redirect) $(nreq huge)"
grep -q "redirects are not followed" "$LOG" && ok "redirect explained" || fail "redirect not logged"
grep -q "response larger than" "$LOG" && ok "huge answer refused" || fail "huge answer not logged"
grep -q "HTTP 413: the endpoint refuses 3 rows at once; sending 1 at a time" "$LOG" &&
    ok "413 halved the batch" || fail "413 not handled: $(grep 413 "$LOG")"
echo ok > "$SINK/mode"

# 6. kill -9 of ebbd between the send and the cursor's commit: the
#    receiver stores the batch and holds the answer; ebbd dies; the
#    restarted ebbd sends the batch again (the lost acknowledgement).
printf 'storehang\nhang\n' > "$SINK/mode"
run_jobs 2
wait_until 20 reqs_at_least storehang 1 || fail "no storehang request"
kill9_ebbd
lost=$(awk '$2 == "storehang" {print $3}' "$SINK/requests.log")
[ "${lost:-0}" -ge 1 ] && ok "the receiver stored $lost row(s) and held the answer" ||
    fail "no rows in the lost batch"
echo ok > "$SINK/mode"
start_ebbd
wait_until 30 keys_are $TOTAL && ok "after kill -9: $TOTAL rows" || fail "after kill -9: $(nkeys) of $TOTAL"

# 7. The receiver restarts: killed while a POST hangs, jobs end while it
#    is down, then it comes back with its state.
h0=$(nreq hang)
echo hang > "$SINK/mode"
run_jobs 1
wait_until 20 reqs_at_least hang $((h0 + 1)) || fail "no hanging request before the restart"
stop_sink
run_jobs 2
echo ok > "$SINK/mode"
start_sink 2
wait_until 30 keys_are $TOTAL && ok "receiver restarted: $TOTAL rows" || fail "after restart: $(nkeys) of $TOTAL"

# 8. Once acknowledged, never again: a restart of ebbd sends nothing.
before=$(nrows)
stop_ebbd
start_ebbd
sleep 3
expect_eq "nothing resent after a clean restart" "$before" "$(nrows)"

# 9. https, by SIGHUP: without the endpoint's CA the rows wait (the
#    certificate is checked), with export.ca_file they arrive.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
    -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null ||
    fail "no test certificate"
chmod 644 "$T/cert.pem"
stop_sink
TLS=1 start_sink 3
tls_config() {
	write_config 2 "socket_mode: 0666" "metrics:" "  port: $MPORT" "energy:" "  final_after: 0s" "export:" \
	    "  url: https://127.0.0.1:$PORT/ingest" "  batch: 3" "  interval: 1s" \
	    "  timeout: 4s" "  max_backoff: 1s" "  token_file: $T/token" "$@"
}
tls_config
kill -HUP "$EBBD_PID"
run_jobs 1
wait_until 20 grep -q "export: .*certificate" "$LOG" &&
    ok "unknown CA refused" || fail "no certificate error: $(grep export: "$LOG" | tail -3)"
expect_eq "nothing sent to an unverified endpoint" $((TOTAL - 1)) "$(nkeys)"
tls_config "  ca_file: $T/cert.pem"
kill -HUP "$EBBD_PID"
wait_until 20 keys_are $TOTAL && ok "https with ca_file: $TOTAL rows" ||
    fail "https: $(nkeys) of $TOTAL"

# The receiver holds the row a moment before ebbd reads its answer.
metric_is() { [ "$(metric "$1")" = "$2" ]; }
wait_until 10 metric_is ebb_export_rows_waiting 0 && ok "/metrics: nothing waiting" ||
    fail "/metrics: $(metric ebb_export_rows_waiting) rows waiting, want 0"
last=$(metric ebb_export_last_success_timestamp_seconds)
[ -n "$last" ] && [ $(( $(date +%s) - ${last%.*} )) -lt 60 ] &&
    ok "/metrics: last success just now" || fail "/metrics: last success [$last]"
if command -v promtool >/dev/null; then
	curl -s "http://127.0.0.1:$MPORT/metrics" | promtool check metrics &&
	    ok "promtool accepts the export's metrics" || fail "promtool check metrics"
fi

# The receiver's rows against the ledger: the same set, the same rows.
"$EBB" report --format json | jq -c '[.jobs[] | select(.status == "final")] | sort_by(.id)' > "$T/ledger.json"
jq -s -c 'group_by(.key) | map(.[0] | del(.key, .seq, .revision, .batch)) | sort_by(.id)' \
    "$SINK/rows.jsonl" > "$T/got.json"
expect_eq "final ledger rows" "$TOTAL" "$(jq length "$T/ledger.json")"
# Field for field, on the fields a pushed row has (the report may add).
if jq -e --slurpfile a "$T/ledger.json" --slurpfile b "$T/got.json" -n '
    ($a[0] | length) == ($b[0] | length) and
    ([$a[0], $b[0]] | transpose | all(.[1] as $r | ($r | keys) as $k |
	(.[0] | with_entries(select(.key | IN($k[])))) == $r))' >/dev/null; then
	ok "the receiver holds exactly the ledger's final rows, field for field"
else
	fail "rows differ:"; diff <(jq . "$T/ledger.json") <(jq . "$T/got.json") | head -20
fi
instance=$(jq -r '.key | split("-")[0]' "$SINK/rows.jsonl" | sort -u)
expect_eq "one instance" 1 "$(echo "$instance" | wc -l)"
bad=$(jq -r --arg i "$instance" 'select(.key != "\($i)-\(.id)-\(.revision)") | .key' "$SINK/rows.jsonl" | wc -l)
expect_eq "keys are INSTANCE-ID-REVISION" 0 "$bad"
dups=$(jq -r .key "$SINK/rows.jsonl" | sort | uniq -d | wc -l)
expect_eq "duplicates: exactly the rows of the batch whose answer was lost" "$lost" "$dups"
expect_eq "no key more than twice" 0 "$(jq -r .key "$SINK/rows.jsonl" | sort | uniq -c | awk '$1 > 2' | wc -l)"
expect_eq "no request without the token" 0 "$(grep -c unauthorized "$SINK/requests.log")"
expect_eq "the token is never logged" 0 "$(grep -c s3cret "$LOG")"
seqs=$(jq -s -r 'group_by(.key) | map(.[0].seq) | sort | map(tostring) | join(" ")' "$SINK/rows.jsonl")
expect_eq "seq numbers unique" "$TOTAL" "$(echo "$seqs" | wc -w)"
finish
