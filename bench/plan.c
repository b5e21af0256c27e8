/*
 * bench-plan: how long plan_compute() takes on a large synthetic queue.
 *
 * Ten sites with their own daily intensity curve (base, swing, phase and
 * a little seeded noise) and capacities of 4,000 to 10,000 cpus (the first
 * also with gpus); jobs are a seeded mix: 1-8 cpus (one in twenty also 1-2
 * gpus), 10 min to 6 h, 30 % of them not startable for up to 12 h, a
 * deadline 1-24 h after the earliest start (never shorter than the job
 * with its margin and one slot), 1-3 allowed sites around their origin, 10 %
 * interruptible, up to 50 GB of data. Slots are 5 minutes.
 *
 * It prints, per run, the wall-clock time of one plan_compute() call (one
 * thread) and the CPU time the process spent in it (on a shared machine
 * the wall clock also counts waiting for a CPU), how many jobs were placed (placed for least emissions, late)
 * or left without room, and the expected emissions of the placed jobs
 * and of the green ones against each started at once at its origin with
 * capacity ignored (the now_g baseline), and two checksums (FNV-1a) of
 * the plan: "plan" over every job's reason, site, start, end and slots,
 * "values" over its expected_g, now_g and next-best choice (bit for bit),
 * so that a change to the planner that should not change its plans can
 * be checked against the binary from before.
 * Default runs: 10k, 100k and 1M jobs over 576 slots (48 h), then 100k
 * jobs over 288 and 1152 slots. Usage: bench-plan [JOBS SLOTS] for one run.
 * It exits 1 if planning fails.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "scheduler/planner.h"

#define NSITES	10
#define SLOT	300
#define T0	((int64_t)1767225600)	/* 2026-01-01T00:00Z */
#define HOUR	3600

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int64_t
uni(uint64_t *x, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(x) % (uint64_t)(hi - lo + 1));
}

static void
fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= UINT64_C(0x100000001b3);
	}
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench(size_t njobs, size_t nslots)
{
	struct plan_params p = {
		.now = T0 + 17, .t0 = T0, .slot = SLOT, .nslots = nslots,
		.safety_margin = 0.1, .min_chunk = 900, .kwh_per_gb = 0.03,
		.delay_g_per_h = 0.1,
	};
	struct plan_site site[NSITES];
	struct plan_job *jobs = xcalloc(njobs, sizeof(*jobs));
	struct plan_result r;
	uint64_t x = 0x853c49e6748fea9bull;
	size_t placed = 0, late = 0, noroom = 0, green = 0;
	uint64_t hp = UINT64_C(0xcbf29ce484222325), hv = hp;
	double t, cpu, total = 0, base = 0, gtotal = 0, gbase = 0;
	char err[256];

	for (size_t s = 0; s < NSITES; s++) {
		double *ci = xmalloc(nslots * sizeof(*ci));
		double lo = (double)uni(&x, 30, 400), amp = (double)uni(&x, 10,
		    60) / 100 * lo, ph = (double)uni(&x, 0, 23);

		for (size_t k = 0; k < nslots; k++) {
			double h = (double)(k * SLOT) / HOUR;

			ci[k] = lo + amp * sin(2 * M_PI * (h + ph) / 24) +
			    (double)uni(&x, -10, 10);
		}
		site[s].cpus = (int)uni(&x, 4000, 10000);
		site[s].gpus = s % 10 == 0 ? 64 : 0;
		site[s].pue = 1.1 + (double)uni(&x, 0, 4) / 10;
		site[s].ci = ci;
		site[s].reserve = 0;
		site[s].hi = NULL;
	}
	for (size_t i = 0; i < njobs; i++) {
		struct plan_job *j = &jobs[i];
		int64_t dl;

		j->id = (int64_t)i + 1;
		j->cpus = (int)uni(&x, 1, 8);
		j->gpus = uni(&x, 0, 19) == 0 ? (int)uni(&x, 1, 2) : 0;
		j->power_w = 40.0 * j->cpus + 250.0 * j->gpus;
		j->duration = uni(&x, 600, 6 * HOUR);
		j->earliest = uni(&x, 0, 9) < 3 ? p.now + uni(&x, 0,
		    12 * HOUR) : 0;
		dl = uni(&x, HOUR, 24 * HOUR);
		if (dl < (int64_t)ceil(j->duration * 1.1) + SLOT)
			dl = (int64_t)ceil(j->duration * 1.1) + SLOT;
		j->deadline = (j->earliest ? j->earliest : p.now) + dl;
		j->origin = (int)uni(&x, 0, NSITES - 1);
		j->sites = UINT64_C(1) << j->origin;
		for (int64_t k = uni(&x, 0, 2); k > 0; k--)
			j->sites |= UINT64_C(1) << uni(&x, 0, NSITES - 1);
		if (j->gpus > 0)
			j->sites = 1;
		j->interruptible = uni(&x, 0, 9) == 0;
		j->data_gb = (double)uni(&x, 0, 50);
	}
	t = clock_s(CLOCK_MONOTONIC);
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	if (plan_compute(&p, site, NSITES, jobs, njobs, &r, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "bench-plan: %s\n", err);
		return -1;
	}
	t = clock_s(CLOCK_MONOTONIC) - t;
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	for (size_t i = 0; i < r.n; i++) {
		const struct plan_assign *a = &r.a[i];
		int32_t why = (int32_t)a->why;

		fnv(&hp, &a->job_id, sizeof(a->job_id));
		fnv(&hp, &why, sizeof(why));
		fnv(&hp, &a->site, sizeof(a->site));
		fnv(&hp, &a->start, sizeof(a->start));
		fnv(&hp, &a->end, sizeof(a->end));
		fnv(&hp, &a->nslots, sizeof(a->nslots));
		if (a->slots != NULL)
			fnv(&hp, a->slots, a->nslots * sizeof(*a->slots));
		fnv(&hv, &a->expected_g, sizeof(a->expected_g));
		fnv(&hv, &a->now_g, sizeof(a->now_g));
		fnv(&hv, &a->alt_site, sizeof(a->alt_site));
		fnv(&hv, &a->alt_start, sizeof(a->alt_start));
		fnv(&hv, &a->alt_g, sizeof(a->alt_g));
		placed += a->site >= 0;
		late += a->why == PLAN_LATE;
		noroom += a->why == PLAN_NO_ROOM;
		if (a->site >= 0 && isfinite(a->expected_g) &&
		    isfinite(a->now_g)) {
			total += a->expected_g;
			base += a->now_g;
		}
		if (a->why == PLAN_GREEN) {
			green++;
			gtotal += a->expected_g;
			gbase += a->now_g;
		}
	}
	printf("%8zu jobs %5zu slots %7.3f s (cpu %.3f s)  placed %zu (green "
	    "%zu, late %zu), no room %zu; CO2e vs run now: placed %+.1f%%, "
	    "green %+.1f%%\n", njobs, nslots, t, cpu, placed, green, late,
	    noroom,
	    base > 0 ? 100 * (total - base) / base : 0.0,
	    gbase > 0 ? 100 * (gtotal - gbase) / gbase : 0.0);
	printf("%8s checksums: plan %016" PRIx64 ", values %016" PRIx64 "\n",
	    "", hp, hv);
	plan_result_free(&r);
	for (size_t s = 0; s < NSITES; s++)
		free((void *)site[s].ci);
	free(jobs);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t runs[][2] = { { 10000, 576 }, { 100000, 576 },
	    { 1000000, 576 }, { 100000, 288 }, { 100000, 1152 } };

	if (argc == 3)
		return bench(strtoul(argv[1], NULL, 10),
		    strtoul(argv[2], NULL, 10)) == 0 ? 0 : 1;
	if (argc != 1) {
		fprintf(stderr, "usage: bench-plan [JOBS SLOTS]\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (bench(runs[i][0], runs[i][1]) == -1)
			return 1;
	return 0;
}
