/*
 * fuzz_trace: the trace provider's CSV reader (quotes, BOM, named or
 * numbered columns, ISO-8601 stamps) and its window and replay logic,
 * through its ops table: the input is the trace file, loaded once by
 * column index as recorded and once by header name with replay onto the
 * present, each followed by ci_sanitize as the carbon manager does.
 */
#include <stdlib.h>

#include "config/config.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

static void
load(struct provider_conf *conf)
{
	struct pstate st = { .conf = conf, .zone = "DE" };
	struct ci_rejects rej = { 0 };
	struct ci_batch b;
	char err[512];

	ci_batch_init(&b, st.zone, CI_AVERAGE, "trace");
	if (prov_trace_ops.load(&st, FUZZ_NOW, FUZZ_NOW - 7 * 86400,
	    FUZZ_NOW + 1800, &b, err, sizeof(err)) == 0)
		ci_sanitize(&b, FUZZ_NOW, &rej);
	prov_trace_ops.clear(&st);
	ci_batch_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct provider_conf conf;

	provider_conf_defaults(&conf);
	conf.file = (char *)fuzz_file(data, size);
	load(&conf);
	conf.time_column = "Datetime (UTC)";
	conf.value_column = "Carbon Intensity gCO₂eq/kWh (LCA)";
	conf.scale = 0.5;
	conf.replay = 1;
	load(&conf);
	return 0;
}
