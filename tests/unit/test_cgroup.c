/*
 * test_cgroup: runner/cgroup.c against the real cgroup file systems of this
 * machine, once through the v1 hierarchies and once through cgroup2 (on a
 * hybrid host that is the tree at /sys/fs/cgroup/unified). Needs root; it
 * skips, saying why, where a mode is not mounted.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/cgroup.h"

#define MIB		(1024 * 1024)
#define TOUCH_MIB	64

static const enum cg_mode mode_v1 = CG_LEGACY;
static const enum cg_mode mode_v2 = CG_UNIFIED;

/* The group every test uses; parents are removed by the test itself. */
static char parent[64], name[96];

/* Where a group named n lives in every hierarchy this host has. */
static const char *const roots[] = { "/sys/fs/cgroup/cpuacct",
    "/sys/fs/cgroup/memory", "/sys/fs/cgroup/freezer",
    "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

static int
exists_anywhere(const char *n)
{
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", roots[i], n);
		if (access(path, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* Skips the test where the machine lacks what it needs. */
static void
require(void **state)
{
	enum cg_mode host = cg_detect(), want = **(enum cg_mode **)state;

	if (geteuid() != 0) {
		print_message("skip: needs root to create cgroups\n");
		skip();
	}
	if (host == CG_NONE) {
		print_message("skip: no cgroup file system mounted\n");
		skip();
	}
	if (want == CG_LEGACY && host == CG_UNIFIED) {
		print_message("skip: no cgroup v1 hierarchies on this host\n");
		skip();
	}
	if (want == CG_UNIFIED && host == CG_LEGACY) {
		print_message("skip: no cgroup2 mount on this host\n");
		skip();
	}
}

static int
mode_setup(void **state)
{
	snprintf(parent, sizeof(parent), "ebbtest-%ld", (long)getpid());
	snprintf(name, sizeof(name), "%s/inst/job-1", parent);
	return 0;
}

static int
mode_teardown(void **state)
{
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/inst", roots[i], parent);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/%s", roots[i], parent);
		rmdir(path);
	}
	return 0;
}

static struct cg *
make(void **state, int64_t mem)
{
	char err[256];
	int unavailable = -1;
	struct cg *g;

	require(state);
	g = cg_create(name, **(enum cg_mode **)state, mem, &unavailable, err,
	    sizeof(err));
	if (g == NULL)
		fail_msg("cg_create: %s", err);
	assert_int_equal(unavailable, 0);
	return g;
}

static void
destroy(struct cg *g)
{
	char err[256];

	if (cg_destroy(g, err, sizeof(err)) == -1)
		fail_msg("cg_destroy: %s", err);
	assert_false(exists_anywhere(name));
}

static int64_t
usec(const struct cg *g)
{
	char err[256];
	int64_t u;

	if (cg_cpu_usec(g, &u, err, sizeof(err)) == -1)
		fail_msg("cg_cpu_usec: %s", err);
	return u;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
burn(void *arg)
{
	double until = thread_cpu_s() + *(double *)arg;
	volatile unsigned long x = 0;

	while (thread_cpu_s() < until)
		x++;
	return NULL;
}

/* A forked child that joins the group itself, then runs fn. */
static pid_t
child_in(struct cg *g, void (*fn)(void))
{
	pid_t pid = fork();
	char err[256];

	assert_true(pid >= 0);
	if (pid == 0) {
		if (cg_attach(g, getpid(), err, sizeof(err)) == -1)
			_exit(99);
		fn();
		_exit(0);
	}
	return pid;
}

static void
spin_forever(void)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
}

static void
touch_memory(void)
{
	volatile char *p = mmap(NULL, (size_t)TOUCH_MIB * MIB,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(96);
	for (size_t i = 0; i < (size_t)TOUCH_MIB * MIB; i += 4096)
		p[i] = 1;
}

/*
 * A child with two threads is attached by the parent; both threads burn
 * 0.3 s. Only a whole-process attach (cgroup.procs) counts both.
 */
static void
test_cpu_usage(void **state)
{
	struct cg *g = make(state, 0);
	int go[2], ready[2], status;
	struct rusage ru;
	char err[256], c;
	double want;
	int64_t got;
	pid_t pid;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		double secs = 0.3;
		pthread_t t;

		pthread_create(&t, NULL, burn, &secs);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(98);
		burn(&secs);
		pthread_join(t, NULL);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	if (cg_attach(g, pid, err, sizeof(err)) == -1)
		fail_msg("cg_attach: %s", err);
	assert_int_equal(cg_nprocs(g, err, sizeof(err)), 1);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_int_equal(status, 0);
	want = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	got = usec(g);
	print_message("cgroup %" PRId64 " us, rusage %.0f us\n", got, want);
	assert_true(want >= 550000);
	assert_true((double)got > want * 0.9 && (double)got < want * 1.1);
	/* Usage stays after the processes have gone. */
	assert_int_equal(cg_nprocs(g, err, sizeof(err)), 0);
	assert_true(usec(g) >= got);
	destroy(g);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

static void
test_peak_memory(void **state)
{
	struct cg *g = make(state, 0);
	pid_t pid = child_in(g, touch_memory);
	int status;
	int64_t peak;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	peak = cg_peak_mem(g);
	print_message("peak %" PRId64 " bytes\n", peak);
	if (**(enum cg_mode **)state == CG_UNIFIED &&
	    access("/sys/fs/cgroup/unified", F_OK) == 0)
		/* Hybrid: memory is a v1 controller, cgroup2 has no peak. */
		assert_int_equal(peak, -1);
	else {
		assert_true(peak >= (int64_t)TOUCH_MIB * MIB);
		assert_true(peak < (int64_t)(TOUCH_MIB + 32) * MIB);
	}
	destroy(g);
}

static void
test_mem_limit(void **state)
{
	struct cg *g = make(state, 32 * MIB);
	char path[256], buf[64] = "";
	FILE *f;

	if (**(enum cg_mode **)state == CG_LEGACY)
		snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s/"
		    "memory.limit_in_bytes", name);
	else
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/memory.max",
		    cg_detect() == CG_HYBRID ? "unified/" : "", name);
	if ((f = fopen(path, "r")) == NULL) {
		destroy(g);
		print_message("skip: no memory controller here (%s)\n", path);
		skip();
	}
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strtoll(buf, NULL, 10), 32 * MIB);
	destroy(g);
}

static void
test_freeze(void **state)
{
	struct cg *g = make(state, 0);
	pid_t pid = child_in(g, spin_forever);
	char err[256];
	int64_t u1, u2, u3;
	int status;

	sleep_ms(100);
	if (cg_freeze(g, 1, err, sizeof(err)) == -1)
		fail_msg("freeze: %s", err);
	u1 = usec(g);
	sleep_ms(300);
	u2 = usec(g);
	assert_true(u2 - u1 < 5000);
	if (cg_freeze(g, 0, err, sizeof(err)) == -1)
		fail_msg("thaw: %s", err);
	sleep_ms(500);
	u3 = usec(g);
	assert_true(u3 - u2 > 50000);
	/* Killing a frozen group thaws it first. */
	if (cg_freeze(g, 1, err, sizeof(err)) == -1)
		fail_msg("freeze: %s", err);
	if (cg_signal(g, SIGKILL, err, sizeof(err)) == -1)
		fail_msg("cg_signal: %s", err);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	destroy(g);
}

static void
ignore_term_and_fork(void)
{
	signal(SIGTERM, SIG_IGN);
	for (int i = 0; i < 3; i++)
		if (fork() == 0) {
			setsid();	/* out of our process group */
			for (;;)
				pause();
		}
	for (;;)
		pause();
}

static void
test_kill(void **state)
{
	struct cg *g = make(state, 0);
	pid_t pid = child_in(g, ignore_term_and_fork);
	char err[256];
	int status, n = 0;

	for (int i = 0; i < 200 && (n = cg_nprocs(g, err, sizeof(err))) < 4;
	    i++)
		sleep_ms(10);
	assert_int_equal(n, 4);
	if (cg_signal(g, SIGTERM, err, sizeof(err)) == -1)
		fail_msg("cg_signal: %s", err);
	sleep_ms(100);
	assert_int_equal(cg_nprocs(g, err, sizeof(err)), 4);
	if (cg_signal(g, SIGKILL, err, sizeof(err)) == -1)
		fail_msg("cg_signal: %s", err);
	assert_int_equal(cg_nprocs(g, err, sizeof(err)), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	destroy(g);
}

/* Destroying a group with live processes kills them and leaves nothing. */
static void
test_destroy_live(void **state)
{
	struct cg *g = make(state, 0);
	pid_t pid = child_in(g, spin_forever);
	int status;

	sleep_ms(50);
	assert_true(exists_anywhere(name));
	destroy(g);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void
test_refuses(void **state)
{
	struct cg *g = make(state, 0);
	char err[256];
	int unavailable = -1;

	assert_null(cg_create(name, **(enum cg_mode **)state, 0, &unavailable,
	    err, sizeof(err)));
	assert_int_equal(unavailable, 0);
	assert_non_null(strstr(err, "already exists"));
	destroy(g);
	assert_null(cg_create("../etc", **(enum cg_mode **)state, 0,
	    &unavailable, err, sizeof(err)));
	assert_null(cg_create("/abs", **(enum cg_mode **)state, 0,
	    &unavailable, err, sizeof(err)));
	assert_null(cg_create("a/../../b", **(enum cg_mode **)state, 0,
	    &unavailable, err, sizeof(err)));
}

/* Not root and nothing delegated: "unavailable", so callers fall back. */
static void
test_unprivileged(void **state)
{
	enum cg_mode m = **(enum cg_mode **)state;
	int status;
	pid_t pid;

	require(state);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		int unavailable = 0;
		struct cg *g;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(97);
		g = cg_create(name, m, 0, &unavailable, err, sizeof(err));
		_exit(g == NULL && unavailable &&
		    strstr(err, "no cgroups available") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_false(exists_anywhere(name));
}

#define BOTH(f) \
	{ #f "/v1", f, mode_setup, mode_teardown, (void *)&mode_v1 }, \
	{ #f "/v2", f, mode_setup, mode_teardown, (void *)&mode_v2 }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_cpu_usage),
		BOTH(test_peak_memory),
		BOTH(test_mem_limit),
		BOTH(test_freeze),
		BOTH(test_kill),
		BOTH(test_destroy_live),
		BOTH(test_refuses),
		BOTH(test_unprivileged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
