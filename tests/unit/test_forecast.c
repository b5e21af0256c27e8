/*
 * test_forecast: ebb's own forecaster (scheduler/carbon/forecast.c) on
 * synthetic histories whose future is known: a pure daily sinusoid, a
 * constant, gaps, a level shift and a weekend dip; plus determinism, the
 * output length and the errors. Speed is the bench's business
 * (bench-forecast), not asserted here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/carbon/forecast.h"

#define DAY	86400
#define T0	1672531200	/* 2023-01-01T00:00:00Z, a Sunday */

static double
sinusoid(int64_t t)
{
	return 300 + 100 * sin(2 * M_PI * (double)(t % DAY) / DAY);
}

/* days of history at `slot` from T0, filled by f. Caller frees. */
static double *
history(int days, int64_t slot, double (*f)(int64_t), size_t *n)
{
	double *h;

	*n = (size_t)(days * DAY / slot);
	h = malloc(*n * sizeof(*h));
	for (size_t i = 0; i < *n; i++)
		h[i] = f(T0 + (int64_t)i * slot);
	return h;
}

static double
max_error(const double *out, size_t horizon, size_t n, int64_t slot,
    double (*f)(int64_t))
{
	double worst = 0;

	for (size_t j = 0; j < horizon; j++) {
		double e = fabs(out[j] - f(T0 + (int64_t)(n + j) * slot));

		if (e > worst)
			worst = e;
	}
	return worst;
}

static void
test_sinusoid(void **state)
{
	static const int64_t slots[] = { 300, 1800, 3600 };
	char err[128];

	for (size_t k = 0; k < 3; k++) {
		size_t n, horizon = (size_t)(2 * DAY / slots[k]);
		double *h = history(35, slots[k], sinusoid, &n);
		double *out = malloc(horizon * sizeof(*out));

		assert_int_equal(fc_forecast(h, n, slots[k], T0, horizon, out,
		    err, sizeof(err)), 0);
		assert_true(max_error(out, horizon, n, slots[k], sinusoid) <
		    1e-6);
		free(out);
		free(h);
	}
}

static double
constant(int64_t t)
{
	return 250;
}

static void
test_constant(void **state)
{
	size_t n;
	double *h = history(10, 1800, constant, &n), out[96];
	char err[128];

	/* Ten days: fewer than the profile wants, still a full answer. */
	assert_int_equal(fc_forecast(h, n, 1800, T0, 96, out, err,
	    sizeof(err)), 0);
	for (size_t j = 0; j < 96; j++)
		assert_true(fabs(out[j] - 250) < 1e-9);
	free(h);
}

static void
test_deterministic(void **state)
{
	size_t n;
	double *h = history(30, 300, sinusoid, &n), *copy;
	double a[576], b[576];
	char err[128];

	for (size_t i = 0; i < n; i += 97)
		h[i] = NAN;
	h[n - 1] += 40;
	copy = malloc(n * sizeof(*copy));
	memcpy(copy, h, n * sizeof(*h));
	assert_int_equal(fc_forecast(h, n, 300, T0, 576, a, err, sizeof(err)),
	    0);
	assert_int_equal(fc_forecast(h, n, 300, T0, 576, b, err, sizeof(err)),
	    0);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_equal(h, copy, n * sizeof(*h));	/* input untouched */
	free(copy);
	free(h);
}

static void
test_gaps(void **state)
{
	size_t n;
	double *h = history(28, 1800, sinusoid, &n), out[96];
	char err[128];

	/* One time of day missing on every day, one whole day missing, and
	 * the last two hours unknown. */
	for (size_t i = 0; i < n; i++)
		if (i % 48 == 7 || (i >= 20 * 48 && i < 21 * 48) || i >= n - 4)
			h[i] = NAN;
	assert_int_equal(fc_forecast(h, n, 1800, T0, 96, out, err,
	    sizeof(err)), 0);
	for (size_t j = 0; j < 96; j++)
		assert_true(isfinite(out[j]));
	/* The missing time of day is interpolated from its neighbours. */
	assert_true(max_error(out, 96, n, 1800, sinusoid) < 2);
	free(h);
}

static double
shifted(int64_t t)
{
	return sinusoid(t) + (t >= T0 + 28 * DAY - 3600 ? 100 : 0);
}

static void
test_level(void **state)
{
	size_t n;
	double *h = history(28, 3600, shifted, &n), out[48];
	char err[128];

	/* The last hour jumped by 100: the forecast starts near the new
	 * level and leans back toward the daily profile with lead time. */
	assert_int_equal(fc_forecast(h, n, 3600, T0, 48, out, err,
	    sizeof(err)), 0);
	assert_true(out[0] - sinusoid(T0 + 28 * DAY) > 80);
	assert_true(out[23] - sinusoid(T0 + 28 * DAY + 23 * 3600) <
	    out[0] - sinusoid(T0 + 28 * DAY));
	assert_true(out[47] - sinusoid(T0 + 28 * DAY + 47 * 3600) > 0);
	free(h);
}

static double
weekly(int64_t t)
{
	int64_t wd = ((t / DAY) + 4) % 7;	/* 0 = Sunday */

	return sinusoid(t) - (wd == 0 || wd == 6 ? 60 : 0);
}

static void
test_weekend(void **state)
{
	size_t n;
	double *h = history(27, 3600, weekly, &n), out[48];
	char err[128];

	/* History ends on Friday 2023-01-27 24:00: Saturday is forecast
	 * lower than Friday was at the same hours. */
	assert_int_equal(fc_forecast(h, n, 3600, T0, 48, out, err,
	    sizeof(err)), 0);
	for (size_t j = 12; j < 24; j++)
		assert_true(out[j] < h[n - 24 + j] - 20);
	free(h);
}

static void
test_length_and_errors(void **state)
{
	size_t n;
	double *h = history(3, 3600, sinusoid, &n), out[32];
	char err[128];

	for (size_t j = 0; j < 32; j++)
		out[j] = -7;
	assert_int_equal(fc_forecast(h, n, 3600, T0, 24, out, err,
	    sizeof(err)), 0);
	for (size_t j = 0; j < 24; j++)
		assert_true(out[j] >= 0);
	for (size_t j = 24; j < 32; j++)
		assert_true(out[j] == -7);	/* nothing past horizon */
	assert_int_equal(fc_forecast(h, n, 3600, T0, 0, out, err,
	    sizeof(err)), 0);

	assert_int_equal(fc_forecast(h, n, 7, T0, 24, out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "divide a day"));
	assert_int_equal(fc_forecast(h, 0, 3600, T0, 24, out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no known value"));
	for (size_t i = 0; i < n; i++)
		h[i] = NAN;
	assert_int_equal(fc_forecast(h, n, 3600, T0, 24, out, err,
	    sizeof(err)), -1);
	free(h);
}

/* A deterministic uniform number in [0, 1) from a counter. */
static double
uniform(uint64_t k)
{
	k = (k + 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	k = (k ^ (k >> 31)) * 0x94d049bb133111ebULL;
	return (double)((k ^ (k >> 29)) >> 11) / 9007199254740992.0;
}

/*
 * Each day's shape is the day before's plus a large random change: the
 * best guess for tomorrow is today (same-hour-yesterday), and a profile
 * of three weeks lags behind. The forecaster must not do worse than
 * yesterday at 24 h (the fallback), and its 10-90 % interval must hold
 * the actual about 80 % of the time.
 */
static void
test_fallback_and_band(void **state)
{
	size_t nb = 24, days = 70, n = days * nb, inside = 0, total = 0;
	double *h = malloc(n * sizeof(*h)), out[48], lo[48], hi[48];
	double eb = 0, ey = 0, shape[24];
	char err[128];

	for (size_t k = 0; k < nb; k++)
		shape[k] = 300;
	for (size_t d = 0; d < days; d++)
		for (size_t k = 0; k < nb; k++) {
			shape[k] += 60 * (uniform(d * nb + k) - 0.5) *
			    (1 + (k / 6) % 2);
			if (shape[k] < 50)
				shape[k] = 50;
			h[d * nb + k] = shape[k];
		}
	for (size_t o = 40 * nb; o + 48 <= n; o += 6) {
		assert_int_equal(fc_forecast_band(h, o, 3600, T0, 48, out, lo,
		    hi, err, sizeof(err)), 0);
		eb += fabs(out[23] - h[o + 23]) / h[o + 23];
		ey += fabs(h[o - 1] - h[o + 23]) / h[o + 23];
		for (size_t j = 0; j < 48; j++) {
			assert_true(lo[j] <= out[j] && out[j] <= hi[j]);
			inside += h[o + j] >= lo[j] && h[o + j] <= hi[j];
			total++;
		}
	}
	assert_true(eb <= ey * 1.01);
	assert_true(inside > total * 6 / 10 && inside < total * 95 / 100);
	/* fc_forecast is the band's point forecast. */
	assert_int_equal(fc_forecast(h, n, 3600, T0, 48, lo, err,
	    sizeof(err)), 0);
	assert_int_equal(fc_forecast_band(h, n, 3600, T0, 48, out, NULL,
	    NULL, err, sizeof(err)), 0);
	assert_memory_equal(lo, out, sizeof(out));
	free(h);
}

static void
test_band_fine_slots(void **state)
{
	size_t n = 20 * 288;
	double *h = malloc(n * sizeof(*h)), out[576], lo[576], hi[576];
	char err[128];

	/* 5-min slots from half past an hour (the backtest runs on hourly
	 * means), a gap, noise: an interval around every forecast slot. */
	for (size_t i = 0; i < n; i++)
		h[i] = sinusoid(T0 + 1800 + (int64_t)i * 300) +
		    40 * (uniform(i) - 0.5);
	for (size_t i = n - 500; i < n - 400; i++)
		h[i] = NAN;
	assert_int_equal(fc_forecast_band(h, n, 300, T0 + 1800, 576, out, lo,
	    hi, err, sizeof(err)), 0);
	for (size_t j = 0; j < 576; j++) {
		assert_true(isfinite(lo[j]) && isfinite(hi[j]));
		assert_true(lo[j] <= out[j] && out[j] <= hi[j]);
		assert_true(hi[j] - lo[j] < 100);
	}
	free(h);
}

static void
test_band_short_history(void **state)
{
	size_t n;
	double *h = history(5, 3600, sinusoid, &n), out[24], lo[24], hi[24];
	char err[128];

	/* Five days: too few to keep a week aside, so no interval. */
	assert_int_equal(fc_forecast_band(h, n, 3600, T0, 24, out, lo, hi,
	    err, sizeof(err)), 0);
	for (size_t j = 0; j < 24; j++)
		assert_true(isnan(lo[j]) && isnan(hi[j]) && isfinite(out[j]));
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sinusoid),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_weekend),
		cmocka_unit_test(test_fallback_and_band),
		cmocka_unit_test(test_band_fine_slots),
		cmocka_unit_test(test_band_short_history),
		cmocka_unit_test(test_length_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
