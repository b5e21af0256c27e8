/*
 * dispatch: the active-job index, planning passes, launches, pauses and
 * backend events. It decides nothing about where or when (that is the
 * planner, fed through schedule.c) and runs nothing itself (that is the
 * backend and ebb-run).
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/attrib.h"
#include "runner/backend.h"
#include "runner/jobctl.h"
#include "policies/policy.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/ledger.h"
#include "scheduler/load.h"
#include "scheduler/planner.h"
#include "scheduler/sampler.h"
#include "scheduler/schedule.h"
#include "scheduler/store.h"

#define MAX_SITES	64
#define KICK_DELAY	0.05	/* s from a change to the planning pass */
#define MAX_PASS_GAP	5.0	/* s, longest wait for a pass after a change */
#define DEFAULT_DURATION 3600	/* s, for a job nobody gave an estimate */
#define RUN_HISTORY	20	/* past runs a duration estimate looks at */

struct active {
	int64_t		 id;
	int64_t		 mem;
	int64_t		 submit_time;
	int64_t		 start_time;	/* when running */
	struct plan_job	 pj;		/* the planner's view (schedule.c) */
	int		 site;		/* planned or running site, -1 */
	int64_t		 planned_start;	/* 0 if not planned */
	int		 paused;	/* 1 frozen, 0 not, -1 unknown */
	enum job_state	 state;
	char		*cancel_by;	/* set once a cancel was asked for */
	int		 handed;	/* its site's scheduler has it (ext_id) */
	int		 placed;	/* place() has its current plan */
	int		 adopted;	/* submitted to that scheduler directly */
	enum plan_why	 why;		/* the last plan's reason */
	int		 held;		/* its cpus are in the capacity model */
	int64_t		 held_from, held_to;	/* over [from, to) */
	int		 fresh;		/* submitted since the last pass */
	int		 hold;		/* `ebb hold`: left out of every plan */
	int		 start_now;	/* started by `ebb start-now` */
	int		 why_set;	/* a plan gave `why` (since loading) */
};

/*
 * Free cpus per site and slot as the last plan left them (what
 * plan_compute() counted), kept up to date between passes: a job's end
 * gives its slots back, a job started early takes its new slots and gives
 * back its planned ones. Interruptible jobs stay as planned until the next
 * pass (their slots are not a span), which errs toward less room.
 */
struct capmodel {
	int64_t		 t0, slot;
	size_t		 ns, nsites;	/* 0 slots: no model (no pass yet) */
	int		*cpu;		/* [site * ns + slot] */
};

/* One open backend: one per site for per_site backends, else shared. */
struct bk {
	struct dispatch	*dp;
	const struct backend_ops *ops;
	struct backend	*b;
	char		*site;		/* per_site: the site it serves */
};

/* A start (local) or a placement (place()) to make after the commit. */
struct launch {
	int64_t		 id;
	json_t		*spec;
	struct bk	*bk;
	int		 place;
	int64_t		 start;
};

struct dispatch {
	struct ebbd	*d;
	struct active	*act;		/* sorted by id */
	size_t		 nact, capact;
	struct bk	**bks;
	size_t		 nbks;
	struct launch	*launches;
	size_t		 nlaunch, caplaunch;
	int		 dirty;
	int		 full;		/* something besides submits changed
					   since the last pass */
	ev_timer	 kick;		/* a planning pass soon */
	ev_timer	 wake;		/* the next planned start or re-plan */
	double		 pass_s;	/* how long the last pass took */
	double		 pass_end;	/* when it ended (loop time) */
	struct capmodel	 cap;
	struct site_load load[MAX_SITES];	/* recent demand (load.h) */
	int64_t		*settle;	/* ended jobs whose ledger to settle */
	size_t		 nsettle, capsettle;
	char		 instance[17];
};

static void on_event(void *, int64_t, const json_t *);
static void cap_release(struct dispatch *, struct active *);
static int start_freed(struct dispatch *, int);
static void kick(struct dispatch *);
static void kick_fresh(struct dispatch *);
static void on_kick(struct ev_loop *, ev_timer *, int);
static void on_wake(struct ev_loop *, ev_timer *, int);

static struct active *
find(struct dispatch *dp, int64_t id)
{
	size_t lo = 0, hi = dp->nact;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (dp->act[mid].id == id)
			return &dp->act[mid];
		if (dp->act[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
forget(struct dispatch *dp, int64_t id)
{
	struct active *a = find(dp, id);

	if (a == NULL)
		return;
	cap_release(dp, a);
	free(a->cancel_by);
	memmove(a, a + 1, (size_t)(dp->act + dp->nact - (a + 1)) * sizeof(*a));
	dp->nact--;
}

static const struct policy_rule *
rule_named(struct dispatch *dp, const char *name)
{
	return dp->d->policies != NULL && name != NULL ?
	    policy_find(dp->d->policies, name) : NULL;
}

/*
 * Plan again soon. A pass over a long queue takes a while, so passes are
 * spaced by ten times the last one's length: planning never takes more
 * than a tenth of the loop, and a burst of submits shares one pass.
 */
static void
kick(struct dispatch *dp)
{
	dp->full = 1;
	kick_fresh(dp);
}

/*
 * The same for new jobs alone: unless something else changed too, the
 * pass plans only them, in the room the last plan left (plan_fresh()).
 */
static void
kick_fresh(struct dispatch *dp)
{
	double gap = 10 * dp->pass_s, delay;

	dp->dirty = 1;
	if (ev_is_active(&dp->kick))
		return;
	if (gap > MAX_PASS_GAP)
		gap = MAX_PASS_GAP;
	delay = dp->pass_end + gap - ev_now(dp->d->loop);
	if (delay < KICK_DELAY)
		delay = KICK_DELAY;
	ev_timer_set(&dp->kick, delay, 0.);
	ev_timer_start(dp->d->loop, &dp->kick);
}

static void
index_job(struct dispatch *dp, const struct job *j)
{
	struct active *a;
	size_t pos = dp->nact;

	if (dp->nact == dp->capact) {
		dp->capact = dp->capact ? dp->capact * 2 : 256;
		dp->act = xrealloc(dp->act, dp->capact * sizeof(*dp->act));
	}
	while (pos > 0 && dp->act[pos - 1].id > j->id)
		pos--;
	memmove(dp->act + pos + 1, dp->act + pos,
	    (dp->nact - pos) * sizeof(*dp->act));
	dp->nact++;
	a = &dp->act[pos];
	memset(a, 0, sizeof(*a));
	a->id = j->id;
	a->mem = j->mem;
	a->submit_time = j->submit_time;
	a->start_time = j->start_time;
	sched_plan_job(dp->d->cfg, j, rule_named(dp, j->policy_applied),
	    j->submit_time, &a->pj);
	a->site = j->site ? sched_site_index(dp->d->cfg, j->site) : -1;
	a->planned_start = j->state == JOB_PLANNED ? j->planned_start : 0;
	a->state = j->state;
	a->handed = j->ext_id != NULL;
	a->adopted = j->adopted;
	a->hold = j->held;
	a->start_now = j->start_now;
	/* Started at once by its user: it runs as one block, never frozen
	 * to follow green slots. */
	if (j->start_now)
		a->pj.interruptible = 0;
	/* After a restart nobody knows if it was frozen: say so once. */
	a->paused = j->state == JOB_RUNNING && j->interruptible ? -1 : 0;
}

static void queue_launch(struct dispatch *, const struct job *);

static struct bk *
backend_for(struct dispatch *dp, const char *site)
{
	const struct ebb_site *s = site ? config_site(dp->d->cfg, site) : NULL;
	const char *name = s ? s->backend : "local";

	for (size_t i = 0; i < dp->nbks; i++) {
		struct bk *bk = dp->bks[i];

		if (strcmp(bk->ops->name, name) == 0 && (bk->site == NULL ||
		    (s != NULL && strcmp(bk->site, s->name) == 0)))
			return bk;
	}
	return dp->nbks ? dp->bks[0] : NULL;
}

/* Does the job's (planned) site hand jobs over at plan time? */
static int
places(struct dispatch *dp, int site)
{
	struct bk *bk;

	if (site < 0 || (size_t)site >= dp->d->cfg->nsites)
		return 0;
	bk = backend_for(dp, dp->d->cfg->sites[site].name);
	return bk != NULL && bk->ops->place != NULL;
}

/* How ebb-run meters a job where ebbd cannot (on a Slurm node). */
static json_t *
energy_settings(const struct ebb_config *cfg)
{
	const struct ebb_energy *e = &cfg->energy;
	json_t *o = json_pack("{s:f, s:f, s:I, s:s}", "idle_w", e->idle_w,
	    "max_w", e->max_w, "slot", (json_int_t)cfg->slot, "idle",
	    attrib_idle_name((enum attrib_idle)e->idle));

	if (e->powercap_root != NULL)
		json_object_set_new(o, "powercap_root",
		    json_string(e->powercap_root));
	if (e->procfs_root != NULL)
		json_object_set_new(o, "procfs_root",
		    json_string(e->procfs_root));
	return o;
}

/*
 * Opens the backends the sites name that are not open yet: one per site
 * for per-site backends (a Slurm cluster each), one shared otherwise.
 * A site's backend settings are read when it is opened (at start).
 */
static int
open_backends(struct dispatch *dp, char *err, size_t errlen)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct backend_conf bc = {
		.state_dir = cfg->state_dir,
		.runner_path = dp->d->runner_path,
		.instance = dp->instance,
		.priv = dp->d->priv,
		.output_limit = cfg->output_limit,
	};
	json_t *energy = energy_settings(cfg);	/* backends copy it */
	int rc = 0;

	bc.energy = energy;
	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct ebb_site *site = &cfg->sites[i];
		const struct backend_ops *ops = backend_lookup(site->backend);
		struct bk *bk;
		size_t k;

		if (ops == NULL) {
			snprintf(err, errlen, "site %s: unknown backend '%s'",
			    site->name, site->backend);
			rc = -1;
			break;
		}
		for (k = 0; k < dp->nbks; k++)
			if (dp->bks[k]->ops == ops && (!ops->per_site ||
			    strcmp(dp->bks[k]->site, site->name) == 0))
				break;
		if (k < dp->nbks)
			continue;
		bc.site = site->name;
		bc.slurm = &site->slurm;
		bc.kube = &site->kube;
		bk = xcalloc(1, sizeof(*bk));
		bk->dp = dp;
		bk->ops = ops;
		bk->site = ops->per_site ? xstrdup(site->name) : NULL;
		bk->b = ops->open(dp->d->loop, &bc, on_event, bk, err, errlen);
		if (bk->b == NULL) {
			free(bk->site);
			free(bk);
			rc = -1;
			break;
		}
		dp->bks = xrealloc(dp->bks, (dp->nbks + 1) * sizeof(*dp->bks));
		dp->bks[dp->nbks++] = bk;
	}
	json_decref(energy);
	return rc;
}

struct dispatch *
dispatch_new(struct ebbd *d, char *err, size_t errlen)
{
	struct dispatch *dp = xcalloc(1, sizeof(*dp));

	jobctl_instance(d->cfg->state_dir, dp->instance);
	dp->d = d;
	ev_timer_init(&dp->kick, on_kick, KICK_DELAY, 0.);
	ev_timer_init(&dp->wake, on_wake, 0., 0.);
	dp->kick.data = dp->wake.data = dp;
	if (d->cfg->nsites > MAX_SITES) {
		snprintf(err, errlen, "at most %d sites are supported",
		    MAX_SITES);
		dispatch_free(dp);
		return NULL;
	}
	if (open_backends(dp, err, errlen) == -1) {
		dispatch_free(dp);
		return NULL;
	}
	return dp;
}

void
dispatch_free(struct dispatch *dp)
{
	if (dp == NULL)
		return;
	ev_timer_stop(dp->d->loop, &dp->kick);
	ev_timer_stop(dp->d->loop, &dp->wake);
	for (size_t i = 0; i < dp->nbks; i++) {
		dp->bks[i]->ops->close(dp->bks[i]->b);
		free(dp->bks[i]->site);
		free(dp->bks[i]);
	}
	for (size_t i = 0; i < dp->nlaunch; i++)
		json_decref(dp->launches[i].spec);
	for (size_t i = 0; i < dp->nact; i++)
		free(dp->act[i].cancel_by);
	free(dp->launches);
	free(dp->settle);
	free(dp->cap.cpu);
	free(dp->bks);
	free(dp->act);
	free(dp);
}

static int
index_cb(void *arg, const struct job *j)
{
	index_job(arg, j);
	kick(arg);
	return 0;
}

static int
load_cb(void *arg, const struct job *j)
{
	struct dispatch *dp = arg;
	struct plan_job pj;

	sched_plan_job(dp->d->cfg, j, rule_named(dp, j->policy_applied),
	    j->submit_time, &pj);
	load_note(dp->load, &pj, j->submit_time);
	return 0;
}

/*
 * Each site's recent demand, from the jobs submitted over the last
 * LOAD_HISTORY (whatever their state): after a restart or a reload (the
 * sites may have changed) as before it.
 */
static int
load_demand(struct dispatch *dp, char *err, size_t errlen)
{
	struct store_filter f = {
		.uid = -1,
		.submitted_since = ebb_now() - LOAD_HISTORY,
	};

	memset(dp->load, 0, sizeof(dp->load));
	if (store_jobs_foreach(dp->d->store, &f, load_cb, dp) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(dp->d->store));
		return -1;
	}
	return 0;
}

static int
load_active(struct dispatch *dp, char *err, size_t errlen)
{
	struct store_filter f = {
		.uid = -1,
		.states = 1u << JOB_QUEUED | 1u << JOB_PLANNED |
		    1u << JOB_RUNNING,
	};

	for (size_t i = 0; i < dp->nact; i++)
		free(dp->act[i].cancel_by);
	dp->nact = 0;
	if (store_jobs_foreach(dp->d->store, &f, index_cb, dp) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(dp->d->store));
		return -1;
	}
	return 0;
}

int
dispatch_recover(struct dispatch *dp, char *err, size_t errlen)
{
	if (load_active(dp, err, errlen) == -1 ||
	    load_demand(dp, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < dp->nact; i++) {
		struct active *a = &dp->act[i];
		struct job *j;
		struct bk *bk;
		char e[256];

		if (a->state != JOB_RUNNING)
			continue;
		if (store_job_get(dp->d->store, a->id, &j) != 1)
			continue;
		bk = backend_for(dp, j->site);
		log_info("job %" PRId64 ": re-adopting after restart", a->id);
		if (bk != NULL && bk->ops->place != NULL) {
			queue_launch(dp, j);	/* a placement: it runs there */
			job_free(j);
			continue;
		}
		if (bk == NULL || bk->ops->adopt(bk->b, a->id, e,
		    sizeof(e)) == -1)
			log_warnx("job %" PRId64 ": cannot adopt: %s", a->id,
			    bk ? e : "no backend");
		job_free(j);
	}
	return 0;
}

int
dispatch_reconfigure(struct dispatch *dp, char *err, size_t errlen)
{
	if (open_backends(dp, err, errlen) == -1 ||
	    load_active(dp, err, errlen) == -1)
		return -1;
	dp->cap.ns = 0;		/* sites may have changed: a pass first */
	dp->full = 1;
	return load_demand(dp, err, errlen);
}

/*
 * The submitter's group names, NULL-terminated (free with strv_free):
 * the groups it had when it submitted, or for older jobs the group
 * database's.
 */
static char **
groups_of(const struct job *j)
{
	gid_t gids[256];
	int n = 256;
	char **names;

	if (json_is_array(j->groups)) {
		size_t i;
		json_t *g;

		n = 0;
		json_array_foreach(j->groups, i, g)
			if (json_is_integer(g) && n < 256)
				gids[n++] = (gid_t)json_integer_value(g);
	} else if (j->user == NULL || getgrouplist(j->user, j->gid, gids,
	    &n) == -1)
		n = 0;
	names = xcalloc((size_t)n + 1, sizeof(*names));
	for (int i = 0, k = 0; i < n; i++) {
		struct group *g = getgrgid(gids[i]);

		if (g != NULL)
			names[k++] = xstrdup(g->gr_name);
	}
	return names;
}

/* The 90th percentile of the user's past runs of this name, or 0. */
static int64_t
estimate_from_history(struct dispatch *dp, const struct job *j)
{
	int64_t runs[RUN_HISTORY], t;
	int n = store_run_times(dp->d->store, j->uid, j->name, runs,
	    RUN_HISTORY);

	if (n < 3)
		return 0;
	for (int i = 1; i < n; i++)	/* insertion sort: n is tiny */
		for (int k = i; k > 0 && runs[k - 1] > runs[k]; k--) {
			t = runs[k];
			runs[k] = runs[k - 1];
			runs[k - 1] = t;
		}
	t = runs[(n * 9 + 9) / 10 - 1];
	return t > 0 ? t : 1;
}

int
dispatch_admit(struct dispatch *dp, struct job *j, char *err, size_t errlen)
{
	const struct ebb_config *cfg = dp->d->cfg;
	const struct policy_rule *rule = NULL;
	struct plan_job pj;
	int best = 0, bestgpus = 0;
	int64_t bestmem = 0, hist;
	size_t i;
	json_t *v;

	json_array_foreach(j->sites, i, v) {
		if (sched_site_index(cfg, json_string_value(v)) < 0) {
			snprintf(err, errlen, "sites: unknown site '%s'",
			    json_string_value(v));
			return -1;
		}
	}
	if (j->duration > 0)
		j->duration_source = xstrdup("user");
	else if ((hist = estimate_from_history(dp, j)) > 0) {
		j->duration = hist;
		j->duration_source = xstrdup("history");
	}
	if (dp->d->policies != NULL || j->policy != NULL) {
		char **groups = groups_of(j);
		struct policy_subject who = { j->user,
		    (const char *const *)groups };

		err[0] = '\0';
		if (dp->d->policies != NULL)
			rule = policy_match(dp->d->policies, j, &who, err,
			    errlen);
		strv_free(groups);
		if (rule == NULL && (j->policy != NULL || err[0] != '\0')) {
			if (err[0] == '\0')
				snprintf(err, errlen, "policy: no policy '%s' "
				    "is configured", j->policy);
			return -1;
		}
		if (rule != NULL && policy_apply(rule, j, ebb_now(), err,
		    errlen) == -1)
			return -1;
	}
	if (j->duration <= 0) {
		j->duration = DEFAULT_DURATION;
		free(j->duration_source);
		j->duration_source = xstrdup("default");
	}
	sched_plan_job(cfg, j, rule, j->submit_time, &pj);
	if (pj.sites == 0) {
		snprintf(err, errlen, j->image != NULL ? "image: none of the "
		    "job's sites runs containers (backend kubernetes)" :
		    "sites: the job's sites run containers only: give an "
		    "image (--image)");
		return -1;
	}
	for (size_t s = 0; s < cfg->nsites; s++) {
		if (!(pj.sites & (UINT64_C(1) << s)))
			continue;
		if (cfg->sites[s].cpus > best)
			best = cfg->sites[s].cpus;
		if (cfg->sites[s].memory > bestmem)
			bestmem = cfg->sites[s].memory;
		if (cfg->sites[s].gpus > bestgpus)
			bestgpus = cfg->sites[s].gpus;
	}
	if (j->cpus > best) {
		snprintf(err, errlen, "cpus: %d is more than any allowed site "
		    "has (%d)", j->cpus, best);
		return -1;
	}
	if (j->gpus > bestgpus) {
		snprintf(err, errlen, "gpus: %d is more than any allowed site "
		    "has (%d)", j->gpus, bestgpus);
		return -1;
	}
	if (j->mem > bestmem) {
		char a[32], b[32];

		snprintf(err, errlen, "mem: %s is more than any allowed site "
		    "has (%s)", ebb_fmt_size(j->mem, a, sizeof(a)),
		    ebb_fmt_size(bestmem, b, sizeof(b)));
		return -1;
	}
	return 0;
}

void
dispatch_added(struct dispatch *dp, const struct job *j)
{
	struct active *a;

	index_job(dp, j);
	if ((a = find(dp, j->id)) != NULL)
		load_note(dp->load, &a->pj, j->submit_time);
	if (a != NULL && a->state == JOB_QUEUED) {
		a->fresh = 1;
		kick_fresh(dp);
	} else {
		kick(dp);
	}
}

static json_t *
make_spec(struct dispatch *dp, const struct job *j)
{
	char *cg = jobctl_cgroup(dp->instance, j->id);
	json_t *spec = json_pack("{s:I, s:O, s:O, s:s, s:I, s:I, s:s, s:i, "
	    "s:I, s:s, s:I}", "job_id", (json_int_t)j->id, "argv", j->argv,
	    "env", j->env, "workdir", j->workdir, "uid", (json_int_t)j->uid,
	    "gid", (json_int_t)j->gid, "user", j->user ? j->user : "",
	    "cpus", j->cpus, "mem", (json_int_t)j->mem, "cgroup", cg,
	    "kill_grace", (json_int_t)dp->d->cfg->kill_grace);

	free(cg);
	json_object_set_new(spec, "name", json_string(j->name));
	if (j->image != NULL)
		json_object_set_new(spec, "image", json_string(j->image));
	if (j->stdout_file != NULL)
		json_object_set_new(spec, "stdout_file",
		    json_string(j->stdout_file));
	if (j->stderr_file != NULL)
		json_object_set_new(spec, "stderr_file",
		    json_string(j->stderr_file));
	if (j->gpus > 0)
		json_object_set_new(spec, "gpus", json_integer(j->gpus));
	if (j->deadline > 0)
		json_object_set_new(spec, "deadline",
		    json_integer(j->deadline));
	if (j->groups != NULL)
		json_object_set(spec, "groups", j->groups);
	if (j->ext_id != NULL)
		json_object_set_new(spec, "ext_id", json_string(j->ext_id));
	if (j->adopted)
		json_object_set_new(spec, "adopted", json_true());
	if (j->state == JOB_RUNNING)
		json_object_set_new(spec, "running", json_true());
	return spec;
}

/*
 * Queues the job's start, or for a backend with its own queue its
 * placement at the planned start, to be made after the commit.
 */
static void
queue_launch(struct dispatch *dp, const struct job *j)
{
	struct launch *l;

	if (dp->nlaunch == dp->caplaunch) {
		dp->caplaunch = dp->caplaunch ? dp->caplaunch * 2 : 16;
		dp->launches = xrealloc(dp->launches, dp->caplaunch *
		    sizeof(*dp->launches));
	}
	l = &dp->launches[dp->nlaunch++];
	l->id = j->id;
	l->spec = make_spec(dp, j);
	l->bk = backend_for(dp, j->site);
	l->place = l->bk != NULL && l->bk->ops->place != NULL;
	l->start = j->planned_start;
}

/*
 * Free cpus, gpus and memory at a site now, from the jobs running there
 * (a frozen job keeps its gpus: their memory is held).
 */
static int
fits_now(struct dispatch *dp, const struct active *a, int site)
{
	const struct ebb_site *s = &dp->d->cfg->sites[site];
	int cpus = s->cpus, gpus = s->gpus;
	int64_t mem = s->memory;

	for (size_t i = 0; i < dp->nact; i++) {
		const struct active *o = &dp->act[i];

		if (o->state == JOB_RUNNING && o->site == site)
			gpus -= o->pj.gpus;
		if (o->state == JOB_RUNNING && o->site == site &&
		    o->paused != 1) {
			cpus -= o->pj.cpus;
			mem -= o->mem;
		}
	}
	return a->pj.cpus <= cpus && a->mem <= mem && a->pj.gpus <= gpus;
}

/* The model's slots [*a, *b] that [from, to) touches; 0 if none. */
static int
cap_span(const struct capmodel *m, int site, int64_t from, int64_t to,
    size_t *a, size_t *b)
{
	int64_t end = m->t0 + (int64_t)m->ns * m->slot;

	if (m->ns == 0 || site < 0 || (size_t)site >= m->nsites ||
	    to <= from || to <= m->t0 || from >= end)
		return 0;
	*a = from <= m->t0 ? 0 : (size_t)((from - m->t0) / m->slot);
	*b = to > end ? m->ns - 1 : (size_t)((to - 1 - m->t0) / m->slot);
	return 1;
}

/* Gives n cpus back at site over [from, to) (n < 0 takes them). */
static void
cap_add(struct capmodel *m, int site, int64_t from, int64_t to, int n)
{
	size_t a, b;

	if (cap_span(m, site, from, to, &a, &b))
		for (size_t k = a; k <= b; k++)
			m->cpu[(size_t)site * m->ns + k] += n;
}

/* Whether cpus are free at site in every slot of [from, to). */
static int
cap_room(const struct capmodel *m, int site, int64_t from, int64_t to,
    int cpus)
{
	size_t a, b;

	if (cap_span(m, site, from, to, &a, &b))
		for (size_t k = a; k <= b; k++)
			if (m->cpu[(size_t)site * m->ns + k] < cpus)
				return 0;
	return 1;
}

/* A job gives its slots in the model back (it ended, or it moves). */
static void
cap_release(struct dispatch *dp, struct active *a)
{
	if (a->held)
		cap_add(&dp->cap, a->site, a->held_from, a->held_to,
		    a->pj.cpus);
	a->held = 0;
}

/*
 * A job's placement takes its room in the model; its slot indexes count
 * from the model's slot k0.
 */
static void
cap_take(struct dispatch *dp, struct active *a, const struct plan_assign *r,
    int64_t now, size_t k0)
{
	struct capmodel *m = &dp->cap;
	int64_t from, to;

	a->held = 0;
	if (m->ns == 0 || r->site < 0)
		return;
	if (r->slots != NULL) {
		for (size_t k = 0; k < r->nslots; k++)
			if (r->slots[k] + k0 < m->ns)
				m->cpu[(size_t)r->site * m->ns + r->slots[k] +
				    k0] -= a->pj.cpus;
		return;
	}
	from = r->start > now ? r->start : now;
	to = r->end > now ? r->end : now + 1;
	cap_add(m, r->site, from, to, -a->pj.cpus);
	if (a->site == r->site) {
		a->held = 1;
		a->held_from = from;
		a->held_to = to;
	}
}

/* The model as a pass's plan leaves it. */
static void
cap_build(struct dispatch *dp, const struct plan_params *pp,
    const struct plan_site *sites, size_t nsites,
    const struct plan_result *res, const size_t *idx, size_t n, int64_t now)
{
	struct capmodel *m = &dp->cap;

	m->t0 = pp->t0;
	m->slot = pp->slot;
	m->ns = res->n == n ? pp->nslots : 0;
	m->nsites = nsites;
	m->cpu = xrealloc(m->cpu, (nsites * pp->nslots + 1) *
	    sizeof(*m->cpu));
	for (size_t s = 0; s < nsites; s++)
		for (size_t k = 0; k < pp->nslots; k++)
			m->cpu[s * pp->nslots + k] = sites[s].cpus;
	for (size_t i = 0; i < dp->nact; i++)
		dp->act[i].held = 0;
	for (size_t k = 0; m->ns != 0 && k < n; k++)
		cap_take(dp, &dp->act[idx[k]], &res->a[k], now, 0);
}

/* Starts a planned job now, ahead of its planned start. */
static void
start_early(struct dispatch *dp, struct active *a, int64_t now)
{
	struct store *st = dp->d->store;
	struct job *j;

	if (store_job_get(st, a->id, &j) != 1)
		return;
	j->planned_start = now;
	if (store_job_transition(st, j, JOB_RUNNING, now, "launching "
	    "supervisor (capacity came free)") == -1)
		fatalx("store: %s", store_errmsg(st));
	a->state = JOB_RUNNING;
	a->start_time = now;
	a->planned_start = now;
	queue_launch(dp, j);
	job_free(j);
}

static int
start_order(const void *x, const void *y)
{
	const struct active *a = *(struct active *const *)x;
	const struct active *b = *(struct active *const *)y;

	if (a->planned_start != b->planned_start)
		return a->planned_start < b->planned_start ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/*
 * Reasons that place a job at its earliest start (all the room allows):
 * a later planned start than that is only for want of room.
 */
static int
at_earliest(enum plan_why why)
{
	return why == PLAN_RUN_NOW || why == PLAN_LATE ||
	    why == PLAN_THRESHOLD || why == PLAN_NO_FORECAST ||
	    why == PLAN_UNCERTAIN;
}

/*
 * Capacity came free at a site (a job there ended): starts at once the
 * waiting jobs planned there that the plan has due, or that want to run
 * as early as they can (run-now, late, threshold: planned later only for
 * want of room; not those that need gpus, which the model does not
 * count: they wait for a pass), in the order of their planned starts,
 * while their whole run fits both the cpus and memory free now and the
 * room the plan leaves every other job. So no planned job loses its
 * room, nothing starts
 * before its earliest start or moves site, and the first of them that
 * does not fit stops the rest (no overtaking). Returns 1 when that
 * happened after at least one start: the room went to the jobs in line
 * for it and the plan of every other job holds, so no pass is needed
 * now (unless a job planned there needs gpus); else 0.
 */
static int
start_freed(struct dispatch *dp, int site)
{
	struct capmodel *m = &dp->cap;
	int64_t now = ebb_now();
	struct active **c;
	size_t n = 0;
	int started = 0, full = 0, gpus = 0;

	if (m->ns == 0 || now >= m->t0 + (int64_t)m->ns * m->slot ||
	    places(dp, site))
		return 0;
	c = xmalloc((dp->nact + 1) * sizeof(*c));
	for (size_t i = 0; i < dp->nact; i++) {
		struct active *a = &dp->act[i];

		if (a->state != JOB_PLANNED || a->site != site)
			continue;
		gpus |= a->pj.gpus > 0;
		if (a->held && !a->handed && !a->pj.interruptible &&
		    a->pj.gpus == 0 && a->cancel_by == NULL)
			c[n++] = a;
	}
	qsort(c, n, sizeof(*c), start_order);
	for (size_t i = 0; i < n; i++) {
		struct active *a = c[i];
		int64_t end = now + a->pj.duration;

		if (a->pj.earliest > now || (a->planned_start > now &&
		    !at_earliest(a->why)))
			continue;	/* waits by choice, not for room */
		cap_release(dp, a);
		if (!cap_room(m, site, now, end, a->pj.cpus) ||
		    !fits_now(dp, a, site)) {
			cap_add(m, site, a->held_from, a->held_to, -a->pj.cpus);
			a->held = 1;
			full = 1;
			break;
		}
		cap_add(m, site, now, end, -a->pj.cpus);
		a->held = 1;
		a->held_from = now;
		a->held_to = end;
		start_early(dp, a, now);
		started = 1;
	}
	free(c);
	return started && full && !gpus;
}

/*
 * Whether a job waits for room: queued without a plan (not one just
 * submitted: plan_fresh() has it), late, or planned later than it could
 * start only for want of room (run-now, threshold, no forecast).
 */
static int
waiting_for_room(const struct dispatch *dp)
{
	int64_t now = ebb_now();

	for (size_t i = 0; i < dp->nact; i++) {
		const struct active *a = &dp->act[i];
		int64_t could = a->pj.earliest > now ? a->pj.earliest : now;

		if (a->state == JOB_QUEUED && !a->fresh && !a->hold)
			return 1;
		if (a->state != JOB_PLANNED)
			continue;
		if (a->why == PLAN_LATE || (a->planned_start > could &&
		    at_earliest(a->why)))
			return 1;
	}
	return 0;
}

/* Records what the plan says of a job and why. */
static void
explain(struct dispatch *dp, struct job *j, const struct plan_assign *r)
{
	const struct ebb_config *cfg = dp->d->cfg;

	free(j->plan_why);
	j->plan_why = xstrdup(plan_why_name(r->why));
	/* Without a forecast nothing is expected: store 0, not NAN. */
	j->expected_g = isfinite(r->expected_g) ? r->expected_g : 0;
	j->now_g = isfinite(r->now_g) ? r->now_g : 0;
	free(j->alt_site);
	j->alt_site = r->alt_site >= 0 && (size_t)r->alt_site < cfg->nsites ?
	    xstrdup(cfg->sites[r->alt_site].name) : NULL;
	j->alt_start = r->alt_start;
	j->alt_g = isfinite(r->alt_g) ? r->alt_g : 0;
	free(j->site);
	j->site = r->site >= 0 ? xstrdup(cfg->sites[r->site].name) : NULL;
	j->planned_start = r->site >= 0 ? r->start : 0;
}

/* Applies one job's placement: start it, (re)plan it, or leave it queued. */
static void
apply(struct dispatch *dp, struct active *a, const struct plan_assign *r,
    int64_t now)
{
	struct store *st = dp->d->store;
	struct job *j;
	char why[512], t[32];
	int place = places(dp, r->site);
	int starts = r->site >= 0 && r->start <= now && !place &&
	    (r->slots == NULL || r->slots[0] == 0);

	if (r->site == a->site && r->start == a->planned_start &&
	    a->state == JOB_PLANNED && !starts && (!place || a->placed))
		return;		/* unchanged */
	if (r->site < 0 && a->state == JOB_QUEUED)
		return;
	if (store_job_get(st, a->id, &j) != 1)
		return;
	if (r->site < 0) {
		if (a->handed) {	/* it stays in the queue it is in */
			job_free(j);
			return;
		}
		explain(dp, j, r);
		if (store_job_transition(st, j, JOB_QUEUED, now, "no capacity "
		    "within the planning horizon") == -1)
			fatalx("store: %s", store_errmsg(st));
		a->state = JOB_QUEUED;
		a->site = -1;
		a->planned_start = 0;
		job_free(j);
		return;
	}
	if (starts && !fits_now(dp, a, r->site)) {
		job_free(j);
		return;		/* the estimate of a running job was short */
	}
	explain(dp, j, r);
	if (r->why == PLAN_GREEN && r->now_g > r->expected_g)
		snprintf(why, sizeof(why), "%s on %s at %s: %.3g g expected, "
		    "%.3g g (%.0f%%) less than now", plan_why_name(r->why),
		    j->site, ebb_fmt_time(r->start, t, sizeof(t)),
		    r->expected_g, r->now_g - r->expected_g, 100 * (r->now_g -
		    r->expected_g) / r->now_g);
	else if (r->why == PLAN_UNCERTAIN)
		snprintf(why, sizeof(why), "%s on %s at %s: %.3g g expected; "
		    "waiting's saving is within the forecast's uncertainty",
		    plan_why_name(r->why), j->site, ebb_fmt_time(r->start, t,
		    sizeof(t)), r->expected_g);
	else if (isfinite(r->expected_g))
		snprintf(why, sizeof(why), "%s on %s at %s: %.3g g expected",
		    plan_why_name(r->why), j->site, ebb_fmt_time(r->start, t,
		    sizeof(t)), r->expected_g);
	else
		snprintf(why, sizeof(why), "%s on %s at %s: no intensity known "
		    "to expect emissions from", plan_why_name(r->why), j->site,
		    ebb_fmt_time(r->start, t, sizeof(t)));
	if (a->state == JOB_PLANNED && !starts) {
		/* Re-planned: record the new plan, no new state. */
		if (store_job_save(st, j) == -1)
			fatalx("store: %s", store_errmsg(st));
	} else if (a->state != JOB_PLANNED && store_job_transition(st, j,
	    JOB_PLANNED, now, why) == -1)
		fatalx("store: %s", store_errmsg(st));
	a->state = JOB_PLANNED;
	a->site = r->site;
	a->planned_start = r->start;
	if (place) {
		queue_launch(dp, j);
		a->placed = 1;
	}
	if (starts) {
		if (store_job_transition(st, j, JOB_RUNNING, now,
		    "launching supervisor") == -1)
			fatalx("store: %s", store_errmsg(st));
		a->state = JOB_RUNNING;
		a->start_time = now;
		queue_launch(dp, j);
	}
	job_free(j);
}

/* Freezes or thaws a running interruptible job to follow its slots. */
static void
follow_slots(struct dispatch *dp, struct active *a, const struct plan_assign *r)
{
	int want = r->slots != NULL && (r->nslots == 0 || r->slots[0] != 0);
	struct bk *bk;
	char err[256];

	if (!a->pj.interruptible || want == a->paused ||
	    a->cancel_by != NULL || places(dp, a->site))
		return;
	bk = backend_for(dp, dp->d->cfg->sites[a->site].name);
	if (bk == NULL || bk->ops->pause(bk->b, a->id, want, err,
	    sizeof(err)) == -1) {
		log_warnx("job %" PRId64 ": %s: %s", a->id, want ? "freeze" :
		    "thaw", bk ? err : "no backend");
		return;
	}
	a->paused = want;
	log_info("job %" PRId64 " %s: %s", a->id, want ? "frozen" : "thawed",
	    want ? "outside its planned slots" : "in a planned slot");
}

/* The planner's view of an active job now. */
static void
plan_view(const struct active *a, int64_t now, int64_t slot,
    struct plan_job *pj)
{
	*pj = a->pj;
	if (pj->earliest < now)
		pj->earliest = now;
	/* Handed to a cluster (or placed there, the hand-over under way):
	 * it stays there, or it could be in two clusters; once due it is
	 * the cluster's to start, so it no longer moves. */
	if (a->state == JOB_PLANNED && (a->handed || a->placed) &&
	    a->site >= 0) {
		pj->sites = UINT64_C(1) << a->site;
		if (a->planned_start <= now) {
			pj->fixed = 1;
			pj->site = a->site;
			pj->start = a->planned_start;
		}
	}
	if (a->state == JOB_RUNNING) {
		pj->fixed = 1;
		pj->site = a->site >= 0 ? a->site : 0;
		pj->start = a->start_time ? a->start_time : now;
		/* A job past its estimate holds its cpus a slot more. */
		if (pj->start + pj->duration < now + slot)
			pj->duration = now + slot - pj->start;
	}
}

/* The sites and their intensities over the grid of pp (free ser after). */
static void
site_series(struct dispatch *dp, const struct plan_params *pp, int64_t now,
    struct plan_site *sites, struct ci_series *ser)
{
	const struct ebb_config *cfg = dp->d->cfg;
	char err[256];

	memset(ser, 0, cfg->nsites * sizeof(*ser));
	for (size_t s = 0; s < cfg->nsites; s++) {
		const struct ebb_site *c = &cfg->sites[s];

		sites[s].cpus = c->cpus;
		sites[s].gpus = c->gpus;
		sites[s].pue = c->pue;
		sites[s].reserve = load_site_reserve(cfg, s, dp->load, now);
		if (dp->d->carbon == NULL || c->providers.n == 0 ||
		    carbon_series(dp->d->carbon, c->zone ? c->zone : c->name,
		    carbon_site_signal(dp->d->carbon, c->name), pp->t0, pp->t0 +
		    (int64_t)pp->nslots * pp->slot, now, &ser[s], err,
		    sizeof(err)) == -1 || ser[s].n < pp->nslots) {
			ci_series_free(&ser[s]);
			ser[s].value = xcalloc(pp->nslots, sizeof(double));
			for (size_t k = 0; k < pp->nslots; k++)
				ser[s].value[k] = NAN;
		}
		sites[s].ci = ser[s].value;
		sites[s].hi = ser[s].hi;	/* own forecast's; else NAN */
	}
}

/* A planned start the wake timer must not sleep past. */
static void
wake_by(struct dispatch *dp, int64_t when, int64_t now)
{
	double in = (double)(when - now);

	if (ev_is_active(&dp->wake) &&
	    ev_timer_remaining(dp->d->loop, &dp->wake) <= in)
		return;
	ev_timer_stop(dp->d->loop, &dp->wake);
	ev_timer_set(&dp->wake, in > 0 ? in : 0., 0.);
	ev_timer_start(dp->d->loop, &dp->wake);
}

/* The model's slot of pp's t0 in *k0; -1 if it has none for pp. */
static int
model_slot(const struct dispatch *dp, const struct plan_params *pp,
    size_t *k0)
{
	const struct capmodel *m = &dp->cap;

	if (m->ns == 0 || m->nsites != dp->d->cfg->nsites ||
	    m->slot != pp->slot || pp->t0 < m->t0 ||
	    (*k0 = (size_t)((pp->t0 - m->t0) / pp->slot)) >= m->ns)
		return -1;
	return 0;
}

/*
 * Plans the queued jobs fr (nf of them, none in the capacity model yet)
 * in the room the last plan left (the model, kept up to date since), as a
 * pass would plan them after every other job, on what is left of the last
 * pass's grid: every other plan holds. On 0, res has the others' room
 * first and fr's placements from res->a[*first] on, fr's slot indexes
 * counting from the model's slot *k0. Returns -1 (res empty) when a full
 * pass is needed instead: no model (no pass yet) or a grid that does not
 * reach a job's deadline, a job that is interruptible, needs gpus (the
 * model counts cpus only) or may go to a site that takes jobs at plan
 * time, or one that would be late or find no room (then the queue is
 * planned again, least slack first). Changes nothing.
 */
static int
fresh_compute(struct dispatch *dp, struct active **fr, size_t nf,
    int64_t now, struct plan_result *res, size_t *first, size_t *k0)
{
	const struct ebb_config *cfg = dp->d->cfg;
	const struct capmodel *m = &dp->cap;
	struct plan_site sites[MAX_SITES];
	struct ci_series ser[MAX_SITES];
	struct plan_params pp;
	struct plan_job *pj;
	size_t npj = 0, cap;
	int rc;
	char err[256];

	sched_params(cfg, now, &pp);
	if (model_slot(dp, &pp, k0) == -1)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		const struct active *a = fr[i];

		if (a->state != JOB_QUEUED || a->pj.interruptible || a->hold ||
		    a->pj.gpus > 0 || a->handed || a->cancel_by != NULL)
			return -1;
		for (size_t s = 0; s < cfg->nsites; s++)
			if ((a->pj.sites >> s & 1) && places(dp, (int)s))
				return -1;
	}
	/* the room the others take, as one running job per run of slots
	 * with the same use */
	cap = nf + 1;
	pj = xmalloc(cap * sizeof(*pj));
	for (size_t s = 0; s < m->nsites; s++) {
		const int *c = m->cpu + s * m->ns;

		for (size_t k = *k0, e; k < m->ns; k = e) {
			int used = cfg->sites[s].cpus - c[k];

			for (e = k + 1; e < m->ns && c[e] == c[k]; e++)
				;
			if (used <= 0)
				continue;
			if (npj + nf == cap) {
				cap *= 2;
				pj = xrealloc(pj, cap * sizeof(*pj));
			}
			memset(&pj[npj], 0, sizeof(*pj));
			pj[npj].cpus = used;
			pj[npj].duration = (int64_t)(e - k) * m->slot;
			pj[npj].sites = UINT64_C(1) << s;
			pj[npj].origin = pj[npj].site = (int)s;
			pj[npj].fixed = 1;
			pj[npj].start = m->t0 + (int64_t)k * m->slot;
			npj++;
		}
	}
	for (size_t i = 0; i < nf; i++)
		plan_view(fr[i], now, pp.slot, &pj[npj + i]);
	/* the rest of the model's grid, if it reaches every new deadline
	 * (and a new job's length past now) */
	pp.nslots = 1;
	if (plan_grid_slots(&pp, pj + npj, nf) > m->ns - *k0) {
		free(pj);
		return -1;
	}
	pp.nslots = m->ns - *k0;
	site_series(dp, &pp, now, sites, ser);
	if (plan_compute(&pp, sites, cfg->nsites, pj, npj + nf, res, err,
	    sizeof(err)) == -1) {
		log_warnx("planning new jobs failed: %s", err);
		res->n = 0;
		res->a = NULL;
	}
	rc = res->n == npj + nf ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < nf; i++)
		if (res->a[npj + i].why == PLAN_LATE ||
		    res->a[npj + i].why == PLAN_NO_ROOM)
			rc = -1;
	free(pj);
	for (size_t s = 0; s < cfg->nsites; s++)
		ci_series_free(&ser[s]);
	if (rc == -1)
		plan_result_free(res);
	*first = npj;
	return rc;
}

/*
 * Plans only the jobs submitted since the last pass (fresh_compute());
 * -1, having changed nothing, when a full pass is needed instead.
 */
static int
plan_fresh(struct dispatch *dp)
{
	struct plan_result res;
	struct plan_params pp;
	struct active **fr;
	int64_t now = ebb_now();
	size_t nf = 0, first, k0;
	double started;

	ev_now_update(dp->d->loop);
	started = ev_now(dp->d->loop);
	sched_params(dp->d->cfg, now, &pp);
	if (model_slot(dp, &pp, &k0) == -1)
		return -1;
	fr = xmalloc((dp->nact + 1) * sizeof(*fr));
	for (size_t i = 0; i < dp->nact; i++)
		if (dp->act[i].fresh)
			fr[nf++] = &dp->act[i];
	if (nf > 0 && fresh_compute(dp, fr, nf, now, &res, &first, &k0) ==
	    -1) {
		free(fr);
		return -1;
	}
	dp->dirty = 0;
	for (size_t i = 0; i < nf; i++) {
		struct active *a = fr[i];
		const struct plan_assign *r = &res.a[first + i];

		a->why = r->why;
		a->why_set = 1;
		apply(dp, a, r, now);
		cap_take(dp, a, r, now, k0);
		a->fresh = 0;
		if (a->state == JOB_PLANNED && a->planned_start > now)
			wake_by(dp, a->planned_start, now);
		/* not started after all (a running job overran its
		 * estimate, which the model does not know): a pass */
		if (a->state == JOB_QUEUED)
			kick(dp);
	}
	free(fr);
	if (nf > 0) {
		plan_result_free(&res);
		/* (pass_s stays the last full pass's: it spaces passes) */
		ev_now_update(dp->d->loop);
		log_debug("new jobs planned without a pass: %zu in %.3f s",
		    nf, ev_now(dp->d->loop) - started);
	}
	return 0;
}

/* One planning pass over every active job, on the current intensities. */
static void
plan_pass(struct dispatch *dp)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct plan_site sites[MAX_SITES];
	struct ci_series ser[MAX_SITES];
	struct plan_params pp;
	struct plan_job *pj;
	struct plan_result res;
	int64_t now = ebb_now(), next = 0;
	int interruptible = 0;
	size_t *idx, n = 0;
	char err[256];
	double started;

	ev_now_update(dp->d->loop);
	started = ev_now(dp->d->loop);
	dp->dirty = 0;
	dp->full = 0;
	/* Held jobs are in no plan: idx maps the planned ones to act. */
	idx = xmalloc((dp->nact + 1) * sizeof(*idx));
	for (size_t i = 0; i < dp->nact; i++) {
		dp->act[i].fresh = 0;
		if (!dp->act[i].hold)
			idx[n++] = i;
	}
	if (n == 0) {
		free(idx);
		dp->cap.ns = 0;
		ev_timer_stop(dp->d->loop, &dp->wake);
		return;
	}
	sched_params(cfg, now, &pp);
	pj = xcalloc(n, sizeof(*pj));
	for (size_t k = 0; k < n; k++)
		plan_view(&dp->act[idx[k]], now, pp.slot, &pj[k]);
	/* Every deadline on the grid, whatever the horizon (planner.h). */
	pp.nslots = plan_grid_slots(&pp, pj, n);
	site_series(dp, &pp, now, sites, ser);
	if (plan_compute(&pp, sites, cfg->nsites, pj, n, &res, err,
	    sizeof(err)) == -1) {
		log_warnx("planning failed: %s", err);
		res.n = 0;
		res.a = NULL;
	}
	for (size_t k = 0; k < res.n && k < n; k++) {
		struct active *a = &dp->act[idx[k]];
		const struct plan_assign *r = &res.a[k];

		a->why = r->why;
		a->why_set = 1;
		if (a->state == JOB_RUNNING)
			follow_slots(dp, a, r);
		else
			apply(dp, a, r, now);
		if (a->state == JOB_PLANNED && a->planned_start > now &&
		    (next == 0 || a->planned_start < next))
			next = a->planned_start;
		interruptible |= a->pj.interruptible;
	}
	cap_build(dp, &pp, sites, cfg->nsites, &res, idx, n, now);
	plan_result_free(&res);
	free(idx);
	free(pj);
	for (size_t s = 0; s < cfg->nsites; s++)
		ci_series_free(&ser[s]);
	/* Wake for the next start, the next slot (to follow interruptible
	 * jobs' slots), and at least every replan interval. */
	if (interruptible && (next == 0 || pp.t0 + pp.slot < next))
		next = pp.t0 + pp.slot;
	if (next == 0 || next > now + cfg->planner.replan)
		next = now + cfg->planner.replan;
	ev_timer_stop(dp->d->loop, &dp->wake);
	ev_timer_set(&dp->wake, (double)(next - now), 0.);
	ev_timer_start(dp->d->loop, &dp->wake);
	/* Give the pass's scratch memory back: ebbd idles small. */
	malloc_trim(0);
	ev_now_update(dp->d->loop);
	dp->pass_end = ev_now(dp->d->loop);
	dp->pass_s = dp->pass_end - started;
	log_debug("planning pass: %zu active jobs in %.3f s", dp->nact,
	    dp->pass_s);
}

void
dispatch_preview(struct dispatch *dp, struct job *j)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct active tmp, *fr = &tmp;
	struct plan_site sites[MAX_SITES];
	struct ci_series ser[MAX_SITES];
	struct plan_params pp;
	struct plan_job *pj;
	struct plan_result res;
	int64_t now = ebb_now();
	size_t first, k0;
	char err[256];

	memset(&tmp, 0, sizeof(tmp));
	tmp.id = j->id;
	tmp.mem = j->mem;
	tmp.submit_time = j->submit_time;
	tmp.site = -1;
	tmp.state = JOB_QUEUED;
	sched_plan_job(cfg, j, rule_named(dp, j->policy_applied),
	    j->submit_time, &tmp.pj);
	/* As a submit now would be planned: in the room the last plan
	 * left, else by a pass over the queue with it. */
	if (fresh_compute(dp, &fr, 1, now, &res, &first, &k0) == -1) {
		sched_params(cfg, now, &pp);
		pj = xcalloc(dp->nact + 1, sizeof(*pj));
		for (size_t i = 0; i < dp->nact; i++)
			plan_view(&dp->act[i], now, pp.slot, &pj[i]);
		plan_view(&tmp, now, pp.slot, &pj[dp->nact]);
		pp.nslots = plan_grid_slots(&pp, pj, dp->nact + 1);
		site_series(dp, &pp, now, sites, ser);
		if (plan_compute(&pp, sites, cfg->nsites, pj, dp->nact + 1,
		    &res, err, sizeof(err)) == -1) {
			log_warnx("planning a dry run failed: %s", err);
			res.n = 0;
			res.a = NULL;
		}
		free(pj);
		for (size_t s = 0; s < cfg->nsites; s++)
			ci_series_free(&ser[s]);
		first = dp->nact;
	}
	if (first < res.n) {
		explain(dp, j, &res.a[first]);
		j->state = j->site != NULL ? JOB_PLANNED : JOB_QUEUED;
	}
	plan_result_free(&res);
}

/* A pass, or for new jobs alone just them (plan_fresh()). */
static void
on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dispatch *dp = w->data;

	if (!dp->full && plan_fresh(dp) == 0)
		return;
	plan_pass(dp);
}

/* A planned start or the re-plan interval is due: a full pass. */
static void
on_wake(struct ev_loop *loop, ev_timer *w, int revents)
{
	plan_pass(w->data);
}

/*
 * The energy of a job that ran where ebbd's sampler cannot see (a Slurm
 * node, a Kubernetes pod): the intervals ebb-run measured there, or, when
 * it measured none (a job shorter than its first sample, a meter that
 * failed, no ebb-run at all: submitted to Slurm directly), an estimate
 * from its cpus and run time. Every job that ran gets a ledger row, also
 * one whose start and end fall in the same second (the clocks there count
 * whole seconds): it is charged for one second, as the sampler charges
 * a local one.
 */
static int
remote_energy(struct dispatch *dp, const struct job *j, const json_t *res)
{
	const json_t *iv = json_object_get(res, "energy"), *v;
	const char *method = json_string_value(json_object_get(res,
	    "energy_method"));
	double w, joules;
	int64_t end;
	size_t i, n = 0;
	char err[256];

	if (!places(dp, sched_site_index(dp->d->cfg, j->site)))
		return 0;
	json_array_foreach(iv, i, v) {
		json_int_t t0, t1;
		double e;

		if (json_unpack((json_t *)v, "[IIF]", &t0, &t1, &e) == -1 ||
		    t1 <= t0 || !(e >= 0))
			continue;
		if (ledger_record(dp->d->store, j->id, t0, t1, e,
		    method ? method : "model", err, sizeof(err)) == -1)
			return -1;
		n++;
	}
	if (n > 0 || j->start_time <= 0 || j->end_time < j->start_time)
		return 0;
	/* cpus x watts_per_cpu over its run time, or the CPU time it
	 * measured (cAdvisor's) x watts_per_cpu. */
	if (json_is_array(iv))
		method = NULL;	/* measured nothing: this is an estimate */
	end = j->end_time > j->start_time ? j->end_time : j->start_time + 1;
	w = j->power_w > 0 ? j->power_w : j->cpus *
	    dp->d->cfg->planner.watts_per_cpu;
	joules = w * (double)(end - j->start_time);
	if (j->cpu_usec > 0 && j->power_w <= 0)
		joules = (double)j->cpu_usec / 1e6 *
		    dp->d->cfg->planner.watts_per_cpu;
	return ledger_record(dp->d->store, j->id, j->start_time, end, joules,
	    method != NULL ? method : "estimate", err, sizeof(err));
}

static void
record_end(struct dispatch *dp, int64_t id, enum job_state to,
    const char *why, const json_t *res)
{
	struct active *a;
	struct job *j;
	int site;

	if (store_job_get(dp->d->store, id, &j) != 1 || job_state_final(j->state))
		goto done;
	if (res != NULL) {
		const char *m = json_string_value(json_object_get(res,
		    "measure"));
		json_t *v;

		if ((v = json_object_get(res, "start_time")) != NULL &&
		    json_integer_value(v) > 0)
			j->start_time = json_integer_value(v);
		j->end_time = json_integer_value(json_object_get(res,
		    "end_time"));
		j->exit_code = (int)json_integer_value(json_object_get(res,
		    "exit_code"));
		j->signal = (int)json_integer_value(json_object_get(res,
		    "signal"));
		j->cpu_usec = json_integer_value(json_object_get(res,
		    "cpu_usec"));
		j->peak_mem = json_integer_value(json_object_get(res,
		    "peak_mem"));
		free(j->measure);
		j->measure = m ? xstrdup(m) : NULL;
	}
	if (j->end_time == 0)
		j->end_time = ebb_now();
	if (store_job_transition(dp->d->store, j, to, j->end_time, why) == -1)
		fatalx("store: %s", store_errmsg(dp->d->store));
	log_info("job %" PRId64 " %s: %s", id, job_state_name(to), why);
	if (remote_energy(dp, j, res) == -1)
		log_warnx("job %" PRId64 ": ledger: %s", id,
		    store_errmsg(dp->d->store));
	if (dp->d->sampler != NULL) {
		if (!places(dp, sched_site_index(dp->d->cfg, j->site))) {
			/*
			 * One that ended while ebbd was down was never
			 * tracked by this one: track it now, so it gets the
			 * energy the last ebbd saved for it and its share
			 * of the time since (no-op for a tracked job).
			 */
			if (j->start_time > 0) {
				char *cg = jobctl_cgroup(dp->instance, id);

				sampler_job_started(dp->d->sampler, id, cg,
				    j->cpus, j->start_time);
				free(cg);
			}
			sampler_job_ended(dp->d->sampler, id, j->cpu_usec);
		}
		/* Settled once what this end frees is launched. */
		if (dp->d->carbon != NULL && j->start_time > 0) {
			if (dp->nsettle == dp->capsettle) {
				dp->capsettle = dp->capsettle ?
				    2 * dp->capsettle : 16;
				dp->settle = xrealloc(dp->settle,
				    dp->capsettle * sizeof(*dp->settle));
			}
			dp->settle[dp->nsettle++] = id;
		}
	}
	job_free(j);
done:
	a = find(dp, id);
	site = a != NULL && a->state == JOB_RUNNING ? a->site : -1;
	forget(dp, id);
	/* What the end freed went to the jobs due: the plan holds. */
	if (site < 0 || start_freed(dp, site) == 0)
		kick(dp);
}

static void
on_finished(struct dispatch *dp, struct active *a, const json_t *ev)
{
	const char *err = json_string_value(json_object_get(ev, "error"));
	int code = (int)json_integer_value(json_object_get(ev, "exit_code"));
	int sig = (int)json_integer_value(json_object_get(ev, "signal"));
	enum job_state to;
	char why[512];

	if (json_is_true(json_object_get(ev, "cancelled"))) {
		to = JOB_CANCELLED;
		snprintf(why, sizeof(why), "cancelled by %s while running",
		    a->cancel_by ? a->cancel_by : "a signal to ebb-run");
	} else if (err != NULL) {
		to = JOB_FAILED;
		snprintf(why, sizeof(why), "%s", err);
	} else if (sig != 0) {
		to = JOB_FAILED;
		snprintf(why, sizeof(why), "killed by signal %d (%s)", sig,
		    strsignal(sig));
	} else if (code != 0) {
		to = JOB_FAILED;
		snprintf(why, sizeof(why), "exit code %d", code);
	} else {
		to = JOB_SUCCEEDED;
		snprintf(why, sizeof(why), "exit code 0");
	}
	record_end(dp, a->id, to, why, ev);
}

/* Parses "ebb:max-delay=12h,deadline=...,policy=NAME,duration=2h". */
static int
foreign_options(struct job *j, const char *comment, char *err, size_t errlen)
{
	char *copy = xstrdup(comment + 4), *kv, *save = NULL;
	int rc = 0;

	for (kv = strtok_r(copy, ", ", &save); kv != NULL && rc == 0;
	    kv = strtok_r(NULL, ", ", &save)) {
		char *v = strchr(kv, '=');
		char why[128];

		if (v == NULL) {
			snprintf(err, errlen, "comment: '%s' is not KEY=VALUE",
			    kv);
			rc = -1;
			break;
		}
		*v++ = '\0';
		why[0] = '\0';
		if (strcmp(kv, "max-delay") == 0)
			rc = ebb_parse_duration(v, &j->max_delay, why,
			    sizeof(why));
		else if (strcmp(kv, "duration") == 0)
			rc = ebb_parse_duration(v, &j->duration, why,
			    sizeof(why));
		else if (strcmp(kv, "deadline") == 0)
			rc = ebb_parse_time(v, j->submit_time, &j->deadline, why,
			    sizeof(why));
		else if (strcmp(kv, "policy") == 0) {
			free(j->policy);
			j->policy = xstrdup(v);
		} else {
			snprintf(why, sizeof(why), "unknown key (known: "
			    "max-delay, deadline, duration, policy)");
			rc = -1;
		}
		if (rc == -1)
			snprintf(err, errlen, "comment: %s: %s", kv, why);
	}
	free(copy);
	return rc;
}

/*
 * A job submitted to a Slurm site with sbatch (or created in a Kubernetes
 * cluster with kubectl) that asks to be planned by ebb: record it once
 * (its site, id there and submit time name it) and plan it with the rest.
 * It stays at that site and runs as the cluster has it.
 */
static void
adopt_foreign(struct dispatch *dp, struct bk *bk, const json_t *ev)
{
	struct store *st = dp->d->store;
	const char *ext = json_string_value(json_object_get(ev, "ext_id"));
	const char *user = json_string_value(json_object_get(ev, "user"));
	const char *comment = json_string_value(json_object_get(ev,
	    "comment"));
	int64_t submit = json_integer_value(json_object_get(ev, "submit_time"));
	struct passwd *pw;
	struct job *j;
	char err[512];
	int64_t id, limit;
	int rc, from_limit = 0;

	if (bk->site == NULL || ext == NULL || comment == NULL ||
	    store_job_by_ext(st, bk->site, ext, submit, &id) != 0)
		return;		/* known already (or the store failed) */
	j = job_new();
	j->name = xstrdup(json_string_value(json_object_get(ev, "name")));
	j->user = xstrdup(user ? user : "");
	j->uid = (uint32_t)json_integer_value(json_object_get(ev, "uid"));
	j->gid = (pw = getpwuid(j->uid)) != NULL ? pw->pw_gid : j->uid;
	j->argv = json_pack("[s, s]", bk->ops->foreign.tool,
	    bk->ops->foreign.what);
	j->env = json_array();
	j->workdir = xstrdup(json_string_value(json_object_get(ev,
	    "workdir")));
	j->cpus = (int)json_integer_value(json_object_get(ev, "cpus"));
	if (j->cpus < 1)
		j->cpus = 1;
	j->sites = json_pack("[s]", bk->site);
	j->submit_time = submit > 0 ? submit : ebb_now();
	j->ext_id = xstrdup(ext);
	j->adopted = 1;
	err[0] = '\0';
	rc = foreign_options(j, comment, err, sizeof(err));
	/* Its time limit, unless unlimited-like, bounds its run time. */
	limit = json_integer_value(json_object_get(ev, "time_limit"));
	if (rc == 0 && j->duration == 0 && limit > 0 && limit <= 7 * 86400) {
		j->duration = limit;
		from_limit = 1;
	}
	if (rc == 0 && (rc = dispatch_admit(dp, j, err, sizeof(err))) == 0 &&
	    from_limit) {
		free(j->duration_source);
		j->duration_source = xstrdup(bk->ops->foreign.limit);
	}
	if (rc == 0) {
		j->reason = xasprintf("adopted from %s job %s on %s "
		    "(%s by %s)", bk->ops->title, ext, bk->site,
		    bk->ops->foreign.tool, j->user);
	} else {
		/* Kept, so it is not looked at again; Slurm runs it at the
		 * begin time job_submit.lua gave it. */
		j->state = JOB_FAILED;
		j->end_time = ebb_now();
		j->reason = xasprintf("not adopted from %s job %s: %s",
		    bk->ops->title, ext, err);
	}
	free(j->site);
	j->site = xstrdup(bk->site);
	if (store_job_insert(st, j) == -1)
		log_warnx("adopt %s job %s: %s", bk->ops->title, ext,
		    store_errmsg(st));
	else {
		log_info("job %" PRId64 ": %s", j->id, j->reason);
		if (j->state != JOB_FAILED)
			dispatch_added(dp, j);
	}
	job_free(j);
}

static void
on_event(void *arg, int64_t id, const json_t *ev)
{
	struct bk *bk = arg;
	struct dispatch *dp = bk->dp;
	const char *type = json_string_value(json_object_get(ev, "type"));
	struct active *a = find(dp, id);
	char why[600];
	struct job *j;

	if (type != NULL && strcmp(type, "foreign") == 0) {
		adopt_foreign(dp, bk, ev);
		return;
	}
	if (type != NULL && strcmp(type, "stray") == 0) {
		char err[256];

		if (a != NULL)
			return;	/* active: its placement is coming */
		log_warnx("job %" PRId64 ": not active but in %s as %s: "
		    "cancelling it there", id, bk->site, json_string_value(
		    json_object_get(ev, "ext_id")));
		if (bk->ops->cancel(bk->b, id, err, sizeof(err)) == -1)
			log_warnx("job %" PRId64 ": %s", id, err);
		return;
	}
	if (a == NULL || type == NULL) {
		log_debug("job %" PRId64 ": event for a job not running", id);
		return;
	}
	if (strcmp(type, "handed") == 0) {
		if (store_job_get(dp->d->store, id, &j) != 1)
			return;
		free(j->ext_id);
		j->ext_id = xstrdup(json_string_value(json_object_get(ev,
		    "ext_id")));
		/* Still planned, now in its cluster: an event of its own. */
		snprintf(why, sizeof(why), "in %s on %s as job %s",
		    bk->ops->title, j->site, j->ext_id);
		if (store_job_transition(dp->d->store, j, JOB_PLANNED,
		    ebb_now(), why) == -1)
			fatalx("store: %s", store_errmsg(dp->d->store));
		a->handed = 1;
		log_info("job %" PRId64 ": %s", id, why);
		job_free(j);
	} else if (strcmp(type, "rejected") == 0) {
		snprintf(why, sizeof(why), "%s refused the job: %s", bk->site,
		    json_string_value(json_object_get(ev, "reason")));
		record_end(dp, id, JOB_FAILED, why, NULL);
	} else if (strcmp(type, "ended") == 0) {
		const char *st = json_string_value(json_object_get(ev,
		    "state"));

		if (a->cancel_by != NULL)	/* before ebb-run could begin */
			snprintf(why, sizeof(why), "cancelled by %s while "
			    "running", a->cancel_by);
		else
			snprintf(why, sizeof(why), "%s", json_string_value(
			    json_object_get(ev, "reason")));
		record_end(dp, id, st && strcmp(st, "CANCELLED") == 0 ?
		    JOB_CANCELLED : JOB_FAILED, why, NULL);
	} else if (strcmp(type, "started") == 0) {
		if (store_job_get(dp->d->store, id, &j) != 1)
			return;
		j->start_time = json_integer_value(json_object_get(ev,
		    "start_time"));
		if (j->start_time == 0)
			j->start_time = ebb_now();
		a->start_time = j->start_time;
		if (a->state == JOB_PLANNED) {
			/* Its own scheduler started it. */
			snprintf(why, sizeof(why), "started by %s on %s "
			    "(job %s)", bk->ops->title, j->site, j->ext_id ?
			    j->ext_id : "?");
			if (store_job_transition(dp->d->store, j, JOB_RUNNING,
			    j->start_time, why) == -1)
				fatalx("store: %s", store_errmsg(dp->d->store));
			a->state = JOB_RUNNING;
			log_info("job %" PRId64 " running: %s", id, why);
			kick(dp);
		}
		if (dp->d->sampler != NULL && bk->ops->place == NULL) {
			char *cg = jobctl_cgroup(dp->instance, id);

			sampler_job_started(dp->d->sampler, id, cg, a->pj.cpus,
			    a->start_time);
			free(cg);
		}
		if (store_job_save(dp->d->store, j) == -1)
			fatalx("store: %s", store_errmsg(dp->d->store));
		job_free(j);
	} else if (strcmp(type, "finished") == 0) {
		on_finished(dp, a, ev);
	} else if (strcmp(type, "lost") == 0) {
		snprintf(why, sizeof(why), "supervisor lost: %s",
		    json_string_value(json_object_get(ev, "reason")));
		record_end(dp, id, JOB_FAILED, why, NULL);
	} else if (strcmp(type, "failed") == 0) {
		snprintf(why, sizeof(why), "launch failed: %s",
		    json_string_value(json_object_get(ev, "reason")));
		record_end(dp, id, JOB_FAILED, why, NULL);
	} else if (strcmp(type, "unstarted") == 0) {
		if (store_job_get(dp->d->store, id, &j) != 1)
			return;
		log_info("job %" PRId64 ": never started before the restart; "
		    "launching it now", id);
		queue_launch(dp, j);
		job_free(j);
	}
}

void
dispatch_after_commit(struct dispatch *dp)
{
	/* Launching may queue more work; take the list first. */
	struct launch *l = dp->launches;
	size_t n = dp->nlaunch;

	dp->launches = NULL;
	dp->nlaunch = dp->caplaunch = 0;
	for (size_t i = 0; i < n; i++) {
		char err[512];

		if (l[i].bk == NULL || (l[i].place ? l[i].bk->ops->place(
		    l[i].bk->b, l[i].spec, l[i].start, err, sizeof(err)) :
		    l[i].bk->ops->start(l[i].bk->b, l[i].spec, err,
		    sizeof(err))) == -1) {
			char why[600];

			/* The privileged process died with the request: it
			 * may or may not have started the supervisor. The
			 * job stays as it is; the next ebbd's adoption sees
			 * which, and launches it if it never started. */
			if (dp->d->priv_gone) {
				log_warnx("job %" PRId64 ": launch interrupted: "
				    "%s; left to the next start", l[i].id, err);
				json_decref(l[i].spec);
				continue;
			}

			snprintf(why, sizeof(why), "launch failed: %s",
			    l[i].bk ? err : "no backend");
			record_end(dp, l[i].id, JOB_FAILED, why, NULL);
		} else
			log_debug("job %" PRId64 ": %s", l[i].id, l[i].place ?
			    "handed to its site's scheduler" : "launched");
		json_decref(l[i].spec);
	}
	free(l);
	/* Their ledger rows are provisional already: a crash before this
	 * commits leaves them to the next settling. */
	for (size_t i = 0; i < dp->nsettle; i++) {
		struct job *j;
		char err[256];

		if (store_job_get(dp->d->store, dp->settle[i], &j) != 1)
			continue;
		if (ledger_settle(dp->d->store, dp->d->carbon, dp->d->cfg, j,
		    ebb_now(), dp->d->cfg->energy.final_after, err,
		    sizeof(err)) == -1)
			log_debug("job %" PRId64 ": ledger: %s", j->id, err);
		job_free(j);
	}
	dp->nsettle = 0;
}

int
dispatch_cancel(struct dispatch *dp, struct job *j, const char *by, char *err,
    size_t errlen)
{
	struct active *a = find(dp, j->id);
	char why[256];

	if (job_state_final(j->state) || a == NULL) {
		snprintf(err, errlen, "job %" PRId64 ": already %s", j->id,
		    job_state_name(j->state));
		return -1;
	}
	snprintf(why, sizeof(why), "cancelled by %s", by);
	for (size_t i = 0; i < dp->nlaunch; i++) {
		if (dp->launches[i].id == j->id) {
			json_decref(dp->launches[i].spec);
			dp->launches[i] = dp->launches[--dp->nlaunch];
			a->state = JOB_QUEUED;
			break;
		}
	}
	if (a->state != JOB_RUNNING) {
		struct bk *bk = backend_for(dp, j->site);

		/* Handed over (or about to be): take it back out of there. */
		if ((a->handed || a->placed) && bk != NULL &&
		    bk->ops->place != NULL && bk->ops->cancel(bk->b, j->id, err,
		    errlen) == -1)
			return -1;
		int site = a->held ? a->site : -1;

		j->end_time = ebb_now();
		if (store_job_transition(dp->d->store, j, JOB_CANCELLED,
		    j->end_time, why) == -1)
			fatalx("store: %s", store_errmsg(dp->d->store));
		forget(dp, j->id);
		/* Its room goes to the jobs due there; if none waits for
		 * room, every other plan holds and no pass is needed. */
		if ((site < 0 || start_freed(dp, site) == 0) &&
		    waiting_for_room(dp))
			kick(dp);
		return 0;
	}
	if (a->cancel_by == NULL) {
		struct bk *bk = backend_for(dp, j->site);

		if (bk == NULL || bk->ops->cancel(bk->b, j->id, err,
		    errlen) == -1)
			return -1;
		a->cancel_by = xstrdup(by);
	}
	return 0;
}

int
dispatch_open_log(struct dispatch *dp, const struct job *j,
    const char *stream, char *err, size_t errlen)
{
	struct bk *bk = backend_for(dp, j->site);
	json_t *spec;
	int fd;

	if (bk == NULL) {
		snprintf(err, errlen, "no log for this job");
		errno = ENOENT;
		return -1;
	}
	spec = make_spec(dp, j);
	fd = bk->ops->open_log(bk->b, spec, stream, err, errlen);
	json_decref(spec);
	return fd;
}

void
dispatch_replan(struct dispatch *dp)
{
	kick(dp);
}

json_t *
dispatch_site_status(struct dispatch *dp, const char *site)
{
	struct bk *bk = backend_for(dp, site);

	return bk != NULL && bk->ops->status != NULL ?
	    bk->ops->status(bk->b) : NULL;
}

size_t
dispatch_nrunning(const struct dispatch *dp)
{
	size_t n = 0;

	for (size_t i = 0; i < dp->nact; i++)
		n += dp->act[i].state == JOB_RUNNING;
	return n;
}

/*
 * Whether the job still waits where ebbd alone decides when it starts
 * (queued or planned, not handed to its site's own scheduler, no cancel
 * under way); else -1 with err saying why `what` cannot be done.
 */
static int
waiting_here(struct dispatch *dp, const struct job *j, const struct active *a,
    const char *what, char *err, size_t errlen)
{
	char t[32];

	if (a == NULL || job_state_final(j->state)) {
		snprintf(err, errlen, "job %" PRId64 ": already %s: cannot %s",
		    j->id, job_state_name(j->state), what);
		return -1;
	}
	if (a->state == JOB_RUNNING) {
		snprintf(err, errlen, "job %" PRId64 ": running since %s: "
		    "cannot %s", j->id, ebb_fmt_time(a->start_time ?
		    a->start_time : ebb_now(), t, sizeof(t)), what);
		return -1;
	}
	if (a->cancel_by != NULL) {
		snprintf(err, errlen, "job %" PRId64 ": being cancelled: "
		    "cannot %s", j->id, what);
		return -1;
	}
	if (a->handed || a->placed) {
		snprintf(err, errlen, "job %" PRId64 ": already in the "
		    "scheduler of site %s%s%s: cannot %s (change it there, or "
		    "cancel it)", j->id, j->site ? j->site : "?", j->ext_id ?
		    " as job " : "", j->ext_id ? j->ext_id : "", what);
		return -1;
	}
	return 0;
}

int
dispatch_hold(struct dispatch *dp, struct job *j, int hold, const char *by,
    char *err, size_t errlen)
{
	struct active *a = find(dp, j->id);
	char why[256];

	if (waiting_here(dp, j, a, hold ? "hold it" : "release it", err,
	    errlen) == -1)
		return -1;
	if (a->hold == hold) {
		snprintf(err, errlen, "job %" PRId64 ": %s", j->id, hold ?
		    "already held" : "not held");
		return -1;
	}
	snprintf(why, sizeof(why), "%s by %s", hold ? "held" : "released",
	    by);
	j->held = hold;
	if (hold) {
		/* Out of the plan: its room goes back, it starts nowhere. */
		cap_release(dp, a);
		free(j->site);
		j->site = NULL;
		j->planned_start = 0;
		a->site = -1;
		a->planned_start = 0;
	}
	if (store_job_transition(dp->d->store, j, JOB_QUEUED, ebb_now(),
	    why) == -1)
		fatalx("store: %s", store_errmsg(dp->d->store));
	a->state = JOB_QUEUED;
	a->hold = hold;
	a->why_set = 0;
	a->fresh = 0;
	log_info("job %" PRId64 " %s", j->id, why);
	kick(dp);
	return 0;
}

int
dispatch_update(struct dispatch *dp, struct job *j, const char *by,
    const char *what, char *err, size_t errlen)
{
	struct active *a = find(dp, j->id);
	const struct policy_rule *rule;
	char why[512];

	if (waiting_here(dp, j, a, "update it", err, errlen) == -1)
		return -1;
	/* The policy's caps bind an update as they bound the submit. */
	if ((rule = rule_named(dp, j->policy_applied)) != NULL &&
	    policy_apply(rule, j, ebb_now(), err, errlen) == -1)
		return -1;
	snprintf(why, sizeof(why), "updated by %s: %s", by, what);
	if (store_job_transition(dp->d->store, j, a->state, ebb_now(),
	    why) == -1)
		fatalx("store: %s", store_errmsg(dp->d->store));
	sched_plan_job(dp->d->cfg, j, rule, j->submit_time, &a->pj);
	a->why_set = 0;
	log_info("job %" PRId64 " %s", j->id, why);
	kick(dp);
	return 0;
}

int
dispatch_start_now(struct dispatch *dp, struct job *j, const char *by,
    char *err, size_t errlen)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct capmodel *m = &dp->cap;
	struct active *a = find(dp, j->id);
	int64_t now = ebb_now(), end, from, to;
	int site = -1, had;
	char why[256];

	if (waiting_here(dp, j, a, "start it now", err, errlen) == -1)
		return -1;
	/* Its own room is free for it; the room the plan gives every
	 * other job is not: starting this one makes no other one late. */
	had = a->held;
	from = a->held_from;
	to = a->held_to;
	cap_release(dp, a);
	end = now + a->pj.duration;
	for (int k = -1; k < (int)cfg->nsites && site < 0; k++) {
		/* its origin first, then the others in their order */
		int s = k < 0 ? a->pj.origin : k;

		if (s < 0 || (size_t)s >= cfg->nsites ||
		    !(a->pj.sites >> s & 1) || places(dp, s))
			continue;
		if (fits_now(dp, a, s) && cap_room(m, s, now, end, a->pj.cpus))
			site = s;
	}
	if (site < 0) {
		if (had) {
			cap_add(m, a->site, from, to, -a->pj.cpus);
			a->held = 1;
		}
		snprintf(err, errlen, "job %" PRId64 ": no site it may run on "
		    "has room for it now (its cpus and memory are taken, or "
		    "planned for other jobs); it stays %s", j->id,
		    a->hold ? "held" : job_state_name(a->state));
		return -1;
	}
	cap_add(m, site, now, end, -a->pj.cpus);
	a->held = m->ns != 0;
	a->held_from = now;
	a->held_to = end;
	snprintf(why, sizeof(why), "launching supervisor: started at once "
	    "by %s (ebb start-now), carbon ignored", by);
	free(j->site);
	j->site = xstrdup(cfg->sites[site].name);
	j->planned_start = now;
	j->held = 0;
	j->start_now = 1;
	if (store_job_transition(dp->d->store, j, JOB_RUNNING, now,
	    why) == -1)
		fatalx("store: %s", store_errmsg(dp->d->store));
	a->state = JOB_RUNNING;
	a->site = site;
	a->start_time = now;
	a->planned_start = now;
	a->hold = 0;
	a->fresh = 0;
	a->start_now = 1;
	a->pj.interruptible = 0;
	log_info("job %" PRId64 " on %s: %s", j->id, j->site, why);
	queue_launch(dp, j);
	kick(dp);
	return 0;
}

enum job_wait
dispatch_wait(struct dispatch *dp, const struct job *j)
{
	struct active *a = find(dp, j->id);
	int64_t now = ebb_now(), could;

	if (a == NULL || job_state_final(j->state))
		return JOB_WAIT_NONE;
	if (a->cancel_by != NULL)
		return JOB_WAIT_CANCELLING;
	if (a->state == JOB_RUNNING)
		return a->start_now ? JOB_WAIT_START_NOW : a->paused == 1 ?
		    JOB_WAIT_PAUSED : JOB_WAIT_NONE;
	if (a->hold)
		return JOB_WAIT_HELD;
	if (a->fresh || !a->why_set)
		return JOB_WAIT_PLANNING;
	if (a->state == JOB_QUEUED)	/* no room within the horizon */
		return a->handed ? JOB_WAIT_CLUSTER : JOB_WAIT_ROOM;
	if (a->why == PLAN_LATE)
		return JOB_WAIT_DEADLINE;
	could = a->pj.earliest > now ? a->pj.earliest : now;
	if (a->planned_start > could && at_earliest(a->why))
		return JOB_WAIT_ROOM;
	if (a->planned_start > could && a->why == PLAN_GREEN)
		return JOB_WAIT_GREEN;
	if ((a->handed || a->placed) && a->planned_start <= now)
		return JOB_WAIT_CLUSTER;
	/* Due, but a running job overran its estimate: not started yet. */
	if (a->planned_start <= now && a->site >= 0 &&
	    !fits_now(dp, a, a->site))
		return JOB_WAIT_ROOM;
	if (a->why == PLAN_NO_FORECAST)
		return JOB_WAIT_NO_DATA;
	return JOB_WAIT_DUE;
}
