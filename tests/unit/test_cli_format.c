/*
 * test_cli_format: the text ebb queue and ebb show make of canned daemon
 * replies, compared whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "scheduler/cli/cli.h"

/* 1700000000 = 2023-11-14T22:13:20Z */
static const char queue_reply[] = "["
    "{\"id\": 3, \"name\": \"train\", \"user\": \"alice\", \"state\": "
    "\"running\", \"site\": \"local\", \"cpus\": 4, \"submit_time\": "
    "1700000000, \"planned_start\": 1700000300, \"start_time\": 1700000360, "
    "\"end_time\": 0, \"exit_code\": -1, \"signal\": 0},"
    "{\"id\": 12, \"name\": \"nightly-etl\", \"user\": \"bob\", \"state\": "
    "\"planned\", \"wait_reason\": \"green-window\", \"site\": "
    "\"eu-west\", \"cpus\": 16, \"submit_time\": "
    "1700000060, \"planned_start\": 1700020000, \"start_time\": 0, "
    "\"end_time\": 0, \"exit_code\": -1, \"signal\": 0},"
    "{\"id\": 13, \"name\": \"q\", \"user\": \"bob\", \"state\": \"queued\", "
    "\"wait_reason\": \"held\", \"held\": true, "
    "\"site\": null, \"cpus\": 1, \"submit_time\": 1700000070, "
    "\"planned_start\": 0, \"start_time\": 0, \"end_time\": 0, "
    "\"exit_code\": -1, \"signal\": 0},"
    "{\"id\": 140, \"name\": \"ok\", \"user\": \"alice\", \"state\": "
    "\"succeeded\", \"site\": \"local\", \"cpus\": 2, \"submit_time\": "
    "1699990000, \"planned_start\": 1699990000, \"start_time\": 1699990005, "
    "\"end_time\": 1699993605, \"exit_code\": 0, \"signal\": 0},"
    "{\"id\": 141, \"name\": \"oom\", \"user\": \"alice\", \"state\": "
    "\"failed\", \"site\": \"local\", \"cpus\": 2, \"submit_time\": "
    "1699990000, \"planned_start\": 0, \"start_time\": 1699990005, "
    "\"end_time\": 1699990100, \"exit_code\": -1, \"signal\": 9},"
    "{\"id\": 142, \"name\": \"never\", \"user\": \"alice\", \"state\": "
    "\"cancelled\", \"site\": null, \"cpus\": 1, \"submit_time\": "
    "1699990000, \"planned_start\": 0, \"start_time\": 0, \"end_time\": 0, "
    "\"exit_code\": -1, \"signal\": 0}"
    "]";

static const char queue_text[] =
    " ID  NAME         USER   STATE      REASON        SITE     CPUS  "
    "SUBMITTED             START                 END/EXIT\n"
    "  3  train        alice  running    -             local       4  "
    "2023-11-14T22:13:20Z  2023-11-14T22:19:20Z  -\n"
    " 12  nightly-etl  bob    planned    green-window  eu-west    16  "
    "2023-11-14T22:14:20Z  2023-11-15T03:46:40Z  -\n"
    " 13  q            bob    queued     held          -           1  "
    "2023-11-14T22:14:30Z  -                     -\n"
    "140  ok           alice  succeeded  -             local       2  "
    "2023-11-14T19:26:40Z  2023-11-14T19:26:45Z  2023-11-14T20:26:45Z exit 0\n"
    "141  oom          alice  failed     -             local       2  "
    "2023-11-14T19:26:40Z  2023-11-14T19:26:45Z  2023-11-14T19:28:20Z "
    "signal 9\n"
    "142  never        alice  cancelled  -             -           1  "
    "2023-11-14T19:26:40Z  -                     -\n";

static char *
printed(void (*fn)(FILE *, const json_t *), const char *reply)
{
	json_error_t jerr;
	json_t *v = json_loads(reply, 0, &jerr);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(v);
	fn(f, v);
	fclose(f);
	json_decref(v);
	return buf;
}

static void
queue_table(void **state)
{
	char *s = printed(queue_print, queue_reply);

	assert_string_equal(s, queue_text);
	free(s);
}

/* Local time by default, with its offset; UTC after ebb --utc. */
static void
queue_local_time(void **state)
{
	char *s;

	(void)state;
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	s = printed(queue_print, queue_reply);
	/* 2023-11-14T22:13:20Z is 03:43:20 the next day in India. */
	assert_non_null(strstr(s, "  2023-11-15T03:43:20+05:30  "));
	assert_null(strstr(s, "22:13:20Z"));
	free(s);
	cli_set_utc(1);
	s = printed(queue_print, queue_reply);
	assert_string_equal(s, queue_text);
	free(s);
	cli_set_utc(0);
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void
queue_empty(void **state)
{
	char *s = printed(queue_print, "[]");

	assert_string_equal(s, "ID  NAME  USER  STATE  REASON  SITE  CPUS  "
	    "SUBMITTED  START  END/EXIT\n");
	free(s);
}

static const char show_reply[] = "{\"job\": {"
    "\"id\": 17, \"name\": \"render\", \"user\": \"carol\", \"uid\": 1001, "
    "\"gid\": 100, \"state\": \"succeeded\", \"reason\": \"exited 0\", "
    "\"argv\": [\"sh\", \"-c\", \"echo 'hi'; exit 0\"], \"env\": [\"A=1\", "
    "\"B=2\"], \"workdir\": \"/home/carol\", \"cpus\": 2, \"mem\": "
    "536870912, \"duration\": 5400, \"deadline\": 1700086400, "
    "\"max_delay\": 0, \"sites\": [\"a\", \"b\"], \"interruptible\": true, "
    "\"policy\": null, \"submit_time\": 1700000000, \"planned_start\": "
    "1700003600, \"site\": \"a\", \"start_time\": 1700003601, \"end_time\": "
    "1700007201, \"exit_code\": 0, \"signal\": 0, \"cpu_usec\": 1234567, "
    "\"peak_mem\": 1048576, \"measure\": \"rusage\", \"tags\": [\"gpu\"], "
    "\"power_w\": 150.0, \"data_gb\": 0.0, \"policy_applied\": \"batch\", "
    "\"duration_source\": \"history\", \"plan_why\": \"green\", "
    "\"expected_g\": 80.0, \"now_g\": 100.0, \"alt_site\": \"b\", "
    "\"alt_start\": 1700007200, \"alt_g\": 90.0, \"emissions_g\": 12.5},"
    "\"events\": ["
    "{\"time\": 1700000000, \"from\": null, \"to\": \"queued\", \"reason\": "
    "\"submitted\"},"
    "{\"time\": 1700000001, \"from\": \"queued\", \"to\": \"planned\", "
    "\"reason\": \"lowest intensity at a\"}]}";

static const char show_text[] =
    "id:            17\n"
    "name:          render\n"
    "user:          carol (uid 1001, gid 100)\n"
    "state:         succeeded\n"
    "reason:        exited 0\n"
    "argv:          sh -c 'echo '\\''hi'\\''; exit 0'\n"
    "workdir:       /home/carol\n"
    "env:           2 variables\n"
    "cpus:          2\n"
    "mem:           512M\n"
    "duration:      1h30m\n"
    "deadline:      2023-11-15T22:13:20Z\n"
    "max_delay:     none\n"
    "begin:         none\n"
    "sites:         a, b\n"
    "interruptible: yes\n"
    "policy:        -\n"
    "submit_time:   2023-11-14T22:13:20Z\n"
    "planned_start: 2023-11-14T23:13:20Z\n"
    "site:          a\n"
    "start_time:    2023-11-14T23:13:21Z\n"
    "end_time:      2023-11-15T00:13:21Z\n"
    "exit_code:     0\n"
    "signal:        -\n"
    "cpu_time:      1.234 s\n"
    "peak_mem:      1M\n"
    "measure:       rusage (measured by process accounting because no "
    "cgroup could be made)\n"
    "tags:          gpu\n"
    "power:         150.0 W\n"
    "estimate_from: history\n"
    "policy_applied: batch\n"
    "plan:          green\n"
    "expected:      80 gCO2e (starting now at its first site: 100 g, "
    "saving 20 g, 20.0%)\n"
    "next_best:     b at 2023-11-15T00:13:20Z: 90 g\n"
    "emissions_g:   12.5\n"
    "events:\n"
    "  2023-11-14T22:13:20Z  - -> queued  submitted\n"
    "  2023-11-14T22:13:21Z  queued -> planned  lowest intensity at a\n";

static void
show_listing(void **state)
{
	char *s = printed(show_print, show_reply);

	assert_string_equal(s, show_text);
	free(s);
}

static void
show_unknowns(void **state)
{
	char *s = printed(show_print, "{\"job\": {\"id\": 5, \"state\": "
	    "\"queued\", \"mem\": 0, \"duration\": 0, \"deadline\": 0, "
	    "\"sites\": [], \"cpu_usec\": -1, \"peak_mem\": -1, \"exit_code\": "
	    "-1, \"measure\": \"cgroup-v2\"}, \"events\": []}");

	assert_non_null(strstr(s, "\nmem:           none\n"));
	assert_non_null(strstr(s, "\nduration:      unknown\n"));
	assert_non_null(strstr(s, "\ndeadline:      none\n"));
	assert_non_null(strstr(s, "\nsites:         any\n"));
	assert_non_null(strstr(s, "\nexit_code:     -\n"));
	assert_non_null(strstr(s, "\ncpu_time:      unknown\n"));
	assert_non_null(strstr(s, "\npeak_mem:      unknown\n"));
	assert_non_null(strstr(s, "\nmeasure:       cgroup-v2\n"));
	free(s);
}

/* Held, the reason it waits, and a start-now job's plan line. */
static void
show_job_control(void **state)
{
	char *s = printed(show_print, "{\"job\": {\"id\": 5, \"state\": "
	    "\"queued\", \"held\": true, \"wait_reason\": \"held\", "
	    "\"plan_why\": \"green\", \"sites\": []}, \"events\": []}");

	assert_non_null(strstr(s, "\nstate:         queued (held)\n"));
	assert_non_null(strstr(s, "\nwaits:         held: held (ebb hold): "
	    "never started or planned until released (ebb release)\n"));
	free(s);
	s = printed(show_print, "{\"job\": {\"id\": 6, \"state\": "
	    "\"running\", \"start_now\": true, \"wait_reason\": "
	    "\"start-now\", \"plan_why\": \"green\", \"expected_g\": 1, "
	    "\"now_g\": 2, \"sites\": []}, \"events\": []}");
	assert_non_null(strstr(s, "\nstate:         running\n"));
	assert_non_null(strstr(s, "\nwaits:         start-now: started at "
	    "once on its user's request"));
	assert_non_null(strstr(s, "\nplan:          started at once on its "
	    "user's request (ebb start-now), carbon ignored: no saving is "
	    "claimed\n"));
	assert_null(strstr(s, "saving 1"));
	assert_null(strstr(s, "start_now"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_table),
		cmocka_unit_test(queue_local_time),
		cmocka_unit_test(queue_empty),
		cmocka_unit_test(show_listing),
		cmocka_unit_test(show_unknowns),
		cmocka_unit_test(show_job_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
