/*
 * policy: YAML rules that fill in and bound what a job may ask for.
 *
 * A policy file holds an ordered list of rules. A rule matches jobs by
 * user, group, name glob and tags; the first rule that matches a job
 * applies. It sets defaults for what the job left out (max delay,
 * duration, sites, interruptible, power), caps the job cannot exceed
 * (longest delay, a site allow-list, e.g. for data that must stay in a
 * jurisdiction), thresholds (run_if_below: start at once when the origin
 * site is already that clean; run_now), and planner weights. Loading is
 * all-or-nothing and reports every error as "file:line:col: message".
 */
#ifndef EBB_POLICY_H
#define EBB_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/yamltree.h"

struct job;

struct policy_rule {
	char			*name;		/* unique in the file */
	/* match: every given list must match (users/groups: any member) */
	struct yt_strlist	 users, groups, names /* globs */, tags;
	/* defaults, for what the job left out (0 / NULL: none) */
	int64_t			 max_delay, duration;
	struct yt_strlist	 sites;
	int			 interruptible;	/* -1: leave as asked */
	double			 power_w_per_cpu;	/* 0: daemon default */
	/* caps the job cannot exceed */
	int64_t			 max_delay_cap;	/* 0: none */
	struct yt_strlist	 allowed_sites;	/* empty: any */
	/* thresholds and planner weights */
	double			 run_if_below;	/* g/kWh, 0: none */
	int			 run_now;
	double			 delay_g_per_h;	/* < 0: daemon default */
};

struct policy_set;

/*
 * Loads path. 0 and a new set in *out (policy_free), or -1 with every
 * error as "file:line:col: message\n" lines in *errs (caller frees).
 */
int	policy_load(const char *path, struct policy_set **out, char **errs);
void	policy_free(struct policy_set *);
size_t	policy_count(const struct policy_set *);
const struct policy_rule *policy_rule_at(const struct policy_set *, size_t);
/* The rule called name (e.g. a job's policy_applied), or NULL. */
const struct policy_rule *policy_find(const struct policy_set *,
	    const char *name);
/*
 * What a rule matches, for people: "users alice, bob; tags gpu", or
 * "every job" (caller frees).
 */
char	*policy_describe(const struct policy_rule *);

/* Who submitted a job, for matching. */
struct policy_subject {
	const char	*user;
	const char *const *groups;	/* NULL-terminated group names */
};

/*
 * The rule for a job: the one it asks for by name (j->policy; it must
 * also match the job), else the first that matches, else NULL. With a
 * requested name that is unknown or does not match, returns NULL and says
 * why in err.
 */
const struct policy_rule *policy_match(const struct policy_set *,
	    const struct job *, const struct policy_subject *, char *err,
	    size_t errlen);
/*
 * Fills the job's unset fields from the rule's defaults and checks its
 * caps relative to `now`: a job asking for more (a longer delay, a site
 * outside the allow-list) is refused with err naming the field and the
 * cap, e.g. "max_delay: 2d exceeds the 1d allowed by policy 'batch'".
 * Sets j->policy_applied. Returns 0 or -1; on -1 the job is unchanged.
 *
 * In detail: duration 0 takes the default (duration_source "policy");
 * a job with neither deadline nor max_delay gets the default max_delay,
 * else the cap; an empty site list takes the default sites, else the
 * allow-list; interruptible: true makes the job interruptible (false
 * leaves it as asked); power_w 0 becomes power_w_per_cpu * cpus. The
 * effective delay (max_delay, and deadline - now - duration) must not
 * exceed max_delay_cap; every site must be in allowed_sites.
 */
int	policy_apply(const struct policy_rule *, struct job *, int64_t now,
	    char *err, size_t errlen);

#endif
