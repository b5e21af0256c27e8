/*
 * test_load: a site's recent demand and the reserve it calls for
 * (scheduler/load.c), and what that reserve does to a plan: on a loaded
 * site a job that could wait for a green hour leaves room for a tight job
 * submitted later, on an idle one it waits (scheduler/planner.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "scheduler/load.h"
#include "scheduler/planner.h"

#define H	3600
#define D	86400
#define T0	((int64_t)1699999200)	/* on the hour */
#define EPS	1e-9

/* The shape: nothing up to 0.2, 0.9 of the site from 0.8, linear between. */
static void
test_reserve_shape(void **state)
{
	(void)state;
	assert_float_equal(load_reserve(0), 0, EPS);
	assert_float_equal(load_reserve(0.1), 0, EPS);
	assert_float_equal(load_reserve(0.2), 0, EPS);
	assert_float_equal(load_reserve(0.3), 0.15, EPS);
	assert_float_equal(load_reserve(0.5), 0.45, EPS);
	assert_float_equal(load_reserve(0.7), 0.75, EPS);
	assert_float_equal(load_reserve(0.8), 0.9, EPS);
	assert_float_equal(load_reserve(1.5), 0.9, EPS);
	assert_float_equal(load_reserve(NAN), 0, EPS);
	/* never more than the planner takes (0 <= r < 1) */
	for (double r = 0; r < 3; r += 0.01)
		assert_true(load_reserve(r) >= 0 && load_reserve(r) < 1);
}

/* Demand decays with LOAD_TAU; the order of the submits does not matter. */
static void
test_rho(void **state)
{
	struct site_load a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_float_equal(load_rho(&a, T0, 4), 0, EPS);
	/* a day of 4 cpus, submitted at once: the site's whole day */
	load_add(&a, T0, 4.0 * D);
	assert_float_equal(load_rho(&a, T0, 4), 1, EPS);
	assert_float_equal(load_rho(&a, T0, 8), 0.5, EPS);
	assert_float_equal(load_rho(&a, T0 + LOAD_TAU, 4), exp(-1), EPS);
	assert_float_equal(load_rho(&a, T0, 0), 0, EPS);
	/* a second submit a day later, and the same two the other way */
	load_add(&a, T0 + D, 2.0 * D);
	load_add(&b, T0 + D, 2.0 * D);
	load_add(&b, T0, 4.0 * D);
	assert_float_equal(load_rho(&a, T0 + 2 * D, 4),
	    exp(-2) + 0.5 * exp(-1), EPS);
	assert_float_equal(load_rho(&b, T0 + 2 * D, 4),
	    load_rho(&a, T0 + 2 * D, 4), EPS);
	/* nothing, or nothing positive, changes nothing */
	load_add(&b, T0, 0);
	load_add(&b, T0, NAN);
	assert_float_equal(load_rho(&b, T0 + 2 * D, 4),
	    load_rho(&a, T0 + 2 * D, 4), EPS);
}

/* A number in the config fixes the reserve; auto follows the load. */
static void
test_site_reserve(void **state)
{
	struct ebb_config *cfg = config_default();
	struct site_load l[1];
	struct plan_job j = { .cpus = 2, .duration = 2 * D, .origin = 0 };

	(void)state;
	assert_true(cfg->nsites >= 1);
	assert_float_equal(cfg->planner.reserve, -1, EPS);	/* auto */
	cfg->sites[0].cpus = 4;
	memset(l, 0, sizeof(l));
	assert_float_equal(load_site_reserve(cfg, 0, l, T0), 0, EPS);
	load_note(l, &j, T0);		/* 4 cpu-days on 4 cpus: rho 1 */
	assert_float_equal(load_site_reserve(cfg, 0, l, T0), 0.9, EPS);
	cfg->planner.reserve = 0.25;
	assert_float_equal(load_site_reserve(cfg, 0, l, T0), 0.25, EPS);
	cfg->planner.reserve = 0;
	assert_float_equal(load_site_reserve(cfg, 0, l, T0), 0, EPS);
	config_free(cfg);
}

static void
run(const struct plan_params *p, const struct plan_site *s,
    const struct plan_job *j, size_t nj, struct plan_result *r)
{
	char err[256] = "";

	if (plan_compute(p, s, 1, j, nj, r, err, sizeof(err)) != 0)
		fail_msg("plan_compute: %s", err);
	assert_int_equal(r->n, nj);
}

/*
 * A 2-cpu job that may wait for the green hour (slot 2) on a 4-cpu site;
 * at that hour a tight 4-cpu job arrives that must run then. On a site
 * whose recent demand nearly fills it, the reserve keeps the first job
 * out of the green hour: it runs at once, and the tight job meets its
 * deadline. On an idle site the first job takes the green hour, and the
 * tight one, arriving while it runs, is late: the price of waiting, paid
 * only where nothing was expected to compete.
 */
static void
test_loaded_site_leaves_room(void **state)
{
	double ci[] = { 300, 300, 100, 300, 300, 300, 300, 300 };
	struct plan_site s = { 4, 0, 1.0, ci, 0, NULL };
	struct plan_params p = {
		.now = T0, .t0 = T0, .slot = H, .nslots = 6,
		.min_chunk = H, .kwh_per_gb = 0.1,
	};
	struct plan_job j[2] = {
		{ .id = 1, .cpus = 2, .power_w = 1000, .duration = H,
		  .deadline = T0 + 6 * H, .sites = 1 },
		{ .id = 2, .cpus = 4, .power_w = 1000, .duration = H,
		  .earliest = T0 + 2 * H, .deadline = T0 + 3 * H, .sites = 1 },
	};
	struct site_load busy, idle;
	struct plan_result r;
	int64_t first;

	(void)state;
	memset(&busy, 0, sizeof(busy));
	memset(&idle, 0, sizeof(idle));
	load_add(&busy, T0 - H, 0.9 * 4 * D);	/* rho 0.86 at T0 */
	load_add(&idle, T0 - H, 0.1 * 4 * D);
	for (int loaded = 0; loaded <= 1; loaded++) {
		s.reserve = load_reserve(load_rho(loaded ? &busy : &idle, T0,
		    s.cpus));
		/* at T0 only job 1 is known */
		p.now = p.t0 = T0;
		run(&p, &s, j, 1, &r);
		first = r.a[0].start;
		assert_int_equal(r.a[0].why, loaded ? PLAN_RUN_NOW :
		    PLAN_GREEN);
		assert_int_equal(first, loaded ? T0 : T0 + 2 * H);
		plan_result_free(&r);
		/* at T0 + 2 h job 2 arrives; job 1 is done (loaded) or
		 * running */
		p.now = p.t0 = T0 + 2 * H;
		j[0].fixed = 1;
		j[0].start = first;
		run(&p, &s, j + loaded, 2 - loaded, &r);
		assert_int_equal(r.a[1 - loaded].why, loaded ? PLAN_RUN_NOW :
		    PLAN_LATE);
		assert_int_equal(r.a[1 - loaded].start, loaded ? T0 + 2 * H :
		    T0 + 3 * H);
		plan_result_free(&r);
		j[0].fixed = 0;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_shape),
		cmocka_unit_test(test_rho),
		cmocka_unit_test(test_site_reserve),
		cmocka_unit_test(test_loaded_site_leaves_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
