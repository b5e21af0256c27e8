/*
 * http: HTTP requests on ebbd's libev loop through libcurl's
 * multi-socket API.
 *
 * curl tells us which sockets to watch (sock_cb) and when to call it back
 * (timer_cb); both become libev watchers, so no call here ever waits. Each
 * request keeps its easy handle across tries and one ev_timer that serves,
 * in turn, as the retry wait and as the zero-delay delivery of its result:
 * callbacks therefore always run from that watcher, never from inside
 * http_request() or from inside curl, and may call http_request, http_cancel or
 * http_free. Retry-After is read here with curl's header API and parsed
 * strictly (http_retry_after); its date form goes to curl_getdate(). This
 * file does not parse bodies or log anything; error messages never carry
 * URLs or header values, which may hold secrets. PEM text for TLS goes to
 * curl as blobs (CURLOPT_CAINFO_BLOB, SSLCERT_BLOB, SSLKEY_BLOB), so no
 * key is ever written to a file; the key's copy is wiped on release. A
 * streamed request forwards a 2xx body from write_cb as it comes.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "common/http.h"

enum hreq_state {
	HREQ_WAITING,		/* timer runs until the next try */
	HREQ_RUNNING,		/* easy handle is in the multi handle */
	HREQ_DONE,		/* timer runs until the callback */
};

struct hreq {
	struct http		*h;
	struct hreq		*prev, *next;
	enum hreq_state		 state;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*url;
	char			*userpwd;
	char			*method;
	char			*sendbody;
	size_t			 sendlen;
	char			*ca_pem, *cert_pem, *key_pem;
	int			 stopped;	/* stream_cb said stop */
	struct http_req		 req;	/* limits; its strings are not used */
	http_cb			 cb;
	void			*arg;
	ev_timer		 timer;
	char			*body;
	size_t			 len, cap;
	int			 oversize;
	int			 tries;
	long			 status;
	double			 retry_after;	/* last one seen */
	double			 hint;		/* this try's Retry-After */
	char			 error[96];
	int			 failed;
};

struct sockw {
	ev_io			 io;
	struct http		*h;
	struct sockw		*prev, *next;
};

struct http {
	struct ev_loop		*loop;
	CURLM			*multi;
	ev_timer		 timer;
	struct hreq		*reqs;
	struct sockw		*socks;
	size_t			 n;
};

static void	start_try(struct hreq *);

static void
req_unlink(struct hreq *r)
{
	struct http *h = r->h;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	h->n--;
}

/* Frees what the request owns; touches neither the loop nor curl's multi. */
static void
req_release(struct hreq *r)
{
	curl_easy_cleanup(r->easy);
	/* Headers may carry a bearer token. */
	for (struct curl_slist *l = r->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(r->headers);
	free(r->url);
	if (r->userpwd != NULL)
		explicit_bzero(r->userpwd, strlen(r->userpwd));
	free(r->userpwd);
	free(r->method);
	free(r->sendbody);
	free(r->ca_pem);
	free(r->cert_pem);
	if (r->key_pem != NULL)
		explicit_bzero(r->key_pem, strlen(r->key_pem));
	free(r->key_pem);
	free(r->body);
	free(r);
}

/* Stops everything the request has going and frees it (no callback). */
static void
req_free(struct hreq *r)
{
	ev_timer_stop(r->h->loop, &r->timer);
	if (r->state == HREQ_RUNNING)
		curl_multi_remove_handle(r->h->multi, r->easy);
	req_release(r);
}

/*
 * Runs the callback with nothing of h on the stack afterwards, so the
 * callback may even free h.
 */
static void
deliver(struct hreq *r)
{
	struct http_resp resp;

	req_unlink(r);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	memset(&resp, 0, sizeof(resp));
	resp.status = r->status;
	resp.body = r->body != NULL ? r->body : "";
	resp.len = r->len;
	resp.error = r->failed ? r->error : NULL;
	resp.tries = r->tries;
	resp.retry_after_s = r->retry_after;
	r->cb(r->arg, &resp);
	req_release(r);
}

static void
req_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hreq *r = w->data;

	if (r->state == HREQ_DONE)
		deliver(r);
	else
		start_try(r);
}

static void
req_set_timer(struct hreq *r, enum hreq_state state, double after)
{
	r->state = state;
	ev_timer_stop(r->h->loop, &r->timer);
	ev_timer_set(&r->timer, after, 0.);
	ev_timer_start(r->h->loop, &r->timer);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct hreq *r = userp;
	size_t n = size * nmemb;
	long code = 0;

	if (r->req.stream_cb != NULL &&
	    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code) ==
	    CURLE_OK && code >= 200 && code < 300) {
		if (r->req.stream_cb(r->arg, data, n) != 0) {
			r->stopped = 1;
			return 0;
		}
		return n;
	}
	if (n > r->req.max_body - r->len) {
		r->oversize = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		r->cap = r->len + n + 1 > 2 * r->cap ? r->len + n + 1 :
		    2 * r->cap;
		r->body = xrealloc(r->body, r->cap);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static void
start_try(struct hreq *r)
{
	CURLMcode mc;

	r->tries++;
	r->len = 0;
	if (r->body != NULL)
		r->body[0] = '\0';
	r->oversize = 0;
	r->stopped = 0;
	r->status = 0;
	r->state = HREQ_RUNNING;
	mc = curl_multi_add_handle(r->h->multi, r->easy);
	if (mc != CURLM_OK) {
		snprintf(r->error, sizeof(r->error), "%s",
		    curl_multi_strerror(mc));
		r->failed = 1;
		req_set_timer(r, HREQ_DONE, 0.);
	}
}

double
http_retry_after(const char *value, int64_t now)
{
	size_t n, len;
	double secs;
	char buf[64];
	time_t date;

	value += strspn(value, " \t");
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, value, len);
	buf[len] = '\0';
	n = strspn(buf, "0123456789");
	if (n == len) {
		/* Past 10 digits it is above the bound anyway. */
		secs = n > 10 ? HTTP_MAX_RETRY_AFTER : strtod(buf, NULL);
	} else if (isalpha((unsigned char)buf[0]) &&
	    (date = curl_getdate(buf, NULL)) != -1)
		secs = (double)((int64_t)date - now);
	else
		return 0;
	if (secs <= 0)
		return 0;
	return secs < HTTP_MAX_RETRY_AFTER ? secs : HTTP_MAX_RETRY_AFTER;
}

/* The Retry-After of this try's response, or 0. */
static double
retry_after(struct hreq *r)
{
	struct curl_header *hdr;

	if (curl_easy_header(r->easy, "Retry-After", 0, CURLH_HEADER, -1,
	    &hdr) != CURLHE_OK)
		return 0;
	return http_retry_after(hdr->value, ebb_now());
}

/* Is a transport error worth another try? */
static int
transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

enum outcome { OUT_OK, OUT_FAIL, OUT_RETRY };

/* Judges a finished try; on failure sets r->error. */
static enum outcome
classify(struct hreq *r, CURLcode rc)
{
	long oserr = 0;

	r->hint = 0;
	r->error[0] = '\0';
	if (rc == CURLE_OK) {
		if (r->status >= 200 && r->status < 300)
			return OUT_OK;
		if ((r->status == 429 || r->status == 503) &&
		    (r->hint = retry_after(r)) > 0)
			r->retry_after = r->hint;
		if (r->hint > 0)
			snprintf(r->error, sizeof(r->error),
			    "HTTP %ld (Retry-After %.0f s)", r->status,
			    r->hint);
		else
			snprintf(r->error, sizeof(r->error), "HTTP %ld",
			    r->status);
		return r->status == 429 || r->status >= 500 ? OUT_RETRY :
		    OUT_FAIL;
	}
	if (r->stopped) {
		snprintf(r->error, sizeof(r->error), "stopped by the caller");
		return OUT_FAIL;
	}
	if (r->oversize || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->error, sizeof(r->error),
		    "response larger than %zu bytes", r->req.max_body);
		return OUT_FAIL;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(r->error, sizeof(r->error), "timed out after %.1f s",
		    r->req.timeout_s);
	else if (rc == CURLE_PARTIAL_FILE)
		snprintf(r->error, sizeof(r->error), "truncated response");
	else if (rc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr) ==
	    CURLE_OK && oserr == ECONNREFUSED)
		snprintf(r->error, sizeof(r->error), "connection refused");
	else
		snprintf(r->error, sizeof(r->error), "%s",
		    curl_easy_strerror(rc));
	return transient(rc) ? OUT_RETRY : OUT_FAIL;
}

/* Handles the tries curl has finished: retry, or schedule the callback. */
static void
check_done(struct http *h)
{
	CURLMsg *msg;
	struct hreq *r;
	enum outcome out;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		out = classify(r, msg->data.result);
		curl_multi_remove_handle(h->multi, r->easy);
		r->failed = out != OUT_OK;
		/* A longer Retry-After than we wait in here: the caller's. */
		if (out == OUT_RETRY && r->tries < r->req.max_tries &&
		    r->hint <= r->req.max_backoff_s)
			req_set_timer(r, HREQ_WAITING, r->hint > 0 ? r->hint :
			    ebb_backoff(r->tries, r->req.backoff_s,
			    r->req.max_backoff_s));
		else
			req_set_timer(r, HREQ_DONE, 0.);
	}
}

static void
multi_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http *h = w->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sockw *s = (struct sockw *)w;
	struct http *h = s->h;
	int running, flags = 0;

	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, w->fd, flags, &running);
	check_done(h);
}

static void
sockw_free(struct http *h, struct sockw *s)
{
	ev_io_stop(h->loop, &s->io);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop. */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct http *h = userp;
	struct sockw *s = sockp;
	int ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sockw_free(h, s);
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->h = h;
		s->next = h->socks;
		if (h->socks != NULL)
			h->socks->prev = s;
		h->socks = s;
		ev_init(&s->io, io_cb);
		curl_multi_assign(h->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	ev_io_stop(h->loop, &s->io);
	ev_io_set(&s->io, fd, ev);
	ev_io_start(h->loop, &s->io);
	return 0;
}

/*
 * CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 fires it on the next loop
 * iteration rather than calling curl back from inside curl.
 */
static int
multi_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	ev_timer_stop(h->loop, &h->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&h->timer, timeout_ms / 1000.0, 0.);
		ev_timer_start(h->loop, &h->timer);
	}
	return 0;
}

struct http *
http_new(struct ev_loop *loop, char *err, size_t errlen)
{
	struct http *h;
	CURLcode rc;

	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(err, errlen, "curl: %s", curl_easy_strerror(rc));
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	if ((h->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "curl: cannot create a multi handle");
		free(h);
		curl_global_cleanup();
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, multi_timer_set);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	ev_init(&h->timer, multi_timer_cb);
	h->timer.data = h;
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	while (h->reqs != NULL) {
		struct hreq *r = h->reqs;

		req_unlink(r);
		req_free(r);
	}
	curl_multi_cleanup(h->multi);
	while (h->socks != NULL)
		sockw_free(h, h->socks);
	ev_timer_stop(h->loop, &h->timer);
	free(h);
	curl_global_cleanup();
}

/* Builds the easy handle that every try of r reuses. */
static int
req_setup(struct hreq *r, char *err, size_t errlen)
{
	CURL *e = r->easy;
	CURLcode rc = CURLE_OK;
	long ms = (long)ceil(r->req.timeout_s * 1000.0);

#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(e, opt, val);			\
} while (0)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->req.max_body);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, "ebb/" EBB_VERSION);
	if (r->headers != NULL)
		SET(CURLOPT_HTTPHEADER, r->headers);
	if (r->userpwd != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERPWD, r->userpwd);
	}
	if (r->method != NULL)
		SET(CURLOPT_CUSTOMREQUEST, r->method);
	/* libcurl sends a request again, on its own, when a reused
	 * connection turns out closed before any answer; a POST (a create)
	 * must go once: a fresh connection has no such retry. */
	if (r->method != NULL && strcmp(r->method, "POST") == 0)
		SET(CURLOPT_FRESH_CONNECT, 1L);
	if (r->sendbody != NULL) {
		SET(CURLOPT_POSTFIELDS, r->sendbody);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->sendlen);
	}
	if (r->ca_pem != NULL) {
		struct curl_blob b = { r->ca_pem, strlen(r->ca_pem),
		    CURL_BLOB_NOCOPY };

		SET(CURLOPT_CAINFO_BLOB, &b);
	}
	if (r->cert_pem != NULL && r->key_pem != NULL) {
		struct curl_blob c = { r->cert_pem, strlen(r->cert_pem),
		    CURL_BLOB_NOCOPY };
		struct curl_blob k = { r->key_pem, strlen(r->key_pem),
		    CURL_BLOB_NOCOPY };

		SET(CURLOPT_SSLCERTTYPE, "PEM");
		SET(CURLOPT_SSLCERT_BLOB, &c);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
		SET(CURLOPT_SSLKEY_BLOB, &k);
	}
#undef SET
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "curl: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

int
http_request(struct http *h, const struct http_req *req, http_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct hreq *r;
	size_t i;

	if (req->url == NULL || req->max_tries < 1 || !(req->timeout_s > 0) ||
	    req->max_body == 0 || req->backoff_s < 0 ||
	    req->max_backoff_s < 0 ||
	    (req->cert_pem != NULL) != (req->key_pem != NULL) ||
	    (req->method != NULL && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "POST") != 0 &&
	    strcmp(req->method, "PATCH") != 0 &&
	    strcmp(req->method, "PUT") != 0 &&
	    strcmp(req->method, "DELETE") != 0)) {
		snprintf(err, errlen, "invalid HTTP request parameters");
		return -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->req = *req;		/* for its limits and stream_cb: */
	r->req.url = r->req.method = r->req.body = r->req.userpwd = NULL;
	r->req.ca_pem = r->req.cert_pem = r->req.key_pem = NULL;
	r->req.headers = NULL;
	r->url = xstrdup(req->url);
	if (req->userpwd != NULL)
		r->userpwd = xstrdup(req->userpwd);
	if (req->method != NULL)
		r->method = xstrdup(req->method);
	if (req->body != NULL) {
		r->sendbody = xmalloc(req->body_len + 1);
		memcpy(r->sendbody, req->body, req->body_len);
		r->sendbody[req->body_len] = '\0';
		r->sendlen = req->body_len;
	}
	if (req->ca_pem != NULL)
		r->ca_pem = xstrdup(req->ca_pem);
	if (req->cert_pem != NULL) {
		r->cert_pem = xstrdup(req->cert_pem);
		r->key_pem = xstrdup(req->key_pem);
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		struct curl_slist *l;

		if ((l = curl_slist_append(r->headers, req->headers[i])) ==
		    NULL) {
			snprintf(err, errlen, "curl: out of memory");
			goto fail;
		}
		r->headers = l;
	}
	r->cb = cb;
	r->arg = arg;
	ev_init(&r->timer, req_timer_cb);
	r->timer.data = r;
	if ((r->easy = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl: cannot create an easy handle");
		goto fail;
	}
	if (req_setup(r, err, errlen) == -1)
		goto fail;
	r->next = h->reqs;
	if (h->reqs != NULL)
		h->reqs->prev = r;
	h->reqs = r;
	h->n++;
	req_set_timer(r, HREQ_WAITING, 0.);
	return 0;
fail:
	req_free(r);
	return -1;
}

void
http_cancel(struct http *h, void *arg)
{
	struct hreq *r, *next;

	for (r = h->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->arg == arg) {
			req_unlink(r);
			req_free(r);
		}
	}
}

size_t
http_pending(const struct http *h)
{
	return h->n;
}

char *
http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, (int)strlen(s)), *out;

	if (e == NULL)
		fatalx("curl: out of memory");
	out = xstrdup(e);
	curl_free(e);
	return out;
}
