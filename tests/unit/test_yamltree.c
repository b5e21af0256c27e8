/*
 * test_yamltree: the YAML node tree (kinds, text, 1-based positions, syntax
 * errors) and the table-driven decoder (every value type, bounds, unknown
 * keys with hints, duplicates, required keys, nulls, all errors collected
 * and sorted, the first 100 shown), and that a 200,000-key mapping is
 * checked in linear time.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "config/yamltree.h"

static struct yt_doc *
load(const char *text)
{
	return yt_load_string("t.yaml", text, strlen(text));
}

/* Asserts the document's whole error list. */
static void
assert_errors(const struct yt_doc *d, const char *want)
{
	char *got = yt_errors(d);

	assert_string_equal(got, want);
	free(got);
}

static void
test_tree_positions(void **state)
{
	struct yt_doc *d = load(
	    "# comment\n"
	    "a: 1\n"
	    "list:\n"
	    "  - x\n"
	    "  - 'y'\n"
	    "map: {k: v}\n");
	const struct yt_node *r = yt_root(d), *n;

	assert_int_equal(yt_nerrors(d), 0);
	assert_int_equal(r->kind, YT_MAP);
	assert_int_equal(r->nkids, 6);
	assert_int_equal(r->line, 2);
	assert_int_equal(r->col, 1);
	n = yt_get(r, "a");
	assert_int_equal(n->kind, YT_SCALAR);
	assert_string_equal(n->text, "1");
	assert_int_equal(n->line, 2);
	assert_int_equal(n->col, 4);
	n = yt_get(r, "list");
	assert_int_equal(n->kind, YT_SEQ);
	assert_int_equal(n->nkids, 2);
	assert_int_equal(n->kids[1]->line, 5);
	assert_int_equal(n->kids[1]->col, 5);
	assert_true(n->kids[0]->plain);
	assert_false(n->kids[1]->plain);
	n = yt_get(r, "map");
	assert_string_equal(yt_get(n, "k")->text, "v");
	assert_int_equal(yt_get_key(r, "map")->line, 6);
	assert_null(yt_get(r, "nope"));
	assert_null(yt_get(yt_get(r, "a"), "a"));
	assert_string_equal(yt_name(d), "t.yaml");
	yt_free(d);
}

static void
test_syntax_error(void **state)
{
	struct yt_doc *d = load("a: 1\nb: 2\n  c: 3\n");

	assert_null(yt_root(d));
	assert_errors(d, "t.yaml:3:4: mapping values are not allowed in this "
	    "context\n");
	yt_free(d);
}

static void
test_unsupported(void **state)
{
	struct yt_doc *d = load("a: &x 1\nb: *x\n");

	assert_null(yt_root(d));
	assert_errors(d, "t.yaml:2:4: aliases (*name) are not supported\n");
	yt_free(d);
	d = load("a: 1\n---\nb: 2\n");
	assert_errors(d, "t.yaml:2:1: only one YAML document is allowed\n");
	yt_free(d);
	d = load("? [a, b]\n: 1\n");
	assert_errors(d, "t.yaml:1:3: mapping keys must be plain values\n");
	yt_free(d);
	d = load("a: 1\nb: 2\na: 3\n");
	assert_non_null(yt_root(d));
	assert_errors(d, "t.yaml:3:1: duplicate key 'a' (first at line 1, "
	    "column 1)\n");
	yt_free(d);
}

static void
test_deep_nesting(void **state)
{
	char text[400];
	struct yt_doc *d;

	memset(text, '[', 100);
	memset(text + 100, ']', 100);
	text[200] = '\0';
	d = load(text);
	assert_null(yt_root(d));
	assert_errors(d, "t.yaml:1:65: nested deeper than 64 levels\n");
	yt_free(d);
}

static void
test_missing_file(void **state)
{
	struct yt_doc *d = yt_load("/nonexistent/x.yaml");

	assert_null(yt_root(d));
	assert_errors(d, "/nonexistent/x.yaml: No such file or directory\n");
	yt_free(d);
	d = yt_load("/");
	assert_errors(d, "/: Is a directory\n");
	yt_free(d);
}

struct inner {
	char	*label;
	int	 n;
};

struct all {
	char			*s;
	char			*path;
	int			 i;
	int64_t			 big;
	double			 f;
	int			 b;
	int64_t			 dur;
	int64_t			 size;
	int64_t			 when;
	int			 color;
	mode_t			 mode;
	struct yt_strlist	 list;
	struct yt_strmap	 map;
	struct inner		*items;
	size_t			 nitems;
	struct inner		 nested;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

static int
check_no_x(const void *field, char *err, size_t errlen)
{
	if (strchr(*(char *const *)field, 'x') != NULL) {
		snprintf(err, errlen, "must not contain 'x'");
		return -1;
	}
	return 0;
}

static void
inner_init(void *p)
{
	((struct inner *)p)->n = 7;
}

static const struct yt_key inner_keys[] = {
	{ .name = "label", .type = YT_STRING, .required = 1,
	  .offset = offsetof(struct inner, label) },
	{ .name = "n", .type = YT_INT, .offset = offsetof(struct inner, n) },
	{ .name = NULL },
};

static const struct yt_key all_keys[] = {
	{ .name = "s", .type = YT_STRING, .check = check_no_x,
	  .offset = offsetof(struct all, s) },
	{ .name = "path", .type = YT_PATH, .offset = offsetof(struct all, path) },
	{ .name = "i", .type = YT_INT, .min = -5, .max = 5,
	  .offset = offsetof(struct all, i) },
	{ .name = "big", .type = YT_INT64, .min = 0, .max = INT64_MAX,
	  .offset = offsetof(struct all, big) },
	{ .name = "f", .type = YT_FLOAT, .fmin = 0.5, .fmax = HUGE_VAL,
	  .offset = offsetof(struct all, f) },
	{ .name = "b", .type = YT_BOOL, .offset = offsetof(struct all, b) },
	{ .name = "dur", .type = YT_DURATION, .min = 60, .max = 3600,
	  .offset = offsetof(struct all, dur) },
	{ .name = "size", .type = YT_SIZE, .offset = offsetof(struct all, size) },
	{ .name = "when", .type = YT_TIME, .offset = offsetof(struct all, when) },
	{ .name = "color", .type = YT_ENUM, .choices = colors,
	  .offset = offsetof(struct all, color) },
	{ .name = "mode", .type = YT_MODE, .offset = offsetof(struct all, mode) },
	{ .name = "list", .type = YT_STRLIST,
	  .offset = offsetof(struct all, list) },
	{ .name = "map", .type = YT_STRMAP, .offset = offsetof(struct all, map) },
	{ .name = "items", .type = YT_MAPLIST, .sub = inner_keys,
	  .offset = offsetof(struct all, items),
	  .elemsize = sizeof(struct inner),
	  .count_offset = offsetof(struct all, nitems), .init = inner_init },
	{ .name = "nested", .type = YT_STRUCT, .sub = inner_keys,
	  .offset = offsetof(struct all, nested) },
	{ .name = NULL },
};

static void
test_decode_every_type(void **state)
{
	struct yt_doc *d = load(
	    "s: hello\n"
	    "path: sub/file\n"
	    "i: -5\n"
	    "big: 9000000000\n"
	    "f: 2.5\n"
	    "b: TRUE\n"
	    "dur: 1h\n"
	    "size: 1.5K\n"
	    "when: now+90m\n"
	    "color: blue\n"
	    "mode: 0640\n"
	    "list: [a, 'b c', 3]\n"
	    "map: {K: v, N: 1}\n"
	    "items:\n"
	    "  - label: one\n"
	    "  - {label: two, n: 2}\n"
	    "nested: {label: in}\n");
	struct all a = { 0 };
	char *want, cwd[4096];

	yt_set_now(d, 1000);
	assert_int_equal(yt_decode(d, yt_root(d), all_keys, &a), 0);
	assert_string_equal(a.s, "hello");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	want = xasprintf("%s/sub/file", cwd);
	assert_string_equal(a.path, want);
	free(want);
	assert_int_equal(a.i, -5);
	assert_int_equal(a.big, INT64_C(9000000000));
	assert_true(a.f == 2.5);
	assert_int_equal(a.b, 1);
	assert_int_equal(a.dur, 3600);
	assert_int_equal(a.size, 1536);
	assert_int_equal(a.when, 1000 + 90 * 60);
	assert_int_equal(a.color, 2);
	assert_int_equal(a.mode, 0640);
	assert_int_equal(a.list.n, 3);
	assert_string_equal(a.list.v[1], "b c");
	assert_string_equal(a.list.v[2], "3");
	assert_int_equal(a.map.n, 2);
	assert_string_equal(a.map.keys[1], "N");
	assert_string_equal(a.map.values[1], "1");
	assert_int_equal(a.nitems, 2);
	assert_string_equal(a.items[0].label, "one");
	assert_int_equal(a.items[0].n, 7);
	assert_int_equal(a.items[1].n, 2);
	assert_string_equal(a.nested.label, "in");
	yt_free_fields(all_keys, &a);
	assert_null(a.s);
	assert_null(a.items);
	assert_int_equal(a.nitems, 0);
	yt_free(d);
}

static void
test_decode_errors(void **state)
{
	struct yt_doc *d = load(
	    "s: xyz\n"
	    "i: 6\n"
	    "big: 12abc\n"
	    "f: 0.25\n"
	    "b: yes\n"
	    "dur: 30s\n"
	    "size: 12Q\n"
	    "when: 2026-01-01T24:00\n"
	    "color: purple\n"
	    "mode: 0999\n"
	    "list: [a, [b]]\n"
	    "map: [x]\n"
	    "items:\n"
	    "  - n: 1\n"
	    "  - label: ok\n"
	    "    extra: 1\n"
	    "nested: 5\n"
	    "colour: red\n"
	    "xyzzy: 1\n");
	struct all a = { 0 };

	assert_int_equal(yt_decode(d, yt_root(d), all_keys, &a), 17);
	assert_errors(d,
	    "t.yaml:1:4: s: must not contain 'x'\n"
	    "t.yaml:2:4: i: must be between -5 and 5, got 6\n"
	    "t.yaml:3:6: big: expected an integer, got '12abc'\n"
	    "t.yaml:4:4: f: must be at least 0.5, got 0.25\n"
	    "t.yaml:5:4: b: expected true or false, got 'yes'\n"
	    "t.yaml:6:6: dur: must be between 1m and 1h, got 30s\n"
	    "t.yaml:7:7: size: bad size '12Q': expected a number with an "
	    "optional unit K, M, G or T (e.g. 512M, 4G)\n"
	    "t.yaml:8:7: when: bad time '2026-01-01T24:00': field out of "
	    "range\n"
	    "t.yaml:9:8: color: 'purple' is not one of red, green, blue\n"
	    "t.yaml:10:7: mode: expected an octal mode like 0660, got '0999'\n"
	    "t.yaml:11:11: list: expected a string, got a list\n"
	    "t.yaml:12:6: map: expected a mapping of names to strings, got a "
	    "list\n"
	    "t.yaml:14:5: missing required key 'label'\n"
	    "t.yaml:16:5: unknown key 'extra'\n"
	    "t.yaml:17:9: nested: expected a mapping, got '5'\n"
	    "t.yaml:18:1: unknown key 'colour' (did you mean 'color'?)\n"
	    "t.yaml:19:1: unknown key 'xyzzy'\n");
	yt_free_fields(all_keys, &a);
	yt_free(d);
}

static void
test_nulls_and_required(void **state)
{
	struct yt_doc *d = load("label: ~\nn:\n");
	struct inner in = { .n = 3 };

	assert_int_equal(yt_decode(d, yt_root(d), inner_keys, &in), 1);
	assert_int_equal(in.n, 3);
	assert_errors(d, "t.yaml:1:8: label: a value is required\n");
	yt_free(d);
	d = load("");
	assert_null(yt_root(d));
	assert_int_equal(yt_decode(d, NULL, inner_keys, &in), 1);
	assert_errors(d, "t.yaml:1:1: missing required key 'label'\n");
	yt_free(d);
	d = load("label: \"null\"\n");
	assert_int_equal(yt_decode(d, yt_root(d), inner_keys, &in), 0);
	assert_string_equal(in.label, "null");
	yt_free_fields(inner_keys, &in);
	yt_free(d);
}

static void
test_errors_sorted(void **state)
{
	struct yt_doc *d = load("a: 1\nb: 2\n");
	const struct yt_node *r = yt_root(d);

	yt_error(d, yt_get(r, "b"), "second");
	yt_error(d, yt_get(r, "a"), "first %d", 1);
	yt_error(d, yt_get(r, "a"), "first %d", 2);
	assert_int_equal(yt_nerrors(d), 3);
	assert_errors(d, "t.yaml:1:4: first 1\nt.yaml:1:4: first 2\n"
	    "t.yaml:2:4: second\n");
	yt_free(d);
}

/* 250 errors recorded last position first: the first 100 by position. */
static void
test_errors_capped(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct yt_doc *d;
	const struct yt_node *r;
	char *got, *line;
	size_t nlines = 0;

	for (int i = 0; i < 250; i++)
		strbuf_addf(&text, "k%03d: %d\n", i, i);
	d = load(strbuf_str(&text));
	r = yt_root(d);
	for (size_t i = r->nkids / 2; i-- > 0;)
		yt_error(d, r->kids[2 * i], "bad %s", r->kids[2 * i]->text);
	assert_int_equal(yt_nerrors(d), 250);
	got = yt_errors(d);
	for (line = got; (line = strchr(line, '\n')) != NULL; line++)
		nlines++;
	assert_int_equal(nlines, 101);
	assert_true(strncmp(got, "t.yaml:1:1: bad k000\nt.yaml:2:1: bad k001\n",
	    40) == 0);
	assert_non_null(strstr(got, "t.yaml:100:1: bad k099\n"
	    "t.yaml: ... and 150 more errors\n"));
	assert_null(strstr(got, "k100"));
	free(got);
	yt_free(d);
	strbuf_free(&text);

	/* One over: the last line says so in the singular. */
	strbuf_free(&text);
	for (int i = 0; i < 101; i++)
		strbuf_addf(&text, "k%03d: %d\n", i, i);
	d = load(strbuf_str(&text));
	r = yt_root(d);
	for (size_t i = 0; i < r->nkids / 2; i++)
		yt_error(d, r->kids[2 * i], "bad");
	got = yt_errors(d);
	assert_non_null(strstr(got, "t.yaml:100:1: bad\n"
	    "t.yaml: ... and 1 more error\n"));
	free(got);
	yt_free(d);
	strbuf_free(&text);
}

static void
test_check_unique(void **state)
{
	struct yt_doc *d = load("[a, b, a, c, {x: 1}, b, a]\n");
	const struct yt_node *r = yt_root(d);
	const struct yt_node *v[8];

	for (size_t i = 0; i < 7; i++)
		v[i] = r->kids[i];
	v[7] = NULL;
	yt_check_unique(d, v, 8, "thing");
	assert_errors(d,
	    "t.yaml:1:8: duplicate thing 'a' (first at line 1, column 2)\n"
	    "t.yaml:1:22: duplicate thing 'b' (first at line 1, column 5)\n"
	    "t.yaml:1:25: duplicate thing 'a' (first at line 1, column 2)\n");
	yt_free(d);
}

/*
 * A mapping of 200,000 keys with two repeated: found, in time linear in
 * practice (the pairwise check took minutes here), with a bounded list.
 */
static void
test_many_keys(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct inner in = { 0 };
	struct yt_doc *d;
	clock_t t0 = clock();
	double cpu;
	char *got;

	for (int i = 0; i < 200000; i++)
		strbuf_addf(&text, "key%06d: %d\n", i, i);
	strbuf_adds(&text, "key000007: again\nkey199999: again\n");
	d = load(strbuf_str(&text));
	assert_int_equal(yt_nerrors(d), 2);
	assert_errors(d, "t.yaml:200001:1: duplicate key 'key000007' (first at "
	    "line 8, column 1)\n"
	    "t.yaml:200002:1: duplicate key 'key199999' (first at line 200000, "
	    "column 1)\n");
	/* Every key unknown and label missing: 200,005 in all, 100 shown. */
	assert_int_equal(yt_decode(d, yt_root(d), inner_keys, &in), 200003);
	got = yt_errors(d);
	assert_non_null(strstr(got, "t.yaml: ... and 199905 more errors\n"));
	assert_int_equal(strlen(got), (size_t)(strchr(strstr(got,
	    "... and"), '\n') + 1 - got));
	free(got);
	yt_free_fields(inner_keys, &in);
	yt_free(d);
	strbuf_free(&text);
	cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("200,000 keys: %.2f s of CPU\n", cpu);
	assert_true(cpu < 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_positions),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_decode_every_type),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_nulls_and_required),
		cmocka_unit_test(test_errors_sorted),
		cmocka_unit_test(test_errors_capped),
		cmocka_unit_test(test_check_unique),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
