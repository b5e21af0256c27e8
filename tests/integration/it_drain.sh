#!/bin/bash
# it_drain: a queue of short jobs drains as fast as the cpus free up
# (issue 11 item 6). Two cpus, a blocker on both while 30 jobs of 0.3 s
# (estimate 1 s) queue up; then the blocker ends. Each job end must start
# the next waiting job at once, without waiting for a planning pass: no
# pass in ebbd's log between an end's line and the next job's start (but
# at the queue's tail), and the next launch of a supervisor within a
# bound generous for ASan (median < 200 ms; ebb-run's own start-up and
# end, some 100 ms more here, are not ebbd's to shorten); jobs are
# launched in submit order and never more than two run at a time.
. "$(dirname "$0")/lib.sh"

N=30
write_config 2
start_ebbd
blocker=$("$EBB" submit -q --name blocker --cpus 2 --duration 10m -- \
    /bin/sh -c "while [ ! -e $T/go ]; do sleep 0.05; done")
for _ in $(seq 1 100); do
	[ "$(job_field "$blocker" state)" = running ] && break; sleep 0.1
done
for i in $(seq 1 $N); do
	"$EBB" submit -q --name drain --duration 1s -- /bin/bash -c \
	    "echo \"S $i \${EPOCHREALTIME/./}\" >> $T/times; sleep 0.3; echo \"E $i \${EPOCHREALTIME/./}\" >> $T/times" \
	    >/dev/null || fail "submit $i"
done
# Every job planned (the passes after the submits are done).
for _ in $(seq 1 100); do
	[ "$("$EBB" queue --json | jq '[.[] | select(.state == "queued")] | length')" = 0 ] && break
	sleep 0.1
done
touch "$T/go"
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
	[ "$(cat "$T/times" 2>/dev/null | grep -c '^E')" -ge $N ] && break
	sleep 0.2
done
wait_final 20
expect_eq "all jobs succeeded" $N "$("$EBB" queue --all --json |
    jq '[.[] | select(.name == "drain" and .state == "succeeded")] | length')"

# Launched in submit order (ids ascending; ebb-run's own start-up time
# varies, so not the jobs' clocks), and never more than 2 at once.
expect_eq "jobs launched in submit order" "$(seq 1 $((N + 1)) | tr '\n' ' ')" \
    "$(sed -n 's/.*ebbd\[debug\]: job \([0-9]*\): launched$/\1/p' "$LOG" |
    tr '\n' ' ')"
most=$(awk '{ print $3, ($1 == "S" ? 1 : -1) }' "$T/times" | sort -k1,1n -k2,2n |
    awk '{ n += $2; if (n > m) m = n } END { print m }')
[ "$most" -le 2 ] && ok "at most 2 jobs at once ($most)" ||
	fail "$most jobs ran at once on 2 cpus"

# Each end of a drain job (ebbd's log, ms) to the next job's start (its
# own clock): whether a planning pass came between; and to ebbd's next
# launch of a supervisor (its log): how long. Times of day: a
# run across midnight gets the next day's times moved on by a day.
read -r n median passes <<<"$({
	awk '/ebbd\[/ { split(substr($1, 12, 12), h, ":")
		t = h[1] * 3600 + h[2] * 60 + h[3] }
	/ succeeded: / && go { printf "%.3f END\n", t }
	/ succeeded: / { go = 1 }		# the blocker: from then on
	/planning pass/ && go { printf "%.3f PASS\n", t }
	/: launched$/ && go { printf "%.3f LAUNCH\n", t }' "$LOG"
	awk '$1 == "S" { t = $3 / 1e6; printf "%.6f START\n", t - int(t / 86400) * 86400 }' "$T/times"
} | awk 'NR == 1 { t0 = $1 }
    { printf "%.6f %s\n", (t0 > 43200 && $1 < 43200) ? $1 + 86400 : $1, $2 }' |
    sort -k1,1n | awk '
$2 == "END" { q[++nq] = $1; pass[nq] = 0 }
$2 == "PASS" { for (k = hq + 1; k <= nq; k++) pass[k] = 1 }
$2 == "START" && hq < nq { hq++; m++; p += pass[hq] }
$2 == "LAUNCH" && lq < nq { l[++nl] = 1000 * ($1 - q[++lq]) }
END {
	for (i = 1; i <= nl; i++) for (j = i + 1; j <= nl; j++)
		if (l[j] < l[i]) { x = l[i]; l[i] = l[j]; l[j] = x }
	printf "%d %d %d\n", m, nl ? l[int((nl + 1) / 2)] : -1, p
}')"
[ "$n" -ge $((N - 4)) ] && ok "$n ends followed by a start" ||
	fail "only $n of $N ends were followed by a start"
# (Once the queue is empty an end asks for a pass, which may come before
# the last job's ebb-run has started it.)
[ "$passes" -le 2 ] && ok "$passes of $n starts came after a planning pass" ||
	fail "$passes of $n starts waited for a planning pass"
[ "$median" -ge 0 ] && [ "$median" -lt 200 ] &&
	ok "median launch $median ms after an end" ||
	fail "median launch $median ms after an end (bound 200 ms)"
finish
