/*
 * test_energy: runner/energy*.c against fake powercap and procfs trees in
 * a temporary directory. The test writes the counters itself and advances
 * them at known watts over simulated time, so no RAPL and no real time are
 * needed: two packages with dram subzones, a psys zone, a core subzone and
 * an intel-rapl-mmio duplicate that must be ignored, counters that wrap,
 * a counter that becomes unreadable, and (in a child running as nobody)
 * root-only energy_uj files. NVML is absent on most machines: that part
 * checks the reason given and skips the measurement, saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "runner/energy.h"
#include "tests/unit/testutil.h"

#define RANGE_PKG	262143328850ULL		/* 2^32 x 61 µJ */
#define RANGE_DRAM	65712999613ULL		/* 2^32 x 15.3 µJ */

struct fzone {
	const char	*dir, *name;
	uint64_t	 range, uj;
	double		 watts;
	double		 truth_j;
	int		 on;		/* in the tree */
};

/* The fake machine: dir, name, range, start counter, watts. */
static struct fzone fz[] = {
	{ "intel-rapl:0", "package-0", RANGE_PKG, RANGE_PKG - 3055555555ULL,
	    120, 0, 0 },
	{ "intel-rapl:0:0", "core", RANGE_PKG, 0, 90, 0, 0 },
	{ "intel-rapl:0:1", "dram", RANGE_DRAM, 1000, 10, 0, 0 },
	{ "intel-rapl:1", "package-1", RANGE_PKG, 5000000, 80, 0, 0 },
	{ "intel-rapl:1:0", "dram", RANGE_DRAM, RANGE_DRAM - 5, 12, 0, 0 },
	{ "intel-rapl:2", "psys", RANGE_PKG, 42, 250, 0, 0 },
	{ "intel-rapl-mmio:0", "package-0", RANGE_PKG, 0, 120, 0, 0 },
};
#define NFZ	(sizeof(fz) / sizeof(fz[0]))

static void
put(mode_t mode, const char *text, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
root_of(const char *sub)
{
	return xasprintf("%s/%s", tu_tmpdir(), sub);
}

static void
write_counter(const struct fzone *z, mode_t mode)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64 "\n", z->uj);
	put(mode, v, "%s/powercap/%s/energy_uj", tu_tmpdir(), z->dir);
}

/* Builds the powercap tree; with_psys 0 leaves intel-rapl:2 out. */
static void
make_tree(int with_psys, mode_t energy_mode)
{
	char path[512], v[32];

	assert_int_equal(chmod(tu_tmpdir(), 0755), 0);
	snprintf(path, sizeof(path), "%s/powercap", tu_tmpdir());
	assert_int_equal(mkdir(path, 0755), 0);
	for (size_t i = 0; i < NFZ; i++) {
		fz[i].on = with_psys || strcmp(fz[i].name, "psys") != 0;
		if (!fz[i].on)
			continue;
		snprintf(path, sizeof(path), "%s/powercap/%s", tu_tmpdir(),
		    fz[i].dir);
		assert_int_equal(mkdir(path, 0755), 0);
		put(0444, fz[i].name, "%s/name", path);
		snprintf(v, sizeof(v), "%" PRIu64 "\n", fz[i].range);
		put(0444, v, "%s/max_energy_range_uj", path);
		fz[i].truth_j = 0;
		write_counter(&fz[i], energy_mode);
	}
}

/* Advances every counter by watts x dt, wrapping at range + 1. */
static void
advance(double dt)
{
	for (size_t i = 0; i < NFZ; i++) {
		uint64_t add = (uint64_t)llround(fz[i].watts * dt * 1e6);

		fz[i].uj = (fz[i].uj + add) % (fz[i].range + 1);
		fz[i].truth_j += (double)add / 1e6;
		if (fz[i].on)
			write_counter(&fz[i], 0644);
	}
}

static double
truth(const char *name)
{
	for (size_t i = 0; i < NFZ; i++)
		if (strcmp(fz[i].name, name) == 0 &&
		    strncmp(fz[i].dir, "intel-rapl:", 11) == 0)
			return fz[i].truth_j;
	fail_msg("no zone %s", name);
	return 0;
}

static void
assert_close(double got, double want, double rel)
{
	if (fabs(got - want) > rel * fabs(want))
		fail_msg("got %.9g, want %.9g (within %g)", got, want, rel);
}

static void
test_delta_and_period(void **state)
{
	assert_int_equal(energy_delta_uj(10, 25, 0), 15);
	assert_int_equal(energy_delta_uj(90, 5, 100), 15);
	assert_int_equal(energy_delta_uj(90, 5, 0), 0);
	/* 262 kJ at 500 W lasts 524 s: the 1 s default caps it. */
	assert_true(energy_sample_period(RANGE_PKG, 500) == 1.0);
	/* 100 J at 500 W wraps in 0.2 s; the default max power is 500 W. */
	assert_close(energy_sample_period(100000000, 500), 0.2, 1e-12);
	assert_close(energy_sample_period(100000000, 0), 0.2, 1e-12);
	assert_close(energy_sample_period(100000000, 1000), 0.1, 1e-12);
	assert_true(energy_sample_period(0, 500) == 1.0);
}

static void
test_rapl_zones_and_wraps(void **state)
{
	struct energy_meter *m;
	struct energy_delta d;
	struct energy_config cfg = { 0 };
	const char *want[] = { "package-0", "dram-0", "package-1", "dram-1",
	    "psys" };
	double pkg = 0, dram = 0, psys = 0, node = 0;
	char err[512];

	make_tree(1, 0644);
	cfg.powercap_root = root_of("powercap");
	m = energy_meter_open(&energy_rapl_ops, NULL, &cfg, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	assert_int_equal(d.primed, 0);
	assert_int_equal(energy_meter_min_range_uj(m), RANGE_DRAM);
	for (int step = 0; step < 60; step++) {
		advance(1.0);
		assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)),
		    0);
		assert_int_equal(d.primed, 1);
		assert_int_equal(d.nzones, 5);
		for (size_t i = 0; i < 5; i++)
			assert_string_equal(d.zone[i].name, want[i]);
		assert_string_equal(d.method, "rapl");
		assert_true(d.rel_uncertainty == 0);
		/* psys covers the platform: it is the node, not a sum. */
		assert_true(d.node_j == d.psys_j);
		/* Every interval, wrapped or not, is right on its own. */
		assert_close(d.zone[0].j, 120, 1e-3);
		assert_close(d.zone[3].j, 12, 1e-3);
		pkg += d.package_j;
		dram += d.dram_j;
		psys += d.psys_j;
		node += d.node_j;
	}
	/* package-0 wrapped once mid-interval, dram-1 right at the limit. */
	assert_close(pkg, truth("package-0") + truth("package-1"), 1e-3);
	assert_close(dram, (10 + 12) * 60, 1e-3);
	assert_close(pkg, (120 + 80) * 60, 1e-3);
	assert_close(psys, 250 * 60, 1e-3);
	assert_close(node, 250 * 60, 1e-3);
	energy_meter_free(m);
	free((char *)cfg.powercap_root);
}

static void
test_rapl_without_psys(void **state)
{
	struct energy_config cfg = { 0 };
	struct energy_meter *m;
	struct energy_delta d;
	char err[512];

	make_tree(0, 0644);
	cfg.powercap_root = root_of("powercap");
	assert_non_null(m = energy_meter_open(&energy_rapl_ops, NULL, &cfg,
	    err, sizeof(err)));
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	advance(7.5);
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nzones, 4);
	assert_close(d.node_j, (120 + 80 + 10 + 12) * 7.5, 1e-3);
	assert_true(d.psys_j == 0);
	energy_meter_free(m);
	free((char *)cfg.powercap_root);
}

static void
test_rapl_counter_unreadable(void **state)
{
	struct energy_config cfg = { 0 };
	struct energy_meter *m;
	struct energy_delta d;
	char err[512], path[512];

	make_tree(1, 0644);
	cfg.powercap_root = root_of("powercap");
	assert_non_null(m = energy_meter_open(&energy_rapl_ops, NULL, &cfg,
	    err, sizeof(err)));
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/powercap/intel-rapl:1:0/energy_uj",
	    tu_tmpdir());
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "intel-rapl:1:0/energy_uj"));
	assert_non_null(strstr(err, strerror(EISDIR)));
	energy_meter_free(m);
	free((char *)cfg.powercap_root);
}

/* A fake /proc with stat counters for two cpus and a cpuinfo. */
static void
write_stat(uint64_t user, uint64_t sys, uint64_t idle, uint64_t iowait)
{
	char text[512];

	snprintf(text, sizeof(text),
	    "cpu  %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 0 0 0\n"
	    "cpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\n"
	    "intr 0\nctxt 0\n", user, sys, idle, iowait);
	put(0644, text, "%s/proc/stat", tu_tmpdir());
}

static void
make_proc(const char *model, int packages)
{
	char path[512], *text = xstrdup("");

	snprintf(path, sizeof(path), "%s/proc", tu_tmpdir());
	if (mkdir(path, 0755) == -1)
		assert_int_equal(errno, EEXIST);
	for (int p = 0; p < packages; p++) {
		char *t = xasprintf("%sprocessor\t: %d\nmodel name\t: %s\n"
		    "physical id\t: %d\n\n", text, p, model, p);

		free(text);
		text = t;
	}
	put(0644, text, "%s/cpuinfo", path);
	free(text);
	write_stat(1000, 1000, 1000, 0);
}

/* Energy of the model over one interval after the counters moved. */
static double
model_interval(const struct energy_config *cfg, uint64_t du, uint64_t ds,
    uint64_t di, uint64_t dw, struct energy_delta *d)
{
	struct energy_meter *m;
	char err[512];

	write_stat(1000, 1000, 1000, 0);
	assert_non_null(m = energy_meter_open(&energy_model_ops, NULL, cfg,
	    err, sizeof(err)));
	assert_int_equal(energy_meter_sample(m, d, err, sizeof(err)), 0);
	write_stat(1000 + du, 1000 + ds, 1000 + di, dw);
	assert_int_equal(energy_meter_sample(m, d, err, sizeof(err)), 0);
	energy_meter_free(m);
	return d->node_j;
}

static void
test_model_exact(void **state)
{
	struct energy_config cfg = { 0 };
	struct energy_delta d;
	uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);

	cfg.procfs_root = root_of("proc");
	make_proc("Intel(R) Xeon(R) Processor @ 2.50GHz", 1);
	cfg.idle_w = 50;
	cfg.max_w = 150;
	/* 2 cpus x 10 s: busy 3+2 of 20 parts, iowait counts as idle. */
	assert_close(model_interval(&cfg, 3 * hz, 2 * hz, 14 * hz, 1 * hz,
	    &d), (50 + 100 * 0.25) * 10, 1e-9);
	assert_string_equal(d.method, "model");
	assert_string_equal(d.zone[0].name, "model");
	assert_close(d.rel_uncertainty, 0.30, 1e-12);
	assert_close(d.model_j, d.node_j, 1e-12);

	/* The table: two EPYC 7763 packages, 280 W each, busy all 10 s. */
	cfg.idle_w = cfg.max_w = 0;
	make_proc("AMD EPYC 7763 64-Core Processor", 2);
	assert_close(model_interval(&cfg, 20 * hz, 0, 0, 0, &d), 5600, 1e-9);
	/* Idle all 10 s: 30 % of it. */
	assert_close(model_interval(&cfg, 0, 0, 20 * hz, 0, &d), 1680, 1e-9);

	/* Unknown model: 4 W per cpu, idle 30 % of that, over 10 s. */
	make_proc("Imaginary CPU 9000", 1);
	assert_close(model_interval(&cfg, 0, 0, 20 * hz, 0, &d), 24, 1e-9);
	free((char *)cfg.procfs_root);
}

/*
 * A restarted ebbd takes up the model's last reading, as it does RAPL's:
 * the energy while it was down is counted, not dropped (the model's
 * counter once started from 0 in each process, so the first interval
 * after every restart read as a counter gone backwards).
 */
static void
test_model_restore(void **state)
{
	struct energy_config cfg = { 0 };
	struct energy_reading r[ENERGY_MAX_ZONES];
	struct energy_meter *m;
	struct energy_delta d;
	uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
	char err[512];
	size_t n;

	cfg.procfs_root = root_of("proc");
	make_proc("Imaginary CPU 9000", 1);
	cfg.idle_w = 50;
	cfg.max_w = 150;
	assert_non_null(m = energy_meter_open(&energy_model_ops, NULL, &cfg,
	    err, sizeof(err)));
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	n = energy_meter_save(m, r, ENERGY_MAX_ZONES);
	assert_int_equal(n, 1);
	energy_meter_free(m);

	/* Down for 10 s of 2 cpus, half busy; then a new process. */
	write_stat(1000 + 10 * hz, 1000, 1000 + 10 * hz, 0);
	assert_non_null(m = energy_meter_open(&energy_model_ops, NULL, &cfg,
	    err, sizeof(err)));
	assert_int_equal(energy_meter_restore(m, r, n), 0);
	write_stat(1000 + 11 * hz, 1000, 1000 + 11 * hz, 0);
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	assert_true(d.primed);
	assert_false(d.zone[0].dropped);
	assert_close(d.node_j, (50 + 100 * 0.5) * 11, 1e-9);
	energy_meter_free(m);
	free((char *)cfg.procfs_root);
}

/* What a non-root ebbd sees: RAPL there, energy_uj root-only. */
static void
test_rapl_eacces_falls_back(void **state)
{
	struct energy_config cfg = { 0 };
	pid_t pid;
	int st;

	make_tree(1, 0400);
	make_proc("Imaginary CPU 9000", 1);
	cfg.powercap_root = root_of("powercap");
	cfg.procfs_root = root_of("proc");
	if (geteuid() != 0) {
		free((char *)cfg.powercap_root);
		free((char *)cfg.procfs_root);
		print_message("skip: needs root to make a root-only file\n");
		skip();
	}
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		struct energy_meter *m;
		const char *note, *p;
		char err[512];
		int n = 0;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(10);
		if ((m = energy_open_best(&cfg, err, sizeof(err))) == NULL)
			_exit(11);
		if (strcmp(energy_meter_method(m), "rapl-unreadable->model"))
			_exit(12);
		note = energy_meter_note(m);
		for (p = note; (p = strstr(p, "Permission denied")) != NULL;
		    p++)
			n++;
		if (n != 1 || strstr(note, "CVE-2020-8694") == NULL ||
		    strstr(note, "energy_uj") == NULL)
			_exit(13);
		energy_meter_free(m);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	free((char *)cfg.powercap_root);
	free((char *)cfg.procfs_root);
}

static void
test_best_as_root(void **state)
{
	struct energy_config cfg = { 0 };
	struct energy_meter *m;
	char err[512];

	make_tree(1, 0400);
	make_proc("Imaginary CPU 9000", 1);
	cfg.powercap_root = root_of("powercap");
	cfg.procfs_root = root_of("proc");
	cfg.nvml_lib = "libnvidia-ml-absent.so.1";
	assert_non_null(m = energy_open_best(&cfg, err, sizeof(err)));
	if (geteuid() == 0)
		assert_string_equal(energy_meter_method(m), "rapl");
	assert_non_null(strstr(energy_meter_note(m),
	    "nvml: unavailable: libnvidia-ml-absent.so.1"));
	energy_meter_free(m);
	/* No powercap at all: plain model, and the note says why. */
	free((char *)cfg.powercap_root);
	cfg.powercap_root = root_of("nothing");
	assert_non_null(m = energy_open_best(&cfg, err, sizeof(err)));
	assert_string_equal(energy_meter_method(m), "model");
	assert_non_null(strstr(energy_meter_note(m), "rapl: no RAPL"));
	energy_meter_free(m);
	free((char *)cfg.powercap_root);
	free((char *)cfg.procfs_root);
}

static void
test_nvml(void **state)
{
	struct energy_meter *m;
	struct energy_delta d;
	char err[512];
	int present;
	void *h;

	h = energy_nvml_ops.open(NULL, &present, err, sizeof(err));
	if (h == NULL) {
		if (present == 0)
			assert_true(strncmp(err,
			    "unavailable: libnvidia-ml.so.1: ", 32) == 0);
		print_message("skip: no GPU energy to measure here (%s)\n",
		    err);
		skip();
	}
	energy_nvml_ops.close(h);
	assert_non_null(m = energy_meter_open(&energy_model_ops,
	    &energy_nvml_ops, NULL, err, sizeof(err)));
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	usleep(200000);
	assert_int_equal(energy_meter_sample(m, &d, err, sizeof(err)), 0);
	assert_true(d.nzones >= 2);
	assert_string_equal(d.zone[1].name, "gpu-0");
	assert_true(d.gpu_j > 0);
	energy_meter_free(m);
}

/*
 * ebbd opens the meter as root and samples it after its worker dropped to
 * an ordinary user: root-only counters (mode 0400, as on current kernels)
 * are read through the descriptors opened first.
 */
static void
test_rapl_root_only_after_drop(void **state)
{
	struct energy_config cfg = { 0 };
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		print_message("skip: needs root to drop privileges\n");
		skip();
	}
	make_tree(1, 0400);
	cfg.powercap_root = root_of("powercap");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct energy_meter *m;
		struct energy_delta d;
		char err[512], path[512], v[32];
		int fd;

		if ((m = energy_meter_open(&energy_rapl_ops, NULL, &cfg, err,
		    sizeof(err))) == NULL ||
		    energy_meter_sample(m, &d, err, sizeof(err)) == -1)
			_exit(10);
		/* The counters move (in place, as sysfs ones do). */
		for (size_t i = 0; i < NFZ; i++) {
			if (!fz[i].on)
				continue;
			snprintf(path, sizeof(path), "%s/powercap/%s/energy_uj",
			    tu_tmpdir(), fz[i].dir);
			snprintf(v, sizeof(v), "%" PRIu64 "\n", (fz[i].uj +
			    (uint64_t)(fz[i].watts * 1e6)) % (fz[i].range + 1));
			if ((fd = open(path, O_WRONLY | O_TRUNC)) == -1 ||
			    write(fd, v, strlen(v)) != (ssize_t)strlen(v))
				_exit(11);
			close(fd);
		}
		if (setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1)
			_exit(12);
		if (energy_meter_sample(m, &d, err, sizeof(err)) == -1)
			_exit(13);
		/* psys: 250 W for "one second" of counter. */
		_exit(fabs(d.node_j - 250) < 0.01 ? 0 : 14);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free((char *)cfg.powercap_root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_and_period),
		cmocka_unit_test_setup_teardown(test_rapl_zones_and_wraps,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_rapl_without_psys,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_rapl_counter_unreadable,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_rapl_root_only_after_drop,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_model_exact,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_model_restore,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_rapl_eacces_falls_back,
		    tu_setup, tu_teardown),
		cmocka_unit_test_setup_teardown(test_best_as_root,
		    tu_setup, tu_teardown),
		cmocka_unit_test(test_nvml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
