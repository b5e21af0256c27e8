/*
 * cmd_submit: `ebb submit`, turning options, a job file and a command into
 * a submit request.
 *
 * submit_build() is the whole translation (pure apart from reading the job
 * file): option values are parsed with common/timefmt.h, a job file is
 * read with config/jobfile.h, options override the file's values, and the
 * result is checked with job_from_submit(), the same validator the daemon
 * runs, so a bad request gets the daemon's words before it is sent. It does
 * not apply policies or pick sites: ebbd does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/jobfile.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/script.h"

#define SCRIPT_HEAD	(64 * 1024)	/* bytes of a script read for
					   directives */

enum {
	O_NAME = 256, O_CPUS, O_MEM, O_DURATION, O_DEADLINE, O_MAX_DELAY,
	O_SITE, O_INTR, O_NO_INTR, O_WORKDIR, O_POLICY, O_EXPORT, O_TAG,
	O_POWER, O_DATA, O_IMAGE, O_BEGIN, O_GPUS,
};

/* Sets NAME=VALUE (kv) in env, replacing an earlier NAME. */
static void
env_set(json_t *env, const char *kv)
{
	size_t n = strcspn(kv, "=") + 1, i;
	json_t *e;

	json_array_foreach(env, i, e)
		if (strncmp(json_string_value(e), kv, n) == 0) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	json_array_append_new(env, json_string(kv));
}

/*
 * The job's environment from an --export spec and a job file's env (or
 * NULL): the spec's leading ALL (the caller's whole environment) or NONE
 * (nothing; also what a spec without either starts from), then the file's
 * variables, then the spec's NAME (copied from the caller's environment
 * when set there) and NAME=VALUE items, comma-separated, later ones
 * replacing earlier ones.
 */
static int
build_env(struct cli *c, const char *spec, const json_t *fileenv,
    json_t **out)
{
	char *copy = xstrdup(spec), *item, *rest = copy, *kv;
	json_t *env = json_array(), *e;
	const char *val;
	int rc = CLI_OK;
	size_t i;

	item = strsep(&rest, ",");
	if (strcmp(item, "ALL") == 0) {
		for (char **p = c->envp; p && *p; p++)
			if (**p != '=' && strchr(*p, '='))
				env_set(env, *p);
		item = strsep(&rest, ",");
	} else if (strcmp(item, "NONE") == 0)
		item = strsep(&rest, ",");
	json_array_foreach(fileenv, i, e)
		if (json_is_string(e))
			env_set(env, json_string_value(e));
	for (; rc == CLI_OK && item != NULL; item = strsep(&rest, ",")) {
		if (strcmp(item, "ALL") == 0 || strcmp(item, "NONE") == 0)
			rc = cli_usage_error(c, "--export: %s must come first "
			    "in '%s'", item, spec);
		else if (item[0] == '\0' || item[0] == '=')
			rc = cli_usage_error(c, "--export: bad item '%s' in "
			    "'%s' (use ALL, NONE, NAME or NAME=VALUE)", item,
			    spec);
		else if (strchr(item, '=') != NULL)
			env_set(env, item);
		else if ((val = cli_getenv(c, item)) != NULL) {
			kv = xasprintf("%s=%s", item, val);
			env_set(env, kv);
			free(kv);
		}
	}
	free(copy);
	if (rc != CLI_OK) {
		json_decref(env);
		return rc;
	}
	*out = env;
	return CLI_OK;
}

/* A comma-separated list of names for option opt ("--site", "--tag"). */
static int
split_list(struct cli *c, const char *opt, const char *spec, json_t **out)
{
	char *copy = xstrdup(spec), *item, *rest = copy;
	json_t *sites = json_array();

	while ((item = strsep(&rest, ",")) != NULL) {
		if (*item == '\0') {
			free(copy);
			json_decref(sites);
			return cli_usage_error(c, "%s: empty %s in '%s'", opt,
			    strcmp(opt, "--site") == 0 ? "site name" : "tag",
			    spec);
		}
		json_array_append_new(sites, json_string(item));
	}
	free(copy);
	*out = sites;
	return CLI_OK;
}

static const struct option opts[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "name", required_argument, NULL, O_NAME },
	{ "cpus", required_argument, NULL, O_CPUS },
	{ "gpus", required_argument, NULL, O_GPUS },
	{ "mem", required_argument, NULL, O_MEM },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "deadline", required_argument, NULL, O_DEADLINE },
	{ "begin", required_argument, NULL, O_BEGIN },
	{ "max-delay", required_argument, NULL, O_MAX_DELAY },
	{ "site", required_argument, NULL, O_SITE },
	{ "interruptible", no_argument, NULL, O_INTR },
	{ "no-interruptible", no_argument, NULL, O_NO_INTR },
	{ "workdir", required_argument, NULL, O_WORKDIR },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "image", required_argument, NULL, O_IMAGE },
	{ "tag", required_argument, NULL, O_TAG },
	{ "power", required_argument, NULL, O_POWER },
	{ "data", required_argument, NULL, O_DATA },
	{ "export", required_argument, NULL, O_EXPORT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parses one option's value into over; returns an exit status. */
static int
parse_value(struct cli *c, int opt, const char *arg, json_t *over)
{
	char err[256], *end;
	int64_t v;
	json_t *sites = NULL;
	long n;

	switch (opt) {
	case O_NAME:
		json_object_set_new(over, "name", json_string(arg));
		return CLI_OK;
	case O_POLICY:
		json_object_set_new(over, "policy", json_string(arg));
		return CLI_OK;
	case O_IMAGE:
		json_object_set_new(over, "image", json_string(arg));
		return CLI_OK;
	case O_TAG:
		if (split_list(c, "--tag", arg, &sites) != CLI_OK)
			return CLI_USAGE;
		json_object_set_new(over, "tags", sites);
		return CLI_OK;
	case O_POWER:
	case O_DATA: {
		double d = strtod(arg, &end);

		if (end == arg || *end != '\0' || !(d >= 0) || d > 1e6)
			return cli_usage_error(c, "%s: bad number '%s'",
			    opt == O_POWER ? "--power" : "--data", arg);
		json_object_set_new(over, opt == O_POWER ? "power_w" :
		    "data_gb", json_real(d));
		return CLI_OK;
	}
	case O_CPUS:
		n = strtol(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || n < 1 ||
		    n > 4096)
			return cli_usage_error(c, "--cpus: bad number '%s' (use "
			    "1 to 4096)", arg);
		json_object_set_new(over, "cpus", json_integer(n));
		return CLI_OK;
	case O_GPUS:
		n = strtol(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || n < 0 ||
		    n > JOB_GPUS_MAX)
			return cli_usage_error(c, "--gpus: bad number '%s' (use "
			    "0 to %d)", arg, JOB_GPUS_MAX);
		json_object_set_new(over, "gpus", json_integer(n));
		return CLI_OK;
	case O_MEM:
		if (ebb_parse_size(arg, &v, err, sizeof(err)) == -1)
			return cli_usage_error(c, "--mem: %s", err);
		json_object_set_new(over, "mem", json_integer(v));
		return CLI_OK;
	case O_DURATION:
		if (ebb_parse_duration(arg, &v, err, sizeof(err)) == -1)
			return cli_usage_error(c, "--duration: %s", err);
		json_object_set_new(over, "duration", json_integer(v));
		return CLI_OK;
	case O_MAX_DELAY:
		if (ebb_parse_duration(arg, &v, err, sizeof(err)) == -1)
			return cli_usage_error(c, "--max-delay: %s", err);
		json_object_set_new(over, "max_delay", json_integer(v));
		return CLI_OK;
	case O_DEADLINE:
	case O_BEGIN:
		if (ebb_parse_time(arg, c->now, &v, err, sizeof(err)) == -1)
			return cli_usage_error(c, "--%s: %s", opt == O_BEGIN ?
			    "begin" : "deadline", err);
		json_object_set_new(over, opt == O_BEGIN ? "begin" :
		    "deadline", json_integer(v));
		return CLI_OK;
	case O_SITE:
		if (split_list(c, "--site", arg, &sites) != CLI_OK)
			return CLI_USAGE;
		json_object_set_new(over, "sites", sites);
		return CLI_OK;
	case O_INTR:
	case O_NO_INTR:
		json_object_set_new(over, "interruptible",
		    json_boolean(opt == O_INTR));
		return CLI_OK;
	case O_WORKDIR:
		if (arg[0] == '/') {
			json_object_set_new(over, "workdir", json_string(arg));
			return CLI_OK;
		}
		if (c->cwd == NULL)
			return cli_fail(c, "--workdir: cannot tell the current "
			    "directory to resolve '%s'", arg);
		json_object_set_new(over, "workdir", json_sprintf("%s%s%s",
		    c->cwd, strcmp(c->cwd, "/") == 0 ? "" : "/", arg));
		return CLI_OK;
	}
	return CLI_USAGE;
}

/* The job file's object, or NULL after printing its errors. */
static json_t *
load_file(struct cli *c, const char *path)
{
	char *errs = NULL, *line, *rest;
	json_t *job;

	if ((job = jobfile_load(path, c->now, &errs)) != NULL)
		return job;
	rest = errs;
	while ((line = strsep(&rest, "\n")) != NULL)
		if (*line != '\0')
			cli_usage_error(c, "%s", line);
	free(errs);
	return NULL;
}

/* top over base, a deadline replacing a max_delay and the other way. */
static void
overlay(json_t *base, json_t *top)
{
	if (json_object_get(top, "deadline") != NULL)
		json_object_del(base, "max_delay");
	if (json_object_get(top, "max_delay") != NULL)
		json_object_del(base, "deadline");
	json_object_update(base, top);
}

/* name made absolute against the current directory; new string or NULL. */
static char *
absolute(struct cli *c, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	if (c->cwd == NULL)
		return NULL;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return xasprintf("%s%s%s", c->cwd, strcmp(c->cwd, "/") == 0 ? "" : "/",
	    name);
}

/*
 * The first SCRIPT_HEAD bytes of the file at path (as the caller, who is
 * the user) if it starts with "#!"; NULL otherwise.
 */
static char *
script_head(const char *path, size_t *len)
{
	char *buf = NULL;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return NULL;
	buf = xmalloc(SCRIPT_HEAD);
	*len = 0;
	while (*len < SCRIPT_HEAD && (n = read(fd, buf + *len,
	    SCRIPT_HEAD - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (*len < 2 || buf[0] != '#' || buf[1] != '!') {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The script argv[0] names, made absolute in argv, as sbatch finds it: a
 * path with a '/', or a file in the current directory that starts with
 * "#!". NULL when argv[0] is a command to look up in PATH.
 */
static char *
find_script(struct cli *c, json_t *av, char **written)
{
	const char *name = json_string_value(json_array_get(av, 0));
	struct stat st;
	char *path, *head;
	size_t len;

	if (name == NULL || (path = absolute(c, name)) == NULL)
		return NULL;
	if (strchr(name, '/') == NULL) {
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    (head = script_head(path, &len)) == NULL) {
			free(path);
			return NULL;
		}
		free(head);
	}
	*written = xstrdup(name);
	json_array_set_new(av, 0, json_string(path));
	return path;
}

/*
 * Reads script's directives into dir (and --export into *export, newly
 * allocated); returns an exit status. The command line overrides them.
 */
static int
read_directives(struct cli *c, const char *script, const char *shown,
    json_t *dir, char **export)
{
	struct script sc;
	char err[256], *head, where[64];
	size_t len;
	int rc = CLI_OK;

	if ((head = script_head(script, &len)) == NULL)
		return CLI_OK;
	if (script_scan(head, len, &sc, err, sizeof(err)) == -1) {
		free(head);
		return cli_usage_error(c, "%s:%s", shown, err);
	}
	free(head);
	for (size_t i = 0; i < sc.n && rc == CLI_OK; i++) {
		const struct directive *d = &sc.d[i];
		const struct option *o;

		snprintf(where, sizeof(where), "%d:%d", d->line, d->col);
		if (d->note != NULL) {
			fprintf(c->err, "ebb submit: %s:%s: %s\n", shown, where,
			    d->note);
			continue;
		}
		for (o = opts; o->name != NULL; o++)
			if (strcmp(o->name, d->opt) == 0)
				break;
		if (o->name == NULL || o->val < O_NAME)
			rc = cli_usage_error(c, "%s:%s: --%s is not a "
			    "directive (see ebb submit --help)", shown, where,
			    d->opt);
		else if ((o->has_arg == required_argument) != (d->value !=
		    NULL))
			rc = cli_usage_error(c, "%s:%s: --%s %s", shown,
			    where, d->opt, d->value == NULL ? "needs a value" :
			    "takes no value");
		else if (o->val == O_EXPORT) {
			free(*export);
			*export = xstrdup(d->value);
		} else {
			c->where = where;
			c->where_file = shown;
			rc = parse_value(c, o->val, d->value, dir);
			c->where = c->where_file = NULL;
		}
	}
	script_free(&sc);
	return rc;
}

/*
 * Checks at submit that the job's command will start: a path must be an
 * executable file, a bare name must be found in the job's PATH (the
 * runner's default when the job has none). Returns an exit status.
 */
static int
check_command(struct cli *c, const json_t *job, const char *shown)
{
	const char *name = json_string_value(json_array_get(
	    json_object_get(job, "argv"), 0)), *path = NULL, *e;
	char *copy, *dir, *rest, *p;
	struct stat st;
	size_t i;
	json_t *v;
	int found = 0;

	if (name == NULL || json_object_get(job, "image") != NULL)
		return CLI_OK;	/* the job's validator / the container's */
	if (strchr(name, '/') != NULL) {
		if (shown == NULL)
			shown = name;
		if (stat(name, &st) == -1)
			return cli_usage_error(c, "%s: %s", shown,
			    strerror(errno));
		if (!S_ISREG(st.st_mode) || access(name, X_OK) == -1)
			return cli_usage_error(c, "%s: not an executable file "
			    "(chmod +x it, or submit 'sh %s')", shown, shown);
		return CLI_OK;
	}
	json_array_foreach(json_object_get(job, "env"), i, v)
		if ((e = json_string_value(v)) != NULL &&
		    strncmp(e, "PATH=", 5) == 0)
			path = e + 5;
	copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	rest = copy;
	while (!found && (dir = strsep(&rest, ":")) != NULL) {
		p = xasprintf("%s/%s", *dir ? dir : ".", name);
		found = stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	if (!found)
		return cli_usage_error(c, "%s: command not found in the job's "
		    "PATH (give its path, e.g. ./%s)", name, name);
	return CLI_OK;
}

int
submit_build(struct cli *c, int argc, char **argv, json_t **jobp, int *flags)
{
	json_t *over = json_object(), *dir = json_object(), *job = NULL;
	json_t *cmd, *env;
	const char *file = NULL, *export = NULL;
	char *dir_export = NULL, *script = NULL, *shown = NULL;
	struct job *checked;
	char err[512];
	int ch, rc = CLI_USAGE;

	*jobp = NULL;
	*flags = 0;
	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, "+:f:qh", opts)) != -1) {
		if (ch == 'f')
			file = optarg;
		else if (ch == 'q')
			*flags |= SUBMIT_QUIET;
		else if (ch == 'j')
			*flags |= SUBMIT_JSON;
		else if (ch == 'n')
			*flags |= SUBMIT_DRY_RUN;
		else if (ch == 'h') {
			rc = cli_help(c);
			goto out;
		} else if (ch == O_EXPORT)
			export = optarg;
		else if (ch == '?' ||
		    (rc = parse_value(c, ch, optarg, over)) != CLI_OK)
			goto out;
	}
	rc = CLI_USAGE;
	if (optind < argc) {
		cmd = json_array();
		for (int i = optind; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(over, "argv", cmd);
	} else if (file == NULL) {
		cli_usage_error(c, "a command or a script is required (ebb "
		    "submit [options] job.sh, or -- CMD [ARGS...])");
		goto out;
	}
	if (file != NULL) {
		if ((job = load_file(c, file)) == NULL)
			goto out;
	} else
		job = json_object();
	/* A batch script: its #EBB and #SBATCH lines, then the command line
	 * over them (a job file's values under both). */
	if ((cmd = json_object_get(over, "argv")) == NULL)
		cmd = json_object_get(job, "argv");
	if (json_object_get(over, "image") == NULL &&
	    json_object_get(job, "image") == NULL &&
	    (script = find_script(c, cmd, &shown)) != NULL &&
	    (rc = read_directives(c, script, shown, dir, &dir_export)) !=
	    CLI_OK)
		goto out;
	rc = CLI_USAGE;
	overlay(job, dir);
	overlay(job, over);
	if (export == NULL)
		export = dir_export;
	/* A container starts from its image's environment: the caller's
	 * (tokens, PATH, HOME) would land in the Job for anyone who may read
	 * Jobs there, so it goes only with an explicit --export. */
	if (build_env(c, export ? export : json_object_get(job, "image") ?
	    "NONE" : "ALL", json_object_get(job, "env"), &env) != CLI_OK)
		goto out;
	json_object_set_new(job, "env", env);
	if (json_object_get(job, "workdir") == NULL) {
		if (c->cwd == NULL) {
			rc = cli_fail(c, "cannot tell the current directory; "
			    "give --workdir");
			goto out;
		}
		json_object_set_new(job, "workdir", json_string(c->cwd));
	}
	if ((checked = job_from_submit(job, c->now, err, sizeof(err))) ==
	    NULL) {
		cli_usage_error(c, "%s", err);
		goto out;
	}
	job_free(checked);
	if (check_command(c, job, shown) != CLI_OK)
		goto out;
	*jobp = json_incref(job);
	rc = CLI_OK;
out:
	free(script);
	free(shown);
	free(dir_export);
	json_decref(job);
	json_decref(dir);
	json_decref(over);
	return rc;
}

/* What a dry run's reply says the job would get. */
static void
print_dry_run(struct cli *c, const json_t *job)
{
	const char *why = cli_get_str(job, "plan_why");
	double e = json_number_value(json_object_get(job, "expected_g"));
	double n = json_number_value(json_object_get(job, "now_g"));
	int64_t start = cli_get_int(job, "planned_start", 0);
	int64_t begin = cli_get_int(job, "begin", 0);
	char t[32], d[32];

	if (json_string_value(json_object_get(job, "site")) == NULL &&
	    begin > 0)
		fprintf(c->out, "would wait queued: its begin (%s) is further "
		    "ahead than plans reach, or no site has room for it\n",
		    cli_fmt_when(begin, t, sizeof(t)));
	else if (json_string_value(json_object_get(job, "site")) == NULL)
		fprintf(c->out, "would wait queued: no room for it within the "
		    "planning horizon (%s)\n", why);
	else if (start <= ebb_now())	/* the plan was made before now */
		fprintf(c->out, "would start now on %s (%s)\n",
		    cli_get_str(job, "site"), why);
	else
		fprintf(c->out, "would start on %s at %s (%s)\n",
		    cli_get_str(job, "site"), cli_fmt_when(start, t, sizeof(t)),
		    why);
	if (strcmp(why, "no-forecast") == 0)
		fprintf(c->out, "expected: unknown (no intensity known for its "
		    "sites)\n");
	else if (json_string_value(json_object_get(job, "site")) != NULL)
		fprintf(c->out, "expected: %.3g gCO2e (starting now at its "
		    "first site: %.3g g, saving %.3g g, %.1f%%)\n", e, n, n - e,
		    n > 0 ? 100 * (n - e) / n : 0.0);
	fprintf(c->out, "estimate: %s (%s)\n", ebb_fmt_duration(cli_get_int(job,
	    "duration", 0), d, sizeof(d)), cli_get_str(job,
	    "duration_source"));
	if (json_string_value(json_object_get(job, "policy_applied")) != NULL)
		fprintf(c->out, "policy: %s\n", cli_get_str(job,
		    "policy_applied"));
	fprintf(c->out, "dry run: nothing was queued\n");
}

int
cmd_submit(struct cli *c, int argc, char **argv)
{
	json_t *job, *result;
	int flags, rc;
	json_int_t id;

	if ((rc = submit_build(c, argc, argv, &job, &flags)) != CLI_OK ||
	    job == NULL)
		return rc;
	if ((rc = cli_call(c, "submit", flags & SUBMIT_DRY_RUN ?
	    json_pack("{s:o, s:b}", "job", job, "dry_run", 1) :
	    json_pack("{s:o}", "job", job), &result)) != CLI_OK)
		return rc;
	id = json_integer_value(json_object_get(result, "id"));
	if (flags & SUBMIT_JSON)	/* the daemon's reply: {"id": N}, or
					   {"dry_run": true, "job": {...}} */
		cli_print_json(c, result);
	else if (flags & SUBMIT_DRY_RUN)
		print_dry_run(c, json_object_get(result, "job"));
	else if (flags & SUBMIT_QUIET)
		fprintf(c->out, "%" JSON_INTEGER_FORMAT "\n", id);
	else
		fprintf(c->out, "submitted job %" JSON_INTEGER_FORMAT "\n", id);
	json_decref(result);
	return CLI_OK;
}
