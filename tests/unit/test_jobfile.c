/*
 * test_jobfile: job YAML -> submit JSON. Every key, command vs argv,
 * relative workdir, only given keys emitted, the result accepted by
 * job_from_submit(), every file in examples/jobs, and the golden error
 * files in tests/golden/config/jobs (NAME.yaml -> NAME.err, now fixed at
 * 2026-01-01T00:00:00Z).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/job.h"
#include "common/xmalloc.h"
#include "config/jobfile.h"

#define NOW	INT64_C(1767225600)	/* 2026-01-01T00:00:00Z */

static char tmpdir[64];

static const char *
data_dir(void)
{
	const char *d = getenv("EBB_TEST_DATA");

	assert_non_null(d);
	return d;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *
write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_jobfile.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* Loads text as a job file that must be valid. */
static json_t *
load_ok(const char *text)
{
	char *path = write_tmp("job.yaml", text), *errs = NULL;
	json_t *o = jobfile_load(path, NOW, &errs);

	if (o == NULL)
		fail_msg("%s", errs);
	assert_null(errs);
	free(path);
	return o;
}

static void
assert_json(const json_t *o, const char *want)
{
	char *got = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);

	assert_string_equal(got, want);
	free(got);
}

static void
test_every_key(void **state)
{
	json_t *o = load_ok(
	    "name: train\n"
	    "argv: [python3, train.py, --epochs, 3]\n"
	    "cpus: 4\n"
	    "mem: 2G\n"
	    "duration: 1h30m\n"
	    "deadline: 2026-01-02T01:00:00+01:00\n"
	    "sites: [local, gpu]\n"
	    "interruptible: true\n"
	    "workdir: runs/1\n"
	    "policy: batch\n"
	    "env:\n"
	    "  OMP_NUM_THREADS: 4\n"
	    "  EMPTY: ''\n");
	char *want = xasprintf("{\"argv\":[\"python3\",\"train.py\","
	    "\"--epochs\",\"3\"],\"cpus\":4,\"deadline\":%lld,\"duration\":5400,"
	    "\"env\":[\"OMP_NUM_THREADS=4\",\"EMPTY=\"],\"interruptible\":true,"
	    "\"mem\":2147483648,\"name\":\"train\",\"policy\":\"batch\","
	    "\"sites\":[\"local\",\"gpu\"],\"workdir\":\"%s/runs/1\"}",
	    (long long)(NOW + 86400), tmpdir);

	assert_json(o, want);
	free(want);
	json_decref(o);
}

static void
test_command_and_defaults(void **state)
{
	json_t *o = load_ok("command: echo \"$HOME\" | wc -c\nmax_delay: 6h\n");

	assert_json(o, "{\"argv\":[\"/bin/sh\",\"-c\",\"echo \\\"$HOME\\\" "
	    "| wc -c\"],\"max_delay\":21600}");
	json_decref(o);
}

static void
test_relative_deadline(void **state)
{
	json_t *o = load_ok("argv: [true]\nduration: 1h\ndeadline: now+2h\n");

	assert_int_equal(json_integer_value(json_object_get(o, "deadline")),
	    NOW + 7200);
	json_decref(o);
}

/* The daemon's validator accepts what the job file produced. */
static void
test_accepted_by_daemon(void **state)
{
	json_t *o = load_ok("name: nap\ncommand: sleep 1\ncpus: 2\n"
	    "deadline: now+1h\ninterruptible: false\nenv: {A: b}\n"
	    "workdir: /tmp\n");
	char err[256];
	struct job *j = job_from_submit(o, NOW, err, sizeof(err));

	if (j == NULL)
		fail_msg("%s", err);
	assert_int_equal(j->cpus, 2);
	assert_int_equal(j->deadline, NOW + 3600);
	assert_string_equal(j->name, "nap");
	assert_string_equal(json_string_value(json_array_get(j->env, 0)),
	    "A=b");
	job_free(j);
	json_decref(o);
}

static void
test_past_deadline(void **state)
{
	char *path = write_tmp("past.yaml", "command: true\n"
	    "deadline: 2020-01-01T00:00:00Z\n");
	char *errs = NULL, *want;

	assert_null(jobfile_load(path, NOW, &errs));
	want = xasprintf("%s:2:11: deadline: 2020-01-01T00:00:00Z is in the "
	    "past\n", path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_yaml(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
}

static void
test_examples(void **state)
{
	char *dir = xasprintf("%s/../examples/jobs", data_dir());
	struct dirent **ents;
	int n;

	n = scandir(dir, &ents, is_yaml, by_name);
	assert_true(n >= 4);
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, ents[i]->d_name);
		char *errs = NULL, err[256];
		json_t *o = jobfile_load(path, NOW, &errs);
		struct job *j;

		if (o == NULL)
			fail_msg("%s", errs);
		/* What ebb submit adds when the file has no workdir. */
		if (json_object_get(o, "workdir") == NULL)
			json_object_set_new(o, "workdir", json_string("/"));
		if ((j = job_from_submit(o, NOW, err, sizeof(err))) == NULL)
			fail_msg("%s: %s", path, err);
		job_free(j);
		json_decref(o);
		free(path);
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

static void
test_golden(void **state)
{
	struct dirent **ents;
	int n, failed = 0;

	assert_int_equal(chdir(data_dir()), 0);
	n = scandir("golden/config/jobs", &ents, is_yaml, by_name);
	assert_true(n >= 5);
	for (int i = 0; i < n; i++) {
		char *yaml = xasprintf("golden/config/jobs/%s",
		    ents[i]->d_name);
		char *errf = xasprintf("%.*s.err", (int)strlen(yaml) - 5, yaml);
		char *want = slurp(errf), *errs = NULL;
		json_t *o = jobfile_load(yaml, NOW, &errs);

		if (o != NULL) {
			print_error("%s: loaded without errors\n", yaml);
			json_decref(o);
			failed++;
		} else if (want == NULL || strcmp(want, errs) != 0) {
			print_error("%s: expected (%s):\n%sgot:\n%s", yaml,
			    errf, want ? want : "(missing)\n", errs);
			failed++;
		}
		free(yaml);
		free(errf);
		free(want);
		free(errs);
		free(ents[i]);
	}
	free(ents);
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_command_and_defaults),
		cmocka_unit_test(test_relative_deadline),
		cmocka_unit_test(test_accepted_by_daemon),
		cmocka_unit_test(test_past_deadline),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
