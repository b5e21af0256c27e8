/*
 * report: the views of `ebb report` beyond its table and CSV (which are in
 * cmd_report.c): totals grouped by user, site, day or month (report_by.c),
 * rows in CodeCarbon's emissions.csv columns (report_codecarbon.c), and
 * one self-contained HTML page with charts (report_html.c).
 *
 * Each takes the result of a "report" request, {"totals", "jobs"}
 * (docs/report.md), and, for the page, the intensity series that
 * report_html_fetch() asked ebbd for. They print and do nothing else, so
 * tests can feed them canned replies; nothing here settles or stores.
 */
#ifndef EBB_REPORT_H
#define EBB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct cli;

enum report_by { REPORT_BY_USER, REPORT_BY_SITE, REPORT_BY_DAY,
	REPORT_BY_MONTH };

/* The --by value s ("user", "site", "day", "month"), or -1. */
int	report_by_parse(const char *s);
/* The name of a --by value (static). */
const char *report_by_name(enum report_by);

/*
 * The rows grouped by user, site, or UTC day or month of their start, in
 * key order: [{"key", "totals": [TOTAL...]}] with totals_of() per group
 * (one per signal, never summed across). New reference.
 */
json_t	*report_groups(const json_t *rows, enum report_by);

/* 3 significant digits, whole numbers from 100 up (caller frees). */
char	*report_fmt_sig(double);

/* s as an RFC 4180 CSV field: quoted when it holds a comma, quote or
 * newline, quotes doubled; one that starts with =, +, -, @, tab or CR
 * (a spreadsheet formula) is quoted with a ' in front. */
void	report_csv_field(FILE *, const char *s);

/* A report_groups() array as a table, or as CSV (header, one line per
 * group and signal). */
void	report_print_by(FILE *, const json_t *groups, enum report_by);
void	report_print_by_csv(FILE *, const json_t *groups, enum report_by);

/* The columns of CodeCarbon's emissions.csv (2.x), in its order. */
#define CODECARBON_HEADER "timestamp,project_name,run_id,duration," \
	"emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy," \
	"gpu_energy,ram_energy,energy_consumed,country_name," \
	"country_iso_code,region,cloud_provider,cloud_region,os," \
	"python_version,codecarbon_version,cpu_count,cpu_model,gpu_count," \
	"gpu_model,longitude,latitude,ram_total_size,tracking_mode," \
	"on_cloud,pue"

/* The ended jobs of a report as CodeCarbon rows (docs/report.md). */
void	report_print_codecarbon(FILE *, const json_t *result);

#define REPORT_HTML_FORECASTS	50	/* jobs drawn with their forecast */
#define REPORT_HTML_DAYS	31	/* longest stretch the charts cover */

/*
 * Asks ebbd (the forecast command, from/asof) for what the page draws:
 * each site's intensity over the period the rows cover (at most the last
 * REPORT_HTML_DAYS days of it), as known now, and for the newest
 * REPORT_HTML_FORECASTS jobs the forecast known at their submit time over
 * the time they ran. A site ebbd has no series for gets its reason
 * instead. Returns CLI_OK with {"from", "to", "sites": [...], "forecasts":
 * [...]} in *series (caller decrefs), or the failure after printing it.
 */
int	report_html_fetch(struct cli *, const json_t *rows, json_t **series);

/*
 * Writes the page for result and series (report_html_fetch's) to f; now
 * is the time it says it was made. Everything from the rows is escaped;
 * the page loads nothing (no scripts, no URLs).
 */
void	report_html(FILE *, const json_t *result, const json_t *series,
	    int64_t now);

#endif
