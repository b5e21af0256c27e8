/*
 * yamltree: libyaml events -> node tree with positions, and the table-driven
 * decoder from mappings into structs (see yamltree.h).
 *
 * The tree keeps only what decoding needs: kinds, scalar text and style,
 * and 1-based marks. Errors are collected on the document, never printed;
 * the caller decides what to do with them. Nothing here knows a key name.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <yaml.h>

#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/yamltree.h"

#define MAX_DEPTH	64

/* Errors kept for yt_errors(); the rest are only counted. */
#define MAX_ERRORS	100

struct yt_err {
	int	 line, col;	/* 0: no position (whole file) */
	size_t	 seq;
	char	*msg;
};

/*
 * errs is a max-heap by position (line, column, then order of recording)
 * of the first MAX_ERRORS errors by position: a new error replaces the
 * last kept one if it comes before it. Recording is O(log MAX_ERRORS) and
 * memory stays bounded whatever a file holds.
 */
struct yt_doc {
	char		*name;
	char		*dir;
	int64_t		 now;
	struct yt_node	*root;
	struct yt_err	 errs[MAX_ERRORS];
	size_t		 nkept;
	size_t		 nerrs;		/* all recorded, kept or not */
};

static int
err_cmp(const void *a, const void *b)
{
	const struct yt_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Would an error at line:col, recorded now, be kept? */
static int
err_wanted(const struct yt_doc *d, int line, int col)
{
	struct yt_err e = { line, col, d->nerrs, NULL };

	return d->nkept < MAX_ERRORS || err_cmp(&e, &d->errs[0]) < 0;
}

static void
heap_swap(struct yt_err *h, size_t i, size_t j)
{
	struct yt_err t = h[i];

	h[i] = h[j];
	h[j] = t;
}

static void
add_err(struct yt_doc *d, int line, int col, const char *fmt, va_list ap)
{
	struct yt_err *h = d->errs, e = { line, col, d->nerrs, NULL };
	char buf[1024];
	size_t i, kid;

	if (!err_wanted(d, line, col)) {
		d->nerrs++;
		return;
	}
	d->nerrs++;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	e.msg = xstrdup(buf);
	if (d->nkept < MAX_ERRORS) {
		/* Sift up. */
		i = d->nkept++;
		h[i] = e;
		while (i > 0 && err_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
			heap_swap(h, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	/* Replace the last kept error and sift down. */
	free(h[0].msg);
	h[0] = e;
	for (i = 0; (kid = 2 * i + 1) < d->nkept; i = kid) {
		if (kid + 1 < d->nkept && err_cmp(&h[kid], &h[kid + 1]) < 0)
			kid++;
		if (err_cmp(&h[i], &h[kid]) >= 0)
			break;
		heap_swap(h, i, kid);
	}
}

static void __attribute__((format(printf, 4, 5)))
err_at(struct yt_doc *d, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_err(d, line, col, fmt, ap);
	va_end(ap);
}

void
yt_error(struct yt_doc *d, const struct yt_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_err(d, at ? at->line : 1, at ? at->col : 1, fmt, ap);
	va_end(ap);
}

size_t
yt_nerrors(const struct yt_doc *d)
{
	return d->nerrs;
}

char *
yt_errors(const struct yt_doc *d)
{
	struct yt_err sorted[MAX_ERRORS];
	struct strbuf out = STRBUF_INIT;

	memcpy(sorted, d->errs, d->nkept * sizeof(*sorted));
	qsort(sorted, d->nkept, sizeof(*sorted), err_cmp);
	for (size_t i = 0; i < d->nkept; i++) {
		if (sorted[i].line == 0)
			strbuf_addf(&out, "%s: %s\n", d->name, sorted[i].msg);
		else
			strbuf_addf(&out, "%s:%d:%d: %s\n", d->name,
			    sorted[i].line, sorted[i].col, sorted[i].msg);
	}
	if (d->nerrs > d->nkept)
		strbuf_addf(&out, "%s: ... and %zu more error%s\n", d->name,
		    d->nerrs - d->nkept, d->nerrs - d->nkept == 1 ? "" : "s");
	return strbuf_take(&out);
}

static void
node_free(struct yt_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static struct yt_node *
node_new(enum yt_kind kind, const yaml_mark_t *m)
{
	struct yt_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

/* Capacity is the next power of two from 4 up, so growth is O(1). */
static void
node_add(struct yt_node *n, struct yt_node *kid)
{
	size_t k = n->nkids;

	if (k == 0 || (k >= 4 && (k & (k - 1)) == 0))
		n->kids = xrealloc(n->kids, (k ? 2 * k : 4) *
		    sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

static void
syntax_error(struct yt_doc *d, const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *problem = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_READER_ERROR) {
		err_at(d, 0, 0, "%s at byte %zu", problem, p->problem_offset);
	} else if (p->context != NULL) {
		err_at(d, (int)m->line + 1, (int)m->column + 1,
		    "%s (%s at line %d, column %d)", problem, p->context,
		    (int)p->context_mark.line + 1,
		    (int)p->context_mark.column + 1);
	} else
		err_at(d, (int)m->line + 1, (int)m->column + 1, "%s", problem);
}

/* Reads the next event; -1 after recording a syntax error. */
static int
next_event(struct yt_doc *d, yaml_parser_t *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(p, ev)) {
		syntax_error(d, p);
		return -1;
	}
	return 0;
}

struct named {
	const struct yt_node	*node;
	size_t			 idx;
};

static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->node->text, y->node->text);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void
yt_check_unique(struct yt_doc *d, const struct yt_node *const *nodes,
    size_t n, const char *what)
{
	struct named *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t m = 0, first = 0;

	for (size_t i = 0; i < n; i++)
		if (nodes[i] != NULL && nodes[i]->kind == YT_SCALAR) {
			v[m].node = nodes[i];
			v[m++].idx = i;
		}
	qsort(v, m, sizeof(*v), named_cmp);
	for (size_t i = 1; i < m; i++) {
		const struct yt_node *k = v[i].node, *f;

		if (strcmp(v[first].node->text, k->text) != 0) {
			first = i;
			continue;
		}
		f = v[first].node;
		yt_error(d, k, "duplicate %s '%s' (first at line %d, column %d)",
		    what, k->text, f->line, f->col);
	}
	free(v);
}

static void
check_duplicates(struct yt_doc *d, const struct yt_node *map)
{
	size_t n = map->nkids / 2;
	const struct yt_node **keys = xcalloc(n ? n : 1, sizeof(*keys));

	for (size_t i = 0; i < n; i++)
		keys[i] = map->kids[2 * i];
	yt_check_unique(d, keys, n, "key");
	free(keys);
}

/*
 * Builds the node that starts with event ev (consumed here) and reads the
 * events up to its end. Returns NULL after recording an error.
 */
static struct yt_node *
build(struct yt_doc *d, yaml_parser_t *p, yaml_event_t *ev, int depth)
{
	struct yt_node *n, *kid;
	yaml_event_t next;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(YT_SCALAR, &ev->start_mark);
		n->text = xstrndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (strlen(n->text) != ev->data.scalar.length) {
			yt_error(d, n, "NUL character in a value");
			node_free(n);
			n = NULL;
		}
		yaml_event_delete(ev);
		return n;
	case YAML_ALIAS_EVENT:
		err_at(d, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1,
		    "aliases (*name) are not supported");
		yaml_event_delete(ev);
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		err_at(d, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "unexpected YAML event");
		yaml_event_delete(ev);
		return NULL;
	}
	n = node_new(ev->type == YAML_SEQUENCE_START_EVENT ? YT_SEQ : YT_MAP,
	    &ev->start_mark);
	yaml_event_delete(ev);
	if (depth >= MAX_DEPTH) {
		yt_error(d, n, "nested deeper than %d levels", MAX_DEPTH);
		node_free(n);
		return NULL;
	}
	for (;;) {
		if (next_event(d, p, &next) == -1)
			goto fail;
		if (next.type == YAML_SEQUENCE_END_EVENT ||
		    next.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&next);
			break;
		}
		if (n->kind == YT_MAP && (n->nkids % 2) == 0 &&
		    next.type != YAML_SCALAR_EVENT) {
			err_at(d, (int)next.start_mark.line + 1,
			    (int)next.start_mark.column + 1,
			    "mapping keys must be plain values");
			yaml_event_delete(&next);
			goto fail;
		}
		if ((kid = build(d, p, &next, depth + 1)) == NULL)
			goto fail;
		node_add(n, kid);
	}
	if (n->kind == YT_MAP)
		check_duplicates(d, n);
	return n;
fail:
	node_free(n);
	return NULL;
}

/* Reads the whole stream into d->root. */
static void
parse_stream(struct yt_doc *d, yaml_parser_t *p)
{
	yaml_event_t ev;
	int ndocs = 0;

	for (;;) {
		if (next_event(d, p, &ev) == -1)
			goto fail;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return;
		case YAML_DOCUMENT_START_EVENT:
			if (ndocs++ > 0) {
				err_at(d, (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "only one YAML document is allowed");
				yaml_event_delete(&ev);
				goto fail;
			}
			yaml_event_delete(&ev);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_ALIAS_EVENT:
			if ((d->root = build(d, p, &ev, 0)) == NULL)
				goto fail;
			break;
		default:
			yaml_event_delete(&ev);
			break;
		}
	}
fail:
	node_free(d->root);
	d->root = NULL;
}

static struct yt_doc *
doc_new(const char *name)
{
	struct yt_doc *d = xcalloc(1, sizeof(*d));
	char *slash, *dir, *abs;

	d->name = xstrdup(name);
	d->now = ebb_now();
	dir = xstrdup(name);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((abs = realpath(dir, NULL)) != NULL) {
		d->dir = xstrdup(abs);
		free(abs);
	} else if (dir[0] == '/') {
		d->dir = xstrdup(dir);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			strcpy(cwd, "/");
		d->dir = xasprintf("%s/%s", cwd, dir);
	}
	free(dir);
	return d;
}

struct yt_doc *
yt_load(const char *path)
{
	struct yt_doc *d = doc_new(path);
	yaml_parser_t p;
	struct stat st;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		err_at(d, 0, 0, "%s", strerror(errno));
		return d;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		err_at(d, 0, 0, "%s", strerror(EISDIR));
		fclose(f);
		return d;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	parse_stream(d, &p);
	yaml_parser_delete(&p);
	fclose(f);
	return d;
}

struct yt_doc *
yt_load_string(const char *name, const char *text, size_t len)
{
	struct yt_doc *d = doc_new(name);
	yaml_parser_t p;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	parse_stream(d, &p);
	yaml_parser_delete(&p);
	return d;
}

void
yt_free(struct yt_doc *d)
{
	if (d == NULL)
		return;
	node_free(d->root);
	for (size_t i = 0; i < d->nkept; i++)
		free(d->errs[i].msg);
	free(d->name);
	free(d->dir);
	free(d);
}

const struct yt_node *
yt_root(const struct yt_doc *d)
{
	return d->root;
}

const char *
yt_name(const struct yt_doc *d)
{
	return d->name;
}

const char *
yt_dir(const struct yt_doc *d)
{
	return d->dir;
}

void
yt_set_now(struct yt_doc *d, int64_t now)
{
	d->now = now;
}

const struct yt_node *
yt_get_key(const struct yt_node *map, const char *key)
{
	if (map == NULL || map->kind != YT_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (strcmp(map->kids[i]->text, key) == 0)
			return map->kids[i];
	return NULL;
}

const struct yt_node *
yt_get(const struct yt_node *map, const char *key)
{
	for (size_t i = 0; map != NULL && map->kind == YT_MAP &&
	    i + 1 < map->nkids; i += 2)
		if (strcmp(map->kids[i]->text, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

int
yt_is_null(const struct yt_node *n)
{
	return n->kind == YT_SCALAR && n->plain && (n->text[0] == '\0' ||
	    strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
	    strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

/* Levenshtein distance, for "did you mean" hints on short key names. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), *row, best;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	row = xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], v;

			v = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

static void
unknown_key(struct yt_doc *d, const struct yt_node *key,
    const struct yt_key *table)
{
	const char *guess = NULL;
	size_t best = 3;

	if (!err_wanted(d, key->line, key->col)) {
		/* Only counted: spare the hint's cost. */
		yt_error(d, key, "unknown key");
		return;
	}
	for (const struct yt_key *k = table; k->name != NULL; k++) {
		size_t dist = distance(key->text, k->name);

		if (dist < best && dist < strlen(k->name)) {
			best = dist;
			guess = k->name;
		}
	}
	if (guess != NULL)
		yt_error(d, key, "unknown key '%s' (did you mean '%s'?)",
		    key->text, guess);
	else
		yt_error(d, key, "unknown key '%s'", key->text);
}

static const char *
kind_name(const struct yt_node *n)
{
	switch (n->kind) {
	case YT_SEQ:
		return "a list";
	case YT_MAP:
		return "a mapping";
	default:
		return "a value";
	}
}

static const char *
type_name(const struct yt_key *k)
{
	switch (k->type) {
	case YT_STRING:
		return "a string";
	case YT_PATH:
		return "a path";
	case YT_INT:
	case YT_INT64:
		return "an integer";
	case YT_FLOAT:
		return "a number";
	case YT_BOOL:
		return "true or false";
	case YT_DURATION:
		return "a duration";
	case YT_SIZE:
		return "a size";
	case YT_TIME:
		return "a time";
	case YT_ENUM:
		return "one of its choices";
	case YT_MODE:
		return "an octal mode";
	case YT_STRLIST:
		return "a list of strings";
	case YT_STRMAP:
		return "a mapping of names to strings";
	case YT_MAPLIST:
		return "a list of mappings";
	case YT_STRUCT:
		return "a mapping";
	}
	return "a value";
}

static int
parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 ||
	    s[0] == ' ' || s[0] == '\t')
		return -1;
	*out = v;
	return 0;
}

/* Range check for integer-like values; fmt formats a bound for messages. */
static int
check_range(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, int64_t x, char *(*fmt)(int64_t, char *, size_t))
{
	char lo[32], hi[32], got[32];

	if (k->min >= k->max || (x >= k->min && x <= k->max))
		return 0;
	if (fmt != NULL) {
		fmt(k->min, lo, sizeof(lo));
		fmt(k->max, hi, sizeof(hi));
		snprintf(got, sizeof(got), "%s", v->text);
	} else {
		snprintf(lo, sizeof(lo), "%lld", (long long)k->min);
		snprintf(hi, sizeof(hi), "%lld", (long long)k->max);
		snprintf(got, sizeof(got), "%lld", (long long)x);
	}
	if (k->max == INT64_MAX)
		yt_error(d, v, "%s: must be at least %s, got %s", k->name, lo,
		    got);
	else
		yt_error(d, v, "%s: must be between %s and %s, got %s",
		    k->name, lo, hi, got);
	return -1;
}

static void
enum_error(struct yt_doc *d, const struct yt_key *k, const struct yt_node *v)
{
	char list[512] = "";
	size_t off = 0;

	for (size_t i = 0; k->choices[i] != NULL && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", k->choices[i]);
	yt_error(d, v, "%s: '%s' is not one of %s", k->name, v->text, list);
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_mode(const char *s, mode_t *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	if (v > 07777)
		return -1;
	*out = (mode_t)v;
	return 0;
}

static void
strlist_free(struct yt_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
strmap_free(struct yt_strmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	m->keys = m->values = NULL;
	m->n = 0;
}

static void
decode_strlist(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, struct yt_strlist *l)
{
	strlist_free(l);
	l->v = xcalloc(v->nkids + 1, sizeof(*l->v));
	for (size_t i = 0; i < v->nkids; i++) {
		if (v->kids[i]->kind != YT_SCALAR) {
			yt_error(d, v->kids[i], "%s: expected a string, got %s",
			    k->name, kind_name(v->kids[i]));
			continue;
		}
		l->v[l->n++] = xstrdup(v->kids[i]->text);
	}
}

static void
decode_strmap(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, struct yt_strmap *m)
{
	size_t n = v->nkids / 2;

	strmap_free(m);
	m->keys = xcalloc(n + 1, sizeof(*m->keys));
	m->values = xcalloc(n + 1, sizeof(*m->values));
	for (size_t i = 0; i < n; i++) {
		const struct yt_node *val = v->kids[2 * i + 1];

		if (val->kind != YT_SCALAR) {
			yt_error(d, val, "%s: %s: expected a string, got %s",
			    k->name, v->kids[2 * i]->text, kind_name(val));
			continue;
		}
		m->keys[m->n] = xstrdup(v->kids[2 * i]->text);
		m->values[m->n++] = xstrdup(val->text);
	}
}

static void
maplist_free(const struct yt_key *k, void *obj)
{
	char **arr = (char **)(void *)((char *)obj + k->offset);
	size_t *count = (size_t *)(void *)((char *)obj + k->count_offset);

	for (size_t i = 0; *arr != NULL && i < *count; i++)
		yt_free_fields(k->sub, *arr + i * k->elemsize);
	free(*arr);
	*arr = NULL;
	*count = 0;
}

static void
decode_maplist(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, void *obj)
{
	char **arr = (char **)(void *)((char *)obj + k->offset);
	size_t *count = (size_t *)(void *)((char *)obj + k->count_offset);

	maplist_free(k, obj);
	*arr = xcalloc(v->nkids + 1, k->elemsize);
	*count = v->nkids;
	for (size_t i = 0; i < v->nkids; i++) {
		if (k->init != NULL)
			k->init(*arr + i * k->elemsize);
		yt_decode(d, v->kids[i], k->sub, *arr + i * k->elemsize);
	}
}

/* Decodes v (not null) into field; returns -1 if it recorded an error. */
static int
decode_scalar(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, void *field)
{
	char err[512];
	int64_t x;
	double f;
	char *end;
	int b;
	mode_t mode;

	switch (k->type) {
	case YT_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(v->text);
		return 0;
	case YT_PATH:
		free(*(char **)field);
		if (v->text[0] == '/')
			*(char **)field = xstrdup(v->text);
		else
			*(char **)field = xasprintf("%s/%s", yt_dir(d),
			    v->text);
		return 0;
	case YT_INT:
	case YT_INT64:
		if (parse_int(v->text, &x) == -1 || (k->type == YT_INT &&
		    (x < INT_MIN || x > INT_MAX))) {
			yt_error(d, v, "%s: expected an integer, got '%s'",
			    k->name, v->text);
			return -1;
		}
		if (check_range(d, k, v, x, NULL) == -1)
			return -1;
		if (k->type == YT_INT)
			*(int *)field = (int)x;
		else
			*(int64_t *)field = x;
		return 0;
	case YT_FLOAT:
		if (k->word != NULL && strcmp(v->text, k->word) == 0) {
			*(double *)field = k->wordval;
			return 0;
		}
		errno = 0;
		f = strtod(v->text, &end);
		if (v->text[0] == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(f)) {
			if (k->word != NULL)
				yt_error(d, v, "%s: expected a number or "
				    "'%s', got '%s'", k->name, k->word,
				    v->text);
			else
				yt_error(d, v, "%s: expected a number, got "
				    "'%s'", k->name, v->text);
			return -1;
		}
		if (k->fmin < k->fmax && (f < k->fmin || f > k->fmax)) {
			if (k->fmax == HUGE_VAL)
				yt_error(d, v, "%s: must be at least %g, got "
				    "%s", k->name, k->fmin, v->text);
			else
				yt_error(d, v, "%s: must be between %g and %g, "
				    "got %s", k->name, k->fmin, k->fmax,
				    v->text);
			return -1;
		}
		*(double *)field = f;
		return 0;
	case YT_BOOL:
		if (parse_bool(v->text, &b) == -1) {
			yt_error(d, v, "%s: expected true or false, got '%s'",
			    k->name, v->text);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case YT_DURATION:
	case YT_SIZE:
	case YT_TIME:
		if ((k->type == YT_DURATION ? ebb_parse_duration(v->text, &x,
		    err, sizeof(err)) : k->type == YT_SIZE ?
		    ebb_parse_size(v->text, &x, err, sizeof(err)) :
		    ebb_parse_time(v->text, d->now, &x, err, sizeof(err))) ==
		    -1) {
			yt_error(d, v, "%s: %s", k->name, err);
			return -1;
		}
		if (k->type != YT_TIME && check_range(d, k, v, x,
		    k->type == YT_DURATION ? ebb_fmt_duration : ebb_fmt_size) ==
		    -1)
			return -1;
		*(int64_t *)field = x;
		return 0;
	case YT_ENUM:
		for (int i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(k->choices[i], v->text) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		enum_error(d, k, v);
		return -1;
	case YT_MODE:
		if (parse_mode(v->text, &mode) == -1) {
			yt_error(d, v, "%s: expected an octal mode like 0660, "
			    "got '%s'", k->name, v->text);
			return -1;
		}
		*(mode_t *)field = mode;
		return 0;
	default:
		return 0;
	}
}

static void
decode_value(struct yt_doc *d, const struct yt_key *k,
    const struct yt_node *v, void *obj)
{
	char *field = (char *)obj + k->offset;
	char err[512];
	int want_scalar = k->type != YT_STRLIST && k->type != YT_STRMAP &&
	    k->type != YT_MAPLIST && k->type != YT_STRUCT;

	if (yt_is_null(v)) {
		if (k->required)
			yt_error(d, v, "%s: a value is required", k->name);
		return;
	}
	if (want_scalar != (v->kind == YT_SCALAR) ||
	    (k->type == YT_STRLIST && v->kind != YT_SEQ) ||
	    (k->type == YT_MAPLIST && v->kind != YT_SEQ) ||
	    (k->type == YT_STRMAP && v->kind != YT_MAP) ||
	    (k->type == YT_STRUCT && v->kind != YT_MAP)) {
		if (v->kind == YT_SCALAR)
			yt_error(d, v, "%s: expected %s, got '%s'", k->name,
			    type_name(k), v->text);
		else
			yt_error(d, v, "%s: expected %s, got %s", k->name,
			    type_name(k), kind_name(v));
		return;
	}
	switch (k->type) {
	case YT_STRLIST:
		decode_strlist(d, k, v, (struct yt_strlist *)(void *)field);
		break;
	case YT_STRMAP:
		decode_strmap(d, k, v, (struct yt_strmap *)(void *)field);
		break;
	case YT_MAPLIST:
		decode_maplist(d, k, v, obj);
		break;
	case YT_STRUCT:
		yt_decode(d, v, k->sub, field);
		break;
	default:
		if (decode_scalar(d, k, v, field) == -1)
			return;
		break;
	}
	if (k->check != NULL && k->check(field, err, sizeof(err)) == -1)
		yt_error(d, v, "%s: %s", k->name, err);
}

size_t
yt_decode(struct yt_doc *d, const struct yt_node *map,
    const struct yt_key *table, void *obj)
{
	size_t before = d->nerrs;

	if (map != NULL && map->kind != YT_MAP) {
		if (map->kind == YT_SCALAR)
			yt_error(d, map, "expected a mapping, got '%s'",
			    map->text);
		else
			yt_error(d, map, "expected a mapping, got %s",
			    kind_name(map));
		return d->nerrs - before;
	}
	for (size_t i = 0; map != NULL && i + 1 < map->nkids; i += 2) {
		const struct yt_key *k;

		for (k = table; k->name != NULL; k++)
			if (strcmp(k->name, map->kids[i]->text) == 0)
				break;
		if (k->name == NULL)
			unknown_key(d, map->kids[i], table);
		else
			decode_value(d, k, map->kids[i + 1], obj);
	}
	for (const struct yt_key *k = table; k->name != NULL; k++)
		if (k->required && yt_get(map, k->name) == NULL)
			yt_error(d, map, "missing required key '%s'", k->name);
	return d->nerrs - before;
}

void
yt_free_fields(const struct yt_key *table, void *obj)
{
	for (const struct yt_key *k = table; k->name != NULL; k++) {
		char *field = (char *)obj + k->offset;

		switch (k->type) {
		case YT_STRING:
		case YT_PATH:
			free(*(char **)(void *)field);
			*(char **)(void *)field = NULL;
			break;
		case YT_STRLIST:
			strlist_free((struct yt_strlist *)(void *)field);
			break;
		case YT_STRMAP:
			strmap_free((struct yt_strmap *)(void *)field);
			break;
		case YT_MAPLIST:
			maplist_free(k, obj);
			break;
		case YT_STRUCT:
			yt_free_fields(k->sub, field);
			break;
		default:
			break;
		}
	}
}

/*---- Emitting: the key table drives the output, so it stays in step ----*/

static int
sink_write(void *arg, unsigned char *data, size_t size)
{
	strbuf_add(arg, data, size);
	return 1;
}

static void
emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(e, ev)) {
		fprintf(stderr, "yt_emit: %s\n", e->problem ? e->problem :
		    "yaml emitter error");
		abort();
	}
}

/* A plain scalar, or a double-quoted one when quote is set. */
static void
emit_scalar(yaml_emitter_t *e, const char *s, int quote)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)s, (int)strlen(s), 1, 1,
	    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	emit(e, &ev);
}

/* A string that must read back as a string, not null or a number. */
static void
emit_string(yaml_emitter_t *e, const char *v)
{
	if (v == NULL)
		emit_scalar(e, "null", 0);
	else
		emit_scalar(e, v, v[0] == '\0' || strcmp(v, "~") == 0 ||
		    strcasecmp(v, "null") == 0 || strcasecmp(v, "true") == 0 ||
		    strcasecmp(v, "false") == 0);
}

static void
emit_collection(yaml_emitter_t *e, int seq, int start)
{
	yaml_event_t ev;

	if (seq && start)
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_ANY_SEQUENCE_STYLE);
	else if (seq)
		yaml_sequence_end_event_initialize(&ev);
	else if (start)
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
	else
		yaml_mapping_end_event_initialize(&ev);
	emit(e, &ev);
}

static void emit_map(yaml_emitter_t *, const struct yt_key *, const void *);

static void
emit_value(yaml_emitter_t *e, const struct yt_key *k, const void *obj)
{
	const char *field = (const char *)obj + k->offset;
	char buf[64], err[128];
	int64_t back;

	switch (k->type) {
	case YT_STRING:
	case YT_PATH:
		emit_string(e, *(char *const *)(const void *)field);
		return;
	case YT_INT:
		snprintf(buf, sizeof(buf), "%d", *(const int *)(const void *)
		    field);
		break;
	case YT_INT64:
		snprintf(buf, sizeof(buf), "%lld", (long long)
		    *(const int64_t *)(const void *)field);
		break;
	case YT_FLOAT: {
		double v = *(const double *)(const void *)field;

		if (k->word != NULL && v == k->wordval) {
			emit_string(e, k->word);
			return;
		}
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		break;
	}
	case YT_BOOL:
		snprintf(buf, sizeof(buf), "%s", *(const int *)(const void *)
		    field ? "true" : "false");
		break;
	case YT_DURATION:
		ebb_fmt_duration(*(const int64_t *)(const void *)field, buf,
		    sizeof(buf));
		break;
	case YT_SIZE:
		back = *(const int64_t *)(const void *)field;
		ebb_fmt_size(back, buf, sizeof(buf));
		{
			int64_t orig = back;

			if (ebb_parse_size(buf, &back, err, sizeof(err)) ==
			    -1 || back != orig)
				snprintf(buf, sizeof(buf), "%lld",
				    (long long)orig);
		}
		break;
	case YT_TIME:
		ebb_fmt_time(*(const int64_t *)(const void *)field, buf,
		    sizeof(buf));
		break;
	case YT_ENUM:
		emit_scalar(e, k->choices[*(const int *)(const void *)field],
		    0);
		return;
	case YT_MODE:
		snprintf(buf, sizeof(buf), "%04o", (unsigned)
		    *(const mode_t *)(const void *)field);
		emit_scalar(e, buf, 1);
		return;
	case YT_STRLIST: {
		const struct yt_strlist *l = (const void *)field;

		emit_collection(e, 1, 1);
		for (size_t i = 0; i < l->n; i++)
			emit_string(e, l->v[i]);
		emit_collection(e, 1, 0);
		return;
	}
	case YT_STRMAP: {
		const struct yt_strmap *m = (const void *)field;

		emit_collection(e, 0, 1);
		for (size_t i = 0; i < m->n; i++) {
			emit_string(e, m->keys[i]);
			emit_string(e, m->values[i]);
		}
		emit_collection(e, 0, 0);
		return;
	}
	case YT_MAPLIST: {
		const char *arr = *(char *const *)(const void *)field;
		size_t n = *(const size_t *)(const void *)((const char *)obj +
		    k->count_offset);
		yaml_event_t ev;

		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_SEQUENCE_STYLE);
		emit(e, &ev);
		for (size_t i = 0; i < n; i++)
			emit_map(e, k->sub, arr + i * k->elemsize);
		emit_collection(e, 1, 0);
		return;
	}
	case YT_STRUCT:
		emit_map(e, k->sub, field);
		return;
	}
	emit_scalar(e, buf, 0);
}

static void
emit_map(yaml_emitter_t *e, const struct yt_key *table, const void *obj)
{
	emit_collection(e, 0, 1);
	for (const struct yt_key *k = table; k->name != NULL; k++) {
		if (k->present != NULL && !k->present(obj))
			continue;
		emit_scalar(e, k->name, 0);
		emit_value(e, k, obj);
	}
	emit_collection(e, 0, 0);
}

char *
yt_emit(const struct yt_key *table, const void *obj)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	struct strbuf out = STRBUF_INIT;

	yaml_emitter_initialize(&e);
	yaml_emitter_set_output(&e, sink_write, &out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&e, &ev);
	emit_map(&e, table, obj);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&e, &ev);
	yaml_emitter_delete(&e);
	return strbuf_take(&out);
}

json_t *
yt_strlist_json(const struct yt_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}
