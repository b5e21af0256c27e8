/*
 * control: socket server for the control protocol (docs/protocol.md).
 * Framing and JSON are in common/proto.c; commands in cmd*.c. This file
 * only moves bytes, checks sizes, knows who is on the other end, and
 * keeps each peer within the limits of ebb.yaml's control: block, so that
 * no local user can starve the others: connections per uid and in all,
 * idle and partial-frame timeouts, unsent reply bytes, and a turn of a few
 * requests (or milliseconds) per connection per loop iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "common/proto.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "scheduler/control.h"
#include "scheduler/daemon.h"

#define READ_CHUNK	65536
#define TURN_FRAMES	8	/* requests one connection runs per turn, */
#define TURN_TIME	0.005	/* or fewer once they took this long (s) */
#define ROOT_RESERVE	16	/* connections only root may take */
#define FD_RESERVE	256	/* fds kept for the store, jobs and HTTP */
#define REPLY_MAX	(EBB_PROTO_HDR + (size_t)EBB_PROTO_MAX_FRAME)

struct conn {
	ev_io		 rio, wio;
	ev_timer	 timer;		/* idle and partial-frame timeouts */
	int		 fd;
	struct peer	 peer;
	unsigned char	*rbuf;
	size_t		 rlen, rcap;
	unsigned char	*wbuf;
	size_t		 woff, wsafe, wlen, wcap;	/* sent <= may go <= held */
	ev_tstamp	 active;	/* last request or bytes sent */
	ev_tstamp	 frame_start;	/* first byte of a partial frame, or 0 */
	int		 ready;		/* holds a whole request not yet run */
	int		 closing;	/* close once wbuf is sent */
	struct control	*c;
	struct conn	*prev, *next;
};

/*
 * Requests a connection holds beyond its turn wait for the check watcher,
 * which gives each such connection another turn every loop iteration; the
 * idle watcher only keeps the loop from sleeping meanwhile.
 */
struct control {
	struct ebbd	*d;
	ev_io		 accept_io;
	ev_check	 turns;
	ev_idle		 awake;
	int		 fd;
	int		 spare;		/* freed to refuse a peer at EMFILE */
	size_t		 fd_room;	/* connections the fd limit allows */
	char		*path;
	struct conn	*conns;
	size_t		 nconns, nready;
	ev_tstamp	 refused_at;	/* refusals are logged once a second */
	size_t		 refused_quiet;	/* refused since, not logged */
};

static void conn_close(struct conn *);
static int conn_write(struct conn *);

/* Supplementary groups from SO_PEERGROUPS, sized by retrying on ERANGE. */
static void
peer_groups(int fd, struct peer *p)
{
	socklen_t len = 16 * sizeof(gid_t), want;
	gid_t *g = NULL;

	p->groups = NULL;
	p->ngroups = -1;
	for (;;) {
		g = xrealloc(g, len);
		want = len;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &want) == 0)
			break;
		if (errno != ERANGE || want <= len ||
		    want > NGROUPS_MAX * sizeof(gid_t)) {
			free(g);
			return;
		}
		len = want;
	}
	p->ngroups = (int)(want / sizeof(gid_t));
	p->groups = g;
}

/* Fills p from the peer's credentials cr (SO_PEERCRED) and its groups. */
static void
peer_identify(struct control *c, int fd, const struct ucred *cr,
    struct peer *p)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	memset(p, 0, sizeof(*p));
	peer_groups(fd, p);
	p->uid = cr->uid;
	p->gid = cr->gid;
	p->pid = cr->pid;
	if (cr->uid == (uid_t)-1)
		return;
	if (getpwuid_r(cr->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		snprintf(p->user, sizeof(p->user), "%s", pw.pw_name);
	else
		snprintf(p->user, sizeof(p->user), "%u", (unsigned)cr->uid);
	p->admin = cr->uid == 0;
	if (!p->admin && c->d->cfg->admin_group != NULL && pwp != NULL) {
		struct group gr, *grp = NULL;
		char gbuf[4096];
		gid_t groups[256];
		int ngroups = 256;

		if (getgrnam_r(c->d->cfg->admin_group, &gr, gbuf, sizeof(gbuf),
		    &grp) == 0 && grp != NULL &&
		    getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) >= 0)
			for (int i = 0; i < ngroups; i++)
				if (groups[i] == grp->gr_gid)
					p->admin = 1;
	}
}

static const struct ebb_control *
limits(const struct control *c)
{
	return &c->d->cfg->control;
}

static size_t
unsent(const struct conn *cn)
{
	return cn->wlen - cn->woff;
}

/*
 * Appends reply to the held replies; they go out at the next flush. A
 * reply the client could not read (over the frame limit) becomes an error.
 */
static void
queue_reply(struct conn *cn, json_t *reply)
{
	size_t len;
	unsigned char *frame = proto_encode(reply, &len);

	json_decref(reply);
	if (len > REPLY_MAX) {
		log_warnx("client uid %u: a reply of %zu bytes exceeds the frame"
		    " limit; sending an error instead", (unsigned)cn->peer.uid,
		    len - EBB_PROTO_HDR);
		free(frame);
		frame = proto_encode(reply = proto_reply_err("failed", "the "
		    "reply of %zu bytes exceeds the frame limit of %u bytes; "
		    "ask for less", len - EBB_PROTO_HDR, EBB_PROTO_MAX_FRAME),
		    &len);
		json_decref(reply);
	}
	if (cn->wlen + len > cn->wcap && cn->woff > 0) {
		memmove(cn->wbuf, cn->wbuf + cn->woff, cn->wlen - cn->woff);
		cn->wlen -= cn->woff;
		cn->wsafe -= cn->woff;
		cn->woff = 0;
	}
	if (cn->wlen + len > cn->wcap) {
		cn->wcap = (cn->wlen + len) * 2;
		cn->wbuf = xrealloc(cn->wbuf, cn->wcap);
	}
	memcpy(cn->wbuf + cn->wlen, frame, len);
	cn->wlen += len;
	free(frame);
}

/* Whether rbuf begins with a whole frame (or a bad header). */
static int
frame_waiting(const struct conn *cn)
{
	char err[128];
	size_t frame;

	return proto_frame_size(cn->rbuf, cn->rlen, EBB_PROTO_MAX_FRAME,
	    &frame, err, sizeof(err)) == -1 || frame > 0;
}

/*
 * Reads only while the connection holds no unrun request and its unsent
 * replies are under max_output, so neither buffer grows without bound,
 * and sets the timer: frame_timeout after a partial frame began arriving
 * (counted only while ebbd reads: a client blocked sending because it is
 * not reading its replies is not slow), else idle_timeout after the last
 * request or bytes sent.
 */
static void
conn_update(struct conn *cn)
{
	struct ev_loop *loop = cn->c->d->loop;
	const struct ebb_control *lim = limits(cn->c);
	int waiting = frame_waiting(cn), was = cn->ready, reading;
	ev_tstamp at;

	cn->ready = waiting && !cn->closing &&
	    unsent(cn) < (size_t)lim->max_output;
	if (cn->ready && !was)
		cn->c->nready++;
	else if (!cn->ready && was)
		cn->c->nready--;
	if (cn->c->nready > 0 && !ev_is_active(&cn->c->turns)) {
		ev_check_start(loop, &cn->c->turns);
		ev_idle_start(loop, &cn->c->awake);
	}
	reading = !cn->closing && !waiting &&
	    unsent(cn) < (size_t)lim->max_output;
	if (reading)
		ev_io_start(loop, &cn->rio);
	else
		ev_io_stop(loop, &cn->rio);
	if (cn->rlen > 0 && reading) {
		if (cn->frame_start == 0)
			cn->frame_start = ev_now(loop);
		at = cn->frame_start + (ev_tstamp)lim->frame_timeout;
	} else {
		cn->frame_start = 0;
		at = cn->active + (ev_tstamp)lim->idle_timeout;
	}
	ev_timer_stop(loop, &cn->timer);
	ev_timer_set(&cn->timer, at > ev_now(loop) ? at - ev_now(loop) : 0, 0);
	ev_timer_start(loop, &cn->timer);
}

/*
 * Runs up to TURN_FRAMES whole requests from rbuf, fewer once they took
 * TURN_TIME or the unsent replies reach max_output; conn_update() decides
 * when the rest run.
 */
static void
conn_process(struct conn *cn)
{
	size_t off = 0, max = (size_t)limits(cn->c)->max_output;
	ev_tstamp t0 = ev_time();

	for (int n = 0; n < TURN_FRAMES && !cn->closing && unsent(cn) < max &&
	    (n == 0 || ev_time() - t0 < TURN_TIME); n++) {
		char err[256];
		size_t frame;
		json_t *req;

		if (proto_frame_size(cn->rbuf + off, cn->rlen - off,
		    EBB_PROTO_MAX_FRAME, &frame, err, sizeof(err)) == -1) {
			log_warnx("client uid %u: %s; closing",
			    (unsigned)cn->peer.uid, err);
			queue_reply(cn, proto_reply_err("usage", "%s", err));
			cn->closing = 1;
			off = cn->rlen;
			break;
		}
		if (frame == 0)
			break;
		req = proto_decode(cn->rbuf + off + EBB_PROTO_HDR,
		    frame - EBB_PROTO_HDR, err, sizeof(err));
		if (req == NULL)
			queue_reply(cn, proto_reply_err("usage",
			    "malformed request: %s", err));
		else {
			queue_reply(cn, cmd_run(cn->c->d, &cn->peer, req));
			json_decref(req);
		}
		off += frame;
		cn->frame_start = 0;
		cn->active = ev_now(cn->c->d->loop);
	}
	memmove(cn->rbuf, cn->rbuf + off, cn->rlen - off);
	cn->rlen -= off;
	conn_update(cn);
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *cn = w->data;
	ssize_t n;

	if (cn->rcap - cn->rlen < READ_CHUNK) {
		/* Doubling: a 4 MiB frame costs a few copies, not 64. */
		cn->rcap = cn->rlen + READ_CHUNK > 2 * cn->rcap ?
		    cn->rlen + READ_CHUNK : 2 * cn->rcap;
		cn->rbuf = xrealloc(cn->rbuf, cn->rcap);
	}
	n = read(cn->fd, cn->rbuf + cn->rlen, cn->rcap - cn->rlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (unsent(cn) > 0) {
			/* Peer half-closed; send what is due, then close. */
			cn->closing = 1;
			conn_update(cn);
		} else
			conn_close(cn);
		return;
	}
	cn->rlen += (size_t)n;
	conn_process(cn);
	/* Shrink a buffer a large frame left behind. */
	if (cn->rlen == 0 && cn->rcap > 4 * READ_CHUNK) {
		free(cn->rbuf);
		cn->rbuf = NULL;
		cn->rcap = 0;
	}
}

/* Another turn for every connection that holds a request not yet run. */
static void
on_turns(struct ev_loop *loop, ev_check *w, int revents)
{
	struct control *c = w->data;
	struct conn *cn, *next;

	for (cn = c->conns; cn != NULL && c->nready > 0; cn = next) {
		next = cn->next;
		if (cn->ready)
			conn_process(cn);
	}
	if (c->nready == 0) {
		ev_check_stop(loop, &c->turns);
		ev_idle_stop(loop, &c->awake);
	}
}

static void
on_awake(struct ev_loop *loop, ev_idle *w, int revents)
{
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *cn = w->data;

	if (cn->closing || cn->frame_start == 0) {
		log_debug("client uid %u: idle for %lld s; closing",
		    (unsigned)cn->peer.uid,
		    (long long)limits(cn->c)->idle_timeout);
		conn_close(cn);
		return;
	}
	log_warnx("client uid %u: request not completed within %lld s; "
	    "closing", (unsigned)cn->peer.uid,
	    (long long)limits(cn->c)->frame_timeout);
	queue_reply(cn, proto_reply_err("usage", "request not completed "
	    "within %lld s; closing the connection",
	    (long long)limits(cn->c)->frame_timeout));
	cn->closing = 1;
	cn->rlen = 0;
	cn->active = ev_now(loop);
	conn_update(cn);
}

/* Writes what the last flush released; returns -1 if it closed cn. */
static int
conn_write(struct conn *cn)
{
	struct ev_loop *loop = cn->c->d->loop;

	while (cn->woff < cn->wsafe) {
		ssize_t n = write(cn->fd, cn->wbuf + cn->woff,
		    cn->wsafe - cn->woff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			conn_close(cn);
			return -1;
		}
		cn->woff += (size_t)n;
		cn->active = ev_now(loop);
	}
	if (cn->woff < cn->wsafe) {
		ev_io_start(loop, &cn->wio);
		conn_update(cn);
		return 0;
	}
	ev_io_stop(loop, &cn->wio);
	if (cn->woff == cn->wlen) {
		cn->woff = cn->wsafe = cn->wlen = 0;
		if (cn->wcap > 4 * READ_CHUNK) {
			/* A big reply (a long queue): give its memory back. */
			free(cn->wbuf);
			cn->wbuf = NULL;
			cn->wcap = 0;
			malloc_trim(0);
		}
		if (cn->closing) {
			conn_close(cn);
			return -1;
		}
	}
	conn_update(cn);
	return 0;
}

static void
on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	conn_write(w->data);
}

static void
conn_close(struct conn *cn)
{
	struct control *c = cn->c;

	ev_io_stop(c->d->loop, &cn->rio);
	ev_io_stop(c->d->loop, &cn->wio);
	ev_timer_stop(c->d->loop, &cn->timer);
	close(cn->fd);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		c->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	c->nconns--;
	c->nready -= (size_t)cn->ready;
	free(cn->peer.groups);
	free(cn->rbuf);
	free(cn->wbuf);
	free(cn);
}

/*
 * Why uid may not have another connection, or NULL: max_connections (root
 * may use ROOT_RESERVE more, and no one more than the fd limit leaves room
 * for) and max_connections_per_user (root is exempt).
 */
static const char *
refusal(struct control *c, uid_t uid, char *buf, size_t len)
{
	const struct ebb_control *lim = limits(c);
	size_t cap = (size_t)lim->max_connections, mine = 0;
	struct conn *cn;

	if (uid == 0)
		cap += ROOT_RESERVE;
	if (cap > c->fd_room)
		cap = c->fd_room;
	if (c->nconns >= cap) {
		snprintf(buf, len, "ebbd is serving its limit of %zu "
		    "connections; try again later", cap);
		return buf;
	}
	if (uid == 0)
		return NULL;
	for (cn = c->conns; cn != NULL; cn = cn->next)
		mine += cn->peer.uid == uid;
	if (mine >= (size_t)lim->max_per_user) {
		snprintf(buf, len, "uid %u already has %zu connections to "
		    "ebbd, its limit; close some and try again",
		    (unsigned)uid, mine);
		return buf;
	}
	return NULL;
}

/* Answers a refused peer with one error frame (a fresh socket has room). */
static void
refuse(int fd, const char *why)
{
	json_t *reply = proto_reply_err("busy", "%s", why);
	size_t len;
	unsigned char *frame = proto_encode(reply, &len);

	if (write(fd, frame, len) < 0)
		log_debug("refusing a client: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	free(frame);
	json_decref(reply);
	close(fd);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = w->data;
	struct conn *cn;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char why[160];
	int fd;

	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
	    c->spare != -1) {
		/* Out of fds: take the peer off the backlog all the same. */
		close(c->spare);
		if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) != -1)
			refuse(fd, "ebbd is out of file descriptors; try again "
			    "later");
		c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		log_warnx("control: out of file descriptors; refused a client");
		return;
	}
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		cr.uid = (uid_t)-1, cr.gid = (gid_t)-1, cr.pid = 0;
	if (refusal(c, cr.uid, why, sizeof(why)) != NULL) {
		if (ev_now(loop) - c->refused_at >= 1) {
			log_warnx("refused a connection of uid %u: %s; %zu "
			    "other refusals since the last such message",
			    (unsigned)cr.uid, why, c->refused_quiet);
			c->refused_at = ev_now(loop);
			c->refused_quiet = 0;
		} else
			c->refused_quiet++;
		refuse(fd, why);
		return;
	}
	cn = xcalloc(1, sizeof(*cn));
	cn->fd = fd;
	cn->c = c;
	peer_identify(c, fd, &cr, &cn->peer);
	cn->active = ev_now(loop);
	ev_io_init(&cn->rio, on_read, fd, EV_READ);
	ev_io_init(&cn->wio, on_write, fd, EV_WRITE);
	ev_init(&cn->timer, on_timeout);
	cn->rio.data = cn->wio.data = cn->timer.data = cn;
	cn->next = c->conns;
	if (c->conns)
		c->conns->prev = cn;
	c->conns = cn;
	c->nconns++;
	conn_update(cn);
}

void
control_flush(struct control *c)
{
	struct conn *cn = c->conns, *next;

	for (; cn != NULL; cn = next) {
		next = cn->next;
		cn->wsafe = cn->wlen;
		if (unsent(cn) > 0 && !ev_is_active(&cn->wio))
			conn_write(cn);
		else if (cn->closing && unsent(cn) == 0)
			conn_close(cn);
	}
}

struct control *
control_open(struct ebbd *d, const char *path, mode_t mode, const char *group,
    char *err, size_t errlen)
{
	struct control *c;
	struct sockaddr_un sun;
	struct rlimit rl;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	{
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			close(fd);
			snprintf(err, errlen, "%s: another ebbd is already "
			    "listening there", path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
	}
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old);
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) == -1) {
			snprintf(err, errlen, "socket group %s: %s", group,
			    gr ? strerror(errno) : "no such group");
			goto fail;
		}
	}
	if (chmod(path, mode) == -1 || listen(fd, 128) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->fd = fd;
	c->path = xstrdup(path);
	c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		c->fd_room = SIZE_MAX;
	else
		c->fd_room = rl.rlim_cur > 2 * FD_RESERVE ?
		    (size_t)rl.rlim_cur - FD_RESERVE : (size_t)rl.rlim_cur / 2;
	if (c->fd_room < (size_t)d->cfg->control.max_connections +
	    ROOT_RESERVE)
		log_warnx("control: the fd limit (%llu) allows %zu "
		    "connections, fewer than control.max_connections",
		    (unsigned long long)rl.rlim_cur, c->fd_room);
	ev_io_init(&c->accept_io, on_accept, fd, EV_READ);
	c->accept_io.data = c;
	ev_io_start(d->loop, &c->accept_io);
	ev_check_init(&c->turns, on_turns);
	c->turns.data = c;
	ev_idle_init(&c->awake, on_awake);
	return c;
fail:
	close(fd);
	unlink(path);
	return NULL;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	while (c->conns != NULL)
		conn_close(c->conns);
	ev_io_stop(c->d->loop, &c->accept_io);
	ev_check_stop(c->d->loop, &c->turns);
	ev_idle_stop(c->d->loop, &c->awake);
	if (c->spare != -1)
		close(c->spare);
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
