#!/bin/bash
# it_install: `cmake --install --prefix P` gives a system install that works
# as installed: a config naming the installed trace (no path of the source
# tree) with the site sized to the machine, a systemd unit and sysusers.d
# file that systemd's own tools accept, man pages, bash completion and the
# examples; the installed ebbd, started as root on that config, finds the
# installed ebb-run, and an ordinary user in group ebb submits through its
# socket and sees the job run as themself, while a user outside the group
# is refused. A second ebbd on the same state, in the foreground or not,
# and beside a first one that detached, exits 1 saying why on stderr.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ebbd as root, test users)"; exit 77; }
: "${EBB_BUILD:?run through ctest}" "${CMAKE:?}"
P=$T/prefix
if ! "$CMAKE" --install "$EBB_BUILD" --prefix "$P" >"$T/install.log" 2>&1; then
	cat "$T/install.log"; fail "cmake --install"; finish
fi
ok "cmake --install --prefix $P"

# --- what is installed where.
for f in sbin/ebbd bin/ebb libexec/ebb/ebb-run etc/ebb/ebb.yaml \
    lib/systemd/system/ebbd.service lib/sysusers.d/ebb.conf \
    share/man/man1/ebb.1 share/man/man8/ebbd.8 share/man/man5/ebb.yaml.5 \
    share/man/man5/ebb-policy.5 share/man/man5/ebb-job.5 \
    share/bash-completion/completions/ebb \
    share/bash-completion/completions/ebbd \
    share/ebb/traces/DE-LU_2023_hourly.csv \
    share/ebb/examples/slurm/job_submit.lua \
    share/ebb/examples/jobs/hello.yaml \
    share/ebb/examples/policies/site-default.yaml \
    share/ebb/examples/simulate/ebb.yaml \
    share/ebb/examples/traces/GB_2023_hourly.csv; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
[ "$FAILS" = 0 ] && ok "every file in its place"
[ -e "$P/share/man/man1/ebb.1" ] ||
	echo "(no man pages: was lowdown missing when the build was configured? sh .ci/deps)"
expect_eq "installed ebbd --version" "ebbd $("$EBB" --version | cut -d' ' -f2)" \
	"$("$P/sbin/ebbd" --version)"

# --- the configuration.
conf=$P/etc/ebb/ebb.yaml
grep -qF "$EBB_SRC" "$conf" "$P/lib/systemd/system/ebbd.service" &&
	fail "the install names the source tree"
grep -qF "$EBB_BUILD" "$conf" "$P/lib/systemd/system/ebbd.service" &&
	fail "the install names the build tree"
out=$("$P/sbin/ebbd" -n -c "$conf" 2>"$T/check.err"); rc=$?
expect_eq "installed config loads" 0 "$rc"
expect_eq "its trace is the installed one" \
	"file: $P/share/ebb/traces/DE-LU_2023_hourly.csv" \
	"$(echo "$out" | grep -o 'file: .*')"
expect_eq "its site has this machine's cpus" "cpus: $(getconf _NPROCESSORS_ONLN)" \
	"$(echo "$out" | grep -o 'cpus: .*')"
expect_eq "and memory" "memory: $(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))" \
	"$(echo "$out" | grep -o 'memory: .*')"
expect_eq "socket group" "socket_group: ebb" "$(echo "$out" | grep '^socket_group:')"
expect_eq "ebbd -n warns: no live provider" \
	"ebbd: warning: $conf: site 'local': no live carbon-intensity provider: it plans on a recorded trace; add electricitymaps, watttime, ukci or entsoe to its providers (docs/providers.md)" \
	"$(cat "$T/check.err")"
sed 's/providers: \[trace\]/providers: [ukci, trace]/' "$conf" > "$T/live.yaml"
"$P/sbin/ebbd" -n -c "$T/live.yaml" >/dev/null 2>"$T/live.err"
expect_eq "no warning with a live provider first" "" "$(cat "$T/live.err")"

# A second install keeps a config the administrator changed.
echo "# changed" >> "$conf"
"$CMAKE" --install "$EBB_BUILD" --prefix "$P" >"$T/install2.log" 2>&1 ||
	fail "second cmake --install"
expect_eq "changed config kept" "# changed" "$(tail -n 1 "$conf")"
cmp -s <(sed '$d' "$conf") "$P/etc/ebb/ebb.yaml.default" &&
	ok "the new default beside it" || fail "no ebb.yaml.default beside it"

# --- systemd: the unit and the sysusers.d file, through systemd's tools.
unit=$P/lib/systemd/system/ebbd.service
expect_eq "unit starts the installed ebbd on the installed config" \
	"ExecStart=$P/sbin/ebbd -f -c $conf" "$(grep '^ExecStart=' "$unit")"
for kv in StateDirectoryMode=0700 UMask=0077 KillMode=process \
    ProtectSystem=full ProtectKernelModules=yes ProtectClock=yes; do
	grep -qx "$kv" "$unit" || fail "unit lacks $kv"
done
if command -v systemd-analyze >/dev/null; then
	out=$(MANPATH=$P/share/man systemd-analyze verify "$unit" 2>&1)
	expect_eq "systemd-analyze verify: no complaint" "" "$out"
else
	echo "skipped systemd-analyze: not installed"
fi
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$T/root/etc"
	systemd-sysusers --root="$T/root" "$P/lib/sysusers.d/ebb.conf" 2>"$T/sysusers.err" ||
		fail "systemd-sysusers: $(cat "$T/sysusers.err")"
	gid=$(awk -F: '$1 == "ebb" {print $3}' "$T/root/etc/group")
	[ -n "$gid" ] && ok "sysusers creates group ebb" || fail "no group ebb"
	expect_eq "and user ebb in it, home /var/lib/ebb" "$gid:/var/lib/ebb" \
		"$(awk -F: '$1 == "ebb" {print $4 ":" $6}' "$T/root/etc/passwd")"
else
	echo "skipped systemd-sysusers: not installed"
fi

# --- man pages, completion, examples.
for m in man1/ebb.1:ebb man8/ebbd.8:ebbd man5/ebb.yaml.5:ebb.yaml \
    man5/ebb-policy.5:ebb-policy man5/ebb-job.5:ebb-job; do
	f=$P/share/man/${m%%:*}; n=${m#*:}
	lexgrog "$f" 2>/dev/null | grep -q ": \"$n - " ||
		fail "$f: no NAME line for $n ($(lexgrog "$f" 2>&1))"
	[ "$(MANPATH=$P/share/man man -w "$n" 2>/dev/null)" = "$f" ] ||
		fail "man -w $n does not find $f"
done
MANPATH=$P/share/man MANWIDTH=80 man ebbd 2>/dev/null | grep -q -- '--version' &&
	ok "man pages: named, found by man, rendered" || fail "man ebbd lacks --version"
comp() {	# comp WORD...: what TAB offers for the last word
	PATH=$P/bin:$P/sbin:$PATH bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		case $1 in ebb) _ebb "$1";; ebbd) _ebbd "$1";; esac
		echo "${COMPREPLY[*]}"' _ "$P/share/bash-completion/completions/ebb" "$@"
}
expect_eq "completion: commands" "submit" "$(comp ebb su)"
expect_eq "completion: an alias too" "ls logs" "$(comp ebb l)"
expect_eq "completion: a command's options" "--cpus" "$(comp ebb submit --cp)"
expect_eq "completion: ebbd's options" "--help" "$(comp ebbd --he)"
out=$("$P/bin/ebb" simulate --json -c "$P/share/ebb/examples/simulate/ebb.yaml" \
	"$P/share/ebb/examples/simulate/pai-week.csv" | jq .jobs)
expect_eq "installed simulate example runs on the installed traces" 300 "$out"

# --- the installed daemon, as root, on the installed config.
getent group ebb >/dev/null || groupadd --system ebb
id -u ebbinst1 >/dev/null 2>&1 || useradd -M -N -G ebb -s /bin/sh ebbinst1
id -u ebbinst2 >/dev/null 2>&1 || useradd -M -N -s /bin/sh ebbinst2
usermod -aG ebb ebbinst1
home=$T/home; mkdir -p "$home"; chmod 777 "$home"
as() {	# as USER CMD...: CMD as that user, with its groups
	local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env -i \
	    PATH=/usr/bin:/bin HOME="$home" EBB_SOCKET="$SOCK" "$@"
}
sed -e "s|^state_dir: .*|state_dir: $STATE|" -e "s|^socket: .*|socket: $SOCK|" \
    -e "s|^  port: 9464|  port: 0|" "$P/etc/ebb/ebb.yaml.default" > "$CONF"
chmod 644 "$CONF"
env -u EBB_RUN "$P/sbin/ebbd" -f -c "$CONF" >>"$LOG" 2>&1 &
EBBD_PID=$!
for _ in $(seq 1 100); do
	"$P/bin/ebb" queue >/dev/null 2>&1 && break
	kill -0 "$EBBD_PID" 2>/dev/null || break; sleep 0.1
done
grep -q "runner $P/libexec/ebb/ebb-run," "$LOG" &&
	ok "installed ebbd finds the installed ebb-run" ||
	fail "runner: $(grep -o 'runner [^,]*' "$LOG")"
expect_eq "socket mode and group" "660 ebb" "$(stat -c '%a %G' "$SOCK")"
wait_provider_ok && ok "the installed trace serves the site" ||
	fail "provider: $("$P/bin/ebb" sites --json | jq -c '.sites[0].providers[0]')"
id=$(cd "$home" && as ebbinst1 "$P/bin/ebb" submit -q -- id -un) ||
	fail "a member of group ebb cannot submit"
for _ in $(seq 1 150); do
	st=$(as ebbinst1 "$P/bin/ebb" show --json "$id" | jq -r .job.state)
	case $st in succeeded|failed|cancelled|lost) break;; esac; sleep 0.2
done
expect_eq "the member's job ran" succeeded "$st"
expect_eq "as the member" ebbinst1 "$(as ebbinst1 "$P/bin/ebb" logs "$id")"
err=$(cd "$home" && as ebbinst2 "$P/bin/ebb" submit -q -- true 2>&1); rc=$?
[ "$rc" != 0 ] && echo "$err" | grep -q "Permission denied" &&
	ok "a user outside group ebb is refused: $err" ||
	fail "outside group ebb: exit $rc: $err"

# --- one ebbd per state: a second one says why, on stderr, with exit 1.
pid=$EBBD_PID
for f in -f ""; do
	err=$("$P/sbin/ebbd" $f -c "$CONF" 2>&1 >/dev/null); rc=$?
	expect_eq "second ebbd ${f:-(detaching)}: exit" 1 "$rc"
	echo "$err" | grep -q "ebbd\[error\]: another ebbd (pid $pid) is using $STATE$" &&
		ok "and says so: $err" || fail "said: $err"
done
stop_ebbd || fail "ebbd exit status"
# Detaching, ebbd returns once it is ready, or with the reason it is not.
sed 's/^socket_group: ebb/socket_group: ebb-no-such-group/' "$CONF" > "$T/nogroup.yaml"
chmod 644 "$T/nogroup.yaml"
err=$("$P/sbin/ebbd" -c "$T/nogroup.yaml" 2>&1 >/dev/null); rc=$?
expect_eq "detaching ebbd with a socket group that does not exist: exit" 1 "$rc"
echo "$err" | grep -q "ebbd\[error\]: socket group ebb-no-such-group: no such group$" &&
	ok "and says so on stderr" || fail "said: $err"
"$P/sbin/ebbd" -c "$CONF" 2>"$T/detach.err"; rc=$?
expect_eq "a detaching ebbd starts" 0 "$rc"
grep '\[error\]' "$T/detach.err" && fail "it logged an error before detaching"
"$P/bin/ebb" queue >/dev/null && ok "and is ready when it returns" ||
	fail "not ready when it returned"
dpid=$(cat "$STATE/ebbd.pid")
EBBD_PID=$dpid	# for cleanup
[ "$dpid" != "$pid" ] && kill -0 "$dpid" && ok "its pid file names the daemon ($dpid)" ||
	fail "pid file: $dpid"
err=$("$P/sbin/ebbd" -f -c "$CONF" 2>&1 >/dev/null); rc=$?
expect_eq "beside a detached ebbd: exit" 1 "$rc"
echo "$err" | grep -q "another ebbd (pid $dpid) is using $STATE$" &&
	ok "and names it" || fail "said: $err"
kill -TERM "$dpid"
for _ in $(seq 1 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && fail "detached ebbd did not stop"
finish
