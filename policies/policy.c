/*
 * policy: policy files (see policy.h and docs/policies.md).
 *
 * Parsing, types, bounds and error positions come from yamltree: this file
 * is the key tables of a rule, the checks that look at more than one value
 * (unique rule names, sane globs and site names, defaults within the rule's
 * own caps), and the two things the daemon does with a rule: pick it for a
 * job and apply it. It does not know the configured sites (ebbd checks the
 * names against ebb.yaml) and does not resolve users' groups (the caller
 * passes them in a policy_subject).
 */
#include <fnmatch.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/job.h"
#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/yamltree.h"
#include "policies/policy.h"

struct policy_set {
	struct policy_rule	*rules;
	size_t			 nrules;
};

#define PR(f)	offsetof(struct policy_rule, f)
#define MAX_SPAN	(INT64_C(366) * 86400)

static const struct yt_key match_keys[] = {
	{ .name = "users", .type = YT_STRLIST, .offset = PR(users),
	  .doc = "login names; the job's owner is any of them" },
	{ .name = "groups", .type = YT_STRLIST, .offset = PR(groups),
	  .doc = "group names; the owner is in any of them" },
	{ .name = "names", .type = YT_STRLIST, .offset = PR(names),
	  .doc = "shell globs; the job's name matches any of them" },
	{ .name = "tags", .type = YT_STRLIST, .offset = PR(tags),
	  .doc = "the job has all of these tags" },
	{ .name = NULL },
};

static const struct yt_key default_keys[] = {
	{ .name = "max_delay", .type = YT_DURATION, .min = 0, .max = MAX_SPAN,
	  .offset = PR(max_delay),
	  .doc = "delay for jobs with neither deadline nor max_delay" },
	{ .name = "duration", .type = YT_DURATION, .min = 1, .max = MAX_SPAN,
	  .offset = PR(duration), .doc = "run-time estimate when none given" },
	{ .name = "sites", .type = YT_STRLIST, .offset = PR(sites),
	  .doc = "sites for jobs that name none" },
	{ .name = "interruptible", .type = YT_BOOL, .offset = PR(interruptible),
	  .doc = "true: jobs may be paused unless they say otherwise" },
	{ .name = "power_w_per_cpu", .type = YT_FLOAT, .fmin = 0,
	  .fmax = 10000, .offset = PR(power_w_per_cpu),
	  .doc = "expected watts per CPU for jobs that give no power" },
	{ .name = NULL },
};

static const struct yt_key cap_keys[] = {
	{ .name = "max_delay", .type = YT_DURATION, .min = 1, .max = MAX_SPAN,
	  .offset = PR(max_delay_cap), .doc = "longest delay a job may ask for" },
	{ .name = "sites", .type = YT_STRLIST, .offset = PR(allowed_sites),
	  .doc = "the only sites jobs may run on" },
	{ .name = NULL },
};

static const struct yt_key weight_keys[] = {
	{ .name = "delay_g_per_h", .type = YT_FLOAT, .fmin = 0,
	  .fmax = HUGE_VAL, .offset = PR(delay_g_per_h),
	  .doc = "grams of CO2e an hour of delay is worth to the planner" },
	{ .name = NULL },
};

static const struct yt_key rule_keys[] = {
	{ .name = "name", .type = YT_STRING, .required = 1, .offset = PR(name),
	  .doc = "unique rule name" },
	{ .name = "match", .type = YT_STRUCT, .sub = match_keys, .offset = 0,
	  .doc = "which jobs the rule is for; omitted: every job" },
	{ .name = "defaults", .type = YT_STRUCT, .sub = default_keys,
	  .offset = 0, .doc = "values for what a job left out" },
	{ .name = "caps", .type = YT_STRUCT, .sub = cap_keys, .offset = 0,
	  .doc = "limits a job cannot exceed" },
	{ .name = "run_if_below", .type = YT_FLOAT, .fmin = 0,
	  .fmax = HUGE_VAL, .offset = PR(run_if_below),
	  .doc = "g/kWh: start at once when the origin is this clean" },
	{ .name = "run_now", .type = YT_BOOL, .offset = PR(run_now),
	  .doc = "start at once, without shifting" },
	{ .name = "weights", .type = YT_STRUCT, .sub = weight_keys,
	  .offset = 0, .doc = "planner weights" },
	{ .name = NULL },
};

static void
rule_init(void *p)
{
	struct policy_rule *r = p;

	r->interruptible = -1;
	r->delay_g_per_h = -1;
}

static const struct yt_key file_keys[] = {
	{ .name = "rules", .type = YT_MAPLIST, .sub = rule_keys,
	  .offset = offsetof(struct policy_set, rules),
	  .elemsize = sizeof(struct policy_rule),
	  .count_offset = offsetof(struct policy_set, nrules),
	  .init = rule_init, .doc = "the rules, first match wins" },
	{ .name = NULL },
};

/* Why glob pattern p is malformed, or NULL. */
static const char *
glob_problem(const char *p)
{
	if (p[0] == '\0')
		return "is empty";
	for (size_t i = 0; p[i] != '\0'; i++) {
		if (p[i] == '\\') {
			if (p[++i] == '\0')
				return "ends in a lone '\\'";
		} else if (p[i] == '[') {
			size_t j = i + 1;

			if (p[j] == '!' || p[j] == '^')
				j++;
			if (p[j] == ']')
				j++;
			while (p[j] != '\0' && p[j] != ']')
				j++;
			if (p[j] == '\0')
				return "has a '[' without its ']'";
			i = j;
		}
	}
	return NULL;
}

static int
site_name_ok(const char *s)
{
	return s[0] != '\0' && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-")] == '\0';
}

static int
strlist_has(const struct yt_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* The scalar items of list node section.key, or NULL if it is not a list. */
static const struct yt_node *
list_node(const struct yt_node *rule, const char *section, const char *key)
{
	const struct yt_node *n = yt_get(yt_get(rule, section), key);

	return n != NULL && n->kind == YT_SEQ ? n : NULL;
}

/* The number of items of list node l (0 for NULL). */
static size_t
nitems(const struct yt_node *l)
{
	return l != NULL ? l->nkids : 0;
}

/* Checks on the items of the rule's lists: names, globs, site names. */
static void
check_lists(struct yt_doc *d, const struct yt_node *rn)
{
	static const char *const names[] = { "users", "groups", "tags" };
	static const char *const sites[] = { "defaults", "caps" };
	const struct yt_node *l, *v;
	const char *why;

	for (size_t k = 0; k < 3; k++) {
		l = list_node(rn, "match", names[k]);
		for (size_t i = 0; i < nitems(l); i++)
			if ((v = l->kids[i])->kind == YT_SCALAR &&
			    v->text[0] == '\0')
				yt_error(d, v, "%s: empty name", names[k]);
	}
	l = list_node(rn, "match", "names");
	for (size_t i = 0; i < nitems(l); i++)
		if ((v = l->kids[i])->kind == YT_SCALAR &&
		    (why = glob_problem(v->text)) != NULL)
			yt_error(d, v, "names: pattern '%s' %s", v->text, why);
	for (size_t k = 0; k < 2; k++) {
		l = list_node(rn, sites[k], "sites");
		for (size_t i = 0; i < nitems(l); i++)
			if ((v = l->kids[i])->kind == YT_SCALAR &&
			    !site_name_ok(v->text))
				yt_error(d, v, "sites: '%s' is not a site name "
				    "([A-Za-z0-9_.-]+)", v->text);
	}
}

/* A rule's defaults must lie within its own caps. */
static void
check_defaults(struct yt_doc *d, const struct yt_node *rn,
    const struct policy_rule *r)
{
	const struct yt_node *l = list_node(rn, "defaults", "sites");
	char a[32], b[32];

	if (r->max_delay_cap != 0 && r->max_delay > r->max_delay_cap)
		yt_error(d, yt_get(yt_get(rn, "defaults"), "max_delay"),
		    "max_delay: the default %s exceeds the rule's own cap of "
		    "%s", ebb_fmt_duration(r->max_delay, a, sizeof(a)),
		    ebb_fmt_duration(r->max_delay_cap, b, sizeof(b)));
	for (size_t i = 0; r->allowed_sites.n > 0 && i < nitems(l); i++)
		if (l->kids[i]->kind == YT_SCALAR &&
		    !strlist_has(&r->allowed_sites, l->kids[i]->text))
			yt_error(d, l->kids[i], "sites: default site '%s' is "
			    "not in the rule's caps.sites", l->kids[i]->text);
}

/* Checks that span keys or rules. */
static void
check_rules(struct yt_doc *d, const struct policy_set *s)
{
	const struct yt_node *rules = yt_get(yt_root(d), "rules");
	const struct yt_node **names;

	if (rules == NULL || rules->kind != YT_SEQ)
		return;
	names = xcalloc(s->nrules + 1, sizeof(*names));
	for (size_t i = 0; i < s->nrules && i < rules->nkids; i++) {
		const struct yt_node *rn = rules->kids[i];
		const struct yt_node *n = yt_get(rn, "name");

		if (rn->kind != YT_MAP)
			continue;
		check_lists(d, rn);
		check_defaults(d, rn, &s->rules[i]);
		if (s->rules[i].name == NULL || n == NULL)
			continue;
		if (!site_name_ok(s->rules[i].name))
			yt_error(d, n, "name: '%s' may only contain letters, "
			    "digits, '_', '.' and '-'", s->rules[i].name);
		else if (strlen(s->rules[i].name) > JOB_NAME_MAX)
			yt_error(d, n, "name: longer than %d characters (jobs "
			    "could not ask for it)", JOB_NAME_MAX);
		names[i] = n;
	}
	yt_check_unique(d, names, s->nrules, "rule name");
	free(names);
}

void
policy_free(struct policy_set *s)
{
	if (s == NULL)
		return;
	yt_free_fields(file_keys, s);
	free(s);
}

int
policy_load(const char *path, struct policy_set **out, char **errs)
{
	struct yt_doc *d = yt_load(path);
	struct policy_set *s = xcalloc(1, sizeof(*s));

	*out = NULL;
	*errs = NULL;
	if (yt_nerrors(d) == 0) {
		yt_decode(d, yt_root(d), file_keys, s);
		check_rules(d, s);
	}
	if (yt_nerrors(d) > 0) {
		*errs = yt_errors(d);
		yt_free(d);
		policy_free(s);
		return -1;
	}
	yt_free(d);
	*out = s;
	return 0;
}

size_t
policy_count(const struct policy_set *s)
{
	return s->nrules;
}

const struct policy_rule *
policy_rule_at(const struct policy_set *s, size_t i)
{
	return i < s->nrules ? &s->rules[i] : NULL;
}

const struct policy_rule *
policy_find(const struct policy_set *s, const char *name)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (strcmp(s->rules[i].name, name) == 0)
			return &s->rules[i];
	return NULL;
}

static int
json_strings_have(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* 0 if rule r matches the job, else -1 with the first reason in why. */
static int
mismatch(const struct policy_rule *r, const struct job *j,
    const struct policy_subject *who, char *why, size_t len)
{
	const char *user = who != NULL && who->user != NULL ? who->user :
	    j->user;
	const char *name = j->name != NULL ? j->name : "";
	size_t i;
	int ok;

	if (r->users.n > 0 && (user == NULL || !strlist_has(&r->users, user))) {
		snprintf(why, len, "user '%s' is not one of its users",
		    user != NULL ? user : "");
		return -1;
	}
	if (r->groups.n > 0) {
		ok = 0;
		for (i = 0; !ok && who != NULL && who->groups != NULL &&
		    who->groups[i] != NULL; i++)
			ok = strlist_has(&r->groups, who->groups[i]);
		if (!ok) {
			snprintf(why, len, "user '%s' is in none of its groups",
			    user != NULL ? user : "");
			return -1;
		}
	}
	if (r->names.n > 0) {
		ok = 0;
		for (i = 0; !ok && i < r->names.n; i++)
			ok = fnmatch(r->names.v[i], name, 0) == 0;
		if (!ok) {
			snprintf(why, len, "name '%s' matches none of its "
			    "names", name);
			return -1;
		}
	}
	for (i = 0; i < r->tags.n; i++) {
		if (!json_strings_have(j->tags, r->tags.v[i])) {
			snprintf(why, len, "it lacks the tag '%s'",
			    r->tags.v[i]);
			return -1;
		}
	}
	return 0;
}

const struct policy_rule *
policy_match(const struct policy_set *s, const struct job *j,
    const struct policy_subject *who, char *err, size_t errlen)
{
	const struct policy_rule *r;
	char why[256];

	if (j->policy != NULL) {
		if ((r = policy_find(s, j->policy)) == NULL) {
			snprintf(err, errlen, "policy '%s': no such rule",
			    j->policy);
			return NULL;
		}
		if (mismatch(r, j, who, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "policy '%s' does not apply to "
			    "job '%s': %s", r->name, j->name ? j->name : "",
			    why);
			return NULL;
		}
		return r;
	}
	for (size_t i = 0; i < s->nrules; i++)
		if (mismatch(&s->rules[i], j, who, why, sizeof(why)) == 0)
			return &s->rules[i];
	return NULL;
}

/* "a, b, c" of a list, into buf. */
static char *
join(const struct yt_strlist *l, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? ", " : "", l->v[i]);
	return buf;
}

/* The delay checks: a max_delay or a deadline beyond the cap. */
static int
check_delay(const struct policy_rule *r, const struct job *j,
    int64_t max_delay, int64_t duration, int64_t now, char *err,
    size_t errlen)
{
	char a[32], b[32], t[32];
	int64_t delay;

	if (r->max_delay_cap == 0)
		return 0;
	if (max_delay > r->max_delay_cap) {
		snprintf(err, errlen, "max_delay: %s exceeds the %s allowed "
		    "by policy '%s'", ebb_fmt_duration(max_delay, a, sizeof(a)),
		    ebb_fmt_duration(r->max_delay_cap, b, sizeof(b)), r->name);
		return -1;
	}
	/* counted, as a max_delay is, from a begin yet to come */
	if (j->begin > now)
		now = j->begin;
	if (j->deadline != 0 && (delay = j->deadline - now - duration) >
	    r->max_delay_cap) {
		snprintf(err, errlen, "deadline: %s allows a delay of %s, more "
		    "than the %s allowed by policy '%s'",
		    ebb_fmt_time(j->deadline, t, sizeof(t)),
		    ebb_fmt_duration(delay, a, sizeof(a)),
		    ebb_fmt_duration(r->max_delay_cap, b, sizeof(b)), r->name);
		return -1;
	}
	return 0;
}

int
policy_apply(const struct policy_rule *r, struct job *j, int64_t now,
    char *err, size_t errlen)
{
	int64_t duration = j->duration, max_delay = j->max_delay;
	json_t *sites = NULL, *v;
	char list[512];
	size_t i;

	if (duration == 0)
		duration = r->duration;
	if (max_delay == 0 && j->deadline == 0)
		max_delay = r->max_delay != 0 ? r->max_delay : r->max_delay_cap;
	if (check_delay(r, j, max_delay, duration, now, err, errlen) == -1)
		return -1;
	if (j->sites == NULL || json_array_size(j->sites) == 0) {
		if (r->sites.n > 0)
			sites = yt_strlist_json(&r->sites);
		else if (r->allowed_sites.n > 0)
			sites = yt_strlist_json(&r->allowed_sites);
	}
	json_array_foreach(sites != NULL ? sites : j->sites, i, v) {
		if (r->allowed_sites.n > 0 && (!json_is_string(v) ||
		    !strlist_has(&r->allowed_sites, json_string_value(v)))) {
			snprintf(err, errlen, "sites: '%s' is not among the "
			    "sites allowed by policy '%s' (%s)",
			    json_is_string(v) ? json_string_value(v) : "",
			    r->name, join(&r->allowed_sites, list,
			    sizeof(list)));
			json_decref(sites);
			return -1;
		}
	}
	if (j->duration == 0 && duration != 0) {
		j->duration = duration;
		free(j->duration_source);
		j->duration_source = xstrdup("policy");
	}
	j->max_delay = max_delay;
	if (sites != NULL) {
		json_decref(j->sites);
		j->sites = sites;
	}
	if (r->interruptible == 1)
		j->interruptible = 1;
	if (j->power_w == 0 && r->power_w_per_cpu > 0)
		j->power_w = r->power_w_per_cpu * j->cpus;
	free(j->policy_applied);
	j->policy_applied = xstrdup(r->name);
	return 0;
}

char *
policy_describe(const struct policy_rule *r)
{
	static const struct {
		const char	*label;
		size_t		 offset;
	} parts[] = {
		{ "users", PR(users) }, { "groups", PR(groups) },
		{ "names", PR(names) }, { "tags", PR(tags) },
	};
	struct strbuf s = STRBUF_INIT;
	char list[1024];

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const struct yt_strlist *l = (const struct yt_strlist *)
		    (const void *)((const char *)r + parts[i].offset);

		if (l->n > 0)
			strbuf_addf(&s, "%s%s %s", s.len ? "; " : "",
			    parts[i].label, join(l, list, sizeof(list)));
	}
	if (s.len == 0)
		strbuf_adds(&s, "every job");
	return strbuf_take(&s);
}
