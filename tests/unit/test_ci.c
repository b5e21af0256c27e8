/*
 * test_ci: carbon-intensity points (scheduler/carbon/ci.c): names, batches,
 * every sanitize rule with its counter, time-weighted resampling between
 * hourly, 30-minute and 5-minute grids, and gap filling at and beyond
 * max_gap. Exact values throughout.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/carbon/ci.h"

#define T0	1672531200	/* 2023-01-01T00:00:00Z */

static void
test_names(void **state)
{
	assert_string_equal(ci_signal_name(CI_AVERAGE), "average");
	assert_string_equal(ci_signal_name(CI_MARGINAL), "marginal");
	assert_int_equal(ci_signal_parse("marginal"), CI_MARGINAL);
	assert_int_equal(ci_signal_parse("average"), CI_AVERAGE);
	assert_int_equal(ci_signal_parse("moer"), -1);
	assert_string_equal(ci_kind_name(CI_ACTUAL), "actual");
	assert_string_equal(ci_kind_name(CI_FORECAST), "forecast");
	assert_string_equal(ci_kind_name(CI_OWN), "ebb");
	assert_int_equal(ci_kind_parse("ebb"), CI_OWN);
	assert_int_equal(ci_kind_parse("forecast"), CI_FORECAST);
	assert_int_equal(ci_kind_parse("actual"), CI_ACTUAL);
	assert_int_equal(ci_kind_parse("own"), -1);
}

static void
test_batch(void **state)
{
	struct ci_batch b;

	ci_batch_init(&b, "DE", CI_MARGINAL, "trace");
	assert_string_equal(b.zone, "DE");
	assert_string_equal(b.source, "trace");
	assert_int_equal(b.signal, CI_MARGINAL);
	for (int i = 0; i < 1000; i++)
		ci_batch_add(&b, T0 + i * 300, i, CI_FORECAST, T0 - 60,
		    CI_FILLED);
	assert_int_equal(b.n, 1000);
	assert_true(b.cap >= 1000);
	assert_int_equal(b.pts[999].t, T0 + 999 * 300);
	assert_true(b.pts[999].value == 999.0);
	assert_int_equal(b.pts[999].kind, CI_FORECAST);
	assert_int_equal(b.pts[999].vintage, T0 - 60);
	assert_int_equal(b.pts[999].flags, CI_FILLED);
	ci_batch_free(&b);
	assert_null(b.pts);
	assert_null(b.zone);
	assert_int_equal(b.n, 0);
}

static void
test_sanitize(void **state)
{
	struct ci_batch b;
	struct ci_rejects rej = { .negative = 1 };	/* counts add up */

	ci_batch_init(&b, "GB", CI_AVERAGE, "test");
	ci_batch_add(&b, T0, 100, CI_ACTUAL, T0, 0);		/* kept */
	ci_batch_add(&b, T0, 101, CI_ACTUAL, T0, 0);		/* duplicate */
	ci_batch_add(&b, T0, 150, CI_FORECAST, T0, 0);		/* kept */
	ci_batch_add(&b, T0 + 3600, -1, CI_ACTUAL, T0, 0);	/* negative */
	ci_batch_add(&b, T0 + 3600, 2000.5, CI_ACTUAL, T0, 0);	/* too high */
	ci_batch_add(&b, T0 + 3600, NAN, CI_ACTUAL, T0, 0);	/* not finite */
	ci_batch_add(&b, T0 + 3600, INFINITY, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 2000, CI_ACTUAL, T0, 0);	/* kept */
	ci_batch_add(&b, T0 + 1800, 120, CI_ACTUAL, T0, 0);	/* out of order */
	ci_batch_add(&b, T0 + 1800, 0, CI_FORECAST, T0, 0);	/* kept */
	ci_batch_add(&b, T0 + 1800, 0, CI_FORECAST, T0, 0);	/* duplicate */
	ci_batch_add(&b, T0 + 7200, 90, CI_ACTUAL, T0, 0);	/* kept */
	ci_sanitize(&b, &rej);

	assert_int_equal(rej.negative, 2);
	assert_int_equal(rej.too_high, 1);
	assert_int_equal(rej.not_finite, 2);
	assert_int_equal(rej.duplicate, 2);
	assert_int_equal(rej.out_of_order, 1);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.pts[0].t, T0);
	assert_true(b.pts[0].value == 100);
	assert_int_equal(b.pts[1].kind, CI_FORECAST);
	assert_true(b.pts[1].value == 150);
	assert_true(b.pts[2].value == 2000);
	assert_int_equal(b.pts[3].t, T0 + 1800);
	assert_true(b.pts[3].value == 0);
	assert_int_equal(b.pts[4].t, T0 + 7200);
	ci_batch_free(&b);
}

/* Hourly points 100, 200, 300 (the last held one hour). */
static const struct ci_point hourly[] = {
	{ .t = T0, .value = 100 },
	{ .t = T0 + 3600, .value = 200 },
	{ .t = T0 + 7200, .value = 300 },
};

static void
test_resample_hourly_to_5min(void **state)
{
	double out[48];

	/* From 30 min before the first point to 30 min after the last ends. */
	assert_int_equal(ci_resample(hourly, 3, 3600, T0 - 1800,
	    T0 + 3 * 3600 + 1800, 300, out), 48);
	for (int i = 0; i < 6; i++)
		assert_true(isnan(out[i]));
	for (int i = 6; i < 18; i++)
		assert_true(out[i] == 100);
	for (int i = 18; i < 30; i++)
		assert_true(out[i] == 200);
	for (int i = 30; i < 42; i++)
		assert_true(out[i] == 300);
	for (int i = 42; i < 48; i++)
		assert_true(isnan(out[i]));
}

static void
test_resample_hourly_to_30min(void **state)
{
	double out[7];

	/* A grid offset by 15 min: slots straddle the hour boundaries. */
	assert_int_equal(ci_resample(hourly, 3, 3600, T0 + 900,
	    T0 + 900 + 7 * 1800, 1800, out), 7);
	assert_true(out[0] == 100);			/* 00:15-00:45 */
	assert_true(out[1] == 150);			/* 00:45-01:15 */
	assert_true(out[2] == 200);
	assert_true(out[3] == 250);
	assert_true(out[4] == 300);
	assert_true(out[5] == 300);	/* 02:45-03:15, covered to 03:00 */
	assert_true(isnan(out[6]));			/* 03:15-03:45 */

	/* The hold of the last point decides how far it reaches. */
	assert_int_equal(ci_resample(hourly, 3, 600, T0 + 7200, T0 + 10800,
	    1800, out), 2);
	assert_true(out[0] == 300);	/* only its first 10 min are covered */
	assert_true(isnan(out[1]));

	/* Degenerate grids. */
	assert_int_equal(ci_resample(hourly, 3, 3600, T0, T0, 300, out), 0);
	assert_int_equal(ci_resample(hourly, 3, 3600, T0, T0 + 3600, 0, out),
	    0);
}

static void
test_resample_5min_to_hourly(void **state)
{
	struct ci_point p[30];
	double out[3];

	/* 5-min points 1, 2, ..., 30 from 00:00 to 02:25, each held 5 min. */
	for (int i = 0; i < 30; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].t = T0 + i * 300;
		p[i].value = i + 1;
	}
	assert_int_equal(ci_resample(p, 30, 300, T0, T0 + 3 * 3600, 3600, out),
	    3);
	assert_true(out[0] == 6.5);	/* mean of 1..12 */
	assert_true(out[1] == 18.5);	/* mean of 13..24 */
	assert_true(out[2] == 27.5);	/* 25..30 cover half the hour */
}

static void
test_fill_gaps(void **state)
{
	double v[] = { 10, NAN, NAN, NAN, 50, NAN, NAN, NAN, NAN, 0, NAN,
	    NAN };
	uint8_t filled[12] = { 0 };

	/* max_gap 3: the run of 3 is filled, the run of 4 is not, and the
	 * trailing run has no right neighbour. */
	assert_int_equal(ci_fill_gaps(v, 12, 3, filled), 3);
	assert_true(v[1] == 20);
	assert_true(v[2] == 30);
	assert_true(v[3] == 40);
	assert_int_equal(filled[1] + filled[2] + filled[3], 3);
	for (int i = 5; i < 9; i++) {
		assert_true(isnan(v[i]));
		assert_int_equal(filled[i], 0);
	}
	assert_true(isnan(v[10]) && isnan(v[11]));
	assert_int_equal(filled[0] + filled[4] + filled[9], 0);

	/* max_gap 4 fills the run of 4, with filled == NULL allowed. */
	assert_int_equal(ci_fill_gaps(v, 12, 4, NULL), 4);
	assert_true(v[5] == 40);
	assert_true(v[6] == 30);
	assert_true(v[7] == 20);
	assert_true(v[8] == 10);

	/* A leading run has no left neighbour. */
	double w[] = { NAN, 5, NAN, 7 };
	assert_int_equal(ci_fill_gaps(w, 4, 10, NULL), 1);
	assert_true(isnan(w[0]));
	assert_true(w[2] == 6);
}

static void
test_grid_helpers(void **state)
{
	struct ci_point p[3] = { { .t = 0 }, { .t = 1800 }, { .t = 5400 } };

	assert_int_equal(ci_slot_floor(1799, 300), 1500);
	assert_int_equal(ci_slot_floor(1800, 300), 1800);
	assert_int_equal(ci_slot_floor(-1, 300), -300);
	assert_int_equal(ci_native_step(p, 3), 1800);
	assert_int_equal(ci_native_step(p, 1), 3600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_helpers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_resample_hourly_to_5min),
		cmocka_unit_test(test_resample_hourly_to_30min),
		cmocka_unit_test(test_resample_5min_to_hourly),
		cmocka_unit_test(test_fill_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
