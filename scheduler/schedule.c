/*
 * schedule: job records to planner input (see schedule.h). Pure: no I/O,
 * no clock; both ebbd and the simulator call it.
 */
#include <string.h>

#include "common/job.h"
#include "config/config.h"
#include "policies/policy.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/schedule.h"

void
sched_params(const struct ebb_config *cfg, int64_t now,
    struct plan_params *p)
{
	memset(p, 0, sizeof(*p));
	p->now = now;
	p->slot = cfg->slot;
	p->t0 = ci_slot_floor(now, cfg->slot);
	p->nslots = (size_t)((cfg->planner.horizon + cfg->slot - 1) /
	    cfg->slot);
	p->safety_margin = cfg->planner.safety_margin;
	p->margin_max = cfg->planner.safety_margin_max;
	p->min_chunk = cfg->planner.min_chunk;
	p->kwh_per_gb = cfg->planner.kwh_per_gb;
	p->delay_g_per_h = cfg->planner.delay_g_per_h;
	p->delay_swing = cfg->planner.delay_swing;
	p->risk = PLAN_RISK;
}

int
sched_site_index(const struct ebb_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsites && i < 64; i++)
		if (strcmp(cfg->sites[i].name, name) == 0)
			return (int)i;
	return -1;
}

double
sched_power(const struct ebb_config *cfg, const struct job *j,
    const struct policy_rule *rule)
{
	double per_cpu = cfg->planner.watts_per_cpu;

	if (j->power_w > 0)
		return j->power_w;
	if (rule != NULL && rule->power_w_per_cpu > 0)
		per_cpu = rule->power_w_per_cpu;
	return per_cpu * j->cpus;
}

void
sched_plan_job(const struct ebb_config *cfg, const struct job *j,
    const struct policy_rule *rule, int64_t now, struct plan_job *pj)
{
	struct plan_params pm = { .safety_margin = cfg->planner.safety_margin,
	    .margin_max = cfg->planner.safety_margin_max };
	int64_t dur = j->duration > 0 ? j->duration : cfg->slot;
	int64_t need = dur + plan_margin(&pm, dur);
	int64_t from = job_earliest_start(j);	/* delays count from here */
	size_t i;
	json_t *v;

	memset(pj, 0, sizeof(*pj));
	pj->id = j->id;
	pj->cpus = j->cpus;
	pj->gpus = j->gpus;
	pj->power_w = sched_power(cfg, j, rule);
	pj->duration = dur;
	pj->earliest = from > now ? from : now;
	pj->interruptible = j->interruptible;
	pj->data_gb = j->data_gb;
	if (json_array_size(j->sites) == 0)
		pj->sites = cfg->nsites >= 64 ? UINT64_MAX :
		    (UINT64_C(1) << cfg->nsites) - 1;
	json_array_foreach(j->sites, i, v) {
		int s = sched_site_index(cfg, json_string_value(v));

		if (s >= 0)
			pj->sites |= UINT64_C(1) << s;
	}
	/* A container image runs on Kubernetes sites only, a command
	 * without one everywhere else (adopted jobs stay where they are). */
	if (!j->adopted)
		for (size_t s = 0; s < cfg->nsites && s < 64; s++)
			if (config_site_is_kube(&cfg->sites[s]) !=
			    (j->image != NULL))
				pj->sites &= ~(UINT64_C(1) << s);
	/* The origin: the first site the job lists, else the first site. */
	pj->origin = json_array_size(j->sites) > 0 ? sched_site_index(cfg,
	    json_string_value(json_array_get(j->sites, 0))) : 0;
	if (pj->origin < 0)
		pj->origin = 0;
	if (j->deadline > 0)
		pj->deadline = j->deadline;
	else if (j->max_delay > 0)
		pj->deadline = from + j->max_delay + need;
	else if (cfg->planner.default_max_delay > 0)
		pj->deadline = from + cfg->planner.default_max_delay + need;
	else
		pj->run_now = 1;
	if (rule != NULL) {
		pj->run_if_below = rule->run_if_below;
		pj->run_now |= rule->run_now;
	}
	if (j->state == JOB_RUNNING) {
		pj->fixed = 1;
		pj->site = j->site ? sched_site_index(cfg, j->site) : 0;
		pj->start = j->start_time ? j->start_time : now;
	}
}
