/*
 * cmd_carbon: the commands that look at carbon intensity: `ebb forecast`
 * (one zone's series as a sparkline and a table, and its cleanest window)
 * and `ebb sites` (every site with its current intensity and the health
 * of its providers).
 *
 * forecast_build() turns argv into the request's args; forecast_print()
 * and sites_print() turn the daemon's replies (docs/protocol.md, "Carbon
 * intensity") into text and do nothing else, so tests can drive each one
 * alone. Nothing here fetches, stores or forecasts intensity: ebbd does.
 * Values are gCO2e/kWh, times ISO-8601 UTC, missing values "-".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/cli/cli.h"

#define SPARK_MAX	96	/* most sparkline characters */
#define SITES_WIDTH	100	/* wider sites rows split their providers */
#define REPLAY_NOTE	"replay of a past year mapped onto the present"

enum { O_HOURS = 256, O_WINDOW };

/* One point of a FORECAST; a gap has no value, kind or source. */
struct pt {
	int64_t		 t, vintage;
	double		 value;
	const char	*kind, *source;
	int		 gap, filled, replay;
};

/* One row of the forecast table: a point or an hour's points. */
struct row {
	int64_t		 t, vintage;	/* first point's t, latest vintage */
	double		 sum;		/* of the nval values */
	size_t		 nval;
	char		*kinds, *sources; /* '+'-joined, NULL if all gaps */
	int		 gap, filled, replay;
};

/* Appends word to the sep-separated *list unless it is there already. */
static void
add_word(char **list, const char *word, const char *sep)
{
	size_t n = strlen(word);
	char *p, *grown;

	if (*list == NULL) {
		*list = xstrdup(word);
		return;
	}
	for (p = *list; p != NULL; p = strstr(p, sep)) {
		if (p != *list)
			p += strlen(sep);
		if (strncmp(p, word, n) == 0 &&
		    (p[n] == '\0' || strncmp(p + n, sep, strlen(sep)) == 0))
			return;
	}
	grown = xasprintf("%s%s%s", *list, sep, word);
	free(*list);
	*list = grown;
}

int
forecast_build(struct cli *c, int argc, char **argv, json_t **argsp,
    int *flags)
{
	static const struct option opts[] = {
		{ "hours", required_argument, NULL, O_HOURS },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t hours = 48, window = 7200;
	char err[256], *end;
	long n;
	int ch;

	*argsp = NULL;
	*flags = 0;
	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":ah", opts)) != -1) {
		switch (ch) {
		case O_HOURS:
			n = strtol(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    n < 1 || n > 168)
				return cli_usage_error(c, "--hours: bad number "
				    "'%s' (use 1 to 168)", optarg);
			hours = n;
			break;
		case O_WINDOW:
			if (strcmp(optarg, "0") == 0)
				window = 0;
			else if (ebb_parse_duration(optarg, &window, err,
			    sizeof(err)) == -1)
				return cli_usage_error(c, "--window: %s", err);
			break;
		case 'a':
			*flags |= FORECAST_ALL;
			break;
		case 'j':
			*flags |= FORECAST_JSON;
			break;
		case 'h':
			return cli_help(c);
		default:
			return CLI_USAGE;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(c, "give at most one site or zone (ebb "
		    "forecast [SITE|ZONE])");
	*argsp = json_pack("{s:I, s:I}", "hours", (json_int_t)hours,
	    "window", (json_int_t)window);
	if (optind < argc)
		json_object_set_new(*argsp, "target",
		    json_string(argv[optind]));
	return CLI_OK;
}

/* The points of a FORECAST's array (caller frees); sets *n, *nval. */
static struct pt *
load_points(const json_t *arr, size_t *n, size_t *nval)
{
	struct pt *pts = xcalloc(json_array_size(arr) + 1, sizeof(*pts));
	const json_t *p;
	size_t i;

	*n = json_array_size(arr);
	*nval = 0;
	json_array_foreach(arr, i, p) {
		pts[i].t = cli_get_int(p, "t", 0);
		pts[i].gap = !json_is_number(json_object_get(p, "value"));
		pts[i].value = json_number_value(json_object_get(p, "value"));
		pts[i].kind = cli_get_str(p, "kind");
		pts[i].source = cli_get_str(p, "source");
		pts[i].vintage = cli_get_int(p, "vintage", 0);
		pts[i].filled = json_is_true(json_object_get(p, "filled"));
		pts[i].replay = json_is_true(json_object_get(p, "replay"));
		*nval += !pts[i].gap;
	}
	return pts;
}

/* "sources: a, b (replay of ...)": each source once, in order seen. */
static void
print_sources(FILE *f, const struct pt *pts, size_t n)
{
	size_t nsrc = 0, i, j;
	struct pt *src = xcalloc(n + 1, sizeof(*src));

	for (i = 0; i < n; i++) {
		if (pts[i].gap)
			continue;
		for (j = 0; j < nsrc; j++)
			if (strcmp(src[j].source, pts[i].source) == 0)
				break;
		if (j == nsrc)
			src[nsrc++].source = pts[i].source;
		src[j].replay |= pts[i].replay;
	}
	fprintf(f, "%-9s", nsrc == 1 ? "source:" : "sources:");
	if (nsrc == 0)
		fputc('-', f);
	for (j = 0; j < nsrc; j++)
		fprintf(f, "%s%s%s", j > 0 ? ", " : "", src[j].source,
		    src[j].replay ? " (" REPLAY_NOTE ")" : "");
	fputc('\n', f);
	free(src);
}

/*
 * The series as ▁..█, one character per point, or per mean of k points
 * when there are more than SPARK_MAX, scaled from its lowest to its
 * highest character's value; a space where there is no value. Needs one
 * point with a value.
 */
static void
print_sparkline(FILE *f, const struct pt *pts, size_t n, int64_t slot)
{
	static const char *const bars[] = {
		"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█",
	};
	size_t k = (n + SPARK_MAX - 1) / SPARK_MAX, nb = (n + k - 1) / k, i;
	double *mean = xcalloc(nb, sizeof(*mean)), lo = 0, hi = 0, rlo = 0,
	    rhi = 0;
	size_t *cnt = xcalloc(nb, sizeof(*cnt)), seen = 0;
	char buf[32];

	for (i = 0; i < n; i++) {
		if (pts[i].gap)
			continue;
		mean[i / k] += pts[i].value;
		cnt[i / k]++;
		rlo = seen == 0 || pts[i].value < rlo ? pts[i].value : rlo;
		rhi = seen++ == 0 || pts[i].value > rhi ? pts[i].value : rhi;
	}
	for (seen = 0, i = 0; i < nb; i++) {
		if (cnt[i] == 0)
			continue;
		mean[i] /= (double)cnt[i];
		lo = seen == 0 || mean[i] < lo ? mean[i] : lo;
		hi = seen++ == 0 || mean[i] > hi ? mean[i] : hi;
	}
	fprintf(f, "%-9s", "trend:");
	for (i = 0; i < nb; i++)
		fputs(cnt[i] == 0 ? " " : bars[hi > lo ? (int)((mean[i] - lo) /
		    (hi - lo) * 7 + 0.5) : 0], f);
	fprintf(f, "\n%-9slow %.1f, high %.1f gCO2e/kWh, 1 char = %s\n", "",
	    rlo, rhi, ebb_fmt_duration(slot * (int64_t)k, buf, sizeof(buf)));
	free(mean);
	free(cnt);
}

/*
 * The table's rows: every point with all, else the points of each UTC
 * hour merged into one row starting at the hour's first point. Returns
 * the row count; sets *merged when some row holds several points.
 */
static size_t
group_rows(const struct pt *pts, size_t n, int all, struct row *rows,
    int *merged)
{
	struct row *r = NULL;
	size_t nr = 0;

	*merged = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == NULL || all || pts[i].t / 3600 != r->t / 3600) {
			r = &rows[nr++];
			r->t = pts[i].t;
		} else
			*merged = 1;
		r->filled |= pts[i].filled;
		r->replay |= pts[i].replay;
		if (pts[i].gap) {
			r->gap = 1;
			continue;
		}
		r->sum += pts[i].value;
		r->nval++;
		add_word(&r->kinds, pts[i].kind, "+");
		add_word(&r->sources, pts[i].source, "+");
		if (pts[i].vintage > r->vintage)
			r->vintage = pts[i].vintage;
	}
	return nr;
}

static void
print_table(FILE *f, const struct pt *pts, size_t n, int all, int64_t slot)
{
	struct row *rows = xcalloc(n, sizeof(*rows)), *r;
	size_t nr, wk = strlen("KIND"), ws = strlen("SOURCE"), i;
	char t[32], v[32], val[32], buf[32], *flags;
	int merged;

	nr = group_rows(pts, n, all, rows, &merged);
	for (i = 0; i < nr; i++) {
		if (rows[i].kinds != NULL && strlen(rows[i].kinds) > wk)
			wk = strlen(rows[i].kinds);
		if (rows[i].sources != NULL && strlen(rows[i].sources) > ws)
			ws = strlen(rows[i].sources);
	}
	if (merged)
		fprintf(f, "hourly means (--all shows every %s slot):\n",
		    ebb_fmt_duration(slot, buf, sizeof(buf)));
	fprintf(f, "%-20s  %9s  %-*s  %-*s  %-20s  FLAGS\n", "TIME",
	    "gCO2e/kWh", (int)wk, "KIND", (int)ws, "SOURCE", "VINTAGE");
	for (r = rows; r < rows + nr; r++) {
		flags = NULL;
		if (r->filled)
			add_word(&flags, "filled", ",");
		if (r->replay)
			add_word(&flags, "replay", ",");
		if (r->gap)
			add_word(&flags, "gap", ",");
		if (r->nval > 0)
			snprintf(val, sizeof(val), "%.1f", r->sum /
			    (double)r->nval);
		else
			snprintf(val, sizeof(val), "-");
		fprintf(f, "%-20s  %9s  %-*s  %-*s  %-20s  %s\n",
		    cli_fmt_when(r->t, t, sizeof(t)), val, (int)wk,
		    r->kinds ? r->kinds : "-", (int)ws,
		    r->sources ? r->sources : "-",
		    cli_fmt_when(r->vintage, v, sizeof(v)),
		    flags ? flags : "-");
		free(flags);
		free(r->kinds);
		free(r->sources);
	}
	free(rows);
}

/*
 * After a blank line, "cleanest 2h window: START .. END, mean M gCO2e/kWh",
 * with " (on ebb's own forecast)" when any of it rests on that, or
 * "... none" when there is none though one was asked for.
 */
static void
print_window(FILE *f, const json_t *w, int64_t window)
{
	int64_t start = cli_get_int(w, "start", 0);
	int64_t end = cli_get_int(w, "end", 0);
	char len[32], s[32], e[32];

	if (!json_is_object(w)) {
		if (window > 0)
			fprintf(f, "\ncleanest %s window: none\n",
			    ebb_fmt_duration(window, len, sizeof(len)));
		return;
	}
	cli_fmt_when(start, s, sizeof(s));
	cli_fmt_when(end, e, sizeof(e));
	fprintf(f, "\ncleanest %s window: %s .. %s, mean %.1f gCO2e/kWh%s\n",
	    ebb_fmt_duration(end - start, len, sizeof(len)), s,
	    strncmp(s, e, 11) == 0 ? e + 11 : e,
	    json_number_value(json_object_get(w, "mean")),
	    json_is_true(json_object_get(w, "own_forecast")) ?
	    " (on ebb's own forecast)" : "");
}

void
forecast_print(FILE *f, const json_t *result, int64_t window, int all)
{
	int64_t slot = cli_get_int(result, "slot", 300);
	char from[32], to[32], buf[32];
	struct pt *pts;
	size_t n, nval;

	pts = load_points(json_object_get(result, "points"), &n, &nval);
	fprintf(f, "%-9s%s\n", "site:", cli_get_str(result, "site"));
	fprintf(f, "%-9s%s\n", "zone:", cli_get_str(result, "zone"));
	fprintf(f, "%-9s%s\n", "signal:", cli_get_str(result, "signal"));
	fprintf(f, "%-9s%s\n", "slot:", ebb_fmt_duration(slot, buf,
	    sizeof(buf)));
	fprintf(f, "%-9s%s .. %s\n", "period:",
	    cli_fmt_when(cli_get_int(result, "from", 0), from, sizeof(from)),
	    cli_fmt_when(cli_get_int(result, "to", 0), to, sizeof(to)));
	print_sources(f, pts, n);
	if (nval == 0)
		fprintf(f, "\nno values\n");
	else {
		print_sparkline(f, pts, n, slot);
		fputc('\n', f);
		print_table(f, pts, n, all, slot);
	}
	print_window(f, json_object_get(result, "window"), window);
	free(pts);
}

/* "312.0 g (actual, 5m ago)", with "replay, " for a replayed point. */
static char *
now_cell(const json_t *p, int64_t now)
{
	int64_t age = now - cli_get_int(p, "t", now);
	char d[32];

	if (!json_is_number(json_object_get(p, "value")))
		return xstrdup("-");
	ebb_fmt_duration(age < 0 ? -age : age, d, sizeof(d));
	return xasprintf("%.1f g (%s, %s%s%s%s)",
	    json_number_value(json_object_get(p, "value")),
	    cli_get_str(p, "kind"),
	    json_is_true(json_object_get(p, "replay")) ? "replay, " : "",
	    age < 0 ? "in " : "", d, age < 0 ? "" : " ago");
}

/*
 * "name ok", "name stale since T", "name failing: why", "name never",
 * and ", waiting until T" while it asked not to be called (Retry-After).
 */
static char *
provider_cell(const json_t *p)
{
	struct strbuf b = STRBUF_INIT;
	const char *st = cli_get_str(p, "status");
	int64_t retry_at = cli_get_int(p, "retry_at", 0);
	char t[32];

	if (strcmp(st, "stale") == 0)
		strbuf_addf(&b, "%s stale since %s", cli_get_str(p, "name"),
		    cli_fmt_when(cli_get_int(p, "since", 0), t, sizeof(t)));
	else if (strcmp(st, "failing") == 0 &&
	    json_is_string(json_object_get(p, "reason")))
		strbuf_addf(&b, "%s failing: %s", cli_get_str(p, "name"),
		    cli_get_str(p, "reason"));
	else
		strbuf_addf(&b, "%s %s", cli_get_str(p, "name"), st);
	if (retry_at > 0)
		strbuf_addf(&b, ", waiting until %s", cli_fmt_when(retry_at, t,
		    sizeof(t)));
	return strbuf_take(&b);
}

#define SCOLS	6	/* the columns before PROVIDERS */

void
sites_print(FILE *f, const json_t *sites, int64_t now)
{
	static const char *const head[SCOLS] = {
		"SITE", "ZONE", "BACKEND", "CPUS", "NOW", "SIGNAL",
	};
	size_t n = json_array_size(sites), width[SCOLS], lead, r, i, j;
	char *(*cells)[SCOLS] = xcalloc(n ? n : 1, sizeof(*cells));
	const json_t *s, *p, *st;

	for (i = 0; i < SCOLS; i++)
		width[i] = strlen(head[i]);
	json_array_foreach(sites, r, s) {
		cells[r][0] = xstrdup(cli_get_str(s, "name"));
		cells[r][1] = xstrdup(cli_get_str(s, "zone"));
		st = json_object_get(s, "backend_status");
		cells[r][2] = st == NULL ? xstrdup(cli_get_str(s, "backend")) :
		    xasprintf("%s (%s)", cli_get_str(s, "backend"),
		    cli_get_str(st, "state"));
		cells[r][3] = xasprintf("%" PRId64, cli_get_int(s, "cpus", 0));
		cells[r][4] = now_cell(json_object_get(s, "current"), now);
		cells[r][5] = xstrdup(cli_get_str(s, "signal"));
		for (i = 0; i < SCOLS; i++)
			if (strlen(cells[r][i]) > width[i])
				width[i] = strlen(cells[r][i]);
	}
	for (lead = 0, i = 0; i < SCOLS; i++)
		lead += width[i] + 2;
	for (i = 0; i < SCOLS; i++)
		fprintf(f, i == 3 ? "%*s  " : "%-*s  ", (int)width[i], head[i]);
	fprintf(f, "PROVIDERS\n");
	json_array_foreach(sites, r, s) {
		const json_t *provs = json_object_get(s, "providers");
		struct strbuf joined = STRBUF_INIT;
		char *one;

		for (i = 0; i < SCOLS; i++) {
			fprintf(f, i == 3 ? "%*s  " : "%-*s  ", (int)width[i],
			    cells[r][i]);
			free(cells[r][i]);
		}
		json_array_foreach(provs, j, p) {
			one = provider_cell(p);
			strbuf_addf(&joined, "%s%s", j > 0 ? ", " : "", one);
			free(one);
		}
		if (joined.len == 0 || lead + joined.len <= SITES_WIDTH) {
			fprintf(f, "%s\n", joined.len ? joined.s : "-");
			strbuf_free(&joined);
			continue;
		}
		json_array_foreach(provs, j, p) {
			one = provider_cell(p);
			fprintf(f, "%*s%s\n", j > 0 ? (int)lead : 0, "", one);
			free(one);
		}
		strbuf_free(&joined);
	}
	free(cells);
}

int
cmd_forecast(struct cli *c, int argc, char **argv)
{
	json_t *args, *result;
	int64_t window;
	int flags, rc;

	if ((rc = forecast_build(c, argc, argv, &args, &flags)) != CLI_OK ||
	    args == NULL)
		return rc;
	window = json_integer_value(json_object_get(args, "window"));
	if ((rc = cli_call(c, "forecast", args, &result)) != CLI_OK)
		return rc;
	if (!json_is_array(json_object_get(result, "points"))) {
		json_decref(result);
		return cli_fail(c, "malformed reply from ebbd: no points");
	}
	if (flags & FORECAST_JSON)
		cli_print_json(c, result);
	else
		forecast_print(c->out, result, window, flags & FORECAST_ALL);
	json_decref(result);
	return CLI_OK;
}

int
cmd_sites(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "refresh", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, json = 0, refresh = 0, rc;
	json_t *result;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'r')
			refresh = 1;
		else if (ch == 'h')
			return cli_help(c);
		else
			return CLI_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = cli_call(c, "sites", refresh ? json_pack("{s:b}", "refresh",
	    1) : json_object(), &result)) != CLI_OK)
		return rc;
	if (!json_is_array(json_object_get(result, "sites"))) {
		json_decref(result);
		return cli_fail(c, "malformed reply from ebbd: no sites");
	}
	if (json)
		cli_print_json(c, result);
	else
		sites_print(c->out, json_object_get(result, "sites"), c->now);
	json_decref(result);
	return CLI_OK;
}
