/*
 * prov_watttime: the WattTime v3 API (marginal signal, MOER).
 *
 * A refresh is, when no session token is held (or it is older than
 * WT_TOKEN_TTL), a login (GET /login with basic auth user:password, which
 * yields {"token": ...} into st->session and no points), then
 * /v3/historical over [now - history, now] (CI_ACTUAL, vintage =
 * last_updated or now) and /v3/forecast for 48 hours (CI_FORECAST,
 * vintage = meta.generated_at), both with "Authorization: Bearer <token>".
 * The forecast parser also takes the /v3/forecast/historical shape
 * (data[] of {generated_at, forecast[]}). meta.units must be
 * lbs_co2_per_mwh (converted to g/kWh) or g_co2_per_kwh; the signal-index
 * "percentile" is not an emission rate and is rejected. No I/O here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/prov_util.h"
#include "scheduler/carbon/provider.h"

#define WT_BASE		"https://api.watttime.org"
#define WT_LB_MWH	0.45359237	/* g/kWh per lb/MWh */
#define WT_TOKEN_TTL	(25 * 60)	/* tokens last 30 min */
#define WT_HORIZON_H	48

struct wt_priv {
	int	 login;		/* this refresh began with a login */
	int64_t	 session_at;	/* when st->session came; 0 unknown */
};

enum { WT_HISTORICAL, WT_FORECAST, WT_DONE };

static struct wt_priv *
wt_priv(struct pstate *st)
{
	if (st->priv == NULL)
		st->priv = xcalloc(1, sizeof(struct wt_priv));
	return st->priv;
}

static int
wt_units(json_t *root, double *mult, char *err, size_t errlen)
{
	json_t *meta = json_object_get(root, "meta"), *sig;
	const char *u;

	if (!json_is_object(meta)) {
		snprintf(err, errlen, "response: missing 'meta'");
		return -1;
	}
	if ((sig = json_object_get(meta, "signal_type")) != NULL &&
	    (!json_is_string(sig) ||
	    strcmp(json_string_value(sig), "co2_moer") != 0)) {
		snprintf(err, errlen, "meta.signal_type '%.40s' is not "
		    "co2_moer", json_is_string(sig) ? json_string_value(sig) :
		    "(not a string)");
		return -1;
	}
	if (!json_is_string(json_object_get(meta, "units"))) {
		snprintf(err, errlen, "meta: missing 'units'");
		return -1;
	}
	u = json_string_value(json_object_get(meta, "units"));
	if (strcmp(u, "lbs_co2_per_mwh") == 0)
		*mult = WT_LB_MWH;
	else if (strcmp(u, "g_co2_per_kwh") == 0)
		*mult = 1;
	else if (strcmp(u, "percentile") == 0) {
		snprintf(err, errlen, "meta.units 'percentile' is a relative "
		    "index (signal-index), not an emission rate");
		return -1;
	} else {
		snprintf(err, errlen, "meta.units '%.40s' unknown (expected "
		    "lbs_co2_per_mwh or g_co2_per_kwh)", u);
		return -1;
	}
	return 0;
}

/* data[] of {point_time, value[, last_updated]}; name says where. */
static int
wt_points(json_t *a, const char *name, double mult, enum ci_kind kind,
    int64_t vintage, struct ci_batch *out, char *err, size_t errlen)
{
	char where[80];
	int64_t t, vin;
	size_t i;
	json_t *o;
	double v;
	int r;

	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if (!json_is_object(o)) {
			snprintf(err, errlen, "%s: not an object", where);
			return -1;
		}
		vin = vintage;
		if ((r = prov_json_number(o, "value", where, &v, err,
		    errlen)) == -1 ||
		    prov_json_time(o, "point_time", where, 0, &t, err,
		    errlen) == -1 ||
		    (kind == CI_ACTUAL && prov_json_time(o, "last_updated",
		    where, 1, &vin, err, errlen) == -1))
			return -1;
		if (r == 0)
			ci_batch_add(out, t, v * mult, kind, vin, 0);
	}
	return 0;
}

/* /v3/forecast, or /v3/forecast/historical: data[] of forecasts. */
static int
wt_forecast(json_t *root, double mult, struct ci_batch *out, char *err,
    size_t errlen)
{
	json_t *data, *meta = json_object_get(root, "meta"), *o, *fc;
	char where[64];
	int64_t gen;
	size_t i;

	if ((data = prov_json_array(root, "data", "response", err,
	    errlen)) == NULL)
		return -1;
	o = json_array_get(data, 0);
	if (!json_is_object(o) || json_object_get(o, "forecast") == NULL) {
		if (prov_json_time(meta, "generated_at", "meta", 0, &gen, err,
		    errlen) == -1)
			return -1;
		return wt_points(data, "data", mult, CI_FORECAST, gen, out,
		    err, errlen);
	}
	json_array_foreach(data, i, o) {
		snprintf(where, sizeof(where), "data[%zu]", i);
		if (!json_is_object(o)) {
			snprintf(err, errlen, "%s: not an object", where);
			return -1;
		}
		if (prov_json_time(o, "generated_at", where, 0, &gen, err,
		    errlen) == -1 ||
		    (fc = prov_json_array(o, "forecast", where, err,
		    errlen)) == NULL)
			return -1;
		snprintf(where, sizeof(where), "data[%zu].forecast", i);
		if (wt_points(fc, where, mult, CI_FORECAST, gen, out, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

static int
wt_request(struct pstate *st, int step, int64_t now, struct preq *req,
    char *err, size_t errlen)
{
	struct wt_priv *p = wt_priv(st);
	char t0[24], t1[24];
	int phase;

	if (step == 0) {
		if (st->session != NULL && p->session_at != 0 &&
		    now - p->session_at >= WT_TOKEN_TTL) {
			free(st->session);
			st->session = NULL;
		}
		p->login = st->session == NULL;
	}
	phase = step - p->login;
	if (phase >= WT_DONE)
		return 0;
	if (prov_check_id("region", st->zone, err, errlen) == -1)
		return -1;
	if (phase < 0) {
		if (st->conf->user == NULL || *st->conf->user == '\0') {
			snprintf(err, errlen, "no user: set user");
			return -1;
		}
		if (strchr(st->conf->user, ':') != NULL) {
			snprintf(err, errlen, "user must not contain ':'");
			return -1;
		}
		if (prov_check_secret("password",
		    "password_file or password_env", st->secret, 0, err,
		    errlen) == -1)
			return -1;
		req->url = prov_url(st, WT_BASE, "/login");
		req->userpwd = xasprintf("%s:%s", st->conf->user, st->secret);
		return 1;
	}
	if (st->session == NULL) {
		snprintf(err, errlen, "not logged in");
		return -1;
	}
	if (phase == WT_HISTORICAL)
		req->url = prov_url(st, WT_BASE, "/v3/historical?region=%s&"
		    "start=%s&end=%s&signal_type=co2_moer", st->zone,
		    ebb_fmt_time(now - st->conf->history, t0, sizeof(t0)),
		    ebb_fmt_time(now, t1, sizeof(t1)));
	else
		req->url = prov_url(st, WT_BASE, "/v3/forecast?region=%s&"
		    "signal_type=co2_moer&horizon_hours=%d", st->zone,
		    WT_HORIZON_H);
	req->headers[0] = xasprintf("Authorization: Bearer %s", st->session);
	return 1;
}

static int
wt_login(struct pstate *st, int64_t now, json_t *root, char *err,
    size_t errlen)
{
	json_t *tok = json_object_get(root, "token");

	if (!json_is_string(tok) || *json_string_value(tok) == '\0') {
		snprintf(err, errlen, "login response: missing 'token'");
		return -1;
	}
	if (prov_check_secret("login response token", "",
	    json_string_value(tok), 0, err, errlen) == -1)
		return -1;
	free(st->session);
	st->session = xstrdup(json_string_value(tok));
	wt_priv(st)->session_at = now;
	return 0;
}

static int
wt_response(struct pstate *st, int step, int64_t now, const char *body,
    size_t len, struct ci_batch *out, char *err, size_t errlen)
{
	struct wt_priv *p = wt_priv(st);
	size_t before = out->n;
	int phase = step - p->login, rc;
	json_t *root, *data;
	double mult;

	if ((root = prov_json_parse(body, len, err, errlen)) == NULL)
		return -1;
	if (phase < 0)
		rc = wt_login(st, now, root, err, errlen);
	else if (wt_units(root, &mult, err, errlen) == -1)
		rc = -1;
	else if (phase == WT_HISTORICAL)
		rc = (data = prov_json_array(root, "data", "response", err,
		    errlen)) == NULL ? -1 : wt_points(data, "data", mult,
		    CI_ACTUAL, now, out, err, errlen);
	else
		rc = wt_forecast(root, mult, out, err, errlen);
	json_decref(root);
	if (rc == -1 || phase < 0)
		return rc;
	return prov_need_points(out, before, err, errlen);
}

static void
wt_clear(struct pstate *st)
{
	free(st->priv);
	st->priv = NULL;
}

const struct provider_ops prov_watttime_ops = {
	.name = "watttime",
	.signal = CI_MARGINAL,
	.min_refresh = 5 * 60,
	.base_url = WT_BASE,
	.needs_secret = 1,
	.request = wt_request,
	.response = wt_response,
	.clear = wt_clear,
};
