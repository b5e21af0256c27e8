/*
 * jobmeter: ebb-run's own energy measurement, for jobs that run where
 * ebbd's sampler cannot see them (a Slurm node).
 *
 * It meters the node where ebb-run runs (RAPL under powercap_root, else
 * the utilisation model) at every slot boundary and at the end, and at the
 * end gives the job its share of each interval with the same attribution
 * rule as ebbd (runner/attrib.h): the job's CPU time, known only at its
 * end from rusage or its cgroup, is spread evenly over its run. Settings
 * come from the spec's "energy" object: {powercap_root, procfs_root,
 * idle_w, max_w, idle, slot}.
 */
#ifndef EBB_JOBMETER_H
#define EBB_JOBMETER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct jobmeter;

/* Starts metering at `now`; NULL with err if no source can be opened. */
struct jobmeter	*jobmeter_open(const json_t *settings, int cpus, int64_t now,
		    char *err, size_t errlen);
/* Seconds from now to the next sample (the next slot boundary). */
int64_t		 jobmeter_next(const struct jobmeter *, int64_t now);
/* Samples if a slot boundary has passed since the last sample. */
void		 jobmeter_tick(struct jobmeter *, int64_t now);
/*
 * The last sample, then the job's energy as [[t0, t1, J], ...] (new
 * reference) given its CPU time; *method names how it was measured.
 */
json_t		*jobmeter_finish(struct jobmeter *, int64_t now,
		    int64_t cpu_usec, const char **method);
void		 jobmeter_free(struct jobmeter *);

#endif
