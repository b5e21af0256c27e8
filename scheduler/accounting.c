/*
 * accounting: energy x intensity, energy-weighted over the slot grid (see
 * accounting.h). Pure: no I/O, no clock, no allocation.
 */
#include <math.h>
#include <stdio.h>

#include "scheduler/accounting.h"

#define J_PER_KWH	3.6e6

/* floor(a / b) for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

int
acct_energy(const struct acct_series *s, double pue,
    const struct acct_use *use, size_t nuse, struct acct_result *out,
    char *err, size_t errlen)
{
	out->energy_kwh = out->emissions_g = out->unknown_kwh = 0;
	if (s->slot <= 0 || (s->n > 0 && s->ci == NULL)) {
		snprintf(err, errlen, "intensity series without a slot grid");
		return -1;
	}
	if (!(pue >= 1.0) || !isfinite(pue)) {
		snprintf(err, errlen, "PUE %g is not at least 1", pue);
		return -1;
	}
	for (size_t u = 0; u < nuse; u++) {
		const struct acct_use *x = &use[u];
		double rate;	/* kWh per second */
		int64_t t;

		if (x->end <= x->start || !(x->energy_kwh >= 0) ||
		    !isfinite(x->energy_kwh)) {
			snprintf(err, errlen, "interval [%lld, %lld) with %g "
			    "kWh: empty, reversed or bad energy",
			    (long long)x->start, (long long)x->end,
			    x->energy_kwh);
			return -1;
		}
		rate = x->energy_kwh / (double)(x->end - x->start);
		out->energy_kwh += x->energy_kwh;
		for (t = x->start; t < x->end;) {
			int64_t k = floor_div(t - s->t0, s->slot);
			int64_t next = s->t0 + (k + 1) * s->slot;
			double e, ci;

			if (next > x->end)
				next = x->end;
			e = rate * (double)(next - t);
			ci = (k >= 0 && (uint64_t)k < s->n) ? s->ci[k] : NAN;
			if (isnan(ci))
				out->unknown_kwh += e;
			else
				out->emissions_g += e * pue * ci;
			t = next;
		}
	}
	return 0;
}

int
acct_power(const struct acct_series *s, double pue, double power_w,
    const int64_t *start, const int64_t *end, size_t nrun,
    struct acct_result *out, char *err, size_t errlen)
{
	struct acct_use use[16];
	struct acct_result part;
	size_t i, m;

	out->energy_kwh = out->emissions_g = out->unknown_kwh = 0;
	if (!(power_w >= 0) || !isfinite(power_w)) {
		snprintf(err, errlen, "power %g W is not a power", power_w);
		return -1;
	}
	/* In batches, so any number of runs needs no allocation. */
	for (i = 0; i < nrun; i += m) {
		m = nrun - i < 16 ? nrun - i : 16;
		for (size_t j = 0; j < m; j++) {
			use[j].start = start[i + j];
			use[j].end = end[i + j];
			use[j].energy_kwh = power_w *
			    (double)(end[i + j] - start[i + j]) / J_PER_KWH;
		}
		if (acct_energy(s, pue, use, m, &part, err, errlen) == -1)
			return -1;
		out->energy_kwh += part.energy_kwh;
		out->emissions_g += part.emissions_g;
		out->unknown_kwh += part.unknown_kwh;
	}
	if (nrun == 0 && acct_energy(s, pue, NULL, 0, out, err, errlen) == -1)
		return -1;
	return 0;
}
