/*
 * carbon: refreshes each site's providers in fallback order, keeps what
 * they return in the store, and builds the best known series per zone
 * (stored points, gap filling, then ebb's own forecast). A provider that
 * answered with a Retry-After longer than a request waits is not asked
 * again before then (its retry_at, kept in the store): the site's next
 * providers serve meanwhile. It does not parse provider responses
 * (prov_*.c) or speak HTTP (http.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "scheduler/carbon/carbon.h"
#include "scheduler/carbon/forecast.h"
#include "common/http.h"
#include "scheduler/carbon/provider.h"
#include "scheduler/store.h"

#define MAX_BODY	(4u << 20)	/* bytes of one provider response */
#define RETRY_FAILED	300		/* s before a failed cycle is retried */
#define MAX_SERIES	(31 * 86400)	/* longest series carbon_series gives */
#define FIRST_LOAD	((FC_HISTORY_DAYS + 2) * 86400)	/* trace history */

struct prov_rt {
	const struct provider_ops	*ops;
	const struct provider_conf	*conf;
	struct pstate			 st;
	char				*zone;		/* the provider's id */
	struct store_prov		 status;
};

struct site_rt {
	struct carbon		*c;
	const struct ebb_site	*conf;
	char			*zone;		/* where its points are kept */
	struct prov_rt		*provs;
	size_t			 nprovs;
	ev_timer		 timer;
	int			 busy;		/* a refresh is under way */
	size_t			 cur;		/* provider being tried */
	int			 step;		/* its request number */
	int64_t			 started;
	struct ci_batch		 batch;
};

struct carbon {
	struct ev_loop		*loop;
	struct store		*store;
	const struct ebb_config	*cfg;
	struct http		*http;
	struct site_rt		*sites;
	size_t			 nsites;
	void			(*on_update)(void *);
	void			*on_update_arg;
};

static void try_provider(struct site_rt *);
static void next_request(struct site_rt *);

void
ci_series_free(struct ci_series *s)
{
	free(s->zone);
	free(s->value);
	free(s->kind);
	free(s->flags);
	free(s->vintage);
	free(s->source);
	free(s->lo);
	free(s->hi);
	memset(s, 0, sizeof(*s));
}

/* Seconds between refreshes of a provider. */
static int64_t
interval(const struct carbon *c, const struct prov_rt *p)
{
	if (p->conf->min_refresh > 0)
		return p->conf->min_refresh;
	return p->ops->min_refresh > 0 ? p->ops->min_refresh : c->cfg->slot;
}

static enum ci_signal
prov_signal(const struct prov_rt *p)
{
	return p->ops->load != NULL ? (enum ci_signal)p->conf->signal :
	    p->ops->signal;
}

/* Reads the provider's secret from its file or environment variable. */
static int
read_secret(struct prov_rt *p, char *err, size_t errlen)
{
	const struct provider_conf *pc = p->conf;
	const char *file = pc->token_file ? pc->token_file : pc->password_file;
	const char *env = pc->token_env ? pc->token_env : pc->password_env;
	char buf[4096];
	ssize_t n;
	int fd;

	if (!p->ops->needs_secret)
		return 0;
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "secret file %s: %s", file,
			    strerror(errno));
			return -1;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0) {
			snprintf(err, errlen, "secret file %s: %s", file,
			    strerror(errno));
			return -1;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		    buf[n - 1] == ' '))
			n--;
		buf[n] = '\0';
	} else if (env != NULL && getenv(env) != NULL) {
		snprintf(buf, sizeof(buf), "%s", getenv(env));
	} else {
		snprintf(err, errlen, "no secret: environment variable %s is "
		    "not set", env ? env : "(none)");
		return -1;
	}
	if (buf[0] == '\0') {
		snprintf(err, errlen, "the secret is empty");
		return -1;
	}
	p->st.secret = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static void
drop_secret(struct prov_rt *p)
{
	if (p->st.secret != NULL) {
		explicit_bzero(p->st.secret, strlen(p->st.secret));
		free(p->st.secret);
		p->st.secret = NULL;
	}
}

static void
schedule(struct site_rt *s, int64_t delay)
{
	ev_timer_stop(s->c->loop, &s->timer);
	ev_timer_set(&s->timer, (double)(delay > 0 ? delay : 0), 0.);
	ev_timer_start(s->c->loop, &s->timer);
}

/* Ends a refresh; the next one starts after delay s. */
static void
idle(struct site_rt *s, int64_t delay)
{
	s->busy = 0;
	schedule(s, delay);
}

/* When to refresh again after a refresh got nothing. */
static int64_t
retry_failed(const struct site_rt *s, int64_t now)
{
	int64_t d = interval(s->c, &s->provs[0]);

	if (d > RETRY_FAILED)
		d = RETRY_FAILED;
	/* Sooner if a provider's Retry-After ends sooner. */
	for (size_t k = 0; k < s->nprovs; k++)
		if (s->provs[k].status.retry_at > now &&
		    s->provs[k].status.retry_at - now < d)
			d = s->provs[k].status.retry_at - now;
	return d;
}

/* Ends the attempt of provider s->cur; falls back or schedules the next. */
static void
finish(struct site_rt *s, int ok, const char *why)
{
	struct prov_rt *p = &s->provs[s->cur];
	struct carbon *c = s->c;
	struct ci_rejects rej = { 0 };
	size_t nrej;
	char reason[256];
	int64_t now = ebb_now();

	snprintf(reason, sizeof(reason), "%s", ok ? "" : why);
	if (ok) {
		ci_sanitize(&s->batch, now, &rej);
		nrej = ci_rejects_total(&rej);
		p->status.rejected += (int64_t)nrej;
		if (nrej > 0) {
			char *what = ci_rejects_format(&rej, s->batch.signal);

			log_warnx("site %s: %s: rejected %zu point(s): %s",
			    s->conf->name, p->ops->name, nrej, what);
			free(what);
		}
		if (s->batch.n == 0) {
			ok = 0;
			snprintf(reason, sizeof(reason), "no usable points "
			    "(%zu rejected)", nrej);
		} else if (store_ci_put(c->store, &s->batch) == -1)
			fatalx("store: %s", store_errmsg(c->store));
		else if (c->on_update != NULL)
			c->on_update(c->on_update_arg);
	}
	p->status.last_try = now;
	if (ok) {
		p->status.last_ok = now;
		p->status.failing = 0;
		p->status.reason[0] = '\0';
		log_debug("site %s: %s: %zu point(s)", s->conf->name,
		    p->ops->name, s->batch.n);
	} else {
		if (!p->status.failing)
			p->status.since = now;
		p->status.failing = 1;
		p->status.failures++;
		snprintf(p->status.reason, sizeof(p->status.reason), "%s",
		    reason);
		log_warnx("site %s: provider %s failed: %s%s", s->conf->name,
		    p->ops->name, reason, s->cur + 1 < s->nprovs ?
		    "; trying the next one" : "");
	}
	if (store_prov_put(c->store, s->conf->name, p->ops->name,
	    &p->status) == -1)
		fatalx("store: %s", store_errmsg(c->store));
	drop_secret(p);
	ci_batch_free(&s->batch);
	if (!ok && s->cur + 1 < s->nprovs) {
		s->cur++;
		try_provider(s);
		return;
	}
	idle(s, ok ? interval(c, &s->provs[0]) - (now - s->started) :
	    retry_failed(s, now));
}

static void
on_http(void *arg, const struct http_resp *r)
{
	struct site_rt *s = arg;
	struct prov_rt *p = &s->provs[s->cur];
	char err[512];

	/* Asked to wait longer than the request did: skip it until then. */
	p->status.retry_at = r->error != NULL && r->retry_after_s > 0 ?
	    ebb_now() + (int64_t)ceil(r->retry_after_s) : 0;
	if (r->error != NULL) {
		if (r->status == 401 || r->status == 403) {
			/* A login that expired early: log in again next time. */
			free(p->st.session);
			p->st.session = NULL;
		}
		finish(s, 0, r->error);
		return;
	}
	if (p->ops->response(&p->st, s->step, ebb_now(), r->body, r->len,
	    &s->batch, err, sizeof(err)) == -1) {
		finish(s, 0, err);
		return;
	}
	s->step++;
	next_request(s);
}

static void
next_request(struct site_rt *s)
{
	struct prov_rt *p = &s->provs[s->cur];
	struct preq pr = { 0 };
	struct http_req hr = { 0 };
	char err[512];
	int rc;

	rc = p->ops->request(&p->st, s->step, ebb_now(), &pr, err,
	    sizeof(err));
	if (rc <= 0) {
		preq_clear(&pr);
		finish(s, rc == 0, err);
		return;
	}
	hr.url = pr.url;
	hr.headers = (const char *const *)pr.headers;
	hr.userpwd = pr.userpwd;
	hr.timeout_s = (double)p->conf->timeout;
	hr.max_body = MAX_BODY;
	hr.max_tries = 3;
	hr.backoff_s = 1.0;
	hr.max_backoff_s = 60.0;
	rc = http_request(s->c->http, &hr, on_http, s, err, sizeof(err));
	preq_clear(&pr);
	if (rc == -1)
		finish(s, 0, err);
}

static void
try_provider(struct site_rt *s)
{
	struct prov_rt *p;
	int64_t now = ebb_now(), t0;
	char err[512], when[32];

	/* Providers still inside their Retry-After are skipped. */
	for (; s->cur < s->nprovs; s->cur++) {
		p = &s->provs[s->cur];
		if (p->status.retry_at <= now)
			break;
		log_debug("site %s: %s asked to be left alone until %s",
		    s->conf->name, p->ops->name, ebb_fmt_time(p->status.retry_at,
		    when, sizeof(when)));
	}
	if (s->cur == s->nprovs) {
		idle(s, retry_failed(s, now));
		return;
	}
	p = &s->provs[s->cur];	/* (the compiler cannot see it is set) */
	ci_batch_init(&s->batch, s->zone, prov_signal(p), p->ops->name);
	s->step = 0;
	if (read_secret(p, err, sizeof(err)) == -1) {
		finish(s, 0, err);
		return;
	}
	if (p->ops->load != NULL) {
		t0 = p->status.last_ok ? p->status.last_ok - 86400 :
		    now - FIRST_LOAD;
		if (p->ops->load(&p->st, now, t0, now + s->c->cfg->slot,
		    &s->batch, err, sizeof(err)) == -1)
			finish(s, 0, err);
		else
			finish(s, 1, NULL);
		return;
	}
	next_request(s);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct site_rt *s = w->data;

	if (s->busy || s->nprovs == 0)
		return;
	s->busy = 1;
	s->cur = 0;
	s->started = ebb_now();
	try_provider(s);
}

static void
sites_free(struct carbon *c)
{
	for (size_t i = 0; i < c->nsites; i++) {
		struct site_rt *s = &c->sites[i];

		ev_timer_stop(c->loop, &s->timer);
		http_cancel(c->http, s);
		ci_batch_free(&s->batch);
		for (size_t k = 0; k < s->nprovs; k++) {
			struct prov_rt *p = &s->provs[k];

			drop_secret(p);
			free(p->st.session);
			if (p->ops->clear != NULL)
				p->ops->clear(&p->st);
			free(p->zone);
		}
		free(s->provs);
		free(s->zone);
	}
	free(c->sites);
	c->sites = NULL;
	c->nsites = 0;
}

static int
sites_setup(struct carbon *c, char *err, size_t errlen)
{
	int64_t now = ebb_now();

	c->nsites = c->cfg->nsites;
	c->sites = xcalloc(c->nsites ? c->nsites : 1, sizeof(*c->sites));
	for (size_t i = 0; i < c->nsites; i++) {
		struct site_rt *s = &c->sites[i];
		const struct ebb_site *sc = &c->cfg->sites[i];
		int64_t next = 0;

		s->c = c;
		s->conf = sc;
		s->provs = xcalloc(sc->providers.n + 1, sizeof(*s->provs));
		for (size_t k = 0; k < sc->providers.n; k++) {
			struct prov_rt *p = &s->provs[s->nprovs];
			int id = config_provider_id(sc->providers.v[k]);

			p->ops = provider_lookup(sc->providers.v[k]);
			if (p->ops == NULL || id < 0) {
				snprintf(err, errlen, "site %s: unknown "
				    "provider '%s'", sc->name,
				    sc->providers.v[k]);
				return -1;
			}
			p->conf = &sc->prov[id];
			p->zone = xstrdup(p->conf->zone ? p->conf->zone :
			    sc->zone ? sc->zone : sc->name);
			p->st.conf = p->conf;
			p->st.zone = p->zone;
			if (store_prov_get(c->store, sc->name, p->ops->name,
			    &p->status) == -1) {
				snprintf(err, errlen, "%s",
				    store_errmsg(c->store));
				return -1;
			}
			s->nprovs++;
		}
		s->zone = xstrdup(sc->zone ? sc->zone : s->nprovs ?
		    s->provs[0].zone : sc->name);
		ev_timer_init(&s->timer, on_timer, 0., 0.);
		s->timer.data = s;
		if (s->nprovs == 0)
			continue;
		/* Resume: nothing is fetched again before its time. */
		if (s->provs[0].status.last_ok && !s->provs[0].status.failing)
			next = s->provs[0].status.last_ok +
			    interval(c, &s->provs[0]) - now;
		schedule(s, next);
	}
	return 0;
}

struct carbon *
carbon_new(struct ev_loop *loop, struct store *store,
    const struct ebb_config *cfg, char *err, size_t errlen)
{
	struct carbon *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->store = store;
	c->cfg = cfg;
	if ((c->http = http_new(loop, err, errlen)) == NULL ||
	    sites_setup(c, err, errlen) == -1) {
		carbon_free(c);
		return NULL;
	}
	return c;
}

void
carbon_free(struct carbon *c)
{
	if (c == NULL)
		return;
	sites_free(c);
	if (c->http != NULL)
		http_free(c->http);
	free(c);
}

int
carbon_reconfigure(struct carbon *c, const struct ebb_config *cfg, char *err,
    size_t errlen)
{
	sites_free(c);
	c->cfg = cfg;
	return sites_setup(c, err, errlen);
}

void
carbon_on_update(struct carbon *c, void (*cb)(void *), void *arg)
{
	c->on_update = cb;
	c->on_update_arg = arg;
}

void
carbon_refresh_now(struct carbon *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (!c->sites[i].busy && c->sites[i].nprovs > 0)
			schedule(&c->sites[i], 0);
}

enum ci_signal
carbon_site_signal(const struct carbon *c, const char *site)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].conf->name, site) == 0 &&
		    c->sites[i].nprovs > 0)
			return prov_signal(&c->sites[i].provs[0]);
	return CI_AVERAGE;
}

/*---- Series: stored points on the slot grid, then ebb's forecast ----*/

struct pts {
	struct ci_point	*p;
	const char	**src;
	size_t		 n, cap;
};

/* A stored source name as a static string. */
static const char *
static_source(const char *name)
{
	const struct provider_ops *ops = name ? provider_lookup(name) : NULL;

	return ops ? ops->name : "stored";
}

static void
pts_cb(void *arg, const struct ci_point *p, const char *source)
{
	struct pts *a = arg;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->p = xrealloc(a->p, a->cap * sizeof(*a->p));
		a->src = xrealloc(a->src, a->cap * sizeof(*a->src));
	}
	a->p[a->n] = *p;
	a->src[a->n++] = static_source(source);
}

/* Stored best points over [t0, t1) on the grid, with attribution. */
static int
grid_from_store(struct carbon *c, struct ci_series *s, int actual_only,
    int64_t now, char *err, size_t errlen)
{
	struct pts a = { 0 };
	int64_t hold, back = 6 * 3600;
	size_t j = 0;

	if (store_ci_best(c->store, s->zone, s->signal, s->t0 - back,
	    s->t0 + (int64_t)s->n * s->slot, now, actual_only, pts_cb,
	    &a) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(c->store));
		free(a.p);
		free(a.src);
		return -1;
	}
	hold = ci_native_step(a.p, a.n);
	ci_resample(a.p, a.n, hold, s->t0, s->t0 + (int64_t)s->n * s->slot,
	    s->slot, s->value);
	for (size_t i = 0; i < s->n; i++) {
		int64_t st = s->t0 + (int64_t)i * s->slot;

		if (isnan(s->value[i]))
			continue;
		while (j + 1 < a.n && a.p[j + 1].t <= st)
			j++;
		/* The point covering the slot's start, else the first in it. */
		if (j + 1 < a.n && a.p[j].t + hold <= st)
			j++;
		if (j < a.n) {
			s->kind[i] = a.p[j].kind;
			s->flags[i] = a.p[j].flags;
			s->vintage[i] = a.p[j].vintage;
			s->source[i] = a.src[j];
		}
	}
	free(a.p);
	free(a.src);
	return 0;
}

static void
series_alloc(struct ci_series *s, const char *zone, enum ci_signal signal,
    int64_t t0, int64_t slot, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->zone = xstrdup(zone);
	s->signal = signal;
	s->t0 = t0;
	s->slot = slot;
	s->n = n;
	s->value = xcalloc(n ? n : 1, sizeof(*s->value));
	s->kind = xcalloc(n ? n : 1, sizeof(*s->kind));
	s->flags = xcalloc(n ? n : 1, sizeof(*s->flags));
	s->vintage = xcalloc(n ? n : 1, sizeof(*s->vintage));
	s->source = xcalloc(n ? n : 1, sizeof(*s->source));
	s->lo = xcalloc(n ? n : 1, sizeof(*s->lo));
	s->hi = xcalloc(n ? n : 1, sizeof(*s->hi));
	for (size_t i = 0; i < n; i++)
		s->value[i] = s->lo[i] = s->hi[i] = NAN;
}

/* Fills the slots after the last known one with ebb's own forecast. */
static void
own_forecast(struct carbon *c, struct ci_series *s, int64_t now)
{
	struct ci_series h;
	size_t last = s->n, first_unknown, horizon;
	int64_t origin, hist_days = FC_HISTORY_DAYS;
	double *out, *lo, *hi;
	char err[256];

	for (size_t i = s->n; i-- > 0;)
		if (!isnan(s->value[i])) {
			last = i;
			break;
		}
	first_unknown = last == s->n ? 0 : last + 1;
	if (first_unknown >= s->n)
		return;
	origin = s->t0 + (int64_t)first_unknown * s->slot;
	series_alloc(&h, s->zone, s->signal, origin - hist_days * 86400,
	    s->slot, (size_t)(hist_days * 86400 / s->slot));
	if (grid_from_store(c, &h, 0, now, err, sizeof(err)) == -1) {
		ci_series_free(&h);
		return;
	}
	horizon = s->n - first_unknown;
	out = xcalloc(horizon, sizeof(*out));
	lo = xcalloc(horizon, sizeof(*lo));
	hi = xcalloc(horizon, sizeof(*hi));
	if (fc_forecast_band(h.value, h.n, s->slot, h.t0, horizon, out, lo,
	    hi, err, sizeof(err)) == 0) {
		for (size_t j = 0; j < horizon; j++) {
			size_t i = first_unknown + j;

			s->value[i] = out[j];
			s->lo[i] = lo[j];
			s->hi[i] = hi[j];
			s->kind[i] = CI_OWN;
			s->flags[i] = 0;
			s->vintage[i] = now;
			s->source[i] = "ebb";
		}
	} else
		log_debug("zone %s: no own forecast: %s", s->zone, err);
	free(out);
	free(lo);
	free(hi);
	ci_series_free(&h);
}

int
carbon_series(struct carbon *c, const char *zone, enum ci_signal signal,
    int64_t t0, int64_t t1, int64_t now, struct ci_series *s, char *err,
    size_t errlen)
{
	int64_t slot = c->cfg->slot;
	uint8_t *filled;
	size_t n;

	t0 = ci_slot_floor(t0, slot);
	if (t1 <= t0 || t1 - t0 > MAX_SERIES) {
		snprintf(err, errlen, "a series must cover 1 slot to 31 days");
		return -1;
	}
	n = (size_t)((t1 - t0 + slot - 1) / slot);
	series_alloc(s, zone, signal, t0, slot, n);
	if (grid_from_store(c, s, 0, now, err, errlen) == -1) {
		ci_series_free(s);
		return -1;
	}
	filled = xcalloc(n, 1);
	ci_fill_gaps(s->value, n, (size_t)(c->cfg->max_gap / slot), filled);
	for (size_t i = 0; i < n; i++) {
		if (!filled[i])
			continue;
		/* Attribute a filled slot to the value before the gap. */
		for (size_t k = i; k-- > 0;)
			if (!filled[k]) {
				s->kind[i] = s->kind[k];
				s->vintage[i] = s->vintage[k];
				s->source[i] = s->source[k];
				s->flags[i] = (uint8_t)(s->flags[k] | CI_FILLED);
				break;
			}
	}
	free(filled);
	own_forecast(c, s, now);
	return 0;
}

/*---- Cleanest window ----*/

/* The integral of s over [s->t0, t) (g/kWh x s), pre: slot prefix sums. */
static double
integral(const struct ci_series *s, const double *pre, int64_t t)
{
	size_t i = (size_t)((t - s->t0) / s->slot);
	int64_t r = (t - s->t0) % s->slot;

	return pre[i] + (r != 0 ? s->value[i] * (double)r : 0);
}

int64_t
carbon_window(const struct ci_series *s, int64_t now, int64_t len,
    double *mean, int *own)
{
	int64_t end = s->t0 + (int64_t)s->n * s->slot, best = -1, a;
	size_t *unknown, *owned;
	double *pre, bestsum = 0;

	*mean = 0;
	*own = 0;
	if (len <= 0 || s->n == 0)
		return -1;
	if (now < s->t0)
		now = s->t0;
	pre = xcalloc(s->n + 1, sizeof(*pre));
	unknown = xcalloc(s->n + 1, sizeof(*unknown));
	owned = xcalloc(s->n + 1, sizeof(*owned));
	for (size_t i = 0; i < s->n; i++) {
		int u = isnan(s->value[i]);

		pre[i + 1] = pre[i] + (u ? 0 : s->value[i] * (double)s->slot);
		unknown[i + 1] = unknown[i] + (size_t)u;
		owned[i + 1] = owned[i] + (s->kind[i] == CI_OWN);
	}
	/* now, then every slot boundary after it */
	for (a = now; a + len <= end;
	    a = s->t0 + ((a - s->t0) / s->slot + 1) * s->slot) {
		size_t i0 = (size_t)((a - s->t0) / s->slot);
		size_t i1 = (size_t)((a + len - s->t0 + s->slot - 1) / s->slot);
		double sum;

		if (unknown[i1] != unknown[i0])
			continue;
		sum = integral(s, pre, a + len) - integral(s, pre, a);
		if (best < 0 || sum < bestsum) {
			best = a;
			bestsum = sum;
			*own = owned[i1] != owned[i0];
		}
	}
	if (best >= 0)
		*mean = bestsum / (double)len;
	free(pre);
	free(unknown);
	free(owned);
	return best;
}

/*---- Replies ----*/

json_t *
carbon_point_json(const struct ci_series *s, size_t i)
{
	json_t *p;

	if (isnan(s->value[i]))
		return json_pack("{s:I, s:n, s:n, s:n, s:n, s:b, s:b}", "t",
		    (json_int_t)(s->t0 + (int64_t)i * s->slot), "value", "kind",
		    "source", "vintage", "filled", 0, "replay", 0);
	p = json_pack("{s:I, s:f, s:s, s:s, s:I, s:b, s:b}", "t",
	    (json_int_t)(s->t0 + (int64_t)i * s->slot), "value",
	    round(s->value[i] * 10) / 10, "kind",
	    ci_kind_name((enum ci_kind)s->kind[i]), "source",
	    s->source[i] ? s->source[i] : "stored", "vintage",
	    (json_int_t)s->vintage[i], "filled", !!(s->flags[i] & CI_FILLED),
	    "replay", !!(s->flags[i] & CI_REPLAY));
	if (!isnan(s->lo[i]) && !isnan(s->hi[i])) {
		json_object_set_new(p, "lo", json_real(round(s->lo[i] * 10) /
		    10));
		json_object_set_new(p, "hi", json_real(round(s->hi[i] * 10) /
		    10));
	}
	return p;
}

static json_t *
provider_json(const struct carbon *c, const struct prov_rt *p, int64_t now)
{
	const struct store_prov *st = &p->status;
	const char *status = "ok";
	int64_t since = st->last_ok;

	if (st->last_try == 0) {
		status = "never";
		since = 0;
	} else if (st->failing) {
		status = "failing";
		since = st->since;
	} else if (now - st->last_ok > 2 * interval(c, p))
		status = "stale";
	return json_pack("{s:s, s:s, s:I, s:s?, s:I, s:I, s:I, s:I}", "name",
	    p->ops->name, "status", status, "since", (json_int_t)since,
	    "reason", st->failing ? st->reason : NULL, "last_ok",
	    (json_int_t)st->last_ok, "failures", (json_int_t)st->failures,
	    "rejected", (json_int_t)st->rejected, "retry_at",
	    (json_int_t)(st->retry_at > now ? st->retry_at : 0));
}

json_t *
carbon_sites_json(struct carbon *c, int64_t now)
{
	json_t *sites = json_array();

	for (size_t i = 0; i < c->nsites; i++) {
		const struct site_rt *s = &c->sites[i];
		json_t *provs = json_array(), *cur = json_null();
		struct ci_series ser;
		char err[128];
		enum ci_signal sig = s->nprovs ? prov_signal(&s->provs[0]) :
		    CI_AVERAGE;

		for (size_t k = 0; k < s->nprovs; k++)
			json_array_append_new(provs, provider_json(c,
			    &s->provs[k], now));
		if (s->nprovs > 0 && carbon_series(c, s->zone, sig, now,
		    now + 1, now, &ser, err, sizeof(err)) == 0) {
			if (!isnan(ser.value[0])) {
				json_decref(cur);
				cur = carbon_point_json(&ser, 0);
			}
			ci_series_free(&ser);
		}
		json_array_append_new(sites, json_pack("{s:s, s:s?, s:s, s:i, "
		    "s:f, s:s, s:o, s:o}", "name", s->conf->name, "zone",
		    s->conf->zone, "backend", s->conf->backend, "cpus",
		    s->conf->cpus, "pue", s->conf->pue, "signal",
		    ci_signal_name(sig), "current", cur, "providers", provs));
	}
	return sites;
}
