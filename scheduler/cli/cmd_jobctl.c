/*
 * cmd_jobctl: job control on waiting jobs: `ebb hold JOB...`, `ebb release
 * JOB...`, `ebb start-now JOB...` and `ebb update JOB --max-delay ...`, and
 * the request loop and result lines they share with `ebb cancel`.
 *
 * Prints one line per job: what happened on stdout, what failed on stderr.
 * Whether a job may be held, started or changed is ebbd's decision.
 */
#include <inttypes.h>
#include <string.h>

#include "common/proto.h"
#include "common/timefmt.h"
#include "scheduler/cli/cli.h"

int
cli_job_results(struct cli *c, const json_t *result, const char *done,
    int64_t *last, size_t *n)
{
	const char *state, *err;
	int rc = CLI_OK;
	json_int_t id;
	json_t *r;
	size_t i;

	if (!json_is_array(json_object_get(result, "results")))
		return cli_fail(c, "malformed reply from ebbd: no results");
	json_array_foreach(json_object_get(result, "results"), i, r) {
		id = json_integer_value(json_object_get(r, "id"));
		state = json_string_value(json_object_get(r, "state"));
		err = json_string_value(json_object_get(r, "error"));
		if (last != NULL)
			*last = id;
		if (n != NULL)
			(*n)++;
		if (c->results != NULL) {
			json_array_append(c->results, r);
			if (!json_is_true(json_object_get(r, "ok")))
				rc = CLI_FAIL;
		} else if (!json_is_true(json_object_get(r, "ok"))) {
			if (err != NULL)
				cli_fail(c, "%s", err);
			else
				cli_fail(c, "job %" JSON_INTEGER_FORMAT
				    ": not %s", id, done);
			rc = CLI_FAIL;
		} else if (strcmp(done, "cancelled") == 0 && state != NULL &&
		    strcmp(state, "cancelled") != 0)
			fprintf(c->out, "job %" JSON_INTEGER_FORMAT " is %s: "
			    "stopping it\n", id, state);
		else
			fprintf(c->out, "job %" JSON_INTEGER_FORMAT " %s\n", id,
			    done);
	}
	return rc;
}

void
cli_results_begin(struct cli *c, int json)
{
	c->results = json ? json_array() : NULL;
}

int
cli_results_end(struct cli *c, int rc)
{
	if (c->results != NULL) {
		cli_print_json(c, c->results);
		json_decref(c->results);
		c->results = NULL;
	}
	return rc;
}

int
cli_job_ids(struct cli *c, int argc, char **argv, json_t **ids)
{
	int64_t n;

	*ids = json_array();
	for (int a = 0; a < argc; a++) {
		if (cli_parse_id(c, argv[a], &n) == -1) {
			json_decref(*ids);
			*ids = NULL;
			return CLI_USAGE;
		}
		json_array_append_new(*ids, json_integer(n));
	}
	return CLI_OK;
}

int
cli_jobs_call(struct cli *c, const char *cmd, const json_t *all,
    const json_t *extra, const char *done)
{
	json_t *args, *ids, *result;
	int rc = CLI_OK, ch;
	size_t off, i;

	/* ebbd takes EBB_PROTO_MAX_IDS ids a request: send them in batches. */
	for (off = 0; off < json_array_size(all); off += EBB_PROTO_MAX_IDS) {
		ids = json_array();
		for (i = off; i < json_array_size(all) &&
		    i < off + EBB_PROTO_MAX_IDS; i++)
			json_array_append(ids, json_array_get(all, i));
		args = extra != NULL ? json_deep_copy(extra) : json_object();
		json_object_set_new(args, "ids", ids);
		if ((ch = cli_call(c, cmd, args, &result)) != CLI_OK)
			return ch;
		if (cli_job_results(c, result, done, NULL, NULL) != CLI_OK)
			rc = CLI_FAIL;
		json_decref(result);
	}
	return rc;
}

/* hold, release, start-now: JOB..., --json and -h. */
static int
ids_command(struct cli *c, int argc, char **argv, const char *cmd,
    const char *done)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *ids;
	int ch, rc, json = 0;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
		if (ch == 'j') {
			json = 1;
			continue;
		}
		return CLI_USAGE;
	}
	if (optind == argc)
		return cli_usage_error(c, "give the ids of the jobs");
	if ((rc = cli_job_ids(c, argc - optind, argv + optind, &ids)) !=
	    CLI_OK)
		return rc;
	cli_results_begin(c, json);
	rc = cli_results_end(c, cli_jobs_call(c, cmd, ids, NULL, done));
	json_decref(ids);
	return rc;
}

int
cmd_hold(struct cli *c, int argc, char **argv)
{
	return ids_command(c, argc, argv, "hold", "held");
}

int
cmd_release(struct cli *c, int argc, char **argv)
{
	return ids_command(c, argc, argv, "release", "released");
}

int
cmd_start_now(struct cli *c, int argc, char **argv)
{
	return ids_command(c, argc, argv, "start-now", "started now");
}

/* A duration option's value: DUR, or "none" for 0. */
static int
opt_duration(struct cli *c, const char *opt, const char *arg, int none,
    json_t *args, const char *key)
{
	char err[256];
	int64_t v;

	if (none && strcmp(arg, "none") == 0)
		v = 0;
	else if (ebb_parse_duration(arg, &v, err, sizeof(err)) == -1)
		return cli_usage_error(c, "%s: %s", opt, err);
	else if (v <= 0)
		return cli_usage_error(c, "%s: must be more than 0%s", opt,
		    none ? " (or none)" : "");
	json_object_set_new(args, key, json_integer(v));
	return CLI_OK;
}

int
cmd_update(struct cli *c, int argc, char **argv)
{
	enum { O_DEADLINE = 256, O_MAX_DELAY, O_DURATION, O_JSON };
	static const struct option opts[] = {
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "max-delay", required_argument, NULL, O_MAX_DELAY },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *result;
	int ch, rc = CLI_OK, json = 0;
	char err[256], t[32];
	int64_t id, v;

	optind = 0;
	while (rc == CLI_OK && (ch = cli_getopt(c, argc, argv, ":h",
	    opts)) != -1) {
		switch (ch) {
		case O_DEADLINE:
			if (strcmp(optarg, "none") == 0)
				v = 0;
			else if (ebb_parse_time(optarg, c->now, &v, err,
			    sizeof(err)) == -1) {
				rc = cli_usage_error(c, "--deadline: %s", err);
				break;
			}
			json_object_set_new(args, "deadline", json_integer(v));
			break;
		case O_MAX_DELAY:
			rc = opt_duration(c, "--max-delay", optarg, 1, args,
			    "max_delay");
			break;
		case O_DURATION:
			rc = opt_duration(c, "--duration", optarg, 0, args,
			    "duration");
			break;
		case O_JSON:
			json = 1;
			break;
		case 'h':
			json_decref(args);
			return cli_help(c);
		default:
			rc = CLI_USAGE;
		}
	}
	if (rc == CLI_OK && argc - optind != 1)
		rc = cli_usage_error(c, "give one job id (ebb update JOB "
		    "OPTIONS)");
	if (rc == CLI_OK && json_object_size(args) == 0)
		rc = cli_usage_error(c, "nothing to change: give --max-delay, "
		    "--deadline or --duration");
	if (rc == CLI_OK && cli_parse_id(c, argv[optind], &id) == -1)
		rc = CLI_USAGE;
	if (rc != CLI_OK) {
		json_decref(args);
		return rc;
	}
	json_object_set_new(args, "id", json_integer(id));
	if ((rc = cli_call(c, "update", args, &result)) != CLI_OK)
		return rc;
	if (json)
		cli_print_json(c, result);
	else {
		const json_t *j = json_object_get(result, "job");
		int64_t ls = cli_get_int(j, "deadline", 0);

		fprintf(c->out, "job %" PRId64 " updated: ", id);
		fprintf(c->out, "deadline %s", ls > 0 ? cli_fmt_when(ls, t,
		    sizeof(t)) : "none");
		v = cli_get_int(j, "max_delay", 0);
		fprintf(c->out, ", max_delay %s", v > 0 ?
		    ebb_fmt_duration(v, t, sizeof(t)) : "none");
		fprintf(c->out, ", duration %s; planned again\n",
		    ebb_fmt_duration(cli_get_int(j, "duration", 0), t,
		    sizeof(t)));
	}
	json_decref(result);
	return CLI_OK;
}
