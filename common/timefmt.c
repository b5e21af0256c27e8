/*
 * timefmt: parse and format instants, durations and sizes.
 * Pure functions apart from ebb_now()/ebb_mono_ns() and the local time
 * zone (TZ, through the C library's mktime/localtime_r): a time written
 * without an offset is local time, ebb_fmt_local() writes local time, the
 * rest is UTC.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"

#define MAX_SECS	(INT64_C(100) * 365 * 86400)	/* 100 years */

int
ebb_parse_duration(const char *s, int64_t *out, char *err, size_t errlen)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 },
		{ 'm', 60 }, { 's', 1 },
	};
	const char *p = s;
	int64_t total = 0;
	int last = -1;

	if (*p == '\0') {
		snprintf(err, errlen, "empty duration");
		return -1;
	}
	while (*p != '\0') {
		int64_t n = 0;
		size_t u;

		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "bad duration '%s': expected a "
			    "number at '%s'", s, p);
			return -1;
		}
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > MAX_SECS) {
				snprintf(err, errlen, "bad duration '%s': too "
				    "long", s);
				return -1;
			}
		}
		if (*p == '\0') {
			snprintf(err, errlen, "bad duration '%s': missing unit "
			    "(s, m, h, d or w)", s);
			return -1;
		}
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (units[u].unit == *p)
				break;
		if (u == sizeof(units) / sizeof(units[0])) {
			snprintf(err, errlen, "bad duration '%s': unknown unit "
			    "'%c' (use s, m, h, d or w)", s, *p);
			return -1;
		}
		if ((int)u <= last) {
			snprintf(err, errlen, "bad duration '%s': units must "
			    "go from largest to smallest, each once", s);
			return -1;
		}
		last = (int)u;
		total += n * units[u].secs;
		if (total > MAX_SECS) {
			snprintf(err, errlen, "bad duration '%s': too long", s);
			return -1;
		}
		p++;
	}
	*out = total;
	return 0;
}

/* Reads exactly `digits` digits. */
static int
num(const char **p, int digits, int *out)
{
	int v = 0;

	for (int i = 0; i < digits; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += digits;
	*out = v;
	return 0;
}

static int64_t
days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's algorithm, proleptic Gregorian. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A time of day "HH:MM[:SS[.frac]]" at *p into h, mi, sec. */
static int
clock_time(const char **p, int *h, int *mi, int *sec)
{
	*sec = 0;
	if (num(p, 2, h) || *(*p)++ != ':' || num(p, 2, mi))
		return -1;
	if (**p == ':') {
		(*p)++;
		if (num(p, 2, sec))
			return -1;
		if (**p == '.' || **p == ',') {
			(*p)++;
			if (!isdigit((unsigned char)**p))
				return -1;
			while (isdigit((unsigned char)**p))
				(*p)++;
		}
	}
	return 0;
}

/*
 * The local wall-clock time y-mo-d h:mi:sec (TZ) as epoch seconds. Fields
 * past their range (day 32, hour 24) carry over, as mktime does; a time a
 * DST change skips is read as the hour after it, one it shows twice as
 * the earlier.
 */
static int
local_epoch(int y, int mo, int d, int h, int mi, int sec, int64_t *out)
{
	struct tm tm;
	time_t t;

	int64_t best = INT64_MAX;

	/* Both readings of a wall time a DST change shows twice are valid:
	 * the earlier is taken (a deadline then errs early, not late). */
	for (int dst = -1; dst <= 1; dst++) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = dst;
		if ((t = mktime(&tm)) == (time_t)-1 && tm.tm_year != 69)
			continue;
		/* An explicit DST flag counts only where it reads the same
		 * wall time back (else it is the other side's time). */
		if (dst >= 0 && (tm.tm_hour != h || tm.tm_min != mi ||
		    tm.tm_isdst != dst))
			continue;
		if ((int64_t)t < best)
			best = (int64_t)t;
	}
	if (best == INT64_MAX)
		return -1;
	*out = best;
	return 0;
}

/* The local date of t (TZ). */
static void
local_date(int64_t t, int *y, int *mo, int *d)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	*y = tm.tm_year + 1900;
	*mo = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

static int
bad_time(const char *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "bad time '%s': expected 2026-11-22T18:00 (local "
	    "time; Z or +01:00 for another zone), 2026-11-22, 16:00, tomorrow "
	    "06:00, now+6h or now-7d", s);
	return -1;
}

/* "today" / "tomorrow" [" HH:MM[:SS]"], "HH:MM[:SS]": local times. */
static int
parse_day_word(const char *s, int64_t now, int64_t *out, char *err,
    size_t errlen)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, add = 0, clock = 1;
	int64_t t;

	if (strncmp(p, "today", 5) == 0)
		p += 5;
	else if (strncmp(p, "tomorrow", 8) == 0) {
		p += 8;
		add = 1;
	} else
		clock = 0;	/* a bare time of day */
	if (clock && *p == '\0')
		clock = 0;
	else if (clock && *p++ != ' ')
		return bad_time(s, err, errlen);
	if ((clock || p == s) && clock_time(&p, &h, &mi, &sec) == -1)
		return bad_time(s, err, errlen);
	if (*p != '\0')
		return bad_time(s, err, errlen);
	if (h > 23 || mi > 59 || sec > 60) {
		snprintf(err, errlen, "bad time '%s': field out of range", s);
		return -1;
	}
	local_date(now, &y, &mo, &d);
	if (local_epoch(y, mo, d + add, h, mi, sec, &t) == -1)
		return bad_time(s, err, errlen);
	/* A bare time of day already past today means tomorrow (sbatch). */
	if (s[0] != 't' && t < now &&
	    local_epoch(y, mo, d + 1, h, mi, sec, &t) == -1)
		return bad_time(s, err, errlen);
	*out = t;
	return 0;
}

/*
 * ISO-8601 date, optional time, optional offset (else local time; with
 * strict, a date, a time and an offset are all required).
 */
static int
parse_iso(const char *s, int strict, int64_t *out, char *err, size_t errlen)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	int local = 0;

	if (num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' ||
	    num(&p, 2, &d))
		goto bad_strict;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (clock_time(&p, &h, &mi, &sec) == -1)
			goto bad_strict;
	} else if (*p != '\0' || strict)
		goto bad_strict;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (num(&p, 2, &oh))
			goto bad_strict;
		if (*p == ':')
			p++;
		if (*p != '\0' && num(&p, 2, &om))
			goto bad_strict;
	} else if (strict)
		goto bad_strict;
	else
		local = 1;
	if (*p != '\0')
		goto bad_strict;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0)) || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
	    om > 59) {
		snprintf(err, errlen, "bad time '%s': field out of range", s);
		return -1;
	}
	if (local)
		return local_epoch(y, mo, d, h, mi, sec, out) == -1 ?
		    bad_time(s, err, errlen) : 0;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return 0;
bad_strict:
	if (!strict)
		return bad_time(s, err, errlen);
	snprintf(err, errlen, "bad time '%s': expected ISO-8601 with a UTC "
	    "offset, like 2026-11-22T18:00:00Z", s);
	return -1;
}

int
ebb_parse_instant(const char *s, int64_t *out, char *err, size_t errlen)
{
	return parse_iso(s, 1, out, err, errlen);
}

int
ebb_parse_time(const char *s, int64_t now, int64_t *out, char *err,
    size_t errlen)
{
	int64_t d;

	if (strncmp(s, "now", 3) == 0) {
		if (s[3] == '\0') {
			*out = now;
			return 0;
		}
		if (s[3] != '+' && s[3] != '-')
			return bad_time(s, err, errlen);
		if (ebb_parse_duration(s + 4, &d, err, errlen) == -1)
			return -1;
		*out = s[3] == '+' ? now + d : now - d;
		return 0;
	}
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    s[2] == ':')
		return parse_day_word(s, now, out, err, errlen);
	if (s[0] == 't')
		return parse_day_word(s, now, out, err, errlen);
	return parse_iso(s, 0, out, err, errlen);
}

int
ebb_parse_size(const char *s, int64_t *out, char *err, size_t errlen)
{
	static const char units[] = "KMGT";
	const char *p = s;
	double v = 0, frac = 0.1;
	int64_t mult = 1;
	const char *u;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p))
		v = v * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			v += frac * (*p++ - '0');
			frac /= 10;
		}
	}
	if (*p != '\0') {
		if ((u = strchr(units, toupper((unsigned char)*p))) == NULL)
			goto bad;
		for (const char *q = units; q <= u; q++)
			mult *= 1024;
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
		if (*p != '\0')
			goto bad;
	}
	if (v * (double)mult > 9.0e18)
		goto bad;
	*out = (int64_t)(v * (double)mult);
	return 0;
bad:
	snprintf(err, errlen, "bad size '%s': expected a number with an "
	    "optional unit K, M, G or T (e.g. 512M, 4G)", s);
	return -1;
}

/* t as UTC in the strftime format fmt. */
static char *
fmt_utc(int64_t t, const char *fmt, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* A time no calendar holds (past year 2^31) prints as such. */
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "%s", len > 7 ? "invalid" : "");
	return buf;
}

char *
ebb_fmt_time(int64_t t, char *buf, size_t len)
{
	return fmt_utc(t, "%Y-%m-%dT%H:%M:%SZ", buf, len);
}

char *
ebb_fmt_local(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long off;
	size_t n;

	if (localtime_r(&tt, &tm) == NULL || (n = strftime(buf, len,
	    "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "%s", len > 7 ? "invalid" : "");
		return buf;
	}
	off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(buf + n, len - n, "Z");
	else
		snprintf(buf + n, len - n, "%c%02ld:%02ld", off < 0 ? '-' : '+',
		    labs(off) / 3600, labs(off) % 3600 / 60);
	return buf;
}

char *
ebb_fmt_minute(int64_t t, char *buf, size_t len)
{
	return fmt_utc(t, "%Y-%m-%dT%H:%MZ", buf, len);
}

char *
ebb_fmt_duration(int64_t secs, char *buf, size_t len)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t off = 0;

	if (secs <= 0) {
		snprintf(buf, len, "%s0s", secs < 0 ? "-" : "");
		if (secs == 0)
			return buf;
		secs = -secs;
		off = 1;
	}
	for (size_t i = 0; i < 4 && off < len; i++) {
		if (secs >= units[i].secs) {
			off += (size_t)snprintf(buf + off, len - off,
			    "%" PRId64 "%c", secs / units[i].secs,
			    units[i].unit);
			secs %= units[i].secs;
		}
	}
	return buf;
}

char *
ebb_fmt_size(int64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	double v = (double)bytes;
	int u = -1;

	/* fmod and floor, not casts: near INT64_MAX the double is 2^63,
	 * which no int64_t holds (found by fuzzing the config dump). */
	while (v >= 1024 && u < 3 && (fmod(v, 1024) == 0 || v >= 1024 *
	    1024)) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRId64, bytes);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f%c", v, units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

int
ebb_parse_stamp(const char *s, int64_t *out)
{
	char buf[64], e[128];

	if (!isdigit((unsigned char)*s) || strlen(s) < 10 ||
	    strlen(s) + 2 > sizeof(buf))
		return -1;
	if (strpbrk(s + 10, "Zz+-") == NULL) {
		snprintf(buf, sizeof(buf), "%sZ", s);
		s = buf;
	}
	return ebb_parse_instant(s, out, e, sizeof(e));
}

double
ebb_backoff(int tries, double first_s, double max_s)
{
	double d = first_s * ldexp(1.0, tries > 1 ? tries - 1 : 0);

	d *= 0.5 + 0.5 * ((double)arc4random() / UINT32_MAX);
	return d < max_s ? d : max_s;
}

int64_t
ebb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t
ebb_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
