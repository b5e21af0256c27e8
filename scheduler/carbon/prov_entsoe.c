/*
 * prov_entsoe: the ENTSO-E Transparency Platform, document A75 "Actual
 * Generation per Production Type" (average signal, derived here).
 *
 * One GET per refresh over [now - history, now] with the token in the
 * query (securityToken=), as the API requires. The GL_MarketDocument reply
 * is read with libxml2 by element local name, so the namespace version
 * does not matter. Each TimeSeries is one production type (psrType
 * B01..B20) in MW; curveType A01 lists every position, A03 lists only
 * changes and a quantity holds until the next listed position or the end
 * of its Period. Series with an outBiddingZone_Domain (consumption, e.g.
 * pumping), hydro pumped storage (B10), types beyond B20 and types whose
 * factor is negative are left out of the mix. The intensity of a time step
 * is sum(MW * factor) / sum(MW) over the remaining types, on the finest
 * resolution in the document; a step where any of those types reports no
 * quantity is dropped rather than computed from a partial mix. Negative
 * quantities count as 0. An Acknowledgement_MarketDocument (the API's "no
 * data" or error reply) becomes an error carrying its Reason text. Points
 * are CI_ACTUAL with vintage = now. No I/O here.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/prov_util.h"
#include "scheduler/carbon/provider.h"

#define EN_BASE		"https://web-api.tp.entsoe.eu/api"
#define EN_PUMPED	10		/* B10 hydro pumped storage */
/* Steps of one document's grid: 91 days of minutes, 3.7 years of 15 min;
 * ebb asks for days. Bounds what a server's timeInterval can cost. */
#define EN_MAX_CELLS	(1 << 17)

/* A quantity of one production type held over [t0, t1). */
struct seg {
	int64_t	 t0, t1;
	double	 mw;
	int	 fuel;			/* 0 = B01 */
};

struct segs {
	struct seg	*v;
	size_t		 n, cap;
	int64_t		 step;		/* finest resolution */
};

static xmlNode *
child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL;
	    c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The text of element n ("" if none); borrowed from the tree. */
static const char *
text(xmlNode *n)
{
	for (xmlNode *c = n != NULL ? n->children : NULL; c != NULL;
	    c = c->next)
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE)
			return (const char *)c->content;
	return "";
}

/* The time in element `name` under parent; where names the parent. */
static int
xtime(xmlNode *parent, const char *name, const char *where, int64_t *t,
    char *err, size_t errlen)
{
	xmlNode *n = child(parent, name);
	const char *s = text(n);
	char terr[128], buf[40];

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	snprintf(buf, sizeof(buf), "%s", s);
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (n == NULL)
		snprintf(err, errlen, "%s.%s: missing", where, name);
	else if (buf[0] < '0' || buf[0] > '9' ||
	    ebb_parse_instant(buf, t, terr, sizeof(terr)) == -1)
		snprintf(err, errlen, "%s.%s: bad time '%.40s'", where, name,
		    buf);
	else
		return 0;
	return -1;
}

/* The number in element `name` under parent; where names the parent. */
static int
xnumber(xmlNode *parent, const char *name, const char *where, double *v,
    char *err, size_t errlen)
{
	xmlNode *n = child(parent, name);
	const char *s = text(n);
	char *end;

	*v = strtod(s, &end);
	while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')
		end++;
	if (n == NULL)
		snprintf(err, errlen, "%s.%s: missing", where, name);
	else if (end == s || *end != '\0' || !isfinite(*v))
		snprintf(err, errlen, "%s.%s: bad number '%.40s'", where, name,
		    s);
	else
		return 0;
	return -1;
}

/* "PT15M", "PT60M", "PT1H" -> seconds. */
static int
resolution(xmlNode *n, const char *where, int64_t *res, char *err,
    size_t errlen)
{
	const char *s = text(n);
	char unit = 0, extra;
	int k;

	if (n == NULL || sscanf(s, "PT%d%c%c", &k, &unit, &extra) != 2 ||
	    k <= 0 || k > 1440 || (unit != 'M' && unit != 'H')) {
		snprintf(err, errlen, "%s: resolution '%.20s' not supported "
		    "(expected PTnM or PTnH)", where, s);
		return -1;
	}
	*res = (int64_t)k * (unit == 'H' ? 3600 : 60);
	return 0;
}

static void
seg_add(struct segs *s, int64_t t0, int64_t t1, double mw, int fuel)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = (struct seg){ t0, t1, mw < 0 ? 0 : mw, fuel };
}

static int
xposition(xmlNode *pt, const char *where, int64_t steps, int64_t *pos,
    char *err, size_t errlen)
{
	double v;

	if (xnumber(pt, "position", where, &v, err, errlen) == -1)
		return -1;
	if (v != floor(v) || v < 1 || v > (double)steps) {
		snprintf(err, errlen, "%s.position: %.20s is outside the "
		    "Period", where, text(child(pt, "position")));
		return -1;
	}
	*pos = (int64_t)v;
	return 0;
}

static int
period(xmlNode *pe, const char *where, int fuel, int a03, struct segs *s,
    char *err, size_t errlen)
{
	int64_t start, end, res, steps, pos, prev = 0;
	double mw, prev_mw = 0;
	char pwhere[96];
	size_t i = 0;

	snprintf(pwhere, sizeof(pwhere), "%s.timeInterval", where);
	if (xtime(child(pe, "timeInterval"), "start", pwhere, &start, err,
	    errlen) == -1 ||
	    xtime(child(pe, "timeInterval"), "end", pwhere, &end, err,
	    errlen) == -1 ||
	    resolution(child(pe, "resolution"), where, &res, err,
	    errlen) == -1)
		return -1;
	if (end <= start || (end - start) % res != 0) {
		snprintf(err, errlen, "%s: timeInterval is not a whole number "
		    "of resolution steps", where);
		return -1;
	}
	steps = (end - start) / res;
	if (s->step == 0 || res < s->step)
		s->step = res;
	/* A03: the previous point holds until this one (or the end). */
	for (xmlNode *pt = pe->children; pt != NULL; pt = pt->next) {
		if (pt->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)pt->name, "Point") != 0)
			continue;
		snprintf(pwhere, sizeof(pwhere), "%s.Point[%zu]", where, i++);
		if (xposition(pt, pwhere, steps, &pos, err, errlen) == -1 ||
		    xnumber(pt, "quantity", pwhere, &mw, err, errlen) == -1)
			return -1;
		if (pos <= prev) {
			snprintf(err, errlen, "%s: position %lld out of order",
			    pwhere, (long long)pos);
			return -1;
		}
		if (a03 && prev != 0)
			seg_add(s, start + (prev - 1) * res,
			    start + (pos - 1) * res, prev_mw, fuel);
		else if (!a03)
			seg_add(s, start + (pos - 1) * res, start + pos * res,
			    mw, fuel);
		prev = pos;
		prev_mw = mw;
	}
	if (a03 && prev != 0)
		seg_add(s, start + (prev - 1) * res, end, prev_mw, fuel);
	return 0;
}

/* One TimeSeries: adds its segments, or none if it is left out. */
static int
series(xmlNode *ts, const char *where, const double *factors, uint32_t *mask,
    struct segs *s, char *err, size_t errlen)
{
	const char *psr, *unit, *curve;
	size_t i = 0, before = s->n;
	char pwhere[80];
	xmlNode *pe;
	int fuel;

	if (child(ts, "outBiddingZone_Domain.mRID") != NULL)
		return 0;
	psr = text(child(child(ts, "MktPSRType"), "psrType"));
	if (*psr == '\0') {
		snprintf(err, errlen, "%s: missing MktPSRType.psrType", where);
		return -1;
	}
	if (psr[0] != 'B' || sscanf(psr + 1, "%d", &fuel) != 1 || fuel < 1 ||
	    fuel > PROV_NFUELS || fuel == EN_PUMPED || factors[fuel - 1] < 0)
		return 0;
	fuel--;
	unit = text(child(ts, "quantity_Measure_Unit.name"));
	if (strcmp(unit, "MAW") != 0) {
		snprintf(err, errlen, "%s: unknown unit '%.20s' (expected MAW)",
		    where, unit);
		return -1;
	}
	curve = child(ts, "curveType") != NULL ?
	    text(child(ts, "curveType")) : "A01";
	if (strcmp(curve, "A01") != 0 && strcmp(curve, "A03") != 0) {
		snprintf(err, errlen, "%s: curveType '%.20s' not supported "
		    "(expected A01 or A03)", where, curve);
		return -1;
	}
	for (pe = ts->children; pe != NULL; pe = pe->next) {
		if (pe->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)pe->name, "Period") != 0)
			continue;
		snprintf(pwhere, sizeof(pwhere), "%s.Period[%zu]", where, i++);
		if (period(pe, pwhere, fuel, curve[2] == '3', s, err,
		    errlen) == -1)
			return -1;
	}
	if (s->n > before)
		*mask |= 1u << fuel;
	return 0;
}

/* Sums the segments on the finest grid and appends the intensities. */
static int
mix(const struct segs *s, uint32_t need, const double *factors, int64_t now,
    struct ci_batch *out, char *err, size_t errlen)
{
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	size_t n, i, k;
	uint32_t *have;
	double *num, *den;
	int rc = 0;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].t0 < t0)
			t0 = s->v[i].t0;
		if (s->v[i].t1 > t1)
			t1 = s->v[i].t1;
	}
	if (s->n == 0)
		return 0;
	if ((t1 - t0) / s->step > EN_MAX_CELLS) {
		snprintf(err, errlen, "document spans too many time steps");
		return -1;
	}
	n = (size_t)((t1 - t0) / s->step);
	num = xcalloc(n, sizeof(*num));
	den = xcalloc(n, sizeof(*den));
	have = xcalloc(n, sizeof(*have));
	for (i = 0; i < s->n; i++) {
		const struct seg *g = &s->v[i];

		if ((g->t0 - t0) % s->step != 0 ||
		    (g->t1 - t0) % s->step != 0) {
			snprintf(err, errlen, "Periods do not share a grid of "
			    "%lld s steps", (long long)s->step);
			rc = -1;
			break;
		}
		for (k = (size_t)((g->t0 - t0) / s->step);
		    k < n && t0 + (int64_t)k * s->step < g->t1; k++) {
			num[k] += g->mw * factors[g->fuel];
			den[k] += g->mw;
			have[k] |= 1u << g->fuel;
		}
	}
	for (k = 0; rc == 0 && k < n; k++)
		if (have[k] == need && den[k] > 0)
			ci_batch_add(out, t0 + (int64_t)k * s->step,
			    num[k] / den[k], CI_ACTUAL, now, 0);
	free(num);
	free(den);
	free(have);
	return rc;
}

static int
acknowledgement(xmlNode *root, const char *secret, char *err, size_t errlen)
{
	const char *why = text(child(child(root, "Reason"), "text"));

	if (*why == '\0')
		snprintf(err, errlen, "ENTSO-E acknowledgement without a "
		    "reason");
	else if (secret != NULL && *secret != '\0' &&
	    strstr(why, secret) != NULL)
		snprintf(err, errlen, "ENTSO-E acknowledgement (reason "
		    "withheld: it quotes the token)");
	else
		snprintf(err, errlen, "ENTSO-E: %.300s", why);
	return -1;
}

static int
document(struct pstate *st, xmlNode *root, int64_t now, struct ci_batch *out,
    char *err, size_t errlen)
{
	const double *factors = st->conf->factors;
	struct segs s = { 0 };
	char where[40];
	uint32_t need = 0;
	size_t i = 0;
	int rc = 0;

	if (strcmp((const char *)root->name, "Acknowledgement_MarketDocument")
	    == 0)
		return acknowledgement(root, st->secret, err, errlen);
	if (strcmp((const char *)root->name, "GL_MarketDocument") != 0) {
		snprintf(err, errlen, "unexpected document '%.40s' (expected "
		    "GL_MarketDocument)", (const char *)root->name);
		return -1;
	}
	if (child(root, "type") != NULL &&
	    strcmp(text(child(root, "type")), "A75") != 0) {
		snprintf(err, errlen, "document type '%.20s' is not A75",
		    text(child(root, "type")));
		return -1;
	}
	for (xmlNode *ts = root->children; ts != NULL && rc == 0;
	    ts = ts->next) {
		if (ts->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)ts->name, "TimeSeries") != 0)
			continue;
		snprintf(where, sizeof(where), "TimeSeries[%zu]", i++);
		rc = series(ts, where, factors, &need, &s, err, errlen);
	}
	if (rc == 0)
		rc = mix(&s, need, factors, now, out, err, errlen);
	free(s.v);
	return rc;
}

static int
en_request(struct pstate *st, int step, int64_t now, struct preq *req,
    char *err, size_t errlen)
{
	int64_t hist = st->conf->history;
	char t0[16], t1[16];
	struct tm tm;
	time_t tt;

	if (step >= 1)
		return 0;
	if (prov_check_id("zone", st->zone, err, errlen) == -1 ||
	    prov_check_secret("token", "token_file or token_env", st->secret,
	    1, err, errlen) == -1)
		return -1;
	tt = (time_t)((now - hist) / 3600 * 3600);
	gmtime_r(&tt, &tm);
	strftime(t0, sizeof(t0), "%Y%m%d%H%M", &tm);
	tt = (time_t)now;
	gmtime_r(&tt, &tm);
	strftime(t1, sizeof(t1), "%Y%m%d%H%M", &tm);
	req->url = prov_url(st, EN_BASE, "?securityToken=%s&documentType=A75&"
	    "processType=A16&in_Domain=%s&periodStart=%s&periodEnd=%s",
	    st->secret, st->zone, t0, t1);
	return 1;
}

static int
en_response(struct pstate *st, int step, int64_t now, const char *body,
    size_t len, struct ci_batch *out, char *err, size_t errlen)
{
	size_t before = out->n;
	xmlParserCtxt *ctx;
	xmlDoc *doc;
	int rc;

	if (len > INT_MAX) {
		snprintf(err, errlen, "response too large for XML");
		return -1;
	}
	ctx = xmlNewParserCtxt();
	doc = xmlCtxtReadMemory(ctx, body, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		const xmlError *xe = xmlCtxtGetLastError(ctx);
		size_t m;

		snprintf(err, errlen, "bad XML at line %d: %s",
		    xe != NULL ? xe->line : 0, xe != NULL && xe->message !=
		    NULL ? xe->message : "no document element");
		m = strlen(err);
		while (m > 0 && (err[m - 1] == '\n' || err[m - 1] == ' '))
			err[--m] = '\0';
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctx);
		return -1;
	}
	rc = document(st, xmlDocGetRootElement(doc), now, out, err, errlen);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	if (rc == -1)
		return -1;
	return prov_need_points(out, before, err, errlen);
}

const struct provider_ops prov_entsoe_ops = {
	.name = "entsoe",
	.signal = CI_AVERAGE,
	.min_refresh = 60 * 60,
	.base_url = EN_BASE,
	.needs_secret = 1,
	.request = en_request,
	.response = en_response,
};
