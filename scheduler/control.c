/*
 * control: socket server for the control protocol (docs/protocol.md).
 * Framing and JSON are in common/proto.c; commands in cmd*.c. This file
 * only moves bytes, checks sizes and knows who is on the other end.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define MAX_CONNS	1024

struct conn {
	ev_io		 rio, wio;
	int		 fd;
	struct peer	 peer;
	unsigned char	*rbuf;
	size_t		 rlen, rcap;
	unsigned char	*wbuf;
	size_t		 wlen, woff, wcap;
	int		 closing;	/* close once wbuf is sent */
	struct control	*c;
	struct conn	*prev, *next;
};

struct control {
	struct ebbd	*d;
	ev_io		 accept_io;
	int		 fd;
	char		*path;
	struct conn	*conns;
	size_t		 nconns;
};

static void conn_close(struct conn *);

static void
peer_identify(struct control *c, int fd, struct peer *p)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		p->uid = (uid_t)-1;
		p->gid = (gid_t)-1;
		return;
	}
	p->uid = cr.uid;
	p->gid = cr.gid;
	p->pid = cr.pid;
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		snprintf(p->user, sizeof(p->user), "%s", pw.pw_name);
	else
		snprintf(p->user, sizeof(p->user), "%u", (unsigned)cr.uid);
	p->admin = cr.uid == 0;
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

static void
queue_reply(struct conn *cn, json_t *reply)
{
	size_t len;
	unsigned char *frame = proto_encode(reply, &len);

	json_decref(reply);
	if (cn->wlen + len > cn->wcap) {
		cn->wcap = (cn->wlen + len) * 2;
		cn->wbuf = xrealloc(cn->wbuf, cn->wcap);
	}
	memcpy(cn->wbuf + cn->wlen, frame, len);
	cn->wlen += len;
	free(frame);
}

/* Handles every complete frame in rbuf. */
static void
conn_process(struct conn *cn)
{
	size_t off = 0;

	while (!cn->closing) {
		char err[256];
		size_t frame;
		json_t *req;

		if (proto_frame_size(cn->rbuf + off, cn->rlen - off,
		    EBB_PROTO_MAX_FRAME, &frame, err, sizeof(err)) == -1) {
			log_warnx("client uid %u: %s; closing",
			    (unsigned)cn->peer.uid, err);
			queue_reply(cn, proto_reply_err("usage", "%s", err));
			cn->closing = 1;
			ev_io_stop(cn->c->d->loop, &cn->rio);
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
	}
	memmove(cn->rbuf, cn->rbuf + off, cn->rlen - off);
	cn->rlen -= off;
}

static void
on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *cn = w->data;
	ssize_t n;

	if (cn->rcap - cn->rlen < READ_CHUNK) {
		cn->rcap = cn->rlen + READ_CHUNK;
		cn->rbuf = xrealloc(cn->rbuf, cn->rcap);
	}
	n = read(cn->fd, cn->rbuf + cn->rlen, cn->rcap - cn->rlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (cn->wlen > cn->woff) {
			/* Peer half-closed; send what is due, then close. */
			cn->closing = 1;
			ev_io_stop(loop, &cn->rio);
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

/* Writes what it can; returns -1 if the connection was closed. */
static int
conn_write(struct conn *cn)
{
	while (cn->woff < cn->wlen) {
		ssize_t n = write(cn->fd, cn->wbuf + cn->woff,
		    cn->wlen - cn->woff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ev_io_start(cn->c->d->loop, &cn->wio);
			return 0;
		}
		if (n < 0) {
			conn_close(cn);
			return -1;
		}
		cn->woff += (size_t)n;
	}
	ev_io_stop(cn->c->d->loop, &cn->wio);
	cn->woff = cn->wlen = 0;
	if (cn->wcap > 4 * READ_CHUNK) {
		/* A big reply (a long queue): give its memory back now. */
		free(cn->wbuf);
		cn->wbuf = NULL;
		cn->wcap = 0;
		malloc_trim(0);
	}
	if (cn->closing) {
		conn_close(cn);
		return -1;
	}
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
	close(cn->fd);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		c->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	c->nconns--;
	free(cn->rbuf);
	free(cn->wbuf);
	free(cn);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = w->data;
	struct conn *cn;
	int fd;

	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if (c->nconns >= MAX_CONNS) {
		log_warnx("too many control connections; refusing one");
		close(fd);
		return;
	}
	cn = xcalloc(1, sizeof(*cn));
	cn->fd = fd;
	cn->c = c;
	peer_identify(c, fd, &cn->peer);
	ev_io_init(&cn->rio, on_read, fd, EV_READ);
	ev_io_init(&cn->wio, on_write, fd, EV_WRITE);
	cn->rio.data = cn->wio.data = cn;
	ev_io_start(loop, &cn->rio);
	cn->next = c->conns;
	if (c->conns)
		c->conns->prev = cn;
	c->conns = cn;
	c->nconns++;
}

void
control_flush(struct control *c)
{
	struct conn *cn = c->conns, *next;

	for (; cn != NULL; cn = next) {
		next = cn->next;
		if (cn->wlen > cn->woff && !ev_is_active(&cn->wio))
			conn_write(cn);
		else if (cn->closing && cn->wlen == cn->woff)
			conn_close(cn);
	}
}

struct control *
control_open(struct ebbd *d, const char *path, mode_t mode, const char *group,
    char *err, size_t errlen)
{
	struct control *c;
	struct sockaddr_un sun;
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
	ev_io_init(&c->accept_io, on_accept, fd, EV_READ);
	c->accept_io.data = c;
	ev_io_start(d->loop, &c->accept_io);
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
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
