/*
 * series: the zones the forecaster benches score and their loading (see
 * series.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/series.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/carbon/provider.h"

#define HOUR	3600

const char *const em_zones[] = { "AU-VIC", "CA-ON", "CL-SIC", "DE-LU", "GB",
    "KR", "SG", "US-CAL-CISO", "US-MIDA-PJM", "US-NY-NYIS" };
const size_t n_em_zones = sizeof(em_zones) / sizeof(em_zones[0]);

const struct lwa_zone lwa_zones[] = {
	{ "DE-2020", "ger_ci.csv" },
	{ "GB-2020", "gb_ci.csv" },
	{ "FR-2020", "fr_ci.csv" },
};
const size_t n_lwa_zones = sizeof(lwa_zones) / sizeof(lwa_zones[0]);

int
load_series(const char *path, const char *column, int64_t slot,
    struct series *s, char *err, size_t errlen)
{
	struct provider_conf conf;
	struct pstate st;
	struct ci_batch b;
	struct ci_rejects rej = { 0 };
	int64_t t1;
	int rc;

	memset(&conf, 0, sizeof(conf));
	memset(&st, 0, sizeof(st));
	conf.file = xstrdup(path);
	conf.value_column = column != NULL ? xstrdup(column) : NULL;
	conf.scale = 1;
	st.conf = &conf;
	ci_batch_init(&b, path, CI_AVERAGE, "trace");
	rc = prov_trace_ops.load(&st, INT64_MAX / 2, 0, INT64_MAX / 2, &b,
	    err, errlen);
	prov_trace_ops.clear(&st);
	free(conf.file);
	free(conf.value_column);
	if (rc == 0)
		ci_sanitize(&b, INT64_MAX / 2, &rej);
	if (rc == 0 && b.n == 0) {
		snprintf(err, errlen, "%s: no usable points", path);
		rc = -1;
	}
	if (rc == -1) {
		ci_batch_free(&b);
		return -1;
	}
	s->slot = slot;
	s->t0 = b.pts[0].t - b.pts[0].t % slot;
	t1 = b.pts[b.n - 1].t + slot;
	s->n = (size_t)((t1 - s->t0) / slot);
	s->v = xmalloc(s->n * sizeof(*s->v));
	ci_resample(b.pts, b.n, slot, s->t0, s->t0 + (int64_t)s->n * slot,
	    slot, s->v);
	ci_fill_gaps(s->v, s->n, (size_t)(2 * HOUR / slot), NULL);
	ci_batch_free(&b);
	return 0;
}
