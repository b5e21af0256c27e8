/*
 * bench-fcfs: the carbon-unaware baseline of bench/quality.sh's
 * contention row: earliest-start first-come-first-served.
 *
 *   bench-fcfs [-m] CPUS WORKLOAD.csv
 *
 * Reads an `ebb simulate` workload (one site of CPUS cpus; columns id,
 * submit, duration_s, deadline, ...), takes the jobs in submit order and
 * gives each the earliest start at or after its submit at which its cpus
 * are free for its whole duration, given the jobs before it (a job may
 * fill a hole earlier jobs left: conservative backfilling, never delaying
 * an earlier job). Time is counted in whole minutes (a start or length is
 * rounded up to the minute), which can only make it later. Prints jobs,
 * deadline_misses (end after the deadline) and mean_delay_s (-m first
 * lists the jobs that missed as "miss ID" lines). Shares no
 * code with the planner.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
	int64_t		 sub, dur, dl;
	int		 cpus;
	char		 id[64];
};

static int
jcmp(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	return (x->sub > y->sub) - (x->sub < y->sub);
}

int
main(int argc, char **argv)
{
	FILE *f;
	char line[1024];
	struct job *j = NULL;
	size_t n = 0, cap = 0, nm = 0;
	int64_t t0 = INT64_MAX, miss = 0;
	int32_t *used = NULL;
	double delay = 0;
	int cpus, list = argc == 4 && strcmp(argv[1], "-m") == 0;

	if (list) {
		argv++;
		argc--;
	}
	if (argc != 3 || (cpus = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench-fcfs [-m] CPUS WORKLOAD.csv\n");
		return 2;
	}
	if ((f = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct job x;
		char *fld[6], *c = line;
		int k;

		for (k = 0; k < 6 && c != NULL; k++) {
			fld[k] = c;
			if ((c = strchr(c, ',')) != NULL)
				*c++ = '\0';
		}
		if (line[0] == '#' || k < 6 || strcmp(line, "id") == 0)
			continue;
		x.sub = strtoll(fld[1], NULL, 10);
		x.dur = strtoll(fld[2], NULL, 10);
		x.dl = strtoll(fld[3], NULL, 10);
		x.cpus = atoi(fld[5]);
		snprintf(x.id, sizeof(x.id), "%s", fld[0]);
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			j = realloc(j, cap * sizeof(*j));
			if (j == NULL)
				return 1;
		}
		j[n++] = x;
		if (x.sub < t0)
			t0 = x.sub;
	}
	fclose(f);
	qsort(j, n, sizeof(*j), jcmp);
	for (size_t i = 0; i < n; i++) {
		int64_t a = (j[i].sub - t0 + 59) / 60, d = (j[i].dur + 59) / 60;
		int64_t s = a, end;

		for (;;) {
			int64_t t;

			if ((size_t)(s + d) > nm) {
				size_t m = (size_t)(s + d) * 2;

				used = realloc(used, m * sizeof(*used));
				if (used == NULL)
					return 1;
				memset(used + nm, 0, (m - nm) * sizeof(*used));
				nm = m;
			}
			for (t = s + d - 1; t >= s; t--)
				if (used[t] + j[i].cpus > cpus)
					break;
			if (t < s)
				break;
			s = t + 1;	/* minute t is full: start after it */
		}
		for (int64_t t = s; t < s + d; t++)
			used[t] += j[i].cpus;
		end = t0 + s * 60 + j[i].dur;
		delay += (double)(t0 + s * 60 - j[i].sub);
		if (j[i].dl > 0 && end > j[i].dl) {
			miss++;
			if (list)
				printf("miss %s\n", j[i].id);
		}
	}
	printf("jobs: %zu\ndeadline_misses: %" PRId64 "\nmean_delay_s: %.1f\n",
	    n, miss, n ? delay / (double)n : 0);
	free(j);
	free(used);
	return 0;
}
