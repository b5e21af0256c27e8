/*
 * planner: decides where and when queued jobs start.
 *
 * A pure function: no I/O, no clock, no globals; the same input gives the
 * same plan. Callers copy what it needs out of their own records. At this
 * stage the plan starts jobs as capacity allows; carbon-aware planning
 * replaces the inside of plan_compute(), not its callers.
 */
#ifndef EBB_PLANNER_H
#define EBB_PLANNER_H

#include <stddef.h>
#include <stdint.h>

struct plan_job {
	int64_t		id;
	int		cpus;
	int64_t		mem;		/* bytes, 0 = none asked */
	int64_t		submit_time;
	int64_t		latest_start;	/* 0 = no limit */
	uint64_t	sites;		/* bit i: may run on site i */
};

struct plan_site {
	int		cpus_free;
	int64_t		mem_free;
	int		cpus_total;	/* capacity, for reservations */
	int64_t		mem_total;
};

struct plan_start {
	int64_t		job_id;
	int		site;		/* index into the sites array */
	int64_t		start;		/* when to start it */
};

/*
 * Plans the queued jobs against the sites' free capacity at `now`. Writes
 * the jobs that start now into out (room for njobs entries) and returns how
 * many. Jobs are taken by least slack (earliest latest_start), then submit
 * time, then id; a job that does not fit now reserves the free capacity of
 * the allowed sites it could ever fit on, so later jobs never overtake it
 * there (no starvation).
 * `jobs` is reordered; `sites` is updated to the capacity left.
 */
size_t	plan_compute(struct plan_job *jobs, size_t njobs,
	    struct plan_site *sites, size_t nsites, int64_t now,
	    struct plan_start *out);

#endif
