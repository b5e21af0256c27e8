/*
 * prov_electricitymaps: the Electricity Maps v3 API (average signal).
 *
 * A refresh is two GETs with the header "auth-token: <token>": the past
 * 24 hours (/carbon-intensity/history, CI_ACTUAL, vintage = the point's
 * updatedAt) and the forecast (/carbon-intensity/forecast, CI_FORECAST,
 * vintage = the response's updatedAt). The history parser also takes the
 * newer {"data": [...]} wrapping and a single /carbon-intensity/latest
 * object. Estimated hours (isEstimated) are Electricity Maps' best value
 * for the hour and are kept as actual. A null carbonIntensity is a gap,
 * not an error. Intensities are gCO2eq/kWh; an explicit "unit" field
 * naming anything else is rejected. No I/O here.
 */
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/carbon/prov_util.h"
#include "scheduler/carbon/provider.h"

#define EM_BASE		"https://api.electricitymaps.com/v3"
#define EM_UNIT		"gCO2eq/kWh"

static int
em_unit(json_t *o, const char *where, char *err, size_t errlen)
{
	json_t *u = json_object_get(o, "unit");

	if (u == NULL)
		return 0;
	if (json_is_string(u) && strcmp(json_string_value(u), EM_UNIT) == 0)
		return 0;
	snprintf(err, errlen, "%s: unknown unit '%.40s' (expected "
	    EM_UNIT ")", where, json_is_string(u) ? json_string_value(u) :
	    "(not a string)");
	return -1;
}

/* One {carbonIntensity, datetime[, updatedAt]} object. */
static int
em_point(json_t *o, const char *where, enum ci_kind kind, int64_t vintage,
    struct ci_batch *out, char *err, size_t errlen)
{
	int64_t t;
	double v;
	int r;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: not an object", where);
		return -1;
	}
	if (em_unit(o, where, err, errlen) == -1 ||
	    (r = prov_json_number(o, "carbonIntensity", where, &v, err,
	    errlen)) == -1 ||
	    prov_json_time(o, "datetime", where, 0, &t, err, errlen) == -1)
		return -1;
	if (kind == CI_ACTUAL && prov_json_time(o, "updatedAt", where, 1,
	    &vintage, err, errlen) == -1)
		return -1;
	if (r == 0)
		ci_batch_add(out, t, v, kind, vintage, 0);
	return 0;
}

static int
em_array(json_t *a, const char *name, enum ci_kind kind, int64_t vintage,
    struct ci_batch *out, char *err, size_t errlen)
{
	char where[64];
	size_t i;
	json_t *o;

	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if (em_point(o, where, kind, vintage, out, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* history, {"data": [...]} or a single latest object: actual points. */
static int
em_parse_past(json_t *root, int64_t now, struct ci_batch *out, char *err,
    size_t errlen)
{
	const char *name;
	json_t *a;

	if (em_unit(root, "response", err, errlen) == -1)
		return -1;
	if (json_object_get(root, "history") != NULL)
		name = "history";
	else if (json_object_get(root, "data") != NULL)
		name = "data";
	else if (json_object_get(root, "carbonIntensity") != NULL)
		return em_point(root, "response", CI_ACTUAL, now, out, err,
		    errlen);
	else {
		snprintf(err, errlen, "response: missing 'history', 'data' "
		    "or 'carbonIntensity'");
		return -1;
	}
	if ((a = prov_json_array(root, name, "response", err, errlen)) == NULL)
		return -1;
	return em_array(a, name, CI_ACTUAL, now, out, err, errlen);
}

static int
em_parse_forecast(json_t *root, struct ci_batch *out, char *err,
    size_t errlen)
{
	const char *name = "forecast";
	int64_t vintage;
	json_t *a;

	if (em_unit(root, "response", err, errlen) == -1 ||
	    prov_json_time(root, "updatedAt", "response", 0, &vintage, err,
	    errlen) == -1)
		return -1;
	if (json_object_get(root, name) == NULL &&
	    json_object_get(root, "data") != NULL)
		name = "data";
	if ((a = prov_json_array(root, name, "response", err, errlen)) == NULL)
		return -1;
	return em_array(a, name, CI_FORECAST, vintage, out, err, errlen);
}

static int
em_request(struct pstate *st, int step, int64_t now, struct preq *req,
    char *err, size_t errlen)
{
	static const char *const path[] = { "history", "forecast" };

	if (step >= 2)
		return 0;
	if (prov_check_id("zone", st->zone, err, errlen) == -1 ||
	    prov_check_secret("token", "token_file or token_env", st->secret,
	    0, err, errlen) == -1)
		return -1;
	req->url = prov_url(st, EM_BASE, "/carbon-intensity/%s?zone=%s",
	    path[step], st->zone);
	req->headers[0] = xasprintf("auth-token: %s", st->secret);
	return 1;
}

static int
em_response(struct pstate *st, int step, int64_t now, const char *body,
    size_t len, struct ci_batch *out, char *err, size_t errlen)
{
	size_t before = out->n;
	json_t *root;
	int rc;

	if ((root = prov_json_parse(body, len, err, errlen)) == NULL)
		return -1;
	if (step == 0)
		rc = em_parse_past(root, now, out, err, errlen);
	else
		rc = em_parse_forecast(root, out, err, errlen);
	json_decref(root);
	if (rc == -1)
		return -1;
	return prov_need_points(out, before, err, errlen);
}

const struct provider_ops prov_electricitymaps_ops = {
	.name = "electricitymaps",
	.signal = CI_AVERAGE,
	.min_refresh = 15 * 60,
	.base_url = EM_BASE,
	.needs_secret = 1,
	.request = em_request,
	.response = em_response,
};
