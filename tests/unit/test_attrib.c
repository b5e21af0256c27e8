/*
 * test_attrib: scheduler/attrib.c, the split of node energy across jobs:
 * exact splits worked by hand for each idle rule, more CPU time than the
 * node's busy time, bad input, and conservation (jobs + unattributed ==
 * node energy, to 1e-9 relative) over many seeded random intervals.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner/attrib.h"

static void
assert_close(double got, double want)
{
	if (fabs(got - want) > 1e-9 * fmax(fabs(want), 1))
		fail_msg("got %.12g, want %.12g", got, want);
}

/*
 * E 1000 J of which DRAM 100, 10 s, 4 cpus, half busy: active 450, idle
 * 450, busy CPU time 20 s. Job a used 10 s on 1 reserved cpu, b 5 s on 2.
 * By CPU time: a (450 + 100) x 10/20 = 275, b 137.5; 137.5 is system's.
 */
static void
split(enum attrib_idle rule, double *a, double *b, double *un)
{
	struct attrib_node node = { 1000, 100, 10, 0.5, 4, rule };
	struct attrib_job jobs[2] = { { 10, 1, -1 }, { 5, 2, -1 } };
	char err[256];

	assert_int_equal(attrib_split(&node, jobs, 2, un, err, sizeof(err)),
	    0);
	*a = jobs[0].energy_j;
	*b = jobs[1].energy_j;
}

static void
test_rules_exact(void **state)
{
	double a, b, un;

	split(ATTRIB_IDLE_NONE, &a, &b, &un);
	assert_close(a, 275);
	assert_close(b, 137.5);
	assert_close(un, 137.5 + 450);
	/* Idle 450 by CPU-time share 10:5. */
	split(ATTRIB_IDLE_PROPORTIONAL, &a, &b, &un);
	assert_close(a, 275 + 300);
	assert_close(b, 137.5 + 150);
	assert_close(un, 137.5);
	/* Idle 450 by reserved cpus over all 4: 1/4 and 2/4, 1/4 left. */
	split(ATTRIB_IDLE_BY_RESERVATION, &a, &b, &un);
	assert_close(a, 275 + 112.5);
	assert_close(b, 137.5 + 225);
	assert_close(un, 137.5 + 112.5);
}

static void
test_edge_cases(void **state)
{
	struct attrib_node node = { 400, 0, 10, 0.25, 4, ATTRIB_IDLE_NONE };
	struct attrib_job jobs[2] = { { 10, 4, 0 }, { 10, 4, 0 } };
	double un;
	char err[256];

	/* /proc/stat says 10 s busy, the jobs' cgroups 20 s: the node was
	 * half busy (u 0.5), active 200 J, by CPU time. */
	assert_int_equal(attrib_split(&node, jobs, 2, &un, err, sizeof(err)),
	    0);
	assert_close(jobs[0].energy_j, 100);
	assert_close(jobs[1].energy_j, 100);
	assert_close(un, 200);
	/* Over-reserved: idle by res / sum(res) = 8, all of it handed out. */
	node.idle = ATTRIB_IDLE_BY_RESERVATION;
	assert_int_equal(attrib_split(&node, jobs, 2, &un, err, sizeof(err)),
	    0);
	assert_close(jobs[0].energy_j, 100 + 100);
	assert_close(un, 0);
	/* The jobs claim 50 s of 40 s of CPU: all busy, and their sum is
	 * what ran (B = 50 s). */
	node.idle = ATTRIB_IDLE_NONE;
	jobs[0].cpu_s = 20;
	jobs[1].cpu_s = 30;
	assert_int_equal(attrib_split(&node, jobs, 2, &un, err, sizeof(err)),
	    0);
	assert_close(jobs[0].energy_j, 160);
	assert_close(jobs[1].energy_j, 240);
	assert_close(un, 0);
	jobs[0].cpu_s = 10;
	/* No jobs: everything is unattributed, whatever the rule. */
	node.idle = ATTRIB_IDLE_PROPORTIONAL;
	assert_int_equal(attrib_split(&node, NULL, 0, &un, err, sizeof(err)),
	    0);
	assert_close(un, 400);
	/* Busy fraction above 1 is clamped: all active, by CPU time. */
	node.busy_frac = 1.5;
	node.dram_j = 40;
	assert_int_equal(attrib_split(&node, jobs, 1, &un, err, sizeof(err)),
	    0);
	assert_close(jobs[0].energy_j, 400 * 10 / 40.0);
}

static void
test_bad_input(void **state)
{
	struct attrib_node ok = { 100, 10, 5, 0.5, 2, ATTRIB_IDLE_NONE }, n;
	struct attrib_job job = { 1, 1, 0 };
	double un;
	char err[256];

	n = ok;
	n.dram_j = 200;
	assert_int_equal(attrib_split(&n, &job, 1, &un, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "dram"));
	n = ok;
	n.interval_s = 0;
	assert_int_equal(attrib_split(&n, &job, 1, &un, err, sizeof(err)), -1);
	n = ok;
	n.busy_frac = NAN;
	assert_int_equal(attrib_split(&n, &job, 1, &un, err, sizeof(err)), -1);
	n = ok;
	n.idle = (enum attrib_idle)7;
	assert_int_equal(attrib_split(&n, &job, 1, &un, err, sizeof(err)), -1);
	job.cpu_s = -1;
	assert_int_equal(attrib_split(&ok, &job, 1, &un, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "job 0"));
}

static void
test_names(void **state)
{
	enum attrib_idle r;

	assert_int_equal(attrib_idle_parse("by-reservation", &r), 0);
	assert_int_equal(r, ATTRIB_IDLE_BY_RESERVATION);
	assert_string_equal(attrib_idle_name(r), "by-reservation");
	assert_int_equal(attrib_idle_parse("proportional", &r), 0);
	assert_int_equal(r, ATTRIB_IDLE_PROPORTIONAL);
	assert_int_equal(attrib_idle_parse("none", &r), 0);
	assert_int_equal(r, ATTRIB_IDLE_NONE);
	assert_int_equal(attrib_idle_parse("some", &r), -1);
}

static void
test_conservation_random(void **state)
{
	struct attrib_job jobs[8];
	struct attrib_node node;
	double un, sum;
	char err[256];

	srand48(20201108);
	for (int it = 0; it < 20000; it++) {
		size_t n = (size_t)(drand48() * 9);

		node.energy_j = drand48() * 1e6 * pow(10, -6 * drand48());
		node.dram_j = node.energy_j * drand48() * (it % 3 != 0);
		node.interval_s = 0.1 + drand48() * 60;
		node.ncpus = 1 + (int)(drand48() * 128);
		node.busy_frac = drand48() * 1.2 - 0.1;
		node.idle = (enum attrib_idle)(it % 3);
		for (size_t i = 0; i < n; i++) {
			jobs[i].cpu_s = drand48() * node.interval_s *
			    node.ncpus / (n + 1) * (drand48() < 0.9);
			jobs[i].reserved_cpus = floor(drand48() * node.ncpus);
		}
		assert_int_equal(attrib_split(&node, jobs, n, &un, err,
		    sizeof(err)), 0);
		sum = un;
		for (size_t i = 0; i < n; i++) {
			assert_true(jobs[i].energy_j >= 0);
			sum += jobs[i].energy_j;
		}
		assert_true(un >= -1e-9 * node.energy_j);
		if (fabs(sum - node.energy_j) > 1e-9 * node.energy_j)
			fail_msg("iteration %d: %.17g != %.17g", it, sum,
			    node.energy_j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_exact),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_conservation_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
