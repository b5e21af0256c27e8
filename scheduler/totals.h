/*
 * totals: the per-signal totals of emissions report rows (docs/report.md),
 * shared by ebbd's report command and ebb report, which adds up the rows
 * of every page it fetched. Pure: JSON rows in, JSON totals out.
 */
#ifndef EBB_TOTALS_H
#define EBB_TOTALS_H

#include <jansson.h>

/*
 * Totals of report rows, one object per signal in order of first
 * appearance (never summed across signals): signal, jobs, energy_kwh,
 * emissions_g, and counterfactual_g, saving_g, saving_pct over the jobs
 * whose saving is known (saved_jobs of them). New reference.
 */
json_t	*totals_of(const json_t *rows);

#endif
