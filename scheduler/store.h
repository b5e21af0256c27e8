/*
 * store: ebbd's durable state in one sqlite file (WAL, synchronous=FULL).
 *
 * The only module that touches sqlite. The daemon batches every change made
 * in one loop iteration into one transaction (store_begin is implicit on the
 * first write; the loop calls store_commit before it sends any reply), so an
 * acknowledged request is on disk and many clients share one fsync (group
 * commit). Schema changes are migrations keyed by PRAGMA user_version.
 */
#ifndef EBB_STORE_H
#define EBB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/job.h"
#include "scheduler/carbon/ci.h"

struct store;

struct store_filter {
	int64_t		uid;		/* -1: any owner */
	unsigned	states;		/* bit (1u << state); 0: any */
	int		with_env;	/* load env (large) too */
};

/* Opens (creating and migrating) the database; NULL with err set. */
struct store *store_open(const char *path, char *err, size_t errlen);
void	store_close(struct store *);
/* The last error of any call below. */
const char *store_errmsg(const struct store *);

/* Commit the open transaction, if any. 0 or -1. */
int	store_commit(struct store *);
/* Number of write statements since the last commit. */
int	store_pending(const struct store *);

/* Inserts a new job, assigns j->id and records its first event. */
int	store_job_insert(struct store *, struct job *j);
/* 1 and a new job in *out (caller job_free()s), 0 if none, -1 on error. */
int	store_job_get(struct store *, int64_t id, struct job **out);
/* Writes the job's mutable fields (state, times, results, plan). */
int	store_job_save(struct store *, const struct job *j);
/* Sets state and reason, saves the job and appends an event. */
int	store_job_transition(struct store *, struct job *j, enum job_state to,
	    int64_t when, const char *reason);
/*
 * Calls cb for each matching job in id order; the job is borrowed for the
 * call. cb returns non-zero to stop. Returns 0 or -1.
 */
int	store_jobs_foreach(struct store *, const struct store_filter *,
	    int (*cb)(void *arg, const struct job *), void *arg);
/* The job's events as a JSON array (new reference) or NULL on error. */
json_t	*store_events(struct store *, int64_t id);

/*
 * Run times (s) of the user's latest succeeded jobs with this name, newest
 * first, at most max of them. Returns how many, or -1.
 */
int	store_run_times(struct store *, uint32_t uid, const char *name,
	    int64_t *out, size_t max);

/*---- Carbon-intensity history ----*/

/*
 * Keeps every point of a batch: actuals replace an earlier fetch of the
 * same interval from the same source; forecasts are kept per vintage.
 */
int	store_ci_put(struct store *, const struct ci_batch *);
/*
 * The best known point for each stored t in [t0, t1) as of `asof`, in t
 * order: an actual if one was fetched by then, else the forecast with the
 * newest vintage not after asof (actual_only: actuals only). cb gets the
 * point and its source; both are borrowed for the call.
 */
int	store_ci_best(struct store *, const char *zone, enum ci_signal,
	    int64_t t0, int64_t t1, int64_t asof, int actual_only,
	    void (*cb)(void *arg, const struct ci_point *, const char *source),
	    void *arg);

/* What is known about a site's provider, kept across restarts. */
struct store_prov {
	int64_t	last_try, last_ok;	/* epoch s, 0 = never */
	int64_t	since;			/* start of the current failing run */
	int	failing;		/* the last try failed */
	char	reason[256];		/* why, if failing */
	int64_t	failures, rejected;	/* totals */
};

int	store_prov_put(struct store *, const char *site, const char *provider,
	    const struct store_prov *);
/* 1 and *out filled if known, 0 if never seen (zeroed), -1 on error. */
int	store_prov_get(struct store *, const char *site, const char *provider,
	    struct store_prov *out);

#endif
