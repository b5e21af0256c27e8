/*
 * http: HTTP requests on ebbd's libev loop through libcurl's multi-socket
 * API, for every part of ebbd that speaks HTTP (the carbon providers, the
 * Kubernetes backend): one client, one place for limits and TLS.
 *
 * Requests never block the loop: curl's sockets and timers are libev
 * watchers. Each request has a total timeout and a response-size cap, and
 * is retried on transport errors, 5xx and 429 with exponential backoff and
 * jitter. A Retry-After header on a 429 or 503 (delay-seconds or an
 * HTTP-date, bounded to HTTP_MAX_RETRY_AFTER; anything else is ignored)
 * sets the wait instead; a wait longer than the request's max_backoff_s
 * ends the request at once, failed, with retry_after_s set, so that the
 * caller decides what to do meanwhile instead of holding the request.
 * The callback runs exactly once, from the loop, never from inside
 * http_request(). Nothing here logs URLs, headers, bodies or TLS keys
 * (they may hold secrets: tokens, keys); a client key is wiped from
 * memory when its request ends.
 *
 * Retries repeat the whole request, so a caller sending a request that is
 * not idempotent (POST) sets max_tries 1 and decides itself; a POST also
 * always opens a fresh connection, so that libcurl never resends it by
 * itself over a reused one that was found closed. A streamed
 * request (stream_cb set: a Kubernetes watch) hands the body of a 2xx
 * answer to stream_cb as it arrives, in pieces that need not end on line
 * or message boundaries; a non-2xx body is collected as usual.
 */
#ifndef EBB_HTTP_H
#define EBB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#define HTTP_MAX_RETRY_AFTER	3600	/* s: longer Retry-After is cut to it */

struct http;

typedef int (*http_stream_cb)(void *arg, const char *data, size_t len);

struct http_req {
	const char		*url;
	const char		*method;	/* NULL: GET; "POST", "PATCH",
						   "DELETE", "PUT" */
	const char		*body;		/* request body or NULL */
	size_t			 body_len;
	const char *const	*headers;	/* NULL-terminated "Name: value" */
	const char		*userpwd;	/* basic auth "user:pass", or NULL */
	double			 timeout_s;	/* whole transfer, per try */
	size_t			 max_body;	/* bytes; larger responses fail */
	int			 max_tries;	/* >= 1 */
	double			 backoff_s;	/* first retry delay */
	double			 max_backoff_s;	/* longest wait between tries; a
						   longer Retry-After ends it */
	/* TLS, PEM text (NUL-terminated) or NULL: the CA bundle the
	   server's certificate must chain to (NULL: the system's), and a
	   client certificate with its key. */
	const char		*ca_pem;
	const char		*cert_pem;
	const char		*key_pem;
	/* Streaming: pieces of a 2xx body, from the loop; return 0 to go
	   on, else the transfer ends (failed, "stopped by the caller").
	   It must not call http_free, nor http_cancel for its own arg. */
	http_stream_cb		 stream_cb;
};

struct http_resp {
	long		 status;	/* HTTP status of the last try, 0 if none */
	const char	*body;		/* NUL-terminated; borrowed for the call */
	size_t		 len;
	const char	*error;		/* why it failed, or NULL on 2xx */
	int		 tries;
	double		 retry_after_s;	/* last Retry-After seen, bounded;
					   0 if none */
};

typedef void (*http_cb)(void *arg, const struct http_resp *);

/* One per loop. NULL with err set if curl cannot be initialised. */
struct http *http_new(struct ev_loop *, char *err, size_t errlen);
/* Aborts requests in flight without calling their callbacks. */
void	http_free(struct http *);
/*
 * Starts a request (the strings and body in req are copied). cb(arg,
 * resp) follows exactly once unless http_cancel(h, arg) or http_free()
 * comes first; for a streamed request resp.body holds only a non-2xx
 * answer's body.
 */
int	http_request(struct http *, const struct http_req *, http_cb cb,
	    void *arg, char *err, size_t errlen);
/* Cancels every request started with this arg, without callbacks. */
void	http_cancel(struct http *, void *arg);
/* Requests in flight or waiting to retry. */
size_t	http_pending(const struct http *);

/* s percent-encoded for a URL query value (RFC 3986; caller frees). */
char	*http_escape(const char *s);

/*
 * The wait a Retry-After header value asks for, as of now: delay-seconds
 * (digits only) or an HTTP-date (it starts with the day name), in s,
 * cut to HTTP_MAX_RETRY_AFTER; 0 for a date not in the future and for
 * anything else (negative, fractions, trailing text, garbage), which the
 * caller then ignores.
 */
double	http_retry_after(const char *value, int64_t now);

#endif
