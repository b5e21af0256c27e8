/*
 * ledger: the per-job emissions record.
 *
 * It keeps the energy a job was measured to use, interval by interval,
 * and settles it: each interval's emissions from the best intensity known
 * (accounting.c does the arithmetic), the job's total, and the
 * counterfactual, what the same energy would have emitted had the job run
 * at once, at its submit time, at its origin site. A job stays provisional
 * while any of that rests on a forecast; it becomes final once every slot
 * it touches (its own and the counterfactual's) has an actual intensity,
 * or once it ended final_after seconds ago, then with the best data there
 * is. One signal per job: the counterfactual uses the signal of the site
 * the job ran on, so a saving never compares average with marginal.
 *
 * It does not measure energy, fetch intensity or decide when to settle:
 * ebbd calls ledger_record as samples arrive and ledger_settle when
 * intensity data or the job's state changes. All storage goes through
 * store.c (the caller commits).
 */
#ifndef EBB_LEDGER_H
#define EBB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct store;
struct carbon;
struct ebb_config;
struct job;

/*
 * Records that job_id used joules of IT energy over [t0, t1), measured by
 * method ("rapl", "model", "rapl+nvml", ...). An interval with the same
 * start replaces the earlier one. The job's ledger becomes provisional.
 * Returns 0, or -1 with err.
 */
int	ledger_record(struct store *, int64_t job_id, int64_t t0, int64_t t1,
	    double joules, const char *method, char *err, size_t errlen);

/*
 * (Re)computes the ledger of job j as of now with the intensity the
 * carbon manager knows then (zone, signal and PUE of the site it ran on;
 * origin = its first listed site, else that site), and marks it final
 * as described above. A final ledger, or a job with no energy recorded,
 * is left as it is. Returns 0, or -1 with err (the job's site or origin
 * is not configured, the intensity cannot be read, the store failed).
 */
int	ledger_settle(struct store *, struct carbon *, const struct ebb_config *,
	    const struct job *j, int64_t now, int64_t final_after,
	    char *err, size_t errlen);

/*
 * The report row of job j (docs/report.md; null for what is not known) in
 * *row (new reference). Returns 1, 0 (and *row NULL) if the job has no
 * ledger, or -1 with err.
 */
int	ledger_job_json(struct store *, const struct job *j, json_t **row,
	    char *err, size_t errlen);

#endif
