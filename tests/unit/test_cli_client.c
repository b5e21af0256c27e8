/*
 * test_cli_client: ebb against a scripted stand-in for ebbd on a real Unix
 * socket: the requests each command sends, how it prints replies, daemon
 * errors mapped to exit statuses, cancel's per-job lines, and logs reading
 * in chunks and following until the job's output is final.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_cli_harness.h"

static void
submit(void **state)
{
	const char *replies[] = {
		"{\"v\": 1, \"ok\": true, \"result\": {\"id\": 17, \"state\": "
		"\"queued\"}}", NULL,
	};
	char *env[] = { "A=1", NULL };
	struct harness h;
	struct fake f;

	fake_start(&f, replies);
	h_init(&h, env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "submit", "--name", "t",
	    "--duration", "1m", "--", "sleep", "5", NULL), CLI_OK);
	assert_string_equal(h.out, "submitted job 17\n");
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"job\":{\"argv\":[\"sleep\",\"5\"],"
	    "\"duration\":60,\"env\":[\"A=1\"],\"name\":\"t\",\"workdir\":"
	    "\"" T_CWD "\"}},\"cmd\":\"submit\",\"v\":1}");
	json_decref(f.reqs);

	fake_start(&f, replies);
	h_init(&h, env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "submit", "-q", "true",
	    NULL), CLI_OK);
	assert_string_equal(h.out, "17\n");
	h_done(&h);
	fake_wait(&f);
	json_decref(f.reqs);
}

static void
daemon_errors(void **state)
{
	const char *notfound[] = {
		"{\"v\": 1, \"ok\": false, \"error\": \"job 99: not found\", "
		"\"code\": \"notfound\"}", NULL,
	};
	const char *usage[] = {
		"{\"v\": 1, \"ok\": false, \"error\": \"all: must be true or "
		"false\", \"code\": \"usage\"}", NULL,
	};
	struct harness h;
	struct fake f;

	fake_start(&f, notfound);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "show", "99", NULL),
	    CLI_FAIL);
	assert_string_equal(h.err, "ebb show: job 99: not found\n");
	assert_string_equal(h.out, "");
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"id\":99},\"cmd\":\"show\",\"v\":1}");
	json_decref(f.reqs);

	fake_start(&f, usage);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "ls", "-a", NULL),
	    CLI_USAGE);
	assert_string_equal(h.err, "ebb queue: all: must be true or false\n");
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"after\":0,\"all\":true},"
	    "\"cmd\":\"queue\",\"v\":1}");
	json_decref(f.reqs);
}

static void
queue_json(void **state)
{
	const char *replies[] = {
		"{\"v\": 1, \"ok\": true, \"result\": {\"jobs\": [{\"id\": 1, "
		"\"state\": \"queued\"}], \"more\": true}}",
		"{\"v\": 1, \"ok\": true, \"result\": {\"jobs\": [{\"id\": 5, "
		"\"state\": \"running\"}], \"more\": false}}", NULL,
	};
	struct harness h;
	struct fake f;
	json_t *printed, *want;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "queue", "--json",
	    NULL), CLI_OK);
	printed = json_loads(h.out, 0, NULL);
	want = json_loads("[{\"id\": 1, \"state\": \"queued\"}, "
	    "{\"id\": 5, \"state\": \"running\"}]", 0, NULL);
	assert_true(json_equal(printed, want));
	json_decref(printed);
	json_decref(want);
	h_done(&h);
	fake_wait(&f);
	/* Pages: the second asks for the jobs after the first page's last. */
	assert_req(&f, 0, "{\"args\":{\"after\":0,\"all\":false},"
	    "\"cmd\":\"queue\",\"v\":1}");
	assert_req(&f, 1, "{\"args\":{\"after\":1,\"all\":false},"
	    "\"cmd\":\"queue\",\"v\":1}");
	json_decref(f.reqs);
}

static void
cancel(void **state)
{
	const char *replies[] = {
		"{\"v\": 1, \"ok\": true, \"result\": {\"results\": ["
		"{\"id\": 17, \"ok\": true, \"state\": \"cancelled\"},"
		"{\"id\": 18, \"ok\": false, \"error\": \"job 18: permission "
		"denied\"},"
		"{\"id\": 19, \"ok\": true, \"state\": \"running\"}]}}", NULL,
	};
	struct harness h;
	struct fake f;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "cancel", "17", "18",
	    "19", NULL), CLI_FAIL);
	assert_string_equal(h.out, "job 17 cancelled\n"
	    "job 19 is running: stopping it\n");
	assert_string_equal(h.err, "ebb cancel: job 18: permission denied\n");
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"ids\":[17,18,19]},\"cmd\":\"cancel\","
	    "\"v\":1}");
	json_decref(f.reqs);
}

static void
logs_chunks(void **state)
{
	const char *replies[] = {
		"{\"v\": 1, \"ok\": true, \"result\": {\"data\": \"aGVsbG8g\", "
		"\"offset\": 6, \"eof\": false, \"final\": false}}",
		"{\"v\": 1, \"ok\": true, \"result\": {\"data\": \"d29ybGQK\", "
		"\"offset\": 12, \"eof\": true, \"final\": false}}", NULL,
	};
	struct harness h;
	struct fake f;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "logs", "7", NULL),
	    CLI_OK);
	assert_string_equal(h.out, "hello world\n");
	h_done(&h);
	fake_wait(&f);
	assert_int_equal(json_array_size(f.reqs), 2);
	assert_req(&f, 0, "{\"args\":{\"id\":7,\"max\":65536,\"offset\":0,"
	    "\"stream\":\"stdout\"},\"cmd\":\"logs\",\"v\":1}");
	assert_req(&f, 1, "{\"args\":{\"id\":7,\"max\":65536,\"offset\":6,"
	    "\"stream\":\"stdout\"},\"cmd\":\"logs\",\"v\":1}");
	json_decref(f.reqs);
}

static void
logs_follow(void **state)
{
	const char *replies[] = {
		"{\"v\": 1, \"ok\": true, \"result\": {\"data\": \"\", "
		"\"offset\": 0, \"eof\": true, \"final\": false}}",
		"{\"v\": 1, \"ok\": true, \"result\": {\"data\": \"bGF0ZQo=\", "
		"\"offset\": 5, \"eof\": true, \"final\": false}}",
		"{\"v\": 1, \"ok\": true, \"result\": {\"data\": \"\", "
		"\"offset\": 5, \"eof\": true, \"final\": true}}", NULL,
	};
	struct harness h;
	struct fake f;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "logs", "--stderr",
	    "-f", "8", NULL), CLI_OK);
	assert_string_equal(h.out, "late\n");
	h_done(&h);
	fake_wait(&f);
	assert_int_equal(json_array_size(f.reqs), 3);
	assert_req(&f, 2, "{\"args\":{\"id\":8,\"max\":65536,\"offset\":5,"
	    "\"stream\":\"stderr\"},\"cmd\":\"logs\",\"v\":1}");
	json_decref(f.reqs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(submit),
		cmocka_unit_test(daemon_errors),
		cmocka_unit_test(queue_json),
		cmocka_unit_test(cancel),
		cmocka_unit_test(logs_chunks),
		cmocka_unit_test(logs_follow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
