/*
 * jobmeter: ebb-run's energy measurement of the node it runs on, split to
 * the job at its end (see jobmeter.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/attrib.h"
#include "runner/energy.h"
#include "runner/jobmeter.h"

struct interval {
	int64_t		 t0, t1;
	double		 node_j, dram_j, busy, secs;
};

struct jobmeter {
	struct energy_meter	*meter;
	char			*stat_path;
	int64_t			 slot, last, last_ns;
	uint64_t		 total, busy;	/* /proc/stat at the last sample */
	int			 ncpus, cpus;
	enum attrib_idle	 idle;
	struct interval		*iv;
	size_t			 n, cap;
};

static void
sample(struct jobmeter *m, int64_t now)
{
	struct energy_delta d;
	struct interval *iv;
	uint64_t total, busy;
	int64_t mono = ebb_mono_ns();
	char err[256];
	int ncpus;

	if (energy_meter_sample(m->meter, &d, err, sizeof(err)) == -1) {
		log_warnx("energy: %s", err);
		return;
	}
	if (energy_read_stat(m->stat_path, &total, &busy, &ncpus, err,
	    sizeof(err)) == -1) {
		total = m->total;
		busy = m->busy;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->iv = xrealloc(m->iv, m->cap * sizeof(*m->iv));
	}
	iv = &m->iv[m->n++];
	iv->t0 = m->last;
	iv->t1 = now > m->last ? now : m->last + 1;
	iv->node_j = d.node_j;
	iv->dram_j = d.psys_j > 0 ? 0 : d.dram_j;
	iv->secs = (double)(mono - m->last_ns) / 1e9;
	iv->busy = total > m->total && busy >= m->busy ?
	    (double)(busy - m->busy) / (double)(total - m->total) : 0;
	m->total = total;
	m->busy = busy;
	m->last = iv->t1;
	m->last_ns = mono;
}

struct jobmeter *
jobmeter_open(const json_t *settings, int cpus, int64_t now, char *err,
    size_t errlen)
{
	struct energy_config ec;
	struct energy_delta d;
	struct jobmeter *m;
	const char *procfs = json_string_value(json_object_get(settings,
	    "procfs_root"));
	const char *idle = json_string_value(json_object_get(settings,
	    "idle"));

	memset(&ec, 0, sizeof(ec));
	ec.powercap_root = json_string_value(json_object_get(settings,
	    "powercap_root"));
	ec.procfs_root = procfs;
	ec.idle_w = json_number_value(json_object_get(settings, "idle_w"));
	ec.max_w = json_number_value(json_object_get(settings, "max_w"));
	m = xcalloc(1, sizeof(*m));
	m->slot = json_integer_value(json_object_get(settings, "slot"));
	if (m->slot <= 0)
		m->slot = 300;
	m->cpus = cpus > 0 ? cpus : 1;
	m->idle = ATTRIB_IDLE_PROPORTIONAL;
	if (idle != NULL && attrib_idle_parse(idle, &m->idle) == -1) {
		snprintf(err, errlen, "energy.idle: unknown rule '%s'", idle);
		free(m);
		return NULL;
	}
	if ((m->meter = energy_open_best(&ec, err, errlen)) == NULL) {
		free(m);
		return NULL;
	}
	m->stat_path = xasprintf("%s/stat", procfs ? procfs : "/proc");
	if (energy_read_stat(m->stat_path, &m->total, &m->busy, &m->ncpus,
	    err, errlen) == -1)
		m->ncpus = 1;
	/* Primes the counters: the first sample gives no interval. */
	energy_meter_sample(m->meter, &d, err, errlen);
	m->last = now;
	m->last_ns = ebb_mono_ns();
	return m;
}

int64_t
jobmeter_next(const struct jobmeter *m, int64_t now)
{
	return (now / m->slot + 1) * m->slot - now;
}

void
jobmeter_tick(struct jobmeter *m, int64_t now)
{
	if (now / m->slot != m->last / m->slot)
		sample(m, now);
}

json_t *
jobmeter_finish(struct jobmeter *m, int64_t now, int64_t cpu_usec,
    const char **method)
{
	json_t *out = json_array();
	double wall = 0, cpu_s = cpu_usec > 0 ? (double)cpu_usec / 1e6 : 0;

	sample(m, now);
	*method = energy_meter_method(m->meter);
	for (size_t i = 0; i < m->n; i++)
		wall += m->iv[i].secs;
	for (size_t i = 0; i < m->n; i++) {
		const struct interval *iv = &m->iv[i];
		struct attrib_node node = {
			.energy_j = iv->node_j, .dram_j = iv->dram_j,
			.interval_s = iv->secs > 0 ? iv->secs : 1e-3,
			.busy_frac = iv->busy, .ncpus = m->ncpus,
			.idle = m->idle,
		};
		struct attrib_job job = { .reserved_cpus = m->cpus };
		double unattributed;
		char err[256];

		job.cpu_s = wall > 0 ? cpu_s * iv->secs / wall : 0;
		if (job.cpu_s > node.interval_s * m->ncpus)
			job.cpu_s = node.interval_s * m->ncpus;
		if (attrib_split(&node, &job, 1, &unattributed, err,
		    sizeof(err)) == -1) {
			log_warnx("energy attribution: %s", err);
			continue;
		}
		json_array_append_new(out, json_pack("[I, I, f]",
		    (json_int_t)iv->t0, (json_int_t)iv->t1, job.energy_j));
	}
	return out;
}

void
jobmeter_free(struct jobmeter *m)
{
	if (m == NULL)
		return;
	energy_meter_free(m->meter);
	free(m->stat_path);
	free(m->iv);
	free(m);
}
