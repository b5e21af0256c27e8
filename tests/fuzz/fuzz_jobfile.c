/*
 * fuzz_jobfile: job files as `ebb submit -f FILE` reads them (YAML keys,
 * command or argv, env, durations, sizes, times relative to now). A
 * refused file must come with at least one error message; an accepted one
 * becomes the submit request the CLI sends, which then goes through
 * job_from_submit as ebbd would check it.
 */
#include <stdlib.h>

#include "common/job.h"
#include "config/jobfile.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job *j;
	char *errs, err[512];
	json_t *spec;

	if ((spec = jobfile_load(fuzz_file(data, size), FUZZ_NOW, &errs)) ==
	    NULL) {
		if (errs == NULL || *errs == '\0')
			fuzz_fail("job file refused without a message");
		free(errs);
		return 0;
	}
	if ((j = job_from_submit(spec, FUZZ_NOW, err, sizeof(err))) != NULL)
		job_free(j);
	json_decref(spec);
	return 0;
}
