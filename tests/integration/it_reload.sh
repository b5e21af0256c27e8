#!/bin/bash
# it_reload: SIGHUP swaps in a valid config and keeps the running one when
# the new file has errors; SIGTERM stops cleanly and removes the socket.
. "$(dirname "$0")/lib.sh"

write_config 1
start_ebbd
"$EBB" submit --site extra -- true >/dev/null 2>&1 && fail "unknown site accepted"

write_config 1
cat >> "$CONF" <<EOF
  - name: extra
    backend: local
    cpus: 1
EOF
kill -HUP "$EBBD_PID"
for _ in $(seq 1 50); do grep -q "config reloaded: 2 site" "$LOG" && break; sleep 0.1; done
grep -q "config reloaded: 2 site" "$LOG" && ok "valid config reloaded" || fail "no reload"
id=$("$EBB" submit -q --site extra -- true) && ok "new site usable" || fail "new site"
wait_final 30
expect_eq "job on the new site" "extra succeeded" \
	"$(job_field "$id" site) $(job_field "$id" state)"

printf 'sites:\n  - name: extra\n    cpus: -1\n' > "$CONF"
kill -HUP "$EBBD_PID"
for _ in $(seq 1 50); do grep -q "config not reloaded" "$LOG" && break; sleep 0.1; done
grep -q "config not reloaded" "$LOG" && ok "invalid config refused" || fail "bad config taken"
grep -q "ebb.yaml:3:11: cpus: " "$LOG" && ok "error logged with its position" ||
	fail "error position not logged"
id=$("$EBB" submit -q --site local -- true) && ok "old config still in force" ||
	fail "old config lost"
wait_final 30

stop_ebbd; rc=$?
expect_eq "SIGTERM exit status" 0 "$rc"
[ -e "$SOCK" ] && fail "socket left behind" || ok "socket removed"
finish
