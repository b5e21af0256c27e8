/*
 * report_codecarbon: `ebb report --format codecarbon`: one line per ended
 * job in the columns of CodeCarbon's emissions.csv and in its units (kg
 * CO2e, kWh, seconds, kg/s), so tools that read CodeCarbon's output read
 * ebb's. What ebb does not know (the cpu/gpu/ram split, the host's
 * hardware and location) is left empty; docs/report.md maps each column.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "common/timefmt.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/report.h"

/* o[k] as a double in *v; 0 if it is not a number. */
static int
num(const json_t *o, const char *k, double *v)
{
	json_t *x = json_object_get(o, k);

	*v = json_number_value(x);
	return json_is_number(x);
}

static void
row_print(FILE *f, const json_t *row)
{
	int64_t start = cli_get_int(row, "start", 0);
	int64_t end = cli_get_int(row, "end", 0), dur = end - start;
	double kwh = 0, unknown = 0, g, ci, pue = 0;
	int has_g = num(row, "emissions_g", &g);
	char ts[32];

	num(row, "energy_kwh", &kwh);
	num(row, "unknown_kwh", &unknown);
	/* emissions = known kWh x intensity x PUE (docs/report.md). */
	if (has_g && num(row, "intensity_g_per_kwh", &ci) && ci > 0 &&
	    kwh - unknown > 0)
		pue = g / (ci * (kwh - unknown));
	fprintf(f, "%s,", ebb_fmt_time(end, ts, sizeof(ts)));
	report_csv_field(f, json_string_value(json_object_get(row, "name")) ?
	    json_string_value(json_object_get(row, "name")) : "");
	fprintf(f, ",%" PRId64 ",%" PRId64 ",", cli_get_int(row, "id", 0),
	    dur > 0 ? dur : 0);
	if (has_g)
		fprintf(f, "%.9g", g / 1000);
	fputc(',', f);
	if (has_g && dur > 0)
		fprintf(f, "%.9g", g / 1000 / (double)dur);
	/* cpu, gpu, ram power and energy: no split is measured. */
	fprintf(f, ",,,,,,,%.9g,,,", pue > 0 ? kwh * pue : kwh);
	report_csv_field(f, json_string_value(json_object_get(row, "site")) ?
	    json_string_value(json_object_get(row, "site")) : "");
	fputs(",,,,,,,,,,,,,process,,", f);
	if (pue > 0)
		fprintf(f, "%.3f", pue);
	fputc('\n', f);
}

void
report_print_codecarbon(FILE *f, const json_t *result)
{
	const json_t *row;
	size_t i;

	fputs(CODECARBON_HEADER "\n", f);
	json_array_foreach(json_object_get(result, "jobs"), i, row)
		if (cli_get_int(row, "end", 0) > 0)
			row_print(f, row);
}
