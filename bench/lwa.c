/*
 * bench-lwa: the "Let's Wait Awhile" scenario II workload, and its strict
 * optimum by brute force, for bench/quality.sh.
 *
 *   bench-lwa gen RULE INTERRUPTIBLE SITE > workload.csv
 *   bench-lwa opt TRACE.csv WORKLOAD.csv
 *
 * gen writes an `ebb simulate` workload built from the paper's published
 * description (Wiesner et al., "Let's Wait Awhile", Middleware 2021,
 * section 5.2, ML training jobs): 3,387 jobs over 2020, each on a workday
 * (Monday to Friday, drawn uniformly), arriving on a half hour from 09:00
 * to 16:30 (uniform), lasting 4 h to 89.5 h in 30-minute steps (uniform),
 * drawing 1 kW. Its deadline follows RULE from its original finish time
 * f = arrival + duration:
 *   next-workday: f itself if it falls 09:00-17:00 on a workday, else
 *     09:00 of that day (f before 09:00 on a workday) or of the next
 *     workday;
 *   semi-weekly: Thursday 09:00 if f is after Monday 09:00 and at most
 *     Thursday 09:00, else the next Monday 09:00 (f itself when f is
 *     Monday 09:00).
 * Times are UTC. The draws come from a fixed xorshift64* seed, so the
 * workload is the same on every machine (it is not the paper's numpy
 * draw, only its distribution).
 *
 * opt reads a trace (CSV: time "YYYY-MM-DD HH:MM:SS" UTC, intensity in
 * g/kWh; header skipped), averages its points into 30-minute slots, and
 * for every job of the workload searches every start (one block) or every
 * slot (interruptible: the cheapest slots between arrival and deadline)
 * for the least emissions, capacity unlimited as in the paper. It prints
 * baseline_g (every job at arrival), optimum_g and savings_pct. It shares
 * no code with the planner.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT		1800
#define NJOBS		3387
#define Y2020		((int64_t)1577836800)	/* 2020-01-01T00:00Z */
#define Y2021		((int64_t)1609459200)
#define DAY		86400

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * UINT64_C(2685821657736338717);
}

static int64_t
uni(uint64_t *x, int64_t n)
{
	return (int64_t)(rnd(x) % (uint64_t)n);
}

/* 0 Monday .. 6 Sunday; 1970-01-01 was a Thursday. */
static int
weekday(int64_t t)
{
	return (int)(((t / DAY) + 3) % 7);
}

static int
workday(int64_t t)
{
	return weekday(t) < 5;
}

static int64_t
deadline(const char *rule, int64_t f)
{
	int64_t day = f - f % DAY, sec = f % DAY;
	int wd = weekday(f);

	if (strcmp(rule, "next-workday") == 0) {
		if (workday(f) && sec >= 9 * 3600 && sec <= 17 * 3600)
			return f;
		if (workday(f) && sec < 9 * 3600)
			return day + 9 * 3600;
		do
			day += DAY;
		while (!workday(day));
		return day + 9 * 3600;
	}
	/* semi-weekly: Monday 0, Thursday 3 */
	{
		int64_t mon = day - (int64_t)wd * DAY + 9 * 3600;
		int64_t thu = mon + 3 * DAY;

		if (f > mon && f <= thu)
			return thu;
		return f <= mon ? mon : mon + 7 * DAY;
	}
}

static int
gen(const char *rule, int inter, const char *site)
{
	int64_t days[366], *arr;
	int nd = 0;
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);

	if (strcmp(rule, "next-workday") != 0 &&
	    strcmp(rule, "semi-weekly") != 0) {
		fprintf(stderr, "bench-lwa: rule: next-workday or "
		    "semi-weekly\n");
		return 2;
	}
	for (int64_t t = Y2020; t < Y2021; t += DAY)
		if (workday(t))
			days[nd++] = t;
	arr = malloc(NJOBS * sizeof(*arr));
	if (arr == NULL)
		return 1;
	for (int i = 0; i < NJOBS; i++)
		arr[i] = days[uni(&x, nd)] + 9 * 3600 + uni(&x, 16) * SLOT;
	/* in arrival order, as a trace would list them */
	for (int i = 1; i < NJOBS; i++)
		for (int k = i; k > 0 && arr[k - 1] > arr[k]; k--) {
			int64_t v = arr[k];

			arr[k] = arr[k - 1];
			arr[k - 1] = v;
		}
	printf("# LWA scenario II (bench/lwa.c): %s, %s\n", rule,
	    inter ? "interruptible" : "one block");
	printf("id,submit,duration_s,deadline,power_w,cpus,interruptible,"
	    "sites\n");
	for (int i = 0; i < NJOBS; i++) {
		int64_t dur = (8 + uni(&x, 172)) * SLOT;	/* 4 h .. 89.5 h */

		printf("m%d,%" PRId64 ",%" PRId64 ",%" PRId64 ",1000,1,%d,%s\n",
		    i + 1, arr[i], dur, deadline(rule, arr[i] + dur), inter,
		    site);
	}
	free(arr);
	return 0;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int64_t
parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static int
opt(const char *trace, const char *work)
{
	FILE *f = fopen(trace, "r");
	char line[512];
	int64_t t0 = Y2020 - 30 * DAY;
	size_t ns = (size_t)((Y2021 + 30 * DAY - t0) / SLOT);
	double *sum = calloc(ns, sizeof(double)), *ci = calloc(ns,
	    sizeof(double)), *w = calloc(ns, sizeof(double));
	int *cnt = calloc(ns, sizeof(int));
	double base = 0, best = 0;
	long jobs = 0;

	if (f == NULL || sum == NULL || ci == NULL || w == NULL ||
	    cnt == NULL) {
		perror(trace);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *comma = strchr(line, ',');
		int64_t t = parse_time(line);

		if (comma == NULL || t < t0)
			continue;
		if ((size_t)((t - t0) / SLOT) >= ns)
			continue;
		sum[(t - t0) / SLOT] += strtod(comma + 1, NULL);
		cnt[(t - t0) / SLOT]++;
	}
	fclose(f);
	for (size_t k = 0; k < ns; k++)
		ci[k] = cnt[k] ? sum[k] / cnt[k] : NAN;
	if ((f = fopen(work, "r")) == NULL) {
		perror(work);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		int64_t sub, dur, dl;
		int inter;
		size_t a, n, last, m = 0;
		double b = 0, o = INFINITY;

		if (line[0] != 'm' || sscanf(strchr(line, ',') + 1,
		    "%" SCNd64 ",%" SCNd64 ",%" SCNd64 ",%*[^,],%*d,%d", &sub,
		    &dur, &dl, &inter) != 4)
			continue;
		a = (size_t)((sub - t0) / SLOT);
		n = (size_t)(dur / SLOT);
		last = (size_t)((dl - t0) / SLOT);	/* slots before it */
		for (size_t k = a; k < a + n; k++)
			b += ci[k];
		if (inter) {
			for (size_t k = a; k < last; k++)
				w[m++] = ci[k];
			qsort(w, m, sizeof(double), dcmp);
			o = 0;
			for (size_t k = 0; k < n; k++)
				o += w[k];
		} else {
			for (size_t s = a; s + n <= last; s++) {
				double v = 0;

				for (size_t k = s; k < s + n; k++)
					v += ci[k];
				o = v < o ? v : o;
			}
		}
		/* 1 kW for half an hour: 0.5 kWh per slot */
		base += 0.5 * b;
		best += 0.5 * o;
		jobs++;
	}
	fclose(f);
	printf("jobs: %ld\nbaseline_g: %.3f\noptimum_g: %.3f\n"
	    "savings_pct: %.2f\n", jobs, base, best,
	    100 * (1 - best / base));
	free(sum);
	free(ci);
	free(w);
	free(cnt);
	return isfinite(best) ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "opt") == 0)
		return opt(argv[2], argv[3]);
	fprintf(stderr, "usage: bench-lwa gen next-workday|semi-weekly 0|1 "
	    "SITE\n       bench-lwa opt TRACE.csv WORKLOAD.csv\n");
	return 2;
}
