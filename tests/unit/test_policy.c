/*
 * test_policy: policy files and rules. Every key, every example in
 * examples/policies, the golden error files in tests/golden/policies
 * (NAME.yaml -> NAME.err), matching (user, group, glob, tags, first match
 * wins, a requested rule) and applying defaults and caps, with the exact
 * messages of refusals; duplicate rule names among 30,000 rules found in
 * linear time.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/job.h"
#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "policies/policy.h"
#include "testutil.h"

#define NOW	INT64_C(1767225600)	/* 2026-01-01T00:00:00Z */

static int
setup(void **state)
{
	tu_tmpdir_create("test_policy");
	return 0;
}

static int
teardown(void **state)
{
	tu_tmpdir_remove();
	return 0;
}

/* Loads text as a policy file that must be valid. */
static struct policy_set *
load_ok(const char *text)
{
	char *path = tu_write_tmp("policy.yaml", text), *errs = NULL;
	struct policy_set *s = NULL;

	if (policy_load(path, &s, &errs) == -1)
		fail_msg("%s", errs);
	assert_null(errs);
	free(path);
	return s;
}

static struct job *
job(const char *name, const char *user, const char *tags_json)
{
	struct job *j = job_new();

	j->name = name ? xstrdup(name) : NULL;
	j->user = user ? xstrdup(user) : NULL;
	j->tags = json_loads(tags_json ? tags_json : "[]", 0, NULL);
	j->sites = json_array();
	return j;
}

static char *
sites_text(const struct job *j)
{
	return json_dumps(j->sites, JSON_COMPACT);
}

static void
test_every_key(void **state)
{
	struct policy_set *s = load_ok(
	    "rules:\n"
	    "  - name: ml-training\n"
	    "    match:\n"
	    "      users: [alice, bob]\n"
	    "      groups: [ml]\n"
	    "      names: [\"train-*\", \"eval-*\"]\n"
	    "      tags: [gpu]\n"
	    "    defaults:\n"
	    "      max_delay: 12h\n"
	    "      duration: 2h\n"
	    "      sites: [local]\n"
	    "      interruptible: true\n"
	    "      power_w_per_cpu: 15\n"
	    "    caps:\n"
	    "      max_delay: 1d\n"
	    "      sites: [local, eu-west]\n"
	    "    run_if_below: 100\n"
	    "    run_now: false\n"
	    "    weights:\n"
	    "      delay_g_per_h: 0.5\n"
	    "  - name: rest\n");
	const struct policy_rule *r;

	assert_int_equal(policy_count(s), 2);
	r = policy_rule_at(s, 0);
	assert_string_equal(r->name, "ml-training");
	assert_int_equal(r->users.n, 2);
	assert_string_equal(r->users.v[1], "bob");
	assert_string_equal(r->groups.v[0], "ml");
	assert_string_equal(r->names.v[1], "eval-*");
	assert_string_equal(r->tags.v[0], "gpu");
	assert_int_equal(r->max_delay, 12 * 3600);
	assert_int_equal(r->duration, 2 * 3600);
	assert_int_equal(r->sites.n, 1);
	assert_string_equal(r->sites.v[0], "local");
	assert_int_equal(r->interruptible, 1);
	assert_true(r->power_w_per_cpu == 15);
	assert_int_equal(r->max_delay_cap, 86400);
	assert_int_equal(r->allowed_sites.n, 2);
	assert_string_equal(r->allowed_sites.v[1], "eu-west");
	assert_true(r->run_if_below == 100);
	assert_int_equal(r->run_now, 0);
	assert_true(r->delay_g_per_h == 0.5);
	/* A rule of nothing but a name: every "none" marker. */
	r = policy_rule_at(s, 1);
	assert_string_equal(r->name, "rest");
	assert_int_equal(r->users.n + r->groups.n + r->names.n + r->tags.n, 0);
	assert_int_equal(r->max_delay + r->duration + r->max_delay_cap, 0);
	assert_int_equal(r->interruptible, -1);
	assert_true(r->delay_g_per_h < 0);
	assert_true(r->run_if_below == 0 && r->power_w_per_cpu == 0);
	assert_null(policy_rule_at(s, 2));
	assert_ptr_equal(policy_find(s, "rest"), r);
	assert_null(policy_find(s, "nope"));
	policy_free(s);
}

static void
test_empty_file(void **state)
{
	struct policy_set *s = load_ok("# no rules yet\n");

	assert_int_equal(policy_count(s), 0);
	policy_free(s);
	s = load_ok("rules: []\n");
	assert_int_equal(policy_count(s), 0);
	policy_free(s);
}

static void
test_errors_load_nothing(void **state)
{
	char *path = tu_write_tmp("bad.yaml",
	    "rules:\n"
	    "  - name: ok\n"
	    "  - name: bad\n"
	    "    run_if_below: -1\n"
	    "    caps: {sites: [a]}\n"
	    "    defaults: {sites: [b]}\n");
	struct policy_set *s = (struct policy_set *)&s;
	char *errs = NULL, *want;

	assert_int_equal(policy_load(path, &s, &errs), -1);
	assert_null(s);
	want = xasprintf(
	    "%s:4:19: run_if_below: must be at least 0, got -1\n"
	    "%s:6:24: sites: default site 'b' is not in the rule's "
	    "caps.sites\n", path, path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);

	assert_int_equal(policy_load("/nonexistent/p.yaml", &s, &errs), -1);
	assert_null(s);
	assert_non_null(strstr(errs, "/nonexistent/p.yaml"));
	free(errs);
}

/* 30,000 rules, one named again: found, in time linear in practice. */
static void
test_many_rules(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct policy_set *s;
	clock_t t0 = clock();
	char *path, *errs = NULL, *want;
	double cpu;

	strbuf_adds(&text, "rules:\n");
	for (int i = 0; i < 30000; i++)
		strbuf_addf(&text, "  - {name: r%05d}\n", i);
	strbuf_adds(&text, "  - {name: r00042}\n");
	path = tu_write_tmp("many.yaml", strbuf_str(&text));
	assert_int_equal(policy_load(path, &s, &errs), -1);
	want = xasprintf("%s:30002:12: duplicate rule name 'r00042' (first at "
	    "line 44, column 12)\n", path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);
	strbuf_free(&text);
	cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("30,000 rules: %.2f s of CPU\n", cpu);
	assert_true(cpu < 10);
}

static void
test_examples(void **state)
{
	struct dirent **ents;
	int n, failed = 0;
	char *dir = xasprintf("%s/../examples/policies", tu_data_dir());

	n = tu_scan_yaml(dir, &ents);
	assert_true(n >= 3);
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, ents[i]->d_name);
		struct policy_set *s;
		char *errs;

		if (policy_load(path, &s, &errs) == -1) {
			print_error("%s", errs);
			free(errs);
			failed++;
		} else {
			if (policy_count(s) == 0) {
				print_error("%s: no rules\n", path);
				failed++;
			}
			policy_free(s);
		}
		free(path);
		free(ents[i]);
	}
	free(ents);
	free(dir);
	assert_int_equal(failed, 0);
}

/* A policy_load() for tu_golden(). */
static int
load_policy(const char *path, char **errs)
{
	struct policy_set *s;

	if (policy_load(path, &s, errs) == -1)
		return -1;
	policy_free(s);
	return 0;
}

static void
test_golden(void **state)
{
	int failed;

	assert_true(tu_golden("golden/policies", load_policy, &failed) >= 8);
	assert_int_equal(failed, 0);
}

static const char match_rules[] =
    "rules:\n"
    "  - name: admins\n"
    "    match: {users: [root, ops]}\n"
    "  - name: ml\n"
    "    match: {groups: [ml, research]}\n"
    "  - name: gpu-train\n"
    "    match: {names: [\"train-*\", \"ft-[0-9]*\"], tags: [gpu, big]}\n"
    "  - name: anyone\n";

/* The name of the rule matched for j, or "-". */
static const char *
matched(const struct policy_set *s, const struct job *j,
    const struct policy_subject *who)
{
	char err[256] = "";
	const struct policy_rule *r = policy_match(s, j, who, err, sizeof(err));

	assert_string_equal(err, "");
	return r ? r->name : "-";
}

static void
test_match(void **state)
{
	struct policy_set *s = load_ok(match_rules);
	const char *const ml[] = { "users", "ml", NULL };
	const char *const none[] = { "users", NULL };
	struct policy_subject carol = { "carol", ml }, dave = { "dave", none };
	struct job *j;

	/* users: the owner from the subject, else the job's user. */
	j = job("x", "ops", NULL);
	assert_string_equal(matched(s, j, NULL), "admins");
	assert_string_equal(matched(s, j, &dave), "anyone");
	job_free(j);
	/* groups: any of the subject's groups; first match wins. */
	j = job("train-1", "carol", "[\"gpu\",\"big\"]");
	assert_string_equal(matched(s, j, &carol), "ml");
	assert_string_equal(matched(s, j, &dave), "gpu-train");
	job_free(j);
	/* names: globs; tags: all of them. */
	j = job("ft-7b", "dave", "[\"big\",\"gpu\",\"x\"]");
	assert_string_equal(matched(s, j, &dave), "gpu-train");
	job_free(j);
	j = job("ft-x", "dave", "[\"big\",\"gpu\"]");
	assert_string_equal(matched(s, j, &dave), "anyone");
	job_free(j);
	j = job("train-2", "dave", "[\"gpu\"]");
	assert_string_equal(matched(s, j, &dave), "anyone");
	job_free(j);
	policy_free(s);

	/* No catch-all: nothing matches. */
	s = load_ok("rules:\n  - name: a\n    match: {users: [a]}\n");
	j = job("x", "b", NULL);
	assert_string_equal(matched(s, j, NULL), "-");
	job_free(j);
	policy_free(s);
}

static void
test_match_requested(void **state)
{
	struct policy_set *s = load_ok(match_rules);
	const char *const none[] = { NULL };
	struct policy_subject dave = { "dave", none };
	struct job *j = job("train-3", "dave", "[\"gpu\",\"big\"]");
	char err[256] = "";

	/* A later rule picked by name, over the first match. */
	j->policy = xstrdup("anyone");
	assert_string_equal(matched(s, j, &dave), "anyone");
	free(j->policy);
	j->policy = xstrdup("admins");
	assert_null(policy_match(s, j, &dave, err, sizeof(err)));
	assert_string_equal(err, "policy 'admins' does not apply to job "
	    "'train-3': user 'dave' is not one of its users");
	free(j->policy);
	j->policy = xstrdup("ml");
	assert_null(policy_match(s, j, &dave, err, sizeof(err)));
	assert_string_equal(err, "policy 'ml' does not apply to job "
	    "'train-3': user 'dave' is in none of its groups");
	free(j->policy);
	j->policy = xstrdup("nope");
	assert_null(policy_match(s, j, &dave, err, sizeof(err)));
	assert_string_equal(err, "policy 'nope': no such rule");
	free(j->name);
	j->name = xstrdup("eval");
	free(j->policy);
	j->policy = xstrdup("gpu-train");
	assert_null(policy_match(s, j, &dave, err, sizeof(err)));
	assert_string_equal(err, "policy 'gpu-train' does not apply to job "
	    "'eval': name 'eval' matches none of its names");
	free(j->name);
	j->name = xstrdup("train-4");
	json_array_remove(j->tags, 1);
	assert_null(policy_match(s, j, &dave, err, sizeof(err)));
	assert_string_equal(err, "policy 'gpu-train' does not apply to job "
	    "'train-4': it lacks the tag 'big'");
	job_free(j);
	policy_free(s);
}

static const char apply_rules[] =
    "rules:\n"
    "  - name: ml\n"
    "    defaults:\n"
    "      max_delay: 12h\n"
    "      duration: 2h\n"
    "      sites: [local]\n"
    "      interruptible: true\n"
    "      power_w_per_cpu: 15\n"
    "    caps:\n"
    "      max_delay: 1d\n"
    "      sites: [local, eu-west]\n"
    "  - name: eu\n"
    "    caps:\n"
    "      max_delay: 6h\n"
    "      sites: [eu-west, eu-north]\n"
    "  - name: free\n";

static void
test_apply_defaults(void **state)
{
	struct policy_set *s = load_ok(apply_rules);
	const struct policy_rule *ml = policy_find(s, "ml");
	char err[256] = "", *t;
	struct job *j = job("train", "alice", NULL);

	j->cpus = 4;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), 0);
	assert_int_equal(j->duration, 7200);
	assert_string_equal(j->duration_source, "policy");
	assert_int_equal(j->max_delay, 12 * 3600);
	assert_string_equal(t = sites_text(j), "[\"local\"]");
	free(t);
	assert_int_equal(j->interruptible, 1);
	assert_true(j->power_w == 60);
	assert_string_equal(j->policy_applied, "ml");
	job_free(j);

	/* What the job said stays; a deadline keeps max_delay unset. */
	j = job("train", "alice", NULL);
	j->duration = 600;
	j->duration_source = xstrdup("user");
	j->deadline = NOW + 3600;
	json_array_append_new(j->sites, json_string("eu-west"));
	j->power_w = 100;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), 0);
	assert_int_equal(j->duration, 600);
	assert_string_equal(j->duration_source, "user");
	assert_int_equal(j->max_delay, 0);
	assert_string_equal(t = sites_text(j), "[\"eu-west\"]");
	free(t);
	assert_true(j->power_w == 100);
	job_free(j);

	/* No default: the cap bounds the delay, the allow-list the sites. */
	j = job("etl", "bob", NULL);
	assert_int_equal(policy_apply(policy_find(s, "eu"), j, NOW, err,
	    sizeof(err)), 0);
	assert_int_equal(j->max_delay, 6 * 3600);
	assert_string_equal(t = sites_text(j), "[\"eu-west\",\"eu-north\"]");
	free(t);
	assert_int_equal(j->duration, 0);
	assert_null(j->duration_source);
	assert_int_equal(j->interruptible, 0);
	assert_string_equal(j->policy_applied, "eu");
	job_free(j);

	/* A rule without defaults or caps changes nothing but the name. */
	j = job("etl", "bob", NULL);
	assert_int_equal(policy_apply(policy_find(s, "free"), j, NOW, err,
	    sizeof(err)), 0);
	assert_int_equal(j->max_delay + j->duration, 0);
	assert_int_equal(json_array_size(j->sites), 0);
	assert_string_equal(j->policy_applied, "free");
	job_free(j);
	policy_free(s);
}

static void
test_apply_caps(void **state)
{
	struct policy_set *s = load_ok(apply_rules);
	const struct policy_rule *ml = policy_find(s, "ml");
	const struct policy_rule *eu = policy_find(s, "eu");
	char err[256] = "", *t;
	struct job *j = job("train", "alice", NULL);

	j->max_delay = 2 * 86400;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "max_delay: 2d exceeds the 1d allowed by "
	    "policy 'ml'");
	/* Refused: the job is as it was. */
	assert_int_equal(j->duration, 0);
	assert_null(j->duration_source);
	assert_int_equal(json_array_size(j->sites), 0);
	assert_null(j->policy_applied);
	assert_int_equal(j->interruptible, 0);
	/* Exactly the cap is allowed. */
	j->max_delay = 86400;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), 0);
	job_free(j);

	/* A deadline's delay counts the duration, defaulted or not. */
	j = job("train", "alice", NULL);
	j->deadline = NOW + 86400 + 2 * 3600 + 60;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "deadline: 2026-01-02T02:01:00Z allows a "
	    "delay of 1d1m, more than the 1d allowed by policy 'ml'");
	j->deadline -= 60;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), 0);
	assert_int_equal(j->duration, 7200);
	job_free(j);
	/* ... counted from a begin yet to come */
	j = job("train", "alice", NULL);
	j->begin = NOW + 3 * 86400;
	j->deadline = j->begin + 86400 + 2 * 3600;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), 0);
	job_free(j);
	j = job("train", "alice", NULL);
	j->begin = NOW + 3 * 86400;
	j->deadline = j->begin + 86400 + 2 * 3600 + 60;
	assert_int_equal(policy_apply(ml, j, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "deadline: 2026-01-05T02:01:00Z allows a "
	    "delay of 1d1m, more than the 1d allowed by policy 'ml'");
	job_free(j);

	j = job("etl", "bob", NULL);
	json_array_append_new(j->sites, json_string("eu-north"));
	json_array_append_new(j->sites, json_string("us-east"));
	assert_int_equal(policy_apply(eu, j, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "sites: 'us-east' is not among the sites "
	    "allowed by policy 'eu' (eu-west, eu-north)");
	assert_null(j->policy_applied);
	assert_int_equal(j->max_delay, 0);
	json_array_remove(j->sites, 1);
	assert_int_equal(policy_apply(eu, j, NOW, err, sizeof(err)), 0);
	assert_string_equal(t = sites_text(j), "[\"eu-north\"]");
	free(t);
	job_free(j);
	policy_free(s);
}

static void
test_describe(void **state)
{
	struct policy_set *s = load_ok(match_rules);
	char *d;

	assert_string_equal(d = policy_describe(policy_rule_at(s, 0)),
	    "users root, ops");
	free(d);
	assert_string_equal(d = policy_describe(policy_rule_at(s, 2)),
	    "names train-*, ft-[0-9]*; tags gpu, big");
	free(d);
	assert_string_equal(d = policy_describe(policy_rule_at(s, 3)),
	    "every job");
	free(d);
	policy_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_errors_load_nothing),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_requested),
		cmocka_unit_test(test_apply_defaults),
		cmocka_unit_test(test_apply_caps),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
