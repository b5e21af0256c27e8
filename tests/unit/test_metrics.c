/*
 * test_metrics: the Prometheus text builder (exact text for a canned
 * render: HELP/TYPE once per family, grouping, escaping, values, bad names
 * left out) and the /metrics server on a real libev loop, fetched over TCP
 * by a forked client: 200 with that text, 404, 405, bind errors, and a
 * loop that keeps running its timers while a client holds a half-sent
 * request open.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "common/xmalloc.h"
#include "scheduler/metrics.h"

#define SEP	"\x01"	/* between the responses a client writes back */

static void
canned(void *arg, struct metrics_text *t)
{
	int	*calls = arg;

	(*calls)++;
	metrics_gauge(t, "ebb_jobs", "Jobs by state.", 3, "state", "queued",
	    NULL);
	metrics_counter(t, "ebb_job_energy_joules_total",
	    "Energy used by jobs.\nIn joules, \\ measured.", 1234.5, NULL);
	/* Interleaved: joins the ebb_jobs family; the second help is unused. */
	metrics_gauge(t, "ebb_jobs", "other help", 1, "state", "running",
	    NULL);
	metrics_gauge(t, "ebb_site_carbon_intensity_grams_per_kwh",
	    "Grid intensity.", 212.25, "site", "a\"b\\c\nd", "zone", "DE",
	    "signal", "average", "kind", "actual", NULL);
	metrics_counter(t, "ebb_provider_errors_total", "Provider errors.", 0,
	    "provider", "watttime", NULL);
	metrics_gauge(t, "ebb_test_values", "", NAN, "v", "nan", NULL);
	metrics_gauge(t, "ebb_test_values", "", INFINITY, "v", "inf", NULL);
	metrics_gauge(t, "ebb_test_values", "", -INFINITY, "v", "-inf", NULL);
	metrics_gauge(t, "ebb_test_values", "", 0.1, "v", "tenth", NULL);
	metrics_gauge(t, "ebb_test_values", "", 1.0 / 3, "v", "third", NULL);
	metrics_gauge(t, "ebb_test_values", "", 1e21, "v", "big", NULL);
	metrics_gauge(t, "ebb_test_values", "", -42, "v", "neg", NULL);
	/* All left out: bad names, reserved label, a type clash. */
	metrics_gauge(t, "ebb-bad", "x", 1, NULL);
	metrics_gauge(t, "9ebb", "x", 1, NULL);
	metrics_gauge(t, "ebb_jobs", "x", 1, "1state", "x", NULL);
	metrics_gauge(t, "ebb_jobs", "x", 1, "st:ate", "x", NULL);
	metrics_gauge(t, "ebb_jobs", "x", 1, "__name__", "x", NULL);
	metrics_counter(t, "ebb_jobs", "x", 1, "state", "done", NULL);
	metrics_gauge(t, "ebb:ratio", "Colons are allowed.", 0.5, NULL);
}

static const char canned_text[] =
    "# HELP ebb_jobs Jobs by state.\n"
    "# TYPE ebb_jobs gauge\n"
    "ebb_jobs{state=\"queued\"} 3\n"
    "ebb_jobs{state=\"running\"} 1\n"
    "# HELP ebb_job_energy_joules_total Energy used by jobs.\\nIn joules, "
    "\\\\ measured.\n"
    "# TYPE ebb_job_energy_joules_total counter\n"
    "ebb_job_energy_joules_total 1234.5\n"
    "# HELP ebb_site_carbon_intensity_grams_per_kwh Grid intensity.\n"
    "# TYPE ebb_site_carbon_intensity_grams_per_kwh gauge\n"
    "ebb_site_carbon_intensity_grams_per_kwh{site=\"a\\\"b\\\\c\\nd\","
    "zone=\"DE\",signal=\"average\",kind=\"actual\"} 212.25\n"
    "# HELP ebb_provider_errors_total Provider errors.\n"
    "# TYPE ebb_provider_errors_total counter\n"
    "ebb_provider_errors_total{provider=\"watttime\"} 0\n"
    "# TYPE ebb_test_values gauge\n"
    "ebb_test_values{v=\"nan\"} NaN\n"
    "ebb_test_values{v=\"inf\"} +Inf\n"
    "ebb_test_values{v=\"-inf\"} -Inf\n"
    "ebb_test_values{v=\"tenth\"} 0.1\n"
    "ebb_test_values{v=\"third\"} 0.33333333333333331\n"
    "ebb_test_values{v=\"big\"} 1e+21\n"
    "ebb_test_values{v=\"neg\"} -42\n"
    "# HELP ebb:ratio Colons are allowed.\n"
    "# TYPE ebb:ratio gauge\n"
    "ebb:ratio 0.5\n";

static void
empty(void *arg, struct metrics_text *t)
{
}

static void
test_render_exact(void **state)
{
	char	*s;
	size_t	 len;
	int	 calls = 0;

	s = metrics_render(canned, &calls, &len);
	assert_int_equal(calls, 1);
	assert_string_equal(s, canned_text);
	assert_int_equal(len, strlen(canned_text));
	free(s);
	s = metrics_render(empty, NULL, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
}

static void
utf8(void *arg, struct metrics_text *t)
{
	/* Well-formed: 2-, 3- and 4-byte characters stay as they are. */
	metrics_gauge(t, "ebb_u", "Caf\xc3\xa9 \xe2\x82\xac.", 1,
	    "name", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x8c\xb1", NULL);
	/* A character cut short at the end, a stray continuation byte, an
	 * overlong '/', a surrogate, beyond U+10FFFF, 0xff: one U+FFFD per
	 * byte, the escapes still applied around them. */
	metrics_gauge(t, "ebb_u", "", 2, "name", "ab\xe2\x82", NULL);
	metrics_gauge(t, "ebb_u", "", 3, "name", "\x80\"\xc0\xaf\n", NULL);
	metrics_gauge(t, "ebb_u", "", 4, "name", "\xed\xa0\x80\\", NULL);
	metrics_gauge(t, "ebb_u", "", 5, "name", "\xf4\x90\x80\x80\xff",
	    NULL);
	metrics_gauge(t, "ebb_v", "Bad \xff help.", 6, NULL);
}

#define FFFD	"\xef\xbf\xbd"

static void
test_render_utf8(void **state)
{
	char	*s;
	size_t	 len;

	s = metrics_render(utf8, NULL, &len);
	assert_string_equal(s,
	    "# HELP ebb_u Caf\xc3\xa9 \xe2\x82\xac.\n"
	    "# TYPE ebb_u gauge\n"
	    "ebb_u{name=\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x8c\xb1\"} 1\n"
	    "ebb_u{name=\"ab" FFFD FFFD "\"} 2\n"
	    "ebb_u{name=\"" FFFD "\\\"" FFFD FFFD "\\n\"} 3\n"
	    "ebb_u{name=\"" FFFD FFFD FFFD "\\\\\"} 4\n"
	    "ebb_u{name=\"" FFFD FFFD FFFD FFFD FFFD "\"} 5\n"
	    "# HELP ebb_v Bad " FFFD " help.\n"
	    "# TYPE ebb_v gauge\n"
	    "ebb_v 6\n");
	free(s);
}

/* Child side: one blocking exchange; the whole response, caller frees. */
static char *
exchange(int port, const char *req)
{
	struct sockaddr_in	 sin;
	char			*buf = NULL;
	size_t			 len = 0;
	ssize_t			 r;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		_exit(3);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		_exit(4);
	do {
		buf = xrealloc(buf, len + 4096 + 1);
		r = read(fd, buf + len, 4096);
		if (r > 0)
			len += (size_t)r;
	} while (r > 0);
	buf[len] = '\0';
	close(fd);
	return buf;
}

static void
emit(int out, char *resp)
{
	size_t	 n = strlen(resp);

	if (write(out, resp, n) != (ssize_t)n || write(out, SEP, 1) != 1)
		_exit(5);
	free(resp);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\n" \
	"Connection: close\r\n\r\n"

static void
client_paths(int port, int out)
{
	emit(out, exchange(port, GET("/metrics")));
	emit(out, exchange(port, GET("/nope")));
	emit(out, exchange(port, GET("/metrics/")));
	emit(out, exchange(port, "POST /metrics HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 5\r\nConnection: close\r\n\r\nhello"));
	emit(out, exchange(port, "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n"));
}

/*
 * Holds a connection with half a request for 400 ms, scrapes on a second
 * connection meanwhile, then finishes the first request.
 */
static void
client_slow(int port, int out)
{
	struct sockaddr_in	 sin;
	const char		*head = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	const char		*tail = "Connection: close\r\n\r\n";
	char			*buf = NULL;
	size_t			 len = 0;
	ssize_t			 r;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    write(fd, head, strlen(head)) != (ssize_t)strlen(head))
		_exit(3);
	usleep(400 * 1000);
	emit(out, exchange(port, GET("/metrics")));
	usleep(200 * 1000);
	if (write(fd, tail, strlen(tail)) != (ssize_t)strlen(tail))
		_exit(4);
	do {
		buf = xrealloc(buf, len + 4096 + 1);
		r = read(fd, buf + len, 4096);
		if (r > 0)
			len += (size_t)r;
	} while (r > 0);
	buf[len] = '\0';
	close(fd);
	emit(out, buf);
}

struct run {
	char	*out;
	size_t	 len;
	int	 eof;
	int	 ticks;
	double	 last_tick;
	double	 max_gap;
};

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct run	*r = w->data;
	ssize_t		 n;

	r->out = xrealloc(r->out, r->len + 4096 + 1);
	n = read(w->fd, r->out + r->len, 4096);
	if (n > 0) {
		r->len += (size_t)n;
		r->out[r->len] = '\0';
		return;
	}
	r->eof = 1;
	ev_break(loop, EVBREAK_ALL);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run	*r = w->data;
	double		 now = ev_time();

	if (r->ticks++ > 0 && now - r->last_tick > r->max_gap)
		r->max_gap = now - r->last_tick;
	r->last_tick = now;
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Serves the canned render while a forked client runs; returns what the
 * client wrote (responses separated by SEP), the caller frees.
 */
static char *
serve_client(void (*client)(int, int), struct run *r, int *calls)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct metrics	*m;
	ev_io		 pio;
	ev_timer	 tick, deadline;
	char		 err[256];
	int		 p[2], status;
	pid_t		 pid;

	m = metrics_open(loop, NULL, 0, canned, calls, err, sizeof(err));
	assert_non_null(m);
	assert_true(metrics_port(m) > 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		client(metrics_port(m), p[1]);
		_exit(0);
	}
	close(p[1]);
	memset(r, 0, sizeof(*r));
	ev_io_init(&pio, pipe_cb, p[0], EV_READ);
	pio.data = r;
	ev_io_start(loop, &pio);
	ev_timer_init(&tick, tick_cb, 0.02, 0.02);
	tick.data = r;
	ev_timer_start(loop, &tick);
	ev_timer_init(&deadline, deadline_cb, 20., 0.);
	ev_timer_start(loop, &deadline);
	ev_run(loop, 0);
	ev_io_stop(loop, &pio);
	ev_timer_stop(loop, &tick);
	ev_timer_stop(loop, &deadline);
	close(p[0]);
	metrics_close(m);
	ev_loop_destroy(loop);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(r->eof);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return r->out != NULL ? r->out : xstrdup("");
}

/* The next SEP-terminated response; its body in *body (NULL for none). */
static char *
next_resp(char **cur, char **body)
{
	char	*s = *cur, *e = strchr(s, SEP[0]), *b;

	assert_non_null(e);
	*e = '\0';
	*cur = e + 1;
	b = strstr(s, "\r\n\r\n");
	assert_non_null(b);
	*b = '\0';
	*body = b + 4;
	return s;
}

static void
test_http_paths(void **state)
{
	struct run	 r;
	char		*all, *cur, *head, *body;
	int		 calls = 0;

	all = serve_client(client_paths, &r, &calls);
	cur = all;
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(head, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8"));
	assert_string_equal(body, canned_text);
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 404 ", 13) == 0);
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 404 ", 13) == 0);
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 405 ", 13) == 0);
	assert_non_null(strstr(head, "\r\nAllow: GET, HEAD"));
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body, "");
	assert_string_equal(cur, "");
	/* Rendered for the GET and the HEAD only. */
	assert_int_equal(calls, 2);
	free(all);
}

static void
test_loop_responsive(void **state)
{
	struct run	 r;
	char		*all, *cur, *head, *body;
	int		 calls = 0;

	all = serve_client(client_slow, &r, &calls);
	cur = all;
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body, canned_text);
	head = next_resp(&cur, &body);
	assert_true(strncmp(head, "HTTP/1.1 200 ", 13) == 0);
	assert_string_equal(body, canned_text);
	assert_int_equal(calls, 2);
	/*
	 * 600 ms of holding at a 20 ms tick: the loop never stalled for the
	 * time the client held its half request.
	 */
	assert_true(r.ticks >= 15);
	assert_true(r.max_gap < 0.5);
	free(all);
}

static void
test_open_errors(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct metrics	*a, *b;
	char		 err[256];
	int		 calls = 0;

	assert_null(metrics_open(loop, "localhost", 0, canned, &calls, err,
	    sizeof(err)));
	assert_string_equal(err,
	    "metrics: \"localhost\" is not an IP address");
	assert_null(metrics_open(loop, NULL, 70000, canned, &calls, err,
	    sizeof(err)));
	assert_string_equal(err, "metrics: port 70000 out of range");
	a = metrics_open(loop, "127.0.0.1", 0, canned, &calls, err,
	    sizeof(err));
	assert_non_null(a);
	b = metrics_open(loop, "127.0.0.1", metrics_port(a), canned, &calls,
	    err, sizeof(err));
	assert_null(b);
	assert_true(strncmp(err, "metrics: cannot listen on 127.0.0.1 port ",
	    41) == 0);
	metrics_close(a);
	metrics_close(NULL);
	assert_int_equal(calls, 0);
	ev_loop_destroy(loop);
}

static void
test_open_ipv6(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct metrics	*m;
	char		 err[256];
	int		 fd;

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd == -1) {
		ev_loop_destroy(loop);
		print_message("no IPv6 sockets on this machine\n");
		skip();
	}
	close(fd);
	m = metrics_open(loop, "::1", 0, canned, NULL, err, sizeof(err));
	if (m == NULL && strstr(err, "Cannot assign") != NULL) {
		ev_loop_destroy(loop);
		print_message("no IPv6 loopback: %s\n", err);
		skip();
	}
	assert_non_null(m);
	assert_true(metrics_port(m) > 0);
	metrics_close(m);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_render_utf8),
		cmocka_unit_test(test_http_paths),
		cmocka_unit_test(test_loop_responsive),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
