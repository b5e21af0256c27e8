/*
 * test_timefmt: durations, instants (to the second and to the minute) and
 * sizes at the edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "common/timefmt.h"

static void
test_durations(void **state)
{
	static const struct { const char *in; int64_t out; } ok[] = {
		{ "90s", 90 }, { "90m", 5400 }, { "6h", 21600 },
		{ "2d", 172800 }, { "1h30m", 5400 }, { "1w", 604800 },
		{ "0s", 0 }, { "1d2h3m4s", 93784 },
	};
	char err[256];
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ebb_parse_duration(ok[i].in, &v, err,
		    sizeof(err)), 0);
		assert_int_equal(v, ok[i].out);
	}
	assert_int_equal(ebb_parse_duration("6x", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "bad duration '6x': unknown unit 'x' (use s, "
	    "m, h, d or w)");
	assert_int_equal(ebb_parse_duration("90", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "bad duration '90': missing unit (s, m, h, d "
	    "or w)");
	assert_int_equal(ebb_parse_duration("", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_duration("-5m", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_duration("30m1h", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_duration("99999999999d", &v, err,
	    sizeof(err)), -1);
}

static void
test_times(void **state)
{
	char err[256], buf[32];
	int64_t v, now = 1700000000;

	assert_int_equal(ebb_parse_time("2026-11-22T13:00:00Z", now, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 1795352400);
	assert_string_equal(ebb_fmt_time(v, buf, sizeof(buf)),
	    "2026-11-22T13:00:00Z");
	assert_int_equal(ebb_parse_time("2026-11-22T14:00:00+01:00", now, &v,
	    err, sizeof(err)), 0);
	assert_int_equal(v, 1795352400);
	assert_int_equal(ebb_parse_time("2026-11-22T08:30-0430", now, &v,
	    err, sizeof(err)), 0);
	assert_int_equal(v, 1795352400);
	assert_int_equal(ebb_parse_time("2024-02-29T00:00:00.250Z", now, &v,
	    err, sizeof(err)), 0);
	assert_int_equal(v, 1709164800);
	assert_int_equal(ebb_parse_time("now+6h", now, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, now + 21600);
	assert_int_equal(ebb_parse_time("now", now, &v, err, sizeof(err)), 0);
	assert_int_equal(v, now);
	assert_int_equal(ebb_parse_time("2026-11-22T13:00:00", now, &v, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad time '2026-11-22T13:00:00': missing UTC "
	    "offset (add Z or +HH:MM)");
	assert_int_equal(ebb_parse_time("2023-02-29T00:00:00Z", now, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(ebb_parse_time("tomorrow", now, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(ebb_parse_time("now-1h", now, &v, err, sizeof(err)),
	    -1);
}

static void
test_fmt_minute(void **state)
{
	char buf[18];

	/* 2023-03-14T12:01:59Z: the seconds are dropped, not rounded. */
	assert_string_equal(ebb_fmt_minute(1678795319, buf, sizeof(buf)),
	    "2023-03-14T12:01Z");
	assert_string_equal(ebb_fmt_minute(1795352400, buf, sizeof(buf)),
	    "2026-11-22T13:00Z");
	assert_string_equal(ebb_fmt_minute(0, buf, sizeof(buf)),
	    "1970-01-01T00:00Z");
}

static void
test_sizes(void **state)
{
	char err[256], buf[32];
	int64_t v;

	assert_int_equal(ebb_parse_size("512M", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 512 << 20);
	assert_int_equal(ebb_parse_size("4GiB", &v, err, sizeof(err)), 0);
	assert_int_equal(v, INT64_C(4) << 30);
	assert_int_equal(ebb_parse_size("1.5G", &v, err, sizeof(err)), 0);
	assert_int_equal(v, INT64_C(3) << 29);
	assert_int_equal(ebb_parse_size("1000", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(ebb_parse_size("12Q", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_size("-1G", &v, err, sizeof(err)), -1);
	assert_string_equal(ebb_fmt_size(512 << 20, buf, sizeof(buf)), "512M");
	assert_string_equal(ebb_fmt_size(1000, buf, sizeof(buf)), "1000");
	/* The largest size a config may give (UBSan stopped here: fuzzing). */
	assert_string_equal(ebb_fmt_size(INT64_MAX, buf, sizeof(buf)),
	    "8388608T");
	assert_string_equal(ebb_fmt_size(INT64_C(3) << 40, buf, sizeof(buf)),
	    "3T");
	assert_string_equal(ebb_fmt_duration(5400, buf, sizeof(buf)), "1h30m");
	assert_string_equal(ebb_fmt_duration(0, buf, sizeof(buf)), "0s");
	assert_string_equal(ebb_fmt_duration(93784, buf, sizeof(buf)),
	    "1d2h3m4s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_fmt_minute),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
