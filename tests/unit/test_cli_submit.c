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
#include <unistd.h>

#include <cmocka.h>

#include "test_cli_harness.h"

struct built {
	struct harness	 h;
	json_t		*job;
	int		 quiet, rc;
};

/* Runs submit_build on `submit ARGS...` (NULL-terminated). */
static void
build(struct built *b, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	h_init(&b->h, t_env);
	b->h.c.cmd = cli_find("submit");
	argv[argc++] = "submit";
	va_start(ap, b);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	b->rc = submit_build(&b->h.c, argc, argv, &b->job, &b->quiet);
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

	build(&b, "--name", "train", "--cpus", "4", "--mem", "512M",
	    "--duration", "1h30m", "--deadline", "now+6h", "--site", "a,b",
	    "--interruptible", "--policy", "night", "--tag", "gpu,eu",
	    "--power", "150", "--data", "2.5", "-q", "--", "python3",
	    "-u", "train.py", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_non_null(b.job);
	assert_int_equal(b.quiet, 1);
	assert_string_equal(json_string_value(json_object_get(b.job, "name")),
	    "train");
	assert_int_equal(num(b.job, "cpus"), 4);
	assert_int_equal(num(b.job, "mem"), 512 * 1024 * 1024);
	assert_int_equal(num(b.job, "duration"), 5400);
	assert_int_equal(num(b.job, "deadline"), T_NOW + 6 * 3600);
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

	/* Options stop at the command: -n and --cpus belong to echo. */
	build(&b, "echo", "-n", "--cpus", "9", NULL);
	assert_int_equal(b.rc, CLI_OK);
	assert_int_equal(b.quiet, 0);
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

	build(&b, "--name", "x", "--export", "ALL,PATH=/opt/bin,X=1", "true",
	    NULL);
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
	assert_usage(&b, "ebb submit: a command is required (ebb submit "
	    "[options] -- CMD [ARGS...])\n");
	done(&b);
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
		cmocka_unit_test(help),
		cmocka_unit_test(job_file_merged),
		cmocka_unit_test(job_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
