/*
 * attrib: the split of one interval's node energy across jobs by cgroup
 * CPU time, with the idle and DRAM rules described in attrib.h. Pure
 * arithmetic; it keeps no state between intervals.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runner/attrib.h"

static const char *const idle_names[] = {
	[ATTRIB_IDLE_NONE] = "none",
	[ATTRIB_IDLE_PROPORTIONAL] = "proportional",
	[ATTRIB_IDLE_BY_RESERVATION] = "by-reservation",
};

int
attrib_idle_parse(const char *s, enum attrib_idle *rule)
{
	for (size_t i = 0; i < sizeof(idle_names) / sizeof(idle_names[0]); i++)
		if (strcmp(s, idle_names[i]) == 0) {
			*rule = (enum attrib_idle)i;
			return 0;
		}
	return -1;
}

const char *
attrib_idle_name(enum attrib_idle rule)
{
	return idle_names[rule];
}

static int
nonneg(double v)
{
	return isfinite(v) && v >= 0;
}

static int
check(const struct attrib_node *node, const struct attrib_job *jobs,
    size_t n, char *err, size_t errlen)
{
	if (!nonneg(node->energy_j) || !nonneg(node->dram_j) ||
	    node->dram_j > node->energy_j) {
		snprintf(err, errlen, "energy %g J with dram %g J: need "
		    "0 <= dram <= energy", node->energy_j, node->dram_j);
		return -1;
	}
	if (!isfinite(node->interval_s) || node->interval_s <= 0 ||
	    node->ncpus <= 0 || !isfinite(node->busy_frac)) {
		snprintf(err, errlen, "interval %g s, %d cpus, busy %g: need "
		    "a positive interval and cpus and a finite busy fraction",
		    node->interval_s, node->ncpus, node->busy_frac);
		return -1;
	}
	if ((unsigned int)node->idle >
	    sizeof(idle_names) / sizeof(idle_names[0]) - 1) {
		snprintf(err, errlen, "unknown idle rule %d", (int)node->idle);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!nonneg(jobs[i].cpu_s) || !nonneg(jobs[i].reserved_cpus)) {
			snprintf(err, errlen, "job %zu: cpu %g s, reserved %g "
			    "cpus: need finite values >= 0", i, jobs[i].cpu_s,
			    jobs[i].reserved_cpus);
			return -1;
		}
	return 0;
}

int
attrib_split(const struct attrib_node *node, struct attrib_job *jobs,
    size_t n, double *unattributed, char *err, size_t errlen)
{
	double u, pkg, active, idle, dram, busy_s, cpu_sum = 0, res_sum = 0;
	double idle_den = 0, idle_given = 0, by_cpu_given = 0;

	if (check(node, jobs, n, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		cpu_sum += jobs[i].cpu_s;
		res_sum += jobs[i].reserved_cpus;
	}
	/* /proc/stat counts jiffies; the cgroups, nanoseconds: where the
	 * jobs alone were busier than it says, they are right. */
	u = fmin(fmax(fmax(node->busy_frac, cpu_sum / ((double)node->ncpus *
	    node->interval_s)), 0), 1);
	dram = node->dram_j;
	pkg = node->energy_j - dram;
	active = pkg * u;
	idle = pkg - active;
	busy_s = fmax(u * node->ncpus * node->interval_s, cpu_sum);
	switch (node->idle) {
	case ATTRIB_IDLE_NONE:
		break;
	case ATTRIB_IDLE_PROPORTIONAL:
		idle_den = cpu_sum;
		break;
	case ATTRIB_IDLE_BY_RESERVATION:
		idle_den = fmax(res_sum, node->ncpus);
		break;
	}
	for (size_t i = 0; i < n; i++) {
		double by_cpu = 0, by_idle = 0;

		if (busy_s > 0)
			by_cpu = (active + dram) * (jobs[i].cpu_s / busy_s);
		if (idle_den > 0)
			by_idle = idle * ((node->idle ==
			    ATTRIB_IDLE_PROPORTIONAL ? jobs[i].cpu_s :
			    jobs[i].reserved_cpus) / idle_den);
		jobs[i].energy_j = by_cpu + by_idle;
		by_cpu_given += by_cpu;
		idle_given += by_idle;
	}
	/* Each part's remainder, so that the sum is a check, not a given. */
	*unattributed = (active + dram - by_cpu_given) + (idle - idle_given);
	return 0;
}
