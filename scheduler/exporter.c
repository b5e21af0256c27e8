/*
 * exporter: builds the /metrics families from ebbd's state. Reads only:
 * two aggregate queries, one bounded query for the jobs that get series
 * of their own, the carbon manager's series and status, the sampler's
 * counters, and the ledger export's state (one indexed count). The families, their labels and the bound on
 * series are in docs/metrics.md.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "common/job.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/daemon.h"
#include "scheduler/exporter.h"
#include "scheduler/metrics.h"
#include "scheduler/push.h"
#include "scheduler/sampler.h"
#include "scheduler/store.h"

static void
intensity(struct ebbd *d, struct metrics_text *t, int64_t now)
{
	json_t *sites = carbon_sites_json(d->carbon, now), *s, *p;
	size_t i, k;

	json_array_foreach(sites, i, s) {
		json_t *cur = json_object_get(s, "current");
		const char *zone = json_string_value(json_object_get(s,
		    "zone"));

		if (json_is_number(json_object_get(cur, "value")))
			metrics_gauge(t, "ebb_site_carbon_intensity_grams_per_kwh",
			    "Current carbon intensity of a site's grid",
			    json_number_value(json_object_get(cur, "value")),
			    "site", json_string_value(json_object_get(s,
			    "name")), "zone", zone ? zone : "", "signal",
			    json_string_value(json_object_get(s, "signal")),
			    "kind", json_string_value(json_object_get(cur,
			    "kind")), NULL);
		json_array_foreach(json_object_get(s, "providers"), k, p)
			metrics_counter(t, "ebb_provider_errors_total",
			    "Failed refreshes of a carbon-intensity provider",
			    (double)json_integer_value(json_object_get(p,
			    "failures")), "provider",
			    json_string_value(json_object_get(p, "name")),
			    "site", json_string_value(json_object_get(s,
			    "name")), NULL);
	}
	json_decref(sites);
}

struct render {
	struct ebbd		*d;
	struct metrics_text	*t;
};

/* The jobs running now or ended lately, each with its own series. */
static void
recent_job(void *arg, const struct store_recent *r)
{
	struct ebbd *d = ((struct render *)arg)->d;
	struct metrics_text *t = ((struct render *)arg)->t;
	char id[24];

	snprintf(id, sizeof(id), "%" PRId64, r->id);
	metrics_counter(t, "ebb_recent_job_energy_joules_total",
	    "Energy measured for a running or recently ended job (IT energy, "
	    "before PUE)", r->energy_j + (d->sampler != NULL ?
	    sampler_pending(d->sampler, r->id) : 0), "job_id", id,
	    "job_name", r->name, "user", r->user, "site", r->site, NULL);
	if (!isnan(r->grams))
		metrics_gauge(t, "ebb_recent_job_emissions_grams",
		    "Emissions accounted to a recently ended job, gCO2e, PUE "
		    "included (provisional: revised as actual intensity "
		    "arrives)",
		    r->grams, "job_id", id, "job_name", r->name, "user",
		    r->user, "site", r->site, NULL);
}

static void
recent(struct ebbd *d, struct metrics_text *t, int64_t now)
{
	const struct ebb_metrics *mc = &d->cfg->metrics;
	struct render rd = { d, t };
	int64_t total;

	if (mc->job_series == 0)
		return;
	/* With no linger, only running jobs: no end is that late. */
	if (store_recent_jobs(d->store, mc->job_linger > 0 ?
	    now - mc->job_linger : INT64_MAX, mc->job_series, recent_job, &rd,
	    &total) == -1) {
		log_warnx("metrics: %s", store_errmsg(d->store));
		return;
	}
	metrics_gauge(t, "ebb_recent_jobs_omitted",
	    "Running or recently ended jobs left without series of their own "
	    "(over metrics.job_series)", total > mc->job_series ?
	    (double)(total - mc->job_series) : 0, NULL);
}

/* The push of final ledger rows, when configured. */
static void
export(struct ebbd *d, struct metrics_text *t)
{
	struct push_stats st;
	char err[256];
	int rc;

	if ((rc = push_stats(d->push, &st, err, sizeof(err))) == -1)
		log_warnx("metrics: %s", err);
	if (rc != 0)
		return;
	metrics_gauge(t, "ebb_export_rows_waiting",
	    "Final ledger rows the export endpoint has not acknowledged yet",
	    (double)st.waiting, NULL);
	metrics_counter(t, "ebb_export_rows_total",
	    "Ledger rows the export endpoint acknowledged", (double)st.rows,
	    NULL);
	metrics_counter(t, "ebb_export_failures_total",
	    "Failed tries to send ledger rows to the export endpoint",
	    (double)st.failures, NULL);
	if (st.last_ok > 0)
		metrics_gauge(t, "ebb_export_last_success_timestamp_seconds",
		    "When the export endpoint last acknowledged rows (Unix "
		    "time)", (double)st.last_ok, NULL);
}

void
exporter_render(void *arg, struct metrics_text *t)
{
	struct ebbd *d = arg;
	int64_t states[JOB_NSTATES], now = ebb_now();
	struct store_totals tot;

	metrics_gauge(t, "ebb_build_info", "The ebbd that serves these "
	    "metrics (always 1)", 1, "version", EBB_VERSION, NULL);
	intensity(d, t, now);
	if (store_counts(d->store, states, &tot) == -1) {
		log_warnx("metrics: %s", store_errmsg(d->store));
		return;
	}
	for (int i = 0; i < JOB_NSTATES; i++)
		metrics_gauge(t, "ebb_jobs", "Jobs by state", (double)states[i],
		    "state", job_state_name((enum job_state)i), NULL);
	metrics_counter(t, "ebb_job_energy_joules_total",
	    "Energy measured for jobs (IT energy, before PUE)", tot.energy_j +
	    (d->sampler != NULL ? sampler_pending(d->sampler, -1) : 0), NULL);
	metrics_gauge(t, "ebb_job_emissions_grams",
	    "Emissions accounted to jobs, gCO2e, PUE included (a gauge: "
	    "revised as actual intensity replaces forecasts)", tot.grams,
	    NULL);
	metrics_gauge(t, "ebb_job_savings_grams",
	    "Counterfactual minus actual emissions over settled jobs, gCO2e "
	    "(a gauge: a job can emit more than its counterfactual)",
	    tot.saving_g, NULL);
	if (d->sampler != NULL)
		metrics_counter(t, "ebb_node_energy_joules_total",
		    "Node energy measured while jobs ran",
		    sampler_node_joules(d->sampler), "source",
		    sampler_method(d->sampler), NULL);
	recent(d, t, now);
	export(d, t);
}
