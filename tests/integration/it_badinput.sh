#!/bin/bash
# it_badinput: bad config files, bad CLI values, garbage and oversized
# socket frames, unknown job ids and other users' jobs get exact errors, a
# non-zero exit, and leave the daemon running with its state intact.
. "$(dirname "$0")/lib.sh"

# --- config files: every error, as file:line:col, exit 1, nothing started.
cd "$T"
printf 'state_dir: [unclosed\n' > bad1.yaml
expect_err "malformed YAML" 1 \
	"bad1.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 12)" \
	-- "$EBBD" -n -c bad1.yaml
printf 'state_dir: /tmp/x\nstat_dir: /tmp\n' > bad2.yaml
expect_err "unknown key" 1 \
	"bad2.yaml:2:1: unknown key 'stat_dir' (did you mean 'state_dir'?)" \
	-- "$EBBD" -n -c bad2.yaml
printf 'sites:\n  - name: a\n    cpus: many\n' > bad3.yaml
expect_err "wrong type" 1 \
	"bad3.yaml:3:11: cpus: expected an integer, got 'many'" \
	-- "$EBBD" -n -c bad3.yaml
printf 'kill_grace: 6x\nlog_level: loud\n' > bad4.yaml
expect_err "bad duration and bad enum, both reported" 1 \
	"bad4.yaml:1:13: kill_grace: bad duration '6x': unknown unit 'x' (use s, m, h, d or w)
bad4.yaml:2:12: log_level: 'loud' is not one of error, warn, info, debug" \
	-- "$EBBD" -n -c bad4.yaml
cd - >/dev/null

share_bins
# --- a running daemon with two ordinary users sharing the socket group.
test_users ebbit1 ebbit2
getent group ebbit >/dev/null || groupadd ebbit
usermod -a -G ebbit ebbit1; usermod -a -G ebbit ebbit2
write_config 1 "socket_group: ebbit"
start_ebbd
expect_eq "socket mode" "660 ebbit" "$(stat -c '%a %G' "$SOCK")"

expect_err "bad duration on the CLI" 2 \
	"ebb submit: --duration: bad duration '6x': unknown unit 'x' (use s, m, h, d or w)" \
	-- "$EBB" submit --duration 6x -- true
expect_err "deadline in the past" 2 \
	"ebb submit: deadline: 2020-01-01T00:00:00Z is in the past" \
	-- "$EBB" submit --deadline 2020-01-01T00:00:00Z -- true
expect_err "unknown site" 2 "ebb submit: sites: unknown site 'mars'" \
	-- "$EBB" submit --site mars -- true
expect_err "unknown job id" 1 "ebb show: job 999999: no such job" \
	-- "$EBB" show 999999
expect_err "not a job id" 2 "ebb show: bad job id 'abc'" -- "$EBB" show abc

# Garbage, then a valid request on the same connection: error, then ok.
hello='{"v":1,"cmd":"hello","args":{}}'
out=$( { printf '\0\0\0\005hello'; printf "\\0\\0\\0\\$(printf '%03o' ${#hello})%s" "$hello"; } |
	"$EBB_RAWSEND" "$SOCK")
expect_eq "garbage frame answered" \
	'{"v":1,"ok":false,"error":"malformed request: malformed JSON at byte 5: '"'"'['"'"' or '"'"'{'"'"' expected near '"'"'hello'"'"'","code":"usage"}' \
	"$(echo "$out" | head -n 1)"
expect_eq "connection usable after garbage" true \
	"$(echo "$out" | sed -n 2p | jq -r .ok)"
out=$(printf '\177\377\377\377{"v":1}' | "$EBB_RAWSEND" "$SOCK")
expect_eq "oversized frame refused" \
	"frame of 2147483647 bytes exceeds the limit of 4194304 bytes" \
	"$(echo "$out" | jq -r .error)"
out=$(printf '\0\0\0\002{}' | "$EBB_RAWSEND" "$SOCK")
expect_eq "request without version" version "$(echo "$out" | jq -r .code)"
"$EBB" queue >/dev/null && ok "daemon alive after bad frames" || fail "daemon died"

# Another user's job: invisible and not cancellable.
as() { local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env EBB_SOCKET="$SOCK" "$@"; }
id1=$(as ebbit1 "$EBB" submit -q --workdir /tmp -- sleep 30)
[ -n "$id1" ] && ok "ebbit1 submitted job $id1" || fail "ebbit1 cannot submit"
expect_err "another user's job is answered as absent" 1 \
	"ebb cancel: job $id1: no such job" \
	-- as ebbit2 "$EBB" cancel "$id1"
expect_eq "other users' jobs are not listed" 0 \
	"$(as ebbit2 "$EBB" queue --all --json | jq length)"
expect_eq "the owner sees it" "$id1" "$(as ebbit1 "$EBB" queue --json | jq '.[0].id')"
for _ in $(seq 1 50); do [ "$(job_field "$id1" state)" = running ] && break; sleep 0.1; done
expect_eq "job runs as its owner" ebbit1 \
	"$(ps -o user= -p "$(pgrep -f -n 'sleep 30')" 2>/dev/null | tr -d ' ')"
"$EBB" cancel "$id1" >/dev/null && ok "root cancels it" || fail "root cancel"
for _ in $(seq 1 50); do [ "$(job_field "$id1" state)" = cancelled ] && break; sleep 0.1; done
expect_eq "cancelled running job" cancelled "$(job_field "$id1" state)"
finish
