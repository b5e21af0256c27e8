/*
 * ledger: measured energy -> settled emissions, counterfactual and
 * report rows (see ledger.h). Intensity comes only from carbon_series,
 * arithmetic only from acct_energy, storage only from store.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "config/config.h"
#include "scheduler/accounting.h"
#include "scheduler/carbon/carbon.h"
#include "runner/energy.h"
#include "scheduler/ledger.h"
#include "scheduler/store.h"

#define J_PER_KWH	3.6e6

int
ledger_record(struct store *s, int64_t job_id, int64_t t0, int64_t t1,
    double joules, const char *method, char *err, size_t errlen)
{
	if (t1 <= t0 || !(joules >= 0) || !isfinite(joules)) {
		snprintf(err, errlen, "job %lld: interval [%lld, %lld) with "
		    "%g J: empty, reversed or bad energy", (long long)job_id,
		    (long long)t0, (long long)t1, joules);
		return -1;
	}
	if (method == NULL || *method == '\0') {
		snprintf(err, errlen, "job %lld: energy without a method",
		    (long long)job_id);
		return -1;
	}
	if (store_ledger_record(s, job_id, t0, t1, joules, method) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		return -1;
	}
	return 0;
}

/* Appends word to the comma-separated list buf unless it is there. */
static void
list_add(char *buf, size_t len, const char *word)
{
	size_t n = strlen(word), used = strlen(buf);

	for (const char *p = buf; *p != '\0';) {
		size_t k = strcspn(p, ",");

		if (k == n && strncmp(p, word, n) == 0)
			return;
		p += k + (p[k] == ',');
	}
	if (used + n + 2 > len)
		return;
	snprintf(buf + used, len - used, "%s%s", used ? "," : "", word);
}

/* What the slots of [t0, t1) are made of. */
struct slots {
	int		 all_actual;	/* every slot known and actual */
	int		 kind;		/* least certain known kind, -1 none */
	int64_t		 vintage;	/* newest */
	char		 source[64];
};

static void
slots_of(const struct ci_series *s, int64_t t0, int64_t t1, struct slots *o)
{
	int64_t k, k1;

	memset(o, 0, sizeof(*o));
	o->all_actual = 1;
	o->kind = -1;
	k = (t0 - s->t0) / s->slot;
	k1 = (t1 - s->t0 + s->slot - 1) / s->slot;
	for (; k < k1; k++) {
		size_t i = (size_t)k;

		if (k < 0 || i >= s->n || isnan(s->value[i])) {
			o->all_actual = 0;
			continue;
		}
		if (s->kind[i] != CI_ACTUAL)
			o->all_actual = 0;
		if (s->kind[i] > o->kind)
			o->kind = s->kind[i];
		if (s->vintage[i] > o->vintage)
			o->vintage = s->vintage[i];
		list_add(o->source, sizeof(o->source), s->source[i]);
	}
}

/* Emissions of one use over a series; the facility grams and unknown kWh. */
static int
account(const struct ci_series *s, double pue, int64_t t0, int64_t t1,
    double kwh, struct acct_result *r, char *err, size_t errlen)
{
	struct acct_series as = { s->t0, s->slot, s->n, s->value };
	struct acct_use u = { t0, t1, kwh };

	return acct_energy(&as, pue, &u, 1, r, err, errlen);
}

static const struct ebb_site *
site_of(const struct ebb_config *cfg, const struct job *j, const char *name,
    char *err, size_t errlen)
{
	const struct ebb_site *site = name ? config_site(cfg, name) : NULL;

	if (site == NULL)
		snprintf(err, errlen, "job %lld: site '%s' is not configured",
		    (long long)j->id, name ? name : "(none)");
	return site;
}

/*
 * The counterfactual: the intervals back to back from the submit time (a
 * job's begin, when it gave one: it could not have run before) at the
 * origin, with the job's signal. NAN when any of it has no intensity.
 */
static int
counterfactual(struct carbon *c, const struct job *j,
    const struct ebb_site *origin, enum ci_signal signal,
    const struct store_interval *iv, size_t n, int64_t now, double *grams,
    int *all_actual, char *err, size_t errlen)
{
	struct ci_series s;
	int64_t t = job_earliest_start(j), end = t;
	int rc = 0;

	*grams = NAN;
	*all_actual = 0;
	if (j->submit_time <= 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		end += iv[i].t1 - iv[i].t0;
	if (carbon_series(c, origin->zone ? origin->zone : origin->name,
	    signal, t, end, now, &s, err, errlen) == -1)
		return -1;
	*grams = 0;
	*all_actual = 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t len = iv[i].t1 - iv[i].t0;
		struct acct_result r;
		struct slots sl;

		rc = account(&s, origin->pue, t, t + len,
		    iv[i].energy_j / J_PER_KWH, &r, err, errlen);
		slots_of(&s, t, t + len, &sl);
		*all_actual = *all_actual && sl.all_actual;
		*grams = r.unknown_kwh > 0 ? NAN : *grams + r.emissions_g;
		t += len;
	}
	ci_series_free(&s);
	return rc;
}

/* Settles the intervals against s; fills the summary's sums. */
static int
settle_intervals(struct store *st, const struct job *j,
    const struct ci_series *s, double pue, struct store_interval *iv,
    size_t n, struct store_ledger *l, int *all_actual, char *err,
    size_t errlen)
{
	double known_kwh = 0;

	*all_actual = 1;
	l->grams = 0;
	for (size_t i = 0; i < n; i++) {
		double kwh = iv[i].energy_j / J_PER_KWH, known;
		struct acct_result r;
		struct slots sl;

		if (account(s, pue, iv[i].t0, iv[i].t1, kwh, &r, err,
		    errlen) == -1)
			return -1;
		slots_of(s, iv[i].t0, iv[i].t1, &sl);
		known = kwh - r.unknown_kwh;
		iv[i].grams = r.emissions_g;
		iv[i].intensity = known > 0 ? r.emissions_g / (known * pue) :
		    NAN;
		snprintf(iv[i].kind, sizeof(iv[i].kind), "%s", sl.kind < 0 ?
		    "" : ci_kind_name((enum ci_kind)sl.kind));
		snprintf(iv[i].provider, sizeof(iv[i].provider), "%s",
		    sl.source);
		snprintf(iv[i].signal, sizeof(iv[i].signal), "%s",
		    ci_signal_name(s->signal));
		iv[i].vintage = sl.vintage;
		iv[i].pue = pue;
		*all_actual = *all_actual && sl.all_actual;
		l->energy_j += iv[i].energy_j;
		l->unknown_j += r.unknown_kwh * J_PER_KWH;
		l->grams += r.emissions_g;
		known_kwh += known;
		list_add(l->method, sizeof(l->method), iv[i].method);
		if (store_ledger_interval_set(st, j->id, &iv[i]) == -1) {
			snprintf(err, errlen, "%s", store_errmsg(st));
			return -1;
		}
	}
	l->intensity = known_kwh > 0 ? l->grams / (known_kwh * pue) : NAN;
	return 0;
}

/*
 * The job's share of its site's embodied emissions: the hardware's
 * kgCO2e spread over its lifetime and cpus, times the cpu-seconds the job
 * reserved while it ran ([t0, t1)). Reported apart from emissions_g, so
 * (E x I) + M, the Software Carbon Intensity form, can be given.
 */
static double
embodied_g(const struct ebb_site *site, const struct job *j, int64_t t0,
    int64_t t1)
{
	if (site->embodied_kg <= 0 || site->lifetime <= 0 || site->cpus <= 0 ||
	    t1 <= t0)
		return 0;
	return site->embodied_kg * 1000 * (double)j->cpus * (double)(t1 - t0) /
	    ((double)site->cpus * (double)site->lifetime);
}

int
ledger_settle(struct store *st, struct carbon *c, const struct ebb_config *cfg,
    const struct job *j, int64_t now, int64_t final_after, char *err,
    size_t errlen)
{
	const char *first = json_string_value(json_array_get(j->sites, 0));
	const struct ebb_site *site, *origin;
	struct store_interval *iv = NULL;
	struct store_ledger l;
	struct ci_series s;
	enum ci_signal signal;
	int64_t t0, t1;
	size_t n = 0;
	int rc, all_actual = 0, cf_actual = 0;

	if ((rc = store_ledger_get(st, j->id, &l)) == -1 ||
	    (rc == 1 && store_ledger_intervals(st, j->id, &iv, &n) == -1)) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	if (rc == 0 || l.final || n == 0) {
		free(iv);
		return 0;
	}
	if ((site = site_of(cfg, j, j->site, err, errlen)) == NULL ||
	    (origin = first ? site_of(cfg, j, first, err, errlen) : site) ==
	    NULL) {
		free(iv);
		return -1;
	}
	signal = carbon_site_signal(c, site->name);
	t0 = iv[0].t0;
	t1 = iv[0].t1;
	for (size_t i = 1; i < n; i++)
		if (iv[i].t1 > t1)
			t1 = iv[i].t1;
	if (carbon_series(c, site->zone ? site->zone : site->name, signal, t0,
	    t1, now, &s, err, errlen) == -1) {
		free(iv);
		return -1;
	}
	memset(&l, 0, sizeof(l));
	rc = settle_intervals(st, j, &s, site->pue, iv, n, &l, &all_actual,
	    err, errlen);
	ci_series_free(&s);
	if (rc == 0)
		rc = counterfactual(c, j, origin, signal, iv, n, now,
		    &l.counterfactual_g, &cf_actual, err, errlen);
	free(iv);
	if (rc == -1)
		return -1;
	snprintf(l.signal, sizeof(l.signal), "%s", ci_signal_name(signal));
	l.embodied_g = embodied_g(site, j, t0, t1);
	l.settled = now;
	l.final = job_state_final(j->state) && ((all_actual && cf_actual) ||
	    (j->end_time > 0 && now - j->end_time >= final_after));
	if (store_ledger_put(st, j->id, &l) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	return 0;
}

static json_t *
num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *
str_or_null(const char *v)
{
	return v != NULL && *v != '\0' ? json_string(v) : json_null();
}

int
ledger_job_json(struct store *st, const struct job *j, json_t **row,
    char *err, size_t errlen)
{
	struct store_ledger l;
	double saving = NAN;
	int rc;

	*row = NULL;
	if ((rc = store_ledger_get(st, j->id, &l)) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	if (rc == 0)
		return 0;
	/* A saving only where both sides are wholly known, and never for
	 * a job its user started at once (ebb start-now): that choice was
	 * not ebb's. */
	if (l.unknown_j == 0 && !isnan(l.grams) && !j->start_now)
		saving = l.counterfactual_g - l.grams;
	*row = json_object();
	json_object_set_new(*row, "id", json_integer(j->id));
	json_object_set_new(*row, "user", str_or_null(j->user));
	json_object_set_new(*row, "name", str_or_null(j->name));
	json_object_set_new(*row, "site", str_or_null(j->site));
	json_object_set_new(*row, "submit", json_integer(j->submit_time));
	json_object_set_new(*row, "start", json_integer(j->start_time));
	json_object_set_new(*row, "end", json_integer(j->end_time));
	json_object_set_new(*row, "energy_kwh", json_real(l.energy_j /
	    J_PER_KWH));
	json_object_set_new(*row, "unknown_kwh", json_real(l.unknown_j /
	    J_PER_KWH));
	json_object_set_new(*row, "method", str_or_null(l.method));
	/* Modelled energy carries the model's stated relative uncertainty. */
	json_object_set_new(*row, "energy_uncertainty", json_real(
	    strstr(l.method, "model") != NULL ?
	    energy_model_ops.rel_uncertainty : 0));
	json_object_set_new(*row, "intensity_g_per_kwh",
	    num_or_null(l.intensity));
	json_object_set_new(*row, "signal", str_or_null(l.signal));
	json_object_set_new(*row, "emissions_g", num_or_null(l.settled ?
	    l.grams : NAN));
	json_object_set_new(*row, "embodied_g", json_real(l.embodied_g));
	json_object_set_new(*row, "counterfactual_g",
	    num_or_null(l.counterfactual_g));
	json_object_set_new(*row, "saving_g", num_or_null(l.settled ? saving :
	    NAN));
	json_object_set_new(*row, "saving_pct", num_or_null(l.settled &&
	    l.counterfactual_g > 0 ? 100 * saving / l.counterfactual_g : NAN));
	json_object_set_new(*row, "status", json_string(l.final ? "final" :
	    "provisional"));
	if (j->start_now)
		json_object_set_new(*row, "choice", json_string("start-now"));
	return 1;
}
