/*
 * fuzz_ukci: the UK Carbon Intensity API provider's response parser,
 * national (region 0) and regional (region 13, London), through its ops
 * table as the carbon manager calls it (fuzz_provider), then ci_sanitize.
 */
#include "config/config.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int regions[] = { 0, 13 };
	struct provider_conf conf;

	provider_conf_defaults(&conf);
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		conf.region = regions[i];
		fuzz_provider(&prov_ukci_ops, &conf, NULL, data, size);
	}
	return 0;
}
