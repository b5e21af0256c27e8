/*
 * ci: carbon-intensity points and batches, and the pure operations on them:
 * names of signals and kinds, sanitizing a provider's batch (plausibility
 * bounds per signal, unit mistakes, actuals from the future, order) and
 * describing what it refused, resampling points onto the planning grid
 * and filling short gaps.
 *
 * Nothing here does I/O or reads the clock (callers pass `now`); where the
 * points come from (providers) and where they go (store, planner) is
 * someone else's job.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/timefmt.h"
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

double
ci_max_value(enum ci_signal s)
{
	return s == CI_MARGINAL ? CI_MAX_MARGINAL : CI_MAX_AVERAGE;
}

static void
reject(struct ci_rejects *rej, const struct ci_point *p, enum ci_reject why)
{
	rej->n[why]++;
	if (rej->nshown < CI_REJ_SHOWN) {
		rej->shown[rej->nshown].p = *p;
		rej->shown[rej->nshown++].why = why;
	}
}

/* Why p alone is implausible, or CI_REJ_N if it is not. */
static enum ci_reject
implausible(const struct ci_point *p, enum ci_signal signal, int64_t now)
{
	if (!isfinite(p->value))
		return CI_REJ_NOT_FINITE;
	if (p->value < CI_MIN)
		return CI_REJ_NEGATIVE;
	if (p->value > ci_max_value(signal))
		return CI_REJ_TOO_HIGH;
	if (p->kind == CI_ACTUAL && p->t > now + CI_FUTURE_SLACK)
		return CI_REJ_FUTURE;
	return CI_REJ_N;
}

void
ci_sanitize(struct ci_batch *b, int64_t now, struct ci_rejects *rej)
{
	int64_t last[UINT8_MAX + 1];
	uint8_t seen[UINT8_MAX + 1] = { 0 };
	double max[UINT8_MAX + 1] = { 0 };
	size_t kept = 0, n;
	enum ci_reject why;

	for (size_t i = 0; i < b->n; i++) {
		const struct ci_point *p = &b->pts[i];

		if ((why = implausible(p, b->signal, now)) != CI_REJ_N) {
			reject(rej, p, why);
			continue;
		}
		if (seen[p->kind] && p->t == last[p->kind]) {
			reject(rej, p, CI_REJ_DUPLICATE);
			continue;
		}
		if (seen[p->kind] && p->t < last[p->kind]) {
			reject(rej, p, CI_REJ_OUT_OF_ORDER);
			continue;
		}
		seen[p->kind] = 1;
		last[p->kind] = p->t;
		if (p->value > max[p->kind])
			max[p->kind] = p->value;
		b->pts[kept++] = *p;
	}
	/* A kind whose values are all tiny but not all 0 is in kg/kWh. */
	for (size_t i = n = 0; i < kept; i++) {
		const struct ci_point *p = &b->pts[i];

		if (max[p->kind] > 0 && max[p->kind] < CI_UNIT_FLOOR)
			reject(rej, p, CI_REJ_UNIT);
		else
			b->pts[n++] = *p;
	}
	b->n = n;
}

size_t
ci_rejects_total(const struct ci_rejects *rej)
{
	size_t n = 0;

	for (int i = 0; i < CI_REJ_N; i++)
		n += rej->n[i];
	return n;
}

char *
ci_rejects_format(const struct ci_rejects *rej, enum ci_signal signal)
{
	static const char *const names[CI_REJ_N] = {
		[CI_REJ_NOT_FINITE] = "not finite",
		[CI_REJ_NEGATIVE] = "negative",
		[CI_REJ_TOO_HIGH] = "above %.0f g/kWh",
		[CI_REJ_FUTURE] = "actual in the future",
		[CI_REJ_DUPLICATE] = "duplicated",
		[CI_REJ_OUT_OF_ORDER] = "out of order",
		[CI_REJ_UNIT] = "in a series below %.0f g/kWh (kg/kWh?)",
	};
	double bound[CI_REJ_N] = { [CI_REJ_TOO_HIGH] = ci_max_value(signal),
	    [CI_REJ_UNIT] = CI_UNIT_FLOOR };
	struct strbuf out = STRBUF_INIT;
	char t[32];

	for (int i = 0; i < CI_REJ_N; i++) {
		if (rej->n[i] == 0)
			continue;
		strbuf_addf(&out, "%s%zu ", out.len ? ", " : "", rej->n[i]);
		strbuf_addf(&out, names[i], bound[i]);
	}
	for (size_t i = 0; i < rej->nshown; i++) {
		enum ci_reject why = rej->shown[i].why;

		strbuf_addf(&out, "%s%g at %s (", i ? ", " : "; e.g. ",
		    rej->shown[i].p.value, ebb_fmt_time(rej->shown[i].p.t, t,
		    sizeof(t)));
		strbuf_addf(&out, names[why], bound[why]);
		strbuf_addc(&out, ')');
	}
	return strbuf_take(&out);
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
