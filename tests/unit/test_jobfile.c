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
#include "testutil.h"

#define NOW	INT64_C(1767225600)	/* 2026-01-01T00:00:00Z */

/* Loads text as a job file that must be valid. */
static json_t *
load_ok(const char *text)
{
	char *path = tu_write_tmp("job.yaml", text), *errs = NULL;
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
	    "gpus: 1\n"
	    "begin: 2026-01-01T12:00:00Z\n"
	    "mem: 2G\n"
	    "duration: 1h30m\n"
	    "deadline: 2026-01-02T01:00:00+01:00\n"
	    "sites: [local, gpu]\n"
	    "interruptible: true\n"
	    "workdir: runs/1\n"
	    "policy: batch\n"
	    "tags: [gpu]\n"
	    "power_w: 150\n"
	    "data_gb: 2.5\n"
	    "env:\n"
	    "  OMP_NUM_THREADS: 4\n"
	    "  EMPTY: ''\n");
	char *want = xasprintf("{\"argv\":[\"python3\",\"train.py\","
	    "\"--epochs\",\"3\"],\"begin\":%lld,\"cpus\":4,\"data_gb\":2.5,\"deadline\":%lld,\"duration\":5400,"
	    "\"env\":[\"OMP_NUM_THREADS=4\",\"EMPTY=\"],\"gpus\":1,"
	    "\"interruptible\":true,"
	    "\"mem\":2147483648,\"name\":\"train\",\"policy\":\"batch\","
	    "\"power_w\":150.0,\"sites\":[\"local\",\"gpu\"],"
	    "\"tags\":[\"gpu\"],\"workdir\":\"%s/runs/1\"}",
	    (long long)1767268800, (long long)(NOW + 86400), tu_tmpdir());

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

/* A Kubernetes Job as the job file: the part ebb takes. */
static void
test_kube_job(void **state)
{
	json_t *o = load_ok(
	    "apiVersion: batch/v1\nkind: Job\n"
	    "metadata:\n  name: train\n  labels: {team: x}\n"
	    "  annotations:\n    ebb.dev/max-delay: 8h\n"
	    "    ebb.dev/duration: 2h\n    ebb.dev/sites: k8s,k8s-b\n"
	    "    other.io/x: y\n"
	    "spec:\n  suspend: true\n  template:\n    spec:\n"
	    "      restartPolicy: Never\n      containers:\n"
	    "      - name: main\n        image: pytorch/pytorch:2.1\n"
	    "        command: [python, train.py]\n"
	    "        args: [--epochs, '3']\n"
	    "        env: [{name: A, value: '1'}, {name: B}]\n"
	    "        resources: {requests: {cpu: 500m, memory: 1Gi}, "
	    "limits: {cpu: '2'}}\n");
	char err[256];
	struct job *j;

	(void)state;
	assert_json(o, "{\"argv\":[\"python\",\"train.py\",\"--epochs\","
	    "\"3\"],\"cpus\":2,\"duration\":7200,\"env\":[\"A=1\",\"B=\"],"
	    "\"image\":\"pytorch/pytorch:2.1\",\"max_delay\":28800,"
	    "\"mem\":1073741824,\"name\":\"train\",\"sites\":[\"k8s\","
	    "\"k8s-b\"]}");
	json_object_set_new(o, "workdir", json_string("/"));
	if ((j = job_from_submit(o, NOW, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_string_equal(j->image, "pytorch/pytorch:2.1");
	job_free(j);
	json_decref(o);
	o = load_ok("apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n"
	    "    spec:\n      containers: [{image: busybox, command: [true],"
	    " resources: {requests: {cpu: 1500m}}}]\n");
	assert_int_equal(json_integer_value(json_object_get(o, "cpus")), 2);
	json_decref(o);
}

static void
test_past_deadline(void **state)
{
	char *path = tu_write_tmp("past.yaml", "command: true\n"
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

static void
test_examples(void **state)
{
	char *dir = xasprintf("%s/../examples/jobs", tu_data_dir());
	struct dirent **ents;
	int n;

	n = tu_scan_yaml(dir, &ents);
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

/* A jobfile_load() for tu_golden(). */
static int
load_job(const char *path, char **errs)
{
	json_t *o = jobfile_load(path, NOW, errs);

	if (o == NULL)
		return -1;
	json_decref(o);
	return 0;
}

static void
test_golden(void **state)
{
	int failed;

	assert_true(tu_golden("golden/config/jobs", load_job, &failed) >= 5);
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
		cmocka_unit_test(test_kube_job),
	};

	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
