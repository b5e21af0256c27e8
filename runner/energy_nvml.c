/*
 * energy_nvml: the energy of each NVIDIA GPU through NVML, loaded with
 * dlopen at run time so that ebb has no link-time dependency on the
 * driver. It declares the five entry points it uses itself.
 *
 * It reports one zone per GPU, "gpu-N", from
 * nvmlDeviceGetTotalEnergyConsumption (mJ since the driver loaded, 64-bit,
 * never wraps). GPUs that do not report energy (before Volta) are left
 * out; if none does, or the library is absent, open fails and says why
 * ("unavailable: libnvidia-ml.so.1: ..."). It does not map GPUs to jobs.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "runner/energy.h"

#define NVML_LIB	"libnvidia-ml.so.1"
#define NVML_SUCCESS	0

typedef void *nvml_device;
typedef int (*nvml_init_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *);
typedef int (*nvml_handle_fn)(unsigned int, nvml_device *);
typedef int (*nvml_energy_fn)(nvml_device, unsigned long long *);
typedef int (*nvml_shutdown_fn)(void);

struct nvml {
	void			*lib;
	nvml_energy_fn		 energy;
	nvml_shutdown_fn	 shutdown;
	size_t			 n;
	unsigned int		 index[ENERGY_MAX_ZONES];
	nvml_device		 dev[ENERGY_MAX_ZONES];
};

static void
nvml_close(void *h)
{
	struct nvml *g = h;

	if (g == NULL)
		return;
	if (g->shutdown != NULL)
		g->shutdown();
	dlclose(g->lib);
	free(g);
}

static void *
nvml_open(const struct energy_config *cfg, int *present, char *err,
    size_t errlen)
{
	const char *path = cfg != NULL && cfg->nvml_lib != NULL ?
	    cfg->nvml_lib : NVML_LIB;
	nvml_init_fn init;
	nvml_count_fn count;
	nvml_handle_fn handle;
	struct nvml *g;
	unsigned int ndev;
	unsigned long long mj;
	void *lib;
	int rc;

	*present = 0;
	if ((lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "unavailable: %s", dlerror());
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->lib = lib;
	init = (nvml_init_fn)dlsym(lib, "nvmlInit_v2");
	count = (nvml_count_fn)dlsym(lib, "nvmlDeviceGetCount_v2");
	handle = (nvml_handle_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
	g->energy = (nvml_energy_fn)dlsym(lib,
	    "nvmlDeviceGetTotalEnergyConsumption");
	if (init == NULL || count == NULL || handle == NULL ||
	    g->energy == NULL || dlsym(lib, "nvmlShutdown") == NULL) {
		snprintf(err, errlen, "unavailable: %s: missing NVML symbols",
		    path);
		nvml_close(g);
		return NULL;
	}
	*present = 1;
	if ((rc = init()) != NVML_SUCCESS) {
		snprintf(err, errlen, "%s: nvmlInit_v2 failed (%d)", path, rc);
		nvml_close(g);
		return NULL;
	}
	g->shutdown = (nvml_shutdown_fn)dlsym(lib, "nvmlShutdown");
	if ((rc = count(&ndev)) != NVML_SUCCESS)
		ndev = 0;
	for (unsigned int i = 0; i < ndev && g->n < ENERGY_MAX_ZONES; i++) {
		if (handle(i, &g->dev[g->n]) != NVML_SUCCESS ||
		    g->energy(g->dev[g->n], &mj) != NVML_SUCCESS)
			continue;
		g->index[g->n++] = i;
	}
	if (g->n == 0) {
		snprintf(err, errlen, "%s: no GPU reports its energy "
		    "(%u devices)", path, ndev);
		nvml_close(g);
		return NULL;
	}
	return g;
}

static int
nvml_read(void *h, struct energy_reading *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	struct nvml *g = h;
	unsigned long long mj;
	int rc;

	*n = 0;
	for (size_t i = 0; i < g->n && i < max; i++) {
		if ((rc = g->energy(g->dev[i], &mj)) != NVML_SUCCESS) {
			snprintf(err, errlen, "nvml: gpu-%u: energy read "
			    "failed (%d)", g->index[i], rc);
			return -1;
		}
		snprintf(out[i].name, sizeof(out[i].name), "gpu-%u",
		    g->index[i]);
		out[i].domain = ENERGY_GPU;
		out[i].uj = (uint64_t)mj * 1000;
		out[i].range_uj = 0;
		(*n)++;
	}
	return 0;
}

const struct energy_ops energy_nvml_ops = {
	.name = "nvml",
	.open = nvml_open,
	.read = nvml_read,
	.close = nvml_close,
	.rel_uncertainty = 0,
};
