/*
 * sampler: the energy sampling timer, attribution to jobs and ledger
 * intervals (see sampler.h). It measures; the ledger accounts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/cgroup.h"
#include "runner/energy.h"
#include "runner/attrib.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/daemon.h"
#include "scheduler/ledger.h"
#include "scheduler/sampler.h"
#include "scheduler/store.h"

struct tracked {
	int64_t		 id;
	char		*cgroup;
	int		 cpus;
	int64_t		 usec;		/* cgroup CPU time at the last sample */
	int		 known;		/* usec read at least once */
	int		 seen;		/* its cgroup read at least once */
	int		 gone;		/* its cgroup vanished; waited
					   for its result (no more) */
	double		 joules;	/* not yet in the ledger */
	int64_t		 since;		/* start of that energy, epoch s */
};

struct sampler {
	struct ebbd		*d;
	struct energy_meter	*meter;
	ev_timer		 tick;
	struct tracked		*jobs;
	size_t			 n, cap;
	uint64_t		 cpu_total, cpu_busy;	/* /proc/stat jiffies */
	int64_t			 last;		/* epoch s of the last sample */
	int64_t			 last_ns;	/* and its monotonic time */
	int64_t			 last_real_ns;	/* and its wall-clock time */
	double			 node_j;
	int			 ncpus;
	char			*state_path;	/* <state_dir>/energy.json */
	json_t			*saved;		/* what the last ebbd left */
	int			 restored;	/* looked at it already */
	/* The energy since the last split (more than one sample's while
	 * an interval is held for a job's result: sample()), J. */
	double			 pend_node_j, pend_dram_j;
	int			 pending;	/* any primed sample in it */
};

/*
 * How long a sample waits for the result of a job whose cgroup vanished
 * (it ended: ebb-run removed its group before ebbd heard), ns. Results
 * come within milliseconds; this bounds a group removed by someone else.
 */
#define HOLD_MAX_NS	(5 * 1000000000LL)

/* Busy fraction of the node since the last call, from /proc/stat. */
static double
busy_fraction(struct sampler *s)
{
	const char *root = s->d->cfg->energy.procfs_root;
	char *path = xasprintf("%s/stat", root ? root : "/proc");
	uint64_t total, busy, dt;
	double frac = 0;
	char err[256];
	int ncpus;

	if (energy_read_stat(path, &total, &busy, &ncpus, err,
	    sizeof(err)) == 0) {
		dt = total - s->cpu_total;
		if (s->cpu_total != 0 && dt > 0 && busy >= s->cpu_busy &&
		    busy - s->cpu_busy <= dt)
			frac = (double)(busy - s->cpu_busy) / (double)dt;
		s->cpu_total = total;
		s->cpu_busy = busy;
	}
	free(path);
	return frac;
}

/* Wall-clock time in ns: what survives a restart, unlike the monotonic. */
static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Leaves the counters, /proc/stat and each job's CPU time where a
 * restarted ebbd takes them up (sampler_job_started), so the time it was
 * down loses resolution, never energy. Not fsynced: a crash loses at most
 * one period, and the counters are cumulative.
 */
static void
save_state(struct sampler *s)
{
	struct energy_reading r[2 * ENERGY_MAX_ZONES];
	size_t n = energy_meter_save(s->meter, r, 2 * ENERGY_MAX_ZONES);
	json_t *doc, *zones = json_array(), *jobs = json_array();
	char *text, err[256];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(zones, json_pack("{s:s, s:i, s:I, s:I}",
		    "name", r[i].name, "domain", (int)r[i].domain, "uj",
		    (json_int_t)r[i].uj, "range", (json_int_t)r[i].range_uj));
	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].known)
			json_array_append_new(jobs, json_pack("{s:I, s:I, s:f, "
			    "s:I}", "id", (json_int_t)s->jobs[i].id, "usec",
			    (json_int_t)s->jobs[i].usec, "joules",
			    s->jobs[i].joules, "since",
			    (json_int_t)s->jobs[i].since));
	doc = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "time",
	    (json_int_t)s->last, "time_ns", (json_int_t)s->last_real_ns,
	    "cpu_total", (json_int_t)s->cpu_total,
	    "cpu_busy", (json_int_t)s->cpu_busy, "zones", zones, "jobs", jobs);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (fs_write_atomic(s->state_path, text, strlen(text), 0600, err,
	    sizeof(err)) == -1)
		log_debug("energy state: %s", err);
	free(text);
}

/* Whether a job the saved state lists is still running, by the store. */
static int
saved_running(struct sampler *s, const json_t *doc)
{
	struct job *j;
	json_t *sj;
	size_t i;
	int running = 0;

	json_array_foreach(json_object_get(doc, "jobs"), i, sj) {
		if (store_job_get(s->d->store, json_integer_value(
		    json_object_get(sj, "id")), &j) != 1)
			continue;
		running = j->state == JOB_RUNNING;
		job_free(j);
		if (running)
			break;
	}
	return running;
}

/* Takes up the counters the last ebbd left, if they fit; once. */
static void
restore_state(struct sampler *s)
{
	struct energy_reading r[2 * ENERGY_MAX_ZONES];
	json_t *z, *doc = s->saved;
	int64_t then, now = ebb_now();
	size_t i, n = 0;

	s->saved = NULL;
	if (doc == NULL || s->restored++) {
		json_decref(doc);
		return;
	}
	then = json_integer_value(json_object_get(doc, "time"));
	json_array_foreach(json_object_get(doc, "zones"), i, z) {
		if (n == 2 * ENERGY_MAX_ZONES)
			break;
		memset(&r[n], 0, sizeof(r[n]));
		snprintf(r[n].name, sizeof(r[n].name), "%s",
		    json_string_value(json_object_get(z, "name")) ?
		    json_string_value(json_object_get(z, "name")) : "");
		r[n].domain = (enum energy_domain)json_integer_value(
		    json_object_get(z, "domain"));
		r[n].uj = (uint64_t)json_integer_value(json_object_get(z, "uj"));
		r[n].range_uj = (uint64_t)json_integer_value(json_object_get(z,
		    "range"));
		n++;
	}
	/*
	 * Only while a job it lists still runs: the time since the last
	 * ebbd saved with no job running belonged to none, and the first
	 * sample after it would hand its energy (its idle share, by the
	 * proportional rule) to whichever job runs first.
	 */
	if (then > 0 && then <= now && now - then < 86400 && n > 0 &&
	    saved_running(s, doc) &&
	    energy_meter_restore(s->meter, r, n) == 0) {
		s->last = then;
		s->last_real_ns = json_integer_value(json_object_get(doc,
		    "time_ns"));
		s->last_ns = ebb_mono_ns() - (real_ns() - s->last_real_ns);
		/* A file without cpu_busy (older ebbd): start the busy
		 * fraction afresh rather than from a wrong base. */
		if (json_object_get(doc, "cpu_busy") != NULL) {
			s->cpu_total = (uint64_t)json_integer_value(
			    json_object_get(doc, "cpu_total"));
			s->cpu_busy = (uint64_t)json_integer_value(
			    json_object_get(doc, "cpu_busy"));
		}
		s->saved = doc;		/* its jobs' CPU times, for them */
		log_info("energy: counters taken up from %lld s ago",
		    (long long)(now - then));
		return;
	}
	json_decref(doc);
}

/*
 * What the last ebbd saved of a job: its CPU time then, and the energy it
 * had not yet handed to the ledger. 0, or -1 if it saved nothing of it.
 */
static int
saved_job(struct sampler *s, struct tracked *t)
{
	json_t *j;
	size_t i;

	json_array_foreach(json_object_get(s->saved, "jobs"), i, j) {
		if (json_integer_value(json_object_get(j, "id")) != t->id)
			continue;
		t->usec = json_integer_value(json_object_get(j, "usec"));
		t->joules = json_number_value(json_object_get(j, "joules"));
		t->since = json_integer_value(json_object_get(j, "since"));
		t->known = 1;
		return 0;
	}
	return -1;
}

/*
 * Hands a job's energy so far to the ledger. At its end (`last`) even
 * none if it has no ledger yet: a job that ran has a ledger row, if only
 * of the 0 J measured for it (re-adopted just before it ended, lost
 * before a sample reached it, or using no CPU under the proportional
 * idle rule).
 */
static void
flush(struct sampler *s, struct tracked *t, int64_t now, int last)
{
	struct store_ledger l;
	char err[256];

	if (t->joules <= 0 && (!last ||
	    store_ledger_get(s->d->store, t->id, &l) != 0)) {
		t->since = now;
		return;
	}
	/* The ledger counts whole seconds: a job of less keeps one. */
	if (now <= t->since)
		now = t->since + 1;
	if (ledger_record(s->d->store, t->id, t->since, now, t->joules,
	    energy_meter_method(s->meter), err, sizeof(err)) == -1)
		log_warnx("job %" PRId64 ": ledger: %s", t->id, err);
	t->joules = 0;
	t->since = now;
}

/*
 * Samples the meter and gives each job its share of the energy since the
 * last sample. A job that just ended (`ended`) has no cgroup any more: its
 * CPU time comes from its result (`ended_usec`). One whose cgroup vanished
 * has ended too, but ebbd has not heard yet: the interval is held back
 * (its energy kept for the next sample, which then spans both) until its
 * result brings its CPU time, so the end of a job is never split without
 * it. Nothing is saved while an interval is held, so a restart then takes
 * the counters up from before it.
 */
static void
sample(struct sampler *s, int64_t ended, int64_t ended_usec)
{
	struct energy_delta dl;
	struct attrib_node node;
	struct attrib_job *aj;
	int64_t now = ebb_now(), slot = s->d->cfg->slot;
	int64_t mono, *usage;
	double unattributed, busy;
	int hold = 0;
	char err[256];

	if (energy_meter_sample(s->meter, &dl, err, sizeof(err)) == -1) {
		log_warnx("energy: %s", err);
		return;
	}
	mono = ebb_mono_ns();
	if (dl.primed) {
		s->pend_node_j += dl.node_j;
		s->pend_dram_j += dl.psys_j > 0 ? 0 : dl.dram_j;
		s->pending = 1;
	}
	usage = xcalloc(s->n ? s->n : 1, sizeof(*usage));
	for (size_t i = 0; i < s->n; i++) {
		struct tracked *t = &s->jobs[i];

		if (t->id != ended && t->cgroup != NULL &&
		    cg_usage_by_name(t->cgroup, &usage[i]) == 0)
			continue;
		usage[i] = -1;
		/* Only a group that was there can have vanished: one that
		 * never was (no cgroups here) holds nothing. */
		if (t->id != ended && t->seen && !t->gone && ended < 0) {
			if (mono - s->last_ns < HOLD_MAX_NS) {
				log_debug("energy: job %" PRId64 "'s cgroup "
				    "is gone: interval held for its result",
				    t->id);
				hold = 1;
			} else
				t->gone = 1;
		}
	}
	if (hold) {
		free(usage);
		return;
	}
	busy = busy_fraction(s);
	aj = xcalloc(s->n ? s->n : 1, sizeof(*aj));
	for (size_t i = 0; i < s->n; i++) {
		struct tracked *t = &s->jobs[i];

		aj[i].reserved_cpus = t->cpus;
		if (t->id == ended && ended_usec >= 0) {
			double cap = (double)(mono - s->last_ns) / 1e9 *
			    t->cpus;

			/* Never sampled (a short job): all its CPU time is
			 * since it started, bounded by this interval. */
			aj[i].cpu_s = (double)(ended_usec - (t->known ?
			    t->usec : 0)) / 1e6;
			if (aj[i].cpu_s < 0)
				aj[i].cpu_s = 0;
			if (aj[i].cpu_s > cap)
				aj[i].cpu_s = cap;
		} else if (usage[i] >= 0) {
			if (t->known && usage[i] >= t->usec)
				aj[i].cpu_s = (double)(usage[i] - t->usec) /
				    1e6;
			t->usec = usage[i];
			t->known = t->seen = 1;
		}
	}
	free(usage);
	if (s->pending && mono > s->last_ns) {
		memset(&node, 0, sizeof(node));
		node.energy_j = s->pend_node_j;
		node.dram_j = s->pend_dram_j;
		node.interval_s = (double)(mono - s->last_ns) / 1e9;
		node.busy_frac = busy;
		node.ncpus = s->ncpus;
		node.idle = (enum attrib_idle)s->d->cfg->energy.idle;
		if (attrib_split(&node, aj, s->n, &unattributed, err,
		    sizeof(err)) == -1)
			log_warnx("energy attribution: %s", err);
		else {
			s->node_j += node.energy_j;
			for (size_t i = 0; i < s->n; i++) {
				s->jobs[i].joules += aj[i].energy_j;
				log_debug("energy: job %" PRId64 ": %.3f CPU "
				    "s in %.3f s of %.2f J (busy %.3f): "
				    "%.2f J", s->jobs[i].id, aj[i].cpu_s,
				    node.interval_s, node.energy_j, busy,
				    aj[i].energy_j);
			}
		}
	}
	s->pend_node_j = s->pend_dram_j = 0;
	s->pending = 0;
	free(aj);
	/* One ledger interval per planning slot. */
	if (ci_slot_floor(now, slot) != ci_slot_floor(s->last, slot))
		for (size_t i = 0; i < s->n; i++)
			flush(s, &s->jobs[i], now, 0);
	s->last = now;
	s->last_ns = mono;
	s->last_real_ns = real_ns();
	save_state(s);
	/* The re-adopted jobs have taken their saved CPU times by now. */
	json_decref(s->saved);
	s->saved = NULL;
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	sample(w->data, -1, -1);
}

struct sampler *
sampler_new(struct ebbd *d, char *err, size_t errlen)
{
	struct sampler *s = xcalloc(1, sizeof(*s));
	const struct ebb_energy *ec = &d->cfg->energy;
	struct energy_config c = {
		.powercap_root = ec->powercap_root,
		.procfs_root = ec->procfs_root,
		.idle_w = ec->idle_w,
		.max_w = ec->max_w,
	};
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	double period;

	s->d = d;
	s->ncpus = n > 0 ? (int)n : 1;
	s->state_path = xasprintf("%s/energy.json", d->cfg->state_dir);
	s->saved = fs_read_json(s->state_path, err, errlen);
	if ((s->meter = energy_open_best(&c, err, errlen)) == NULL) {
		free(s);
		return NULL;
	}
	if (energy_meter_note(s->meter)[0] != '\0')
		log_info("energy: %s", energy_meter_note(s->meter));
	log_info("energy measured by %s", energy_meter_method(s->meter));
	period = energy_sample_period(energy_meter_min_range_uj(s->meter), 0);
	ev_timer_init(&s->tick, on_tick, period, period);
	s->tick.data = s;
	return s;
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	ev_timer_stop(s->d->loop, &s->tick);
	for (size_t i = 0; i < s->n; i++)
		free(s->jobs[i].cgroup);
	free(s->jobs);
	energy_meter_free(s->meter);
	json_decref(s->saved);
	free(s->state_path);
	free(s);
}

void
sampler_job_started(struct sampler *s, int64_t id, const char *cgroup,
    int cpus, int64_t started)
{
	struct tracked *t;
	char err[256];
	struct energy_delta dl;

	for (size_t i = 0; i < s->n; i++)
		if (s->jobs[i].id == id)
			return;
	if (s->n == 0) {
		/* Take up where the last ebbd left off, else prime afresh. */
		restore_state(s);
		if (s->saved == NULL) {
			energy_meter_sample(s->meter, &dl, err, sizeof(err));
			busy_fraction(s);
			s->last = ebb_now();
			s->last_ns = ebb_mono_ns();
			s->last_real_ns = real_ns();
		}
		ev_timer_again(s->d->loop, &s->tick);
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->jobs = xrealloc(s->jobs, s->cap * sizeof(*s->jobs));
	}
	t = &s->jobs[s->n++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->cgroup = cgroup ? xstrdup(cgroup) : NULL;
	t->cpus = cpus;
	t->since = ebb_now();
	/*
	 * A job that just started has used no CPU before now: count from 0,
	 * so its first interval is not lost. One re-adopted after a restart
	 * counts from what its cgroup shows now.
	 */
	if (t->since - started <= 2) {
		t->known = 1;
		t->usec = 0;
	} else if (saved_job(s, t) == 0) {
		/* Re-adopted: it keeps what it had, and the time ebbd was
		 * down is counted at the next sample. */
	} else if (cgroup != NULL && cg_usage_by_name(cgroup, &t->usec) == 0)
		t->known = 1;
}

void
sampler_job_ended(struct sampler *s, int64_t id, int64_t cpu_usec)
{
	/* Its energy up to now, with the CPU time its supervisor measured. */
	sample(s, id, cpu_usec);
	for (size_t i = 0; i < s->n; i++) {
		if (s->jobs[i].id != id)
			continue;
		flush(s, &s->jobs[i], ebb_now(), 1);
		free(s->jobs[i].cgroup);
		s->jobs[i] = s->jobs[--s->n];
		break;
	}
	if (s->n == 0)
		ev_timer_stop(s->d->loop, &s->tick);
}

double
sampler_node_joules(const struct sampler *s)
{
	return s->node_j;
}

double
sampler_pending(const struct sampler *s, int64_t id)
{
	double j = 0;

	for (size_t i = 0; i < s->n; i++)
		if (id == -1 || s->jobs[i].id == id)
			j += s->jobs[i].joules;
	return j;
}

const char *
sampler_method(const struct sampler *s)
{
	return energy_meter_method(s->meter);
}
