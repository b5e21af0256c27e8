/*
 * cmd_policy: `ebb policy check FILE`, a policy file checked locally.
 *
 * Loads the file with the daemon's own loader (policies/policy.c), without
 * asking ebbd, and prints either "FILE: N rules OK" and one line per rule
 * (its name and what it matches) or every error as "file:line:col:
 * message". With --json it prints one object instead: {"file", "ok",
 * "rules": [{"name", "matches"}]} or {"file", "ok": false, "errors":
 * [{"line", "column", "message"}]}. It does not check site names against
 * a configuration.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policies/policy.h"
#include "scheduler/cli/cli.h"

/* The loader's "FILE:LINE:COL: message" lines as JSON objects. */
static json_t *
errors_json(const char *path, char *errs)
{
	json_t *a = json_array();
	char *line, *rest = errs;
	size_t plen = strlen(path);

	while ((line = strsep(&rest, "\n")) != NULL) {
		long ln = 0, col = 0;
		int used = 0;
		const char *msg = line;

		if (*line == '\0')
			continue;
		if (strncmp(line, path, plen) == 0 && line[plen] == ':' &&
		    sscanf(line + plen, ":%ld:%ld: %n", &ln, &col, &used) == 2 &&
		    used > 0)
			msg = line + plen + used;
		json_array_append_new(a, json_pack("{s:I,s:I,s:s}", "line",
		    (json_int_t)ln, "column", (json_int_t)col, "message", msg));
	}
	return a;
}

static int
policy_check(struct cli *c, const char *path, int as_json)
{
	struct policy_set *s;
	size_t n, width = 0;
	char *errs;
	json_t *rules;

	if (policy_load(path, &s, &errs) == -1) {
		if (as_json) {
			rules = json_pack("{s:s,s:b,s:o}", "file", path, "ok",
			    0, "errors", errors_json(path, errs));
			cli_print_json(c, rules);
			json_decref(rules);
		} else
			fputs(errs, c->err);
		free(errs);
		return CLI_FAIL;
	}
	n = policy_count(s);
	if (as_json) {
		rules = json_array();
		for (size_t i = 0; i < n; i++) {
			const struct policy_rule *r = policy_rule_at(s, i);
			char *what = policy_describe(r);

			json_array_append_new(rules, json_pack("{s:s,s:s}",
			    "name", r->name, "matches", what));
			free(what);
		}
		rules = json_pack("{s:s,s:b,s:o}", "file", path, "ok", 1,
		    "rules", rules);
		cli_print_json(c, rules);
		json_decref(rules);
		policy_free(s);
		return CLI_OK;
	}
	fprintf(c->out, "%s: %zu rule%s OK\n", path, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		if (strlen(policy_rule_at(s, i)->name) > width)
			width = strlen(policy_rule_at(s, i)->name);
	for (size_t i = 0; i < n; i++) {
		const struct policy_rule *r = policy_rule_at(s, i);
		char *what = policy_describe(r);

		fprintf(c->out, "  %-*s  %s\n", (int)width, r->name, what);
		free(what);
	}
	policy_free(s);
	return CLI_OK;
}

int
cmd_policy(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, as_json = 0;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
		if (ch == 'j') {
			as_json = 1;
			continue;
		}
		return CLI_USAGE;
	}
	if (optind == argc)
		return cli_usage_error(c, "give a subcommand (ebb policy check "
		    "FILE)");
	if (strcmp(argv[optind], "check") != 0)
		return cli_usage_error(c, "unknown subcommand '%s' (known: "
		    "check)", argv[optind]);
	if (argc - optind != 2)
		return cli_usage_error(c, "give one file (ebb policy check "
		    "FILE)");
	return policy_check(c, argv[optind + 1], as_json);
}
