/*
 * fuzz_watttime: the WattTime v3 provider's response parser (login,
 * historical and forecast bodies), through its ops table as the carbon
 * manager calls it (fuzz_provider), then ci_sanitize: once logging in
 * first, once with a session already held.
 */
#include "config/config.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct provider_conf conf;

	provider_conf_defaults(&conf);
	conf.user = "fuzz";
	fuzz_provider(&prov_watttime_ops, &conf, NULL, data, size);
	fuzz_provider(&prov_watttime_ops, &conf, "session", data, size);
	return 0;
}
