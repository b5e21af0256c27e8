/*
 * fuzz_workload: the workload CSV `ebb simulate` reads (header, columns,
 * times, site lists checked against a config), against the three sites of
 * examples/simulate/ebb.yaml, loaded once. A refused file must come with
 * an error message. The simulation itself is not run.
 */
#include <stdlib.h>

#include "config/config.h"
#include "scheduler/simulate.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ebb_config *cfg;
	struct sim_workload *wl;
	char err[512];

	if (cfg == NULL) {
		char *errs;

		if (config_load(EBB_SOURCE_DIR "/examples/simulate/ebb.yaml",
		    &cfg, &errs) == -1)
			fuzz_fail("examples/simulate/ebb.yaml: %s", errs);
	}
	err[0] = '\0';
	if (sim_workload_load(fuzz_file(data, size), cfg, &wl, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0')
			fuzz_fail("workload refused without a message");
		return 0;
	}
	sim_workload_free(wl);
	return 0;
}
