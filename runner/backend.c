/*
 * backend: the table of job backends ebbd can name in its config.
 * It holds no state; each backend lives in its own file.
 */
#include <string.h>

#include "runner/backend.h"

static const struct backend_ops *const backends[] = {
	&backend_local_ops,
};

const struct backend_ops *
backend_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
