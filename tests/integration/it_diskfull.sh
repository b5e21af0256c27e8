#!/bin/bash
# it_diskfull: a user's job fills the file system of ebbd's state (issue
# 10, hole 5). Its output is cut at output_limit; when even that does not
# save the disk, the commit that finds it full spends ebbd's reserve and
# goes through with its real cause logged, new submits are refused with a
# clear message, reads are served, and ebbd accepts jobs again once space
# is freed. A read-only state is refused at start with its reason.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a small file system"; exit 77; }
mkdir -p "$STATE"
mount -t tmpfs -o size=24m,mode=0755 tmpfs "$STATE" ||
	{ echo "SKIP: cannot mount a tmpfs here"; exit 77; }
trap 'cleanup; umount -l "$STATE" 2>/dev/null' EXIT

# 1. The output limit keeps one job from filling the disk.
write_config 1 "output_limit: 1M"
start_ebbd
id=$("$EBB" submit -q -- sh -c 'head -c 50000000 /dev/zero; echo done >&2')
wait_final 60
expect_eq "a job writing 50 MB succeeds" succeeded "$(job_field "$id" state)"
expect_eq "its stdout is cut at the limit" 1048576 \
	"$(stat -c %s "$STATE/jobs/$id/stdout")"
expect_eq "its stderr is whole" done "$(cat "$STATE/jobs/$id/stderr")"
expect_eq "the result says so" true \
	"$(jq -r .output_truncated "$STATE/jobs/$id/result.json")"
[ -f "$STATE/ebb.db.reserve" ] && ok "a reserve is kept next to the database" ||
	fail "no reserve file"
stop_ebbd

# 2. No limit: the disk fills up under a running daemon.
write_config 1 "output_limit: 0"
start_ebbd
id=$("$EBB" submit -q -- sh -c 'head -c 100000000 /dev/zero')
wait_final 60
for _ in $(seq 1 50); do grep -q "state file system is full" "$LOG" && break; sleep 0.1; done
grep -q "state file system is full" "$LOG" && ok "the full disk is logged" ||
	fail "no log of the full disk"
grep "state file system is full" "$LOG" | grep -q "No space left on device\|disk is full" &&
	ok "with its real cause" || fail "cause hidden: $(grep 'is full' "$LOG" | head -n 1)"
kill -0 "$EBBD_PID" && ok "ebbd still runs" || fail "ebbd died"
out=$("$EBB" submit -- true 2>&1); rc=$?
expect_eq "a submit is refused" 1 "$rc"
echo "$out" | grep -q "file system of ebbd's state is full" &&
	ok "with a clear message" || fail "message: $out"
"$EBB" queue --all >/dev/null && ok "reads are served" || fail "ebb queue failed"
# Job control writes history: refused too (each hold or release spent
# the reserve until ebbd could commit nothing and exited).
out=$("$EBB" hold "$id" 2>&1); rc=$?
expect_eq "a hold is refused while full" 1 "$rc"
echo "$out" | grep -q "no job control: the file system of ebbd's state is full" &&
	ok "with a clear message" || fail "hold: $out"
expect_eq "the job that filled it is final" 1 \
	"$("$EBB" show --json "$id" | jq '[.job.state] | map(select(. == "succeeded" or . == "failed")) | length')"

# Space comes back: so do submits.
rm -f "$STATE/jobs/$id/stdout"
for _ in $(seq 1 100); do "$EBB" submit -q -- true >/dev/null 2>&1 && break; sleep 0.1; done
id2=$("$EBB" submit -q -- true 2>&1)
[[ $id2 =~ ^[0-9]+$ ]] && ok "submits accepted again once space is freed" ||
	fail "still refused: $id2"
wait_final 30
expect_eq "and the job runs" succeeded "$(job_field "$id2" state)"
stop_ebbd && ok "stopped cleanly" || fail "exit status"
expect_eq "integrity" ok "$(sqlite3 "$STATE/ebb.db" 'PRAGMA integrity_check')"

# 3. A read-only state is refused at start, saying why.
mount -o remount,ro "$STATE"
"$EBBD" -f -c "$CONF" >"$T/ro.log" 2>&1; rc=$?
expect_eq "read-only state: exit 1" 1 "$rc"
grep -q "Read-only file system\|read-only" "$T/ro.log" && ok "read-only named" ||
	fail "message: $(tail -n 2 "$T/ro.log")"
mount -o remount,rw "$STATE"
finish
