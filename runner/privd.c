/*
 * privd: the privileged server of ebbd's privilege separation (privd.h).
 *
 * Every request is decoded by privproto (shape and ranges) and then
 * checked here against what this process was configured with: the uid a
 * job or command runs as is never 0 unless root_jobs allows it, files are
 * reached only below a configured shared_dir through directory
 * descriptors with O_NOFOLLOW, as the job's user (a forked helper that
 * drops to that user before it touches the file), and only configured
 * commands run. Replies go out on a blocking socket with a send timeout:
 * a worker that stops reading is treated as gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/jobctl.h"
#include "runner/privd.h"
#include "runner/subproc.h"

#define HELPER_TIMEOUT_MS	10000	/* a file helper's whole life */
#define SEND_TIMEOUT_S		30	/* a worker that does not read */
#define FILE_MAX		(16 << 20)	/* UWRITE contents */
#define SYSTEM_GID_END		1000	/* Debian's: system groups below */

/* A RUN in progress. */
struct run {
	struct privd	*pd;
	uint32_t	 seq;
	pid_t		 pid;
	int		 flags;
	ev_child	 child;
	ev_timer	 timer;
	struct run	*next;
};

struct privd {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 io;
	struct jobctl	*jc;
	char		**shared_dirs;
	char		**commands;
	int		 root_jobs;
	struct run	*runs;
	void		(*on_gone)(void *);
	void		*arg;
	int		 gone;
};

static void
gone(struct privd *pd, const char *why)
{
	if (pd->gone)
		return;
	pd->gone = 1;
	if (strcmp(why, "the channel closed") != 0)
		log_warnx("privileged process: worker %s", why);
	ev_io_stop(pd->loop, &pd->io);
	if (pd->on_gone != NULL)
		pd->on_gone(pd->arg);
}

static void
send_msg(struct privd *pd, const struct privmsg *pm)
{
	char err[256];

	if (!pd->gone && privmsg_send(pd->fd, pm, err, sizeof(err)) == -1)
		gone(pd, err);
}

static void
reply_err(struct privd *pd, const struct privmsg *req, int e,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
reply_err(struct privd *pd, const struct privmsg *req, int e,
    const char *fmt, ...)
{
	struct privmsg pm;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	privmsg_clear(&pm);
	pm.type = PRIV_ERR;
	pm.seq = req->seq;
	pm.id = req->id;
	pm.status = e;
	pm.text = text;
	send_msg(pd, &pm);
}

static void
reply_fd(struct privd *pd, const struct privmsg *req, int fd)
{
	struct privmsg pm;

	privmsg_clear(&pm);
	pm.type = PRIV_FD;
	pm.seq = req->seq;
	pm.id = req->id;
	pm.fd[0] = fd;
	send_msg(pd, &pm);
	close(fd);
}

static void
reply_ok(struct privd *pd, const struct privmsg *req)
{
	struct privmsg pm;

	privmsg_clear(&pm);
	pm.type = PRIV_OK;
	pm.seq = req->seq;
	pm.id = req->id;
	send_msg(pd, &pm);
}

/* jobctl's events, as JOBEV messages. */
static void
on_jobev(void *arg, const struct jobctl_ev *ev)
{
	struct privd *pd = arg;
	struct privmsg pm;

	privmsg_clear(&pm);
	pm.type = PRIV_JOBEV;
	pm.id = ev->id;
	pm.what = ev->what;
	pm.pid = ev->pid;
	pm.start_time = ev->start_time;
	pm.text = ev->text;
	pm.fd[0] = ev->fd;
	send_msg(pd, &pm);
	if (ev->fd >= 0)
		close(ev->fd);
}

/* Is g a system group (below SYSTEM_GID_END) that is not among the n
 * groups of the user's group database entry? */
static int
foreign_system_group(gid_t g, const gid_t *mine, int n)
{
	if (g >= SYSTEM_GID_END)
		return 0;
	for (int i = 0; i < n; i++)
		if (mine[i] == g)
			return 0;
	return 1;
}

/*
 * May a job or command run as cred? Never as root (unless root_jobs), and
 * only as a user of the password database with system groups (disk,
 * shadow, sudo, docker...) that the group database gives that user: the
 * worker names the credentials (from the submitter's SO_PEERCRED and
 * SO_PEERGROUPS), so a compromised worker must not be able to pick a
 * group that is root in all but name.
 */
static int
cred_ok(const struct privd *pd, const struct priv_cred *c)
{
	gid_t mine[PRIV_MAXGROUPS];
	int n = PRIV_MAXGROUPS;
	struct passwd *pw;

	if (geteuid() != 0)
		return 1;	/* we cannot become anyone else: run as us */
	if (pd->root_jobs)
		return 1;
	if (c->uid == 0 || c->gid == 0)
		return 0;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == 0)
			return 0;
	if ((pw = getpwuid(c->uid)) == NULL ||
	    getgrouplist(pw->pw_name, pw->pw_gid, mine, &n) == -1)
		return 0;
	if (foreign_system_group(c->gid, mine, n))
		return 0;
	for (size_t i = 0; i < c->ngroups; i++)
		if (foreign_system_group(c->groups[i], mine, n))
			return 0;
	return 1;
}

/*
 * In a helper child: closes every descriptor from 3 up but a and b (-1:
 * none), so that nothing of the privileged process's outlives the drop.
 */
static void
keep_only(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo < 3)
		lo = hi;
	if (lo < 3) {
		close_range(3, ~0U, 0);
		return;
	}
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0U, 0);
}

/* In a helper child: become cred for good, or exit. */
static void
helper_become(const struct priv_cred *c)
{
	if (geteuid() != 0)
		return;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);	/* no ptrace by the user */
	/*
	 * Only the file system identity changes (with it the file
	 * capabilities go): the user cannot signal or stop a helper whose
	 * real and saved ids stay root's, so it cannot hold the parent.
	 */
	if (setgroups(c->ngroups, c->groups) == -1)
		_exit(126);
	setfsgid(c->gid);
	setfsuid(c->uid);
	if ((uid_t)setfsuid((uid_t)-1) != c->uid ||
	    (gid_t)setfsgid((gid_t)-1) != c->gid)
		_exit(126);
}

/*
 * Creates <dir>/job-<id> for the user (as root: a new directory is ours
 * until it is handed over; an existing one is left as it is, and the user
 * must own it to write into it). -1 with errno.
 */
static int
make_job_dir(const char *dir, int64_t id, const struct priv_cred *c)
{
	char name[32];
	int dfd, jfd, rc = 0;

	snprintf(name, sizeof(name), "job-%" PRId64, id);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (mkdirat(dfd, name, 0700) == 0) {
		if ((jfd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
		    (geteuid() == 0 && fchown(jfd, c->uid, c->gid) == -1))
			rc = -1;
		if (jfd >= 0)
			close(jfd);
	} else if (errno != EEXIST)
		rc = -1;
	close(dfd);
	return rc;
}

/* The job directory <dir>/job-<id>, as the caller is; -1 with errno. */
static int
open_job_dir(const char *dir, int64_t id)
{
	char name[32];
	int dfd, jfd;

	snprintf(name, sizeof(name), "job-%" PRId64, id);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	jfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	close(dfd);
	return jfd;
}

/*
 * The helper child of UOPEN/UWRITE: becomes the user and opens or writes
 * the file, then sends a descriptor (UOPEN) or nothing back on sock and
 * exits with 0 or an errno.
 */
static void __attribute__((noreturn))
file_helper(int sock, const struct privmsg *req)
{
	struct pmsg m;
	struct stat st;
	char err[256], *data;
	size_t len;
	int jfd, fd;

	if (req->type == PRIV_UWRITE && make_job_dir(req->dir, req->id,
	    &req->cred) == -1)
		_exit(errno ? errno : EIO);
	keep_only(sock, req->fd[0]);	/* none of root's descriptors */
	helper_become(&req->cred);
	if ((jfd = open_job_dir(req->dir, req->id)) == -1)
		_exit(errno ? errno : EIO);
	/* A directory someone else made (a shared_dir others can write to)
	 * is not the job's: neither read from nor written to. */
	if (fstat(jfd, &st) == -1 || st.st_uid != (geteuid() == 0 ?
	    req->cred.uid : geteuid()) || (st.st_mode & 022) != 0)
		_exit(EPERM);
	if (req->type == PRIV_UWRITE) {
		if (lseek(req->fd[0], 0, SEEK_SET) == -1 ||
		    fs_read_fd(req->fd[0], FILE_MAX, &data, &len, err,
		    sizeof(err)) == -1 ||
		    fs_write_atomic_at(jfd, req->name, data, len, 0600, err,
		    sizeof(err)) == -1)
			_exit(errno ? errno : EIO);
		_exit(0);
	}
	fd = openat(jfd, req->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		_exit(errno);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		_exit(EINVAL);
	pmsg_init(&m, PRIV_FD, 0, 0);
	pmsg_put_fd(&m, fd);
	if (pmsg_send(sock, &m, err, sizeof(err)) != 0)
		_exit(EIO);
	_exit(0);
}

/* Names a Slurm job directory may hold that the worker asks about. */
static int
name_ok(int type, const char *name)
{
	static const char *const readable[] = { "result.json", "stdout",
	    "stderr", NULL };

	if (type == PRIV_UWRITE)
		return strcmp(name, "spec.json") == 0;
	return strv_has((char *const *)readable, name);
}

/* UOPEN and UWRITE, through a helper child with a bounded life. */
static void
do_ufile(struct privd *pd, struct privmsg *req)
{
	int sv[2], status = 0, e = 0, fd = -1, rc;
	struct pmsg m;
	struct pollfd p;
	char err[256];
	int64_t end = ebb_mono_ns() + (int64_t)HELPER_TIMEOUT_MS * 1000000;
	pid_t pid;

	if (!strv_has(pd->shared_dirs, req->dir) || !name_ok(req->type,
	    req->name) || !cred_ok(pd, &req->cred)) {
		reply_err(pd, req, EPERM, "%s/job-%" PRId64 "/%s: not allowed",
		    req->dir, req->id, req->name);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		reply_err(pd, req, errno, "socketpair: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		reply_err(pd, req, e, "fork: %s", strerror(e));
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		file_helper(sv[1], req);
	}
	close(sv[1]);
	/* Wait for the descriptor or the end, never longer than the bound. */
	p.fd = sv[0];
	p.events = POLLIN;
	for (;;) {
		int64_t left = (end - ebb_mono_ns()) / 1000000;

		rc = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (rc == -1 && errno == EINTR)
			continue;
		break;
	}
	if (rc == 1 && pmsg_recv(sv[0], &m, err, sizeof(err)) == 0) {
		fd = pmsg_take_fd(&m, 0);
		pmsg_free(&m);
	}
	close(sv[0]);
	/* Timed out, or sent all it had to: it has nothing left to do. */
	if (rc == 0 || fd >= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (rc == 0)
		e = ETIMEDOUT;
	else if (WIFEXITED(status))
		e = WEXITSTATUS(status);
	else
		e = EIO;
	if (req->type == PRIV_UOPEN && fd >= 0)
		reply_fd(pd, req, fd);
	else if (req->type == PRIV_UWRITE && e == 0)
		reply_ok(pd, req);
	else {
		if (fd >= 0)
			close(fd);
		reply_err(pd, req, e == 126 ? EPERM : e, "%s/job-%" PRId64
		    "/%s: %s", req->dir, req->id, req->name, e == 126 ?
		    "cannot become the job's user" : strerror(e));
	}
}

static struct run **
run_find(struct privd *pd, uint32_t seq)
{
	struct run **rp;

	for (rp = &pd->runs; *rp != NULL; rp = &(*rp)->next)
		if ((*rp)->seq == seq)
			break;
	return rp;
}

static void
run_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct run *r = w->data, **rp;
	struct privmsg pm;

	ev_child_stop(loop, w);
	ev_timer_stop(loop, &r->timer);
	privmsg_clear(&pm);
	pm.type = PRIV_EXIT;
	pm.seq = r->seq;
	pm.status = w->rstatus;
	pm.flags = r->flags;
	send_msg(r->pd, &pm);
	for (rp = &r->pd->runs; *rp != NULL && *rp != r; rp = &(*rp)->next)
		;
	if (*rp == r)
		*rp = r->next;
	free(r);
}

static void
run_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct run *r = t->data;

	r->flags |= SUBPROC_TIMED_OUT;
	kill(r->pid, SIGKILL);
}

/* Variables a command may get: nothing of ebbd's own environment. */
static int
env_ok(const char *kv)
{
	static const char *const allowed[] = { "PATH=", "SLURM_CONF=",
	    "LANG=", "LC_ALL=", "TZ=", NULL };

	for (const char *const *a = allowed; *a != NULL; a++)
		if (strncmp(kv, *a, strlen(*a)) == 0)
			return 1;
	return 0;
}

static void
do_run(struct privd *pd, struct privmsg *req)
{
	struct subproc_req sr;
	struct run *r;
	char err[256];
	pid_t pid;

	if (*run_find(pd, req->seq) != NULL) {
		reply_err(pd, req, EEXIST, "command %u is already running",
		    (unsigned)req->seq);
		return;
	}
	if (!strv_has(pd->commands, req->argv[0])) {
		reply_err(pd, req, EPERM, "%s: not a command ebbd may run",
		    req->argv[0]);
		return;
	}
	for (const char **e = req->env; *e != NULL; e++)
		if (!env_ok(*e)) {
			reply_err(pd, req, EPERM, "environment: %.*s is not "
			    "allowed", (int)strcspn(*e, "="), *e);
			return;
		}
	if (!cred_ok(pd, &req->cred)) {
		reply_err(pd, req, EPERM, "commands do not run as uid %lu",
		    (unsigned long)req->cred.uid);
		return;
	}
	memset(&sr, 0, sizeof(sr));
	sr.argv = (char *const *)req->argv;
	sr.envp = (char *const *)req->env;
	sr.cred = &req->cred;
	if (subproc_spawn(&sr, req->fd[0], req->fd[1], req->fd[2], &pid, err,
	    sizeof(err)) == -1) {
		reply_err(pd, req, EAGAIN, "%s", err);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->pd = pd;
	r->seq = req->seq;
	r->pid = pid;
	ev_child_init(&r->child, run_child_cb, pid, 0);
	r->child.data = r;
	ev_child_start(pd->loop, &r->child);
	ev_timer_init(&r->timer, run_timer_cb, (double)req->timeout_ms / 1e3,
	    0.);
	r->timer.data = r;
	if (req->timeout_ms > 0)
		ev_timer_start(pd->loop, &r->timer);
	r->next = pd->runs;
	pd->runs = r;
}

static void
handle(struct privd *pd, struct privmsg *req)
{
	char err[256];
	struct run *r;
	int fd;

	switch (req->type) {
	case PRIV_START:
		if (!cred_ok(pd, &req->cred)) {
			struct jobctl_ev ev = { req->id, PRIV_EV_FAILED, 0, 0,
			    "jobs do not run as root here (root_jobs)", -1 };

			on_jobev(pd, &ev);
			break;
		}
		jobctl_start(pd->jc, req->id, &req->cred, req->mem,
		    req->kill_grace, req->output_limit, req->fd[0]);
		break;
	case PRIV_ADOPT:
		jobctl_adopt(pd->jc, req->id);
		break;
	case PRIV_SIGNAL:
		if (jobctl_signal(pd->jc, req->id, (int)req->what, err,
		    sizeof(err)) == -1)
			log_warnx("job %" PRId64 ": %s", req->id, err);
		break;
	case PRIV_OPEN:
		if ((fd = jobctl_open_output(pd->jc, req->id, req->stream, err,
		    sizeof(err))) == -1)
			reply_err(pd, req, errno, "%s", err);
		else
			reply_fd(pd, req, fd);
		break;
	case PRIV_UOPEN:
	case PRIV_UWRITE:
		do_ufile(pd, req);
		break;
	case PRIV_RUN:
		do_run(pd, req);
		break;
	case PRIV_RUNKILL:
		if ((r = *run_find(pd, (uint32_t)req->id)) != NULL)
			kill(r->pid, SIGKILL);
		break;
	default:
		gone(pd, "sent a reply type as a request");
		break;
	}
}

void
privd_poll(struct privd *pd)
{
	struct pmsg raw;
	struct privmsg pm;
	char err[256];
	int rc;

	while (!pd->gone) {
		rc = privmsg_recv(pd->fd, &raw, &pm, err, sizeof(err));
		if (rc == 0)
			handle(pd, &pm);
		privmsg_release(&pm);
		pmsg_free(&raw);
		if (rc == 1)
			break;
		if (rc == -1)
			gone(pd, err);
	}
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	privd_poll(w->data);
}

static void
set_lists(struct privd *pd, const struct privd_conf *conf)
{
	strv_free(pd->shared_dirs);
	strv_free(pd->commands);
	pd->shared_dirs = strv_dup(conf->shared_dirs);
	pd->commands = strv_dup(conf->commands);
	pd->root_jobs = conf->root_jobs;
}

struct privd *
privd_open(struct ev_loop *loop, int fd, const struct privd_conf *conf,
    void (*on_gone)(void *), void *arg, char *err, size_t errlen)
{
	struct privd *pd = xcalloc(1, sizeof(*pd));
	struct jobctl_conf jconf = { conf->jobs_dir, conf->runner,
	    conf->instance };
	struct timeval tv = { SEND_TIMEOUT_S, 0 };

	pd->loop = loop;
	pd->fd = fd;
	pd->on_gone = on_gone;
	pd->arg = arg;
	set_lists(pd, conf);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((pd->jc = jobctl_open(loop, &jconf, on_jobev, pd, err,
	    errlen)) == NULL) {
		privd_close(pd);
		return NULL;
	}
	ev_io_init(&pd->io, io_cb, fd, EV_READ);
	pd->io.data = pd;
	ev_io_start(loop, &pd->io);
	return pd;
}

void
privd_reconfigure(struct privd *pd, const struct privd_conf *conf)
{
	set_lists(pd, conf);
}

void
privd_close(struct privd *pd)
{
	struct run *r, *next;

	if (pd == NULL)
		return;
	ev_io_stop(pd->loop, &pd->io);
	for (r = pd->runs; r != NULL; r = next) {
		next = r->next;
		ev_child_stop(pd->loop, &r->child);
		ev_timer_stop(pd->loop, &r->timer);
		free(r);
	}
	jobctl_close(pd->jc);
	strv_free(pd->shared_dirs);
	strv_free(pd->commands);
	close(pd->fd);
	free(pd);
}
