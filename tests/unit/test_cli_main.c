/*
 * test_cli_main: ebb's dispatch without a daemon: --version, --help and
 * every command's --help, unknown commands and options, bad job ids, and
 * which socket it tries (--socket, then $EBB_SOCKET) when none answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_cli_harness.h"

static void
version(void **state)
{
	struct harness h;

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--version", NULL), CLI_OK);
	assert_string_equal(h.out, "ebb " EBB_VERSION "\n");
	assert_string_equal(h.out, "ebb 0.1.0\n");
	h_done(&h);
}

static void
help_lists_every_command(void **state)
{
	static const char *const names[] = {
		"submit", "queue", "ls", "show", "cancel", "logs", "help",
		"hold", "release", "update", "start-now",
	};
	struct harness h;
	char want[64];

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--help", NULL), CLI_OK);
	assert_memory_equal(h.out, "usage: ebb [--socket PATH] [--utc] "
	    "COMMAND", 42);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(strstr(h.out, names[i]));
	h_done(&h);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		h_init(&h, t_env);
		assert_int_equal(h_run(&h, names[i], "--help", NULL), CLI_OK);
		snprintf(want, sizeof(want), "usage: ebb %s",
		    cli_find(names[i])->name);
		assert_memory_equal(h.out, want, strlen(want));
		assert_string_equal(h.err, "");
		h_done(&h);
	}

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "help", "ls", NULL), CLI_OK);
	assert_memory_equal(h.out, "usage: ebb queue", 16);
	h_done(&h);
}

static void
usage_errors(void **state)
{
	static const struct usage_case cases[] = {
		{ { "frob" }, "ebb: unknown command 'frob' (see ebb --help)\n" },
		{ { "--frob" }, "ebb: unknown option '--frob' (see ebb "
		  "--help)\n" },
		{ { "--socket" }, "ebb: option '--socket' needs a value\n" },
		{ { "show", "abc" }, "ebb show: bad job id 'abc'\n" },
		{ { "show", "0" }, "ebb show: bad job id '0'\n" },
		{ { "show", "99999999999999999999" },
		  "ebb show: bad job id '99999999999999999999'\n" },
		{ { "show" }, "ebb show: give one job id (ebb show JOB)\n" },
		{ { "cancel", "17", "x1" }, "ebb cancel: bad job id 'x1'\n" },
		{ { "cancel" }, "ebb cancel: give the ids of the jobs to "
		  "cancel, or --name, --user or --state (nothing is cancelled "
		  "without one)\n" },
		{ { "cancel", "--state", "done" }, "ebb cancel: --state: give "
		  "queued, planned or running\n" },
		{ { "cancel", "--name", "" }, "ebb cancel: --name: must not be "
		  "empty\n" },
		{ { "hold" }, "ebb hold: give the ids of the jobs\n" },
		{ { "release", "x" }, "ebb release: bad job id 'x'\n" },
		{ { "start-now" }, "ebb start-now: give the ids of the jobs\n" },
		{ { "update", "17" }, "ebb update: nothing to change: give "
		  "--max-delay, --deadline or --duration\n" },
		{ { "update", "--max-delay", "6h" }, "ebb update: give one job "
		  "id (ebb update JOB OPTIONS)\n" },
		{ { "logs", "17", "18" }, "ebb logs: give one job id (ebb logs "
		  "JOB)\n" },
		{ { "logs", "-x", "17" }, "ebb logs: unknown option '-x' (see "
		  "ebb logs --help)\n" },
		{ { "ls", "--all", "now" }, "ebb queue: unexpected argument "
		  "'now'\n" },
		{ { "help", "frob" }, "ebb help: unknown command 'frob' (see "
		  "ebb --help)\n" },
	};
	struct harness h;

	h_usage_cases(cases, sizeof(cases) / sizeof(cases[0]));

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, NULL), CLI_USAGE);
	assert_memory_equal(h.err, "usage: ebb ", 11);
	h_done(&h);
}

static void
socket_resolution(void **state)
{
	char *env[] = { "EBB_SOCKET=/nonexistent/env.sock", NULL };
	struct harness h;

	h_init(&h, env);
	assert_int_equal(h_run(&h, "queue", NULL), CLI_FAIL);
	assert_string_equal(h.err, "ebb: cannot connect to ebbd at "
	    "/nonexistent/env.sock: No such file or directory\n");
	h_done(&h);

	h_init(&h, env);
	assert_int_equal(h_run(&h, "--socket", "/nonexistent/opt.sock", "show",
	    "3", NULL), CLI_FAIL);
	assert_string_equal(h.err, "ebb: cannot connect to ebbd at "
	    "/nonexistent/opt.sock: No such file or directory\n");
	h_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version),
		cmocka_unit_test(help_lists_every_command),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(socket_resolution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
