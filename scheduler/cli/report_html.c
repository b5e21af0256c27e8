/*
 * report_html: `ebb report --html FILE`: the report as one self-contained
 * page. Per site, an inline SVG chart of the grid's intensity over the
 * period (measured, and forecast where nothing was measured) with the
 * forecast each job was planned on (the one known at its submit time) and
 * the jobs drawn where and when they ran; then the totals per signal, the
 * per-job table, the totals by user, site and month, and the methods and
 * provisional/final status behind the numbers.
 *
 * report_html_fetch() gets the series from ebbd's forecast command;
 * report_html() only prints. The page has no script, no link, no URL and
 * no external resource: it opens offline and leaks nothing. Every string
 * that comes from a row or a reply is escaped. Times are shown as the
 * tables are (local with the offset, or UTC after ebb --utc).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/client.h"
#include "scheduler/cli/report.h"

#define W	960		/* chart width, px */
#define X0	60		/* plot area, left to right ... */
#define X1	910
#define Y0	24		/* ... and top to bottom */
#define Y1	204
#define LANE	12		/* height of a lane of job bars */
#define LANES	8		/* lanes at most; more overlap */

/*---- Asking ebbd ----*/

/*
 * One forecast request: 0 with *res, 1 when ebbd has no series for it
 * (why says so), or -1 after printing the failure.
 */
static int
series_call(struct cli *c, json_t *args, json_t **res, char *why,
    size_t len)
{
	const char *code;

	if (c->client == NULL)
		return cli_call(c, "forecast", args, res) == CLI_OK ? 0 : -1;
	if ((*res = client_call(c->client, "forecast", args, why,
	    len)) != NULL)
		return 0;
	code = client_code(c->client);
	if (strcmp(code, "failed") == 0 || strcmp(code, "notfound") == 0)
		return 1;
	cli_fail(c, "%s", why);
	return -1;
}

/* Appends reply's points in [t0, t1) after the last t of pts: [t, v, k]. */
static void
add_points(json_t *pts, const json_t *reply, int64_t t0, int64_t t1)
{
	const json_t *p, *last = json_array_get(pts, json_array_size(pts) - 1);
	int64_t after = last ? json_integer_value(json_array_get(last, 0)) :
	    INT64_MIN, t;
	size_t i;

	json_array_foreach(json_object_get(reply, "points"), i, p) {
		t = cli_get_int(p, "t", 0);
		if (t <= after || t < t0 || t >= t1)
			continue;
		json_array_append_new(pts, json_pack("[I, O, s]",
		    (json_int_t)t, json_is_number(json_object_get(p,
		    "value")) ? json_object_get(p, "value") : json_null(),
		    cli_get_str(p, "kind")));
		after = t;
	}
}

/* The hours (1 to 168) of a request that starts at t and should reach to. */
static int64_t
hours_to(int64_t t, int64_t to)
{
	int64_t h = (to - t + 3599) / 3600;

	return h < 1 ? 1 : h > 168 ? 168 : h;
}

static int
site_series(struct cli *c, const char *site, int64_t from, int64_t to,
    json_t **out)
{
	json_t *pts = json_array(), *res;
	char why[512];
	int rc = 0;

	*out = json_pack("{s:s}", "site", site);
	for (int64_t t = from; t < to; t += 168 * 3600) {
		rc = series_call(c, json_pack("{s:s, s:I, s:I, s:i}", "target",
		    site, "from", (json_int_t)t, "hours",
		    (json_int_t)hours_to(t, to), "window", 0), &res, why,
		    sizeof(why));
		if (rc != 0)
			break;
		json_object_set(*out, "zone", json_object_get(res, "zone"));
		json_object_set(*out, "signal", json_object_get(res, "signal"));
		json_object_set(*out, "slot", json_object_get(res, "slot"));
		add_points(pts, res, from, to);
		json_decref(res);
	}
	if (rc == 1)
		json_object_set_new(*out, "error", json_string(why));
	json_object_set_new(*out, "points", pts);
	return rc == -1 ? -1 : 0;
}

static int
id_desc(const void *a, const void *b)
{
	int64_t x = cli_get_int(*(json_t *const *)a, "id", 0);
	int64_t y = cli_get_int(*(json_t *const *)b, "id", 0);

	return (x < y) - (x > y);
}

/* The forecast known at the submit time of the newest jobs that ran. */
static int
job_forecasts(struct cli *c, const json_t *rows, json_t *out)
{
	size_t n = json_array_size(rows), used = 0;
	const json_t **by = xcalloc(n ? n : 1, sizeof(*by));
	json_t *res, *pts;
	int64_t slot;
	char why[512];
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		by[i] = json_array_get(rows, i);
	qsort(by, n, sizeof(*by), id_desc);
	for (size_t i = 0; i < n && used < REPORT_HTML_FORECASTS; i++) {
		int64_t submit = cli_get_int(by[i], "submit", 0);
		int64_t start = cli_get_int(by[i], "start", 0);
		int64_t end = cli_get_int(by[i], "end", 0);
		const char *site = json_string_value(json_object_get(by[i],
		    "site"));

		if (site == NULL || submit <= 0 || start <= 0)
			continue;
		if (end <= 0)
			end = c->now;
		/* A job of less than a second keeps one, as in the ledger:
		 * else its forecast has no width to be drawn in. */
		if (end <= start)
			end = start + 1;
		used++;
		rc = series_call(c, json_pack("{s:s, s:I, s:I, s:i, s:I}",
		    "target", site, "from", (json_int_t)start, "hours",
		    (json_int_t)hours_to(start, end), "window", 0, "asof",
		    (json_int_t)submit), &res, why, sizeof(why));
		if (rc == -1)
			break;
		if (rc == 1)
			continue;
		/* The slots the job ran in: from the one holding its start. */
		slot = cli_get_int(res, "slot", 300);
		pts = json_array();
		add_points(pts, res, start - slot + 1, end);
		json_array_append_new(out, json_pack("{s:I, s:s, s:I, s:I, s:I, "
		    "s:I, s:o}", "id", (json_int_t)cli_get_int(by[i], "id", 0),
		    "site", site, "asof", (json_int_t)submit, "start",
		    (json_int_t)start, "end", (json_int_t)end, "slot",
		    (json_int_t)slot, "points", pts));
		json_decref(res);
	}
	free(by);
	return rc == -1 ? -1 : 0;
}

int
report_html_fetch(struct cli *c, const json_t *rows, json_t **series)
{
	json_t *sites = json_array(), *fcs = json_array(), *s, *row;
	int64_t from = 0, to = 0, t;
	size_t i, k;

	*series = NULL;
	json_array_foreach(rows, i, row) {
		if ((t = cli_get_int(row, "start", 0)) <= 0)
			continue;
		from = from == 0 || t < from ? t : from;
		t = cli_get_int(row, "end", 0);
		t = t > 0 ? t : c->now;
		to = t > to ? t : to;
	}
	if (to - from > REPORT_HTML_DAYS * 86400)
		from = to - REPORT_HTML_DAYS * 86400;
	from -= from % 3600;
	to += 3600 - to % 3600;
	json_array_foreach(rows, i, row) {
		const char *site = json_string_value(json_object_get(row,
		    "site"));

		if (site == NULL || from == 0)
			continue;
		json_array_foreach(sites, k, s)
			if (strcmp(json_string_value(json_object_get(s,
			    "site")), site) == 0)
				break;
		if (k < json_array_size(sites))
			continue;
		if (site_series(c, site, from, to, &s) == -1) {
			json_decref(s);
			goto fail;
		}
		json_array_append_new(sites, s);
	}
	if (from > 0 && job_forecasts(c, rows, fcs) == -1)
		goto fail;
	*series = json_pack("{s:I, s:I, s:o, s:o}", "from", (json_int_t)from,
	    "to", (json_int_t)to, "sites", sites, "forecasts", fcs);
	return CLI_OK;
fail:
	json_decref(sites);
	json_decref(fcs);
	return CLI_FAIL;
}

/*---- Writing the page ----*/

/* s with & < > " ' as character references. */
static void
esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* o[k] escaped, or "-" when it is not a non-empty string. */
static void
esc_field(FILE *f, const json_t *o, const char *k)
{
	esc(f, cli_get_str(o, k));
}

static void
cell_time(FILE *f, int64_t t)
{
	char buf[32];

	fprintf(f, "<td>%s</td>", t > 0 ? cli_fmt_when(t, buf, sizeof(buf)) :
	    "-");
}

/* A numeric cell: o[k] x scale to 3 significant digits, or "-". */
static void
cell_sig(FILE *f, const json_t *o, const char *k, double scale)
{
	json_t *v = json_object_get(o, k);
	char *s;

	if (!json_is_number(v)) {
		fputs("<td class=\"n\">-</td>", f);
		return;
	}
	s = report_fmt_sig(scale * json_number_value(v));
	fprintf(f, "<td class=\"n\">%s</td>", s);
	free(s);
}

static void
cell_fmt(FILE *f, const json_t *o, const char *k, const char *fmt)
{
	json_t *v = json_object_get(o, k);

	fputs("<td class=\"n\">", f);
	if (json_is_number(v))
		fprintf(f, fmt, json_number_value(v));
	else
		fputc('-', f);
	fputs("</td>", f);
}

static const char STYLE[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.2em .5em;font-size:13px}"
    "th{background:#eee;text-align:left}td.n{text-align:right}"
    "tr.provisional td{background:#fff7e0}"
    "svg{display:block;background:#fff;border:1px solid #ddd}"
    "svg text{font-size:11px;fill:#444}"
    ".grid{stroke:#eee}.axis{stroke:#888}"
    ".act{fill:none;stroke:#1b7a3e;stroke-width:1.5}"
    ".fc{fill:none;stroke:#7a7a7a;stroke-width:1.2;stroke-dasharray:4 3}"
    ".used{fill:none;stroke:#d9730d;stroke-width:1.5;"
    "stroke-dasharray:6 3}"
    ".run{fill:#3b6fd4;fill-opacity:.08}"
    ".bar.final{fill:#3b6fd4}.bar.provisional{fill:#e0a10b}"
    ".legend span{display:inline-block;width:2em;height:.3em;"
    "margin:0 .3em .2em 1em;vertical-align:middle}"
    ".k-act{background:#1b7a3e}.k-fc{background:#7a7a7a}"
    ".k-used{background:#d9730d}.k-bar{background:#3b6fd4;height:.8em}"
    ".k-prov{background:#e0a10b;height:.8em}";

struct chart {
	int64_t	from, to;
	double	ymax;
};

static double
xof(const struct chart *ch, int64_t t)
{
	if (t < ch->from)
		t = ch->from;
	if (t > ch->to)
		t = ch->to;
	return X0 + (double)(t - ch->from) / (double)(ch->to - ch->from) *
	    (X1 - X0);
}

static double
yof(const struct chart *ch, double v)
{
	return Y1 - v / ch->ymax * (Y1 - Y0);
}

/* Highest value of [t, v, k] points. */
static double
points_max(const json_t *pts, double m)
{
	const json_t *p;
	size_t i;

	json_array_foreach(pts, i, p)
		if (json_is_number(json_array_get(p, 1)) &&
		    json_number_value(json_array_get(p, 1)) > m)
			m = json_number_value(json_array_get(p, 1));
	return m;
}

/*
 * The points as steps, each value held over its slot and clipped to [lo,
 * hi] (at least 2 px wide); a step joins the one before when they touch.
 * With cls NULL, one path of the measured steps and one of the rest
 * (forecasts); else one path of class cls.
 */
static void
draw_steps(FILE *f, const struct chart *ch, const json_t *pts, int64_t slot,
    int64_t lo, int64_t hi, const char *cls)
{
	const char *want[2] = { "act", "fc" };
	const json_t *p;
	size_t i;

	for (int w = 0; w < (cls != NULL ? 1 : 2); w++) {
		int64_t last_end = INT64_MIN, t0, t1;
		double x0, x1, y;

		fprintf(f, "<path class=\"%s\" d=\"", cls != NULL ? cls :
		    want[w]);
		json_array_foreach(pts, i, p) {
			int act = strcmp(json_string_value(json_array_get(p, 2)),
			    "actual") == 0;

			t0 = json_integer_value(json_array_get(p, 0));
			t1 = t0 + slot;
			t0 = t0 < lo ? lo : t0;
			t1 = t1 > hi ? hi : t1;
			if (!json_is_number(json_array_get(p, 1)) || t1 <= t0 ||
			    (cls == NULL && act != (w == 0)))
				continue;
			x0 = xof(ch, t0);
			x1 = xof(ch, t1);
			x1 = x1 - x0 < 2 ? x0 + 2 : x1;
			y = yof(ch, json_number_value(json_array_get(p, 1)));
			fprintf(f, "%c%.1f %.1fL%.1f %.1f", t0 == last_end ? 'L' :
			    'M', x0, y, x1, y);
			last_end = t1;
		}
		fputs("\"/>\n", f);
	}
}

/* A round step for about n ticks over span. */
static double
nice_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw)));

	return raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag :
	    raw / mag <= 5 ? 5 * mag : 10 * mag;
}

static void
draw_axes(FILE *f, const struct chart *ch, int bottom)
{
	static const int64_t steps[] = { 600, 900, 1800, 3600, 3 * 3600,
	    6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400 };
	double ystep = ch->ymax / 5;
	int64_t step = steps[9], t;
	char buf[32];

	for (double v = 0; v <= ch->ymax + ystep / 2; v += ystep)
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" "
		    "y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">%.0f</text>\n", X0, X1, yof(ch, v),
		    yof(ch, v), X0 - 4, yof(ch, v) + 4, v);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if ((ch->to - ch->from) / steps[i] <= 8) {
			step = steps[i];
			break;
		}
	for (t = ch->from + (step - ch->from % step) % step; t <= ch->to;
	    t += step) {
		cli_strftime(t, "%m-%d %H:%M", buf, sizeof(buf));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"%d\" y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n", xof(ch, t), xof(ch,
		    t), Y0, Y1, xof(ch, t), bottom, buf);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
	    "y2=\"%d\"/><text x=\"%d\" y=\"14\">gCO2e/kWh</text>\n", X0, X1,
	    Y1, Y1, 4);
}

/* "#id name (user): G gCO2e, status" as a tooltip. */
static void
job_title(FILE *f, const json_t *row)
{
	fprintf(f, "<title>#%" PRId64 " ", cli_get_int(row, "id", 0));
	esc_field(f, row, "name");
	fputs(" (", f);
	esc_field(f, row, "user");
	fputs("): ", f);
	if (json_is_number(json_object_get(row, "emissions_g")))
		fprintf(f, "%.1f gCO2e, ", json_number_value(json_object_get(
		    row, "emissions_g")));
	esc_field(f, row, "status");
	fputs("</title>", f);
}

/*
 * Whether row ran at site within the chart; its [*s, *e) then (e: now
 * while it runs).
 */
static int
drawn(const struct chart *ch, const json_t *row, const char *site,
    int64_t now, int64_t *s, int64_t *e)
{
	*s = cli_get_int(row, "start", 0);
	*e = cli_get_int(row, "end", 0);
	*e = *e > 0 ? *e : now;
	return *s > 0 && strcmp(cli_get_str(row, "site"), site) == 0 &&
	    *e >= ch->from && *s <= ch->to;
}

/* The lane of a job from s to e: the first free, else the one freed
 * first (jobs overlap there). */
static int
lane_for(int64_t lane_end[LANES], int64_t s, int64_t e)
{
	int lane = 0;

	for (int l = 0; l < LANES; l++) {
		if (lane_end[l] <= s) {
			lane = l;
			break;
		}
		if (lane_end[l] < lane_end[lane])
			lane = l;
	}
	lane_end[lane] = e;
	return lane;
}

/* The lanes the jobs of site take (1 at least). */
static int
lanes_used(const struct chart *ch, const json_t *rows, const char *site,
    int64_t now)
{
	int64_t lane_end[LANES] = { 0 }, s, e;
	const json_t *row;
	int n = 1, l;
	size_t i;

	json_array_foreach(rows, i, row)
		if (drawn(ch, row, site, now, &s, &e) &&
		    (l = lane_for(lane_end, s, e)) + 1 > n)
			n = l + 1;
	return n;
}

/* The jobs of site: a band over the plot while they ran, a bar below. */
static void
draw_jobs(FILE *f, const struct chart *ch, const json_t *rows,
    const char *site, int64_t now)
{
	int64_t lane_end[LANES] = { 0 }, s, e;
	const json_t *row;
	size_t i;

	json_array_foreach(rows, i, row) {
		const char *st = cli_get_str(row, "status");
		double x0, x1;
		int lane;

		if (!drawn(ch, row, site, now, &s, &e))
			continue;
		lane = lane_for(lane_end, s, e);
		x0 = xof(ch, s);
		x1 = xof(ch, e);
		if (x1 - x0 < 2)
			x1 = x0 + 2;
		fprintf(f, "<rect class=\"run\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"%d\">", x0, Y0, x1 - x0, Y1 - Y0);
		job_title(f, row);
		fprintf(f, "</rect><rect class=\"bar %s\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"%d\">", strcmp(st, "final") == 0 ?
		    "final" : "provisional", x0, Y1 + 6 + lane * LANE, x1 - x0,
		    LANE - 2);
		job_title(f, row);
		fputs("</rect>\n", f);
	}
}

static void
site_chart(FILE *f, const json_t *s, const json_t *series,
    const json_t *rows, int64_t now)
{
	struct chart ch = { cli_get_int(series, "from", 0),
	    cli_get_int(series, "to", 0), 0 };
	const char *name = cli_get_str(s, "site");
	const json_t *fc;
	size_t i;
	int h;

	fputs("<h3>", f);
	esc(f, name);
	fputs(" <small>(zone ", f);
	esc_field(f, s, "zone");
	fputs(", ", f);
	esc_field(f, s, "signal");
	fputs(" signal)</small></h3>\n", f);
	if (json_is_string(json_object_get(s, "error"))) {
		fputs("<p>No intensity series: ", f);
		esc_field(f, s, "error");
		fputs("</p>\n", f);
	}
	ch.ymax = points_max(json_object_get(s, "points"), 0);
	if (ch.ymax <= 0 && !json_is_string(json_object_get(s, "error")))
		fputs("<p>No intensity known over this period.</p>\n", f);
	json_array_foreach(json_object_get(series, "forecasts"), i, fc)
		if (strcmp(cli_get_str(fc, "site"), name) == 0)
			ch.ymax = points_max(json_object_get(fc, "points"),
			    ch.ymax);
	ch.ymax = ch.ymax > 0 ? ceil(ch.ymax * 1.05 / nice_step(ch.ymax, 5)) *
	    nice_step(ch.ymax, 5) : 100;
	if (ch.to <= ch.from)
		ch.to = ch.from + 3600;
	h = Y1 + 6 + lanes_used(&ch, rows, name, now) * LANE + 18;
	fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" class=\"chart\" data-site=\"", W, h, W, h);
	esc(f, name);
	fputs("\">\n", f);
	draw_axes(f, &ch, h - 4);
	draw_jobs(f, &ch, rows, name, now);
	draw_steps(f, &ch, json_object_get(s, "points"), cli_get_int(s,
	    "slot", 300), ch.from, ch.to, NULL);
	json_array_foreach(json_object_get(series, "forecasts"), i, fc)
		if (strcmp(cli_get_str(fc, "site"), name) == 0)
			draw_steps(f, &ch, json_object_get(fc, "points"),
			    cli_get_int(fc, "slot", 300), cli_get_int(fc,
			    "start", 0), cli_get_int(fc, "end", 0), "used");
	fputs("</svg>\n", f);
}

static void
totals_table(FILE *f, const char *first, const json_t *groups)
{
	const json_t *g, *t;
	size_t i, k;

	fputs("<table><tr>", f);
	if (first != NULL)
		fprintf(f, "<th>%s</th>", first);
	fputs("<th>signal</th><th>jobs</th><th>Wh</th><th>gCO2e</th>"
	    "<th>jobs with a known saving</th><th>at once, gCO2e</th>"
	    "<th>saving, gCO2e</th><th>saving</th></tr>\n", f);
	json_array_foreach(groups, i, g) {
		json_array_foreach(json_object_get(g, "totals"), k, t) {
			fputs("<tr>", f);
			if (first != NULL) {
				fputs("<td>", f);
				esc_field(f, g, "key");
				fputs("</td>", f);
			}
			fputs("<td>", f);
			esc_field(f, t, "signal");
			fprintf(f, "</td><td class=\"n\">%" PRId64 "</td>",
			    cli_get_int(t, "jobs", 0));
			cell_sig(f, t, "energy_kwh", 1000);
			cell_sig(f, t, "emissions_g", 1);
			fprintf(f, "<td class=\"n\">%" PRId64 "</td>",
			    cli_get_int(t, "saved_jobs", 0));
			cell_sig(f, t, "counterfactual_g", 1);
			cell_sig(f, t, "saving_g", 1);
			cell_fmt(f, t, "saving_pct", "%.1f%%");
			fputs("</tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

static void
jobs_table(FILE *f, const json_t *rows)
{
	const json_t *row;
	size_t i;

	fputs("<table id=\"jobs\"><tr><th>id</th><th>user</th><th>name</th>"
	    "<th>site</th><th>submitted</th><th>started</th><th>ended</th>"
	    "<th>Wh</th><th>method</th><th>gCO2e/kWh</th><th>signal</th>"
	    "<th>gCO2e</th><th>at once, gCO2e</th><th>saving, gCO2e</th>"
	    "<th>saving</th><th>embodied, gCO2e</th><th>status</th></tr>\n",
	    f);
	json_array_foreach(rows, i, row) {
		fprintf(f, "<tr class=\"job %s\" id=\"job-%" PRId64 "\">"
		    "<td class=\"n\">%" PRId64 "</td><td>",
		    strcmp(cli_get_str(row, "status"), "final") == 0 ?
		    "final" : "provisional", cli_get_int(row, "id", 0),
		    cli_get_int(row, "id", 0));
		esc_field(f, row, "user");
		fputs("</td><td>", f);
		esc_field(f, row, "name");
		fputs("</td><td>", f);
		esc_field(f, row, "site");
		fputs("</td>", f);
		cell_time(f, cli_get_int(row, "submit", 0));
		cell_time(f, cli_get_int(row, "start", 0));
		cell_time(f, cli_get_int(row, "end", 0));
		cell_sig(f, row, "energy_kwh", 1000);
		fputs("<td>", f);
		esc_field(f, row, "method");
		fputs("</td>", f);
		cell_fmt(f, row, "intensity_g_per_kwh", "%.0f");
		fputs("<td>", f);
		esc_field(f, row, "signal");
		fputs("</td>", f);
		cell_sig(f, row, "emissions_g", 1);
		cell_sig(f, row, "counterfactual_g", 1);
		cell_sig(f, row, "saving_g", 1);
		cell_fmt(f, row, "saving_pct", "%.1f%%");
		cell_sig(f, row, "embodied_g", 1);
		fputs("<td>", f);
		esc_field(f, row, "status");
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* Each distinct value of rows[k] with its count, as list items. */
static void
count_list(FILE *f, const json_t *rows, const char *k)
{
	json_t *seen = json_object();
	const json_t *row, *v;
	const char *key;
	size_t i;

	json_array_foreach(rows, i, row) {
		const char *s = cli_get_str(row, k);

		json_object_set_new(seen, s, json_integer(json_integer_value(
		    json_object_get(seen, s)) + 1));
	}
	json_object_foreach(seen, key, v) {
		fputs("<li>", f);
		esc(f, key);
		fprintf(f, ": %" JSON_INTEGER_FORMAT " job%s</li>\n",
		    json_integer_value(v), json_integer_value(v) == 1 ? "" :
		    "s");
	}
	json_decref(seen);
}

static void
methods(FILE *f, const json_t *rows)
{
	fputs("<h2>Methods and status</h2>\n<p>Energy is the job's IT energy "
	    "as measured by the method named per job (<code>rapl</code>: the "
	    "CPU's energy counters, <code>model</code>: a power model from CPU "
	    "time, &#177;30&#160;%, ...). Emissions are that energy times the "
	    "grid's intensity in each slot it ran in, times the site's PUE: "
	    "the measured intensity where one is known, else the newest "
	    "forecast. The counterfactual is the same energy had the job run "
	    "at once at its first site; the saving is the counterfactual "
	    "minus the emissions. Average and marginal intensities are never "
	    "added together. A row is provisional while any of it rests on a "
	    "forecast and becomes final once every slot has a measured "
	    "intensity (or after the configured wait).</p>\n", f);
	fputs("<p>Measurement methods:</p>\n<ul class=\"methods\">\n", f);
	count_list(f, rows, "method");
	fputs("</ul>\n<p>Status:</p>\n<ul class=\"status\">\n", f);
	count_list(f, rows, "status");
	fputs("</ul>\n<p>Signals:</p>\n<ul class=\"signals\">\n", f);
	count_list(f, rows, "signal");
	fputs("</ul>\n", f);
}

static void
group_section(FILE *f, const json_t *rows, enum report_by by,
    const char *title, const char *col)
{
	json_t *g = report_groups(rows, by);

	fprintf(f, "<h2>%s</h2>\n", title);
	totals_table(f, col, g);
	json_decref(g);
}

void
report_html(FILE *f, const json_t *result, const json_t *series,
    int64_t now)
{
	const json_t *rows = json_object_get(result, "jobs"), *s;
	json_t *all;
	int64_t from = cli_get_int(series, "from", 0);
	int64_t to = cli_get_int(series, "to", 0);
	char a[32], b[32], m[32];
	size_t i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>ebb emissions report</title>\n"
	    "<style>%s</style></head><body>\n<h1>ebb emissions report</h1>\n"
	    "<p>Made %s. %zu job%s", STYLE, cli_fmt_when(now, m, sizeof(m)),
	    json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
	if (from > 0)
		fprintf(f, "; charts from %s to %s", cli_fmt_when(from, a,
		    sizeof(a)), cli_fmt_when(to, b, sizeof(b)));
	fprintf(f, ". Times are %s; emissions in grams of CO2e.</p>\n",
	    cli_strftime(now, "%z", m, sizeof(m))[0] != '\0' &&
	    strcmp(m, "+0000") != 0 ? "local, with their UTC offset" : "UTC");
	fputs("<h2>Totals</h2>\n", f);
	all = json_pack("[{s:O?}]", "totals", json_object_get(result,
	    "totals"));
	totals_table(f, NULL, all);
	json_decref(all);
	fputs("<h2>Carbon intensity and jobs, per site</h2>\n"
	    "<p class=\"legend\"><span class=\"k-act\"></span>measured "
	    "<span class=\"k-fc\"></span>forecast (not measured yet) "
	    "<span class=\"k-used\"></span>forecast the job was planned on "
	    "(known at its submit time) <span class=\"k-bar\"></span>job, "
	    "final <span class=\"k-prov\"></span>job, provisional</p>\n", f);
	json_array_foreach(json_object_get(series, "sites"), i, s)
		site_chart(f, s, series, rows, now);
	fputs("<h2>Jobs</h2>\n", f);
	jobs_table(f, rows);
	group_section(f, rows, REPORT_BY_USER, "Totals by user", "user");
	group_section(f, rows, REPORT_BY_SITE, "Totals by site", "site");
	group_section(f, rows, REPORT_BY_MONTH, "Totals by month (UTC, of "
	    "the start)", "month");
	methods(f, rows);
	fputs("</body></html>\n", f);
}
