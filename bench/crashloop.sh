#!/bin/bash
# crashloop.sh: ebbd's crash loop under load (issue 10, docs/benchmarks.md).
# Usage, as root:
#   bash bench/crashloop.sh [BUILD_DIR]        (make stress)
# Environment: KILLS (default 100), CLIENTS (4), CPUS (the site's, 8),
# DRAIN_MAX (seconds the queue may take to empty afterwards, 600),
# KEEP=1 keeps the scratch directory.
#
# Starts a private ebbd as root (a privileged parent and a worker as user
# ebb) whose one local site runs short jobs, and CLIENTS loops that submit
# continuously as two ordinary users, each remembering the ids the daemon
# acknowledged (and now and then cancelling one of its jobs). A killer
# then sends SIGKILL KILLS times, at random intervals of 0.2-1.5 s, to
# ebbd's parent, ebbd's worker (the parent then stops by itself) or a
# random ebb-run supervisor, restarting ebbd whenever it is gone. Then the
# clients stop, the queue drains and ebbd stops cleanly, and the script
# checks:
#   - every acknowledged job is in the database once, under the name it
#     was submitted with, in a final state; no job ran its command twice,
#     and every job that succeeded ran it exactly once;
#   - a job whose supervisor was killed is failed, "supervisor lost: ...";
#   - every job that started has a ledger row (ledger_jobs);
#   - no ebb-run, no job process and no job cgroup of this run is left;
#   - PRAGMA integrity_check says ok.
# It prints its figures and exits 1 if any of these is violated.
set -u
export LC_ALL=C
BUILD=$(cd "${1:-build}" && pwd) || exit 2
KILLS=${KILLS:-100}
CLIENTS=${CLIENTS:-4}
CPUS=${CPUS:-8}
DRAIN_MAX=${DRAIN_MAX:-600}
. "$(dirname "$0")/lib.sh"
bench_root crashloop.sh jq sqlite3 setpriv pgrep
bench_dir crash
STATE=$T/state
SOCK=$EBB_SOCKET
CONF=$T/ebb.yaml
LOG=$T/ebbd.log
RUNS=$T/runs		# each job that runs its command appends its name
mkdir -p "$RUNS"
chmod 1777 "$RUNS"
bench_ebb_user
USERS="ebbcl1 ebbcl2"
for u in $USERS; do
	id -u $u >/dev/null 2>&1 || useradd -M -N -s /bin/sh $u || exit 2
done
as() { local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    env -i PATH=/usr/bin:/bin EBB_SOCKET="$SOCK" "$@"; }

cat > "$CONF" <<EOF
state_dir: $STATE
socket: $SOCK
socket_mode: "0666"
log_level: info
kill_grace: 1s
sites:
  - name: local
    backend: local
    cpus: $CPUS
EOF
chmod 644 "$CONF"

# The daemon's cgroups: ebb/<instance>/job-<id> in every hierarchy, the
# instance being FNV-1a of the state dir (jobctl_instance).
instance() {
	local s=$1 h=1469598103934665603 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 1099511628211))
	done
	printf '%08x' $(((h ^ (h >> 32)) & 0xffffffff))
}
INST=$(instance "$STATE")

VIOL=0
violation() { echo "VIOLATION: $*"; VIOL=$((VIOL + 1)); }

# A process that exists and is not a zombie.
alive() {
	local st
	st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null) && [ "$st" != Z ]
}

EBBD_PID=
STARTS=0
start_ebbd() {
	"$EBBD" -f -c "$CONF" >>"$LOG" 2>&1 &
	EBBD_PID=$!
	STARTS=$((STARTS + 1))
}
# ready TIMEOUT_S: until ebbd answers as root.
ready() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		"$EBB" queue >/dev/null 2>&1 && return 0
		alive "$EBBD_PID" || return 1
		sleep 0.1
	done
	return 1
}
worker_of() { pgrep -P "$1" -x ebbd; }
# gone PID TIMEOUT_S: until PID has ended (and been reaped, if ours).
gone() {
	local end=$((SECONDS + $2))
	while alive "$1"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
	return 0
}
supervisors() { pgrep -f "ebb-run .*$STATE/jobs/"; }
job_pids() {	# processes in this run's job cgroups
	cat /sys/fs/cgroup/*/ebb/"$INST"/job-*/cgroup.procs 2>/dev/null |
	    sort -u
}

cleanup() {
	local p
	touch "$T/stop"
	[ -n "$EBBD_PID" ] && kill -TERM "$EBBD_PID" 2>/dev/null
	wait 2>/dev/null
	for p in $(job_pids) $(supervisors); do kill -KILL "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ] || [ "$VIOL" -gt 0 ]; then
		echo "kept: $T (ebbd log: $LOG)"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# client N USER: submits until $T/stop exists. Writes "ID NAME" for each
# acknowledged submit to $T/acked.N, the names of the others to
# $T/unacked.N, and the ids it asked to cancel to $T/cancel.N.
client() {
	local c=$1 u=$2 n=0 name out r d
	local -a ids=()
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1)); name=c$c-$n
		r=$((RANDOM % 8))
		d=$((RANDOM % 19 + 2))
		if [ $r -lt 2 ]; then
			set -- true
		elif [ $r = 2 ]; then
			set -- sh -c "echo $name >> $RUNS/$name; exit 3"
		else
			set -- sh -c "echo $name >> $RUNS/$name; sleep $((d / 10)).$((d % 10))"
		fi
		if out=$(as "$u" "$EBB" submit -q --name "$name" \
		    --duration 1m --workdir /tmp -- "$@" 2>>"$T/client.err") &&
		    [[ $out =~ ^[0-9]+$ ]]; then
			echo "$out $name" >> "$T/acked.$c"
			ids+=("$out")
		else
			echo "$name" >> "$T/unacked.$c"
			sleep 0.2
		fi
		if [ $((RANDOM % 12)) = 0 ] && [ ${#ids[@]} -gt 0 ]; then
			out=${ids[RANDOM % ${#ids[@]}]}
			echo "$out" >> "$T/cancel.$c"
			as "$u" "$EBB" cancel "$out" >/dev/null 2>&1
		fi
		sleep 0.$((RANDOM % 8 + 2))
	done
}

echo "machine: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
echo "ebbd as root (parent + worker as ebb), site of $CPUS cpus, $CLIENTS clients" \
    "as $USERS, $KILLS SIGKILLs; state $STATE, cgroups ebb/$INST"
start_ebbd
ready 30 || { violation "ebbd did not start"; tail "$LOG"; exit 1; }
for c in $(seq 1 "$CLIENTS"); do
	set -- $USERS
	[ $((c % 2)) = 1 ] && u=$1 || u=$2
	client "$c" "$u" &
	CPIDS="${CPIDS:-} $!"
done

# --- the killer
K_PARENT=0 K_WORKER=0 K_SUP=0 SELF_EXITS=0 SLOW_EXIT=0 SEEN_CG=""
T0=$SECONDS
# (bash's "Killed" notices for the ebbd it started go to killer.err)
exec 3>&2 2>>"$T/killer.err"
while [ $((K_PARENT + K_WORKER + K_SUP)) -lt "$KILLS" ]; do
	d=$((RANDOM % 14 + 2))
	sleep $((d / 10)).$((d % 10))
	if ! alive "$EBBD_PID"; then	# it stopped by itself
		wait "$EBBD_PID"; rc=$?
		SELF_EXITS=$((SELF_EXITS + 1))
		echo "ebbd (pid $EBBD_PID) exited by itself, status $rc"
		start_ebbd
	fi
	sups=($(supervisors))
	r=$((RANDOM % 4))
	if [ $r -ge 2 ] && [ ${#sups[@]} -gt 0 ]; then
		s=${sups[RANDOM % ${#sups[@]}]}
		# Note the cgroup its job is in, to check it is gone at the end.
		for cp in $(cat /proc/"$s"/task/*/children 2>/dev/null); do
			cg=$(grep -o 'ebb/[0-9a-f]*/job-[0-9]*' /proc/"$cp"/cgroup 2>/dev/null | head -n 1)
			[ -n "$cg" ] && SEEN_CG="$SEEN_CG ${cg%/job-*}"
		done
		kill -KILL "$s" 2>/dev/null && K_SUP=$((K_SUP + 1))
		continue
	fi
	w=$(worker_of "$EBBD_PID")
	if [ $r = 1 ] && [ -n "$w" ]; then
		kill -KILL "$w"
		K_WORKER=$((K_WORKER + 1))
		# The parent stops when its worker does.
		if ! gone "$EBBD_PID" 10; then
			SLOW_EXIT=$((SLOW_EXIT + 1))
			violation "ebbd's parent still there 10 s after its worker was killed"
			kill -KILL "$EBBD_PID"
		fi
	else
		kill -KILL "$EBBD_PID"
		K_PARENT=$((K_PARENT + 1))
		# The worker dies with it (PR_SET_PDEATHSIG).
		[ -n "$w" ] && ! gone "$w" 10 &&
		    violation "ebbd's worker $w outlived its parent by 10 s"
	fi
	wait "$EBBD_PID" 2>/dev/null
	start_ebbd
done
KILL_S=$((SECONDS - T0))
exec 2>&3 3>&-

touch "$T/stop"
wait $CPIDS
ready 60 || violation "ebbd not answering after the last restart"
cat "$T"/acked.* 2>/dev/null | sort -n > "$T/acked"
ACKED=$(wc -l < "$T/acked")
UNACKED=$(cat "$T"/unacked.* 2>/dev/null | wc -l)
CANCELS=$(cat "$T"/cancel.* 2>/dev/null | wc -l)

# --- drain
T1=$SECONDS
drained=0
while [ $((SECONDS - T1)) -lt "$DRAIN_MAX" ]; do
	left=$("$EBB" queue --json 2>/dev/null | jq length)
	[ "$left" = 0 ] && { drained=1; break; }
	alive "$EBBD_PID" || { violation "ebbd died while draining"; break; }
	sleep 0.2
done
DRAIN_S=$((SECONDS - T1))
[ $drained = 1 ] || { violation "queue not empty after $DRAIN_MAX s:"; "$EBB" queue; }
w=$(worker_of "$EBBD_PID")
kill -TERM "$EBBD_PID"; wait "$EBBD_PID"; rc=$?
[ "$rc" = 0 ] || violation "ebbd's clean stop exited $rc"
[ -n "$w" ] && ! gone "$w" 10 && violation "ebbd's worker still there after a clean stop"
EBBD_PID=

# --- checks
DB=$STATE/ebb.db
q() { sqlite3 -batch -noheader -separator ' ' "$DB" "$@"; }
ic=$(q 'PRAGMA integrity_check;')
[ "$ic" = ok ] || violation "integrity_check: $ic"
q "SELECT id, name, state, start_time, reason FROM jobs ORDER BY id;" > "$T/jobs"
ndb=$(wc -l < "$T/jobs")

dup=$(cut -d' ' -f1 "$T/acked" | uniq -d | head)
[ -z "$dup" ] || violation "ids acknowledged twice: $dup"
dupn=$(cut -d' ' -f2 "$T/jobs" | sort | uniq -d | head)
[ -z "$dupn" ] || violation "submits stored twice: $dupn"
# acknowledged id + name vs the stored row
join -j1 -a1 -e MISSING -o 1.1,1.2,2.2,2.3 <(sort -k1,1 "$T/acked") \
    <(sort -k1,1 "$T/jobs") > "$T/check"
miss=$(awk '$3 == "MISSING"' "$T/check" | head -n 5)
[ -z "$miss" ] || violation "acknowledged jobs not stored: $miss"
wrong=$(awk '$3 != "MISSING" && $2 != $3' "$T/check" | head -n 5)
[ -z "$wrong" ] || violation "acknowledged id names another job: $wrong"
notfinal=$(awk '$4 != "MISSING" && $4 != "succeeded" && $4 != "failed" &&
    $4 != "cancelled"' "$T/check" | head -n 5)
[ -z "$notfinal" ] || violation "acknowledged jobs not final: $notfinal"
stuck=$(awk '$3 != "succeeded" && $3 != "failed" && $3 != "cancelled"' "$T/jobs" | head -n 5)
[ -z "$stuck" ] || violation "stored jobs not final: $stuck"

# a command runs at most once; a succeeded one exactly once
twice=$(for f in "$RUNS"/*; do [ -e "$f" ] && [ "$(wc -l < "$f")" -gt 1 ] && basename "$f"; done | head)
[ -z "$twice" ] || violation "jobs that ran twice: $twice"
ran_never=$(q "SELECT name FROM jobs WHERE state = 'succeeded' AND
    json_extract(argv, '\$[0]') = 'sh';" | while read -r n; do
	[ -e "$RUNS/$n" ] || echo "$n"; done | head)
[ -z "$ran_never" ] || violation "succeeded without running: $ran_never"
unstarted_ran=$(q "SELECT name FROM jobs WHERE start_time = 0;" |
    while read -r n; do [ -e "$RUNS/$n" ] && echo "$n"; done | head)
[ -z "$unstarted_ran" ] || violation "ran but recorded as never started: $unstarted_ran"

LOST=$(q "SELECT count(*) FROM jobs WHERE reason LIKE 'supervisor lost%';")
lostbad=$(q "SELECT id FROM jobs WHERE reason LIKE 'supervisor lost%' AND state != 'failed';")
[ -z "$lostbad" ] || violation "lost jobs not failed: $lostbad"
STARTED=$(q "SELECT count(*) FROM jobs WHERE start_time > 0;")
NOLEDGER=$(q "SELECT id || ':' || state || ':' || coalesce(reason, '') FROM jobs
    WHERE start_time > 0 AND id NOT IN (SELECT job_id FROM ledger_jobs);")
[ -z "$NOLEDGER" ] || violation "started jobs without a ledger row:" \
    "$(echo "$NOLEDGER" | wc -l): $(echo "$NOLEDGER" | head -n 5 | tr '\n' ' ')"

sleep 1
left=$(supervisors | tr '\n' ' ')
[ -z "$left" ] || violation "supervisors left: $left"
left=$(job_pids | tr '\n' ' ')
[ -z "$left" ] || violation "job processes left in cgroups: $left"
left=$(pgrep -u ebbcl1,ebbcl2 | tr '\n' ' ')
[ -z "$left" ] || violation "processes of the test users left: $left"
for s in $(echo "$SEEN_CG" | tr ' ' '\n' | sort -u); do
	[ "$s" = "ebb/$INST" ] || violation "a job ran in $s, not ebb/$INST"
done
cgleft=$(ls -d /sys/fs/cgroup/*/ebb/"$INST"/job-* 2>/dev/null | head)
[ -z "$cgleft" ] || violation "job cgroups left: $cgleft"

# --- figures
echo "kills: $((K_PARENT + K_WORKER + K_SUP)) in $KILL_S s: ebbd parent $K_PARENT," \
    "ebbd worker $K_WORKER, ebb-run $K_SUP"
echo "ebbd starts: $STARTS ($((STARTS - 1)) restarts), exits by itself: $SELF_EXITS"
echo "submits: $ACKED acknowledged, $UNACKED not (daemon down or killed mid-request);" \
    "$CANCELS cancel requests"
echo "jobs stored: $ndb ($((ndb - ACKED)) unacknowledged but committed)"
echo "final states: $(cut -d' ' -f3 "$T/jobs" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"
echo "failed, supervisor lost: $LOST"
echo "started: $STARTED, with a ledger row: $(q "SELECT count(*) FROM jobs
    WHERE start_time > 0 AND id IN (SELECT job_id FROM ledger_jobs);")"
echo "ledger rows of 0 J (no energy reached the job between samples): $(q "SELECT
    count(*) FROM ledger_jobs WHERE energy_j = 0;")"
echo "commands run: $(ls "$RUNS" | wc -l) (each at most once)"
echo "drain: $DRAIN_S s after the clients stopped"
echo "integrity_check: $ic"
if [ "$VIOL" -gt 0 ]; then
	echo "$VIOL violation(s)"
	exit 1
fi
echo "no violation"
