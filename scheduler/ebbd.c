/*
 * ebbd: the ebb daemon. Loads the config, opens the store, the backends and
 * the control socket, and runs one libev loop until SIGTERM/SIGINT. SIGHUP
 * reloads the config, swapping it in only if it is valid. Each loop
 * iteration ends in one place (on_prepare): plan, commit, launch, reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "common/fsutil.h"
#include "common/job.h"
#include "common/timefmt.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "policies/policy.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/control.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/exporter.h"
#include "scheduler/ledger.h"
#include "scheduler/metrics.h"
#include "scheduler/sampler.h"
#include "scheduler/privsep.h"
#include "scheduler/push.h"
#include "scheduler/store.h"
#include "runner/jobctl.h"
#include "runner/priv.h"
#include "runner/privd.h"

#define SPACE_CHECK_S	5	/* s between looks at a full file system */

static void
usage(FILE *f)
{
	fprintf(f, "usage: ebbd [-dfhnV] [-c FILE]\n"
	    "  -c, --config FILE  read the config from FILE (default: the "
	    "embedded\n"
	    "                     default)\n"
	    "  -d, --debug        log debug messages\n"
	    "  -f, --foreground   stay in the foreground and log to stderr\n"
	    "  -n, --check        check the config, print it normalised, and "
	    "exit\n"
	    "  -h, --help         show this help\n"
	    "  -V, --version      show the version\n");
}

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "debug", no_argument, NULL, 'd' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "check", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Load errors, one per line: to the log, or to stderr (and freed). */
static void
show_errors(char *errs, int to_log)
{
	if (to_log) {
		for (char *l = strtok(errs, "\n"); l; l = strtok(NULL, "\n"))
			log_warnx("%s", l);
	} else
		fputs(errs, stderr);
	free(errs);
}

/* Loads -c FILE or the default; prints errors and returns NULL on failure. */
static struct ebb_config *
load_config(const char *path, int to_log)
{
	struct ebb_config *cfg = NULL;
	char *errs = NULL;

	if (path == NULL)
		return config_default();
	if (config_load(path, &cfg, &errs) == 0)
		return cfg;
	show_errors(errs, to_log);
	return NULL;
}

/*
 * A site with no live provider plans on a trace (or on nothing: its jobs
 * run at once); say so, on stderr or to the log.
 */
static void
warn_no_live_provider(const struct ebb_config *cfg, int to_log)
{
	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct ebb_site *s = &cfg->sites[i];
		int live = 0;
		char msg[512];

		for (size_t k = 0; k < s->providers.n; k++)
			if (config_provider_id(s->providers.v[k]) != PROV_TRACE)
				live = 1;
		if (live)
			continue;
		snprintf(msg, sizeof(msg), "%s: site '%s': %s; add "
		    "electricitymaps, watttime, ukci or entsoe to its providers "
		    "(docs/providers.md)", cfg->path, s->name,
		    s->providers.n == 0 ? "no carbon-intensity provider: its "
		    "jobs run at once" : "no live carbon-intensity provider: "
		    "it plans on a recorded trace");
		if (to_log)
			log_warnx("%s", msg);
		else
			fprintf(stderr, "ebbd: warning: %s\n", msg);
	}
}

/* The config's policy file, or NULL; prints or logs errors. */
static int
load_policies(const struct ebb_config *cfg, struct policy_set **out,
    int to_log)
{
	struct strbuf unknown = STRBUF_INIT;
	char *errs = NULL;

	*out = NULL;
	if (cfg->policies == NULL)
		return 0;
	if (policy_load(cfg->policies, out, &errs) == 0) {
		/* Rules may only name sites the config has. */
		for (size_t i = 0; i < policy_count(*out); i++) {
			const struct policy_rule *r = policy_rule_at(*out, i);
			const struct yt_strlist *l[] = { &r->sites,
			    &r->allowed_sites };

			for (size_t k = 0; k < 2; k++)
				for (size_t n = 0; n < l[k]->n; n++)
					if (config_site(cfg, l[k]->v[n]) ==
					    NULL)
						strbuf_addf(&unknown, "%s: rule "
						    "'%s': %s: unknown site "
						    "'%s'\n", cfg->policies,
						    r->name, k ? "caps.sites" :
						    "defaults.sites",
						    l[k]->v[n]);
		}
		if (unknown.len == 0)
			return 0;
		policy_free(*out);
		*out = NULL;
		errs = strbuf_take(&unknown);
	}
	show_errors(errs, to_log);
	return -1;
}

/* New intensity data: plan again, and settle the provisional ledgers. */
static void
on_intensity(void *arg)
{
	struct ebbd *d = arg;
	int64_t *ids = NULL, now = ebb_now();
	size_t n = 0;
	char err[256];

	dispatch_replan(d->dispatch);
	if (store_ledger_provisional(d->store, &ids, &n) == -1)
		return;
	for (size_t i = 0; i < n; i++) {
		struct job *j;

		if (store_job_get(d->store, ids[i], &j) != 1)
			continue;
		if (job_state_final(j->state) && ledger_settle(d->store,
		    d->carbon, d->cfg, j, now, d->cfg->energy.final_after, err,
		    sizeof(err)) == -1)
			log_debug("job %lld: ledger: %s", (long long)j->id, err);
		job_free(j);
	}
	free(ids);
}

/*
 * ebb-run: the config's, $EBB_RUN, next to ebbd, in the build tree, where
 * the install puts it relative to ebbd, the install path.
 */
static char *
find_runner(const struct ebb_config *cfg)
{
	char self[PATH_MAX], *cand;
	ssize_t n;

	if (cfg->runner != NULL)
		return xstrdup(cfg->runner);
	if (getenv("EBB_RUN") != NULL)
		return xstrdup(getenv("EBB_RUN"));
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		cand = xasprintf("%s/ebb-run", dirname(self));
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		cand = xasprintf("%s/../runner/ebb-run", self);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		cand = xasprintf("%s/%s", self, EBB_RUNNER_FROM_SBIN);
		if (access(cand, X_OK) == 0 && realpath(cand, self) != NULL) {
			free(cand);
			return xstrdup(self);
		}
		free(cand);
	}
	return xstrdup(EBB_LIBEXECDIR "/ebb-run");
}

/* While the state's file system is full: is there room again? */
static void
on_space(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ebbd *d = w->data;

	if (store_check_space(d->store) == 0) {
		log_info("the state file system has room again: new jobs are "
		    "accepted");
		ev_ref(loop);	/* it was unreferenced when started */
		ev_timer_stop(loop, w);
	}
}

static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct ebbd *d = w->data;
	static ev_timer space;

	for (int round = 0; round < 4; round++) {
		if (store_commit(d->store) == -1)
			fatalx("store: %s; stopping so that nothing "
			    "unrecorded is acknowledged", store_errmsg(d->store));
		dispatch_after_commit(d->dispatch);
		if (store_pending(d->store) == 0)
			break;
	}
	push_after_commit(d->push);
	if (store_full(d->store) != NULL && !ev_is_active(&space)) {
		log_warnx("store: %s: the state file system is full; new jobs "
		    "are refused until space is freed (checked every %d s)",
		    store_full(d->store), SPACE_CHECK_S);
		ev_timer_init(&space, on_space, SPACE_CHECK_S, SPACE_CHECK_S);
		space.data = d;
		ev_timer_start(loop, &space);
		ev_unref(loop);
	}
	control_flush(d->control);
}

static void
on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("received %s; stopping", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void
on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct ebbd *d = w->data;
	struct ebb_config *cfg, *old = d->cfg;
	struct policy_set *pol, *oldpol = d->policies;
	char err[512];

	log_info("SIGHUP: reloading %s", d->config_path ? d->config_path :
	    "the embedded default");
	if ((cfg = load_config(d->config_path, 1)) == NULL ||
	    load_policies(cfg, &pol, 1) == -1) {
		log_warnx("config not reloaded: it has errors; keeping the "
		    "running one");
		config_free(cfg);
		return;
	}
	/* Where state and the socket live cannot change under a live daemon. */
	if (strcmp(cfg->state_dir, old->state_dir) != 0 ||
	    strcmp(cfg->socket, old->socket) != 0)
		log_warnx("state_dir and socket changes take effect only after "
		    "a restart");
	free(cfg->state_dir);
	cfg->state_dir = xstrdup(old->state_dir);
	free(cfg->socket);
	cfg->socket = xstrdup(old->socket);
	d->cfg = cfg;
	d->policies = pol;
	if (dispatch_reconfigure(d->dispatch, err, sizeof(err)) == -1 ||
	    carbon_reconfigure(d->carbon, cfg, err, sizeof(err)) == -1) {
		log_warnx("config not reloaded: %s", err);
		d->cfg = old;
		d->policies = oldpol;
		config_free(cfg);
		policy_free(pol);
		dispatch_reconfigure(d->dispatch, err, sizeof(err));
		carbon_reconfigure(d->carbon, old, err, sizeof(err));
		return;
	}
	log_set_level((enum log_level)cfg->log_level);
	push_reconfigure(d->push);
	config_free(old);
	policy_free(oldpol);
	log_info("config reloaded: %zu site(s)", cfg->nsites);
}

/*
 * Writes this process's pid into the locked pid file, over what was there
 * (never empty in between: a second ebbd reads it to say who holds it).
 */
static void
write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) == -1)
		log_warn("ebbd.pid");
}

/*
 * Takes <state_dir>/ebbd.pid so that one state dir has one daemon. The
 * directory is the worker's: a file there that is not a plain, single-
 * link file of ours (a link the worker made to some file of root's) is
 * replaced, never truncated.
 */
static int
lock_state(const char *state_dir)
{
	char buf[32];
	struct stat st;
	int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC), fd;

	if (dfd == -1)
		fatal("%s", state_dir);
	fd = openat(dfd, "ebbd.pid", O_RDWR | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1 && errno != ENOENT && errno != ELOOP)
		fatal("%s/ebbd.pid", state_dir);	/* read-only, ... */
	if (fd == -1 && errno == ELOOP) {
		log_warnx("%s/ebbd.pid is a link: replacing it", state_dir);
		if (unlinkat(dfd, "ebbd.pid", 0) == -1)
			fatal("%s/ebbd.pid", state_dir);
	}
	if (fd >= 0 && (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid())) {
		log_warnx("%s/ebbd.pid is not ebbd's own file: replacing it",
		    state_dir);
		close(fd);
		fd = -1;
		if (unlinkat(dfd, "ebbd.pid", 0) == -1)
			fatal("%s/ebbd.pid", state_dir);
	}
	if (fd == -1 && (fd = openat(dfd, "ebbd.pid", O_RDWR | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		fatal("%s/ebbd.pid", state_dir);
	close(dfd);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fatalx("another ebbd (pid %s) is using %s", buf, state_dir);
	}
	write_pid(fd);
	return fd;
}

/*
 * Detaching (no -f): the process that was started waits until the daemon
 * is ready, or has failed with its reason on the stderr they share, and
 * exits with its status, so a start that fails is seen where it was made.
 * The daemon keeps the pipe's write end (ready_fd) until then.
 */
static int ready_fd = -1;

static void
detach_start(void)
{
	int p[2], st;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			_exit(0);
		/* Closed unwritten: the daemon failed, or is failing. */
		if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
			_exit(1);
		_exit(WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
}

/*
 * This process is on its own from now on: it logs to syslog, its stdio is
 * /dev/null, and if ready, the waiting starter exits 0.
 */
static void
detach_done(int ready)
{
	int fd;

	if (ready_fd == -1)
		return;
	log_init("ebbd", 0);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (ready && write(ready_fd, "", 1) != 1)
		log_warn("telling the starter that ebbd is ready");
	close(ready_fd);
	ready_fd = -1;
}

static void
on_priv_gone(void *arg)
{
	struct ebbd *d = arg;

	d->priv_gone = 1;
	log_warnx("stopping: the privileged process is gone");
	ev_break(d->loop, EVBREAK_ALL);
}

/*
 * The worker: everything that reads what users and remote services
 * send. Started as root it binds the socket and opens the energy meter,
 * then drops to u before it opens the store or reads a byte.
 */
static int
worker(struct ebbd *d, int fd, struct privd *inproc,
    const struct privsep_user *u)
{
	ev_signal sigterm, sigint, sighup;
	ev_prepare prep;
	char err[1024], *dbpath;

	d->privd = inproc;
	d->priv = priv_open(d->loop, fd, inproc, on_priv_gone, d);
	if ((d->control = control_open(d, d->cfg->socket, d->cfg->socket_mode,
	    d->cfg->socket_group, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((d->sampler = sampler_new(d, err, sizeof(err))) == NULL)
		log_warnx("energy: %s; jobs' energy is not measured", err);
	if (d->cfg->metrics.port != 0) {
		if ((d->metrics = metrics_open(d->loop,
		    d->cfg->metrics.address, d->cfg->metrics.port,
		    exporter_render, d, err, sizeof(err))) == NULL)
			fatalx("metrics: %s", err);
		log_info("metrics at http://%s:%d/metrics",
		    d->cfg->metrics.address ? d->cfg->metrics.address :
		    "127.0.0.1", metrics_port(d->metrics));
	}
	privsep_drop(u);

	dbpath = xasprintf("%s/ebb.db", d->cfg->state_dir);
	if ((d->store = store_open(dbpath, err, sizeof(err))) == NULL)
		fatalx("store: %s", err);
	free(dbpath);
	if ((d->dispatch = dispatch_new(d, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (dispatch_recover(d->dispatch, err, sizeof(err)) == -1)
		fatalx("recovery: %s", err);
	if ((d->carbon = carbon_new(d->loop, d->store, d->cfg, err,
	    sizeof(err))) == NULL)
		fatalx("carbon intensity: %s", err);
	carbon_on_update(d->carbon, on_intensity, d);
	if ((d->push = push_new(d, err, sizeof(err))) == NULL)
		fatalx("%s", err);

	ev_signal_init(&sigterm, on_stop, SIGTERM);
	ev_signal_init(&sigint, on_stop, SIGINT);
	ev_signal_init(&sighup, on_reload, SIGHUP);
	sighup.data = d;
	ev_signal_start(d->loop, &sigterm);
	ev_signal_start(d->loop, &sigint);
	ev_signal_start(d->loop, &sighup);
	ev_prepare_init(&prep, on_prepare);
	prep.data = d;
	ev_prepare_start(d->loop, &prep);
	ev_unref(d->loop);	/* the prepare watcher alone keeps nothing alive */

	detach_done(1);
	log_info("ebbd %s ready: socket %s, state %s, %zu site(s), runner %s, "
	    "running as %s%s", EBB_VERSION, d->cfg->socket, d->cfg->state_dir,
	    d->cfg->nsites, d->runner_path, u->name, inproc ? "" :
	    " (privileged operations in a separate process)");
	ev_run(d->loop, 0);

	control_close(d->control);
	push_free(d->push);
	metrics_close(d->metrics);
	dispatch_free(d->dispatch);
	d->dispatch = NULL;
	sampler_free(d->sampler);
	carbon_free(d->carbon);
	store_close(d->store);
	priv_close(d->priv);
	privd_close(inproc);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct ebbd d = { 0 };
	struct privsep_user u;
	struct privd_conf pc;
	struct privd *inproc = NULL;
	char err[1024], *dir, *jobs_dir, instance[17];
	int ch, foreground = 0, check = 0, debug = 0, lockfd, sv[2], rc;
	pid_t pid;

	while ((ch = getopt_long(argc, argv, "c:dfhnV", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ebbd %s\n", EBB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((d.cfg = load_config(d.config_path, 0)) == NULL ||
	    load_policies(d.cfg, &d.policies, 0) == -1)
		return 1;
	if (check) {
		char *text = config_dump(d.cfg);

		warn_no_live_provider(d.cfg, 0);
		fputs(text, stdout);
		free(text);
		config_free(d.cfg);
		return 0;
	}
	/*
	 * Until it is ready, errors (another ebbd on the state, a missing
	 * user or group) go to the stderr of whoever started it, with exit 1.
	 */
	log_init("ebbd", 1);
	log_set_level(debug ? LOG_LVL_DEBUG : (enum log_level)d.cfg->log_level);
	warn_no_live_provider(d.cfg, 1);
	signal(SIGPIPE, SIG_IGN);
	dir = xstrdup(d.cfg->socket);
	if (fs_mkdir_p(dirname(dir), 0755, err, sizeof(err)) == -1)
		fatalx("socket: %s", err);
	free(dir);
	umask(077);	/* nothing ebbd writes is for others to read */
	if (privsep_user(d.cfg, &u, err, sizeof(err)) == -1 ||
	    privsep_prepare_state(d.cfg->state_dir, &u, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	lockfd = lock_state(d.cfg->state_dir);
	if (!foreground) {
		/* The child inherits the lock with the descriptor. */
		detach_start();
		write_pid(lockfd);
	}
	d.runner_path = find_runner(d.cfg);
	jobs_dir = xasprintf("%s/jobs", d.cfg->state_dir);
	jobctl_instance(d.cfg->state_dir, instance);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if (geteuid() == 0) {
		pid_t parent = getpid();

		if ((pid = fork()) == -1)
			fatal("fork");
		if (pid > 0) {
			close(sv[1]);
			detach_done(0);		/* the worker says when ready */
			config_free(d.cfg);
			policy_free(d.policies);
			rc = privsep_parent(pid, sv[0], d.config_path, jobs_dir,
			    d.runner_path, instance);
			free(d.runner_path);
			free(jobs_dir);
			close(lockfd);
			log_info("stopped");
			return rc;
		}
		close(sv[0]);
		close(lockfd);		/* the parent holds it */
		/* No controlling terminal (no TIOCSTI into root's shell). */
		if (foreground)
			setsid();
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(1);
		d.loop = ev_default_loop(EVFLAG_AUTO);
	} else {
		d.loop = ev_default_loop(EVFLAG_AUTO);
		if (privsep_conf(d.cfg, jobs_dir, d.runner_path, instance, &pc,
		    err, sizeof(err)) == -1 || (inproc = privd_open(d.loop,
		    sv[0], &pc, NULL, NULL, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		privsep_conf_free(&pc);
	}
	rc = worker(&d, sv[1], inproc, &u);
	config_free(d.cfg);
	policy_free(d.policies);
	free(d.runner_path);
	free(jobs_dir);
	if (inproc != NULL)
		close(lockfd);
	ev_loop_destroy(d.loop);
	log_info("stopped");
	return rc;
}
