/*
 * prov_ukci: the GB Carbon Intensity API of National Grid ESO (average
 * signal, no account needed).
 *
 * National (region 0): /intensity/{from}/{to} over [now - history, now]
 * (at most 14 days, the API's limit) and /intensity/{now}/fw48h. Each
 * half-hour with an "actual" becomes CI_ACTUAL, else its "forecast" a
 * CI_FORECAST; a half-hour with neither is a gap. Regional (1..17): the
 * same two ranges under /regional/intensity/.../regionid/{id}; regional
 * figures are all estimates, so every point is CI_FORECAST. Vintage is the
 * fetch time (the API does not say when a forecast was issued). Times in
 * URLs are minute-precision UTC ("2023-03-14T12:01Z"). No I/O here.
 */
#include <stdio.h>

#include "common/timefmt.h"
#include "scheduler/carbon/prov_util.h"
#include "scheduler/carbon/provider.h"

#define UK_BASE		"https://api.carbonintensity.org.uk"
#define UK_MAX_RANGE	(14 * 86400)
#define UK_REGIONS	17

/* data[] of {from, intensity: {forecast, actual?}}. */
static int
uk_periods(json_t *a, const char *name, int regional, int64_t now,
    struct ci_batch *out, char *err, size_t errlen)
{
	char where[80], iwhere[96];
	json_t *o, *in;
	int64_t t;
	double v;
	size_t i;
	int r;

	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if (!json_is_object(o)) {
			snprintf(err, errlen, "%s: not an object", where);
			return -1;
		}
		if (prov_json_time(o, "from", where, 0, &t, err, errlen) == -1)
			return -1;
		in = json_object_get(o, "intensity");
		if (!json_is_object(in)) {
			snprintf(err, errlen, "%s: missing 'intensity'", where);
			return -1;
		}
		snprintf(iwhere, sizeof(iwhere), "%s.intensity", where);
		if (!regional && json_object_get(in, "actual") != NULL) {
			if ((r = prov_json_number(in, "actual", iwhere, &v, err,
			    errlen)) == -1)
				return -1;
			if (r == 0) {
				ci_batch_add(out, t, v, CI_ACTUAL, now, 0);
				continue;
			}
		}
		if ((r = prov_json_number(in, "forecast", iwhere, &v, err,
		    errlen)) == -1)
			return -1;
		if (r == 0)
			ci_batch_add(out, t, v, CI_FORECAST, now, 0);
	}
	return 0;
}

/* {"data": {regionid, data: [...]}}, the data object also seen in [0]. */
static int
uk_regional(json_t *root, int region, int64_t now, struct ci_batch *out,
    char *err, size_t errlen)
{
	json_t *d = json_object_get(root, "data"), *id, *a;
	const char *where = "data";
	char name[32];

	if (json_is_array(d) && json_array_size(d) == 1) {
		d = json_array_get(d, 0);
		where = "data[0]";
	}
	if (!json_is_object(d)) {
		snprintf(err, errlen, "response: missing 'data' object");
		return -1;
	}
	id = json_object_get(d, "regionid");
	if (id != NULL && (!json_is_integer(id) ||
	    json_integer_value(id) != region)) {
		snprintf(err, errlen, "%s.regionid is not %d", where, region);
		return -1;
	}
	if ((a = prov_json_array(d, "data", where, err, errlen)) == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s.data", where);
	return uk_periods(a, name, 1, now, out, err, errlen);
}

static int
uk_request(struct pstate *st, int step, int64_t now, struct preq *req,
    char *err, size_t errlen)
{
	int region = st->conf->region;
	int64_t hist = st->conf->history;
	char t0[24], t1[24];

	if (step >= 2)
		return 0;
	if (region < 0 || region > UK_REGIONS) {
		snprintf(err, errlen, "region %d out of range (0 national, "
		    "1..%d regional)", region, UK_REGIONS);
		return -1;
	}
	if (hist > UK_MAX_RANGE)
		hist = UK_MAX_RANGE;
	ebb_fmt_minute(now - hist, t0, sizeof(t0));
	ebb_fmt_minute(now, t1, sizeof(t1));
	if (region == 0 && step == 0)
		req->url = prov_url(st, UK_BASE, "/intensity/%s/%s", t0, t1);
	else if (region == 0)
		req->url = prov_url(st, UK_BASE, "/intensity/%s/fw48h", t1);
	else if (step == 0)
		req->url = prov_url(st, UK_BASE, "/regional/intensity/%s/%s/"
		    "regionid/%d", t0, t1, region);
	else
		req->url = prov_url(st, UK_BASE, "/regional/intensity/%s/"
		    "fw48h/regionid/%d", t1, region);
	return 1;
}

static int
uk_response(struct pstate *st, int step, int64_t now, const char *body,
    size_t len, struct ci_batch *out, char *err, size_t errlen)
{
	int region = st->conf->region;
	size_t before = out->n;
	json_t *root, *a;
	int rc;

	if ((root = prov_json_parse(body, len, err, errlen)) == NULL)
		return -1;
	if (region != 0)
		rc = uk_regional(root, region, now, out, err, errlen);
	else if ((a = prov_json_array(root, "data", "response", err,
	    errlen)) == NULL)
		rc = -1;
	else
		rc = uk_periods(a, "data", 0, now, out, err, errlen);
	json_decref(root);
	if (rc == -1)
		return -1;
	return prov_need_points(out, before, err, errlen);
}

const struct provider_ops prov_ukci_ops = {
	.name = "ukci",
	.signal = CI_AVERAGE,
	.min_refresh = 30 * 60,
	.base_url = UK_BASE,
	.needs_secret = 0,
	.request = uk_request,
	.response = uk_response,
};
