/*
 * test_cli_carbon: ebb forecast and ebb sites: the forecast request built
 * from options and its usage errors, the text made of canned replies
 * (compared whole), bucketing of long series, and both commands against
 * the harness's stand-in for ebbd on a real Unix socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "test_cli_harness.h"

/* forecast_build's args as compact sorted JSON, or NULL; sets *rc. */
static char *
built(struct harness *h, int *rc, int *flags, ...)
{
	char *argv[16], *s;
	int argc = 0;
	json_t *args;
	va_list ap;

	argv[argc++] = "forecast";
	va_start(ap, flags);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	h->c.cmd = cli_find("forecast");
	*rc = forecast_build(&h->c, argc, argv, &args, flags);
	fflush(h->c.err);
	if (args == NULL)
		return NULL;
	s = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(args);
	return s;
}

static void
forecast_args(void **state)
{
	struct harness h;
	int rc, flags;
	char *s;

	h_init(&h, t_env);
	s = built(&h, &rc, &flags, NULL);
	assert_int_equal(rc, CLI_OK);
	assert_string_equal(s, "{\"hours\":48,\"window\":7200}");
	assert_int_equal(flags, 0);
	free(s);

	s = built(&h, &rc, &flags, "--hours", "168", "--window", "1h30m",
	    "--json", "DE", NULL);
	assert_int_equal(rc, CLI_OK);
	assert_string_equal(s, "{\"hours\":168,\"target\":\"DE\","
	    "\"window\":5400}");
	assert_int_equal(flags, FORECAST_JSON);
	free(s);

	s = built(&h, &rc, &flags, "-a", "--window", "0", "--hours=1",
	    "local", NULL);
	assert_string_equal(s, "{\"hours\":1,\"target\":\"local\","
	    "\"window\":0}");
	assert_int_equal(flags, FORECAST_ALL);
	free(s);

	s = built(&h, &rc, &flags, "--window=0s", NULL);
	assert_string_equal(s, "{\"hours\":48,\"window\":0}");
	free(s);
	assert_string_equal(h.err, "");
	h_done(&h);
}

static void
forecast_usage(void **state)
{
	static const struct usage_case cases[] = {
		{ { "forecast", "--window", "2x" }, "ebb forecast: --window: bad "
		  "duration '2x': unknown unit 'x' (use s, m, h, d or w)\n" },
		{ { "forecast", "--window", "90" }, "ebb forecast: --window: bad "
		  "duration '90': missing unit (s, m, h, d or w)\n" },
		{ { "forecast", "--window", "" }, "ebb forecast: --window: "
		  "empty duration\n" },
		{ { "forecast", "--hours", "0" }, "ebb forecast: --hours: bad "
		  "number '0' (use 1 to 168)\n" },
		{ { "forecast", "--hours", "169" }, "ebb forecast: --hours: bad "
		  "number '169' (use 1 to 168)\n" },
		{ { "forecast", "--hours", "-5" }, "ebb forecast: --hours: bad "
		  "number '-5' (use 1 to 168)\n" },
		{ { "forecast", "--hours", "2d" }, "ebb forecast: --hours: bad "
		  "number '2d' (use 1 to 168)\n" },
		{ { "forecast", "--hours" }, "ebb forecast: option '--hours' "
		  "needs a value\n" },
		{ { "forecast", "DE", "FR" }, "ebb forecast: give at most one "
		  "site or zone (ebb forecast [SITE|ZONE])\n" },
		{ { "forecast", "-x" }, "ebb forecast: unknown option '-x' (see "
		  "ebb forecast --help)\n" },
		{ { "sites", "local" }, "ebb sites: unexpected argument "
		  "'local'\n" },
		{ { "sites", "--all" }, "ebb sites: unknown option '--all' (see "
		  "ebb sites --help)\n" },
	};
	struct harness h;

	h_usage_cases(cases, sizeof(cases) / sizeof(cases[0]));
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "forecast", "--help", NULL), CLI_OK);
	assert_memory_equal(h.out, "usage: ebb forecast [options] [SITE|ZONE]",
	    41);
	h_done(&h);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "help", "sites", NULL), CLI_OK);
	assert_memory_equal(h.out, "usage: ebb sites [--refresh] [--json]", 37);
	h_done(&h);
}

/* 1700002800 = 2023-11-14T23:00:00Z; half-hour slots. */
static const char forecast_reply[] = "{\"site\": \"local\", \"zone\": "
    "\"DE\", \"signal\": \"average\", \"slot\": 1800, \"from\": 1700002800, "
    "\"to\": 1700013600, \"points\": ["
    "{\"t\": 1700002800, \"value\": 312.0, \"kind\": \"actual\", "
    "\"source\": \"electricitymaps\", \"vintage\": 1700003000, \"filled\": "
    "false, \"replay\": false},"
    "{\"t\": 1700004600, \"value\": 300.4, \"kind\": \"forecast\", "
    "\"source\": \"electricitymaps\", \"vintage\": 1700001000, \"filled\": "
    "false, \"replay\": false},"
    "{\"t\": 1700006400, \"value\": 250.3, \"kind\": \"forecast\", "
    "\"source\": \"electricitymaps\", \"vintage\": 1700001000, \"filled\": "
    "true, \"replay\": false},"
    "{\"t\": 1700008200, \"value\": 120.1, \"kind\": \"actual\", "
    "\"source\": \"trace\", \"vintage\": 0, \"filled\": false, \"replay\": "
    "true},"
    "{\"t\": 1700010000, \"value\": 100, \"kind\": \"actual\", \"source\": "
    "\"trace\", \"vintage\": null, \"filled\": true, \"replay\": true},"
    "{\"t\": 1700011800, \"value\": 180.0, \"kind\": \"ebb\", \"source\": "
    "\"ebb\", \"vintage\": 1700002000, \"filled\": false, \"replay\": false}"
    "], \"window\": {\"start\": 1700008200, \"end\": 1700015400, \"mean\": "
    "123.4}}";

static const char forecast_head[] =
    "site:    local\n"
    "zone:    DE\n"
    "signal:  average\n"
    "slot:    30m\n"
    "period:  2023-11-14T23:00:00Z .. 2023-11-15T02:00:00Z\n"
    "sources: electricitymaps, trace (replay of a past year mapped onto the "
    "present), ebb\n"
    "trend:   ██▆▂▁▄\n"
    "         low 100.0, high 312.0 gCO2e/kWh, 1 char = 30m\n"
    "\n";

static const char forecast_hourly[] =
    "hourly means (--all shows every 30m slot):\n"
    "TIME                  gCO2e/kWh  KIND             SOURCE               "
    "  VINTAGE               FLAGS\n"
    "2023-11-14T23:00:00Z      306.2  actual+forecast  electricitymaps      "
    "  2023-11-14T23:03:20Z  -\n"
    "2023-11-15T00:00:00Z      185.2  forecast+actual  electricitymaps+trace"
    "  2023-11-14T22:30:00Z  filled,replay\n"
    "2023-11-15T01:00:00Z      140.0  actual+ebb       trace+ebb            "
    "  2023-11-14T22:46:40Z  filled,replay\n"
    "\n"
    "cleanest 2h window: 2023-11-15T00:30:00Z .. 02:30:00Z, mean 123.4 "
    "gCO2e/kWh\n";

static const char forecast_all[] =
    "TIME                  gCO2e/kWh  KIND      SOURCE           VINTAGE    "
    "           FLAGS\n"
    "2023-11-14T23:00:00Z      312.0  actual    electricitymaps  "
    "2023-11-14T23:03:20Z  -\n"
    "2023-11-14T23:30:00Z      300.4  forecast  electricitymaps  "
    "2023-11-14T22:30:00Z  -\n"
    "2023-11-15T00:00:00Z      250.3  forecast  electricitymaps  "
    "2023-11-14T22:30:00Z  filled\n"
    "2023-11-15T00:30:00Z      120.1  actual    trace            -         "
    "            replay\n"
    "2023-11-15T01:00:00Z      100.0  actual    trace            -         "
    "            filled,replay\n"
    "2023-11-15T01:30:00Z      180.0  ebb       ebb              "
    "2023-11-14T22:46:40Z  -\n"
    "\n"
    "cleanest 2h window: 2023-11-15T00:30:00Z .. 02:30:00Z, mean 123.4 "
    "gCO2e/kWh\n";

static char *
forecast_text(const char *reply, int64_t window, int all)
{
	json_t *v = json_loads(reply, 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(v);
	forecast_print(f, v, window, all);
	fclose(f);
	json_decref(v);
	return buf;
}

static void
forecast_format(void **state)
{
	char *s, *want;

	s = forecast_text(forecast_reply, 7200, 0);
	want = xasprintf("%s%s", forecast_head, forecast_hourly);
	assert_string_equal(s, want);
	free(want);
	free(s);

	s = forecast_text(forecast_reply, 7200, 1);
	want = xasprintf("%s%s", forecast_head, forecast_all);
	assert_string_equal(s, want);
	free(want);
	free(s);
}

static void
forecast_no_window(void **state)
{
	static const char head[] = "{\"site\": null, \"zone\": \"FR\", "
	    "\"signal\": \"marginal\", \"slot\": 3600, \"from\": 1700002800, "
	    "\"to\": 1700006400, \"points\": [{\"t\": 1700002800, \"value\": "
	    "50.0, \"kind\": \"forecast\", \"source\": \"watttime\", "
	    "\"vintage\": 1700000000, \"filled\": false, \"replay\": false}], "
	    "\"window\": ";
	char *reply, *s;

	reply = xasprintf("%snull}", head);
	s = forecast_text(reply, 7200, 0);
	/* A zone, one source, a flat series, one row: no hourly note. */
	assert_memory_equal(s, "site:    -\nzone:    FR\nsignal:  marginal\n"
	    "slot:    1h\n", 51);
	assert_non_null(strstr(s, "\nsource:  watttime\ntrend:   ▁\n"));
	assert_null(strstr(s, "replay"));
	assert_null(strstr(s, "hourly"));
	assert_non_null(strstr(s, "\n2023-11-14T23:00:00Z       50.0  forecast"
	    "  watttime  2023-11-14T22:13:20Z  -\n\ncleanest 2h window: "
	    "none\n"));
	free(s);
	/* No window asked for: no line. */
	s = forecast_text(reply, 0, 0);
	assert_null(strstr(s, "window"));
	free(s);
	free(reply);

	/* A window across midnight shows its end in full. */
	reply = xasprintf("%s{\"start\": 1700000000, \"end\": 1700086400, "
	    "\"mean\": 42.0}}", head);
	s = forecast_text(reply, 86400, 0);
	assert_non_null(strstr(s, "\ncleanest 1d window: 2023-11-14T22:13:20Z "
	    ".. 2023-11-15T22:13:20Z, mean 42.0 gCO2e/kWh\n"));
	free(s);
	free(reply);

	/* A window on ebb's own forecast says so. */
	reply = xasprintf("%s{\"start\": 1700000000, \"end\": 1700007200, "
	    "\"mean\": 42.0, \"own_forecast\": true}}", head);
	s = forecast_text(reply, 7200, 0);
	assert_non_null(strstr(s, "\ncleanest 2h window: 2023-11-14T22:13:20Z "
	    ".. 2023-11-15T00:13:20Z, mean 42.0 gCO2e/kWh (on ebb's own "
	    "forecast)\n"));
	free(s);
	free(reply);

	s = forecast_text("{\"zone\": \"DE\", \"slot\": 300, \"from\": 0, "
	    "\"to\": 0, \"points\": [], \"window\": null}", 7200, 0);
	assert_string_equal(s, "site:    -\nzone:    DE\nsignal:  -\n"
	    "slot:    5m\nperiod:  - .. -\nsources: -\n\nno values\n\n"
	    "cleanest 2h window: none\n");
	free(s);
}

/* Gaps (points without a value, as ebbd sends them) stay visible. */
static void
forecast_gaps(void **state)
{
	static const char gap[] = "{\"t\": %d, \"value\": null, \"kind\": "
	    "null, \"source\": null, \"vintage\": null, \"filled\": false, "
	    "\"replay\": false}";
	char *g1 = xasprintf(gap, 1700004600), *g2 = xasprintf(gap, 1700006400);
	char *g3 = xasprintf(gap, 1700008200), *reply, *s;

	reply = xasprintf("{\"site\": \"local\", \"zone\": \"DE\", "
	    "\"signal\": \"average\", \"slot\": 1800, \"from\": 1700002800, "
	    "\"to\": 1700011800, \"points\": [{\"t\": 1700002800, \"value\": "
	    "200.0, \"kind\": \"actual\", \"source\": \"em\", \"vintage\": "
	    "1700003000, \"filled\": false, \"replay\": false}, %s, %s, %s, "
	    "{\"t\": 1700010000, \"value\": 100.0, \"kind\": \"forecast\", "
	    "\"source\": \"em\", \"vintage\": 1700001000, \"filled\": false, "
	    "\"replay\": false}], \"window\": null}", g1, g2, g3);
	s = forecast_text(reply, 7200, 0);
	assert_string_equal(s,
	    "site:    local\n"
	    "zone:    DE\n"
	    "signal:  average\n"
	    "slot:    30m\n"
	    "period:  2023-11-14T23:00:00Z .. 2023-11-15T01:30:00Z\n"
	    "source:  em\n"
	    "trend:   █   ▁\n"
	    "         low 100.0, high 200.0 gCO2e/kWh, 1 char = 30m\n"
	    "\n"
	    "hourly means (--all shows every 30m slot):\n"
	    "TIME                  gCO2e/kWh  KIND      SOURCE  VINTAGE        "
	    "       FLAGS\n"
	    "2023-11-14T23:00:00Z      200.0  actual    em      "
	    "2023-11-14T23:03:20Z  gap\n"
	    "2023-11-15T00:00:00Z          -  -         -       -              "
	    "       gap\n"
	    "2023-11-15T01:00:00Z      100.0  forecast  em      "
	    "2023-11-14T22:30:00Z  -\n"
	    "\n"
	    "cleanest 2h window: none\n");
	free(s);
	s = forecast_text(reply, 7200, 1);
	assert_non_null(strstr(s, "\n2023-11-14T23:00:00Z      200.0  actual "
	    "   em      2023-11-14T23:03:20Z  -\n2023-11-14T23:30:00Z          "
	    "-  -         -       -                     gap\n"));
	free(s);
	free(reply);
	free(g1);
	free(g2);
	free(g3);
}

/*
 * n points every 5 minutes from 2023-11-15T00:00:00Z: vals[i % nvals], or
 * 100 + i without vals.
 */
static char *
long_reply(size_t n, const double *vals, size_t nvals)
{
	json_t *pts = json_array(), *r;
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(pts, json_pack("{s:I, s:f, s:s, s:s, "
		    "s:I, s:b, s:b}", "t", (json_int_t)(1700006400 + 300 * i),
		    "value", vals ? vals[i % nvals] : 100.0 + (double)i,
		    "kind", "forecast", "source", "ukci", "vintage",
		    (json_int_t)1700000000, "filled", 0, "replay", 0));
	r = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:n}", "zone", "GB",
	    "signal", "average", "slot", (json_int_t)300, "from",
	    (json_int_t)1700006400, "to", (json_int_t)(1700006400 + 300 * n),
	    "points", pts, "window");
	s = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return s;
}

/* The number of lines of s that start with prefix. */
static size_t
lines_starting(const char *s, const char *prefix)
{
	size_t n = 0;

	for (const char *p = s; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static void
forecast_long(void **state)
{
	static const double pairs[] = { 0, 180, 100, 60, 85, 85 };
	char *reply = long_reply(576, NULL, 0), *s, *line, *end;

	/* 48 h of 5 min slots: 96 characters of 30 min, 48 hourly rows. */
	s = forecast_text(reply, 7200, 0);
	assert_non_null(line = strstr(s, "trend:   ▁"));
	end = strchr(line, '\n');
	assert_int_equal(end - line, 9 + 96 * 3);
	assert_memory_equal(end - 3, "█", 3);
	assert_non_null(strstr(s, "1 char = 30m\n"));
	assert_non_null(strstr(s, "\nhourly means (--all shows every 5m "
	    "slot):\n"));
	assert_int_equal(lines_starting(s, "2023-11-"), 48);
	/* Hour 0 is the mean of 100..111, the last of 664..675. */
	assert_non_null(strstr(s, "\n2023-11-15T00:00:00Z      105.5  "));
	assert_non_null(strstr(s, "\n2023-11-16T23:00:00Z      669.5  "));
	free(s);
	s = forecast_text(reply, 7200, 1);
	assert_int_equal(lines_starting(s, "2023-11-"), 576);
	assert_null(strstr(s, "hourly"));
	free(s);
	free(reply);

	/* 97 points: buckets of 2, so 49 characters of 10 minutes. */
	reply = long_reply(97, NULL, 0);
	s = forecast_text(reply, 7200, 0);
	line = strstr(s, "trend:   ");
	assert_int_equal(strchr(line, '\n') - line, 9 + 49 * 3);
	assert_non_null(strstr(s, "1 char = 10m\n"));
	free(s);
	free(reply);

	/*
	 * 192 points, 2 a character: the means 90, 80, 85 of these pairs
	 * make "█▁▅" where their first points or maxima would not.
	 */
	reply = long_reply(192, pairs, 6);
	s = forecast_text(reply, 7200, 0);
	line = strstr(s, "trend:   ");
	for (int i = 0; i < 32; i++)
		assert_memory_equal(line + 9 + 9 * i, "█▁▅", 9);
	assert_memory_equal(line + 9 + 9 * 32, "\n         low 0.0, high "
	    "180.0 gCO2e/kWh, 1 char = 10m\n", 54);
	free(s);
	free(reply);
}

/* T_NOW = 1700000000 = 2023-11-14T22:13:20Z */
static const char sites_reply[] = "[{\"name\": \"local\", \"zone\": \"DE\", "
    "\"backend\": \"local\", \"cpus\": 16, \"pue\": 1.0, \"signal\": "
    "\"average\", \"current\": {\"t\": 1699999700, \"value\": 312.0, "
    "\"kind\": \"actual\", \"source\": \"electricitymaps\", \"vintage\": "
    "1699999800, \"filled\": false, \"replay\": false}, \"providers\": "
    "[{\"name\": \"electricitymaps\", \"status\": \"ok\", \"since\": "
    "1699990000, \"reason\": null, \"last_ok\": 1699999800, \"failures\": 0, "
    "\"rejected\": 0}]},"
    "{\"name\": \"gb-hpc\", \"zone\": \"GB\", \"backend\": \"slurm\", "
    "\"cpus\": 256, \"pue\": 1.2, \"signal\": \"average\", \"current\": "
    "{\"t\": 1699996400, \"value\": 95.3, \"kind\": \"actual\", \"source\": "
    "\"trace\", \"vintage\": 0, \"filled\": false, \"replay\": true}, "
    "\"providers\": [{\"name\": \"ukci\", \"status\": \"stale\", \"since\": "
    "1699999200, \"reason\": null, \"last_ok\": 1699999200, \"failures\": 0, "
    "\"rejected\": 0}, {\"name\": \"trace\", \"status\": \"failing\", "
    "\"since\": 1699999000, \"reason\": \"trace.csv: no column 'x'\", "
    "\"last_ok\": 0, \"failures\": 3, \"rejected\": 0}, {\"name\": "
    "\"watttime\", \"status\": \"never\", \"since\": 0, \"reason\": null, "
    "\"last_ok\": 0, \"failures\": 0, \"rejected\": 0}]},"
    "{\"name\": \"fr\", \"zone\": \"FR\", \"backend\": \"local\", \"cpus\": "
    "4, \"signal\": \"marginal\", \"current\": {\"t\": 1700000300, "
    "\"value\": 40.0, \"kind\": \"ebb\", \"source\": \"ebb\", \"vintage\": "
    "0, \"filled\": false, \"replay\": false}, \"providers\": [{\"name\": "
    "\"ukci\", \"status\": \"ok\"}, {\"name\": \"x\", \"status\": "
    "\"failing\", \"reason\": null, \"retry_at\": 1700003600}]},"
    "{\"name\": \"new\", \"zone\": \"PL\", \"backend\": \"local\", \"cpus\": "
    "1, \"signal\": \"average\", \"current\": null, \"providers\": []}]";

static const char sites_text[] =
    "SITE    ZONE  BACKEND  CPUS  NOW                              SIGNAL  "
    "  PROVIDERS\n"
    "local   DE    local      16  312.0 g (actual, 5m ago)         average "
    "  electricitymaps ok\n"
    "gb-hpc  GB    slurm     256  95.3 g (actual, replay, 1h ago)  average "
    "  ukci stale since 2023-11-14T22:00:00Z\n"
    "                                                                      "
    "  trace failing: trace.csv: no column 'x'\n"
    "                                                                      "
    "  watttime never\n"
    "fr      FR    local       4  40.0 g (ebb, in 5m)              marginal"
    "  ukci ok\n"
    "                                                                      "
    "  x failing, waiting until 2023-11-14T23:13:20Z\n"
    "new     PL    local       1  -                                average "
    "  -\n";

static void
sites_format(void **state)
{
	json_t *v = json_loads(sites_reply, 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(v);
	sites_print(f, v, T_NOW);
	fclose(f);
	assert_string_equal(buf, sites_text);
	free(buf);
	json_decref(v);
}

static void
against_daemon(void **state)
{
	const char *replies[] = { NULL, NULL };
	struct harness h;
	struct fake f;
	json_t *got, *want;
	char *reply;

	reply = xasprintf("{\"v\": 1, \"ok\": true, \"result\": %s}",
	    forecast_reply);
	replies[0] = reply;
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "forecast", "--all",
	    "--window", "90m", "--hours", "24", "local", NULL), CLI_OK);
	assert_memory_equal(h.out, forecast_head, strlen(forecast_head));
	assert_non_null(strstr(h.out, forecast_all));
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"hours\":24,\"target\":"
	    "\"local\",\"window\":5400},\"cmd\":\"forecast\",\"v\":1}");
	json_decref(f.reqs);

	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "forecast", "--json",
	    NULL), CLI_OK);
	got = json_loads(h.out, 0, NULL);
	want = json_loads(forecast_reply, 0, NULL);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	h_done(&h);
	fake_wait(&f);
	json_decref(f.reqs);
	free(reply);

	reply = xasprintf("{\"v\": 1, \"ok\": true, \"result\": {\"sites\": "
	    "%s}}", sites_reply);
	replies[0] = reply;
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "sites", NULL), CLI_OK);
	assert_string_equal(h.out, sites_text);
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{},\"cmd\":\"sites\",\"v\":1}");
	json_decref(f.reqs);
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "sites", "--refresh",
	    NULL), CLI_OK);
	h_done(&h);
	fake_wait(&f);
	assert_req(&f, 0, "{\"args\":{\"refresh\":true},\"cmd\":"
	    "\"sites\",\"v\":1}");
	json_decref(f.reqs);
	free(reply);

	replies[0] = "{\"v\": 1, \"ok\": false, \"error\": \"unknown site "
	    "or zone 'XX'\", \"code\": \"notfound\"}";
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "forecast", "XX", NULL),
	    CLI_FAIL);
	assert_string_equal(h.err, "ebb forecast: unknown site or zone 'XX'\n");
	assert_string_equal(h.out, "");
	h_done(&h);
	fake_wait(&f);
	json_decref(f.reqs);

	replies[0] = "{\"v\": 1, \"ok\": true, \"result\": {}}";
	fake_start(&f, replies);
	h_init(&h, t_env);
	assert_int_equal(h_run(&h, "--socket", f.sock, "sites", NULL),
	    CLI_FAIL);
	assert_string_equal(h.err, "ebb sites: malformed reply from ebbd: no "
	    "sites\n");
	h_done(&h);
	fake_wait(&f);
	json_decref(f.reqs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forecast_args),
		cmocka_unit_test(forecast_usage),
		cmocka_unit_test(forecast_format),
		cmocka_unit_test(forecast_no_window),
		cmocka_unit_test(forecast_gaps),
		cmocka_unit_test(forecast_long),
		cmocka_unit_test(sites_format),
		cmocka_unit_test(against_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
