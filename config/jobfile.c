/*
 * jobfile: a job YAML file -> the JSON "job" object of a submit request
 * (see jobfile.h and docs/job-file.md).
 *
 * One yamltree table row per key, then the checks that involve more than
 * one key (command or argv, deadline or max_delay) or need positions inside
 * a value (env names). Only keys present in the file are emitted, so the
 * caller (ebb submit: workdir, env), the daemon and policies can fill in the
 * rest. The daemon validates the object again (job_from_submit); this file's
 * job is to say where in the YAML a mistake is.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/jobfile.h"
#include "config/yamltree.h"

#define MAX_NAME	128

struct jobspec {
	char			*name;
	char			*command;
	struct yt_strlist	 argv;
	int			 cpus;
	int			 gpus;
	int64_t			 mem;
	int64_t			 duration;
	int64_t			 deadline;
	int64_t			 max_delay;
	int64_t			 begin;
	struct yt_strlist	 sites;
	int			 interruptible;
	char			*workdir;
	char			*policy;
	struct yt_strmap	 env;
	struct yt_strlist	 tags;
	double			 power_w;
	double			 data_gb;
};

static int
check_name(const void *field, char *err, size_t errlen)
{
	if (strlen(*(char *const *)field) > MAX_NAME) {
		snprintf(err, errlen, "must be at most %d characters",
		    MAX_NAME);
		return -1;
	}
	return 0;
}

static const struct yt_key job_keys[] = {
	{ .name = "name", .type = YT_STRING, .check = check_name,
	  .offset = offsetof(struct jobspec, name),
	  .doc = "job name; default: the command's basename" },
	{ .name = "command", .type = YT_STRING,
	  .offset = offsetof(struct jobspec, command),
	  .doc = "shell command, run as /bin/sh -c COMMAND" },
	{ .name = "argv", .type = YT_STRLIST,
	  .offset = offsetof(struct jobspec, argv),
	  .doc = "program and arguments, run without a shell" },
	{ .name = "cpus", .type = YT_INT, .min = 1, .max = 4096,
	  .offset = offsetof(struct jobspec, cpus),
	  .doc = "CPUs the job needs" },
	{ .name = "gpus", .type = YT_INT, .min = 0, .max = JOB_GPUS_MAX,
	  .offset = offsetof(struct jobspec, gpus),
	  .doc = "GPUs the job needs" },
	{ .name = "mem", .type = YT_SIZE,
	  .offset = offsetof(struct jobspec, mem),
	  .doc = "memory limit" },
	{ .name = "duration", .type = YT_DURATION,
	  .offset = offsetof(struct jobspec, duration),
	  .doc = "run-time estimate" },
	{ .name = "deadline", .type = YT_TIME,
	  .offset = offsetof(struct jobspec, deadline),
	  .doc = "latest end, ISO-8601 or now+DURATION" },
	{ .name = "max_delay", .type = YT_DURATION,
	  .offset = offsetof(struct jobspec, max_delay),
	  .doc = "latest start after submission (or begin)" },
	{ .name = "begin", .type = YT_TIME,
	  .offset = offsetof(struct jobspec, begin),
	  .doc = "earliest start, ISO-8601 or now+DURATION" },
	{ .name = "sites", .type = YT_STRLIST,
	  .offset = offsetof(struct jobspec, sites),
	  .doc = "sites the job may run at; default: any" },
	{ .name = "interruptible", .type = YT_BOOL,
	  .offset = offsetof(struct jobspec, interruptible),
	  .doc = "may be paused and resumed" },
	{ .name = "workdir", .type = YT_PATH,
	  .offset = offsetof(struct jobspec, workdir),
	  .doc = "working directory; default: where ebb submit runs" },
	{ .name = "policy", .type = YT_STRING,
	  .offset = offsetof(struct jobspec, policy),
	  .doc = "policy to apply" },
	{ .name = "env", .type = YT_STRMAP,
	  .offset = offsetof(struct jobspec, env),
	  .doc = "environment variables, NAME: value" },
	{ .name = "tags", .type = YT_STRLIST,
	  .offset = offsetof(struct jobspec, tags),
	  .doc = "labels policies match on" },
	{ .name = "power_w", .type = YT_FLOAT, .fmin = 0, .fmax = 1e6,
	  .offset = offsetof(struct jobspec, power_w),
	  .doc = "expected mean power, W; default: cpus x watts_per_cpu" },
	{ .name = "data_gb", .type = YT_FLOAT, .fmin = 0, .fmax = 1e9,
	  .offset = offsetof(struct jobspec, data_gb),
	  .doc = "data moved if the job runs away from its first site" },
	{ .name = NULL },
};

static void
check_command(struct yt_doc *d, const struct jobspec *j)
{
	const struct yt_node *root = yt_root(d);
	const struct yt_node *cmd = yt_get_key(root, "command");
	const struct yt_node *argv = yt_get_key(root, "argv");
	const struct yt_node *v;

	if (cmd == NULL && argv == NULL) {
		yt_error(d, root, "missing 'command' or 'argv' (give one)");
		return;
	}
	if (cmd != NULL && argv != NULL) {
		yt_error(d, cmd->line > argv->line ? cmd : argv,
		    "give 'command' or 'argv', not both");
		return;
	}
	if (cmd != NULL && j->command != NULL && j->command[0] == '\0')
		yt_error(d, yt_get(root, "command"), "command: must not be "
		    "empty");
	v = yt_get(root, "argv");
	if (argv == NULL || v->kind != YT_SEQ)
		return;
	if (v->nkids == 0)
		yt_error(d, v, "argv: must not be empty");
	else if (j->argv.n > 0 && j->argv.v[0][0] == '\0')
		yt_error(d, v->kids[0], "argv: the first entry must name a "
		    "program");
}

static void
check_env(struct yt_doc *d)
{
	const struct yt_node *env = yt_get(yt_root(d), "env");

	if (env == NULL || env->kind != YT_MAP)
		return;
	for (size_t i = 0; i < env->nkids; i += 2) {
		const char *k = env->kids[i]->text;

		if (k[0] == '\0' || strchr(k, '=') != NULL)
			yt_error(d, env->kids[i], "env: '%s' is not a valid "
			    "variable name", k);
	}
}

static void
check_times(struct yt_doc *d, const struct jobspec *j, int64_t now)
{
	const struct yt_node *root = yt_root(d);
	const struct yt_node *dl = yt_get(root, "deadline");
	const struct yt_node *md = yt_get_key(root, "max_delay");
	char t1[32], t2[32];

	if (dl == NULL || j->deadline == 0)
		return;
	if (md != NULL)
		yt_error(d, md->line > dl->line ? md : yt_get_key(root,
		    "deadline"), "give 'deadline' or 'max_delay', not both");
	if (j->deadline <= now)
		yt_error(d, dl, "deadline: %s is in the past",
		    ebb_fmt_time(j->deadline, t1, sizeof(t1)));
	else if (now + j->duration > j->deadline)
		yt_error(d, dl, "deadline: %s is too soon for a duration of %s",
		    ebb_fmt_time(j->deadline, t1, sizeof(t1)),
		    ebb_fmt_duration(j->duration, t2, sizeof(t2)));
}

/* The submit object: the keys present in the file. */
static json_t *
to_json(const struct yt_node *root, const struct jobspec *j)
{
	json_t *o = json_object(), *a;

	if (j->name != NULL)
		json_object_set_new(o, "name", json_string(j->name));
	if (j->command != NULL) {
		a = json_array();
		json_array_append_new(a, json_string("/bin/sh"));
		json_array_append_new(a, json_string("-c"));
		json_array_append_new(a, json_string(j->command));
		json_object_set_new(o, "argv", a);
	} else
		json_object_set_new(o, "argv", yt_strlist_json(&j->argv));
	if (yt_get(root, "env") != NULL) {
		a = json_array();
		for (size_t i = 0; i < j->env.n; i++) {
			char *kv = xasprintf("%s=%s", j->env.keys[i],
			    j->env.values[i]);

			json_array_append_new(a, json_string(kv));
			free(kv);
		}
		json_object_set_new(o, "env", a);
	}
	if (j->workdir != NULL)
		json_object_set_new(o, "workdir", json_string(j->workdir));
	if (yt_get(root, "cpus") != NULL)
		json_object_set_new(o, "cpus", json_integer(j->cpus));
	if (yt_get(root, "gpus") != NULL)
		json_object_set_new(o, "gpus", json_integer(j->gpus));
	if (yt_get(root, "begin") != NULL)
		json_object_set_new(o, "begin", json_integer(j->begin));
	if (yt_get(root, "mem") != NULL)
		json_object_set_new(o, "mem", json_integer(j->mem));
	if (yt_get(root, "duration") != NULL)
		json_object_set_new(o, "duration", json_integer(j->duration));
	if (yt_get(root, "deadline") != NULL)
		json_object_set_new(o, "deadline", json_integer(j->deadline));
	if (yt_get(root, "max_delay") != NULL)
		json_object_set_new(o, "max_delay",
		    json_integer(j->max_delay));
	if (yt_get(root, "sites") != NULL)
		json_object_set_new(o, "sites", yt_strlist_json(&j->sites));
	if (yt_get(root, "interruptible") != NULL)
		json_object_set_new(o, "interruptible",
		    json_boolean(j->interruptible));
	if (j->policy != NULL)
		json_object_set_new(o, "policy", json_string(j->policy));
	if (yt_get(root, "tags") != NULL)
		json_object_set_new(o, "tags", yt_strlist_json(&j->tags));
	if (yt_get(root, "power_w") != NULL)
		json_object_set_new(o, "power_w", json_real(j->power_w));
	if (yt_get(root, "data_gb") != NULL)
		json_object_set_new(o, "data_gb", json_real(j->data_gb));
	return o;
}

/*---- A Kubernetes Job as the job file (a Kubernetes site's job) ----*/

/*
 * The part of a batch/v1 Job ebb takes: one container's image, command,
 * args, env values and cpu/memory, the Job's name, and its ebb.dev/
 * annotations. Anything else (volumes, host access, security contexts,
 * service accounts, init containers ...) is refused by the key tables with
 * its position: the pod ebb creates runs as the submitter and nothing a
 * file says may change that (docs/kubernetes.md).
 */
struct kenv {
	char	*name, *value;
};

struct kres {
	struct yt_strmap requests, limits;
};

struct kctr {
	char			*name, *image;
	struct yt_strlist	 command, args;
	struct kenv		*env;
	size_t			 nenv;
	struct kres		 res;
};

struct kmeta {
	char			*name;
	struct yt_strmap	 labels, annotations;
};

struct kjob {
	char			*api, *kind;
	struct kmeta		 md, tmd;
	int			 suspend;
	int64_t			 backoff, ttl;
	struct kctr		*ctr;
	size_t			 nctr;
	char			*restart;
};

static const struct yt_key kenv_keys[] = {
	{ .name = "name", .type = YT_STRING, .required = 1,
	  .offset = offsetof(struct kenv, name) },
	{ .name = "value", .type = YT_STRING,
	  .offset = offsetof(struct kenv, value) },
	{ .name = NULL },
};

static const struct yt_key kres_keys[] = {
	{ .name = "requests", .type = YT_STRMAP,
	  .offset = offsetof(struct kres, requests) },
	{ .name = "limits", .type = YT_STRMAP,
	  .offset = offsetof(struct kres, limits) },
	{ .name = NULL },
};

static const struct yt_key kctr_keys[] = {
	{ .name = "name", .type = YT_STRING,
	  .offset = offsetof(struct kctr, name) },
	{ .name = "image", .type = YT_STRING, .required = 1,
	  .offset = offsetof(struct kctr, image) },
	{ .name = "command", .type = YT_STRLIST,
	  .offset = offsetof(struct kctr, command) },
	{ .name = "args", .type = YT_STRLIST,
	  .offset = offsetof(struct kctr, args) },
	{ .name = "env", .type = YT_MAPLIST, .sub = kenv_keys,
	  .offset = offsetof(struct kctr, env), .elemsize =
	  sizeof(struct kenv), .count_offset = offsetof(struct kctr, nenv) },
	{ .name = "resources", .type = YT_STRUCT, .sub = kres_keys,
	  .offset = offsetof(struct kctr, res) },
	{ .name = NULL },
};

static const struct yt_key kmeta_keys[] = {
	{ .name = "name", .type = YT_STRING, .check = check_name,
	  .offset = offsetof(struct kmeta, name) },
	{ .name = "labels", .type = YT_STRMAP,
	  .offset = offsetof(struct kmeta, labels) },
	{ .name = "annotations", .type = YT_STRMAP,
	  .offset = offsetof(struct kmeta, annotations) },
	{ .name = NULL },
};

#define KP(f)	offsetof(struct kjob, f)
static const struct yt_key kpod_keys[] = {
	{ .name = "containers", .type = YT_MAPLIST, .required = 1,
	  .sub = kctr_keys, .offset = KP(ctr), .elemsize = sizeof(struct kctr),
	  .count_offset = KP(nctr) },
	{ .name = "restartPolicy", .type = YT_STRING, .offset = KP(restart) },
	{ .name = NULL },
};

/* spec.template.spec is decoded into the same struct (offsets of kjob). */
static const struct yt_key ktmpl_keys[] = {
	{ .name = "metadata", .type = YT_STRUCT, .sub = kmeta_keys,
	  .offset = KP(tmd) },
	{ .name = "spec", .type = YT_STRUCT, .required = 1, .sub = kpod_keys,
	  .offset = 0 },
	{ .name = NULL },
};

static const struct yt_key kspec_keys[] = {
	{ .name = "template", .type = YT_STRUCT, .required = 1,
	  .sub = ktmpl_keys, .offset = 0 },
	{ .name = "suspend", .type = YT_BOOL, .offset = KP(suspend) },
	{ .name = "backoffLimit", .type = YT_INT64, .offset = KP(backoff) },
	{ .name = "ttlSecondsAfterFinished", .type = YT_INT64,
	  .offset = KP(ttl) },
	{ .name = NULL },
};

static const struct yt_key kjob_keys[] = {
	{ .name = "apiVersion", .type = YT_STRING, .required = 1,
	  .offset = KP(api) },
	{ .name = "kind", .type = YT_STRING, .required = 1, .offset = KP(kind) },
	{ .name = "metadata", .type = YT_STRUCT, .sub = kmeta_keys,
	  .offset = KP(md) },
	{ .name = "spec", .type = YT_STRUCT, .required = 1, .sub = kspec_keys,
	  .offset = 0 },
	{ .name = NULL },
};

static int
is_kube_job(const struct yt_node *root)
{
	const struct yt_node *k = yt_get(root, "kind");

	return k != NULL && k->kind == YT_SCALAR && strcmp(k->text, "Job") ==
	    0 && yt_get(root, "apiVersion") != NULL;
}

int
jobfile_quantity(const char *s, double *out)
{
	static const struct {
		const char *sfx;
		double mul;
	} u[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "Ti", 1099511627776.0 }, { "m", 1e-3 }, { "k", 1e3 },
		{ "K", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
		{ "", 1.0 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v > 0) || !(v < 1e18))
		return -1;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (strcmp(end, u[i].sfx) == 0) {
			*out = v * u[i].mul;
			return 0;
		}
	return -1;
}

/* The node of annotation key under the Job's metadata, for messages. */
static const struct yt_node *
annot(const struct yt_node *root, const char *key)
{
	return yt_get(yt_get(yt_get(root, "metadata"), "annotations"), key);
}

static json_t *
kube_job(struct yt_doc *d, int64_t now)
{
	const struct yt_node *root = yt_root(d), *n;
	const struct yt_node *ctrn = yt_get(yt_get(yt_get(yt_get(root, "spec"),
	    "template"), "spec"), "containers");
	struct kjob k = { 0 };
	json_t *o = NULL, *argv, *env;
	struct kctr *c;
	char err[256];
	const char *v;
	int64_t t;
	double q;

	yt_decode(d, root, kjob_keys, &k);
	if (yt_nerrors(d) > 0)
		goto out;
	if (strcmp(k.api, "batch/v1") != 0)
		yt_error(d, yt_get(root, "apiVersion"), "apiVersion: a Job "
		    "template must be batch/v1, got '%s'", k.api);
	if (k.nctr != 1) {
		yt_error(d, ctrn, "containers: ebb runs exactly one container, "
		    "got %zu", k.nctr);
		goto out;
	}
	c = &k.ctr[0];
	if (k.restart != NULL && strcmp(k.restart, "Never") != 0 &&
	    strcmp(k.restart, "OnFailure") != 0)
		yt_error(d, yt_get(yt_get(yt_get(yt_get(root, "spec"),
		    "template"), "spec"), "restartPolicy"), "restartPolicy: "
		    "Never or OnFailure, got '%s'", k.restart);
	if (c->command.n == 0) {
		yt_error(d, ctrn->kids[0], "command: required (ebb runs the "
		    "command you give, not the image's entrypoint)");
		goto out;
	}
	o = json_object();
	argv = json_array();
	for (size_t i = 0; i < c->command.n; i++)
		json_array_append_new(argv, json_string(c->command.v[i]));
	for (size_t i = 0; i < c->args.n; i++)
		json_array_append_new(argv, json_string(c->args.v[i]));
	json_object_set_new(o, "argv", argv);
	json_object_set_new(o, "image", json_string(c->image));
	if (k.md.name != NULL)
		json_object_set_new(o, "name", json_string(k.md.name));
	env = json_array();
	for (size_t i = 0; i < c->nenv; i++) {
		char *kv = xasprintf("%s=%s", c->env[i].name, c->env[i].value ?
		    c->env[i].value : "");

		json_array_append_new(env, json_string(kv));
		free(kv);
	}
	json_object_set_new(o, "env", env);
	for (size_t i = 0; i < c->res.limits.n + c->res.requests.n; i++) {
		int lim = i < c->res.limits.n;
		const char *key = lim ? c->res.limits.keys[i] :
		    c->res.requests.keys[i - c->res.limits.n];
		const char *val = lim ? c->res.limits.values[i] :
		    c->res.requests.values[i - c->res.limits.n];
		const struct yt_node *at = yt_get(yt_get(yt_get(ctrn->kids[0],
		    "resources"), lim ? "limits" : "requests"), key);

		if (strcmp(key, "cpu") != 0 && strcmp(key, "memory") != 0) {
			yt_error(d, at, "%s: ebb sets cpu and memory only",
			    key);
			continue;
		}
		if (jobfile_quantity(val, &q) == -1) {
			yt_error(d, at, "%s: bad quantity '%s'", key, val);
			continue;
		}
		/* Limits win over requests: they are what the Job gets. */
		if (strcmp(key, "cpu") == 0 && (lim || json_object_get(o,
		    "cpus") == NULL))
			json_object_set_new(o, "cpus", json_integer(
			    (json_int_t)ceil(q - 1e-9)));
		else if (strcmp(key, "memory") == 0 && (lim ||
		    json_object_get(o, "mem") == NULL))
			json_object_set_new(o, "mem", json_integer(
			    (json_int_t)ceil(q)));
	}
	for (size_t i = 0; i < k.md.annotations.n; i++) {
		const char *key = k.md.annotations.keys[i];

		v = k.md.annotations.values[i];
		n = annot(root, key);
		err[0] = '\0';
		if (strncmp(key, "ebb.dev/", 8) != 0)
			continue;
		key += 8;
		if (strcmp(key, "max-delay") == 0 || strcmp(key, "duration") ==
		    0) {
			if (ebb_parse_duration(v, &t, err, sizeof(err)) == 0)
				json_object_set_new(o, key[0] == 'm' ?
				    "max_delay" : "duration", json_integer(t));
		} else if (strcmp(key, "deadline") == 0) {
			if (ebb_parse_time(v, now, &t, err, sizeof(err)) == 0)
				json_object_set_new(o, "deadline",
				    json_integer(t));
		} else if (strcmp(key, "sites") == 0) {
			json_t *sites = json_array();
			char *copy = xstrdup(v), *p = copy, *s1;

			while ((s1 = strsep(&p, ",")) != NULL)
				if (*s1 != '\0')
					json_array_append_new(sites,
					    json_string(s1));
			free(copy);
			json_object_set_new(o, "sites", sites);
		} else
			snprintf(err, sizeof(err), "unknown ebb annotation "
			    "(known: max-delay, duration, deadline, sites)");
		if (err[0] != '\0')
			yt_error(d, n, "ebb.dev/%s: %s", key, err);
	}
out:
	yt_free_fields(kjob_keys, &k);
	if (yt_nerrors(d) > 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
jobfile_load(const char *path, int64_t now, char **errs)
{
	struct yt_doc *d = yt_load(path);
	struct jobspec j = { .cpus = 1 };
	json_t *o = NULL;

	*errs = NULL;
	yt_set_now(d, now);
	if (yt_nerrors(d) == 0 && yt_root(d) != NULL &&
	    yt_root(d)->kind == YT_MAP && is_kube_job(yt_root(d))) {
		if ((o = kube_job(d, now)) == NULL)
			*errs = yt_errors(d);
		yt_free(d);
		return o;
	}
	if (yt_nerrors(d) == 0 && (yt_root(d) == NULL ||
	    yt_root(d)->kind == YT_MAP)) {
		yt_decode(d, yt_root(d), job_keys, &j);
		check_command(d, &j);
		check_env(d);
		check_times(d, &j, now);
	}
	else if (yt_nerrors(d) == 0)
		yt_decode(d, yt_root(d), job_keys, &j);
	if (yt_nerrors(d) > 0)
		*errs = yt_errors(d);
	else
		o = to_json(yt_root(d), &j);
	yt_free_fields(job_keys, &j);
	yt_free(d);
	return o;
}
