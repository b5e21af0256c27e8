/*
 * timefmt: time, duration and size parsing and formatting at the edges.
 *
 * Inside ebb every instant is UTC int64_t seconds since the epoch and every
 * span is int64_t seconds. Text forms appear only at the edges (CLI, YAML,
 * reports): durations "90s", "90m", "6h", "2d", "1h30m"; instants as
 * people write them (ebb_parse_time); sizes "512M", "4G", "1.5GiB".
 * Parsers return 0 or -1 with the reason in err.
 */
#ifndef EBB_TIMEFMT_H
#define EBB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "1h30m" -> 5400. Rejects empty, negative, unitless and overflowing input. */
int	ebb_parse_duration(const char *s, int64_t *out, char *err, size_t errlen);
/*
 * An instant: ISO-8601 with an offset ("2026-11-22T13:00:00Z",
 * "...+01:00"); without one, local time (TZ): "2026-11-22T13:00",
 * "2026-11-22 13:00:30", a date alone "2026-11-22" (its midnight); a time
 * of day "16:00" (today, or tomorrow once it has passed, as sbatch reads
 * it); "today" or "tomorrow", optionally followed by " HH:MM[:SS]"; "now",
 * "now+DURATION", "now-DURATION". Relative forms count from now.
 */
int	ebb_parse_time(const char *s, int64_t now, int64_t *out, char *err,
	    size_t errlen);
/*
 * Machine input (provider replies, stored stamps): ISO-8601 with a date,
 * a time and a UTC offset, nothing else; never read in local time.
 */
int	ebb_parse_instant(const char *s, int64_t *out, char *err,
	    size_t errlen);
/*
 * A data file's time stamp: ISO-8601 with an offset, or without one read as
 * UTC ("2023-01-01 00:00:00"). 0, or -1 if it is not one.
 */
int	ebb_parse_stamp(const char *s, int64_t *out);
/* "512M" -> 536870912 (binary units K, M, G, T; optional "i", "B"). */
int	ebb_parse_size(const char *s, int64_t *out, char *err, size_t errlen);

/* Writes "2026-11-22T13:00:00Z"; returns buf. 21 bytes suffice. */
char	*ebb_fmt_time(int64_t t, char *buf, size_t len);
/*
 * Writes local time (TZ) with its offset, "2026-11-22T14:00:00+01:00", or
 * with "Z" where local time is UTC; returns buf. 26 bytes suffice.
 */
char	*ebb_fmt_local(int64_t t, char *buf, size_t len);
/*
 * Writes "2026-11-22T13:05Z", to the minute (seconds dropped, not
 * rounded), the form some carbon-intensity APIs take; returns buf. 18
 * bytes suffice.
 */
char	*ebb_fmt_minute(int64_t t, char *buf, size_t len);
/* Writes "1h30m" (0 -> "0s"); returns buf. 32 bytes suffice. */
char	*ebb_fmt_duration(int64_t secs, char *buf, size_t len);
/* Writes "512M", "1.5G" or the byte count; returns buf. 32 bytes suffice. */
char	*ebb_fmt_size(int64_t bytes, char *buf, size_t len);

/* Current UTC time in seconds. */
int64_t	ebb_now(void);
/*
 * Seconds to wait before retry number `tries` (1, 2, ...): first_s
 * doubled each time, jittered down by up to half, capped at max_s.
 */
double	ebb_backoff(int tries, double first_s, double max_s);
/* Monotonic clock in nanoseconds. */
int64_t	ebb_mono_ns(void);

#endif
