/*
 * test_job: submit validation (the one place that decides what a client may
 * ask for), JSON round trip, earliest (begin) and latest start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "common/job.h"

#define NOW	1800000000

static struct job *
submit(const char *json, char *err, size_t errlen)
{
	json_t *req = json_loads(json, 0, NULL);
	struct job *j;

	assert_non_null(req);
	j = job_from_submit(req, NOW, err, errlen);
	json_decref(req);
	return j;
}

static void
test_valid(void **state)
{
	char err[256];
	struct job *j = submit("{\"argv\": [\"/bin/echo\", \"hi\"], \"workdir\":"
	    " \"/tmp\", \"cpus\": 2, \"duration\": 600, \"max_delay\": 3600,"
	    " \"sites\": [\"a\"], \"interruptible\": true, \"gpus\": 2}", err,
	    sizeof(err));
	json_t *o;
	struct job *k;

	assert_non_null(j);
	assert_string_equal(j->name, "echo");
	assert_int_equal(j->cpus, 2);
	assert_int_equal(j->state, JOB_QUEUED);
	assert_int_equal(j->submit_time, NOW);
	assert_int_equal(job_latest_start(j), NOW + 3600);
	assert_true(j->interruptible);
	assert_int_equal(json_array_size(j->env), 0);
	j->id = 7;
	o = job_to_json(j);
	k = job_from_json(o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(k->id, 7);
	assert_int_equal(k->duration, 600);
	assert_int_equal(k->gpus, 2);
	assert_true(json_equal(k->argv, j->argv));
	assert_string_equal(k->workdir, "/tmp");
	assert_false(k->held);
	assert_false(k->start_now);
	json_decref(o);
	job_free(k);
	/* held and start_now go through the JSON form; neither may be
	 * submitted. */
	j->held = 1;
	j->start_now = 1;
	o = job_to_json(j);
	assert_true(json_is_true(json_object_get(o, "held")));
	k = job_from_json(o, err, sizeof(err));
	assert_non_null(k);
	assert_true(k->held);
	assert_true(k->start_now);
	json_decref(o);
	job_free(k);
	job_free(j);
	assert_null(submit("{\"argv\": [\"x\"], \"workdir\": \"/tmp\", "
	    "\"held\": true}", err, sizeof(err)));
	assert_string_equal(err, "unknown field 'held'");
}

static void
test_errors(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"workdir\": \"/\"}", "argv: a command is required" },
		{ "{\"argv\": [], \"workdir\": \"/\"}",
		    "argv: a command is required" },
		{ "{\"argv\": [1], \"workdir\": \"/\"}",
		    "argv[0]: must be a string" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"rel\"}",
		    "workdir: an absolute path is required" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"cpus\": 0}",
		    "cpus: 0 is out of range [1, 4096]" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"cpus\": \"2\"}",
		    "cpus: must be an integer" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"bogus\": 1}",
		    "unknown field 'bogus'" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"env\": [\"NOEQ\"]}",
		    "env[0]: 'NOEQ' is not KEY=VALUE" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"deadline\": "
		    "1577836800}",
		    "deadline: 2020-01-01T00:00:00Z is in the past" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"deadline\": "
		    "1800000060, \"duration\": 3600}",
		    "deadline: 2027-01-15T08:01:00Z is too soon for a duration "
		    "of 1h" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"deadline\": "
		    "1800003600, \"max_delay\": 60}",
		    "deadline: give a deadline or a max delay, not both" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"interruptible\": 1}",
		    "interruptible: must be true or false" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"gpus\": 1025}",
		    "gpus: 1025 is out of range [0, 1024]" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": \"now\"}",
		    "begin: must be an integer" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": "
		    "1831708800}",
		    "begin: 2028-01-17T08:00:00Z is more than 366d ahead" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": "
		    "1800002400, \"deadline\": 1800003600, \"duration\": 1800}",
		    "begin: 2027-01-15T08:40:00Z is after the latest start the "
		    "deadline 2027-01-15T09:00:00Z allows for a duration of 30m" },
		{ "{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": "
		    "1800003600, \"deadline\": 1800003600}",
		    "begin: 2027-01-15T09:00:00Z is after the latest start the "
		    "deadline 2027-01-15T09:00:00Z allows" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(submit(cases[i][0], err, sizeof(err)));
		assert_string_equal(err, cases[i][1]);
	}
}

/* A begin is the earliest start; a max delay counts from it. */
static void
test_begin(void **state)
{
	char err[256];
	struct job *j = submit("{\"argv\": [\"x\"], \"workdir\": \"/\", "
	    "\"begin\": 1800007200, \"max_delay\": 3600}", err, sizeof(err));
	struct job *k;
	json_t *o;

	assert_non_null(j);
	assert_int_equal(j->begin, NOW + 7200);
	assert_int_equal(job_earliest_start(j), NOW + 7200);
	assert_int_equal(job_latest_start(j), NOW + 7200 + 3600);
	o = job_to_json(j);
	k = job_from_json(o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(k->begin, NOW + 7200);
	json_decref(o);
	job_free(k);
	job_free(j);
	/* one that has come is none: the submit time is the earliest */
	j = submit("{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": "
	    "1799990000, \"max_delay\": 60}", err, sizeof(err));
	assert_non_null(j);
	assert_int_equal(j->begin, 0);
	assert_int_equal(job_earliest_start(j), NOW);
	assert_int_equal(job_latest_start(j), NOW + 60);
	job_free(j);
	/* with a deadline: as late as it allows */
	j = submit("{\"argv\": [\"x\"], \"workdir\": \"/\", \"begin\": "
	    "1800001800, \"deadline\": 1800003600, \"duration\": 1800}", err,
	    sizeof(err));
	assert_non_null(j);
	assert_int_equal(job_latest_start(j), NOW + 1800);
	job_free(j);
}

static void
test_states(void **state)
{
	for (int s = 0; s < JOB_NSTATES; s++)
		assert_int_equal(job_state_parse(job_state_name(
		    (enum job_state)s)), s);
	assert_int_equal(job_state_parse("done"), -1);
	assert_true(job_state_final(JOB_CANCELLED));
	assert_false(job_state_final(JOB_RUNNING));
	/* every waiting reason has a distinct code and a sentence */
	for (int w = 0; w < JOB_NWAITS; w++) {
		assert_int_equal(job_wait_parse(job_wait_name(
		    (enum job_wait)w)), w);
		assert_true(strlen(job_wait_text((enum job_wait)w)) > 10);
	}
	assert_string_equal(job_wait_name(JOB_WAIT_ROOM), "room");
	assert_string_equal(job_wait_name(JOB_WAIT_GREEN), "green-window");
	assert_int_equal(job_wait_parse("green"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
