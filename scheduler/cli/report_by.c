/*
 * report_by: `ebb report --by user|site|day|month`: the report's rows
 * grouped, with the per-signal totals of each group (totals_of(), the
 * same sums as the report's own totals, never across signals), printed as
 * a table or CSV. Days and months are UTC, of the job's start.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/report.h"
#include "scheduler/totals.h"

static const char *const by_names[] = { "user", "site", "day", "month" };

int
report_by_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
		if (strcmp(s, by_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
report_by_name(enum report_by by)
{
	return by_names[by];
}

char *
report_fmt_sig(double v)
{
	return xasprintf(fabs(v) >= 100 ? "%.0f" : "%.3g", v);
}

/* The group key of row (caller frees). */
static char *
key_of(const json_t *row, enum report_by by)
{
	int64_t t = cli_get_int(row, "start", 0);
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[16];

	if (by == REPORT_BY_USER)
		return xstrdup(cli_get_str(row, "user"));
	if (by == REPORT_BY_SITE)
		return xstrdup(cli_get_str(row, "site"));
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return xstrdup("-");
	strftime(buf, sizeof(buf), by == REPORT_BY_DAY ? "%Y-%m-%d" : "%Y-%m",
	    &tm);
	return xstrdup(buf);
}

struct keyed {
	char		*key;
	size_t		 pos;		/* in the rows: a stable sort */
	const json_t	*row;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

json_t *
report_groups(const json_t *rows, enum report_by by)
{
	size_t n = json_array_size(rows), i, j;
	struct keyed *k = xcalloc(n ? n : 1, sizeof(*k));
	json_t *groups = json_array(), *members;

	for (i = 0; i < n; i++) {
		k[i].row = json_array_get(rows, i);
		k[i].key = key_of(k[i].row, by);
		k[i].pos = i;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (i = 0; i < n; i = j) {
		members = json_array();
		for (j = i; j < n && strcmp(k[j].key, k[i].key) == 0; j++)
			json_array_append(members, (json_t *)k[j].row);
		json_array_append_new(groups, json_pack("{s:s, s:o}", "key",
		    k[i].key, "totals", totals_of(members)));
		json_decref(members);
	}
	for (i = 0; i < n; i++)
		free(k[i].key);
	free(k);
	return groups;
}

#define BY_COLS	8

/* The cells of one group's total t (all caller-freed). */
static void
total_cells(const char *key, const json_t *t, char *cells[BY_COLS])
{
	json_t *pct = json_object_get(t, "saving_pct");

	cells[0] = xstrdup(key);
	cells[1] = xstrdup(cli_get_str(t, "signal"));
	cells[2] = xasprintf("%" PRId64, cli_get_int(t, "jobs", 0));
	cells[3] = report_fmt_sig(1000 * json_number_value(json_object_get(t,
	    "energy_kwh")));
	cells[4] = report_fmt_sig(json_number_value(json_object_get(t,
	    "emissions_g")));
	cells[5] = report_fmt_sig(json_number_value(json_object_get(t,
	    "counterfactual_g")));
	cells[6] = report_fmt_sig(json_number_value(json_object_get(t,
	    "saving_g")));
	cells[7] = json_is_number(pct) ? xasprintf("%.1f%%",
	    json_number_value(pct)) : xstrdup("-");
}

void
report_print_by(FILE *f, const json_t *groups, enum report_by by)
{
	const char *head[BY_COLS] = { NULL, "SIGNAL", "JOBS", "WH", "GCO2E",
	    "AT-ONCE-G", "SAVING-G", "SAVING" };
	char *(*cells)[BY_COLS] = NULL, upper[8];
	size_t n = 0, i, width[BY_COLS], r;
	const json_t *g, *t;

	for (i = 0; by_names[by][i] != '\0'; i++)
		upper[i] = (char)(by_names[by][i] - 'a' + 'A');
	upper[i] = '\0';
	head[0] = upper;
	json_array_foreach(groups, i, g)
		n += json_array_size(json_object_get(g, "totals"));
	cells = xcalloc(n ? n : 1, sizeof(*cells));
	r = 0;
	json_array_foreach(groups, i, g) {
		size_t k;

		json_array_foreach(json_object_get(g, "totals"), k, t)
			total_cells(cli_get_str(g, "key"), t, cells[r++]);
	}
	for (i = 0; i < BY_COLS; i++) {
		width[i] = strlen(head[i]);
		for (r = 0; r < n; r++)
			if (strlen(cells[r][i]) > width[i])
				width[i] = strlen(cells[r][i]);
	}
	for (r = 0; r <= n; r++) {
		char *const *row = r == 0 ? (char *const *)head : cells[r - 1];

		for (i = 0; i < BY_COLS; i++)
			fprintf(f, i == BY_COLS - 1 ? "%*s\n" : i < 2 ?
			    "%-*s  " : "%*s  ", (int)width[i], row[i]);
	}
	for (r = 0; r < n; r++)
		for (i = 0; i < BY_COLS; i++)
			free(cells[r][i]);
	free(cells);
}

void
report_csv_field(FILE *f, const char *s)
{
	/* A user's job name must not be a spreadsheet formula (CSV
	 * injection): such a field starts with ' and is quoted. */
	int formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (!formula && s[strcspn(s, ",\"\r\n")] == '\0') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void
report_print_by_csv(FILE *f, const json_t *groups, enum report_by by)
{
	const json_t *g, *t, *pct;
	size_t i, k;

	fprintf(f, "%s,signal,jobs,energy_kwh,emissions_g,saved_jobs,"
	    "counterfactual_g,saving_g,saving_pct\n", by_names[by]);
	json_array_foreach(groups, i, g) {
		json_array_foreach(json_object_get(g, "totals"), k, t) {
			report_csv_field(f, json_string_value(json_object_get(g,
			    "key")));
			pct = json_object_get(t, "saving_pct");
			fprintf(f, ",%s,%" PRId64 ",%.6f,%.3f,%" PRId64
			    ",%.3f,%.3f,", cli_get_str(t, "signal"),
			    cli_get_int(t, "jobs", 0),
			    json_number_value(json_object_get(t, "energy_kwh")),
			    json_number_value(json_object_get(t,
			    "emissions_g")), cli_get_int(t, "saved_jobs", 0),
			    json_number_value(json_object_get(t,
			    "counterfactual_g")),
			    json_number_value(json_object_get(t, "saving_g")));
			if (json_is_number(pct))
				fprintf(f, "%.2f", json_number_value(pct));
			fputc('\n', f);
		}
	}
}
