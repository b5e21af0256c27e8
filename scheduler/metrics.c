/*
 * metrics: the Prometheus text builder and the /metrics HTTP server.
 *
 * The builder keeps one growing text per metric family, in the order the
 * families first appear, and joins them with their # HELP and # TYPE lines
 * when the render is done. The server is libmicrohttpd with its own epoll
 * set (MHD_USE_EPOLL, no internal thread): that epoll fd is watched by an
 * ev_io, MHD_run() runs when it is readable or when the ev_timer armed from
 * MHD_get_timeout() fires, and the timer is re-armed after every run.
 * Responses are rendered whole into memory before they are queued, so MHD
 * never calls back for more data.
 *
 * It does not decide what is measured, nor keep values between scrapes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "scheduler/metrics.h"

#define METRICS_CONN_LIMIT	32	/* concurrent scrapers */
#define METRICS_CONN_TIMEOUT	30	/* s a silent client may hold a slot */
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct family {
	char		*name;
	char		*help;
	int		 counter;
	struct strbuf	 samples;
};

struct metrics_text {
	struct family	*fam;
	size_t		 nfam;
	size_t		 capfam;
};

struct metrics {
	struct ev_loop		*loop;
	struct MHD_Daemon	*mhd;
	ev_io			 io;
	ev_timer		 timer;
	metrics_render_cb	 cb;
	void			*arg;
	int			 port;
	int			 starting;	/* MHD messages go to lasterr */
	char			 lasterr[256];
};

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: shortest form,
 * no surrogates, at most U+10FFFF), or 0 if s does not start one.
 */
static size_t
utf8_len(const unsigned char *s)
{
	size_t	 n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* the NUL ends it here too */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/*
 * Escapes \ and newline, and " too when quote is set (label values). The
 * format is UTF-8 and a scraper rejects the whole scrape for one bad
 * byte, so each byte that is not part of well-formed UTF-8 (a job name
 * cut mid-character, a name from a cluster's scheduler) becomes U+FFFD.
 */
static void
sb_escaped(struct strbuf *b, const char *s, int quote)
{
	size_t	 n;

	while (*s != '\0') {
		if (*s == '\\')
			strbuf_adds(b, "\\\\");
		else if (*s == '\n')
			strbuf_adds(b, "\\n");
		else if (*s == '"' && quote)
			strbuf_adds(b, "\\\"");
		else if ((n = utf8_len((const unsigned char *)s)) == 0)
			strbuf_adds(b, "\xef\xbf\xbd");
		else {
			strbuf_add(b, s, n);
			s += n;
			continue;
		}
		s++;
	}
}

/* The shortest of %.15g and %.17g that reads back as v; Go's spellings. */
static void
sb_value(struct strbuf *b, double v)
{
	char	 s[64];

	if (isnan(v)) {
		strbuf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		strbuf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	strbuf_adds(b, s);
}

/* metric names allow ':', label names do not; neither starts with a digit */
static int
valid_name(const char *s, int colon)
{
	const char	*p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':')))
			return 0;
	}
	return 1;
}

static struct family *
family_get(struct metrics_text *t, const char *name, const char *help,
    int counter)
{
	struct family	*f;
	size_t		 i;

	for (i = 0; i < t->nfam; i++)
		if (strcmp(t->fam[i].name, name) == 0)
			return &t->fam[i];
	if (t->nfam == t->capfam) {
		t->capfam = t->capfam ? t->capfam * 2 : 16;
		t->fam = xrealloc(t->fam, t->capfam * sizeof(*t->fam));
	}
	f = &t->fam[t->nfam++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help != NULL ? help : "");
	f->counter = counter;
	return f;
}

static void
add_sample(struct metrics_text *t, int counter, const char *name,
    const char *help, double value, va_list ap)
{
	struct family	*f;
	const char	*k, *v;
	va_list		 cp;
	int		 n = 0;

	if (!valid_name(name, 1)) {
		log_warnx("metrics: bad metric name \"%s\"", name ? name : "");
		return;
	}
	va_copy(cp, ap);
	while ((k = va_arg(cp, const char *)) != NULL) {
		v = va_arg(cp, const char *);
		if (!valid_name(k, 0) || strncmp(k, "__", 2) == 0 || v == NULL) {
			log_warnx("metrics: %s: bad label \"%s\"", name, k);
			va_end(cp);
			return;
		}
	}
	va_end(cp);
	f = family_get(t, name, help, counter);
	if (f->counter != counter) {
		log_warnx("metrics: %s is a %s, not a %s", name,
		    f->counter ? "counter" : "gauge",
		    counter ? "counter" : "gauge");
		return;
	}
	strbuf_adds(&f->samples, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		strbuf_addc(&f->samples, n++ == 0 ? '{' : ',');
		strbuf_adds(&f->samples, k);
		strbuf_adds(&f->samples, "=\"");
		sb_escaped(&f->samples, v, 1);
		strbuf_addc(&f->samples, '"');
	}
	if (n > 0)
		strbuf_addc(&f->samples, '}');
	strbuf_addc(&f->samples, ' ');
	sb_value(&f->samples, value);
	strbuf_addc(&f->samples, '\n');
}

void
metrics_gauge(struct metrics_text *t, const char *name, const char *help,
    double value, ...)
{
	va_list	 ap;

	va_start(ap, value);
	add_sample(t, 0, name, help, value, ap);
	va_end(ap);
}

void
metrics_counter(struct metrics_text *t, const char *name, const char *help,
    double value, ...)
{
	va_list	 ap;

	va_start(ap, value);
	add_sample(t, 1, name, help, value, ap);
	va_end(ap);
}

char *
metrics_render(metrics_render_cb cb, void *arg, size_t *lenp)
{
	struct metrics_text	 t = { NULL, 0, 0 };
	struct strbuf		 out = STRBUF_INIT;
	struct family		*f;
	size_t			 i;

	cb(arg, &t);
	for (i = 0; i < t.nfam; i++) {
		f = &t.fam[i];
		if (f->help[0] != '\0') {
			strbuf_adds(&out, "# HELP ");
			strbuf_adds(&out, f->name);
			strbuf_addc(&out, ' ');
			sb_escaped(&out, f->help, 0);
			strbuf_addc(&out, '\n');
		}
		strbuf_adds(&out, "# TYPE ");
		strbuf_adds(&out, f->name);
		strbuf_adds(&out, f->counter ? " counter\n" : " gauge\n");
		strbuf_add(&out, f->samples.s, f->samples.len);
		free(f->name);
		free(f->help);
		strbuf_free(&f->samples);
	}
	free(t.fam);
	*lenp = out.len;
	return strbuf_take(&out);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics	*m = cls;
	char		 msg[256];
	size_t		 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	if (m->starting)
		snprintf(m->lasterr, sizeof(m->lasterr), "%s", msg);
	else
		log_warnx("metrics: %s", msg);
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, char *body, size_t len,
    const char *allow)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req)
{
	static int	 seen;
	struct metrics	*m = cls;
	char		*body;
	size_t		 len;

	/* First call: headers only. Then swallow any body before answering. */
	if (*req == NULL) {
		*req = &seen;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		body = xstrdup("method not allowed\n");
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, strlen(body),
		    "GET, HEAD");
	}
	if (strcmp(url, "/metrics") != 0) {
		body = xstrdup("not found\n");
		return reply(c, MHD_HTTP_NOT_FOUND, body, strlen(body), NULL);
	}
	body = metrics_render(m->cb, m->arg, &len);
	return reply(c, MHD_HTTP_OK, body, len, NULL);
}

/* After every MHD_run: wake again no later than MHD asks. */
static void
arm_timer(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG	 ms;

	ev_timer_stop(m->loop, &m->timer);
	if (MHD_get_timeout(m->mhd, &ms) != MHD_YES)
		return;
	ev_timer_set(&m->timer, (double)ms / 1000.0, 0.);
	ev_timer_start(m->loop, &m->timer);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics	*m = w->data;

	MHD_run(m->mhd);
	arm_timer(m);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics	*m = w->data;

	MHD_run(m->mhd);
	arm_timer(m);
}

struct metrics *
metrics_open(struct ev_loop *loop, const char *addr, int port,
    metrics_render_cb cb, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage		 ss;
	struct sockaddr_in		*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6		*sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo	*info;
	struct metrics			*m;
	unsigned int			 flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (addr == NULL)
		addr = "127.0.0.1";
	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "metrics: port %d out of range", port);
		return NULL;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "metrics: \"%s\" is not an IP address",
		    addr);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->loop = loop;
	m->cb = cb;
	m->arg = arg;
	m->starting = 1;
	errno = 0;
	m->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, m,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT,
	    MHD_OPTION_END);
	m->starting = 0;
	if (m->mhd == NULL) {
		snprintf(err, errlen, "metrics: cannot listen on %s port %d: %s",
		    addr, port, m->lasterr[0] != '\0' ? m->lasterr :
		    strerror(errno ? errno : EINVAL));
		free(m);
		return NULL;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info != NULL ? info->port : port;
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&m->io, io_cb, info->epoll_fd, EV_READ);
	m->io.data = m;
	ev_io_start(loop, &m->io);
	ev_init(&m->timer, timer_cb);
	m->timer.data = m;
	arm_timer(m);
	return m;
}

int
metrics_port(const struct metrics *m)
{
	return m->port;
}

void
metrics_close(struct metrics *m)
{
	if (m == NULL)
		return;
	ev_io_stop(m->loop, &m->io);
	ev_timer_stop(m->loop, &m->timer);
	MHD_stop_daemon(m->mhd);
	free(m);
}
