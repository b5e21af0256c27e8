/*
 * test_trace: the trace provider (scheduler/carbon/prov_trace.c) on small
 * CSV files written to a temporary directory (column choice by default,
 * name and index, quoting, the UTF-8 Electricity Maps header, scale,
 * offsets, errors with file:line, history only up to now, replay onto the
 * present, re-reading a changed file) and on the bundled
 * examples/traces/DE-LU_2023_hourly.csv.
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scheduler/carbon/ci.h"
#include "scheduler/carbon/provider.h"
#include "testutil.h"

#define T0	1672531200LL	/* 2023-01-01T00:00:00Z */
#define HOUR	3600
#define DAY	86400LL
#define PERIOD	(364 * DAY)
#define FAR	(T0 + 100 * 365 * DAY)

#define EM_LCA	"Carbon Intensity gCO\xe2\x82\x82" "eq/kWh (LCA)"

/* tu_write_tmp(), the path in a static buffer kept until the next call. */
static const char *
write_file(const char *name, const char *text)
{
	static char path[128];
	char *p = tu_write_tmp(name, text);

	snprintf(path, sizeof(path), "%s", p);
	free(p);
	return path;
}

/* A provider at one site: conf + state, loaded through the ops table. */
struct site {
	struct provider_conf	conf;
	struct pstate		st;
	struct ci_batch		b;
	char			err[256];
};

static void
site_init(struct site *s, const char *file)
{
	memset(s, 0, sizeof(*s));
	s->conf.file = (char *)file;
	s->conf.scale = 1;
	s->st.conf = &s->conf;
	ci_batch_init(&s->b, "DE", CI_AVERAGE, "trace");
}

static int
site_load(struct site *s, int64_t now, int64_t t0, int64_t t1)
{
	s->b.n = 0;
	return prov_trace_ops.load(&s->st, now, t0, t1, &s->b, s->err,
	    sizeof(s->err));
}

static void
site_free(struct site *s)
{
	prov_trace_ops.clear(&s->st);
	assert_null(s->st.priv);
	ci_batch_free(&s->b);
}

static void
test_ops(void **state)
{
	assert_string_equal(prov_trace_ops.name, "trace");
	assert_null(prov_trace_ops.request);
	assert_null(prov_trace_ops.response);
	assert_non_null(prov_trace_ops.load);
	assert_non_null(prov_trace_ops.clear);
	assert_null(prov_trace_ops.base_url);
	assert_int_equal(prov_trace_ops.needs_secret, 0);
}

static void
test_default_columns(void **state)
{
	struct site s;

	/* Out of order in the file, CRLF line ends, a blank line, a gap. */
	site_init(&s, write_file("a.csv", "Time,Carbon Intensity\r\n"
	    "2023-01-01 01:00:00,200.5\r\n"
	    "2023-01-01 00:00:00,100\r\n"
	    "\r\n"
	    "2023-01-01 02:00:00,\r\n"
	    "2023-01-01 03:00:00,300\r\n"));
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	assert_int_equal(s.b.n, 3);
	assert_int_equal(s.b.pts[0].t, T0);
	assert_true(s.b.pts[0].value == 100);
	assert_int_equal(s.b.pts[1].t, T0 + HOUR);
	assert_true(s.b.pts[1].value == 200.5);
	assert_int_equal(s.b.pts[2].t, T0 + 3 * HOUR);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(s.b.pts[i].kind, CI_ACTUAL);
		assert_int_equal(s.b.pts[i].flags, 0);
		assert_int_equal(s.b.pts[i].vintage, FAR);
	}
	site_free(&s);
}

static void
test_named_quoted_utf8(void **state)
{
	struct site s;

	site_init(&s, write_file("em.csv", "Datetime (UTC),Country,"
	    "\"Zone, Name\",Carbon Intensity gCO\xe2\x82\x82" "eq/kWh (direct),"
	    EM_LCA ",Data Source\n"
	    "2023-01-01 00:00:00,Germany,\"Germany, \"\"DE\"\"\",140.51,"
	    "185.8,entsoe.eu\n"
	    "\"2023-01-01 01:00:00\",Germany,Germany,140.44,\"185.7\",\"a\n"
	    "b\"\n"
	    "2023-01-01 02:00:00,Germany,Germany,1,186,x\n"));
	s.conf.time_column = "Datetime (UTC)";
	s.conf.value_column = EM_LCA;
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	assert_int_equal(s.b.n, 3);
	assert_true(s.b.pts[0].value == 185.8);
	assert_true(s.b.pts[1].value == 185.7);
	assert_int_equal(s.b.pts[1].t, T0 + HOUR);
	assert_int_equal(s.b.pts[2].t, T0 + 2 * HOUR);	/* after "a\nb" */
	site_free(&s);
}

static void
test_index_scale_offsets(void **state)
{
	struct site s;

	site_init(&s, write_file("b.csv", "when,zone,lbs\n"
	    "2023-01-01T01:00:00+01:00,x,10\n"
	    "2023-01-01T00:30:00Z,x,20\n"
	    "2022-12-31T20:00:00-05:00,x,30\n"));
	s.conf.value_column = "2";
	s.conf.scale = 0.5;
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	assert_int_equal(s.b.n, 3);
	assert_int_equal(s.b.pts[0].t, T0);
	assert_true(s.b.pts[0].value == 5);
	assert_int_equal(s.b.pts[1].t, T0 + 1800);
	assert_true(s.b.pts[1].value == 10);
	assert_int_equal(s.b.pts[2].t, T0 + HOUR);
	assert_true(s.b.pts[2].value == 15);
	site_free(&s);
}

static void
test_errors(void **state)
{
	struct site s;
	const char *p;
	char want[256];

	p = write_file("trace.csv", "t,v\n2023-01-01 00:00:00,1\n"
	    "2023-01-01 01:00:00,2\n\n2023-01-01 02:00:00,3\nx,4\n");
	site_init(&s, p);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	snprintf(want, sizeof(want), "%s:6: bad timestamp 'x'", p);
	assert_string_equal(s.err, want);
	assert_null(s.st.priv);
	site_free(&s);

	p = write_file("trace.csv", "t,v\n2023-01-01 00:00:00,abc\n");
	site_init(&s, p);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	snprintf(want, sizeof(want), "%s:2: bad value 'abc'", p);
	assert_string_equal(s.err, want);
	site_free(&s);

	p = write_file("trace.csv", "t,v\n2023-01-01 00:00:00\n");
	site_init(&s, p);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	snprintf(want, sizeof(want), "%s:2: 1 fields, need 2", p);
	assert_string_equal(s.err, want);
	site_free(&s);

	p = write_file("trace.csv", "t,v\n\"2023-01-01 00:00:00,1\n");
	site_init(&s, p);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	snprintf(want, sizeof(want), "%s:2: unterminated quote", p);
	assert_string_equal(s.err, want);
	site_free(&s);

	p = write_file("trace.csv", "t,v\n2023-01-01 00:00:00,1\n");
	site_init(&s, p);
	s.conf.value_column = "foo";
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	snprintf(want, sizeof(want), "%s: no column 'foo'", p);
	assert_string_equal(s.err, want);
	s.conf.value_column = "7";
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	assert_non_null(strstr(s.err, "no column 7"));
	site_free(&s);

	site_init(&s, "/nonexistent/trace.csv");
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	assert_string_equal(s.err,
	    "/nonexistent/trace.csv: No such file or directory");
	site_free(&s);
}

/* Hourly points from T0 for `hours` hours, value = hour index. */
static const char *
hourly_file(const char *name, int hours)
{
	size_t cap = (size_t)hours * 32 + 16, len;
	char *text = malloc(cap);
	const char *p;

	len = (size_t)snprintf(text, cap, "time,value\n");
	for (int h = 0; h < hours; h++) {
		int64_t t = T0 + (int64_t)h * HOUR;
		int64_t d = t / DAY, sec = t % DAY;

		/* days since epoch -> civil date (Hinnant), enough for tests */
		int64_t z = d + 719468, era = z / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) /
		    365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153;
		int64_t day = doy - (153 * mp + 2) / 5 + 1;
		int64_t mon = mp < 10 ? mp + 3 : mp - 9;
		int64_t yr = yoe + era * 400 + (mon <= 2);

		len += (size_t)snprintf(text + len, cap - len,
		    "%04lld-%02lld-%02lld %02lld:00:00,%d\n", (long long)yr,
		    (long long)mon, (long long)day, (long long)(sec / HOUR), h);
	}
	p = write_file(name, text);
	free(text);
	return p;
}

static void
test_only_up_to_now(void **state)
{
	struct site s;

	site_init(&s, hourly_file("h.csv", 48));
	/* now = 05:10: nothing after it, even though the file has it. */
	assert_int_equal(site_load(&s, T0 + 5 * HOUR + 600, T0, T0 + DAY), 0);
	assert_int_equal(s.b.n, 6);
	assert_int_equal(s.b.pts[5].t, T0 + 5 * HOUR);
	/* A window starting mid-hour gets the point covering its start. */
	assert_int_equal(site_load(&s, T0 + 5 * HOUR, T0 + 2 * HOUR + 1800,
	    T0 + DAY), 0);
	assert_int_equal(s.b.n, 4);
	assert_int_equal(s.b.pts[0].t, T0 + 2 * HOUR);
	assert_true(s.b.pts[0].value == 2);
	/* A window entirely in the future of now: nothing. */
	assert_int_equal(site_load(&s, T0, T0 + 10 * HOUR, T0 + DAY), 0);
	assert_int_equal(s.b.n, 0);
	/* Without replay, the present (2026) is past the trace: its end. */
	assert_int_equal(site_load(&s, FAR, T0 + 47 * HOUR, FAR), 0);
	assert_int_equal(s.b.n, 1);
	assert_int_equal(s.b.pts[0].flags, 0);
	site_free(&s);
}

static void
test_replay(void **state)
{
	struct site s;
	int64_t now = 1781492400;	/* 2026-06-15T03:00:00Z */
	int64_t k = (now - T0) / PERIOD;

	site_init(&s, hourly_file("y.csv", 365 * 24));
	s.conf.replay = 1;
	assert_int_equal(site_load(&s, now, now - 3 * DAY, now + 3 * DAY), 0);
	/* Three days of history up to and including now, none after. */
	assert_int_equal(s.b.n, 3 * 24 + 1);
	assert_int_equal(s.b.pts[s.b.n - 1].t, now);
	for (size_t i = 0; i < s.b.n; i++) {
		const struct ci_point *p = &s.b.pts[i];
		int64_t orig = T0 + (int64_t)p->value * HOUR;

		assert_int_equal(p->flags, CI_REPLAY);
		assert_int_equal(p->kind, CI_ACTUAL);
		assert_true(p->t <= now);
		/* Shifted by whole 52-week periods: same weekday and hour. */
		assert_int_equal(p->t - orig, k * PERIOD);
	}

	/* Across the seam between two copies: day 365 of the trace is not
	 * used, the next copy's day 1 follows day 364 hour by hour. */
	int64_t seam = T0 + (k + 1) * PERIOD;
	assert_int_equal(site_load(&s, seam + 5 * HOUR, seam - 5 * HOUR,
	    seam + 6 * HOUR), 0);
	assert_int_equal(s.b.n, 11);
	for (size_t i = 0; i < s.b.n; i++)
		assert_int_equal(s.b.pts[i].t, seam - 5 * HOUR +
		    (int64_t)i * HOUR);
	assert_true(s.b.pts[4].value == 364 * 24 - 1);	/* last of day 364 */
	assert_true(s.b.pts[5].value == 0);		/* first of day 1 */
	site_free(&s);
}

static void
test_reread_when_changed(void **state)
{
	struct site s;
	struct timespec ts[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };
	const char *p = write_file("c.csv", "t,v\n2023-01-01 00:00:00,1\n");
	void *priv;

	site_init(&s, p);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	priv = s.st.priv;
	assert_non_null(priv);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	assert_ptr_equal(s.st.priv, priv);	/* unchanged: cached */
	assert_true(s.b.pts[0].value == 1);

	write_file("c.csv", "t,v\n2023-01-01 00:00:00,2\n");
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), 0);
	assert_true(s.b.pts[0].value == 2);

	/* A broken rewrite fails the load and keeps no stale half-parse. */
	write_file("c.csv", "t,v\nnope,3\n");
	assert_int_equal(site_load(&s, FAR, T0, T0 + DAY), -1);
	site_free(&s);
}

static void
test_bundled_de(void **state)
{
	const char *data = getenv("EBB_TEST_DATA");
	char path[512];
	struct site s;

	if (data == NULL) {
		print_message("EBB_TEST_DATA not set: cannot find examples/\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/../examples/traces/"
	    "DE-LU_2023_hourly.csv", data);
	site_init(&s, path);
	s.conf.value_column = EM_LCA;
	assert_int_equal(site_load(&s, FAR, T0, T0 + 365 * DAY), 0);
	assert_int_equal(s.b.n, 8760);
	assert_int_equal(s.b.pts[0].t, T0);
	assert_true(s.b.pts[0].value == 185.8);
	assert_int_equal(s.b.pts[8759].t, T0 + 8759 * HOUR);
	/* The direct column is column 4, and by default column 1 is text. */
	s.conf.value_column = "4";
	assert_int_equal(site_load(&s, FAR, T0, T0 + 365 * DAY), 0);
	assert_true(s.b.pts[0].value == 140.51);
	s.conf.value_column = NULL;
	assert_int_equal(site_load(&s, FAR, T0, T0 + 365 * DAY), -1);
	assert_non_null(strstr(s.err, ":2: bad value 'Germany'"));
	site_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_default_columns),
		cmocka_unit_test(test_named_quoted_utf8),
		cmocka_unit_test(test_index_scale_offsets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_only_up_to_now),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_reread_when_changed),
		cmocka_unit_test(test_bundled_de),
	};

	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
