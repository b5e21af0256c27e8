/*
 * cmd_cancel: `ebb cancel JOB...`, one request for all the ids given.
 *
 * Prints one line per job: what happened on stdout, what failed on stderr.
 * Whether a job may be cancelled, and how, is ebbd's decision.
 */
#include <inttypes.h>
#include <string.h>

#include "scheduler/cli/cli.h"

int
cmd_cancel(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *ids, *result, *r;
	const char *state, *err;
	int ch, rc = CLI_OK;
	json_int_t id;
	int64_t n;
	size_t i;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
		return CLI_USAGE;
	}
	if (optind == argc)
		return cli_usage_error(c, "give the ids of the jobs to cancel");
	ids = json_array();
	for (int a = optind; a < argc; a++) {
		if (cli_parse_id(c, argv[a], &n) == -1) {
			json_decref(ids);
			return CLI_USAGE;
		}
		json_array_append_new(ids, json_integer(n));
	}
	if ((rc = cli_call(c, "cancel", json_pack("{s:o}", "ids", ids),
	    &result)) != CLI_OK)
		return rc;
	if (!json_is_array(json_object_get(result, "results"))) {
		json_decref(result);
		return cli_fail(c, "malformed reply from ebbd: no results");
	}
	json_array_foreach(json_object_get(result, "results"), i, r) {
		id = json_integer_value(json_object_get(r, "id"));
		state = json_string_value(json_object_get(r, "state"));
		err = json_string_value(json_object_get(r, "error"));
		if (!json_is_true(json_object_get(r, "ok"))) {
			if (err != NULL)
				cli_fail(c, "%s", err);
			else
				cli_fail(c, "job %" JSON_INTEGER_FORMAT
				    ": not cancelled", id);
			rc = CLI_FAIL;
		} else if (state == NULL || strcmp(state, "cancelled") == 0)
			fprintf(c->out, "job %" JSON_INTEGER_FORMAT
			    " cancelled\n", id);
		else
			fprintf(c->out, "job %" JSON_INTEGER_FORMAT " is %s: "
			    "stopping it\n", id, state);
	}
	json_decref(result);
	return rc;
}
