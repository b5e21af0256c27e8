/*
 * totals: the per-signal totals of emissions report rows, computed alike
 * by ebbd for one reply and by ebb for a report it fetched in several.
 * It adds up what the rows say; making rows is the ledger's business.
 */
#include <string.h>

#include "scheduler/totals.h"

static void
add_real(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, json_real(json_number_value(
	    json_object_get(o, key)) + v));
}

static void
add_int(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
	    json_object_get(o, key)) + 1));
}

/* The total of signal sig in out, added (zero) if not there yet. */
static json_t *
total_of(json_t *out, const char *sig)
{
	json_t *t;
	size_t k;

	json_array_foreach(out, k, t)
		if (strcmp(json_string_value(json_object_get(t, "signal")),
		    sig) == 0)
			return t;
	t = json_pack("{s:s, s:i, s:f, s:f, s:i, s:f, s:f}", "signal", sig,
	    "jobs", 0, "energy_kwh", 0.0, "emissions_g", 0.0, "saved_jobs", 0,
	    "counterfactual_g", 0.0, "saving_g", 0.0);
	json_array_append_new(out, t);
	return t;
}

json_t *
totals_of(const json_t *rows)
{
	json_t *out = json_array(), *row, *t;
	size_t i, k;

	json_array_foreach(rows, i, row) {
		const char *sig = json_string_value(json_object_get(row,
		    "signal"));
		json_t *cf = json_object_get(row, "counterfactual_g");
		json_t *sv = json_object_get(row, "saving_g");
		json_t *em = json_object_get(row, "emissions_g");

		if (sig == NULL)
			continue;
		t = total_of(out, sig);
		add_int(t, "jobs");
		add_real(t, "energy_kwh", json_number_value(json_object_get(row,
		    "energy_kwh")));
		add_real(t, "emissions_g", json_number_value(em));
		if (json_is_number(sv) && json_is_number(cf)) {
			add_int(t, "saved_jobs");
			add_real(t, "counterfactual_g", json_number_value(cf));
			add_real(t, "saving_g", json_number_value(sv));
		}
	}
	json_array_foreach(out, k, t) {
		double cf = json_number_value(json_object_get(t,
		    "counterfactual_g"));

		json_object_set_new(t, "saving_pct", cf > 0 ?
		    json_real(100 * json_number_value(json_object_get(t,
		    "saving_g")) / cf) : json_null());
	}
	return out;
}
