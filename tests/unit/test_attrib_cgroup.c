/*
 * test_attrib_cgroup: attribution from real cgroup CPU time. Two CPU
 * burners with a 1:3 work ratio (0.25 s and 0.75 s of CPU) run at the same
 * time in two real cgroups made with runner/cgroup.h; their CPU-time
 * deltas split a synthetic node energy, and the shares must be within 3 %
 * of 1:3. Needs root and a cgroup file system; skips, saying why, if not.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/cgroup.h"
#include "runner/attrib.h"

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Forks a child that joins g and burns `secs` of CPU. */
static pid_t
burner(struct cg *g, double secs)
{
	volatile uint64_t x = 0;
	char err[256];
	pid_t pid;
	double t0;

	assert_int_not_equal(pid = fork(), -1);
	if (pid != 0)
		return pid;
	if (cg_attach(g, getpid(), err, sizeof(err)) == -1)
		_exit(1);
	t0 = cpu_now();
	while (cpu_now() - t0 < secs)
		for (int i = 0; i < 10000; i++)
			x += (uint64_t)i;
	_exit(x == 0);	/* uses x: clang warns of a variable only set */
}

static void
test_two_burners(void **state)
{
	enum cg_mode mode = cg_detect();
	struct cg *g[2];
	const double work[2] = { 0.25, 0.75 };
	struct attrib_job jobs[2];
	struct attrib_node node = { 1000, 0, 0.75, 1, 2,
	    ATTRIB_IDLE_PROPORTIONAL };
	char parent[64], name[96], err[256];
	int64_t before[2], after[2];
	pid_t pid[2];
	double un, ratio;
	int unavailable, st;

	if (geteuid() != 0 || mode == CG_NONE) {
		print_message("skip: needs root and a mounted cgroup file "
		    "system\n");
		skip();
	}
	snprintf(parent, sizeof(parent), "ebb-test-attrib-%d", (int)getpid());
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s/job-%d", parent, i);
		g[i] = cg_create(name, mode, 0, &unavailable, err, sizeof(err));
		if (g[i] == NULL && unavailable) {
			print_message("skip: cgroups unusable here: %s\n", err);
			skip();
		}
		assert_non_null(g[i]);
		assert_int_equal(cg_cpu_usec(g[i], &before[i], err,
		    sizeof(err)), 0);
	}
	for (int i = 0; i < 2; i++)
		pid[i] = burner(g[i], work[i]);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		assert_int_equal(cg_cpu_usec(g[i], &after[i], err,
		    sizeof(err)), 0);
		jobs[i].cpu_s = (double)(after[i] - before[i]) / 1e6;
		jobs[i].reserved_cpus = 1;
		/* The kernel saw at least the work asked for. */
		assert_true(jobs[i].cpu_s >= work[i] * 0.99);
	}
	assert_int_equal(attrib_split(&node, jobs, 2, &un, err, sizeof(err)),
	    0);
	ratio = jobs[1].energy_j / jobs[0].energy_j;
	print_message("cpu %.3f s : %.3f s, energy %.1f J : %.1f J "
	    "(ratio %.3f), unattributed %.1f J\n", jobs[0].cpu_s,
	    jobs[1].cpu_s, jobs[0].energy_j, jobs[1].energy_j, ratio, un);
	assert_true(ratio > 3 * 0.97 && ratio < 3 * 1.03);
	for (int i = 0; i < 2; i++)
		assert_int_equal(cg_destroy(g[i], err, sizeof(err)), 0);
	cg_prune(parent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_burners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
