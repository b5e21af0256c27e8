/*
 * slurm: the backend that runs jobs on a Slurm cluster, one backend per
 * site, through Slurm's own commands (sbatch, squeue, scontrol, scancel,
 * sacct) run on the loop by subproc, never blocking it.
 *
 * place() hands a job to Slurm at plan time: sbatch --parsable, as the
 * job's owner, with --begin at the planned start, the job's name, and the
 * comment "ebbd:<instance>:<job id>" that tags it as ours. The batch
 * script is two fixed lines that exec ebb-run on the job's directory under
 * slurm.shared_dir; the user's argv travels in spec.json, so no shell ever
 * re-reads it. Later place() calls move the begin time with
 * scontrol update StartTime=. ebb-run measures the job where it runs and
 * leaves result.json in that directory, which must be the same path on
 * ebbd's machine and on every node (a shared filesystem).
 *
 * A poll (squeue -t all, every slurm.poll) is the backend's only view of
 * the cluster: it reports starts and ends, finds a job by its tag when
 * ebbd crashed between sbatch and recording the id, and reports tagged
 * jobs nobody placed ("stray") and jobs submitted with sbatch whose
 * comment starts with "ebb:" ("foreign", when slurm.adopt is on; only
 * those in the site's partition when it names one). Nothing
 * is submitted before the first poll has answered, and after a failed
 * sbatch nothing is submitted again before a newer poll has shown the job
 * is not there: a job is never in Slurm twice. Failures to reach slurmctld
 * are retried with jittered exponential backoff; a refusal (a bad
 * partition, a limit) is reported with sbatch's message.
 *
 * cancel() runs scancel and then trusts only what the poll shows (scancel
 * says nothing for unknown or finished jobs); it repeats scancel while the
 * job is still there. There is no start, adopt or pause: place() does the
 * first two, and ebb does not suspend Slurm jobs.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/job.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/backend.h"
#include "runner/priv.h"
#include "runner/subproc.h"

#define CMD_TIMEOUT	60.0	/* s for any one Slurm command */
#define MAX_INFLIGHT	8	/* commands at once, polls aside */
#define RESULT_POLLS	3	/* polls to wait for a result after the end */
#define CANCEL_POLLS	3	/* polls before scancel is repeated */
#define BACKOFF_MAX	300.0	/* s between sbatch retries, at most */
#define SEP		"\x1f"	/* squeue field separator */
#define SQUEUE_MAX	(256 << 20)	/* cap on squeue's output */

enum { CMD_SBATCH, CMD_SQUEUE, CMD_SCONTROL, CMD_SCANCEL, CMD_SACCT, CMD_N };

enum sj_state {
	SJ_NEW,		/* not in Slurm (as far as we know) */
	SJ_QUEUED,	/* pending there */
	SJ_RUNNING,
	SJ_ENDED,	/* ended there: waiting for its result */
};

struct sjob {
	int64_t		 id;
	char		*ext;		/* Slurm job id, or NULL */
	json_t		*spec;
	int64_t		 want;		/* begin time the plan wants */
	int64_t		 begin;		/* begin time Slurm has (our last set) */
	enum sj_state	 state;
	int		 adopted;	/* submitted with sbatch by its owner */
	int		 started_sent;
	int		 cancel;	/* cancel wanted */
	int		 busy;		/* a command for it is running */
	int		 polls;		/* polls since it ended */
	int		 cancel_polls;	/* polls since scancel, 0: run it */
	int		 fails;		/* sbatch failures in a row */
	double		 retry_at;	/* loop time of the next sbatch try */
	unsigned	 fail_gen;	/* poll started after this may retry */
	unsigned	 handed_gen;	/* polls started after this see it */
	struct sjob	*next;
};

struct call;

/* One row of squeue. */
struct row {
	int64_t		 sid;
	const char	*state, *start, *submit, *user, *uid, *name, *cpus,
			*limit, *workdir, *partition, *comment;
	int64_t		 tag;		/* our job id from the comment, or -1 */
};

struct backend {
	struct ev_loop	*loop;
	struct backend_evq q;
	char		*site, *instance, *runner, *dir;
	char		*cmd[CMD_N];
	char		**envp;
	struct priv	*priv;
	char		*partition, *account;
	char		*cluster;	/* "--clusters=NAME", for every command */
	char		**options;
	size_t		 noptions;
	int		 adopt;
	double		 poll_s;
	json_t		*energy;
	struct sjob	*jobs;
	struct call	*calls;		/* commands running */
	ev_timer	 poll, work;
	unsigned	 gen_started, gen_done;	/* polls started, answered */
	int		 inflight;
	int		 polling;	/* a squeue is running */
	int		 poll_failing;
	int64_t		 poll_since;	/* when it began to answer or fail */
	char		 poll_error[300];
	char		*rows_buf;	/* the last poll's output, and */
	struct row	*rows;		/* its rows, sorted by sid */
	size_t		 nrows;
};

static void schedule_work(struct backend *);

static struct sjob *
sj_find(struct backend *b, int64_t id)
{
	for (struct sjob *s = b->jobs; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static struct sjob *
sj_new(struct backend *b, int64_t id)
{
	struct sjob *s = xcalloc(1, sizeof(*s));

	s->id = id;
	s->next = b->jobs;
	b->jobs = s;
	return s;
}

static void
sj_free(struct backend *b, struct sjob *s)
{
	struct sjob **p;

	for (p = &b->jobs; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	free(s->ext);
	json_decref(s->spec);
	free(s);
}

static char *
job_dir(const struct backend *b, int64_t id)
{
	return xasprintf("%s/job-%" PRId64, b->dir, id);
}

/*
 * A file of job s's directory, opened for reading as the job's user by
 * the privileged process (the directory is the user's: as root we would
 * follow what they put there). -1 with errno and err set.
 */
static int
job_file_open(struct backend *b, const struct sjob *s, const char *name,
    char *err, size_t errlen)
{
	struct priv_cred c;

	if (backend_cred(s->spec, &c, err, errlen) == -1) {
		errno = EINVAL;
		return -1;
	}
	return priv_uopen(b->priv, s->id, &c, b->dir, name, err, errlen);
}

/* Epoch seconds as Slurm's local time, "now" for the past. */
static void
slurm_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= ebb_now() || localtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "now");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Slurm's local "YYYY-MM-DDTHH:MM:SS" as epoch s, 0 for N/A or Unknown. */
static int64_t
parse_slurm_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) ==
	    NULL || *end != '\0')
		return 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* Slurm's time limit "[D-]HH:MM:SS" or "MM:SS" as s; 0 for UNLIMITED. */
static int64_t
parse_limit(const char *s)
{
	long d = 0, h = 0, m = 0, sec = 0;

	if (s == NULL)
		return 0;
	if (sscanf(s, "%ld-%ld:%ld:%ld", &d, &h, &m, &sec) == 4)
		return ((d * 24 + h) * 60 + m) * 60 + sec;
	if (sscanf(s, "%ld:%ld:%ld", &h, &m, &sec) == 3)
		return (h * 60 + m) * 60 + sec;
	if (sscanf(s, "%ld:%ld", &m, &sec) == 2)
		return m * 60 + sec;
	return 0;
}

static int
terminal(const char *state)
{
	static const char *const live[] = { "PENDING", "RUNNING",
	    "CONFIGURING", "COMPLETING", "SUSPENDED", "STOPPED", "RESIZING",
	    "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SIGNALING",
	    "STAGE_OUT", "RESV_DEL_HOLD", NULL };

	for (const char *const *l = live; *l; l++)
		if (strcmp(state, *l) == 0)
			return 0;
	return 1;
}

/* sbatch/scontrol messages that mean "try again later". */
static int
transient(const char *msg, int timed_out)
{
	static const char *const marks[] = { "Unable to contact slurm "
	    "controller", "Socket timed out", "temporarily unable",
	    "Zero Bytes were transmitted", "Connection refused",
	    "Communication connection failure", "Resource temporarily "
	    "unavailable", NULL };

	if (timed_out)
		return 1;
	for (const char *const *m = marks; *m; m++)
		if (strstr(msg, *m) != NULL)
			return 1;
	return 0;
}

/* The message of a failed command: its stderr, trimmed, one line. */
static void
message_of(const char *out, const char *err, int status, int timed_out,
    char *buf, size_t len)
{
	const char *m = *err ? err : out;
	size_t n;

	while (isspace((unsigned char)*m))
		m++;
	if (timed_out)
		snprintf(buf, len, "timed out after %.0f s%s%s", CMD_TIMEOUT,
		    *m ? ": " : "", m);
	else if (*m)
		snprintf(buf, len, "%s", m);
	else
		snprintf(buf, len, "exit status %d", status);
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/*---- running commands ----*/

struct call {
	struct backend	*b;
	struct subproc	*p;
	int64_t		 job_id;	/* -1: none */
	int64_t		 value;		/* what was asked (a begin time) */
	int		 truncated;	/* its output was cut at the cap */
	void		(*done)(struct call *, int, int, const char *,
			    const char *);
	struct call	*next;		/* in b->calls */
};

static void
call_unlink(struct call *c)
{
	for (struct call **p = &c->b->calls; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
}

static void
call_done(void *arg, int status, int flags, const char *out,
    const char *err)
{
	struct call *c = arg;
	int timed_out = (flags & SUBPROC_TIMED_OUT) != 0;
	struct sjob *s;

	c->truncated = (flags & SUBPROC_TRUNCATED) != 0;
	call_unlink(c);
	c->b->inflight--;
	if (c->job_id >= 0 && (s = sj_find(c->b, c->job_id)) != NULL)
		s->busy = 0;
	c->done(c, status, timed_out, out, err);
	schedule_work(c->b);
	free(c);
}

/* argv: a NULL-terminated list after the command's own path. */
static int
run(struct backend *b, int cmd, char **args, const char *input,
    const json_t *spec, struct sjob *s, int64_t value,
    void (*done)(struct call *, int, int, const char *, const char *))
{
	struct subproc_req req;
	struct call *c = xcalloc(1, sizeof(*c));
	struct priv_cred cred;
	char *argv[64], err[256];
	int n = 0;
	struct subproc *p;

	argv[n++] = b->cmd[cmd];
	if (b->cluster != NULL)
		argv[n++] = b->cluster;		/* "--clusters=NAME" */
	for (size_t i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	memset(&req, 0, sizeof(req));
	req.argv = argv;
	req.envp = b->envp;
	req.input = input;
	req.inlen = input ? strlen(input) : 0;
	req.timeout = CMD_TIMEOUT;
	req.max_out = cmd == CMD_SQUEUE ? SQUEUE_MAX : 0;
	/* What acts on one job does so as its owner, through privd. */
	if (spec != NULL) {
		if (backend_cred(spec, &cred, err, sizeof(err)) == -1) {
			log_warnx("slurm %s: %s: %s", b->site, b->cmd[cmd],
			    err);
			free(c);
			return -1;
		}
		req.cred = &cred;
		req.priv = b->priv;
	}
	c->b = b;
	c->job_id = s ? s->id : -1;
	c->value = value;
	c->done = done;
	p = subproc_run(b->loop, &req, call_done, c, err, sizeof(err));
	if (p == NULL) {
		log_warnx("slurm %s: %s: %s", b->site, b->cmd[cmd], err);
		free(c);
		return -1;
	}
	if (s != NULL)
		s->busy = 1;
	c->p = p;
	c->next = b->calls;
	b->calls = c;
	b->inflight++;
	return 0;
}

/*---- the poll ----*/

static int
row_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct row *)a)->sid, y = ((const struct row *)b)->sid;

	return x < y ? -1 : x > y;
}

static struct row *
row_find(struct backend *b, const char *ext)
{
	struct row key;
	char *end;

	if (ext == NULL || b->nrows == 0)
		return NULL;
	key.sid = strtoll(ext, &end, 10);
	if (*end != '\0')
		return NULL;
	return bsearch(&key, b->rows, b->nrows, sizeof(key), row_cmp);
}

static struct row *
row_by_tag(struct backend *b, int64_t id)
{
	struct row *best = NULL;

	/* A job resubmitted by hand may carry the tag twice: take the live
	 * one, else the newest. */
	for (size_t i = 0; i < b->nrows; i++)
		if (b->rows[i].tag == id && (best == NULL ||
		    terminal(best->state)))
			best = &b->rows[i];
	return best;
}

/* Splits squeue's output into rows; the comment is last, so may hold SEP. */
static void
parse_rows(struct backend *b, char *out)
{
	char *line, *save = NULL, prefix[64];
	size_t cap = 0;

	free(b->rows);
	b->rows = NULL;
	b->nrows = 0;
	snprintf(prefix, sizeof(prefix), "ebbd:%s:", b->instance);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		const char **f[12] = { NULL };
		struct row r;
		char *p = line, *end;
		size_t k;

		memset(&r, 0, sizeof(r));
		f[1] = &r.state; f[2] = &r.start; f[3] = &r.submit;
		f[4] = &r.user; f[5] = &r.uid; f[6] = &r.name; f[7] = &r.cpus;
		f[8] = &r.limit; f[9] = &r.workdir; f[10] = &r.partition;
		r.sid = strtoll(p, &end, 10);
		if (end == p || strncmp(end, SEP, 1) != 0)
			continue;	/* array or het jobs: not ours */
		p = end + 1;
		for (k = 1; k < 11; k++) {
			char *sep = strstr(p, SEP);

			if (sep == NULL)
				break;
			*sep = '\0';
			*f[k] = p;
			p = sep + 1;
		}
		if (k < 11)
			continue;
		r.comment = p;
		r.tag = -1;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			r.tag = strtoll(p + strlen(prefix), NULL, 10);
		if (b->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			b->rows = xrealloc(b->rows, cap * sizeof(*b->rows));
		}
		b->rows[b->nrows++] = r;
	}
	if (b->nrows > 0)
		qsort(b->rows, b->nrows, sizeof(*b->rows), row_cmp);
}

static void
emit(struct backend *b, int64_t id, json_t *ev)
{
	backend_evq_push(&b->q, id, ev);
}

static void
finish_from_result(struct backend *b, struct sjob *s, json_t *res)
{
	json_object_set_new(res, "type", json_string("finished"));
	emit(b, s->id, res);
	sj_free(b, s);
}

/* A job of ours that ended in Slurm without a result: say how. */
static json_t *
no_result(struct backend *b, struct sjob *s, const char *state)
{
	char *dir;
	json_t *ev;

	if (state != NULL && strncmp(state, "CANCELLED", 9) == 0)
		return json_pack("{s:s, s:s, s:s}", "type", "ended", "state",
		    "CANCELLED", "reason", s->cancel ? "cancelled in Slurm by "
		    "ebb" : "cancelled in Slurm (scancel)");
	dir = job_dir(b, s->id);
	ev = json_pack("{s:s}", "type", "lost");
	json_object_set_new(ev, "reason", json_sprintf("slurm job %s ended %s "
	    "without a result (see %s/slurm.out)", s->ext, state ? state :
	    "and left the queue", dir));
	free(dir);
	return ev;
}

/*
 * sacct's view of an ended job, "ID|STATE|EXIT:SIG|START|END": the outcome
 * of an adopted job, or how one of ours that left the queue without a
 * result ended. c->value 0: sacct, 1: sacct -c (the jobcomp file).
 */
static void
sacct_done(struct call *c, int status, int timed_out, const char *out,
    const char *err)
{
	struct backend *b = c->b;
	struct sjob *s = sj_find(b, c->job_id);
	char *copy, *line, *save = NULL;
	json_t *ev = NULL;

	if (s == NULL)
		return;
	copy = xstrdup(out);
	for (line = strtok_r(copy, "\n", &save); line != NULL && ev == NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char id[32], st[64], start[32], end[32];
		int code, sig;

		if (sscanf(line, "%31[^|]|%63[^|]|%d:%d|%31[^|]|%31s", id, st,
		    &code, &sig, start, end) != 6 || strcmp(id, s->ext) != 0)
			continue;
		if (!s->adopted) {
			ev = no_result(b, s, st);
			break;
		}
		ev = json_pack("{s:s, s:i, s:i, s:I, s:I, s:s, s:I, s:I, s:b, "
		    "s:s}", "type", "finished", "exit_code", code,
		    "signal", sig, "start_time",
		    (json_int_t)parse_slurm_time(start), "end_time",
		    (json_int_t)parse_slurm_time(end), "measure", "slurm",
		    "cpu_usec", (json_int_t)-1, "peak_mem", (json_int_t)-1,
		    "cancelled", strncmp(st, "CANCELLED", 9) == 0,
		    "slurm_state", st);
		if (strcmp(st, "COMPLETED") != 0 && code == 0 &&
		    strncmp(st, "CANCELLED", 9) != 0)
			json_object_set_new(ev, "error", json_sprintf("slurm "
			    "job %s ended %s", s->ext, st));
	}
	free(copy);
	if (ev == NULL && c->value == 0) {
		/* No accounting storage: read the jobcomp file (-c). */
		char *args[] = { "-c", "-n", "-P", "-j", s->ext, "-o",
		    "JobID,State,ExitCode,Start,End", NULL };

		if (run(b, CMD_SACCT, args, NULL, NULL, s, 1, sacct_done) == 0)
			return;
	}
	if (ev == NULL && !s->adopted)
		ev = no_result(b, s, NULL);
	if (ev == NULL) {
		char msg[256];

		message_of(out, err, status, timed_out, msg, sizeof(msg));
		ev = json_pack("{s:s}", "type", "lost");
		json_object_set_new(ev, "reason", json_sprintf("slurm job %s "
		    "ended; sacct cannot tell how: %s", s->ext, msg));
	}
	emit(b, s->id, ev);
	sj_free(b, s);
}

/* Asks sacct how job s ended (sacct_done takes it from there). */
static void
ask_sacct(struct backend *b, struct sjob *s)
{
	char *args[] = { "-n", "-P", "-j", s->ext, "-o",
	    "JobID,State,ExitCode,Start,End", NULL };

	if (!s->busy && run(b, CMD_SACCT, args, NULL, NULL, s, 0,
	    sacct_done) == -1)
		log_warnx("slurm %s: job %" PRId64 ": cannot run sacct",
		    b->site, s->id);
}

/* The job ended in Slurm (r: its last row, NULL if gone from squeue). */
static void
job_ended(struct backend *b, struct sjob *s, const struct row *r)
{
	char err[256];
	int fd;
	int cancelled = (r != NULL && strcmp(r->state, "CANCELLED") == 0) ||
	    s->cancel;
	json_t *res;

	s->state = SJ_ENDED;
	if (s->adopted) {
		ask_sacct(b, s);
		return;
	}
	if ((fd = job_file_open(b, s, "result.json", err, sizeof(err))) >= 0 ||
	    errno != ENOENT) {
		if (fd >= 0 && (res = fs_read_json_fd(fd, "result.json", err,
		    sizeof(err))) != NULL)
			finish_from_result(b, s, res);
		else {
			emit(b, s->id, json_pack("{s:s, s:s}", "type", "lost",
			    "reason", err));
			sj_free(b, s);
		}
		if (fd >= 0)
			close(fd);
	} else if ((s->started_sent || !cancelled) &&
	    ++s->polls <= RESULT_POLLS) {
		/* It may have run: its result may not have reached us yet. */
	} else if (r == NULL && !s->cancel) {
		ask_sacct(b, s);	/* gone from squeue: how did it end? */
	} else {
		emit(b, s->id, no_result(b, s, s->cancel ? "CANCELLED" :
		    r->state));
		sj_free(b, s);
	}
}

static void
foreign_row(struct backend *b, const struct row *r)
{
	char ext[32];
	json_t *ev;

	snprintf(ext, sizeof(ext), "%" PRId64, r->sid);
	ev = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:i, s:I, s:s, s:s}",
	    "type", "foreign", "ext_id", ext, "submit_time",
	    (json_int_t)parse_slurm_time(r->submit), "uid",
	    (json_int_t)strtoll(r->uid, NULL, 10), "user", r->user,
	    "name", r->name, "cpus", atoi(r->cpus), "time_limit",
	    (json_int_t)parse_limit(r->limit), "workdir", r->workdir,
	    "comment", r->comment);
	/* What a user typed into sbatch need not be UTF-8: say so once per
	 * poll rather than queue nothing. */
	if (ev == NULL) {
		log_warnx("slurm %s: job %s asks ebb to plan it, but its name, "
		    "user, directory or comment is not valid UTF-8: not "
		    "adopted", b->site, ext);
		return;
	}
	emit(b, 0, ev);
}

/*
 * A job we have no Slurm id for but whose tag the last poll saw: ebbd went
 * down between sbatch and recording the id. Take that id; NULL if none.
 */
static struct row *
found_by_tag(struct backend *b, struct sjob *s)
{
	struct row *r = row_by_tag(b, s->id);

	if (r == NULL)
		return NULL;
	s->ext = xasprintf("%" PRId64, r->sid);
	s->begin = parse_slurm_time(r->start);
	s->state = SJ_QUEUED;
	emit(b, s->id, json_pack("{s:s, s:s}", "type", "handed", "ext_id",
	    s->ext));
	log_info("slurm %s: job %" PRId64 " found in Slurm as %s by its tag",
	    b->site, s->id, s->ext);
	return r;
}

static void poll_start(struct backend *);
static void scancel_done(struct call *, int, int, const char *,
    const char *);

static void
poll_done(struct call *c, int status, int timed_out, const char *out,
    const char *err)
{
	struct backend *b = c->b;
	unsigned gen = (unsigned)c->value;
	struct sjob *s, *next;

	b->polling = 0;
	if (status != 0 || timed_out || c->truncated) {
		char msg[256];

		/* A cut list would make jobs seem gone: not acted on. */
		if (c->truncated)
			snprintf(msg, sizeof(msg), "its output is longer than "
			    "%d MiB", SQUEUE_MAX >> 20);
		else
			message_of(out, err, status, timed_out, msg,
			    sizeof(msg));
		if (!b->poll_failing) {
			log_warnx("slurm %s: squeue: %s; retrying every %.0f s",
			    b->site, msg, b->poll_s);
			b->poll_since = ebb_now();
		}
		b->poll_failing = 1;
		snprintf(b->poll_error, sizeof(b->poll_error), "squeue: %s",
		    msg);
		return;
	}
	if (b->poll_failing)
		log_info("slurm %s: squeue answers again", b->site);
	if (b->poll_failing || b->gen_done == 0)
		b->poll_since = ebb_now();
	b->poll_failing = 0;
	free(b->rows_buf);
	b->rows_buf = xstrdup(out);
	parse_rows(b, b->rows_buf);
	b->gen_done = gen;
	for (s = b->jobs; s != NULL; s = next) {
		struct row *r;

		next = s->next;
		if (s->busy)
			continue;
		r = s->ext ? row_find(b, s->ext) : NULL;
		if (s->ext == NULL && !s->adopted)
			r = found_by_tag(b, s);
		if (s->ext == NULL)
			continue;
		if (r == NULL) {
			if (gen > s->handed_gen)	/* not just submitted */
				job_ended(b, s, NULL);
			continue;
		}
		/* Still there a while after scancel: send it again. */
		if (s->cancel && !terminal(r->state) && ++s->cancel_polls >
		    CANCEL_POLLS)
			s->cancel_polls = 0;
		if (strcmp(r->state, "PENDING") == 0) {
			if (s->begin < 0)
				s->begin = parse_slurm_time(r->start);
			s->state = SJ_QUEUED;
		} else if (!terminal(r->state)) {
			s->state = SJ_RUNNING;
			if (!s->started_sent) {
				int64_t t = parse_slurm_time(r->start);

				s->started_sent = 1;
				emit(b, s->id, json_pack("{s:s, s:i, s:I}",
				    "type", "started", "pid", 0, "start_time",
				    (json_int_t)(t ? t : ebb_now())));
			}
		} else
			job_ended(b, s, r);
	}
	/* Tagged jobs nobody placed, and sbatch jobs asking for ebb. */
	for (size_t i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];
		char ext[32];

		if (terminal(r->state))
			continue;
		snprintf(ext, sizeof(ext), "%" PRId64, r->sid);
		if (r->tag >= 0) {
			s = sj_find(b, r->tag);
			if (s == NULL)
				emit(b, r->tag, json_pack("{s:s, s:s}", "type",
				    "stray", "ext_id", ext));
			else if (s->ext != NULL && strcmp(s->ext, ext) != 0) {
				char *args[] = { ext, NULL };

				log_warnx("slurm %s: job %" PRId64 " is in Slurm "
				    "twice (%s, %s): cancelling %s", b->site,
				    s->id, s->ext, ext, ext);
				run(b, CMD_SCANCEL, args, NULL, s->spec, NULL,
				    0, scancel_done);
			}
		} else if (b->adopt && strcmp(r->state, "PENDING") == 0 &&
		    strncmp(r->comment, "ebb:", 4) == 0 && (b->partition ==
		    NULL || strcmp(b->partition, r->partition) == 0)) {
			int known = 0;

			for (s = b->jobs; s != NULL && !known; s = s->next)
				known = s->ext != NULL && strcmp(s->ext,
				    ext) == 0;
			if (!known)
				foreign_row(b, r);
		}
	}
}

static void
poll_start(struct backend *b)
{
	char *args[] = { "-h", "-t", "all", "-o", "%i" SEP "%T" SEP "%S" SEP
	    "%V" SEP "%u" SEP "%U" SEP "%j" SEP "%C" SEP "%l" SEP "%Z" SEP "%P"
	    SEP "%k",
	    NULL };
	if (b->polling || b->inflight >= MAX_INFLIGHT * 2)
		return;
	b->gen_started++;
	if (run(b, CMD_SQUEUE, args, NULL, NULL, NULL, b->gen_started,
	    poll_done) == 0)
		b->polling = 1;
}

static void
poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct backend *b = t->data;

	if (b->jobs != NULL || b->adopt || b->gen_done == 0)
		poll_start(b);
}

/*---- handing jobs over ----*/

static void
sbatch_done(struct call *c, int status, int timed_out, const char *out,
    const char *err)
{
	struct backend *b = c->b;
	struct sjob *s = sj_find(b, c->job_id);
	char msg[512];
	long long sid;
	char *end;

	if (s == NULL)
		return;
	sid = strtoll(out, &end, 10);
	if (status == 0 && !timed_out && end != out && sid > 0) {
		s->ext = xasprintf("%lld", sid);
		s->state = SJ_QUEUED;
		s->begin = c->value;
		s->fails = 0;
		s->handed_gen = b->gen_started;
		emit(b, s->id, json_pack("{s:s, s:s}", "type", "handed",
		    "ext_id", s->ext));
		return;
	}
	message_of(out, err, status, timed_out, msg, sizeof(msg));
	if (!transient(msg, timed_out) && status > 0) {
		emit(b, s->id, json_pack("{s:s, s:s}", "type", "rejected",
		    "reason", msg));
		sj_free(b, s);
		return;
	}
	/* Maybe it got in anyway: only a newer poll may say it did not. */
	s->fails++;
	s->fail_gen = b->gen_started;
	s->retry_at = ev_now(b->loop) + ebb_backoff(s->fails, 1.0,
	    BACKOFF_MAX);
	log_warnx("slurm %s: job %" PRId64 ": sbatch: %s; retry %d in %.0f s",
	    b->site, s->id, msg, s->fails, s->retry_at - ev_now(b->loop));
}

/* The fixed batch script: ebb-run reads the job from its directory. */
static char *
batch_script(const struct backend *b, const char *dir)
{
	return xasprintf("#!/bin/sh\n# ebb: the job's command is in %s/spec."
	    "json\nexec '%s' '%s'\n", dir, b->runner, dir);
}

/*
 * The job's directory on the shared filesystem, owned by its user, with
 * its spec.json: made and written as the user by the privileged process.
 */
static int
prepare_dir(struct backend *b, struct sjob *s, char *err, size_t errlen)
{
	json_t *spec = json_deep_copy(s->spec);
	struct priv_cred c;
	char *text;
	int rc = -1;

	json_object_del(spec, "cgroup");	/* Slurm owns the job's cgroup */
	json_object_del(spec, "ext_id");
	json_object_del(spec, "adopted");
	json_object_del(spec, "running");
	if (b->energy != NULL)
		json_object_set(spec, "energy", b->energy);
	json_object_set_new(spec, "exit_as_job", json_true());
	json_object_set_new(spec, "pass_env", json_pack("[s, s, s]", "SLURM_",
	    "CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL"));
	text = json_dumps(spec, JSON_INDENT(2));
	if (backend_cred(s->spec, &c, err, errlen) == 0)
		rc = priv_uwrite(b->priv, s->id, &c, b->dir, "spec.json", text,
		    strlen(text), err, errlen);
	free(text);
	json_decref(spec);
	return rc;
}

static void
sbatch(struct backend *b, struct sjob *s)
{
	const json_t *sp = s->spec;
	char *dir = job_dir(b, s->id), *script, *args[64], when[32], err[512];
	const char *name = json_string_value(json_object_get(sp, "name"));
	int64_t mem = json_integer_value(json_object_get(sp, "mem"));
	int n = 0, nfree;

	err[0] = '\0';
	if (prepare_dir(b, s, err, sizeof(err)) == -1) {
		emit(b, s->id, json_pack("{s:s, s:s}", "type", "rejected",
		    "reason", err));
		sj_free(b, s);
		free(dir);
		return;
	}
	slurm_time(s->want, when, sizeof(when));
	args[n++] = xstrdup("--parsable");
	args[n++] = xasprintf("--job-name=%s", name && *name ? name : "ebb");
	args[n++] = xasprintf("--comment=ebbd:%s:%" PRId64, b->instance,
	    s->id);
	args[n++] = xasprintf("--begin=%s", when);
	args[n++] = xstrdup("--ntasks=1");
	args[n++] = xasprintf("--cpus-per-task=%d", (int)json_integer_value(
	    json_object_get(sp, "cpus")));
	if (json_integer_value(json_object_get(sp, "gpus")) > 0)
		args[n++] = xasprintf("--gpus=%d", (int)json_integer_value(
		    json_object_get(sp, "gpus")));
	if (mem > 0)
		args[n++] = xasprintf("--mem=%" PRId64 "M", (mem + (1 << 20) -
		    1) >> 20);
	args[n++] = xasprintf("--chdir=%s", json_string_value(
	    json_object_get(sp, "workdir")));
	args[n++] = xasprintf("--output=%s/slurm.out", dir);
	args[n++] = xstrdup("--export=NONE");
	if (b->partition)
		args[n++] = xasprintf("--partition=%s", b->partition);
	if (b->account)
		args[n++] = xasprintf("--account=%s", b->account);
	nfree = n;
	for (size_t i = 0; i < b->noptions && n < 62; i++)
		args[n++] = b->options[i];
	args[n] = NULL;
	script = batch_script(b, dir);
	if (run(b, CMD_SBATCH, args, script, sp, s, s->want,
	    sbatch_done) == -1) {
		s->fails++;
		s->retry_at = ev_now(b->loop) + ebb_backoff(s->fails, 1.0,
		    BACKOFF_MAX);
	}
	free(script);
	for (int i = 0; i < nfree; i++)
		free(args[i]);
	free(dir);
}

static void
update_done(struct call *c, int status, int timed_out, const char *out,
    const char *err)
{
	struct sjob *s = sj_find(c->b, c->job_id);
	char msg[512];

	if (s == NULL)
		return;
	if (status == 0 && !timed_out) {
		s->begin = c->value;
		return;
	}
	message_of(out, err, status, timed_out, msg, sizeof(msg));
	/* Started or ended meanwhile: the poll will tell. */
	if (strstr(msg, "no longer pending") != NULL || strstr(msg,
	    "already finished") != NULL)
		s->begin = c->value;
	else
		log_warnx("slurm %s: job %" PRId64 " (%s): move begin time: %s",
		    c->b->site, s->id, s->ext, msg);
}

static void
move_begin(struct backend *b, struct sjob *s)
{
	char when[32], *args[4];

	slurm_time(s->want, when, sizeof(when));
	args[0] = "update";
	args[1] = xasprintf("JobId=%s", s->ext);
	args[2] = xasprintf("StartTime=%s", when);
	args[3] = NULL;
	run(b, CMD_SCONTROL, args, NULL, s->spec, s, s->want, update_done);
	free(args[1]);
	free(args[2]);
}

static void
scancel_done(struct call *c, int status, int timed_out, const char *out,
    const char *err)
{
	/* scancel's exit status says nothing: the poll checks the state. */
}

static void
scancel(struct backend *b, struct sjob *s)
{
	char *args[] = { s->ext, NULL };

	run(b, CMD_SCANCEL, args, NULL, s->spec, s, 0, scancel_done);
}

/* Starts what each job needs, as far as MAX_INFLIGHT allows. */
static void
work_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct backend *b = t->data;
	double now = ev_now(loop), next = 0;
	struct sjob *s, *nx;

	for (s = b->jobs; s != NULL && b->inflight < MAX_INFLIGHT; s = nx) {
		nx = s->next;
		if (s->busy || s->state == SJ_ENDED)
			continue;
		if (s->cancel) {
			if (s->ext == NULL && s->state == SJ_NEW &&
			    b->gen_done > s->fail_gen)
				sj_free(b, s);	/* never got there */
			else if (s->ext != NULL && s->cancel_polls == 0) {
				scancel(b, s);
				s->cancel_polls = 1;
			}
			continue;
		}
		if (s->state == SJ_NEW && s->ext == NULL && !s->adopted) {
			if (b->gen_done == 0 || b->gen_done <= s->fail_gen)
				continue;	/* wait for a poll */
			if (s->retry_at > now) {
				if (next == 0 || s->retry_at < next)
					next = s->retry_at;
				continue;
			}
			if (found_by_tag(b, s) == NULL)
				sbatch(b, s);
		} else if (s->state == SJ_QUEUED && s->ext != NULL &&
		    s->begin >= 0 && s->want != s->begin && (s->want > ebb_now() ||
		    s->begin > ebb_now())) {
			move_begin(b, s);
		}
	}
	if (next > 0) {
		ev_timer_set(&b->work, next - now, 0);
		ev_timer_start(loop, &b->work);
	}
}

static void
schedule_work(struct backend *b)
{
	ev_timer_stop(b->loop, &b->work);
	ev_timer_set(&b->work, 0, 0);
	ev_timer_start(b->loop, &b->work);
}

/*---- the ops ----*/

/*
 * The whole environment of every Slurm command: nothing of ebbd's own
 * (its provider tokens), only what the commands need.
 */
static char **
make_env(const struct ebb_slurm *sl)
{
	char **env = xcalloc(4, sizeof(*env));
	size_t k = 0;

	env[k++] = xasprintf("PATH=%s%s" JOB_DEFAULT_PATH,
	    sl->bin_dir ? sl->bin_dir : "", sl->bin_dir ? ":" : "");
	if (sl->conf != NULL)
		env[k++] = xasprintf("SLURM_CONF=%s", sl->conf);
	else if (getenv("SLURM_CONF") != NULL)
		env[k++] = xasprintf("SLURM_CONF=%s", getenv("SLURM_CONF"));
	return env;
}

static void
slurm_close(struct backend *b)
{
	if (b == NULL)
		return;
	ev_timer_stop(b->loop, &b->poll);
	ev_timer_stop(b->loop, &b->work);
	backend_evq_clear(&b->q);
	while (b->calls != NULL) {
		struct call *c = b->calls;

		b->calls = c->next;
		subproc_abandon(c->p);
		free(c);
	}
	while (b->jobs != NULL)
		sj_free(b, b->jobs);
	for (int i = 0; i < CMD_N; i++)
		free(b->cmd[i]);
	for (char **e = b->envp; e && *e; e++)
		free(*e);
	free(b->envp);
	for (size_t i = 0; i < b->noptions; i++)
		free(b->options[i]);
	free(b->options);
	free(b->site);
	free(b->instance);
	free(b->runner);
	free(b->dir);
	free(b->partition);
	free(b->account);
	free(b->cluster);
	json_decref(b->energy);
	free(b->rows);
	free(b->rows_buf);
	free(b);
}

static struct backend *
slurm_open(struct ev_loop *loop, const struct backend_conf *conf,
    backend_event_cb cb, void *cbarg, char *err, size_t errlen)
{
	static const char *const names[CMD_N] = { "sbatch", "squeue",
	    "scontrol", "scancel", "sacct" };
	const struct ebb_slurm *sl = conf->slurm;
	struct backend *b;

	if (sl == NULL || conf->site == NULL) {
		snprintf(err, errlen, "slurm: no site settings");
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	b->loop = loop;
	backend_evq_init(&b->q, loop, cb, cbarg);
	b->site = xstrdup(conf->site);
	b->instance = xstrdup(conf->instance);
	b->runner = xstrdup(conf->runner_path);
	b->dir = config_slurm_dir(conf->state_dir, conf->site, sl);
	b->partition = sl->partition ? xstrdup(sl->partition) : NULL;
	b->account = sl->account ? xstrdup(sl->account) : NULL;
	b->cluster = sl->cluster ? xasprintf("--clusters=%s", sl->cluster) :
	    NULL;
	b->noptions = sl->sbatch_options.n;
	b->options = xcalloc(b->noptions + 1, sizeof(char *));
	for (size_t i = 0; i < b->noptions; i++)
		b->options[i] = xstrdup(sl->sbatch_options.v[i]);
	b->adopt = sl->adopt;
	b->poll_s = (double)sl->poll;
	b->energy = conf->energy ? json_deep_copy(conf->energy) : NULL;
	b->envp = make_env(sl);
	b->priv = conf->priv;
	if (strchr(b->runner, '\'') != NULL || strchr(b->dir, '\'') != NULL) {
		snprintf(err, errlen, "slurm %s: ebb-run's path and shared_dir "
		    "must not contain a quote", b->site);
		slurm_close(b);
		return NULL;
	}
	for (int i = 0; i < CMD_N; i++) {
		if ((b->cmd[i] = config_slurm_command(sl, names[i])) == NULL) {
			snprintf(err, errlen, "slurm %s: %s not found in %s",
			    b->site, names[i], sl->bin_dir ? sl->bin_dir :
			    "$PATH");
			slurm_close(b);
			return NULL;
		}
	}
	if (fs_mkdir_p(b->dir, 0755, err, errlen) == -1) {
		slurm_close(b);
		return NULL;
	}
	ev_timer_init(&b->poll, poll_cb, 0., b->poll_s);
	b->poll.data = b;
	ev_timer_start(loop, &b->poll);
	ev_timer_init(&b->work, work_cb, 0., 0.);
	b->work.data = b;
	return b;
}

static int
slurm_place(struct backend *b, const json_t *spec, int64_t start, char *err,
    size_t errlen)
{
	json_t *id_j = json_object_get(spec, "job_id");
	const char *ext = json_string_value(json_object_get(spec, "ext_id"));
	struct sjob *s;
	int64_t id;

	if (!json_is_integer(id_j) || (id = json_integer_value(id_j)) < 0) {
		snprintf(err, errlen, "spec: job_id must be an integer >= 0");
		return -1;
	}
	if ((s = sj_find(b, id)) == NULL) {
		s = sj_new(b, id);
		s->adopted = json_is_true(json_object_get(spec, "adopted"));
		s->begin = -1;		/* unknown until a poll */
		if (ext != NULL) {
			s->ext = xstrdup(ext);
			s->state = SJ_QUEUED;
		}
		if (json_is_true(json_object_get(spec, "running"))) {
			s->state = SJ_RUNNING;
			s->started_sent = 1;
		}
		s->handed_gen = b->gen_started;
	} else if (s->cancel) {
		snprintf(err, errlen, "job %" PRId64 " is being cancelled", id);
		return -1;
	}
	if (s->adopted && s->ext == NULL) {
		snprintf(err, errlen, "adopted job %" PRId64 " has no Slurm id",
		    id);
		sj_free(b, s);
		return -1;
	}
	json_decref(s->spec);
	s->spec = json_deep_copy(spec);
	s->want = start;
	schedule_work(b);
	return 0;
}

static int
slurm_cancel(struct backend *b, int64_t id, char *err, size_t errlen)
{
	struct sjob *s = sj_find(b, id);

	if (s == NULL) {
		struct row *r = row_by_tag(b, id);

		if (r == NULL || terminal(r->state))
			return 0;	/* nothing of it in Slurm */
		s = sj_new(b, id);
		s->ext = xasprintf("%" PRId64, r->sid);
		s->state = strcmp(r->state, "PENDING") == 0 ? SJ_QUEUED :
		    SJ_RUNNING;
		s->started_sent = s->state == SJ_RUNNING;
		s->handed_gen = b->gen_started;
	}
	s->cancel = 1;
	s->cancel_polls = 0;
	schedule_work(b);
	return 0;
}

static json_t *
slurm_status(struct backend *b)
{
	size_t n = 0;

	for (struct sjob *s = b->jobs; s != NULL; s = s->next)
		n++;
	return json_pack("{s:s, s:I, s:s?, s:I}", "state", b->poll_failing ?
	    "failing" : b->gen_done == 0 ? "starting" : "ok", "since",
	    (json_int_t)b->poll_since, "error", b->poll_failing ?
	    b->poll_error : NULL, "jobs", (json_int_t)n);
}

static int
slurm_open_log(struct backend *b, const json_t *spec, const char *stream,
    char *err, size_t errlen)
{
	struct priv_cred c;

	if (backend_cred(spec, &c, err, errlen) == -1) {
		errno = EINVAL;
		return -1;
	}
	return priv_uopen(b->priv, json_integer_value(json_object_get(spec,
	    "job_id")), &c, b->dir, stream, err, errlen);
}

const struct backend_ops backend_slurm_ops = {
	.name = "slurm",
	.title = "Slurm",
	.foreign = { "sbatch", "(a Slurm batch script)", "slurm-time-limit" },
	.per_site = 1,
	.open = slurm_open,
	.close = slurm_close,
	.cancel = slurm_cancel,
	.open_log = slurm_open_log,
	.place = slurm_place,
	.status = slurm_status,
};
