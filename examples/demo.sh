#!/bin/bash
# demo.sh: ebb's main job, run by `make demo`. Starts ebbd on its embedded
# default (no config file: state and socket in the default places, one local
# site sized to this machine whose carbon intensity is a bundled Electricity
# Maps trace replayed onto the present), plus a second site on this machine
# standing in for one on Ontario's grid, shows the sites and a forecast,
# submits the example jobs in examples/jobs, shows the queue with why each
# job waits and the expected saving of a deferred one, runs a CPU burner
# that may go to either site (it goes to the cleaner one), waits for the
# jobs that run now, replays a week of real jobs with `ebb simulate`, and
# ends with the emissions report of the jobs it ran: the burner's saving
# against running at once at its first site is measured, not expected.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
EBBD=$BUILD/scheduler/ebbd
EBB=$BUILD/scheduler/cli/ebb
export EBB_RUN=$BUILD/runner/ebb-run
log=$(mktemp /tmp/ebbd-demo.XXXXXX.log)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ ebb %s\n' "$*"; "$EBB" "$@"; }

say "the embedded default configuration (ebbd -n)"
"$EBBD" -n
sock=$("$EBBD" -n 2>/dev/null | sed -n 's/^socket: //p')
export EBB_SOCKET=$sock
# As root ebbd runs its unprivileged part as user "ebb" (an install's
# sysusers file creates it), and root's own jobs (this demo's) run only
# with root_jobs: the demo runs the default settings with that one line.
conf=$(mktemp /tmp/ebbd-demo.XXXXXX.yaml)
traces=$(cd "$here/traces" && pwd)
# A second site: the same machine, on Ontario's (mostly nuclear and hydro)
# grid, so that where a job runs makes a difference right away.
clean_site() {
	cat <<EOF
- name: ontario
  backend: local
  cpus: 2
  zone: CA-ON
  providers: [trace]
  trace:
    file: $traces/CA-ON_2023_hourly.csv
    value_column: "Carbon Intensity gCO₂eq/kWh (LCA)"
    replay: true
EOF
}
if [ "$(id -u)" = 0 ]; then
	id ebb >/dev/null 2>&1 ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin ebb
	{ "$EBBD" -n 2>/dev/null | sed 's/^root_jobs: .*/root_jobs: true/'; clean_site; } > "$conf"
	# The worker reads the bundled traces as user ebb: a clone under a
	# private home directory is out of its reach, so it gets a copy.
	if ! runuser -u ebb -- test -r "$traces/DE-LU_2023_hourly.csv"; then
		copy=$(mktemp -d /tmp/ebb-demo-traces.XXXXXX)
		cp "$traces"/*.csv "$copy/" && chmod -R a+rX "$copy"
		sed -i "s|$traces/|$copy/|" "$conf"
	fi
	chmod 644 "$conf"
else
	{ "$EBBD" -n 2>/dev/null; clean_site; } > "$conf"
fi

say "starting ebbd in the background (log: $log)"
"$EBBD" -f -c "$conf" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do "$EBB" queue >/dev/null 2>&1 && break; sleep 0.1; done
head -n 1 "$log"

say "carbon intensity of the sites (bundled 2023 traces, replayed)"
for _ in $(seq 1 50); do
	[ "$("$EBB" sites --json | jq -r '[.sites[].providers[0].status] | unique | join(",")')" = ok ] && break
	sleep 0.1
done
run sites
run forecast --hours 24

say "submitting the example jobs (to the first site, local) and one that may go anywhere"
ids=()
for f in "$here"/jobs/*.yaml; do
	printf '$ ebb submit -f %s --site local\n' "examples/jobs/${f##*/}"
	id=$("$EBB" submit -q -f "$f" --site local); echo "submitted job $id"
	ids+=("$id")
done
printf '$ ebb submit --name failing --site local --duration 1m -- sh -c "exit 3"\n'
id=$("$EBB" submit -q --name failing --site local --duration 1m -- sh -c "exit 3")
echo "submitted job $id"; ids+=("$id")
burn='i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done'
printf '$ ebb submit --name burn-anywhere --site local,ontario --duration 1m -- sh -c %s\n' "'$burn'"
id=$("$EBB" submit -q --name burn-anywhere --site local,ontario --duration 1m -- \
	sh -c "$burn")
echo "submitted job $id (it runs now, at the cleaner of its sites; its saving is"
echo "against running at once at its first site, local)"
ids+=("$id")
printf '$ ebb submit --name flex-anywhere --site local,ontario --max-delay 12h --duration 30m -- true\n'
id=$("$EBB" submit -q --name flex-anywhere --site local,ontario --max-delay 12h \
	--duration 30m -- true)
echo "submitted job $id"; ids+=("$id")

sleep 0.5	# the planning pass follows each change within 50 ms
say "the queue right after submitting: REASON says why each job waits"
run queue
flex=$("$EBB" queue --json | jq -r '[.[] | select(.state == "planned" and
	.wait_reason == "green-window")] | max_by(.now_g - .expected_g) | .id // empty')
if [ -n "$flex" ]; then
	say "why job $flex waits, and what waiting is expected to save"
	"$EBB" show "$flex" | grep -E '^(name|state|reason|waits|site|planned_start|max_delay|deadline|duration|estimate_from|plan|expected|next_best):'
else
	say "no job waits for a greener hour: now is the cleanest time of each one's window"
fi

say "waiting for the jobs that run now"
for _ in $(seq 1 600); do
	[ "$("$EBB" queue --json | jq '[.[] | select(.state == "running" or .state == "queued")] | length')" = 0 ] && break
	sleep 0.2
done
echo "done"

say "results of this run's jobs"
"$EBB" queue --all | sed -n 1p
"$EBB" queue --all | awk -v ids=" ${ids[*]} " 'NR > 1 && index(ids, " " $1 " ")'
say "one finished job in detail"
run show "${ids[1]}"
say "its output"
run logs "${ids[0]}"

planned=$("$EBB" queue --json | jq -r '.[] | select(.state == "planned") | .id' | tr '\n' ' ')
if [ -n "$planned" ]; then
	say "the deferred jobs would start at their green time; the demo cancels them"
	run cancel $planned
fi

say "ebb simulate: a week of real jobs (Alibaba PAI) over real 2023 grid data"
printf '$ ebb simulate -c examples/simulate/ebb.yaml examples/simulate/pai-week.csv\n'
(cd "$here/.." && "$EBB" simulate -c examples/simulate/ebb.yaml examples/simulate/pai-week.csv)
say "what this run's finished jobs emitted (energy x grid intensity)"
done_ids=$("$EBB" queue --all --json | jq -r --arg ids " ${ids[*]} " \
	'.[] | select(.state == "succeeded" or .state == "failed") |
	.id as $i | select($ids | contains(" \($i) ")) | $i' | tr '\n' ' ')
run report $done_ids

say "stopping ebbd"
