/*
 * forecast: ebb's own carbon-intensity forecaster, used where a provider
 * issues no forecast (traces, history-only APIs) or is down.
 *
 * Pure and deterministic: history in, forecast out, no I/O, no clock.
 * The history is one zone's intensity on the slot grid (ci_resample's
 * output, NAN where unknown). The forecast is a recent daily profile with
 * a weekday/weekend adjustment, plus the deviation from it that a
 * regression fitted on the history predicts from recent deviations; per
 * lead time it falls back to same-hour-yesterday where that erred less
 * on the last days of the history, and it comes with a prediction
 * interval calibrated on those days; forecast.c says how.
 */
#ifndef EBB_FORECAST_H
#define EBB_FORECAST_H

#include <stddef.h>
#include <stdint.h>

/* Days of history the forecaster reads; older slots are ignored. */
#define FC_HISTORY_DAYS	28
/* The quantiles fc_forecast_band's interval stands for. */
#define FC_LO_Q		0.1
#define FC_HI_Q		0.9

/*
 * Forecasts `horizon` slots following the history: hist[i] is the mean
 * intensity over [t_first + i * slot, t_first + (i + 1) * slot), NAN if
 * unknown; out[j] (caller-allocated, `horizon` doubles) is the forecast
 * for the slot starting at t_first + (n + j) * slot. slot must divide a
 * day (300, 900, 1800, 3600 ...). Only the last FC_HISTORY_DAYS days of
 * hist are read. Returns 0, or -1 with err when slot is unusable or those
 * days hold no known value.
 */
int	fc_forecast(const double *hist, size_t n, int64_t slot, int64_t t_first,
	    size_t horizon, double *out, char *err, size_t errlen);
/*
 * fc_forecast, and where lo and hi are not NULL (caller-allocated,
 * `horizon` doubles each) the FC_LO_Q and FC_HI_Q quantiles of the actual
 * intensity given the forecast: the actual is expected below lo[j] one
 * time in ten and above hi[j] one time in ten, and lo[j] <= out[j] <=
 * hi[j]. They are calibrated on the
 * forecaster's own errors over the last days of hist; NAN where the
 * history is too short for that (under 9 days).
 */
int	fc_forecast_band(const double *hist, size_t n, int64_t slot,
	    int64_t t_first, size_t horizon, double *out, double *lo,
	    double *hi, char *err, size_t errlen);

#endif
