/*
 * push: final ledger rows to an HTTP endpoint (see push.h).
 *
 * One timer and at most one POST in flight. The timer marks a look as
 * due; the look itself runs from push_after_commit, when the loop has
 * committed, so it reads only what a crash cannot take back. A 2xx
 * advances the cursor (committed by the loop right after) and looks
 * again at once, so a backlog drains batch after batch; a look that finds
 * nothing waits export.interval. A failed POST waits a backoff doubling
 * from 1 s up to export.max_backoff (or the endpoint's Retry-After, up to
 * HTTP_MAX_RETRY_AFTER), then sends from the same cursor; a 413 halves
 * the batch first. The URL and token never reach the log (they may hold
 * secrets); the endpoint's answer is capped at PUSH_MAX_ANSWER bytes and
 * read by nobody.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

#include "common/fsutil.h"
#include "common/http.h"
#include "common/job.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "scheduler/carbon/prov_util.h"
#include "scheduler/daemon.h"
#include "scheduler/ledger.h"
#include "scheduler/push.h"
#include "scheduler/store.h"

#define PUSH_MAX_BYTES	(1 << 20)	/* a batch stops growing past this */
#define PUSH_MAX_ANSWER	(64 << 10)	/* bytes of an answer we take */
#define PUSH_MAX_TOKEN	4096		/* bytes of the token file */
#define PUSH_MAX_CA	(1 << 20)	/* bytes of the CA file */
#define PUSH_FIRST_WAIT	1.0		/* s before the first retry */
#define PUSH_VERSION	1		/* of the batch document */

struct push {
	struct ebbd	*d;
	struct http	*http;
	ev_timer	 timer;
	char		 instance[33];
	int64_t		 sent;		/* cursor: acknowledged up to here */
	int		 due;		/* look once the store is committed */
	int		 inflight;
	int64_t		 last;		/* seq of the last row in flight */
	size_t		 n;		/* rows in flight */
	int		 limit;		/* rows per POST now */
	int		 failures;	/* in a row */
	char		 why[128];	/* the last failure, logged once */
	struct push_stats stats;	/* rows, failures, last_ok */
};

static const struct ebb_export *
conf(const struct push *p)
{
	return &p->d->cfg->export;
}

static void
arm(struct push *p, double after)
{
	ev_timer_stop(p->d->loop, &p->timer);
	ev_timer_set(&p->timer, after, 0.);
	ev_timer_start(p->d->loop, &p->timer);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct push *p = w->data;

	if (conf(p)->url != NULL)
		p->due = 1;
}

/*
 * A try failed: log it (at warn when the reason is new, so that an
 * outage is one line, not one per try) and try again after a backoff.
 */
static void
retry_later(struct push *p, const char *why, double hint)
{
	double wait;

	p->failures++;
	p->stats.failures++;
	wait = ebb_backoff(p->failures, PUSH_FIRST_WAIT,
	    (double)conf(p)->max_backoff);
	if (hint > wait)
		wait = hint;
	if (strcmp(why, p->why) != 0) {
		log_warnx("export: %s; final ledger rows wait, retrying in "
		    "%.0f s", why, wait);
		snprintf(p->why, sizeof(p->why), "%s", why);
	} else
		log_debug("export: %s (%d tries); retrying in %.0f s", why,
		    p->failures, wait);
	arm(p, wait);
}

/*
 * Reads a small file named in the config (at each send, so a rotated one
 * is used at once) into *out (caller frees), NUL-terminated, of *len
 * bytes. -1 with err naming what and path.
 */
static int
read_conf_file(const char *what, const char *path, size_t max, char **out,
    size_t *len, char *err, size_t errlen)
{
	char why[128];
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	rc = fs_read_fd(fd, max, out, len, why, sizeof(why));
	close(fd);
	if (rc == -1)
		snprintf(err, errlen, "%s %s: %s", what, path, why);
	return rc;
}

/*
 * The bearer token from export.token_file as an Authorization header in
 * *hdr (caller wipes and frees). 0 without a token file, 1 with, -1 with
 * err.
 */
static int
auth_header(const struct push *p, char **hdr, char *err, size_t errlen)
{
	const char *path = conf(p)->token_file;
	char *tok, why[128];
	size_t len;
	int rc = -1;

	*hdr = NULL;
	if (path == NULL)
		return 0;
	if (read_conf_file("token file", path, PUSH_MAX_TOKEN, &tok, &len, err,
	    errlen) == -1)
		return -1;
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
	    tok[len - 1] == ' ' || tok[len - 1] == '\t'))
		tok[--len] = '\0';
	if (strlen(tok) != len)
		snprintf(err, errlen, "token file %s: has a NUL byte", path);
	else if (prov_check_secret("token", "export.token_file", tok, 0, why,
	    sizeof(why)) == -1)
		snprintf(err, errlen, "token file %s: %s", path, why);
	else {
		*hdr = xasprintf("Authorization: Bearer %s", tok);
		rc = 1;
	}
	explicit_bzero(tok, len);
	free(tok);
	return rc;
}

/*
 * Appends the rows of rs[0..n) to body as `ebb report --json` rows with
 * key, seq and revision, as many as fit PUSH_MAX_BYTES (at least one);
 * returns how many, or -1 with err.
 */
static ssize_t
add_rows(struct push *p, const struct store_final *rs, size_t n,
    struct strbuf *body, char *err, size_t errlen)
{
	struct store *st = p->d->store;
	size_t i;

	for (i = 0; i < n && (i == 0 || body->len < PUSH_MAX_BYTES); i++) {
		struct job *j = NULL;
		json_t *row = NULL;
		char *text, *key;
		int rc;

		if ((rc = store_job_get(st, rs[i].job_id, &j)) != 1) {
			snprintf(err, errlen, "job %" PRId64 ": %s",
			    rs[i].job_id, rc == 0 ? "final ledger row without "
			    "its job" : store_errmsg(st));
			return -1;
		}
		rc = ledger_job_json(st, j, &row, err, errlen);
		job_free(j);
		if (rc != 1) {
			if (rc == 0)
				snprintf(err, errlen, "job %" PRId64 ": no "
				    "ledger row", rs[i].job_id);
			return -1;
		}
		key = xasprintf("%s-%" PRId64 "-%d", p->instance,
		    rs[i].job_id, rs[i].revision);
		json_object_set_new(row, "key", json_string(key));
		json_object_set_new(row, "seq", json_integer(rs[i].seq));
		json_object_set_new(row, "revision",
		    json_integer(rs[i].revision));
		free(key);
		text = json_dumps(row, JSON_COMPACT);
		json_decref(row);
		if (text == NULL) {
			snprintf(err, errlen, "job %" PRId64 ": row not "
			    "encodable as JSON", rs[i].job_id);
			return -1;
		}
		if (i > 0)
			strbuf_addc(body, ',');
		strbuf_adds(body, text);
		free(text);
	}
	return (ssize_t)i;
}

static void on_answer(void *, const struct http_resp *);

/* Sends the rows after the cursor, or waits for more. */
static void
look(struct push *p)
{
	const struct ebb_export *x = conf(p);
	struct store_final *rs = xcalloc((size_t)p->limit, sizeof(*rs));
	struct strbuf body = STRBUF_INIT;
	const char *hdrs[4];
	char err[512], *auth = NULL, *ca = NULL;
	struct http_req req = { 0 };
	size_t n, calen;
	ssize_t sent = 0;
	int h = 0;

	if (store_final_after(p->d->store, p->sent, (size_t)p->limit, rs,
	    &n) == -1) {
		snprintf(err, sizeof(err), "%s", store_errmsg(p->d->store));
		goto fail;
	}
	if (n == 0) {
		free(rs);
		arm(p, (double)x->interval);
		return;
	}
	strbuf_addf(&body, "{\"source\":\"ebb\",\"version\":%d,"
	    "\"instance\":\"%s\",\"sent_at\":%" PRId64 ",\"rows\":[",
	    PUSH_VERSION, p->instance, ebb_now());
	if ((sent = add_rows(p, rs, n, &body, err, sizeof(err))) == -1 ||
	    auth_header(p, &auth, err, sizeof(err)) == -1 ||
	    (x->ca_file != NULL && read_conf_file("CA file", x->ca_file,
	    PUSH_MAX_CA, &ca, &calen, err, sizeof(err)) == -1))
		goto fail;
	strbuf_adds(&body, "]}");
	hdrs[h++] = "Content-Type: application/json";
	hdrs[h++] = "Expect:";		/* no 100-continue round trip */
	if (auth != NULL)
		hdrs[h++] = auth;
	hdrs[h] = NULL;
	req.url = x->url;
	req.method = "POST";
	req.body = strbuf_str(&body);
	req.body_len = body.len;
	req.headers = hdrs;
	req.ca_pem = ca;
	req.timeout_s = (double)x->timeout;
	req.max_body = PUSH_MAX_ANSWER;
	req.max_tries = 1;	/* retries are ours: with the cursor */
	if (http_request(p->http, &req, on_answer, p, err, sizeof(err)) == -1)
		goto fail;
	p->inflight = 1;
	p->last = rs[sent - 1].seq;
	p->n = (size_t)sent;
	log_debug("export: sending %zd row(s), seq %" PRId64 " to %" PRId64,
	    sent, rs[0].seq, p->last);
	goto out;
fail:
	retry_later(p, err, 0);
out:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(ca);
	strbuf_free(&body);
	free(rs);
}

static void
on_answer(void *arg, const struct http_resp *r)
{
	struct push *p = arg;
	char why[160];

	p->inflight = 0;
	if (r->error == NULL) {
		int64_t now = ebb_now();

		if (store_export_set(p->d->store, p->last, now) == -1) {
			retry_later(p, store_errmsg(p->d->store), 0);
			return;
		}
		p->stats.rows += (int64_t)p->n;
		p->stats.last_ok = now;
		if (p->failures > 0)
			log_info("export: the endpoint takes rows again "
			    "(after %d failed tries)", p->failures);
		log_debug("export: %zu row(s) acknowledged, up to seq %"
		    PRId64, p->n, p->last);
		p->sent = p->last;
		p->failures = 0;
		p->why[0] = '\0';
		p->due = conf(p)->url != NULL;	/* more may wait */
		return;
	}
	if (r->status == 413 && p->limit > 1) {
		p->limit = p->n > 1 ? (int)(p->n / 2) : 1;
		log_warnx("export: HTTP 413: the endpoint refuses %zu rows at "
		    "once; sending %d at a time", p->n, p->limit);
	}
	snprintf(why, sizeof(why), "%s%s", r->error, r->status >= 300 &&
	    r->status < 400 ? " (redirects are not followed: set the "
	    "final URL)" : "");
	if (conf(p)->url != NULL)
		retry_later(p, why, r->retry_after_s);
}

struct push *
push_new(struct ebbd *d, char *err, size_t errlen)
{
	struct push *p = xcalloc(1, sizeof(*p));

	p->d = d;
	if (store_export_get(d->store, p->instance, &p->sent,
	    &p->stats.last_ok) == -1) {
		snprintf(err, errlen, "export: %s", store_errmsg(d->store));
		free(p);
		return NULL;
	}
	if ((p->http = http_new(d->loop, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	ev_init(&p->timer, on_timer);
	p->timer.data = p;
	push_reconfigure(p);
	return p;
}

void
push_free(struct push *p)
{
	if (p == NULL)
		return;
	ev_timer_stop(p->d->loop, &p->timer);
	http_free(p->http);
	free(p);
}

void
push_after_commit(struct push *p)
{
	if (p == NULL || !p->due || p->inflight || conf(p)->url == NULL)
		return;
	p->due = 0;
	if (store_pending(p->d->store) != 0) {
		/* Not all committed (the loop gave up for now): soon. */
		arm(p, 1.);
		return;
	}
	look(p);
}

void
push_reconfigure(struct push *p)
{
	const struct ebb_export *x = conf(p);
	char every[32];

	p->limit = x->batch;
	p->failures = 0;
	p->why[0] = '\0';
	ev_timer_stop(p->d->loop, &p->timer);
	if (x->url == NULL)
		return;
	log_info("export: final ledger rows are pushed in batches of up to "
	    "%d, looked for every %s", x->batch, ebb_fmt_duration(x->interval,
	    every, sizeof(every)));
	if (!p->inflight)
		arm(p, 0.);
}

int
push_stats(struct push *p, struct push_stats *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	if (p == NULL || conf(p)->url == NULL)
		return 1;
	*st = p->stats;
	if (store_final_count(p->d->store, p->sent, &st->waiting) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(p->d->store));
		return -1;
	}
	return 0;
}
