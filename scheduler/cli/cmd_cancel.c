/*
 * cmd_cancel: `ebb cancel JOB...`, one request per EBB_PROTO_MAX_IDS ids.
 *
 * Prints one line per job: what happened on stdout, what failed on stderr.
 * Whether a job may be cancelled, and how, is ebbd's decision.
 */
#include <inttypes.h>
#include <string.h>

#include "common/proto.h"
#include "scheduler/cli/cli.h"

/* Prints the results of one cancel reply; CLI_FAIL if any job failed. */
static int
print_results(struct cli *c, const json_t *result)
{
	const char *state, *err;
	int rc = CLI_OK;
	json_int_t id;
	json_t *r;
	size_t i;

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
	return rc;
}

int
cmd_cancel(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *all, *ids, *result;
	int ch, rc = CLI_OK;
	size_t off, i;
	int64_t n;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
		return CLI_USAGE;
	}
	if (optind == argc)
		return cli_usage_error(c, "give the ids of the jobs to cancel");
	all = json_array();
	for (int a = optind; a < argc; a++) {
		if (cli_parse_id(c, argv[a], &n) == -1) {
			json_decref(all);
			return CLI_USAGE;
		}
		json_array_append_new(all, json_integer(n));
	}
	/* ebbd takes EBB_PROTO_MAX_IDS ids a request: send them in batches. */
	for (off = 0; off < json_array_size(all); off += EBB_PROTO_MAX_IDS) {
		ids = json_array();
		for (i = off; i < json_array_size(all) &&
		    i < off + EBB_PROTO_MAX_IDS; i++)
			json_array_append(ids, json_array_get(all, i));
		if ((ch = cli_call(c, "cancel", json_pack("{s:o}", "ids", ids),
		    &result)) != CLI_OK) {
			rc = ch;
			break;
		}
		if (!json_is_array(json_object_get(result, "results"))) {
			json_decref(result);
			rc = cli_fail(c, "malformed reply from ebbd: no "
			    "results");
			break;
		}
		if (print_results(c, result) != CLI_OK)
			rc = CLI_FAIL;
		json_decref(result);
	}
	json_decref(all);
	return rc;
}
