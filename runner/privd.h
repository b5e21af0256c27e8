/*
 * privd: the privileged side of ebbd's privilege separation.
 *
 * When ebbd starts as root it forks: the parent keeps root and runs only
 * this server; the worker drops to an unprivileged user and does
 * everything that parses untrusted input (the socket protocol, provider
 * responses, Slurm's output, sqlite, planning). The worker asks for what
 * needs root through typed, size-checked messages (runner/privproto.h)
 * on a SOCK_SEQPACKET socketpair; this server checks each one and does
 * only these operations:
 *
 *   START/ADOPT/SIGNAL  start ebb-run for a local job with the credentials
 *                       the worker names (never root), find it again after
 *                       a restart, freeze/thaw/cancel it (runner/jobctl)
 *   OPEN                a read-only descriptor of a local job's output
 *   UOPEN/UWRITE        read a named file of a Slurm job's directory, or
 *                       write its spec.json, as the job's user, under a
 *                       configured shared_dir only
 *   RUN/RUNKILL         run a configured cluster command (sbatch, scancel)
 *                       as a job's user, with the worker's pipes and an
 *                       environment the worker names (a fixed allowlist of
 *                       variables), never as root
 *
 * Requests for uid 0, unknown directories, names or commands are refused.
 * Running as an ordinary user the same server runs in ebbd's one process,
 * on the same loop, so both modes use one code path.
 */
#ifndef EBB_PRIVD_H
#define EBB_PRIVD_H

#include <stddef.h>

#include <ev.h>

struct privd;

struct privd_conf {
	const char	*jobs_dir;	/* local jobs (runner/jobctl.h) */
	const char	*runner;	/* ebb-run */
	const char	*instance;	/* cgroup names */
	char *const	*shared_dirs;	/* NULL-terminated: UOPEN/UWRITE roots */
	char *const	*commands;	/* NULL-terminated: what RUN may start */
	int		 root_jobs;	/* jobs and commands may run as root */
};

/*
 * Serves requests arriving on fd (one end of a SEQPACKET socketpair; it
 * is taken over). on_gone is called when the worker closes its end or
 * sends a malformed message. NULL with err set.
 */
struct privd	*privd_open(struct ev_loop *, int fd,
		    const struct privd_conf *, void (*on_gone)(void *),
		    void *arg, char *err, size_t errlen);
/* New allowlists after a config reload (jobs_dir and runner stay). */
void		 privd_reconfigure(struct privd *, const struct privd_conf *);
/* Handles what is waiting on the socket now (in-process callers). */
void		 privd_poll(struct privd *);
/* Stops serving; running jobs and commands keep running. */
void		 privd_close(struct privd *);

#endif
