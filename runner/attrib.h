/*
 * attrib: splits one sampling interval's node energy across the jobs that
 * ran in it, by the CPU time each job's cgroup used. Pure: no I/O, no
 * clock, no allocation.
 *
 * The node energy E (J) holds a DRAM part D (0 when unknown or when E is
 * psys, which already covers memory); the rest, P = E - D, is CPU-side.
 * With u the node's busy fraction (from /proc/stat: (total - idle -
 * iowait) / total, raised to sum(cpu) / (ncpus x interval) where the
 * jobs' CPU time says more: jiffies are coarse, cgroups count ns) and
 * B = u x ncpus x interval the CPU time of everything that ran (if the
 * jobs' CPU time adds up to more, that sum):
 *
 *   active  = P x u, split by CPU time: job j gets active x cpu_j / B; the
 *             share of non-job CPU time (system, daemons) is unattributed.
 *   idle    = P x (1 - u), by the idle rule:
 *     none           it all stays unattributed (Kepler's convention);
 *     proportional   split among the jobs by cpu_j / sum(cpu); unattributed
 *                    when no job used any CPU;
 *     by-reservation split by reserved cpus: job j gets idle x res_j /
 *                    max(ncpus, sum(res)); unreserved cpus' share stays
 *                    unattributed.
 *   DRAM    = D, split like active energy (cpu_j / B) whatever the idle
 *             rule: memory traffic follows CPU work, and the background
 *             (refresh) part is too small to deserve a rule of its own.
 *
 * Conservation: sum(job energy) + unattributed == E (to rounding).
 */
#ifndef EBB_ATTRIB_H
#define EBB_ATTRIB_H

#include <stddef.h>

enum attrib_idle {
	ATTRIB_IDLE_NONE,
	ATTRIB_IDLE_PROPORTIONAL,
	ATTRIB_IDLE_BY_RESERVATION,
};

/* One interval of the node. */
struct attrib_node {
	double		 energy_j;	/* node energy, >= 0 */
	double		 dram_j;	/* part of energy_j that is DRAM */
	double		 interval_s;	/* > 0 */
	double		 busy_frac;	/* [0, 1], clamped */
	int		 ncpus;		/* > 0 */
	enum attrib_idle idle;
};

/* One job in the interval: inputs, and energy_j filled by attrib_split. */
struct attrib_job {
	double	cpu_s;		/* cgroup CPU time used in the interval */
	double	reserved_cpus;	/* cpus the job was given */
	double	energy_j;	/* out */
};

/*
 * Fills jobs[i].energy_j for n jobs and *unattributed; returns 0, or -1
 * with err set when an input is negative, not finite or out of range.
 */
int	attrib_split(const struct attrib_node *, struct attrib_job *jobs,
	    size_t n, double *unattributed, char *err, size_t errlen);

/* "none", "proportional", "by-reservation" -> rule; -1 if unknown. */
int	attrib_idle_parse(const char *, enum attrib_idle *);
/* The rule's name; static storage. */
const char *attrib_idle_name(enum attrib_idle);

#endif
