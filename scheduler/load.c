/*
 * load: a site's recent demand and the reserve it calls for (see load.h).
 * Pure: no I/O, no clock.
 *
 * load_reserve(rho): 0 up to LOAD_RHO_LO (0.2), LOAD_RESERVE_MAX (0.9)
 * from LOAD_RHO_HI (0.8), linear between. Below a fifth of the site
 * nothing that arrives is kept from starting by work moved into green
 * hours (two jobs for one green hour on an idle 2-cpu site both wait);
 * as arrivals near what the site can do at all, a plain earliest-start
 * schedule already makes jobs queue, and every cpu-hour moved into a
 * green window is one a later tight job may lack, so deferred work may
 * use only a tenth of the site. Measured on the PAI year at 1.5x, 2x and
 * 3x its mean demand (docs/benchmarks.md, "Deadlines under contention"):
 * with this shape and LOAD_TAU 1 day ebb misses fewer deadlines than an
 * earliest-start FCFS scheduler at all three loads and keeps 1-8 % of
 * savings; a fixed share cannot do both (0.5 misses more than FCFS at
 * 1.5x, and 0 misses 2.6x FCFS's count at 2x). Starting at 0.3 kept a
 * little more of the savings with less margin; ending at 0.9 or 1.0
 * missed more than FCFS at 2x (docs/benchmarks.md has the sweep).
 */
#include <math.h>

#include "config/config.h"
#include "scheduler/load.h"
#include "scheduler/planner.h"

void
load_add(struct site_load *l, int64_t submit, double cpu_s)
{
	if (!(cpu_s > 0))
		return;
	if (l->t == 0) {
		l->w = cpu_s;
		l->t = submit;
	} else if (submit >= l->t) {
		l->w = l->w * exp(-(double)(submit - l->t) / LOAD_TAU) + cpu_s;
		l->t = submit;
	} else
		l->w += cpu_s * exp(-(double)(l->t - submit) / LOAD_TAU);
}

void
load_note(struct site_load *per_site, const struct plan_job *j,
    int64_t submit)
{
	load_add(&per_site[j->origin], submit, (double)j->cpus *
	    (double)j->duration);
}

double
load_rho(const struct site_load *l, int64_t now, int cpus)
{
	double w;

	if (cpus <= 0 || l->t == 0)
		return 0;
	w = now > l->t ? l->w * exp(-(double)(now - l->t) / LOAD_TAU) : l->w;
	return w / ((double)LOAD_TAU * cpus);
}

double
load_reserve(double rho)
{
	if (!(rho > LOAD_RHO_LO))
		return 0;
	if (rho >= LOAD_RHO_HI)
		return LOAD_RESERVE_MAX;
	return LOAD_RESERVE_MAX * (rho - LOAD_RHO_LO) /
	    (LOAD_RHO_HI - LOAD_RHO_LO);
}

double
load_site_reserve(const struct ebb_config *cfg, size_t s,
    const struct site_load *l, int64_t now)
{
	if (cfg->planner.reserve >= 0)
		return cfg->planner.reserve;
	return load_reserve(load_rho(&l[s], now, cfg->sites[s].cpus));
}
