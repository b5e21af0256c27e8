#!/bin/bash
# socket.sh: ebbd's control socket under a hostile local user
# (docs/benchmarks.md). Usage, as root (it creates two users):
#   bash bench/socket.sh [BUILD_DIR]
# Starts a private ebbd with the default control limits, then measures
# user B's `ebb queue` (whole command, and ebbd's answer alone from
# connect to reply) and ebbd's resident memory: idle; while user A holds
# 2,000 connections; and while A has 300 `queue --all` replies of about
# 1 MB each pipelined and unread. Also: how long a 1,000-id cancel (the
# most one request may name) holds the loop.
set -eu
. "$(dirname "$0")/lib.sh"
bench_root socket.sh
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
bench_dir bench
cp "$SRC/tests/helpers/sockabuse.py" "$T/bin/"
ABUSE=$T/bin/sockabuse.py
for u in ebbbench1 ebbbench2; do
	id -u $u >/dev/null 2>&1 || useradd -M -N -s /bin/sh $u
done
getent group ebbbench >/dev/null || groupadd ebbbench
usermod -a -G ebbbench ebbbench1; usermod -a -G ebbbench ebbbench2
as() { local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    env EBB_SOCKET="$EBB_SOCKET" "$@"; }
cat > "$T/ebb.yaml" <<EOF
state_dir: $T/state
socket: $T/ebbd.sock
socket_group: ebbbench
log_level: error
sites:
  - name: local
    cpus: 1
EOF
"$EBBD" -f -c "$T/ebb.yaml" 2>"$T/ebbd.log" &
pid=$!
hold=
trap 'kill $hold $pid 2>/dev/null; wait $pid 2>/dev/null; pkill -f "ebb-run $T/" || true; rm -rf "$T"' EXIT
for _ in $(seq 1 50); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
echo "machine: $(nproc) cpus, $(uname -r); ebbd pid $pid, fd limit $(ulimit -n)"

rss() { awk '/^VmRSS/ {print $2 " kB"}' /proc/$pid/status; }
# B's `ebb queue`, 20 runs: the whole command, and ebbd's answer alone.
latency() {
	local t0 i ms=() p=()
	for i in $(seq 1 20); do
		t0=$(date +%s%N)
		as ebbbench2 "$EBB" queue >/dev/null
		ms+=($(( ($(date +%s%N) - t0) / 1000 )))
		p+=($(as ebbbench2 python3 "$ABUSE" ping "$EBB_SOCKET"))
	done
	printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR] = $1}
	    END {printf "B ebb queue: p50 %.1f ms, max %.1f ms\n", a[10] / 1000, a[20] / 1000}'
	printf '%s\n' "${p[@]}" | sort -n | awk '{a[NR] = $1}
	    END {printf "B queue request, connect to reply: p50 %.1f ms, max %.1f ms\n", a[10], a[20]}'
}

echo "== idle"
latency
echo "ebbd VmRSS: $(rss)"

echo "== user A holds 2,000 connections"
ulimit -n 8192
mkfifo "$T/hold.in"
t0=$(date +%s%N)
as ebbbench1 python3 "$ABUSE" hold "$EBB_SOCKET" 2000 <"$T/hold.in" >"$T/hold.out" &
hold=$!
exec {holdin}>"$T/hold.in"
for _ in $(seq 1 600); do [ -s "$T/hold.out" ] && break; sleep 0.1; done
echo "A: $(cut -d' ' -f1-2 "$T/hold.out") in $(( ($(date +%s%N) - t0) / 1000000 )) ms (0.5 s of it waiting)"
echo "A's refusal: $(sed 's/.*why=//' "$T/hold.out")"
latency
echo "ebbd VmRSS: $(rss)"
exec {holdin}>&-
wait $hold || true
hold=

echo "== user A pipelines 300 queue --all requests (~1 MB replies), reads none for 2 s"
as ebbbench1 python3 "$ABUSE" submit "$EBB_SOCKET" 8 120000
sleep 1
as ebbbench1 python3 "$ABUSE" pipeline "$EBB_SOCKET" 300 $pid
echo "ebbd VmRSS after: $(rss)"

echo "== a cancel of 1,000 ids (none of them jobs)"
t0=$(date +%s%N)
"$EBB" cancel $(seq 100001 101000) >/dev/null 2>&1 || true
echo "ebb cancel of 1,000 ids: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
