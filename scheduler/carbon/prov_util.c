/*
 * prov_util: helpers shared by the HTTP providers' ops (see prov_util.h).
 *
 * Builds URLs, checks ids and reads JSON fields with errors that say
 * where the problem is. It parses nothing provider-specific and does no
 * I/O.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/prov_util.h"

char *
prov_url(const struct pstate *st, const char *def, const char *fmt, ...)
{
	const char *base = st->conf->base_url != NULL ? st->conf->base_url :
	    def;
	size_t blen = strlen(base);
	char *url;
	va_list ap;
	int n;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	url = xmalloc(blen + (size_t)n + 1);
	memcpy(url, base, blen);
	url[blen] = '\0';
	va_start(ap, fmt);
	vsnprintf(url + blen, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return url;
}

static int
url_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._~-", *s) == NULL)
			return 0;
	return 1;
}

int
prov_check_id(const char *what, const char *s, char *err, size_t errlen)
{
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "no %s configured", what);
		return -1;
	}
	if (!url_safe(s)) {
		snprintf(err, errlen, "%s '%.64s' has characters not allowed "
		    "in a URL", what, s);
		return -1;
	}
	return 0;
}

int
prov_check_secret(const char *what, const char *hint, const char *s,
    int in_url, char *err, size_t errlen)
{
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "no %s: set %s", what, hint);
		return -1;
	}
	if (in_url && !url_safe(s)) {
		snprintf(err, errlen, "%s has characters not allowed in a URL",
		    what);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p)) {
			snprintf(err, errlen, "%s has control characters",
			    what);
			return -1;
		}
	}
	return 0;
}

json_t *
prov_json_parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "bad JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "bad JSON: expected an object at the "
		    "top");
		json_decref(root);
		return NULL;
	}
	return root;
}

int
prov_json_time(json_t *obj, const char *key, const char *where, int optional,
    int64_t *t, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	char terr[128];

	if (optional && (v == NULL || json_is_null(v)))
		return 1;
	if (v == NULL) {
		snprintf(err, errlen, "%s: missing '%s'", where, key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s.%s: not a string", where, key);
		return -1;
	}
	s = json_string_value(v);
	if (!isdigit((unsigned char)*s) ||
	    ebb_parse_instant(s, t, terr, sizeof(terr)) == -1) {
		snprintf(err, errlen, "%s.%s: bad time '%.40s'", where, key, s);
		return -1;
	}
	return 0;
}

int
prov_json_number(json_t *obj, const char *key, const char *where, double *v,
    char *err, size_t errlen)
{
	json_t *n = json_object_get(obj, key);

	if (n == NULL) {
		snprintf(err, errlen, "%s: missing '%s'", where, key);
		return -1;
	}
	if (json_is_null(n))
		return 1;
	if (!json_is_number(n)) {
		snprintf(err, errlen, "%s.%s: not a number", where, key);
		return -1;
	}
	*v = json_number_value(n);
	return 0;
}

json_t *
prov_json_array(json_t *obj, const char *key, const char *where, char *err,
    size_t errlen)
{
	json_t *a = json_object_get(obj, key);

	if (a == NULL) {
		snprintf(err, errlen, "%s: missing '%s'", where, key);
		return NULL;
	}
	if (!json_is_array(a)) {
		snprintf(err, errlen, "%s.%s: not an array", where, key);
		return NULL;
	}
	return a;
}

int
prov_need_points(const struct ci_batch *out, size_t before, char *err,
    size_t errlen)
{
	if (out->n > before)
		return 0;
	snprintf(err, errlen, "no data points");
	return -1;
}
