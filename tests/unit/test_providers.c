/*
 * test_providers: the HTTP providers' requests and response parsers, on
 * the recorded responses in tests/data/provider-samples/, on the ENTSO-E
 * recording in ../shared (not copied: its repository is AGPL) and on small
 * inline fixtures that follow each API's documented schema.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/xmalloc.h"
#include "config/config.h"
#include "scheduler/carbon/provider.h"
#include "testutil.h"

#define NOW	1678795260	/* 2023-03-14T12:01:00Z */
#define LB	0.45359237

struct fx {
	struct provider_conf	conf;
	struct pstate		st;
	struct ci_batch		b;
	struct preq		req;
	char			err[512];
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	provider_conf_defaults(&f->conf);
	f->st.conf = &f->conf;
	ci_batch_init(&f->b, "Z", CI_AVERAGE, "test");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ci_batch_free(&f->b);
	preq_clear(&f->req);
	free(f->st.secret);
	free(f->st.session);
	free(f->st.priv);
	free(f);
	return 0;
}

static char *
sample(const char *rel, size_t *len)
{
	const char *dir = getenv("EBB_TEST_DATA");
	char path[1024];
	char *buf;

	snprintf(path, sizeof(path), "%s/data/provider-samples/%s",
	    dir != NULL ? dir : "tests", rel);
	buf = tu_slurp(path, len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	return buf;
}

/* response() on a sample file. */
static int
parse_file(struct fx *f, const struct provider_ops *ops, int step,
    const char *rel)
{
	size_t len;
	char *body = sample(rel, &len);
	int rc;

	rc = ops->response(&f->st, step, NOW, body, len, &f->b, f->err,
	    sizeof(f->err));
	free(body);
	return rc;
}

static int
parse_str(struct fx *f, const struct provider_ops *ops, int step,
    const char *body)
{
	return ops->response(&f->st, step, NOW, body, strlen(body), &f->b,
	    f->err, sizeof(f->err));
}

static int
request(struct fx *f, const struct provider_ops *ops, int step)
{
	preq_clear(&f->req);
	return ops->request(&f->st, step, NOW, &f->req, f->err,
	    sizeof(f->err));
}

static void
assert_point(const struct ci_point *p, int64_t t, double v, int kind,
    int64_t vintage)
{
	assert_int_equal(p->t, t);
	assert_float_equal(p->value, v, 1e-9);
	assert_int_equal(p->kind, kind);
	assert_int_equal(p->vintage, vintage);
	assert_int_equal(p->flags, 0);
}

/* lookup, defaults, preq_clear */

static void
test_lookup(void **state)
{
	static const struct {
		const char *name;
		int signal;
		int64_t refresh;
		int secret;
	} want[] = {
		{ "electricitymaps", CI_AVERAGE, 900, 1 },
		{ "watttime", CI_MARGINAL, 300, 1 },
		{ "ukci", CI_AVERAGE, 1800, 0 },
		{ "entsoe", CI_AVERAGE, 3600, 1 },
	};
	const struct provider_ops *ops;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ops = provider_lookup(want[i].name);
		assert_non_null(ops);
		assert_string_equal(ops->name, want[i].name);
		assert_int_equal(ops->signal, want[i].signal);
		assert_int_equal(ops->min_refresh, want[i].refresh);
		assert_int_equal(ops->needs_secret, want[i].secret);
		assert_non_null(ops->base_url);
		assert_non_null(ops->request);
		assert_non_null(ops->response);
	}
	assert_ptr_equal(provider_lookup("trace"), &prov_trace_ops);
	assert_ptr_equal(provider_lookup("watttime"), &prov_watttime_ops);
	assert_null(provider_lookup("wattime"));
	assert_null(provider_lookup(""));
}

static void
test_defaults(void **state)
{
	struct provider_conf c;

	memset(&c, 0xff, sizeof(c));
	provider_conf_defaults(&c);
	assert_null(c.base_url);
	assert_null(c.zone);
	assert_null(c.token_file);
	assert_null(c.file);
	assert_float_equal(c.scale, 1, 0);
	assert_int_equal(c.timeout, 20);
	assert_int_equal(c.history, 86400);
	assert_int_equal(c.min_refresh, 0);
	assert_int_equal(c.region, 0);
	assert_int_equal(c.replay, 0);
	assert_int_equal(c.signal, CI_AVERAGE);
	assert_float_equal(c.factors[0], 18, 0);	/* B01 biomass */
	assert_float_equal(c.factors[1], 1001, 0);	/* B02 lignite */
	assert_float_equal(c.factors[3], 469, 0);	/* B04 gas */
	assert_float_equal(c.factors[4], 1001, 0);	/* B05 hard coal */
	assert_float_equal(c.factors[5], 840, 0);	/* B06 oil */
	assert_float_equal(c.factors[8], 45, 0);	/* B09 geothermal */
	assert_true(c.factors[9] < 0);			/* B10 pumped */
	assert_float_equal(c.factors[10], 4, 0);	/* B11 hydro */
	assert_float_equal(c.factors[11], 4, 0);	/* B12 hydro */
	assert_float_equal(c.factors[13], 16, 0);	/* B14 nuclear */
	assert_float_equal(c.factors[14], 22, 0);	/* B15 other ren. */
	assert_float_equal(c.factors[15], 46, 0);	/* B16 solar */
	assert_float_equal(c.factors[16], 770, 0);	/* B17 waste */
	assert_float_equal(c.factors[17], 12, 0);	/* B18 wind off */
	assert_float_equal(c.factors[18], 12, 0);	/* B19 wind on */
	assert_float_equal(c.factors[19], 770, 0);	/* B20 other */
}

static void
test_preq_clear(void **state)
{
	struct preq r = { 0 };

	r.url = xstrdup("https://x/");
	r.headers[0] = xstrdup("a: b");
	r.headers[1] = xstrdup("c: d");
	r.userpwd = xstrdup("u:p");
	preq_clear(&r);
	assert_null(r.url);
	assert_null(r.headers[0]);
	assert_null(r.headers[1]);
	assert_null(r.userpwd);
	preq_clear(&r);
}

/* Electricity Maps */

static void
test_em_request(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_electricitymaps_ops;

	f->st.zone = "DE";
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "no token: set token_file or token_env");
	f->st.secret = xstrdup("s3cr3t");
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "https://api.electricitymaps.com/v3/"
	    "carbon-intensity/history?zone=DE");
	assert_string_equal(f->req.headers[0], "auth-token: s3cr3t");
	assert_null(f->req.headers[1]);
	assert_null(f->req.userpwd);
	assert_int_equal(request(f, ops, 1), 1);
	assert_string_equal(f->req.url, "https://api.electricitymaps.com/v3/"
	    "carbon-intensity/forecast?zone=DE");
	assert_string_equal(f->req.headers[0], "auth-token: s3cr3t");
	assert_int_equal(request(f, ops, 2), 0);

	f->conf.base_url = "http://127.0.0.1:8080/em/";
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "http://127.0.0.1:8080/em/"
	    "carbon-intensity/history?zone=DE");
	f->conf.base_url = NULL;

	f->st.zone = "DE&x=1";
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "zone 'DE&x=1' has characters not "
	    "allowed in a URL");
	f->st.zone = "DE";
	free(f->st.secret);
	f->st.secret = xstrdup("s3cr3t\r\nX-Evil: 1");
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "token has control characters");
}

static void
test_em_latest(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_electricitymaps_ops;

	assert_int_equal(parse_file(f, ops, 0, "electricitymaps/"
	    "aioelectricitymaps_latest_carbon_intensity.json"), 0);
	assert_int_equal(f->b.n, 1);
	/* 2024-03-06T19:00Z, updatedAt 2024-03-06T18:48:27.926Z */
	assert_point(&f->b.pts[0], 1709751600, 216, CI_ACTUAL, 1709750907);
	assert_int_equal(parse_file(f, ops, 0, "electricitymaps/"
	    "greenelephpant_response_carbon_intensity_latest.json"), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[1], 1709334000, 428, CI_ACTUAL, 1709333329);
}

static void
test_em_forecast(void **state)
{
	struct fx *f = *state;

	assert_int_equal(parse_file(f, &prov_electricitymaps_ops, 1,
	    "electricitymaps/greenelephpant_carbon_intensity_forecast_DE.json"),
	    0);
	assert_int_equal(f->b.n, 48);
	/* updatedAt 2023-05-02T19:52:09.141Z */
	assert_point(&f->b.pts[0], 1683057600, 557, CI_FORECAST, 1683057129);
	assert_point(&f->b.pts[1], 1683057600 + 3600, 552, CI_FORECAST,
	    1683057129);
	assert_point(&f->b.pts[23], 1683057600 + 23 * 3600, 590, CI_FORECAST,
	    1683057129);
	assert_point(&f->b.pts[47], 1683226800, 590, CI_FORECAST, 1683057129);
}

static void
test_em_history(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_electricitymaps_ops;

	/* A null intensity is a gap; estimated hours stay actual. */
	assert_int_equal(parse_str(f, ops, 0, "{\"zone\":\"DE\",\"history\":["
	    "{\"zone\":\"DE\",\"carbonIntensity\":402,\"datetime\":"
	    "\"2024-03-01T21:00:00.000Z\",\"updatedAt\":"
	    "\"2024-03-01T21:48:49.093Z\",\"emissionFactorType\":\"lifecycle\","
	    "\"isEstimated\":false,\"estimationMethod\":null},"
	    "{\"zone\":\"DE\",\"carbonIntensity\":null,\"datetime\":"
	    "\"2024-03-01T22:00:00.000Z\",\"isEstimated\":true},"
	    "{\"zone\":\"DE\",\"carbonIntensity\":428.5,\"datetime\":"
	    "\"2024-03-01T23:00:00.000Z\",\"updatedAt\":"
	    "\"2024-03-01T22:48:49.093Z\",\"isEstimated\":true,"
	    "\"estimationMethod\":\"TIME_SLICER_AVERAGE\"}]}"), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[0], 1709326800, 402, CI_ACTUAL, 1709329729);
	assert_point(&f->b.pts[1], 1709334000, 428.5, CI_ACTUAL, 1709333329);

	/* The newer {"data": [...]} wrapping; offsets; no updatedAt. */
	assert_int_equal(parse_str(f, ops, 0, "{\"zone\":\"DE\",\"data\":["
	    "{\"carbonIntensity\":300,\"datetime\":\"2024-03-01T21:00+01:00\","
	    "\"temporalGranularity\":\"hourly\",\"unit\":\"gCO2eq/kWh\"}]}"),
	    0);
	assert_int_equal(f->b.n, 3);
	assert_point(&f->b.pts[2], 1709323200, 300, CI_ACTUAL, NOW);

	assert_int_equal(parse_str(f, ops, 1, "{\"zone\":\"DE\",\"data\":["
	    "{\"carbonIntensity\":250,\"datetime\":\"2024-03-01T20:00Z\"}],"
	    "\"updatedAt\":\"2024-03-01T19:52:09Z\"}"), 0);
	assert_int_equal(f->b.n, 4);
	assert_point(&f->b.pts[3], 1709323200, 250, CI_FORECAST,
	    1709323200 - 471);
}

static void
test_em_errors(void **state)
{
	static const struct {
		int step;
		const char *body, *err;
	} bad[] = {
		{ 0, "{\"zone\":\"DE\",\"history\":[}", "bad JSON at line 1, "
		    "column 25: unexpected token near '}'" },
		{ 0, "", "bad JSON at line 1, column 0: '[' or '{' expected "
		    "near end of file" },
		{ 0, "[1]", "bad JSON: expected an object at the top" },
		{ 0, "{\"zone\":\"DE\",\"history\":[]}", "no data points" },
		{ 0, "{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":null,"
		    "\"datetime\":\"2024-03-01T21:00Z\"}]}", "no data points" },
		{ 0, "{\"zone\":\"DE\"}", "response: missing 'history', "
		    "'data' or 'carbonIntensity'" },
		{ 0, "{\"history\":{}}", "response.history: not an array" },
		{ 0, "{\"history\":[{\"carbonIntensity\":5}]}",
		    "history[0]: missing 'datetime'" },
		{ 0, "{\"history\":[{\"datetime\":\"2024-03-01T21:00Z\"}]}",
		    "history[0]: missing 'carbonIntensity'" },
		{ 0, "{\"history\":[7]}", "history[0]: not an object" },
		{ 0, "{\"carbonIntensity\":\"5\",\"datetime\":"
		    "\"2024-03-01T21:00Z\"}",
		    "response.carbonIntensity: not a number" },
		{ 0, "{\"carbonIntensity\":5,\"datetime\":\"yesterday\"}",
		    "response.datetime: bad time 'yesterday'" },
		{ 0, "{\"carbonIntensity\":5,\"datetime\":"
		    "\"2024-03-01T21:00\"}",
		    "response.datetime: bad time '2024-03-01T21:00'" },
		{ 0, "{\"unit\":\"lbs/MWh\",\"history\":["
		    "{\"carbonIntensity\":5,"
		    "\"datetime\":\"2024-03-01T21:00Z\"}]}",
		    "response: unknown unit 'lbs/MWh' (expected gCO2eq/kWh)" },
		{ 0, "{\"data\":[{\"carbonIntensity\":5,\"unit\":\"gCO2/MJ\","
		    "\"datetime\":\"2024-03-01T21:00Z\"}]}",
		    "data[0]: unknown unit 'gCO2/MJ' (expected gCO2eq/kWh)" },
		{ 1, "{\"zone\":\"DE\",\"forecast\":[{\"carbonIntensity\":5,"
		    "\"datetime\":\"2024-03-01T21:00Z\"}]}",
		    "response: missing 'updatedAt'" },
		{ 1, "{\"zone\":\"DE\",\"updatedAt\":\"2024-03-01T21:00Z\"}",
		    "response: missing 'forecast'" },
		{ 1, "{\"forecast\":[],\"updatedAt\":\"2024-03-01T21:00Z\"}",
		    "no data points" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(f, &prov_electricitymaps_ops,
		    bad[i].step, bad[i].body), -1);
		assert_string_equal(f->err, bad[i].err);
	}
}

/* WattTime */

static void
test_wt_login_flow(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_watttime_ops;

	f->st.zone = "CAISO_NORTH";
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "no user: set user");
	f->conf.user = "alice";
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "no password: set password_file or "
	    "password_env");
	f->st.secret = xstrdup("pw:x");

	/* No session: login, historical, forecast. */
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "https://api.watttime.org/login");
	assert_string_equal(f->req.userpwd, "alice:pw:x");
	assert_null(f->req.headers[0]);
	assert_int_equal(parse_str(f, ops, 0, "{\"token\":\"tok123\"}"), 0);
	assert_int_equal(f->b.n, 0);
	assert_string_equal(f->st.session, "tok123");

	assert_int_equal(request(f, ops, 1), 1);
	assert_string_equal(f->req.url, "https://api.watttime.org/v3/"
	    "historical?region=CAISO_NORTH&start=2023-03-13T12:01:00Z&"
	    "end=2023-03-14T12:01:00Z&signal_type=co2_moer");
	assert_string_equal(f->req.headers[0], "Authorization: Bearer tok123");
	assert_null(f->req.headers[1]);
	assert_null(f->req.userpwd);
	assert_int_equal(parse_file(f, ops, 1, "watttime/doc-examples/"
	    "aiowatttime_historical_emissions_response.json"), 0);
	assert_int_equal(f->b.n, 2);
	assert_int_equal(f->b.pts[0].kind, CI_ACTUAL);

	assert_int_equal(request(f, ops, 2), 1);
	assert_string_equal(f->req.url, "https://api.watttime.org/v3/"
	    "forecast?region=CAISO_NORTH&signal_type=co2_moer&"
	    "horizon_hours=48");
	assert_string_equal(f->req.headers[0], "Authorization: Bearer tok123");
	assert_int_equal(parse_file(f, ops, 2, "watttime/doc-examples/"
	    "aiowatttime_forecasted_emissions_response.json"), 0);
	assert_int_equal(f->b.n, 5);
	assert_int_equal(f->b.pts[4].kind, CI_FORECAST);
	assert_int_equal(request(f, ops, 3), 0);

	/* Next refresh with the session: historical, forecast, done. */
	assert_int_equal(request(f, ops, 0), 1);
	assert_non_null(strstr(f->req.url, "/v3/historical?"));
	assert_null(f->req.userpwd);
	assert_int_equal(request(f, ops, 1), 1);
	assert_non_null(strstr(f->req.url, "/v3/forecast?"));
	assert_int_equal(request(f, ops, 2), 0);

	/* A token from 30 minutes ago is renewed first. */
	preq_clear(&f->req);
	assert_int_equal(ops->request(&f->st, 0, NOW + 1800, &f->req, f->err,
	    sizeof(f->err)), 1);
	assert_string_equal(f->req.url, "https://api.watttime.org/login");
	assert_null(f->st.session);

	/* A session set by the caller (unknown age) is used as is. */
	f->st.session = xstrdup("given");
	free(f->st.priv);
	f->st.priv = NULL;
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.headers[0], "Authorization: Bearer given");
	ops->clear(&f->st);
	assert_null(f->st.priv);

	/* The password goes only into userpwd. */
	free(f->st.session);
	f->st.session = NULL;
	assert_int_equal(request(f, ops, 0), 1);
	assert_null(strstr(f->req.url, "pw"));
	assert_int_equal(parse_str(f, ops, 0, "{\"error\":\"bad\"}"), -1);
	assert_string_equal(f->err, "login response: missing 'token'");
	assert_int_equal(parse_str(f, ops, 0, "{\"token\":\"a\\nb\"}"), -1);
	assert_string_equal(f->err, "login response token has control "
	    "characters");
	assert_null(f->st.session);
	assert_int_equal(request(f, ops, 1), -1);
	assert_string_equal(f->err, "not logged in");
}

static void
test_wt_doc_examples(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_watttime_ops;

	f->st.session = xstrdup("t");
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "no region configured");
	f->st.zone = "CAISO_NORTH";
	assert_int_equal(request(f, ops, 0), 1);
	/* 870 and 860 lbs/MWh, vintage = last_updated */
	assert_int_equal(parse_file(f, ops, 0, "watttime/doc-examples/"
	    "aiowatttime_historical_emissions_response.json"), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[0], 1657843200, 870 * LB, CI_ACTUAL,
	    1696118400);
	assert_point(&f->b.pts[1], 1657843500, 860 * LB, CI_ACTUAL,
	    1696118700);
	assert_float_equal(f->b.pts[0].value, 394.6253619, 1e-6);
	/* /v3/forecast/historical: data[] of {generated_at, forecast[]} */
	assert_int_equal(parse_file(f, ops, 1, "watttime/doc-examples/"
	    "aiowatttime_forecasted_emissions_response.json"), 0);
	assert_int_equal(f->b.n, 5);
	assert_point(&f->b.pts[2], 1657843200, 870 * LB, CI_FORECAST,
	    1657843200);
	assert_point(&f->b.pts[4], 1657843800, 870 * LB, CI_FORECAST,
	    1657843200);
}

static void
test_wt_inline(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_watttime_ops;

	f->st.zone = "CAISO_NORTH";
	f->st.session = xstrdup("t");
	assert_int_equal(request(f, ops, 0), 1);
	/* /v3/historical as documented, no last_updated: vintage = now */
	assert_int_equal(parse_str(f, ops, 0, "{\"data\":["
	    "{\"point_time\":\"2023-03-14T12:00:00+00:00\",\"value\":1000},"
	    "{\"point_time\":\"2023-03-14T12:05:00+00:00\",\"value\":null},"
	    "{\"point_time\":\"2023-03-14T05:10:00-07:00\",\"value\":500.5}],"
	    "\"meta\":{\"data_point_period_seconds\":300,\"region\":"
	    "\"CAISO_NORTH\",\"signal_type\":\"co2_moer\",\"units\":"
	    "\"lbs_co2_per_mwh\",\"warnings\":[]}}"), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[0], 1678795200, 453.59237, CI_ACTUAL, NOW);
	assert_point(&f->b.pts[1], 1678795800, 500.5 * LB, CI_ACTUAL, NOW);
	/* /v3/forecast as documented, g/kWh taken as is */
	assert_int_equal(parse_str(f, ops, 1, "{\"data\":["
	    "{\"point_time\":\"2023-03-14T12:05:00.000Z\",\"value\":321},"
	    "{\"point_time\":\"2023-03-14T12:10:00Z\",\"value\":300.25}],"
	    "\"meta\":{\"data_point_period_seconds\":300,\"region\":"
	    "\"CAISO_NORTH\",\"warnings\":[],\"signal_type\":\"co2_moer\","
	    "\"model\":{\"date\":\"2023-03-01\"},\"units\":\"g_co2_per_kwh\","
	    "\"generated_at_period_seconds\":300,\"generated_at\":"
	    "\"2023-03-14T12:00:00+00:00\"}}"), 0);
	assert_int_equal(f->b.n, 4);
	assert_point(&f->b.pts[2], 1678795500, 321, CI_FORECAST, 1678795200);
	assert_point(&f->b.pts[3], 1678795800, 300.25, CI_FORECAST,
	    1678795200);
}

static void
test_wt_errors(void **state)
{
	static const struct {
		int step;
		const char *body, *err;
	} bad[] = {
		{ 0, "{\"data\":[{\"point_time\":\"2023-03-14T12:00Z\","
		    "\"value\":1}],\"meta\":{\"units\":\"kg_co2_per_mwh\"}}",
		    "meta.units 'kg_co2_per_mwh' unknown (expected "
		    "lbs_co2_per_mwh or g_co2_per_kwh)" },
		{ 0, "{\"data\":[{\"point_time\":\"2023-03-14T12:00Z\","
		    "\"value\":1}],\"meta\":{}}", "meta: missing 'units'" },
		{ 0, "{\"data\":[{\"point_time\":\"2023-03-14T12:00Z\","
		    "\"value\":1}],\"meta\":{\"units\":\"lbs_co2_per_mwh\","
		    "\"signal_type\":\"health_damage\"}}",
		    "meta.signal_type 'health_damage' is not co2_moer" },
		{ 0, "{\"data\":[],\"meta\":{\"units\":\"lbs_co2_per_mwh\"}}",
		    "no data points" },
		{ 0, "{\"meta\":{\"units\":\"lbs_co2_per_mwh\"}}",
		    "response: missing 'data'" },
		{ 0, "{\"data\":[{\"value\":1}],\"meta\":{\"units\":"
		    "\"lbs_co2_per_mwh\"}}", "data[0]: missing 'point_time'" },
		{ 0, "{\"data\":[{\"point_time\":\"2023-03-14T12:00Z\"}],"
		    "\"meta\":{\"units\":\"lbs_co2_per_mwh\"}}",
		    "data[0]: missing 'value'" },
		{ 0, "{\"data\":[", "bad JSON at line 1, column 9: ']' "
		    "expected near end of file" },
		{ 1, "{\"data\":[{\"point_time\":\"2023-03-14T12:00Z\","
		    "\"value\":1}],\"meta\":{\"units\":\"lbs_co2_per_mwh\"}}",
		    "meta: missing 'generated_at'" },
		{ 1, "{\"data\":[{\"generated_at\":\"2023-03-14T12:00Z\","
		    "\"forecast\":{}}],\"meta\":{\"units\":"
		    "\"lbs_co2_per_mwh\"}}", "data[0].forecast: not an array" },
	};
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_watttime_ops;

	f->st.zone = "PSCO";
	f->st.session = xstrdup("t");
	assert_int_equal(request(f, ops, 0), 1);
	/* The signal-index sample is a percentile, not an emission rate. */
	for (int step = 0; step < 2; step++) {
		assert_int_equal(parse_file(f, ops, step, "watttime/"
		    "aiowatttime_realtime_emissions_response.json"), -1);
		assert_string_equal(f->err, "meta.units 'percentile' is a "
		    "relative index (signal-index), not an emission rate");
	}
	assert_int_equal(parse_file(f, ops, 0, "watttime/"
	    "aiowatttime_grid_region_response.json"), -1);
	assert_string_equal(f->err, "response: missing 'meta'");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(f, ops, bad[i].step, bad[i].body),
		    -1);
		assert_string_equal(f->err, bad[i].err);
	}
	assert_int_equal(f->b.n, 0);
}

/* UK Carbon Intensity */

static void
test_uk_request(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_ukci_ops;

	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "https://api.carbonintensity.org.uk/"
	    "intensity/2023-03-13T12:01Z/2023-03-14T12:01Z");
	assert_null(f->req.headers[0]);
	assert_null(f->req.userpwd);
	assert_int_equal(request(f, ops, 1), 1);
	assert_string_equal(f->req.url, "https://api.carbonintensity.org.uk/"
	    "intensity/2023-03-14T12:01Z/fw48h");
	assert_int_equal(request(f, ops, 2), 0);

	f->conf.region = 3;
	f->conf.history = 30 * 86400;	/* capped at the API's 14 days */
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "https://api.carbonintensity.org.uk/"
	    "regional/intensity/2023-02-28T12:01Z/2023-03-14T12:01Z/"
	    "regionid/3");
	assert_int_equal(request(f, ops, 1), 1);
	assert_string_equal(f->req.url, "https://api.carbonintensity.org.uk/"
	    "regional/intensity/2023-03-14T12:01Z/fw48h/regionid/3");

	f->conf.region = 18;
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "region 18 out of range (0 national, "
	    "1..17 regional)");
}

static void
test_uk_national(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_ukci_ops;

	/* Recorded fw48h: 96 half-hours, actual all null. */
	assert_int_equal(parse_file(f, ops, 1, "uk-carbon-intensity/"
	    "national_fw48h_2023-03-14T1201Z.json"), 0);
	assert_int_equal(f->b.n, 96);
	assert_point(&f->b.pts[0], 1678795200, 93, CI_FORECAST, NOW);
	assert_point(&f->b.pts[1], 1678795200 + 1800, 91, CI_FORECAST, NOW);
	assert_point(&f->b.pts[3], 1678795200 + 3 * 1800, 92, CI_FORECAST,
	    NOW);
	assert_point(&f->b.pts[95], 1678966200, 60, CI_FORECAST, NOW);
	for (size_t i = 1; i < f->b.n; i++)
		assert_int_equal(f->b.pts[i].t - f->b.pts[i - 1].t, 1800);

	/* Past periods: actual where given, else the forecast. */
	assert_int_equal(parse_str(f, ops, 0, "{\"data\":["
	    "{\"from\":\"2023-03-13T12:00Z\",\"to\":\"2023-03-13T12:30Z\","
	    "\"intensity\":{\"forecast\":150,\"actual\":143,\"index\":"
	    "\"moderate\"}},"
	    "{\"from\":\"2023-03-13T12:30Z\",\"to\":\"2023-03-13T13:00Z\","
	    "\"intensity\":{\"forecast\":151,\"actual\":null,\"index\":"
	    "\"moderate\"}}]}"), 0);
	assert_int_equal(f->b.n, 98);
	assert_point(&f->b.pts[96], 1678708800, 143, CI_ACTUAL, NOW);
	assert_point(&f->b.pts[97], 1678710600, 151, CI_FORECAST, NOW);
}

static void
test_uk_regional(void **state)
{
	static const char fw48h[] = "{\"data\":{\"regionid\":3,"
	    "\"dnoregion\":\"Electricity North West\",\"shortname\":"
	    "\"North West England\",\"data\":["
	    "{\"from\":\"2023-03-13T12:00Z\",\"to\":\"2023-03-13T12:30Z\","
	    "\"intensity\":{\"forecast\":120,\"index\":\"moderate\"},"
	    "\"generationmix\":[{\"fuel\":\"gas\",\"perc\":40.1},"
	    "{\"fuel\":\"wind\",\"perc\":59.9}]},"
	    "{\"from\":\"2023-03-13T12:30Z\",\"to\":\"2023-03-13T13:00Z\","
	    "\"intensity\":{\"forecast\":110,\"index\":\"low\"},"
	    "\"generationmix\":[]}]}}";
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_ukci_ops;

	f->conf.region = 3;
	assert_int_equal(parse_str(f, ops, 1, fw48h), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[0], 1678708800, 120, CI_FORECAST, NOW);
	assert_point(&f->b.pts[1], 1678710600, 110, CI_FORECAST, NOW);
	/* The array-of-one form of the same object. */
	assert_int_equal(parse_str(f, ops, 0, "{\"data\":[{\"regionid\":3,"
	    "\"data\":[{\"from\":\"2023-03-13T11:30Z\",\"to\":"
	    "\"2023-03-13T12:00Z\",\"intensity\":{\"forecast\":99,"
	    "\"index\":\"low\"}}]}]}"), 0);
	assert_int_equal(f->b.n, 3);
	assert_point(&f->b.pts[2], 1678708800 - 1800, 99, CI_FORECAST, NOW);

	f->conf.region = 4;
	assert_int_equal(parse_str(f, ops, 1, fw48h), -1);
	assert_string_equal(f->err, "data.regionid is not 4");
	assert_int_equal(parse_str(f, ops, 1, "{\"data\":{\"regionid\":4,"
	    "\"data\":[]}}"), -1);
	assert_string_equal(f->err, "no data points");
	assert_int_equal(parse_str(f, ops, 1, "{\"data\":[]}"), -1);
	assert_string_equal(f->err, "response: missing 'data' object");
	assert_int_equal(parse_str(f, ops, 1, "{\"data\":{\"regionid\":4,"
	    "\"data\":[{\"from\":\"2023-03-13T11:30Z\",\"intensity\":{}}]}}"),
	    -1);
	assert_string_equal(f->err, "data.data[0].intensity: missing "
	    "'forecast'");
}

static void
test_uk_errors(void **state)
{
	static const struct {
		const char *body, *err;
	} bad[] = {
		{ "{\"data\":[]}", "no data points" },
		{ "{\"error\":{\"code\":\"400 Bad Request\"}}",
		    "response: missing 'data'" },
		{ "{\"data\":[{\"from\":\"2023-03-13T12:00Z\"}]}",
		    "data[0]: missing 'intensity'" },
		{ "{\"data\":[{\"intensity\":{\"forecast\":1}}]}",
		    "data[0]: missing 'from'" },
		{ "{\"data\":[{\"from\":\"2023-03-13T12:00Z\",\"intensity\":"
		    "{\"forecast\":\"x\",\"actual\":null}}]}",
		    "data[0].intensity.forecast: not a number" },
		{ "{\"data\":[{\"from\":\"2023-03-13T12:00Z\",\"intensity\":"
		    "{\"forecast\":null,\"actual\":null}}]}",
		    "no data points" },
		{ "{\"data\":[{\"from\":\"2023-03-13 12:00\",\"intensity\":"
		    "{\"forecast\":1}}]}",
		    "data[0].from: bad time '2023-03-13 12:00'" },
		{ "{\"data\"", "bad JSON at line 1, column 7: ':' expected "
		    "near end of file" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(f, &prov_ukci_ops, 0, bad[i].body),
		    -1);
		assert_string_equal(f->err, bad[i].err);
	}
}

/* ENTSO-E */

#define GL_HEAD	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<GL_MarketDocument xmlns=\"urn:iec62325.351:tc57wg16:451-6:" \
	"generationloaddocument:3:0\"><mRID>t</mRID><type>A75</type>" \
	"<process.processType>A16</process.processType>"
#define GL_TAIL	"</GL_MarketDocument>"
#define TS(extra, psr, curve, res, start, end, points) \
	"<TimeSeries><mRID>1</mRID><businessType>A01</businessType>" extra \
	"<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>" \
	"<curveType>" curve "</curveType><MktPSRType><psrType>" psr \
	"</psrType></MktPSRType><Period><timeInterval><start>" start \
	"</start><end>" end "</end></timeInterval><resolution>" res \
	"</resolution>" points "</Period></TimeSeries>"
#define IN	"<inBiddingZone_Domain.mRID codingScheme=\"A01\">" \
	"10Y1001A1001A48H</inBiddingZone_Domain.mRID>"
#define OUT	"<outBiddingZone_Domain.mRID codingScheme=\"A01\">" \
	"10Y1001A1001A48H</outBiddingZone_Domain.mRID>"
#define P(pos, q) "<Point><position>" #pos "</position><quantity>" #q \
	"</quantity></Point>"

static void
test_entsoe_request(void **state)
{
	struct fx *f = *state;
	const struct provider_ops *ops = &prov_entsoe_ops;

	f->st.zone = "10YFI-1--------U";
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "no token: set token_file or token_env");
	f->st.secret = xstrdup("a1b2-c3");
	assert_int_equal(request(f, ops, 0), 1);
	assert_string_equal(f->req.url, "https://web-api.tp.entsoe.eu/api?"
	    "securityToken=a1b2-c3&documentType=A75&processType=A16&"
	    "in_Domain=10YFI-1--------U&periodStart=202303131200&"
	    "periodEnd=202303141201");
	assert_null(f->req.headers[0]);
	assert_null(f->req.userpwd);
	assert_int_equal(request(f, ops, 1), 0);
	free(f->st.secret);
	f->st.secret = xstrdup("a&b=c");
	assert_int_equal(request(f, ops, 0), -1);
	assert_string_equal(f->err, "token has characters not allowed in a "
	    "URL");
}

static void
test_entsoe_fi(void **state)
{
	const char *shared = getenv("EBB_SHARED"), *data;
	struct fx *f = *state;
	char path[1024];
	size_t len;
	char *body;
	int rc;

	data = getenv("EBB_TEST_DATA");
	if (shared != NULL)
		snprintf(path, sizeof(path), "%s/data/provider-samples/entsoe/"
		    "FI_production.xml", shared);
	else
		snprintf(path, sizeof(path), "%s/../../shared/data/"
		    "provider-samples/entsoe/FI_production.xml",
		    data != NULL ? data : "tests");
	if ((body = tu_slurp(path, &len)) == NULL) {
		print_message("skip: %s is absent (not copied: AGPL "
		    "repository; set EBB_SHARED)\n", path);
		skip();
	}
	rc = prov_entsoe_ops.response(&f->st, 0, NOW, body, len, &f->b,
	    f->err, sizeof(f->err));
	free(body);
	assert_int_equal(rc, 0);
	/* 12 A03 series at PT15M, 2025-10-21T12:00Z .. 2025-10-24T12:00Z */
	assert_int_equal(f->b.n, 288);
	assert_point(&f->b.pts[0], 1761048000, 40.2150682411662, CI_ACTUAL,
	    NOW);
	assert_float_equal(f->b.pts[1].value, 39.668865656675415, 1e-9);
	assert_int_equal(f->b.pts[100].t, 1761138000);
	assert_float_equal(f->b.pts[100].value, 37.13859156090183, 1e-9);
	assert_int_equal(f->b.pts[287].t, 1761306300);
	assert_float_equal(f->b.pts[287].value, 67.37683908215038, 1e-9);
	for (size_t i = 1; i < f->b.n; i++)
		assert_int_equal(f->b.pts[i].t - f->b.pts[i - 1].t, 900);
}

static void
test_entsoe_a01(void **state)
{
	static const char doc[] = GL_HEAD
	    TS(IN, "B04", "A01", "PT60M", "2023-05-11T00:00Z",
	    "2023-05-11T03:00Z", P(1, 100) P(2, 200))
	    TS(IN, "B12", "A01", "PT60M", "2023-05-11T00:00Z",
	    "2023-05-11T03:00Z", P(1, 300) P(2, 200) P(3, 400))
	    TS(IN, "B10", "A01", "PT60M", "2023-05-11T00:00Z",
	    "2023-05-11T03:00Z", P(1, 1000) P(2, 1000) P(3, 1000))
	    TS(OUT, "B12", "A01", "PT60M", "2023-05-11T00:00Z",
	    "2023-05-11T03:00Z", P(1, 5000) P(2, 5000) P(3, 5000))
	    TS(IN, "B25", "A01", "PT60M", "2023-05-11T00:00Z",
	    "2023-05-11T03:00Z", P(1, 9000))
	    GL_TAIL;
	struct fx *f = *state;

	/*
	 * Pumped storage, consumption and unknown types are left out; the
	 * third hour lacks gas, so it is dropped.
	 */
	assert_int_equal(parse_str(f, &prov_entsoe_ops, 0, doc), 0);
	assert_int_equal(f->b.n, 2);
	assert_point(&f->b.pts[0], 1683763200, (100 * 469. + 300 * 4.) / 400,
	    CI_ACTUAL, NOW);
	assert_point(&f->b.pts[1], 1683763200 + 3600,
	    (200 * 469. + 200 * 4.) / 400, CI_ACTUAL, NOW);

	/* A type with a negative factor is left out of the mix. */
	f->conf.factors[3] = -1;
	assert_int_equal(parse_str(f, &prov_entsoe_ops, 0, doc), 0);
	assert_int_equal(f->b.n, 5);
	assert_point(&f->b.pts[4], 1683763200 + 7200, 4, CI_ACTUAL, NOW);
}

static void
test_entsoe_a03(void **state)
{
	static const char doc[] = GL_HEAD
	    TS(IN, "B05", "A03", "PT15M", "2023-05-11T00:00Z",
	    "2023-05-11T01:00Z", P(1, 100) P(3, 300))
	    TS(IN, "B19", "A03", "PT15M", "2023-05-11T00:00Z",
	    "2023-05-11T01:00Z", P(1, 100))
	    TS(IN, "B14", "A01", "PT30M", "2023-05-11T00:00Z",
	    "2023-05-11T01:00Z", P(1, 200) P(2, 200.0))
	    GL_TAIL;
	struct fx *f = *state;
	double lo = (100 * 1001. + 100 * 12. + 200 * 16.) / 400;
	double hi = (300 * 1001. + 100 * 12. + 200 * 16.) / 600;

	/* A03 holds each quantity; PT30M nuclear spans two PT15M steps. */
	assert_int_equal(parse_str(f, &prov_entsoe_ops, 0, doc), 0);
	assert_int_equal(f->b.n, 4);
	assert_point(&f->b.pts[0], 1683763200, lo, CI_ACTUAL, NOW);
	assert_point(&f->b.pts[1], 1683763200 + 900, lo, CI_ACTUAL, NOW);
	assert_point(&f->b.pts[2], 1683763200 + 1800, hi, CI_ACTUAL, NOW);
	assert_point(&f->b.pts[3], 1683763200 + 2700, hi, CI_ACTUAL, NOW);
	assert_float_equal(lo, 261.25, 1e-9);
}

static void
test_entsoe_errors(void **state)
{
	static const struct {
		const char *body, *err;
	} bad[] = {
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<Acknowledgement_MarketDocument xmlns=\"urn:iec62325.351:"
		    "tc57wg16:451-1:acknowledgementdocument:7:0\">"
		    "<mRID>x</mRID><createdDateTime>2023-05-11T09:00:00Z"
		    "</createdDateTime><Reason><code>999</code><text>No "
		    "matching data found for Data item ACTUAL_GENERATION_PER_"
		    "PRODUCTION_TYPE [16.1.B&amp;C] (10YNO-5-------1M)</text>"
		    "</Reason></Acknowledgement_MarketDocument>",
		    "ENTSO-E: No matching data found for Data item "
		    "ACTUAL_GENERATION_PER_PRODUCTION_TYPE [16.1.B&C] "
		    "(10YNO-5-------1M)" },
		{ "<Acknowledgement_MarketDocument><Reason><text>Invalid "
		    "query: securityToken=a1b2-c3</text></Reason>"
		    "</Acknowledgement_MarketDocument>",
		    "ENTSO-E acknowledgement (reason withheld: it quotes the "
		    "token)" },
		{ "<Acknowledgement_MarketDocument/>",
		    "ENTSO-E acknowledgement without a reason" },
		{ "<GL_MarketDocument><TimeSeries>", "bad XML at line 1: "
		    "Premature end of data in tag TimeSeries line 1" },
		{ "", "bad XML at line 1: Document is empty" },
		{ "<html><body>502</body></html>", "unexpected document 'html' "
		    "(expected GL_MarketDocument)" },
		{ GL_HEAD GL_TAIL, "no data points" },
		{ "<GL_MarketDocument><type>A65</type></GL_MarketDocument>",
		    "document type 'A65' is not A75" },
		{ GL_HEAD "<TimeSeries><quantity_Measure_Unit.name>MAW"
		    "</quantity_Measure_Unit.name></TimeSeries>" GL_TAIL,
		    "TimeSeries[0]: missing MktPSRType.psrType" },
		{ GL_HEAD "<TimeSeries><quantity_Measure_Unit.name>MWH"
		    "</quantity_Measure_Unit.name><MktPSRType><psrType>B04"
		    "</psrType></MktPSRType></TimeSeries>" GL_TAIL,
		    "TimeSeries[0]: unknown unit 'MWH' (expected MAW)" },
		{ GL_HEAD TS(IN, "B04", "A02", "PT60M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", P(1, 1)) GL_TAIL,
		    "TimeSeries[0]: curveType 'A02' not supported (expected "
		    "A01 or A03)" },
		{ GL_HEAD TS(IN, "B04", "A01", "P1D", "2023-05-11T00:00Z",
		    "2023-05-12T00:00Z", P(1, 1)) GL_TAIL,
		    "TimeSeries[0].Period[0]: resolution 'P1D' not supported "
		    "(expected PTnM or PTnH)" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT60M", "2023-05-11T00:00Z",
		    "2023-05-11T01:30Z", P(1, 1)) GL_TAIL,
		    "TimeSeries[0].Period[0]: timeInterval is not a whole "
		    "number of resolution steps" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT60M", "2023-05-11",
		    "2023-05-11T01:00Z", P(1, 1)) GL_TAIL,
		    "TimeSeries[0].Period[0].timeInterval.start: bad time "
		    "'2023-05-11'" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT60M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", P(2, 1)) GL_TAIL,
		    "TimeSeries[0].Period[0].Point[0].position: 2 is outside "
		    "the Period" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT15M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", P(1, 1)) TS(IN, "B05", "A01", "PT60M",
		    "2023-05-11T00:10Z", "2023-05-11T01:10Z", P(1, 1)) GL_TAIL,
		    "Periods do not share a grid of 900 s steps" },
		{ GL_HEAD TS(IN, "B04", "A03", "PT30M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", P(2, 1) P(1, 1)) GL_TAIL,
		    "TimeSeries[0].Period[0].Point[1]: position 1 out of "
		    "order" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT60M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", P(1, lots)) GL_TAIL,
		    "TimeSeries[0].Period[0].Point[0].quantity: bad number "
		    "'lots'" },
		{ GL_HEAD TS(IN, "B04", "A01", "PT60M", "2023-05-11T00:00Z",
		    "2023-05-11T01:00Z", "<Point><position>1</position>"
		    "</Point>") GL_TAIL,
		    "TimeSeries[0].Period[0].Point[0].quantity: missing" },
		/* 1 kB asking for 788,400 steps (found by fuzzing): what a
		 * server says it spans costs no more than a bounded grid. */
		{ GL_HEAD TS(IN, "B05", "A03", "PT2M", "2020-03-14T00:00Z",
		    "2023-03-14T00:00Z", P(1, 100) P(3, 300)) GL_TAIL,
		    "document spans too many time steps" },
	};
	struct fx *f = *state;

	f->st.secret = xstrdup("a1b2-c3");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(f, &prov_entsoe_ops, 0, bad[i].body),
		    -1);
		assert_string_equal(f->err, bad[i].err);
		assert_null(strstr(f->err, f->st.secret));
	}
	assert_int_equal(f->b.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_preq_clear),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_em_request),
		T(test_em_latest),
		T(test_em_forecast),
		T(test_em_history),
		T(test_em_errors),
		T(test_wt_login_flow),
		T(test_wt_doc_examples),
		T(test_wt_inline),
		T(test_wt_errors),
		T(test_uk_request),
		T(test_uk_national),
		T(test_uk_regional),
		T(test_uk_errors),
		T(test_entsoe_request),
		T(test_entsoe_fi),
		T(test_entsoe_a01),
		T(test_entsoe_a03),
		T(test_entsoe_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
