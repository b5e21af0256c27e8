/*
 * test_local_backend: backend_local_ops on libev's default loop (which
 * reaps children itself) with the real ebb-run (env EBB_RUN), through the
 * privileged process served in this process (runner/privd.h) as ebbd
 * runs when it is not root: start, the events that follow, the output
 * descriptor, cancel, and adopt() of finished, unstarted, lost and live
 * job directories.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>
#include <jansson.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "runner/backend.h"
#include "runner/priv.h"
#include "runner/privd.h"

#define MAXEV	16

static const char *runner;
static char statedir[64], instance[32];
static struct ev_loop *loop;
static struct backend *be;
static struct privd *pd;
static struct priv *pv;
static struct {
	int64_t	 id;
	json_t	*ev;
} evs[MAXEV];
static int nev, want_ev;

static void
on_event(void *arg, int64_t id, const json_t *ev)
{
	assert_true(nev < MAXEV);
	evs[nev].id = id;
	evs[nev].ev = json_deep_copy(ev);
	if (++nev >= want_ev)
		ev_break(loop, EVBREAK_ALL);
}

static void
on_timeout(struct ev_loop *l, ev_timer *t, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Runs the loop until there are n events in all (or 15 s pass). */
static void
wait_events(int n)
{
	ev_timer t;

	want_ev = n;
	if (nev < n) {
		ev_timer_init(&t, on_timeout, 15, 0);
		ev_timer_start(loop, &t);
		ev_run(loop, 0);
		ev_timer_stop(loop, &t);
	}
	assert_int_equal(nev, n);
}

static const char *
ev_type(int i)
{
	return json_string_value(json_object_get(evs[i].ev, "type"));
}

static int64_t
ev_int(int i, const char *key)
{
	const json_t *v = json_object_get(evs[i].ev, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void
close_backend(void)
{
	backend_local_ops.close(be);
	priv_close(pv);
	privd_close(pd);
}

static void
open_backend(const char *runner_path)
{
	char *jobs = xasprintf("%s/jobs", statedir);
	char *none[] = { NULL };
	struct privd_conf pc = { .jobs_dir = jobs, .runner = runner_path,
	    .instance = instance, .shared_dirs = none, .commands = none,
	    .root_jobs = 1 };
	char err[256];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	if ((pd = privd_open(loop, sv[0], &pc, NULL, NULL, err,
	    sizeof(err))) == NULL)
		fail_msg("privd: %s", err);
	pv = priv_open(loop, sv[1], pd, NULL, NULL);
	struct backend_conf conf = { .state_dir = statedir,
	    .runner_path = runner_path, .instance = instance, .priv = pv };

	be = backend_local_ops.open(loop, &conf, on_event, NULL, err,
	    sizeof(err));
	if (be == NULL)
		fail_msg("open: %s", err);
	free(jobs);
}

static int
setup(void **state)
{
	if ((runner = getenv("EBB_RUN")) == NULL)
		fail_msg("EBB_RUN is not set (run this test through ctest)");
	snprintf(statedir, sizeof(statedir), "/tmp/ebblocal-XXXXXX");
	assert_non_null(mkdtemp(statedir));
	snprintf(instance, sizeof(instance), "t%ld", (long)getpid());
	loop = EV_DEFAULT;
	nev = 0;
	open_backend(runner);
	return 0;
}

static int
teardown(void **state)
{
	static const char *const roots[] = { "/sys/fs/cgroup/cpuacct",
	    "/sys/fs/cgroup/memory", "/sys/fs/cgroup/freezer",
	    "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char path[256];

	close_backend();
	for (int i = 0; i < nev; i++)
		json_decref(evs[i].ev);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/ebb/%s", roots[i], instance);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/ebb", roots[i]);
		rmdir(path);
	}
	fs_rm_rf(statedir);
	return 0;
}

static json_t *
make_spec(int64_t id, const char *cmd)
{
	return json_pack("{s:I, s:[s, s, s], s:[s], s:s, s:i, s:i, s:s, s:i,"
	    " s:i, s:i}", "job_id", (json_int_t)id, "argv", "sh", "-c", cmd,
	    "env", "PATH=/usr/bin:/bin", "workdir", "/tmp", "uid",
	    (int)getuid(), "gid", (int)getgid(), "user", "root", "cpus", 1,
	    "mem", 0, "kill_grace", 1);
}

static char *
job_path(int64_t id, const char *name)
{
	return xasprintf("%s/jobs/%" PRId64 "/%s", statedir, id, name);
}

static void
start(int64_t id, const char *cmd)
{
	json_t *spec = make_spec(id, cmd);
	char err[256];

	if (backend_local_ops.start(be, spec, err, sizeof(err)) == -1)
		fail_msg("start: %s", err);
	json_decref(spec);
}

static void
test_lookup(void **state)
{
	assert_ptr_equal(backend_lookup("local"), &backend_local_ops);
	assert_null(backend_lookup("nope"));
}

static void
test_start_finish(void **state)
{
	char *path;
	json_t *spec;
	char err[256], buf[16] = "";
	struct stat st;
	int fd;

	start(1, "echo hi; exit 3");
	/* Nothing is delivered from inside start(). */
	assert_int_equal(nev, 0);
	wait_events(2);
	assert_string_equal(ev_type(0), "started");
	assert_true(ev_int(0, "pid") > 0);
	assert_true(ev_int(0, "start_time") > 0);
	assert_string_equal(ev_type(1), "finished");
	assert_int_equal(evs[1].id, 1);
	assert_int_equal(ev_int(1, "job_id"), 1);
	assert_int_equal(ev_int(1, "exit_code"), 3);
	assert_non_null(json_object_get(evs[1].ev, "measure"));

	/* Output comes as a descriptor from the privileged side. */
	spec = make_spec(1, "x");
	assert_true((fd = backend_local_ops.open_log(be, spec, "stdout", err,
	    sizeof(err))) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 3);
	close(fd);
	assert_string_equal(buf, "hi\n");
	assert_int_equal(backend_local_ops.open_log(be, spec, "spec.json",
	    err, sizeof(err)), -1);
	json_decref(spec);

	/* What holds the job's environment is for root's eyes only. */
	path = job_path(1, "spec.json");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	path = xasprintf("%s/jobs", statedir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(path);
}

static void
test_cancel(void **state)
{
	char err[256];

	start(2, "sleep 30");
	wait_events(1);
	assert_string_equal(ev_type(0), "started");
	/* Let ebb-run get the job going, then cancel. */
	usleep(300000);
	if (backend_local_ops.cancel(be, 2, err, sizeof(err)) == -1)
		fail_msg("cancel: %s", err);
	wait_events(2);
	assert_string_equal(ev_type(1), "finished");
	assert_true(json_is_true(json_object_get(evs[1].ev, "cancelled")));
	assert_int_equal(ev_int(1, "signal"), SIGTERM);
}

static void
test_lost_without_result(void **state)
{
	close_backend();
	open_backend("/bin/false");
	start(3, "true");
	wait_events(2);
	assert_string_equal(ev_type(0), "started");
	assert_string_equal(ev_type(1), "lost");
	assert_non_null(strstr(json_string_value(json_object_get(evs[1].ev,
	    "reason")), "without a result"));
}

static void
mkjobdir(int64_t id)
{
	char *dir = xasprintf("%s/jobs/%" PRId64, statedir, id);
	char err[256];

	if (fs_mkdir_p(dir, 0755, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	free(dir);
}

static void
touch(int64_t id, const char *name)
{
	char *path = job_path(id, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	close(fd);
	free(path);
}

/* A job directory left by an earlier job (a database started afresh)
 * never lends that job's result or output to a new one. */
static void
test_start_refuses_earlier_run(void **state)
{
	mkjobdir(11);
	touch(11, "started");
	touch(11, "result.json");
	start(11, "echo new");
	wait_events(1);
	assert_string_equal(ev_type(0), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(evs[0].ev,
	    "reason")), "holds an earlier job's run"));
}

static void
adopt(int64_t id)
{
	char err[256];

	if (backend_local_ops.adopt(be, id, err, sizeof(err)) == -1)
		fail_msg("adopt: %s", err);
	assert_int_equal(nev, 0);
}

static void
test_adopt_finished(void **state)
{
	json_t *res = json_pack("{s:i, s:i, s:i, s:s, s:b, s:n}", "job_id", 4,
	    "exit_code", 7, "signal", 0, "measure", "rusage", "cancelled", 0,
	    "error");
	char *path;
	char err[256];

	mkjobdir(4);
	touch(4, "started");
	touch(4, "lock");
	path = job_path(4, "result.json");
	assert_int_equal(fs_write_json(path, res, 0644, err, sizeof(err)), 0);
	free(path);
	json_decref(res);
	adopt(4);
	wait_events(1);
	assert_string_equal(ev_type(0), "finished");
	assert_int_equal(evs[0].id, 4);
	assert_int_equal(ev_int(0, "exit_code"), 7);
}

static void
test_adopt_unstarted(void **state)
{
	mkjobdir(5);
	touch(5, "spec.json");
	adopt(5);
	adopt(6);	/* no directory at all */
	wait_events(2);
	assert_string_equal(ev_type(0), "unstarted");
	assert_int_equal(evs[0].id, 5);
	assert_string_equal(ev_type(1), "unstarted");
	assert_int_equal(evs[1].id, 6);
}

static void
test_adopt_lost(void **state)
{
	mkjobdir(7);
	touch(7, "started");
	touch(7, "lock");
	adopt(7);
	wait_events(1);
	assert_string_equal(ev_type(0), "lost");
}

/* A supervisor ebbd did not start (as after a restart) is found again. */
static void
test_adopt_live(void **state)
{
	json_t *spec = make_spec(8, "sleep 1");
	char *dir = xasprintf("%s/jobs/8", statedir);
	char *path = job_path(8, "spec.json");
	char *started = job_path(8, "started");
	char err[256];
	pid_t pid;

	mkjobdir(8);
	assert_int_equal(fs_write_json(path, spec, 0600, err, sizeof(err)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char u[16], g[16];

		snprintf(u, sizeof(u), "%ld", (long)getuid());
		snprintf(g, sizeof(g), "%ld", (long)getgid());
		execl(runner, runner, "-u", u, "-g", g, dir, (char *)NULL);
		_exit(91);
	}
	for (int i = 0; i < 500 && access(started, F_OK) == -1; i++)
		usleep(10000);
	assert_int_equal(access(started, F_OK), 0);
	adopt(8);
	wait_events(2);
	assert_string_equal(ev_type(0), "started");
	assert_int_equal(ev_int(0, "pid"), pid);
	assert_string_equal(ev_type(1), "finished");
	assert_int_equal(ev_int(1, "exit_code"), 0);
	assert_true(ev_int(1, "wall_ms") >= 900);
	waitpid(pid, NULL, WNOHANG);
	json_decref(spec);
	free(dir);
	free(path);
	free(started);
}

/*
 * The lock is held before its pid is written (a supervisor just starting):
 * adopt() waits for the pid, watches it, and reports "lost" when that
 * supervisor ends without a result.
 */
static void
test_adopt_pid_late(void **state)
{
	char *lock = job_path(9, "lock");
	char buf[32], c;
	int go[2], locked[2], fd;
	pid_t pid;

	mkjobdir(9);
	touch(9, "started");
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(locked), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(lock, O_RDWR | O_CREAT, 0644);
		if (fd == -1 || flock(fd, LOCK_EX) == -1 ||
		    write(locked[1], "l", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(read(locked[0], &c, 1), 1);
	adopt(9);
	usleep(100000);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(nev, 0);
	snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	assert_non_null(lock);
	fd = open(lock, O_WRONLY);
	assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
	close(fd);
	wait_events(1);
	assert_string_equal(ev_type(0), "started");
	assert_int_equal(ev_int(0, "pid"), pid);
	assert_int_equal(write(go[1], "g", 1), 1);
	wait_events(2);
	assert_string_equal(ev_type(1), "lost");
	waitpid(pid, NULL, WNOHANG);
	close(go[0]);
	close(go[1]);
	close(locked[0]);
	close(locked[1]);
	free(lock);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lookup),
		T(test_start_finish),
		T(test_start_refuses_earlier_run),
		T(test_cancel),
		T(test_lost_without_result),
		T(test_adopt_finished),
		T(test_adopt_unstarted),
		T(test_adopt_lost),
		T(test_adopt_live),
		T(test_adopt_pid_late),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
