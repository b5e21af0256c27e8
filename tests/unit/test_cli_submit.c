/*
 * test_cli_submit: `ebb submit` argv -> the "job" object of the request,
 * with a fixed clock, working directory and environment: every option,
 * the --export forms, job files merged with options, and the exact usage
 * messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_cli_harness.h"
#include "testutil.h"

struct built {
	struct harness	 h;
	json_t		*job;
	int		 flags, rc;
};

/* The current directory and environment of build() (else T_CWD, t_env). */
static const char *cwd_override;
static char **env_override;

/* Runs submit_build on `submit ARGS...` (NULL-terminated). */
static void
build(struct built *b, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	h_init(&b->h, env_override ? env_override : t_env);
	if (cwd_override != NULL)
		b->h.c.cwd = cwd_override;
	b->h.c.cmd = cli_find("submit");
	argv[argc++] = "submit";
	va_start(ap, b);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	b->rc = submit_build(&b->h.c, argc, argv, &b->job, &b->flags);
	fflush(b->h.c.out);
	fflush(b->h.c.err);
}

static void
done(struct built *b)
{
	json_decref(b->job);
	h_done(&b->h);
}

static int64_t
num(const json_t *job, const char *k)
{
	assert_true(json_is_integer(json_object_get(job, k)));
	return json_integer_value(json_object_get(job, k));
}

/* The array as "a|b|c". */
static char *
joined(const json_t *a)
{
	size_t i, len = 1;
	json_t *e;
	char *s;

	json_array_foreach(a, i, e)
		len += strlen(json_string_value(e)) + 1;
	s = calloc(1, len);
	json_array_foreach(a, i, e) {
		if (i > 0)
			strcat(s, "|");
		strcat(s, json_string_value(e));
	}
	return s;
}

static void
assert_list(const json_t *a, const char *want)
{
	char *s;

	assert_true(json_is_array(a));
	s = joined(a);
	assert_string_equal(s, want);
	free(s);
}

static void
assert_usage(struct built *b, const char *msg)
{
	assert_int_equal(b->rc, CLI_USAGE);
	assert_null(b->job);
	assert_string_equal(b->h.err, msg);
}

static void
every_option(void **state)
{
	struct built b;

	build(&b, "--name", "train", "--cpus", "4", "--gpus", "1", "--mem", "512M",
	    "--duration", "1h30m", "--deadline", "now+6h", "--site", "a,b",
	    "--interruptible", "--policy", "night", "--tag", "gpu,eu",
	    "--power", "150", "--data", "2.5", "--begin", "now+1h", "-q", "--",
	    "python3",
	    "-u", "train.py", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_non_null(b.job);
	assert_int_equal(b.flags, SUBMIT_QUIET);
	assert_string_equal(json_string_value(json_object_get(b.job, "name")),
	    "train");
	assert_int_equal(num(b.job, "cpus"), 4);
	assert_int_equal(num(b.job, "gpus"), 1);
	assert_int_equal(num(b.job, "mem"), 512 * 1024 * 1024);
	assert_int_equal(num(b.job, "duration"), 5400);
	assert_int_equal(num(b.job, "deadline"), T_NOW + 6 * 3600);
	assert_int_equal(num(b.job, "begin"), T_NOW + 3600);
	assert_null(json_object_get(b.job, "max_delay"));
	assert_list(json_object_get(b.job, "sites"), "a|b");
	assert_true(json_is_true(json_object_get(b.job, "interruptible")));
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "policy")), "night");
	assert_list(json_object_get(b.job, "tags"), "gpu|eu");
	assert_true(json_real_value(json_object_get(b.job, "power_w")) == 150);
	assert_true(json_real_value(json_object_get(b.job, "data_gb")) == 2.5);
	assert_list(json_object_get(b.job, "argv"), "python3|-u|train.py");
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "workdir")), T_CWD);
	assert_list(json_object_get(b.job, "env"),
	    "HOME=/home/u|PATH=/usr/bin:/bin|LANG=C.UTF-8|EMPTY=");
	assert_string_equal(b.h.err, "");
	done(&b);
}

static void
defaults_and_no_dashes(void **state)
{
	struct built b;

	/* --dry-run is a flag of the command, not part of the job. */
	build(&b, "--dry-run", "--json", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(b.flags, SUBMIT_DRY_RUN | SUBMIT_JSON);
	assert_null(json_object_get(b.job, "dry_run"));
	done(&b);

	/* Options stop at the command: -n and --cpus belong to echo. */
	build(&b, "echo", "-n", "--cpus", "9", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(b.flags, 0);
	assert_list(json_object_get(b.job, "argv"), "echo|-n|--cpus|9");
	assert_null(json_object_get(b.job, "cpus"));
	assert_null(json_object_get(b.job, "name"));
	assert_null(json_object_get(b.job, "deadline"));
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "workdir")), T_CWD);
	done(&b);
}

static void
times_and_dirs(void **state)
{
	struct built b;

	build(&b, "--name", "x", "--deadline", "2023-11-15T01:00:00+01:00",
	    "--workdir", "sub/dir", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(num(b.job, "deadline"), 1700006400);
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "workdir")), T_CWD "/sub/dir");
	done(&b);

	build(&b, "--name", "x", "--max-delay", "2d", "--workdir", "/abs",
	    "--no-interruptible", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(num(b.job, "max_delay"), 2 * 86400);
	assert_true(json_is_false(json_object_get(b.job, "interruptible")));
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "workdir")), "/abs");
	done(&b);
}

static void
export_forms(void **state)
{
	struct built b;

	build(&b, "--name", "x", "--export=NONE", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_list(json_object_get(b.job, "env"), "");
	done(&b);

	build(&b, "--name", "x", "--export=HOME,FOO=a=b,MISSING", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_list(json_object_get(b.job, "env"), "HOME=/home/u|FOO=a=b");
	done(&b);

	build(&b, "--name", "x", "--export", "ALL,PATH=/opt/bin,X=1",
	    "/bin/true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_list(json_object_get(b.job, "env"),
	    "HOME=/home/u|PATH=/opt/bin|LANG=C.UTF-8|EMPTY=|X=1");
	done(&b);

	build(&b, "--export=NONE,ALL", "true", NULL);
	assert_usage(&b, "ebb submit: --export: ALL must come first in "
	    "'NONE,ALL'\n");
	done(&b);

	build(&b, "--export=HOME,,X", "true", NULL);
	assert_usage(&b, "ebb submit: --export: bad item '' in 'HOME,,X' (use "
	    "ALL, NONE, NAME or NAME=VALUE)\n");
	done(&b);
}

static void
usage_errors(void **state)
{
	struct built b;

	build(&b, "--duration", "6x", "true", NULL);
	assert_usage(&b, "ebb submit: --duration: bad duration '6x': unknown "
	    "unit 'x' (use s, m, h, d or w)\n");
	done(&b);

	build(&b, "--max-delay", "90", "true", NULL);
	assert_usage(&b, "ebb submit: --max-delay: bad duration '90': missing "
	    "unit (s, m, h, d or w)\n");
	done(&b);

	build(&b, "--mem", "12Q", "true", NULL);
	assert_usage(&b, "ebb submit: --mem: bad size '12Q': expected a number "
	    "with an optional unit K, M, G or T (e.g. 512M, 4G)\n");
	done(&b);

	build(&b, "--cpus", "0", "true", NULL);
	assert_usage(&b, "ebb submit: --cpus: bad number '0' (use 1 to "
	    "4096)\n");
	done(&b);

	build(&b, "--deadline", "next week", "true", NULL);
	assert_usage(&b, "ebb submit: --deadline: bad time 'next week': "
	    "expected 2026-11-22T18:00 (local time; Z or +01:00 for another "
	    "zone), 2026-11-22, 16:00, tomorrow 06:00, now+6h or now-7d\n");
	done(&b);

	build(&b, "--name", "x", "--deadline", "2020-01-01T00:00:00Z", "true",
	    NULL);
	assert_usage(&b, "ebb submit: deadline: 2020-01-01T00:00:00Z is in "
	    "the past\n");
	done(&b);

	build(&b, "--name", "x", "--deadline", "now+6h", "--max-delay", "1h",
	    "true", NULL);
	assert_usage(&b, "ebb submit: deadline: give a deadline or a max "
	    "delay, not both\n");
	done(&b);

	build(&b, "--gpus", "a100:1", "true", NULL);
	assert_usage(&b, "ebb submit: --gpus: bad number 'a100:1' (use 0 to "
	    "1024)\n");
	done(&b);

	build(&b, "--begin", "soon", "true", NULL);
	assert_usage(&b, "ebb submit: --begin: bad time 'soon': "
	    "expected 2026-11-22T18:00 (local time; Z or +01:00 for another "
	    "zone), 2026-11-22, 16:00, tomorrow 06:00, now+6h or now-7d\n");
	done(&b);

	build(&b, "--begin", "now+2h", "--deadline", "now+1h", "true", NULL);
	assert_usage(&b, "ebb submit: begin: 2023-11-15T00:13:20Z is after the "
	    "latest start the deadline 2023-11-14T23:13:20Z allows\n");
	done(&b);

	build(&b, "--site", "a,,b", "true", NULL);
	assert_usage(&b, "ebb submit: --site: empty site name in 'a,,b'\n");
	done(&b);

	build(&b, "--cpus", NULL);
	assert_usage(&b, "ebb submit: option '--cpus' needs a value\n");
	done(&b);

	build(&b, "--frobnicate=3", "true", NULL);
	assert_usage(&b, "ebb submit: unknown option '--frobnicate' (see ebb "
	    "submit --help)\n");
	done(&b);

	build(&b, "--name", "x", NULL);
	assert_usage(&b, "ebb submit: a command or a script is required (ebb "
	    "submit [options] job.sh, or -- CMD [ARGS...])\n");
	done(&b);
}

/* Writes text to dir/name with mode; returns the path (static buffer). */
static const char *
put(const char *dir, const char *name, const char *text, mode_t mode)
{
	static char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* `ebb submit job.sh`: sbatch's habits. */
static void
batch_scripts(void **state)
{
	char tmp[] = "/tmp/ebb-script-XXXXXX", want[4200];
	const char *path;
	struct built b;

	char *env[4], *copy, *text;
	const char *a0;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	cwd_override = tmp;
	/* The copies go to the user's own state directory. */
	env[0] = "PATH=/usr/bin:/bin";
	env[1] = "HOME=/nonexistent";
	assert_true(asprintf(&env[2], "XDG_STATE_HOME=%s/state", tmp) > 0);
	env[3] = NULL;
	env_override = env;
	path = put(tmp, "job.sh",
	    "#!/bin/sh\n"
	    "# a comment\n"
	    "\n"
	    "#SBATCH --job-name=train -c 4\n"
	    "#SBATCH --mem=2000 --time=1-02:30:00  # a day and a half\n"
	    "#SBATCH --partition gpu --account=lab\n"
	    "#EBB --max-delay 6h --interruptible\n"
	    "#EBB --tag 'nightly,etl'\n"
	    "#SBATCH -b now+2h\n"
	    "#SBATCH --gpus=2\n"
	    "echo start\n"
	    "#EBB --cpus 64\n", 0755);
	/* A file of that name in the current directory, as sbatch reads it;
	 * the command line overrides the directives. */
	build(&b, "--mem", "1G", "job.sh", "arg", NULL);
	assert_int_equal(b.rc, CLI_OK);
	/* It runs a copy kept as the script is now, named by its content. */
	a0 = json_string_value(json_array_get(json_object_get(b.job, "argv"),
	    0));
	snprintf(want, sizeof(want), "%s/state/ebb/scripts/job.sh.", tmp);
	assert_memory_equal(a0, want, strlen(want));
	assert_int_equal(strlen(a0), strlen(want) + 16);
	copy = strdup(a0);
	assert_non_null(text = tu_slurp(copy, NULL));
	assert_memory_equal(text, "#!/bin/sh\n# a comment\n", 22);
	free(text);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    b.job, "argv"), 1)), "arg");
	assert_string_equal(json_string_value(json_object_get(b.job, "name")),
	    "train");
	/* -c 4; the #EBB --cpus 64 after the first command is a comment. */
	assert_int_equal(num(b.job, "cpus"), 4);
	assert_int_equal(num(b.job, "mem"), 1LL << 30);
	assert_int_equal(num(b.job, "duration"), 86400 + 2 * 3600 + 1800);
	assert_int_equal(num(b.job, "max_delay"), 6 * 3600);
	assert_true(json_is_true(json_object_get(b.job, "interruptible")));
	assert_list(json_object_get(b.job, "tags"), "nightly|etl");
	snprintf(want, sizeof(want), "EBB_SCRIPT=%s", path);
	text = joined(json_object_get(b.job, "env"));
	assert_non_null(strstr(text, want));
	free(text);
	assert_int_equal(num(b.job, "begin"), T_NOW + 2 * 3600);
	assert_int_equal(num(b.job, "gpus"), 2);
	assert_null(strstr(b.h.err, "ignoring #SBATCH -b"));
	/* Unknown #SBATCH options are named, not refused. */
	assert_non_null(strstr(b.h.err, "ebb submit: job.sh:6:9: ignoring "
	    "#SBATCH --partition"));
	assert_non_null(strstr(b.h.err, "job.sh:6:25: ignoring #SBATCH "
	    "--account"));
	done(&b);

	/* Edited after the submit: the first job's copy is unchanged, the
	 * next submit gets its own. */
	put(tmp, "job.sh", "#!/bin/sh\n#EBB --name edited\necho new\n",
	    0755);
	assert_non_null(text = tu_slurp(copy, NULL));
	assert_non_null(strstr(text, "echo start"));
	free(text);
	build(&b, "job.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_string_not_equal(json_string_value(json_array_get(
	    json_object_get(b.job, "argv"), 0)), copy);
	assert_string_equal(json_string_value(json_object_get(b.job, "name")),
	    "edited");
	done(&b);
	free(copy);
	put(tmp, "job.sh",
	    "#!/bin/sh\n"
	    "#SBATCH --time=10 -N 1 -Q -s -c 2 --ntasks=3\n"
	    "  #SBATCH --cpus-per-task=99\n"
	    "#EBB --max-delay 6h\n", 0755);
	/* sbatch's flags and valued short options; ntasks x cpus-per-task;
	 * an indented #SBATCH is a comment, as in sbatch. */
	build(&b, "job.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(num(b.job, "cpus"), 6);
	assert_int_equal(num(b.job, "duration"), 600);
	done(&b);

	/* #SBATCH -o/-e and --output/--error: the files, as written. */
	put(tmp, "out.sh", "#!/bin/sh\n#SBATCH -o slurm-%j.out -e err.txt\n",
	    0755);
	build(&b, "out.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "stdout_file")), "slurm-%j.out");
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "stderr_file")), "err.txt");
	done(&b);
	build(&b, "--output", "o.txt", "out.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "stdout_file")), "o.txt");
	done(&b);
	build(&b, "--image", "busybox:1.36", "--output", "o.txt", "true", NULL);
	assert_usage(&b, "ebb submit: stdout_file: not for a container (its "
	    "output stays with Kubernetes: kubectl logs)\n");
	done(&b);

	/* A command in PATH wins over a script of that name here. */
	put(tmp, "true", "#!/bin/sh\necho not true\n", 0755);
	build(&b, "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_list(json_object_get(b.job, "argv"), "true");
	done(&b);

	/* A relative path is the job's working directory's. */
	cwd_override = "/";
	build(&b, "--workdir", tmp, "./job.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(num(b.job, "cpus"), 6);
	done(&b);
	cwd_override = tmp;

	/* A deadline on the command line replaces a directive's max delay. */
	build(&b, "--deadline", "now+48h", "job.sh", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_null(json_object_get(b.job, "max_delay"));
	assert_int_equal(num(b.job, "deadline"), T_NOW + 48 * 3600);
	done(&b);

	/* Bad directives: file, line and column, exit 2. */
	put(tmp, "bad.sh", "#!/bin/sh\n#EBB --cpus lots\n", 0755);
	build(&b, "./bad.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./bad.sh:2:6: --cpus: bad "
	    "number 'lots' (use 1 to 4096)\n");
	assert_usage(&b, want);
	done(&b);
	put(tmp, "bad.sh", "#!/bin/sh\n#SBATCH --time=soon\n", 0755);
	build(&b, "./bad.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./bad.sh:2:9: #SBATCH "
	    "--time: bad value 'soon'\n");
	assert_usage(&b, want);
	done(&b);
	put(tmp, "bad.sh", "#!/bin/sh\n#EBB --file x.yaml\n", 0755);
	build(&b, "./bad.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./bad.sh:2:6: --file is "
	    "not a directive (see ebb submit --help)\n");
	assert_usage(&b, want);
	done(&b);
	put(tmp, "bad.sh", "#!/bin/sh\n#EBB --dry-run\n", 0755);
	build(&b, "./bad.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./bad.sh:2:6: --dry-run is "
	    "not a directive (see ebb submit --help)\n");
	assert_usage(&b, want);
	done(&b);

	/* The command is checked at submit: exit 2 with the reason. */
	put(tmp, "noexec.sh", "#!/bin/sh\necho hi\n", 0644);
	build(&b, "./noexec.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./noexec.sh: not an "
	    "executable file (chmod +x it, or submit 'sh ./noexec.sh')\n");
	assert_usage(&b, want);
	done(&b);
	build(&b, "./missing.sh", NULL);
	snprintf(want, sizeof(want), "ebb submit: ./missing.sh: No such file "
	    "or directory\n");
	assert_usage(&b, want);
	done(&b);
	build(&b, "no-such-command-xyz", NULL);
	assert_usage(&b, "ebb submit: no-such-command-xyz: command not found "
	    "in the job's PATH (give its path, e.g. ./no-such-command-xyz; "
	    "--no-check if it exists only where the job runs)\n");
	done(&b);
	build(&b, "--no-check", "no-such-command-xyz", NULL);
	assert_int_equal(b.rc, CLI_OK);
	done(&b);
	/* A file in the current directory without "#!" is not a script: the
	 * name is looked up in PATH, as a command. */
	put(tmp, "data", "x\n", 0755);
	build(&b, "data", NULL);
	assert_int_equal(b.rc, CLI_USAGE);
	done(&b);
	/* An image's command is the container's: not checked here. */
	build(&b, "--image", "busybox:1.36", "--site", "k8s",
	    "no-such-command-xyz", NULL);
	assert_int_equal(b.rc, CLI_OK);
	done(&b);
	cwd_override = NULL;
	env_override = NULL;
	free(env[2]);
	snprintf(want, sizeof(want), "rm -rf '%s'", tmp);
	assert_int_equal(system(want), 0);
}

static void
help(void **state)
{
	struct built b;

	build(&b, "--cpus", "2", "--help", "true", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_null(b.job);
	assert_memory_equal(b.h.out, "usage: ebb submit ", 18);
	assert_non_null(strstr(b.h.out, "--export=SPEC"));
	done(&b);
}

/* Writes a job file and returns its malloc'd path. */
static char *
job_file(const char *text)
{
	char *path = strdup("/tmp/test_cli_submit.XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void
job_file_merged(void **state)
{
	char *path = job_file("name: filejob\n"
	    "argv: [sleep, \"5\"]\n"
	    "cpus: 2\n"
	    "duration: 2h\n"
	    "max_delay: 6h\n"
	    "sites: [x]\n"
	    "workdir: /data\n"
	    "env:\n"
	    "  FOO: file\n"
	    "  HOME: /file/home\n");
	struct built b;

	/* The file alone; its env adds to the caller's environment. */
	build(&b, "-f", path, NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_string_equal(json_string_value(json_object_get(b.job, "name")),
	    "filejob");
	assert_list(json_object_get(b.job, "argv"), "sleep|5");
	assert_int_equal(num(b.job, "cpus"), 2);
	assert_int_equal(num(b.job, "duration"), 7200);
	assert_int_equal(num(b.job, "max_delay"), 6 * 3600);
	assert_list(json_object_get(b.job, "sites"), "x");
	assert_string_equal(json_string_value(json_object_get(b.job,
	    "workdir")), "/data");
	assert_list(json_object_get(b.job, "env"),
	    "HOME=/file/home|PATH=/usr/bin:/bin|LANG=C.UTF-8|EMPTY=|FOO=file");
	done(&b);

	/* Options override; a deadline replaces the file's max_delay. */
	build(&b, "--cpus", "8", "-f", path, "--deadline", "now+12h",
	    "--export=NONE,PATH,FOO=cli", "--", "echo", "hi", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(num(b.job, "cpus"), 8);
	assert_int_equal(num(b.job, "deadline"), T_NOW + 12 * 3600);
	assert_null(json_object_get(b.job, "max_delay"));
	assert_int_equal(num(b.job, "duration"), 7200);
	assert_list(json_object_get(b.job, "argv"), "echo|hi");
	assert_list(json_object_get(b.job, "env"),
	    "FOO=cli|HOME=/file/home|PATH=/usr/bin:/bin");
	done(&b);
	unlink(path);
	free(path);
}

static void
job_file_errors(void **state)
{
	char *path = job_file("argv: [true]\ncpus: lots\n");
	char *want;
	struct built b;

	build(&b, "-f", path, NULL);
	assert_int_equal(b.rc, CLI_USAGE);
	assert_null(b.job);
	assert_true(asprintf(&want, "ebb submit: %s:2:", path) > 0);
	assert_memory_equal(b.h.err, want, strlen(want));
	free(want);
	done(&b);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_option),
		cmocka_unit_test(defaults_and_no_dashes),
		cmocka_unit_test(times_and_dirs),
		cmocka_unit_test(export_forms),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(batch_scripts),
		cmocka_unit_test(help),
		cmocka_unit_test(job_file_merged),
		cmocka_unit_test(job_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
