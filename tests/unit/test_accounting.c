/*
 * test_accounting: emissions from energy and intensity
 * (scheduler/accounting.c) on a hand-made three-slot series: whole and
 * partial slots, PUE, several run intervals (a paused interruptible job),
 * uneven energy, slots without intensity, and bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/accounting.h"

#define T0	1672531200LL	/* 2023-01-01T00:00:00Z */
#define SLOT	1800
#define EPS	1e-9

/* 100, 200, 300 g/kWh in three 30-minute slots, then unknown. */
static const double ci[] = { 100, 200, 300, NAN };
static const struct acct_series ser = { T0, SLOT, 4, ci };

static void
whole_slot(void **state)
{
	int64_t s = T0, e = T0 + SLOT;
	struct acct_result r;
	char err[128];

	/* 1 kW for 30 min = 0.5 kWh at 100 g/kWh. */
	assert_int_equal(acct_power(&ser, 1.0, 1000, &s, &e, 1, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 0.5, EPS);
	assert_float_equal(r.emissions_g, 50.0, EPS);
	assert_float_equal(r.unknown_kwh, 0, EPS);
}

static void
partial_slots_and_pue(void **state)
{
	int64_t s = T0 + 900, e = T0 + 2700;
	struct acct_result r;
	char err[128];

	/* 0.25 kWh in slot 0 and 0.25 kWh in slot 1, times PUE 1.5. */
	assert_int_equal(acct_power(&ser, 1.5, 1000, &s, &e, 1, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 0.5, EPS);
	assert_float_equal(r.emissions_g, 1.5 * (0.25 * 100 + 0.25 * 200),
	    EPS);
	/* 20 seconds inside one slot. */
	s = T0 + SLOT + 10;
	e = s + 20;
	assert_int_equal(acct_power(&ser, 1.0, 3600, &s, &e, 1, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 0.02, EPS);
	assert_float_equal(r.emissions_g, 0.02 * 200, EPS);
}

static void
interruptible_runs(void **state)
{
	/* Ran in slot 0, paused through slot 1, ran half of slot 2. */
	int64_t s[] = { T0, T0 + 2 * SLOT }, e[] = { T0 + SLOT,
	    T0 + 2 * SLOT + 900 };
	struct acct_result r;
	char err[128];

	assert_int_equal(acct_power(&ser, 1.2, 2000, s, e, 2, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 1.0 + 0.5, EPS);
	assert_float_equal(r.emissions_g, 1.2 * (1.0 * 100 + 0.5 * 300), EPS);
}

static void
many_runs(void **state)
{
	int64_t s[40], e[40];
	struct acct_result r;
	char err[128];

	/*
	 * 40 runs of 30 s, a minute apart, from slot 1 on: 30 in slot 1, 10
	 * in slot 2; more than one batch of acct_power.
	 */
	for (int i = 0; i < 40; i++) {
		s[i] = T0 + SLOT + i * 60;
		e[i] = s[i] + 30;
	}
	assert_int_equal(acct_power(&ser, 1.0, 1200, s, e, 40, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 40 * 1200.0 * 30 / 3.6e6, EPS);
	assert_float_equal(r.emissions_g, (30 * 200 + 10 * 300) * 0.01, EPS);
}

static void
uneven_energy(void **state)
{
	/* Measured samples: 3 kWh in slot 0, 1 kWh spread over slots 1-2. */
	struct acct_use u[] = {
		{ T0, T0 + SLOT, 3.0 },
		{ T0 + SLOT, T0 + 3 * SLOT, 1.0 },
	};
	struct acct_result r;
	char err[128];

	assert_int_equal(acct_energy(&ser, 1.0, u, 2, &r, err, sizeof(err)),
	    0);
	assert_float_equal(r.energy_kwh, 4.0, EPS);
	assert_float_equal(r.emissions_g, 300 + 0.5 * 200 + 0.5 * 300, EPS);
}

static void
unknown_intensity(void **state)
{
	/* Slot 2 known; slot 3 NAN; before t0 outside the series. */
	int64_t s[] = { T0 - 900, T0 + 2 * SLOT }, e[] = { T0,
	    T0 + 4 * SLOT + 600 };
	struct acct_result r;
	char err[128];

	assert_int_equal(acct_power(&ser, 1.0, 1000, s, e, 2, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, (900 + 2 * SLOT + 600) / 3600.0, EPS);
	assert_float_equal(r.emissions_g, 0.5 * 300, EPS);
	assert_float_equal(r.unknown_kwh, (900 + SLOT + 600) / 3600.0, EPS);
}

static void
bad_input(void **state)
{
	int64_t s = T0 + 60, e = T0;
	struct acct_use u = { T0, T0 + 60, -1 };
	struct acct_series noslot = { T0, 0, 4, ci };
	struct acct_result r;
	char err[128];

	assert_int_equal(acct_power(&ser, 1.0, 1000, &s, &e, 1, &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "empty, reversed"));
	e = s;
	assert_int_equal(acct_power(&ser, 1.0, 1000, &s, &e, 1, &r, err,
	    sizeof(err)), -1);
	assert_int_equal(acct_energy(&ser, 1.0, &u, 1, &r, err, sizeof(err)),
	    -1);
	assert_int_equal(acct_energy(&ser, 0.9, NULL, 0, &r, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "PUE 0.9 is not at least 1");
	assert_int_equal(acct_energy(&noslot, 1.0, NULL, 0, &r, err,
	    sizeof(err)), -1);
	assert_int_equal(acct_power(&ser, 1.0, -5, NULL, NULL, 0, &r, err,
	    sizeof(err)), -1);
	/* Nothing to account is fine. */
	assert_int_equal(acct_power(&ser, 1.0, 100, NULL, NULL, 0, &r, err,
	    sizeof(err)), 0);
	assert_float_equal(r.energy_kwh, 0, EPS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_slot),
		cmocka_unit_test(partial_slots_and_pue),
		cmocka_unit_test(interruptible_runs),
		cmocka_unit_test(many_runs),
		cmocka_unit_test(uneven_energy),
		cmocka_unit_test(unknown_intensity),
		cmocka_unit_test(bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
