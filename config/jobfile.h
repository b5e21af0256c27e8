/*
 * jobfile: `ebb submit -f job.yaml`, a job described in YAML.
 *
 * Turns a job file into the JSON "job" object of a submit request (see
 * common/job.h): durations and sizes become numbers, deadlines become epoch
 * seconds relative to `now`. Every error is reported as
 * "file:line:col: message".
 */
#ifndef EBB_JOBFILE_H
#define EBB_JOBFILE_H

#include <stdint.h>

#include <jansson.h>

/*
 * Returns a new JSON object (caller decrefs) or NULL with a malloc'd
 * "file:line:col: message\n" list in *errs (caller frees).
 */
json_t	*jobfile_load(const char *path, int64_t now, char **errs);

/*
 * A Kubernetes quantity ("2", "500m", "512Mi", "1G") as a positive number
 * (cpus or bytes); -1 if it is not one.
 */
int	jobfile_quantity(const char *s, double *out);

#endif
