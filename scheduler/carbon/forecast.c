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
 * The constants were tuned on the first half of each bench trace (bench/
 * forecast.c reports the second half). Nothing here reads the clock or
 * does I/O, and nothing is kept between calls.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
} par = { 21, 0.9, 1800, 24 * 3600, 0.4, 0.75, 3600 };

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

int
fc_forecast(const double *hist, size_t n, int64_t slot, int64_t t_first,
    size_t horizon, double *out, char *err, size_t errlen)
{
	size_t nb, start, pstart, last = 0;
	double sum[2] = { 0, 0 }, cnt[2] = { 0, 0 }, adj[2] = { 0, 0 };
	double *prof, *wsum, dev = 0, ndev = 0, dlast = 0;
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
	for (size_t i = pstart; i < n; i++) {
		int64_t t = t_first + (int64_t)i * slot;
		size_t b = (size_t)(floor_mod(t, DAY) / slot);
		double w = pow(par.day_decay, (double)((n - 1 - i) / nb));

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
