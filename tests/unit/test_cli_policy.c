/*
 * test_cli_policy: `ebb policy check FILE` without a daemon: a good file's
 * rule list, a bad file's errors and exit status, and usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "test_cli_harness.h"
#include "testutil.h"

static void
check_good(void **state)
{
	struct harness h;

	assert_int_equal(chdir(tu_data_dir()), 0);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "policy", "check",
	    "../examples/policies/ml-training.yaml", NULL), CLI_OK);
	assert_string_equal(h.out,
	    "../examples/policies/ml-training.yaml: 2 rules OK\n"
	    "  ml-training  users alice, bob; groups ml; names train-*, "
	    "finetune-*; tags gpu\n"
	    "  ml-eval      groups ml; names eval-*\n");
	assert_string_equal(h.err, "");
	h_done(&h);
}

static void
check_bad(void **state)
{
	struct harness h;
	char *want;

	assert_int_equal(chdir(tu_data_dir()), 0);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "policy", "check",
	    "golden/policies/default-over-cap.yaml", NULL), CLI_FAIL);
	assert_string_equal(h.out, "");
	want = tu_slurp("golden/policies/default-over-cap.err", NULL);
	assert_non_null(want);
	assert_string_equal(h.err, want);
	free(want);
	h_done(&h);
}

/* --json: the same verdicts as objects, errors split into their fields. */
static void
check_json(void **state)
{
	struct harness h;
	json_error_t jerr;
	json_t *v, *e;
	char *want, *first;

	assert_int_equal(chdir(tu_data_dir()), 0);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "policy", "check", "--json",
	    "../examples/policies/ml-training.yaml", NULL), CLI_OK);
	assert_non_null(v = json_loads(h.out, 0, &jerr));
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_array_size(json_object_get(v, "rules")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(v, "rules"), 1), "matches")),
	    "groups ml; names eval-*");
	json_decref(v);
	h_done(&h);

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "policy", "check", "--json",
	    "golden/policies/default-over-cap.yaml", NULL), CLI_FAIL);
	assert_string_equal(h.err, "");
	assert_non_null(v = json_loads(h.out, 0, &jerr));
	assert_true(json_is_false(json_object_get(v, "ok")));
	want = tu_slurp("golden/policies/default-over-cap.err", NULL);
	first = strsep(&(char *){ want }, "\n");
	e = json_array_get(json_object_get(v, "errors"), 0);
	assert_non_null(e);
	/* "FILE:LINE:COL: message" is the text form of the first error. */
	{
		char *text = NULL;

		assert_true(asprintf(&text, "%s:%lld:%lld: %s",
		    "golden/policies/default-over-cap.yaml",
		    (long long)json_integer_value(json_object_get(e, "line")),
		    (long long)json_integer_value(json_object_get(e, "column")),
		    json_string_value(json_object_get(e, "message"))) > 0);
		assert_string_equal(text, first);
		free(text);
	}
	assert_true(json_integer_value(json_object_get(e, "line")) > 0);
	free(want);
	json_decref(v);
	h_done(&h);
}

static void
usage(void **state)
{
	static const struct usage_case cases[] = {
		{ { "policy" }, "ebb policy: give a subcommand (ebb policy "
		  "check FILE)\n" },
		{ { "policy", "frob" }, "ebb policy: unknown subcommand 'frob' "
		  "(known: check)\n" },
		{ { "policy", "check" }, "ebb policy: give one file (ebb policy "
		  "check FILE)\n" },
		{ { "policy", "check", "a", "b" }, "ebb policy: give one file "
		  "(ebb policy check FILE)\n" },
	};
	struct harness h;

	h_usage_cases(cases, sizeof(cases) / sizeof(cases[0]));
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "policy", "--help", NULL), CLI_OK);
	assert_memory_equal(h.out, "usage: ebb policy check [--json] FILE\n",
	    38);
	h_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_good),
		cmocka_unit_test(check_bad),
		cmocka_unit_test(check_json),
		cmocka_unit_test(usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
