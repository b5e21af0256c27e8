/*
 * fuzz_policy: policy files as ebbd and `ebb policy check` read them
 * (YAML rules, globs, defaults, caps). A refused file must come with at
 * least one error message; an accepted one has every rule described
 * (policy_describe) and is applied to two submitted jobs: one matched by
 * user, group, name and tags, one asking for the first rule by name.
 */
#include <stdlib.h>

#include "common/job.h"
#include "policies/policy.h"
#include "tests/fuzz/fuzz.h"

static void
apply(const struct policy_set *s, const char *spec, const char *policy)
{
	static const char *const groups[] = { "ml", "users", NULL };
	const struct policy_subject who = { "alice", groups };
	const struct policy_rule *r;
	json_t *o = json_loads(spec, 0, NULL);
	struct job *j;
	char err[512];

	if (policy != NULL)
		json_object_set_new(o, "policy", json_string(policy));
	if ((j = job_from_submit(o, FUZZ_NOW, err, sizeof(err))) == NULL)
		fuzz_fail("harness job refused: %s", err);
	if ((r = policy_match(s, j, &who, err, sizeof(err))) != NULL)
		policy_apply(r, j, FUZZ_NOW, err, sizeof(err));
	job_free(j);
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_set *s;
	char *errs;

	if (policy_load(fuzz_file(data, size), &s, &errs) == -1) {
		if (errs == NULL || *errs == '\0')
			fuzz_fail("policy file refused without a message");
		free(errs);
		return 0;
	}
	for (size_t i = 0; i < policy_count(s); i++)
		free(policy_describe(policy_rule_at(s, i)));
	apply(s, "{\"name\": \"train-42\", \"workdir\": \"/\", \"argv\": "
	    "[\"python\", \"t.py\"], \"cpus\": 4, \"tags\": [\"gpu\", "
	    "\"nightly\"]}", NULL);
	if (policy_count(s) > 0)
		apply(s, "{\"name\": \"etl\", \"workdir\": \"/\", \"argv\": "
		    "[\"etl\"], \"sites\": [\"de\"], \"max_delay\": 3600, "
		    "\"duration\": 1800}", policy_rule_at(s, 0)->name);
	policy_free(s);
	return 0;
}
