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
	a->duration_source = strdup("history");
	a->begin = 5000;
	a->gpus = 3;
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
	assert_string_equal(g->duration_source, "history");
	assert_int_equal(g->begin, 5000);
	assert_int_equal(g->gpus, 3);
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

struct got {
	int64_t		t[16];
	double		v[16];
	int		kind[16];
	char		src[16][32];
	size_t		n;
};

static void
got_cb(void *arg, const struct ci_point *p, const char *source)
{
	struct got *g = arg;

	g->t[g->n] = p->t;
	g->v[g->n] = p->value;
	g->kind[g->n] = p->kind;
	snprintf(g->src[g->n], sizeof(g->src[0]), "%s", source);
	g->n++;
}

static void
test_intensity(void **state)
{
	char err[256];
	struct store *s = store_open(path, err, sizeof(err));
	struct ci_batch a, f1, f2;
	struct store_prov sp = { .last_try = 5, .last_ok = 4, .failing = 1,
	    .since = 5, .failures = 2, .rejected = 3, .retry_at = 3605 }, back;
	struct got g = { .n = 0 };

	assert_non_null(s);
	/* Forecasts issued at 100 and at 200 for t = 1000..3000. */
	ci_batch_init(&f1, "DE", CI_AVERAGE, "electricitymaps");
	ci_batch_init(&f2, "DE", CI_AVERAGE, "electricitymaps");
	for (int i = 1; i <= 3; i++) {
		ci_batch_add(&f1, i * 1000, 100 + i, CI_FORECAST, 100, 0);
		ci_batch_add(&f2, i * 1000, 200 + i, CI_FORECAST, 200, 0);
	}
	/* An actual for t = 2000, fetched at 300; then refetched at 400. */
	ci_batch_init(&a, "DE", CI_AVERAGE, "ukci");
	ci_batch_add(&a, 2000, 50, CI_ACTUAL, 300, 0);
	assert_int_equal(store_ci_put(s, &f1), 0);
	assert_int_equal(store_ci_put(s, &f2), 0);
	assert_int_equal(store_ci_put(s, &a), 0);
	a.pts[0].value = 55;
	a.pts[0].vintage = 400;
	assert_int_equal(store_ci_put(s, &a), 0);
	assert_int_equal(store_commit(s), 0);

	/* As of 1000: actual (refetched value) beats both forecasts; the
	 * newest forecast wins elsewhere. */
	assert_int_equal(store_ci_best(s, "DE", CI_AVERAGE, 0, 10000, 1000, 0,
	    got_cb, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.t[0], 1000);
	assert_true(g.v[0] == 201);
	assert_true(g.v[1] == 55);
	assert_int_equal(g.kind[1], CI_ACTUAL);
	assert_string_equal(g.src[1], "ukci");
	assert_true(g.v[2] == 203);

	/* As of 150: only the first forecast was issued, no actual yet. */
	g.n = 0;
	assert_int_equal(store_ci_best(s, "DE", CI_AVERAGE, 0, 10000, 150, 0,
	    got_cb, &g), 0);
	assert_int_equal(g.n, 3);
	assert_true(g.v[0] == 101 && g.v[1] == 102 && g.v[2] == 103);

	/* Actuals only; other zone and signal see nothing. */
	g.n = 0;
	assert_int_equal(store_ci_best(s, "DE", CI_AVERAGE, 0, 10000, 1000, 1,
	    got_cb, &g), 0);
	assert_int_equal(g.n, 1);
	g.n = 0;
	assert_int_equal(store_ci_best(s, "FR", CI_AVERAGE, 0, 10000, 1000, 0,
	    got_cb, &g), 0);
	assert_int_equal(store_ci_best(s, "DE", CI_MARGINAL, 0, 10000, 1000,
	    0, got_cb, &g), 0);
	assert_int_equal(g.n, 0);

	snprintf(sp.reason, sizeof(sp.reason), "HTTP 500");
	assert_int_equal(store_prov_get(s, "local", "ukci", &back), 0);
	assert_int_equal(store_prov_put(s, "local", "ukci", &sp), 0);
	assert_int_equal(store_prov_get(s, "local", "ukci", &back), 1);
	assert_int_equal(back.failures, 2);
	assert_int_equal(back.rejected, 3);
	assert_string_equal(back.reason, "HTTP 500");
	assert_int_equal(back.retry_at, 3605);
	ci_batch_free(&a);
	ci_batch_free(&f1);
	ci_batch_free(&f2);
	store_close(s);
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
		cmocka_unit_test(test_intensity),
		cmocka_unit_test(test_schema_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
