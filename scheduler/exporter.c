/*
 * exporter: builds the /metrics families from ebbd's state. Reads only:
 * two aggregate queries, the carbon manager's series and status, and the
 * sampler's counters.
 */
#include <math.h>
#include <stdio.h>

#include "common/job.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/daemon.h"
#include "scheduler/exporter.h"
#include "scheduler/metrics.h"
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

void
exporter_render(void *arg, struct metrics_text *t)
{
	struct ebbd *d = arg;
	int64_t states[JOB_NSTATES];
	struct store_totals tot;

	intensity(d, t, ebb_now());
	if (store_counts(d->store, states, &tot) == -1) {
		log_warnx("metrics: %s", store_errmsg(d->store));
		return;
	}
	for (int i = 0; i < JOB_NSTATES; i++)
		metrics_gauge(t, "ebb_jobs", "Jobs by state", (double)states[i],
		    "state", job_state_name((enum job_state)i), NULL);
	metrics_counter(t, "ebb_job_energy_joules_total",
	    "Energy measured for jobs (IT energy, before PUE)", tot.energy_j,
	    NULL);
	metrics_counter(t, "ebb_job_emissions_grams_total",
	    "Emissions accounted to jobs, gCO2e, PUE included", tot.grams,
	    NULL);
	metrics_gauge(t, "ebb_job_savings_grams_total",
	    "Counterfactual minus actual emissions over settled jobs, gCO2e "
	    "(a gauge: a job can emit more than its counterfactual)",
	    tot.saving_g, NULL);
	if (d->sampler != NULL)
		metrics_counter(t, "ebb_node_energy_joules_total",
		    "Node energy measured while jobs ran",
		    sampler_node_joules(d->sampler), "source",
		    sampler_method(d->sampler), NULL);
}
