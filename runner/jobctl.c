/*
 * jobctl: ebb-run supervisors for local jobs, run from ebbd's privileged
 * process (see jobctl.h). Everything under the jobs directory is reached
 * with openat() from descriptors this process opened, never by a path
 * someone else could change.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/cgroup.h"
#include "runner/jobctl.h"

#define ADOPT_RETRY_S	0.02	/* lock held but its pid not written yet */
#define ADOPT_TRIES	250	/* 5 s in all */
#define REAP_RETRY_S	0.1	/* between steps of emptying a lost group */
#define REAP_WARN	100	/* steps (10 s) before saying it is slow */
#define SPEC_MAX	(16 << 20)	/* bytes of a job spec */
#define RUNNER_FD	3	/* the job directory, in ebb-run */
#define RUNNER_LOCKFD	4	/* its lock, already taken, in ebb-run */
#define RUNNER_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
			"/usr/bin:/sbin:/bin"

enum wstate {
	W_WATCH,	/* a supervisor, through its pidfd */
	W_RETRY,	/* adopt: lock held, pid not written yet */
	W_REAP,		/* supervisor gone: emptying the job's cgroup */
};

struct watch {
	struct jobctl	*jc;
	int64_t		 id;
	enum wstate	 state;
	pid_t		 pid;
	int		 pidfd;
	int		 ours;		/* spawned by us: reap it */
	int		 tries;
	char		*why;		/* W_REAP: the reason it was lost */
	ev_io		 io;
	ev_timer	 timer;
	struct watch	*next;
};

struct jobctl {
	struct ev_loop	*loop;
	int		 jfd;		/* the jobs directory */
	char		*jobs_dir;
	char		*runner;
	char		*instance;
	jobctl_cb	 cb;
	void		*arg;
	struct watch	*watches;
};

static void adopt_check(struct jobctl *, int64_t, int);

void
jobctl_instance(const char *state_dir, char out[17])
{
	uint64_t h = 1469598103934665603ULL;

	/* FNV-1a of the state dir. */
	for (const char *p = state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(out, 17, "%08" PRIx32, (uint32_t)(h ^ (h >> 32)));
}

char *
jobctl_cgroup(const char *instance, int64_t id)
{
	return xasprintf("ebb/%s/job-%" PRId64, instance, id);
}

static void
emit(struct jobctl *jc, int64_t id, enum priv_ev what, pid_t pid,
    int64_t start, const char *text, int fd)
{
	struct jobctl_ev ev = { id, what, pid, start, text, fd };

	jc->cb(jc->arg, &ev);
}

/* The job's directory; -1 with errno set. */
static int
job_dir(struct jobctl *jc, int64_t id)
{
	char name[32];

	snprintf(name, sizeof(name), "%" PRId64, id);
	return openat(jc->jfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

static struct watch **
watch_find(struct jobctl *jc, int64_t id)
{
	struct watch **wp;

	for (wp = &jc->watches; *wp != NULL; wp = &(*wp)->next)
		if ((*wp)->id == id)
			break;
	return wp;
}

static void
watch_free(struct watch *w)
{
	struct watch **wp = watch_find(w->jc, w->id);

	*wp = w->next;
	ev_io_stop(w->jc->loop, &w->io);
	ev_timer_stop(w->jc->loop, &w->timer);
	if (w->pidfd >= 0)
		close(w->pidfd);
	free(w->why);
	free(w);
}

static struct watch *
watch_new(struct jobctl *jc, int64_t id, enum wstate state)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->jc = jc;
	w->id = id;
	w->state = state;
	w->pidfd = -1;
	w->next = jc->watches;
	jc->watches = w;
	return w;
}

/*
 * FINISHED with result.json if the job has one (1), LOST if it is there
 * but cannot be opened (1); 0 if there is none.
 */
static int
result_event(struct jobctl *jc, int64_t id, int dfd)
{
	char why[256];
	int fd = openat(dfd, "result.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1) {
		snprintf(why, sizeof(why), "result.json: %s", strerror(errno));
		emit(jc, id, PRIV_EV_LOST, 0, 0, why, -1);
		return 1;
	}
	emit(jc, id, PRIV_EV_FINISHED, 0, 0, NULL, fd);
	return 1;
}

static int
has_result(struct jobctl *jc, int64_t id)
{
	int dfd = job_dir(jc, id), rc;

	if (dfd == -1)
		return 0;
	rc = result_event(jc, id, dfd);
	close(dfd);
	return rc;
}

static void
reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;
	struct jobctl *jc = w->jc;
	char *cg = jobctl_cgroup(jc->instance, w->id), *why;
	int64_t id = w->id;
	int left = cg_reap_by_name(cg);

	log_debug("job %" PRId64 ": emptying cgroup %s: %d group(s) left", id,
	    cg, left);
	if (left > 0) {
		if (++w->tries == REAP_WARN)
			log_warnx("job %" PRId64 ": cgroup %s still has "
			    "processes after SIGKILL; retrying", id, cg);
		free(cg);
		ev_timer_set(&w->timer, REAP_RETRY_S, 0.);
		ev_timer_start(loop, &w->timer);
		return;
	}
	free(cg);
	why = w->why;
	w->why = NULL;
	watch_free(w);
	emit(jc, id, PRIV_EV_LOST, 0, 0, why, -1);
	free(why);
}

/*
 * The supervisor of id is gone without a result: kill what is left of
 * the job and remove its cgroup, then report it lost with `why`.
 */
static void
reap(struct jobctl *jc, int64_t id, const char *why)
{
	struct watch *w = watch_new(jc, id, W_REAP);

	w->why = xasprintf("%s; its processes were killed", why);
	ev_timer_init(&w->timer, reap_cb, 0., 0.);
	w->timer.data = w;
	ev_timer_start(jc->loop, &w->timer);
}

static void
pidfd_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct watch *w = io->data;
	struct jobctl *jc = w->jc;
	int64_t id = w->id;
	char why[128];
	int status;

	snprintf(why, sizeof(why), "ebb-run exited without a result");
	/* libev's default loop may have reaped it already (ECHILD). */
	if (w->ours && waitpid(w->pid, &status, WNOHANG) == w->pid) {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "ebb-run killed by "
			    "signal %d without a result", WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "ebb-run exited "
			    "with status %d without a result",
			    WEXITSTATUS(status));
	}
	watch_free(w);
	if (!has_result(jc, id))
		reap(jc, id, why);
}

static void
watch_pidfd(struct jobctl *jc, int64_t id, pid_t pid, int pidfd, int ours)
{
	struct watch *w = watch_new(jc, id, W_WATCH);

	w->pid = pid;
	w->pidfd = pidfd;
	w->ours = ours;
	ev_io_init(&w->io, pidfd_cb, pidfd, EV_READ);
	w->io.data = w;
	ev_io_start(jc->loop, &w->io);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;
	struct jobctl *jc = w->jc;
	int64_t id = w->id;
	int tries = w->tries;

	watch_free(w);
	adopt_check(jc, id, tries);
}

/* "1,2,3" for ebb-run's -G. */
static char *
groups_arg(const struct priv_cred *c)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < c->ngroups; i++) {
		char *t = xasprintf("%s%s%lu", s, i ? "," : "",
		    (unsigned long)c->groups[i]);

		free(s);
		s = t;
	}
	return s;
}

static int
spawn_runner(struct jobctl *jc, int64_t id, int dfd,
    const struct priv_cred *c, int64_t mem, int64_t grace, int64_t outmax,
    pid_t *pid, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char *cg = jobctl_cgroup(jc->instance, id);
	char *dir = xasprintf("%s/%" PRId64, jc->jobs_dir, id);
	char *a_uid = xasprintf("%lu", (unsigned long)c->uid);
	char *a_gid = xasprintf("%lu", (unsigned long)c->gid);
	char *a_groups = groups_arg(c);
	char *a_mem = xasprintf("%" PRId64, mem);
	char *a_grace = xasprintf("%" PRId64, grace);
	char *a_out = xasprintf("%" PRId64, outmax);
	char fdarg[8], lockarg[8];
	char *argv[] = { jc->runner, "-u", a_uid, "-g", a_gid, "-G", a_groups,
	    "-c", cg, "-m", a_mem, "-k", a_grace, "-o", a_out, "-D", fdarg,
	    "-L", lockarg, dir, NULL };
	char *envp[] = { RUNNER_PATH, NULL };
	int rc, tmp, ltmp = -1;

	snprintf(fdarg, sizeof(fdarg), "%d", RUNNER_FD);
	snprintf(lockarg, sizeof(lockarg), "%d", RUNNER_LOCKFD);
	/* dup2 onto the same number would keep close-on-exec set. */
	tmp = fcntl(dfd, F_DUPFD_CLOEXEC, RUNNER_LOCKFD + 1);
	/*
	 * The lock is taken here and handed over, so from the spawn on the
	 * job's directory says a supervisor lives (an adopt after a crash
	 * right after the spawn waits for its pid, never starts it again).
	 */
	if (tmp != -1 && ((ltmp = openat(dfd, "lock", O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1 ||
	    flock(ltmp, LOCK_EX | LOCK_NB) == -1)) {
		snprintf(err, errlen, "job %" PRId64 ": lock: %s", id,
		    strerror(errno));
		close(tmp);
		if (ltmp != -1)
			close(ltmp);
		tmp = -1;
		rc = -1;
		goto out;
	}
	if (ltmp != -1 && ltmp <= RUNNER_LOCKFD) {
		int t = fcntl(ltmp, F_DUPFD_CLOEXEC, RUNNER_LOCKFD + 1);

		close(ltmp);
		ltmp = t;
	}
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawn_file_actions_init(&fa);
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null",
		    fd == 0 ? O_RDONLY : O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, tmp, RUNNER_FD);
	posix_spawn_file_actions_adddup2(&fa, ltmp, RUNNER_LOCKFD);
	posix_spawn_file_actions_addclosefrom_np(&fa, RUNNER_LOCKFD + 1);
	rc = tmp == -1 ? errno : posix_spawn(pid, jc->runner, &fa, &attr,
	    argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (tmp != -1)
		close(tmp);
	if (ltmp != -1)
		close(ltmp);	/* ebb-run's copy holds the lock now */
	if (rc != 0)
		snprintf(err, errlen, "spawn %s: %s", jc->runner,
		    strerror(rc));
	rc = rc == 0 ? 0 : -1;
out:
	free(cg);
	free(dir);
	free(a_uid);
	free(a_gid);
	free(a_groups);
	free(a_mem);
	free(a_grace);
	free(a_out);
	return rc;
}

/* Writes the spec from spec_fd into dfd/spec.json. */
static int
copy_spec(int dfd, int spec_fd, char *err, size_t errlen)
{
	struct stat st;
	char *data;
	size_t len;
	int rc;

	/* A regular file (the worker's memfd): reading it cannot block. */
	if (fstat(spec_fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "spec: not a regular file");
		return -1;
	}
	if (lseek(spec_fd, 0, SEEK_SET) == -1 ||
	    fs_read_fd(spec_fd, SPEC_MAX, &data, &len, err, errlen) == -1)
		return -1;
	rc = fs_write_atomic_at(dfd, "spec.json", data, len, 0600, err,
	    errlen);
	free(data);
	return rc;
}

void
jobctl_start(struct jobctl *jc, int64_t id, const struct priv_cred *c,
    int64_t mem, int64_t grace, int64_t outmax, int spec_fd)
{
	char name[32], err[512];
	int dfd = -1, pidfd;
	pid_t pid;

	err[0] = '\0';
	snprintf(name, sizeof(name), "%" PRId64, id);
	if (*watch_find(jc, id) != NULL)
		snprintf(err, sizeof(err), "job %" PRId64 " is already running",
		    id);
	else if (mkdirat(jc->jfd, name, 0700) == -1 && errno != EEXIST)
		snprintf(err, sizeof(err), "mkdir %s/%s: %s", jc->jobs_dir,
		    name, strerror(errno));
	else if ((dfd = job_dir(jc, id)) == -1)
		snprintf(err, sizeof(err), "%s/%s: %s", jc->jobs_dir, name,
		    strerror(errno));
	else if (faccessat(dfd, "started", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    faccessat(dfd, "result.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		/* An earlier job's (a database started afresh): its result
		 * and output must not become this job's. */
		snprintf(err, sizeof(err), "%s/%s holds an earlier job's run; "
		    "move it away", jc->jobs_dir, name);
	else if (copy_spec(dfd, spec_fd, err, sizeof(err)) == 0)
		spawn_runner(jc, id, dfd, c, mem, grace, outmax, &pid, err,
		    sizeof(err));
	if (dfd != -1)
		close(dfd);
	if (err[0] != '\0') {
		emit(jc, id, PRIV_EV_FAILED, 0, 0, err, -1);
		return;
	}
	/* Safe: the child cannot be reaped before the loop runs again. */
	if ((pidfd = pidfd_open(pid, 0)) == -1) {
		snprintf(err, sizeof(err), "pidfd_open %ld: %s", (long)pid,
		    strerror(errno));
		emit(jc, id, PRIV_EV_FAILED, 0, 0, err, -1);
		return;
	}
	watch_pidfd(jc, id, pid, pidfd, 1);
	emit(jc, id, PRIV_EV_STARTED, pid, ebb_now(), NULL, -1);
}

/* The start time ebb-run wrote into started (its mtime if unreadable). */
static int64_t
started_time(int dfd)
{
	char buf[32];
	struct stat st;
	int64_t t = ebb_now();
	int fd = openat(dfd, "started", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return t;
	if ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (strtoll(buf, NULL, 10) > 0)
			t = strtoll(buf, NULL, 10);
	} else if (fstat(fd, &st) == 0)
		t = st.st_mtime;
	close(fd);
	return t;
}

/*
 * Is the job's lock held? 1 with *pid the pid written into it (0 if not
 * written yet), 0 if free or absent.
 */
static int
lock_held(int dfd, pid_t *pid)
{
	char buf[32];
	int fd = openat(dfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int held = 0;
	ssize_t n;

	*pid = 0;
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
		held = 1;
		if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			*pid = (pid_t)strtol(buf, NULL, 10);
		}
	}
	close(fd);
	return held;
}

/* One look at the job directory; returns 1 when settled, 0 to look again. */
static int
adopt_step(struct jobctl *jc, int64_t id, int dfd, int tries)
{
	pid_t pid;
	int pidfd;

	if (result_event(jc, id, dfd))
		return 1;
	if (!lock_held(dfd, &pid)) {
		if (result_event(jc, id, dfd))
			return 1;
		if (faccessat(dfd, "started", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			reap(jc, id, "ebb-run is gone and left no result");
		else
			emit(jc, id, PRIV_EV_UNSTARTED, 0, 0, NULL, -1);
		return 1;
	}
	if (pid <= 0) {
		struct watch *w;

		if (tries >= ADOPT_TRIES) {
			emit(jc, id, PRIV_EV_LOST, 0, 0, "lock held but no pid "
			    "in it", -1);
			return 1;
		}
		w = watch_new(jc, id, W_RETRY);
		w->tries = tries + 1;
		ev_timer_init(&w->timer, retry_cb, ADOPT_RETRY_S, 0);
		w->timer.data = w;
		ev_timer_start(jc->loop, &w->timer);
		return 1;
	}
	if ((pidfd = pidfd_open(pid, 0)) == -1)
		return 0;	/* it just exited: look again */
	/* Still held: the holder is alive, so pid is really it. */
	if (!lock_held(dfd, &pid)) {
		close(pidfd);
		return 0;
	}
	watch_pidfd(jc, id, pid, pidfd, 0);
	emit(jc, id, PRIV_EV_STARTED, pid, started_time(dfd), NULL, -1);
	return 1;
}

/*
 * Works out what became of job id and reports it or watches it. Every
 * check is repeated after a state change it could race with.
 */
static void
adopt_check(struct jobctl *jc, int64_t id, int tries)
{
	int dfd = job_dir(jc, id);

	if (dfd == -1) {
		emit(jc, id, PRIV_EV_UNSTARTED, 0, 0, NULL, -1);
		return;
	}
	for (int round = 0; round < 10; round++)
		if (adopt_step(jc, id, dfd, tries)) {
			close(dfd);
			return;
		}
	close(dfd);
	emit(jc, id, PRIV_EV_LOST, 0, 0, "supervisor state keeps changing",
	    -1);
}

void
jobctl_adopt(struct jobctl *jc, int64_t id)
{
	struct watch *w = *watch_find(jc, id);

	/* Watched already (the worker lost its view): say so again. */
	if (w != NULL) {
		if (w->state == W_WATCH) {
			int dfd = job_dir(jc, id);

			emit(jc, id, PRIV_EV_STARTED, w->pid, dfd >= 0 ?
			    started_time(dfd) : ebb_now(), NULL, -1);
			if (dfd >= 0)
				close(dfd);
		}
		return;
	}
	adopt_check(jc, id, 0);
}

int
jobctl_signal(struct jobctl *jc, int64_t id, int what, char *err,
    size_t errlen)
{
	static const int sigs[] = { [PRIV_CANCEL] = SIGTERM,
	    [PRIV_FREEZE] = SIGUSR1, [PRIV_THAW] = SIGUSR2 };
	struct watch *w = *watch_find(jc, id);

	if (w == NULL || w->state != W_WATCH) {
		snprintf(err, errlen, "job %" PRId64 " has no supervisor here",
		    id);
		return -1;
	}
	if (pidfd_send_signal(w->pidfd, sigs[what], NULL, 0) == -1 &&
	    errno != ESRCH) {
		snprintf(err, errlen, "signal job %" PRId64 ": %s", id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
jobctl_open_output(struct jobctl *jc, int64_t id, const char *stream,
    char *err, size_t errlen)
{
	struct stat st;
	int dfd, fd;

	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
		snprintf(err, errlen, "no stream '%s'", stream);
		errno = EINVAL;
		return -1;
	}
	if ((dfd = job_dir(jc, id)) == -1) {
		snprintf(err, errlen, "job %" PRId64 ": %s", id,
		    strerror(errno));
		return -1;
	}
	fd = openat(dfd, stream, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	close(dfd);
	if (fd == -1) {
		int e = errno;

		snprintf(err, errlen, "job %" PRId64 ": %s: %s", id, stream,
		    strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "job %" PRId64 ": %s is not a regular "
		    "file", id, stream);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/*
 * Reaps the groups of jobs whose supervisor is gone (killed while no
 * ebbd watched): nothing may run unsupervised. Groups of live
 * supervisors (their lock held) are left alone.
 */
static void
reap_strays(struct jobctl *jc)
{
	char *parent = xasprintf("ebb/%s", jc->instance);
	char **kids = cg_children(parent);

	for (char **k = kids; *k != NULL; k++) {
		int64_t id;
		char *end;
		int dfd;
		pid_t pid;

		if (strncmp(*k, "job-", 4) != 0 ||
		    (id = strtoll(*k + 4, &end, 10)) <= 0 || *end != '\0')
			continue;
		if ((dfd = job_dir(jc, id)) != -1) {
			int held = lock_held(dfd, &pid);

			close(dfd);
			if (held)
				continue;
		}
		log_warnx("job %" PRId64 ": its supervisor is gone; killing "
		    "what is left in its cgroup", id);
		/* cg_children gives bare names: reap the full one only. */
		free(*k);
		*k = xasprintf("%s/job-%" PRId64, parent, id);
		for (int i = 0; i < 50 && cg_reap_by_name(*k) != 0; i++)
			;
		if (cg_reap_by_name(*k) != 0)
			log_warnx("cgroup %s remains", *k);
	}
	for (char **k = kids; *k != NULL; k++)
		free(*k);
	free(kids);
	free(parent);
}

struct jobctl *
jobctl_open(struct ev_loop *loop, const struct jobctl_conf *conf,
    jobctl_cb cb, void *arg, char *err, size_t errlen)
{
	struct jobctl *jc;
	struct stat st;
	int jfd;

	if (mkdir(conf->jobs_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", conf->jobs_dir,
		    strerror(errno));
		return NULL;
	}
	if ((jfd = open(conf->jobs_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(jfd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", conf->jobs_dir,
		    strerror(errno));
		if (jfd != -1)
			close(jfd);
		return NULL;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s is owned by uid %lu, not by ebbd's "
		    "uid %lu: refusing to use it", conf->jobs_dir,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		close(jfd);
		return NULL;
	}
	/* Job directories hold specs (environments): ours alone. */
	if ((st.st_mode & 077) != 0 && fchmod(jfd, 0700) == -1) {
		snprintf(err, errlen, "chmod %s: %s", conf->jobs_dir,
		    strerror(errno));
		close(jfd);
		return NULL;
	}
	jc = xcalloc(1, sizeof(*jc));
	jc->loop = loop;
	jc->jfd = jfd;
	jc->jobs_dir = xstrdup(conf->jobs_dir);
	jc->runner = xstrdup(conf->runner);
	jc->instance = xstrdup(conf->instance);
	jc->cb = cb;
	jc->arg = arg;
	reap_strays(jc);
	/* Left by an older ebbd with a private umask: the worker measures
	 * jobs through these. */
	cg_open_up("ebb");
	{
		char *inst = xasprintf("ebb/%s", jc->instance);

		cg_open_up(inst);
		free(inst);
	}
	return jc;
}

void
jobctl_close(struct jobctl *jc)
{
	char *parent;

	if (jc == NULL)
		return;
	parent = xasprintf("ebb/%s", jc->instance);
	cg_prune(parent);
	free(parent);
	while (jc->watches != NULL)
		watch_free(jc->watches);
	close(jc->jfd);
	free(jc->jobs_dir);
	free(jc->runner);
	free(jc->instance);
	free(jc);
}
