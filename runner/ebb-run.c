/*
 * ebb-run: the job supervisor.
 *
 *   ebb-run [-u UID -g GID [-G GIDS] [-c CGROUP] [-m MEM] [-k GRACE]
 *           [-o OUTPUT_LIMIT] [-D DIRFD] [-L LOCKFD] [-j JOBID]] JOBDIR
 *
 * runs the one job described in JOBDIR/spec.json, measures it and leaves
 * JOBDIR/result.json. ebbd's privileged process (runner/jobctl.c) and the
 * Slurm batch script rely on exactly this contract; docs/ebb-run.md is the
 * reference.
 *
 * As root (started by ebbd) who the job runs as and how it is confined
 * come only from the command line: -u/-g the job's user and group, -G its
 * supplementary groups (comma-separated; none: just GID), -c its cgroup,
 * -m its memory limit (bytes), -k the grace between SIGTERM and SIGKILL
 * (s), -o the bytes of stdout and of stderr kept (0: all), -D an open
 * descriptor of JOBDIR, -L an open descriptor of JOBDIR/lock whose flock
 * ebbd already took (so the lock is held from the spawn on), -j the job's
 * id (default: JOBDIR's name). As root ebb-run never parses spec.json: the job's
 * own process reads argv, env and workdir from it after it has become the
 * job's user. Without root (under Slurm, as the job's user) the spec also
 * names cpus, mem, kill_grace, energy (meter the node here), exit_as_job
 * (exit with the job's status, for the cluster's accounting) and pass_env
 * (prefixes of ebb-run's own variables the job gets too, such as
 * "SLURM_"), and the options are not needed.
 *
 *  1. It detaches (setsid) so it outlives ebbd, and sends its own
 *     diagnostics to JOBDIR/runner.log. Every file of JOBDIR is opened
 *     through a descriptor of the directory with O_NOFOLLOW.
 *  2. It opens JOBDIR/lock and takes flock(LOCK_EX|LOCK_NB), then writes its
 *     pid into the file. If another ebb-run holds the lock it exits 3.
 *  3. It creates JOBDIR/started with O_CREAT|O_EXCL and writes the start
 *     time (epoch s) into it. If the file exists, an earlier supervisor
 *     already started the job, which must never run twice: it exits 4.
 *  4. It creates the cgroup (falling back to rusage measurement when
 *     cgroups are unavailable) and forks the job, which joins the cgroup,
 *     takes stdin from /dev/null and stdout/stderr from pipes that
 *     ebb-run copies into JOBDIR/stdout and JOBDIR/stderr (0640, owned by
 *     the job's user) up to the output limit each (the rest is read and
 *     dropped, and result.json says output_truncated), becomes its own
 *     session, drops to the job's user and groups when run as root, reads
 *     the spec, changes to workdir and execs argv[0] found through the
 *     job's PATH. A failure of any of these comes back over a
 *     close-on-exec pipe: exit_code 127 with "exec X: reason" when the
 *     program is missing, 126 otherwise.
 *  5. SIGUSR1 to ebb-run freezes the job (its cgroup's freezer, else
 *     SIGSTOP to its process group), SIGUSR2 thaws it; the time spent frozen
 *     is reported as paused_ms. SIGTERM or SIGINT to ebb-run cancels (a
 *     frozen job is thawed first): SIGTERM to every process of the
 *     job (its cgroup, or its process group without one), SIGKILL after
 *     kill_grace seconds. When the job's main process ends, whatever it
 *     left running is killed.
 *  6. It writes JOBDIR/result.json atomically: job_id, exit_code (-1 when
 *     killed by a signal), signal, start_time, end_time (epoch s), wall_ms,
 *     cpu_usec, peak_mem (bytes, -1 unknown), measure ("cgroup-v1",
 *     "cgroup-v2" or "rusage"), cancelled, paused_ms, output_truncated,
 *     error (string or null), and with an "energy" object in the spec
 *     (runner/jobmeter.h) the job's energy measured here: energy
 *     ([[t0, t1, J], ...]) and energy_method. Then it removes the cgroup,
 *     releases the lock and exits 0.
 *
 * Exit status: 0 result written, 1 result could not be written, 2 usage or
 * unusable JOBDIR, 3 lock held by another supervisor, 4 already started.
 * It does not enforce cpus, retry jobs or talk to ebbd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/job.h"
#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "runner/cgroup.h"
#include "runner/jobmeter.h"

#define EXIT_NORESULT	1
#define EXIT_USAGE	2
#define EXIT_LOCKED	3
#define EXIT_STARTED	4


struct spec {
	int		 managed;	/* as root: identity from the options */
	int		 dfd;		/* JOBDIR */
	int		 spec_fd;	/* managed: spec.json, read by the job */
	gid_t		 groups[NGROUPS_MAX];	/* managed: -G */
	size_t		 ngroups;
	int64_t		 output_limit;	/* bytes of each stream; 0: all */
	int64_t		 job_id;
	char		**argv;		/* NULL-terminated */
	char		**env;		/* NULL-terminated */
	char		*workdir;
	char		*name;		/* the job's name, or NULL */
	char		*out_file;	/* stdout to this file (%j, %x), or */
	char		*err_file;	/* NULL: to the pipes */
	char		*user;		/* NULL: no supplementary groups */
	char		*cgroup;	/* NULL: no cgroup */
	uid_t		 uid;
	gid_t		 gid;
	int64_t		 mem;
	int64_t		 kill_grace;
	int		 cpus;
	json_t		*energy;	/* meter here (jobmeter.h), or NULL */
	int		 exit_as_job;	/* exit with the job's status */
};

struct result {
	int		 exit_code;
	int		 sig;
	int64_t		 start_time, end_time, wall_ms;
	int64_t		 cpu_usec, peak_mem;
	const char	*measure;
	json_t		*energy;	/* [[t0, t1, J], ...] or NULL */
	const char	*energy_method;
	int		 cancelled;
	int		 output_truncated;
	int64_t		 paused_since;	/* mono ns when frozen, 0 if not */
	int64_t		 paused_ms;	/* total time frozen */
	char		 error[512];	/* "" for none */
};

/* What the job child sends back when it cannot exec. */
struct child_report {
	int	code;
	char	msg[500];
};

static char **
strv_from_json(const json_t *arr)
{
	char **v = xcalloc(json_array_size(arr) + 1, sizeof(*v));
	size_t i;
	json_t *s;

	json_array_foreach(arr, i, s)
		v[i] = xstrdup(json_string_value(s));
	return v;
}

static int
strv_check(const json_t *arr)
{
	size_t i;
	json_t *s;

	if (!json_is_array(arr))
		return -1;
	json_array_foreach(arr, i, s)
		if (!json_is_string(s))
			return -1;
	return 0;
}

/*
 * Adds to env (replacing same-named entries) the variables of ebb-run's
 * own environment whose names start with one of the prefixes: what the
 * cluster scheduler set for the job (SLURM_JOB_ID, CUDA_VISIBLE_DEVICES).
 */
static char **
env_pass(char **env, const json_t *prefixes)
{
	size_t n = 0, k, i;
	char **out;
	json_t *v;

	while (env[n] != NULL)
		n++;
	for (char **e = environ; *e; e++)
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	k = 0;
	for (char **e = environ; *e; e++) {
		json_array_foreach(prefixes, i, v) {
			const char *p = json_string_value(v);

			if (*p != '\0' && strncmp(*e, p, strlen(p)) == 0 &&
			    strchr(*e, '=') != NULL) {
				out[k++] = xstrdup(*e);
				break;
			}
		}
	}
	for (char **e = env; *e; e++) {
		size_t len = strcspn(*e, "=");
		int shadowed = 0;

		for (size_t j = 0; j < k && !shadowed; j++)
			shadowed = strncmp(out[j], *e, len + 1) == 0;
		if (shadowed)
			free(*e);
		else
			out[k++] = *e;
	}
	free(env);
	return out;
}

/* doc[key] if it is a non-empty string, a copy; else NULL. */
static char *
opt_str(const json_t *doc, const char *key)
{
	const char *v = json_string_value(json_object_get(doc, key));

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

/*
 * An output file name as sbatch writes it: %j the job's id, %x its name,
 * %% a %; any other % stays. A new string.
 */
static char *
output_name(const char *pat, int64_t id, const char *name)
{
	struct strbuf b = STRBUF_INIT;

	for (const char *p = pat; *p != '\0'; p++) {
		if (p[0] != '%' || p[1] == '\0') {
			strbuf_addc(&b, *p);
			continue;
		}
		if (p[1] == 'j')
			strbuf_addf(&b, "%" PRId64, id);
		else if (p[1] == 'x')
			strbuf_adds(&b, name ? name : "");
		else if (p[1] == '%')
			strbuf_addc(&b, '%');
		else {
			strbuf_addc(&b, '%');
			continue;
		}
		p++;
	}
	return strbuf_take(&b);
}

/*
 * Reads the spec from fd. Managed (as root, in the job's process after it
 * became the user): only argv, env and workdir; everything else came from
 * the command line. Otherwise the whole spec.
 */
static int
spec_load(int fd, struct spec *sp, char *err, size_t errlen)
{
	json_t *doc, *argv, *env, *user_j = NULL, *cgroup_j = NULL;
	json_t *energy = NULL, *pass = NULL;
	json_error_t jerr;
	json_int_t id = sp->job_id, uid = 0, gid = 0, mem = 0, grace = 10;
	int cpus = 1, exit_as_job = 0;
	const char *workdir, *user, *cgroup;
	char why[256];

	if ((doc = fs_read_json_fd(fd, "spec.json", why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "spec: %s", why);
		return -1;
	}
	if (sp->managed ? json_unpack_ex(doc, &jerr, 0, "{s:o, s:o, s:s}",
	    "argv", &argv, "env", &env, "workdir", &workdir) == -1 :
	    json_unpack_ex(doc, &jerr, 0,
	    "{s:I, s:o, s:o, s:s, s:I, s:I, s?:o, s?:I, s?:o, s?:I, s?:i, "
	    "s?:o, s?:b, s?:o}",
	    "job_id", &id, "argv", &argv, "env", &env, "workdir", &workdir,
	    "uid", &uid, "gid", &gid, "user", &user_j, "mem", &mem,
	    "cgroup", &cgroup_j, "kill_grace", &grace, "cpus", &cpus,
	    "energy", &energy, "exit_as_job", &exit_as_job, "pass_env",
	    &pass) == -1) {
		snprintf(err, errlen, "spec: %s", jerr.text);
		json_decref(doc);
		return -1;
	}
	if (strv_check(argv) == -1 || json_array_size(argv) == 0 ||
	    strv_check(env) == -1 || uid < 0 || gid < 0 || mem < 0 ||
	    grace < 0 || cpus < 1 || (pass != NULL && strv_check(pass) == -1) ||
	    (energy != NULL &&
	    !json_is_object(energy)) ||
	    (user_j != NULL && !json_is_string(user_j) &&
	    !json_is_null(user_j)) || (cgroup_j != NULL &&
	    !json_is_string(cgroup_j) && !json_is_null(cgroup_j))) {
		snprintf(err, errlen, "spec: bad argv, env, uid, gid, user, "
		    "cpus, mem, cgroup, kill_grace or energy");
		json_decref(doc);
		return -1;
	}
	sp->argv = strv_from_json(argv);
	sp->env = strv_from_json(env);
	sp->workdir = xstrdup(workdir);
	sp->name = opt_str(doc, "name");
	sp->out_file = opt_str(doc, "stdout_file");
	sp->err_file = opt_str(doc, "stderr_file");
	if (sp->managed) {
		json_decref(doc);
		return 0;
	}
	user = json_string_value(user_j);
	cgroup = json_string_value(cgroup_j);
	sp->job_id = id;
	if (pass != NULL)
		sp->env = env_pass(sp->env, pass);
	sp->user = user != NULL && *user != '\0' ? xstrdup(user) : NULL;
	sp->cgroup = cgroup != NULL && *cgroup != '\0' ? xstrdup(cgroup) : NULL;
	sp->uid = (uid_t)uid;
	sp->gid = (gid_t)gid;
	sp->mem = mem;
	sp->kill_grace = grace;
	sp->cpus = cpus;
	sp->energy = json_incref(energy);
	sp->exit_as_job = exit_as_job;
	json_decref(doc);
	return 0;
}

static void
spec_clear(struct spec *sp)
{
	strv_free(sp->argv);
	strv_free(sp->env);
	free(sp->workdir);
	free(sp->name);
	free(sp->out_file);
	free(sp->err_file);
	free(sp->user);
	free(sp->cgroup);
	json_decref(sp->energy);
}

/* In the job child: report why it cannot run and exit. */
static void __attribute__((noreturn, format(printf, 3, 4)))
child_fail(int fd, int code, const char *fmt, ...)
{
	struct child_report r;
	va_list ap;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	r.code = code;
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	do
		n = write(fd, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	_exit(code);
}

/* JOBDIR/name for the job's output, the job's user's. */
static int
open_output(const struct spec *sp, const char *name)
{
	int fd = openat(sp->dfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd != -1 && geteuid() == 0 && fchown(fd, sp->uid, sp->gid) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Becomes the job's user: exactly the groups ebbd named (-G). */
static void
child_drop_privileges(int rfd, const struct spec *sp)
{
	if (setgroups(sp->ngroups, sp->groups) == -1)
		child_fail(rfd, 126, "setgroups: %s", strerror(errno));
	if (setresgid(sp->gid, sp->gid, sp->gid) == -1)
		child_fail(rfd, 126, "setgid %ld: %s", (long)sp->gid,
		    strerror(errno));
	if (setresuid(sp->uid, sp->uid, sp->uid) == -1)
		child_fail(rfd, 126, "setuid %ld: %s", (long)sp->uid,
		    strerror(errno));
	if (getuid() != sp->uid || geteuid() != sp->uid ||
	    getgid() != sp->gid || getegid() != sp->gid ||
	    (sp->uid != 0 && setuid(0) != -1))
		child_fail(rfd, 126, "cannot drop privileges to uid %ld",
		    (long)sp->uid);
}

static const char *
env_get(char **env, const char *key)
{
	size_t len = strlen(key);

	for (; *env != NULL; env++)
		if (strncmp(*env, key, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* execvp with the job's own PATH and environment. */
static void __attribute__((noreturn))
child_exec(int rfd, const struct spec *sp)
{
	const char *cmd = sp->argv[0], *path, *p;
	char full[PATH_MAX];
	int saw_eacces = 0;

	if (strchr(cmd, '/') != NULL) {
		execve(cmd, sp->argv, sp->env);
		child_fail(rfd, errno == ENOENT ? 127 : 126, "exec %s: %s",
		    cmd, strerror(errno));
	}
	if ((path = env_get(sp->env, "PATH")) == NULL)
		path = JOB_DEFAULT_PATH;
	for (p = path; ; p++) {
		const char *end = strchrnul(p, ':');
		int dlen = (int)(end - p);

		snprintf(full, sizeof(full), "%.*s%s%s", dlen, p,
		    dlen > 0 ? "/" : "", cmd);
		execve(full, sp->argv, sp->env);
		if (errno == EACCES)
			saw_eacces = 1;
		else if (errno != ENOENT && errno != ENOTDIR)
			child_fail(rfd, 126, "exec %s: %s", cmd,
			    strerror(errno));
		if (*end == '\0')
			break;
		p = end;
	}
	child_fail(rfd, saw_eacces ? 126 : 127, "exec %s: %s", cmd,
	    strerror(saw_eacces ? EACCES : ENOENT));
}

/*
 * In the job child, as the user, in workdir: the job's stdout (and its
 * stderr, unless that has its own) into the file it asked for, as sbatch
 * does with --output/--error.
 */
static void
child_output(int rfd, const struct spec *sp)
{
	const char *files[2] = { sp->out_file, sp->err_file };

	for (int k = 0; k < 2; k++) {
		char *path;
		int fd;

		if (files[k] == NULL)
			continue;
		path = output_name(files[k], sp->job_id, sp->name);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY |
		    O_CLOEXEC, 0644);
		if (fd == -1)
			child_fail(rfd, 126, "%s %s: %s", k == 0 ? "output" :
			    "error", path, strerror(errno));
		if (dup2(fd, k + 1) == -1 || (k == 0 && sp->err_file == NULL &&
		    dup2(fd, 2) == -1))
			child_fail(rfd, 126, "output: %s", strerror(errno));
		close(fd);
		free(path);
	}
}

/*
 * The job child, between fork and exec; out/errfd: the output pipes. It
 * reports (code 0 on rfd) when it is ready to exec, and waits on gofd
 * while ebb-run moves it into the job's cgroup: what it did before (as
 * the user: reading the spec) is not counted as the job's.
 */
static void __attribute__((noreturn))
child_run(int rfd, int gofd, struct spec *sp, int outfd, int errfd)
{
	struct child_report ready;
	char err[400], go;
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	setsid();
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(fd, 0) == -1)
		child_fail(rfd, 126, "/dev/null: %s", strerror(errno));
	if (dup2(outfd, 1) == -1 || dup2(errfd, 2) == -1)
		child_fail(rfd, 126, "output: %s", strerror(errno));
	if (sp->managed) {
		child_drop_privileges(rfd, sp);
		/* Only now, as the user, read what the user wrote. */
		if (spec_load(sp->spec_fd, sp, err, sizeof(err)) == -1)
			child_fail(rfd, 126, "%s", err);
	}
	if (chdir(sp->workdir) == -1)
		child_fail(rfd, 126, "chdir %s: %s", sp->workdir,
		    strerror(errno));
	child_output(rfd, sp);
	memset(&ready, 0, sizeof(ready));
	if (write(rfd, &ready, sizeof(ready)) != (ssize_t)sizeof(ready) ||
	    read(gofd, &go, 1) != 1)
		_exit(126);
	child_exec(rfd, sp);
}

/* SIGTERM/SIGKILL to the whole job: its cgroup, else its process group. */
static void
signal_job(struct cg *g, pid_t child, int sig)
{
	char err[256];

	if (g != NULL) {
		if (cg_signal(g, sig, err, sizeof(err)) == -1)
			log_warnx("%s", err);
	} else if (kill(-child, sig) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)-child);
}

/*
 * Freezes (SIGUSR1) or thaws (SIGUSR2) the job: its cgroup's freezer, else
 * SIGSTOP/SIGCONT to its process group. Counts the time it spends frozen.
 */
static void
pause_job(struct cg *g, pid_t child, int freeze, struct result *res)
{
	char err[256];

	if (freeze == (res->paused_since != 0))
		return;
	if (g != NULL ? cg_freeze(g, freeze, err, sizeof(err)) == -1 :
	    kill(-child, freeze ? SIGSTOP : SIGCONT) == -1) {
		log_warnx("%s: %s", freeze ? "freeze" : "thaw", g != NULL ? err :
		    strerror(errno));
		return;
	}
	if (freeze)
		res->paused_since = ebb_mono_ns();
	else {
		res->paused_ms += (ebb_mono_ns() - res->paused_since) / 1000000;
		res->paused_since = 0;
	}
	log_info("%s", freeze ? "frozen" : "thawed");
}

/* One output stream: a pipe from the job copied into a file. */
struct pump {
	int		 rfd;		/* pipe; -1 at its end */
	int		 wfd;		/* JOBDIR/stdout or stderr */
	int64_t		 kept;
	int64_t		 limit;		/* 0: all */
	int		 dropped;
};

/* Moves what the pipe holds now into the file, up to the limit. */
static void
pump_run(struct pump *p)
{
	char scratch[65536];
	ssize_t n;

	while (p->rfd >= 0) {
		int64_t room = p->limit > 0 ? p->limit - p->kept : 1 << 20;

		if (room > 0) {
			n = splice(p->rfd, NULL, p->wfd, NULL, (size_t)(room <
			    (1 << 20) ? room : (1 << 20)), SPLICE_F_NONBLOCK);
			if (n == -1 && errno == EINVAL) {
				/* A file that does not take splice. */
				n = read(p->rfd, scratch, sizeof(scratch) <
				    (size_t)room ? sizeof(scratch) :
				    (size_t)room);
				if (n > 0 && fs_write_all(p->wfd, scratch,
				    (size_t)n) == -1)
					n = -1;
			}
			if (n > 0)
				p->kept += n;
		} else {
			n = read(p->rfd, scratch, sizeof(scratch));
			if (n > 0)
				p->dropped = 1;
		}
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)	/* the file: keep draining the pipe */
			log_warn("output");
		if (n == -1 && room > 0) {
			p->limit = p->kept;	/* drop the rest */
			continue;
		}
		close(p->rfd);
		p->rfd = -1;
	}
}

/*
 * Waits for the job's main process while copying its output, cancelling
 * on SIGTERM/SIGINT and freezing on SIGUSR1/SIGUSR2 (all from sfd); kills
 * what it leaves behind and reaps it.
 */
static void
supervise(struct cg *g, pid_t child, const struct spec *sp, int sfd,
    struct pump *pumps, struct jobmeter *jm, struct result *res, int *status,
    struct rusage *ru)
{
	int64_t deadline = 0, end;

	for (;;) {
		int64_t timeout_ms = 60000;
		struct pollfd pf[3];
		siginfo_t si;

		if (jm != NULL) {
			int64_t next;

			jobmeter_tick(jm, ebb_now());
			if ((next = jobmeter_next(jm, ebb_now())) * 1000 <
			    timeout_ms)
				timeout_ms = next > 0 ? next * 1000 : 1000;
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == child)
			break;
		if (deadline != 0) {
			int64_t left = deadline - ebb_mono_ns();

			if (left <= 0) {
				log_info("kill_grace over: SIGKILL");
				signal_job(g, child, SIGKILL);
				deadline = 0;
				continue;
			}
			if (left / 1000000 < timeout_ms)
				timeout_ms = left / 1000000 + 1;
		}
		pf[0].fd = sfd;
		pf[1].fd = pumps[0].rfd;
		pf[2].fd = pumps[1].rfd;
		for (int i = 0; i < 3; i++)
			pf[i].events = POLLIN;
		if (poll(pf, 3, (int)timeout_ms) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (pf[i + 1].revents != 0)
				pump_run(&pumps[i]);
		for (;;) {
			struct signalfd_siginfo ss;
			int sig;

			if (read(sfd, &ss, sizeof(ss)) != (ssize_t)sizeof(ss))
				break;
			sig = (int)ss.ssi_signo;
			if ((sig == SIGUSR1 || sig == SIGUSR2) &&
			    !res->cancelled)
				pause_job(g, child, sig == SIGUSR1, res);
			if ((sig == SIGTERM || sig == SIGINT) &&
			    !res->cancelled) {
				log_info("cancelled by signal %d", sig);
				res->cancelled = 1;
				signal_job(g, child, SIGTERM);
				deadline = ebb_mono_ns() + sp->kill_grace *
				    1000000000;
			}
		}
	}
	if (res->paused_since != 0) {
		res->paused_ms += (ebb_mono_ns() - res->paused_since) / 1000000;
		res->paused_since = 0;
	}
	/* The zombie still holds the process group id, so this is safe. */
	signal_job(g, child, SIGKILL);
	while (wait4(child, status, 0, ru) == -1 && errno == EINTR)
		;
	/* What is left in the pipes; a process that escaped the job and
	 * holds them open is not waited for long. */
	end = ebb_mono_ns() + 2000000000LL;
	while ((pumps[0].rfd >= 0 || pumps[1].rfd >= 0) &&
	    ebb_mono_ns() < end) {
		struct pollfd pf[2] = { { pumps[0].rfd, POLLIN, 0 },
		    { pumps[1].rfd, POLLIN, 0 } };

		if (poll(pf, 2, 100) > 0)
			for (int i = 0; i < 2; i++)
				if (pf[i].revents != 0)
					pump_run(&pumps[i]);
	}
}

/* Runs the job and fills res; returns after everything is reaped. */
static void
run_job(struct spec *sp, int sfd, int64_t mono0, struct result *res)
{
	struct child_report rep;
	struct rusage ru;
	struct cg *g = NULL;
	struct jobmeter *jm = NULL;
	struct pump pumps[2];
	static const char *const names[2] = { "stdout", "stderr" };
	char err[512];
	int pfd[2], gfd[2], out[2][2] = { { -1, -1 }, { -1, -1 } };
	int status = 0;
	int unavailable;
	pid_t child;
	ssize_t n;

	memset(&ru, 0, sizeof(ru));
	for (int i = 0; i < 2; i++) {
		pumps[i].rfd = -1;
		pumps[i].kept = 0;
		pumps[i].limit = sp->output_limit;
		pumps[i].dropped = 0;
		if ((pumps[i].wfd = open_output(sp, names[i])) == -1 ||
		    pipe2(out[i], O_CLOEXEC) == -1) {
			snprintf(res->error, sizeof(res->error), "%s: %s",
			    names[i], strerror(errno));
			res->exit_code = 126;
			goto measure;
		}
		pumps[i].rfd = out[i][0];
		fcntl(out[i][0], F_SETFL, O_NONBLOCK);
	}
	if (sp->cgroup != NULL) {
		/* ebbd's unprivileged worker reads the group's CPU time: its
		 * directories are searchable whatever umask we inherited. */
		mode_t old = umask(022);

		g = cg_create(sp->cgroup, cg_detect(), sp->mem, &unavailable,
		    err, sizeof(err));
		umask(old);
		if (g == NULL && unavailable)
			log_info("%s; measuring with rusage", err);
		else if (g == NULL)
			log_warnx("%s; measuring with rusage", err);
	}
	if (sp->energy != NULL && (jm = jobmeter_open(sp->energy, sp->cpus,
	    ebb_now(), err, sizeof(err))) == NULL)
		log_warnx("energy: %s; the job's energy is not measured", err);
	if (geteuid() != 0 && (sp->uid != getuid() || sp->gid != getgid()))
		log_info("not root: job runs as uid %ld, not %ld",
		    (long)getuid(), (long)sp->uid);
	if (pipe2(pfd, O_CLOEXEC) == -1 || pipe2(gfd, O_CLOEXEC) == -1 ||
	    (child = fork()) == -1) {
		snprintf(res->error, sizeof(res->error), "fork: %s",
		    strerror(errno));
		res->exit_code = 126;
		goto measure;
	}
	if (child == 0) {
		close(pfd[0]);
		close(gfd[1]);
		child_run(pfd[1], gfd[0], sp, out[0][1], out[1][1]);
	}
	close(pfd[1]);
	close(gfd[0]);
	for (int i = 0; i < 2; i++) {
		close(out[i][1]);
		out[i][1] = -1;
	}
	log_info("job %" PRId64 " started as pid %ld", sp->job_id, (long)child);
	do
		n = read(pfd[0], &rep, sizeof(rep));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(rep) && rep.code == 0) {
		/* Ready to exec: into the cgroup, then go. */
		if (g != NULL && cg_attach(g, child, err, sizeof(err)) == -1) {
			rep.code = 126;
			snprintf(rep.msg, sizeof(rep.msg), "cgroup: %.400s",
			    err);
			kill(child, SIGKILL);
		} else {
			if (write(gfd[1], "g", 1) != 1)
				kill(child, SIGKILL);
			do
				n = read(pfd[0], &rep, sizeof(rep));
			while (n == -1 && errno == EINTR);
		}
	}
	close(gfd[1]);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(rep)) {
		rep.msg[sizeof(rep.msg) - 1] = '\0';
		snprintf(res->error, sizeof(res->error), "%s", rep.msg);
		log_warnx("job %" PRId64 ": %s", sp->job_id, rep.msg);
		while (wait4(child, &status, 0, &ru) == -1 && errno == EINTR)
			;
		res->exit_code = rep.code;
	} else {
		supervise(g, child, sp, sfd, pumps, jm, res, &status, &ru);
		if (WIFSIGNALED(status)) {
			res->exit_code = -1;
			res->sig = WTERMSIG(status);
		} else
			res->exit_code = WEXITSTATUS(status);
	}
measure:
	for (int i = 0; i < 2; i++) {
		if (pumps[i].dropped) {
			res->output_truncated = 1;
			log_warnx("%s: more than %" PRId64 " bytes; the rest "
			    "was dropped", names[i], pumps[i].limit);
		}
		if (pumps[i].rfd >= 0)
			close(pumps[i].rfd);
		if (pumps[i].wfd >= 0)
			close(pumps[i].wfd);
		if (out[i][1] >= 0)
			close(out[i][1]);
	}
	res->end_time = ebb_now();
	res->wall_ms = (ebb_mono_ns() - mono0) / 1000000;
	res->cpu_usec = (int64_t)ru.ru_utime.tv_sec * 1000000 +
	    ru.ru_utime.tv_usec + (int64_t)ru.ru_stime.tv_sec * 1000000 +
	    ru.ru_stime.tv_usec;
	res->peak_mem = ru.ru_maxrss > 0 ? (int64_t)ru.ru_maxrss * 1024 : -1;
	res->measure = "rusage";
	if (g != NULL) {
		int64_t usec;

		if (cg_cpu_usec(g, &usec, err, sizeof(err)) == 0) {
			res->cpu_usec = usec;
			res->peak_mem = cg_peak_mem(g);
			res->measure = cg_measure(g);
		} else
			log_warnx("%s; using rusage", err);
		if (cg_destroy(g, err, sizeof(err)) == -1)
			log_warnx("%s", err);
	}
	if (jm != NULL) {
		res->energy = jobmeter_finish(jm, res->end_time, res->cpu_usec,
		    &res->energy_method);
		jobmeter_free(jm);
	}
}

static int
write_result(int dfd, int64_t job_id, const struct result *res)
{
	char err[512], *text;
	json_t *doc;
	int rc;

	doc = json_pack("{s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:s, s:b}",
	    "job_id", (json_int_t)job_id, "exit_code", res->exit_code,
	    "signal", res->sig, "start_time", (json_int_t)res->start_time,
	    "end_time", (json_int_t)res->end_time,
	    "wall_ms", (json_int_t)res->wall_ms,
	    "cpu_usec", (json_int_t)res->cpu_usec,
	    "peak_mem", (json_int_t)res->peak_mem,
	    "measure", res->measure, "cancelled", res->cancelled);
	json_object_set_new(doc, "paused_ms", json_integer(res->paused_ms));
	json_object_set_new(doc, "output_truncated",
	    json_boolean(res->output_truncated));
	json_object_set_new(doc, "error", res->error[0] != '\0' ?
	    json_string(res->error) : json_null());
	if (res->energy != NULL) {
		json_object_set(doc, "energy", res->energy);
		json_object_set_new(doc, "energy_method", json_sprintf("%s "
		    "(ebb-run)", res->energy_method));
	}
	text = json_dumps(doc, JSON_INDENT(2));
	if ((rc = fs_write_atomic_at(dfd, "result.json", text, strlen(text),
	    0644, err, sizeof(err))) == -1)
		log_warnx("%s", err);
	free(text);
	json_decref(doc);
	return rc;
}

/* JOBDIR cannot be used: log why and exit 2. */
static void __attribute__((noreturn))
unusable(const char *what)
{
	log_warn("%s", what);
	exit(EXIT_USAGE);
}

/* Takes JOBDIR/lock and records our pid in it; -1 if held elsewhere. */
static int
take_lock(int dfd, int given, int *lockfd)
{
	char buf[32];
	/* -L: ebbd took it for us (the same lock: flock succeeds again). */
	int fd = given >= 0 ? given : openat(dfd, "lock", O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd == -1)
		unusable("lock");
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			unusable("lock");
		log_warnx("lock is held by another ebb-run");
		close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		unusable("lock");
	*lockfd = fd;
	return 0;
}

/* Creates JOBDIR/started holding now; -1 if it already exists. */
static int
mark_started(int dfd, int64_t now)
{
	char buf[32];
	int fd = openat(dfd, "started", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd == -1) {
		if (errno != EEXIST)
			unusable("started");
		log_warnx("started exists: the job was started before");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%" PRId64 "\n", now);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf) ||
	    fsync(fd) == -1)
		log_warn("started");
	close(fd);
	return 0;
}

/* stdin from /dev/null, stdout and stderr to JOBDIR/runner.log. */
static void
redirect_stdio(int dfd, const char *jobdir)
{
	int fd = openat(dfd, "runner.log", O_WRONLY | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_CLOEXEC, 0644);
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd == -1 || nul == -1) {
		fprintf(stderr, "ebb-run: %s/runner.log: %s\n", jobdir,
		    strerror(errno));
		exit(EXIT_USAGE);
	}
	dup2(nul, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	close(nul);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ebb-run [-u UID -g GID [-G GIDS] [-c CGROUP] "
	    "[-m MEM] [-k GRACE] [-o OUTPUT_LIMIT] [-D DIRFD] [-L LOCKFD] "
	    "[-j JOBID]] "
	    "JOBDIR\n");
	exit(EXIT_USAGE);
}

/* A non-negative number option; exits on anything else. */
static int64_t
num_arg(const char *s, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max)
		usage();
	return v;
}

/* -G: comma-separated group ids. */
static void
groups_arg(const char *s, struct spec *sp)
{
	char *copy = xstrdup(s), *save = NULL;

	sp->ngroups = 0;
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		if (sp->ngroups == NGROUPS_MAX)
			usage();
		sp->groups[sp->ngroups++] = (gid_t)num_arg(t, UINT32_MAX - 1);
	}
	free(copy);
}

int
main(int argc, char **argv)
{
	struct spec sp;
	struct result res;
	sigset_t set;
	const char *jobdir;
	char why[256];
	int lockfd, rc, ch, sfd, have_u = 0, have_g = 0, have_G = 0;
	int given_lock = -1;
	int64_t mono0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	memset(&sp, 0, sizeof(sp));
	sp.dfd = -1;
	sp.spec_fd = -1;
	sp.kill_grace = 10;
	sp.cpus = 1;
	sp.job_id = -1;
	while ((ch = getopt(argc, argv, "u:g:G:c:m:k:o:D:j:L:")) != -1) {
		switch (ch) {
		case 'L':
			given_lock = (int)num_arg(optarg, INT32_MAX);
			break;
		case 'j':
			sp.job_id = num_arg(optarg, INT64_MAX);
			break;
		case 'u':
			sp.uid = (uid_t)num_arg(optarg, UINT32_MAX - 1);
			have_u = 1;
			break;
		case 'g':
			sp.gid = (gid_t)num_arg(optarg, UINT32_MAX - 1);
			have_g = 1;
			break;
		case 'G':
			groups_arg(optarg, &sp);
			have_G = 1;
			break;
		case 'c':
			free(sp.cgroup);
			sp.cgroup = *optarg ? xstrdup(optarg) : NULL;
			break;
		case 'm':
			sp.mem = num_arg(optarg, INT64_MAX);
			break;
		case 'k':
			sp.kill_grace = num_arg(optarg, 86400);
			break;
		case 'o':
			sp.output_limit = num_arg(optarg, INT64_MAX);
			break;
		case 'D':
			sp.dfd = (int)num_arg(optarg, INT32_MAX);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || have_u != have_g)
		usage();
	jobdir = argv[optind];
	/* Without root there is no one else to become: the spec is ours. */
	sp.managed = have_u && geteuid() == 0;
	if (sp.managed && !have_G) {
		sp.groups[0] = sp.gid;
		sp.ngroups = 1;
	}
	if (sp.dfd < 0 && (sp.dfd = open(jobdir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		fprintf(stderr, "ebb-run: %s: %s\n", jobdir, strerror(errno));
		return EXIT_USAGE;
	}
	fcntl(sp.dfd, F_SETFD, FD_CLOEXEC);
	if (given_lock >= 0)	/* the job must not hold its supervisor's lock */
		fcntl(given_lock, F_SETFD, FD_CLOEXEC);
	if (sp.job_id < 0)	/* ebbd's job directories are named by id */
		sp.job_id = strtoll(strrchr(jobdir, '/') ? strrchr(jobdir,
		    '/') + 1 : jobdir, NULL, 10);
	redirect_stdio(sp.dfd, jobdir);
	log_init("ebb-run", 1);
	setsid();
	if (take_lock(sp.dfd, given_lock, &lockfd) == -1) {
		spec_clear(&sp);
		return EXIT_LOCKED;
	}
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		unusable("signalfd");

	memset(&res, 0, sizeof(res));
	res.start_time = ebb_now();
	mono0 = ebb_mono_ns();
	if (mark_started(sp.dfd, res.start_time) == -1) {
		spec_clear(&sp);
		return EXIT_STARTED;
	}

	if ((sp.spec_fd = openat(sp.dfd, "spec.json", O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1)
		snprintf(why, sizeof(why), "spec: spec.json: %s",
		    strerror(errno));
	/*
	 * As root without -u (a cluster running root's own job) the spec is
	 * root's: it may only name root, never someone to become.
	 */
	if (sp.spec_fd >= 0 && !sp.managed && spec_load(sp.spec_fd, &sp, why,
	    sizeof(why)) == 0 && geteuid() == 0 && (sp.uid != 0 ||
	    sp.gid != 0)) {
		snprintf(why, sizeof(why), "spec: names uid %ld, but as root "
		    "the job's user comes only from -u and -g", (long)sp.uid);
		close(sp.spec_fd);
		sp.spec_fd = -1;
		errno = EPERM;
	} else if (sp.spec_fd >= 0 && !sp.managed && sp.argv == NULL) {
		close(sp.spec_fd);	/* why says what was wrong */
		sp.spec_fd = -1;
		errno = EINVAL;
	}
	if (sp.spec_fd == -1) {
		snprintf(res.error, sizeof(res.error), "%s", why);
		log_warnx("%s", res.error);
		res.exit_code = 126;
		res.end_time = res.start_time;
		res.cpu_usec = 0;
		res.peak_mem = -1;
		res.measure = "rusage";
	} else
		run_job(&sp, sfd, mono0, &res);
	log_info("job %" PRId64 " done: exit %d signal %d cpu %" PRId64
	    " us peak %" PRId64 " B (%s)", sp.job_id, res.exit_code, res.sig,
	    res.cpu_usec, res.peak_mem, res.measure);
	rc = write_result(sp.dfd, sp.job_id, &res) == 0 ? 0 : EXIT_NORESULT;
	/* Under a cluster scheduler, its accounting shows the job's own
	 * outcome. */
	if (rc == 0 && sp.exit_as_job)
		rc = res.sig != 0 ? 128 + res.sig : res.exit_code & 0xff;
	json_decref(res.energy);
	spec_clear(&sp);
	close(lockfd);
	return rc;
}
