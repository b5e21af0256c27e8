/*
 * cmd_policy: `ebb policy check FILE`, a policy file checked locally.
 *
 * Loads the file with the daemon's own loader (policies/policy.c), without
 * asking ebbd, and prints either "FILE: N rules OK" and one line per rule
 * (its name and what it matches) or every error as "file:line:col:
 * message". It does not check site names against a configuration.
 */
#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"
#include "scheduler/cli/cli.h"

static int
policy_check(struct cli *c, const char *path)
{
	struct policy_set *s;
	size_t n, width = 0;
	char *errs;

	if (policy_load(path, &s, &errs) == -1) {
		fputs(errs, c->err);
		free(errs);
		return CLI_FAIL;
	}
	n = policy_count(s);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'h')
			return cli_help(c);
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
	return policy_check(c, argv[optind + 1]);
}
