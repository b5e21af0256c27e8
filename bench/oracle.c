/*
 * bench-forecast-oracle: how good can any forecaster of a simple family be
 * at 24 h ahead on each zone of bench-forecast? An upper bound, not a
 * forecaster: per zone it fits, on the very targets it then scores, the
 * linear combination of a few history features with the least mean
 * absolute percentage error, and compares that MAPE with
 * same-hour-yesterday's on the same targets (issue 11's floor is 0.85 of
 * it). If even this in-sample fit cannot reach the floor on a zone, no
 * history-only forecaster of that family can there.
 *
 * Targets and origins are bench-forecast's: an origin every 6 h over the
 * scored half of each series (the second; -f the first), from the history
 * before it; the target is the slot ending 24 h after the origin. At that
 * lead same-hour-yesterday is the last known value. Features, for target
 * T:
 *   y1..y7   the value 1..7 days before T (y1 is the last known value),
 *   prof     the mean of the values 1..21 days before T (the same time of
 *            day: a flat 21-day daily profile),
 *   mean24   the mean of the last 24 h of history,
 *   ebb      ebb's own forecast for T (fc_forecast for 48 h, as
 *            bench-forecast asks; only in "+ebb"),
 *   1        a constant.
 * Families, each fitted per zone (least absolute relative error by
 * iteratively reweighted least squares, 60 rounds):
 *   hist      the features without ebb, one set of weights,
 *   +ebb      with ebb's forecast as a feature,
 *   +ebb/hour with ebb's, one set of weights per origin time of day,
 *   out       +ebb fitted on the other half, scored on this one: what
 *             the family does out of sample (first-half origins start
 *             after 8 days of history, so the y7 feature exists).
 * The columns are MAPE ratios to same-hour-yesterday's on the same targets
 * ("ebb" is ebb's own forecast there, as bench-forecast's ratio); "floor"
 * names the smallest family whose in-sample fit reaches 0.85, or none.
 *
 * Usage: bench-forecast-oracle [-f] [-v] [-t TRACES_DIR] [-s SHARED_DIR],
 * as bench-forecast; -v prints each zone's +ebb weights.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/series.h"
#include "common/xmalloc.h"
#include "scheduler/carbon/forecast.h"

#define HOUR		3600
#define DAY		86400
#define ORIGIN_STEP	(6 * HOUR)
#define HORIZON		(48 * HOUR)
#define PROFILE_DAYS	21
#define LAGS		7
#define ROUNDS		60
#define FLOOR_RATIO	0.85

/* Feature columns: y1..y7, prof, mean24, 1, ebb. */
enum { F_PROF = LAGS, F_MEAN24, F_ONE, F_EBB, NF };

static const char *const fnames[NF] = { "y1", "y2", "y3", "y4", "y5", "y6",
    "y7", "prof", "mean24", "1", "ebb" };

/* The samples of one half: m rows of NF features, actual, hour of origin. */
struct set {
	double	*x, *a;
	int	*hod;
	size_t	 m;
};

static int verbose;

static double
mean_known(const double *v, size_t n, size_t *k)
{
	double s = 0;

	*k = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			s += v[i];
			(*k)++;
		}
	return *k != 0 ? s / (double)*k : NAN;
}

/*
 * The samples of origins every ORIGIN_STEP from `from` while o + 48 h <=
 * to (bench-forecast's), skipping those with a feature or the actual
 * unknown.
 */
static void
build(const struct series *s, size_t from, size_t to, struct set *st)
{
	size_t day = (size_t)(DAY / s->slot), h = (size_t)(HORIZON / s->slot);
	size_t step = (size_t)(ORIGIN_STEP / s->slot), cap;
	double *f = xmalloc(h * sizeof(*f));
	char err[128];

	if (from < (LAGS + 1) * day)
		from = (LAGS + 1) * day;
	cap = to > from ? (to - from) / step + 1 : 1;
	st->x = xmalloc(cap * NF * sizeof(*st->x));
	st->a = xmalloc(cap * sizeof(*st->a));
	st->hod = xmalloc(cap * sizeof(*st->hod));
	st->m = 0;
	for (size_t o = from; o + h <= to; o += step) {
		size_t T = o + day - 1, k, np = 0;
		double *x = st->x + st->m * NF, a = s->v[T], p = 0;
		int ok = isfinite(a) && a > 0;

		for (int l = 0; l < LAGS && ok; l++)
			ok = isfinite(x[l] = s->v[T - (size_t)(l + 1) * day]);
		for (size_t l = 1; l <= PROFILE_DAYS && l * day <= T; l++)
			if (isfinite(s->v[T - l * day])) {
				p += s->v[T - l * day];
				np++;
			}
		x[F_PROF] = np != 0 ? p / (double)np : NAN;
		x[F_MEAN24] = mean_known(s->v + o - day, day, &k);
		x[F_ONE] = 1;
		if (!ok || !isfinite(x[F_PROF]) || k == 0 ||
		    fc_forecast(s->v, o, s->slot, s->t0, h, f, err,
		    sizeof(err)) == -1)
			continue;
		x[F_EBB] = f[day - 1];
		st->a[st->m] = a;
		st->hod[st->m] = (int)(((s->t0 + (int64_t)o * s->slot) % DAY) /
		    HOUR);
		st->m++;
	}
	free(f);
}

/* Solves the p x p system A b = r in place (partial pivoting); -1 if
 * singular. */
static int
solve(double *A, double *r, size_t p)
{
	for (size_t c = 0; c < p; c++) {
		size_t piv = c;

		for (size_t i = c + 1; i < p; i++)
			if (fabs(A[i * p + c]) > fabs(A[piv * p + c]))
				piv = i;
		if (A[piv * p + c] == 0)
			return -1;
		if (piv != c) {
			for (size_t j = 0; j < p; j++) {
				double t = A[c * p + j];

				A[c * p + j] = A[piv * p + j];
				A[piv * p + j] = t;
			}
			double t = r[c];

			r[c] = r[piv];
			r[piv] = t;
		}
		for (size_t i = c + 1; i < p; i++) {
			double g = A[i * p + c] / A[c * p + c];

			for (size_t j = c; j < p; j++)
				A[i * p + j] -= g * A[c * p + j];
			r[i] -= g * r[c];
		}
	}
	for (size_t c = p; c-- > 0;) {
		for (size_t j = c + 1; j < p; j++)
			r[c] -= A[c * p + j] * r[j];
		r[c] /= A[c * p + c];
	}
	return 0;
}

static double
predict(const double *x, const double *b, size_t p)
{
	double v = 0;

	for (size_t j = 0; j < p; j++)
		v += x[j] * b[j];
	return v;
}

/*
 * Fits b[0..p) (the first p features) on the rows of st whose hour is hod
 * (all when hod < 0), least absolute relative error. Returns 0, -1 when
 * there are too few rows or the system is singular.
 */
static int
fit(const struct set *st, size_t p, int hod, double *b)
{
	double A[NF * NF], r[NF];

	for (int round = 0; round <= ROUNDS; round++) {
		double tr = 0;
		size_t used = 0;

		memset(A, 0, sizeof(A));
		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < st->m; i++) {
			const double *x = st->x + i * NF;
			double a = st->a[i], w;

			if (hod >= 0 && st->hod[i] != hod)
				continue;
			/* Round 0: least squares of the relative error. */
			w = round == 0 ? 1 / (a * a) : 1 / (a * fmax(fabs(a -
			    predict(x, b, p)), 1e-4 * a));
			for (size_t j = 0; j < p; j++) {
				for (size_t k = 0; k < p; k++)
					A[j * p + k] += w * x[j] * x[k];
				r[j] += w * x[j] * a;
			}
			used++;
		}
		if (used < 2 * p)
			return -1;
		for (size_t j = 0; j < p; j++)
			tr += A[j * p + j];
		for (size_t j = 0; j < p; j++)
			A[j * p + j] += 1e-10 * tr / (double)p;
		if (solve(A, r, p) == -1)
			return -1;
		memcpy(b, r, p * sizeof(*b));
	}
	return 0;
}

/* Mean absolute percentage error of column c (c < 0: the weights b over
 * the first p features) on st; NAN if empty. */
static double
mape(const struct set *st, int c, const double *b, size_t p)
{
	double e = 0;

	for (size_t i = 0; i < st->m; i++) {
		const double *x = st->x + i * NF;
		double f = c >= 0 ? x[c] : predict(x, b, p);

		e += fabs(f - st->a[i]) / st->a[i];
	}
	return st->m != 0 ? 100 * e / (double)st->m : NAN;
}

/* +ebb/hour: in-sample MAPE with one fit per origin hour of day. */
static double
mape_by_hour(const struct set *st)
{
	double e = 0, b[NF];
	size_t k = 0;

	for (int hod = 0; hod < 24; hod++) {
		if (fit(st, NF, hod, b) == -1)
			continue;
		for (size_t i = 0; i < st->m; i++)
			if (st->hod[i] == hod) {
				e += fabs(predict(st->x + i * NF, b, NF) -
				    st->a[i]) / st->a[i];
				k++;
			}
	}
	return k == st->m && k != 0 ? 100 * e / (double)k : NAN;
}

static void
free_set(struct set *st)
{
	free(st->x);
	free(st->a);
	free(st->hod);
}

/* One zone's row; adds 1 to reach[0] when the in-sample +ebb fit reaches
 * the floor, to reach[1] when the +ebb/hour fit does. */
static void
zone(const char *name, const struct series *s, int first_half, int reach[2])
{
	struct set half[2], *sc, *other;
	double b[NF], y, r[5];

	build(s, 0, s->n / 2, &half[0]);
	build(s, s->n / 2, s->n, &half[1]);
	sc = &half[first_half ? 0 : 1];
	other = &half[first_half ? 1 : 0];
	y = mape(sc, 0, NULL, 0);
	r[0] = mape(sc, F_EBB, NULL, 0) / y;
	r[1] = fit(sc, F_EBB, -1, b) == 0 ? mape(sc, -1, b, F_EBB) / y : NAN;
	r[2] = fit(sc, NF, -1, b) == 0 ? mape(sc, -1, b, NF) / y : NAN;
	r[3] = mape_by_hour(sc) / y;
	reach[0] += r[2] <= FLOOR_RATIO;
	reach[1] += r[3] <= FLOOR_RATIO;
	if (verbose) {
		printf("%-12s +ebb weights:", name);
		for (size_t j = 0; j < NF; j++)
			printf(" %s %.3f", fnames[j], b[j]);
		printf("\n");
	}
	r[4] = fit(other, NF, -1, b) == 0 ? mape(sc, -1, b, NF) / y : NAN;
	printf("%-12s %4" PRId64 "m %5zu %7.2f %7.3f %7.3f %7.3f %9.3f %7.3f"
	    "  %s\n", name, s->slot / 60, sc->m, y, r[0], r[1], r[2], r[3],
	    r[4], r[2] <= FLOOR_RATIO ? "+ebb" : r[3] <= FLOOR_RATIO ? "/hour" :
	    "none");
	free_set(&half[0]);
	free_set(&half[1]);
}

static int
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int
main(int argc, char **argv)
{
	const char *traces = "examples/traces", *shared = getenv("EBB_SHARED");
	char *path, *data, err[256];
	int c, first_half = 0, zones = 0, reach[2] = { 0, 0 };

	if (shared == NULL)
		shared = "../shared";
	while ((c = getopt(argc, argv, "fvt:s:")) != -1) {
		switch (c) {
		case 'f':
			first_half = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 't':
			traces = optarg;
			break;
		case 's':
			shared = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-forecast-oracle [-f] "
			    "[-v] [-t traces_dir] [-s shared_dir]\n");
			return 2;
		}
	}
	printf("24 h ahead, origins every 6 h over the %s half; MAPE of "
	    "same-hour-yesterday (%%)\nand ratios to it: ebb's forecast, "
	    "in-sample least-relative-error fits (hist: y1..y7,\nprof, "
	    "mean24, 1; +ebb: and ebb's forecast; /hour: per origin hour), "
	    "out: +ebb fitted\non the other half; floor: the family whose "
	    "in-sample fit reaches %.2f, or none.\n\n"
	    "%-12s %5s %5s %7s %7s %7s %7s %9s %7s  %s\n",
	    first_half ? "first" : "second", FLOOR_RATIO, "zone", "slot",
	    "origs", "yday", "ebb", "hist", "+ebb", "+ebb/hour", "out",
	    "floor");
	for (size_t i = 0; i < n_em_zones; i++) {
		struct series s;

		path = xasprintf("%s/%s_2023_hourly.csv", traces, em_zones[i]);
		if (load_series(path, EM_LCA, HOUR, &s, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "bench-forecast-oracle: %s\n", err);
			free(path);
			return 2;
		}
		free(path);
		zone(em_zones[i], &s, first_half, reach);
		zones++;
		free(s.v);
	}
	data = xasprintf("%s/data/carbon-intensity", shared);
	if (is_dir(data))
		for (size_t i = 0; i < n_lwa_zones; i++) {
			struct series s;

			path = xasprintf("%s/%s", data, lwa_zones[i].file);
			if (load_series(path, NULL, 1800, &s, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "bench-forecast-oracle: %s\n",
				    err);
				free(path);
				free(data);
				return 2;
			}
			free(path);
			zone(lwa_zones[i].name, &s, first_half, reach);
			zones++;
			free(s.v);
		}
	else
		printf("\nskipped: %s not found (2020 DE/GB/FR zones; set "
		    "EBB_SHARED or -s)\n", data);
	free(data);
	printf("\nin-sample fits at most %.2f of yesterday's MAPE: +ebb in %d "
	    "of %d zones, +ebb/hour in %d\n", FLOOR_RATIO, reach[0], zones,
	    reach[1]);
	return 0;
}
