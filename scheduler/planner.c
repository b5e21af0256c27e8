/*
 * planner: where and when every queued job runs (see planner.h for the
 * model). Pure and deterministic: no I/O, no clock, no globals.
 *
 * One job alone is planned exactly. A block (non-interruptible) job is
 * tried at every start slot on every allowed site; the energy integral of
 * a window is O(1) from per-site prefix sums of the intensity, and which
 * windows have room is one backward pass per site ("next blocked slot"),
 * so a site costs O(slots). An interruptible job gets n = ceil(duration /
 * slot) whole slots (its energy spread evenly over them). Without the
 * chunk rule the optimum is, for every possible first slot (which carries
 * the relocation and delay costs), that slot plus the n - 1 cheapest later
 * ones: a bounded max-heap swept from the right. When that set breaks the
 * min_chunk rule, a DP over (slot, slots taken, length of the current
 * chunk, capped at min_chunk) finds the exact optimum. A site whose DP
 * would exceed DP_MAX_CELLS is skipped; an interruptible job that finds
 * no slots anywhere is planned as one block.
 *
 * What keeps it fast (bench-plan: 100k jobs x 10 sites x 576 slots in
 * about half a second) without changing any choice: window costs are
 * computed for runs of starts (every start that ends before the next
 * blocked slot fits, and a run without unknown intensity is one tight
 * loop, bc_costs()); each site's cheapest start is kept as it goes, so
 * the next best searches only the chosen site again; the earliest start
 * with room is a forward scan that looks at each slot once; the DP keeps
 * only the band of slot counts that can still end with n slots, pulls
 * each state from its predecessors in the order a forward sweep would
 * push them (ties go as before) and keeps one bit per two-way choice.
 * Equal costs always go to the first site, then the first start.
 * test_planner's golden plans and bench-plan's checksums show a change
 * that moves a job.
 *
 * The queue: running (fixed) jobs take their capacity first; the rest are
 * placed one by one, least slack first (latest start - earliest, in
 * slots: deadlines come first), then the most to lose (its next-best
 * window, alone, minus its best: a big job whose best window is now still
 * has much to lose), then input order; each takes its cheapest window
 * against the capacity left. (Placing only jobs with slack shorter than
 * their own length first, the rest by what they lose, came 1.3 points
 * closer to the oracle on small instances but made four times as many
 * jobs late on the loaded bench queue.) Deadlines are hard: a job that
 * cannot meet its deadline runs at its earliest feasible start
 * (PLAN_LATE); without a usable forecast it takes its earliest start too
 * (PLAN_NO_FORECAST: waiting gains nothing anyone knows of, and a later
 * start only uses up slack that later arrivals may need). A job waiting
 * for greener hours (its green window later than its earliest start, or
 * its slots) must leave `reserve` of the site's cpus free in each slot it
 * takes; with no such window it takes its earliest start on the whole
 * capacity (PLAN_RUN_NOW), so deferred work never fills a site that jobs
 * with less slack, submitted later, will need. A running interruptible
 * job is re-planned like a queued one over what is left of it, on its
 * site, and gets an ordinary reason, not PLAN_FIXED.
 *
 * Repair: a job that comes out late (or without room) though it has
 * on-time windows is lifted off, with its movable neighbours (placed
 * green or run-now blocks: all of them if at most REPAIR_JOBS, else
 * those overlapping its on-time span on its sites, at most REPAIR_JOBS);
 * the same branch and bound as the oracle then searches them together,
 * each over its on-time windows, for the cheapest plan that meets every
 * one of their deadlines (REPAIR_NODES windows tried at most). On
 * failure the plan stays as it was, and the greedy re-plan (reflow()) is
 * tried: every movable block overlapping the late job's on-time span is
 * lifted, the late job takes its cheapest on-time window, the others are
 * placed again in their order; undone if any of them comes out late
 * (REFLOW_WORK per plan). Exhaustive on small queues, so when
 * the oracle meets every deadline so does the planner; a budget of
 * REPAIR_WORK per plan bounds it on big ones (bench-plan: ~0.1 s).
 *
 * plan_oracle() searches every (site, start) combination of the block
 * jobs (branch and bound, options cheapest first) for the least total
 * expected_g within capacity and deadlines; it ignores run_now and
 * run_if_below, computes no alternatives, and refuses interruptible jobs,
 * a job with no window before its deadline, and more than 1e7
 * combinations.
 *
 * It does not decide what a plan means for running jobs (dispatch.c does)
 * nor where the intensities come from.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/planner.h"

#define MAX_SITES	64
#define DP_MAX_CELLS	(8u * 1024 * 1024)
#define ORACLE_MAX	1e7
#define REPAIR_JOBS	12		/* neighbours searched with a late job */
#define REPAIR_NODES	((size_t)1 << 16)	/* windows tried per repair */
#define REPAIR_WORK	((size_t)1 << 18)	/* per plan, all repairs */
#define REFLOW_WORK	((size_t)1 << 22)	/* per plan, all reflows */
#define NO_SLOT		LONG_MAX

struct ctx {
	const struct plan_params *p;
	const struct plan_site	*site;
	size_t			 nsites;
	long			 ns;		/* slots in the horizon */
	int64_t			 slot;
	int64_t			 off;		/* now - t0 */
	int64_t			 hend;		/* ns * slot */
	double			*cz;		/* [site][slot]: ci, NAN as 0 */
	double			*pre;		/* [site][ns + 1]: sum cz * slot */
	long			*nanpre;	/* [site][ns + 1]: NAN slots */
	int			*cpu, *gpu;	/* [site][slot]: capacity left */
	long			*nb;		/* [site][ns + 1]: next blocked */
	double			*cost;		/* [site][slot]: window costs */
	double			*rate;		/* [site]: delay, g/kWh per h */
	struct choice		*smin;		/* [site]: its cheapest window
						   (green_block, regret) */
	int			*hold;		/* [site]: cpus a deferred job
						   leaves free (reserve) */
	int			 holding;	/* placing for carbon: hold */
	double			*dp;		/* interruptible scratch */
	unsigned char		*par;
	size_t			 dpcap, parcap;
	double			*heap;
	size_t			 heapcap;
	double			*uv;		/* interruptible: uval() per
						   slot of the window, NAN if
						   not usable */
	struct vslot		*vs;
	unsigned char		*mark;
	size_t			 uvcap;
};

/* One job's grid: slots e..l are the starts that meet its deadline. */
struct geo {
	const struct plan_job	*j;
	uint64_t		 sites;		/* allowed and existing */
	int			 origin;
	int64_t			 dur;
	int64_t			 er;		/* earliest, from t0 */
	long			 e;		/* first start slot */
	long			 l;		/* last start by deadline */
	long			 last;		/* last start in horizon */
	double			 kw;		/* power, kW */
	long			 len;		/* slots a block spans from a boundary */
	int64_t			 rem;		/* dur % slot */
};

struct choice {
	int		 site;
	long		 k;		/* start slot; NO_SLOT: none */
	double		 g;
};

static const char *const why_names[] = {
	[PLAN_GREEN] = "green",
	[PLAN_THRESHOLD] = "threshold",
	[PLAN_NO_FORECAST] = "no-forecast",
	[PLAN_UNCERTAIN] = "uncertain",
	[PLAN_RUN_NOW] = "run-now",
	[PLAN_LATE] = "late",
	[PLAN_NO_ROOM] = "no-room",
	[PLAN_FIXED] = "fixed",
};

const char *
plan_why_name(enum plan_why w)
{
	if ((unsigned)w >= sizeof(why_names) / sizeof(why_names[0]))
		return "unknown";
	return why_names[w];
}

static int
check_input(const struct plan_params *p, const struct plan_site *s,
    size_t nsites, const struct plan_job *j, size_t njobs, char *err,
    size_t errlen)
{
	if (p->slot <= 0 || p->nslots == 0 || p->nslots > INT32_MAX) {
		snprintf(err, errlen, "planner: no slots");
		return -1;
	}
	if (p->now < p->t0 || p->now >= p->t0 + p->slot) {
		snprintf(err, errlen, "planner: now is not in the first slot");
		return -1;
	}
	if (!(p->safety_margin >= 0) || !(p->kwh_per_gb >= 0) ||
	    !(p->delay_g_per_h >= 0) || !(p->delay_swing >= 0) ||
	    p->min_chunk < 0 || p->margin_max < 0) {
		snprintf(err, errlen, "planner: negative parameter");
		return -1;
	}
	if (nsites == 0 || nsites > MAX_SITES) {
		snprintf(err, errlen, "planner: %zu sites (1 to %d)", nsites,
		    MAX_SITES);
		return -1;
	}
	for (size_t i = 0; i < nsites; i++) {
		if (s[i].ci == NULL) {
			snprintf(err, errlen, "planner: site %zu has no "
			    "intensity", i);
			return -1;
		}
		if (!(s[i].pue >= 1) || s[i].cpus < 0 || s[i].gpus < 0 ||
		    !(s[i].reserve >= 0 && s[i].reserve < 1)) {
			snprintf(err, errlen, "planner: site %zu: bad pue, "
			    "capacity or reserve", i);
			return -1;
		}
	}
	for (size_t i = 0; i < njobs; i++) {
		if (j[i].duration <= 0 || j[i].cpus < 0 || j[i].gpus < 0 ||
		    !(j[i].power_w >= 0) || !(j[i].data_gb >= 0)) {
			snprintf(err, errlen, "planner: job %lld: bad duration, "
			    "resources or power", (long long)j[i].id);
			return -1;
		}
		if (j[i].origin < 0 || (size_t)j[i].origin >= nsites ||
		    (j[i].fixed && (j[i].site < 0 ||
		    (size_t)j[i].site >= nsites))) {
			snprintf(err, errlen, "planner: job %lld: no such site",
			    (long long)j[i].id);
			return -1;
		}
	}
	return 0;
}

static void
ctx_init(struct ctx *c, const struct plan_params *p,
    const struct plan_site *site, size_t nsites)
{
	long ns = (long)p->nslots;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->site = site;
	c->nsites = nsites;
	c->ns = ns;
	c->slot = p->slot;
	c->off = p->now - p->t0;
	c->hend = (int64_t)ns * p->slot;
	c->cz = xmalloc(nsites * ns * sizeof(*c->cz));
	c->pre = xmalloc(nsites * (ns + 1) * sizeof(*c->pre));
	c->nanpre = xmalloc(nsites * (ns + 1) * sizeof(*c->nanpre));
	c->cpu = xmalloc(nsites * ns * sizeof(*c->cpu));
	c->gpu = xmalloc(nsites * ns * sizeof(*c->gpu));
	c->nb = xmalloc(nsites * (ns + 1) * sizeof(*c->nb));
	c->cost = xmalloc(nsites * ns * sizeof(*c->cost));
	c->rate = xmalloc(nsites * sizeof(*c->rate));
	c->smin = xmalloc(nsites * sizeof(*c->smin));
	c->hold = xmalloc(nsites * sizeof(*c->hold));
	for (size_t s = 0; s < nsites; s++) {
		double *cz = c->cz + s * ns, *pre = c->pre + s * (ns + 1);
		long *np = c->nanpre + s * (ns + 1);
		double lo = INFINITY, hi = -INFINITY;

		pre[0] = 0;
		np[0] = 0;
		for (long t = 0; t < ns; t++) {
			double v = site[s].ci[t];
			int bad = !isfinite(v);

			cz[t] = bad ? 0 : v;
			pre[t + 1] = pre[t] + cz[t] * (double)p->slot;
			np[t + 1] = np[t] + bad;
			c->cpu[s * ns + t] = site[s].cpus;
			c->gpu[s * ns + t] = site[s].gpus;
			if (!bad) {
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
		}
		c->rate[s] = p->delay_g_per_h + (hi > lo ? p->delay_swing *
		    (hi - lo) / 24 : 0);
		c->hold[s] = (int)(site[s].reserve * site[s].cpus);
	}
}

static void
ctx_free(struct ctx *c)
{
	free(c->cz);
	free(c->pre);
	free(c->nanpre);
	free(c->cpu);
	free(c->gpu);
	free(c->nb);
	free(c->cost);
	free(c->rate);
	free(c->smin);
	free(c->hold);
	free(c->dp);
	free(c->par);
	free(c->heap);
	free(c->uv);
	free(c->vs);
	free(c->mark);
}

/* Seconds from t0 at which a job placed in slot k starts. */
static int64_t
start_rel(const struct ctx *c, long k)
{
	return k == 0 ? c->off : (int64_t)k * c->slot;
}

static void
geo_init(const struct ctx *c, const struct plan_job *j, struct geo *g)
{
	const struct plan_params *p = c->p;
	uint64_t all = c->nsites >= MAX_SITES ? UINT64_MAX :
	    (UINT64_C(1) << c->nsites) - 1;

	g->j = j;
	g->sites = j->sites & all;
	g->origin = j->origin;
	g->dur = j->duration;
	g->kw = j->power_w / 1000.0;
	g->len = (long)((g->dur + c->slot - 1) / c->slot);
	g->rem = g->dur % c->slot;
	g->er = j->earliest - p->t0;
	if (g->er < c->off)
		g->er = c->off;
	g->e = g->er == c->off ? 0 : (long)((g->er + c->slot - 1) / c->slot);
	if (g->e >= c->ns) {
		g->e = g->l = g->last = c->ns;
		return;
	}
	g->last = c->hend - g->dur >= c->slot ?
	    (long)((c->hend - g->dur) / c->slot) : 0;
	if (g->last < g->e)
		g->last = g->e;		/* longer than the horizon: clipped */
	g->l = g->last;
	if (j->deadline != 0) {
		int64_t lat = j->deadline - p->t0 - g->dur -
		    plan_margin(p, g->dur);

		if (lat < c->off)
			g->l = -1;
		else if (lat / c->slot < g->l)
			g->l = (long)(lat / c->slot);
	}
}

/* First and last slot a block started in slot k occupies. */
static void
occupy(const struct ctx *c, const struct geo *g, long k, long *sa, long *sb)
{
	int64_t a = start_rel(c, k), b = a + g->dur;

	if (b > c->hend)
		b = c->hend;
	*sa = (long)(a / c->slot);
	*sb = (long)((b - 1) / c->slot);
}

/* Integral of intensity from t0 to x (s from t0), in g/kWh * s. */
static double
ci_integral(const struct ctx *c, size_t s, int64_t x)
{
	long i = (long)(x / c->slot);

	if (i >= c->ns)
		return c->pre[s * (c->ns + 1) + c->ns];
	return c->pre[s * (c->ns + 1) + i] +
	    (double)(x - (int64_t)i * c->slot) * c->cz[s * c->ns + i];
}

/* Emissions of running over [a, b) (s from t0) at site s; NAN unknown. */
static double
energy_g(const struct ctx *c, const struct geo *g, size_t s, int64_t a,
    int64_t b)
{
	const long *np = c->nanpre + s * (c->ns + 1);

	if (b > c->hend)
		b = c->hend;
	if (b <= a)
		return 0;
	if (np[(b - 1) / c->slot + 1] != np[a / c->slot])
		return NAN;
	return g->kw * c->site[s].pue * (ci_integral(c, s, b) -
	    ci_integral(c, s, a)) / 3600.0;
}

/* Moving the job's data to site s for a first slot k; NAN unknown. */
static double
reloc_g(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	double gb = g->j->data_gb * c->p->kwh_per_gb;

	if ((int)s != g->origin && gb > 0)
		return gb * (c->site[g->origin].ci[k] + c->site[s].ci[k]) / 2;
	return 0;
}

/*
 * Relocation and delay of a block started in slot k at site s; NAN
 * unknown. The delay tie-break is per kWh of the job's energy, like an
 * intensity, so it stays small next to the job's own emissions whatever
 * its size: every kWh of a block runs start - earliest later.
 */
static double
extra_g(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	return c->rate[s] * g->kw * ((double)g->dur / 3600.0) *
	    (double)(start_rel(c, k) - g->er) / 3600.0 + reloc_g(c, g, s, k);
}

/*
 * Cost of a block in slot k at site s. From a slot boundary and inside
 * the horizon this is energy_g() unrolled (the same arithmetic).
 */
static double
block_g(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	const double *pre = c->pre + s * (c->ns + 1);
	const long *np = c->nanpre + s * (c->ns + 1);
	long f = k + g->len - (g->rem != 0);
	double cb;

	if (k == 0 || k + g->len > c->ns) {
		int64_t a = start_rel(c, k);

		return energy_g(c, g, s, a, a + g->dur) + extra_g(c, g, s, k);
	}
	if (np[k + g->len] != np[k])
		return NAN;
	cb = g->rem != 0 ? pre[f] + (double)g->rem * c->cz[s * c->ns + f] :
	    pre[f];
	return g->kw * c->site[s].pue * (cb - pre[k]) / 3600.0 +
	    extra_g(c, g, s, k);
}

/*
 * block_g() of one job at one site for many starts: what does not depend
 * on the start, worked out once. bc_cost() is block_g() with the same
 * arithmetic in the same order, so it gives the same bits.
 */
struct bc {
	const double	*pre, *cz, *ci, *ci_o;
	const long	*np;
	double		 kwpue;		/* kw * pue */
	double		 dk;		/* rate * kw * hours */
	double		 gb;		/* relocation, kWh; 0: none */
	double		 rem;
	long		 len, f;	/* f: last whole slot, from k */
	int64_t		 slot, er;
};

static void
bc_init(const struct ctx *c, const struct geo *g, size_t s, struct bc *b)
{
	double gb = g->j->data_gb * c->p->kwh_per_gb;

	b->pre = c->pre + s * (c->ns + 1);
	b->np = c->nanpre + s * (c->ns + 1);
	b->cz = c->cz + s * c->ns;
	b->ci = c->site[s].ci;
	b->ci_o = c->site[g->origin].ci;
	b->kwpue = g->kw * c->site[s].pue;
	b->dk = c->rate[s] * g->kw * ((double)g->dur / 3600.0);
	b->gb = (int)s != g->origin && gb > 0 ? gb : 0;
	b->rem = (double)g->rem;
	b->len = g->len;
	b->f = g->len - (g->rem != 0);
	b->slot = c->slot;
	b->er = g->er;
}

/* A start from a slot boundary, inside the grid, with known intensity. */
static inline double
bc_inner(const struct bc *b, long k)
{
	long f = k + b->f;
	double cb;

	cb = b->rem != 0 ? b->pre[f] + b->rem * b->cz[f] : b->pre[f];
	return b->kwpue * (cb - b->pre[k]) / 3600.0 + (b->dk *
	    (double)((int64_t)k * b->slot - b->er) / 3600.0 + (b->gb > 0 ?
	    b->gb * (b->ci_o[k] + b->ci[k]) / 2 : 0));
}

static inline double
bc_cost(const struct ctx *c, const struct geo *g, size_t s,
    const struct bc *b, long k)
{
	if (k == 0 || k + b->len > c->ns)
		return block_g(c, g, s, k);
	if (b->np[k + b->len] != b->np[k])
		return NAN;
	return bc_inner(b, k);
}

/* Start k at cost v if cheaper than *m (so the first of equals stays). */
static inline void
cheaper(struct choice *m, long k, double v)
{
	if (v < m->g) {
		m->k = k;
		m->g = v;
	}
}

/*
 * bc_cost() of the starts from..to, in order, into cost[]; the first
 * cheapest into *m. Inside the grid with no unknown intensity (one look
 * at the NAN counts) the loop is bc_inner() alone.
 */
static void
bc_costs(const struct ctx *c, const struct geo *g, size_t s,
    const struct bc *b, long from, long to, double *cost, struct choice *mp)
{
	long k = from, in = c->ns - b->len < to ? c->ns - b->len : to;
	const struct bc lb = *b;	/* in registers: cost[] aliases none */
	struct choice m = *mp, *mm = &m;

	if (k == 0 && k <= to) {
		cost[0] = bc_cost(c, g, s, b, 0);
		cheaper(mm, 0, cost[0]);
		k++;
	}
	if (k > in || b->np[in + b->len] != b->np[k])
		in = k - 1;
	for (; k <= in; k++) {
		double v = bc_inner(&lb, k);

		cost[k] = v;
		cheaper(mm, k, v);
	}
	for (; k <= to; k++) {
		cost[k] = bc_cost(c, g, s, b, k);
		cheaper(mm, k, cost[k]);
	}
	*mp = m;
}

static int
blocked(const struct ctx *c, const struct geo *g, size_t s, long t)
{
	return c->cpu[s * c->ns + t] - (c->holding ? c->hold[s] : 0) <
	    g->j->cpus ||
	    (g->j->gpus > 0 && c->gpu[s * c->ns + t] < g->j->gpus);
}

/* nb[t] for t in [from, to]: the first blocked slot >= t (to + 1: none). */
static void
nb_build(struct ctx *c, const struct geo *g, size_t s, long from, long to)
{
	long *nb = c->nb + s * (c->ns + 1);
	const int *cpu = c->cpu + s * c->ns, *gpu = c->gpu + s * c->ns;
	int hold = c->holding ? c->hold[s] : 0, cpus = g->j->cpus;
	int gpus = g->j->gpus;

	/* blocked(), with what does not depend on the slot hoisted */
	nb[to + 1] = NO_SLOT;
	if (gpus > 0) {
		for (long t = to; t >= from; t--)
			nb[t] = cpu[t] - hold < cpus || gpu[t] < gpus ? t :
			    nb[t + 1];
	} else {
		for (long t = to; t >= from; t--)
			nb[t] = cpu[t] - hold < cpus ? t : nb[t + 1];
	}
}

/*
 * The first blocked slot a block in slot k at site s would use, or
 * NO_SLOT if it fits (nb built over its slots).
 */
static long
clash(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	long sa = k, sb = k + g->len - 1, b;

	if (k == 0 || k + g->len > c->ns)
		occupy(c, g, k, &sa, &sb);
	b = c->nb[s * (c->ns + 1) + sa];
	return b > sb ? NO_SLOT : b;
}

/*
 * clash() without nb: the slots scanned from the block's first. A search
 * that goes on past the clash scans each slot once.
 */
static long
clash_scan(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	long sa = k, sb = k + g->len - 1;

	if (k == 0 || k + g->len > c->ns)
		occupy(c, g, k, &sa, &sb);
	for (long t = sa; t <= sb; t++)
		if (blocked(c, g, s, t))
			return t;
	return NO_SLOT;
}

static int
fits(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	return clash(c, g, s, k) == NO_SLOT;
}

static void
nb_build_range(struct ctx *c, const struct geo *g, long from, long to)
{
	long sa, sb;

	occupy(c, g, to, &sa, &sb);
	for (size_t s = 0; s < c->nsites; s++)
		if (g->sites >> s & 1)
			nb_build(c, g, s, from, sb);
}

/*
 * Starts from k on at site s (nb built), in runs: if k fits, the last
 * start from k on that fits like every one before it (it ends before the
 * next blocked slot), at most g->l; if not, -1 - the clash (every start
 * up to the clash uses it).
 */
static long
fit_run(const struct ctx *c, const struct geo *g, size_t s, long k)
{
	long b = clash(c, g, s, k), end;

	if (b != NO_SLOT)
		return -1 - b;
	if (k == 0)
		return 0;
	b = c->nb[s * (c->ns + 1) + k];
	end = b - g->len < g->l ? b - g->len : g->l;
	return end < k ? k : end;
}

/*
 * The cheapest block start in [e, l] with room, over all allowed sites;
 * window costs of the starts with room are left in c->cost (NAN:
 * unknown), each site's cheapest (the first of equals) in c->smin. The best is the
 * first of equals over sites in index order, starts in time order.
 */
static struct choice
green_block(struct ctx *c, const struct geo *g)
{
	struct choice best = { -1, NO_SLOT, INFINITY };

	nb_build_range(c, g, g->e, g->l);
	for (size_t s = 0; s < c->nsites; s++) {
		double *cost = c->cost + s * c->ns;
		struct choice m = { (int)s, NO_SLOT, INFINITY };
		struct bc bc;

		if (!(g->sites >> s & 1))
			continue;
		bc_init(c, g, s, &bc);
		for (long k = g->e, end; k <= g->l; k = end + 1)
			if ((end = fit_run(c, g, s, k)) >= k)
				bc_costs(c, g, s, &bc, k, end, cost, &m);
			else
				end = -end - 1;
		c->smin[s] = m;
		if (m.g < best.g)
			best = m;
	}
	return best;
}

/* The first cheapest of starts from..to at site s not within (lo, hi). */
static void
alt_range(const struct ctx *c, size_t s, long from, long to, long lo,
    long hi, struct choice *alt)
{
	const double *cost = c->cost + s * c->ns;

	for (long k = from; k <= to; k++) {
		if (k > lo && k < hi) {
			k = hi - 1;
			continue;
		}
		if (cost[k] < alt->g) {
			alt->site = (int)s;
			alt->k = k;
			alt->g = cost[k];
		}
	}
}

/*
 * Next best after a block choice: another site, or one duration away;
 * the first of equals in site, then time order. Costs and each site's
 * cheapest as green_block() (room: only starts with room, nb as it
 * built it) or regret() left them for this job: only the choice's own
 * site is searched again.
 */
static struct choice
alt_block(const struct ctx *c, const struct geo *g, struct choice best,
    int room)
{
	struct choice alt = { -1, NO_SLOT, INFINITY };
	long len = (long)((g->dur + c->slot - 1) / c->slot);
	long lo = best.k - len, hi = best.k + len;

	for (size_t s = 0; s < c->nsites; s++) {
		if (!(g->sites >> s & 1))
			continue;
		if ((int)s != best.site) {
			if (c->smin[s].g < alt.g)
				alt = c->smin[s];
			continue;
		}
		/* not within a duration of the best: k <= lo, k >= hi */
		if (!room) {
			alt_range(c, s, g->e, g->l, lo, hi, &alt);
			continue;
		}
		for (long k = g->e, end; k <= g->l; k = end + 1)
			if ((end = fit_run(c, g, s, k)) >= k)
				alt_range(c, s, k, end, lo, hi, &alt);
			else
				end = -end - 1;
	}
	return alt;
}

/*
 * The first start in [from, g->last] with room on an allowed site; at
 * that slot the cheapest site, or with no forecast the origin, else the
 * lowest site index.
 */
static struct choice
earliest_fit(struct ctx *c, const struct geo *g, long from)
{
	struct choice ch = { -1, NO_SLOT, NAN };

	long first[MAX_SITES], kmin = NO_SLOT;

	if (from > g->last)
		return ch;
	for (size_t s = 0; s < c->nsites; s++) {
		long k = from, b;

		first[s] = NO_SLOT;
		if (!(g->sites >> s & 1))
			continue;
		while (k <= g->last && k <= kmin &&
		    (b = clash_scan(c, g, s, k)) != NO_SLOT)
			k = b + 1 > k ? b + 1 : k + 1;
		if (k <= g->last && k <= kmin) {
			first[s] = k;
			kmin = k;
		}
	}
	for (size_t s = 0; s < c->nsites; s++) {
		double v;

		if (first[s] != kmin || kmin == NO_SLOT)
			continue;
		v = block_g(c, g, s, kmin);
		if (ch.site < 0 || v < ch.g || (isnan(ch.g) &&
		    (isfinite(v) || (int)s == g->origin))) {
			ch.site = (int)s;
			ch.k = kmin;
			ch.g = v;
		}
	}
	return ch;
}

/*
 * Interruptible geometry: n slots within [e, li], chunks >= chunk. The
 * delay of its i-th slot t is start(t) - start(e + i), so the tie-break
 * is a per-slot price, rate * start(t), less `base` (rate * the sum of
 * start(e + i)), which the slots a plan takes do not change.
 */
struct igeo {
	long		 n, li, chunk;
	double		 w;		/* g per g/kWh per slot, before pue */
	double		 base;		/* sum of start(e + i), hours */
};

static int
igeo_init(const struct ctx *c, const struct geo *g, struct igeo *ig)
{
	const struct plan_params *p = c->p;
	int64_t work = g->dur + (g->e == 0 ? c->off : 0);

	ig->n = (long)((work + c->slot - 1) / c->slot);
	ig->li = c->ns - 1;
	if (g->j->deadline != 0) {
		int64_t x = g->j->deadline - p->t0 - plan_margin(p, g->dur);

		if (x < c->slot)
			return -1;
		if (x / c->slot - 1 < ig->li)
			ig->li = (long)(x / c->slot - 1);
	}
	if (g->e >= c->ns || ig->li - g->e + 1 < ig->n)
		return -1;
	ig->chunk = (long)((p->min_chunk + c->slot - 1) / c->slot);
	if (ig->chunk < 1)
		ig->chunk = 1;
	if (ig->chunk > ig->n)
		ig->chunk = ig->n;
	ig->w = g->kw * ((double)g->dur / 3600.0) / (double)ig->n;
	ig->base = 0;
	for (long i = 0; i < ig->n; i++)
		ig->base += (double)start_rel(c, g->e + i) / 3600.0;
	return 0;
}

/* Slot t's price for an interruptible job at site s, g per kWh. */
static double
uval(const struct ctx *c, size_t s, long t)
{
	return c->site[s].pue * c->site[s].ci[t] + c->rate[s] *
	    (double)start_rel(c, t) / 3600.0;
}

static int
slot_ok(const struct ctx *c, const struct geo *g, size_t s, long t)
{
	return !blocked(c, g, s, t) && isfinite(c->site[s].ci[t]);
}

static void
heap_down(double *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = a + 1;
		double x;

		if (a < n && h[a] > h[m])
			m = a;
		if (b < n && h[b] > h[m])
			m = b;
		if (m == i)
			return;
		x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

static void
heap_up(double *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2] < h[i]) {
		double x = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

struct vslot {
	double		 v;
	long		 t;
};

/* Slot order for the cheapest set: by price, then by slot. */
static int
vslot_gt(const struct vslot *x, const struct vslot *y)
{
	return x->v > y->v || (x->v == y->v && x->t > y->t);
}

static void
vslot_down(struct vslot *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = a + 1;
		struct vslot x;

		if (a < n && vslot_gt(&h[a], &h[m]))
			m = a;
		if (b < n && vslot_gt(&h[b], &h[m]))
			m = b;
		if (m == i)
			return;
		x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

/*
 * Interruptible prices at site s over the job's window: c->uv[t - e] is
 * uval(s, t), or NAN where the slot has no room or no intensity.
 */
static void
inter_prices(struct ctx *c, const struct geo *g, const struct igeo *ig,
    size_t s)
{
	size_t w = (size_t)(ig->li - g->e + 1);

	if (c->uvcap < w) {
		c->uvcap = w;
		c->uv = xrealloc(c->uv, w * sizeof(*c->uv));
		c->vs = xrealloc(c->vs, w * sizeof(*c->vs));
		c->mark = xrealloc(c->mark, w);
		memset(c->mark, 0, w);
	}
	for (long t = g->e; t <= ig->li; t++)
		c->uv[t - g->e] = slot_ok(c, g, s, t) ? uval(c, s, t) : NAN;
}

/*
 * min_chunk of one slot at site s: for every first slot f (swept from the
 * right), f plus the n - 1 cheapest usable slots after it. Fills out[n].
 */
static double
inter_cheapest(struct ctx *c, const struct geo *g, const struct igeo *ig,
    size_t s, long *out)
{
	size_t want = (size_t)ig->n - 1, hn = 0;
	double hsum = 0, best = INFINITY;
	const double *uv = c->uv - g->e;	/* by slot */
	long bf = -1, m = 0;
	struct vslot *vs = c->vs;

	if (c->heapcap < want + 1) {
		c->heapcap = want + 1;
		c->heap = xrealloc(c->heap, c->heapcap * sizeof(*c->heap));
	}
	for (long f = ig->li; f >= g->e; f--) {
		double v, u = uv[f];

		if (isnan(u))
			continue;
		if (hn == want) {
			v = ig->w * (u + hsum) + reloc_g(c, g, s, f);
			if (v <= best) {
				best = v;
				bf = f;
			}
		}
		if (want == 0)
			continue;
		if (hn < want) {
			c->heap[hn] = u;
			heap_up(c->heap, hn++);
			hsum += u;
		} else if (u < c->heap[0]) {
			hsum += u - c->heap[0];
			c->heap[0] = u;
			heap_down(c->heap, hn, 0);
		}
	}
	if (bf < 0)
		return INFINITY;
	/* the want cheapest after bf (a max-heap of them), cheapest first */
	for (long t = bf + 1; t <= ig->li && want > 0; t++) {
		struct vslot x = { uv[t], t };

		if (isnan(x.v))
			continue;
		if ((size_t)m < want) {
			size_t i = (size_t)m++;

			vs[i] = x;
			while (i > 0 && vslot_gt(&vs[i], &vs[(i - 1) / 2])) {
				x = vs[i];
				vs[i] = vs[(i - 1) / 2];
				vs[(i - 1) / 2] = x;
				i = (i - 1) / 2;
			}
		} else if (vslot_gt(&vs[0], &x)) {
			vs[0] = x;
			vslot_down(vs, want, 0);
		}
	}
	for (size_t i = want; i > 1; i--) {
		struct vslot x = vs[0];

		vs[0] = vs[i - 1];
		vs[i - 1] = x;
		vslot_down(vs, i - 1, 0);
	}
	best = uv[bf];
	for (size_t i = 0; i < want; i++) {
		best += vs[i].v;
		c->mark[vs[i].t - g->e] = 1;
	}
	out[0] = bf;
	m = 1;
	for (long t = bf + 1; t <= ig->li; t++) {
		if (c->mark[t - g->e]) {
			c->mark[t - g->e] = 0;
			out[m++] = t;
		}
	}
	return ig->w * (best - c->rate[s] * ig->base) + reloc_g(c, g, s, bf);
}

/*
 * Chunks of at least ig->chunk slots at site s: DP over slots; state
 * (slots taken j, length r of the current chunk, capped at chunk; 0: not
 * in a chunk). Fills out[n].
 *
 * Each state is pulled from its predecessors in the order in which a
 * forward sweep would push them, the first strictly smaller value
 * winning, so ties go the same way whatever the loop order. Only (j, 0)
 * and (j, chunk) have two predecessors (a bit each says which won); (j,
 * r) in between comes from (j - 1, r - 1). After slot t only the states
 * that can still end with n slots are kept (j >= n - (li - t)), and only
 * those slots e..t can have reached (j <= t - e + 1): a band of j that
 * every path to the final state stays in. Values are stored by r, then j,
 * so that each r is one pass over the band.
 */
static double
inter_dp(struct ctx *c, const struct geo *g, const struct igeo *ig,
    size_t s, long *out)
{
	long n = ig->n, ch = ig->chunk, w = ig->li - g->e + 1;
	size_t rl = (size_t)(n + 1), nst = rl * (size_t)(ch + 1), fin;
	double *cur, *nxt, wp = ig->w;
	long j, r;

	if (c->dpcap < 2 * nst) {
		c->dpcap = 2 * nst;
		c->dp = xrealloc(c->dp, c->dpcap * sizeof(*c->dp));
	}
	if (c->parcap < 2 * rl * (size_t)w) {
		c->parcap = 2 * rl * (size_t)w;
		c->par = xrealloc(c->par, c->parcap * sizeof(*c->par));
	}
	cur = c->dp;
	nxt = c->dp + nst;
	for (size_t i = 0; i < 2 * nst; i++)
		c->dp[i] = INFINITY;
	cur[0] = 0;
	for (long t = g->e; t <= ig->li; t++) {
		double u = c->uv[t - g->e];
		int ok = !isnan(u);
		double wu = ok ? wp * u : NAN;
		long jtop = t - g->e < n ? t - g->e : n;	/* rows of cur */
		long jhi = jtop + 1 < n ? jtop + 1 : n;
		long jlo = n - (ig->li - t) > 0 ? n - (ig->li - t) : 0;
		long jnt = jhi < jtop ? jhi : jtop;
		const double *c0 = cur, *cc = cur + (size_t)ch * rl;
		double *t0 = nxt, *tc = nxt + (size_t)ch * rl;
		unsigned char *p0 = c->par + (size_t)(t - g->e) * 2 * rl;
		unsigned char *pc = p0 + rl;

		/* not taking slot t: (j, 0) from (j, 0), then (j, ch) */
		for (j = jlo; j <= jnt; j++) {
			double a = c0[j], b = cc[j];

			p0[j] = b < a;
			t0[j] = b < a ? b : a;	/* no branch: a min */
		}
		if (jtop < jhi) {
			t0[jhi] = INFINITY;
			p0[jhi] = 0;
		}
		/* taking it: into (j, r >= 1) from j - 1 */
		if (!ok) {
			for (r = 1; r <= ch; r++)
				for (j = jlo; j <= jhi; j++)
					nxt[(size_t)r * rl + (size_t)j] = INFINITY;
		} else {
			long j2 = jlo > 2 ? jlo : 2;

			if (jlo == 0)
				for (r = 1; r <= ch; r++)
					nxt[(size_t)r * rl] = INFINITY;
			if (jlo <= 1 && jhi >= 1) {
				/* the first slot taken carries the relocation */
				double f = reloc_g(c, g, s, t), x, b;

				for (r = 1; r < ch; r++) {
					x = cur[(size_t)(r - 1) * rl] + wu + f;
					nxt[(size_t)r * rl + 1] = x < INFINITY ?
					    x : INFINITY;
				}
				b = INFINITY;
				pc[1] = 0;
				x = cur[(size_t)(ch - 1) * rl] + wu + f;
				if (x < b)
					b = x;
				x = cc[0] + wu + f;
				if (x < b) {
					b = x;
					pc[1] = 1;
				}
				tc[1] = b;
			}
			/* from j >= 1 no NAN or -0 can arise: v + wu */
			for (r = 1; r < ch; r++) {
				const double *from = cur + (size_t)(r - 1) * rl;
				double *to = nxt + (size_t)r * rl;

				for (j = j2; j <= jhi; j++)
					to[j] = from[j - 1] + wu;
			}
			for (j = j2; j <= jhi; j++) {
				double x1 = cur[(size_t)(ch - 1) * rl +
				    (size_t)j - 1] + wu, x2 = cc[j - 1] + wu;

				pc[j] = x2 < x1;
				tc[j] = x2 < x1 ? x2 : x1;
			}
		}
		cur = nxt;
		nxt = cur == c->dp ? c->dp + nst : c->dp;
	}
	fin = (size_t)n;
	r = 0;
	if (cur[(size_t)ch * rl + fin] < cur[fin])
		r = ch;
	if (cur[(size_t)r * rl + fin] == INFINITY)
		return INFINITY;
	j = n;
	fin = (size_t)r * rl + fin;
	for (long t = ig->li; t >= g->e; t--) {
		const unsigned char *p0 = c->par + (size_t)(t - g->e) * 2 * rl;

		if (r == 0) {
			r = p0[j] ? ch : 0;	/* slot t not taken */
			continue;
		}
		out[--j] = t;
		if (r == ch)
			r = p0[rl + (size_t)j + 1] ? ch : ch - 1;
		else
			r--;
	}
	return cur[fin] - wp * c->rate[s] * ig->base;
}

/*
 * The cheapest slot set for an interruptible job over its allowed sites;
 * slots (n of them) into best_slots, the best other site into *alt.
 * Returns the site, or -1 if none has room (or the DP is too large).
 */
static int
chunks_ok(const long *slots, long n, long chunk)
{
	long run = 1;

	for (long i = 1; i <= n; i++) {
		if (i < n && slots[i] == slots[i - 1] + 1) {
			run++;
			continue;
		}
		if (run < chunk)
			return 0;
		run = 1;
	}
	return 1;
}

/*
 * The cheapest slot set for an interruptible job over its allowed sites;
 * slots (n of them) into best_slots, the best other site into *alt.
 * Returns the site, or -1 if none has room. Per site the cheapest slots
 * regardless of chunks come first: if their chunks are long enough they
 * are the answer; if they cost more than the two best sites so far, the
 * site can be neither; else the DP decides (a site whose DP would exceed
 * DP_MAX_CELLS is left out).
 */
static int
green_inter(struct ctx *c, const struct geo *g, const struct igeo *ig,
    long *best_slots, double *best_g, struct choice *alt)
{
	long *tmp = xmalloc((size_t)ig->n * sizeof(*tmp)), first[MAX_SITES];
	int site = -1;
	double *site_g = c->cost, second = INFINITY;
	size_t cells = (size_t)(ig->n + 1) * (size_t)(ig->chunk + 1) *
	    (size_t)(ig->li - g->e + 1);

	*best_g = INFINITY;
	for (size_t s = 0; s < c->nsites; s++) {
		double v;

		site_g[s] = INFINITY;
		if (!(g->sites >> s & 1))
			continue;
		inter_prices(c, g, ig, s);
		v = inter_cheapest(c, g, ig, s, tmp);
		if (v < INFINITY && !chunks_ok(tmp, ig->n, ig->chunk))
			v = v >= second || cells > DP_MAX_CELLS ? INFINITY :
			    inter_dp(c, g, ig, s, tmp);
		site_g[s] = v;
		first[s] = v < INFINITY ? tmp[0] : 0;
		if (v < *best_g) {
			second = *best_g;
			*best_g = v;
			site = (int)s;
			memcpy(best_slots, tmp, (size_t)ig->n * sizeof(*tmp));
		} else if (v < second) {
			second = v;
		}
	}
	free(tmp);
	*alt = (struct choice){ -1, NO_SLOT, INFINITY };
	for (size_t s = 0; s < c->nsites; s++) {
		if ((int)s != site && site_g[s] < alt->g) {
			alt->site = (int)s;
			alt->k = first[s];
			alt->g = site_g[s];
		}
	}
	return site;
}

static void
take_slots(struct ctx *c, const struct geo *g, size_t s, long from, long to)
{
	for (long t = from; t <= to; t++) {
		c->cpu[s * c->ns + t] -= g->j->cpus;
		c->gpu[s * c->ns + t] -= g->j->gpus;
	}
}

static void
set_alt(const struct ctx *c, struct plan_assign *a, struct choice alt)
{
	a->alt_site = -1;
	a->alt_start = 0;
	a->alt_g = NAN;
	if (alt.site < 0 || !isfinite(alt.g))
		return;
	a->alt_site = alt.site;
	a->alt_start = alt.k == NO_SLOT ? 0 : c->p->t0 + start_rel(c, alt.k);
	a->alt_g = alt.g;
}

/* Commits a block choice: capacity and the assignment. */
static void
place_block(struct ctx *c, const struct geo *g, struct plan_assign *a,
    struct choice ch, enum plan_why why)
{
	long sa, sb;

	occupy(c, g, ch.k, &sa, &sb);
	take_slots(c, g, (size_t)ch.site, sa, sb);
	a->why = why;
	a->site = ch.site;
	a->start = c->p->t0 + start_rel(c, ch.k);
	a->end = a->start + g->dur;
	a->expected_g = ch.g;
}

/* Whether a job is planned in slots (else as one block). */
static int
inter_ok(const struct ctx *c, const struct geo *g, struct igeo *ig)
{
	return g->j->interruptible && !g->j->run_now && g->e < c->ns &&
	    g->l > g->e && igeo_init(c, g, ig) == 0;
}

/* Whether run_if_below says: start now at the origin. */
static int
threshold(const struct ctx *c, const struct geo *g)
{
	return g->j->run_if_below > 0 && g->e == 0 &&
	    (g->sites >> g->origin & 1) &&
	    c->site[g->origin].ci[0] <= g->j->run_if_below;
}

/*
 * Baseline: started at its earliest slot at its origin, capacity aside,
 * in the model it is planned with (slots for an interruptible job).
 */
static double
now_g(const struct ctx *c, const struct geo *g)
{
	struct igeo ig;

	if (g->e >= c->ns)
		return NAN;
	if (inter_ok(c, g, &ig)) {
		const double *ci = c->site[g->origin].ci;
		double sum = 0;

		for (long t = g->e; t < g->e + ig.n; t++)
			sum += ci[t];
		return ig.w * c->site[g->origin].pue * sum;
	}
	return block_g(c, g, (size_t)g->origin, g->e);
}

/*
 * What the forecast's uncertainty adds to running at site s in the n
 * slots slots[] (NULL: the n slots from k), w g per g/kWh per slot before
 * pue: risk * (hi - ci) where both are known and hi is above.
 */
static double
risk_g(const struct ctx *c, size_t s, const long *slots, long k, long n,
    double w)
{
	const double *ci = c->site[s].ci, *hi = c->site[s].hi;
	double sum = 0;

	if (hi == NULL || !(c->p->risk > 0))
		return 0;
	for (long i = 0; i < n; i++) {
		long t = slots != NULL ? slots[i] : k + i;

		if (t < c->ns && isfinite(hi[t]) && isfinite(ci[t]) &&
		    hi[t] > ci[t])
			sum += hi[t] - ci[t];
	}
	return c->p->risk * w * c->site[s].pue * sum;
}

static void
place_job(struct ctx *c, const struct geo *g, struct plan_assign *a)
{
	const struct plan_job *j = g->j;
	struct choice best, alt, ch;
	struct igeo ig;
	int uncertain = 0;
	double r = 0;

	a->now_g = now_g(c, g);
	set_alt(c, a, (struct choice){ -1, NO_SLOT, NAN });
	if (g->e >= c->ns || g->sites == 0) {
		a->why = PLAN_NO_ROOM;
		return;
	}

	if (g->l < g->e) {
		ch = earliest_fit(c, g, g->e);
		if (ch.site >= 0)
			place_block(c, g, a, ch, PLAN_LATE);
		else
			a->why = PLAN_NO_ROOM;
		return;
	}
	if (inter_ok(c, g, &ig) && !threshold(c, g)) {
		long *slots = xmalloc((size_t)ig.n * sizeof(*slots));
		double v;
		int s;

		c->holding = 1;
		s = green_inter(c, g, &ig, slots, &v, &alt);
		c->holding = 0;

		/* Deferred: only if likely to save (planner.h). */
		if (s >= 0 && slots[ig.n - 1] != g->e + ig.n - 1 &&
		    isfinite(a->now_g)) {
			r = risk_g(c, (size_t)s, slots, 0, ig.n, ig.w);
			if (r > 0 && v + r >= a->now_g + risk_g(c,
			    (size_t)g->origin, NULL, g->e, ig.n, ig.w)) {
				s = -1;
				uncertain = 1;
			}
		}
		if (s >= 0) {
			a->why = PLAN_GREEN;
			a->site = s;
			a->slots = xmalloc((size_t)ig.n * sizeof(*a->slots));
			for (long i = 0; i < ig.n; i++) {
				a->slots[i] = (uint32_t)slots[i];
				take_slots(c, g, (size_t)s, slots[i],
				    slots[i]);
			}
			a->nslots = (size_t)ig.n;
			a->start = c->p->t0 + start_rel(c, slots[0]);
			a->end = c->p->t0 + (int64_t)(slots[ig.n - 1] + 1) *
			    c->slot;
			a->expected_g = v;
			set_alt(c, a, alt);
			free(slots);
			return;
		}
		free(slots);
	}
	c->holding = 1;
	best = green_block(c, g);
	c->holding = 0;
	if (j->run_now || g->l == g->e) {
		ch = earliest_fit(c, g, g->e);
		if (ch.site < 0) {
			a->why = PLAN_NO_ROOM;
			return;
		}
		place_block(c, g, a, ch, ch.k <= g->l ? PLAN_RUN_NOW :
		    PLAN_LATE);
		if (best.site != ch.site || best.k != ch.k)
			set_alt(c, a, best);
		return;
	}
	if (threshold(c, g) && fits(c, g, (size_t)g->origin, 0)) {
		ch = (struct choice){ g->origin, 0,
		    block_g(c, g, (size_t)g->origin, 0) };
		place_block(c, g, a, ch, PLAN_THRESHOLD);
		if (best.site != ch.site || best.k != ch.k)
			set_alt(c, a, best);
		return;
	}
	if (best.site >= 0 && (uncertain || (best.k > g->e &&
	    (r = risk_g(c, (size_t)best.site, NULL, best.k, g->len, g->kw *
	    (double)c->slot / 3600)) > 0))) {
		/* Deferred: only if likely to save (planner.h). */
		ch = earliest_fit(c, g, g->e);
		if (ch.site >= 0 && isfinite(ch.g) && ch.k < best.k &&
		    (uncertain || best.g + r >= ch.g + risk_g(c,
		    (size_t)ch.site, NULL, ch.k, g->len, g->kw *
		    (double)c->slot / 3600))) {
			place_block(c, g, a, ch, PLAN_UNCERTAIN);
			if (best.site != ch.site || best.k != ch.k)
				set_alt(c, a, best);
			return;
		}
	}
	if (best.site >= 0) {
		alt = alt_block(c, g, best, 1);
		place_block(c, g, a, best, PLAN_GREEN);
		set_alt(c, a, alt);
		return;
	}
	/*
	 * No green window: no forecast, or no room that leaves the reserve
	 * free. Its earliest start then, on the whole capacity: waiting
	 * gains nothing known, and the reserve is there for jobs that
	 * cannot wait.
	 */
	ch = earliest_fit(c, g, g->e);
	if (ch.site < 0) {
		a->why = PLAN_NO_ROOM;
		return;
	}
	place_block(c, g, a, ch, ch.k > g->l ? PLAN_LATE : isnan(ch.g) ?
	    PLAN_NO_FORECAST : PLAN_RUN_NOW);
}

/* A running block job: its site from its start for its duration. */
static void
place_fixed(struct ctx *c, const struct plan_job *j, struct plan_assign *a)
{
	struct geo g;
	int64_t a0 = j->start - c->p->t0, b = a0 + j->duration;

	memset(&g, 0, sizeof(g));
	g.j = j;
	g.kw = j->power_w / 1000.0;
	a->why = PLAN_FIXED;
	a->site = j->site;
	a->start = j->start;
	a->end = j->start + j->duration;
	if (b <= c->off)
		b = c->off + 1;		/* overran its estimate: still on */
	if (a0 < c->off)
		a0 = c->off;
	a->expected_g = energy_g(c, &g, (size_t)j->site, a0, b);
	a->now_g = a->expected_g;
	if (a0 < c->hend)
		take_slots(c, &g, (size_t)j->site, a0 / c->slot,
		    (long)(((b < c->hend ? b : c->hend) - 1) / c->slot));
}

/* A running interruptible job, as a queued one: its site, from now. */
static void
fixed_as_queued(const struct ctx *c, const struct plan_job *j,
    struct plan_job *q)
{
	int64_t done = c->p->now - j->start;

	*q = *j;
	q->fixed = 0;
	q->sites = UINT64_C(1) << j->site;
	q->origin = j->site;
	q->data_gb = 0;
	q->earliest = c->p->now;
	if (done > 0)
		q->duration = j->duration - done;
	if (q->duration <= 0)
		q->duration = 1;	/* overran its estimate: still on */
}

struct order {
	long		 slack;
	double		 regret;
	size_t		 i;
};

/* Whether x is placed before y. A total order: i is unique. */
static inline int
order_lt(const struct order *x, const struct order *y)
{
	if (x->slack != y->slack)
		return x->slack < y->slack;
	if (x->regret != y->regret)
		return x->regret > y->regret;
	return x->i < y->i;
}

/*
 * Sorts o[n] by order_lt: a bottom-up merge sort with the comparison
 * inlined (qsort's call per comparison cost as much as the merging).
 */
static void
order_sort(struct order *o, size_t n)
{
	struct order *tmp = xmalloc((n ? n : 1) * sizeof(*tmp)), *src = o;
	struct order *dst = tmp, *x;

	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t m = lo + w < n ? lo + w : n;
			size_t hi = m + w < n ? m + w : n, i = lo, j = m, k = lo;

			while (i < m && j < hi)
				dst[k++] = order_lt(&src[j], &src[i]) ?
				    src[j++] : src[i++];
			while (i < m)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		x = src;
		src = dst;
		dst = x;
	}
	if (src != o)
		memcpy(o, src, n * sizeof(*o));
	free(tmp);
}

/*
 * What a job stands to lose if it misses its best window (for the order
 * only): its next best (another site, or a start one duration away) minus
 * its best, with the sites to itself.
 */
static double
regret(struct ctx *c, const struct geo *g)
{
	struct choice best = { -1, NO_SLOT, INFINITY }, alt;

	if (g->e >= c->ns || g->l < g->e)
		return 0;
	for (size_t s = 0; s < c->nsites; s++) {
		double *cost = c->cost + s * c->ns;
		struct choice m = { (int)s, NO_SLOT, INFINITY };
		struct bc bc;

		if (!(g->sites >> s & 1))
			continue;
		bc_init(c, g, s, &bc);
		bc_costs(c, g, s, &bc, g->e, g->l, cost, &m);
		c->smin[s] = m;
		if (m.g < best.g)
			best = m;
	}
	if (best.site < 0)
		return 0;
	alt = alt_block(c, g, best, 0);
	return isfinite(alt.g) ? alt.g - best.g : 0;
}

/*
 * Exhaustive search, shared by the oracle and the repair: every job's
 * on-time windows with a known cost (its options, cheapest first),
 * searched with branch and bound for the least total within capacity.
 */
struct opt {
	int		 site;
	long		 k, sa, sb;
	double		 g;
};

struct ojob {
	struct geo	 g;
	struct opt	*o;
	size_t		 n;
	size_t		 idx;		/* in the input */
};

struct search {
	struct ctx	*c;
	struct ojob	*oj;
	size_t		 n;
	double		*lb;		/* lb[i]: sum of minima of jobs >= i */
	size_t		*pick;
	double		 best;
	size_t		*best_pick;
	size_t		 nodes;		/* windows it may still try */
};

static int
opt_cmp(const void *a, const void *b)
{
	const struct opt *x = a, *y = b;

	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

/* Fills oj->o with the job's options; returns the windows looked at. */
static size_t
options(const struct ctx *c, struct ojob *oj)
{
	const struct geo *g = &oj->g;
	size_t w;

	oj->o = NULL;
	oj->n = 0;
	if (g->e >= c->ns || g->l < g->e)
		return 0;
	w = (size_t)(g->l - g->e + 1) * c->nsites;
	oj->o = xmalloc(w * sizeof(*oj->o));
	for (size_t s = 0; s < c->nsites; s++) {
		if (!(g->sites >> s & 1))
			continue;
		for (long k = g->e; k <= g->l; k++) {
			struct opt *o = &oj->o[oj->n];

			o->g = block_g(c, g, s, k);
			if (isnan(o->g))
				continue;
			o->site = (int)s;
			o->k = k;
			occupy(c, g, k, &o->sa, &o->sb);
			oj->n++;
		}
	}
	qsort(oj->o, oj->n, sizeof(*oj->o), opt_cmp);
	return w;
}

static int
opt_fits(const struct ctx *c, const struct geo *g, const struct opt *o)
{
	for (long t = o->sa; t <= o->sb; t++)
		if (blocked(c, g, (size_t)o->site, t))
			return 0;
	return 1;
}

static void
give_slots(struct ctx *c, const struct geo *g, size_t s, long from, long to)
{
	for (long t = from; t <= to; t++) {
		c->cpu[s * c->ns + t] += g->j->cpus;
		c->gpu[s * c->ns + t] += g->j->gpus;
	}
}

static void
search(struct search *S, size_t i, double sofar)
{
	if (sofar + S->lb[i] >= S->best)
		return;
	if (i == S->n) {
		S->best = sofar;
		memcpy(S->best_pick, S->pick, S->n * sizeof(*S->pick));
		return;
	}
	for (size_t k = 0; k < S->oj[i].n && S->nodes > 0; k++) {
		struct opt *o = &S->oj[i].o[k];
		struct geo *g = &S->oj[i].g;

		if (sofar + o->g + S->lb[i + 1] >= S->best)
			break;
		S->nodes--;
		if (!opt_fits(S->c, g, o))
			continue;
		take_slots(S->c, g, (size_t)o->site, o->sa, o->sb);
		S->pick[i] = k;
		search(S, i + 1, sofar + o->g);
		give_slots(S->c, g, (size_t)o->site, o->sa, o->sb);
	}
}

/* Searches S->oj[0 .. S->n); allocates and frees its own scratch. */
static void
search_run(struct search *S)
{
	S->lb = xcalloc(S->n + 1, sizeof(*S->lb));
	for (size_t i = S->n; i-- > 0;)
		S->lb[i] = S->lb[i + 1] + S->oj[i].o[0].g;
	S->pick = xcalloc(S->n + 1, sizeof(*S->pick));
	S->best_pick = xcalloc(S->n + 1, sizeof(*S->best_pick));
	S->best = INFINITY;
	search(S, 0, 0);
	free(S->lb);
	free(S->pick);
	S->lb = NULL;
	S->pick = NULL;
}

/* The start slot of a placed block. */
static long
slot_of(const struct ctx *c, const struct plan_assign *a)
{
	return (long)((a->start - c->p->t0) / c->slot);
}

/* Whether the repair may move a placed job. */
static int
movable(const struct plan_job *j, const struct plan_assign *a)
{
	return a->slots == NULL && !j->run_now && (a->why == PLAN_GREEN ||
	    a->why == PLAN_RUN_NOW);
}

/* Sets a block job's next best against the capacity the others leave. */
static void
refresh_alt(struct ctx *c, const struct geo *g, struct plan_assign *a)
{
	struct choice ch = { a->site, slot_of(c, a), a->expected_g };
	long sa, sb;

	occupy(c, g, ch.k, &sa, &sb);
	give_slots(c, g, (size_t)ch.site, sa, sb);
	green_block(c, g);
	set_alt(c, a, alt_block(c, g, ch, 1));
	take_slots(c, g, (size_t)ch.site, sa, sb);
}

/*
 * Job ji came out late (or found no room) though it has on-time windows. Its neighbours (the
 * movable placed jobs, or if more than REPAIR_JOBS those whose blocks
 * overlap its on-time span on its sites, at most REPAIR_JOBS) and the job
 * are searched together, each over its options, for the cheapest plan in
 * which all of them are on time. Spends *work (windows and jobs looked
 * at). If it fails the plan stays as it was.
 */
static void
repair(struct ctx *c, const struct plan_job *const *q,
    struct plan_assign *out, const size_t *placed, size_t nplaced, size_t ji,
    size_t *work)
{
	struct search S;
	struct ojob *oj;
	struct plan_assign *a = &out[ji];
	long lsa, lsb, span;
	size_t nmov = 0, n = 1, w;
	int ok = 0;

	*work -= *work < nplaced ? *work : nplaced;
	for (size_t i = 0; i < nplaced; i++)
		nmov += movable(q[placed[i]], &out[placed[i]]);
	oj = xcalloc(REPAIR_JOBS + 1, sizeof(*oj));
	geo_init(c, q[ji], &oj[0].g);
	oj[0].idx = ji;
	occupy(c, &oj[0].g, oj[0].g.l, &lsa, &span);
	w = options(c, &oj[0]);
	*work -= *work < w ? *work : w;
	for (size_t i = 0; i < nplaced && n <= REPAIR_JOBS; i++) {
		const struct plan_assign *b = &out[placed[i]];

		if (!movable(q[placed[i]], b))
			continue;
		if (nmov > REPAIR_JOBS) {
			long sa, sb;
			struct geo g;

			geo_init(c, q[placed[i]], &g);
			occupy(c, &g, slot_of(c, b), &sa, &sb);
			if (!(oj[0].g.sites >> b->site & 1) ||
			    sb < oj[0].g.e || sa > span)
				continue;
		}
		geo_init(c, q[placed[i]], &oj[n].g);
		oj[n].idx = placed[i];
		w = options(c, &oj[n]);
		*work -= *work < w ? *work : w;
		if (oj[n].n > 0)
			n++;
		else
			free(oj[n].o);
	}
	if (oj[0].n == 0 || *work == 0)
		goto out;
	/* lift the late job and the neighbours off the capacity */
	if (a->site >= 0) {
		occupy(c, &oj[0].g, slot_of(c, a), &lsa, &lsb);
		give_slots(c, &oj[0].g, (size_t)a->site, lsa, lsb);
	}
	for (size_t i = 1; i < n; i++) {
		long sa, sb;

		occupy(c, &oj[i].g, slot_of(c, &out[oj[i].idx]), &sa, &sb);
		give_slots(c, &oj[i].g, (size_t)out[oj[i].idx].site, sa, sb);
	}
	memset(&S, 0, sizeof(S));
	S.c = c;
	S.oj = oj;
	S.n = n;
	w = *work < REPAIR_NODES ? *work : REPAIR_NODES;
	S.nodes = w;
	search_run(&S);
	*work -= w - S.nodes;
	ok = S.best < INFINITY;
	for (size_t i = 0; i < n; i++) {
		struct plan_assign *b = &out[oj[i].idx];
		const struct opt *o;

		if (!ok) {
			long sa, sb;

			if (b->site < 0)
				continue;
			occupy(c, &oj[i].g, slot_of(c, b), &sa, &sb);
			take_slots(c, &oj[i].g, (size_t)b->site, sa, sb);
			continue;
		}
		o = &oj[i].o[S.best_pick[i]];
		take_slots(c, &oj[i].g, (size_t)o->site, o->sa, o->sb);
		b->site = o->site;
		b->start = c->p->t0 + start_rel(c, o->k);
		b->end = b->start + oj[i].g.dur;
		b->expected_g = o->g;
	}
	if (ok) {
		a->why = oj[0].g.l == oj[0].g.e ? PLAN_RUN_NOW : PLAN_GREEN;
		for (size_t i = 0; i < n; i++)
			refresh_alt(c, &oj[i].g, &out[oj[i].idx]);
	}
	free(S.best_pick);
out:
	for (size_t i = 0; i < n; i++)
		free(oj[i].o);
	free(oj);
}

/* Takes or gives back a placed block's capacity. */
static void
block_cap(struct ctx *c, const struct plan_job *j, const struct plan_assign *a,
    int take)
{
	struct geo g;
	long sa, sb;

	if (a->site < 0)
		return;
	geo_init(c, j, &g);
	occupy(c, &g, slot_of(c, a), &sa, &sb);
	if (take)
		take_slots(c, &g, (size_t)a->site, sa, sb);
	else
		give_slots(c, &g, (size_t)a->site, sa, sb);
}

/*
 * Job ji is still late after repair(): the greedy re-plan. Every movable
 * block job placed before it whose block overlaps its on-time span on its
 * sites is lifted off; ji takes its cheapest on-time window on the whole
 * capacity (deadline first), then the lifted jobs are placed again in
 * their order, each as place_job() would. If any of them would now be
 * late, everything goes back as it was. Spends *work.
 */
static void
reflow(struct ctx *c, const struct plan_job *const *q,
    struct plan_assign *out, const size_t *placed, size_t nplaced, size_t ji,
    size_t *work)
{
	struct geo gj;
	struct plan_assign *old;
	struct choice ch;
	size_t *m, nm = 0, k, spent;
	long lsa, span;
	int ok = 1;

	geo_init(c, q[ji], &gj);
	occupy(c, &gj, gj.l, &lsa, &span);
	m = xmalloc((nplaced + 1) * sizeof(*m));
	for (size_t i = 0; i < nplaced; i++) {
		const struct plan_assign *b = &out[placed[i]];
		struct geo g;
		long sa, sb;

		if (!movable(q[placed[i]], b) || q[placed[i]]->interruptible ||
		    !(gj.sites >> b->site & 1))
			continue;
		geo_init(c, q[placed[i]], &g);
		occupy(c, &g, slot_of(c, b), &sa, &sb);
		if (sb >= gj.e && sa <= span)
			m[nm++] = placed[i];
	}
	spent = nplaced + (nm + 1) * (size_t)(gj.last - gj.e + 1) *
	    c->nsites;
	if (nm == 0 || spent > *work) {
		*work -= spent < *work ? spent : *work;
		free(m);
		return;
	}
	*work -= spent;
	old = xmalloc((nm + 1) * sizeof(*old));
	for (k = 0; k < nm; k++) {
		old[k] = out[m[k]];
		block_cap(c, q[m[k]], &out[m[k]], 0);
	}
	old[nm] = out[ji];
	block_cap(c, q[ji], &out[ji], 0);	/* late: a block, or none */
	ch = green_block(c, &gj);
	if (ch.site < 0) {
		ch = earliest_fit(c, &gj, gj.e);
		ok = ch.site >= 0 && ch.k <= gj.l;
	}
	if (ok) {
		place_block(c, &gj, &out[ji], ch, gj.l == gj.e ? PLAN_RUN_NOW :
		    PLAN_GREEN);
		set_alt(c, &out[ji], (struct choice){ -1, NO_SLOT, NAN });
	}
	for (k = 0; ok && k < nm; k++) {
		struct geo g;

		geo_init(c, q[m[k]], &g);
		out[m[k]].site = -1;	/* place_job leaves it if no room */
		place_job(c, &g, &out[m[k]]);
		if (out[m[k]].why == PLAN_LATE || out[m[k]].why ==
		    PLAN_NO_ROOM) {
			ok = 0;
			block_cap(c, q[m[k]], &out[m[k]], 0);
			for (size_t i = 0; i < k; i++)
				block_cap(c, q[m[i]], &out[m[i]], 0);
			block_cap(c, q[ji], &out[ji], 0);
		}
	}
	if (!ok) {
		/* everything as it was */
		for (k = 0; k < nm; k++) {
			out[m[k]] = old[k];
			block_cap(c, q[m[k]], &out[m[k]], 1);
		}
		out[ji] = old[nm];
		block_cap(c, q[ji], &out[ji], 1);
	}
	free(old);
	free(m);
}

static void
assign_init(struct plan_assign *a, const struct plan_job *j)
{
	memset(a, 0, sizeof(*a));
	a->job_id = j->id;
	a->site = -1;
	a->expected_g = NAN;
	a->now_g = NAN;
	a->alt_site = -1;
	a->alt_g = NAN;
}

/* One planning pass into a (assign_init'ed by it). */
static void
plan_pass(const struct plan_params *p, const struct plan_site *site,
    size_t nsites, const struct plan_job *jobs, size_t njobs,
    struct plan_assign *a)
{
	struct ctx c;
	const struct plan_job **q;	/* the queued jobs, as planned */
	struct plan_job *fq;		/* running interruptible ones */
	struct order *ord;
	size_t nq = 0, nf = 0, *placed, work = REPAIR_WORK;
	size_t reflow_work = REFLOW_WORK;

	ctx_init(&c, p, site, nsites);
	q = xmalloc((njobs ? njobs : 1) * sizeof(*q));
	for (size_t i = 0; i < njobs; i++)
		nf += jobs[i].fixed && jobs[i].interruptible;
	fq = xmalloc((nf ? nf : 1) * sizeof(*fq));
	nf = 0;
	ord = xmalloc((njobs ? njobs : 1) * sizeof(*ord));
	for (size_t i = 0; i < njobs; i++) {
		assign_init(&a[i], &jobs[i]);
		if (jobs[i].fixed && !jobs[i].interruptible)
			place_fixed(&c, &jobs[i], &a[i]);
	}
	for (size_t i = 0; i < njobs; i++) {
		struct geo g;

		if (jobs[i].fixed && !jobs[i].interruptible)
			continue;
		if (jobs[i].fixed) {
			fixed_as_queued(&c, &jobs[i], &fq[nf]);
			q[i] = &fq[nf++];
		} else {
			q[i] = &jobs[i];
		}
		geo_init(&c, q[i], &g);
		ord[nq].i = i;
		ord[nq].slack = g.l - g.e;
		if (q[i]->run_now && ord[nq].slack > 0)
			ord[nq].slack = 0;
		ord[nq].regret = regret(&c, &g);
		nq++;
	}
	order_sort(ord, nq);
	placed = xmalloc((nq ? nq : 1) * sizeof(*placed));
	for (size_t i = 0; i < nq; i++) {
		struct geo g;
		size_t ji = ord[i].i;
		int avoidable;

#if defined(__GNUC__)
		/* the order jumps about the queue: fetch ahead (the job
		 * as given: q[] is the same but for running ones) */
		if (i + 8 < nq) {
			__builtin_prefetch(&jobs[ord[i + 8].i]);
			__builtin_prefetch(&a[ord[i + 8].i]);
		}
#endif
		geo_init(&c, q[ji], &g);
		place_job(&c, &g, &a[ji]);
		avoidable = g.e < c.ns && g.l >= g.e && !q[ji]->run_now;
		if ((a[ji].why == PLAN_LATE || a[ji].why == PLAN_NO_ROOM) &&
		    avoidable && work > 0)
			repair(&c, q, a, placed, i, ji, &work);
		if ((a[ji].why == PLAN_LATE || a[ji].why == PLAN_NO_ROOM) &&
		    avoidable && reflow_work > 0)
			reflow(&c, q, a, placed, i, ji, &reflow_work);
		placed[i] = ji;
	}
	free(placed);
	free(ord);
	free(q);
	free(fq);
	ctx_free(&c);
}

int
plan_compute(const struct plan_params *p, const struct plan_site *site,
    size_t nsites, const struct plan_job *jobs, size_t njobs,
    struct plan_result *out, char *err, size_t errlen)
{
	out->a = NULL;
	out->n = 0;
	if (check_input(p, site, nsites, jobs, njobs, err, errlen) == -1)
		return -1;
	out->a = xcalloc(njobs ? njobs : 1, sizeof(*out->a));
	out->n = njobs;
	plan_pass(p, site, nsites, jobs, njobs, out->a);
	return 0;
}

int64_t
plan_margin(const struct plan_params *p, int64_t dur)
{
	int64_t m = (int64_t)ceil((double)dur * p->safety_margin);

	return p->margin_max > 0 && m > p->margin_max ? p->margin_max : m;
}

size_t
plan_grid_slots(const struct plan_params *p, const struct plan_job *j,
    size_t njobs)
{
	int64_t end = p->t0 + (int64_t)p->nslots * p->slot;
	int64_t cap = p->now + PLAN_MAX_WINDOW, busy = p->now, longest = 0;

	for (size_t i = 0; i < njobs; i++) {
		int64_t d = j[i].deadline < cap ? j[i].deadline : cap;

		if (d > end)
			end = d;
		/* a begin further ahead than the horizon */
		if (!j[i].fixed && j[i].earliest + j[i].duration > end)
			end = j[i].earliest + j[i].duration < cap ?
			    j[i].earliest + j[i].duration : cap;
		if (j[i].fixed && j[i].start + j[i].duration > busy)
			busy = j[i].start + j[i].duration;
		else if (!j[i].fixed && j[i].duration > longest)
			longest = j[i].duration;
	}
	/* room for any job after the last running one ends: a job that
	 * needs the whole site gets its place in the queue there */
	if (busy + longest > end)
		end = busy + longest < cap ? busy + longest : cap;
	return (size_t)((end - p->t0 + p->slot - 1) / p->slot);
}

void
plan_result_free(struct plan_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->a[i].slots);
	free(r->a);
	r->a = NULL;
	r->n = 0;
}

int
plan_oracle(const struct plan_params *p, const struct plan_site *site,
    size_t nsites, const struct plan_job *jobs, size_t njobs,
    struct plan_result *out, char *err, size_t errlen)
{
	struct ctx c;
	struct search S;
	double space = 1;
	int rc = -1;

	out->a = NULL;
	out->n = 0;
	if (check_input(p, site, nsites, jobs, njobs, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < njobs; i++) {
		if (jobs[i].interruptible) {
			snprintf(err, errlen, "oracle: job %lld is "
			    "interruptible", (long long)jobs[i].id);
			return -1;
		}
	}
	ctx_init(&c, p, site, nsites);
	memset(&S, 0, sizeof(S));
	S.c = &c;
	S.oj = xcalloc(njobs + 1, sizeof(*S.oj));
	out->a = xcalloc(njobs ? njobs : 1, sizeof(*out->a));
	out->n = njobs;
	for (size_t i = 0; i < njobs; i++) {
		assign_init(&out->a[i], &jobs[i]);
		if (jobs[i].fixed)
			place_fixed(&c, &jobs[i], &out->a[i]);
	}
	for (size_t i = 0; i < njobs; i++) {
		struct ojob *oj;

		if (jobs[i].fixed)
			continue;
		oj = &S.oj[S.n++];
		oj->idx = i;
		geo_init(&c, &jobs[i], &oj->g);
		options(&c, oj);
		if (oj->n == 0) {
			snprintf(err, errlen, "oracle: job %lld has no window "
			    "before its deadline", (long long)jobs[i].id);
			goto out;
		}
		space *= (double)oj->n;
		if (space > ORACLE_MAX) {
			snprintf(err, errlen, "oracle: more than %.0f "
			    "combinations", ORACLE_MAX);
			goto out;
		}
	}
	S.nodes = SIZE_MAX;
	search_run(&S);
	if (S.best == INFINITY) {
		snprintf(err, errlen, "oracle: no plan fits the capacity");
		goto out;
	}
	for (size_t i = 0; i < S.n; i++) {
		struct ojob *oj = &S.oj[i];
		struct opt *o = &oj->o[S.best_pick[i]];
		struct plan_assign *a = &out->a[oj->idx];

		a->why = PLAN_GREEN;
		a->site = o->site;
		a->start = p->t0 + start_rel(&c, o->k);
		a->end = a->start + oj->g.dur;
		a->expected_g = o->g;
		a->now_g = now_g(&c, &oj->g);
	}
	rc = 0;
out:
	for (size_t i = 0; i < S.n; i++)
		free(S.oj[i].o);
	free(S.oj);
	free(S.lb);
	free(S.pick);
	free(S.best_pick);
	ctx_free(&c);
	if (rc == -1)
		plan_result_free(out);
	return rc;
}
