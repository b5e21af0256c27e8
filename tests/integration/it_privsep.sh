#!/bin/bash
# it_privsep: ebbd as root serving hostile users (issue 10). Checks which
# process does what (the worker, as user ebb, holds the socket and talks
# to providers; the root parent has no network at all), that state is
# private (and an old, readable install is tightened), that no secret of
# ebbd's environment reaches a job's supervisor or job, that a job runs
# with its submitter's identity and root's jobs are refused unless
# root_jobs allows them, that a supervisor killed under its job takes the
# job and its cgroup with it, and that another user's job is answered as
# absent.
. "$(dirname "$0")/lib.sh"
: "${EBB_CI_SERVER:?run through ctest}"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
share_bins
test_users ebbps1 ebbps2

# A provider that answers slowly, so its connection can be seen.
samples=$T/samples
mkdir -p "$samples"
cp -r "$EBB_TEST_DATA/data/provider-samples/." "$samples/"
echo "/intensity/ uk-carbon-intensity/national_fw48h_2023-03-14T1201Z.json" \
	> "$samples/routes"
"$EBB_CI_SERVER" "$samples" > "$T/port" 2>"$T/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(head -n 1 "$T/port")
curl -s "http://127.0.0.1:$PORT/_fault?mode=hang:20" >/dev/null

# An install from before: state readable by everyone.
mkdir -p "$STATE"; chmod 755 "$STATE"
# ... and an ebbd.pid that a compromised worker made a link to root's file.
echo precious > "$T/victim"; chmod 600 "$T/victim"
ln "$T/victim" "$STATE/ebbd.pid"
sqlite3 "$STATE/ebb.db" 'PRAGMA user_version;' >/dev/null
chmod 644 "$STATE/ebb.db"

ROOT_JOBS=false write_config 2 "socket_mode: 0666"
cat >> "$CONF" <<EOF2
    zone: GB
    providers: [ukci]
    ukci:
      base_url: http://127.0.0.1:$PORT
EOF2
EBB_TEST_SECRET=secret-token start_ebbd

# --- who is who
worker=$(pgrep -P "$EBBD_PID" -x ebbd)
expect_eq "one worker process" 1 "$(echo "$worker" | grep -c .)"
expect_eq "the parent is root" root "$(ps -o user= -p "$EBBD_PID" | tr -d ' ')"
expect_eq "the worker runs as ebb" ebb "$(ps -o user= -p "$worker" | tr -d ' ')"
expect_eq "the worker cannot regain privileges" 1 \
	"$(awk '/^NoNewPrivs/ {print $2}' "/proc/$worker/status")"
expect_eq "the control socket is the worker's" "$worker" \
	"$(ss -xlp | grep -F "$SOCK" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)"
for _ in $(seq 1 50); do
	conn=$(ss -tnpe state established "dst 127.0.0.1:$PORT")
	echo "$conn" | grep -q pid= && break; sleep 0.1
done
expect_eq "the provider is read by the worker" "$worker" \
	"$(echo "$conn" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)"
expect_eq "the provider connection is ebb's" "uid:$(id -u ebb)" \
	"$(echo "$conn" | grep -o 'uid:[0-9]*' | sort -u)"
expect_eq "the root parent has no network socket" "" \
	"$(ss -tuanp | grep "pid=$EBBD_PID,")"
curl -s "http://127.0.0.1:$PORT/_reset" >/dev/null

expect_eq "a linked ebbd.pid is replaced, its target untouched" precious "$(cat "$T/victim")"
# --- private state, tightened from the old install
expect_eq "state dir private to ebb" "700 ebb" "$(stat -c '%a %U' "$STATE")"
expect_eq "database tightened" "600 ebb" "$(stat -c '%a %U' "$STATE/ebb.db")"
expect_eq "job dirs root's" "700 root" "$(stat -c '%a %U' "$STATE/jobs")"
as ebbps1 cat "$STATE/ebb.db" >/dev/null 2>&1 &&
	fail "a user reads the database" || ok "a user cannot read the database"

# --- a user's job: their identity, no secret of ebbd's
id1=$(as ebbps1 "$EBB" submit -q --workdir /tmp -- sh -c 'id -u; sleep 300')
for _ in $(seq 1 100); do [ "$(job_field "$id1" state)" = running ] && break; sleep 0.1; done
expect_eq "job running" running "$(job_field "$id1" state)"
sup=$(pgrep -f "ebb-run .*$STATE/jobs/$id1\$")
expect_eq "one supervisor" 1 "$(echo "$sup" | grep -c .)"
for _ in $(seq 1 100); do job=$(pgrep -n -u ebbps1 -x sleep) && break; sleep 0.1; done
expect_eq "the job runs as its submitter" ebbps1 "$(ps -o user= -p "$job" | tr -d ' ')"
leak=
for p in "$EBBD_PID" "$sup" "$job"; do
	grep -qz EBB_TEST_SECRET "/proc/$p/environ" && leak="$leak $p"
done
expect_eq "ebbd's secret is in the parent only" " $EBBD_PID" "${leak:-}"
expect_eq "the supervisor's whole environment" \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	"$(tr '\0' '\n' < "/proc/$sup/environ")"

# --- hole 8: a job has its submitter's groups, not the group database's
getent group ebbpsx >/dev/null || groupadd ebbpsx	# ebbps1 is not a member
getent group ebbpsy >/dev/null || groupadd ebbpsy
usermod -a -G ebbpsy ebbps1				# a member by the database
gx=$(getent group ebbpsx | cut -d: -f3); gy=$(getent group ebbpsy | cut -d: -f3)
id3=$(setpriv --reuid=ebbps1 --regid="$(id -g ebbps1)" --groups="$gx" \
	env -i PATH=/usr/bin:/bin EBB_SOCKET="$SOCK" "$EBB" submit -q --workdir /tmp -- id -G)
for _ in $(seq 1 100); do [ "$(job_field "$id3" state)" = succeeded ] && break; sleep 0.1; done
groups3=$("$EBB" logs "$id3")
case " $groups3 " in *" $gx "*) ok "the job has the group its submitter had" ;;
*) fail "job groups [$groups3] lack $gx" ;; esac
case " $groups3 " in *" $gy "*) fail "job groups [$groups3] have $gy, dropped at submit" ;;
*) ok "not a group the submitter had dropped" ;; esac

# --- another user sees nothing of it
expect_err "another user's job is absent" 1 "ebb logs: job $id1: no such job" \
	-- as ebbps2 "$EBB" logs "$id1"
expect_err "and cannot be cancelled" 1 "ebb cancel: job $id1: no such job" \
	-- as ebbps2 "$EBB" cancel "$id1"

# --- hole 7: the supervisor killed under its job
cg=$(awk -F: '$2 ~ /cpuacct/ {print $3}' "/proc/$job/cgroup")
case $cg in
*/job-"$id1") ok "job in its cgroup"; cg=/sys/fs/cgroup/cpuacct$cg ;;
*) fail "job not in its cgroup: $cg"; cg= ;;
esac
kill -KILL "$sup"
for _ in $(seq 1 100); do [ "$(job_field "$id1" state)" = failed ] && break; sleep 0.1; done
expect_eq "job recorded failed" failed "$(job_field "$id1" state)"
expect_eq "why" "supervisor lost" \
	"$("$EBB" show --json "$id1" | jq -r .job.reason | cut -d: -f1)"
# (a zombie waiting for init to reap it runs nothing)
case $(ps -o stat= -p "$job" 2>/dev/null) in
""|Z*) ok "the job's processes are gone" ;;
*) fail "the job runs on unsupervised" ;;
esac
[ -n "$cg" ] && [ -e "$cg" ] && fail "cgroup left: $cg" || ok "cgroup removed"

# --- root's own jobs do not run as root unless root_jobs says so
id2=$("$EBB" submit -q -- id -u)
for _ in $(seq 1 100); do [ "$(job_field "$id2" state)" = failed ] && break; sleep 0.1; done
expect_eq "root's job refused" failed "$(job_field "$id2" state)"
"$EBB" show --json "$id2" | jq -r .job.reason | grep -q root_jobs &&
	ok "the reason names root_jobs" || fail "reason: $("$EBB" show --json "$id2" | jq -r .job.reason)"

# --- the worker's death stops the daemon; a restart works
kill -KILL "$worker"
for _ in $(seq 1 50); do kill -0 "$EBBD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EBBD_PID" 2>/dev/null && fail "parent outlived its worker" ||
	ok "parent stopped with its worker"
wait "$EBBD_PID" 2>/dev/null; EBBD_PID=
start_ebbd
expect_eq "restarted: the job is still failed" failed "$(job_field "$id1" state)"
# --output as root's ebbd runs it: the file is opened by the job, as its
# user, after the privileges are dropped: never a root file operation.
d=$(mktemp -d); chown ebbps1 "$d"
oid=$(as ebbps1 "$EBB" submit -q --workdir "$d" --output 'o-%j' -- sh -c 'id -u')
wait_field "$oid" state succeeded 100 || fail "output job: $(job_field "$oid" reason)"
expect_eq "the job wrote its own file" "$(id -u ebbps1) ebbps1" \
	"$(cat "$d/o-$oid") $(stat -c %U "$d/o-$oid")"
ln -s /etc/ebb-it-victim "$d/link"	# a link to a place only root may write
rm -f /etc/ebb-it-victim
lid=$(as ebbps1 "$EBB" submit -q --workdir "$d" --output link -- true)
wait_field "$lid" state failed 100 || fail "link job: $(job_field "$lid" state)"
[ ! -e /etc/ebb-it-victim ] && ok "an output link to /etc made nothing there" ||
	fail "/etc/ebb-it-victim was created"
rm -rf "$d"
stop_ebbd && ok "stopped cleanly" || fail "exit status"
[ -e "$SOCK" ] && fail "socket left" || ok "socket removed"
pgrep -f "ebbd -f -d -c $CONF" >/dev/null && fail "ebbd processes left" ||
	ok "no ebbd process left"
finish
