/*
 * provider: the table of provider ops by config name and the release of a
 * request. (The settings every provider starts from are the config's:
 * provider_conf_defaults() in config/config.c.)
 *
 * The ops themselves live in prov_*.c, one file per source. Nothing here
 * does I/O or knows any API.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/carbon/provider.h"

static const struct provider_ops *const providers[] = {
	&prov_trace_ops,
	&prov_electricitymaps_ops,
	&prov_watttime_ops,
	&prov_ukci_ops,
	&prov_entsoe_ops,
};

const struct provider_ops *
provider_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

void
preq_clear(struct preq *req)
{
	free(req->url);
	for (size_t i = 0; i < PREQ_MAX_HEADERS + 1; i++)
		free(req->headers[i]);
	free(req->userpwd);
	memset(req, 0, sizeof(*req));
}
