/*
 * energy: the node's energy counters, read as wrap-safe deltas.
 *
 * An energy source is a `const struct energy_ops` table that reports the
 * cumulative joules of each of its zones: RAPL through powercap sysfs
 * (energy_rapl.c), GPUs through NVML loaded at run time (energy_nvml.c),
 * and a utilisation model for machines with no readable counter
 * (energy_model.c). A meter keeps the previous reading of every zone and
 * turns each sample into per-zone deltas, correcting one counter wrap per
 * zone and interval with the zone's max_energy_range_uj.
 *
 * It does not attribute energy to jobs (runner/attrib.h), keep time, or
 * schedule sampling: the caller samples every energy_sample_period()
 * seconds or faster and pairs each sample with its own CLOCK_MONOTONIC.
 * See docs/energy.md.
 */
#ifndef EBB_ENERGY_H
#define EBB_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#define ENERGY_MAX_ZONES	32
#define ENERGY_ZONE_NAMELEN	32
/* Sampling period when nothing asks for a shorter one, s. */
#define ENERGY_PERIOD_DEFAULT	1.0
/* Highest plausible power of one RAPL zone, W (a large server package). */
#define ENERGY_MAX_ZONE_W	500.0

enum energy_domain {
	ENERGY_PACKAGE,		/* a CPU package (socket), "package-N" */
	ENERGY_DRAM,		/* memory of package N, "dram-N" */
	ENERGY_PSYS,		/* whole platform (client parts), "psys" */
	ENERGY_GPU,		/* one GPU, "gpu-N" */
	ENERGY_MODEL,		/* modelled node power, "model" */
};

/* One zone's cumulative counter as a source reads it. */
struct energy_reading {
	char			name[ENERGY_ZONE_NAMELEN];
	enum energy_domain	domain;
	uint64_t		uj;		/* cumulative, µJ */
	uint64_t		range_uj;	/* wraps after this; 0: never */
};

/* Where sources look and what the model assumes; zero/NULL = default. */
struct energy_config {
	const char	*powercap_root;	/* /sys/class/powercap */
	const char	*procfs_root;	/* /proc */
	const char	*nvml_lib;	/* libnvidia-ml.so.1 */
	double		 idle_w;	/* model: node power at 0 % busy */
	double		 max_w;		/* model: node power at 100 % busy */
};

/*
 * An energy source. open returns a handle (freed by close) or NULL with
 * err set; it sets *present to 1 when the source exists here but cannot be
 * used (RAPL zones whose energy_uj is not readable), else to 0. read
 * fills at most max readings, always the same zones in the same order,
 * and sets *n; it returns 0, or -1 with err set.
 */
struct energy_ops {
	const char	*name;
	void		*(*open)(const struct energy_config *, int *present,
			    char *err, size_t errlen);
	int		 (*read)(void *, struct energy_reading *, size_t max,
			    size_t *n, char *err, size_t errlen);
	void		 (*close)(void *);
	/* Relative uncertainty of what it reports: 0 measured, >0 model. */
	double		 rel_uncertainty;
};

extern const struct energy_ops energy_rapl_ops;
extern const struct energy_ops energy_nvml_ops;
extern const struct energy_ops energy_model_ops;

/* One zone's energy over the last interval. */
struct energy_zone_delta {
	char			name[ENERGY_ZONE_NAMELEN];
	enum energy_domain	domain;
	double			j;
	int			dropped;	/* went backwards with no
						   known range: counted 0 */
};

/* What one sample reports; all energies in J over the last interval. */
struct energy_delta {
	int		primed;		/* 0 on the first sample: no interval */
	/*
	 * The node's CPU-side energy: psys when the machine has it (it covers
	 * packages and memory), else the sum of packages and dram; or the
	 * model's estimate. GPUs are not in it.
	 */
	double		node_j;
	double		package_j, dram_j, psys_j, model_j, gpu_j;
	double		rel_uncertainty;	/* of node_j: 0 measured */
	const char	*method;	/* "rapl", "model" or
					   "rapl-unreadable->model"; static */
	size_t		nzones;
	struct energy_zone_delta zone[ENERGY_MAX_ZONES];
};

struct energy_meter;

/*
 * A meter over one CPU-side source and, when gpu is not NULL, a GPU
 * source added on top. Opens both; NULL with err set if either fails.
 * Freed by energy_meter_free.
 */
struct energy_meter *energy_meter_open(const struct energy_ops *cpu,
		    const struct energy_ops *gpu, const struct energy_config *,
		    char *err, size_t errlen);

/*
 * The best meter this machine allows: RAPL, else the model; plus NVML when
 * it opens. Never fails for want of counters (the model always opens
 * unless procfs is unreadable: NULL with err). Why RAPL or NVML were not
 * used is said once, in energy_meter_note().
 */
struct energy_meter *energy_open_best(const struct energy_config *,
		    char *err, size_t errlen);

/*
 * Reads every zone and fills *out with the deltas since the last sample
 * (out->primed 0 on the first). Returns 0, or -1 with err set; after a
 * failure the next sample starts a new interval.
 */
int	energy_meter_sample(struct energy_meter *, struct energy_delta *out,
	    char *err, size_t errlen);

/*
 * Why a source was passed over ("rapl: ...: Permission denied ...;
 * nvml: unavailable: ..."), "" when none was; owned by the meter.
 */
const char	*energy_meter_note(const struct energy_meter *);
/*
 * The meter's last readings, every source's zones in order, into out (at
 * most max); returns how many, 0 before the first sample. With
 * energy_meter_restore() they let a restarted process take the counters
 * up where the last one left them: a gap loses time resolution, never
 * energy.
 */
size_t	energy_meter_save(const struct energy_meter *,
	    struct energy_reading *out, size_t max);
/*
 * Takes saved readings as the previous sample if they name the zones the
 * meter reads now, in the same order. Returns 0, or -1 (nothing changed).
 */
int	energy_meter_restore(struct energy_meter *,
	    const struct energy_reading *in, size_t n);
/* "rapl", "model" or "rapl-unreadable->model"; static storage. */
const char	*energy_meter_method(const struct energy_meter *);
/*
 * Smallest non-zero max_energy_range_uj of any zone, 0 if none wraps or
 * nothing has been sampled yet.
 */
uint64_t	 energy_meter_min_range_uj(const struct energy_meter *);

void	energy_meter_free(struct energy_meter *);

/*
 * The longest sampling period, s, that sees at most one wrap of a counter
 * of range_uj at max_w watts (<= 0: ENERGY_MAX_ZONE_W), capped at
 * ENERGY_PERIOD_DEFAULT. range_uj 0 (never wraps) gives the default.
 */
double	energy_sample_period(uint64_t range_uj, double max_w);

/* prev -> cur of a counter that wraps after range_uj; 0 if it cannot
 * tell (cur < prev and no range). */
/*
 * The aggregate cpu line of a /proc/stat file: total and busy jiffies,
 * and the number of CPUs. 0, or -1 with err.
 */
int	energy_read_stat(const char *path, uint64_t *total, uint64_t *busy,
	    int *ncpus, char *err, size_t errlen);

uint64_t energy_delta_uj(uint64_t prev, uint64_t cur, uint64_t range_uj);

#endif
