/*
 * simulate: a workload replayed over intensity traces with a virtual clock
 * (see simulate.h).
 *
 * The engine keeps one record per job (common/job.h) and plans with
 * exactly ebbd's path: policy_match/policy_apply at submit,
 * sched_plan_job and plan_compute at every decision point. A decision
 * point is any instant at which something happens: a submit, a planned
 * start, a job's end, the end of an interruptible job's planned chunk,
 * and every planner.replan from the first submit. Between two decision
 * points nothing changes, so running jobs simply run. The intensity the
 * planner sees is the forecast as known at that instant; accounting
 * always uses the actual trace.
 *
 * This file does not decide where or when a job runs (the planner does),
 * what a job's limits mean (schedule.c does) or how emissions are
 * computed (accounting.c does); it only moves the clock, reads the
 * workload and the traces, and reports.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "policies/policy.h"
#include "scheduler/accounting.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/carbon/forecast.h"
#include "scheduler/carbon/provider.h"
#include "scheduler/load.h"
#include "scheduler/planner.h"
#include "scheduler/schedule.h"
#include "scheduler/simulate.h"

#define WL_HEADER	"id,submit,duration_s,deadline,power_w,cpus," \
			"interruptible,sites"
#define WL_NCOLS	8
#define MAX_CPUS	1048576
#define GIVE_UP		(30 * 86400LL)	/* past the last deadline */

/* One row of a workload file. */
struct wl_job {
	char		*id;
	size_t		 line;
	int64_t		 submit, duration, deadline;
	double		 power_w;
	int		 cpus, interruptible;
	json_t		*sites;		/* array of names, may be empty */
};

struct sim_workload {
	struct wl_job	*j;
	size_t		 n;
};

enum sj_state { SJ_PENDING, SJ_QUEUED, SJ_RUNNING, SJ_PAUSED, SJ_DONE,
	SJ_REFUSED, SJ_UNPLACED };

/* A job during the simulation. */
struct sj {
	const struct wl_job *w;
	struct job	*rec;		/* what ebbd would hold */
	const struct policy_rule *rule;
	enum sj_state	 st;
	double		 power_w;
	int64_t		 deadline;	/* effective, 0: none */
	int		 origin, site;
	int64_t		 remaining;	/* s still to run */
	int64_t		 next_start;	/* planned, 0: none */
	int64_t		 run_until;	/* running: end of this run */
	int64_t		*rs, *re;	/* run intervals */
	size_t		 nrun, caprun;
	char		*note;
};

struct sim {
	const struct ebb_config	*cfg;
	const struct sim_opts	*o;
	size_t		 nsites;
	int64_t		 t0, slot;	/* grid of the series below */
	size_t		 n;
	double		**actual;	/* per site, n slots, NAN unknown */
	double		**noisy;	/* SIM_NOISE: per site */
	double		**fc;		/* per site, the planner's view */
	double		**fchi;		/* per site, its 90 % quantile (model) */
	int64_t		 fc_t0;		/* fc holds the forecast from here */
	size_t		 fc_n;
	struct plan_site *ps;
	struct site_load *load;		/* per site: demand so far (load.h) */
	struct sj	*jobs;
	size_t		 njobs;
	size_t		*order;		/* job indexes by submit */
	size_t		*active;	/* queued, running or paused */
	size_t		 nactive;
	struct plan_job	*pj;
	size_t		*pjmap;
	size_t		 decisions;
};

/* ---- PRNG: xorshift64* and Box-Muller, so noise is the same everywhere */

static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* Uniform in (0, 1]. */
static double
rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

static double
rng_gauss(uint64_t *s)
{
	double u = rng_unit(s), v = rng_unit(s);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

int
sim_parse_forecast(const char *s, struct sim_opts *o, char *err,
    size_t errlen)
{
	char *end;

	o->sigma = 0;
	o->seed = 1;
	if (strcmp(s, "perfect") == 0) {
		o->forecast = SIM_PERFECT;
		return 0;
	}
	if (strcmp(s, "model") == 0) {
		o->forecast = SIM_MODEL;
		return 0;
	}
	if (strncmp(s, "noise:", 6) == 0) {
		o->forecast = SIM_NOISE;
		errno = 0;
		o->sigma = strtod(s + 6, &end);
		if (end == s + 6 || !isfinite(o->sigma) || o->sigma < 0 ||
		    o->sigma > 10 || (*end != '\0' && *end != ':'))
			goto bad;
		if (*end == ':') {
			const char *p = end + 1;

			if (!isdigit((unsigned char)*p))
				goto bad;
			o->seed = strtoull(p, &end, 10);
			if (*end != '\0' || errno != 0)
				goto bad;
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "bad forecast '%s': perfect, noise:SIGMA[:SEED] "
	    "(SIGMA 0 to 10) or model", s);
	return -1;
}

/* ---- workload */

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Epoch seconds, or ISO-8601 (without an offset: UTC). */
static int
parse_when(const char *s, int64_t *out)
{
	char *end;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		*out = strtoll(s, &end, 10);
		return errno == 0 ? 0 : -1;
	}
	return ebb_parse_stamp(s, out);
}

static int
parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return (*s == '\0' || *end != '\0' || errno != 0 || *out < lo ||
	    *out > hi) ? -1 : 0;
}

/* The columns of one data row into w; -1 with err naming the column. */
static int
parse_row(char **f, const struct ebb_config *cfg, const char *path,
    size_t line, struct wl_job *w, char *err, size_t errlen)
{
	static const char *const cols[WL_NCOLS] = { "id", "submit",
	    "duration_s", "deadline", "power_w", "cpus", "interruptible",
	    "sites" };
	const char *why = NULL;
	int col = 0;
	int64_t v;
	char *end, *name, *rest;
	int maxcpus = 0;

	w->sites = json_array();
	if (*f[0] == '\0' || strpbrk(f[0], " \t|") != NULL) {
		col = 0;
		why = "must be a non-empty word";
		goto bad;
	}
	if (parse_when(f[1], &w->submit) == -1) {
		col = 1;
		why = "must be ISO-8601 UTC or epoch seconds";
		goto bad;
	}
	if (parse_int(f[2], 1, 366 * 86400LL, &w->duration) == -1) {
		col = 2;
		why = "must be whole seconds, 1 to 366 days";
		goto bad;
	}
	if (*f[3] != '\0') {
		if (parse_when(f[3], &w->deadline) == -1) {
			col = 3;
			why = "must be empty, ISO-8601 UTC or epoch seconds";
			goto bad;
		}
		if (w->deadline < w->submit + w->duration) {
			col = 3;
			why = "is before submit + duration_s";
			goto bad;
		}
	}
	if (*f[4] != '\0') {
		w->power_w = strtod(f[4], &end);
		if (*end != '\0' || !isfinite(w->power_w) || w->power_w < 0 ||
		    w->power_w > 1e7) {
			col = 4;
			why = "must be empty or watts, 0 to 1e7";
			goto bad;
		}
	}
	if (parse_int(f[5], 1, MAX_CPUS, &v) == -1) {
		col = 5;
		why = "must be an integer, 1 to 1048576";
		goto bad;
	}
	w->cpus = (int)v;
	if (strcmp(f[6], "0") != 0 && strcmp(f[6], "1") != 0) {
		col = 6;
		why = "must be 0 or 1";
		goto bad;
	}
	w->interruptible = f[6][0] == '1';
	for (rest = f[7]; *f[7] != '\0' && rest != NULL;) {
		const struct ebb_site *s;

		name = trim(strsep(&rest, "|"));
		if ((s = config_site(cfg, name)) == NULL) {
			snprintf(err, errlen, "%s:%zu: sites: unknown site "
			    "'%.64s'", path, line, name);
			return -1;
		}
		if (s->cpus > maxcpus)
			maxcpus = s->cpus;
		json_array_append_new(w->sites, json_string(name));
	}
	if (json_array_size(w->sites) == 0)
		for (size_t i = 0; i < cfg->nsites; i++)
			if (cfg->sites[i].cpus > maxcpus)
				maxcpus = cfg->sites[i].cpus;
	if (w->cpus > maxcpus) {
		snprintf(err, errlen, "%s:%zu: cpus: %d is more than any of its "
		    "sites has (%d)", path, line, w->cpus, maxcpus);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s:%zu: %s: '%.64s' %s", path, line, cols[col],
	    f[col], why);
	return -1;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct wl_job *const *x = a, *const *y = b;
	int c = strcmp((*x)->id, (*y)->id);

	if (c != 0)
		return c;
	return ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
}

/* Two rows with one id: the later one is the error. */
static int
check_ids(const struct sim_workload *wl, const char *path, char *err,
    size_t errlen)
{
	const struct wl_job **p = xcalloc(wl->n ? wl->n : 1, sizeof(*p));
	int ret = 0;

	for (size_t i = 0; i < wl->n; i++)
		p[i] = &wl->j[i];
	qsort(p, wl->n, sizeof(*p), cmp_id);
	for (size_t i = 1; i < wl->n; i++)
		if (strcmp(p[i]->id, p[i - 1]->id) == 0) {
			snprintf(err, errlen, "%s:%zu: id: '%.64s' already "
			    "used on line %zu", path, p[i]->line, p[i]->id,
			    p[i - 1]->line);
			ret = -1;
			break;
		}
	free(p);
	return ret;
}

int
sim_workload_load(const char *path, const struct ebb_config *cfg,
    struct sim_workload **out, char *err, size_t errlen)
{
	struct sim_workload *wl = xcalloc(1, sizeof(*wl));
	FILE *fp;
	char *buf = NULL, *f[WL_NCOLS + 1];
	size_t cap = 0, line = 0, capj = 0;
	int header = 0, ret = -1;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(wl);
		return -1;
	}
	while (getline(&buf, &cap, fp) != -1) {
		char *p = buf, *t;
		size_t nf = 0;

		line++;
		t = trim(buf);
		if (*t == '\0' || *t == '#')
			continue;
		if (!header) {
			if (strcmp(t, WL_HEADER) != 0) {
				snprintf(err, errlen, "%s:%zu: the header must "
				    "be '%s'", path, line, WL_HEADER);
				goto out;
			}
			header = 1;
			continue;
		}
		p = t;
		while (p != NULL && nf <= WL_NCOLS)
			f[nf++] = trim(strsep(&p, ","));
		if (nf != WL_NCOLS || p != NULL) {
			snprintf(err, errlen, "%s:%zu: %s columns, need %d (%s)",
			    path, line, nf > WL_NCOLS ? "too many" :
			    "too few", WL_NCOLS, WL_HEADER);
			goto out;
		}
		if (wl->n == capj) {
			capj = capj ? capj * 2 : 64;
			wl->j = xrealloc(wl->j, capj * sizeof(*wl->j));
		}
		memset(&wl->j[wl->n], 0, sizeof(wl->j[wl->n]));
		wl->j[wl->n].line = line;
		wl->j[wl->n].id = xstrdup(f[0]);
		if (parse_row(f, cfg, path, line, &wl->j[wl->n++], err,
		    errlen) == -1)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!header) {
		snprintf(err, errlen, "%s: empty file, the header must be '%s'",
		    path, WL_HEADER);
		goto out;
	}
	if (check_ids(wl, path, err, errlen) == -1)
		goto out;
	*out = wl;
	ret = 0;
out:
	free(buf);
	fclose(fp);
	if (ret == -1)
		sim_workload_free(wl);
	return ret;
}

void
sim_workload_free(struct sim_workload *wl)
{
	if (wl == NULL)
		return;
	for (size_t i = 0; i < wl->n; i++) {
		free(wl->j[i].id);
		json_decref(wl->j[i].sites);
	}
	free(wl->j);
	free(wl);
}

size_t
sim_workload_count(const struct sim_workload *wl)
{
	return wl->n;
}

/* ---- intensity */

/* Site i's actual intensity over the sim's grid from its trace. */
static int
load_site(struct sim *S, size_t i, int *signal, char *err, size_t errlen)
{
	const struct ebb_site *site = &S->cfg->sites[i];
	struct provider_conf conf;
	struct pstate st;
	struct ci_batch b;
	struct ci_rejects rej = { 0 };
	int64_t t1 = S->t0 + (int64_t)S->n * S->slot;
	char e[512];
	int r;

	for (r = 0; (size_t)r < site->providers.n; r++)
		if (config_provider_id(site->providers.v[r]) == PROV_TRACE)
			break;
	if ((size_t)r == site->providers.n) {
		snprintf(err, errlen, "site %s: no trace provider (simulate "
		    "reads every site's intensity from its trace)", site->name);
		return -1;
	}
	conf = site->prov[PROV_TRACE];
	conf.replay = 0;	/* the simulation runs in the trace's time */
	if (i > 0 && conf.signal != *signal) {
		snprintf(err, errlen, "site %s: its trace is %s, site %s's is "
		    "%s; one simulation sums one signal", site->name,
		    ci_signal_name(conf.signal), S->cfg->sites[0].name,
		    ci_signal_name(*signal));
		return -1;
	}
	*signal = conf.signal;
	memset(&st, 0, sizeof(st));
	st.conf = &conf;
	st.zone = site->zone != NULL ? site->zone : site->name;
	ci_batch_init(&b, st.zone, conf.signal, "trace");
	r = prov_trace_ops.load(&st, t1, S->t0, t1, &b, e, sizeof(e));
	prov_trace_ops.clear(&st);
	if (r == -1) {
		snprintf(err, errlen, "site %s: %s", site->name, e);
		ci_batch_free(&b);
		return -1;
	}
	ci_sanitize(&b, t1, &rej);
	S->actual[i] = xcalloc(S->n, sizeof(double));
	ci_resample(b.pts, b.n, ci_native_step(b.pts, b.n), S->t0, t1, S->slot,
	    S->actual[i]);
	ci_fill_gaps(S->actual[i], S->n, (size_t)(S->cfg->max_gap / S->slot),
	    NULL);
	ci_batch_free(&b);
	return 0;
}

static double
series_at(const double *v, size_t n, int64_t k)
{
	return k >= 0 && (uint64_t)k < n ? v[k] : NAN;
}

/*
 * The noisy forecast: actual + N(0, (sigma * mean over [from, to))^2) per
 * slot, never below 0, drawn once so every lead time sees the same value.
 */
static void
make_noise(struct sim *S, int64_t from, int64_t to)
{
	uint64_t rng = S->o->seed ? S->o->seed : UINT64_C(0x9e3779b97f4a7c15);

	S->noisy = xcalloc(S->nsites, sizeof(*S->noisy));
	for (size_t s = 0; s < S->nsites; s++) {
		double sum = 0, sd;
		size_t cnt = 0;

		for (int64_t t = from; t < to; t += S->slot) {
			double v = series_at(S->actual[s], S->n,
			    (t - S->t0) / S->slot);

			if (!isnan(v)) {
				sum += v;
				cnt++;
			}
		}
		sd = S->o->sigma * (cnt ? sum / (double)cnt : 0);
		S->noisy[s] = xcalloc(S->n, sizeof(double));
		for (size_t k = 0; k < S->n; k++) {
			double g = rng_gauss(&rng), v = S->actual[s][k];

			S->noisy[s][k] = isnan(v) ? NAN : fmax(0, v + sd * g);
		}
	}
}

/*
 * S->fc[*] := the forecast known at t0 (the slot holding now) for nslots
 * slots, in the given mode; the model reads only slots before t0.
 */
static void
forecast_at(struct sim *S, enum sim_forecast mode, int64_t t0,
    size_t nslots)
{
	int64_t base = (t0 - S->t0) / S->slot;

	if (S->fc_t0 == t0 && S->fc_n == nslots)
		return;
	for (size_t s = 0; s < S->nsites; s++) {
		const double *src = mode == SIM_NOISE ? S->noisy[s] :
		    S->actual[s];

		S->fc[s] = xrealloc(S->fc[s], nslots * sizeof(double));
		S->ps[s].hi = NULL;
		if (mode == SIM_MODEL) {
			int64_t h = FC_HISTORY_DAYS * 86400LL / S->slot;
			int64_t first = base - h < 0 ? 0 : base - h;
			char e[256];

			S->fchi[s] = xrealloc(S->fchi[s], nslots *
			    sizeof(double));
			if (base > first && fc_forecast_band(S->actual[s] +
			    first, (size_t)(base - first), S->slot,
			    S->t0 + first * S->slot, nslots, S->fc[s], NULL,
			    S->fchi[s], e, sizeof(e)) == 0) {
				S->ps[s].hi = S->fchi[s];
				continue;
			}
			for (size_t k = 0; k < nslots; k++)
				S->fc[s][k] = NAN;
			continue;
		}
		for (size_t k = 0; k < nslots; k++)
			S->fc[s][k] = series_at(src, S->n, base + (int64_t)k);
	}
	S->fc_t0 = t0;
	S->fc_n = nslots;
	for (size_t s = 0; s < S->nsites; s++)
		S->ps[s].ci = S->fc[s];
}

static struct acct_series
actual_series(const struct sim *S, int site)
{
	struct acct_series a = { S->t0, S->slot, S->n, S->actual[site] };

	return a;
}

/* ---- jobs */

/*
 * The record ebbd would hold for row w, policy applied; -1: refused.
 * note: count it in its site's demand, as ebbd does a submit.
 */
static int
admit(struct sim *S, const struct policy_set *pol, struct sj *x, int note)
{
	const struct wl_job *w = x->w;
	struct policy_subject who = { NULL, NULL };
	struct plan_job pj;
	char e[512] = "";

	x->rec = job_new();
	x->rec->id = (int64_t)(x - S->jobs) + 1;
	x->rec->name = xstrdup(w->id);
	x->rec->cpus = w->cpus;
	x->rec->duration = w->duration;
	x->rec->deadline = w->deadline;
	x->rec->sites = json_deep_copy(w->sites);
	x->rec->interruptible = w->interruptible;
	x->rec->power_w = w->power_w;
	x->rec->submit_time = w->submit;
	x->rec->state = JOB_QUEUED;
	x->site = -1;
	if (pol != NULL) {
		x->rule = policy_match(pol, x->rec, &who, e, sizeof(e));
		if ((x->rule == NULL && e[0] != '\0') || (x->rule != NULL &&
		    policy_apply(x->rule, x->rec, w->submit, e,
		    sizeof(e)) == -1)) {
			x->st = SJ_REFUSED;
			x->note = xstrdup(e);
			return -1;
		}
	}
	sched_plan_job(S->cfg, x->rec, x->rule, w->submit, &pj);
	if (note)
		load_note(S->load, &pj, w->submit);
	x->power_w = pj.power_w;
	x->deadline = pj.deadline;
	x->origin = pj.origin;
	x->remaining = w->duration;
	x->st = SJ_QUEUED;
	return 0;
}

static void
add_run(struct sj *x, int64_t a, int64_t b)
{
	if (x->nrun > 0 && x->re[x->nrun - 1] == a) {
		x->re[x->nrun - 1] = b;
		return;
	}
	if (x->nrun == x->caprun) {
		x->caprun = x->caprun ? x->caprun * 2 : 4;
		x->rs = xrealloc(x->rs, x->caprun * sizeof(*x->rs));
		x->re = xrealloc(x->re, x->caprun * sizeof(*x->re));
	}
	x->rs[x->nrun] = a;
	x->re[x->nrun++] = b;
}

/*
 * The first run of a placement that starts at or after now: its planned
 * slots (contiguous ones joined) or its block: [*s, *e).
 */
static void
first_chunk(const struct plan_params *p, const struct plan_assign *a,
    int64_t dur, int64_t *s, int64_t *e)
{
	size_t k;

	if (a->slots == NULL || a->nslots == 0) {
		*s = a->start > p->now ? a->start : p->now;
		*e = *s + dur;
		return;
	}
	for (k = 0; k + 1 < a->nslots && a->slots[k + 1] == a->slots[k] + 1;)
		k++;
	*s = p->t0 + (int64_t)a->slots[0] * p->slot;
	if (*s < p->now)
		*s = p->now;
	*e = p->t0 + ((int64_t)a->slots[k] + 1) * p->slot;
	if (*e > *s + dur)
		*e = *s + dur;
}

/* Applies the plan made at now to the active jobs. */
static void
apply(struct sim *S, const struct plan_params *p, const struct plan_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct plan_assign *a = &r->a[i];
		struct sj *x = &S->jobs[S->pjmap[i]];
		int started = x->st == SJ_RUNNING || x->st == SJ_PAUSED;
		int64_t cs, ce;

		if (started && !x->w->interruptible)
			continue;	/* fixed: runs to its end */
		x->next_start = 0;
		if (a->site < 0 || a->why == PLAN_NO_ROOM) {
			if (started)
				x->st = SJ_PAUSED;
			continue;
		}
		first_chunk(p, a, x->remaining, &cs, &ce);
		if (cs > p->now) {
			x->st = started ? SJ_PAUSED : SJ_QUEUED;
			x->next_start = cs;
			continue;
		}
		if (!started) {
			x->site = a->site;
			x->rec->site = xstrdup(S->cfg->sites[a->site].name);
			x->rec->start_time = p->now;
			x->rec->state = JOB_RUNNING;
		}
		x->st = SJ_RUNNING;
		x->run_until = x->w->interruptible ? ce : p->now + x->remaining;
	}
}

/* One decision point: plan every active job as of now. */
static int
decide(struct sim *S, int64_t now, char *err, size_t errlen)
{
	struct plan_params p;
	struct plan_result r;
	size_t n = 0;

	sched_params(S->cfg, now, &p);
	for (size_t s = 0; s < S->nsites; s++)
		S->ps[s].reserve = load_site_reserve(S->cfg, s, S->load, now);
	for (size_t i = 0; i < S->nactive; i++) {
		struct sj *x = &S->jobs[S->active[i]];
		struct plan_job *pj = &S->pj[n];

		sched_plan_job(S->cfg, x->rec, x->rule, now, pj);
		/* A started interruptible job is planned for what is left. */
		if (x->st != SJ_QUEUED && x->w->interruptible) {
			pj->duration = x->remaining;
			pj->start = now;	/* the planner counts now - start
						   as done; it was paused */
		}
		S->pjmap[n++] = S->active[i];
	}
	p.nslots = plan_grid_slots(&p, S->pj, n);
	forecast_at(S, S->o->forecast, p.t0, p.nslots);
	if (plan_compute(&p, S->ps, S->nsites, S->pj, n, &r, err,
	    errlen) == -1)
		return -1;
	S->decisions++;
	apply(S, &p, &r);
	plan_result_free(&r);
	return 0;
}

/* Runs every running job from now to t (no event lies between). */
static void
advance(struct sim *S, int64_t now, int64_t t)
{
	for (size_t i = 0; i < S->nactive; i++) {
		struct sj *x = &S->jobs[S->active[i]];

		if (x->st != SJ_RUNNING)
			continue;
		add_run(x, now, t);
		x->remaining -= t - now;
		if (x->remaining <= 0) {
			x->st = SJ_DONE;
			x->rec->state = JOB_SUCCEEDED;
			x->rec->end_time = t;
		} else if (t >= x->run_until)
			x->st = SJ_PAUSED;
	}
}

/* Drops finished jobs from the active list. */
static void
compact(struct sim *S)
{
	size_t k = 0;

	for (size_t i = 0; i < S->nactive; i++)
		if (S->jobs[S->active[i]].st == SJ_QUEUED ||
		    S->jobs[S->active[i]].st == SJ_RUNNING ||
		    S->jobs[S->active[i]].st == SJ_PAUSED)
			S->active[k++] = S->active[i];
	S->nactive = k;
}

/* The earliest event after now, INT64_MAX if none. */
static int64_t
next_event(const struct sim *S, size_t next_sub, int64_t now, int64_t first)
{
	int64_t t = INT64_MAX, replan = S->cfg->planner.replan;

	if (next_sub < S->njobs)
		t = S->jobs[S->order[next_sub]].w->submit;
	for (size_t i = 0; i < S->nactive; i++) {
		const struct sj *x = &S->jobs[S->active[i]];

		if (x->st == SJ_RUNNING && x->run_until < t)
			t = x->run_until;
		else if (x->st != SJ_RUNNING && x->next_start > now &&
		    x->next_start < t)
			t = x->next_start;
	}
	if (S->nactive > 0 && replan > 0) {
		int64_t r = first + ((now - first) / replan + 1) * replan;

		if (r < t)
			t = r;
	}
	return t;
}

/* Every active job that cannot run any more: never placed. */
static void
give_up(struct sim *S, const char *why)
{
	for (size_t i = 0; i < S->nactive; i++) {
		struct sj *x = &S->jobs[S->active[i]];

		x->st = SJ_UNPLACED;
		x->note = xstrdup(why);
	}
	S->nactive = 0;
}

static int
cmp_submit(const void *a, const void *b, void *arg)
{
	const struct sim *S = arg;
	const size_t *x = a, *y = b;
	int64_t sx = S->jobs[*x].w->submit, sy = S->jobs[*y].w->submit;

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return (*x > *y) - (*x < *y);
}

/* The clock, from the first submit until every job has ended. */
static int
run_clock(struct sim *S, const struct policy_set *pol, int64_t last,
    char *err, size_t errlen)
{
	size_t next_sub = 0;
	int64_t now, first;

	if (S->njobs == 0)
		return 0;
	now = first = S->jobs[S->order[0]].w->submit;
	for (;;) {
		int waiting = 1;
		int64_t t;

		while (next_sub < S->njobs &&
		    S->jobs[S->order[next_sub]].w->submit <= now) {
			size_t k = S->order[next_sub++];

			if (admit(S, pol, &S->jobs[k], 1) == 0)
				S->active[S->nactive++] = k;
		}
		if (S->nactive > 0 && decide(S, now, err, errlen) == -1)
			return -1;
		for (size_t i = 0; i < S->nactive && waiting; i++)
			if (S->jobs[S->active[i]].st == SJ_RUNNING ||
			    S->jobs[S->active[i]].next_start > now)
				waiting = 0;
		if (S->nactive > 0 && waiting && next_sub == S->njobs) {
			give_up(S, "no room at any allowed site");
			break;
		}
		t = next_event(S, next_sub, now, first);
		if (t == INT64_MAX)
			break;
		if (t > last + GIVE_UP) {
			give_up(S, "still waiting 30 days after the last deadline");
			break;
		}
		advance(S, now, t);
		compact(S);
		now = t;
	}
	return 0;
}

/* ---- the oracle */

/* The runs of a placement made at p->now for dur seconds. */
static size_t
placement_runs(const struct plan_params *p, const struct plan_assign *a,
    int64_t dur, int64_t *rs, int64_t *re)
{
	size_t n = 0;

	if (a->slots == NULL || a->nslots == 0) {
		rs[0] = a->start;
		re[0] = a->start + dur;
		return 1;
	}
	for (size_t k = 0; k < a->nslots && dur > 0; k++) {
		int64_t s = p->t0 + (int64_t)a->slots[k] * p->slot;
		int64_t e = s + p->slot;

		if (s < p->now)
			s = p->now;
		if (e - s > dur)
			e = s + dur;
		if (e <= s)
			continue;
		dur -= e - s;
		if (n > 0 && re[n - 1] == s)
			re[n - 1] = e;
		else {
			rs[n] = s;
			re[n++] = e;
		}
	}
	return n;
}

/* plan_oracle over every admitted job, known from the first submit. */
static void
oracle(struct sim *S, int64_t first, int64_t last, struct sim_summary *sum)
{
	struct plan_params p;
	struct plan_result r;
	size_t n = 0, nslots;
	char err[256];

	sched_params(S->cfg, first, &p);
	nslots = (size_t)((last - p.t0 + p.slot - 1) / p.slot);
	if (nslots > p.nslots)
		p.nslots = nslots;
	forecast_at(S, SIM_PERFECT, p.t0, p.nslots);
	S->fc_t0 = INT64_MIN;	/* the clock's forecasts are made afresh */
	for (size_t i = 0; i < S->njobs; i++) {
		if (S->jobs[i].st == SJ_REFUSED)
			continue;
		sched_plan_job(S->cfg, S->jobs[i].rec, S->jobs[i].rule, first,
		    &S->pj[n]);
		S->pjmap[n++] = i;
	}
	if (plan_oracle(&p, S->ps, S->nsites, S->pj, n, &r, err,
	    sizeof(err)) == -1) {
		snprintf(sum->oracle_note, sizeof(sum->oracle_note), "%s", err);
		return;
	}
	sum->oracle_g = 0;
	for (size_t i = 0; i < r.n; i++) {
		const struct plan_assign *a = &r.a[i];
		const struct sj *x = &S->jobs[S->pjmap[i]];
		int64_t *rs, *re;
		struct acct_series ser;
		struct acct_result ar;
		size_t k;

		if (a->site < 0 || a->why == PLAN_NO_ROOM) {
			snprintf(sum->oracle_note, sizeof(sum->oracle_note),
			    "the oracle placed no job '%s'", x->w->id);
			plan_result_free(&r);
			return;
		}
		rs = xcalloc(a->nslots + 1, sizeof(*rs));
		re = xcalloc(a->nslots + 1, sizeof(*re));
		k = placement_runs(&p, a, x->w->duration, rs, re);
		ser = actual_series(S, a->site);
		if (acct_power(&ser, S->cfg->sites[a->site].pue, x->power_w,
		    rs, re, k, &ar, err, sizeof(err)) == 0)
			sum->oracle_g += ar.emissions_g;
		free(rs);
		free(re);
	}
	sum->has_oracle = 1;
	plan_result_free(&r);
}

/* ---- results */

static int
cmp_delay(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

static int
account(struct sim *S, struct sim_result *out, char *err, size_t errlen)
{
	struct sim_summary *sum = &out->sum;
	int64_t *delays = xcalloc(S->njobs ? S->njobs : 1, sizeof(*delays));
	double total_delay = 0, base_unknown = 0;
	int ret = -1;

	out->jobs = xcalloc(S->njobs ? S->njobs : 1, sizeof(*out->jobs));
	out->njobs = S->njobs;
	for (size_t i = 0; i < S->njobs; i++) {
		struct sj *x = &S->jobs[i];
		struct sim_job *o = &out->jobs[i];
		struct acct_series ser;
		struct acct_result ar;
		int64_t bend = x->w->submit + x->w->duration;

		o->id = xstrdup(x->w->id);
		o->submit = x->w->submit;
		o->deadline = x->deadline;
		o->note = x->note != NULL ? xstrdup(x->note) : NULL;
		if (x->st == SJ_REFUSED) {
			sum->refused++;
			continue;
		}
		ser = actual_series(S, x->origin);
		if (acct_power(&ser, S->cfg->sites[x->origin].pue, x->power_w,
		    &x->w->submit, &bend, 1, &ar, err, errlen) == -1)
			goto out;
		o->baseline_g = ar.emissions_g;
		base_unknown += ar.unknown_kwh;
		if (x->st != SJ_DONE) {
			sum->unplaced++;
			if (x->deadline > 0)
				sum->deadline_misses++;
			continue;
		}
		ser = actual_series(S, x->site);
		if (acct_power(&ser, S->cfg->sites[x->site].pue, x->power_w,
		    x->rs, x->re, x->nrun, &ar, err, errlen) == -1)
			goto out;
		o->site = xstrdup(S->cfg->sites[x->site].name);
		o->start = x->rs[0];
		o->end = x->re[x->nrun - 1];
		o->runs = (int)x->nrun;
		o->energy_kwh = ar.energy_kwh;
		o->emissions_g = ar.emissions_g;
		sum->jobs++;
		sum->energy_kwh += ar.energy_kwh;
		sum->emissions_g += ar.emissions_g;
		sum->unknown_kwh += ar.unknown_kwh;
		sum->baseline_g += o->baseline_g;
		if (x->deadline > 0 && o->end > x->deadline)
			sum->deadline_misses++;
		delays[sum->jobs - 1] = o->start - o->submit;
		total_delay += (double)(o->start - o->submit);
	}
	/* Energy of unknown intensity counts as 0 g on its side: no claim. */
	sum->savings_pct = NAN;
	if (sum->baseline_g > 0 && sum->unknown_kwh == 0 && base_unknown == 0)
		sum->savings_pct = 100.0 * (1.0 - sum->emissions_g /
		    sum->baseline_g);
	if (sum->jobs > 0) {
		size_t k = (size_t)ceil(0.95 * (double)sum->jobs);

		qsort(delays, sum->jobs, sizeof(*delays), cmp_delay);
		sum->mean_delay_s = total_delay / (double)sum->jobs;
		sum->p95_delay_s = (double)delays[k - 1];
	}
	sum->decisions = S->decisions;
	ret = 0;
out:
	free(delays);
	return ret;
}

static void
sim_free(struct sim *S)
{
	for (size_t s = 0; s < S->nsites; s++) {
		if (S->actual != NULL)
			free(S->actual[s]);
		if (S->noisy != NULL)
			free(S->noisy[s]);
		free(S->fc[s]);
		free(S->fchi[s]);
	}
	free(S->actual);
	free(S->noisy);
	free(S->fc);
	free(S->fchi);
	free(S->ps);
	free(S->load);
	for (size_t i = 0; i < S->njobs; i++) {
		job_free(S->jobs[i].rec);
		free(S->jobs[i].rs);
		free(S->jobs[i].re);
		free(S->jobs[i].note);
	}
	free(S->jobs);
	free(S->order);
	free(S->active);
	free(S->pj);
	free(S->pjmap);
}

int
sim_run(const struct ebb_config *cfg, const struct policy_set *pol,
    const struct sim_workload *wl, const struct sim_opts *o,
    struct sim_result *out, char *err, size_t errlen)
{
	struct sim S;
	int64_t first = INT64_MAX, last = INT64_MIN, end;
	int signal = 0, ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&S, 0, sizeof(S));
	S.cfg = cfg;
	S.o = o;
	S.slot = cfg->slot;
	S.nsites = cfg->nsites < 64 ? cfg->nsites : 64;
	S.njobs = wl->n;
	S.jobs = xcalloc(wl->n ? wl->n : 1, sizeof(*S.jobs));
	S.order = xcalloc(wl->n ? wl->n : 1, sizeof(*S.order));
	S.active = xcalloc(wl->n ? wl->n : 1, sizeof(*S.active));
	S.pj = xcalloc(wl->n ? wl->n : 1, sizeof(*S.pj));
	S.pjmap = xcalloc(wl->n ? wl->n : 1, sizeof(*S.pjmap));
	S.fc = xcalloc(S.nsites, sizeof(*S.fc));
	S.fchi = xcalloc(S.nsites, sizeof(*S.fchi));
	S.ps = xcalloc(S.nsites, sizeof(*S.ps));
	S.load = xcalloc(S.nsites, sizeof(*S.load));
	S.fc_t0 = INT64_MIN;
	for (size_t i = 0; i < wl->n; i++) {
		const struct wl_job *w = &wl->j[i];
		int64_t e = w->deadline > w->submit + w->duration ?
		    w->deadline : w->submit + w->duration;

		S.jobs[i].w = w;
		S.order[i] = i;
		if (w->submit < first)
			first = w->submit;
		if (e > last)
			last = e;
	}
	if (wl->n == 0)
		first = last = 0;
	qsort_r(S.order, S.njobs, sizeof(*S.order), cmp_submit, &S);
	/* History for the model before, room for delays and the horizon after. */
	S.t0 = ci_slot_floor(first, S.slot) - FC_HISTORY_DAYS * 86400LL;
	end = last + 2 * cfg->planner.horizon + cfg->planner.default_max_delay +
	    7 * 86400LL;
	S.n = (size_t)((end - S.t0 + S.slot - 1) / S.slot);
	S.actual = xcalloc(S.nsites, sizeof(*S.actual));
	for (size_t s = 0; s < S.nsites; s++) {
		if (load_site(&S, s, &signal, err, errlen) == -1)
			goto out;
		S.ps[s].cpus = cfg->sites[s].cpus;
		S.ps[s].pue = cfg->sites[s].pue;
	}
	if (o->forecast == SIM_NOISE)
		make_noise(&S, ci_slot_floor(first, S.slot), last);
	if (o->oracle) {
		for (size_t i = 0; i < S.njobs; i++)
			admit(&S, pol, &S.jobs[i], 0);
		oracle(&S, first, last, &out->sum);
		for (size_t i = 0; i < S.njobs; i++) {
			job_free(S.jobs[i].rec);
			free(S.jobs[i].note);
			S.jobs[i].rec = NULL;
			S.jobs[i].note = NULL;
			S.jobs[i].rule = NULL;
		}
	}
	if (run_clock(&S, pol, last, err, errlen) == -1 ||
	    account(&S, out, err, errlen) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		sim_result_free(out);
	sim_free(&S);
	return ret;
}

void
sim_result_free(struct sim_result *r)
{
	for (size_t i = 0; i < r->njobs; i++) {
		free(r->jobs[i].id);
		free(r->jobs[i].site);
		free(r->jobs[i].note);
	}
	free(r->jobs);
	r->jobs = NULL;
	r->njobs = 0;
}

void
sim_write_jobs(FILE *f, const struct sim_result *r)
{
	char a[32], b[32];

	fprintf(f, "id,site,start,end,energy_kwh,emissions_g,baseline_g\n");
	for (size_t i = 0; i < r->njobs; i++) {
		const struct sim_job *j = &r->jobs[i];

		if (j->site == NULL) {
			fprintf(f, "%s,,,,,,%.3f\n", j->id, j->baseline_g);
			continue;
		}
		fprintf(f, "%s,%s,%s,%s,%.6f,%.3f,%.3f\n", j->id, j->site,
		    ebb_fmt_time(j->start, a, sizeof(a)),
		    ebb_fmt_time(j->end, b, sizeof(b)), j->energy_kwh,
		    j->emissions_g, j->baseline_g);
	}
}

/* x rounded to `dec` decimals, so JSON and text say the same. */
static double
rnd(double x, int dec)
{
	double m = pow(10, dec);

	return round(x * m) / m;
}

void
sim_write_summary(FILE *f, const struct sim_result *r, int json)
{
	const struct sim_summary *s = &r->sum;
	json_t *o;

	if (!json) {
		fprintf(f, "jobs: %zu\nrefused: %zu\nunplaced: %zu\n"
		    "energy_kwh: %.6f\nemissions_g: %.3f\nbaseline_g: %.3f\n",
		    s->jobs, s->refused, s->unplaced, s->energy_kwh,
		    s->emissions_g, s->baseline_g);
		if (isnan(s->savings_pct))
			fprintf(f, "savings_pct: null\n");
		else
			fprintf(f, "savings_pct: %.2f\n", s->savings_pct);
		if (s->has_oracle)
			fprintf(f, "oracle_g: %.3f\n", s->oracle_g);
		else if (s->oracle_note[0] != '\0')
			fprintf(f, "oracle_g: - (%s)\n", s->oracle_note);
		fprintf(f, "deadline_misses: %zu\nmean_delay_s: %.1f\n"
		    "p95_delay_s: %.0f\nunknown_kwh: %.6f\ndecisions: %zu\n",
		    s->deadline_misses, s->mean_delay_s, s->p95_delay_s,
		    s->unknown_kwh, s->decisions);
		return;
	}
	o = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:o, s:o, s:I, s:f, "
	    "s:f, s:f, s:I}",
	    "jobs", (json_int_t)s->jobs,
	    "refused", (json_int_t)s->refused,
	    "unplaced", (json_int_t)s->unplaced,
	    "energy_kwh", rnd(s->energy_kwh, 6),
	    "emissions_g", rnd(s->emissions_g, 3),
	    "baseline_g", rnd(s->baseline_g, 3),
	    "savings_pct", isnan(s->savings_pct) ? json_null() :
	    json_real(rnd(s->savings_pct, 2)),
	    "oracle_g", s->has_oracle ? json_real(rnd(s->oracle_g, 3)) :
	    json_null(),
	    "deadline_misses", (json_int_t)s->deadline_misses,
	    "mean_delay_s", rnd(s->mean_delay_s, 1),
	    "p95_delay_s", s->p95_delay_s,
	    "unknown_kwh", rnd(s->unknown_kwh, 6),
	    "decisions", (json_int_t)s->decisions);
	json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15));
	fputc('\n', f);
	json_decref(o);
}
