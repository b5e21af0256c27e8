/*
 * log: the daemon's and supervisor's logger.
 *
 * Messages go to stderr (foreground, -f) or syslog. log_warn appends
 * strerror(errno), log_warnx does not; fatal/fatalx log and exit(1).
 * Report or log an error, never both.
 */
#ifndef EBB_LOG_H
#define EBB_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Start logging as `ident`; to_stderr != 0 logs to stderr, else syslog. */
void	log_init(const char *ident, int to_stderr);
void	log_set_level(enum log_level);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *);
const char *log_level_name(enum log_level);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
