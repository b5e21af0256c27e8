/*
 * accounting: the emissions of a job from the energy it used and the
 * carbon intensity of its site's grid while it used it.
 *
 * The one place that multiplies energy by intensity: ebbd's ledger and
 * `ebb simulate` both call it. Energy-weighted: each piece of energy is
 * spread evenly over the interval it was used in, split at slot
 * boundaries, and each part is multiplied by the intensity of the slot it
 * falls in (partial slots count by their overlap). Facility energy is IT
 * energy times the site's PUE.
 *
 * Units: power W, times and durations UTC seconds, intensity gCO2e/kWh,
 * energy kWh, emissions gCO2e. It does not fetch, forecast or fill
 * intensity: a slot without a value (NAN, or outside the series) leaves
 * its energy unaccounted, reported in unknown_kwh, never guessed.
 */
#ifndef EBB_ACCOUNTING_H
#define EBB_ACCOUNTING_H

#include <stddef.h>
#include <stdint.h>

/* Intensity of one zone on the slot grid; ci is borrowed. */
struct acct_series {
	int64_t		 t0;		/* start of slot 0, epoch s */
	int64_t		 slot;		/* s, > 0 */
	size_t		 n;
	const double	*ci;		/* g/kWh per slot, NAN unknown */
};

/* Energy used over [start, end): energy_kwh of IT energy, spread evenly. */
struct acct_use {
	int64_t		 start, end;
	double		 energy_kwh;
};

struct acct_result {
	double		 energy_kwh;	/* IT energy, all of it */
	double		 emissions_g;	/* of the energy with a known intensity,
					   PUE included */
	double		 unknown_kwh;	/* IT energy in slots with no intensity */
};

/*
 * Emissions of the uses (any order, may be several for a job that was
 * paused and resumed) at a site with the given PUE (>= 1). Fills *out and
 * returns 0, or -1 with err when an interval is empty or reversed, energy
 * is negative, or the series or PUE is unusable.
 */
int	acct_energy(const struct acct_series *, double pue,
	    const struct acct_use *, size_t nuse, struct acct_result *out,
	    char *err, size_t errlen);

/*
 * The same for a job drawing a constant power_w (W) over the run
 * intervals [start[i], end[i]): energy = power_w * seconds / 3.6e6 kWh.
 */
int	acct_power(const struct acct_series *, double pue, double power_w,
	    const int64_t *start, const int64_t *end, size_t nrun,
	    struct acct_result *out, char *err, size_t errlen);

#endif
