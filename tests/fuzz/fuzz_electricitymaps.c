/*
 * fuzz_electricitymaps: the Electricity Maps v3 provider's response parser
 * (history and forecast bodies), through its ops table as the carbon
 * manager calls it (fuzz_provider), then ci_sanitize.
 */
#include "config/config.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct provider_conf conf;

	provider_conf_defaults(&conf);
	fuzz_provider(&prov_electricitymaps_ops, &conf, NULL, data, size);
	return 0;
}
