#!/bin/bash
# it_socket_abuse: a hostile local user cannot take the control socket from
# the others. User A's connections past its limit are refused with a
# message while user B's `ebb queue` still answers at once; half a frame
# is closed after frame_timeout and a silent connection after
# idle_timeout; replies A pipelines but never reads do not grow ebbd's
# memory; more than 1000 ids in one request are refused, a flood of
# cancels does not hold B up, and `ebb cancel` of 2500 ids sends them in
# batches.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create test users"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
share_bins
ABUSE=$T/bin/sockabuse.py
cp "$EBB_TEST_DATA/helpers/sockabuse.py" "$ABUSE"
test_users ebbit1 ebbit2
getent group ebbit >/dev/null || groupadd ebbit
usermod -a -G ebbit ebbit1; usermod -a -G ebbit ebbit2
as() { local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    env EBB_SOCKET="$SOCK" "$@"; }
# ASan's quarantine holds freed memory back; what is measured here is
# what ebbd buffers.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
write_config 1 "socket_group: ebbit" "control:" \
	"  max_connections_per_user: 32" "  idle_timeout: 2s" \
	"  frame_timeout: 1s" "  max_output: 64K"
start_ebbd

# --- who ebbd takes a peer for: its supplementary groups, from the
# socket; B is in 21 groups, more than ebbd's first guess of 16.
for g in $(seq 1 20); do
	getent group ebbitg$g >/dev/null || groupadd ebbitg$g
done
id -Gn ebbit2 | grep -qw ebbitg20 ||
	usermod -a -G "$(seq -s, -f ebbitg%g 1 20)" ebbit2
hello() { as "$1" python3 "$ABUSE" send "$SOCK" '{"v":1,"cmd":"hello"}'; }
expect_eq "ebbd knows A's groups" true "$(hello ebbit1 |
	jq ".result.groups | index($(getent group ebbit | cut -d: -f3)) != null")"
expect_eq "and all 21 of B's" "$(id -G ebbit2 | tr ' ' '\n' | grep -vx "$(id -g ebbit2)" | sort -n | tr '\n' ' ')" \
	"$(hello ebbit2 | jq -r '.result.groups[]' | grep -vx "$(id -g ebbit2)" | sort -n | tr '\n' ' ')"

# --- 1100 connections of A (more than the 1024 ebbd once allowed), kept
# open past idle_timeout with a hello each second.
ulimit -n 4096
mkfifo "$T/hold.in"
as ebbit1 python3 "$ABUSE" hold "$SOCK" 1100 <"$T/hold.in" >"$T/hold.out" &
hold=$!
exec {holdin}>"$T/hold.in"
for _ in $(seq 1 300); do [ -s "$T/hold.out" ] && break; sleep 0.1; done
line=$(cat "$T/hold.out")
echo "A: $line"
expect_eq "A keeps its limit of connections" kept=32 "${line%% *}"
case $line in
*"refused=1068 why=uid $(id -u ebbit1) already has 32 connections to ebbd, its limit; close some and try again")
	ok "A's other connections are refused with a reason" ;;
*) fail "A's excess connections: $line" ;;
esac
# ebbd's answer, timed from connect to reply (an ebb process under ASan
# takes longer than that just to start); best of three on a busy machine.
best=$(for _ in 1 2 3; do as ebbit2 python3 "$ABUSE" ping "$SOCK"; done |
	sort -n | head -n 1)
[ -n "$best" ] && awk "BEGIN {exit !($best < 100)}" &&
	ok "B's queue request answered in ${best} ms" ||
	fail "B's queue request took ${best:-forever} ms"
as ebbit2 "$EBB" queue >/dev/null && ok "B's ebb queue works" ||
	fail "B's ebb queue failed"
expect_eq "A's refused ebb queue says why" \
	"ebb queue: uid $(id -u ebbit1) already has 32 connections to ebbd, its limit; close some and try again" \
	"$(as ebbit1 "$EBB" queue 2>&1)"
exec {holdin}>&-
wait "$hold"

# --- half a frame, and nothing at all.
out=$(as ebbit1 python3 "$ABUSE" partial "$SOCK")
expect_eq "half a frame is answered" \
	"request not completed within 1 s; closing the connection" \
	"$(echo "$out" | jq -r .reply.error)"
s=$(echo "$out" | jq .closed_after)
[ "$s" != null ] && awk "BEGIN {exit !($s < 3)}" &&
	ok "and closed ${s} s later" || fail "half a frame held: $out"
out=$(as ebbit1 python3 "$ABUSE" idle "$SOCK")
s=$(echo "$out" | jq .closed_after)
[ "$s" != null ] && awk "BEGIN {exit !($s >= 1.5 && $s < 4)}" &&
	ok "a silent connection is closed after ${s} s (idle_timeout 2s)" ||
	fail "silent connection: $out"

# --- replies pipelined and never read: 2 jobs with 100 kB argv make each
# `queue --all` reply 200 kB; 60 of them (12 MB) must not be buffered.
as ebbit1 python3 "$ABUSE" submit "$SOCK" 2 100000 || fail "big submits"
out=$(as ebbit1 python3 "$ABUSE" pipeline "$SOCK" 60 "$EBBD_PID")
echo "pipeline: $out"
grew=${out#rss_growth_kb=}; grew=${grew%% *}
[ "$grew" -lt 6144 ] && ok "ebbd grew ${grew} kB holding 60 unread replies" ||
	fail "ebbd grew ${grew} kB for 60 unread replies"
expect_eq "every pipelined request answered once read" replies=60 "${out##* }"

# --- ids per request.
out=$(python3 "$ABUSE" send "$SOCK" \
	"{\"v\":1,\"cmd\":\"cancel\",\"args\":{\"ids\":[$(seq -s, 1 1001)]}}")
expect_eq "1001 ids refused" \
	"ids: 1001 ids in one request; at most 1000 are allowed (send them in several requests)" \
	"$(echo "$out" | jq -r .error)"
# A floods the loop with cancels: one of 200,000 ids (which once held the
# loop for seconds) and 40 of 1000; B is answered meanwhile.
as ebbit1 python3 "$ABUSE" flood "$SOCK" 40 1000 >"$T/flood.out" 2>&1 &
flood=$!
sleep 0.3
ms=$(as ebbit2 python3 "$ABUSE" ping "$SOCK")
[ -n "$ms" ] && awk "BEGIN {exit !($ms < 500)}" &&
	ok "B answered in ${ms} ms while A floods" ||
	fail "B waited ${ms:-forever} ms while A floods"
wait "$flood"
expect_eq "A's flood: the big one refused, the others answered" \
	"ids: 200000 ids in one request; at most 1000 are allowed (send them in several requests)
ok" "$(cat "$T/flood.out")"
"$EBB" submit -q -- sleep 60 >/dev/null
q=$("$EBB" submit -q -- true)
"$EBB" cancel $(seq 1 2500) >"$T/cancel.out" 2>"$T/cancel.err"
expect_eq "ebb cancel of 2500 ids answers for each" 2500 \
	"$(cat "$T/cancel.out" "$T/cancel.err" | wc -l)"
expect_eq "the queued job among them is cancelled" "job $q cancelled" \
	"$(grep "^job $q " "$T/cancel.out")"
expect_eq "the last id, in the third batch" "ebb cancel: job 2500: no such job" \
	"$(tail -n 1 "$T/cancel.err")"
"$EBB" queue >/dev/null && ok "ebbd still serves" || fail "ebbd died"
finish
