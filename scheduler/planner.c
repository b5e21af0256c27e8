/*
 * planner: capacity-aware start decisions (see planner.h).
 * It never touches the store, the loop or the clock.
 */
#include <stdlib.h>

#include "scheduler/planner.h"

static int
by_urgency(const void *a, const void *b)
{
	const struct plan_job *x = a, *y = b;
	int64_t lx = x->latest_start ? x->latest_start : INT64_MAX;
	int64_t ly = y->latest_start ? y->latest_start : INT64_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	if (x->submit_time != y->submit_time)
		return x->submit_time < y->submit_time ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

size_t
plan_compute(struct plan_job *jobs, size_t njobs, struct plan_site *sites,
    size_t nsites, int64_t now, struct plan_start *out)
{
	size_t n = 0;

	qsort(jobs, njobs, sizeof(*jobs), by_urgency);
	for (size_t i = 0; i < njobs; i++) {
		const struct plan_job *j = &jobs[i];
		size_t s;

		for (s = 0; s < nsites && s < 64; s++) {
			if (!(j->sites & (UINT64_C(1) << s)))
				continue;
			if (sites[s].cpus_free >= j->cpus &&
			    sites[s].mem_free >= j->mem)
				break;
		}
		if (s < nsites && s < 64) {
			sites[s].cpus_free -= j->cpus;
			sites[s].mem_free -= j->mem;
			out[n].job_id = j->id;
			out[n].site = (int)s;
			out[n].start = now;
			n++;
			continue;
		}
		for (s = 0; s < nsites && s < 64; s++) {
			if ((j->sites & (UINT64_C(1) << s)) &&
			    sites[s].cpus_total >= j->cpus &&
			    sites[s].mem_total >= j->mem) {
				sites[s].cpus_free = 0;
				sites[s].mem_free = 0;
			}
		}
	}
	return n;
}
