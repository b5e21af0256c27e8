/*
 * ci: carbon-intensity points, batches and the pure operations on them.
 *
 * A point is the intensity of one zone's grid over an interval starting at
 * t, in gCO2e/kWh, tagged with its kind (measured, provider forecast, ebb's
 * own forecast), its vintage (when it was issued or fetched) and flags
 * (filled by interpolation, replayed from a trace). A batch is what one
 * provider returned for one zone and signal in one refresh. Everything here
 * is pure: no I/O, no clock.
 */
#ifndef EBB_CI_H
#define EBB_CI_H

#include <stddef.h>
#include <stdint.h>

enum ci_signal { CI_AVERAGE, CI_MARGINAL };
enum ci_kind { CI_ACTUAL, CI_FORECAST, CI_OWN };

#define CI_FILLED	0x01	/* interpolated across a gap */
#define CI_REPLAY	0x02	/* a trace year mapped onto the present */

/*
 * Plausibility. A point of signal s outside [CI_MIN, ci_max_value(s)]
 * g/kWh is refused: no grid's average (location-based, life-cycle or
 * direct) or marginal rate comes near 1500 g/kWh (coal plants emit about
 * 1000), and 0 is possible (all-hydro zones, curtailment at the margin).
 * The actuals (or forecasts) of a batch whose values are all below
 * CI_UNIT_FLOOR but not all 0 are in the wrong unit (kg/kWh, t/MWh) and
 * refused together. An actual point more than CI_FUTURE_SLACK s after now
 * is refused: nobody has measured it yet.
 */
#define CI_MIN			0.0	/* g/kWh */
#define CI_MAX_AVERAGE		1500.0	/* g/kWh */
#define CI_MAX_MARGINAL		1500.0	/* g/kWh */
#define CI_UNIT_FLOOR		1.0	/* g/kWh */
#define CI_FUTURE_SLACK		300	/* s */

struct ci_point {
	int64_t		t;		/* interval start, epoch s (UTC) */
	double		value;		/* gCO2e/kWh */
	int64_t		vintage;	/* issued (forecasts) / fetched */
	uint8_t		kind;		/* enum ci_kind */
	uint8_t		flags;		/* CI_FILLED | CI_REPLAY */
};

struct ci_batch {
	char		*zone;
	enum ci_signal	 signal;
	char		*source;	/* provider name */
	struct ci_point	*pts;
	size_t		 n, cap;
};

/* Why ci_sanitize() refused a point. */
enum ci_reject {
	CI_REJ_NOT_FINITE,	/* NaN or infinite */
	CI_REJ_NEGATIVE,	/* below CI_MIN */
	CI_REJ_TOO_HIGH,	/* above ci_max_value(signal) */
	CI_REJ_FUTURE,		/* an actual after now + CI_FUTURE_SLACK */
	CI_REJ_DUPLICATE,	/* same t and kind as the previous kept one */
	CI_REJ_OUT_OF_ORDER,	/* t before the previous kept one's */
	CI_REJ_UNIT,		/* in a batch below CI_UNIT_FLOOR: kg/kWh */
	CI_REJ_N
};

#define CI_REJ_SHOWN	5	/* refused points kept as examples */

struct ci_rejects {
	size_t		n[CI_REJ_N];	/* by reason */
	struct {
		struct ci_point	p;
		enum ci_reject	why;
	}		shown[CI_REJ_SHOWN];	/* the first refused points */
	size_t		nshown;
};

const char *ci_signal_name(enum ci_signal);	/* "average" | "marginal" */
int	ci_signal_parse(const char *);		/* -1 if unknown */
const char *ci_kind_name(enum ci_kind);		/* "actual" | "forecast" | "ebb" */
int	ci_kind_parse(const char *);

/* Batches own their strings and points; ci_batch_free releases them. */
void	ci_batch_init(struct ci_batch *, const char *zone, enum ci_signal,
	    const char *source);
void	ci_batch_add(struct ci_batch *, int64_t t, double value,
	    enum ci_kind kind, int64_t vintage, unsigned flags);
void	ci_batch_free(struct ci_batch *);

/* The largest plausible value of a signal, g/kWh. */
double	ci_max_value(enum ci_signal);

/*
 * Drops, in place, points that are not finite, outside the signal's
 * bounds, actuals in the future of now (beyond CI_FUTURE_SLACK), out of
 * order (t before the previous kept point of the same kind) or duplicated
 * (same t and kind), and then every point of a kind whose kept points are
 * all below CI_UNIT_FLOOR and not all 0. Counts each by reason in *rej
 * (added to what it holds) and keeps the first CI_REJ_SHOWN there as
 * examples.
 */
void	ci_sanitize(struct ci_batch *, int64_t now, struct ci_rejects *rej);
/* All the points *rej counts. */
size_t	ci_rejects_total(const struct ci_rejects *);
/*
 * "2 negative, 1 above 1500 g/kWh; e.g. -3 at 2026-11-22T13:00:00Z
 * (negative), ...": the counts by reason and the examples, for a log line
 * (the signal gives the bound). The caller frees it.
 */
char	*ci_rejects_format(const struct ci_rejects *, enum ci_signal);

/*
 * Resamples points (sorted by t, each holding until the next one or for
 * `hold` seconds, whichever comes first, so a missing point is a gap) onto
 * the grid t0, t0 + slot, ... < t1: out[i] is the
 * time-weighted mean over slot i, or NAN where no point covers any of it.
 * Returns the number of slots, (t1 - t0) / slot.
 */
size_t	ci_resample(const struct ci_point *pts, size_t n, int64_t hold,
	    int64_t t0, int64_t t1, int64_t slot, double *out);

/* The start of the slot holding t (t rounded down to a multiple of slot). */
int64_t	ci_slot_floor(int64_t t, int64_t slot);
/*
 * The typical spacing of sorted points (the smallest gap among the first
 * 64, at most an hour): how long the last of them should hold.
 */
int64_t	ci_native_step(const struct ci_point *pts, size_t n);

/*
 * Fills runs of NAN no longer than max_gap slots that have a value on both
 * sides by linear interpolation; sets filled[i] = 1 where it filled (filled
 * may be NULL). Returns how many slots it filled.
 */
size_t	ci_fill_gaps(double *v, size_t n, size_t max_gap, uint8_t *filled);

#endif
