/*
 * http: HTTP GETs on ebbd's libev loop through libcurl's multi-socket API.
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
 * http_get(). Nothing here logs URLs or headers (they may hold secrets).
 */
#ifndef EBB_HTTP_H
#define EBB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#define HTTP_MAX_RETRY_AFTER	3600	/* s: longer Retry-After is cut to it */

struct http;

struct http_req {
	const char		*url;
	const char *const	*headers;	/* NULL-terminated "Name: value" */
	const char		*userpwd;	/* basic auth "user:pass", or NULL */
	double			 timeout_s;	/* whole transfer, per try */
	size_t			 max_body;	/* bytes; larger responses fail */
	int			 max_tries;	/* >= 1 */
	double			 backoff_s;	/* first retry delay */
	double			 max_backoff_s;	/* longest wait between tries; a
						   longer Retry-After ends it */
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
 * Starts a GET (the strings in req are copied). cb(arg, resp) follows
 * exactly once unless http_cancel(h, arg) or http_free() comes first.
 */
int	http_get(struct http *, const struct http_req *, http_cb cb, void *arg,
	    char *err, size_t errlen);
/* Cancels every request started with this arg, without callbacks. */
void	http_cancel(struct http *, void *arg);
/* Requests in flight or waiting to retry. */
size_t	http_pending(const struct http *);

/*
 * The wait a Retry-After header value asks for, as of now: delay-seconds
 * (digits only) or an HTTP-date (it starts with the day name), in s,
 * cut to HTTP_MAX_RETRY_AFTER; 0 for a date not in the future and for
 * anything else (negative, fractions, trailing text, garbage), which the
 * caller then ignores.
 */
double	http_retry_after(const char *value, int64_t now);

#endif
