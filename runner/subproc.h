/*
 * subproc: run a command on the libev loop without blocking it.
 *
 * A backend that drives a cluster through its command-line tools (sbatch,
 * squeue, scontrol...) starts them here: the command gets `input` on its
 * stdin, its stdout and stderr are collected (each capped at max_out or
 * SUBPROC_MAX bytes, the rest read and dropped, which `done` is told), and
 * `done` is called once from the
 * loop when it has exited and both streams are closed. A command that
 * outlives its timeout is killed (SIGKILL) and reported as such. With a
 * cred set the command runs as that user, its group and supplementary
 * groups (so sbatch submits as the job's owner): started by the
 * privileged process when priv is set (runner/priv.h), which then also
 * enforces the timeout.
 *
 * Children are watched with ev_child, so the loop must be libev's default
 * loop (which reaps every child). subproc_abandon() stops watching one:
 * its callback is never called, the child is killed and reaped by libev.
 */
#ifndef EBB_SUBPROC_H
#define EBB_SUBPROC_H

#include <stddef.h>
#include <sys/types.h>

#include <ev.h>

#define SUBPROC_MAX	(1024 * 1024)

/* What `flags` of a subproc_cb may say. */
#define SUBPROC_TIMED_OUT	0x1	/* killed after its timeout */
#define SUBPROC_TRUNCATED	0x2	/* stdout was longer than the cap */

struct subproc;
struct priv;
struct priv_cred;

struct subproc_req {
	char *const	*argv;		/* argv[0] is a full path */
	char *const	*envp;		/* NULL: the caller's environment */
	const char	*input;		/* to stdin (NULL: /dev/null) */
	size_t		 inlen;
	double		 timeout;	/* s; 0: none */
	size_t		 max_out;	/* stdout cap; 0: SUBPROC_MAX */
	/* Run as this user (through priv when set, else by dropping
	 * privileges after fork, as root only); NULL: as we are. */
	const struct priv_cred *cred;
	struct priv	*priv;
};

/*
 * status: a wait status (WIFEXITED...), or -1 if the command could not
 * be run (out then holds why). out/err are NUL-terminated, never NULL.
 */
typedef void (*subproc_cb)(void *arg, int status, int flags,
    const char *out, const char *err);

/*
 * Forks and execs req with in (-1: /dev/null), out and err as its stdin,
 * stdout and stderr, dropping to req's cred first when it is set and we
 * are root (input, timeout, max_out and priv are not used). The caller watches and reaps
 * the child. -1 with err set if it cannot fork.
 */
int		 subproc_spawn(const struct subproc_req *, int in, int out,
		    int err_fd, pid_t *pid, char *err, size_t errlen);
/* Starts req; NULL with err set if it cannot (fork, pipes). */
struct subproc	*subproc_run(struct ev_loop *, const struct subproc_req *,
		    subproc_cb, void *arg, char *err, size_t errlen);
void		 subproc_abandon(struct subproc *);

#endif
