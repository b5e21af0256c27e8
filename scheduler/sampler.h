/*
 * sampler: measures running jobs' energy on ebbd's loop.
 *
 * While any job runs, a timer samples the node's energy meter (RAPL,
 * else the model; runner/energy.h) about once a second,
 * splits each interval's energy across the running jobs by their cgroup
 * CPU time (attrib.h, with the configured idle rule) and hands each job's
 * energy to the ledger, one interval per planning slot. With no job
 * running there is no timer. Counters are cumulative, and every sample
 * leaves the readings and each job's CPU time in <state_dir>/energy.json,
 * so a gap (ebbd restarting) loses time resolution, never energy: the
 * first sample after it covers the whole gap (taken up only if a job it
 * lists still runs). GPU energy (NVML) is measured by the meter
 * but not yet attributed to jobs.
 */
#ifndef EBB_SAMPLER_H
#define EBB_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct ebbd;
struct sampler;

/* Opens the meter; NULL with err set only if no source at all works. */
struct sampler *sampler_new(struct ebbd *, char *err, size_t errlen);
void	sampler_free(struct sampler *);
/*
 * A job started at `started` (or was re-adopted) in cgroup `cgroup` with
 * `cpus`.
 */
void	sampler_job_started(struct sampler *, int64_t id, const char *cgroup,
	    int cpus, int64_t started);
/*
 * A job ended having used cpu_usec of CPU in all (-1 unknown): a last
 * sample gives it its share up to now, then its energy goes to the ledger.
 */
void	sampler_job_ended(struct sampler *, int64_t id, int64_t cpu_usec);
/*
 * Energy measured for running job id (every job when id is -1) that is
 * not in the ledger yet (it goes there once per slot, and at the end), J.
 */
double	sampler_pending(const struct sampler *, int64_t id);
/* Node energy measured so far by method ("rapl", "model", ...), J. */
double	sampler_node_joules(const struct sampler *);
const char *sampler_method(const struct sampler *);

#endif
