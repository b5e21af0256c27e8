/*
 * energy: the meter that turns energy sources' cumulative counters into
 * per-zone, wrap-safe deltas, and the choice of the best source here.
 *
 * It keeps the last reading of every zone (each zone wraps on its own
 * schedule) and sums only deltas. It does not read any file itself: the
 * sources in energy_rapl.c, energy_nvml.c and energy_model.c do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "runner/energy.h"

struct energy_src {
	const struct energy_ops	*ops;
	void			*h;
	size_t			 n;	/* zones in prev */
	struct energy_reading	 prev[ENERGY_MAX_ZONES];
};

struct energy_meter {
	struct energy_src	 src[2];	/* CPU side, then GPU */
	size_t			 nsrc;
	int			 primed;
	const char		*method;
	char			 note[512];
};

uint64_t
energy_delta_uj(uint64_t prev, uint64_t cur, uint64_t range_uj)
{
	if (cur >= prev)
		return cur - prev;
	if (range_uj == 0 || prev > range_uj)
		return 0;
	/* One wrap; the true modulus is range + 1 unit, an error of one ESU. */
	return (range_uj - prev) + cur;
}

double
energy_sample_period(uint64_t range_uj, double max_w)
{
	double p;

	if (max_w <= 0)
		max_w = ENERGY_MAX_ZONE_W;
	if (range_uj == 0)
		return ENERGY_PERIOD_DEFAULT;
	/* At max_w the counter covers its range in this many seconds. */
	p = (double)range_uj / 1e6 / max_w;
	return p < ENERGY_PERIOD_DEFAULT ? p : ENERGY_PERIOD_DEFAULT;
}

static int
src_open(struct energy_src *s, const struct energy_ops *ops,
    const struct energy_config *cfg, int *present, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->h = ops->open(cfg, present, err, errlen);
	return s->h == NULL ? -1 : 0;
}

static struct energy_meter *
meter_new(void)
{
	struct energy_meter *m = xcalloc(1, sizeof(*m));

	m->method = "rapl";
	return m;
}

struct energy_meter *
energy_meter_open(const struct energy_ops *cpu, const struct energy_ops *gpu,
    const struct energy_config *cfg, char *err, size_t errlen)
{
	struct energy_meter *m = meter_new();
	int present;

	if (src_open(&m->src[0], cpu, cfg, &present, err, errlen) == -1) {
		free(m);
		return NULL;
	}
	m->nsrc = 1;
	m->method = cpu->name;
	if (gpu != NULL) {
		if (src_open(&m->src[1], gpu, cfg, &present, err,
		    errlen) == -1) {
			energy_meter_free(m);
			return NULL;
		}
		m->nsrc = 2;
	}
	return m;
}

static void
note_add(struct energy_meter *m, const char *src, const char *why)
{
	size_t len = strlen(m->note);

	snprintf(m->note + len, sizeof(m->note) - len, "%s%s: %s",
	    len > 0 ? "; " : "", src, why);
}

struct energy_meter *
energy_open_best(const struct energy_config *cfg, char *err, size_t errlen)
{
	struct energy_meter *m = meter_new();
	char why[256];
	int present = 0, unused;

	if (src_open(&m->src[0], &energy_rapl_ops, cfg, &present, why,
	    sizeof(why)) == 0)
		m->method = "rapl";
	else {
		note_add(m, "rapl", why);
		if (src_open(&m->src[0], &energy_model_ops, cfg, &unused, err,
		    errlen) == -1) {
			free(m);
			return NULL;
		}
		m->method = present ? "rapl-unreadable->model" : "model";
	}
	m->nsrc = 1;
	if (src_open(&m->src[1], &energy_nvml_ops, cfg, &unused, why,
	    sizeof(why)) == 0)
		m->nsrc = 2;
	else
		note_add(m, "nvml", why);
	return m;
}

/* Reads every zone of s into cur; the zones must be the ones it had. */
static int
src_read(struct energy_src *s, struct energy_reading *cur, size_t *n,
    int primed, char *err, size_t errlen)
{
	if (s->ops->read(s->h, cur, ENERGY_MAX_ZONES, n, err, errlen) == -1)
		return -1;
	if (!primed)
		return 0;
	if (*n != s->n) {
		snprintf(err, errlen, "%s: zones changed (%zu, were %zu)",
		    s->ops->name, *n, s->n);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp(cur[i].name, s->prev[i].name) != 0) {
			snprintf(err, errlen, "%s: zone %s became %s",
			    s->ops->name, s->prev[i].name, cur[i].name);
			return -1;
		}
	return 0;
}

static void
add_zone(struct energy_delta *out, const struct energy_reading *prev,
    const struct energy_reading *cur)
{
	struct energy_zone_delta *z;
	uint64_t d;

	if (out->nzones == ENERGY_MAX_ZONES)
		return;
	z = &out->zone[out->nzones++];
	memcpy(z->name, cur->name, sizeof(z->name));	/* same size */
	z->name[sizeof(z->name) - 1] = '\0';
	z->domain = cur->domain;
	d = energy_delta_uj(prev->uj, cur->uj, cur->range_uj);
	z->dropped = cur->uj < prev->uj && d == 0;
	z->j = (double)d / 1e6;
	switch (z->domain) {
	case ENERGY_PACKAGE:
		out->package_j += z->j;
		break;
	case ENERGY_DRAM:
		out->dram_j += z->j;
		break;
	case ENERGY_PSYS:
		out->psys_j += z->j;
		break;
	case ENERGY_GPU:
		out->gpu_j += z->j;
		break;
	case ENERGY_MODEL:
		out->model_j += z->j;
		break;
	}
}

int
energy_meter_sample(struct energy_meter *m, struct energy_delta *out,
    char *err, size_t errlen)
{
	struct energy_reading cur[2][ENERGY_MAX_ZONES];
	size_t n[2];
	int has_psys = 0;

	memset(out, 0, sizeof(*out));
	out->method = m->method;
	out->rel_uncertainty = m->src[0].ops->rel_uncertainty;
	for (size_t s = 0; s < m->nsrc; s++)
		if (src_read(&m->src[s], cur[s], &n[s], m->primed, err,
		    errlen) == -1) {
			m->primed = 0;
			return -1;
		}
	for (size_t s = 0; s < m->nsrc; s++) {
		for (size_t i = 0; m->primed && i < n[s]; i++)
			add_zone(out, &m->src[s].prev[i], &cur[s][i]);
		for (size_t i = 0; i < n[s]; i++)
			has_psys |= cur[s][i].domain == ENERGY_PSYS;
		memcpy(m->src[s].prev, cur[s], n[s] * sizeof(cur[s][0]));
		m->src[s].n = n[s];
	}
	out->primed = m->primed;
	m->primed = 1;
	if (has_psys)
		out->node_j = out->psys_j;
	else
		out->node_j = out->package_j + out->dram_j + out->model_j;
	return 0;
}

const char *
energy_meter_note(const struct energy_meter *m)
{
	return m->note;
}

const char *
energy_meter_method(const struct energy_meter *m)
{
	return m->method;
}

uint64_t
energy_meter_min_range_uj(const struct energy_meter *m)
{
	uint64_t min = 0;

	for (size_t s = 0; s < m->nsrc; s++)
		for (size_t i = 0; i < m->src[s].n; i++) {
			uint64_t r = m->src[s].prev[i].range_uj;

			if (r != 0 && (min == 0 || r < min))
				min = r;
		}
	return min;
}

void
energy_meter_free(struct energy_meter *m)
{
	if (m == NULL)
		return;
	for (size_t s = 0; s < m->nsrc; s++)
		m->src[s].ops->close(m->src[s].h);
	free(m);
}

size_t
energy_meter_save(const struct energy_meter *m, struct energy_reading *out,
    size_t max)
{
	size_t n = 0;

	if (!m->primed)
		return 0;
	for (size_t s = 0; s < m->nsrc; s++)
		for (size_t i = 0; i < m->src[s].n && n < max; i++)
			out[n++] = m->src[s].prev[i];
	return n;
}

int
energy_meter_restore(struct energy_meter *m, const struct energy_reading *in,
    size_t n)
{
	struct energy_reading cur[2][ENERGY_MAX_ZONES];
	size_t cn[2], k = 0;
	char err[256];

	for (size_t s = 0; s < m->nsrc; s++)
		if (m->src[s].ops->read(m->src[s].h, cur[s], ENERGY_MAX_ZONES,
		    &cn[s], err, sizeof(err)) == -1)
			return -1;
	for (size_t s = 0; s < m->nsrc; s++)
		for (size_t i = 0; i < cn[s]; i++, k++)
			if (k >= n || strcmp(in[k].name, cur[s][i].name) != 0)
				return -1;
	if (k != n)
		return -1;
	k = 0;
	for (size_t s = 0; s < m->nsrc; s++) {
		memcpy(m->src[s].prev, in + k, cn[s] * sizeof(in[0]));
		m->src[s].n = cn[s];
		k += cn[s];
	}
	m->primed = 1;
	return 0;
}
