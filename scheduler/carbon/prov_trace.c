/*
 * prov_trace: the "trace" provider, carbon intensity read from a CSV file
 * (Electricity Maps portal exports, the "Let's Wait Awhile" files, or any
 * file with a header row, a time column and a value column).
 *
 * The file is parsed once and kept in st->priv; it is parsed again only
 * when its modification time or size changes. Columns are named in the
 * config by header text or 0-based index (defaults 0 and 1). Times are
 * ISO-8601; a time without an offset ("2023-01-01 00:00:00") is UTC.
 * Values are multiplied by conf->scale (0 counts as the default, 1); empty
 * value cells are gaps and skipped. Errors name the file and line.
 *
 * A trace is history: load() returns only points at or before `now`, as
 * CI_ACTUAL (the forecaster, not the trace, supplies the future). With
 * conf->replay the trace is mapped onto the present: its first 364 days
 * (52 weeks) repeat every 364 days, so weekday and time of day stay aligned
 * and the day of the year drifts by one day a year (two after a leap day).
 * A trace spanning at least 364 days therefore covers every instant; a
 * shorter one leaves gaps between its copies. Replayed points carry
 * CI_REPLAY. This file does not sanitize values (ci_sanitize does) and
 * does no network I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/provider.h"

#define REPLAY_PERIOD	(364 * 86400LL)

struct trace_row {
	int64_t		t;
	double		value;
};

/* The parsed file and what it was parsed from. */
struct trace {
	char		*file;
	char		*time_column;
	char		*value_column;
	struct timespec	 mtime;
	off_t		 size;
	struct trace_row *rows;	/* sorted by t */
	size_t		 n;
};

/* One CSV record being split into fields (quotes and "" escapes). */
struct csv {
	const char	*p, *end;
	size_t		 line;		/* line the current record starts on */
	size_t		 next_line;
	char		**f;
	size_t		 nf, capf;
};

static void
trace_free(struct trace *tr)
{
	if (tr == NULL)
		return;
	free(tr->file);
	free(tr->time_column);
	free(tr->value_column);
	free(tr->rows);
	free(tr);
}

static void
csv_clear_fields(struct csv *c)
{
	for (size_t i = 0; i < c->nf; i++)
		free(c->f[i]);
	c->nf = 0;
}

/*
 * Copies one field starting at c->p (quotes removed, "" unescaped) and
 * leaves c->p on the delimiter after it. NULL on an unterminated quote.
 */
static char *
csv_field(struct csv *c)
{
	const char *q = c->p;
	char *fld;
	size_t len = 0;
	int quoted = 0;

	if (q < c->end && *q == '"') {
		quoted = 1;
		for (q++; q < c->end; q++) {
			if (*q == '"' && q + 1 < c->end && q[1] == '"')
				q++;
			else if (*q == '"')
				break;
		}
		if (q >= c->end)
			return NULL;
		q++;
	}
	while (q < c->end && *q != ',' && *q != '\n' && *q != '\r')
		q++;
	fld = xmalloc((size_t)(q - c->p) + 1);
	if (quoted) {
		for (c->p++; *c->p != '"' || c->p[1] == '"'; c->p++) {
			if (*c->p == '"')
				c->p++;
			else if (*c->p == '\n')
				c->next_line++;
			fld[len++] = *c->p;
		}
		c->p++;
	}
	while (c->p < q)
		fld[len++] = *c->p++;
	fld[len] = '\0';
	return fld;
}

/*
 * Splits the next non-blank record into c->f. Returns 1 on a record, 0 at
 * the end of input, -1 on an unterminated quote.
 */
static int
csv_next(struct csv *c)
{
	csv_clear_fields(c);
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->next_line++;
		c->p++;
	}
	if (c->p >= c->end)
		return 0;
	c->line = c->next_line;
	for (;;) {
		char *fld = csv_field(c);

		if (fld == NULL)
			return -1;
		if (c->nf == c->capf) {
			c->capf = c->capf != 0 ? c->capf * 2 : 16;
			c->f = xrealloc(c->f, c->capf * sizeof(*c->f));
		}
		c->f[c->nf++] = fld;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		return 1;
	}
}

/* Trims leading and trailing white space in place; returns s. */
static char *
trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Resolves a column spec (header text or 0-based index) to an index. */
static int
find_column(const struct csv *hdr, const char *spec, size_t def,
    const char *file, size_t *out, char *err, size_t errlen)
{
	const char *s;
	char *endp;
	unsigned long idx;

	if (spec == NULL || *spec == '\0') {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < hdr->nf; i++) {
		char *name = hdr->f[i];

		if (strcmp(trim(name), spec) == 0) {
			*out = i;
			return 0;
		}
	}
	for (s = spec; isdigit((unsigned char)*s); s++)
		;
	if (*s == '\0') {
		errno = 0;
		idx = strtoul(spec, &endp, 10);
		if (errno == 0 && idx < hdr->nf) {
			*out = idx;
			return 0;
		}
		snprintf(err, errlen, "%s: no column %s (the header has %zu)",
		    file, spec, hdr->nf);
		return -1;
	}
	snprintf(err, errlen, "%s: no column '%s'", file, spec);
	return -1;
}

static int
cmp_row(const void *a, const void *b)
{
	const struct trace_row *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

static int
parse(struct trace *tr, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct csv c = { .p = buf, .end = buf + len, .next_line = 1 };
	size_t tcol, vcol, cap = 0, need;
	int r, ret = -1;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if ((r = csv_next(&c)) != 1) {
		snprintf(err, errlen, r == 0 ? "%s: empty file" :
		    "%s:1: unterminated quote", tr->file);
		goto out;
	}
	if (find_column(&c, tr->time_column, 0, tr->file, &tcol, err,
	    errlen) == -1 || find_column(&c, tr->value_column, 1, tr->file,
	    &vcol, err, errlen) == -1)
		goto out;
	need = (tcol > vcol ? tcol : vcol) + 1;
	while ((r = csv_next(&c)) == 1) {
		struct trace_row row;
		char *ts, *vs, *endp;

		if (c.nf < need) {
			snprintf(err, errlen, "%s:%zu: %zu fields, need %zu",
			    tr->file, c.line, c.nf, need);
			goto out;
		}
		ts = trim(c.f[tcol]);
		vs = trim(c.f[vcol]);
		if (ebb_parse_stamp(ts, &row.t) == -1) {
			snprintf(err, errlen, "%s:%zu: bad timestamp '%.40s'",
			    tr->file, c.line, ts);
			goto out;
		}
		if (*vs == '\0')
			continue;
		row.value = strtod(vs, &endp);
		if (*endp != '\0') {
			snprintf(err, errlen, "%s:%zu: bad value '%.40s'",
			    tr->file, c.line, vs);
			goto out;
		}
		if (tr->n == cap) {
			cap = cap != 0 ? cap * 2 : 1024;
			tr->rows = xrealloc(tr->rows, cap * sizeof(*tr->rows));
		}
		tr->rows[tr->n++] = row;
	}
	if (r == -1) {
		snprintf(err, errlen, "%s:%zu: unterminated quote", tr->file,
		    c.line);
		goto out;
	}
	/*
	 * Equal times keep no defined order; ci_sanitize drops the extras.
	 * A file with only a header has no rows (NULL): qsort must not see it.
	 */
	if (tr->n > 1)
		qsort(tr->rows, tr->n, sizeof(*tr->rows), cmp_row);
	ret = 0;
out:
	csv_clear_fields(&c);
	free(c.f);
	return ret;
}

static int
same_spec(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Makes st->priv the parsed form of the configured file, current on disk. */
static int
refresh(struct pstate *st, char *err, size_t errlen)
{
	const struct provider_conf *conf = st->conf;
	struct trace *tr = st->priv;
	struct stat sb;
	char *buf;
	FILE *fp;
	size_t got;

	if (conf->file == NULL || *conf->file == '\0') {
		snprintf(err, errlen, "trace: no file configured");
		return -1;
	}
	if (stat(conf->file, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", conf->file, strerror(errno));
		return -1;
	}
	if (tr != NULL && strcmp(tr->file, conf->file) == 0 &&
	    same_spec(tr->time_column, conf->time_column) &&
	    same_spec(tr->value_column, conf->value_column) &&
	    tr->mtime.tv_sec == sb.st_mtim.tv_sec &&
	    tr->mtime.tv_nsec == sb.st_mtim.tv_nsec && tr->size == sb.st_size)
		return 0;
	if ((fp = fopen(conf->file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", conf->file, strerror(errno));
		return -1;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	got = fread(buf, 1, (size_t)sb.st_size, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", conf->file);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	buf[got] = '\0';	/* csv_field may look one byte past a quote */
	tr = xcalloc(1, sizeof(*tr));
	tr->file = xstrdup(conf->file);
	tr->time_column = conf->time_column != NULL ?
	    xstrdup(conf->time_column) : NULL;
	tr->value_column = conf->value_column != NULL ?
	    xstrdup(conf->value_column) : NULL;
	tr->mtime = sb.st_mtim;
	tr->size = sb.st_size;
	if (parse(tr, buf, got, err, errlen) == -1) {
		free(buf);
		trace_free(tr);
		return -1;
	}
	free(buf);
	trace_free(st->priv);
	st->priv = tr;
	return 0;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
trace_load(struct pstate *st, int64_t now, int64_t t0, int64_t t1,
    struct ci_batch *out, char *err, size_t errlen)
{
	const struct provider_conf *conf = st->conf;
	const struct trace *tr;
	double scale = conf->scale != 0 ? conf->scale : 1;
	unsigned flags = conf->replay ? CI_REPLAY : 0;
	int64_t kfirst = 0, klast = 0, span = INT64_MAX, end, prev_t = 0;
	double prev_v = 0;
	int have_prev = 0, emitted = 0;

	if (refresh(st, err, errlen) == -1)
		return -1;
	tr = st->priv;
	if (tr->n == 0 || t1 <= t0)
		return 0;
	end = t1 - 1 < now ? t1 - 1 : now;	/* last instant returned */
	if (conf->replay) {
		span = REPLAY_PERIOD;
		/* One copy earlier than t0 to find the point covering t0. */
		kfirst = floor_div(t0 - tr->rows[0].t, REPLAY_PERIOD) - 1;
		klast = floor_div(end - tr->rows[0].t, REPLAY_PERIOD);
	}
	for (int64_t k = kfirst; k <= klast; k++) {
		int64_t shift = k * REPLAY_PERIOD;

		for (size_t i = 0; i < tr->n; i++) {
			int64_t t = tr->rows[i].t + shift;
			double v = tr->rows[i].value * scale;

			if (tr->rows[i].t - tr->rows[0].t >= span)
				break;
			if (t < t0) {
				prev_t = t;
				prev_v = v;
				have_prev = 1;
				continue;
			}
			if (t > end)
				break;
			if (!emitted && t > t0 && have_prev && prev_t <= now)
				ci_batch_add(out, prev_t, prev_v, CI_ACTUAL,
				    now, flags);
			emitted = 1;
			ci_batch_add(out, t, v, CI_ACTUAL, now, flags);
		}
	}
	if (!emitted && have_prev && prev_t <= now)
		ci_batch_add(out, prev_t, prev_v, CI_ACTUAL, now, flags);
	return 0;
}

static void
trace_clear(struct pstate *st)
{
	trace_free(st->priv);
	st->priv = NULL;
}

const struct provider_ops prov_trace_ops = {
	.name = "trace",
	.signal = CI_AVERAGE,
	.min_refresh = 300,
	.base_url = NULL,
	.needs_secret = 0,
	.request = NULL,
	.response = NULL,
	.load = trace_load,
	.clear = trace_clear,
};
