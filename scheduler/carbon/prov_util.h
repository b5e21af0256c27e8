/*
 * prov_util: helpers shared by the HTTP providers' ops (prov_*.c).
 *
 * URL building from a configured or default API root, checks that ids and
 * tokens can go into a URL as they are, and JSON access that names the
 * place of every problem ("history[3].datetime: missing"). Times in URLs
 * are formatted by common/timefmt.h. No I/O. Nothing here puts a secret
 * into an error message.
 */
#ifndef EBB_PROV_UTIL_H
#define EBB_PROV_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "scheduler/carbon/provider.h"

/*
 * The API root (st->conf->base_url, else def) without trailing '/',
 * followed by the printf-formatted rest. Returns an xmalloc'd string.
 */
char	*prov_url(const struct pstate *st, const char *def, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * 0 if s is non-empty and made only of [A-Za-z0-9._~-], characters that go
 * into a URL as they are; else -1 with err naming `what` and quoting s.
 */
int	prov_check_id(const char *what, const char *s, char *err,
	    size_t errlen);

/*
 * 0 if the secret is set and can go into a header (no control characters)
 * or, with in_url, into a URL as it is; else -1 with err naming `what` and
 * `hint` (where to set it), never the secret itself.
 */
int	prov_check_secret(const char *what, const char *hint, const char *s,
	    int in_url, char *err, size_t errlen);

/* Parses a JSON body; NULL with "bad JSON at line L, column C: ..." */
json_t	*prov_json_parse(const char *body, size_t len, char *err,
	    size_t errlen);

/*
 * Reads obj[key] as an ISO-8601 time (Z or offset, optional seconds and
 * fractions). Returns 0, or -1 with err naming where.key. When optional
 * is set, an absent or null key returns 1 and leaves *t alone.
 */
int	prov_json_time(json_t *obj, const char *key, const char *where,
	    int optional, int64_t *t, char *err, size_t errlen);

/*
 * Reads obj[key] as a number. Returns 0, 1 if it is null (no value), or
 * -1 with err naming where.key (absent, or not a number).
 */
int	prov_json_number(json_t *obj, const char *key, const char *where,
	    double *v, char *err, size_t errlen);

/* obj[key] if it is an array, else NULL with err naming where.key. */
json_t	*prov_json_array(json_t *obj, const char *key, const char *where,
	    char *err, size_t errlen);

/*
 * Sets err to "no data points" and returns -1 when the batch has no more
 * than `before` points; returns 0 otherwise.
 */
int	prov_need_points(const struct ci_batch *out, size_t before,
	    char *err, size_t errlen);

#endif
