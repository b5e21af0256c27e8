/*
 * planner: where and when every queued job runs, for least emissions.
 *
 * A pure, deterministic function: (jobs, sites with capacity and intensity
 * per slot, now) -> plan. No I/O, no clock, no globals; the same input gives
 * the same plan. The daemon (dispatch.c) and the simulator (simulate.c)
 * call it the same way.
 *
 * Time is a grid of nslots slots of `slot` seconds from t0 (t0 <= now <
 * t0 + slot). A job placed in slot k starts at max(now, t0 + k * slot), so
 * no plan starts a job in the past. Expected emissions of a job are
 *   sum over its slots of power_w * slot_hours / 1000 * ci[site][slot] * pue
 * plus, when it runs away from its origin, data_gb * kwh_per_gb * the mean
 * intensity of the two sites, plus a delay tie-break toward earlier
 * starts: each kWh is charged rate * the hours it runs later than it
 * would have run at once (a block: its whole energy times its delay; an
 * interruptible job: each slot's energy times how much later that slot
 * runs than the same piece would in a run-now schedule). The rate at
 * site s is delay_g_per_h + delay_swing * the site's swing (max - min of
 * its known intensities on the grid) / 24: a day of delay costs
 * delay_swing of what waiting could at most gain there, so on a flat grid
 * it stays as small as its spread.
 *
 * Deadline safety against the forecast's error: a job is deferred past
 * its earliest start only if the deferred window still costs less than
 * the earliest one when both are judged at ci + risk * (hi - ci) (hi the
 * forecast's 90 % quantile where a site gives one); else it starts at
 * its earliest (PLAN_UNCERTAIN). The interval widens with lead time, so
 * the later window pays more: a saving smaller than that extra
 * uncertainty is not likely enough to spend slack (the room to recover
 * from a slip) on.
 *
 * Constraints, all hard: a job ends by its deadline given its duration and
 * the safety margin (duration * safety_margin, at most margin_max), starts
 * no earlier than `earliest`, runs only on its allowed sites, and no
 * site's cpus (or gpus) are exceeded in any slot, counting fixed (running)
 * jobs. Non-interruptible jobs run as one block; interruptible ones in
 * chunks of at least min_chunk slots.
 */
#ifndef EBB_PLANNER_H
#define EBB_PLANNER_H

#include <stddef.h>
#include <stdint.h>

struct plan_site {
	int		 cpus, gpus;	/* capacity */
	double		 pue;		/* >= 1 */
	const double	*ci;		/* g/kWh per slot (nslots), NAN unknown */
	double		 reserve;	/* share of the cpus a job placed later
					   than its earliest start for carbon
					   leaves free, 0 <= r < 1 (the caller
					   sets it from the site's load:
					   load.h) */
	const double	*hi;		/* NULL, or per slot the forecast's 90 %
					   quantile (NAN: as ci, known) */
};

/* Why a job got its placement. */
enum plan_why {
	PLAN_GREEN,		/* least expected emissions */
	PLAN_THRESHOLD,		/* origin already below run_if_below: now */
	PLAN_NO_FORECAST,	/* no usable intensity: earliest start (waiting
				   gains nothing known) */
	PLAN_RUN_NOW,		/* no slack (or policy says run at once) */
	PLAN_LATE,		/* cannot meet its deadline: earliest possible */
	PLAN_NO_ROOM,		/* no capacity within the horizon: not placed */
	PLAN_FIXED,		/* already running, not movable */
	PLAN_UNCERTAIN,		/* waiting's saving is within the forecast's
				   uncertainty: earliest start (last: the
				   codes before it keep their numbers) */
};

struct plan_job {
	int64_t		 id;
	int		 cpus, gpus;
	double		 power_w;	/* expected mean power */
	int64_t		 duration;	/* estimate, s (> 0) */
	int64_t		 earliest;	/* epoch s; 0: now */
	int64_t		 deadline;	/* latest end, epoch s; 0: none */
	uint64_t	 sites;		/* bit i: may run on site i */
	int		 origin;	/* site index it was submitted at */
	int		 interruptible;
	double		 data_gb;	/* moved if it runs away from origin */
	double		 run_if_below;	/* g/kWh; > 0: start now if origin's
					   current intensity is at most this */
	int		 run_now;	/* policy: no waiting at all */
	/* A running job: fixed at `site` from `start` (non-interruptible ones
	 * are never moved; interruptible ones keep their site and are
	 * re-planned over their remaining duration). */
	int		 fixed;
	int		 site;
	int64_t		 start;
};

struct plan_params {
	int64_t		 now, t0, slot;
	size_t		 nslots;
	double		 safety_margin;	/* duration * (1 + margin) must fit */
	int64_t		 margin_max;	/* s, cap on duration * margin; 0: none */
	int64_t		 min_chunk;	/* s, interruptible chunks */
	double		 kwh_per_gb;	/* relocation energy */
	double		 delay_g_per_h;	/* tie-break, g per kWh per hour */
	double		 delay_swing;	/* tie-break per day of delay, share of
					   the site's intensity swing */
	double		 risk;		/* deferring is judged at ci + risk *
					   (hi - ci); 0: at the mean */
};

/* The risk sched_params() sets (see PLANNING in ebbd(8)). */
#define PLAN_RISK	0.1

/* How far a job's window may reach past now, whatever the horizon. */
#define PLAN_MAX_WINDOW	((int64_t)7 * 86400)

struct plan_assign {
	int64_t		 job_id;
	enum plan_why	 why;
	int		 site;		/* -1 if not placed */
	int64_t		 start, end;	/* first start, last end, epoch s */
	uint32_t	*slots;		/* interruptible: its slot indexes,
					   ascending (owned by the result);
					   NULL for one block */
	size_t		 nslots;
	double		 expected_g;	/* at the plan's intensities */
	double		 now_g;		/* started now at its origin */
	int		 alt_site;	/* next-best choice, -1 if none */
	int64_t		 alt_start;
	double		 alt_g;
};

struct plan_result {
	struct plan_assign	*a;	/* one per input job, in input order */
	size_t			 n;
};

/*
 * Plans every job against the sites. Returns 0, or -1 with err for
 * malformed input (no slots, a site without intensity array, ...).
 * Free the result with plan_result_free().
 */
int	plan_compute(const struct plan_params *, const struct plan_site *,
	    size_t nsites, const struct plan_job *, size_t njobs,
	    struct plan_result *out, char *err, size_t errlen);
void	plan_result_free(struct plan_result *);

/*
 * The grid a plan of these jobs needs: p->nslots, or more so that every
 * deadline lies on it, a queued job fits after its earliest start (a
 * begin past the horizon), and any queued job fits after the last running job
 * ends (so a job that needs a whole site is placed, and holds its place,
 * rather than finding no room); at most PLAN_MAX_WINDOW after now.
 * Callers size the intensity arrays with it.
 */
size_t	plan_grid_slots(const struct plan_params *, const struct plan_job *,
	    size_t njobs);

/* The safety margin added to a duration: ceil(dur * margin), capped. */
int64_t	plan_margin(const struct plan_params *, int64_t dur);

/*
 * The exact optimum for small instances (exhaustive search; tests and the
 * quality benchmark use it to bound plan_compute). Returns -1 with err if
 * the instance is too large to search.
 */
int	plan_oracle(const struct plan_params *, const struct plan_site *,
	    size_t nsites, const struct plan_job *, size_t njobs,
	    struct plan_result *out, char *err, size_t errlen);

/* "green", "threshold", ... for explanations. */
const char *plan_why_name(enum plan_why);

#endif
