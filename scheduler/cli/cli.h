/*
 * cli: the pieces of the ebb command shared by its command files.
 *
 * ebb.c holds the command table and the global options; each cmd_*.c file
 * holds the handlers of one group of commands. A handler gets the command's
 * own argv (argv[0] is the command name) and returns the exit status:
 * CLI_OK, CLI_FAIL (the daemon said no, not found, denied, cannot connect)
 * or CLI_USAGE (unknown option, bad value). All output goes through the
 * FILE pointers in struct cli, and all inputs from the caller's process
 * (environment, working directory, clock) come from it too, so handlers can
 * be driven by tests without a terminal, a daemon or a real clock.
 */
#ifndef EBB_CLI_H
#define EBB_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

struct cli;
struct client;

struct cli_cmd {
	const char	*name;
	const char	*alias;		/* another name, or NULL */
	int		(*run)(struct cli *, int argc, char **argv);
	const char	*summary;	/* one line for `ebb --help` */
	const char	*usage;		/* synopsis and options, for --help */
};

struct cli {
	FILE		*out, *err;
	char		**envp;		/* the caller's environment */
	const char	*cwd;		/* working directory, or NULL */
	int64_t		 now;		/* UTC seconds */
	const char	*socket;	/* from --socket, or NULL */
	const struct cli_cmd *cmd;	/* the command being run */
	struct client	*client;	/* opened by the first cli_call */
	json_t		*results;	/* --json: the per-job results of
					   cancel, hold, ... gathered here */
	const char	*where_file;	/* messages name this file and */
	const char	*where;		/* "LINE:COL" when set (directives) */
};

/*
 * Runs `ebb ARGS...` (argv[0] is the program name) and returns its exit
 * status. The caller fills out, err, envp, cwd and now and zeroes the rest;
 * cli_done() releases what the run opened.
 */
int	ebb_main(struct cli *, int argc, char **argv);
void	cli_done(struct cli *);

/* The command called (or aliased) name, or NULL. */
const struct cli_cmd *cli_find(const char *name);

/* Prints "ebb CMD: message\n" to err; returns CLI_USAGE. */
int	cli_usage_error(struct cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prints "ebb CMD: message\n" to err; returns CLI_FAIL. */
int	cli_fail(struct cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prints the current command's usage text to out; returns CLI_OK. */
int	cli_help(struct cli *);

/*
 * getopt_long for a command: restarts the scan on every first call
 * (optind must be 0 then), stops at the first operand, and turns unknown
 * options and missing values into "ebb CMD: ..." messages, returning '?'.
 */
int	cli_getopt(struct cli *, int argc, char **argv, const char *shortopts,
	    const struct option *longopts);

/* Parses a decimal job id; prints "bad job id" and returns -1 if not one. */
int	cli_parse_id(struct cli *, const char *s, int64_t *id);

/* The value of NAME in the caller's environment, or NULL. */
const char *cli_getenv(const struct cli *, const char *name);
/* Socket path: --socket, then $EBB_SOCKET, then the default (caller frees). */
char	*cli_socket_path(const struct cli *);

/*
 * Sends one request (args stolen) and returns CLI_OK with the result in
 * *result (caller decrefs), or prints the failure and returns CLI_FAIL, or
 * CLI_USAGE when the daemon's code is "usage".
 */
int	cli_call(struct cli *, const char *cmd, json_t *args, json_t **result);

/* Prints a JSON value, indented, with a trailing newline. */
void	cli_print_json(struct cli *, const json_t *);

/* Reading replies: o[k] if it is an integer, else dflt. */
int64_t	cli_get_int(const json_t *o, const char *k, int64_t dflt);
/* o[k] if it is a non-empty string (owned by o), else "-". */
const char *cli_get_str(const json_t *o, const char *k);
/*
 * Writes t as ISO-8601 in local time with its offset
 * ("2023-11-14T23:13:20+01:00"; "Z" where local time is UTC), or in UTC
 * after cli_set_utc(1) (`ebb --utc`), or "-" when t is 0 or less (not
 * known); returns buf. 26 bytes suffice. Tables and `ebb show` use it;
 * JSON keeps epoch seconds and CSV UTC.
 */
char	*cli_fmt_when(int64_t t, char *buf, size_t len);
void	 cli_set_utc(int);
/* t in strftime's fmt, in the zone cli_fmt_when uses; returns buf. */
char	*cli_strftime(int64_t t, const char *fmt, char *buf, size_t len);

/* The command handlers (one table row each, in ebb.c). */
int	cmd_submit(struct cli *, int, char **);
int	cmd_queue(struct cli *, int, char **);
int	cmd_show(struct cli *, int, char **);
int	cmd_cancel(struct cli *, int, char **);
int	cmd_logs(struct cli *, int, char **);
int	cmd_forecast(struct cli *, int, char **);
int	cmd_sites(struct cli *, int, char **);
int	cmd_policy(struct cli *, int, char **);
int	cmd_simulate(struct cli *, int, char **);
int	cmd_report(struct cli *, int, char **);
int	cmd_help(struct cli *, int, char **);
int	cmd_hold(struct cli *, int, char **);
int	cmd_release(struct cli *, int, char **);
int	cmd_start_now(struct cli *, int, char **);
int	cmd_update(struct cli *, int, char **);

/*
 * The per-job commands' shared parts (cmd_jobctl.c). cli_job_ids parses
 * argv's job ids into a new array (*ids). cli_jobs_call sends `all` ids
 * to `cmd` in batches of EBB_PROTO_MAX_IDS, each with the extra args,
 * and prints the results. cli_job_results prints one reply's results,
 * "job N DONE" per job done (for "cancelled", a running job's "is running:
 * stopping it"), errors on stderr; counts them into *n and leaves the last
 * id in *last (either may be NULL). Both return CLI_FAIL if any job
 * failed.
 */
int	cli_job_ids(struct cli *, int argc, char **argv, json_t **ids);
int	cli_jobs_call(struct cli *, const char *cmd, const json_t *all,
	    const json_t *extra, const char *done);
int	cli_job_results(struct cli *, const json_t *result, const char *done,
	    int64_t *last, size_t *n);
/*
 * With --json, cli_job_results gathers the results instead of printing
 * lines: cli_results_begin starts that (when json is set), and
 * cli_results_end prints them as one JSON array of {"id", "ok", "state" |
 * "error"} and returns rc.
 */
void	cli_results_begin(struct cli *, int json);
int	cli_results_end(struct cli *, int rc);

/*
 * submit's parsing, apart so tests can check it: builds the "job" object
 * of a submit request from the command's argv. Returns CLI_OK with *job set
 * (caller decrefs) and *flags holding SUBMIT_QUIET, SUBMIT_JSON and
 * SUBMIT_DRY_RUN for -q, --json and --dry-run, or the exit status after
 * printing why (CLI_OK after --help, with *job NULL).
 */
#define SUBMIT_QUIET	1
#define SUBMIT_JSON	2
#define SUBMIT_DRY_RUN	4
int	submit_build(struct cli *, int argc, char **argv, json_t **job,
	    int *flags);

/*
 * forecast's parsing, apart so tests can check it: builds the args of a
 * forecast request ({"hours", "window"} and "target" when given) from the
 * command's argv. Returns CLI_OK with *args set (caller decrefs) and
 * *flags holding FORECAST_ALL and FORECAST_JSON for --all and --json, or
 * the exit status after printing why (CLI_OK after --help, *args NULL).
 */
#define FORECAST_ALL	0x01
#define FORECAST_JSON	0x02
int	forecast_build(struct cli *, int argc, char **argv, json_t **args,
	    int *flags);

/*
 * The text of a "forecast" reply's result: header, sparkline, table (one
 * row per UTC hour unless all) and the cleanest window of the asked-for
 * length window (seconds; 0 when none was asked for).
 */
void	forecast_print(FILE *, const json_t *result, int64_t window, int all);
/* The sites table of a "sites" reply's site array; ages are from now. */
void	sites_print(FILE *, const json_t *sites, int64_t now);

/* The columns of `ebb report --format csv`, in order (docs/report.md). */
#define REPORT_CSV_HEADER "id,user,name,site,submit,start,end,energy_kwh," \
	"method,intensity_g_per_kwh,signal,emissions_g,counterfactual_g," \
	"saving_g,saving_pct,status,embodied_g"
/* A "report" reply's result as a table with totals per signal, or as CSV
 * (REPORT_CSV_HEADER, then one line per job). */
void	report_print(FILE *, const json_t *result);
void	report_print_csv(FILE *, const json_t *result);

/* The queue table of a "queue" reply's job array. */
void	queue_print(FILE *, const json_t *jobs);
/* The "key: value" listing and history of a "show" reply's result. */
void	show_print(FILE *, const json_t *result);

#endif
