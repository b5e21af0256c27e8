/*
 * test_http: the curl-on-libev HTTP client against the real ci-server
 * ($EBB_CI_SERVER) on loopback: bodies, retries and their backoff,
 * Retry-After (seconds, HTTP dates, hostile values bounded or ignored, a
 * long one handed to the caller), timeouts with a responsive loop,
 * truncated and oversized bodies, refused connections, cancellation,
 * concurrency, and that the callback never runs inside http_request().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/xmalloc.h"
#include "common/http.h"
#include "testutil.h"

static const char ok_body[] =
    "{\"zone\":\"DE\",\"forecast\":[{\"carbonIntensity\":312,"
    "\"datetime\":\"2023-03-14T12:00:00.000Z\"}]}\n";

static pid_t	server = -1;
static int	port;

struct t {
	struct ev_loop	*loop;
	struct http	*h;
};

struct result {
	int		 done;
	long		 status;
	char		*body;
	size_t		 len;
	char		*error;
	int		 tries;
	double		 retry_after;
	double		 at;		/* ev_time() of the callback */
};

static int in_get;

static void
on_resp(void *arg, const struct http_resp *r)
{
	struct result *res = arg;

	assert_false(in_get);
	res->done++;
	res->status = r->status;
	res->body = xstrndup(r->body, r->len);
	assert_int_equal(r->body[r->len], '\0');
	res->len = r->len;
	res->error = r->error != NULL ? xstrdup(r->error) : NULL;
	res->tries = r->tries;
	res->retry_after = r->retry_after_s;
	res->at = ev_time();
}

static void
result_clear(struct result *res)
{
	free(res->body);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

static struct http_req
defaults(void)
{
	struct http_req q = {
		.timeout_s = 2, .max_body = 1 << 20, .max_tries = 3,
		.backoff_s = 0.05, .max_backoff_s = 5,
	};

	return q;
}

/* Starts a GET of path on 127.0.0.1:port. */
static void
start(struct t *t, const char *path, struct http_req q, struct result *res)
{
	char url[256], err[128];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	q.url = url;
	in_get = 1;
	rc = http_request(t->h, &q, on_resp, res, err, sizeof(err));
	in_get = 0;
	assert_int_equal(rc, 0);
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	fail_msg("timed out waiting for callbacks");
}

/* Runs the loop until *done reaches n (at most 10 s). */
static void
wait_for(struct t *t, const int *done, int n)
{
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, 10., 0.);
	ev_timer_start(t->loop, &guard);
	while (*done < n)
		ev_run(t->loop, EVRUN_ONCE);
	ev_timer_stop(t->loop, &guard);
}

/* GET path to completion. */
static void
fetch(struct t *t, const char *path, struct http_req q, struct result *res)
{
	start(t, path, q, res);
	wait_for(t, &res->done, 1);
	assert_int_equal(res->done, 1);
}

/* Sets up a server-side fault (or reset) and checks it was accepted. */
static void
control(struct t *t, const char *path)
{
	struct result res = { 0 };

	fetch(t, path, defaults(), &res);
	assert_null(res.error);
	assert_string_equal(res.body, "ok\n");
	result_clear(&res);
}

/* How many logged requests name path. */
static int
logged(struct t *t, const char *path)
{
	struct result res = { 0 };
	char *needle = xasprintf("\"path\":\"%s\"", path);
	const char *p;
	int n = 0;

	fetch(t, "/_log", defaults(), &res);
	for (p = res.body; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(needle);
	result_clear(&res);
	return n;
}

static int
start_server(void **state)
{
	const char *bin = getenv("EBB_CI_SERVER");
	char line[32];
	int fds[2];
	ssize_t n;

	if (bin == NULL) {
		fprintf(stderr, "EBB_CI_SERVER is not set (run via ctest)\n");
		return -1;
	}
	tu_tmpdir_create("test_http");
	free(tu_write_tmp("ok.json", ok_body));
	free(tu_write_tmp("routes", "# test routes\n/v3/forecast?zone=FR "
	    "ok.json\n/v3/forecast missing.json\n"));
	if (pipe(fds) == -1)
		return -1;
	if ((server = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(bin, "ci-server", tu_tmpdir(), (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	port = atoi(line);
	return port > 0 ? 0 : -1;
}

static int
stop_server(void **state)
{
	int status;

	if (server > 0) {
		kill(server, SIGTERM);
		if (waitpid(server, &status, 0) != server ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "ci-server did not stop cleanly\n");
			return -1;
		}
	}
	tu_tmpdir_remove();
	return 0;
}

static int
setup(void **state)
{
	struct t *t = xcalloc(1, sizeof(*t));
	char err[128];

	t->loop = ev_loop_new(EVFLAG_AUTO);
	t->h = http_new(t->loop, err, sizeof(err));
	if (t->h == NULL)
		return -1;
	*state = t;
	control(t, "/_reset");
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	http_free(t->h);
	ev_loop_destroy(t->loop);
	free(t);
	return 0;
}

static void
test_ok(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	const char *hdrs[] = { "auth-token: s3cret", NULL };
	struct http_req q = defaults();

	q.headers = hdrs;
	q.userpwd = "user:pass";
	fetch(t, "/ok.json?zone=DE", q, &res);
	assert_null(res.error);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.tries, 1);
	assert_int_equal(res.len, strlen(ok_body));
	assert_string_equal(res.body, ok_body);
	result_clear(&res);
	assert_int_equal(http_pending(t->h), 0);

	/* The server saw the query, the token header and basic auth. */
	fetch(t, "/_log", defaults(), &res);
	assert_non_null(strstr(res.body, "\"query\":\"zone=DE\""));
	assert_non_null(strstr(res.body, "\"auth_token\":true"));
	assert_non_null(strstr(res.body, "\"authorization\":true"));
	result_clear(&res);
}

static void
test_routes_and_404(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();

	fetch(t, "/v3/forecast?zone=FR", q, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, ok_body);
	result_clear(&res);

	/* 4xx other than 429 is not retried. */
	fetch(t, "/v3/forecast?zone=DE", q, &res);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.error, "HTTP 404");
	assert_int_equal(res.tries, 1);
	result_clear(&res);
	assert_int_equal(logged(t, "/v3/forecast"), 2);
}

static void
test_500_then_ok(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };

	control(t, "/_fault?mode=500&count=1");
	fetch(t, "/ok.json", defaults(), &res);
	assert_null(res.error);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.tries, 2);
	assert_string_equal(res.body, ok_body);
	result_clear(&res);
}

static void
test_500_forever(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();
	double t0;

	control(t, "/_fault?mode=500");
	q.backoff_s = 0.2;
	t0 = ev_time();
	fetch(t, "/ok.json", q, &res);
	/* Waits 0.2 * [0.5, 1] then 0.4 * [0.5, 1]. */
	assert_true(res.at - t0 >= 0.3);
	assert_true(res.at - t0 < 1.5);
	assert_string_equal(res.error, "HTTP 500");
	assert_int_equal(res.status, 500);
	assert_int_equal(res.tries, 3);
	assert_int_equal(logged(t, "/ok.json"), 3);
	result_clear(&res);
}

static void
test_429_retry_after(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();
	double t0;

	control(t, "/_fault?mode=429&count=1");
	q.backoff_s = 0.01;
	t0 = ev_time();
	fetch(t, "/ok.json", q, &res);
	assert_null(res.error);
	assert_int_equal(res.tries, 2);
	assert_true(res.at - t0 >= 0.95);
	assert_true(res.retry_after == 1.0);
	result_clear(&res);

	/* A Retry-After longer than max_backoff_s ends the request at once:
	 * the caller waits, not the request. */
	control(t, "/_fault?mode=429");
	q.max_tries = 2;
	q.max_backoff_s = 0.1;
	t0 = ev_time();
	fetch(t, "/ok.json", q, &res);
	assert_true(res.at - t0 < 0.9);
	assert_int_equal(res.tries, 1);
	assert_int_equal(res.status, 429);
	assert_string_equal(res.error, "HTTP 429 (Retry-After 1 s)");
	assert_true(res.retry_after == 1.0);
	result_clear(&res);

	/* Later tries without Retry-After back off as usual again. */
	control(t, "/_fault?mode=429:1&count=1");
	q = defaults();
	q.backoff_s = 0.01;
	t0 = ev_time();
	fetch(t, "/_f/503:0/ok.json", q, &res);
	assert_true(res.at - t0 >= 0.95);
	assert_true(res.at - t0 < 1.5);
	assert_int_equal(res.tries, 3);
	assert_string_equal(res.error, "HTTP 503");
	assert_true(res.retry_after == 1.0);
	result_clear(&res);
}

/* Hostile Retry-After values: bounded or ignored, never obeyed as is. */
static void
test_retry_after_hostile(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();
	char path[160], date[64];
	time_t soon;
	double t0;

	/* An hour or ten years: bounded to an hour, handed to the caller at
	 * once (one try), not waited for in here. */
	for (int i = 0; i < 2; i++) {
		control(t, i == 0 ? "/_fault?mode=429&retry_after=3600" :
		    "/_fault?mode=503&retry_after=99999999999999999999");
		t0 = ev_time();
		fetch(t, "/ok.json", q, &res);
		assert_true(res.at - t0 < 0.5);
		assert_int_equal(res.tries, 1);
		assert_true(res.retry_after == HTTP_MAX_RETRY_AFTER);
		assert_string_equal(res.error, i == 0 ?
		    "HTTP 429 (Retry-After 3600 s)" :
		    "HTTP 503 (Retry-After 3600 s)");
		result_clear(&res);
	}

	/* Garbage, negative, fractional: ignored, so the usual backoff. */
	q.backoff_s = 0.01;
	q.max_tries = 2;
	control(t, "/_fault?mode=429&retry_after=-5&count=1");
	fetch(t, "/ok.json", q, &res);
	assert_null(res.error);
	assert_int_equal(res.tries, 2);
	assert_true(res.retry_after == 0);
	result_clear(&res);
	control(t, "/_fault?mode=429&retry_after=soon%20please&count=1");
	t0 = ev_time();
	fetch(t, "/ok.json", q, &res);
	assert_null(res.error);
	assert_true(res.at - t0 < 0.5);
	assert_true(res.retry_after == 0);
	result_clear(&res);

	/* An HTTP-date two seconds ahead: waited for, then the retry. */
	soon = time(NULL) + 2;
	strftime(date, sizeof(date), "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT",
	    gmtime(&soon));
	snprintf(path, sizeof(path), "/_fault?mode=429&count=1&retry_after=%s",
	    date);
	control(t, path);
	q = defaults();
	t0 = ev_time();
	fetch(t, "/ok.json", q, &res);
	assert_null(res.error);
	assert_int_equal(res.tries, 2);
	assert_true(res.retry_after >= 1 && res.retry_after <= 2);
	assert_true(res.at - t0 >= 0.9);
	result_clear(&res);
}

/* http_retry_after() on its own, as of 2026-11-22T13:55:00Z, a Sunday. */
static void
test_retry_after_parse(void **state)
{
	static const struct {
		const char	*value;
		double		 want;
	} cases[] = {
		{ "120", 120 }, { "  7\t", 7 }, { "007", 7 },
		{ "3600", 3600 }, { "3601", 3600 }, { "86400", 3600 },
		{ "99999999999999999999999999", 3600 },
		{ "0", 0 }, { "-5", 0 }, { "-99999999999", 0 }, { "1.5", 0 },
		{ "1e9", 0 }, { "5 apples", 0 }, { "", 0 }, { "   ", 0 },
		{ "soon", 0 }, { "0x10", 0 }, { "+5", 0 },
		/* IMF-fixdate, RFC 850 and asctime, ten minutes ahead. */
		{ "Sun, 22 Nov 2026 14:05:00 GMT", 600 },
		{ "Sunday, 22-Nov-26 14:05:00 GMT", 600 },
		{ "Sun Nov 22 14:05:00 2026", 600 },
		/* In the past, now, or decades ahead. */
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
		{ "Sun, 22 Nov 2026 13:55:00 GMT", 0 },
		{ "Fri, 31 Dec 2100 23:59:59 GMT", 3600 },
		{ "Sun, 99 Foo 2026 99:99:99 GMT", 0 },
		{ "Sun, 22 Nov 2026 14:05:00 GMT and more text that makes "
		  "this value longer than any date", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = http_retry_after(cases[i].value, 1795355700);

		if (got != cases[i].want)
			fail_msg("'%s': got %g, want %g", cases[i].value, got,
			    cases[i].want);
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(*(int *)w->data)++;
}

static void
test_hang_times_out(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();
	ev_timer tick;
	int ticks = 0;
	double t0;

	ev_timer_init(&tick, tick_cb, 0.05, 0.05);
	tick.data = &ticks;
	ev_timer_start(t->loop, &tick);
	q.timeout_s = 0.5;
	q.max_tries = 1;
	t0 = ev_time();
	fetch(t, "/_f/hang/ok.json", q, &res);
	ev_timer_stop(t->loop, &tick);
	assert_string_equal(res.error, "timed out after 0.5 s");
	assert_int_equal(res.status, 0);
	assert_true(res.at - t0 >= 0.45);
	assert_true(res.at - t0 < 2.0);
	/* The loop kept running while the request hung. */
	assert_true(ticks >= 6);
	result_clear(&res);

	/* A slow answer within the timeout is fine. */
	fetch(t, "/_f/hang:0.2/ok.json", defaults(), &res);
	assert_null(res.error);
	assert_string_equal(res.body, ok_body);
	result_clear(&res);
}

static void
test_truncated(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();

	q.max_tries = 2;
	q.backoff_s = 0.01;
	fetch(t, "/_f/truncate/ok.json", q, &res);
	assert_string_equal(res.error, "truncated response");
	assert_int_equal(res.tries, 2);
	result_clear(&res);
}

static void
test_too_large(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();

	/* Chunked: caught while reading; not retried. */
	fetch(t, "/_f/huge/big", q, &res);
	assert_string_equal(res.error, "response larger than 1048576 bytes");
	assert_int_equal(res.tries, 1);
	assert_int_equal(logged(t, "/big"), 1);
	result_clear(&res);

	/* Content-Length says too much. */
	q.max_body = 16;
	fetch(t, "/ok.json", q, &res);
	assert_string_equal(res.error, "response larger than 16 bytes");
	assert_int_equal(res.tries, 1);
	result_clear(&res);

	/* Exactly max_body is fine. */
	q.max_body = strlen(ok_body);
	fetch(t, "/ok.json", q, &res);
	assert_null(res.error);
	assert_string_equal(res.body, ok_body);
	result_clear(&res);
}

static void
test_bad_and_empty_bodies(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };

	fetch(t, "/_f/badjson/ok.json", defaults(), &res);
	assert_null(res.error);
	assert_int_equal(res.status, 200);
	assert_null(strstr(res.body, "carbonIntensity"));
	result_clear(&res);

	fetch(t, "/_f/empty/ok.json", defaults(), &res);
	assert_null(res.error);
	assert_int_equal(res.len, 0);
	assert_string_equal(res.body, "");
	result_clear(&res);

	control(t, "/_fault?mode=empty&count=1&body=routes");
	fetch(t, "/ok.json", defaults(), &res);
	assert_non_null(strstr(res.body, "# test routes"));
	result_clear(&res);
}

/* A loopback port nobody listens on. */
static int
closed_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
test_refused(void **state)
{
	struct t *t = *state;
	struct result res = { 0 };
	struct http_req q = defaults();
	int saved = port;

	port = closed_port();
	q.max_tries = 2;
	q.backoff_s = 0.01;
	fetch(t, "/ok.json", q, &res);
	port = saved;
	assert_string_equal(res.error, "connection refused");
	assert_int_equal(res.status, 0);
	assert_int_equal(res.tries, 2);
	result_clear(&res);
}

static void
test_bad_args(void **state)
{
	struct t *t = *state;
	struct http_req q = defaults();
	struct result res = { 0 };
	char err[128];

	q.url = "http://127.0.0.1:1/";
	q.max_tries = 0;
	assert_int_equal(http_request(t->h, &q, on_resp, &res, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "invalid HTTP request parameters");
	assert_int_equal(http_pending(t->h), 0);

	/* Only http and https. */
	fetch(t, "/ok.json", defaults(), &res);
	result_clear(&res);
	q = defaults();
	q.url = "file:///etc/passwd";
	assert_int_equal(http_request(t->h, &q, on_resp, &res, err, sizeof(err)),
	    0);
	wait_for(t, &res.done, 1);
	assert_non_null(res.error);
	assert_int_equal(res.len, 0);
	assert_int_equal(res.tries, 1);
	result_clear(&res);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ONE);
}

/* Runs the loop for secs. */
static void
run_for(struct t *t, double secs)
{
	ev_timer w;

	ev_timer_init(&w, stop_cb, secs, 0.);
	ev_timer_start(t->loop, &w);
	ev_run(t->loop, 0);
	ev_timer_stop(t->loop, &w);
}

static void
test_cancel(void **state)
{
	struct t *t = *state;
	struct result a = { 0 }, b = { 0 }, c = { 0 };
	struct http_req q = defaults();
	int saved = port;

	/* a hangs in flight, b waits to retry, c completes. */
	start(t, "/_f/hang:5/ok.json", defaults(), &a);
	port = closed_port();
	q.max_tries = 5;
	q.backoff_s = 0.3;
	start(t, "/ok.json", q, &b);
	port = saved;
	start(t, "/ok.json", defaults(), &c);
	assert_int_equal(http_pending(t->h), 3);
	wait_for(t, &c.done, 1);
	run_for(t, 0.1);
	assert_int_equal(http_pending(t->h), 2);
	http_cancel(t->h, &a);
	http_cancel(t->h, &b);
	assert_int_equal(http_pending(t->h), 0);
	run_for(t, 0.5);
	assert_int_equal(a.done, 0);
	assert_int_equal(b.done, 0);
	assert_int_equal(c.done, 1);
	assert_null(c.error);
	result_clear(&c);

	/* http_free with a request in flight calls nothing. */
	start(t, "/_f/hang:5/ok.json", defaults(), &a);
	run_for(t, 0.1);
	assert_int_equal(http_pending(t->h), 1);
}

static void
test_concurrent(void **state)
{
	struct t *t = *state;
	struct result res[8], slow = { 0 };
	int done = 0, i;

	memset(res, 0, sizeof(res));
	start(t, "/_f/hang:1/ok.json", defaults(), &slow);
	for (i = 0; i < 8; i++)
		start(t, i % 2 ? "/ok.json" : "/_f/503:0/ok.json", defaults(),
		    &res[i]);
	assert_int_equal(http_pending(t->h), 9);
	while (done < 8) {
		ev_run(t->loop, EVRUN_ONCE);
		for (done = 0, i = 0; i < 8; i++)
			done += res[i].done;
	}
	/* The fast ones did not wait behind the slow one. */
	assert_int_equal(slow.done, 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].status, i % 2 ? 200 : 503);
		assert_int_equal(res[i].tries, i % 2 ? 1 : 3);
		result_clear(&res[i]);
	}
	wait_for(t, &slow.done, 1);
	assert_string_equal(slow.body, ok_body);
	result_clear(&slow);
}

/* A callback may free the whole client. */
static void
free_from_cb(void *arg, const struct http_resp *r)
{
	struct t *t = arg;

	assert_false(in_get);
	assert_int_equal(r->status, 200);
	http_free(t->h);
	t->h = NULL;
}

static void
test_free_in_callback(void **state)
{
	struct t *t = *state;
	struct http_req q = defaults();
	struct result other = { 0 };
	char url[128], err[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok.json", port);
	q.url = url;
	start(t, "/_f/hang:5/ok.json", defaults(), &other);
	in_get = 1;
	assert_int_equal(http_request(t->h, &q, free_from_cb, t, err,
	    sizeof(err)), 0);
	in_get = 0;
	while (t->h != NULL)
		ev_run(t->loop, EVRUN_ONCE);
	t->h = http_new(t->loop, err, sizeof(err));
	assert_non_null(t->h);
	run_for(t, 0.1);
	assert_int_equal(other.done, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_and_404, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_500_then_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_500_forever, setup,
		    teardown),
		cmocka_unit_test(test_retry_after_parse),
		cmocka_unit_test_setup_teardown(test_retry_after_hostile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_429_retry_after, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hang_times_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_and_empty_bodies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_in_callback, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, start_server, stop_server);
}
