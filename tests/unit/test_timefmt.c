/*
 * test_timefmt: durations, instants (to the second and to the minute) and
 * sizes at the edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	assert_int_equal(ebb_parse_time("2023-02-29T00:00:00Z", now, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(ebb_parse_time("now-1h", now, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, now - 3600);
	assert_int_equal(ebb_parse_time("now*1h", now, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(ebb_parse_time("yesterday", now, &v, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "bad time 'yesterday'"));
	assert_int_equal(ebb_parse_time("tomorrow06:00", now, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(ebb_parse_time("25:00", now, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(ebb_parse_time("2026-11-22T13:00:00+", now, &v, err,
	    sizeof(err)), -1);

	/* Machine input: an offset is required, no local or relative forms. */
	assert_int_equal(ebb_parse_instant("2026-11-22T14:00:00+01:00", &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 1795352400);
	assert_int_equal(ebb_parse_instant("2026-11-22T13:00:00", &v, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "bad time '2026-11-22T13:00:00': expected "
	    "ISO-8601 with a UTC offset, like 2026-11-22T18:00:00Z");
	assert_int_equal(ebb_parse_instant("2026-11-22", &v, err, sizeof(err)),
	    -1);
	assert_int_equal(ebb_parse_instant("2026-11-22Z", &v, err, sizeof(err)),
	    -1);
	assert_int_equal(ebb_parse_instant("16:00", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_instant("now", &v, err, sizeof(err)), -1);
	assert_int_equal(ebb_parse_stamp("2023-01-01 00:00:00", &v), 0);
	assert_int_equal(v, 1672531200);
}

/* Parses s at now in zone tz; returns the instant (fails the test if bad). */
static int64_t
at(const char *tz, const char *s, int64_t now)
{
	char err[256];
	int64_t v = -1;

	setenv("TZ", tz, 1);
	tzset();
	if (ebb_parse_time(s, now, &v, err, sizeof(err)) == -1)
		fail_msg("%s in %s: %s", s, tz, err);
	return v;
}

/* Times written without an offset are local (TZ), as people write them. */
static void
test_local_times(void **state)
{
	/* 2026-11-22T13:00:00Z = 14:00 in Berlin (CET, +01:00). */
	int64_t now = 1795352400;
	char buf[32];

	(void)state;
	assert_int_equal(at("UTC0", "2026-11-22T13:00:00", now), 1795352400);
	assert_int_equal(at("Europe/Berlin", "2026-11-22T14:00", now),
	    1795352400);
	assert_int_equal(at("Europe/Berlin", "2026-11-22 14:00:30", now),
	    1795352430);
	/* An explicit offset wins over TZ. */
	assert_int_equal(at("Europe/Berlin", "2026-11-22T13:00:00Z", now),
	    1795352400);
	/* A date alone: local midnight. */
	assert_int_equal(at("Europe/Berlin", "2026-11-22", now),
	    1795352400 - 14 * 3600);
	assert_int_equal(at("America/New_York", "2026-11-22", now),
	    1795352400 - 8 * 3600);	/* 05:00Z (EST, -05:00) */
	/* A time of day: today if still ahead, else tomorrow (sbatch). */
	assert_int_equal(at("Europe/Berlin", "16:00", now), now + 2 * 3600);
	assert_int_equal(at("Europe/Berlin", "13:30", now),
	    now + 23 * 3600 + 30 * 60);
	assert_int_equal(at("Europe/Berlin", "tomorrow", now),
	    now + 10 * 3600);
	assert_int_equal(at("Europe/Berlin", "tomorrow 06:00", now),
	    now + 16 * 3600);
	assert_int_equal(at("Europe/Berlin", "today 09:00", now),
	    now - 5 * 3600);
	/* Across a DST change: 2026-03-29 in Berlin has 23 hours; 12:00 the
	 * day after 2026-03-28T12:00+01:00 is 23 h later. */
	assert_int_equal(at("Europe/Berlin", "tomorrow 12:00", 1774695600),
	    1774695600 + 23 * 3600);
	/* 2026-10-25 02:30 happens twice in Berlin: the earlier (CEST,
	 * 00:30Z) is taken; 2026-03-29 02:30 never does: 03:30 CEST. */
	assert_int_equal(at("Europe/Berlin", "2026-10-25T02:30", now),
	    1792888200);
	assert_int_equal(at("Europe/Berlin", "2026-03-29T02:30", now),
	    1774747800);
	/* Output in local time with the offset, Z where it is UTC. */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	assert_string_equal(ebb_fmt_local(now, buf, sizeof(buf)),
	    "2026-11-22T14:00:00+01:00");
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	assert_string_equal(ebb_fmt_local(now, buf, sizeof(buf)),
	    "2026-11-22T18:30:00+05:30");
	setenv("TZ", "America/St_Johns", 1);
	tzset();
	assert_string_equal(ebb_fmt_local(now, buf, sizeof(buf)),
	    "2026-11-22T09:30:00-03:30");
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_string_equal(ebb_fmt_local(now, buf, sizeof(buf)),
	    "2026-11-22T13:00:00Z");
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
		cmocka_unit_test(test_local_times),
		cmocka_unit_test(test_fmt_minute),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
