/*
 * cmd_simulate: `ebb simulate`, a workload replayed over the sites'
 * intensity traces with the planner ebbd uses (scheduler/simulate.h).
 *
 * It parses the options, loads the config, the policy file and the
 * workload, runs the simulation and prints the summary (text or JSON) and,
 * with --jobs-out, one CSV row per job. It runs locally: no daemon, no
 * socket, no clock. Policies come from --policies, else from the config's
 * `policies` key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "policies/policy.h"
#include "scheduler/cli/cli.h"
#include "scheduler/simulate.h"

enum { O_POLICIES = 256, O_FORECAST, O_JOBS_OUT, O_JSON, O_ORACLE };

/* Loads what the options name; prints why not and returns CLI_FAIL. */
static int
load_inputs(struct cli *c, const char *conf, const char *pols,
    const char *workload, struct ebb_config **cfg, struct policy_set **ps,
    struct sim_workload **wl)
{
	char err[1024], *errs = NULL;

	if (config_load(conf, cfg, &errs) == -1) {
		fprintf(c->err, "%s", errs);
		free(errs);
		return cli_fail(c, "%s: configuration not loaded", conf);
	}
	if (pols == NULL)
		pols = (*cfg)->policies;
	if (pols != NULL && policy_load(pols, ps, &errs) == -1) {
		fprintf(c->err, "%s", errs);
		free(errs);
		return cli_fail(c, "%s: policies not loaded", pols);
	}
	if (sim_workload_load(workload, *cfg, wl, err, sizeof(err)) == -1)
		return cli_fail(c, "%s", err);
	return CLI_OK;
}

int
cmd_simulate(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policies", required_argument, NULL, O_POLICIES },
		{ "forecast", required_argument, NULL, O_FORECAST },
		{ "jobs-out", required_argument, NULL, O_JOBS_OUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "oracle", no_argument, NULL, O_ORACLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_opts so = { .forecast = SIM_PERFECT, .seed = 1 };
	const char *conf = NULL, *pols = NULL, *jobs_out = NULL;
	struct ebb_config *cfg = NULL;
	struct policy_set *ps = NULL;
	struct sim_workload *wl = NULL;
	struct sim_result res = { 0 };
	char err[1024];
	int ch, json = 0, rc;
	FILE *f;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":c:h", opts)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case O_POLICIES:
			pols = optarg;
			break;
		case O_FORECAST:
			if (sim_parse_forecast(optarg, &so, err,
			    sizeof(err)) == -1)
				return cli_usage_error(c, "%s", err);
			break;
		case O_JOBS_OUT:
			jobs_out = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_ORACLE:
			so.oracle = 1;
			break;
		case 'h':
			return cli_help(c);
		default:
			return CLI_USAGE;
		}
	}
	if (conf == NULL)
		return cli_usage_error(c, "give the configuration with -c "
		    "FILE");
	if (argc - optind != 1)
		return cli_usage_error(c, "give one workload file");
	if ((rc = load_inputs(c, conf, pols, argv[optind], &cfg, &ps,
	    &wl)) != CLI_OK)
		goto out;
	if (sim_run(cfg, ps, wl, &so, &res, err, sizeof(err)) == -1) {
		rc = cli_fail(c, "%s", err);
		goto out;
	}
	for (size_t i = 0; i < res.njobs; i++)
		if (res.jobs[i].note != NULL)
			fprintf(c->err, "ebb simulate: job %s: %s\n",
			    res.jobs[i].id, res.jobs[i].note);
	if (jobs_out != NULL) {
		if ((f = fopen(jobs_out, "w")) == NULL) {
			rc = cli_fail(c, "%s: %s", jobs_out, strerror(errno));
			goto out;
		}
		sim_write_jobs(f, &res);
		if (fclose(f) == EOF) {
			rc = cli_fail(c, "%s: %s", jobs_out, strerror(errno));
			goto out;
		}
	}
	sim_write_summary(c->out, &res, json);
	rc = CLI_OK;
out:
	sim_result_free(&res);
	sim_workload_free(wl);
	policy_free(ps);
	config_free(cfg);
	return rc;
}
