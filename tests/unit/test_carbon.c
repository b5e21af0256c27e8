/*
 * test_carbon: the best known series. Actuals beat forecasts, the newest
 * provider forecast wins, gaps up to max_gap are interpolated and marked,
 * and ebb's own forecast covers only what nothing else covers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ev.h>

#include "common/fsutil.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/store.h"

#define NOW	1795355700		/* 2026-11-22T13:55:00Z, on the grid */
#define H	3600

static char dir[] = "/tmp/ebb-test-carbon-XXXXXX";

static double
daily(int64_t t)
{
	return 300 + 100 * sin(2 * M_PI * (double)(t % 86400) / 86400);
}

static void
test_series(void **state)
{
	struct ebb_config cfg = { .slot = 300, .max_gap = 2 * H };
	struct ci_batch act, fc_old, fc_new;
	struct ci_series s;
	struct store *st;
	struct carbon *c;
	char err[256], *path = NULL;
	json_t *pt;
	size_t i;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/ebb.db", dir) > 0);
	st = store_open(path, err, sizeof(err));
	assert_non_null(st);

	/* Hourly actuals for 30 days up to now, missing 10:00 (a 1 h gap)
	 * and 05:00-07:00 (a 3 h gap: too long to fill). */
	ci_batch_init(&act, "DE", CI_AVERAGE, "ukci");
	for (int64_t t = NOW - NOW % H - 30 * 86400; t <= NOW; t += H) {
		int64_t hod = t % 86400 / H;

		if (t > NOW - 86400 && (hod == 10 || (hod >= 5 && hod <= 7)))
			continue;
		ci_batch_add(&act, t, daily(t), CI_ACTUAL, NOW, 0);
	}
	/* Two forecasts for the next 6 h; the newer one must win. */
	ci_batch_init(&fc_old, "DE", CI_AVERAGE, "electricitymaps");
	ci_batch_init(&fc_new, "DE", CI_AVERAGE, "electricitymaps");
	for (int64_t t = NOW - NOW % H + H; t < NOW + 6 * H; t += H) {
		ci_batch_add(&fc_old, t, daily(t) + 50, CI_FORECAST,
		    NOW - 2 * H, 0);
		ci_batch_add(&fc_new, t, daily(t) + 5, CI_FORECAST, NOW - H, 0);
	}
	assert_int_equal(store_ci_put(st, &act), 0);
	assert_int_equal(store_ci_put(st, &fc_old), 0);
	assert_int_equal(store_ci_put(st, &fc_new), 0);
	assert_int_equal(store_commit(st), 0);

	c = carbon_new(ev_default_loop(0), st, &cfg, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(carbon_series(c, "DE", CI_AVERAGE, NOW - 12 * H,
	    NOW + 24 * H, NOW, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 36 * 12);
	assert_int_equal(s.t0, NOW - 12 * H);
	for (i = 0; i < s.n; i++) {
		int64_t t = s.t0 + (int64_t)i * 300;
		int64_t hod = t % 86400 / H;

		if (t <= NOW && hod == 10) {
			/* Filled between 09:00 and 11:00, kept as actual. */
			assert_false(isnan(s.value[i]));
			assert_true(s.flags[i] & CI_FILLED);
			assert_int_equal(s.kind[i], CI_ACTUAL);
		} else if (t <= NOW && hod >= 5 && hod <= 7) {
			assert_true(isnan(s.value[i]));	/* 3 h: not filled */
		} else if (t < NOW - NOW % H + H) {
			assert_int_equal(s.kind[i], CI_ACTUAL);
			assert_string_equal(s.source[i], "ukci");
			assert_true(fabs(s.value[i] - daily(t - t % H)) < 1e-9);
		} else if (t < NOW - NOW % H + 7 * H) {
			assert_int_equal(s.kind[i], CI_FORECAST);
			assert_true(s.value[i] == daily(t - t % H) + 5);
			assert_int_equal(s.vintage[i], NOW - H);
		} else {
			/* Nothing covers it: ebb's own forecast, near the
			 * daily pattern it learned. */
			assert_int_equal(s.kind[i], CI_OWN);
			assert_string_equal(s.source[i], "ebb");
			assert_true(fabs(s.value[i] - daily(t)) < 60);
			/* With its interval, in the reply too. */
			assert_true(s.lo[i] <= s.value[i] &&
			    s.value[i] <= s.hi[i]);
			pt = carbon_point_json(&s, i);
			assert_non_null(json_object_get(pt, "lo"));
			assert_non_null(json_object_get(pt, "hi"));
			json_decref(pt);
			continue;
		}
		assert_true(isnan(s.lo[i]) && isnan(s.hi[i]));
		pt = carbon_point_json(&s, i);
		assert_null(json_object_get(pt, "lo"));
		json_decref(pt);
	}
	ci_series_free(&s);

	/* Asked as of an hour before the newer forecast: the older wins. */
	assert_int_equal(carbon_series(c, "DE", CI_AVERAGE, NOW + H,
	    NOW + 2 * H, NOW - 90 * 60, &s, err, sizeof(err)), 0);
	assert_true(s.value[0] == daily(NOW - NOW % H + H) + 50);
	ci_series_free(&s);

	assert_int_equal(carbon_series(c, "DE", CI_AVERAGE, NOW, NOW - 1,
	    NOW, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "a series must cover 1 slot to 31 days");

	carbon_free(c);
	ci_batch_free(&act);
	ci_batch_free(&fc_old);
	ci_batch_free(&fc_new);
	store_close(st);
	free(path);
	fs_rm_rf(dir);
}

static void
test_window(void **state)
{
	/* Hourly slots from 10 h: 10 20 100 100 (ebb) 100 NAN 5 5. */
	double v[8] = { 10, 20, 100, 100, 100, NAN, 5, 5 };
	uint8_t kind[8] = { CI_ACTUAL, CI_ACTUAL, CI_FORECAST, CI_OWN,
	    CI_FORECAST, CI_FORECAST, CI_OWN, CI_OWN };
	struct ci_series s = { .t0 = 36000, .slot = 3600, .n = 8,
	    .value = v, .kind = kind };
	double mean;
	int own;

	/* Up to 14:00. Half of the cheapest slot is past: the window starts
	 * at now, its mean over exactly now .. now + 1h (was: 10:00, 10). */
	s.n = 4;
	assert_int_equal(carbon_window(&s, 37800, 3600, &mean, &own), 37800);
	assert_true(fabs(mean - 15) < 1e-9);
	assert_int_equal(own, 0);
	s.n = 8;
	/* 90 min, not a whole number of slots: ends inside a slot. */
	assert_int_equal(carbon_window(&s, 37800, 5400, &mean, &own),
	    36000 + 6 * 3600);
	assert_true(fabs(mean - 5) < 1e-9);
	/* Up to 14:00: from now (10:30) 30 min at 10, 60 at 20, 0 at 100. */
	s.n = 4;
	assert_int_equal(carbon_window(&s, 37800, 5400, &mean, &own), 37800);
	assert_true(fabs(mean - (30 * 10 + 60 * 20) / 90.0) < 1e-9);
	s.n = 8;
	/* A window over the unknown slot is never chosen; the cheapest,
	 * at the end, rests on ebb's own forecast. */
	assert_int_equal(carbon_window(&s, 37800, 7200, &mean, &own),
	    36000 + 6 * 3600);
	assert_true(fabs(mean - 5) < 1e-9);
	assert_int_equal(own, 1);
	/* From 11:00 on, 3 h: 20 100 100 (own) is the only full one before
	 * the gap and 100 100 100 the next; the one touching the gap is out. */
	assert_int_equal(carbon_window(&s, 39600, 3 * 3600, &mean, &own),
	    39600);
	assert_true(fabs(mean - 220 / 3.0) < 1e-9);
	assert_int_equal(own, 1);
	/* Longer than what is left, or nothing asked for. */
	assert_int_equal(carbon_window(&s, 37800, 8 * 3600, &mean, &own), -1);
	assert_int_equal(carbon_window(&s, 37800, 0, &mean, &own), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
