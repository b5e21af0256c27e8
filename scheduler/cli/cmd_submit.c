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

#include "common/fsutil.h"
#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/jobfile.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/script.h"

#define SCRIPT_MAX	(4 << 20)	/* bytes of a script (sbatch's
					   default limit) */

enum {
	O_NAME = 256, O_CPUS, O_MEM, O_DURATION, O_DEADLINE, O_MAX_DELAY,
	O_SITE, O_INTR, O_NO_INTR, O_WORKDIR, O_POLICY, O_EXPORT, O_TAG,
	O_POWER, O_DATA, O_IMAGE, O_NO_CHECK, O_OUTPUT, O_ERROR, O_BEGIN,
	O_GPUS,
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
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "error", required_argument, NULL, O_ERROR },
	{ "tag", required_argument, NULL, O_TAG },
	{ "power", required_argument, NULL, O_POWER },
	{ "data", required_argument, NULL, O_DATA },
	{ "export", required_argument, NULL, O_EXPORT },
	{ "no-check", no_argument, NULL, O_NO_CHECK },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* name joined to dir unless it is absolute; a new string. */
static char *
join_dir(const char *dir, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/",
	    name);
}

/* Parses one option's value into over; returns an exit status. */
static int
parse_value(struct cli *c, int opt, const char *arg, json_t *over)
{
	char err[256], *end, *wd;
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
	case O_OUTPUT:
	case O_ERROR:
		json_object_set_new(over, opt == O_OUTPUT ? "stdout_file" :
		    "stderr_file", json_string(arg));
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
		json_object_set_new(over, "workdir", json_string(wd = join_dir(
		    c->cwd, arg)));
		free(wd);
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

/* The first executable regular file called name in the PATH list. */
static char *
path_lookup(const char *path, const char *name)
{
	char *copy = xstrdup(path), *rest = copy, *dir, *p;
	struct stat st;

	while ((dir = strsep(&rest, ":")) != NULL) {
		if (*dir != '/')
			continue;	/* relative entries: not at submit */
		p = xasprintf("%s/%s", dir, name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(p, X_OK) == 0) {
			free(copy);
			return p;
		}
		free(p);
	}
	free(copy);
	return NULL;
}

/*
 * The text of the file at path (as the caller, who is the user) if it is
 * a script (starts with "#!") of at most SCRIPT_MAX bytes; NULL otherwise,
 * or with *err set when it is one but cannot be taken.
 */
static char *
script_text(const char *path, size_t *len, char *err, size_t errlen)
{
	char *buf = NULL, head[2];
	int fd;

	err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) ==
	    -1)
		return NULL;
	if (pread(fd, head, 2, 0) != 2 || head[0] != '#' || head[1] != '!' ||
	    fs_read_fd(fd, SCRIPT_MAX, &buf, len, err, errlen) == -1) {
		close(fd);
		return NULL;
	}
	close(fd);
	return buf;
}

/*
 * The batch script argv[0] names, as sbatch finds it: a path with a '/'
 * (relative to dir, the job's working directory), or a bare name that is
 * no command in the caller's PATH but a file of theirs in dir starting
 * with "#!". Returns its text (and *shown, the name as written), or NULL
 * for a command; CLI_USAGE in *rc after printing why it cannot be taken.
 */
static char *
find_script(struct cli *c, const json_t *av, const char *dir, char **path,
    size_t *len, int *rc)
{
	const char *name = json_string_value(json_array_get(av, 0));
	const char *pathenv = cli_getenv(c, "PATH");
	struct stat st;
	char err[256], *text, *cmd;

	*rc = CLI_OK;
	*path = NULL;
	if (name == NULL)
		return NULL;
	if (strchr(name, '/') == NULL) {
		/* A command in PATH wins: a script some other user left in
		 * the current directory must not stand in for it. */
		if ((cmd = path_lookup(pathenv ? pathenv : JOB_DEFAULT_PATH,
		    name)) != NULL) {
			free(cmd);
			return NULL;
		}
		*path = join_dir(dir, name);
		if (stat(*path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != getuid()) {
			free(*path);
			*path = NULL;
			return NULL;
		}
	} else
		*path = join_dir(dir, name);
	if ((text = script_text(*path, len, err, sizeof(err))) == NULL &&
	    (err[0] != '\0' || strchr(name, '/') == NULL)) {
		/* A bare name is taken from here only as a script. */
		if (err[0] != '\0')
			*rc = cli_usage_error(c, "%s: %s", name, err);
		free(*path);
		*path = NULL;
	}
	return text;
}

/* FNV-1a of data: names a script's copy by its content. */
static uint64_t
fnv1a(const char *data, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/*
 * Keeps the script as it is now, as sbatch does, in the caller's own
 * $XDG_STATE_HOME/ebb/scripts (else ~/.local/state/ebb/scripts), named by
 * its content: editing job.sh after the submit does not change what the
 * job runs. Returns the copy's path, or NULL (the job then runs the
 * script in place; the caller warns).
 */
static char *
keep_script(struct cli *c, const char *path, const char *text, size_t len,
    char *err, size_t errlen)
{
	const char *state = cli_getenv(c, "XDG_STATE_HOME");
	const char *home = cli_getenv(c, "HOME"), *base;
	char *dir, *copy;

	if (state != NULL && state[0] == '/')
		dir = xasprintf("%s/ebb/scripts", state);
	else if (home != NULL && home[0] == '/')
		dir = xasprintf("%s/.local/state/ebb/scripts", home);
	else {
		snprintf(err, errlen, "no HOME to keep a copy in");
		return NULL;
	}
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	copy = xasprintf("%s/%.64s.%016" PRIx64, dir, base, fnv1a(text, len));
	if (fs_mkdir_p(dir, 0700, err, errlen) == -1 ||
	    (access(copy, X_OK) == -1 && fs_write_atomic(copy, text, len,
	    0700, err, errlen) == -1)) {
		free(dir);
		free(copy);
		return NULL;
	}
	free(dir);
	return copy;
}

/*
 * Reads the directives of script (its text, shown as written) into dir
 * (and --export into *export, newly allocated); returns an exit status.
 * The command line overrides them.
 */
static int
read_directives(struct cli *c, const char *text, size_t len,
    const char *shown, json_t *dir, char **export, int *no_check)
{
	struct script sc;
	char err[256], where[64];
	int rc = CLI_OK;

	if (script_scan(text, len, &sc, err, sizeof(err)) == -1)
		return cli_usage_error(c, "%s:%s", shown, err);
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
		} else if (o->val == O_NO_CHECK)
			*no_check = 1;
		else {
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
	struct stat st;
	char *found;
	size_t i;
	json_t *v;

	if (name == NULL || json_object_get(job, "image") != NULL)
		return CLI_OK;	/* the job's validator / the container's */
	if (shown == NULL)
		shown = name;
	if (strchr(name, '/') != NULL) {
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
	if ((found = path_lookup(path ? path : JOB_DEFAULT_PATH, name)) ==
	    NULL)
		return cli_usage_error(c, "%s: command not found in the job's "
		    "PATH (give its path, e.g. ./%s; --no-check if it exists "
		    "only where the job runs)", name, name);
	free(found);
	return CLI_OK;
}

/*
 * Where argv[0] is a batch script (find_script): reads its directives
 * into dir, names the job after it unless something else does, and runs a
 * copy kept as it is now (unless !keep: a dry run keeps nothing). *script is the script's path, *shown its name
 * as written (both new, or NULL for a command). Returns an exit status.
 */
static int
take_script(struct cli *c, json_t *av, const json_t *over, json_t *job,
    json_t *dir, char **export, int *no_check, char **shown, char **script,
    int keep)
{
	const char *wd = json_string_value(json_object_get(over, "workdir"));
	char *base, *text, *copy, err[256];
	size_t len;
	int rc;

	if (wd == NULL)
		wd = json_string_value(json_object_get(job, "workdir"));
	if (wd != NULL && wd[0] == '/')
		base = xstrdup(wd);
	else if (c->cwd != NULL)
		base = wd ? join_dir(c->cwd, wd) : xstrdup(c->cwd);
	else
		return CLI_OK;	/* the check below says what is missing */
	text = find_script(c, av, base, script, &len, &rc);
	free(base);
	if (text == NULL) {
		if (rc != CLI_OK || *script == NULL) {
			free(*script);
			*script = NULL;
			return rc;
		}
	}
	*shown = xstrdup(json_string_value(json_array_get(av, 0)));
	if (text == NULL) {
		/* A path to a program, not a script: run it as it is. */
		json_array_set_new(av, 0, json_string(*script));
		free(*script);
		*script = NULL;
		return CLI_OK;
	}
	/* The copy is made executable: the script must be so already. */
	if (access(*script, X_OK) == -1) {
		free(text);
		return cli_usage_error(c, "%s: not an executable file (chmod +x "
		    "it, or submit 'sh %s')", *shown, *shown);
	}
	rc = read_directives(c, text, len, *shown, dir, export, no_check);
	if (rc == CLI_OK && json_object_get(job, "name") == NULL) {
		const char *b = strrchr(*script, '/');

		json_object_set_new(job, "name", json_stringn(b + 1,
		    strnlen(b + 1, JOB_NAME_MAX)));
	}
	if (rc == CLI_OK && keep) {
		if ((copy = keep_script(c, *script, text, len, err,
		    sizeof(err))) == NULL) {
			fprintf(c->err, "ebb submit: %s: no copy kept (%s): the "
			    "job runs the script as it is when it starts\n",
			    *shown, err);
			copy = xstrdup(*script);
		}
		json_array_set_new(av, 0, json_string(copy));
		free(copy);
	}
	free(text);
	return rc;
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
	int ch, rc = CLI_USAGE, no_check = 0;

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
		else if (ch == O_NO_CHECK)
			no_check = 1;
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
	    (rc = take_script(c, cmd, over, job, dir, &dir_export, &no_check,
	    &shown, &script, !(*flags & SUBMIT_DRY_RUN))) != CLI_OK)
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
	if (script != NULL) {
		/* What sbatch gives a batch job, under ebb's names: the script
		 * runs from its copy, these say where it came from. */
		char *kv = xasprintf("EBB_SCRIPT=%s", script);

		env_set(env, kv);
		free(kv);
		if (c->cwd != NULL) {
			kv = xasprintf("EBB_SUBMIT_DIR=%s", c->cwd);
			env_set(env, kv);
			free(kv);
		}
	}
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
	if (!no_check && check_command(c, job, shown) != CLI_OK)
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
