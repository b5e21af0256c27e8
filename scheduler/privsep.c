/*
 * privsep: ebbd's split into a privileged parent and an unprivileged
 * worker (privsep.h). The parent does nothing here that reads what a
 * user or a remote service wrote: it parses only its own config file
 * (root's) and the worker's typed messages (runner/privd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/privd.h"
#include "scheduler/privsep.h"

/* Files of the state directory that hold users' data. */
static const char *const private_files[] = { "ebb.db", "ebb.db-wal",
    "ebb.db-shm", "ebb.db-journal", "energy.json", NULL };

int
privsep_user(const struct ebb_config *cfg, struct privsep_user *u,
    char *err, size_t errlen)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		u->uid = geteuid();
		u->gid = getegid();
		pw = getpwuid(u->uid);
		snprintf(u->name, sizeof(u->name), "%s", pw ? pw->pw_name :
		    "?");
		return 0;
	}
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "user '%s' does not exist: ebbd runs its "
		    "unprivileged part as this user; create it (useradd "
		    "--system --no-create-home %s) or name another with "
		    "`user:` in the config", cfg->user, cfg->user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user '%s' is root or in group root: the "
		    "unprivileged part must not be", cfg->user);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	return 0;
}

/* Makes fd (a file or directory of ours or root's) u's, with mode. */
static int
make_private(int fd, const char *what, const struct privsep_user *u,
    mode_t mode, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	if (st.st_uid != u->uid && st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by uid %lu, not by %s or "
		    "root: refusing to use it", what, (unsigned long)st.st_uid,
		    u->name);
		return -1;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink != 1) {
		snprintf(err, errlen, "%s has %lu links: refusing to use it",
		    what, (unsigned long)st.st_nlink);
		return -1;
	}
	if ((st.st_uid != u->uid || st.st_gid != u->gid) &&
	    fchown(fd, u->uid, u->gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", what, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", what, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 077) != 0 && (mode & 077) == 0)
		log_info("%s was readable by others: made private", what);
	return 0;
}

int
privsep_prepare_state(const char *state_dir, const struct privsep_user *u,
    char *err, size_t errlen)
{
	int dfd, fd, rc = 0;

	if (fs_mkdir_p(state_dir, 0700, err, errlen) == -1)
		return -1;
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	if (make_private(dfd, state_dir, u, 0700, err, errlen) == -1) {
		close(dfd);
		return -1;
	}
	for (const char *const *f = private_files; *f != NULL && rc == 0;
	    f++) {
		char *what = xasprintf("%s/%s", state_dir, *f);

		fd = openat(dfd, *f, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd == -1 && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", what, strerror(errno));
			rc = -1;
		} else if (fd >= 0) {
			rc = make_private(fd, what, u, 0600, err, errlen);
			close(fd);
		}
		free(what);
	}
	close(dfd);
	return rc;
}

static void
strv_push(char ***v, size_t *n, char *s)
{
	if (strv_has(*v, s)) {
		free(s);
		return;
	}
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

int
privsep_conf(const struct ebb_config *cfg, const char *jobs_dir,
    const char *runner, const char *instance, struct privd_conf *pc,
    char *err, size_t errlen)
{
	/* The Slurm commands that act on one job, as its owner. */
	static const char *const as_user[] = { "sbatch", "scontrol",
	    "scancel", NULL };
	char **dirs = xcalloc(1, sizeof(*dirs)), **cmds = xcalloc(1,
	    sizeof(*cmds));
	size_t nd = 0, nc = 0;
	mode_t old;
	int rc;

	memset(pc, 0, sizeof(*pc));
	pc->jobs_dir = jobs_dir;
	pc->runner = runner;
	pc->instance = instance;
	pc->root_jobs = cfg->root_jobs;
	pc->shared_dirs = dirs;
	pc->commands = cmds;
	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct ebb_site *s = &cfg->sites[i];
		char *dir;

		if (strcmp(s->backend, "slurm") != 0)
			continue;
		if (s->slurm.shared_dir == NULL && geteuid() == 0) {
			snprintf(err, errlen, "site %s: slurm.shared_dir must be "
			    "set when ebbd runs as root (the state directory is "
			    "private to ebbd, and jobs read their directory "
			    "as their user)", s->name);
			privsep_conf_free(pc);
			return -1;
		}
		dir = config_slurm_dir(cfg->state_dir, s->name, &s->slurm);
		old = umask(022);	/* users' jobs reach their dirs here */
		rc = fs_mkdir_p(dir, 0755, err, errlen);
		umask(old);
		if (rc == -1) {
			free(dir);
			privsep_conf_free(pc);
			return -1;
		}
		strv_push(&dirs, &nd, dir);
		for (const char *const *c = as_user; *c != NULL; c++) {
			char *path = config_slurm_command(&s->slurm, *c);

			if (path != NULL)
				strv_push(&cmds, &nc, path);
		}
		pc->shared_dirs = dirs;
		pc->commands = cmds;
	}
	return 0;
}

void
privsep_conf_free(struct privd_conf *pc)
{
	strv_free((char **)pc->shared_dirs);
	strv_free((char **)pc->commands);
	pc->shared_dirs = pc->commands = NULL;
}

void
privsep_drop(const struct privsep_user *u)
{
	if (geteuid() != 0)
		return;
	if (setgroups(1, &u->gid) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 ||
	    setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("cannot drop privileges to %s", u->name);
	if (setuid(0) != -1 || geteuid() != u->uid)
		fatalx("privileges were not dropped");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	/* No core dumps or ptrace of a process that held root's data. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*---- the parent ----*/

struct parent {
	struct ev_loop	*loop;
	struct privd	*pd;
	pid_t		 worker;
	int		 status;
	const char	*config_path;
	const char	*jobs_dir, *runner, *instance;
	char		*socket;
	ev_timer	 grace;		/* after the channel closed */
};

static void
on_worker(struct ev_loop *loop, ev_child *w, int revents)
{
	struct parent *p = w->data;

	p->status = w->rstatus;
	ev_child_stop(loop, w);
	ev_break(loop, EVBREAK_ALL);
}

static void
on_grace(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct parent *p = t->data;

	log_warnx("privileged process: the worker closed its channel but "
	    "did not exit: killing it");
	kill(p->worker, SIGKILL);
}

/*
 * The worker closed the channel (it is exiting) or broke the protocol:
 * it gets a moment to exit by itself.
 */
static void
on_gone(void *arg)
{
	struct parent *p = arg;

	ev_timer_start(p->loop, &p->grace);
}

static void
on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct parent *p = w->data;

	kill(p->worker, w->signum);
}

static void
on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct parent *p = w->data;
	struct ebb_config *cfg = NULL;
	struct privd_conf pc;
	char *errs = NULL, err[512];

	if (p->config_path != NULL && config_load(p->config_path, &cfg,
	    &errs) == -1) {
		free(errs);	/* the worker logs them */
	} else {
		if (cfg == NULL)
			cfg = config_default();
		if (privsep_conf(cfg, p->jobs_dir, p->runner, p->instance, &pc,
		    err, sizeof(err)) == 0) {
			privd_reconfigure(p->pd, &pc);
			privsep_conf_free(&pc);
		} else
			log_warnx("privileged process: %s", err);
		config_free(cfg);
	}
	kill(p->worker, SIGHUP);
}

int
privsep_parent(pid_t worker, int fd, const char *config_path,
    const char *jobs_dir, const char *runner, const char *instance)
{
	struct parent p = { 0 };
	struct ebb_config *cfg = NULL;
	struct privd_conf pc;
	ev_signal sterm, sint, shup;
	ev_child child;
	char *errs = NULL, err[512];

	p.loop = ev_default_loop(EVFLAG_AUTO);
	p.worker = worker;
	p.config_path = config_path;
	p.jobs_dir = jobs_dir;
	p.runner = runner;
	p.instance = instance;
	ev_timer_init(&p.grace, on_grace, 5., 0.);
	p.grace.data = &p;
	ev_child_init(&child, on_worker, worker, 0);
	child.data = &p;
	ev_child_start(p.loop, &child);
	if (config_path != NULL ? config_load(config_path, &cfg, &errs) :
	    (cfg = config_default(), 0)) {
		free(errs);
		kill(worker, SIGKILL);
		fatalx("privileged process: the config changed under it");
	}
	p.socket = xstrdup(cfg->socket);
	if (privsep_conf(cfg, jobs_dir, runner, instance, &pc, err,
	    sizeof(err)) == -1 || (p.pd = privd_open(p.loop, fd, &pc, on_gone,
	    &p, err, sizeof(err))) == NULL) {
		kill(worker, SIGKILL);
		fatalx("privileged process: %s", err);
	}
	privsep_conf_free(&pc);
	config_free(cfg);
	ev_signal_init(&sterm, on_term, SIGTERM);
	ev_signal_init(&sint, on_term, SIGINT);
	ev_signal_init(&shup, on_hup, SIGHUP);
	sterm.data = sint.data = shup.data = &p;
	ev_signal_start(p.loop, &sterm);
	ev_signal_start(p.loop, &sint);
	ev_signal_start(p.loop, &shup);
	ev_run(p.loop, 0);
	ev_timer_stop(p.loop, &p.grace);
	privd_close(p.pd);
	/*
	 * The worker cannot remove a socket in a directory of root's. Not
	 * after it failed: the socket may be another daemon's.
	 */
	if (WIFSIGNALED(p.status) || WEXITSTATUS(p.status) == 0)
		unlink(p.socket);
	free(p.socket);
	if (WIFSIGNALED(p.status)) {
		log_warnx("worker killed by signal %d", WTERMSIG(p.status));
		return 1;
	}
	return WEXITSTATUS(p.status);
}
