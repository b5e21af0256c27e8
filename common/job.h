/*
 * job: the job record shared by ebbd, the store and the CLI.
 *
 * A job is a command plus resources, an estimate, a deadline, allowed sites
 * and an owner. On the wire and in `ebb show --json` it is a JSON object whose
 * field names match the struct members below (times are UTC epoch seconds,
 * sizes bytes, durations seconds). job_from_submit() is the one validator of
 * what a client may ask for; the daemon fills in owner and times.
 */
#ifndef EBB_JOB_H
#define EBB_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

enum job_state {
	JOB_QUEUED, JOB_PLANNED, JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED,
	JOB_CANCELLED,
};
#define JOB_NSTATES	6

struct job {
	int64_t		 id;
	char		*name;
	char		*user;		/* owner's login name */
	uint32_t	 uid, gid;	/* owner, from SO_PEERCRED */
	json_t		*argv;		/* array of strings, non-empty */
	json_t		*env;		/* array of "KEY=VALUE" strings */
	char		*workdir;	/* absolute path */
	int		 cpus;
	int		 gpus;		/* 0 = none */
	int64_t		 mem;		/* bytes; 0 = no limit */
	int64_t		 duration;	/* estimate, s; 0 = unknown */
	int64_t		 deadline;	/* latest end, epoch s; 0 = none */
	int64_t		 max_delay;	/* latest start - earliest start (submit,
					   or begin when given), s; 0 = none */
	int64_t		 begin;		/* earliest start, epoch s; 0 = none
					   (the submit time) */
	json_t		*sites;		/* array of site names; empty = any */
	int		 interruptible;
	char		*policy;	/* requested policy name or NULL */
	json_t		*tags;		/* array of strings, for policies */
	double		 power_w;	/* expected mean power, W; 0: from cpus */
	double		 data_gb;	/* data moved if run away from origin */
	/* Filled by ebbd when it applies policies and plans: */
	char		*policy_applied;	/* rule that matched, or NULL */
	char		*duration_source;	/* "user", "history", "policy",
						   "default" */
	char		*plan_why;	/* planner's reason (plan_why_name) */
	double		 expected_g;	/* expected emissions of the plan */
	double		 now_g;		/* expected if started now at origin */
	char		*alt_site;	/* next-best alternative, or NULL */
	int64_t		 alt_start;
	double		 alt_g;
	enum job_state	 state;
	int64_t		 submit_time;
	int64_t		 planned_start;	/* 0 until planned */
	char		*site;		/* chosen site or NULL */
	int64_t		 start_time, end_time;	/* 0 until known */
	int		 exit_code;	/* -1 until known */
	int		 signal;	/* terminating signal, 0 if none */
	int64_t		 cpu_usec;	/* CPU time measured, -1 unknown */
	int64_t		 peak_mem;	/* bytes, -1 unknown */
	char		*measure;	/* "cgroup-v1", "cgroup-v2", "rusage" */
	char		*reason;	/* why it is in its state */
	char		*ext_id;	/* id in the site's scheduler (Slurm) */
	int		 adopted;	/* submitted there, not through ebb */
	char		*image;		/* container image (Kubernetes sites),
					   or NULL */
	char		*stdout_file;	/* the job's stdout goes to this file
					   (%j: id, %x: name; relative to
					   workdir), or NULL: kept by ebb */
	char		*stderr_file;	/* the same for stderr; NULL: into
					   stdout_file, or kept by ebb */
	json_t		*groups;	/* the submitter's group ids, from
					   SO_PEERGROUPS at submit (the job runs
					   with exactly these), or NULL: not
					   recorded (older jobs) */
	int		 held;		/* `ebb hold`: never started or planned
					   until released */
	int		 start_now;	/* started at once by `ebb start-now`:
					   the user's choice, carbon ignored,
					   no saving claimed */
};

/*
 * Why an active job is where it is, for `ebb queue`'s REASON column and
 * `ebb show` (ebbd derives it from the plan and the dispatcher's state; it
 * is not stored). JOB_WAIT_NONE: a job running as planned, or ended.
 */
enum job_wait {
	JOB_WAIT_NONE, JOB_WAIT_PLANNING, JOB_WAIT_HELD, JOB_WAIT_GREEN,
	JOB_WAIT_ROOM, JOB_WAIT_NO_DATA, JOB_WAIT_DEADLINE, JOB_WAIT_DUE,
	JOB_WAIT_CLUSTER, JOB_WAIT_PAUSED, JOB_WAIT_CANCELLING,
	JOB_WAIT_START_NOW,
};
#define JOB_NWAITS	12

/* The short code ("green-window", "room", ...; "-" for none). */
const char *job_wait_name(enum job_wait);
/* Returns the reason for a code, or -1. */
int	job_wait_parse(const char *);
/* One sentence that says what the code means. */
const char *job_wait_text(enum job_wait);

/* Longest job name and requested policy name, in bytes. */
#define JOB_NAME_MAX	128
/* PATH for a job whose environment has none (ebb-run, Slurm, ebb submit). */
#define JOB_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define JOB_GPUS_MAX	1024	/* GPUs a job may ask for */
#define JOB_BEGIN_MAX	((int64_t)366 * 86400)	/* furthest begin ahead, s */
#define JOB_IMAGE_MAX	1024	/* bytes of a container image reference */

const char *job_state_name(enum job_state);
/* Returns the state or -1. */
int	job_state_parse(const char *);
/* 1 for succeeded, failed, cancelled. */
int	job_state_final(enum job_state);

/* A zeroed job with "unknown" markers set; free with job_free. */
struct job *job_new(void);
void	job_free(struct job *);

/*
 * Validates a submit request's "job" object and returns a new queued job
 * owned by the caller, or NULL with the reason in err (naming the field).
 * Owner and submit_time are left for the caller.
 */
struct job *job_from_submit(const json_t *req, int64_t now, char *err,
	    size_t errlen);
/*
 * The limits of a job that must hold together at now (submit and `ebb
 * update` both): a deadline or a max delay, not both; a deadline in the
 * future that leaves its duration; a begin within JOB_BEGIN_MAX and before
 * the latest start. 0, or -1 with the reason in err (naming the field).
 */
int	job_check_limits(const struct job *, int64_t now, char *err,
	    size_t errlen);
/* Full JSON form of a job (new reference). */
json_t	*job_to_json(const struct job *);
/* Inverse of job_to_json, for stored and replied records; NULL if malformed. */
struct job *job_from_json(const json_t *, char *err, size_t errlen);

/* The earliest time the job may start: its begin, else its submit time. */
int64_t	job_earliest_start(const struct job *);
/* The latest time the job may start and still meet its limits (0: none). */
int64_t	job_latest_start(const struct job *);

#endif
