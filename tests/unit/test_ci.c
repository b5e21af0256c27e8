/*
 * test_ci: carbon-intensity points (scheduler/carbon/ci.c): names, batches,
 * every sanitize rule with its counter (bounds per signal, a series in
 * kg/kWh, actuals from the future) and the log text naming refused values,
 * time-weighted resampling between
 * hourly, 30-minute and 5-minute grids, and gap filling at and beyond
 * max_gap. Exact values throughout.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
	struct ci_rejects rej = { .n[CI_REJ_NEGATIVE] = 1 };	/* adds up */
	char *why;

	ci_batch_init(&b, "GB", CI_AVERAGE, "test");
	ci_batch_add(&b, T0, 100, CI_ACTUAL, T0, 0);		/* kept */
	ci_batch_add(&b, T0, 101, CI_ACTUAL, T0, 0);		/* duplicate */
	ci_batch_add(&b, T0, 150, CI_FORECAST, T0, 0);		/* kept */
	ci_batch_add(&b, T0 + 3600, -1, CI_ACTUAL, T0, 0);	/* negative */
	ci_batch_add(&b, T0 + 3600, 1500.5, CI_ACTUAL, T0, 0);	/* too high */
	ci_batch_add(&b, T0 + 3600, NAN, CI_ACTUAL, T0, 0);	/* not finite */
	ci_batch_add(&b, T0 + 3600, INFINITY, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 1500, CI_ACTUAL, T0, 0);	/* kept */
	ci_batch_add(&b, T0 + 1800, 120, CI_ACTUAL, T0, 0);	/* out of order */
	ci_batch_add(&b, T0 + 1800, 0, CI_FORECAST, T0, 0);	/* kept */
	ci_batch_add(&b, T0 + 1800, 0, CI_FORECAST, T0, 0);	/* duplicate */
	ci_batch_add(&b, T0 + 7200, 90, CI_ACTUAL, T0, 0);	/* kept */
	ci_sanitize(&b, T0 + 7200, &rej);

	assert_int_equal(rej.n[CI_REJ_NEGATIVE], 2);
	assert_int_equal(rej.n[CI_REJ_TOO_HIGH], 1);
	assert_int_equal(rej.n[CI_REJ_NOT_FINITE], 2);
	assert_int_equal(rej.n[CI_REJ_DUPLICATE], 2);
	assert_int_equal(rej.n[CI_REJ_OUT_OF_ORDER], 1);
	assert_int_equal(ci_rejects_total(&rej), 8);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.pts[0].t, T0);
	assert_true(b.pts[0].value == 100);
	assert_int_equal(b.pts[1].kind, CI_FORECAST);
	assert_true(b.pts[1].value == 150);
	assert_true(b.pts[2].value == 1500);
	assert_int_equal(b.pts[3].t, T0 + 1800);
	assert_true(b.pts[3].value == 0);
	assert_int_equal(b.pts[4].t, T0 + 7200);
	/* The first five refused points are kept to be logged, values too. */
	assert_int_equal(rej.nshown, 5);
	assert_true(rej.shown[0].p.value == 101);
	assert_int_equal(rej.shown[0].why, CI_REJ_DUPLICATE);
	assert_true(rej.shown[2].p.value == 1500.5);
	why = ci_rejects_format(&rej, CI_AVERAGE);
	assert_string_equal(why, "2 not finite, 2 negative, 1 above 1500 g/kWh, "
	    "2 duplicated, 1 out of order; e.g. 101 at 2023-01-01T00:00:00Z "
	    "(duplicated), -1 at 2023-01-01T01:00:00Z (negative), 1500.5 at "
	    "2023-01-01T01:00:00Z (above 1500 g/kWh), nan at "
	    "2023-01-01T01:00:00Z (not finite), inf at 2023-01-01T01:00:00Z "
	    "(not finite)");
	free(why);
	ci_batch_free(&b);
}

/* The marginal signal has its own bound. */
static void
test_sanitize_marginal(void **state)
{
	struct ci_batch b;
	struct ci_rejects rej = { 0 };
	char *why;

	assert_true(ci_max_value(CI_AVERAGE) == 1500);
	assert_true(ci_max_value(CI_MARGINAL) == 1500);
	ci_batch_init(&b, "CAISO_NORTH", CI_MARGINAL, "watttime");
	ci_batch_add(&b, T0, 0, CI_ACTUAL, T0, 0);		/* curtailment */
	ci_batch_add(&b, T0 + 300, 1500, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 600, 1600, CI_ACTUAL, T0, 0);
	ci_sanitize(&b, T0 + 600, &rej);
	assert_int_equal(b.n, 2);
	assert_int_equal(rej.n[CI_REJ_TOO_HIGH], 1);
	why = ci_rejects_format(&rej, CI_MARGINAL);
	assert_string_equal(why, "1 above 1500 g/kWh; e.g. 1600 at "
	    "2023-01-01T00:10:00Z (above 1500 g/kWh)");
	free(why);
	ci_batch_free(&b);
}

/* Actuals may not lie in the future (beyond 300 s); forecasts may. */
static void
test_sanitize_future(void **state)
{
	struct ci_batch b;
	struct ci_rejects rej = { 0 };
	int64_t now = T0 + 3600;

	ci_batch_init(&b, "DE", CI_AVERAGE, "electricitymaps");
	ci_batch_add(&b, now - 3600, 300, CI_ACTUAL, now, 0);	/* kept */
	ci_batch_add(&b, now + CI_FUTURE_SLACK, 310, CI_ACTUAL, now, 0);
	ci_batch_add(&b, now + CI_FUTURE_SLACK + 1, 320, CI_ACTUAL, now, 0);
	ci_batch_add(&b, now + 86400, 330, CI_ACTUAL, now, 0);	/* refused */
	ci_batch_add(&b, now + 86400, 340, CI_FORECAST, now, 0);	/* kept */
	ci_sanitize(&b, now, &rej);
	assert_int_equal(rej.n[CI_REJ_FUTURE], 2);
	assert_int_equal(ci_rejects_total(&rej), 2);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.pts[1].t, now + CI_FUTURE_SLACK);
	assert_int_equal(b.pts[2].kind, CI_FORECAST);
	ci_batch_free(&b);
}

/* A series in kg/kWh is refused, kind by kind; one of zeros is not. */
static void
test_sanitize_unit(void **state)
{
	struct ci_batch b;
	struct ci_rejects rej = { 0 };
	char *why;

	ci_batch_init(&b, "PL", CI_AVERAGE, "electricitymaps");
	ci_batch_add(&b, T0, 0.65, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 0.7, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 0.72, CI_FORECAST, T0, 0);
	ci_batch_add(&b, T0 + 7200, 0, CI_FORECAST, T0, 0);
	ci_batch_add(&b, T0 + 7200, -0.1, CI_FORECAST, T0, 0);	/* negative */
	ci_sanitize(&b, T0 + 3600, &rej);
	assert_int_equal(b.n, 0);
	assert_int_equal(rej.n[CI_REJ_UNIT], 4);
	assert_int_equal(rej.n[CI_REJ_NEGATIVE], 1);
	why = ci_rejects_format(&rej, CI_AVERAGE);
	assert_string_equal(why, "1 negative, 4 in a series below 1 g/kWh "
	    "(kg/kWh?); e.g. -0.1 at 2023-01-01T02:00:00Z (negative), 0.65 at "
	    "2023-01-01T00:00:00Z (in a series below 1 g/kWh (kg/kWh?)), 0.7 "
	    "at 2023-01-01T01:00:00Z (in a series below 1 g/kWh (kg/kWh?)), "
	    "0.72 at 2023-01-01T01:00:00Z (in a series below 1 g/kWh "
	    "(kg/kWh?)), 0 at 2023-01-01T02:00:00Z (in a series below 1 g/kWh "
	    "(kg/kWh?))");
	free(why);
	ci_batch_free(&b);

	/* All zeros: possible (curtailment); kept. */
	memset(&rej, 0, sizeof(rej));
	ci_batch_init(&b, "CAISO_NORTH", CI_MARGINAL, "watttime");
	ci_batch_add(&b, T0, 0, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 300, 0, CI_ACTUAL, T0, 0);
	ci_sanitize(&b, T0 + 300, &rej);
	assert_int_equal(b.n, 2);
	assert_int_equal(ci_rejects_total(&rej), 0);
	ci_batch_free(&b);

	/* Actuals in kg/kWh beside forecasts in g/kWh: only those refused. */
	memset(&rej, 0, sizeof(rej));
	ci_batch_init(&b, "PL", CI_AVERAGE, "electricitymaps");
	ci_batch_add(&b, T0, 0.65, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 0.7, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 720, CI_FORECAST, T0, 0);
	ci_sanitize(&b, T0 + 3600, &rej);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.pts[0].kind, CI_FORECAST);
	assert_int_equal(rej.n[CI_REJ_UNIT], 2);
	ci_batch_free(&b);

	/* Small values beside real ones are plausible (a very clean hour). */
	memset(&rej, 0, sizeof(rej));
	ci_batch_init(&b, "SE", CI_AVERAGE, "electricitymaps");
	ci_batch_add(&b, T0, 0.5, CI_ACTUAL, T0, 0);
	ci_batch_add(&b, T0 + 3600, 12, CI_ACTUAL, T0, 0);
	ci_sanitize(&b, T0 + 3600, &rej);
	assert_int_equal(b.n, 2);
	assert_int_equal(ci_rejects_total(&rej), 0);
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
		cmocka_unit_test(test_sanitize_marginal),
		cmocka_unit_test(test_sanitize_future),
		cmocka_unit_test(test_sanitize_unit),
		cmocka_unit_test(test_resample_hourly_to_5min),
		cmocka_unit_test(test_resample_hourly_to_30min),
		cmocka_unit_test(test_resample_5min_to_hourly),
		cmocka_unit_test(test_fill_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
