/*
 * config: ebb.yaml, loaded all-or-nothing into a typed struct.
 *
 * config_load() parses with libyaml, checks every key against the key
 * tables in config.c (unknown keys are errors), and reports every error it
 * finds as "file:line:col: message" lines. On any error nothing is returned,
 * so a bad file changes nothing. config_default() is the embedded default
 * used when ebbd runs without -c: state under $XDG_STATE_HOME/ebb (or
 * /var/lib/ebb as root), socket in the state dir (or /run/ebb as root), one
 * local site sized to this machine.
 */
#ifndef EBB_CONFIG_H
#define EBB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/yamltree.h"

/* ENTSO-E production types (B01..B20) and their lifecycle factors. */
#define PROV_NFUELS	20

/*
 * One carbon-intensity provider's settings for one site
 * (ebb.yaml: sites[].<provider>; see scheduler/carbon/provider.h).
 */
struct provider_conf {
	char	*base_url;	/* HTTP providers; default: the public API */
	char	*zone;		/* provider's zone/region id; default: site zone */
	char	*token_file;	/* secret: file holding it ... */
	char	*token_env;	/* ... or environment variable naming it */
	char	*user;		/* watttime: account name */
	char	*password_file;	/* watttime */
	char	*password_env;	/* watttime */
	int64_t	 min_refresh;	/* s between refreshes (default per provider) */
	int64_t	 timeout;	/* s per request, default 20 */
	int64_t	 history;	/* s of past data to ask for, default 24h */
	int	 region;	/* ukci: 0 national, 1..17 regional */
	/* trace */
	char	*file;
	char	*time_column;	/* name or 0-based index; default column 0 */
	char	*value_column;	/* name or 0-based index; default column 1 */
	double	 scale;		/* multiply values, default 1 */
	int	 replay;	/* map the trace's year onto the present */
	int	 signal;	/* enum ci_signal of the trace, default average */
	/* entsoe: g/kWh per production type B01..B20 (index 0 = B01) */
	double	 factors[PROV_NFUELS];
};

/* The providers a site may list, in the order of ebb_site.prov[]. */
enum prov_id { PROV_TRACE, PROV_ELECTRICITYMAPS, PROV_WATTTIME, PROV_UKCI,
	PROV_ENTSOE, PROV_N };

/* How ebbd drives a Slurm cluster (ebb.yaml: sites[].slurm). */
struct ebb_slurm {
	char	*conf;		/* SLURM_CONF for every command, or NULL */
	char	*cluster;	/* --clusters NAME (needs slurmdbd), or NULL */
	char	*partition;	/* sbatch --partition, or NULL: the default */
	char	*account;	/* sbatch --account, or NULL */
	struct yt_strlist sbatch_options;	/* passed to sbatch as they are */
	char	*bin_dir;	/* where sbatch & co. live; NULL: $PATH */
	char	*shared_dir;	/* job dirs seen by ebbd and the nodes */
	int64_t	 poll;		/* s between looks at the queue */
	int	 adopt;		/* take over sbatch jobs tagged ebb: */
};

/* How ebbd drives a Kubernetes cluster (ebb.yaml: sites[].kubernetes). */
struct ebb_kube {
	char	*kubeconfig;	/* kubeconfig file, or NULL: in_cluster */
	char	*context;	/* context in it; NULL: its current-context */
	int	 in_cluster;	/* service-account credentials of the pod */
	char	*sa_dir;	/* where they are (default: the standard) */
	char	*namespace;	/* NULL: the context's, else "default" */
	struct yt_strmap node_selector;	/* added to every Job ebb makes */
	int64_t	 resync;	/* s one watch runs before the next */
	int	 adopt;		/* plan suspended Jobs annotated ebb.dev/ */
	char	*prometheus;	/* Prometheus URL with Kepler's metrics */
	int64_t	 prometheus_lag;	/* s after a Job's end before asking */
	int64_t	 start_timeout;	/* s a released Job may have no ready pod;
				   0: no limit */
};

struct ebb_site {
	char	*name;		/* unique, [A-Za-z0-9_.-]+ */
	char	*backend;	/* "local", "slurm" or "kubernetes" */
	int	 cpus;		/* capacity; default: online CPUs */
	int	 gpus;		/* capacity; default 0: none */
	int64_t	 memory;	/* bytes; default: physical memory */
	char	*zone;		/* grid zone id, or NULL */
	double	 pue;		/* >= 1.0, default 1.0 */
	double	 embodied_kg;	/* kgCO2e to make the machine(s); 0: none */
	int64_t	 lifetime;	/* s they are used for, default 4 years */
	struct yt_strlist providers;	/* names, in fallback order */
	struct provider_conf prov[PROV_N];	/* settings by enum prov_id */
	struct ebb_slurm slurm;	/* backend: slurm */
	struct ebb_kube	 kube;	/* backend: kubernetes */
};

/* How the planner weighs and bounds plans (ebb.yaml: planner). */
struct ebb_planner {
	double	 watts_per_cpu;		/* power estimate per cpu, W */
	double	 safety_margin;		/* duration * (1 + margin) must fit */
	int64_t	 safety_margin_max;	/* s, cap on duration * margin */
	int64_t	 min_chunk;		/* s, interruptible jobs */
	double	 kwh_per_gb;		/* energy to move a GB between sites */
	double	 delay_g_per_h;		/* tie-break toward earlier starts */
	double	 delay_swing;		/* the same, share of a site's swing
					   per day of delay */
	double	 reserve;		/* share of cpus deferred jobs leave;
					   -1: auto (scheduler/load.h) */
	int64_t	 default_max_delay;	/* s; 0: jobs without limits run now */
	int64_t	 horizon;		/* s planned ahead */
	int64_t	 replan;		/* s between timed re-plans */
};

/* How job energy is measured and accounted (ebb.yaml: energy). */
struct ebb_energy {
	char	*powercap_root;		/* RAPL sysfs, default /sys/class/powercap */
	char	*procfs_root;		/* default /proc */
	double	 idle_w, max_w;		/* model watts; 0: a table by CPU */
	int	 idle;			/* enum attrib_idle */
	int64_t	 final_after;		/* s after a job's end its ledger is final */
};

/* The Prometheus endpoint (ebb.yaml: metrics). */
struct ebb_metrics {
	char	*address;		/* default 127.0.0.1 */
	int	 port;			/* 0: off */
	int	 job_series;		/* most jobs with series of their own */
	int64_t	 job_linger;		/* s an ended job keeps them */
};

/*
 * The push of final ledger rows to an HTTP endpoint (ebb.yaml: export;
 * docs/export.md). Off while url is NULL.
 */
struct ebb_export {
	char	*url;			/* http:// or https:// endpoint */
	char	*token_file;		/* bearer token, read at each send */
	char	*ca_file;		/* PEM CA bundle; NULL: the system's */
	int	 batch;			/* most rows in one POST */
	int64_t	 interval;		/* s between looks for new final rows */
	int64_t	 timeout;		/* s one POST may take */
	int64_t	 max_backoff;		/* s, longest wait between failed tries */
};

/*
 * What one peer of the control socket may hold (ebb.yaml: control).
 * ebbd reads these at each use, so SIGHUP changes them for every
 * connection at once.
 */
struct ebb_control {
	int	 max_connections;	/* all users together */
	int	 max_per_user;		/* one uid; root is exempt */
	int64_t	 idle_timeout;		/* s with no request and nothing sent */
	int64_t	 frame_timeout;		/* s to finish a request once begun */
	int64_t	 max_output;		/* unsent reply bytes before reading stops */
};

struct ebb_config {
	char	*path;		/* file it came from, or "(default)" */
	char	*state_dir;
	char	*socket;
	char	*socket_group;	/* group owning the socket, or NULL */
	mode_t	 socket_mode;	/* default 0660 */
	char	*admin_group;	/* members act on all jobs, or NULL */
	char	*runner;	/* ebb-run path, or NULL: next to ebbd */
	int64_t	 kill_grace;	/* s between SIGTERM and SIGKILL, default 10 */
	char	*user;		/* as root: the unprivileged worker's user,
				   default "ebb" */
	int64_t	 output_limit;	/* bytes of a job's stdout/stderr each kept,
				   default 1G; 0: no limit */
	int	 root_jobs;	/* root's own jobs run as root (default no) */
	int	 log_level;	/* enum log_level, default info */
	int64_t	 slot;		/* planning grid step, s; default 5m */
	int64_t	 max_gap;	/* longest gap filled by interpolation, s */
	char	*policies;	/* policy file, or NULL */
	struct ebb_planner planner;
	struct ebb_energy energy;
	struct ebb_metrics metrics;
	struct ebb_control control;
	struct ebb_export export;
	struct ebb_site *sites;
	size_t	 nsites;
};

/*
 * Load path. On success returns 0 and a new config in *out (free with
 * config_free). On failure returns -1 and a malloc'd string in *errs holding
 * one "file:line:col: message\n" line per error (caller frees).
 */
int	config_load(const char *path, struct ebb_config **out, char **errs);
/* The embedded default (never fails). */
struct ebb_config *config_default(void);
void	config_free(struct ebb_config *);
/* The normalised config as YAML that config_load() accepts (caller frees). */
char	*config_dump(const struct ebb_config *);
/* Does the site run its jobs on Kubernetes (backend: kubernetes)? */
int	config_site_is_kube(const struct ebb_site *);

/* The Slurm commands a slurm site needs, NULL-terminated. */
extern const char *const config_slurm_commands[];
/* Full path of Slurm command cmd (bin_dir, else $PATH), or NULL. */
char	*config_slurm_command(const struct ebb_slurm *, const char *cmd);
/* Where a Slurm site's job directories live (caller frees). */
char	*config_slurm_dir(const char *state_dir, const char *site,
	    const struct ebb_slurm *);
/* The site called name, or NULL. */
const struct ebb_site *config_site(const struct ebb_config *, const char *name);

/* Provider ids and names ("trace", ...): -1 / unknown for others. */
int	config_provider_id(const char *name);
const char *config_provider_name(enum prov_id);
/* The defaults every provider's settings start from. */
void	provider_conf_defaults(struct provider_conf *);

/*
 * Where a client looks for the socket when neither --socket nor $EBB_SOCKET
 * is given: the per-user default if it exists, else the system one.
 * Returns a malloc'd path.
 */
char	*config_client_socket(void);

#endif
