/*
 * pmsg: encoding, checked decoding and the SOCK_SEQPACKET transport of
 * privsep messages (see pmsg.h for the format).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "runner/pmsg.h"

#define PMSG_MAGIC	0xEB5Eu

static void
grow(struct pmsg *m, size_t more)
{
	if (m->len + more <= m->cap)
		return;
	m->cap = (m->len + more) * 2;
	m->buf = xrealloc(m->buf, m->cap);
}

static void
put(struct pmsg *m, const void *p, size_t n)
{
	grow(m, n);
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
pmsg_clear(struct pmsg *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < PMSG_MAXFD; i++)
		m->fd[i] = -1;
}

void
pmsg_init(struct pmsg *m, uint16_t type, uint32_t seq, int64_t id)
{
	uint16_t magic = PMSG_MAGIC;

	pmsg_clear(m);
	m->type = type;
	m->seq = seq;
	m->id = id;
	put(m, &magic, 2);
	put(m, &type, 2);
	put(m, &seq, 4);
	put(m, &id, 8);
	m->off = PMSG_HDR;
}

void
pmsg_put_i64(struct pmsg *m, int64_t v)
{
	put(m, "i", 1);
	put(m, &v, 8);
}

void
pmsg_put_str(struct pmsg *m, const char *s)
{
	uint32_t n;

	if (s == NULL)
		s = "";
	n = (uint32_t)strlen(s) + 1;
	put(m, "s", 1);
	put(m, &n, 4);
	put(m, s, n);
}

void
pmsg_put_gids(struct pmsg *m, const gid_t *g, size_t n)
{
	uint32_t c = (uint32_t)n;

	put(m, "g", 1);
	put(m, &c, 4);
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)g[i];

		put(m, &v, 4);
	}
}

void
pmsg_put_strv(struct pmsg *m, char *const *v)
{
	int64_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	pmsg_put_i64(m, n);
	for (int64_t i = 0; i < n; i++)
		pmsg_put_str(m, v[i]);
}

void
pmsg_put_fd(struct pmsg *m, int fd)
{
	if (m->nfd < PMSG_MAXFD)
		m->fd[m->nfd++] = fd;
}

int
pmsg_fits(const struct pmsg *m)
{
	return m->len <= PMSG_MAX;
}

int
pmsg_parse(struct pmsg *m, const void *buf, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *p = buf;
	uint16_t magic;

	if (len < PMSG_HDR || len > PMSG_MAX) {
		snprintf(err, errlen, "message of %zu bytes (must be %d..%d)",
		    len, PMSG_HDR, PMSG_MAX);
		return -1;
	}
	memcpy(&magic, p, 2);
	if (magic != PMSG_MAGIC) {
		snprintf(err, errlen, "bad message magic 0x%04x", magic);
		return -1;
	}
	free(m->buf);
	m->buf = xmalloc(len);
	memcpy(m->buf, p, len);
	m->len = m->cap = len;
	memcpy(&m->type, p + 2, 2);
	memcpy(&m->seq, p + 4, 4);
	memcpy(&m->id, p + 8, 8);
	m->off = PMSG_HDR;
	return 0;
}

/* The tag at the read position, which must be `tag` with n bytes after. */
static int
take(struct pmsg *m, char tag, size_t n)
{
	if (m->off >= m->len || m->buf[m->off] != (unsigned char)tag ||
	    m->len - m->off - 1 < n)
		return -1;
	m->off++;
	return 0;
}

int
pmsg_get_i64(struct pmsg *m, int64_t *v)
{
	if (take(m, 'i', 8) == -1)
		return -1;
	memcpy(v, m->buf + m->off, 8);
	m->off += 8;
	return 0;
}

int
pmsg_get_str(struct pmsg *m, const char **s)
{
	size_t save = m->off;
	uint32_t n;
	const char *p;

	if (take(m, 's', 4) == -1)
		return -1;
	memcpy(&n, m->buf + m->off, 4);
	m->off += 4;
	if (n == 0 || n > m->len - m->off) {
		m->off = save;
		return -1;
	}
	p = (const char *)m->buf + m->off;
	if (p[n - 1] != '\0' || memchr(p, '\0', n - 1) != NULL) {
		m->off = save;
		return -1;
	}
	*s = p;
	m->off += n;
	return 0;
}

int
pmsg_get_gids(struct pmsg *m, gid_t *out, size_t max, size_t *n)
{
	size_t save = m->off;
	uint32_t c;

	if (take(m, 'g', 4) == -1)
		return -1;
	memcpy(&c, m->buf + m->off, 4);
	m->off += 4;
	if (c > max || c > PMSG_MAXGIDS || (size_t)c * 4 > m->len - m->off) {
		m->off = save;
		return -1;
	}
	for (uint32_t i = 0; i < c; i++) {
		uint32_t v;

		memcpy(&v, m->buf + m->off, 4);
		m->off += 4;
		out[i] = (gid_t)v;
	}
	*n = c;
	return 0;
}

int
pmsg_get_strv(struct pmsg *m, size_t max, const char ***out)
{
	size_t save = m->off;
	int64_t n;
	const char **v;

	if (pmsg_get_i64(m, &n) == -1)
		return -1;
	/* Each string takes at least 6 bytes: a bound before allocating. */
	if (n < 0 || (uint64_t)n > max || (uint64_t)n > (m->len - m->off) / 6) {
		m->off = save;
		return -1;
	}
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (int64_t i = 0; i < n; i++)
		if (pmsg_get_str(m, &v[i]) == -1) {
			free(v);
			m->off = save;
			return -1;
		}
	*out = v;
	return 0;
}

int
pmsg_get_end(const struct pmsg *m)
{
	return m->off == m->len ? 0 : -1;
}

int
pmsg_take_fd(struct pmsg *m, int i)
{
	int fd;

	if (i < 0 || i >= PMSG_MAXFD)
		return -1;
	fd = m->fd[i];
	m->fd[i] = -1;
	return fd;
}

void
pmsg_free(struct pmsg *m)
{
	/* A built message's descriptors stay the caller's. */
	for (int i = 0; i < PMSG_MAXFD; i++) {
		if (m->fd[i] >= 0 && m->received)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
	m->received = 0;
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = m->off = 0;
}

int
pmsg_send(int sock, const struct pmsg *m, char *err, size_t errlen)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * PMSG_MAXFD)];
	} cm;
	struct iovec iov = { m->buf, m->len };
	struct msghdr mh;

	if (!pmsg_fits(m)) {
		snprintf(err, errlen, "message of %zu bytes is too large",
		    m->len);
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (m->nfd > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)m->nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)m->nfd);
		memcpy(CMSG_DATA(c), m->fd, sizeof(int) * (size_t)m->nfd);
	}
	for (;;) {
		if (sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)m->len)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return 1;
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
}

int
pmsg_recv(int sock, struct pmsg *m, char *err, size_t errlen)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * PMSG_MAXFD)];
	} cm;
	static unsigned char buf[PMSG_MAX];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *c;
	int fds[PMSG_MAXFD], nfd = 0;
	ssize_t n;

	pmsg_clear(m);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 1;
	if (n <= 0) {
		snprintf(err, errlen, "%s", n == 0 ? "the channel closed" :
		    strerror(errno));
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfd < PMSG_MAXFD)
				fds[nfd++] = fd;
			else
				close(fd);
		}
	}
	for (int i = 0; i < nfd; i++)
		m->fd[i] = fds[i];
	m->nfd = nfd;
	m->received = 1;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		snprintf(err, errlen, "truncated message");
		pmsg_free(m);
		return -1;
	}
	if (pmsg_parse(m, buf, (size_t)n, err, errlen) == -1) {
		pmsg_free(m);
		return -1;
	}
	return 0;
}
