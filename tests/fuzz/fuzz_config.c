/*
 * fuzz_config: ebb.yaml as ebbd -n reads it (libyaml events, the node
 * tree, the key tables, the site and provider checks). A refused file
 * must come with at least one error message; an accepted one must dump
 * (config_dump) to YAML that config_load accepts again and that dumps to
 * the same text.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebb_config *c, *again;
	char *errs, *dump, *dump2;

	if (config_load(fuzz_file(data, size), &c, &errs) == -1) {
		if (errs == NULL || *errs == '\0')
			fuzz_fail("config refused without a message");
		free(errs);
		return 0;
	}
	dump = config_dump(c);
	if (config_load(fuzz_file((const uint8_t *)dump, strlen(dump)),
	    &again, &errs) == -1)
		fuzz_fail("config_dump's output is refused:\n%s---\n%s", dump,
		    errs);
	dump2 = config_dump(again);
	if (strcmp(dump, dump2) != 0)
		fuzz_fail("config_dump is not stable:\n%s---\n%s", dump, dump2);
	free(dump2);
	free(dump);
	config_free(again);
	config_free(c);
	return 0;
}
