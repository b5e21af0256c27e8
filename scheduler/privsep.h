/*
 * privsep: how ebbd splits itself when it starts as root.
 *
 * The parent keeps root and serves only runner/privd.h; the worker (the
 * rest of ebbd) drops for good to the config's `user` before it opens
 * the store or reads a byte from a client, a provider or Slurm. This file
 * holds the steps around that split: making the state directory private
 * to the worker (tightening what older installs left readable), the
 * allowlists the parent enforces, dropping privileges, and the parent's
 * own small loop (forwarding SIGTERM and SIGHUP, reloading its
 * allowlists, removing the socket when the worker is gone).
 */
#ifndef EBB_PRIVSEP_H
#define EBB_PRIVSEP_H

#include <stddef.h>
#include <sys/types.h>

struct ebb_config;
struct privd_conf;

/* Who the worker runs as. */
struct privsep_user {
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/*
 * As root: looks up cfg->user (which must exist and not be root). Not
 * root: ourselves. -1 with err set.
 */
int	privsep_user(const struct ebb_config *, struct privsep_user *,
	    char *err, size_t errlen);
/*
 * Creates the state directory 0700 for u, makes an existing one and the
 * files ebbd keeps there (the database, its journals, energy.json) u's
 * and private (0700/0600), and refuses a directory someone else owns.
 * Files are reached through O_NOFOLLOW descriptors. -1 with err set.
 */
int	privsep_prepare_state(const char *state_dir,
	    const struct privsep_user *, char *err, size_t errlen);
/*
 * What the privileged side allows for cfg (free with privsep_conf_free):
 * the Slurm sites' shared directories (created 0755 if missing) and the
 * commands that act on one job as its user. -1 with err set (as root a
 * Slurm site must name its shared_dir: the state dir is private).
 */
int	privsep_conf(const struct ebb_config *, const char *jobs_dir,
	    const char *runner, const char *instance, struct privd_conf *,
	    char *err, size_t errlen);
void	privsep_conf_free(struct privd_conf *);
/* Drops to u for good (groups, gid, uid; no new privileges). Exits on
 * failure. */
void	privsep_drop(const struct privsep_user *);
/*
 * The parent's life after forking worker: serves fd until the worker
 * ends, then removes the socket and returns the worker's exit status.
 */
int	privsep_parent(pid_t worker, int fd, const char *config_path,
	    const char *jobs_dir, const char *runner, const char *instance);

#endif
