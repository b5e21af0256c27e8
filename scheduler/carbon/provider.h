/*
 * provider: where carbon-intensity data comes from, one ops table per
 * source (prov_*.c): trace files, Electricity Maps, WattTime, the UK Carbon
 * Intensity API and ENTSO-E.
 *
 * HTTP providers are driven as a short sequence of requests per refresh
 * (e.g. WattTime: login, historical, forecast): request(step) says what to
 * fetch, response(step) turns the body into points. They do no I/O
 * themselves, so every parser is tested on recorded responses and the
 * carbon manager (carbon.c) owns timers, retries and fallback. Local
 * providers (trace) implement load() instead. Secrets (tokens, passwords)
 * are read when a refresh starts, live only in struct pstate, and never
 * appear in an error message.
 */
#ifndef EBB_PROVIDER_H
#define EBB_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "scheduler/carbon/ci.h"

/* Runtime state of one provider at one site; owned by the carbon manager. */
struct pstate {
	const struct provider_conf *conf;
	const char	*zone;		/* resolved zone id */
	char		*secret;	/* token or password, read per refresh */
	char		*session;	/* e.g. WattTime bearer token */
	void		*priv;		/* provider-private, freed by ops->clear */
};

/* An HTTP request a provider wants made; strings are owned (preq_clear). */
#define PREQ_MAX_HEADERS	4
struct preq {
	char	*url;
	char	*headers[PREQ_MAX_HEADERS + 1];	/* NULL-terminated */
	char	*userpwd;
};
void	preq_clear(struct preq *);

struct provider_ops {
	const char	*name;
	enum ci_signal	 signal;	/* what its numbers mean */
	int64_t		 min_refresh;	/* default seconds between refreshes */
	const char	*base_url;	/* public API root, NULL for local */
	int		 needs_secret;	/* 1: token (or password) required */
	/*
	 * HTTP: fill *req for step `step` of a refresh at `now` and return 1,
	 * or return 0 when the refresh is complete, -1 with err on error.
	 */
	int	(*request)(struct pstate *, int step, int64_t now,
		    struct preq *req, char *err, size_t errlen);
	/*
	 * HTTP: digest the body answering step `step`; append points to out
	 * (zone, signal and source are set by the caller). -1 with err if the
	 * body is malformed or says something unusable.
	 */
	int	(*response)(struct pstate *, int step, int64_t now,
		    const char *body, size_t len, struct ci_batch *out,
		    char *err, size_t errlen);
	/* Local: append the points for [t0, t1) as known at now. */
	int	(*load)(struct pstate *, int64_t now, int64_t t0, int64_t t1,
		    struct ci_batch *out, char *err, size_t errlen);
	/* Release st->priv (may be NULL). */
	void	(*clear)(struct pstate *);
};

extern const struct provider_ops prov_trace_ops;
extern const struct provider_ops prov_electricitymaps_ops;
extern const struct provider_ops prov_watttime_ops;
extern const struct provider_ops prov_ukci_ops;
extern const struct provider_ops prov_entsoe_ops;

/* By config name; NULL if unknown. */
const struct provider_ops *provider_lookup(const char *name);

#endif
