/*
 * priv: the worker's client of the privileged process (priv.h).
 *
 * Requests are numbered (seq); a waiting call reads messages until its
 * reply comes and keeps the others (job events, ends of commands) in a
 * list that a zero-delay timer hands out from the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "runner/priv.h"
#include "runner/privd.h"

#define CALL_TIMEOUT_MS	30000	/* the other side bounds its work to 10 s */
#define SEND_TIMEOUT_S	30

/* A message kept for the loop. */
struct held {
	enum priv_type	 type;
	uint32_t	 seq;
	int64_t		 id, what, pid, start_time, status, flags;
	char		*text;
	int		 fd;
	struct held	*next;
};

struct priv_run {
	struct priv	*p;
	uint32_t	 seq;
	priv_exit_cb	 cb;
	void		*arg;
	struct priv_run	*next;
};

struct priv {
	struct ev_loop	*loop;
	int		 fd;
	struct privd	*inproc;
	ev_io		 io;
	ev_timer	 deliver;
	uint32_t	 seq;
	struct held	*held, **tail;
	struct priv_run	*runs;
	priv_jobev_cb	 jobev;
	void		*jobev_arg;
	void		(*on_gone)(void *);
	void		*arg;
	int		 gone;
};

static void
lost(struct priv *p, const char *why)
{
	if (p->gone)
		return;
	p->gone = 1;
	log_warnx("privileged process: %s", why);
	ev_io_stop(p->loop, &p->io);
	if (p->on_gone != NULL)
		p->on_gone(p->arg);
}

static void
hold(struct priv *p, const struct privmsg *pm)
{
	struct held *h = xcalloc(1, sizeof(*h));

	h->type = pm->type;
	h->seq = pm->seq;
	h->id = pm->id;
	h->what = pm->what;
	h->pid = pm->pid;
	h->start_time = pm->start_time;
	h->status = pm->status;
	h->flags = pm->flags;
	h->text = pm->text != NULL ? xstrdup(pm->text) : NULL;
	h->fd = pm->fd[0];
	*p->tail = h;
	p->tail = &h->next;
	ev_timer_start(p->loop, &p->deliver);
}

static struct priv_run **
run_find(struct priv *p, uint32_t seq)
{
	struct priv_run **rp;

	for (rp = &p->runs; *rp != NULL; rp = &(*rp)->next)
		if ((*rp)->seq == seq)
			break;
	return rp;
}

static void
deliver_one(struct priv *p, struct held *h)
{
	struct priv_run **rp, *r;

	if (h->type == PRIV_JOBEV) {
		if (p->jobev != NULL) {
			p->jobev(p->jobev_arg, h->id, (enum priv_ev)h->what,
			    h->pid, h->start_time, h->text, h->fd);
			h->fd = -1;
		}
		return;
	}
	if ((h->type != PRIV_EXIT && h->type != PRIV_ERR) ||
	    *(rp = run_find(p, h->seq)) == NULL)
		return;		/* abandoned, or a late reply to a call */
	r = *rp;
	*rp = r->next;
	if (h->type == PRIV_EXIT)
		r->cb(r->arg, (int)h->status, (int)h->flags, NULL);
	else
		r->cb(r->arg, -1, 0, h->text ? h->text : "failed");
	free(r);
}

static void
deliver_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct priv *p = t->data;
	struct held *h;

	while ((h = p->held) != NULL) {
		if ((p->held = h->next) == NULL)
			p->tail = &p->held;
		deliver_one(p, h);
		if (h->fd >= 0)
			close(h->fd);
		free(h->text);
		free(h);
	}
}

/*
 * Reads what is waiting. With want != 0, the reply numbered want is
 * returned in *reply (1) instead of being held; 0: nothing more now;
 * -1: the channel is lost.
 */
static int
drain(struct priv *p, uint32_t want, struct pmsg *raw, struct privmsg *reply)
{
	struct pmsg m;
	struct privmsg pm;
	char err[256];
	int rc;

	for (;;) {
		if ((rc = privmsg_recv(p->fd, &m, &pm, err, sizeof(err))) != 0) {
			privmsg_release(&pm);
			pmsg_free(&m);
			if (rc == -1) {
				lost(p, err);
				return -1;
			}
			return 0;
		}
		if (pm.type < PRIV_OK) {
			privmsg_release(&pm);
			pmsg_free(&m);
			lost(p, "sent a request");
			return -1;
		}
		if (want != 0 && pm.seq == want && pm.type != PRIV_JOBEV &&
		    pm.type != PRIV_EXIT) {
			*raw = m;
			*reply = pm;
			return 1;
		}
		hold(p, &pm);
		pm.fd[0] = -1;		/* held */
		privmsg_release(&pm);
		pmsg_free(&m);
	}
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	drain(w->data, 0, NULL, NULL);
}

static int
send_req(struct priv *p, struct privmsg *pm, char *err, size_t errlen)
{
	if (p->gone) {
		snprintf(err, errlen, "the privileged process is gone");
		errno = EPIPE;
		return -1;
	}
	if (++p->seq == 0)
		p->seq = 1;
	pm->seq = p->seq;
	errno = 0;
	if (privmsg_send(p->fd, pm, err, errlen) == -1) {
		/*
		 * A start that does not encode is the caller's; a channel
		 * the other end closed is not, whatever was sent: the
		 * privileged process is gone (killed), and the caller must
		 * know it now, not when the loop next reads the socket (a
		 * launch sent into it would be recorded as failed).
		 */
		if (pm->type != PRIV_START || errno == EPIPE ||
		    errno == ECONNRESET || errno == ENOTCONN)
			lost(p, err);
		errno = EIO;
		return -1;
	}
	if (p->inproc != NULL)
		privd_poll(p->inproc);
	return 0;
}

/*
 * Sends pm and waits for its reply: 0 with *fd (FD) or -1 (OK); -1 with
 * errno and err set (ERR, or no answer).
 */
static int
call(struct priv *p, struct privmsg *pm, int *fd, char *err, size_t errlen)
{
	struct pmsg raw;
	struct privmsg rep;
	int64_t end = ebb_mono_ns() + (int64_t)CALL_TIMEOUT_MS * 1000000;
	int rc, e;

	*fd = -1;
	if (send_req(p, pm, err, errlen) == -1)
		return -1;
	for (;;) {
		struct pollfd pf = { p->fd, POLLIN, 0 };
		int64_t left = (end - ebb_mono_ns()) / 1000000;

		if ((rc = drain(p, pm->seq, &raw, &rep)) != 0)
			break;
		if (left <= 0) {
			lost(p, "no answer in time");
			rc = -1;
			break;
		}
		if (poll(&pf, 1, (int)left) == -1 && errno != EINTR) {
			lost(p, strerror(errno));
			rc = -1;
			break;
		}
	}
	if (rc == -1) {
		snprintf(err, errlen, "the privileged process is gone");
		errno = EIO;
		return -1;
	}
	rc = 0;
	if (rep.type == PRIV_FD) {
		*fd = rep.fd[0];
		rep.fd[0] = -1;
	} else if (rep.type == PRIV_ERR) {
		e = rep.status > 0 ? (int)rep.status : EIO;
		snprintf(err, errlen, "%s", rep.text);
		rc = -1;
		errno = e;
	}
	e = errno;
	privmsg_release(&rep);
	pmsg_free(&raw);
	errno = e;
	return rc;
}

struct priv *
priv_open(struct ev_loop *loop, int fd, struct privd *inproc,
    void (*on_gone)(void *), void *arg)
{
	struct priv *p = xcalloc(1, sizeof(*p));
	struct timeval tv = { SEND_TIMEOUT_S, 0 };

	p->loop = loop;
	p->fd = fd;
	p->inproc = inproc;
	p->on_gone = on_gone;
	p->arg = arg;
	p->tail = &p->held;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ev_io_init(&p->io, io_cb, fd, EV_READ);
	p->io.data = p;
	ev_io_start(loop, &p->io);
	ev_timer_init(&p->deliver, deliver_cb, 0., 0.);
	p->deliver.data = p;
	return p;
}

void
priv_close(struct priv *p)
{
	struct held *h, *hn;
	struct priv_run *r, *rn;

	if (p == NULL)
		return;
	ev_io_stop(p->loop, &p->io);
	ev_timer_stop(p->loop, &p->deliver);
	for (h = p->held; h != NULL; h = hn) {
		hn = h->next;
		if (h->fd >= 0)
			close(h->fd);
		free(h->text);
		free(h);
	}
	for (r = p->runs; r != NULL; r = rn) {
		rn = r->next;
		free(r);
	}
	close(p->fd);
	free(p);
}

void
priv_on_jobev(struct priv *p, priv_jobev_cb cb, void *arg)
{
	p->jobev = cb;
	p->jobev_arg = arg;
}

/* A sealed memfd holding data (for START and UWRITE); -1 with err. */
static int
memfd_of(const char *data, size_t len, char *err, size_t errlen)
{
	int fd = memfd_create("ebb-spec", MFD_CLOEXEC);

	if (fd == -1 || fs_write_all(fd, data, len) == -1) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A request of type t about job id (0: none), as c (NULL: no one). */
static void
req(struct privmsg *pm, enum priv_type t, int64_t id,
    const struct priv_cred *c)
{
	privmsg_clear(pm);
	pm->type = t;
	pm->id = id;
	if (c != NULL)
		pm->cred = *c;
}

int
priv_start(struct priv *p, int64_t id, const struct priv_cred *c,
    int64_t mem, int64_t grace, int64_t outmax, const char *spec,
    size_t speclen, char *err, size_t errlen)
{
	struct privmsg pm;
	int rc;

	req(&pm, PRIV_START, id, c);
	pm.mem = mem;
	pm.kill_grace = grace;
	pm.output_limit = outmax;
	if ((pm.fd[0] = memfd_of(spec, speclen, err, errlen)) == -1)
		return -1;
	rc = send_req(p, &pm, err, errlen);
	close(pm.fd[0]);
	return rc;
}

int
priv_adopt(struct priv *p, int64_t id, char *err, size_t errlen)
{
	struct privmsg pm;

	req(&pm, PRIV_ADOPT, id, NULL);
	return send_req(p, &pm, err, errlen);
}

int
priv_signal(struct priv *p, int64_t id, int what, char *err, size_t errlen)
{
	struct privmsg pm;

	req(&pm, PRIV_SIGNAL, id, NULL);
	pm.what = what;
	return send_req(p, &pm, err, errlen);
}

int
priv_open_output(struct priv *p, int64_t id, const char *stream, char *err,
    size_t errlen)
{
	struct privmsg pm;
	int fd;

	req(&pm, PRIV_OPEN, id, NULL);
	pm.stream = stream;
	return call(p, &pm, &fd, err, errlen) == -1 ? -1 : fd;
}

int
priv_uopen(struct priv *p, int64_t id, const struct priv_cred *c,
    const char *dir, const char *name, char *err, size_t errlen)
{
	struct privmsg pm;
	int fd;

	req(&pm, PRIV_UOPEN, id, c);
	pm.dir = dir;
	pm.name = name;
	return call(p, &pm, &fd, err, errlen) == -1 ? -1 : fd;
}

int
priv_uwrite(struct priv *p, int64_t id, const struct priv_cred *c,
    const char *dir, const char *name, const char *data, size_t len,
    char *err, size_t errlen)
{
	struct privmsg pm;
	int fd, rc, e;

	req(&pm, PRIV_UWRITE, id, c);
	pm.dir = dir;
	pm.name = name;
	if ((pm.fd[0] = memfd_of(data, len, err, errlen)) == -1)
		return -1;
	rc = call(p, &pm, &fd, err, errlen);
	e = errno;
	close(pm.fd[0]);
	errno = e;
	return rc;
}

struct priv_run *
priv_run(struct priv *p, const struct priv_cred *c, int64_t timeout_ms,
    char *const *argv, char *const *env, int in, int out, int er,
    priv_exit_cb cb, void *arg, char *err, size_t errlen)
{
	struct privmsg pm;
	struct priv_run *r;
	int nul = -1;

	req(&pm, PRIV_RUN, 0, c);
	pm.timeout_ms = timeout_ms;
	pm.argv = (const char **)argv;
	pm.env = (const char **)env;
	if (in < 0 && (in = nul = open("/dev/null", O_RDONLY |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return NULL;
	}
	pm.fd[0] = in;
	pm.fd[1] = out;
	pm.fd[2] = er;
	r = xcalloc(1, sizeof(*r));
	r->p = p;
	r->cb = cb;
	r->arg = arg;
	/* Registered first: an in-process server may answer at once. */
	r->seq = p->seq + 1 == 0 ? 1 : p->seq + 1;
	r->next = p->runs;
	p->runs = r;
	if (send_req(p, &pm, err, errlen) == -1) {
		p->runs = r->next;
		free(r);
		r = NULL;
	}
	pm.argv = pm.env = NULL;
	if (nul >= 0)
		close(nul);
	return r;
}

void
priv_run_abandon(struct priv_run *r)
{
	struct priv *p = r->p;
	struct priv_run **rp = run_find(p, r->seq);
	struct privmsg pm;
	char err[128];

	if (*rp == r)
		*rp = r->next;
	req(&pm, PRIV_RUNKILL, r->seq, NULL);
	send_req(p, &pm, err, sizeof(err));
	free(r);
}
