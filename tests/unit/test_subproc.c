/*
 * test_subproc: commands run on libev's default loop: exit status and both
 * streams, stdin, the output cap, the timeout, a missing program, the drop
 * to another user (as root), the same through the privileged process
 * with its allowlists, and abandoning a command.
 */
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "common/xmalloc.h"
#include "runner/priv.h"
#include "runner/privd.h"
#include "runner/subproc.h"

static struct ev_loop *loop;

struct got {
	int	 called, status, flags;
	char	*out, *err;
};

static void
done(void *arg, int status, int flags, const char *out, const char *err)
{
	struct got *g = arg;

	g->called++;
	g->status = status;
	g->flags = flags;
	g->out = xstrdup(out);
	g->err = xstrdup(err);
	ev_break(loop, EVBREAK_ALL);
}

static void
on_guard(struct ev_loop *l, ev_timer *t, int revents)
{
	ev_break(l, EVBREAK_ALL);
}

/* Runs req to completion (10 s at most) and returns what came back. */
static void
run(struct subproc_req *req, struct got *g)
{
	ev_timer guard;
	char err[256];

	memset(g, 0, sizeof(*g));
	assert_non_null(subproc_run(loop, req, done, g, err, sizeof(err)));
	ev_timer_init(&guard, on_guard, 10, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
	assert_int_equal(g->called, 1);
}

static void
got_free(struct got *g)
{
	free(g->out);
	free(g->err);
}

static void
test_status_and_streams(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3",
	    NULL };
	struct subproc_req req = { .argv = argv };
	struct got g;

	run(&req, &g);
	assert_true(WIFEXITED(g.status));
	assert_int_equal(WEXITSTATUS(g.status), 3);
	assert_int_equal(g.flags, 0);
	assert_string_equal(g.out, "out\n");
	assert_string_equal(g.err, "err\n");
	got_free(&g);
}

static void
test_stdin_and_env(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "cat; echo \" $EBB_X\"", NULL };
	char *envp[] = { "EBB_X=given", "PATH=/usr/bin:/bin", NULL };
	struct subproc_req req = { .argv = argv, .envp = envp,
	    .input = "#!/bin/sh\nexec x\n", .inlen = 17 };
	struct got g;

	run(&req, &g);
	assert_int_equal(WEXITSTATUS(g.status), 0);
	assert_string_equal(g.out, "#!/bin/sh\nexec x\n given\n");
	got_free(&g);
}

static void
test_output_capped(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "yes | head -c 3000000; echo done >&2",
	    NULL };
	struct subproc_req req = { .argv = argv };
	struct got g;

	run(&req, &g);
	/* Read to the end (the writer was not blocked), kept up to the cap. */
	assert_int_equal(WEXITSTATUS(g.status), 0);
	assert_int_equal(strlen(g.out), SUBPROC_MAX);
	assert_int_equal(g.flags, SUBPROC_TRUNCATED);
	assert_string_equal(g.err, "done\n");
	got_free(&g);
}

static void
test_own_cap(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "yes | head -c 5000000", NULL };
	struct subproc_req req = { .argv = argv, .max_out = 8 << 20 };
	struct got g;

	run(&req, &g);
	assert_int_equal(strlen(g.out), 5000000);
	assert_int_equal(g.flags, 0);
	got_free(&g);
}

static void
test_timeout_kills(void **state)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct subproc_req req = { .argv = argv, .timeout = 0.2 };
	struct got g;
	double t0 = ev_time();

	run(&req, &g);
	assert_int_equal(g.flags, SUBPROC_TIMED_OUT);
	assert_true(WIFSIGNALED(g.status));
	assert_int_equal(WTERMSIG(g.status), SIGKILL);
	assert_true(ev_time() - t0 < 5);
	got_free(&g);
}

static void
test_missing_program(void **state)
{
	char *argv[] = { "/nonexistent/sbatch", NULL };
	struct subproc_req req = { .argv = argv };
	struct got g;

	run(&req, &g);
	assert_int_equal(WEXITSTATUS(g.status), 127);
	assert_non_null(strstr(g.err, "/nonexistent/sbatch: No such file"));
	got_free(&g);
}

/* A cred for nobody (skips unless root and nobody exists). */
static void
nobody_cred(struct priv_cred *c)
{
	struct passwd *pw = getpwnam("nobody");

	if (geteuid() != 0 || pw == NULL)
		skip();
	memset(c, 0, sizeof(*c));
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	c->groups[0] = pw->pw_gid;
	c->ngroups = 1;
}

static void
assert_nobody(const struct got *g, const struct priv_cred *c)
{
	char want[128];

	assert_int_equal(WEXITSTATUS(g->status), 0);
	snprintf(want, sizeof(want), "uid=%d(nobody) gid=%d", (int)c->uid,
	    (int)c->gid);
	assert_memory_equal(g->out, want, strlen(want));
	/* No supplementary group of root's is left. */
	assert_null(strstr(g->out, "(root)"));
}

static void
test_as_user(void **state)
{
	char *argv[] = { "/usr/bin/id", NULL };
	struct priv_cred c;
	struct subproc_req req = { .argv = argv, .cred = &c };
	struct got g;

	nobody_cred(&c);
	run(&req, &g);
	assert_nobody(&g, &c);
	got_free(&g);
}

/*
 * Through the privileged process (in this process, as ebbd runs when not
 * root, and as its parent serves the worker as root): a configured
 * command runs as the user; anything else, or ebbd's own environment, is
 * refused before it runs.
 */
static void
test_via_priv(void **state)
{
	char dir[] = "/tmp/ebb-subproc.XXXXXX", *jobs, err[256];
	char *argv[] = { "/usr/bin/id", NULL }, *bad[] = { "/bin/sh", "-c",
	    "id", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", NULL }, *leak[] = {
	    "EBB_TOKEN=secret", NULL };
	char *cmds[] = { "/usr/bin/id", NULL }, *dirs[] = { NULL };
	struct privd_conf pc = { 0 };
	struct priv_cred c;
	struct subproc_req req = { .argv = argv, .envp = env, .cred = &c };
	struct privd *pd;
	struct priv *pv;
	struct got g;
	int sv[2];

	nobody_cred(&c);
	assert_non_null(mkdtemp(dir));
	jobs = xasprintf("%s/jobs", dir);
	pc.jobs_dir = jobs;
	pc.runner = "/bin/false";
	pc.instance = "test";
	pc.commands = cmds;
	pc.shared_dirs = dirs;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	pd = privd_open(loop, sv[0], &pc, NULL, NULL, err, sizeof(err));
	assert_non_null(pd);
	pv = priv_open(loop, sv[1], pd, NULL, NULL);
	req.priv = pv;
	run(&req, &g);
	assert_nobody(&g, &c);
	got_free(&g);

	req.argv = bad;
	run(&req, &g);
	assert_int_equal(g.status, -1);
	assert_non_null(strstr(g.err, "not a command ebbd may run"));
	got_free(&g);

	req.argv = argv;
	req.envp = leak;
	run(&req, &g);
	assert_int_equal(g.status, -1);
	assert_non_null(strstr(g.err, "EBB_TOKEN is not allowed"));
	got_free(&g);

	/* Never as root, whatever the worker asks. */
	c.uid = 0;
	req.envp = env;
	run(&req, &g);
	assert_int_equal(g.status, -1);
	assert_non_null(strstr(g.err, "do not run as uid 0"));
	got_free(&g);

	priv_close(pv);
	privd_close(pd);
	rmdir(jobs);
	rmdir(dir);
	free(jobs);
}

static void
test_abandon(void **state)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct subproc_req req = { .argv = argv };
	struct got g;
	struct subproc *p;
	ev_timer guard;
	char err[256];

	memset(&g, 0, sizeof(g));
	p = subproc_run(loop, &req, done, &g, err, sizeof(err));
	assert_non_null(p);
	subproc_abandon(p);
	ev_timer_init(&guard, on_guard, 0.3, 0);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	assert_int_equal(g.called, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_and_streams),
		cmocka_unit_test(test_stdin_and_env),
		cmocka_unit_test(test_output_capped),
		cmocka_unit_test(test_own_cap),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_as_user),
		cmocka_unit_test(test_via_priv),
		cmocka_unit_test(test_abandon),
	};

	loop = ev_default_loop(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
