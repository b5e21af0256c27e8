/*
 * test_simulate: `ebb simulate` (scheduler/simulate.c and
 * scheduler/cli/cmd_simulate.c) end to end on the bundled Electricity
 * Maps 2023 traces (tests/data/sim/ebb.yaml: sites de, PUE 1.2, and gb,
 * PUE 1.0, on a 30-minute grid, no safety margin, no delay penalty).
 *
 * The expected figures come from the trace's LCA values, copied here:
 * DE on 2023-01-01 from 00:00 UTC, hour by hour,
 *   185.8 185.7 195.42 197.06 195.41 196.53 194.07 196.01 189.24 182.72
 *   181.22 184.3 (00:00 .. 11:00)
 * GB on 2023-01-01: 91.44 94.66 85.31 86.97 92.15 92.77 (00:00 .. 05:00).
 * Also: determinism, noise and model forecasts without deadline misses,
 * policies, and malformed workloads with their exact file:line message.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "policies/policy.h"
#include "scheduler/cli/cli.h"
#include "scheduler/simulate.h"
#include "testutil.h"

#define T0	1672531200LL	/* 2023-01-01T00:00:00Z */
#define H	3600LL
#define EPS	1e-6
#define HDR	"id,submit,duration_s,deadline,power_w,cpus,interruptible," \
		"sites\n"

static struct ebb_config *cfg;

static int
setup(void **state)
{
	char path[512], *errs = NULL;

	tu_setup(state);
	snprintf(path, sizeof(path), "%s/data/sim/ebb.yaml", tu_data_dir());
	if (config_load(path, &cfg, &errs) == -1) {
		fprintf(stderr, "%s", errs);
		free(errs);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	config_free(cfg);
	return tu_teardown(state);
}

/* Simulates a workload file (data/sim/NAME or a temporary file). */
static void
simulate(const char *path, const char *forecast, int oracle,
    const struct policy_set *pol, struct sim_result *r)
{
	struct sim_opts o = { .seed = 1, .oracle = oracle };
	struct sim_workload *wl;
	char err[512];

	assert_int_equal(sim_parse_forecast(forecast, &o, err, sizeof(err)),
	    0);
	o.oracle = oracle;
	if (sim_workload_load(path, cfg, &wl, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	if (sim_run(cfg, pol, wl, &o, r, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	sim_workload_free(wl);
}

static char *
data(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/data/sim/%s", tu_data_dir(), name);
	return path;
}

static void
one_job_waits_for_cheaper_hour(void **state)
{
	struct sim_result r;
	const struct sim_job *j;

	/* Submitted 00:20, 1 h, done by 12:00: the cheapest hour is 10:00. */
	simulate(data("one.csv"), "perfect", 1, NULL, &r);
	assert_int_equal(r.njobs, 1);
	j = &r.jobs[0];
	assert_string_equal(j->site, "de");
	assert_int_equal(j->start, T0 + 10 * H);
	assert_int_equal(j->end, T0 + 11 * H);
	assert_int_equal(j->runs, 1);
	assert_float_equal(j->energy_kwh, 1.0, EPS);
	assert_float_equal(j->emissions_g, 1.2 * 181.22, EPS);
	/* Run at once: 40 min of the 00:00 hour, 20 min of the 01:00 one. */
	assert_float_equal(j->baseline_g, 1.2 * (40 * 185.8 + 20 * 185.7) / 60,
	    EPS);
	assert_int_equal(r.sum.jobs, 1);
	assert_float_equal(r.sum.emissions_g, 1.2 * 181.22, EPS);
	assert_float_equal(r.sum.savings_pct, 100 * (1 - 181.22 /
	    ((40 * 185.8 + 20 * 185.7) / 60)), EPS);
	assert_int_equal(r.sum.has_oracle, 1);
	assert_float_equal(r.sum.oracle_g, 1.2 * 181.22, EPS);
	assert_int_equal(r.sum.deadline_misses, 0);
	assert_float_equal(r.sum.mean_delay_s, 9 * H + 40 * 60, EPS);
	sim_result_free(&r);
}

/* The window reaches the deadline whatever the horizon says. */
static void
window_reaches_deadline_past_horizon(void **state)
{
	struct sim_result r;
	int64_t horizon = cfg->planner.horizon;

	/* one.csv again (cheapest hour 10:00, done by 12:00), horizon 1 h */
	cfg->planner.horizon = H;
	simulate(data("one.csv"), "perfect", 0, NULL, &r);
	cfg->planner.horizon = horizon;
	assert_int_equal(r.jobs[0].start, T0 + 10 * H);
	assert_int_equal(r.sum.deadline_misses, 0);
	sim_result_free(&r);
}

static void
interruptible_job_runs_in_two_pieces(void **state)
{
	struct sim_result r;
	char *path = tu_write_tmp("split.csv", HDR
	    "split,2023-01-01T00:00:00Z,7200,2023-01-01T10:00:00Z,1000,1,1,"
	    "de\n");

	/* The two cheapest hours before 10:00 are 09:00 and 01:00. */
	simulate(path, "perfect", 1, NULL, &r);
	assert_int_equal(r.jobs[0].runs, 2);
	assert_int_equal(r.jobs[0].start, T0 + 1 * H);
	assert_int_equal(r.jobs[0].end, T0 + 10 * H);
	assert_float_equal(r.jobs[0].emissions_g, 1.2 * (185.7 + 182.72), EPS);
	assert_float_equal(r.jobs[0].baseline_g, 1.2 * (185.8 + 185.7), EPS);
	/* plan_oracle does not take interruptible jobs: no oracle figure. */
	assert_int_equal(r.sum.has_oracle, 0);
	assert_non_null(strstr(r.sum.oracle_note, "interruptible"));
	sim_result_free(&r);
	free(path);
}

static void
job_moves_to_cleaner_site(void **state)
{
	struct sim_result r;
	char *path = tu_write_tmp("move.csv", HDR
	    "move,1672531200,3600,1672552800,1000,1,0,de|gb\n");

	/* Origin de; gb at 02:00 (85.31, PUE 1.0) is the cheapest by 06:00. */
	simulate(path, "perfect", 1, NULL, &r);
	assert_string_equal(r.jobs[0].site, "gb");
	assert_int_equal(r.jobs[0].start, T0 + 2 * H);
	assert_float_equal(r.jobs[0].emissions_g, 85.31, EPS);
	assert_float_equal(r.jobs[0].baseline_g, 1.2 * 185.8, EPS);
	assert_float_equal(r.sum.oracle_g, 85.31, EPS);
	sim_result_free(&r);
	free(path);
}

static void
capacity_is_shared(void **state)
{
	struct sim_result r;
	char *path = tu_write_tmp("full.csv", HDR
	    "a,2023-01-01T00:00:00Z,3600,2023-01-01T12:00:00Z,1000,4,0,de\n"
	    "b,2023-01-01T00:00:00Z,3600,2023-01-01T12:00:00Z,1000,4,0,de\n");
	int64_t s0, s1;

	/* Each job fills the 4-cpu site: 10:00 for one, 09:00 the other. */
	simulate(path, "perfect", 1, NULL, &r);
	s0 = r.jobs[0].start < r.jobs[1].start ? r.jobs[0].start :
	    r.jobs[1].start;
	s1 = r.jobs[0].start < r.jobs[1].start ? r.jobs[1].start :
	    r.jobs[0].start;
	assert_int_equal(s0, T0 + 9 * H);
	assert_int_equal(s1, T0 + 10 * H);
	assert_float_equal(r.sum.emissions_g, 1.2 * (182.72 + 181.22), EPS);
	assert_float_equal(r.sum.oracle_g, r.sum.emissions_g, EPS);
	sim_result_free(&r);
	free(path);
}

/*
 * reserve auto (scheduler/load.h): demand submitted to de (a 4-cpu job of
 * 23 h that may run at gb, where it goes: cleaner) makes de's recent
 * load 0.95 of the site, so a 2-cpu job that could wait for de's green
 * hour (10:00) leaves 3 of its 4 cpus free instead: it finds no such
 * window and runs at once, and a tight 4-cpu job submitted at 10:10
 * (done by 11:20) meets its deadline. Without that demand the first job
 * waits for 10:00, as one.csv's does, and the tight one, arriving while
 * it runs, misses: waiting costs deadlines only where the load said
 * nothing would compete.
 */
static void
loaded_site_keeps_room_for_tight_jobs(void **state)
{
	const char *ab =
	    "a,2023-01-01T00:20:00Z,3600,2023-01-01T12:00:00Z,1000,2,0,de\n"
	    "b,2023-01-01T10:10:00Z,3600,2023-01-01T11:20:00Z,1000,4,0,de\n";
	char *busy, *idle, text[512];
	struct sim_result r;
	double fixed = cfg->planner.reserve;

	snprintf(text, sizeof(text), "%s%s%s", HDR, "fill,2023-01-01T00:00:00Z,"
	    "82800,2023-01-02T00:00:00Z,1000,4,0,de|gb\n", ab);
	busy = tu_write_tmp("busy.csv", text);
	snprintf(text, sizeof(text), "%s%s", HDR, ab);
	idle = tu_write_tmp("idle.csv", text);
	cfg->planner.reserve = -1;		/* auto */
	simulate(busy, "perfect", 0, NULL, &r);
	assert_string_equal(r.jobs[0].site, "gb");
	assert_string_equal(r.jobs[1].site, "de");
	assert_int_equal(r.jobs[1].start, T0 + 20 * 60);
	assert_int_equal(r.jobs[2].start, T0 + 10 * H + 10 * 60);
	assert_int_equal(r.sum.deadline_misses, 0);
	sim_result_free(&r);

	simulate(idle, "perfect", 0, NULL, &r);
	assert_int_equal(r.jobs[0].start, T0 + 10 * H);
	assert_int_equal(r.jobs[1].start, T0 + 11 * H);
	assert_int_equal(r.sum.deadline_misses, 1);
	sim_result_free(&r);
	cfg->planner.reserve = fixed;
	free(busy);
	free(idle);
}

static void
no_deadline_runs_at_once(void **state)
{
	struct sim_result r;
	char *path = tu_write_tmp("now.csv", HDR
	    "now,2023-01-01T00:00:00Z,1800,,,2,0,de\n");

	/* default_max_delay is 0: no wait. 2 cpus x 10 W for 30 min. */
	simulate(path, "perfect", 0, NULL, &r);
	assert_int_equal(r.jobs[0].start, T0);
	assert_float_equal(r.jobs[0].energy_kwh, 0.01, EPS);
	assert_float_equal(r.jobs[0].emissions_g, r.jobs[0].baseline_g, EPS);
	assert_float_equal(r.jobs[0].emissions_g, 1.2 * 0.01 * 185.8, EPS);
	assert_int_equal(r.jobs[0].deadline, 0);
	assert_int_equal(r.sum.has_oracle, 0);
	assert_string_equal(r.sum.oracle_note, "");
	sim_result_free(&r);
	free(path);
}

static void
unknown_intensity_claims_no_saving(void **state)
{
	struct sim_result r;
	char *path = tu_write_tmp("late.csv", HDR
	    "late,2023-12-31T23:00:00Z,7200,,,2,0,de\n");
	FILE *f = tmpfile();
	char buf[1024];
	size_t n;

	/* The trace ends at 2024-01-01 00:00: the second hour is unknown on
	 * both sides, so there is no saving to claim (was 0 %, and 100 %
	 * where only the run's side was unknown). */
	simulate(path, "perfect", 0, NULL, &r);
	assert_true(r.sum.unknown_kwh > 0);
	assert_true(isnan(r.sum.savings_pct));
	sim_write_summary(f, &r, 0);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\nsavings_pct: null\n"));
	rewind(f);
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	sim_write_summary(f, &r, 1);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"savings_pct\": null"));
	fclose(f);
	sim_result_free(&r);
	free(path);
}

static void
policies_fill_in_and_refuse(void **state)
{
	struct policy_set *pol;
	struct sim_result r;
	char *errs = NULL, *wl, *pf = tu_write_tmp("pol.yaml",
	    "rules:\n"
	    "  - name: nightly\n"
	    "    match:\n"
	    "      names: [\"nightly-*\"]\n"
	    "    defaults:\n"
	    "      max_delay: 12h\n"
	    "    caps:\n"
	    "      sites: [de]\n");

	if (policy_load(pf, &pol, &errs) == -1)
		fail_msg("%s", errs);
	wl = tu_write_tmp("pol.csv", HDR
	    "nightly-1,2023-01-01T00:20:00Z,3600,,1000,1,0,\n"
	    "nightly-2,2023-01-01T00:20:00Z,3600,,1000,1,0,gb\n"
	    "other,2023-01-01T00:20:00Z,3600,,1000,1,0,\n");
	simulate(wl, "perfect", 0, pol, &r);
	/* max_delay 12h from the policy: it waits for 10:00, at de. */
	assert_string_equal(r.jobs[0].site, "de");
	assert_int_equal(r.jobs[0].start, T0 + 10 * H);
	assert_int_equal(r.jobs[0].deadline, T0 + 20 * 60 + 13 * H);
	assert_null(r.jobs[1].site);
	assert_string_equal(r.jobs[1].note, "sites: 'gb' is not among the "
	    "sites allowed by policy 'nightly' (de)");
	/* No rule: no limits, so it runs at once (default_max_delay 0). */
	assert_int_equal(r.jobs[2].start, T0 + 20 * 60);
	assert_int_equal(r.sum.refused, 1);
	assert_int_equal(r.sum.jobs, 2);
	sim_result_free(&r);
	policy_free(pol);
	free(pf);
	free(wl);
}

/* The jobs CSV and the summary of a run, as one string (caller frees). */
static char *
output(const char *forecast)
{
	struct sim_result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	simulate(data("mix.csv"), forecast, 0, NULL, &r);
	sim_write_jobs(f, &r);
	sim_write_summary(f, &r, 0);
	sim_write_summary(f, &r, 1);
	fclose(f);
	sim_result_free(&r);
	return buf;
}

static void
same_input_same_output(void **state)
{
	char *a = output("noise:0.3:42"), *b = output("noise:0.3:42");
	char *c = output("noise:0.3:43"), *m1 = output("model");
	char *m2 = output("model");

	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_equal(m1, m2);
	free(a);
	free(b);
	free(c);
	free(m1);
	free(m2);
}

static void
forecast_errors_miss_no_deadline(void **state)
{
	static const char *const modes[] = { "perfect", "noise:0.1",
	    "noise:0.5:7", "model" };
	double perfect = 0;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct sim_result r;

		simulate(data("mix.csv"), modes[i], 0, NULL, &r);
		assert_int_equal(r.sum.jobs, 30);
		assert_int_equal(r.sum.unplaced, 0);
		assert_int_equal(r.sum.deadline_misses, 0);
		assert_float_equal(r.sum.unknown_kwh, 0, EPS);
		for (size_t k = 0; k < r.njobs; k++)
			if (r.jobs[k].deadline > 0)
				assert_true(r.jobs[k].end <= r.jobs[k].deadline);
		/* Knowing the future never does worse than guessing it. */
		if (i == 0)
			perfect = r.sum.emissions_g;
		else
			assert_true(r.sum.emissions_g >= perfect - EPS);
		assert_true(r.sum.emissions_g < r.sum.baseline_g);
		sim_result_free(&r);
	}
}

/* The message sim_workload_load gives for one data row. */
static void
assert_row_error(const char *row, const char *msg)
{
	struct sim_workload *wl;
	char err[512], want[512], text[512];
	char *path;

	snprintf(text, sizeof(text), HDR "ok,1672531200,60,,,1,0,de\n%s\n",
	    row);
	path = tu_write_tmp("bad.csv", text);
	assert_int_equal(sim_workload_load(path, cfg, &wl, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:3: %s", path, msg);
	assert_string_equal(err, want);
	free(path);
}

static void
malformed_workloads(void **state)
{
	struct sim_workload *wl;
	char err[512], want[512], *path;

	assert_row_error("x,2023-01-01T00:00:00Z,60,tomorrow,,1,0,de",
	    "deadline: 'tomorrow' must be empty, ISO-8601 UTC or epoch "
	    "seconds");
	assert_row_error("x,yesterday,60,,,1,0,de", "submit: 'yesterday' "
	    "must be ISO-8601 UTC or epoch seconds");
	assert_row_error("x,1672531200,0,,,1,0,de", "duration_s: '0' must "
	    "be whole seconds, 1 to 366 days");
	assert_row_error("x,1672531200,60,1672531230,,1,0,de",
	    "deadline: '1672531230' is before submit + duration_s");
	assert_row_error("x,1672531200,60,,lots,1,0,de", "power_w: 'lots' "
	    "must be empty or watts, 0 to 1e7");
	assert_row_error("x,1672531200,60,,,0,0,de", "cpus: '0' must be an "
	    "integer, 1 to 1048576");
	assert_row_error("x,1672531200,60,,,8,0,de", "cpus: 8 is more than "
	    "any of its sites has (4)");
	assert_row_error("x,1672531200,60,,,1,yes,de", "interruptible: 'yes' "
	    "must be 0 or 1");
	assert_row_error("x,1672531200,60,,,1,0,de|mars", "sites: unknown "
	    "site 'mars'");
	assert_row_error("x,1672531200,60,,,1,0", "too few columns, need 8 "
	    "(id,submit,duration_s,deadline,power_w,cpus,interruptible,"
	    "sites)");
	assert_row_error("ok,1672531200,60,,,1,0,de", "id: 'ok' already used "
	    "on line 2");

	path = tu_write_tmp("hdr.csv", "id,submit,duration\n");
	assert_int_equal(sim_workload_load(path, cfg, &wl, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:1: the header must be '%.*s'", path,
	    (int)strlen(HDR) - 1, HDR);
	assert_string_equal(err, want);
	free(path);
	assert_int_equal(sim_workload_load("/nonexistent/w.csv", cfg, &wl,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/w.csv: No such file or "
	    "directory");
}

static void
forecast_option(void **state)
{
	struct sim_opts o;
	char err[256];

	assert_int_equal(sim_parse_forecast("noise:0.25:99", &o, err,
	    sizeof(err)), 0);
	assert_int_equal(o.forecast, SIM_NOISE);
	assert_float_equal(o.sigma, 0.25, 0);
	assert_int_equal(o.seed, 99);
	assert_int_equal(sim_parse_forecast("noise:0.1", &o, err,
	    sizeof(err)), 0);
	assert_int_equal(o.seed, 1);
	assert_int_equal(sim_parse_forecast("model", &o, err, sizeof(err)), 0);
	assert_int_equal(o.forecast, SIM_MODEL);
	assert_int_equal(sim_parse_forecast("noise:", &o, err, sizeof(err)),
	    -1);
	assert_int_equal(sim_parse_forecast("noise:-1", &o, err, sizeof(err)),
	    -1);
	assert_int_equal(sim_parse_forecast("noise:0.1:x", &o, err,
	    sizeof(err)), -1);
	assert_int_equal(sim_parse_forecast("psychic", &o, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "bad forecast 'psychic': perfect, "
	    "noise:SIGMA[:SEED] (SIGMA 0 to 10) or model");
}

/* Runs `ebb ARGS...` (NULL-terminated) into *out and *err. */
static int
ebb(char **out, char **err, ...)
{
	char *argv[32] = { "ebb" }, *env[] = { NULL };
	struct cli c;
	size_t ol, el;
	int argc = 1, rc;
	va_list ap;

	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	memset(&c, 0, sizeof(c));
	c.out = open_memstream(out, &ol);
	c.err = open_memstream(err, &el);
	c.envp = env;
	c.now = T0;
	rc = ebb_main(&c, argc, argv);
	cli_done(&c);
	fclose(c.out);
	fclose(c.err);
	return rc;
}

static void
command_line(void **state)
{
	char *out, *err, conf[512], jobs[512], *text;
	json_t *o;

	snprintf(conf, sizeof(conf), "%s/data/sim/ebb.yaml", tu_data_dir());
	snprintf(jobs, sizeof(jobs), "%s/jobs.csv", tu_tmpdir());
	assert_int_equal(ebb(&out, &err, "simulate", "-c", conf, "--json",
	    "--oracle", "--jobs-out", jobs, data("one.csv"), NULL), CLI_OK);
	assert_string_equal(err, "");
	o = json_loads(out, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "jobs")), 1);
	assert_float_equal(json_real_value(json_object_get(o, "emissions_g")),
	    217.464, EPS);
	assert_float_equal(json_real_value(json_object_get(o, "oracle_g")),
	    217.464, EPS);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "deadline_misses")), 0);
	json_decref(o);
	text = tu_slurp(jobs, NULL);
	assert_string_equal(text,
	    "id,site,start,end,energy_kwh,emissions_g,baseline_g\n"
	    "wait,de,2023-01-01T10:00:00Z,2023-01-01T11:00:00Z,1.000000,"
	    "217.464,222.920\n");
	free(text);
	free(out);
	free(err);

	/* Text summary; no oracle line when none was asked for. */
	assert_int_equal(ebb(&out, &err, "simulate", "-c", conf,
	    data("one.csv"), NULL), CLI_OK);
	assert_non_null(strstr(out, "emissions_g: 217.464\nbaseline_g: "
	    "222.920\nsavings_pct: 2.45\ndeadline_misses: 0\n"));
	free(out);
	free(err);

	assert_int_equal(ebb(&out, &err, "simulate", data("one.csv"), NULL),
	    CLI_USAGE);
	assert_string_equal(err, "ebb simulate: give the configuration with "
	    "-c FILE\n");
	free(out);
	free(err);
	assert_int_equal(ebb(&out, &err, "simulate", "-c", conf, "--forecast",
	    "psychic", data("one.csv"), NULL), CLI_USAGE);
	free(out);
	free(err);
	assert_int_equal(ebb(&out, &err, "simulate", "-c", conf,
	    "/nonexistent.csv", NULL), CLI_FAIL);
	assert_string_equal(err, "ebb simulate: /nonexistent.csv: No such "
	    "file or directory\n");
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_job_waits_for_cheaper_hour),
		cmocka_unit_test(window_reaches_deadline_past_horizon),
		cmocka_unit_test(interruptible_job_runs_in_two_pieces),
		cmocka_unit_test(job_moves_to_cleaner_site),
		cmocka_unit_test(capacity_is_shared),
		cmocka_unit_test(loaded_site_keeps_room_for_tight_jobs),
		cmocka_unit_test(no_deadline_runs_at_once),
		cmocka_unit_test(unknown_intensity_claims_no_saving),
		cmocka_unit_test(policies_fill_in_and_refuse),
		cmocka_unit_test(same_input_same_output),
		cmocka_unit_test(forecast_errors_miss_no_deadline),
		cmocka_unit_test(malformed_workloads),
		cmocka_unit_test(forecast_option),
		cmocka_unit_test(command_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
