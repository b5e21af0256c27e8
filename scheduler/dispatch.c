/*
 * dispatch: the active-job index, planning passes, launches and backend
 * events. It decides nothing about where or when (that is the planner) and
 * runs nothing itself (that is the backend and ebb-run).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/backend.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/planner.h"
#include "scheduler/store.h"

#define MAX_SITES	64

struct active {
	int64_t		 id;
	int		 cpus;
	int64_t		 mem;
	int64_t		 submit_time;
	int64_t		 latest_start;
	uint64_t	 sites;		/* allowed sites, as a mask */
	int		 site;		/* where it runs, -1 if not running */
	enum job_state	 state;
	char		*cancel_by;	/* set once a cancel was asked for */
};

struct bk {
	const struct backend_ops *ops;
	struct backend	*b;
};

struct launch {
	int64_t		 id;
	json_t		*spec;
	struct bk	*bk;
};

struct dispatch {
	struct ebbd	*d;
	struct active	*act;		/* sorted by id */
	size_t		 nact, capact;
	struct bk	*bks;
	size_t		 nbks;
	struct launch	*launches;
	size_t		 nlaunch, caplaunch;
	int		 dirty;
	char		 instance[17];
};

static void on_event(void *, int64_t, const json_t *);

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
	free(a->cancel_by);
	memmove(a, a + 1, (size_t)(dp->act + dp->nact - (a + 1)) * sizeof(*a));
	dp->nact--;
	dp->dirty = 1;
}

static int
site_index(const struct ebb_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsites && i < MAX_SITES; i++)
		if (strcmp(cfg->sites[i].name, name) == 0)
			return (int)i;
	return -1;
}

static uint64_t
site_mask(const struct ebb_config *cfg, const json_t *sites)
{
	uint64_t m = 0;
	size_t i;
	json_t *v;
	int s;

	if (json_array_size(sites) == 0)
		return cfg->nsites >= MAX_SITES ? UINT64_MAX :
		    (UINT64_C(1) << cfg->nsites) - 1;
	json_array_foreach(sites, i, v)
		if ((s = site_index(cfg, json_string_value(v))) >= 0)
			m |= UINT64_C(1) << s;
	return m;
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
	a->cpus = j->cpus;
	a->mem = j->mem;
	a->submit_time = j->submit_time;
	a->latest_start = job_latest_start(j);
	a->sites = site_mask(dp->d->cfg, j->sites);
	a->site = j->site ? site_index(dp->d->cfg, j->site) : -1;
	a->state = j->state;
	dp->dirty = 1;
}

static struct bk *
backend_for(struct dispatch *dp, const char *site)
{
	const struct ebb_site *s = site ? config_site(dp->d->cfg, site) : NULL;
	const char *name = s ? s->backend : "local";

	for (size_t i = 0; i < dp->nbks; i++)
		if (strcmp(dp->bks[i].ops->name, name) == 0)
			return &dp->bks[i];
	return dp->nbks ? &dp->bks[0] : NULL;
}

static int
open_backends(struct dispatch *dp, char *err, size_t errlen)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct backend_conf bc = {
		.state_dir = cfg->state_dir,
		.runner_path = dp->d->runner_path,
		.instance = dp->instance,
	};

	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct backend_ops *ops = backend_lookup(
		    cfg->sites[i].backend);
		size_t k;

		if (ops == NULL) {
			snprintf(err, errlen, "site %s: unknown backend '%s'",
			    cfg->sites[i].name, cfg->sites[i].backend);
			return -1;
		}
		for (k = 0; k < dp->nbks; k++)
			if (dp->bks[k].ops == ops)
				break;
		if (k < dp->nbks)
			continue;
		dp->bks = xrealloc(dp->bks, (dp->nbks + 1) * sizeof(*dp->bks));
		dp->bks[dp->nbks].ops = ops;
		dp->bks[dp->nbks].b = ops->open(dp->d->loop, &bc, on_event, dp,
		    err, errlen);
		if (dp->bks[dp->nbks].b == NULL)
			return -1;
		dp->nbks++;
	}
	return 0;
}

struct dispatch *
dispatch_new(struct ebbd *d, char *err, size_t errlen)
{
	struct dispatch *dp = xcalloc(1, sizeof(*dp));
	uint64_t h = 1469598103934665603ULL;

	/* FNV-1a of the state dir names this daemon's cgroups. */
	for (const char *p = d->cfg->state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(dp->instance, sizeof(dp->instance), "%08" PRIx32,
	    (uint32_t)(h ^ (h >> 32)));
	dp->d = d;
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
	for (size_t i = 0; i < dp->nbks; i++)
		if (dp->bks[i].b != NULL)
			dp->bks[i].ops->close(dp->bks[i].b);
	for (size_t i = 0; i < dp->nlaunch; i++)
		json_decref(dp->launches[i].spec);
	for (size_t i = 0; i < dp->nact; i++)
		free(dp->act[i].cancel_by);
	free(dp->launches);
	free(dp->bks);
	free(dp->act);
	free(dp);
}

static int
index_cb(void *arg, const struct job *j)
{
	index_job(arg, j);
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
	if (load_active(dp, err, errlen) == -1)
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
	if (open_backends(dp, err, errlen) == -1)
		return -1;
	return load_active(dp, err, errlen);
}

int
dispatch_admit(struct dispatch *dp, const struct job *j, char *err,
    size_t errlen)
{
	const struct ebb_config *cfg = dp->d->cfg;
	int best = 0;
	int64_t bestmem = 0;
	size_t i;
	json_t *v;

	json_array_foreach(j->sites, i, v) {
		if (site_index(cfg, json_string_value(v)) < 0) {
			snprintf(err, errlen, "sites: unknown site '%s'",
			    json_string_value(v));
			return -1;
		}
	}
	for (size_t s = 0; s < cfg->nsites; s++) {
		if (!(site_mask(cfg, j->sites) & (UINT64_C(1) << s)))
			continue;
		if (cfg->sites[s].cpus > best)
			best = cfg->sites[s].cpus;
		if (cfg->sites[s].memory > bestmem)
			bestmem = cfg->sites[s].memory;
	}
	if (j->cpus > best) {
		snprintf(err, errlen, "cpus: %d is more than any allowed site "
		    "has (%d)", j->cpus, best);
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
	index_job(dp, j);
}

static json_t *
make_spec(struct dispatch *dp, const struct job *j)
{
	char *cg = xasprintf("ebb/%s/job-%" PRId64, dp->instance, j->id);
	json_t *spec = json_pack("{s:I, s:O, s:O, s:s, s:I, s:I, s:s, s:i, "
	    "s:I, s:s, s:I}", "job_id", (json_int_t)j->id, "argv", j->argv,
	    "env", j->env, "workdir", j->workdir, "uid", (json_int_t)j->uid,
	    "gid", (json_int_t)j->gid, "user", j->user ? j->user : "",
	    "cpus", j->cpus, "mem", (json_int_t)j->mem, "cgroup", cg,
	    "kill_grace", (json_int_t)dp->d->cfg->kill_grace);

	free(cg);
	return spec;
}

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
}

/* Moves one planned start into the store and the launch list. */
static void
start_job(struct dispatch *dp, const struct plan_start *ps, int64_t now)
{
	const struct ebb_site *site = &dp->d->cfg->sites[ps->site];
	struct active *a = find(dp, ps->job_id);
	struct job *j;
	char why[256];

	if (a == NULL || store_job_get(dp->d->store, ps->job_id, &j) != 1)
		return;
	free(j->site);
	j->site = xstrdup(site->name);
	j->planned_start = ps->start;
	snprintf(why, sizeof(why), "capacity free on %s: %d cpus asked",
	    site->name, j->cpus);
	if (store_job_transition(dp->d->store, j, JOB_PLANNED, now, why) == -1 ||
	    store_job_transition(dp->d->store, j, JOB_RUNNING, now,
	    "launching supervisor") == -1)
		fatalx("store: %s", store_errmsg(dp->d->store));
	a->state = JOB_RUNNING;
	a->site = ps->site;
	queue_launch(dp, j);
	job_free(j);
}

void
dispatch_before_commit(struct dispatch *dp)
{
	const struct ebb_config *cfg = dp->d->cfg;
	struct plan_site sites[MAX_SITES];
	struct plan_job *pj;
	struct plan_start *out;
	size_t n = 0, nstart;
	int64_t now = ebb_now();

	if (!dp->dirty)
		return;
	dp->dirty = 0;
	for (size_t s = 0; s < cfg->nsites; s++) {
		sites[s].cpus_free = sites[s].cpus_total = cfg->sites[s].cpus;
		sites[s].mem_free = sites[s].mem_total = cfg->sites[s].memory;
	}
	for (size_t i = 0; i < dp->nact; i++) {
		const struct active *a = &dp->act[i];

		if (a->state == JOB_RUNNING && a->site >= 0 &&
		    (size_t)a->site < cfg->nsites) {
			sites[a->site].cpus_free -= a->cpus;
			sites[a->site].mem_free -= a->mem;
		}
	}
	for (n = 0; n < cfg->nsites && sites[n].cpus_free <= 0; n++)
		;
	if (n == cfg->nsites)
		return;		/* every site is full: nothing can start */
	n = 0;
	pj = xmalloc((dp->nact ? dp->nact : 1) * sizeof(*pj));
	for (size_t i = 0; i < dp->nact; i++) {
		const struct active *a = &dp->act[i];

		if (a->state == JOB_RUNNING)
			continue;
		pj[n].id = a->id;
		pj[n].cpus = a->cpus;
		pj[n].mem = a->mem;
		pj[n].submit_time = a->submit_time;
		pj[n].latest_start = a->latest_start;
		pj[n].sites = a->sites;
		n++;
	}
	out = xmalloc((n ? n : 1) * sizeof(*out));
	nstart = plan_compute(pj, n, sites, cfg->nsites, now, out);
	for (size_t i = 0; i < nstart; i++)
		start_job(dp, &out[i], now);
	free(out);
	free(pj);
}

static void
record_end(struct dispatch *dp, int64_t id, enum job_state to,
    const char *why, const json_t *res)
{
	struct job *j;

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
	job_free(j);
done:
	forget(dp, id);
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

static void
on_event(void *arg, int64_t id, const json_t *ev)
{
	struct dispatch *dp = arg;
	const char *type = json_string_value(json_object_get(ev, "type"));
	struct active *a = find(dp, id);
	struct job *j;

	if (a == NULL || type == NULL) {
		log_debug("job %" PRId64 ": event for a job not running", id);
		return;
	}
	if (strcmp(type, "started") == 0) {
		if (store_job_get(dp->d->store, id, &j) != 1)
			return;
		j->start_time = json_integer_value(json_object_get(ev,
		    "start_time"));
		if (j->start_time == 0)
			j->start_time = ebb_now();
		if (store_job_save(dp->d->store, j) == -1)
			fatalx("store: %s", store_errmsg(dp->d->store));
		job_free(j);
	} else if (strcmp(type, "finished") == 0) {
		on_finished(dp, a, ev);
	} else if (strcmp(type, "lost") == 0) {
		char why[512];

		snprintf(why, sizeof(why), "supervisor lost: %s",
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

		if (l[i].bk == NULL || l[i].bk->ops->start(l[i].bk->b,
		    l[i].spec, err, sizeof(err)) == -1) {
			char why[600];

			snprintf(why, sizeof(why), "launch failed: %s",
			    l[i].bk ? err : "no backend");
			record_end(dp, l[i].id, JOB_FAILED, why, NULL);
		}
		json_decref(l[i].spec);
	}
	free(l);
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
		j->end_time = ebb_now();
		if (store_job_transition(dp->d->store, j, JOB_CANCELLED,
		    j->end_time, why) == -1)
			fatalx("store: %s", store_errmsg(dp->d->store));
		forget(dp, j->id);
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

char *
dispatch_log_path(struct dispatch *dp, const struct job *j, const char *stream)
{
	struct bk *bk = backend_for(dp, j->site);

	return bk ? bk->ops->log_path(bk->b, j->id, stream) : NULL;
}

size_t
dispatch_nrunning(const struct dispatch *dp)
{
	size_t n = 0;

	for (size_t i = 0; i < dp->nact; i++)
		n += dp->act[i].state == JOB_RUNNING;
	return n;
}
