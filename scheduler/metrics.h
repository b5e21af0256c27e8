/*
 * metrics: ebbd's Prometheus endpoint, GET /metrics on a small HTTP server.
 *
 * The server is libmicrohttpd in external-polling mode driven by the
 * caller's libev loop (its epoll fd is an ev_io, its timeouts an ev_timer):
 * no threads, and no callback ever blocks the loop. Each scrape calls the
 * caller's render callback, which fills a text builder with gauges and
 * counters; the builder groups samples by family, prints each family's
 * # HELP and # TYPE once, checks names and escapes label values, giving
 * the Prometheus text exposition format 0.0.4. Other paths answer 404,
 * methods other than GET and HEAD 405.
 *
 * It does not know what ebbd measures: the caller supplies every value.
 */
#ifndef EBB_METRICS_H
#define EBB_METRICS_H

#include <stddef.h>

#include <ev.h>

struct metrics;
struct metrics_text;

/*
 * Fills the builder for one scrape; runs on the loop. Strings passed to the
 * builder are copied, so they may be freed once the call returns.
 */
typedef void (*metrics_render_cb)(void *arg, struct metrics_text *);

/*
 * Adds one sample. name: the family ([a-zA-Z_:][a-zA-Z0-9_:]*), help: its
 * one-line meaning (used the first time the family appears), value: any
 * double (NaN and infinities too), then label name/value pairs ending with
 * NULL. Samples of one family may come in any order; the output keeps them
 * together in the order they came. Label values and help may hold any
 * bytes: they are escaped, and bytes that are not well-formed UTF-8
 * become U+FFFD, so no value can break the format. A sample with a bad
 * metric or label name, or whose family was first added with the other
 * type, is left out and logged.
 */
void	metrics_gauge(struct metrics_text *, const char *name, const char *help,
	    double value, ...) __attribute__((sentinel));
void	metrics_counter(struct metrics_text *, const char *name,
	    const char *help, double value, ...) __attribute__((sentinel));

/*
 * Runs cb once and returns the exposition text (NUL-terminated, *lenp its
 * length); the caller frees it with free(3). This is what GET /metrics sends.
 */
char	*metrics_render(metrics_render_cb cb, void *arg, size_t *lenp);

/*
 * Starts serving on addr (a numeric IPv4 or IPv6 address; NULL means
 * 127.0.0.1) and port (0 picks a free one: see metrics_port()). NULL with
 * err set if the address is bad or the port cannot be bound. The returned
 * server is freed with metrics_close().
 */
struct metrics *metrics_open(struct ev_loop *, const char *addr, int port,
	    metrics_render_cb cb, void *arg, char *err, size_t errlen);
/* The port the server listens on. */
int	metrics_port(const struct metrics *);
/* Stops the watchers, closes every connection, frees. NULL is a no-op. */
void	metrics_close(struct metrics *);

#endif
