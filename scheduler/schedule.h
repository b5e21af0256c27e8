/*
 * schedule: the one translation from job records, sites and intensity
 * series to planner input, shared by ebbd (dispatch.c) and `ebb simulate`
 * (simulate.c), so both plan the same way.
 *
 * It decides what a job's limits mean: a job starts no earlier than its
 * begin (else its submit time); a deadline is its latest end; a max
 * delay gives a latest start (latest end = begin or submit + max delay +
 * duration with the safety margin); a job with neither waits at most the
 * planner's default_max_delay past that (0: it runs at once). It owns no
 * state.
 */
#ifndef EBB_SCHEDULE_H
#define EBB_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/planner.h"

struct ebb_config;
struct job;
struct policy_rule;

/* Planner parameters for a plan made at now over the config's horizon. */
void	sched_params(const struct ebb_config *, int64_t now,
	    struct plan_params *out);
/*
 * The planner's view of a job whose policy (rule, may be NULL) has been
 * applied. Running jobs become fixed at their site and start.
 */
void	sched_plan_job(const struct ebb_config *, const struct job *,
	    const struct policy_rule *, int64_t now, struct plan_job *out);
/* The index of a site by name, or -1. */
int	sched_site_index(const struct ebb_config *, const char *name);
/* A job's expected mean power: its own, else cpus * watts_per_cpu (or the
 * rule's power per cpu). */
double	sched_power(const struct ebb_config *, const struct job *,
	    const struct policy_rule *);

#endif
