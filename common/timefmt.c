/*
 * timefmt: parse and format instants, durations and sizes.
 * Pure functions apart from ebb_now()/ebb_mono_ns(); no locale, no timezone
 * database: offsets are taken from the text, output is always UTC.
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

static int
parse_iso(const char *s, int64_t *out, char *err, size_t errlen)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;

	if (num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' ||
	    num(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (num(&p, 2, &h) || *p++ != ':' || num(&p, 2, &mi))
		goto bad;
	if (*p == ':') {
		p++;
		if (num(&p, 2, &sec))
			goto bad;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (num(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (*p != '\0' && num(&p, 2, &om))
			goto bad;
	} else if (*p == '\0') {
		snprintf(err, errlen, "bad time '%s': missing UTC offset "
		    "(add Z or +HH:MM)", s);
		return -1;
	} else
		goto bad;
	if (*p != '\0')
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0)) || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
	    om > 59) {
		snprintf(err, errlen, "bad time '%s': field out of range", s);
		return -1;
	}
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return 0;
bad:
	snprintf(err, errlen, "bad time '%s': expected ISO-8601 like "
	    "2026-11-22T18:00:00Z, or now+DURATION", s);
	return -1;
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
		if (s[3] != '+') {
			snprintf(err, errlen, "bad time '%s': expected now or "
			    "now+DURATION", s);
			return -1;
		}
		if (ebb_parse_duration(s + 4, &d, err, errlen) == -1)
			return -1;
		*out = now + d;
		return 0;
	}
	return parse_iso(s, out, err, errlen);
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

	gmtime_r(&tt, &tm);
	strftime(buf, len, fmt, &tm);
	return buf;
}

char *
ebb_fmt_time(int64_t t, char *buf, size_t len)
{
	return fmt_utc(t, "%Y-%m-%dT%H:%M:%SZ", buf, len);
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
	return ebb_parse_time(s, 0, out, e, sizeof(e));
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
