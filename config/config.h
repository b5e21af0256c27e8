/*
 * config: ebb.yaml, loaded all-or-nothing into a typed struct.
 *
 * config_load() parses with libyaml, checks every key against the key
 * tables in config.c (unknown keys are errors), and reports every error it
 * finds as "file:line:col: message" lines. On any error nothing is returned,
 * so a bad file changes nothing. config_default() is the embedded default
 * used when ebbd runs without -c: state under $XDG_STATE_HOME/ebb (or
 * /var/lib/ebb as root), socket in the state dir (or /run/ebb as root), one
 * local site sized to this machine.
 */
#ifndef EBB_CONFIG_H
#define EBB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ebb_site {
	char	*name;		/* unique, [A-Za-z0-9_.-]+ */
	char	*backend;	/* "local" */
	int	 cpus;		/* capacity; default: online CPUs */
	int64_t	 memory;	/* bytes; default: physical memory */
	char	*zone;		/* grid zone id, or NULL */
	double	 pue;		/* >= 1.0, default 1.0 */
};

struct ebb_config {
	char	*path;		/* file it came from, or "(default)" */
	char	*state_dir;
	char	*socket;
	char	*socket_group;	/* group owning the socket, or NULL */
	mode_t	 socket_mode;	/* default 0660 */
	char	*admin_group;	/* members act on all jobs, or NULL */
	char	*runner;	/* ebb-run path, or NULL: next to ebbd */
	int64_t	 kill_grace;	/* s between SIGTERM and SIGKILL, default 10 */
	int	 log_level;	/* enum log_level, default info */
	struct ebb_site *sites;
	size_t	 nsites;
};

/*
 * Load path. On success returns 0 and a new config in *out (free with
 * config_free). On failure returns -1 and a malloc'd string in *errs holding
 * one "file:line:col: message\n" line per error (caller frees).
 */
int	config_load(const char *path, struct ebb_config **out, char **errs);
/* The embedded default (never fails). */
struct ebb_config *config_default(void);
void	config_free(struct ebb_config *);
/* The normalised config as YAML that config_load() accepts (caller frees). */
char	*config_dump(const struct ebb_config *);
/* The site called name, or NULL. */
const struct ebb_site *config_site(const struct ebb_config *, const char *name);

/*
 * Where a client looks for the socket when neither --socket nor $EBB_SOCKET
 * is given: the per-user default if it exists, else the system one.
 * Returns a malloc'd path.
 */
char	*config_client_socket(void);

#endif
