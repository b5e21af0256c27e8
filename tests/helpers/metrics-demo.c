/*
 * metrics-demo: serves a fixed render of every metric ebbd exports on
 * /metrics through scheduler/metrics on a libev loop, so a real Prometheus
 * can scrape it (tests/integration/it_prometheus.sh). Prints the port it
 * listens on, one line, then runs until SIGTERM or SIGINT.
 *
 * usage: metrics-demo [ADDR [PORT]]   (default 127.0.0.1, a free port)
 *
 * The values are made up and never change; it is not a daemon.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "common/job.h"
#include "common/log.h"
#include "scheduler/metrics.h"

static void
render(void *arg, struct metrics_text *t)
{
	static const double	 jobs[JOB_NSTATES] = { 3, 2, 1, 17, 1, 0 };
	const char		*ci = "ebb_site_carbon_intensity_grams_per_kwh";
	const char		*cihelp = "Grid carbon intensity at a site "
	    "(gCO2e/kWh).";
	const char		*rj = "ebb_recent_job_energy_joules_total";
	const char		*rjhelp = "Energy measured for a recent job (J).";
	int			 s;

	metrics_gauge(t, "ebb_build_info", "The ebbd serving these.", 1,
	    "version", "0.1.0", NULL);
	metrics_gauge(t, ci, cihelp, 312.5, "site", "berlin-1", "zone", "DE",
	    "signal", "average", "kind", "actual", NULL);
	metrics_gauge(t, ci, cihelp, 298, "site", "berlin-1", "zone", "DE",
	    "signal", "average", "kind", "forecast", NULL);
	metrics_gauge(t, ci, cihelp, 401.25, "site", "rack \"7\"\\east",
	    "zone", "US-CAL-CISO", "signal", "marginal", "kind", "actual",
	    NULL);
	for (s = 0; s < JOB_NSTATES; s++)
		metrics_gauge(t, "ebb_jobs", "Jobs by state.", jobs[s],
		    "state", job_state_name(s), NULL);
	metrics_counter(t, "ebb_job_energy_joules_total",
	    "Energy measured for jobs (J).", 5.4e6, NULL);
	metrics_gauge(t, "ebb_job_emissions_grams",
	    "Emissions of jobs (gCO2e).", 468.75, NULL);
	metrics_gauge(t, "ebb_job_savings_grams",
	    "Emissions avoided against running at once (gCO2e).", 120.5,
	    NULL);
	metrics_counter(t, "ebb_node_energy_joules_total",
	    "Energy measured by source (J).", 7.2e6, "source", "rapl", NULL);
	metrics_counter(t, "ebb_node_energy_joules_total",
	    "Energy measured by source (J).", 1.5e5, "source", "model", NULL);
	metrics_counter(t, "ebb_provider_errors_total",
	    "Failed carbon-intensity provider requests.", 2,
	    "provider", "electricitymaps", NULL);
	metrics_counter(t, "ebb_provider_errors_total",
	    "Failed carbon-intensity provider requests.", 0,
	    "provider", "watttime", NULL);
	metrics_counter(t, rj, rjhelp, 3600, "job_id", "41", "job_name",
	    "train", "user", "alice", "site", "berlin-1", NULL);
	metrics_counter(t, rj, rjhelp, 90.5, "job_id", "42", "job_name",
	    "say \"hi\"\n\\o/", "user", "bob", "site", "berlin-1", NULL);
	metrics_gauge(t, "ebb_recent_job_emissions_grams",
	    "Emissions of a recently ended job (gCO2e).", 0.25, "job_id", "41",
	    "job_name", "train", "user", "alice", "site", "berlin-1", NULL);
	metrics_gauge(t, "ebb_recent_jobs_omitted",
	    "Jobs left without series of their own.", 0, NULL);
	metrics_gauge(t, "ebb_export_rows_waiting",
	    "Final ledger rows not acknowledged yet.", 3, NULL);
	metrics_counter(t, "ebb_export_rows_total",
	    "Ledger rows acknowledged.", 1200, NULL);
	metrics_counter(t, "ebb_export_failures_total",
	    "Failed tries to send ledger rows.", 4, NULL);
	metrics_gauge(t, "ebb_export_last_success_timestamp_seconds",
	    "When rows were last acknowledged.", 1796605991, NULL);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	struct ev_loop	*loop = EV_DEFAULT;
	struct metrics	*m;
	ev_signal	 term, intr;
	char		 err[256];

	log_init("metrics-demo", 1);
	if (argc > 3) {
		fprintf(stderr, "usage: metrics-demo [ADDR [PORT]]\n");
		return 2;
	}
	m = metrics_open(loop, argc > 1 ? argv[1] : NULL,
	    argc > 2 ? atoi(argv[2]) : 0, render, NULL, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "metrics-demo: %s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&term, stop_cb, SIGTERM);
	ev_signal_start(loop, &term);
	ev_signal_init(&intr, stop_cb, SIGINT);
	ev_signal_start(loop, &intr);
	printf("%d\n", metrics_port(m));
	fflush(stdout);
	ev_run(loop, 0);
	metrics_close(m);
	return 0;
}
