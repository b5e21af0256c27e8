/*
 * dispatch: turns plans into running jobs and backend events into states.
 *
 * Keeps a compact in-memory index of the active (not final) jobs, runs a
 * planning pass shortly after anything changes (a submit, a cancel, new
 * intensity data), at the next planned start and every planner.replan,
 * starts the jobs a job's end makes room for at once (from the capacity
 * the last plan left, without a pass),
 * records each transition in the store and drives the sites' backends:
 * launches, and freezes and thaws interruptible jobs to follow their
 * planned slots. A job is marked running and committed before
 * its supervisor is launched, and launched only after that commit, so a
 * crash at any point can neither lose nor double-start it (ebb-run's
 * started marker settles the rest on recovery).
 */
#ifndef EBB_DISPATCH_H
#define EBB_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/job.h"

struct ebbd;
struct job;
struct dispatch;

/* Opens the configured sites' backends; NULL with err set. */
struct dispatch *dispatch_new(struct ebbd *, char *err, size_t errlen);
void	dispatch_free(struct dispatch *);
/* Loads the active jobs from the store and re-adopts running ones. */
int	dispatch_recover(struct dispatch *, char *err, size_t errlen);
/*
 * Readies a new job: its duration estimate (given, else from the user's
 * past runs of the same name, else the policy's, else a default), its
 * policy (defaults and caps), and checks it against the sites. err names
 * the field on refusal.
 */
int	dispatch_admit(struct dispatch *, struct job *, char *err,
	    size_t errlen);
/*
 * Plans an admitted job that is not stored or indexed (a dry run) as a
 * submit now would be, against the current queue, and fills in its
 * site, planned_start, plan_why, expected_g, now_g and alt_* (state
 * planned, or queued when it would find no room). Changes nothing else.
 */
void	dispatch_preview(struct dispatch *, struct job *);
/* Plan again soon (new intensity data, a policy change). */
void	dispatch_replan(struct dispatch *);
/* A job was stored: index it and plan again. */
void	dispatch_added(struct dispatch *, const struct job *);
/*
 * Cancels a job the caller loaded: queued/planned ones at once (the job's
 * state is updated), running ones by asking the backend to stop them.
 */
int	dispatch_cancel(struct dispatch *, struct job *, const char *by,
	    char *err, size_t errlen);
/*
 * `ebb hold` (hold 1) and `ebb release` (0) of a job the caller loaded:
 * a held job is in no plan (a planned one goes back to queued and gives
 * its room back) and never starts until released. Only for jobs that
 * wait in ebbd (queued or planned, not in a site's own scheduler); -1
 * with err otherwise.
 */
int	dispatch_hold(struct dispatch *, struct job *, int hold,
	    const char *by, char *err, size_t errlen);
/*
 * `ebb update`: the caller changed j's limits (max_delay, deadline,
 * duration; `what` says which, for the event). The job's policy caps are
 * checked again, the change stored, and the queue planned again at once.
 * Same jobs as dispatch_hold; -1 with err.
 */
int	dispatch_update(struct dispatch *, struct job *, const char *by,
	    const char *what, char *err, size_t errlen);
/*
 * `ebb start-now`: starts the job at once, carbon ignored, at the first
 * of its origin and its other allowed sites (not those with their own
 * scheduler) whose cpus and memory are free now and not planned for
 * other jobs over its run; recorded as its user's choice (start_now), so
 * no saving is claimed for it. Releases a held job. -1 with err.
 */
int	dispatch_start_now(struct dispatch *, struct job *, const char *by,
	    char *err, size_t errlen);
/* Why an active job waits (or runs as it does), from plan and state. */
enum job_wait dispatch_wait(struct dispatch *, const struct job *);
/* After the commit: launch the jobs the committed plan started. */
void	dispatch_after_commit(struct dispatch *);
/* The config's sites changed (SIGHUP). */
int	dispatch_reconfigure(struct dispatch *, char *err, size_t errlen);
/*
 * A read-only descriptor of a job's "stdout" or "stderr", opened with the
 * rights the file calls for (the privileged process); -1 with errno and
 * err set (ENOENT: none yet).
 */
int	dispatch_open_log(struct dispatch *, const struct job *,
	    const char *stream, char *err, size_t errlen);
/* Number of jobs currently running. */
size_t	dispatch_nrunning(const struct dispatch *);
/* What the backend of site says of its cluster (new reference), or NULL. */
json_t	*dispatch_site_status(struct dispatch *, const char *site);

#endif
