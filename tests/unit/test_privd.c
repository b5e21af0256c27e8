/*
 * test_privd: the privileged process's file operations (UOPEN, UWRITE)
 * against a hostile user, with a real second user (created with useradd;
 * skipped without root): links planted where ebbd reads or writes are
 * never followed with root's rights, a FIFO does not block it, and only
 * configured directories, allowed names and non-root users pass. Also
 * the message layer itself: malformed messages end the channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "runner/priv.h"
#include "runner/privd.h"
#include "testutil.h"

static char dir[32];
static char *shared, *jobs;
static struct ev_loop *loop;
static struct privd *pd;
static struct priv *pv;
static struct priv_cred user;
static int gone;
static int cfd;		/* the worker's end, under pv */

static void
on_gone(void *arg)
{
	gone = 1;
}

static int
setup(void **state)
{
	struct passwd *pw;
	char *dirs[2], *cmds[] = { "/bin/cat", NULL }, err[256];
	struct privd_conf pc = { 0 };
	int sv[2];

	if (geteuid() != 0) {
		print_message("skip: needs root to act as another user\n");
		return 0;
	}
	if ((pw = getpwnam("ebbtest")) == NULL &&
	    (system("useradd -M -N -s /bin/sh ebbtest") != 0 ||
	    (pw = getpwnam("ebbtest")) == NULL))
		fail_msg("cannot create user ebbtest");
	memset(&user, 0, sizeof(user));
	user.uid = pw->pw_uid;
	user.gid = pw->pw_gid;
	user.groups[0] = pw->pw_gid;
	user.ngroups = 1;
	snprintf(dir, sizeof(dir), "/tmp/ebb-privd.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	shared = xasprintf("%s/shared", dir);
	jobs = xasprintf("%s/jobs", dir);
	assert_int_equal(mkdir(shared, 0755), 0);
	dirs[0] = shared;
	dirs[1] = NULL;
	pc.jobs_dir = jobs;
	pc.runner = "/bin/false";
	pc.instance = "t";
	pc.shared_dirs = dirs;
	pc.commands = cmds;
	loop = EV_DEFAULT;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	if ((pd = privd_open(loop, sv[0], &pc, on_gone, NULL, err,
	    sizeof(err))) == NULL)
		fail_msg("%s", err);
	pv = priv_open(loop, sv[1], pd, NULL, NULL);
	cfd = sv[1];
	gone = 0;
	return 0;
}

static int
teardown(void **state)
{
	if (geteuid() != 0)
		return 0;
	priv_close(pv);
	privd_close(pd);
	fs_rm_rf(dir);
	free(shared);
	free(jobs);
	return 0;
}

#define NEED_ROOT() do { if (geteuid() != 0) skip(); } while (0)

static char *
job_path(int64_t id, const char *name)
{
	return xasprintf("%s/job-%lld/%s", shared, (long long)id, name);
}

/* A root-only file with known contents: what an attacker wants. */
static char *
secret(void)
{
	char *path = xasprintf("%s/secret", dir), err[128];

	assert_int_equal(fs_write_atomic(path, "root only\n", 10, 0600, err,
	    sizeof(err)), 0);
	return path;
}

/* spec.json is written as the user, in a directory made the user's. */
static void
test_uwrite(void **state)
{
	char err[256], *path, *data;
	struct stat st;
	size_t len;

	NEED_ROOT();
	assert_int_equal(priv_uwrite(pv, 5, &user, shared, "spec.json", "{}",
	    2, err, sizeof(err)), 0);
	path = job_path(5, "spec.json");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, user.uid);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(data = tu_slurp(path, &len));
	free(path);
	free(data);
	path = xasprintf("%s/job-5", shared);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, user.uid);
	free(path);
}

/*
 * Hole 1: the user replaces spec.json (and the temporary name) with links
 * to a root-only file before ebbd writes again: the file is untouched and
 * its owner unchanged.
 */
static void
test_uwrite_link_not_followed(void **state)
{
	char err[256], *victim = secret(), *spec, *tmp, *text;
	struct stat st;

	NEED_ROOT();
	assert_int_equal(priv_uwrite(pv, 6, &user, shared, "spec.json", "{}",
	    2, err, sizeof(err)), 0);
	spec = job_path(6, "spec.json");
	tmp = job_path(6, ".spec.json.tmp");
	unlink(spec);
	assert_int_equal(symlink(victim, spec), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(priv_uwrite(pv, 6, &user, shared, "spec.json",
	    "{\"x\":1}", 7, err, sizeof(err)), 0);
	assert_non_null(text = tu_slurp(victim, NULL));
	assert_string_equal(text, "root only\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(lstat(spec, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	free(text);
	free(victim);
	free(spec);
	free(tmp);
}

/* Hole 2: a log or result linked to a root-only file is not read. */
static void
test_uopen_link_not_followed(void **state)
{
	char err[256], *victim = secret(), *out;
	int fd;

	NEED_ROOT();
	assert_int_equal(priv_uwrite(pv, 7, &user, shared, "spec.json", "{}",
	    2, err, sizeof(err)), 0);
	out = job_path(7, "stderr");
	assert_int_equal(symlink(victim, out), 0);
	fd = priv_uopen(pv, 7, &user, shared, "stderr", err, sizeof(err));
	assert_int_equal(fd, -1);
	/* Even a hard link (if the kernel allowed it) is read as the user. */
	unlink(out);
	if (link(victim, out) == 0) {
		assert_int_equal(chown(out, 0, 0), 0);
		fd = priv_uopen(pv, 7, &user, shared, "stderr", err,
		    sizeof(err));
		assert_int_equal(fd, -1);
		assert_int_equal(errno, EACCES);
	}
	free(victim);
	free(out);
}

/* A FIFO where a log should be neither blocks ebbd nor is served. */
static void
test_uopen_fifo(void **state)
{
	char err[256], *out;
	int fd;

	NEED_ROOT();
	assert_int_equal(priv_uwrite(pv, 8, &user, shared, "spec.json", "{}",
	    2, err, sizeof(err)), 0);
	out = job_path(8, "stdout");
	assert_int_equal(mkfifo(out, 0644), 0);
	assert_int_equal(chown(out, user.uid, user.gid), 0);
	fd = priv_uopen(pv, 8, &user, shared, "stdout", err, sizeof(err));
	assert_int_equal(fd, -1);
	free(out);
	/* A real file is served, as a descriptor. */
	out = job_path(8, "stderr");
	assert_int_equal(fs_write_atomic(out, "e\n", 2, 0644, err,
	    sizeof(err)), 0);
	assert_int_equal(chown(out, user.uid, user.gid), 0);
	fd = priv_uopen(pv, 8, &user, shared, "stderr", err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	free(out);
}

/*
 * A job directory made by someone else (a shared_dir others may write
 * to, or one the job's user does not own) is neither written nor read.
 */
static void
test_foreign_job_dir(void **state)
{
	char err[256], *jd;

	NEED_ROOT();
	jd = xasprintf("%s/job-10", shared);
	assert_int_equal(mkdir(jd, 0777), 0);
	assert_int_equal(chmod(jd, 0777), 0);	/* root's, open to all */
	assert_int_equal(priv_uwrite(pv, 10, &user, shared, "spec.json",
	    "{}", 2, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(priv_uopen(pv, 10, &user, shared, "stdout", err,
	    sizeof(err)), -1);
	/* The user's own but writable by others: refused as well. */
	assert_int_equal(chown(jd, user.uid, user.gid), 0);
	assert_int_equal(priv_uwrite(pv, 10, &user, shared, "spec.json",
	    "{}", 2, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	free(jd);
}

/* Only configured directories, allowed names and users other than root. */
static void
test_refused(void **state)
{
	struct priv_cred root = user;
	char err[256];

	NEED_ROOT();
	assert_int_equal(priv_uopen(pv, 9, &user, "/etc", "stdout", err,
	    sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(priv_uopen(pv, 9, &user, shared, "../secret", err,
	    sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(priv_uwrite(pv, 9, &user, shared, "stdout", "x", 1,
	    err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	root.uid = 0;
	assert_int_equal(priv_uwrite(pv, 9, &root, shared, "spec.json", "x",
	    1, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	/* A system group the user is not in (shadow: 42, disk: 6). */
	root = user;
	root.groups[root.ngroups++] = 42;
	assert_int_equal(priv_uwrite(pv, 9, &root, shared, "spec.json", "x",
	    1, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	root = user;
	root.gid = 6;
	assert_int_equal(priv_uwrite(pv, 9, &root, shared, "spec.json", "x",
	    1, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	/* A uid no one has. */
	root = user;
	root.uid = 4000000;
	assert_int_equal(priv_uwrite(pv, 9, &root, shared, "spec.json", "x",
	    1, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	root = user;
	root.groups[root.ngroups++] = 0;
	assert_int_equal(priv_uwrite(pv, 9, &root, shared, "spec.json", "x",
	    1, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_false(gone);
}

/* Sends RUN /bin/cat numbered seq with in as its stdin; the reply type. */
static int
raw_run(uint32_t seq, int in, int out)
{
	struct privmsg pm;
	struct pmsg raw;
	char *argv[] = { "/bin/cat", NULL }, *env[] = { NULL }, err[128];
	int type = -1;

	privmsg_clear(&pm);
	pm.type = PRIV_RUN;
	pm.seq = seq;
	pm.cred = user;
	pm.argv = (const char **)argv;
	pm.env = (const char **)env;
	pm.fd[0] = in;
	pm.fd[1] = out;
	pm.fd[2] = out;
	if (privmsg_send(cfd, &pm, err, sizeof(err)) == -1)
		fail_msg("send: %s (cfd %d in %d out %d)", err, cfd, in, out);
	privd_poll(pd);
	if (privmsg_recv(cfd, &raw, &pm, err, sizeof(err)) == 0)
		type = pm.type;
	privmsg_release(&pm);
	pmsg_free(&raw);
	return type;
}

/*
 * A command number already running is refused: two entries with one
 * number once freed the wrong one in the privileged process.
 */
static void
test_run_seq_unique(void **state)
{
	int in[2], out;

	NEED_ROOT();
	assert_int_equal(pipe(in), 0);
	assert_true((out = open("/dev/null", O_WRONLY)) >= 0);
	assert_int_equal(raw_run(7, in[0], out), -1);	/* runs: no reply */
	assert_int_equal(raw_run(7, in[0], out), PRIV_ERR);
	assert_false(gone);
	close(in[1]);		/* cat ends; its EXIT comes later */
	close(in[0]);
	close(out);
}

/*
 * Descriptors sent beside a message stay the sender's: freeing a built
 * message once closed them, and the sender's own close then hit whatever
 * had taken the number meanwhile.
 */
static void
test_sent_fds_stay(void **state)
{
	struct pmsg m;
	int p[2];

	assert_int_equal(pipe(p), 0);
	pmsg_init(&m, PRIV_OK, 1, 1);
	pmsg_put_fd(&m, p[0]);
	pmsg_free(&m);
	assert_int_not_equal(fcntl(p[0], F_GETFD), -1);
	close(p[0]);
	close(p[1]);
}

/* A message that is not one ends the channel: the worker is not trusted. */
static void
test_malformed_ends_channel(void **state)
{
	struct pmsg m;
	char err[128];

	NEED_ROOT();
	pmsg_init(&m, PRIV_START, 1, 1);
	pmsg_put_i64(&m, 1000);		/* uid, then nothing else */
	assert_int_equal(pmsg_send(cfd, &m, err, sizeof(err)),
	    0);
	pmsg_free(&m);
	privd_poll(pd);
	assert_true(gone);
}

static void
set_flag(void *arg)
{
	*(int *)arg = 1;
}

/*
 * A start sent into a channel whose other end is closed (the privileged
 * process was killed): it fails, and the worker learns at once that the
 * privileged process is gone (on_gone), so it leaves the job to the next
 * ebbd instead of recording it as failed. Needs no root.
 */
static void
test_start_into_closed_channel(void **state)
{
	struct ev_loop *l = ev_loop_new(0);
	struct priv_cred c = { .uid = 1000, .gid = 1000, .groups = { 1000 },
	    .ngroups = 1 };
	struct priv *p;
	int sv[2], flag = 0;
	char err[256];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	p = priv_open(l, sv[1], NULL, set_flag, &flag);
	close(sv[0]);
	assert_int_equal(priv_start(p, 1, &c, 0, 0, 0, "{}", 2, err,
	    sizeof(err)), -1);
	assert_int_equal(flag, 1);
	assert_non_null(strstr(err, "send: "));
	/* And everything after says so without trying. */
	assert_int_equal(priv_adopt(p, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "the privileged process is gone");
	priv_close(p);
	ev_loop_destroy(l);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_uwrite),
		T(test_uwrite_link_not_followed),
		T(test_uopen_link_not_followed),
		T(test_uopen_fifo),
		T(test_foreign_job_dir),
		T(test_refused),
		T(test_run_seq_unique),
		cmocka_unit_test(test_sent_fds_stay),
		T(test_malformed_ends_channel),
		cmocka_unit_test(test_start_into_closed_channel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
