/*
 * simulate: `ebb simulate`, a workload replayed over carbon-intensity
 * traces with a virtual clock, planned by the same code as ebbd.
 *
 * A workload is a CSV file of jobs (docs/simulate.md). Each site's
 * intensity comes from its `trace` provider (prov_trace.c), in the trace's
 * own time, resampled onto the config's slot grid. The clock starts at the
 * first submit and jumps from event to event: submits, planned starts, job
 * ends, pauses and resumes of interruptible jobs, and a re-plan every
 * planner.replan. At each event, every queued, running-interruptible and
 * paused job is planned again (policy_match/policy_apply at submit,
 * sched_plan_job, plan_compute) with the forecast as it would be known
 * then; started non-interruptible jobs are fixed. Jobs run exactly their
 * duration at their power; emissions are accounted (accounting.h) on the
 * ACTUAL intensity with the site's PUE, against a baseline of the job run
 * at its submit time at its origin site.
 *
 * Deterministic: the same config, workload, policies and options give the
 * same result, byte for byte. Nothing here runs a job, talks to ebbd or
 * reads the clock.
 */
#ifndef EBB_SIMULATE_H
#define EBB_SIMULATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ebb_config;
struct policy_set;

enum sim_forecast {
	SIM_PERFECT,	/* the actual series */
	SIM_NOISE,	/* actual + Gaussian noise, fixed per slot */
	SIM_MODEL,	/* fc_forecast of the actuals before now */
};

struct sim_opts {
	enum sim_forecast forecast;
	double		 sigma;		/* noise: x the period's mean intensity */
	uint64_t	 seed;		/* noise: PRNG seed (default 1) */
	int		 oracle;	/* also compute plan_oracle's optimum */
};

/*
 * "perfect", "noise:SIGMA[:SEED]" or "model" into o's forecast, sigma
 * and seed. Returns 0, or -1 with err.
 */
int	sim_parse_forecast(const char *, struct sim_opts *o, char *err,
	    size_t errlen);

struct sim_workload;

/*
 * Reads a workload CSV, checking sites against cfg. Returns 0 and a new
 * workload (sim_workload_free), or -1 with err as "FILE:LINE: column:
 * message".
 */
int	sim_workload_load(const char *path, const struct ebb_config *cfg,
	    struct sim_workload **out, char *err, size_t errlen);
void	sim_workload_free(struct sim_workload *);
size_t	sim_workload_count(const struct sim_workload *);

/* What happened to one job. Strings are owned by the sim_result. */
struct sim_job {
	char		*id;
	char		*site;		/* where it ran; NULL if it never ran */
	int64_t		 submit, start, end;	/* first start, last end */
	int64_t		 deadline;	/* effective latest end; 0: none */
	int		 runs;		/* run intervals (> 1: it was paused) */
	double		 energy_kwh;	/* IT energy */
	double		 emissions_g;	/* actual intensity, PUE included */
	double		 baseline_g;	/* at submit, at its origin */
	char		*note;		/* refused / never placed: why */
};

struct sim_summary {
	size_t		 jobs;		/* jobs that ran */
	size_t		 refused;	/* refused by a policy */
	size_t		 unplaced;	/* never found room */
	double		 energy_kwh, emissions_g, baseline_g;
	double		 savings_pct;	/* 100 * (1 - emissions / baseline);
					   NAN when any energy, run or
					   baseline, had no intensity */
	int		 has_oracle;
	double		 oracle_g;	/* plan_oracle's plan at actual CI */
	char		 oracle_note[256];	/* asked for, but none: why */
	double		 unknown_kwh;	/* energy with no known intensity */
	size_t		 deadline_misses;
	double		 mean_delay_s, p95_delay_s;	/* start - submit */
	size_t		 decisions;	/* times the planner was run */
};

struct sim_result {
	struct sim_job	*jobs;		/* in workload order */
	size_t		 njobs;
	struct sim_summary sum;
};

/*
 * Simulates the workload. policies may be NULL. Returns 0 with *out
 * filled (sim_result_free), or -1 with err (a site without a trace, a
 * trace that cannot be read, mixed signals, a planner error).
 */
int	sim_run(const struct ebb_config *, const struct policy_set *,
	    const struct sim_workload *, const struct sim_opts *,
	    struct sim_result *out, char *err, size_t errlen);
void	sim_result_free(struct sim_result *);

/* The --jobs-out CSV: header and one row per job, in workload order. */
void	sim_write_jobs(FILE *, const struct sim_result *);
/* The summary as "key: value" lines, or as one JSON object. */
void	sim_write_summary(FILE *, const struct sim_result *, int json);

#endif
