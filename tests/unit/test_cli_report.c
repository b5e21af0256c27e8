/*
 * test_cli_report: ebb report: the request built from options, its usage
 * errors, and a canned reply printed as a table, as CSV (exact header,
 * quoting, empty unknowns), as JSON, grouped (--by), in CodeCarbon's
 * columns, and as an HTML page with its series requests and escaping, and
 * a report in two pages joined, against the harness's stand-in for ebbd on
 * a real Unix socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "scheduler/cli/report.h"
#include "test_cli_harness.h"
#include "testutil.h"

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

/* RFC 4180 quoting; a user's name is never a spreadsheet formula. */
static void
csv_fields(void **state)
{
	static const char *const cases[][2] = {
		{ "render", "render" }, { "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"" },
		{ "+1", "\"'+1\"" }, { "-2", "\"'-2\"" }, { "@SUM(A1)",
		  "\"'@SUM(A1)\"" }, { "", "" }, { "a-b", "a-b" },
	};
	char *buf;
	size_t len;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = open_memstream(&buf, &len);
		report_csv_field(f, cases[i][0]);
		fclose(f);
		assert_string_equal(buf, cases[i][1]);
		free(buf);
	}
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

/* Rows not settled yet (bob's: no signal) are in no total, as above. */
static void
report_by(void **state)
{
	run_report("{\"args\":{},\"cmd\":\"report\",\"v\":1}",
	    "USER  SIGNAL   JOBS   WH  GCO2E  AT-ONCE-G  SAVING-G  SAVING\n"
	    "ann   average     1  300    102        192        90   46.9%\n",
	    "--by", "user", NULL);
	run_report("{\"args\":{},\"cmd\":\"report\",\"v\":1}",
	    "day,signal,jobs,energy_kwh,emissions_g,saved_jobs,"
	    "counterfactual_g,saving_g,saving_pct\n"
	    "2023-11-14,average,1,0.300000,102.000,1,192.000,90.000,46.88\n",
	    "--by", "day", "--format", "csv", NULL);
}

/* Groups in key order, each with its own per-signal totals. */
static void
report_groups_month(void **state)
{
	json_t *rows = json_loads("[{\"id\":1,\"start\":1704067200,"
	    "\"signal\":\"average\",\"energy_kwh\":1.0,\"emissions_g\":"
	    "100.0},{\"id\":2,\"start\":1701388800,\"signal\":\"average\","
	    "\"energy_kwh\":2.0,\"emissions_g\":50.0},{\"id\":3,\"start\":"
	    "1701400000,\"signal\":\"marginal\",\"energy_kwh\":1.0,"
	    "\"emissions_g\":400.0}]", 0, NULL);
	json_t *g = report_groups(rows, REPORT_BY_MONTH), *t;

	assert_int_equal(json_array_size(g), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(g, 0), "key")), "2023-12");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(g, 1), "key")), "2024-01");
	t = json_object_get(json_array_get(g, 0), "totals");
	assert_int_equal(json_array_size(t), 2);
	assert_true(json_number_value(json_object_get(json_array_get(t, 0),
	    "emissions_g")) == 50.0);
	assert_true(json_number_value(json_object_get(json_array_get(t, 1),
	    "emissions_g")) == 400.0);
	json_decref(g);
	json_decref(rows);
}

/*
 * CodeCarbon's columns: the ended job only, kg, seconds, kg/s, the PUE
 * that makes emissions = known kWh x intensity x PUE (here 1.5).
 */
static void
report_codecarbon(void **state)
{
	run_report("{\"args\":{},\"cmd\":\"report\",\"v\":1}",
	    CODECARBON_HEADER "\n"
	    "2023-11-14T23:33:20Z,render,7,1200,0.102,8.5e-05,,,,,,,0.45,,,a,"
	    ",,,,,,,,,,,,process,,1.500\n",
	    "--format", "codecarbon", NULL);
}

/* The series requests of --html: one per site, one per job (asof). */
#define HTML_POINTS(k) "{\"v\":1,\"ok\":true,\"result\":{\"site\":\"a\"," \
	"\"zone\":\"DE\",\"signal\":\"average\",\"points\":[" \
	"{\"t\":1700000100,\"value\":300.0,\"kind\":\"" k "\"}," \
	"{\"t\":1700003700,\"value\":150.0,\"kind\":\"" k "\"}," \
	"{\"t\":1700004000,\"value\":120.0,\"kind\":\"forecast\"}," \
	"{\"t\":1700004300,\"value\":null,\"kind\":null}]}}"
#define HTML_NONE "{\"v\":1,\"ok\":false,\"code\":\"failed\"," \
	"\"error\":\"site b has no <carbon> providers\"}"

/*
 * Runs `ebb report --html FILE` against a fake daemon that gives replies,
 * FILE being r.html in a new temporary directory made from dir.
 */
static void
html_run(const char *const *replies, char *dir, char *file, size_t filelen,
    struct harness *h, struct fake *f)
{
	assert_non_null(mkdtemp(dir));
	snprintf(file, filelen, "%s/r.html", dir);
	fake_start(f, replies);
	h_init(h, t_env);
	assert_int_equal(h_run(h, "--socket", f->sock, "report", "--html",
	    file, NULL), CLI_OK);
	fake_wait(f);
}

static void
report_html_page(void **state)
{
	static const char *const replies[] = {
		REPLY, HTML_POINTS("actual"), HTML_NONE, HTML_NONE,
		HTML_POINTS("forecast"), NULL,
	};
	char path[] = "/tmp/test_cli_report.XXXXXX", file[64], *page;
	struct harness h;
	struct fake f;
	FILE *in;
	long len;

	html_run(replies, path, file, sizeof(file), &h, &f);
	assert_string_equal(h.err, "");
	assert_string_equal(h.out, "");
	assert_req(&f, 1, "{\"args\":{\"from\":1699999200,\"hours\":2,"
	    "\"target\":\"a\",\"window\":0},\"cmd\":\"forecast\",\"v\":1}");
	assert_req(&f, 2, "{\"args\":{\"from\":1699999200,\"hours\":2,"
	    "\"target\":\"b\",\"window\":0},\"cmd\":\"forecast\",\"v\":1}");
	assert_req(&f, 3, "{\"args\":{\"asof\":1700000000,\"from\":"
	    "1700001000,\"hours\":1,\"target\":\"b\",\"window\":0},"
	    "\"cmd\":\"forecast\",\"v\":1}");
	assert_req(&f, 4, "{\"args\":{\"asof\":1700000000,\"from\":"
	    "1700003600,\"hours\":1,\"target\":\"a\",\"window\":0},"
	    "\"cmd\":\"forecast\",\"v\":1}");
	assert_null(json_array_get(f.reqs, 5));
	assert_non_null(in = fopen(file, "r"));
	fseek(in, 0, SEEK_END);
	len = ftell(in);
	rewind(in);
	page = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(page, 1, (size_t)len, in), (size_t)len);
	fclose(in);
	assert_non_null(strstr(page, "<!DOCTYPE html>"));
	/* The report's own totals, the marginal one too (no row has it). */
	assert_non_null(strstr(page, "<td>marginal</td><td class=\"n\">1</td>"
	    "<td class=\"n\">1000</td><td class=\"n\">300</td>"));
	/* One chart per site; b's reason escaped. */
	assert_non_null(strstr(page, "<svg width=\"960\""));
	assert_non_null(strstr(page, "data-site=\"a\""));
	assert_non_null(strstr(page, "data-site=\"b\""));
	assert_non_null(strstr(page, "No intensity series: site b has no "
	    "&lt;carbon&gt; providers"));
	/* Measured, forecast and the forecast used, each as a line. */
	assert_non_null(strstr(page, "<path class=\"act\" d=\"M"));
	assert_non_null(strstr(page, "<path class=\"fc\" d=\"M"));
	assert_non_null(strstr(page, "<path class=\"used\" d=\"M"));
	/* The jobs, drawn and in the table, names escaped. */
	assert_non_null(strstr(page, "<rect class=\"bar final\""));
	assert_non_null(strstr(page, "<rect class=\"bar provisional\""));
	assert_non_null(strstr(page, "<tr class=\"job final\" id=\"job-7\">"
	    "<td class=\"n\">7</td><td>ann</td><td>render</td><td>a</td>"));
	assert_non_null(strstr(page, "etl, &quot;nightly&quot;"));
	assert_null(strstr(page, "\"nightly\""));
	assert_non_null(strstr(page, "<h2>Totals by month (UTC, of the "
	    "start)</h2>"));
	assert_non_null(strstr(page, "<li>rapl: 1 job</li>"));
	assert_non_null(strstr(page, "<li>provisional: 1 job</li>"));
	assert_non_null(strstr(page, "Times are UTC;"));
	/* Nothing that loads. */
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "http"));
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "href="));
	free(page);
	unlink(file);
	json_decref(f.reqs);
	h_done(&h);

	/* Local time, as the tables: with the offset, and said so. */
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "report", "--html",
	    file, NULL), CLI_OK);
	fake_wait(&f);
	assert_non_null(page = tu_slurp(file, NULL));
	assert_non_null(strstr(page, "Times are local, with their UTC "
	    "offset;"));
	assert_non_null(strstr(page, "+05:30</td>"));
	assert_null(strstr(page, "Z</td>"));
	free(page);
	setenv("TZ", "UTC0", 1);
	tzset();
	unlink(file);
	rmdir(path);
	json_decref(f.reqs);
	h_done(&h);
}

/*
 * A job shorter than a second (start and end in the same second) still
 * has the forecast it was planned on drawn, over the second it keeps.
 */
#define REPLY_SHORT "{\"v\":1,\"ok\":true,\"result\":{\"jobs\":[" \
	"{\"id\":9,\"user\":\"ann\",\"name\":\"quick\",\"site\":\"a\"," \
	"\"submit\":1700000000,\"start\":1700003700,\"end\":1700003700," \
	"\"energy_kwh\":0.001,\"unknown_kwh\":0.0,\"method\":\"rapl\"," \
	"\"intensity_g_per_kwh\":150.0,\"signal\":\"average\"," \
	"\"emissions_g\":0.15,\"embodied_g\":0.0,\"counterfactual_g\":null," \
	"\"saving_g\":null,\"saving_pct\":null,\"status\":\"final\"}]," \
	"\"totals\":[]}}"

static void
report_html_short_job(void **state)
{
	static const char *const replies[] = {
		REPLY_SHORT, HTML_POINTS("actual"), HTML_POINTS("forecast"),
		NULL,
	};
	char path[] = "/tmp/test_cli_report.XXXXXX", file[64], *page;
	struct harness h;
	struct fake f;

	html_run(replies, path, file, sizeof(file), &h, &f);
	assert_req(&f, 2, "{\"args\":{\"asof\":1700000000,\"from\":"
	    "1700003700,\"hours\":1,\"target\":\"a\",\"window\":0},"
	    "\"cmd\":\"forecast\",\"v\":1}");
	assert_non_null(page = tu_slurp(file, NULL));
	assert_non_null(strstr(page, "<path class=\"used\" d=\"M"));
	free(page);
	unlink(file);
	rmdir(path);
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
	    "csv, json or codecarbon\n");
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "--by", "week", NULL), CLI_USAGE);
	assert_string_equal(h.err, "ebb report: --by: 'week' is not user, "
	    "site, day or month\n");
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "--html", "x.html", "--by",
	    "user", NULL), CLI_USAGE);
	assert_non_null(strstr(h.err, "--html writes the whole report"));
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "report", "--by", "user", "--format",
	    "codecarbon", NULL), CLI_USAGE);
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
		cmocka_unit_test(report_by),
		cmocka_unit_test(report_groups_month),
		cmocka_unit_test(report_codecarbon),
		cmocka_unit_test(report_html_page),
		cmocka_unit_test(report_html_short_job),
		cmocka_unit_test(csv_fields),
		cmocka_unit_test(report_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
