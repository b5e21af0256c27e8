/*
 * bench-forecast: how well ebb's own forecaster (scheduler/carbon/
 * forecast.c) predicts real carbon-intensity traces, against two
 * baselines, and how long it takes.
 *
 * Zones: the ten bundled Electricity Maps 2023 files (examples/traces,
 * LCA column, hourly slots) and, where the shared data folder is present,
 * the 2020 Germany, Great Britain and France files of "Let's Wait Awhile"
 * (30-minute slots). Forecasts are issued every 6 h over the second half
 * of each series (the forecaster's constants were tuned on the first
 * half) from all the history before the origin, for the next 48 h. Per
 * zone it prints MAPE at 1, 6, 24 and 48 h ahead and the mean Spearman
 * rank correlation of forecast and actual within the first and the second
 * 24 h of each forecast, for ebb, persistence (the last known value; a
 * constant ranks nothing, so its correlation counts as 0) and
 * same-hour-yesterday (the value one day earlier, two days for the second
 * day). It exits 1 unless ebb beats both baselines at 24 h on MAPE and on
 * day-one rank correlation in every zone.
 *
 * Reference: the forecasts WattTime issued for CAISO North (June 2023,
 * leads up to 65 min) against its actuals, next to ebb and persistence on
 * the same targets. Timing: fc_forecast on 90 days of 5-minute history
 * for 48 h, median of 21 runs.
 *
 * Usage: bench-forecast [-f] [-t TRACES_DIR] [-s SHARED_DIR]
 * (defaults examples/traces and $EBB_SHARED, else ../shared). -f scores
 * the first half instead (origins and targets before the middle of each
 * series), the half the forecaster's constants may be tuned on. The shared
 * files are read in place; they may not be copied into the repository.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/series.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/forecast.h"

#define HOUR		3600
#define DAY		86400
#define ORIGIN_STEP	(6 * HOUR)
#define HORIZON		(48 * HOUR)
#define NHORIZONS	4
#define TIMING_RUNS	21
#define FLOOR_RATIO	0.85	/* ebb / yesterday, 24 h MAPE (issue 11) */

enum { M_EBB, M_PERSIST, M_YESTERDAY, NMETHODS };

static const char *const method_names[NMETHODS] = { "ebb", "persistence",
    "yesterday" };
static const int horizon_hours[NHORIZONS] = { 1, 6, 24, 48 };

struct score {
	double	ape[NHORIZONS];	/* sums of absolute percentage errors */
	size_t	nape[NHORIZONS];
	double	rho[2];		/* sums of day-one and day-two Spearman */
	size_t	nrho[2];
	size_t	cov[3], ncov;	/* actuals below, inside, above the interval */
};

struct ranked {
	double	v;
	size_t	i;
};

static int
cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/* Ranks (1-based, ties averaged) of x[0..n) into r. */
static void
rank(const double *x, size_t n, double *r)
{
	struct ranked *s = xmalloc(n * sizeof(*s));

	for (size_t i = 0; i < n; i++) {
		s[i].v = x[i];
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cmp_ranked);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && s[j + 1].v == s[i].v)
			j++;
		for (size_t k = i; k <= j; k++)
			r[s[k].i] = (double)(i + j) / 2 + 1;
		i = j + 1;
	}
	free(s);
}

/* Spearman's rho of x and y; 0 when either is constant. */
static double
spearman(const double *x, const double *y, size_t n)
{
	double *rx = xmalloc(n * sizeof(*rx)), *ry = xmalloc(n * sizeof(*ry));
	double m = (double)(n + 1) / 2, sxy = 0, sxx = 0, syy = 0;

	rank(x, n, rx);		/* mean rank is exactly (n + 1) / 2 */
	rank(y, n, ry);
	for (size_t i = 0; i < n; i++) {
		sxy += (rx[i] - m) * (ry[i] - m);
		sxx += (rx[i] - m) * (rx[i] - m);
		syy += (ry[i] - m) * (ry[i] - m);
	}
	free(rx);
	free(ry);
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* Adds one forecast f[0..h) issued at slot o of s to *sc. */
static void
score_one(const struct series *s, size_t o, const double *f, size_t h,
    struct score *sc)
{
	size_t day = (size_t)(DAY / s->slot);

	for (int k = 0; k < NHORIZONS; k++) {
		size_t j = (size_t)(horizon_hours[k] * HOUR / s->slot) - 1;
		double a = s->v[o + j];

		if (j < h && isfinite(a) && a > 0 && isfinite(f[j])) {
			sc->ape[k] += fabs(f[j] - a) / a;
			sc->nape[k]++;
		}
	}
	for (int d = 0; d < 2; d++) {
		int ok = (d + 1) * day <= h;

		for (size_t j = d * day; ok && j < (d + 1) * day; j++)
			ok = isfinite(s->v[o + j]) && isfinite(f[j]);
		if (ok) {
			sc->rho[d] += spearman(f + d * day, s->v + o + d * day,
			    day);
			sc->nrho[d]++;
		}
	}
}

/*
 * Rolling origins every ORIGIN_STEP over slots [from, to) of s; each
 * method's scores go to sc[method]. Returns the number of origins.
 */
static size_t
evaluate(const struct series *s, size_t from, size_t to,
    struct score sc[NMETHODS])
{
	size_t h = (size_t)(HORIZON / s->slot), day = (size_t)(DAY / s->slot);
	size_t step = (size_t)(ORIGIN_STEP / s->slot), norigins = 0;
	double *f = xmalloc(h * sizeof(*f)), *lo = xmalloc(h * sizeof(*lo));
	double *hi = xmalloc(h * sizeof(*hi));
	char err[128];

	memset(sc, 0, NMETHODS * sizeof(*sc));
	if (from < 2 * day)
		from = 2 * day;
	for (size_t o = from; o + h <= to; o += step) {
		size_t last = o;

		if (fc_forecast_band(s->v, o, s->slot, s->t0, h, f, lo, hi,
		    err, sizeof(err)) == 0) {
			score_one(s, o, f, h, &sc[M_EBB]);
			for (size_t j = 0; j < h; j++) {
				double a = s->v[o + j];

				if (!isfinite(a) || isnan(lo[j]))
					continue;
				sc[M_EBB].cov[a < lo[j] ? 0 : a > hi[j] ? 2 :
				    1]++;
				sc[M_EBB].ncov++;
			}
		}
		while (last > 0 && isnan(s->v[last - 1]))
			last--;
		if (last > 0) {
			for (size_t j = 0; j < h; j++)
				f[j] = s->v[last - 1];
			score_one(s, o, f, h, &sc[M_PERSIST]);
		}
		for (size_t j = 0; j < h; j++)
			f[j] = s->v[o + j - (j / day + 1) * day];
		score_one(s, o, f, h, &sc[M_YESTERDAY]);
		norigins++;
	}
	free(f);
	free(lo);
	free(hi);
	return norigins;
}

static double
mape(const struct score *sc, int k)
{
	return sc->nape[k] != 0 ? 100 * sc->ape[k] / (double)sc->nape[k] : NAN;
}

static double
mean_rho(const struct score *sc, int d)
{
	return sc->nrho[d] != 0 ? sc->rho[d] / (double)sc->nrho[d] : NAN;
}

/* One zone's summary line, printed after the table. */
struct summary {
	const char	*name;
	double		 ratio, below, inside, above;
};

static struct summary summaries[16];
static size_t nsummaries;
static int first_half;	/* -f: score the tuning half */

/*
 * Prints one zone's rows; returns 1 if ebb beats both baselines at 24 h
 * and its 24 h MAPE is at most FLOOR_RATIO of same-hour-yesterday's.
 */
static int
report_zone(const char *name, const struct series *s)
{
	struct score sc[NMETHODS];
	struct summary *su = &summaries[nsummaries++];
	size_t norigins;
	int wins = 1;

	norigins = first_half ? evaluate(s, 0, s->n / 2, sc) :
	    evaluate(s, s->n / 2, s->n, sc);
	su->name = name;
	su->ratio = mape(&sc[M_EBB], 2) / mape(&sc[M_YESTERDAY], 2);
	if (sc[M_EBB].ncov != 0) {
		su->below = 100.0 * (double)sc[M_EBB].cov[0] /
		    (double)sc[M_EBB].ncov;
		su->inside = 100.0 * (double)sc[M_EBB].cov[1] /
		    (double)sc[M_EBB].ncov;
		su->above = 100.0 * (double)sc[M_EBB].cov[2] /
		    (double)sc[M_EBB].ncov;
	} else
		su->below = su->inside = su->above = NAN;
	if (!(su->ratio <= FLOOR_RATIO))
		wins = 0;
	for (int m = 0; m < NMETHODS; m++) {
		printf("%-12s %5" PRId64 "m %6zu  %-11s", m == 0 ? name : "",
		    s->slot / 60, norigins, method_names[m]);
		for (int k = 0; k < NHORIZONS; k++)
			printf(" %7.2f", mape(&sc[m], k));
		printf("  %6.3f %6.3f\n", mean_rho(&sc[m], 0),
		    mean_rho(&sc[m], 1));
	}
	for (int m = M_PERSIST; m < NMETHODS; m++)
		if (!(mape(&sc[M_EBB], 2) < mape(&sc[m], 2)) ||
		    !(mean_rho(&sc[M_EBB], 0) > mean_rho(&sc[m], 0)))
			wins = 0;
	return wins;
}

static int
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* "YYYY-MM-DD HH:MM:SS" (UTC) at p; -1 if it is not one. */
static int
stamp(const char *p, int64_t *t)
{
	char buf[24], err[128];

	if (strlen(p) < 19)
		return -1;
	memcpy(buf, p, 19);
	strcpy(buf + 19, "Z");
	return ebb_parse_time(buf, 0, t, err, sizeof(err));
}

/*
 * WattTime's issued forecasts (request_time,forecast_time,value) against
 * its actuals, with ebb and persistence on the same targets: every
 * request in the second half of the month, ebb forecasting from the
 * actuals before the request time.
 */
static void
watttime(const char *dir)
{
	static const int leads[] = { 5, 30, 60 };
	static const char *const names[] = { "WattTime", "ebb", "persistence" };
	enum { NLEADS = 3, W_WATTTIME = 0, W_EBB, W_PERSIST, NW };
	char *path, line[256], err[256], from[24], to[24];
	double ape[NW][NLEADS] = { { 0 } }, f[16];
	size_t nape[NLEADS] = { 0 };
	struct series s;
	int64_t cur = INT64_MIN;
	size_t lineno = 0;
	FILE *fp;

	path = xasprintf("%s/watttime2023_caiso-north_actual.csv", dir);
	if (load_series(path, NULL, 300, &s, err, sizeof(err)) == -1) {
		printf("watttime: %s\n", err);
		free(path);
		return;
	}
	free(path);
	path = xasprintf("%s/watttime2023_caiso-north_forecast.csv", dir);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("watttime: %s: %s\n", path, strerror(errno));
		free(path);
		free(s.v);
		return;
	}
	free(path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		int64_t rt, ft, lead;
		size_t o, j;
		double a;
		char *comma = strchr(line, ',');
		int k;

		if (++lineno == 1 || comma == NULL || stamp(line, &rt) == -1 ||
		    stamp(comma + 1, &ft) == -1 || strlen(comma + 1) < 21)
			continue;
		if (rt < s.t0 || (size_t)((rt - s.t0) / 300) < s.n / 2)
			continue;
		o = (size_t)((rt - s.t0) / 300);
		if (rt != cur) {
			cur = rt;
			if (fc_forecast(s.v, o, 300, s.t0, 16, f, err,
			    sizeof(err)) == -1) {
				printf("watttime: %s\n", err);
				break;
			}
		}
		lead = ft - rt;
		for (k = 0; k < NLEADS && lead != leads[k] * 60; k++)
			;
		j = (size_t)((ft - s.t0) / 300);
		if (k == NLEADS || j >= s.n || !isfinite(a = s.v[j]) || a <= 0)
			continue;
		ape[W_WATTTIME][k] += fabs(strtod(comma + 21, NULL) - a) / a;
		ape[W_EBB][k] += fabs(f[lead / 300] - a) / a;
		ape[W_PERSIST][k] += fabs(s.v[o - 1] - a) / a;
		nape[k]++;
	}
	fclose(fp);
	printf("\nReference: WattTime CAISO North MOER, requests %s to %s, "
	    "5-min slots\n%-12s", ebb_fmt_time(s.t0 + (int64_t)(s.n / 2) * 300,
	    from, sizeof(from)), ebb_fmt_time(s.t0 + (int64_t)s.n * 300, to,
	    sizeof(to)), "MAPE at");
	for (int k = 0; k < NLEADS; k++)
		printf(" %5d min", leads[k]);
	printf("   (targets per lead)\n");
	for (int m = 0; m < NW; m++) {
		printf("%-12s", names[m]);
		for (int k = 0; k < NLEADS; k++)
			printf(" %8.2f%%", nape[k] != 0 ?
			    100 * ape[m][k] / (double)nape[k] : NAN);
		printf("   (%zu)\n", nape[0]);
	}
	free(s.v);
}

static int
cmp_double(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Times fc_forecast on 90 days of 5-minute history for 48 h. */
static int
timing(const char *traces)
{
	char *path, err[256];
	double ms[TIMING_RUNS], *out;
	size_t n = 90 * DAY / 300, h = HORIZON / 300;
	struct series s;
	int rc;

	path = xasprintf("%s/DE-LU_2023_hourly.csv", traces);
	rc = load_series(path, EM_LCA, 300, &s, err, sizeof(err));
	free(path);
	if (rc == -1) {
		fprintf(stderr, "bench-forecast: %s\n", err);
		return -1;
	}
	out = xmalloc(h * sizeof(*out));
	for (int r = 0; r < TIMING_RUNS; r++) {
		int64_t t = ebb_mono_ns();

		if (fc_forecast(s.v, n, 300, s.t0, h, out, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "bench-forecast: %s\n", err);
			free(out);
			free(s.v);
			return -1;
		}
		ms[r] = (double)(ebb_mono_ns() - t) / 1e6;
	}
	qsort(ms, TIMING_RUNS, sizeof(ms[0]), cmp_double);
	printf("\nTiming: fc_forecast, %zu slots (90 days at 5 min) -> %zu "
	    "slots (48 h): median %.3f ms, max %.3f ms over %d runs\n", n, h,
	    ms[TIMING_RUNS / 2], ms[TIMING_RUNS - 1], TIMING_RUNS);
	free(out);
	free(s.v);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *traces = "examples/traces", *shared = getenv("EBB_SHARED");
	char *path, *data, err[256];
	int c, rc, zones = 0, wins = 0;

	if (shared == NULL)
		shared = "../shared";
	while ((c = getopt(argc, argv, "ft:s:")) != -1) {
		switch (c) {
		case 'f':
			first_half = 1;
			break;
		case 't':
			traces = optarg;
			break;
		case 's':
			shared = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-forecast [-f] [-t traces_dir] "
			    "[-s shared_dir]\n");
			return 2;
		}
	}
	data = xasprintf("%s/data/carbon-intensity", shared);

	printf("Rolling origins every 6 h over the %s half of each series;"
	    " MAPE %% at the lead shown;\nrank = mean Spearman correlation "
	    "of forecast and actual within hours 0-24 (d1) and 24-48 (d2).\n\n"
	    "%-12s %6s %6s  %-11s %7s %7s %7s %7s  %6s %6s\n", first_half ?
	    "first (tuning)" : "second", "zone", "slot",
	    "origs", "method", "1h", "6h", "24h", "48h", "rank1", "rank2");
	for (size_t i = 0; i < n_em_zones; i++) {
		struct series s;

		path = xasprintf("%s/%s_2023_hourly.csv", traces, em_zones[i]);
		rc = load_series(path, EM_LCA, HOUR, &s, err, sizeof(err));
		free(path);
		if (rc == -1) {
			fprintf(stderr, "bench-forecast: %s\n", err);
			return 2;
		}
		wins += report_zone(em_zones[i], &s);
		zones++;
		free(s.v);
	}
	if (is_dir(data)) {
		for (size_t i = 0; i < n_lwa_zones; i++) {
			struct series s;

			path = xasprintf("%s/%s", data, lwa_zones[i].file);
			rc = load_series(path, NULL, 1800, &s, err,
			    sizeof(err));
			free(path);
			if (rc == -1) {
				fprintf(stderr, "bench-forecast: %s\n", err);
				return 2;
			}
			wins += report_zone(lwa_zones[i].name, &s);
			zones++;
			free(s.v);
		}
		path = xasprintf("%s/watttime-caiso-north-2023", data);
		if (is_dir(path))
			watttime(path);
		else
			printf("\nWattTime reference skipped: %s not found\n",
			    path);
		free(path);
	} else
		printf("\nskipped: %s not found (2020 DE/GB/FR zones and the "
		    "WattTime reference need it; set EBB_SHARED or -s)\n",
		    shared);
	free(data);
	printf("\nPer zone: ebb's 24 h MAPE / same-hour-yesterday's (floor "
	    "%.2f), and where the actual fell against ebb's %.0f-%.0f %% "
	    "interval, all leads to 48 h\n%-12s %7s %7s %7s %7s\n",
	    FLOOR_RATIO, 100 * FC_LO_Q, 100 * FC_HI_Q, "zone", "ratio",
	    "below", "inside", "above");
	for (size_t i = 0; i < nsummaries; i++)
		printf("%-12s %7.3f %6.1f%% %6.1f%% %6.1f%%\n",
		    summaries[i].name, summaries[i].ratio, summaries[i].below,
		    summaries[i].inside, summaries[i].above);
	if (timing(traces) == -1)
		return 2;
	printf("\nebb beats persistence and same-hour-yesterday at 24 h on "
	    "MAPE and rank correlation, at most %.2f of yesterday's MAPE, in "
	    "%d of %d zones: %s\n", FLOOR_RATIO, wins, zones,
	    wins == zones ? "yes" : "NO");
	return wins == zones ? 0 : 1;
}
