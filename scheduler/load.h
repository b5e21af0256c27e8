/*
 * load: how busy a site has been lately, and the reserve that calls for.
 *
 * The planner's `reserve` (planner.h, struct plan_site) is the share of a
 * site's cpus that a job waiting for greener hours leaves free, for jobs
 * not yet submitted that will not be able to wait. How much that should
 * be depends on how much work keeps arriving: nothing on an idle machine
 * (two jobs for one green hour on 2 cpus must both wait), most of the
 * site when arrivals nearly fill it. ebbd (dispatch.c) and `ebb simulate`
 * (simulate.c) both keep one struct site_load per site, note every job
 * at its submit, and ask load_site_reserve() for each plan, so both plan
 * with the same reserve.
 *
 * A site's demand is the work submitted to it: each job's cpus x expected
 * duration, counted at its origin (the site it was submitted to) at its
 * submit time, as an exponentially decayed sum with time constant
 * LOAD_TAU:
 *
 *   W(t) = sum over jobs submitted by t of cpus * duration *
 *          exp(-(t - submit) / LOAD_TAU)
 *
 * W / LOAD_TAU is the rate at which work arrived over about the last
 * LOAD_TAU, in cpus kept busy; over the site's cpus it is the site's
 * utilisation rho (what an earliest-start scheduler would keep busy on
 * average; above 1 the site cannot keep up at all). The reserve is
 * load_reserve(rho) (load.c says why that shape). A job's demand counts
 * from its submit, whatever became of it (run, waiting, cancelled): it
 * is the arrivals, not the schedule, that later jobs compete with.
 */
#ifndef EBB_LOAD_H
#define EBB_LOAD_H

#include <stddef.h>
#include <stdint.h>

#define LOAD_TAU	((int64_t)86400)	/* s, decay time of demand */
#define LOAD_HISTORY	(5 * LOAD_TAU)	/* older submits weigh < 1 % */
#define LOAD_RHO_LO	0.2	/* no reserve up to this utilisation */
#define LOAD_RHO_HI	0.8	/* the most from this one */
#define LOAD_RESERVE_MAX 0.9	/* the most: deferred work uses a tenth */

struct ebb_config;
struct plan_job;

struct site_load {
	double		 w;		/* decayed cpu-seconds as of t */
	int64_t		 t;		/* 0: nothing noted yet */
};

/* Notes cpu_s cpu-seconds submitted at `submit` (in any order). */
void	load_add(struct site_load *, int64_t submit, double cpu_s);
/* Notes a planned job (planner view) at its origin: cpus x duration. */
void	load_note(struct site_load *per_site, const struct plan_job *,
	    int64_t submit);
/* The site's utilisation rho at now (>= 0; 0 for a site without cpus). */
double	load_rho(const struct site_load *, int64_t now, int cpus);
/* The reserve a utilisation calls for, 0 <= r <= LOAD_RESERVE_MAX. */
double	load_reserve(double rho);
/*
 * The reserve for site s at now: planner.reserve when the config fixes
 * one, else load_reserve() of its utilisation (`auto`).
 */
double	load_site_reserve(const struct ebb_config *, size_t s,
	    const struct site_load *per_site, int64_t now);

#endif
