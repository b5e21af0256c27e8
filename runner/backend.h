/*
 * backend: how ebbd asks a site to run, watch and stop jobs.
 *
 * Every backend (local, slurm, kubernetes) is a const ops table.
 * The interface is message-shaped on purpose: a start is one JSON spec, a
 * progress report is one JSON event, so the privileged part (creating
 * cgroups, dropping to the job's user, signalling) can move into its own
 * small process behind a socketpair without changing callers.
 *
 * Job spec (what start() takes; also written by the local backend to
 * <state_dir>/jobs/<id>/spec.json for ebb-run):
 *   {"job_id": 12, "argv": ["cmd", "arg"], "env": ["K=V"], "workdir": "/abs",
 *    "uid": 1000, "gid": 1000, "user": "alice", "cpus": 1, "mem": 0,
 *    "cgroup": "ebb/<instance>/job-12", "kill_grace": 10,
 *    "groups": [1000, 27]}    (the submitter's groups; absent for old jobs)
 *
 * Events (what the callback receives; `event` is borrowed):
 *   {"type": "started", "pid": 4242, "start_time": T}
 *   {"type": "finished", ...the fields of result.json, see runner/ebb-run.c}
 *   {"type": "lost", "reason": "..."}   supervisor vanished without a result
 *   {"type": "unstarted"}               adopt(): ebb-run never began the job,
 *                                       so starting it again is safe
 *   {"type": "failed", "reason": "..."} start(): the job could not be
 *                                       started (nothing of it runs)
 *
 * Backends with a queue of their own (slurm) take jobs at plan time
 * through place() and start them themselves; they also send:
 *   {"type": "handed", "ext_id": "123"}  the cluster took the job: record
 *                                        its id there
 *   {"type": "rejected", "reason": "..."} the cluster refused the job
 *   {"type": "ended", "state": "CANCELLED", "reason": "..."}  it ended
 *                                        there without running under ebb
 *                                        (cancelled while pending)
 *   {"type": "stray", "ext_id": "123"}   a job tagged with this id runs or
 *                                        waits there, but nobody placed it:
 *                                        cancel() it unless it is active
 *   {"type": "foreign", "ext_id", "submit_time", "uid", "user", "name",
 *    "cpus", "time_limit", "workdir", "comment"}  (job id 0) a job
 *                                        submitted there directly that asks
 *                                        to be planned by ebb (adoption)
 * A "finished" event of such a backend may carry "energy": [[t0, t1, J],
 * ...] and "energy_method", measured by ebb-run where the job ran.
 */
#ifndef EBB_BACKEND_H
#define EBB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

struct backend;
struct ebb_slurm;
struct ebb_kube;
struct priv;
struct priv_cred;

typedef void (*backend_event_cb)(void *arg, int64_t job_id,
    const json_t *event);

struct backend_conf {
	const char	*state_dir;	/* jobs live in <state_dir>/jobs/<id> */
	const char	*runner_path;	/* the ebb-run executable */
	const char	*instance;	/* short id unique per state dir */
	const char	*site;		/* per-site backends: the site's name */
	const struct ebb_slurm *slurm;	/* backend slurm: its settings */
	const struct ebb_kube *kube;	/* backend kubernetes: its settings */
	const json_t	*energy;	/* how ebb-run meters a job where ebbd
					   cannot: {powercap_root, procfs_root,
					   idle_w, max_w, slot}, or NULL */
	struct priv	*priv;		/* the privileged process (priv.h) */
	int64_t		 output_limit;	/* bytes of a job's stdout/stderr each
					   kept (local jobs); 0: no limit */
};

struct backend_ops {
	const char *name;
	const char *title;	/* for people: "Slurm", "Kubernetes" */
	/* Backends whose users submit there directly (foreign events):
	 * what adopted jobs show as their command, and the duration_source
	 * of a run time taken from the cluster's own time limit. */
	struct {
		const char *tool, *what, *limit;
	} foreign;
	int	per_site;	/* one backend per site (else one in all) */
	/* Returns a new backend (free with close) or NULL with err set. */
	struct backend *(*open)(struct ev_loop *, const struct backend_conf *,
	    backend_event_cb, void *cbarg, char *err, size_t errlen);
	void	(*close)(struct backend *);
	/*
	 * Start a job; a "started" or "finished"/"lost" event follows.
	 * start, adopt and pause are NULL for backends with place().
	 */
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
	/*
	 * A read-only descriptor of a job's captured output ("stdout" or
	 * "stderr"), opened with the job's user's rights where the user
	 * could have placed the file; -1 with errno and err set.
	 */
	int	(*open_log)(struct backend *, const json_t *spec,
		    const char *stream, char *err, size_t errlen);
	/*
	 * Backends with their own queue: hand the job (spec, plus "ext_id"
	 * and "adopted" once known, "running" after a restart) over to start
	 * at `start` (epoch s; <= now: at once), or move it there; after an
	 * ebbd restart the same call takes a job up again. NULL for the
	 * others.
	 */
	int	(*place)(struct backend *, const json_t *spec, int64_t start,
		    char *err, size_t errlen);
	/*
	 * How the backend's cluster answers, for `ebb sites` (new
	 * reference): {"state": "ok"|"failing"|"starting", "since": T,
	 * "error": "..." or null, "jobs": N}. NULL: nothing to say.
	 */
	json_t	*(*status)(struct backend *);
};

extern const struct backend_ops backend_local_ops;
extern const struct backend_ops backend_slurm_ops;
extern const struct backend_ops backend_kube_ops;

/*
 * An event queue for backends: events are delivered from a zero-delay
 * timer on the loop, never from inside a backend call.
 */
struct backend_evq {
	struct ev_loop		*loop;
	backend_event_cb	 cb;
	void			*cbarg;
	struct backend_ev	*head, **tail;
	ev_timer		 deliver;
};

void	backend_evq_init(struct backend_evq *, struct ev_loop *,
	    backend_event_cb, void *cbarg);
/* Queues ev (reference stolen) for job id. */
void	backend_evq_push(struct backend_evq *, int64_t id, json_t *ev);
/* Drops what was not delivered and stops the timer. */
void	backend_evq_clear(struct backend_evq *);

/*
 * Who a job runs as, from its spec: uid, gid and "groups" (the
 * submitter's groups, stored at submit), or for older jobs the group
 * database's groups of "user". -1 with err set if the spec lacks them.
 */
int	backend_cred(const json_t *spec, struct priv_cred *, char *err,
	    size_t errlen);

/* Look a backend up by its config name; NULL if unknown. */
const struct backend_ops *backend_lookup(const char *name);

#endif
