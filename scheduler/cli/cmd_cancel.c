/*
 * cmd_cancel: `ebb cancel [--name NAME] [--user USER] [--state STATE]
 * [JOB...]`: the jobs named, or the active ones that match the filters
 * (with ids too: those of them that match), as scancel does. With neither
 * ids nor a filter it cancels nothing and says so; a filter that matches
 * no job is an error too, so a typo is not taken for success.
 *
 * Prints one line per job: what happened on stdout, what failed on stderr.
 * Whether a job may be cancelled, and how, is ebbd's decision.
 */
#include <inttypes.h>
#include <string.h>

#include "common/proto.h"
#include "scheduler/cli/cli.h"

/*
 * The filtered cancel: pages of matching jobs until ebbd has no more (a
 * job it refuses does not stop the others); counts them into *n.
 */
static int
cancel_matching(struct cli *c, const json_t *filter, const json_t *ids,
    size_t *n)
{
	json_t *args, *result;
	int64_t after = 0, before;
	int rc = CLI_OK, ch, more;

	do {
		before = after;
		args = json_deep_copy(filter);
		json_object_set_new(args, "after", json_integer(after));
		if (ids != NULL)
			json_object_set(args, "ids", (json_t *)ids);
		if ((ch = cli_call(c, "cancel", args, &result)) != CLI_OK)
			return ch;
		if (cli_job_results(c, result, "cancelled", &after, n) !=
		    CLI_OK)
			rc = CLI_FAIL;
		/* A page that moves nothing on ends it (no loop forever). */
		more = json_is_true(json_object_get(result, "more")) &&
		    after > before;
		json_decref(result);
	} while (more);
	return rc;
}

int
cmd_cancel(struct cli *c, int argc, char **argv)
{
	enum { O_NAME = 256, O_USER, O_STATE, O_JSON };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, O_NAME },
		{ "user", required_argument, NULL, O_USER },
		{ "state", required_argument, NULL, O_STATE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "name", "user", "state" };
	json_t *filter = json_object(), *all, *ids;
	int ch, rc = CLI_OK, json = 0;
	size_t off, i, n = 0;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h') {
			json_decref(filter);
			return cli_help(c);
		}
		if (ch == O_JSON) {
			json = 1;
			continue;
		}
		if (ch < O_NAME || ch > O_STATE) {
			json_decref(filter);
			return CLI_USAGE;
		}
		if (*optarg == '\0' || (ch == O_STATE &&
		    strcmp(optarg, "queued") != 0 &&
		    strcmp(optarg, "planned") != 0 &&
		    strcmp(optarg, "running") != 0)) {
			json_decref(filter);
			return cli_usage_error(c, "--%s: %s", keys[ch - O_NAME],
			    ch == O_STATE ? "give queued, planned or running" :
			    "must not be empty");
		}
		json_object_set_new(filter, keys[ch - O_NAME],
		    json_string(optarg));
	}
	if (optind == argc && json_object_size(filter) == 0) {
		json_decref(filter);
		return cli_usage_error(c, "give the ids of the jobs to cancel, "
		    "or --name, --user or --state (nothing is cancelled "
		    "without one)");
	}
	if ((rc = cli_job_ids(c, argc - optind, argv + optind, &all)) !=
	    CLI_OK) {
		json_decref(filter);
		return rc;
	}
	cli_results_begin(c, json);
	if (json_object_size(filter) == 0)
		rc = cli_jobs_call(c, "cancel", all, NULL, "cancelled");
	else if (json_array_size(all) == 0)
		rc = cancel_matching(c, filter, NULL, &n);
	else
		for (off = 0; off < json_array_size(all);
		    off += EBB_PROTO_MAX_IDS) {
			ids = json_array();
			for (i = off; i < json_array_size(all) &&
			    i < off + EBB_PROTO_MAX_IDS; i++)
				json_array_append(ids, json_array_get(all, i));
			if ((ch = cancel_matching(c, filter, ids, &n)) !=
			    CLI_OK)
				rc = ch;
			json_decref(ids);
		}
	/* A filter that matched nothing, over all the ids, is an error. */
	if (json_object_size(filter) > 0 && n == 0)
		rc = cli_fail(c, json_array_size(all) == 0 ? "no active job "
		    "that you may cancel matches" : "none of these jobs is "
		    "active and matches");
	json_decref(all);
	json_decref(filter);
	return cli_results_end(c, rc);
}
