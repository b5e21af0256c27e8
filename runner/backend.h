/*
 * backend: how ebbd asks a site to run, watch and stop jobs.
 *
 * Every backend (local now; slurm and kubernetes later) is a const ops table.
 * The interface is message-shaped on purpose: a start is one JSON spec, a
 * progress report is one JSON event, so the privileged part (creating
 * cgroups, dropping to the job's user, signalling) can move into its own
 * small process behind a socketpair without changing callers.
 *
 * Job spec (what start() takes; also written by the local backend to
 * <state_dir>/jobs/<id>/spec.json for ebb-run):
 *   {"job_id": 12, "argv": ["cmd", "arg"], "env": ["K=V"], "workdir": "/abs",
 *    "uid": 1000, "gid": 1000, "user": "alice", "cpus": 1, "mem": 0,
 *    "cgroup": "ebb/<instance>/job-12", "kill_grace": 10}
 *
 * Events (what the callback receives; `event` is borrowed):
 *   {"type": "started", "pid": 4242, "start_time": T}
 *   {"type": "finished", ...the fields of result.json, see runner/ebb-run.c}
 *   {"type": "lost", "reason": "..."}   supervisor vanished without a result
 *   {"type": "unstarted"}               adopt(): ebb-run never began the job,
 *                                       so starting it again is safe
 */
#ifndef EBB_BACKEND_H
#define EBB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

struct backend;

typedef void (*backend_event_cb)(void *arg, int64_t job_id,
    const json_t *event);

struct backend_conf {
	const char	*state_dir;	/* jobs live in <state_dir>/jobs/<id> */
	const char	*runner_path;	/* the ebb-run executable */
	const char	*instance;	/* short id unique per state dir */
};

struct backend_ops {
	const char *name;
	/* Returns a new backend (free with close) or NULL with err set. */
	struct backend *(*open)(struct ev_loop *, const struct backend_conf *,
	    backend_event_cb, void *cbarg, char *err, size_t errlen);
	void	(*close)(struct backend *);
	/* Start a job; a "started" or "finished"/"lost" event follows. */
	int	(*start)(struct backend *, const json_t *spec, char *err,
		    size_t errlen);
	/*
	 * After an ebbd restart: find the job's supervisor and watch it again,
	 * or report what became of it (finished, lost, unstarted) as an event.
	 */
	int	(*adopt)(struct backend *, int64_t job_id, char *err,
		    size_t errlen);
	/* Ask a running job to stop: SIGTERM, then SIGKILL after kill_grace. */
	int	(*cancel)(struct backend *, int64_t job_id, char *err,
		    size_t errlen);
	/*
	 * Freeze (pause = 1) or thaw (0) a running interruptible job: the
	 * cgroup freezer, else SIGSTOP/SIGCONT to its process group.
	 */
	int	(*pause)(struct backend *, int64_t job_id, int pause,
		    char *err, size_t errlen);
	/* Path of a job's captured output file ("stdout" or "stderr"). */
	char	*(*log_path)(struct backend *, int64_t job_id,
		    const char *stream);
};

extern const struct backend_ops backend_local_ops;

/* Look a backend up by its config name; NULL if unknown. */
const struct backend_ops *backend_lookup(const char *name);

#endif
