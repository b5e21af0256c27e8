/*
 * jobctl: the privileged half of running local jobs, used by ebbd's
 * privileged process (runner/privd.c): one ebb-run supervisor per job in
 * <jobs_dir>/<id>, a directory only this process writes (0700, owned by
 * its user, which must own jobs_dir too).
 *
 * start() copies the job spec it is given (a descriptor; never parsed
 * here) into the job's directory and spawns ebb-run with the job's
 * credentials, cgroup and limits on its command line (ebb-run takes them
 * from there, never from the spec) and a minimal environment; it watches
 * the supervisor through a pidfd. adopt() finds a supervisor again after a
 * restart from the job directory alone (result.json, the flock on lock and
 * the pid in it, started). Every file is reached through a directory
 * descriptor with O_NOFOLLOW.
 *
 * When a supervisor ends without a result (killed), its job's cgroup is
 * emptied with SIGKILL and removed before the job is reported lost, so a
 * lost job never keeps running unsupervised and its cpus stay counted
 * until its processes are gone. Groups left by jobs whose supervisor is
 * gone are reaped the same way when jobctl opens.
 *
 * Events go to the callback as they happen (it must not call back into
 * jobctl). It does not kill supervisors on close (jobs outlive ebbd), retry
 * jobs or remove job directories.
 */
#ifndef EBB_JOBCTL_H
#define EBB_JOBCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "runner/privproto.h"

struct jobctl;

struct jobctl_ev {
	int64_t		 id;
	enum priv_ev	 what;
	pid_t		 pid;		/* STARTED */
	int64_t		 start_time;	/* STARTED */
	const char	*text;		/* LOST, FAILED */
	int		 fd;		/* FINISHED: result.json (the callback
					   owns it) */
};

typedef void (*jobctl_cb)(void *arg, const struct jobctl_ev *);

struct jobctl_conf {
	const char	*jobs_dir;	/* created 0700 if missing */
	const char	*runner;	/* the ebb-run executable */
	const char	*instance;	/* cgroups: ebb/<instance>/job-<id> */
};

/* NULL with err set (jobs_dir unusable or not ours). */
struct jobctl	*jobctl_open(struct ev_loop *, const struct jobctl_conf *,
		    jobctl_cb, void *arg, char *err, size_t errlen);
/* Stops watching (supervisors keep running) and prunes the empty parent. */
void		 jobctl_close(struct jobctl *);
/*
 * Starts job id as cred with the spec read from spec_fd (the caller
 * closes it); the outcome comes as an event (STARTED or FAILED).
 */
void		 jobctl_start(struct jobctl *, int64_t id,
		    const struct priv_cred *, int64_t mem, int64_t kill_grace,
		    int64_t output_limit, int spec_fd);
/* After a restart: STARTED (watched again), FINISHED, LOST or UNSTARTED. */
void		 jobctl_adopt(struct jobctl *, int64_t id);
/* PRIV_CANCEL, PRIV_FREEZE or PRIV_THAW to a watched job's supervisor. */
int		 jobctl_signal(struct jobctl *, int64_t id, int what,
		    char *err, size_t errlen);
/* A new read-only descriptor of the job's "stdout" or "stderr"; -1. */
int		 jobctl_open_output(struct jobctl *, int64_t id,
		    const char *stream, char *err, size_t errlen);
/* The instance name of the daemon using state_dir (8 hex digits). */
void		 jobctl_instance(const char *state_dir, char out[17]);
/* The cgroup name of job id (caller frees): one definition for all. */
char		*jobctl_cgroup(const char *instance, int64_t id);

#endif
