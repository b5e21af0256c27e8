/*
 * test_store: a real sqlite file: migrations, insert/get/transition/list,
 * events, uncommitted work lost on close-without-commit, reopen keeps data;
 * final ledger rows in the order they became final and the export cursor.
 */
#include <math.h>
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

/*
 * held and start_now survive a save and a reopen, and the ledger totals
 * claim no saving for a job its user started at once.
 */
static void
test_job_control(void **state)
{
	char err[256];
	struct store *s = store_open(path, err, sizeof(err));
	struct job *h = mkjob("held", 1000), *n = mkjob("now", 1000), *g;
	struct store_ledger l = { .energy_j = 3.6e6, .grams = 100,
	    .counterfactual_g = 300, .settled = 2000 };
	struct store_totals t;
	int64_t states[JOB_NSTATES];

	assert_non_null(s);
	assert_int_equal(store_job_insert(s, h), 0);
	assert_int_equal(store_job_insert(s, n), 0);
	h->held = 1;
	assert_int_equal(store_job_transition(s, h, JOB_QUEUED, 1001,
	    "held by someone"), 0);
	assert_int_equal(store_counts(s, states, &t), 0);
	assert_true(t.saving_g == 0);
	for (int i = 0; i < 2; i++) {
		struct job *j = i ? n : h;

		assert_int_equal(store_ledger_record(s, j->id, 1000, 1100, 3.6e6,
		    "rapl"), 0);
		assert_int_equal(store_ledger_put(s, j->id, &l), 0);
	}
	assert_int_equal(store_counts(s, states, &t), 0);
	assert_true(t.saving_g == 400);
	n->start_now = 1;
	assert_int_equal(store_job_transition(s, n, JOB_RUNNING, 1002,
	    "started at once"), 0);
	assert_int_equal(store_counts(s, states, &t), 0);
	assert_true(t.saving_g == 200);
	store_close(s);

	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_job_get(s, h->id, &g), 1);
	assert_int_equal(g->held, 1);
	assert_int_equal(g->start_now, 0);
	job_free(g);
	assert_int_equal(store_job_get(s, n->id, &g), 1);
	assert_int_equal(g->held, 0);
	assert_int_equal(g->start_now, 1);
	job_free(g);
	store_close(s);
	job_free(h);
	job_free(n);
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

struct recent {
	int64_t		id[32];
	char		name[32][160];
	double		energy[32], grams[32];
	size_t		n;
};

static void
recent_cb(void *arg, const struct store_recent *r)
{
	struct recent *g = arg;

	g->id[g->n] = r->id;
	snprintf(g->name[g->n], sizeof(g->name[0]), "%s", r->name);
	g->energy[g->n] = r->energy_j;
	g->grams[g->n] = r->grams;
	g->n++;
}

/* A job of uid that started at `start` (0: never) and, unless to is
 * JOB_RUNNING, ended at `end`. Returns its id. */
static int64_t
ran(struct store *s, uint32_t uid, int64_t start, enum job_state to,
    int64_t end)
{
	struct job *j = mkjob("j", uid);
	int64_t id;

	assert_int_equal(store_job_insert(s, j), 0);
	j->start_time = start;
	if (to != JOB_RUNNING)
		j->end_time = end;
	assert_int_equal(store_job_transition(s, j, to, start ? start : end,
	    "x"), 0);
	id = j->id;
	job_free(j);
	return id;
}

/*
 * The jobs with series at /metrics: running ones and those that ran and
 * ended since the cut-off, shared round-robin among users, each user's
 * running first and then the latest ended; the ledger's energy and the
 * settled emissions only.
 */
static void
test_recent_jobs(void **state)
{
	char err[256], p2[300], longname[200];
	struct store *s;
	struct store_ledger l = { .energy_j = 500, .grams = 7.5,
	    .counterfactual_g = 9, .settled = 5000 };
	struct recent g = { .n = 0 };
	int64_t total, a[5], b, c, old, late, never, mean;
	struct job *j;

	snprintf(p2, sizeof(p2), "%s/recent.db", dir);
	assert_non_null(s = store_open(p2, err, sizeof(err)));
	/* uid 1000 floods: 3 running, 2 ended lately, 1 long ago. */
	for (int i = 0; i < 3; i++)
		a[i] = ran(s, 1000, 4000 + i, JOB_RUNNING, 0);
	a[3] = ran(s, 1000, 4000, JOB_SUCCEEDED, 4900);
	a[4] = ran(s, 1000, 4000, JOB_FAILED, 4950);
	old = ran(s, 1000, 100, JOB_SUCCEEDED, 200);
	b = ran(s, 1001, 4500, JOB_RUNNING, 0);
	c = ran(s, 1002, 4500, JOB_CANCELLED, 4800);
	/* Cancelled before it ever ran: no series. */
	never = ran(s, 1002, 0, JOB_CANCELLED, 4990);
	late = ran(s, 1003, 4000, JOB_SUCCEEDED, 4700);
	assert_int_equal(store_ledger_record(s, b, 4500, 4600, 500, "rapl"), 0);
	assert_int_equal(store_ledger_record(s, c, 4500, 4600, 80, "rapl"), 0);
	assert_int_equal(store_ledger_put(s, c, &l), 0);
	/* Recorded, never settled: energy, no emissions. */
	assert_int_equal(store_ledger_record(s, a[3], 4000, 4900, 33, "rapl"),
	    0);
	/* A name longer than JOB_NAME_MAX characters (an adopted job's). */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	j = mkjob("x", 1001);
	free(j->name);
	j->name = strdup(longname);
	assert_int_equal(store_job_insert(s, j), 0);
	j->start_time = 4800;
	assert_int_equal(store_job_transition(s, j, JOB_RUNNING, 4800, "x"),
	    0);
	mean = j->id;
	job_free(j);
	assert_int_equal(store_commit(s), 0);

	/* Everything since 4750: uid 1003's job ended before, and job
	 * `old` long before. Round one: each user's first, by uid. */
	assert_int_equal(store_recent_jobs(s, 4750, 100, recent_cb, &g,
	    &total), 0);
	assert_int_equal(total, 8);
	assert_int_equal(g.n, 8);
	assert_int_equal(g.id[0], a[2]);	/* the newest running */
	assert_int_equal(g.id[1], mean);	/* uid 1001's newest running */
	assert_int_equal(g.id[2], c);
	assert_int_equal(g.id[3], a[1]);	/* round two */
	assert_int_equal(g.id[4], b);
	assert_int_equal(g.id[5], a[0]);	/* round three: uid 1000 only */
	assert_int_equal(g.id[6], a[4]);	/* then its latest ended */
	assert_int_equal(g.id[7], a[3]);
	for (size_t i = 0; i < g.n; i++) {
		assert_true(g.id[i] != old && g.id[i] != never &&
		    g.id[i] != late);
		if (g.id[i] == b) {
			assert_true(g.energy[i] == 500);
			assert_true(isnan(g.grams[i]));
		} else if (g.id[i] == c) {
			assert_true(g.energy[i] == 500);
			assert_true(g.grams[i] == 7.5);
		} else if (g.id[i] == a[3]) {
			assert_true(g.energy[i] == 33);
			assert_true(isnan(g.grams[i]));
		} else if (g.id[i] == mean) {
			assert_int_equal(strlen(g.name[i]), JOB_NAME_MAX);
		} else
			assert_true(g.energy[i] == 0);
	}

	/* The cut keeps the round-robin: one flooding user cannot push the
	 * others out. */
	g.n = 0;
	assert_int_equal(store_recent_jobs(s, 4750, 3, recent_cb, &g, &total),
	    0);
	assert_int_equal(total, 8);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.id[0], a[2]);
	assert_int_equal(g.id[1], mean);
	assert_int_equal(g.id[2], c);

	/* An earlier cut-off takes in uid 1003's job, in round one. */
	g.n = 0;
	assert_int_equal(store_recent_jobs(s, 4700, 4, recent_cb, &g, &total),
	    0);
	assert_int_equal(total, 9);
	assert_int_equal(g.id[3], late);
	g.n = 0;
	assert_int_equal(store_recent_jobs(s, 4750, 0, recent_cb, &g, &total),
	    0);
	assert_int_equal(g.n, 0);
	assert_int_equal(total, 0);
	store_close(s);
}

/* Puts a ledger for job id, final or not. */
static void
put_ledger(struct store *s, int64_t id, int final, double grams)
{
	struct store_ledger l = { .energy_j = 3600, .grams = grams,
	    .counterfactual_g = 2 * grams, .final = final, .settled = 1 };

	snprintf(l.method, sizeof(l.method), "model");
	assert_int_equal(store_ledger_put(s, id, &l), 0);
}

static size_t
finals(struct store *s, int64_t after, struct store_final *out, size_t max)
{
	size_t n;

	assert_int_equal(store_final_after(s, after, max, out, &n), 0);
	return n;
}

/*
 * Rows come in the order they became final, not in job order; a reopened
 * and again final row comes again, as a new revision; the cursor and the
 * instance survive a reopen.
 */
static void
test_export_order(void **state)
{
	char err[256], inst[33], inst2[33];
	struct store *s = store_open(path, err, sizeof(err));
	struct store_final f[8];
	int64_t sent = -1, at = -1, n = -1, ids[4];
	struct store_ledger l;

	assert_non_null(s);
	for (int i = 0; i < 4; i++) {
		struct job *j = mkjob("x", 1000);

		assert_int_equal(store_job_insert(s, j), 0);
		ids[i] = j->id;
		job_free(j);
		put_ledger(s, ids[i], 0, 10);
	}
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_export_get(s, inst, &sent, &at), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(at, 0);
	assert_int_equal(strlen(inst), 32);
	assert_int_equal(strspn(inst, "0123456789abcdef"), 32);
	assert_int_equal(finals(s, 0, f, 8), 0);

	/* The last job's row is final first, then the first's. */
	put_ledger(s, ids[3], 1, 10);
	put_ledger(s, ids[0], 1, 10);
	assert_int_equal(finals(s, 0, f, 8), 2);
	assert_int_equal(f[0].job_id, ids[3]);
	assert_int_equal(f[1].job_id, ids[0]);
	assert_true(f[0].seq < f[1].seq);
	assert_int_equal(f[0].revision, 1);
	/* Acknowledged up to the first: the second still comes. */
	assert_int_equal(store_export_set(s, f[0].seq, 77), 0);
	assert_int_equal(store_final_count(s, f[0].seq, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(finals(s, f[0].seq, f, 8), 1);
	assert_int_equal(store_final_count(s, 0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(f[0].job_id, ids[0]);
	/* Settling a final row again keeps its place; max is kept. */
	put_ledger(s, ids[0], 1, 11);
	assert_int_equal(finals(s, 0, f, 1), 1);
	assert_int_equal(f[0].job_id, ids[3]);
	assert_int_equal(finals(s, 0, f, 8), 2);
	assert_int_equal(f[1].job_id, ids[0]);
	assert_int_equal(f[1].revision, 1);
	/* Job 2, final now, comes after both, its id notwithstanding. */
	put_ledger(s, ids[1], 1, 10);
	assert_int_equal(finals(s, f[1].seq, f, 8), 1);
	assert_int_equal(f[0].job_id, ids[1]);
	assert_int_equal(store_commit(s), 0);

	/* A late interval reopens the last job's row: it leaves the list;
	 * final again, it comes last, as revision 2. */
	assert_int_equal(store_ledger_record(s, ids[3], 100, 200, 5, "model"),
	    0);
	assert_int_equal(finals(s, 0, f, 8), 2);
	assert_int_equal(f[0].job_id, ids[0]);
	put_ledger(s, ids[3], 1, 12);
	assert_int_equal(finals(s, 0, f, 8), 3);
	assert_int_equal(f[2].job_id, ids[3]);
	assert_int_equal(f[2].revision, 2);
	assert_true(f[2].seq > f[1].seq);
	assert_int_equal(store_ledger_get(s, ids[3], &l), 1);
	assert_true(l.final && l.grams == 12);
	store_close(s);

	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_export_get(s, inst2, &sent, &at), 0);
	assert_string_equal(inst, inst2);
	assert_int_equal(at, 77);
	assert_int_equal(finals(s, sent, f, 8), 3);
	assert_int_equal(f[0].job_id, ids[0]);
	store_close(s);
}

/* Rows final before the export existed are numbered in job order. */
static void
test_export_migration(void **state)
{
	char err[256], inst[33];
	struct store *s = store_open(path, err, sizeof(err));
	struct store_final f[8];
	int64_t sent, at;
	sqlite3 *db;

	assert_non_null(s);
	/* test_export_order left three final rows, one of them twice. */
	store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX ledger_jobs_final_seq;"
	    "ALTER TABLE ledger_jobs DROP COLUMN final_seq;"
	    "ALTER TABLE ledger_jobs DROP COLUMN revision;"
	    "DROP TABLE export_state; ALTER TABLE jobs DROP COLUMN stdout_file;"
	    "ALTER TABLE jobs DROP COLUMN stderr_file;"
	    "ALTER TABLE jobs DROP COLUMN begin;"
	    "ALTER TABLE jobs DROP COLUMN gpus;"
	    "PRAGMA user_version = 10", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_export_get(s, inst, &sent, &at), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(finals(s, 0, f, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f[i].seq, f[i].job_id);
		assert_int_equal(f[i].revision, 1);
	}
	assert_true(f[0].job_id < f[1].job_id && f[1].job_id < f[2].job_id);
	/* The next one to turn final (job 3, test_lifecycle's) comes after
	 * them all. */
	put_ledger(s, 3, 1, 1);
	assert_int_equal(finals(s, f[2].seq, f, 8), 1);
	assert_int_equal(f[0].job_id, 3);
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
		cmocka_unit_test(test_recent_jobs),
		cmocka_unit_test(test_job_control),
		cmocka_unit_test(test_export_order),
		cmocka_unit_test(test_export_migration),
		cmocka_unit_test(test_schema_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
