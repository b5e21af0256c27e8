/*
 * ci: carbon-intensity points and batches, and the pure operations on them:
 * names of signals and kinds, sanitizing a provider's batch, resampling
 * points onto the planning grid and filling short gaps.
 *
 * Nothing here does I/O or reads the clock; where the points come from
 * (providers) and where they go (store, planner) is someone else's job.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/carbon/ci.h"

static const char *const signal_names[] = { "average", "marginal" };
static const char *const kind_names[] = { "actual", "forecast", "ebb" };

const char *
ci_signal_name(enum ci_signal s)
{
	return (unsigned)s < 2 ? signal_names[s] : "?";
}

int
ci_signal_parse(const char *s)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(s, signal_names[i]) == 0)
			return i;
	return -1;
}

const char *
ci_kind_name(enum ci_kind k)
{
	return (unsigned)k < 3 ? kind_names[k] : "?";
}

int
ci_kind_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

void
ci_batch_init(struct ci_batch *b, const char *zone, enum ci_signal signal,
    const char *source)
{
	memset(b, 0, sizeof(*b));
	b->zone = zone != NULL ? xstrdup(zone) : NULL;
	b->signal = signal;
	b->source = source != NULL ? xstrdup(source) : NULL;
}

void
ci_batch_add(struct ci_batch *b, int64_t t, double value, enum ci_kind kind,
    int64_t vintage, unsigned flags)
{
	struct ci_point *p;

	if (b->n == b->cap) {
		b->cap = b->cap != 0 ? b->cap * 2 : 64;
		b->pts = xrealloc(b->pts, b->cap * sizeof(*b->pts));
	}
	p = &b->pts[b->n++];
	p->t = t;
	p->value = value;
	p->vintage = vintage;
	p->kind = (uint8_t)kind;
	p->flags = (uint8_t)flags;
}

void
ci_batch_free(struct ci_batch *b)
{
	free(b->zone);
	free(b->source);
	free(b->pts);
	memset(b, 0, sizeof(*b));
}

void
ci_sanitize(struct ci_batch *b, struct ci_rejects *rej)
{
	int64_t last[UINT8_MAX + 1];
	uint8_t seen[UINT8_MAX + 1] = { 0 };
	size_t kept = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct ci_point *p = &b->pts[i];

		if (!isfinite(p->value)) {
			rej->not_finite++;
			continue;
		}
		if (p->value < 0) {
			rej->negative++;
			continue;
		}
		if (p->value > CI_MAX_VALUE) {
			rej->too_high++;
			continue;
		}
		if (seen[p->kind] && p->t == last[p->kind]) {
			rej->duplicate++;
			continue;
		}
		if (seen[p->kind] && p->t < last[p->kind]) {
			rej->out_of_order++;
			continue;
		}
		seen[p->kind] = 1;
		last[p->kind] = p->t;
		b->pts[kept++] = *p;
	}
	b->n = kept;
}

size_t
ci_resample(const struct ci_point *pts, size_t n, int64_t hold, int64_t t0,
    int64_t t1, int64_t slot, double *out)
{
	size_t nslots;
	double *w;

	if (slot <= 0 || t1 <= t0)
		return 0;
	nslots = (size_t)((t1 - t0) / slot);
	if (nslots == 0)
		return 0;
	w = xcalloc(nslots, sizeof(*w));
	for (size_t j = 0; j < nslots; j++)
		out[j] = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t a = pts[i].t;
		int64_t b = a + hold;
		int64_t end = t0 + (int64_t)nslots * slot;

		if (i + 1 < n && pts[i + 1].t < b)
			b = pts[i + 1].t;
		if (a < t0)
			a = t0;
		if (b > end)
			b = end;
		while (a < b) {
			size_t j = (size_t)((a - t0) / slot);
			int64_t send = t0 + (int64_t)(j + 1) * slot;
			int64_t e = b < send ? b : send;

			out[j] += pts[i].value * (double)(e - a);
			w[j] += (double)(e - a);
			a = e;
		}
	}
	for (size_t j = 0; j < nslots; j++)
		out[j] = w[j] > 0 ? out[j] / w[j] : NAN;
	free(w);
	return nslots;
}

size_t
ci_fill_gaps(double *v, size_t n, size_t max_gap, uint8_t *filled)
{
	size_t count = 0, i = 0;

	while (i < n) {
		size_t start, end;

		if (!isnan(v[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < n && isnan(v[i]))
			i++;
		end = i;	/* first known slot after the run, or n */
		if (start == 0 || end == n || end - start > max_gap)
			continue;
		for (size_t k = start; k < end; k++) {
			double f = (double)(k - start + 1) /
			    (double)(end - start + 1);

			v[k] = v[start - 1] + (v[end] - v[start - 1]) * f;
			if (filled != NULL)
				filled[k] = 1;
			count++;
		}
	}
	return count;
}

int64_t
ci_slot_floor(int64_t t, int64_t slot)
{
	return t - ((t % slot) + slot) % slot;
}

int64_t
ci_native_step(const struct ci_point *pts, size_t n)
{
	int64_t best = 3600;

	for (size_t i = 1; i < n && i < 64; i++) {
		int64_t d = pts[i].t - pts[i - 1].t;

		if (d > 0 && d < best)
			best = d;
	}
	return best;
}
