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
	int64_t		submitted_since; /* epoch s; 0: any submit time */
	int64_t		after_id;	/* only ids above it; 0: any */
	const char	*name;		/* only jobs so named; NULL: any */
	const char	*user;		/* only this user's; NULL: any */
};

/* Opens (creating and migrating) the database; NULL with err set. */
struct store *store_open(const char *path, char *err, size_t errlen);
void	store_close(struct store *);
/* The last error of any call below. */
const char *store_errmsg(const struct store *);

#define STORE_RESERVE	(8 << 20)	/* bytes set aside for a full disk */
#define STORE_LOW	(4 << 20)	/* free bytes below which it is full */

/*
 * Commit the open transaction, if any. 0 or -1 (store_errmsg says why,
 * with the system's cause). When the file system has less than STORE_LOW
 * free (or the commit finds it full and the transaction stands) it gives
 * back the reserve first: the commit goes through, and store_full says so
 * from then on.
 */
int	store_commit(struct store *);
/*
 * Why the state file system is full (the reserve was spent), or NULL.
 * ebbd refuses new jobs while it is.
 */
const char *store_full(const struct store *);
/* While full: makes the reserve again if there is room; 0 once it did. */
int	store_check_space(struct store *);
/* Number of write statements since the last commit. */
int	store_pending(const struct store *);

/* Inserts a new job, assigns j->id and records its first event. */
int	store_job_insert(struct store *, struct job *j);
/* 1 and a new job in *out (caller job_free()s), 0 if none, -1 on error. */
int	store_job_get(struct store *, int64_t id, struct job **out);
/* Writes the job's mutable fields (state, times, results, plan). */
int	store_job_save(struct store *, const struct job *j);
/*
 * The job at site known there as ext_id, submitted at submit_time:
 * 1 with *id set, 0 if there is none, -1 on error.
 */
int	store_job_by_ext(struct store *, const char *site, const char *ext_id,
	    int64_t submit_time, int64_t *id);
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
	int64_t	retry_at;		/* not tried before (Retry-After), 0 */
};

int	store_prov_put(struct store *, const char *site, const char *provider,
	    const struct store_prov *);
/* 1 and *out filled if known, 0 if never seen (zeroed), -1 on error. */
int	store_prov_get(struct store *, const char *site, const char *provider,
	    struct store_prov *out);

/*---- Emissions ledger (see scheduler/ledger.h) ----*/

/* One measured energy interval of a job and what settling made of it. */
struct store_interval {
	int64_t	 t0, t1;	/* [t0, t1), epoch s */
	double	 energy_j;	/* IT energy measured, J */
	char	 method[32];	/* "rapl", "model", "rapl+nvml", ... */
	/* Set by settling; intensity and grams NAN, the rest empty or 0,
	 * until then (and where the intensity is unknown): */
	double	 intensity;	/* g/kWh, energy-weighted over its slots */
	char	 kind[16];	/* "actual", "forecast" or "ebb" (the least
				   certain of its slots) */
	char	 provider[64];	/* sources of its slots, comma-separated */
	char	 signal[16];	/* "average" | "marginal" */
	int64_t	 vintage;	/* newest vintage among its slots */
	double	 pue;
	double	 grams;		/* gCO2e, PUE included */
};

/* A job's ledger summary. NAN marks what is not known. */
struct store_ledger {
	double	 energy_j;	/* IT energy of all intervals, J */
	double	 grams;		/* emissions, gCO2e, PUE included */
	double	 unknown_j;	/* energy in slots with no intensity */
	double	 counterfactual_g;	/* run at once at its origin */
	int	 final;		/* 0 provisional, 1 final */
	char	 method[64];	/* the intervals' methods, comma-separated */
	char	 signal[16];
	double	 intensity;	/* g/kWh, energy-weighted mean (facility
				   emissions / IT energy / PUE) */
	double	 embodied_g;	/* embodied emissions share; 0 for now */
	int64_t	 settled;	/* when last settled, epoch s; 0 never */
};

/*
 * Adds (or replaces: same job and t0) a measured interval, unsettled, and
 * marks the job's ledger provisional.
 */
int	store_ledger_record(struct store *, int64_t job_id, int64_t t0,
	    int64_t t1, double energy_j, const char *method);
/*
 * The job's intervals in t0 order in *out (caller frees), their number in
 * *n. Returns 0 or -1.
 */
int	store_ledger_intervals(struct store *, int64_t job_id,
	    struct store_interval **out, size_t *n);
/* Writes the settled fields of the interval starting at iv->t0. */
int	store_ledger_interval_set(struct store *, int64_t job_id,
	    const struct store_interval *iv);
/* Writes the job's summary. */
int	store_ledger_put(struct store *, int64_t job_id,
	    const struct store_ledger *);
/* 1 and *out filled, 0 if the job has no ledger, -1 on error. */
int	store_ledger_get(struct store *, int64_t job_id,
	    struct store_ledger *out);
/* Ids of the jobs whose ledger is provisional, ascending, in *ids
 * (caller frees), their number in *n. Returns 0 or -1. */
int	store_ledger_provisional(struct store *, int64_t **ids, size_t *n);

/*---- Export of final ledger rows (see scheduler/push.h) ----*/

/*
 * A final ledger row in export order. seq (final_seq) is given when a
 * row turns final, one more than any before, so rows that become final
 * later come later whatever their job ids; revision counts how often the
 * row turned final (a final row reopened by a late energy interval and
 * final again is a new revision with a new seq).
 */
struct store_final {
	int64_t	 job_id;
	int64_t	 seq;
	int	 revision;
};

/*
 * Up to max final rows with seq > after, in seq order, into out (room
 * for max); their number in *n. Returns 0 or -1.
 */
int	store_final_after(struct store *, int64_t after, size_t max,
	    struct store_final *out, size_t *n);
/*
 * The database's export identity, 32 hex digits made once at random
 * (instance, NUL-terminated), the seq up to which an endpoint has
 * acknowledged rows, and when it last did (epoch s, 0 never). Returns 0
 * or -1.
 */
int	store_export_get(struct store *, char instance[33], int64_t *sent_seq,
	    int64_t *sent_at);
/* How many final rows have a seq > after, in *n. Returns 0 or -1. */
int	store_final_count(struct store *, int64_t after, int64_t *n);
/* Records that rows up to sent_seq were acknowledged at `when`. */
int	store_export_set(struct store *, int64_t sent_seq, int64_t when);

/* Totals over every job's ledger (for /metrics). */
struct store_totals {
	double	energy_j, grams, saving_g;
};
/* Jobs per state, and the ledger totals. 0 or -1. */
int	store_counts(struct store *, int64_t states[JOB_NSTATES],
	    struct store_totals *);

/* A job with series of its own at /metrics (scheduler/exporter.c). */
struct store_recent {
	int64_t		 id;
	uint32_t	 uid;
	const char	*name;		/* at most JOB_NAME_MAX characters */
	const char	*user, *site;	/* "" where not known */
	double		 energy_j;	/* in its ledger, J; 0 before any */
	double		 grams;		/* settled emissions, NAN before */
};
/*
 * The jobs running now or that ran and ended at or after `since`, at most
 * max of them, shared among users round-robin: each user's running jobs
 * first, then their latest ended ones, and every user's i-th job before
 * any user's (i+1)-th, so no user's jobs crowd out another's. cb gets
 * each, borrowed for the call; *total is how many there were before the
 * cut (0 when max is 0). Returns 0 or -1.
 */
int	store_recent_jobs(struct store *, int64_t since, int max,
	    void (*cb)(void *arg, const struct store_recent *), void *arg,
	    int64_t *total);

#endif
