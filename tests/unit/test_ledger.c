/*
 * test_ledger: the emissions ledger over a real store and carbon manager.
 * Intensity points are put into the store by hand (the sites have no
 * providers). Grams are checked exactly against energy / 3.6e6 x g/kWh x
 * PUE per slot; a job is provisional while a forecast is used, final once
 * actuals are stored (values recomputed) or after final_after with the
 * best data; the counterfactual runs at submit time at the origin site
 * with its own intensity and PUE; totals never mix signals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ev.h>

#include "common/fsutil.h"
#include "common/job.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/ledger.h"
#include "scheduler/store.h"
#include "scheduler/totals.h"

#define T0	INT64_C(1699999800)	/* on the 5-minute grid */
#define H	3600
#define DAY	86400
#define EPS	1e-9

static char dir[64];

struct fixture {
	struct ebb_site		 sites[2];
	struct ebb_config	 cfg;
	struct store		*st;
	struct carbon		*c;
};

/* Points every 5 minutes from t, one per value. */
static void
put(struct store *st, const char *zone, const char *source, enum ci_kind kind,
    int64_t vintage, int64_t t, const double *v, size_t n)
{
	struct ci_batch b;

	ci_batch_init(&b, zone, CI_AVERAGE, source);
	for (size_t i = 0; i < n; i++)
		ci_batch_add(&b, t + (int64_t)i * 300, v[i], kind, vintage, 0);
	assert_int_equal(store_ci_put(st, &b), 0);
	assert_int_equal(store_commit(st), 0);
	ci_batch_free(&b);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256], *path = NULL;

	snprintf(dir, sizeof(dir), "/tmp/ebb-test-ledger-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/ebb.db", dir) > 0);
	f->sites[0] = (struct ebb_site){ .name = "a", .zone = "ZA",
	    .pue = 1.5, .cpus = 4, .embodied_kg = 1000, .lifetime = 4000000 };
	f->sites[1] = (struct ebb_site){ .name = "b", .zone = "ZB",
	    .pue = 1.2 };
	f->cfg = (struct ebb_config){ .slot = 300, .max_gap = H,
	    .sites = f->sites, .nsites = 2 };
	assert_non_null(f->st = store_open(path, err, sizeof(err)));
	f->c = carbon_new(ev_default_loop(0), f->st, &f->cfg, err,
	    sizeof(err));
	assert_non_null(f->c);
	free(path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	carbon_free(f->c);
	store_close(f->st);
	free(f);
	fs_rm_rf(dir);
	return 0;
}

/* A stored job that ran at site from start to end. */
static struct job *
job_at(struct store *st, const char *sites_json, const char *site,
    int64_t submit, int64_t start, int64_t end)
{
	struct job *j = job_new();

	j->name = strdup("render");
	j->user = strdup("ann");
	j->uid = 1000;
	j->argv = json_pack("[s]", "true");
	j->workdir = strdup("/");
	j->cpus = 1;
	j->sites = json_loads(sites_json, 0, NULL);
	j->submit_time = submit;
	j->state = JOB_QUEUED;
	assert_int_equal(store_job_insert(st, j), 0);
	j->site = strdup(site);
	j->start_time = start;
	j->end_time = end;
	j->state = JOB_SUCCEEDED;
	assert_int_equal(store_job_save(st, j), 0);
	assert_int_equal(store_commit(st), 0);
	return j;
}

static double
num(const json_t *o, const char *k)
{
	assert_true(json_is_number(json_object_get(o, k)));
	return json_number_value(json_object_get(o, k));
}

static const char *
str(const json_t *o, const char *k)
{
	assert_non_null(json_string_value(json_object_get(o, k)));
	return json_string_value(json_object_get(o, k));
}

static json_t *
row_of(struct store *st, const struct job *j)
{
	char err[256];
	json_t *row;

	assert_int_equal(ledger_job_json(st, j, &row, err, sizeof(err)), 1);
	return row;
}

static void
settle(struct fixture *f, const struct job *j, int64_t now, int64_t after)
{
	char err[256];

	assert_int_equal(ledger_settle(f->st, f->c, &f->cfg, j, now, after,
	    err, sizeof(err)), 0);
	assert_int_equal(store_commit(f->st), 0);
}

static void
test_record_errors(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct job *j = job_at(f->st, "[]", "a", T0, T0, T0 + 600);
	json_t *row;

	assert_int_equal(ledger_record(f->st, j->id, T0 + 10, T0 + 10, 1,
	    "rapl", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty, reversed or bad energy"));
	assert_int_equal(ledger_record(f->st, j->id, T0, T0 + 10, -1, "rapl",
	    err, sizeof(err)), -1);
	assert_int_equal(ledger_record(f->st, j->id, T0, T0 + 10, 1, "",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "job 1: energy without a method");
	/* Nothing recorded: no ledger, and settling leaves it so. */
	assert_int_equal(ledger_job_json(f->st, j, &row, err, sizeof(err)), 0);
	assert_null(row);
	settle(f, j, T0 + DAY, 0);
	assert_int_equal(ledger_job_json(f->st, j, &row, err, sizeof(err)), 0);
	job_free(j);
}

static void
test_settle(void **state)
{
	static const double fc_a[] = { 100, 200, 300, 400 };
	static const double act_a[] = { 110, 210, 310, 410 };
	static const double act_b[] = { 500, 500, 600, 600 };
	static const double fc_a2[] = { 200, 250 };
	struct fixture *f = *state;
	int64_t s = T0 + 2 * H, end = s + 1200, s2 = T0 + 5 * H;
	struct job *j, *j2;
	struct store_interval *iv;
	struct store_ledger l;
	json_t *row, *rows, *tot, *t;
	int64_t *ids;
	size_t n;
	char err[256];

	/* Ran at a (PUE 1.5) though submitted for b (PUE 1.2) first. */
	j = job_at(f->st, "[\"b\", \"a\"]", "a", T0, s, end);
	assert_int_equal(ledger_record(f->st, j->id, s, s + 600, 720000,
	    "rapl", err, sizeof(err)), 0);
	assert_int_equal(ledger_record(f->st, j->id, s + 600, end, 360000,
	    "rapl+nvml", err, sizeof(err)), 0);
	assert_int_equal(store_commit(f->st), 0);

	/* Unsettled: energy known, emissions not yet. */
	row = row_of(f->st, j);
	assert_true(fabs(num(row, "energy_kwh") - 0.3) < EPS);
	assert_true(json_is_null(json_object_get(row, "emissions_g")));
	assert_string_equal(str(row, "status"), "provisional");
	json_decref(row);

	/* A forecast at a, actuals at b where the job was submitted. */
	put(f->st, "ZA", "electricitymaps", CI_FORECAST, T0, s, fc_a, 4);
	put(f->st, "ZB", "ukci", CI_ACTUAL, T0 + 30, T0, act_b, 4);
	settle(f, j, end + 60, DAY);

	assert_int_equal(store_ledger_intervals(f->st, j->id, &iv, &n), 0);
	assert_int_equal(n, 2);
	/* 0.2 kWh over two slots: 0.1 x 1.5 x (100 + 200). */
	assert_true(fabs(iv[0].grams - 45) < EPS);
	assert_true(fabs(iv[0].intensity - 150) < EPS);
	assert_string_equal(iv[0].kind, "forecast");
	assert_string_equal(iv[0].provider, "electricitymaps");
	assert_string_equal(iv[0].signal, "average");
	assert_string_equal(iv[0].method, "rapl");
	assert_int_equal(iv[0].vintage, T0);
	assert_true(iv[0].pue == 1.5);
	/* 0.1 kWh: 0.05 x 1.5 x (300 + 400). */
	assert_true(fabs(iv[1].grams - 52.5) < EPS);
	assert_true(fabs(iv[1].intensity - 350) < EPS);
	free(iv);

	row = row_of(f->st, j);
	assert_true(fabs(num(row, "emissions_g") - 97.5) < EPS);
	assert_true(fabs(num(row, "intensity_g_per_kwh") -
	    97.5 / (0.3 * 1.5)) < EPS);
	/* At once at b: 0.1 x 1.2 x (500 + 500) + 0.05 x 1.2 x (600 + 600). */
	assert_true(fabs(num(row, "counterfactual_g") - 192) < EPS);
	assert_true(fabs(num(row, "saving_g") - 94.5) < EPS);
	assert_true(fabs(num(row, "saving_pct") - 100 * 94.5 / 192) < EPS);
	assert_string_equal(str(row, "method"), "rapl,rapl+nvml");
	assert_string_equal(str(row, "signal"), "average");
	assert_string_equal(str(row, "site"), "a");
	assert_string_equal(str(row, "status"), "provisional");
	assert_int_equal(json_integer_value(json_object_get(row, "submit")),
	    T0);
	json_decref(row);

	/* Actuals arrive: recomputed with them, and final. */
	put(f->st, "ZA", "ukci", CI_ACTUAL, end + 100, s, act_a, 4);
	settle(f, j, end + 200, DAY);
	row = row_of(f->st, j);
	/* 0.1 x 1.5 x (110 + 210) + 0.05 x 1.5 x (310 + 410) */
	assert_true(fabs(num(row, "emissions_g") - 102) < EPS);
	assert_true(fabs(num(row, "saving_g") - 90) < EPS);
	assert_true(fabs(num(row, "saving_pct") - 46.875) < EPS);
	assert_string_equal(str(row, "status"), "final");
	json_decref(row);
	assert_int_equal(store_ledger_intervals(f->st, j->id, &iv, &n), 0);
	assert_string_equal(iv[1].kind, "actual");
	assert_string_equal(iv[1].provider, "ukci");
	free(iv);

	/* Final is final: later data changes nothing. */
	put(f->st, "ZA", "ukci", CI_ACTUAL, end + 300, s, fc_a, 4);
	settle(f, j, end + 400, DAY);
	assert_int_equal(store_ledger_get(f->st, j->id, &l), 1);
	assert_true(fabs(l.grams - 102) < EPS);
	assert_int_equal(l.settled, end + 200);
	/* Embodied: 1,000 kg over 4 cpus and 4e6 s; 1 cpu for 1,200 s. */
	assert_true(fabs(l.embodied_g - 1e6 * 1200 / (4 * 4e6)) < EPS);

	/* Only forecasts, no site list (origin = a, submitted an hour
	 * before it ran): provisional until final_after has passed. */
	put(f->st, "ZA", "electricitymaps", CI_FORECAST, T0, T0 + 4 * H, fc_a2, 1);
	put(f->st, "ZA", "electricitymaps", CI_FORECAST, T0, s2, fc_a2 + 1, 1);
	j2 = job_at(f->st, "[]", "a", T0 + 4 * H, s2, s2 + 300);
	assert_int_equal(ledger_record(f->st, j2->id, s2, s2 + 300, 360000,
	    "model", err, sizeof(err)), 0);
	settle(f, j2, s2 + 300 + 100, H);
	row = row_of(f->st, j2);
	assert_true(fabs(num(row, "energy_uncertainty") - 0.3) < EPS);
	json_decref(row);
	row = row_of(f->st, j);
	assert_true(num(row, "energy_uncertainty") == 0);
	json_decref(row);
	row = row_of(f->st, j2);
	assert_string_equal(str(row, "status"), "provisional");
	json_decref(row);
	assert_int_equal(store_ledger_provisional(f->st, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], j2->id);
	free(ids);

	settle(f, j2, s2 + 300 + H, H);
	row = row_of(f->st, j2);
	assert_string_equal(str(row, "status"), "final");
	assert_true(fabs(num(row, "emissions_g") - 0.1 * 1.5 * 250) < EPS);
	assert_true(fabs(num(row, "counterfactual_g") - 0.1 * 1.5 * 200) <
	    EPS);
	assert_true(fabs(num(row, "saving_g") + 7.5) < EPS);
	assert_true(fabs(num(row, "saving_pct") + 25) < EPS);
	assert_string_equal(str(row, "method"), "model");
	assert_int_equal(store_ledger_provisional(f->st, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);

	/* Totals: one per signal, never summed across. */
	rows = json_array();
	json_array_append_new(rows, row_of(f->st, j));
	json_array_append_new(rows, row);
	json_array_append_new(rows, json_pack("{s:s, s:f, s:f, s:f, s:f}",
	    "signal", "marginal", "energy_kwh", 1.0, "emissions_g", 300.0,
	    "counterfactual_g", 400.0, "saving_g", 100.0));
	tot = totals_of(rows);
	assert_int_equal(json_array_size(tot), 2);
	t = json_array_get(tot, 0);
	assert_string_equal(str(t, "signal"), "average");
	assert_int_equal(json_integer_value(json_object_get(t, "jobs")), 2);
	assert_true(fabs(num(t, "energy_kwh") - 0.4) < EPS);
	assert_true(fabs(num(t, "emissions_g") - 139.5) < EPS);
	assert_true(fabs(num(t, "counterfactual_g") - 222) < EPS);
	assert_true(fabs(num(t, "saving_g") - 82.5) < EPS);
	assert_true(fabs(num(t, "saving_pct") - 100 * 82.5 / 222) < EPS);
	t = json_array_get(tot, 1);
	assert_string_equal(str(t, "signal"), "marginal");
	assert_int_equal(json_integer_value(json_object_get(t, "jobs")), 1);
	assert_true(fabs(num(t, "emissions_g") - 300) < EPS);
	assert_true(fabs(num(t, "saving_pct") - 25) < EPS);
	json_decref(tot);
	json_decref(rows);
	job_free(j);
	job_free(j2);
}

static void
test_unknown_site(void **state)
{
	struct fixture *f = *state;
	struct job *j = job_at(f->st, "[\"gone\"]", "a", T0, T0, T0 + 300);
	char err[256];

	assert_int_equal(ledger_record(f->st, j->id, T0, T0 + 300, 3600,
	    "rapl", err, sizeof(err)), 0);
	assert_int_equal(ledger_settle(f->st, f->c, &f->cfg, j, T0 + DAY, 0,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "job 1: site 'gone' is not configured");
	job_free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_site, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
