/*
 * test_cli_report: ebb report: the request built from options, its usage
 * errors, and a canned reply printed as a table, as CSV (exact header,
 * quoting, empty unknowns) and as JSON, and a report in two pages joined,
 * against the harness's stand-in for ebbd on a real Unix socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_cli_harness.h"

/* Job 7 final and complete; job 8 running, unsettled, odd name. */
#define REPLY "{\"v\":1,\"ok\":true,\"result\":{\"jobs\":[" \
	"{\"id\":7,\"user\":\"ann\",\"name\":\"render\",\"site\":\"a\"," \
	"\"submit\":1700000000,\"start\":1700003600,\"end\":1700004800," \
	"\"energy_kwh\":0.3,\"unknown_kwh\":0.0,\"method\":\"rapl\"," \
	"\"intensity_g_per_kwh\":226.66666666666666,\"signal\":\"average\"," \
	"\"emissions_g\":102.0,\"embodied_g\":0.0,\"counterfactual_g\":192.0," \
	"\"saving_g\":90.0,\"saving_pct\":46.875,\"status\":\"final\",\"embodied_g\":12.5}," \
	"{\"id\":8,\"user\":\"bob\",\"name\":\"etl, \\\"nightly\\\"\"," \
	"\"site\":\"b\",\"submit\":1700000000,\"start\":1700001000," \
	"\"end\":0,\"energy_kwh\":0.05,\"unknown_kwh\":0.0," \
	"\"method\":\"model\",\"intensity_g_per_kwh\":null,\"signal\":null," \
	"\"emissions_g\":null,\"embodied_g\":0.0,\"counterfactual_g\":null," \
	"\"saving_g\":null,\"saving_pct\":null,\"status\":\"provisional\"}]," \
	"\"totals\":[{\"signal\":\"average\",\"jobs\":1,\"energy_kwh\":0.3," \
	"\"emissions_g\":102.0,\"saved_jobs\":1,\"counterfactual_g\":192.0," \
	"\"saving_g\":90.0,\"saving_pct\":46.875}," \
	"{\"signal\":\"marginal\",\"jobs\":1,\"energy_kwh\":1.0," \
	"\"emissions_g\":300.0,\"saved_jobs\":0,\"counterfactual_g\":0.0," \
	"\"saving_g\":0.0,\"saving_pct\":null}]}}"

static void
run_report(const char *want_req, const char *want_out, ...)
{
	static const char *const replies[] = { REPLY, NULL };
	char *argv[32];
	struct harness h;
	struct fake f;
	int argc = 0;
	va_list ap;

	fake_start(&f, replies);
	h_init(&h, t_env);
	argv[argc++] = "ebb";
	argv[argc++] = "--socket";
	argv[argc++] = f.sock;
	argv[argc++] = "report";
	va_start(ap, want_out);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_int_equal(ebb_main(&h.c, argc, argv), CLI_OK);
	fflush(h.c.out);
	fflush(h.c.err);
	fake_wait(&f);
	assert_req(&f, 0, want_req);
	if (want_out != NULL)
		assert_string_equal(h.out, want_out);
	assert_string_equal(h.err, "");
	json_decref(f.reqs);
	h_done(&h);
}

static void
report_csv(void **state)
{
	run_report("{\"args\":{},\"cmd\":\"report\",\"v\":1}",
	    "id,user,name,site,submit,start,end,energy_kwh,method,"
	    "intensity_g_per_kwh,signal,emissions_g,counterfactual_g,saving_g,"
	    "saving_pct,status,embodied_g\n"
	    "7,ann,render,a,2023-11-14T22:13:20Z,2023-11-14T23:13:20Z,"
	    "2023-11-14T23:33:20Z,0.300000,rapl,226.667,average,102.000,"
	    "192.000,90.000,46.88,final,12.500\n"
	    "8,bob,\"etl, \"\"nightly\"\"\",b,2023-11-14T22:13:20Z,"
	    "2023-11-14T22:30:00Z,,0.050000,model,,,,,,,provisional,0.000\n",
	    "--format", "csv", NULL);
}

static void
report_table(void **state)
{
	run_report("{\"args\":{\"ids\":[7,8],\"since\":1699996400,"
	    "\"site\":\"a\",\"until\":1700000000,\"user\":\"ann\"},"
	    "\"cmd\":\"report\",\"v\":1}",
	    "ID  USER  NAME            SITE  END                    WH  "
	    "METHOD  G/KWH  SIGNAL   GCO2E  AT-ONCE-G  SAVING-G  SAVING  "
	    "STATUS\n"
	    " 7  ann   render          a     2023-11-14T23:33:20Z  300  "
	    "rapl      227  average    102        192        90   46.9%  "
	    "final\n"
	    " 8  bob   etl, \"nightly\"  b     -                      50  "
	    "model       -  -            -          -         -       -  "
	    "provisional\n"
	    "total average: 1 jobs, 300 Wh, 102 gCO2e; 1 with a known "
	    "counterfactual: 192 g, saving 90 g (46.9%)\n"
	    "total marginal: 1 jobs, 1000 Wh, 300 gCO2e; 0 with a known "
	    "counterfactual: 0 g, saving 0 g (-)\n",
	    "--since", "now+0s", "--until", "2023-11-14T22:13:20Z",
	    "--user", "ann", "--site", "a", "--since", "2023-11-14T21:13:20Z",
	    "7", "8", NULL);
}

static void
report_json(void **state)
{
	json_t *root = json_loads(REPLY, 0, NULL), *got;
	static const char *const replies[] = { REPLY, NULL };
	struct harness h;
	struct fake f;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "report", "--format",
	    "json", NULL), CLI_OK);
	fake_wait(&f);
	assert_non_null(got = json_loads(h.out, 0, NULL));
	assert_true(json_equal(got, json_object_get(root, "result")));
	json_decref(got);
	json_decref(root);
	json_decref(f.reqs);
	h_done(&h);
}

/*
 * A report in two pages: the second asked for after the first's last id,
 * the rows joined and the totals taken over both, not the last page's.
 */
static void
report_pages(void **state)
{
	static const char *const replies[] = {
		"{\"v\":1,\"ok\":true,\"result\":{\"more\":true,"
		"\"totals\":[],\"jobs\":[{\"id\":7,\"signal\":\"average\","
		"\"energy_kwh\":0.5,\"emissions_g\":100.0,"
		"\"counterfactual_g\":200.0,\"saving_g\":100.0}]}}",
		"{\"v\":1,\"ok\":true,\"result\":{\"more\":false,"
		"\"totals\":[],\"jobs\":[{\"id\":9,\"signal\":\"average\","
		"\"energy_kwh\":0.25,\"emissions_g\":50.0,"
		"\"counterfactual_g\":null,\"saving_g\":null}]}}",
		NULL,
	};
	struct harness h;
	struct fake f;
	json_t *got, *want;

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "report", "--format",
	    "json", NULL), CLI_OK);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{},\"cmd\":\"report\",\"v\":1}");
	assert_req(&f, 1, "{\"args\":{\"after\":7},\"cmd\":\"report\","
	    "\"v\":1}");
	assert_non_null(got = json_loads(h.out, 0, NULL));
	assert_int_equal(json_array_size(json_object_get(got, "jobs")), 2);
	want = json_loads("[{\"signal\":\"average\",\"jobs\":2,"
	    "\"energy_kwh\":0.75,\"emissions_g\":150.0,\"saved_jobs\":1,"
	    "\"counterfactual_g\":200.0,\"saving_g\":100.0,"
	    "\"saving_pct\":50.0}]", 0, NULL);
	assert_true(json_equal(json_object_get(got, "totals"), want));
	json_decref(want);
	json_decref(got);
	json_decref(f.reqs);
	h_done(&h);
}

static void
report_usage(void **state)
{
	struct harness h;

	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "--format", "xml", NULL),
	    CLI_USAGE);
	assert_string_equal(h.err, "ebb report: --format: 'xml' is not table, "
	    "csv or json\n");
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "--since", "yesterday", NULL),
	    CLI_USAGE);
	assert_non_null(strstr(h.err, "ebb report: --since: "));
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "x7", NULL), CLI_USAGE);
	h_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_csv),
		cmocka_unit_test(report_table),
		cmocka_unit_test(report_json),
		cmocka_unit_test(report_pages),
		cmocka_unit_test(report_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
