# lib.sh: shared helpers for ebb's integration tests (sourced, bash).
#
# Each test gets a private state dir and socket, a config written by
# write_config, and a real ebbd started with start_ebbd. Everything the test
# started is stopped and removed on exit. Programs come from the environment
# ctest sets (EBBD, EBB, EBB_RUN, EBB_BURN, EBB_RAWSEND).

set -u
: "${EBBD:?run through ctest}" "${EBB:?}" "${EBB_RUN:?}"
export EBB_RUN
T=$(mktemp -d /tmp/ebb-it.XXXXXX)
chmod 755 "$T"
STATE=$T/state
SOCK=$T/ebbd.sock
CONF=$T/ebb.yaml
LOG=$T/ebbd.log
export EBB_SOCKET=$SOCK
EBBD_PID=
FAILS=0

# As root ebbd runs its unprivileged part as the system user "ebb".
if [ "$(id -u)" = 0 ] && ! id ebb >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin ebb ||
	    { echo "cannot create user ebb"; exit 1; }
fi
# That user reads the bundled traces: use a copy where it cannot reach
# the source tree (a checkout under a private home directory). The tests'
# own helpers, run as root, stay where they are (EBB_TREE).
EBB_TREE=$EBB_SRC
if [ "$(id -u)" = 0 ] && ! runuser -u ebb -- test -r \
    "$EBB_SRC/examples/traces/DE-LU_2023_hourly.csv"; then
	mkdir -p "$T/src" && cp -r "$EBB_SRC/examples" "$T/src/" &&
	    chmod -R a+rX "$T/src"
	EBB_SRC=$T/src
fi

cleanup() {
	if [ -n "$EBBD_PID" ] && kill -0 "$EBBD_PID" 2>/dev/null; then
		kill -TERM "$EBBD_PID"; wait "$EBBD_PID" 2>/dev/null
	fi
	[ -n "${SLURMS:-}" ] && stop_slurms
	# Supervisors outlive ebbd by design; end the ones this test left,
	# with their jobs (whatever is in each job's cgroup) and cgroups.
	local sup c cg
	for sup in $(pgrep -f "ebb-run .*$STATE/"); do
		for c in $(cat /proc/"$sup"/task/*/children 2>/dev/null); do
			cg=$(awk -F: '$2 ~ /cpuacct/ {print $3}' /proc/"$c"/cgroup 2>/dev/null)
			[ -n "$cg" ] && [ "$cg" != / ] &&
			    xargs -r kill -KILL < "/sys/fs/cgroup/cpuacct$cg/cgroup.procs" 2>/dev/null
			kill -KILL "$c" 2>/dev/null
		done
		kill -KILL "$sup" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ] || [ "$FAILS" -gt 0 ]; then
		echo "--- ebbd log ($LOG) ---"; tail -n 80 "$LOG" 2>/dev/null
	fi
	[ "${KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT

# share_bins: copy the programs to where other users can run them (the build
# tree may sit under a home directory they cannot enter).
share_bins() {
	local v
	mkdir -p "$T/bin"
	for v in EBBD EBB EBB_RUN EBB_BURN; do
		cp "${!v}" "$T/bin/"
		printf -v "$v" '%s' "$T/bin/$(basename "${!v}")"
	done
	export EBB_RUN
}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# expect_eq WHAT EXPECTED ACTUAL; returns 1 when they differ.
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		fail "$1: expected [$2], got [$3]"; return 1; fi
}

# expect_err WHAT EXIT EXPECTED-STDERR -- CMD...: exact stderr and exit code.
expect_err() {
	local what=$1 code=$2 msg=$3; shift 4
	local out rc
	out=$("$@" 2>&1 >/dev/null); rc=$?
	expect_eq "$what: exit code" "$code" "$rc"
	expect_eq "$what: message" "$msg" "$out"
}

# write_config CPUS [extra yaml lines...]; root's own jobs run as root
# (most tests submit as root) unless ROOT_JOBS=false.
write_config() {
	local cpus=$1; shift
	{
		echo "state_dir: $STATE"
		echo "socket: $SOCK"
		echo "kill_grace: 2s"
		echo "root_jobs: ${ROOT_JOBS:-true}"
		for l in "$@"; do echo "$l"; done
		echo "sites:"
		echo "  - name: local"
		echo "    backend: local"
		echo "    cpus: $cpus"
	} > "$CONF"
}

# site_trace ZONE FILE [KEY: VALUE...]: the last site in $CONF gets that
# zone and the trace in FILE (with these extra trace keys) as its
# intensity provider.
site_trace() {
	local zone=$1 file=$2 l; shift 2
	{
		echo "    zone: $zone"
		echo "    providers: [trace]"
		echo "    trace:"
		echo "      file: $file"
		for l in "$@"; do echo "      $l"; done
	} >> "$CONF"
}

# site_de_trace: the site write_config made gets zone DE and the bundled
# Germany trace, replayed onto the present, as its intensity provider.
site_de_trace() {
	site_trace DE "$EBB_SRC/examples/traces/DE-LU_2023_hourly.csv" \
	    'value_column: "Carbon Intensity gCO₂eq/kWh (LCA)"' "replay: true"
}

start_ebbd() {
	"$EBBD" -f -d -c "$CONF" >>"$LOG" 2>&1 &
	EBBD_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && "$EBB" queue >/dev/null 2>&1 && return 0
		kill -0 "$EBBD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "ebbd did not start:"; cat "$LOG"; exit 1
}

kill9_ebbd() {
	kill -KILL "$EBBD_PID"; wait "$EBBD_PID" 2>/dev/null; EBBD_PID=
}

stop_ebbd() {
	kill -TERM "$EBBD_PID"; wait "$EBBD_PID"; local rc=$?; EBBD_PID=
	return $rc
}

# job_field ID FIELD: one field of the job in `ebb show --json`.
job_field() {
	"$EBB" show --json "$1" | jq -r ".job.$2"
}

# dip_trace FILE: 30 days of hourly history up to now, 500 g/kWh except
# a dip to 100 at the hour that comes 4 hours from now; sets DIP (that
# hour of the day, UTC) and DIP_NOW (the now it was made for).
dip_trace() {
	local now t h v
	now=$(date +%s)
	DIP=$(( (now / 3600 + 4) % 24 ))
	DIP_NOW=$now
	{
		echo "time,intensity"
		for t in $(seq $(( now / 3600 * 3600 - 30 * 86400 )) 3600 $now); do
			h=$(( t / 3600 % 24 ))
			v=500; [ $h = $DIP ] && v=100
			echo "$(date -u -d @$t '+%Y-%m-%d %H:%M:%S'),$v"
		done
	} > "$1"
}

# wait_provider_ok: until the first site's first provider has answered.
wait_provider_ok() {
	for _ in $(seq 1 50); do
		[ "$("$EBB" sites --json | jq -r '.sites[0].providers[0].status')" = ok ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_field ID FIELD VALUE [TRIES]: until the job's field has the value
# (TRIES looks 0.2 s apart, default 100); 1 if it never does.
wait_field() {
	for _ in $(seq 1 "${4:-100}"); do
		[ "$(job_field "$1" "$2")" = "$3" ] && return 0; sleep 0.2
	done
	return 1
}

# wait_final TIMEOUT_S: until no job is queued, planned or running.
wait_final() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		[ "$("$EBB" queue --json | jq length)" = 0 ] && return 0
		sleep 0.2
	done
	fail "jobs still active after $1 s"; "$EBB" queue
	return 1
}

# start_prometheus: a real Prometheus (Debian package) on loopback with
# the scrape config in $T/prometheus.yml; sets PPORT (its API) and
# PROM_PID. Tries a few ports: one may be taken. Needs PROM (its path).
start_prometheus() {
	local try
	for try in 1 2 3 4 5; do
		PPORT=$((20000 + RANDOM % 30000))
		"$PROM" --config.file="$T/prometheus.yml" \
		    --storage.tsdb.path="$T/tsdb" \
		    --web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
		PROM_PID=$!
		for _ in $(seq 1 300); do
			curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null &&
			    return 0
			kill -0 "$PROM_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null
		PROM_PID=
		echo "prometheus did not start on port $PPORT (try $try)"
	done
	return 1
}
finish() {
	if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
	echo "all checks passed"; exit 0
}

# start_slurm NAME PORT: a real single-node Slurm cluster from
# ../shared/tools/slurm-local.sh, with ebb's job_submit.lua, under a short
# private dir; exports its SLURM_CONF as SLURM_CONF_<NAME>. Skips the test
# (77) when the script or root is missing. Stopped by stop_slurms.
SLURMS=""
start_slurm() {
	local name=$1 port=$2 dir=/tmp/ebbsl-$1-$$ tool
	tool=${EBB_SHARED:-$EBB_SRC/../shared}/tools/slurm-local.sh
	[ -x "$tool" ] || { echo "SKIP: no $tool (../shared is absent)"; exit 77; }
	[ "$(id -u)" = 0 ] || { echo "SKIP: slurm-local needs root"; exit 77; }
	SLURM_TOOL=$tool
	env SLURM_LOCAL_DIR=$dir SLURM_LOCAL_CTLD_PORT=$port \
	    SLURM_LOCAL_SLURMD_PORT=$((port + 1)) \
	    SLURM_LOCAL_JOB_SUBMIT_LUA=$EBB_SRC/examples/slurm/job_submit.lua \
	    ${SLURM_EXTRA:+SLURM_LOCAL_EXTRA_CONF="$SLURM_EXTRA"} \
	    "$tool" start > "$T/slurm-$name.env" 2>"$T/slurm-$name.log" ||
	    { cat "$T/slurm-$name.log"; echo "slurm-local $name did not start"; exit 1; }
	SLURMS="$SLURMS $dir"
	printf -v "SLURM_CONF_$name" '%s' "$dir/etc/slurm.conf"
	printf -v "SLURM_DIR_$name" '%s' "$dir"
}

stop_slurms() {
	local d
	for d in $SLURMS; do
		SLURM_LOCAL_DIR=$d "$SLURM_TOOL" purge >/dev/null 2>&1
	done
	SLURMS=""
}

# slurm_site NAME CONF [extra yaml lines for its slurm: block]: a site of
# backend slurm on that cluster (1 s polls, job dirs under $T/shared).
slurm_site() {
	local name=$1 conf=$2; shift 2
	cat >> "$CONF" <<EOF2
  - name: $name
    backend: slurm
    cpus: 2
    slurm:
      conf: $conf
      poll: 1s
      shared_dir: $T/shared/$name
EOF2
	for l in "$@"; do echo "      $l" >> "$CONF"; done
}

# minute_trace FILE HIGH LOW MINUTE...: a day of per-minute history, HIGH
# except LOW in the listed minutes (epoch minute numbers) of yesterday, so
# ebb's forecast expects them to be low today as well. One day: a trace
# provider reloads a day, so a rewrite replaces all of it.
minute_trace() {
	local f=$1 hi=$2 lo=$3 now t v m; shift 3
	now=$(date +%s)
	{
		echo "time,intensity"
		for ((t = now - now % 60 - 86400; t <= now; t += 60)); do
			v=$hi
			for m in "$@"; do
				[ $((t / 60 % 1440)) = $((m % 1440)) ] && v=$lo
			done
			TZ=UTC printf '%(%Y-%m-%d %H:%M:%S)T,%d\n' "$t" "$v"
		done
	} > "$f.tmp" && mv "$f.tmp" "$f"
}

# test_users NAME...: ordinary users for a test (created the first time).
test_users() {
	local u
	for u; do
		id -u "$u" >/dev/null 2>&1 || useradd -M -N -s /bin/sh "$u"
	done
}

# as USER CMD...: CMD as USER, with exactly its groups, in an empty
# environment but for PATH and this test's EBB_SOCKET.
as() {
	local u=$1; shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    env -i PATH=/usr/bin:/bin EBB_SOCKET="$SOCK" "$@"
}
