/*
 * ebb: the command table and the global options of the ebb command.
 *
 * Every command is one row of `commands` below: its name, an alias, its
 * handler, the line `ebb --help` shows and the text `ebb CMD --help` shows.
 * Adding a command is adding a row (and a section in docs/ebb.1.md). This
 * file does not talk to ebbd; the handlers in cmd_*.c do, through cli.c.
 */
#include <string.h>

#include "scheduler/cli/cli.h"

static const struct cli_cmd commands[] = {
	{ "submit", NULL, cmd_submit, "queue a job",
	  "ebb submit [options] [--] CMD [ARGS...]\n"
	  "       ebb submit [options] SCRIPT [ARGS...]\n"
	  "       ebb submit -f FILE [options] [[--] CMD [ARGS...]]\n"
	  "\n"
	  "Queue CMD to run without a shell when and where its emissions are\n"
	  "lowest, within its deadline. A SCRIPT's #EBB and #SBATCH lines\n"
	  "(docs/ebb.1.md) come first; options override them and a job file.\n"
	  "\n"
	  "  -f, --file FILE        read the job from a YAML job file\n"
	  "      --name NAME        job name (default: basename of CMD)\n"
	  "      --cpus N           CPUs, 1 to 4096 (default 1)\n"
	  "      --gpus N           GPUs, 0 to 1024 (default 0)\n"
	  "      --mem SIZE         memory limit, e.g. 512M, 4G (default none)\n"
	  "      --duration DUR     run-time estimate, e.g. 90m, 2h (s m h d w)\n"
	  "      --deadline TIME    latest end: 2026-11-22T18:00 (local "
	  "time; Z or\n"
	  "                         +01:00 for UTC or an offset), "
	  "2026-11-22,\n"
	  "                         16:00, tomorrow 06:00, now+6h\n"
	  "      --begin TIME       earliest start (as --deadline takes "
	  "it)\n"
	  "      --max-delay DUR    latest start is submit time (or begin) "
	  "+ DUR\n"
	  "      --site A,B         sites it may run on (default: any)\n"
	  "      --interruptible    it may be paused and resumed\n"
	  "      --no-interruptible it may not (overrides a job file)\n"
	  "      --workdir DIR      working directory (default: the current "
	  "one)\n"
	  "      --policy NAME      policy to apply\n"
	  "      --image IMAGE      container image (Kubernetes sites)\n"
	  "      --output FILE      stdout (and stderr) into FILE, as sbatch:\n"
	  "                         %j the job id, %x its name\n"
	  "      --error FILE       stderr into FILE\n"
	  "      --tag A,B          labels policies match on\n"
	  "      --power WATTS      expected mean power (default: cpus x\n"
	  "                         the planner's watts_per_cpu)\n"
	  "      --data GB          data moved if it runs away from its\n"
	  "                         first site\n"
	  "      --export=SPEC      environment: ALL (default), NONE, or a "
	  "list of\n"
	  "                         NAME and NAME=VALUE items, optionally "
	  "after\n"
	  "                         ALL or NONE: --export=ALL,DEBUG=1\n"
	  "      --no-check         do not check here that CMD exists\n"
	  "      --dry-run          queue nothing: show where and when it "
	  "would\n"
	  "                         start, its expected emissions and the "
	  "saving\n"
	  "  -q, --quiet            print only the job id\n"
	  "      --json             print the reply as JSON: {\"id\": N}\n"
	  "  -h, --help             show this text\n" },
	{ "queue", "ls", cmd_queue, "list your jobs",
	  "ebb queue [--all] [--json]\n"
	  "\n"
	  "List your queued, planned and running jobs (all users' for root and\n"
	  "admin_group members), with why each waits (REASON: ebb(1)).\n"
	  "Times are local (ebb --utc: UTC).\n"
	  "\n"
	  "  -a, --all     include finished jobs\n"
	  "      --json    print the jobs as a JSON array\n"
	  "  -h, --help    show this text\n" },
	{ "show", NULL, cmd_show, "show a job and its history",
	  "ebb show [--json] JOB\n"
	  "\n"
	  "Show every field of job JOB and its state changes. Times are local\n"
	  "(ebb --utc: UTC).\n"
	  "\n"
	  "      --json    print the daemon's reply as JSON\n"
	  "  -h, --help    show this text\n" },
	{ "cancel", NULL, cmd_cancel, "cancel jobs",
	  "ebb cancel [--name NAME] [--user USER] [--state STATE] [--json]\n"
	  "           [JOB...]\n"
	  "\n"
	  "Cancel jobs: those given, or your active jobs that match the\n"
	  "filters (root and admin_group: anyone's); with both, those given\n"
	  "that match. A queued or planned job is cancelled at once; a running\n"
	  "one gets SIGTERM, then SIGKILL after the grace period. Without ids\n"
	  "or a filter nothing is cancelled; a filter that matches nothing is\n"
	  "an error.\n"
	  "\n"
	  "      --name NAME    jobs named NAME\n"
	  "      --user USER    jobs of user USER\n"
	  "      --state STATE  jobs in STATE: queued, planned or running\n"
	  "      --json         print the results as a JSON array\n"
	  "  -h, --help         show this text\n" },
	{ "hold", NULL, cmd_hold, "keep waiting jobs from starting",
	  "ebb hold [--json] JOB...\n"
	  "\n"
	  "Hold queued or planned jobs: a held job is in no plan and never\n"
	  "starts until released (ebb release). Your jobs (root and\n"
	  "admin_group: anyone's); not running jobs, nor jobs already in a\n"
	  "site's own scheduler (Slurm, Kubernetes).\n"
	  "\n"
	  "      --json    print the results as a JSON array\n"
	  "  -h, --help    show this text\n" },
	{ "release", NULL, cmd_release, "let held jobs be planned again",
	  "ebb release [--json] JOB...\n"
	  "\n"
	  "Release held jobs: they are planned again at once.\n"
	  "\n"
	  "      --json    print the results as a JSON array\n"
	  "  -h, --help    show this text\n" },
	{ "update", NULL, cmd_update, "change a waiting job's limits",
	  "ebb update JOB [--max-delay DUR] [--deadline TIME] "
	  "[--duration DUR]\n"
	  "\n"
	  "Change the limits of a queued, planned or held job and plan it\n"
	  "again at once (its policy's caps still apply). Not for running or\n"
	  "ended jobs, nor jobs already in a site's own scheduler.\n"
	  "\n"
	  "      --max-delay DUR  latest start is submit time + DUR "
	  "(none: no limit)\n"
	  "      --deadline TIME  latest end (none: no deadline)\n"
	  "      --duration DUR   run-time estimate\n"
	  "      --json           print the updated job as JSON\n"
	  "  -h, --help           show this text\n" },
	{ "start-now", NULL, cmd_start_now, "start waiting jobs at once",
	  "ebb start-now [--json] JOB...\n"
	  "\n"
	  "Start queued, planned or held jobs at once, carbon ignored, at\n"
	  "their first site (else another allowed one) whose cpus and memory\n"
	  "are free now and not planned for other jobs. Recorded as your\n"
	  "choice: ebb show says so, and the report claims no saving for it.\n"
	  "Not on sites with their own scheduler (Slurm, Kubernetes).\n"
	  "\n"
	  "      --json    print the results as a JSON array\n"
	  "  -h, --help    show this text\n" },
	{ "logs", NULL, cmd_logs, "print a job's output",
	  "ebb logs [--stderr] [--follow] JOB\n"
	  "\n"
	  "Write what job JOB wrote to its standard output (or error) so far.\n"
	  "\n"
	  "      --stderr    the job's standard error instead\n"
	  "  -f, --follow    keep writing new output until the job has ended\n"
	  "  -h, --help      show this text\n" },
	{ "forecast", NULL, cmd_forecast, "show a zone's carbon intensity",
	  "ebb forecast [options] [SITE|ZONE]\n"
	  "\n"
	  "Show the carbon intensity (gCO2e/kWh) of a site's zone, or of a\n"
	  "zone, from now on: a sparkline, a table (one row per UTC hour,\n"
	  "the mean of its slots) and the cleanest window. Default: the first\n"
	  "site. Times are local (ebb --utc: UTC).\n"
	  "\n"
	  "      --hours N      hours ahead, 1 to 168 (default 48)\n"
	  "      --window DUR   length of the cleanest window to find, e.g.\n"
	  "                     90m (default 2h; 0 for none)\n"
	  "  -a, --all          one row per slot instead of per hour\n"
	  "      --json         print the daemon's reply as JSON\n"
	  "  -h, --help         show this text\n" },
	{ "sites", NULL, cmd_sites, "list sites and their carbon data",
	  "ebb sites [--refresh] [--json]\n"
	  "\n"
	  "List the sites with their zone, backend, CPUs, current carbon\n"
	  "intensity and the state of each intensity provider.\n"
	  "\n"
	  "      --refresh print the status, and have every provider\n"
	  "                refreshed now (root and admin_group only)\n"
	  "      --json    print the daemon's reply as JSON\n"
	  "  -h, --help    show this text\n" },
	{ "policy", NULL, cmd_policy, "check a policy file",
	  "ebb policy check [--json] FILE\n"
	  "\n"
	  "Load the policy file FILE here, without ebbd, and print its rules\n"
	  "and what each matches, or every error as file:line:col: message.\n"
	  "\n"
	  "      --json    print {file, ok, rules | errors} as JSON\n"
	  "  -h, --help    show this text\n" },
	{ "report", NULL, cmd_report, "report jobs' energy and emissions",
	  "ebb report [options] [JOB...]\n"
	  "\n"
	  "Report the measured energy, emissions and saving of your jobs (all\n"
	  "users' for root and admin_group members), or of JOB..., with\n"
	  "totals per signal. The saving is against running the job at once\n"
	  "at its first site. Rows stay provisional until the intensity they\n"
	  "use is measured. Fields and units: docs/report.md. Times are local\n"
	  "in the table (ebb --utc: UTC), UTC in CSV, epoch seconds in JSON.\n"
	  "\n"
	  "      --since TIME       jobs still running or ended at or after TIME\n"
	  "      --until TIME       jobs started before TIME\n"
	  "      --user NAME        jobs of user NAME\n"
	  "      --site NAME        jobs that ran at site NAME\n"
	  "      --format FORMAT    table (default), csv, json, or codecarbon\n"
	  "                         (CodeCarbon's emissions.csv columns, kg)\n"
	  "      --json             the same as --format json\n"
	  "      --by KEY           totals per user, site, day or month\n"
	  "      --html FILE        write the report as one HTML page with\n"
	  "                         intensity charts (- for standard output)\n"
	  "  -h, --help             show this text\n" },
	{ "simulate", NULL, cmd_simulate, "replay a workload over traces",
	  "ebb simulate -c CONFIG [options] WORKLOAD.csv\n"
	  "\n"
	  "Plan and \"run\" the jobs of WORKLOAD.csv (header id,submit,\n"
	  "duration_s,deadline,power_w,cpus,interruptible,sites) with a virtual\n"
	  "clock over the carbon-intensity traces of CONFIG's sites, as ebbd\n"
	  "would, and print their emissions against running each at once at\n"
	  "its origin. Runs locally; no daemon. Times are UTC.\n"
	  "\n"
	  "  -c, --config FILE      ebb.yaml whose sites use the trace provider\n"
	  "      --policies FILE    policy file (default: the config's)\n"
	  "      --forecast MODE    what the planner knows of the future:\n"
	  "                         perfect (default), noise:SIGMA[:SEED] (actual\n"
	  "                         + Gaussian noise of SIGMA x the mean\n"
	  "                         intensity), model (ebb's own forecaster)\n"
	  "      --jobs-out FILE    write one CSV row per job to FILE\n"
	  "      --json             print the summary as JSON\n"
	  "      --oracle           also the optimal plan's emissions (small\n"
	  "                         workloads only)\n"
	  "  -h, --help             show this text\n" },
	{ "help", NULL, cmd_help, "show help for ebb or a command",
	  "ebb help [COMMAND]\n" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	char names[32];

	fprintf(f, "usage: ebb [--socket PATH] [--utc] COMMAND [ARGS...]\n"
	    "       ebb --version | --help\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		snprintf(names, sizeof(names), "%s%s%s", commands[i].name,
		    commands[i].alias ? ", " : "",
		    commands[i].alias ? commands[i].alias : "");
		fprintf(f, "  %-12s %s\n", names, commands[i].summary);
	}
	fprintf(f, "\nOptions:\n"
	    "      --socket PATH  ebbd's control socket (default: "
	    "$EBB_SOCKET, then\n"
	    "                     the per-user socket if it exists, else the "
	    "system one)\n"
	    "      --utc          print times in UTC (default: local time, "
	    "TZ)\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         show this text\n"
	    "\nRun 'ebb COMMAND --help' for a command's options.\n");
}

const struct cli_cmd *
cli_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0 ||
		    (commands[i].alias != NULL &&
		    strcmp(commands[i].alias, name) == 0))
			return &commands[i];
	return NULL;
}

int
cmd_help(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd;
	int ch;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
		return CLI_USAGE;
	}
	if (optind == argc) {
		usage(c->out);
		return CLI_OK;
	}
	if (argc - optind > 1)
		return cli_usage_error(c, "give one command");
	if ((cmd = cli_find(argv[optind])) == NULL)
		return cli_usage_error(c, "unknown command '%s' (see ebb "
		    "--help)", argv[optind]);
	c->cmd = cmd;
	return cli_help(c);
}

int
ebb_main(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "utc", no_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	c->cmd = NULL;
	cli_set_utc(0);
	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, "+:hV", opts)) != -1) {
		switch (ch) {
		case 's':
			c->socket = optarg;
			break;
		case 'u':
			cli_set_utc(1);
			break;
		case 'V':
			fprintf(c->out, "ebb %s\n", EBB_VERSION);
			return CLI_OK;
		case 'h':
			usage(c->out);
			return CLI_OK;
		default:
			return CLI_USAGE;
		}
	}
	if (optind == argc) {
		usage(c->err);
		return CLI_USAGE;
	}
	if ((c->cmd = cli_find(argv[optind])) == NULL)
		return cli_usage_error(c, "unknown command '%s' (see ebb "
		    "--help)", argv[optind]);
	return c->cmd->run(c, argc - optind, argv + optind);
}
