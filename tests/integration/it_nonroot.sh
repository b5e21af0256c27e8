#!/bin/bash
# it_nonroot: an ordinary user runs ebbd on the embedded default (no config
# file): state under $XDG_STATE_HOME/ebb, the socket found by ebb without
# --socket, and jobs that run without cgroups are measured by process
# accounting, which `ebb show` says.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create a test user"; exit 77; }
share_bins
id -u ebbit1 >/dev/null 2>&1 || useradd -M -N -s /bin/sh ebbit1
home=$T/home; mkdir -p "$home"; chown ebbit1 "$home"
user=(setpriv --reuid=ebbit1 --regid="$(id -g ebbit1)" --init-groups env -i
	PATH=/usr/bin:/bin HOME="$home" XDG_STATE_HOME="$home/state" EBB_RUN="$EBB_RUN")
as() { "${user[@]}" "$@"; }

expect_eq "default state_dir for a user" "state_dir: $home/state/ebb" \
	"$(as "$EBBD" -n | grep '^state_dir:')"
"${user[@]}" "$EBBD" -f >>"$LOG" 2>&1 &	# $! is ebbd itself (exec chain)
EBBD_PID=$!
for _ in $(seq 1 100); do as "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
[ -S "$home/state/ebb/ebbd.sock" ] && ok "socket in the state dir" || fail "no socket"
expect_eq "socket mode" 660 "$(stat -c %a "$home/state/ebb/ebbd.sock")"
id=$(as "$EBB" submit -q --workdir "$home" -- "$EBB_BURN" 300)
for _ in $(seq 1 100); do
	[ "$(as "$EBB" show --json "$id" | jq -r .job.state)" = succeeded ] && break; sleep 0.1
done
expect_eq "job ran" succeeded "$(as "$EBB" show --json "$id" | jq -r .job.state)"
expect_eq "measured by process accounting" rusage \
	"$(as "$EBB" show --json "$id" | jq -r .job.measure)"
us=$(as "$EBB" show --json "$id" | jq -r .job.cpu_usec)
[ "$us" -ge 270000 ] && [ "$us" -le 330000 ] && ok "CPU time ${us} us for 300 ms of work" ||
	fail "CPU time ${us} us for 300 ms of work"
as "$EBB" show "$id" | grep -q 'process accounting' && ok "ebb show says how it was measured" ||
	fail "ebb show does not explain rusage"

# sbatch habits: `ebb submit job.sh` from the script's directory, as the
# user; its directives set the job, the command line overrides them.
cat >"$home/job.sh" <<'EOS'
#!/bin/sh
#SBATCH --job-name=scripted --time=10
#SBATCH --partition=batch
#EBB --max-delay 1h
echo "ran as $(id -un) in $(pwd) from $EBB_SCRIPT"
EOS
chown ebbit1 "$home/job.sh"; chmod 700 "$home/job.sh"
out=$(as sh -c "cd '$home' && '$EBB' submit -q --max-delay 0s job.sh 2>'$home/err'")
id=$out
grep -q "job.sh:3:9: ignoring #SBATCH --partition" "$home/err" &&
	ok "an sbatch-only directive is named, not refused" || fail "no note: $(cat "$home/err")"
j=$(as "$EBB" show --json "$id")
expect_eq "name from #SBATCH --job-name" scripted "$(jq -r .job.name <<<"$j")"
expect_eq "duration from #SBATCH --time (minutes)" 600 "$(jq -r .job.duration <<<"$j")"
expect_eq "the command line overrides #EBB" 0 "$(jq -r .job.max_delay <<<"$j")"
a0=$(jq -r '.job.argv[0]' <<<"$j")
case $a0 in "$home/state/ebb/scripts/job.sh."????????????????) ok "it runs a copy kept in the user's state dir";;
*) fail "argv[0] is $a0";; esac
expect_eq "the copy is the user's" ebbit1 "$(stat -c %U "$a0")"
echo 'echo edited' >>"$home/job.sh"	# after the submit: not what runs
for _ in $(seq 1 100); do
	[ "$(as "$EBB" show --json "$id" | jq -r .job.state)" = succeeded ] && break; sleep 0.1
done
expect_eq "the script as submitted ran, as the user" "ran as ebbit1 in $home from $home/job.sh" \
	"$(as "$EBB" logs "$id")"
chmod 600 "$home/job.sh"
as sh -c "cd '$home' && '$EBB' submit ./job.sh" >"$T/out" 2>&1; rc=$?
expect_eq "a script that is not executable: exit 2" 2 "$rc"
grep -q "not an executable file" "$T/out" && ok "and says so" || fail "message: $(cat "$T/out")"
# A script the user may not read (root's) is read as the user: refused.
install -m 700 /dev/null "$T/rootonly.sh"; printf '#!/bin/sh\n#EBB --cpus 1\n' >"$T/rootonly.sh"
as "$EBB" submit "$T/rootonly.sh" >"$T/out" 2>&1; rc=$?
expect_eq "another user's unreadable script: exit 2" 2 "$rc"
# wait_as ID STATE: until the user's job is in STATE (10 s).
wait_as() {
	for _ in $(seq 1 100); do
		[ "$(as "$EBB" show --json "$1" | jq -r .job.state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# --output/--error, as sbatch: opened by the job as the user, %j and %x.
oid=$(as "$EBB" submit -q --workdir "$home" --name outjob --output 'out-%j.txt' \
	--error 'err-%x.txt' -- sh -c 'echo to-out; echo to-err >&2')
wait_as "$oid" succeeded || fail "output job: $(as "$EBB" show "$oid" | tail -3)"
expect_eq "stdout into out-%j" "to-out" "$(cat "$home/out-$oid.txt")"
expect_eq "stderr into err-%x" "to-err" "$(cat "$home/err-outjob.txt")"
expect_eq "the files are the user's" "ebbit1 ebbit1" \
	"$(stat -c %U "$home/out-$oid.txt") $(stat -c %U "$home/err-outjob.txt")"
as "$EBB" logs "$oid" >"$T/out" 2>&1; rc=$?
expect_eq "ebb logs of such a job: exit 1" 1 "$rc"
grep -q "writes its stdout to out-%j.txt" "$T/out" && ok "and says where the output went" ||
	fail "logs: $(cat "$T/out")"
# A file the user may not write: the job fails; root made nothing there.
rm -f /root/ebb-it-out.txt
bid=$(as "$EBB" submit -q --workdir "$home" --output /root/ebb-it-out.txt -- true)
wait_as "$bid" failed || fail "job $bid: $(as "$EBB" show --json "$bid" | jq -r .job.state)"
as "$EBB" show --json "$bid" | jq -r .job.reason | grep -q "output /root/ebb-it-out.txt: Permission denied" &&
	ok "the reason names the file" || fail "reason: $(as "$EBB" show --json "$bid" | jq -r .job.reason)"
[ ! -e /root/ebb-it-out.txt ] && ok "no file was made as root" || fail "/root/ebb-it-out.txt exists"
jid=$(as "$EBB" submit --json --workdir "$home" -- true | jq -r .id)
[ "$jid" -gt "$id" ] 2>/dev/null && ok "submit --json gives the id ($jid)" || fail "submit --json: '$jid'"
as "$EBB" submit no-such-command-xyz >"$T/out" 2>&1; rc=$?
expect_eq "a command not in PATH: exit 2" 2 "$rc"
stop_ebbd && ok "ebbd stopped cleanly" || fail "ebbd exit status"
finish
