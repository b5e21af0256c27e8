/*
 * energy_model: the node's energy estimated from CPU utilisation, for
 * machines with no counter it can read (VMs, RAPL not permitted).
 *
 * power = idle_w + (max_w - idle_w) x u, where u is the busy fraction of
 * all CPUs between two reads of /proc/stat (under a configurable procfs
 * root): busy = total - idle - iowait, total = user + nice + system + idle
 * + iowait + irq + softirq + steal. The interval is taken from the same
 * counters, total jiffies / (cpus x USER_HZ), so a reading needs no clock.
 * Watts come from the config (max_w > 0), else from a small table of CPU
 * models (per package, by the "model name" of /proc/cpuinfo, idle = 30 %
 * of it), else 4 W per logical CPU (CodeCarbon's default per core).
 *
 * The power is linear in the busy fraction, so the energy between two
 * reads is idle_w x dt + (max_w - idle_w) x db (in CPU-seconds over the
 * number of CPUs), and the counter it reports is that of the counters
 * since boot: like a RAPL counter it means the same in every process, so
 * a restarted ebbd that takes up the last reading (energy_meter_restore)
 * counts the time it was down.
 *
 * It reports one zone, "model", whose energy carries a relative
 * uncertainty of 30 % (energy_model_ops.rel_uncertainty). It does not
 * model memory, disks or GPUs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "runner/energy.h"

#define MODEL_IDLE_FRAC		0.30	/* idle power / max power */
#define MODEL_W_PER_CPU		4.0	/* unknown CPU model, W per thread */
#define MODEL_UNCERTAINTY	0.30

/* Package power at full load (TDP) of a few common server CPUs. */
static const struct {
	const char	*match;		/* substring of "model name" */
	double		 tdp_w;
} cpu_table[] = {
	{ "EPYC 7763", 280 },
	{ "EPYC 7742", 225 },
	{ "EPYC 9654", 360 },
	{ "Xeon(R) Gold 6248", 150 },
	{ "Xeon(R) Gold 6338", 205 },
	{ "Xeon(R) Platinum 8380", 270 },
	{ "Xeon(R) Platinum 8480", 350 },
	{ "Xeon(R) CPU E5-2680 v4", 120 },
};

struct model {
	char	*stat_path;
	double	 idle_w, max_w;
	int	 ncpus;
	long	 hz;
};

int
energy_read_stat(const char *path, uint64_t *total, uint64_t *busy, int *ncpus,
    char *err, size_t errlen)
{
	unsigned long long v[8] = { 0 };
	char line[512];
	FILE *f;
	int got = 0;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	*ncpus = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "cpu ", 4) == 0)
			got = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu "
			    "%llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
			    &v[5], &v[6], &v[7]);
		else if (strncmp(line, "cpu", 3) == 0 &&
		    line[3] >= '0' && line[3] <= '9')
			(*ncpus)++;
	}
	fclose(f);
	if (got < 4 || *ncpus == 0) {
		snprintf(err, errlen, "%s: no cpu lines", path);
		return -1;
	}
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* Max node power from the CPU model, or 0 when it is not in the table. */
static double
table_watts(const char *cpuinfo)
{
	char line[512], model[256] = "";
	int phys[256], nphys = 0;
	FILE *f;

	if ((f = fopen(cpuinfo, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');
		int id, seen = 0;

		if (colon == NULL)
			continue;
		if (strncmp(line, "model name", 10) == 0 && model[0] == '\0')
			snprintf(model, sizeof(model), "%s", colon + 1);
		else if (strncmp(line, "physical id", 11) == 0 &&
		    sscanf(colon + 1, "%d", &id) == 1) {
			for (int i = 0; i < nphys; i++)
				seen |= phys[i] == id;
			if (!seen && nphys < 256)
				phys[nphys++] = id;
		}
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(cpu_table) / sizeof(cpu_table[0]); i++)
		if (strstr(model, cpu_table[i].match) != NULL)
			return cpu_table[i].tdp_w * (nphys > 0 ? nphys : 1);
	return 0;
}

static void
model_close(void *h)
{
	struct model *m = h;

	if (m == NULL)
		return;
	free(m->stat_path);
	free(m);
}

static void *
model_open(const struct energy_config *cfg, int *present, char *err,
    size_t errlen)
{
	const char *root = cfg != NULL && cfg->procfs_root != NULL ?
	    cfg->procfs_root : "/proc";
	struct model *m = xcalloc(1, sizeof(*m));
	uint64_t t, b;
	char *cpuinfo;

	*present = 0;
	m->stat_path = xasprintf("%s/stat", root);
	if (energy_read_stat(m->stat_path, &t, &b, &m->ncpus, err, errlen) == -1) {
		model_close(m);
		return NULL;
	}
	m->hz = sysconf(_SC_CLK_TCK);
	if (cfg != NULL && cfg->max_w > 0) {
		m->max_w = cfg->max_w;
		m->idle_w = cfg->idle_w;
	} else {
		cpuinfo = xasprintf("%s/cpuinfo", root);
		m->max_w = table_watts(cpuinfo);
		free(cpuinfo);
		if (m->max_w == 0)
			m->max_w = MODEL_W_PER_CPU * m->ncpus;
		m->idle_w = MODEL_IDLE_FRAC * m->max_w;
	}
	if (m->idle_w < 0 || m->idle_w > m->max_w) {
		snprintf(err, errlen, "model: idle_w %g not in [0, max_w %g]",
		    m->idle_w, m->max_w);
		model_close(m);
		return NULL;
	}
	return m;
}

static int
model_read(void *h, struct energy_reading *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	struct model *m = h;
	uint64_t total, busy;
	double scale;
	int ncpus;

	*n = 0;
	if (energy_read_stat(m->stat_path, &total, &busy, &ncpus, err, errlen) == -1)
		return -1;
	if (max == 0)
		return 0;
	scale = 1.0 / ((double)m->ncpus * (double)m->hz);
	snprintf(out[0].name, sizeof(out[0].name), "model");
	out[0].domain = ENERGY_MODEL;
	out[0].uj = (uint64_t)llround((m->idle_w * (double)total +
	    (m->max_w - m->idle_w) * (double)busy) * scale * 1e6);
	out[0].range_uj = 0;
	*n = 1;
	return 0;
}

const struct energy_ops energy_model_ops = {
	.name = "model",
	.open = model_open,
	.read = model_read,
	.close = model_close,
	.rel_uncertainty = MODEL_UNCERTAINTY,
};
