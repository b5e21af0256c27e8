/*
 * series: the carbon-intensity series the forecaster benches score
 * (bench-forecast, bench-forecast-oracle): the zones they read and one
 * trace file loaded onto a slot grid through the trace provider,
 * sanitized and resampled as ebbd would. Not a provider; bench code only.
 */
#ifndef EBB_BENCH_SERIES_H
#define EBB_BENCH_SERIES_H

#include <stddef.h>
#include <stdint.h>

/* The Electricity Maps files' life-cycle intensity column. */
#define EM_LCA	"Carbon Intensity gCO\xe2\x82\x82" "eq/kWh (LCA)"

/* The ten bundled Electricity Maps 2023 zones (examples/traces). */
extern const char *const em_zones[];
extern const size_t n_em_zones;

/* The 2020 "Let's Wait Awhile" zones, read from SHARED/data/... */
struct lwa_zone {
	const char	*name, *file;
};
extern const struct lwa_zone lwa_zones[];
extern const size_t n_lwa_zones;

/* One zone's intensity on a slot grid; v (NAN where unknown) is owned. */
struct series {
	double	*v;
	size_t	 n;
	int64_t	 slot, t0;
};

/*
 * Reads the trace at path (column, or the provider's default when NULL)
 * onto a grid of `slot` seconds, gaps up to 2 h filled. Returns 0 (free
 * s->v), or -1 with err.
 */
int	load_series(const char *path, const char *column, int64_t slot,
	    struct series *s, char *err, size_t errlen);

#endif
