/*
 * cmd_report: `ebb report`, the emissions ledger of finished and running
 * jobs as a table, CSV (columns fixed, docs/report.md) or JSON.
 *
 * report_print() and report_print_csv() turn a "report" reply into text
 * and do nothing else, so tests can feed them canned replies. Unknown
 * values are "-" in the table and empty in CSV; times are ISO-8601 UTC.
 * A report ebbd sends in pages, or one for more ids than a request may
 * name, is fetched whole first, so the output is the same either way.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/proto.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/report.h"
#include "scheduler/totals.h"

#define NCOLS	13

/* A number field as text with fmt, or `none` when it is not a number. */
static char *
fmt_num(const json_t *o, const char *k, const char *fmt, const char *none)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		return xstrdup(none);
	return xasprintf(fmt, json_number_value(v));
}

/* Field k with report_fmt_sig (times scale), or `none` if absent. */
static char *
sig_field(const json_t *o, const char *k, double scale, const char *none)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? report_fmt_sig(scale * json_number_value(v)) :
	    xstrdup(none);
}

static void
row_cells(const json_t *row, char *cells[NCOLS])
{
	char buf[32];
	int i = 0;

	cells[i++] = xasprintf("%" PRId64, cli_get_int(row, "id", 0));
	cells[i++] = xstrdup(cli_get_str(row, "user"));
	cells[i++] = xstrdup(cli_get_str(row, "name"));
	cells[i++] = xstrdup(cli_get_str(row, "site"));
	cells[i++] = xstrdup(cli_fmt_when(cli_get_int(row, "end", 0), buf,
	    sizeof(buf)));
	/* Jobs are small: Wh and grams to 3 significant digits read best. */
	cells[i++] = sig_field(row, "energy_kwh", 1000, "-");
	cells[i++] = xstrdup(cli_get_str(row, "method"));
	cells[i++] = fmt_num(row, "intensity_g_per_kwh", "%.0f", "-");
	cells[i++] = xstrdup(cli_get_str(row, "signal"));
	cells[i++] = sig_field(row, "emissions_g", 1, "-");
	cells[i++] = sig_field(row, "counterfactual_g", 1, "-");
	cells[i++] = sig_field(row, "saving_g", 1, "-");
	cells[i++] = fmt_num(row, "saving_pct", "%.1f%%", "-");
}

/* Right-aligned: the numeric columns. */
static int
numeric(int col)
{
	return col == 0 || col == 5 || col == 7 || (col >= 9 && col <= 12);
}

static void
print_row(FILE *f, char *const cells[NCOLS], const char *status,
    const size_t width[NCOLS])
{
	for (int i = 0; i < NCOLS; i++)
		fprintf(f, numeric(i) ? "%*s  " : "%-*s  ", (int)width[i],
		    cells[i]);
	fprintf(f, "%s\n", status);
}

static void
print_totals(FILE *f, const json_t *totals)
{
	const json_t *t;
	size_t i;

	json_array_foreach(totals, i, t) {
		char *pct = fmt_num(t, "saving_pct", "%.1f%%", "-");

		char *wh = sig_field(t, "energy_kwh", 1000, "0");
		char *g = sig_field(t, "emissions_g", 1, "0");
		char *cf = sig_field(t, "counterfactual_g", 1, "0");
		char *sv = sig_field(t, "saving_g", 1, "0");

		fprintf(f, "total %s: %" PRId64 " jobs, %s Wh, %s gCO2e; "
		    "%" PRId64 " with a known counterfactual: %s g, "
		    "saving %s g (%s)\n", cli_get_str(t, "signal"),
		    cli_get_int(t, "jobs", 0), wh, g,
		    cli_get_int(t, "saved_jobs", 0), cf, sv, pct);
		free(wh);
		free(g);
		free(cf);
		free(sv);
		free(pct);
	}
}

void
report_print(FILE *f, const json_t *result)
{
	static char *const head[NCOLS] = {
		"ID", "USER", "NAME", "SITE", "END", "WH", "METHOD", "G/KWH",
		"SIGNAL", "GCO2E", "AT-ONCE-G", "SAVING-G", "SAVING",
	};
	const json_t *rows = json_object_get(result, "jobs");
	size_t n = json_array_size(rows), width[NCOLS];
	char *(*cells)[NCOLS] = xcalloc(n ? n : 1, sizeof(*cells));

	for (int i = 0; i < NCOLS; i++)
		width[i] = strlen(head[i]);
	for (size_t r = 0; r < n; r++) {
		row_cells(json_array_get(rows, r), cells[r]);
		for (int i = 0; i < NCOLS; i++)
			if (strlen(cells[r][i]) > width[i])
				width[i] = strlen(cells[r][i]);
	}
	print_row(f, head, "STATUS", width);
	for (size_t r = 0; r < n; r++) {
		print_row(f, cells[r], cli_get_str(json_array_get(rows, r),
		    "status"), width);
		for (int i = 0; i < NCOLS; i++)
			free(cells[r][i]);
	}
	free(cells);
	print_totals(f, json_object_get(result, "totals"));
}

static void
csv_text(FILE *f, const json_t *row, const char *k)
{
	const char *s = json_string_value(json_object_get(row, k));

	report_csv_field(f, s ? s : "");
	fputc(',', f);
}

static void
csv_time(FILE *f, const json_t *row, const char *k)
{
	char buf[32];
	int64_t t = cli_get_int(row, k, 0);

	fprintf(f, "%s,", t > 0 ? ebb_fmt_time(t, buf, sizeof(buf)) : "");
}

static void
csv_num(FILE *f, const json_t *row, const char *k, const char *fmt)
{
	char *s = fmt_num(row, k, fmt, "");

	fprintf(f, "%s,", s);
	free(s);
}

void
report_print_csv(FILE *f, const json_t *result)
{
	const json_t *row;
	char *emb;
	size_t i;

	fputs(REPORT_CSV_HEADER "\n", f);
	json_array_foreach(json_object_get(result, "jobs"), i, row) {
		const char *st = json_string_value(json_object_get(row,
		    "status"));

		fprintf(f, "%" PRId64 ",", cli_get_int(row, "id", 0));
		csv_text(f, row, "user");
		csv_text(f, row, "name");
		csv_text(f, row, "site");
		csv_time(f, row, "submit");
		csv_time(f, row, "start");
		csv_time(f, row, "end");
		csv_num(f, row, "energy_kwh", "%.6f");
		csv_text(f, row, "method");
		csv_num(f, row, "intensity_g_per_kwh", "%.3f");
		csv_text(f, row, "signal");
		csv_num(f, row, "emissions_g", "%.3f");
		csv_num(f, row, "counterfactual_g", "%.3f");
		csv_num(f, row, "saving_g", "%.3f");
		csv_num(f, row, "saving_pct", "%.2f");
		report_csv_field(f, st ? st : "");
		emb = fmt_num(row, "embodied_g", "%.3f", "");
		fprintf(f, ",%s\n", emb);
		free(emb);
	}
}

enum { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_CODECARBON };
enum { O_BY = 256, O_HTML };

/*
 * The whole report for args (the filters) and ids: one request, or, when
 * ebbd answers in pages (more) or there are more ids than one request may
 * name, several, whose rows are joined and totalled over all of them with
 * the daemon's own totals_of(). Returns CLI_OK with {"totals", "jobs"} in
 * *out (caller decrefs) or the failure.
 */
static int
fetch(struct cli *c, const json_t *args, const json_t *ids, json_t **out)
{
	json_t *rows = json_array(), *totals = NULL, *req, *result = NULL;
	json_t *page;
	size_t off = 0, n, replies = 0;
	int64_t after = 0;
	int rc = CLI_OK, more;

	do {
		req = json_deep_copy(args);
		if (json_array_size(ids) > 0) {
			json_t *batch = json_array();

			for (n = off; n < json_array_size(ids) &&
			    n < off + EBB_PROTO_MAX_IDS; n++)
				json_array_append(batch, json_array_get(ids,
				    n));
			json_object_set_new(req, "ids", batch);
			off = n;
		} else if (after > 0)
			json_object_set_new(req, "after", json_integer(after));
		if ((rc = cli_call(c, "report", req, &result)) != CLI_OK)
			break;
		page = json_object_get(result, "jobs");
		more = json_is_true(json_object_get(result, "more"));
		if (!json_is_array(page) || (more && json_array_size(page) ==
		    0)) {
			json_decref(result);
			rc = cli_fail(c, "malformed reply from ebbd: no jobs");
			break;
		}
		json_array_extend(rows, page);
		after = cli_get_int(json_array_get(page, json_array_size(page) -
		    1), "id", after);
		json_decref(totals);
		totals = json_incref(json_object_get(result, "totals"));
		json_decref(result);
		replies++;
		more = more || off < json_array_size(ids);
	} while (more);
	if (rc == CLI_OK)
		*out = json_pack("{s:o, s:o}", "totals", replies == 1 &&
		    totals != NULL ? json_incref(totals) : totals_of(rows),
		    "jobs", json_incref(rows));
	json_decref(totals);
	json_decref(rows);
	return rc;
}

/* --by: the rows' totals per group, in the chosen format. */
static void
print_by(struct cli *c, const json_t *result, int by, int format)
{
	json_t *groups = report_groups(json_object_get(result, "jobs"), by);
	json_t *doc;

	if (format == FMT_JSON) {
		doc = json_pack("{s:s, s:O}", "by", report_by_name(by), "groups",
		    groups);
		cli_print_json(c, doc);
		json_decref(doc);
	} else if (format == FMT_CSV)
		report_print_by_csv(c->out, groups, by);
	else
		report_print_by(c->out, groups, by);
	json_decref(groups);
}

/* --html: the page for result, written to path in one step ("-": out). */
static int
write_html(struct cli *c, const char *path, const json_t *result)
{
	json_t *series;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((rc = report_html_fetch(c, json_object_get(result, "jobs"),
	    &series)) != CLI_OK)
		return rc;
	if (strcmp(path, "-") == 0) {
		report_html(c->out, result, series, c->now);
		json_decref(series);
		return CLI_OK;
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	report_html(f, result, series, c->now);
	fclose(f);
	json_decref(series);
	rc = fs_write_atomic(path, buf, len, 0644, err, sizeof(err)) == -1 ?
	    cli_fail(c, "--html: %s", err) : CLI_OK;
	free(buf);
	return rc;
}

int
cmd_report(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "user", required_argument, NULL, 'U' },
		{ "site", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },
		{ "by", required_argument, NULL, O_BY },
		{ "html", required_argument, NULL, O_HTML },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *ids = json_array(), *result = NULL;
	int ch, rc, format = FMT_TABLE, by = -1, formatted = 0;
	const char *html = NULL;
	char err[256];
	int64_t t;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 's' || ch == 'u') {
			if (ebb_parse_time(optarg, c->now, &t, err,
			    sizeof(err)) == -1) {
				rc = cli_usage_error(c, "--%s: %s", ch == 's' ?
				    "since" : "until", err);
				goto out;
			}
			json_object_set_new(args, ch == 's' ? "since" :
			    "until", json_integer(t));
		} else if (ch == 'U' || ch == 'S') {
			json_object_set_new(args, ch == 'U' ? "user" : "site",
			    json_string(optarg));
		} else if (ch == 'j') {
			format = FMT_JSON;	/* --json: --format json */
			formatted = 1;
		} else if (ch == 'f') {
			if (strcmp(optarg, "table") == 0)
				format = FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				format = FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				format = FMT_JSON;
			else if (strcmp(optarg, "codecarbon") == 0)
				format = FMT_CODECARBON;
			else {
				rc = cli_usage_error(c, "--format: '%s' is not "
				    "table, csv, json or codecarbon", optarg);
				goto out;
			}
			formatted = 1;
		} else if (ch == O_BY) {
			if ((by = report_by_parse(optarg)) == -1) {
				rc = cli_usage_error(c, "--by: '%s' is not "
				    "user, site, day or month", optarg);
				goto out;
			}
		} else if (ch == O_HTML) {
			html = optarg;
		} else if (ch == 'h') {
			rc = cli_help(c);
			goto out;
		} else {
			rc = CLI_USAGE;
			goto out;
		}
	}
	if (html != NULL && (by >= 0 || formatted)) {
		rc = cli_usage_error(c, "--html writes the whole report; it "
		    "takes no --by or --format");
		goto out;
	}
	if (by >= 0 && format == FMT_CODECARBON) {
		rc = cli_usage_error(c, "--format codecarbon has one row per "
		    "job; it takes no --by");
		goto out;
	}
	for (; optind < argc; optind++) {
		int64_t id;

		if (cli_parse_id(c, argv[optind], &id) == -1) {
			rc = CLI_USAGE;
			goto out;
		}
		json_array_append_new(ids, json_integer(id));
	}
	rc = fetch(c, args, ids, &result);
	if (rc != CLI_OK)
		goto out;
	if (html != NULL)
		rc = write_html(c, html, result);
	else if (by >= 0)
		print_by(c, result, by, format);
	else if (format == FMT_JSON)
		cli_print_json(c, result);
	else if (format == FMT_CSV)
		report_print_csv(c->out, result);
	else if (format == FMT_CODECARBON)
		report_print_codecarbon(c->out, result);
	else
		report_print(c->out, result);
	json_decref(result);
out:
	json_decref(args);
	json_decref(ids);
	return rc;
}
