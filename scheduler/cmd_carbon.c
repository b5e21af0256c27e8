/*
 * cmd_carbon: the "sites" and "forecast" commands: what the carbon
 * manager knows, per site and per zone. Read-only.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/proto.h"
#include "common/timefmt.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"

json_t *
cmd_sites(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *sites, *s;
	size_t i;

	if (json_is_true(json_object_get(args, "refresh"))) {
		if (!p->admin)
			return proto_reply_err("denied", "refreshing providers "
			    "is for root and admin_group members");
		carbon_refresh_now(d->carbon);
	}
	sites = carbon_sites_json(d->carbon, ebb_now());
	json_array_foreach(sites, i, s) {
		json_t *st = dispatch_site_status(d->dispatch,
		    json_string_value(json_object_get(s, "name")));

		if (st != NULL)
			json_object_set_new(s, "backend_status", st);
	}
	return proto_reply_ok(json_pack("{s:o}", "sites", sites));
}

/* Instants a client may ask about: the epoch to ten years from now. */
#define EPOCH_AHEAD	(INT64_C(10) * 366 * 86400)

/*
 * args[key], epoch seconds from 0 to EPOCH_AHEAD after now, into *out
 * (now when absent); -1 with the error reply in *reply.
 */
static int
epoch_arg(const json_t *args, const char *key, int64_t now, int64_t *out,
    json_t **reply)
{
	json_t *v = json_object_get(args, key);

	*out = now;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > now + EPOCH_AHEAD) {
		*reply = proto_reply_err("usage", "%s: must be epoch seconds, "
		    "at most ten years from now", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

json_t *
cmd_forecast(struct ebbd *d, const struct peer *p, const json_t *args)
{
	const char *target = json_string_value(json_object_get(args, "target"));
	const struct ebb_site *site = NULL;
	json_t *v, *pts, *win = json_null();
	int64_t hours = 48, window = 7200, now = ebb_now(), slot = d->cfg->slot;
	int64_t from, asof;
	struct ci_series s;
	const char *zone;
	char err[256];
	double mean;
	int64_t at;
	int own;

	if ((v = json_object_get(args, "target")) != NULL && target == NULL)
		return proto_reply_err("usage", "target: must be a string");
	if ((v = json_object_get(args, "hours")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 168)
			return proto_reply_err("usage", "hours: must be an "
			    "integer in [1, 168]");
		hours = json_integer_value(v);
	}
	if ((v = json_object_get(args, "window")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > hours * 3600)
			return proto_reply_err("usage", "window: must be 0 to "
			    "%lld seconds (the forecast's length)",
			    (long long)hours * 3600);
		window = json_integer_value(v);
	}
	/* A past (or future) stretch, as it was known at asof: ebb report. */
	if (epoch_arg(args, "from", now, &from, &v) == -1 ||
	    epoch_arg(args, "asof", now, &asof, &v) == -1)
		return v;
	if (target == NULL)
		site = &d->cfg->sites[0];
	else
		site = config_site(d->cfg, target);
	if (site != NULL && site->providers.n == 0)
		return proto_reply_err("failed", "site %s has no "
		    "carbon-intensity providers", site->name);
	zone = site ? (site->zone ? site->zone : site->name) : target;
	if (site == NULL) {
		for (size_t i = 0; i < d->cfg->nsites; i++)
			if (d->cfg->sites[i].zone != NULL &&
			    strcmp(d->cfg->sites[i].zone, target) == 0)
				site = &d->cfg->sites[i];
		if (site == NULL)
			return proto_reply_err("notfound", "no site or zone "
			    "called '%s'", target);
	}
	if (carbon_series(d->carbon, zone, carbon_site_signal(d->carbon,
	    site->name), from, from + hours * 3600, asof, &s, err,
	    sizeof(err)) == -1)
		return proto_reply_err("failed", "%s", err);
	pts = json_array();
	for (size_t i = 0; i < s.n; i++)
		json_array_append_new(pts, carbon_point_json(&s, i));
	if (window > 0 && (at = carbon_window(&s, now, window, &mean,
	    &own)) >= 0) {
		json_decref(win);
		win = json_pack("{s:I, s:I, s:f, s:b}", "start", (json_int_t)at,
		    "end", (json_int_t)(at + window), "mean",
		    round(mean * 10) / 10, "own_forecast", own);
	}
	v = json_pack("{s:s?, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "site",
	    target && strcmp(site->name, target) != 0 ? NULL : site->name,
	    "zone", zone, "signal", ci_signal_name(s.signal), "slot",
	    (json_int_t)slot, "from", (json_int_t)s.t0, "to",
	    (json_int_t)(s.t0 + (int64_t)s.n * slot), "points", pts, "window",
	    win);
	ci_series_free(&s);
	return proto_reply_ok(v);
}
