/*
 * test_planner: capacity is never exceeded, urgency orders starts, allowed
 * sites are respected, and a blocked wide job is not overtaken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scheduler/planner.h"

static void
test_capacity_and_order(void **state)
{
	struct plan_job jobs[] = {
		{ .id = 1, .cpus = 1, .submit_time = 10, .sites = 1 },
		{ .id = 2, .cpus = 1, .submit_time = 11, .sites = 1 },
		{ .id = 3, .cpus = 1, .submit_time = 12, .sites = 1,
		    .latest_start = 50 },
	};
	struct plan_site sites[] = { { 2, 1 << 30, 2, 1 << 30 } };
	struct plan_start out[3];
	size_t n = plan_compute(jobs, 3, sites, 1, 100, out);

	assert_int_equal(n, 2);
	assert_int_equal(out[0].job_id, 3);	/* least slack first */
	assert_int_equal(out[1].job_id, 1);
	assert_int_equal(out[0].start, 100);
	assert_int_equal(sites[0].cpus_free, 0);
}

static void
test_sites_and_memory(void **state)
{
	struct plan_job jobs[] = {
		{ .id = 1, .cpus = 2, .submit_time = 1, .sites = 2 },
		{ .id = 2, .cpus = 1, .mem = 2048, .submit_time = 2,
		    .sites = 3 },
		{ .id = 3, .cpus = 1, .mem = 100, .submit_time = 3,
		    .sites = 3 },
	};
	struct plan_site sites[] = {
		{ 4, 1024, 4, 1024 },
		{ 2, 4096, 2, 4096 },
	};
	struct plan_start out[3];
	size_t n = plan_compute(jobs, 3, sites, 2, 0, out);

	assert_int_equal(n, 2);
	assert_int_equal(out[0].job_id, 1);
	assert_int_equal(out[0].site, 1);
	/*
	 * job 2 needs 2048 bytes: site 0 can never hold it, site 1 lacks cpus
	 * now, so it reserves site 1 only and job 3 runs on site 0.
	 */
	assert_int_equal(out[1].job_id, 3);
	assert_int_equal(out[1].site, 0);
}

static void
test_no_overtaking(void **state)
{
	struct plan_job jobs[] = {
		{ .id = 1, .cpus = 4, .submit_time = 1, .sites = 1 },
		{ .id = 2, .cpus = 1, .submit_time = 2, .sites = 1 },
	};
	struct plan_site sites[] = { { 2, 100, 4, 100 } };
	struct plan_start out[2];

	assert_int_equal(plan_compute(jobs, 2, sites, 1, 0, out), 0);
}

static void
test_deterministic(void **state)
{
	struct plan_job a[64], b[64];
	struct plan_site sa[1] = { { 8, 1 << 20, 8, 1 << 20 } };
	struct plan_site sb[1] = { { 8, 1 << 20, 8, 1 << 20 } };
	struct plan_start oa[64], ob[64];
	size_t na, nb;

	for (int i = 0; i < 64; i++) {
		a[i] = (struct plan_job){ .id = i + 1, .cpus = 1 + i % 3,
		    .submit_time = (i * 7) % 13, .sites = 1 };
		b[63 - i] = a[i];
	}
	na = plan_compute(a, 64, sa, 1, 5, oa);
	nb = plan_compute(b, 64, sb, 1, 5, ob);
	assert_int_equal(na, nb);
	assert_memory_equal(oa, ob, na * sizeof(oa[0]));
	assert_true(sa[0].cpus_free >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_and_order),
		cmocka_unit_test(test_sites_and_memory),
		cmocka_unit_test(test_no_overtaking),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
