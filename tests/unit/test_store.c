/*
 * test_store: a real sqlite file: migrations, insert/get/transition/list,
 * events, uncommitted work lost on close-without-commit, reopen keeps data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "common/fsutil.h"
#include "common/job.h"
#include "scheduler/store.h"

static char dir[] = "/tmp/ebb-test-store-XXXXXX";
static char path[256];

static struct job *
mkjob(const char *name, uint32_t uid)
{
	char err[256];
	json_t *req = json_pack("{s:[s], s:s, s:s, s:[s]}", "argv", "/bin/true",
	    "workdir", "/tmp", "name", name, "env", "A=1");
	struct job *j = job_from_submit(req, 1000, err, sizeof(err));

	json_decref(req);
	assert_non_null(j);
	j->uid = uid;
	j->user = strdup("someone");
	return j;
}

static int
count_cb(void *arg, const struct job *j)
{
	(*(int *)arg)++;
	return 0;
}

static int
count(struct store *s, int64_t uid, unsigned states)
{
	struct store_filter f = { .uid = uid, .states = states };
	int n = 0;

	assert_int_equal(store_jobs_foreach(s, &f, count_cb, &n), 0);
	return n;
}

static void
test_lifecycle(void **state)
{
	char err[256];
	struct store *s = store_open(path, err, sizeof(err));
	struct job *a = mkjob("a", 1000), *b = mkjob("b", 1001), *g;
	json_t *ev;

	assert_non_null(s);
	assert_int_equal(store_job_insert(s, a), 0);
	assert_int_equal(store_job_insert(s, b), 0);
	assert_int_equal(a->id, 1);
	assert_int_equal(b->id, 2);
	assert_true(store_pending(s) > 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_pending(s), 0);

	assert_int_equal(store_job_transition(s, a, JOB_PLANNED, 1001,
	    "capacity"), 0);
	assert_int_equal(store_job_transition(s, a, JOB_RUNNING, 1002,
	    "launching"), 0);
	a->exit_code = 0;
	a->cpu_usec = 123456;
	assert_int_equal(store_job_transition(s, a, JOB_SUCCEEDED, 1003,
	    "exit code 0"), 0);
	assert_int_equal(store_commit(s), 0);

	assert_int_equal(store_job_get(s, 1, &g), 1);
	assert_int_equal(g->state, JOB_SUCCEEDED);
	assert_int_equal(g->cpu_usec, 123456);
	assert_string_equal(g->reason, "exit code 0");
	assert_string_equal(json_string_value(json_array_get(g->env, 0)),
	    "A=1");
	job_free(g);
	assert_int_equal(store_job_get(s, 99, &g), 0);
	assert_null(g);

	ev = store_events(s, 1);
	assert_int_equal(json_array_size(ev), 4);
	assert_true(json_is_null(json_object_get(json_array_get(ev, 0),
	    "from")));
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(ev, 3), "to")), "succeeded");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(ev, 2), "time")), 1002);
	json_decref(ev);

	assert_int_equal(count(s, -1, 0), 2);
	assert_int_equal(count(s, 1000, 0), 1);
	assert_int_equal(count(s, -1, 1u << JOB_QUEUED), 1);
	assert_int_equal(count(s, 1000, 1u << JOB_QUEUED), 0);

	/* store_close() commits what is still pending. */
	b->exit_code = 5;
	assert_int_equal(store_job_transition(s, b, JOB_FAILED, 1004, "x"), 0);
	store_close(s);
	job_free(a);
	job_free(b);

	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_job_get(s, 2, &g), 1);
	assert_int_equal(g->state, JOB_FAILED);
	job_free(g);
	a = mkjob("c", 1);
	assert_int_equal(store_job_insert(s, a), 0);
	assert_int_equal(a->id, 3);
	job_free(a);
	store_close(s);
}

static void
test_schema_version(void **state)
{
	char err[256];
	sqlite3 *db;
	struct store *s;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(path, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, "schema version 99 is newer"));
}

static int
setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ebb.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	fs_rm_rf(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_schema_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
