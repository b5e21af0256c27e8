/*
 * fuzz_entsoe: the ENTSO-E provider's A75 XML parser (libxml2 document,
 * TimeSeries, Periods, Points, the production mix), through its ops table
 * as the carbon manager calls it (fuzz_provider), then ci_sanitize.
 */
#include "config/config.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct provider_conf conf;

	provider_conf_defaults(&conf);
	fuzz_provider(&prov_entsoe_ops, &conf, NULL, data, size);
	return 0;
}
