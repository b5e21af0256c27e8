/*
 * cgroup: one job's control group, used by ebb-run to contain, measure,
 * freeze and kill a job.
 *
 * On cgroup v1 and hybrid hosts the group lives in the cpuacct, memory and
 * freezer hierarchies (each one that is mounted; cpuacct is required) and is
 * created, modified, read and deleted through libcgroup 2.0.2. On a cgroup v2
 * host it is a directory of the unified tree driven with plain file I/O
 * (libcgroup 2.0.2 hides the v2 core files). Processes always join through
 * cgroup.procs, so every thread moves. The module prefix is cg_ because
 * libcgroup owns cgroup_*.
 *
 * It does not pick group names, enforce CPU counts, or remove parent groups
 * (other jobs may be using them); the caller names the group, e.g.
 * "ebb/<instance>/job-12", relative to each hierarchy's root.
 */
#ifndef EBB_CGROUP_H
#define EBB_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cg_mode {
	CG_NONE,	/* no cgroup file system under /sys/fs/cgroup */
	CG_LEGACY,	/* v1 hierarchies only */
	CG_HYBRID,	/* v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified */
	CG_UNIFIED,	/* cgroup2 at /sys/fs/cgroup */
};

struct cg;

/* How /sys/fs/cgroup is mounted (statfs, as systemd does it). */
enum cg_mode	cg_detect(void);

/*
 * Creates the group `name` (parents as needed) and returns a handle owned
 * by the caller, released by cg_destroy. CG_LEGACY and CG_HYBRID use the v1
 * controllers; CG_UNIFIED uses cgroup2 (on a hybrid host the tree at
 * /sys/fs/cgroup/unified). mem_limit is in bytes, 0 for none; it is not
 * enforced where no memory controller is available. The group must not
 * exist yet. On failure returns NULL with err set, and sets *unavailable
 * to 1 when cgroups cannot be used here at all (not mounted, or not
 * permitted: not root and no delegated subtree), else to 0.
 */
struct cg	*cg_create(const char *name, enum cg_mode mode,
		    int64_t mem_limit, int *unavailable, char *err,
		    size_t errlen);
/* "cgroup-v1" or "cgroup-v2": what a result's "measure" says. */
const char	*cg_measure(const struct cg *);
/*
 * Moves the whole process pid (all its threads) into the group in every
 * hierarchy. Allocates nothing, so a forked child may call it for itself.
 */
int	cg_attach(const struct cg *, pid_t pid, char *err, size_t errlen);
/* CPU time used by everything that ever ran in the group, microseconds. */
int	cg_cpu_usec(const struct cg *, int64_t *usec, char *err,
	    size_t errlen);
/* Peak memory use of the group in bytes, -1 where the kernel has no peak. */
int64_t	cg_peak_mem(const struct cg *);
/* Freeze (1) or thaw (0) the group and wait until the kernel reports it. */
int	cg_freeze(struct cg *, int freeze, char *err, size_t errlen);
/* Number of processes in the group, -1 with err set if unreadable. */
int	cg_nprocs(const struct cg *, char *err, size_t errlen);
/*
 * Sends sig to every process in the group, thawing it first. For SIGKILL
 * it repeats until the group is empty (or fails after 10 s).
 */
int	cg_signal(struct cg *, int sig, char *err, size_t errlen);
/*
 * Kills what is left in the group, removes it from every hierarchy and
 * frees the handle (also on failure). Fails if a directory remains.
 */
int	cg_destroy(struct cg *, char *err, size_t errlen);

/*
 * CPU time (µs) used so far by an existing group that someone else made
 * (ebbd reading ebb-run's groups): v1 cpuacct.usage, else v2 cpu.stat.
 * Returns 0, or -1 when the group is not there (any more).
 */
int	cg_usage_by_name(const char *name, int64_t *usec);

/*
 * Removes the directory `name` from every hierarchy where it exists and is
 * empty (a daemon's "ebb/<instance>" parent when it stops); best effort.
 */
void	cg_prune(const char *name);

/*
 * One non-blocking step of removing a group whose owner is gone (ebbd
 * cleaning up after a killed ebb-run): thaws it, SIGKILLs every process
 * in it in every hierarchy, and removes the directories that are empty.
 * Returns how many directories remain (call again later while > 0), or -1
 * for an invalid name.
 */
int	cg_reap_by_name(const char *name);
/*
 * The names of the child groups of `name` in any hierarchy, each once, as
 * a NULL-terminated array the caller frees (strings and array).
 */
char	**cg_children(const char *name);

#endif
