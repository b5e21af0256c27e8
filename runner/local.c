/*
 * local: the backend that runs jobs on this machine, one ebb-run
 * supervisor per job, in <state_dir>/jobs/<id>.
 *
 * start() writes spec.json, spawns ebb-run in its own session and watches it
 * through a pidfd on the caller's libev loop; adopt() finds a supervisor
 * again after an ebbd restart from the job directory alone (result.json,
 * the flock on lock and the pid written into it, started). Events are
 * queued and delivered from a zero-delay ev_timer, never from inside a
 * call; the event callback may call start, adopt and cancel, but not close. The "started" event carries the supervisor's pid and a start_time
 * that is the launch time for start() and the time ebb-run wrote into
 * JOBDIR/started for adopt(); the "finished" event carries result.json, whose
 * start_time is authoritative.
 *
 * It does not kill supervisors on close (jobs outlive ebbd), retry jobs or
 * remove job directories.
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
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/backend.h"
#include "runner/cgroup.h"

#define ADOPT_RETRY_S	0.02	/* lock held but its pid not written yet */
#define ADOPT_TRIES	250	/* 5 s in all */

extern char **environ;

/* A supervisor being watched (pidfd >= 0), or an adopt() to retry. */
struct watch {
	struct backend	*b;
	int64_t		 job_id;
	pid_t		 pid;
	int		 pidfd;
	int		 ours;		/* spawned by us: reap it */
	int		 tries;
	ev_io		 io;
	ev_timer	 retry;
	struct watch	*next;
};

struct backend {
	struct ev_loop	*loop;
	char		*state_dir;
	char		*runner_path;
	char		*instance;
	struct watch	*watches;
	struct backend_evq q;
};

static int adopt_check(struct backend *, int64_t, int, char *, size_t);

static char *
job_file(const struct backend *b, int64_t id, const char *name)
{
	return xasprintf("%s/jobs/%" PRId64 "%s%s", b->state_dir, id,
	    *name != '\0' ? "/" : "", name);
}

/* Queues ev (reference stolen) for delivery from the loop. */
static void
queue_event(struct backend *b, int64_t id, json_t *ev)
{
	backend_evq_push(&b->q, id, ev);
}

static void
queue_lost(struct backend *b, int64_t id, const char *reason)
{
	queue_event(b, id, json_pack("{s:s, s:s}", "type", "lost", "reason",
	    reason));
}

/*
 * Queues "finished" from result.json if it exists (1), or "lost" if it
 * exists but cannot be read (1); 0 if there is none.
 */
static int
queue_result(struct backend *b, int64_t id)
{
	char *path = job_file(b, id, "result.json");
	char err[512];
	json_t *doc;

	if (access(path, F_OK) == -1) {
		free(path);
		return 0;
	}
	if ((doc = fs_read_json(path, err, sizeof(err))) == NULL)
		queue_lost(b, id, err);
	else {
		json_object_set_new(doc, "type", json_string("finished"));
		queue_event(b, id, doc);
	}
	free(path);
	return 1;
}

static struct watch **
watch_find(struct backend *b, int64_t id)
{
	struct watch **wp;

	for (wp = &b->watches; *wp != NULL; wp = &(*wp)->next)
		if ((*wp)->job_id == id)
			break;
	return wp;
}

static void
watch_free(struct watch *w)
{
	struct watch **wp = watch_find(w->b, w->job_id);

	*wp = w->next;
	ev_io_stop(w->b->loop, &w->io);
	ev_timer_stop(w->b->loop, &w->retry);
	if (w->pidfd >= 0)
		close(w->pidfd);
	free(w);
}

static struct watch *
watch_new(struct backend *b, int64_t id)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->b = b;
	w->job_id = id;
	w->pidfd = -1;
	w->next = b->watches;
	b->watches = w;
	return w;
}

static void
pidfd_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct watch *w = io->data;
	struct backend *b = w->b;
	int64_t id = w->job_id;
	char reason[128];
	int status;

	snprintf(reason, sizeof(reason), "ebb-run exited without a result");
	/* libev's default loop may have reaped it already (ECHILD). */
	if (w->ours && waitpid(w->pid, &status, WNOHANG) == w->pid) {
		if (WIFSIGNALED(status))
			snprintf(reason, sizeof(reason), "ebb-run killed by "
			    "signal %d without a result", WTERMSIG(status));
		else
			snprintf(reason, sizeof(reason), "ebb-run exited "
			    "with status %d without a result",
			    WEXITSTATUS(status));
	}
	watch_free(w);
	if (!queue_result(b, id))
		queue_lost(b, id, reason);
}

static void
watch_pidfd(struct backend *b, int64_t id, pid_t pid, int pidfd, int ours)
{
	struct watch *w = watch_new(b, id);

	w->pid = pid;
	w->pidfd = pidfd;
	w->ours = ours;
	ev_io_init(&w->io, pidfd_cb, pidfd, EV_READ);
	w->io.data = w;
	ev_io_start(b->loop, &w->io);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;
	struct backend *b = w->b;
	int64_t id = w->job_id;
	int tries = w->tries;
	char err[256];

	watch_free(w);
	if (adopt_check(b, id, tries, err, sizeof(err)) == -1)
		queue_lost(b, id, err);
}

static struct backend *
local_open(struct ev_loop *loop, const struct backend_conf *conf,
    backend_event_cb cb, void *cbarg, char *err, size_t errlen)
{
	struct backend *b;
	char *jobs = xasprintf("%s/jobs", conf->state_dir);

	if (fs_mkdir_p(jobs, 0755, err, errlen) == -1) {
		free(jobs);
		return NULL;
	}
	free(jobs);
	b = xcalloc(1, sizeof(*b));
	b->loop = loop;
	b->state_dir = xstrdup(conf->state_dir);
	b->runner_path = xstrdup(conf->runner_path);
	b->instance = xstrdup(conf->instance);
	backend_evq_init(&b->q, loop, cb, cbarg);
	return b;
}

static void
local_close(struct backend *b)
{
	char *parent = xasprintf("ebb/%s", b->instance);

	cg_prune(parent);
	free(parent);
	backend_evq_clear(&b->q);
	while (b->watches != NULL)
		watch_free(b->watches);
	free(b->state_dir);
	free(b->runner_path);
	free(b->instance);
	free(b);
}

static int
spawn_runner(struct backend *b, const char *dir, pid_t *pid, char *err,
    size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	char *argv[] = { b->runner_path, (char *)dir, NULL };
	int rc;

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
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawn(pid, b->runner_path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "spawn %s: %s", b->runner_path,
		    strerror(rc));
		return -1;
	}
	return 0;
}

static int
local_start(struct backend *b, const json_t *spec, char *err, size_t errlen)
{
	json_t *id_j = json_object_get(spec, "job_id"), *copy;
	char *dir, *path;
	int64_t id;
	pid_t pid;
	int pidfd, rc;

	if (!json_is_integer(id_j) || (id = json_integer_value(id_j)) < 0) {
		snprintf(err, errlen, "spec: job_id must be an integer >= 0");
		return -1;
	}
	if (*watch_find(b, id) != NULL) {
		snprintf(err, errlen, "job %" PRId64 " is already running", id);
		return -1;
	}
	dir = job_file(b, id, "");
	if (fs_mkdir_p(dir, 0755, err, errlen) == -1) {
		free(dir);
		return -1;
	}
	copy = json_deep_copy(spec);
	if (json_object_get(copy, "cgroup") == NULL)
		json_object_set_new(copy, "cgroup", json_sprintf("ebb/%s/job-%"
		    PRId64, b->instance, id));
	path = job_file(b, id, "spec.json");
	rc = fs_write_json(path, copy, 0600, err, errlen);
	json_decref(copy);
	free(path);
	if (rc == 0)
		rc = spawn_runner(b, dir, &pid, err, errlen);
	free(dir);
	if (rc == -1)
		return -1;
	/* Safe: the child cannot be reaped before the loop runs again. */
	if ((pidfd = pidfd_open(pid, 0)) == -1) {
		snprintf(err, errlen, "pidfd_open %ld: %s", (long)pid,
		    strerror(errno));
		return -1;
	}
	watch_pidfd(b, id, pid, pidfd, 1);
	queue_event(b, id, json_pack("{s:s, s:i, s:I}", "type", "started",
	    "pid", (int)pid, "start_time", (json_int_t)ebb_now()));
	return 0;
}

/* The start time ebb-run wrote into started (its mtime if unreadable). */
static int64_t
started_time(struct backend *b, int64_t id)
{
	char *path = job_file(b, id, "started");
	char buf[32];
	struct stat st;
	int64_t t = ebb_now();
	FILE *f = fopen(path, "re");

	if (f != NULL && fgets(buf, sizeof(buf), f) != NULL &&
	    strtoll(buf, NULL, 10) > 0)
		t = strtoll(buf, NULL, 10);
	else if (stat(path, &st) == 0)
		t = st.st_mtime;
	if (f != NULL)
		fclose(f);
	free(path);
	return t;
}

/*
 * Is the job's lock held? 1 with *pid the pid written into it (0 if not
 * written yet), 0 if free or absent.
 */
static int
lock_held(struct backend *b, int64_t id, pid_t *pid)
{
	char *path = job_file(b, id, "lock");
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC), held = 0;
	ssize_t n;

	free(path);
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

/*
 * Works out what became of job id and queues the event or watches it.
 * Every check is repeated after a state change it could race with.
 */
static int
adopt_check(struct backend *b, int64_t id, int tries, char *err,
    size_t errlen)
{
	char *path;
	pid_t pid;
	int pidfd, started;

	for (int round = 0; round < 10; round++) {
		if (queue_result(b, id))
			return 0;
		if (!lock_held(b, id, &pid)) {
			if (queue_result(b, id))
				return 0;
			path = job_file(b, id, "started");
			started = access(path, F_OK) == 0;
			free(path);
			if (started)
				queue_lost(b, id, "ebb-run is gone and left "
				    "no result");
			else
				queue_event(b, id, json_pack("{s:s}", "type",
				    "unstarted"));
			return 0;
		}
		if (pid <= 0) {
			struct watch *w;

			if (tries >= ADOPT_TRIES) {
				snprintf(err, errlen, "job %" PRId64 ": lock "
				    "held but no pid in it", id);
				return -1;
			}
			w = watch_new(b, id);
			w->tries = tries + 1;
			ev_timer_init(&w->retry, retry_cb, ADOPT_RETRY_S, 0);
			w->retry.data = w;
			ev_timer_start(b->loop, &w->retry);
			return 0;
		}
		if ((pidfd = pidfd_open(pid, 0)) == -1)
			continue;	/* it just exited: look again */
		/* Still held: the holder is alive, so pid is really it. */
		if (!lock_held(b, id, &pid)) {
			close(pidfd);
			continue;
		}
		watch_pidfd(b, id, pid, pidfd, 0);
		queue_event(b, id, json_pack("{s:s, s:i, s:I}", "type",
		    "started", "pid", (int)pid, "start_time",
		    (json_int_t)started_time(b, id)));
		return 0;
	}
	snprintf(err, errlen, "job %" PRId64 ": supervisor state keeps "
	    "changing", id);
	return -1;
}

static int
local_adopt(struct backend *b, int64_t id, char *err, size_t errlen)
{
	char *dir;
	struct stat st;

	if (*watch_find(b, id) != NULL) {
		snprintf(err, errlen, "job %" PRId64 " is already watched", id);
		return -1;
	}
	dir = job_file(b, id, "");
	if (stat(dir, &st) == -1 && errno == ENOENT) {
		free(dir);
		queue_event(b, id, json_pack("{s:s}", "type", "unstarted"));
		return 0;
	}
	free(dir);
	return adopt_check(b, id, 0, err, errlen);
}

static int
signal_supervisor(struct backend *b, int64_t id, int sig, char *err,
    size_t errlen)
{
	struct watch *w = *watch_find(b, id);

	if (w == NULL || w->pidfd < 0) {
		snprintf(err, errlen, "job %" PRId64 " has no supervisor here",
		    id);
		return -1;
	}
	if (pidfd_send_signal(w->pidfd, sig, NULL, 0) == -1 &&
	    errno != ESRCH) {
		snprintf(err, errlen, "signal job %" PRId64 ": %s", id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
local_cancel(struct backend *b, int64_t id, char *err, size_t errlen)
{
	return signal_supervisor(b, id, SIGTERM, err, errlen);
}

static int
local_pause(struct backend *b, int64_t id, int pause, char *err,
    size_t errlen)
{
	return signal_supervisor(b, id, pause ? SIGUSR1 : SIGUSR2, err,
	    errlen);
}

/* Only the two output files: never spec.json, which holds the env. */
static char *
local_log_path(struct backend *b, int64_t id, const char *stream)
{
	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)
		return NULL;
	return job_file(b, id, stream);
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.start = local_start,
	.adopt = local_adopt,
	.cancel = local_cancel,
	.pause = local_pause,
	.log_path = local_log_path,
};
