/*
 * carbon: ebbd's carbon-intensity manager.
 *
 * For every site it refreshes the listed providers in fallback order on
 * the daemon's loop (trace files directly, APIs through http.c), rejects
 * bad points, keeps every good one in the store, and records each
 * provider's status. It answers one question for the rest of ebbd: the
 * best known series for a zone at slot resolution over [t0, t1) as of now:
 * actuals where known, else the newest provider forecast, else ebb's own
 * forecast, gaps up to max_gap interpolated; every slot says which.
 */
#ifndef EBB_CARBON_H
#define EBB_CARBON_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "scheduler/carbon/ci.h"

struct carbon;
struct store;
struct ebb_config;

/* A series on the slot grid; arrays of n entries, owned (ci_series_free). */
struct ci_series {
	char		*zone;
	enum ci_signal	 signal;
	int64_t		 t0, slot;
	size_t		 n;
	double		*value;		/* NAN where nothing is known */
	uint8_t		*kind;		/* enum ci_kind */
	uint8_t		*flags;		/* CI_FILLED | CI_REPLAY */
	int64_t		*vintage;
	const char	**source;	/* static strings: provider name, "ebb" */
	/*
	 * The FC_LO_Q and FC_HI_Q quantiles (forecast.h) of the actual
	 * where the value is ebb's own forecast and its backtest gave them;
	 * NAN elsewhere (actuals, provider forecasts, a short history). A
	 * planner wanting deadline safety reads hi[i] where it is known.
	 */
	double		*lo, *hi;
};
void	ci_series_free(struct ci_series *);

/*
 * Starts refreshing every configured provider; restarts resume from the
 * status kept in the store (nothing is fetched again before its time).
 * cfg must outlive the manager or be replaced with carbon_reconfigure().
 */
struct carbon *carbon_new(struct ev_loop *, struct store *,
	    const struct ebb_config *, char *err, size_t errlen);
void	carbon_free(struct carbon *);
/* The config changed (SIGHUP): providers are set up again. */
int	carbon_reconfigure(struct carbon *, const struct ebb_config *,
	    char *err, size_t errlen);

/*
 * The best known series for `zone` (signal as given) over [t0, t1) on the
 * config's slot grid, as of now. Returns 0, or -1 with err if the range is
 * empty or too long (more than 31 days).
 */
int	carbon_series(struct carbon *, const char *zone, enum ci_signal,
	    int64_t t0, int64_t t1, int64_t now, struct ci_series *out,
	    char *err, size_t errlen);
/* Calls cb(arg) whenever new intensity data has been stored. */
void	carbon_on_update(struct carbon *, void (*cb)(void *), void *arg);
/* Starts a refresh of every site that is not refreshing now. */
void	carbon_refresh_now(struct carbon *);
/* The signal a site's providers give (average when it has none). */
enum ci_signal carbon_site_signal(const struct carbon *, const char *site);

/*
 * The cleanest window of `len` seconds in s that starts at now or at a
 * slot boundary after it and ends by the series' end: its start, with
 * *mean its time-weighted mean over exactly [start, start + len) and *own
 * 1 if any of it rests on ebb's own forecast; -1 when no such window has
 * every slot it touches known (or len <= 0).
 */
int64_t	carbon_window(const struct ci_series *s, int64_t now, int64_t len,
	    double *mean, int *own);

/* The "sites" reply: each site's zone, current point, provider status. */
json_t	*carbon_sites_json(struct carbon *, int64_t now);
/* Point i of a series as a protocol POINT object (new reference). */
json_t	*carbon_point_json(const struct ci_series *, size_t i);

#endif
