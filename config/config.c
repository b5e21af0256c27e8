/*
 * config: the ebb.yaml key tables, defaults and checks (see config.h).
 *
 * Parsing, type checks and error positions come from yamltree; this file
 * holds one table row per key, the defaults, the few checks that look at
 * more than one value (unique site names), and config_dump(), which writes
 * the normalised file with libyaml's emitter. It does not touch the state
 * directory or the socket: ebbd creates them.
 */
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "config/yamltree.h"

#define SYSTEM_STATE_DIR	"/var/lib/ebb"
#define SYSTEM_SOCKET		"/run/ebb/ebbd.sock"
#define SOCKET_NAME		"ebbd.sock"
#define DEFAULT_TRACE		"DE-LU_2023_hourly.csv"
#define DEFAULT_TRACE_COLUMN	"Carbon Intensity gCO\xe2\x82\x82" "eq/kWh (LCA)"

static const char *const log_levels[] = {
	"error", "warn", "info", "debug", NULL,
};

static int
check_site_name(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;

	if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-")] != '\0') {
		snprintf(err, errlen, "'%s' may only contain letters, digits, "
		    "'_', '.' and '-'", s);
		return -1;
	}
	return 0;
}

/* A Kubernetes object name: a DNS-1123 label (lower case, digits, '-'). */
static int
check_k8s_name(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-")] != '\0' || s[0] == '-' || s[n - 1] == '-') {
		snprintf(err, errlen, "'%s' is not a DNS-1123 label (lower "
		    "case letters, digits and '-', at most 63)", s);
		return -1;
	}
	return 0;
}

static int
check_backend(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;

	if (strcmp(s, "local") != 0 && strcmp(s, "slurm") != 0 &&
	    strcmp(s, "kubernetes") != 0) {
		snprintf(err, errlen, "unknown backend '%s' (known: local, "
		    "slurm, kubernetes)", s);
		return -1;
	}
	return 0;
}


/*---- Carbon-intensity providers: one settings block per provider ----*/

static const char *const provider_names[PROV_N + 1] = {
	"trace", "electricitymaps", "watttime", "ukci", "entsoe", NULL,
};
static const char *const signals[] = { "average", "marginal", NULL };

int
config_provider_id(const char *name)
{
	for (int i = 0; i < PROV_N; i++)
		if (strcmp(provider_names[i], name) == 0)
			return i;
	return -1;
}

const char *
config_provider_name(enum prov_id id)
{
	return provider_names[id];
}

/*
 * Lifecycle gCO2e/kWh by ENTSO-E production type B01..B20: IPCC SRREN
 * Annex II medians where IPCC gives one (as in "Let's Wait Awhile"); the
 * others are documented in docs/providers.md. Negative: left out of the
 * mix (pumped storage only moves energy that was generated elsewhere).
 */
static const double default_factors[PROV_NFUELS] = {
	18,	/* B01 biomass */
	1001,	/* B02 lignite (as coal) */
	1001,	/* B03 coal-derived gas (as coal) */
	469,	/* B04 fossil gas */
	1001,	/* B05 hard coal */
	840,	/* B06 oil */
	840,	/* B07 oil shale (as oil) */
	1001,	/* B08 peat (as coal) */
	45,	/* B09 geothermal */
	-1,	/* B10 hydro pumped storage: left out */
	4,	/* B11 hydro run-of-river */
	4,	/* B12 hydro reservoir */
	8,	/* B13 marine: IPCC SRREN ocean energy */
	16,	/* B14 nuclear */
	22,	/* B15 other renewable */
	46,	/* B16 solar */
	770,	/* B17 waste (as other) */
	12,	/* B18 wind offshore */
	12,	/* B19 wind onshore */
	770,	/* B20 other */
};

void
provider_conf_defaults(struct provider_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->timeout = 20;
	p->history = 86400;
	p->scale = 1.0;
	memcpy(p->factors, default_factors, sizeof(p->factors));
}

#define PC(f)	offsetof(struct provider_conf, f)
#define HTTP_KEYS \
	{ .name = "base_url", .type = YT_STRING, .offset = PC(base_url), \
	  .doc = "API root (tests point it at loopback)" }, \
	{ .name = "zone", .type = YT_STRING, .offset = PC(zone), \
	  .doc = "the provider's zone or region id; default: the site's" }, \
	{ .name = "min_refresh", .type = YT_DURATION, .min = 0, \
	  .max = 86400, .offset = PC(min_refresh), \
	  .doc = "least time between refreshes; 0: the provider's default" }, \
	{ .name = "timeout", .type = YT_DURATION, .min = 1, .max = 600, \
	  .offset = PC(timeout), .doc = "limit for one request" }, \
	{ .name = "history", .type = YT_DURATION, .min = 3600, \
	  .max = 30 * 86400, .offset = PC(history), \
	  .doc = "how much past data to ask for" }
#define TOKEN_KEYS \
	{ .name = "token_file", .type = YT_PATH, .offset = PC(token_file), \
	  .doc = "file holding the API token" }, \
	{ .name = "token_env", .type = YT_STRING, .offset = PC(token_env), \
	  .doc = "environment variable holding the API token" }

static const struct yt_key trace_keys[] = {
	{ .name = "file", .type = YT_PATH, .required = 1, .offset = PC(file),
	  .doc = "CSV file: a header row, then time and value columns" },
	{ .name = "time_column", .type = YT_STRING, .offset = PC(time_column),
	  .doc = "name or 0-based index; default 0" },
	{ .name = "value_column", .type = YT_STRING,
	  .offset = PC(value_column), .doc = "name or 0-based index; default 1" },
	{ .name = "scale", .type = YT_FLOAT, .fmin = 1e-9, .fmax = 1e9,
	  .offset = PC(scale), .doc = "factor applied to every value" },
	{ .name = "replay", .type = YT_BOOL, .offset = PC(replay),
	  .doc = "map the trace's year onto the present" },
	{ .name = "signal", .type = YT_ENUM, .choices = signals,
	  .offset = PC(signal), .doc = "average or marginal" },
	{ .name = "zone", .type = YT_STRING, .offset = PC(zone),
	  .doc = "zone the trace describes; default: the site's" },
	{ .name = "min_refresh", .type = YT_DURATION, .min = 0, .max = 86400,
	  .offset = PC(min_refresh),
	  .doc = "how often to re-read the file; 0: every slot" },
	{ .name = NULL },
};

static const struct yt_key electricitymaps_keys[] = {
	HTTP_KEYS, TOKEN_KEYS, { .name = NULL },
};

static const struct yt_key watttime_keys[] = {
	HTTP_KEYS,
	{ .name = "user", .type = YT_STRING, .offset = PC(user),
	  .doc = "WattTime account name" },
	{ .name = "password_file", .type = YT_PATH,
	  .offset = PC(password_file), .doc = "file holding the password" },
	{ .name = "password_env", .type = YT_STRING,
	  .offset = PC(password_env),
	  .doc = "environment variable holding the password" },
	{ .name = NULL },
};

static const struct yt_key ukci_keys[] = {
	HTTP_KEYS,
	{ .name = "region", .type = YT_INT, .min = 0, .max = 17,
	  .offset = PC(region), .doc = "0 national, 1..17 a DNO region" },
	{ .name = NULL },
};

#define FUEL(n, i) { .name = n, .type = YT_FLOAT, .fmin = -1, .fmax = 5000, \
	.offset = PC(factors) + (i) * sizeof(double), \
	.doc = "lifecycle g/kWh of this production type; -1: leave it out" }
static const struct yt_key factor_keys[] = {
	FUEL("B01", 0), FUEL("B02", 1), FUEL("B03", 2), FUEL("B04", 3),
	FUEL("B05", 4), FUEL("B06", 5), FUEL("B07", 6), FUEL("B08", 7),
	FUEL("B09", 8), FUEL("B10", 9), FUEL("B11", 10), FUEL("B12", 11),
	FUEL("B13", 12), FUEL("B14", 13), FUEL("B15", 14), FUEL("B16", 15),
	FUEL("B17", 16), FUEL("B18", 17), FUEL("B19", 18), FUEL("B20", 19),
	{ .name = NULL },
};

static const struct yt_key entsoe_keys[] = {
	HTTP_KEYS, TOKEN_KEYS,
	{ .name = "factors", .type = YT_STRUCT, .sub = factor_keys,
	  .offset = 0, .doc = "g/kWh by production type B01..B20" },
	{ .name = NULL },
};

static int
check_providers(const void *field, char *err, size_t errlen)
{
	const struct yt_strlist *l = field;

	for (size_t i = 0; i < l->n; i++) {
		if (config_provider_id(l->v[i]) < 0) {
			snprintf(err, errlen, "unknown provider '%s' (known: "
			    "trace, electricitymaps, watttime, ukci, entsoe)",
			    l->v[i]);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l->v[i], l->v[j]) == 0) {
				snprintf(err, errlen, "'%s' is listed twice",
				    l->v[i]);
				return -1;
			}
		}
	}
	return 0;
}

static int
site_lists(const struct ebb_site *s, enum prov_id id)
{
	for (size_t i = 0; i < s->providers.n; i++)
		if (config_provider_id(s->providers.v[i]) == (int)id)
			return 1;
	return 0;
}

#define LISTED(fn, id) \
static int fn(const void *obj) { return site_lists(obj, id); }
LISTED(lists_trace, PROV_TRACE)
LISTED(lists_electricitymaps, PROV_ELECTRICITYMAPS)
LISTED(lists_watttime, PROV_WATTTIME)
LISTED(lists_ukci, PROV_UKCI)
LISTED(lists_entsoe, PROV_ENTSOE)

static int
is_slurm(const void *obj)
{
	const struct ebb_site *s = obj;

	return s->backend != NULL && strcmp(s->backend, "slurm") == 0;
}

#define SL(f)	offsetof(struct ebb_slurm, f)
static const struct yt_key slurm_keys[] = {
	{ .name = "conf", .type = YT_PATH, .offset = SL(conf),
	  .doc = "slurm.conf of the cluster (SLURM_CONF); default: Slurm's" },
	{ .name = "cluster", .type = YT_STRING, .offset = SL(cluster),
	  .doc = "cluster name passed as --clusters (a federation with "
	  "slurmdbd)" },
	{ .name = "partition", .type = YT_STRING, .offset = SL(partition),
	  .doc = "partition jobs are submitted to; default: the cluster's" },
	{ .name = "account", .type = YT_STRING, .offset = SL(account),
	  .doc = "account jobs are charged to" },
	{ .name = "sbatch_options", .type = YT_STRLIST,
	  .offset = SL(sbatch_options),
	  .doc = "more sbatch options, one per item, e.g. --qos=low" },
	{ .name = "bin_dir", .type = YT_PATH, .offset = SL(bin_dir),
	  .doc = "directory of sbatch, squeue, scontrol, scancel, sacct; "
	  "default: $PATH" },
	{ .name = "shared_dir", .type = YT_PATH, .offset = SL(shared_dir),
	  .doc = "directory that ebbd and every node see alike (job specs, "
	  "results, output); default <state_dir>/slurm/<site>" },
	{ .name = "poll", .type = YT_DURATION, .min = 1, .max = 3600,
	  .offset = SL(poll), .doc = "time between looks at Slurm's queue" },
	{ .name = "adopt", .type = YT_BOOL, .offset = SL(adopt),
	  .doc = "plan sbatch jobs whose comment starts with ebb:" },
	{ .name = NULL },
};

int
config_site_is_kube(const struct ebb_site *s)
{
	return s->backend != NULL && strcmp(s->backend, "kubernetes") == 0;
}

static int
is_kube(const void *obj)
{
	return config_site_is_kube(obj);
}

#define KU(f)	offsetof(struct ebb_kube, f)
static const struct yt_key kube_keys[] = {
	{ .name = "kubeconfig", .type = YT_PATH, .offset = KU(kubeconfig),
	  .doc = "kubeconfig file with the cluster's address and "
	  "credentials; without it: in_cluster" },
	{ .name = "context", .type = YT_STRING, .offset = KU(context),
	  .doc = "context of the kubeconfig; default: its current-context" },
	{ .name = "in_cluster", .type = YT_BOOL, .offset = KU(in_cluster),
	  .doc = "use the service account of the pod ebbd runs in" },
	{ .name = "service_account_dir", .type = YT_PATH,
	  .offset = KU(sa_dir), .doc = "where in_cluster credentials are; "
	  "default /var/run/secrets/kubernetes.io/serviceaccount" },
	{ .name = "namespace", .type = YT_STRING, .offset = KU(namespace),
	  .check = check_k8s_name,
	  .doc = "namespace of ebb's Jobs; default: the context's, or "
	  "default" },
	{ .name = "node_selector", .type = YT_STRMAP,
	  .offset = KU(node_selector),
	  .doc = "node labels every Job ebb creates asks for" },
	{ .name = "resync", .type = YT_DURATION, .min = 10, .max = 86400,
	  .offset = KU(resync),
	  .doc = "how long one watch of the namespace's Jobs runs before "
	  "the next starts from the last version seen" },
	{ .name = "adopt", .type = YT_BOOL, .offset = KU(adopt),
	  .doc = "plan suspended Jobs created with kubectl that carry an "
	  "ebb.dev/max-delay annotation" },
	{ .name = "prometheus", .type = YT_STRING, .offset = KU(prometheus),
	  .doc = "URL of a Prometheus with Kepler's metrics, for the energy "
	  "of Jobs; default: a model from cpus and run time" },
	{ .name = "start_timeout", .type = YT_DURATION, .min = 0,
	  .max = 7 * 86400, .offset = KU(start_timeout),
	  .doc = "how long a released Job may have no ready pod before "
	  "ebb deletes it and fails the job; 0: no limit" },
	{ .name = "prometheus_lag", .type = YT_DURATION, .min = 0,
	  .max = 3600, .offset = KU(prometheus_lag),
	  .doc = "wait after a Job's end before asking Prometheus (its last "
	  "scrapes)" },
	{ .name = NULL },
};

#define SP(i)	offsetof(struct ebb_site, prov) + (i) * \
	sizeof(struct provider_conf)

static const struct yt_key site_keys[] = {
	{ .name = "name", .type = YT_STRING, .required = 1,
	  .offset = offsetof(struct ebb_site, name), .check = check_site_name,
	  .doc = "unique site name, [A-Za-z0-9_.-]+" },
	{ .name = "backend", .type = YT_STRING,
	  .offset = offsetof(struct ebb_site, backend), .check = check_backend,
	  .doc = "how jobs are started there: local or slurm" },
	{ .name = "cpus", .type = YT_INT, .min = 1, .max = 1 << 20,
	  .offset = offsetof(struct ebb_site, cpus),
	  .doc = "CPU capacity; default: online CPUs" },
	{ .name = "gpus", .type = YT_INT, .min = 0, .max = 1 << 20,
	  .offset = offsetof(struct ebb_site, gpus),
	  .doc = "GPU capacity; default 0: none" },
	{ .name = "memory", .type = YT_SIZE, .min = 1, .max = INT64_MAX,
	  .offset = offsetof(struct ebb_site, memory),
	  .doc = "memory capacity; default: physical memory" },
	{ .name = "zone", .type = YT_STRING,
	  .offset = offsetof(struct ebb_site, zone),
	  .doc = "grid zone id of the site's electricity" },
	{ .name = "pue", .type = YT_FLOAT, .fmin = 1.0, .fmax = HUGE_VAL,
	  .offset = offsetof(struct ebb_site, pue),
	  .doc = "power usage effectiveness, >= 1.0" },
	{ .name = "embodied_kg", .type = YT_FLOAT, .fmin = 0, .fmax = 1e9,
	  .offset = offsetof(struct ebb_site, embodied_kg),
	  .doc = "kgCO2e embodied in the site's hardware; 0: none" },
	{ .name = "lifetime", .type = YT_DURATION, .min = 86400,
	  .max = INT64_C(50) * 365 * 86400,
	  .offset = offsetof(struct ebb_site, lifetime),
	  .doc = "how long that hardware is used, default 4 years" },
	{ .name = "providers", .type = YT_STRLIST,
	  .offset = offsetof(struct ebb_site, providers),
	  .check = check_providers,
	  .doc = "carbon-intensity sources, in fallback order" },
	{ .name = "trace", .type = YT_STRUCT, .sub = trace_keys,
	  .offset = SP(PROV_TRACE), .present = lists_trace,
	  .doc = "settings of the trace provider" },
	{ .name = "electricitymaps", .type = YT_STRUCT,
	  .sub = electricitymaps_keys, .offset = SP(PROV_ELECTRICITYMAPS),
	  .present = lists_electricitymaps,
	  .doc = "settings of the Electricity Maps provider" },
	{ .name = "watttime", .type = YT_STRUCT, .sub = watttime_keys,
	  .offset = SP(PROV_WATTTIME), .present = lists_watttime,
	  .doc = "settings of the WattTime provider" },
	{ .name = "ukci", .type = YT_STRUCT, .sub = ukci_keys,
	  .offset = SP(PROV_UKCI), .present = lists_ukci,
	  .doc = "settings of the UK Carbon Intensity provider" },
	{ .name = "entsoe", .type = YT_STRUCT, .sub = entsoe_keys,
	  .offset = SP(PROV_ENTSOE), .present = lists_entsoe,
	  .doc = "settings of the ENTSO-E provider" },
	{ .name = "slurm", .type = YT_STRUCT, .sub = slurm_keys,
	  .offset = offsetof(struct ebb_site, slurm), .present = is_slurm,
	  .doc = "settings of the slurm backend" },
	{ .name = "kubernetes", .type = YT_STRUCT, .sub = kube_keys,
	  .offset = offsetof(struct ebb_site, kube), .present = is_kube,
	  .doc = "settings of the kubernetes backend" },
	{ .name = NULL },
};

static void site_init(void *);

#define PL(f)	offsetof(struct ebb_planner, f)
static const struct yt_key planner_keys[] = {
	{ .name = "watts_per_cpu", .type = YT_FLOAT, .fmin = 0.1, .fmax = 1e4,
	  .offset = PL(watts_per_cpu),
	  .doc = "power of one busy cpu when a job gives none, W" },
	{ .name = "safety_margin", .type = YT_FLOAT, .fmin = 0, .fmax = 10,
	  .offset = PL(safety_margin),
	  .doc = "fraction added to durations when checking deadlines" },
	{ .name = "safety_margin_max", .type = YT_DURATION, .min = 0,
	  .max = 7 * 86400, .offset = PL(safety_margin_max),
	  .doc = "most the safety margin adds to a duration; 0s: no cap" },
	{ .name = "min_chunk", .type = YT_DURATION, .min = 60, .max = 86400,
	  .offset = PL(min_chunk),
	  .doc = "shortest piece an interruptible job is run in" },
	{ .name = "kwh_per_gb", .type = YT_FLOAT, .fmin = 0, .fmax = 100,
	  .offset = PL(kwh_per_gb),
	  .doc = "energy to move one GB of a job's data to another site" },
	{ .name = "delay_g_per_h", .type = YT_FLOAT, .fmin = 0, .fmax = 1e6,
	  .offset = PL(delay_g_per_h),
	  .doc = "penalty in g per kWh of the job's energy per hour of "
	  "delay; breaks ties toward now" },
	{ .name = "delay_swing", .type = YT_FLOAT, .fmin = 0, .fmax = 10,
	  .offset = PL(delay_swing),
	  .doc = "penalty per day of delay as a share of the site's "
	  "intensity swing (max - min over the plan); adds to "
	  "delay_g_per_h" },
	{ .name = "reserve", .type = YT_FLOAT, .fmin = 0, .fmax = 0.9,
	  .word = "auto", .wordval = -1, .offset = PL(reserve),
	  .doc = "share of each site's cpus that jobs waiting for greener "
	  "hours leave free for jobs that cannot wait; auto: from the "
	  "site's recent load" },
	{ .name = "default_max_delay", .type = YT_DURATION, .min = 0,
	  .max = 30 * 86400, .offset = PL(default_max_delay),
	  .doc = "how long a job without deadline, max delay or policy may "
	  "wait; 0s: it runs at once" },
	{ .name = "horizon", .type = YT_DURATION, .min = 3600,
	  .max = 7 * 86400, .offset = PL(horizon),
	  .doc = "how far ahead plans reach" },
	{ .name = "replan", .type = YT_DURATION, .min = 60, .max = 86400,
	  .offset = PL(replan), .doc = "time between timed re-plans" },
	{ .name = NULL },
};

static const char *const idle_rules[] = {
	"none", "proportional", "by-reservation", NULL,
};

#define EN(f)	offsetof(struct ebb_energy, f)
static const struct yt_key energy_keys[] = {
	{ .name = "powercap_root", .type = YT_PATH, .offset = EN(powercap_root),
	  .doc = "where RAPL counters are read; default /sys/class/powercap" },
	{ .name = "procfs_root", .type = YT_PATH, .offset = EN(procfs_root),
	  .doc = "where /proc/stat is read; default /proc" },
	{ .name = "idle_w", .type = YT_FLOAT, .fmin = 0, .fmax = 1e5,
	  .offset = EN(idle_w), .doc = "model: node watts at 0 % busy" },
	{ .name = "max_w", .type = YT_FLOAT, .fmin = 0, .fmax = 1e5,
	  .offset = EN(max_w), .doc = "model: node watts at 100 % busy" },
	{ .name = "idle", .type = YT_ENUM, .choices = idle_rules,
	  .offset = EN(idle), .doc = "how idle energy is attributed to jobs" },
	{ .name = "final_after", .type = YT_DURATION, .min = 0,
	  .max = 30 * 86400, .offset = EN(final_after),
	  .doc = "after a job's end, its ledger is final with the best data" },
	{ .name = NULL },
};

#define ME(f)	offsetof(struct ebb_metrics, f)
static const struct yt_key metrics_keys[] = {
	{ .name = "address", .type = YT_STRING, .offset = ME(address),
	  .doc = "numeric address the endpoint binds to; default 127.0.0.1" },
	{ .name = "port", .type = YT_INT, .min = 0, .max = 65535,
	  .offset = ME(port), .doc = "TCP port of /metrics; 0: no endpoint" },
	{ .name = "job_series", .type = YT_INT, .min = 0, .max = 100000,
	  .offset = ME(job_series),
	  .doc = "most jobs with series of their own; 0: none" },
	{ .name = "job_linger", .type = YT_DURATION, .min = 0, .max = 86400,
	  .offset = ME(job_linger),
	  .doc = "how long an ended job keeps its series" },
	{ .name = NULL },
};

#define CT(f)	offsetof(struct ebb_control, f)
static const struct yt_key control_keys[] = {
	{ .name = "max_connections", .type = YT_INT, .min = 1, .max = 65536,
	  .offset = CT(max_connections),
	  .doc = "connections of all users together (root has a few more)" },
	{ .name = "max_connections_per_user", .type = YT_INT, .min = 1,
	  .max = 65536, .offset = CT(max_per_user),
	  .doc = "connections of one uid at a time; root is exempt" },
	{ .name = "idle_timeout", .type = YT_DURATION, .min = 1, .max = 86400,
	  .offset = CT(idle_timeout),
	  .doc = "a connection with no request and no reply moving is closed" },
	{ .name = "frame_timeout", .type = YT_DURATION, .min = 1, .max = 3600,
	  .offset = CT(frame_timeout),
	  .doc = "time a client has to finish sending a request it began" },
	{ .name = "max_output", .type = YT_SIZE, .min = 4096,
	  .max = INT64_C(1) << 30, .offset = CT(max_output),
	  .doc = "unsent reply bytes after which ebbd reads no more requests "
	  "from that connection until they drain" },
	{ .name = NULL },
};

/* An absolute http(s) URL with nothing that cannot go on the wire as is. */
static int
check_export_url(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;
	size_t host;

	if (strncmp(s, "http://", 7) == 0)
		host = 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = 8;
	else {
		snprintf(err, errlen, "must start with http:// or https://");
		return -1;
	}
	if (s[host] == '\0' || s[host] == '/') {
		snprintf(err, errlen, "has no host");
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "may not contain spaces or "
			    "control characters");
			return -1;
		}
	}
	return 0;
}

#define EX(f)	offsetof(struct ebb_export, f)
static const struct yt_key export_keys[] = {
	{ .name = "url", .type = YT_STRING, .required = 1, .offset = EX(url),
	  .check = check_export_url,
	  .doc = "endpoint final ledger rows are POSTed to (http or https)" },
	{ .name = "token_file", .type = YT_PATH, .offset = EX(token_file),
	  .doc = "file holding a bearer token, read before each POST" },
	{ .name = "ca_file", .type = YT_PATH, .offset = EX(ca_file),
	  .doc = "PEM file of the CAs an https endpoint's certificate must "
	  "chain to; default: the system's" },
	{ .name = "batch", .type = YT_INT, .min = 1, .max = 1000,
	  .offset = EX(batch), .doc = "most rows in one POST" },
	{ .name = "interval", .type = YT_DURATION, .min = 1, .max = 86400,
	  .offset = EX(interval),
	  .doc = "time between looks for newly final rows" },
	{ .name = "timeout", .type = YT_DURATION, .min = 1, .max = 600,
	  .offset = EX(timeout),
	  .doc = "limit for one POST, answer included" },
	{ .name = "max_backoff", .type = YT_DURATION, .min = 1, .max = 86400,
	  .offset = EX(max_backoff),
	  .doc = "longest wait between tries after failures" },
	{ .name = NULL },
};

static int
exports(const void *obj)
{
	return ((const struct ebb_config *)obj)->export.url != NULL;
}

static int
check_slot(const void *field, char *err, size_t errlen)
{
	int64_t v = *(const int64_t *)field;

	if (3600 % v != 0) {
		snprintf(err, errlen, "must divide an hour evenly (e.g. 5m, "
		    "15m, 30m)");
		return -1;
	}
	return 0;
}

static const struct yt_key config_keys[] = {
	{ .name = "state_dir", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, state_dir),
	  .doc = "directory of the job database and job files" },
	{ .name = "socket", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, socket),
	  .doc = "control socket path" },
	{ .name = "socket_group", .type = YT_STRING,
	  .offset = offsetof(struct ebb_config, socket_group),
	  .doc = "group owning the control socket" },
	{ .name = "socket_mode", .type = YT_MODE,
	  .offset = offsetof(struct ebb_config, socket_mode),
	  .doc = "permissions of the control socket" },
	{ .name = "admin_group", .type = YT_STRING,
	  .offset = offsetof(struct ebb_config, admin_group),
	  .doc = "members may act on every user's jobs" },
	{ .name = "runner", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, runner),
	  .doc = "path of ebb-run" },
	{ .name = "kill_grace", .type = YT_DURATION, .min = 0, .max = 86400,
	  .offset = offsetof(struct ebb_config, kill_grace),
	  .doc = "time between SIGTERM and SIGKILL on cancel" },
	{ .name = "user", .type = YT_STRING,
	  .offset = offsetof(struct ebb_config, user),
	  .doc = "as root: the user the unprivileged worker runs as" },
	{ .name = "output_limit", .type = YT_SIZE, .min = 0,
	  .max = INT64_MAX, .offset = offsetof(struct ebb_config, output_limit),
	  .doc = "bytes of a job's stdout and stderr each kept; 0: no limit" },
	{ .name = "root_jobs", .type = YT_BOOL,
	  .offset = offsetof(struct ebb_config, root_jobs),
	  .doc = "jobs submitted by root run as root" },
	{ .name = "log_level", .type = YT_ENUM, .choices = log_levels,
	  .offset = offsetof(struct ebb_config, log_level),
	  .doc = "error, warn, info or debug" },
	{ .name = "slot", .type = YT_DURATION, .min = 60, .max = 3600,
	  .offset = offsetof(struct ebb_config, slot), .check = check_slot,
	  .doc = "planning grid step; divides an hour" },
	{ .name = "max_gap", .type = YT_DURATION, .min = 0, .max = 86400,
	  .offset = offsetof(struct ebb_config, max_gap),
	  .doc = "longest gap in intensity data filled by interpolation" },
	{ .name = "policies", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, policies),
	  .doc = "policy file (docs/policies.md)" },
	{ .name = "planner", .type = YT_STRUCT, .sub = planner_keys,
	  .offset = offsetof(struct ebb_config, planner),
	  .doc = "how plans are weighed and bounded" },
	{ .name = "energy", .type = YT_STRUCT, .sub = energy_keys,
	  .offset = offsetof(struct ebb_config, energy),
	  .doc = "how job energy is measured and accounted" },
	{ .name = "metrics", .type = YT_STRUCT, .sub = metrics_keys,
	  .offset = offsetof(struct ebb_config, metrics),
	  .doc = "the Prometheus endpoint" },
	{ .name = "control", .type = YT_STRUCT, .sub = control_keys,
	  .offset = offsetof(struct ebb_config, control),
	  .doc = "what one client of the control socket may hold" },
	{ .name = "export", .type = YT_STRUCT, .sub = export_keys,
	  .offset = offsetof(struct ebb_config, export), .present = exports,
	  .doc = "push of final ledger rows to an HTTP endpoint" },
	{ .name = "sites", .type = YT_MAPLIST, .sub = site_keys,
	  .offset = offsetof(struct ebb_config, sites),
	  .elemsize = sizeof(struct ebb_site),
	  .count_offset = offsetof(struct ebb_config, nsites),
	  .init = site_init, .doc = "where jobs can run" },
	{ .name = NULL },
};

static void
site_init(void *p)
{
	struct ebb_site *s = p;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);

	s->backend = xstrdup("local");
	s->cpus = cpus > 0 ? (int)cpus : 1;
	s->memory = pages > 0 && pagesize > 0 ? (int64_t)pages * pagesize :
	    INT64_C(1) << 30;
	s->pue = 1.0;
	s->lifetime = INT64_C(4) * 365 * 86400;
	s->slurm.poll = 10;
	s->slurm.adopt = 1;
	s->kube.resync = 300;
	s->kube.prometheus_lag = 60;
	s->kube.start_timeout = 900;
	s->kube.adopt = 1;
	for (int i = 0; i < PROV_N; i++)
		provider_conf_defaults(&s->prov[i]);
}

/* $XDG_STATE_HOME/ebb, else ~/.local/state/ebb (malloc'd). */
static char *
user_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/ebb", xdg);
	if ((home == NULL || home[0] != '/') &&
	    (pw = getpwuid(geteuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.local/state/ebb", home ? home : "");
}

/*
 * The default site's carbon intensity: the bundled Electricity Maps 2023
 * trace for Germany (examples/traces, installed under share/ebb/traces),
 * replayed onto the present so ebb works offline out of the box.
 */
static void
default_carbon(struct ebb_site *s)
{
	static const char *const dirs[] = {
		EBB_DATADIR "/traces", EBB_SOURCE_DIR "/examples/traces",
	};
	struct provider_conf *p = &s->prov[PROV_TRACE];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *f = xasprintf("%s/%s", dirs[i], DEFAULT_TRACE);

		if (access(f, R_OK) == 0) {
			s->zone = xstrdup("DE");
			s->providers.v = xcalloc(2, sizeof(char *));
			s->providers.v[0] = xstrdup("trace");
			s->providers.n = 1;
			p->file = f;
			p->value_column = xstrdup(DEFAULT_TRACE_COLUMN);
			p->replay = 1;
			return;
		}
		free(f);
	}
}

/* Fills what the file left out. */
static void
fill_defaults(struct ebb_config *c)
{
	int root = geteuid() == 0;

	if (c->state_dir == NULL)
		c->state_dir = root ? xstrdup(SYSTEM_STATE_DIR) :
		    user_state_dir();
	if (c->socket == NULL)
		c->socket = root ? xstrdup(SYSTEM_SOCKET) :
		    xasprintf("%s/%s", c->state_dir, SOCKET_NAME);
	if (c->nsites == 0) {
		c->sites = xcalloc(1, sizeof(*c->sites));
		c->nsites = 1;
		site_init(&c->sites[0]);
		c->sites[0].name = xstrdup("local");
		default_carbon(&c->sites[0]);
	}
}

static struct ebb_config *
config_new(void)
{
	struct ebb_config *c = xcalloc(1, sizeof(*c));

	c->socket_mode = 0660;
	c->kill_grace = 10;
	c->user = xstrdup("ebb");
	c->output_limit = (int64_t)1 << 30;
	c->log_level = LOG_LVL_INFO;
	c->slot = 300;
	c->max_gap = 7200;
	c->planner.watts_per_cpu = 10;
	c->planner.safety_margin = 0.1;
	c->planner.safety_margin_max = 3600;
	c->planner.min_chunk = 900;
	c->planner.kwh_per_gb = 0.03;
	c->planner.delay_g_per_h = 0;
	c->planner.delay_swing = 0.02;
	c->planner.reserve = -1;		/* auto */
	c->planner.horizon = 48 * 3600;
	c->planner.replan = 900;
	c->energy.idle = 1;		/* proportional */
	c->energy.final_after = 86400;
	c->metrics.job_series = 500;
	c->metrics.job_linger = 600;
	c->control.max_connections = 512;
	c->control.max_per_user = 64;
	c->control.idle_timeout = 60;
	c->control.frame_timeout = 10;
	c->control.max_output = 1 << 20;
	c->export.batch = 100;
	c->export.interval = 60;
	c->export.timeout = 30;
	c->export.max_backoff = 300;
	return c;
}

struct ebb_config *
config_default(void)
{
	struct ebb_config *c = config_new();

	c->path = xstrdup("(default)");
	fill_defaults(c);
	return c;
}

void
config_free(struct ebb_config *c)
{
	if (c == NULL)
		return;
	yt_free_fields(config_keys, c);
	free(c->path);
	free(c);
}

/* A provider's signal: marginal for WattTime, the trace's own setting. */
static int
provider_signal(const struct ebb_site *s, int id)
{
	if (id == PROV_WATTTIME)
		return 1;
	return id == PROV_TRACE ? s->prov[PROV_TRACE].signal : 0;
}

/* Checks that span a site's keys: each listed provider is usable. */
static void
check_site_providers(struct yt_doc *d, const struct yt_node *map,
    const struct ebb_site *s)
{
	const struct yt_node *list = yt_get(map, "providers");

	for (int id = 0; id < PROV_N; id++) {
		const struct yt_node *blk = yt_get_key(map,
		    provider_names[id]);

		if (blk != NULL && !site_lists(s, (enum prov_id)id))
			yt_error(d, blk, "%s: settings for a provider that "
			    "'providers' does not list", provider_names[id]);
	}
	for (size_t i = 0; list != NULL && i < s->providers.n; i++) {
		int id = config_provider_id(s->providers.v[i]);
		const struct provider_conf *p;
		const struct yt_node *at;

		if (id < 0 || i >= list->nkids)
			continue;
		p = &s->prov[id];
		at = list->kids[i];
		if (id == PROV_TRACE && p->file == NULL)
			yt_error(d, at, "trace: needs a 'trace:' block with a "
			    "file");
		if ((id == PROV_ELECTRICITYMAPS || id == PROV_ENTSOE) &&
		    p->token_file == NULL && p->token_env == NULL)
			yt_error(d, at, "%s: needs token_file or token_env in "
			    "its '%s:' block", provider_names[id],
			    provider_names[id]);
		if (id == PROV_WATTTIME && (p->user == NULL ||
		    (p->password_file == NULL && p->password_env == NULL)))
			yt_error(d, at, "watttime: needs user and "
			    "password_file or password_env in its 'watttime:' "
			    "block");
		if (id != PROV_TRACE && s->zone == NULL && p->zone == NULL)
			yt_error(d, at, "%s: needs a zone (the site's zone or "
			    "%s.zone)", provider_names[id], provider_names[id]);
		if (provider_signal(s, id) != provider_signal(s,
		    config_provider_id(s->providers.v[0])))
			yt_error(d, at, "%s gives %s intensity but %s gives "
			    "%s; one site uses one signal", provider_names[id],
			    signals[provider_signal(s, id)],
			    s->providers.v[0], signals[provider_signal(s,
			    config_provider_id(s->providers.v[0]))]);
	}
}

const char *const config_slurm_commands[] = {
	"sbatch", "squeue", "scontrol", "scancel", "sacct", NULL,
};

char *
config_slurm_dir(const char *state_dir, const char *site,
    const struct ebb_slurm *sl)
{
	return sl->shared_dir ? xstrdup(sl->shared_dir) :
	    xasprintf("%s/slurm/%s", state_dir, site);
}

char *
config_slurm_command(const struct ebb_slurm *sl, const char *cmd)
{
	const char *path = sl->bin_dir ? sl->bin_dir : getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (path == NULL)
		path = "/usr/bin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir != NULL && found == NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", *dir ? dir : ".", cmd);

		if (access(f, X_OK) == 0)
			found = f;
		else
			free(f);
	}
	free(copy);
	return found;
}

/*
 * A slurm site has its commands, a kubernetes site its credentials; other
 * sites have no block of either.
 */
static void
check_site_backend(struct yt_doc *d, const struct yt_node *map,
    const struct ebb_site *s)
{
	const struct yt_node *blk = yt_get_key(map, "slurm");
	const struct yt_node *at = yt_get(map, "backend");
	const struct yt_node *kb = yt_get_key(map, "kubernetes");
	char missing[128] = "";

	if (!is_kube(s) && kb != NULL)
		yt_error(d, kb, "kubernetes: settings for a site whose "
		    "backend is not kubernetes");
	if (is_kube(s)) {
		if (kb == NULL)
			yt_error(d, at, "backend kubernetes needs a kubernetes "
			    "block (kubeconfig or in_cluster: true)");
		else if ((s->kube.kubeconfig == NULL) ==
		    (s->kube.in_cluster == 0))
			yt_error(d, kb, "kubernetes: set either kubeconfig or "
			    "in_cluster: true");
		else if (s->kube.kubeconfig != NULL &&
		    access(s->kube.kubeconfig, R_OK) == -1)
			yt_error(d, yt_get(yt_get(map, "kubernetes"),
			    "kubeconfig"), "kubeconfig: cannot read %s: %s",
			    s->kube.kubeconfig, strerror(errno));
	}
	if (!is_slurm(s)) {
		if (blk != NULL)
			yt_error(d, blk, "slurm: settings for a site whose "
			    "backend is not slurm");
		return;
	}
	for (const char *const *c = config_slurm_commands; *c; c++) {
		char *f = config_slurm_command(&s->slurm, *c);

		if (f == NULL)
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), "%s%s", missing[0] ? ", " : "",
			    *c);
		free(f);
	}
	if (missing[0] != '\0')
		yt_error(d, at, "slurm: %s not found in %s%s", missing,
		    s->slurm.bin_dir ? "slurm.bin_dir " : "$PATH",
		    s->slurm.bin_dir ? s->slurm.bin_dir :
		    " (install slurm-client or set slurm.bin_dir)");
	if (s->slurm.conf != NULL && access(s->slurm.conf, R_OK) == -1)
		yt_error(d, yt_get(yt_get(map, "slurm"), "conf"), "conf: "
		    "cannot read %s: %s", s->slurm.conf, strerror(errno));
}

/* Site checks that span entries: at least one, names unique. */
static void
check_sites(struct yt_doc *d, const struct ebb_config *c)
{
	const struct yt_node *sites = yt_get(yt_root(d), "sites");
	const struct yt_node **names;

	if (sites == NULL || sites->kind != YT_SEQ)
		return;
	if (sites->nkids == 0) {
		yt_error(d, sites, "sites: at least one site is required");
		return;
	}
	names = xcalloc(c->nsites + 1, sizeof(*names));
	for (size_t i = 0; i < c->nsites && i < sites->nkids; i++) {
		check_site_providers(d, sites->kids[i], &c->sites[i]);
		check_site_backend(d, sites->kids[i], &c->sites[i]);
		if (c->sites[i].name != NULL)
			names[i] = yt_get(sites->kids[i], "name");
	}
	yt_check_unique(d, names, c->nsites, "site name");
	free(names);
}

int
config_load(const char *path, struct ebb_config **out, char **errs)
{
	struct yt_doc *d = yt_load(path);
	struct ebb_config *c = config_new();
	char *abs;

	*out = NULL;
	*errs = NULL;
	if (yt_nerrors(d) == 0) {
		yt_decode(d, yt_root(d), config_keys, c);
		check_sites(d, c);
	}
	if (yt_nerrors(d) > 0) {
		*errs = yt_errors(d);
		yt_free(d);
		config_free(c);
		return -1;
	}
	if ((abs = realpath(path, NULL)) != NULL) {
		c->path = xstrdup(abs);
		free(abs);
	} else
		c->path = xstrdup(path);
	fill_defaults(c);
	yt_free(d);
	*out = c;
	return 0;
}

const struct ebb_site *
config_site(const struct ebb_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}

char *
config_client_socket(void)
{
	struct stat st;
	char *dir, *path;

	if (geteuid() == 0)
		return xstrdup(SYSTEM_SOCKET);
	dir = user_state_dir();
	path = xasprintf("%s/%s", dir, SOCKET_NAME);
	free(dir);
	if (stat(path, &st) == 0)
		return path;
	free(path);
	return xstrdup(SYSTEM_SOCKET);
}

char *
config_dump(const struct ebb_config *c)
{
	return yt_emit(config_keys, c);
}
