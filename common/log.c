/*
 * log: leveled logging to stderr or syslog, in the OpenBSD daemon style.
 * It does not rotate files or buffer; each call is one line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

static const char *log_ident = "ebb";
static int log_stderr = 1;
static enum log_level log_lvl = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *ident, int to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level l)
{
	log_lvl = l;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	return level_names[l];
}

static void
vlog(enum log_level l, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];
	int saved = errno;

	if (l > log_lvl)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;
		char tbuf[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%s]: %s\n", tbuf,
		    ts.tv_nsec / 1000000, log_ident, level_names[l], msg);
	} else
		syslog(prio[l], "%s", msg);
	errno = saved;
}

#define DEFINE_LOG(name, lvl, err)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	vlog(lvl, err, fmt, ap);			\
	va_end(ap);					\
}

DEFINE_LOG(log_debug, LOG_LVL_DEBUG, 0)
DEFINE_LOG(log_info, LOG_LVL_INFO, 0)
DEFINE_LOG(log_warn, LOG_LVL_WARN, 1)
DEFINE_LOG(log_warnx, LOG_LVL_WARN, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
