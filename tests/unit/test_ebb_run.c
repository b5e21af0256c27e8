/*
 * test_ebb_run: the built ebb-run supervisor (path in env EBB_RUN) on
 * temporary job directories: results, captured output, exec failures,
 * the never-twice rule, the lock, cancellation, privilege dropping (the
 * job's identity from the command line, never the spec), the output
 * limit, links planted in the job directory and the rusage fallback. Every test checks that no cgroup is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/fsutil.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/cgroup.h"
#include "testutil.h"

static const char *runner;
static char jobdir[64];
/* What ebbd would pass on ebb-run's command line for the last spec. */
static uid_t cur_uid;
static gid_t cur_gid;
static int cur_grace;
static const char *cur_cg;
static const char *cur_limit = "0";
static char cgparent[64], cgname[96];
static int njob;

static const char *const cgroots[] = { "/sys/fs/cgroup/cpuacct",
    "/sys/fs/cgroup/memory", "/sys/fs/cgroup/freezer",
    "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

static int
setup(void **state)
{
	if ((runner = getenv("EBB_RUN")) == NULL)
		fail_msg("EBB_RUN is not set (run this test through ctest)");
	snprintf(jobdir, sizeof(jobdir), "/tmp/ebbrun-XXXXXX");
	assert_non_null(mkdtemp(jobdir));
	snprintf(cgparent, sizeof(cgparent), "ebbtest-run-%ld", (long)getpid());
	snprintf(cgname, sizeof(cgname), "%s/job-%d", cgparent, ++njob);
	return 0;
}

static int
cg_left(void)
{
	char path[256];

	for (size_t i = 0; i < sizeof(cgroots) / sizeof(cgroots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cgroots[i], cgname);
		if (access(path, F_OK) == 0)
			return 1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char path[256];

	assert_false(cg_left());
	for (size_t i = 0; i < sizeof(cgroots) / sizeof(cgroots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cgroots[i], cgparent);
		rmdir(path);
	}
	fs_rm_rf(jobdir);
	return 0;
}

/* What result.json's "measure" must say for a job run by root here. */
static const char *
expected_measure(void)
{
	if (geteuid() != 0)
		return "rusage";
	switch (cg_detect()) {
	case CG_LEGACY:
	case CG_HYBRID:
		return "cgroup-v1";
	case CG_UNIFIED:
		return "cgroup-v2";
	default:
		return "rusage";
	}
}

/* Writes spec.json for argv (a NULL-terminated list). */
static void
write_spec(const char *workdir, uid_t uid, gid_t gid, const char *user,
    int grace, const char *env0, const char *const *argv)
{
	json_t *av = json_array(), *env = json_array(), *spec;
	char *path = xasprintf("%s/spec.json", jobdir);
	char err[256];

	for (; *argv != NULL; argv++)
		json_array_append_new(av, json_string(*argv));
	json_array_append_new(env, json_string(env0));
	json_array_append_new(env, json_string("FOO=bar"));
	cur_uid = uid;
	cur_gid = gid;
	cur_grace = grace;
	cur_cg = cgname;
	spec = json_pack("{s:i, s:o, s:o, s:s, s:i, s:i, s:s, s:i, s:i, s:s,"
	    " s:i}", "job_id", njob, "argv", av, "env", env, "workdir", workdir,
	    "uid", (int)uid, "gid", (int)gid, "user", user, "cpus", 1, "mem", 0,
	    "cgroup", cgname, "kill_grace", grace);
	if (fs_write_json(path, spec, 0600, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	json_decref(spec);
	free(path);
}

static void
spec(const char *const *argv)
{
	write_spec("/tmp", getuid(), getgid(), "root", 1,
	    "PATH=/usr/bin:/bin", argv);
}

/*
 * Starts ebb-run on jobdir as uid `as`: as root the way ebbd does, with
 * the job's identity and limits as options (never from the spec).
 */
static pid_t
launch(uid_t as)
{
	char u[16], g[16], k[16], j[16];
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (as != getuid() && (setgid(as) == -1 || setuid(as) == -1))
			_exit(90);
		if (geteuid() != 0) {
			execl(runner, runner, jobdir, (char *)NULL);
			_exit(91);
		}
		snprintf(u, sizeof(u), "%ld", (long)cur_uid);
		snprintf(g, sizeof(g), "%ld", (long)cur_gid);
		snprintf(k, sizeof(k), "%d", cur_grace);
		snprintf(j, sizeof(j), "%d", njob);
		execl(runner, runner, "-u", u, "-g", g, "-G", g, "-c",
		    cur_cg ? cur_cg : "", "-k", k, "-o", cur_limit, "-j", j,
		    jobdir, (char *)NULL);
		_exit(91);
	}
	return pid;
}

static int
wait_exit(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
run(void)
{
	return wait_exit(launch(getuid()));
}

static json_t *
result(void)
{
	char *path = xasprintf("%s/result.json", jobdir);
	char err[512];
	json_t *r = fs_read_json(path, err, sizeof(err));

	if (r == NULL)
		fail_msg("%s", err);
	free(path);
	return r;
}

static int64_t
rint_of(const json_t *r, const char *key)
{
	const json_t *v = json_object_get(r, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static char *
slurp(const char *name)
{
	char *path = xasprintf("%s/%s", jobdir, name);
	char *buf = tu_slurp(path, NULL);

	assert_non_null(buf);
	free(path);
	return buf;
}

static void
assert_file(const char *name, const char *want)
{
	char *got = slurp(name);

	assert_string_equal(got, want);
	free(got);
}

static void
test_success_and_output(void **state)
{
	static const char *const argv[] = { "sh", "-c",
	    "echo out; echo err >&2; exit 0", NULL };
	json_t *r;

	spec(argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 0);
	assert_int_equal(rint_of(r, "signal"), 0);
	assert_int_equal(rint_of(r, "job_id"), njob);
	assert_true(json_is_null(json_object_get(r, "error")));
	assert_true(json_is_false(json_object_get(r, "cancelled")));
	assert_string_equal(json_string_value(json_object_get(r, "measure")),
	    expected_measure());
	assert_true(rint_of(r, "start_time") <= rint_of(r, "end_time"));
	assert_true(rint_of(r, "end_time") <= ebb_now());
	assert_true(rint_of(r, "wall_ms") >= 0);
	assert_true(rint_of(r, "cpu_usec") > 0);
	assert_true(rint_of(r, "peak_mem") > 0);
	assert_file("stdout", "out\n");
	assert_file("stderr", "err\n");
	json_decref(r);
}

static void
test_exit_one(void **state)
{
	static const char *const argv[] = { "sh", "-c", "exit 1", NULL };
	json_t *r;

	spec(argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 1);
	assert_int_equal(rint_of(r, "signal"), 0);
	json_decref(r);
}

static void
test_killed_by_signal(void **state)
{
	static const char *const argv[] = { "sh", "-c", "kill -KILL $$",
	    NULL };
	json_t *r;

	spec(argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), -1);
	assert_int_equal(rint_of(r, "signal"), SIGKILL);
	assert_true(json_is_false(json_object_get(r, "cancelled")));
	json_decref(r);
}

/* argv[0] is looked up in the job's PATH, not ebb-run's. */
static void
test_path_from_job_env(void **state)
{
	static const char *const argv[] = { "mytool", NULL };
	char *bindir = xasprintf("%s/bin", jobdir);
	char *tool = xasprintf("%s/mytool", bindir);
	char *path = xasprintf("PATH=/nonexistent:%s", bindir);
	FILE *f;

	assert_int_equal(mkdir(bindir, 0755), 0);
	assert_non_null(f = fopen(tool, "w"));
	fprintf(f, "#!/bin/sh\necho tool ran\n");
	fclose(f);
	assert_int_equal(chmod(tool, 0755), 0);
	write_spec("/tmp", getuid(), getgid(), "root", 1, path, argv);
	assert_int_equal(run(), 0);
	assert_file("stdout", "tool ran\n");
	free(tool);
	free(bindir);
	free(path);
}

/* The job gets exactly the spec's environment, nothing of ebb-run's. */
static void
test_exact_env(void **state)
{
	static const char *const argv[] = { "/usr/bin/env", NULL };

	spec(argv);
	assert_int_equal(run(), 0);
	assert_file("stdout", "PATH=/usr/bin:/bin\nFOO=bar\n");
}

/* A spec without a cgroup is measured with rusage, even as root. */
static void
test_no_cgroup(void **state)
{
	static const char *const argv[] = { "sh", "-c", "echo x", NULL };
	char *path = xasprintf("%s/spec.json", jobdir);
	char err[256];
	json_t *doc, *r;

	spec(argv);
	assert_non_null(doc = fs_read_json(path, err, sizeof(err)));
	json_object_set_new(doc, "cgroup", json_null());
	assert_int_equal(fs_write_json(path, doc, 0600, err, sizeof(err)), 0);
	cur_cg = NULL;
	json_decref(doc);
	free(path);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 0);
	assert_string_equal(json_string_value(json_object_get(r, "measure")),
	    "rusage");
	json_decref(r);
}

static void
test_exec_failure(void **state)
{
	static const char *const argv[] = { "no-such-cmd-ebb", "x", NULL };
	json_t *r;

	spec(argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 127);
	assert_string_equal(json_string_value(json_object_get(r, "error")),
	    "exec no-such-cmd-ebb: No such file or directory");
	json_decref(r);
}

static void
test_bad_workdir(void **state)
{
	static const char *const argv[] = { "true", NULL };
	json_t *r;

	write_spec("/nonexistent-ebb", getuid(), getgid(), "root", 1,
	    "PATH=/usr/bin:/bin", argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 126);
	assert_string_equal(json_string_value(json_object_get(r, "error")),
	    "chdir /nonexistent-ebb: No such file or directory");
	json_decref(r);
}

static void
test_bad_spec(void **state)
{
	char *path = xasprintf("%s/spec.json", jobdir);
	FILE *f = fopen(path, "w");
	json_t *r;

	fputs("{\"job_id\": 1, \"argv\": []}\n", f);
	fclose(f);
	free(path);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 126);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
	    "spec"));
	json_decref(r);
}

/* A started job never runs again, even if its result went missing. */
static void
test_never_twice(void **state)
{
	char *marker = xasprintf("%s/marker", jobdir);
	char *cmd = xasprintf("echo ran >> %s", marker);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	char *res = xasprintf("%s/result.json", jobdir);

	spec(argv);
	assert_int_equal(run(), 0);
	assert_int_equal(run(), 4);
	assert_int_equal(unlink(res), 0);
	assert_int_equal(run(), 4);
	assert_int_equal(access(res, F_OK), -1);
	assert_file("marker", "ran\n");
	free(marker);
	free(cmd);
	free(res);
}

static void
test_lock_held(void **state)
{
	static const char *const argv[] = { "true", NULL };
	char *path = xasprintf("%s/lock", jobdir);
	char *started = xasprintf("%s/started", jobdir);
	int fd = open(path, O_RDWR | O_CREAT, 0644);

	spec(argv);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(run(), 3);
	assert_int_equal(access(started, F_OK), -1);
	close(fd);
	assert_int_equal(run(), 0);
	free(path);
	free(started);
}

static void
wait_started(void)
{
	char *path = xasprintf("%s/stdout", jobdir);

	for (int i = 0; i < 500 && access(path, F_OK) == -1; i++)
		usleep(10000);
	usleep(200000);
	free(path);
}

/* SIGTERM to ebb-run: TERM to the job, KILL after kill_grace. */
static void
test_cancel(void **state)
{
	static const char *const polite[] = { "sleep", "30", NULL };
	static const char *const ignores_term[] = { "sh", "-c",
	    "trap '' TERM; sleep 30 & sleep 30; wait", NULL };
	int64_t t0;
	pid_t pid;
	json_t *r;

	spec(polite);
	pid = launch(getuid());
	wait_started();
	t0 = ebb_mono_ns();
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	assert_true(ebb_mono_ns() - t0 < 900000000LL);
	r = result();
	assert_true(json_is_true(json_object_get(r, "cancelled")));
	assert_int_equal(rint_of(r, "exit_code"), -1);
	assert_int_equal(rint_of(r, "signal"), SIGTERM);
	json_decref(r);

	fs_rm_rf(jobdir);
	assert_int_equal(mkdir(jobdir, 0700), 0);
	spec(ignores_term);
	pid = launch(getuid());
	wait_started();
	t0 = ebb_mono_ns();
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	/* kill_grace is 1 s. */
	assert_true(ebb_mono_ns() - t0 >= 900000000LL);
	assert_true(ebb_mono_ns() - t0 < 5000000000LL);
	r = result();
	assert_true(json_is_true(json_object_get(r, "cancelled")));
	assert_int_equal(rint_of(r, "signal"), SIGKILL);
	json_decref(r);
}

/* Cumulative CPU time of the job's cgroup (v1 cpuacct), ns. */
static int64_t
cg_usage(void)
{
	char path[256], *text;
	int64_t v;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuacct/%s/cpuacct.usage",
	    cgname);
	if ((text = tu_slurp(path, NULL)) == NULL)
		return -1;
	v = strtoll(text, NULL, 10);
	free(text);
	return v;
}

/* SIGUSR1 freezes the job (no CPU used), SIGUSR2 thaws it. */
static void
test_pause(void **state)
{
	static const char *const busy[] = { "sh", "-c",
	    "while :; do :; done", NULL };
	int64_t u1, u2, u3;
	pid_t pid;
	json_t *r;

	if (geteuid() != 0 || cg_detect() == CG_UNIFIED ||
	    access("/sys/fs/cgroup/cpuacct", F_OK) == -1) {
		print_message("skip: needs root and a cgroup v1 cpuacct "
		    "hierarchy\n");
		skip();
	}
	spec(busy);
	pid = launch(getuid());
	wait_started();
	assert_true(cg_usage() > 0);
	assert_int_equal(kill(pid, SIGUSR1), 0);
	usleep(300000);
	u1 = cg_usage();
	usleep(500000);
	u2 = cg_usage();
	assert_true(u1 > 0);
	assert_int_equal(u1, u2);	/* frozen: not one ns of CPU */
	assert_int_equal(kill(pid, SIGUSR2), 0);
	usleep(300000);
	u3 = cg_usage();
	assert_true(u3 > u2 + 100000000);	/* > 0.1 s in 0.3 s: running */
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	r = result();
	assert_true(rint_of(r, "paused_ms") >= 750);
	assert_true(rint_of(r, "paused_ms") < 2000);
	assert_true(json_is_true(json_object_get(r, "cancelled")));
	json_decref(r);
}

static void
ensure_user(struct passwd **pw)
{
	if ((*pw = getpwnam("ebbtest")) == NULL) {
		if (system("useradd -M ebbtest") != 0) {
			print_message("skip: cannot create user ebbtest\n");
			skip();
		}
		*pw = getpwnam("ebbtest");
	}
	assert_non_null(*pw);
}

/* As root the job runs as its user, who owns its output files. */
static void
test_runs_as_user(void **state)
{
	static const char *const argv[] = { "sh", "-c", "id -u; id -g", NULL };
	struct passwd *pw;
	char want[64], *path;
	struct stat st;
	uid_t uid;
	gid_t gid;
	json_t *r;

	if (geteuid() != 0) {
		print_message("skip: needs root to switch users\n");
		skip();
	}
	ensure_user(&pw);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	write_spec("/", uid, gid, "ebbtest", 1, "PATH=/usr/bin:/bin", argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 0);
	json_decref(r);
	snprintf(want, sizeof(want), "%ld\n%ld\n", (long)uid, (long)gid);
	assert_file("stdout", want);
	path = xasprintf("%s/stdout", jobdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_mode & 0777, 0640);
	free(path);

	/* chdir happens as the user: root's private job dir is refused. */
	fs_rm_rf(jobdir);
	assert_int_equal(mkdir(jobdir, 0700), 0);
	write_spec(jobdir, uid, gid, "ebbtest", 1, "PATH=/usr/bin:/bin", argv);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 126);
	path = xasprintf("chdir %s: Permission denied", jobdir);
	assert_string_equal(json_string_value(json_object_get(r, "error")),
	    path);
	free(path);
	json_decref(r);
}

/* As root the user comes from -u/-g only: a spec naming root is ignored. */
static void
test_identity_not_from_spec(void **state)
{
	static const char *const argv[] = { "sh", "-c", "id -u; id -G", NULL };
	struct passwd *pw;
	char want[64], *path;
	json_t *r;

	if (geteuid() != 0) {
		print_message("skip: needs root to switch users\n");
		skip();
	}
	ensure_user(&pw);
	write_spec("/", 0, 0, "root", 1, "PATH=/usr/bin:/bin", argv);
	cur_uid = pw->pw_uid;
	cur_gid = pw->pw_gid;
	assert_int_equal(run(), 0);
	snprintf(want, sizeof(want), "%ld\n%ld\n", (long)pw->pw_uid,
	    (long)pw->pw_gid);
	assert_file("stdout", want);

	/* Without -u/-g, root runs nobody else from a spec. */
	fs_rm_rf(jobdir);
	assert_int_equal(mkdir(jobdir, 0700), 0);
	write_spec("/", pw->pw_uid, pw->pw_gid, "ebbtest", 1,
	    "PATH=/usr/bin:/bin", argv);
	path = xasprintf("\"%s\" %s", runner, jobdir);
	assert_int_equal(system(path), 0);
	free(path);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 126);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
	    "comes only from -u"));
	json_decref(r);
}

/* Output beyond the limit is read and dropped, and the result says so. */
static void
test_output_limit(void **state)
{
	static const char *const argv[] = { "sh", "-c",
	    "head -c 300000 /dev/zero; echo tail >&2", NULL };
	char *path = xasprintf("%s/stdout", jobdir);
	struct stat st;
	json_t *r;

	if (geteuid() != 0) {
		print_message("skip: the limit is an option ebbd passes as "
		    "root\n");
		skip();
	}
	spec(argv);
	cur_limit = "1000";
	assert_int_equal(run(), 0);
	cur_limit = "0";
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 0);
	assert_true(json_is_true(json_object_get(r, "output_truncated")));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1000);
	assert_file("stderr", "tail\n");
	json_decref(r);
	free(path);
}

/* A link planted where the output goes is never followed. */
static void
test_output_not_followed(void **state)
{
	static const char *const argv[] = { "sh", "-c", "echo owned", NULL };
	char *victim = xasprintf("%s/victim", jobdir);
	char *link = xasprintf("%s/stdout", jobdir);
	json_t *r;

	spec(argv);
	assert_int_equal(close(open(victim, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(run(), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 126);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
	    "stdout"));
	assert_file("victim", "");
	json_decref(r);
	free(victim);
	free(link);
}

/* ebb-run without root: no cgroup, rusage measurement, job still runs. */
static void
test_unprivileged_fallback(void **state)
{
	static const char *const argv[] = { "sh", "-c",
	    "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done",
	    NULL };
	char *spec_path;
	json_t *r;

	if (geteuid() != 0) {
		print_message("skip: already unprivileged (the other tests "
		    "cover it)\n");
		skip();
	}
	write_spec("/", 65534, 65534, "nobody", 1, "PATH=/usr/bin:/bin", argv);
	spec_path = xasprintf("%s/spec.json", jobdir);
	assert_int_equal(chown(jobdir, 65534, 65534), 0);
	assert_int_equal(chown(spec_path, 65534, 65534), 0);
	free(spec_path);
	assert_int_equal(wait_exit(launch(65534)), 0);
	r = result();
	assert_int_equal(rint_of(r, "exit_code"), 0);
	assert_string_equal(json_string_value(json_object_get(r, "measure")),
	    "rusage");
	assert_true(rint_of(r, "cpu_usec") > 10000);
	assert_true(rint_of(r, "peak_mem") > 0);
	assert_file("stdout", "done\n");
	json_decref(r);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_success_and_output),
		T(test_exit_one),
		T(test_killed_by_signal),
		T(test_path_from_job_env),
		T(test_exact_env),
		T(test_no_cgroup),
		T(test_exec_failure),
		T(test_bad_workdir),
		T(test_bad_spec),
		T(test_never_twice),
		T(test_lock_held),
		T(test_cancel),
		T(test_pause),
		T(test_runs_as_user),
		T(test_identity_not_from_spec),
		T(test_output_limit),
		T(test_output_not_followed),
		T(test_unprivileged_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
