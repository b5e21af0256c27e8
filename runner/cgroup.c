/*
 * cgroup: a job's control group on cgroup v1 (through libcgroup 2.0.2) or
 * cgroup v2 (plain files under the unified mount).
 *
 * libcgroup does the v1 work it does well: creating a group in several
 * hierarchies with its limit, writing freezer.state, reading single values
 * and deleting. Joining and listing go through cgroup.procs directly,
 * because libcgroup's attach writes "tasks" and moves only one thread. It
 * does not cache anything across groups except libcgroup's mount table.
 */
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <libcgroup.h>
#include <linux/magic.h>

#include "common/xmalloc.h"
#include "runner/cgroup.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_MAXDIRS	3
#define CG_POLL_NS	10000000L	/* 10 ms between state polls */
#define CG_WAIT_POLLS	1000		/* 10 s in all */

/* The v1 controllers a job group lives in; cpuacct is required. */
static const char *const v1_ctls[CG_MAXDIRS] = { "cpuacct", "memory",
    "freezer" };

struct cg {
	int		 v2;
	char		*name;
	struct cgroup	*lc;			/* v1: the libcgroup group */
	int		 ndirs;
	char		*dir[CG_MAXDIRS];	/* the group in each hierarchy */
	char		*procs[CG_MAXDIRS];	/* dir[i]/cgroup.procs */
	int		 has_mem, has_freezer;	/* v1 hierarchies present */
	int		 frozen;
};

enum cg_mode
cg_detect(void)
{
	struct statfs fs;

	if (statfs(CG_ROOT, &fs) != 0)
		return CG_NONE;
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return CG_UNIFIED;
	if (fs.f_type != TMPFS_MAGIC)
		return CG_NONE;
	if (statfs(CG_ROOT "/unified", &fs) == 0 &&
	    fs.f_type == CGROUP2_SUPER_MAGIC)
		return CG_HYBRID;
	return CG_LEGACY;
}

static void
pause_poll(void)
{
	struct timespec ts = { 0, CG_POLL_NS };

	nanosleep(&ts, NULL);
}

static int
valid_name(const char *name)
{
	const char *p;

	if (*name == '\0' || *name == '/' || name[strlen(name) - 1] == '/')
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && strchr("._-/", *p) == NULL)
			return 0;
	return strstr(name, "//") == NULL && strcmp(name, "..") != 0 &&
	    strncmp(name, "../", 3) != 0 && strstr(name, "/../") == NULL &&
	    (strlen(name) < 3 || strcmp(name + strlen(name) - 3, "/..") != 0);
}

static int
denied(int e)
{
	return e == EACCES || e == EPERM || e == EROFS;
}

/* Writes s to an existing control file. */
static int
write_ctl(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int saved;

	if (fd == -1)
		return -1;
	n = write(fd, s, strlen(s));
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Reads the first line of a control file (newline stripped). */
static int
read_ctl(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* Reads "key value" from a flat-keyed file (cpu.stat, cgroup.events). */
static int
read_key(const char *path, const char *key, int64_t *val)
{
	FILE *f = fopen(path, "re");
	char k[64];
	int64_t v;
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fscanf(f, "%63s %" SCNd64, k, &v) == 2)
		if (strcmp(k, key) == 0) {
			*val = v;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* Reads the first line of a v1 control file through libcgroup. */
static int
v1_read(const struct cg *g, const char *ctl, const char *file, char *buf,
    int len)
{
	char fname[64];
	void *h = NULL;
	int rc;

	snprintf(fname, sizeof(fname), "%s", file);
	rc = cgroup_read_value_begin(ctl, g->name, fname, &h, buf, len);
	if (h != NULL)
		cgroup_read_value_end(&h);
	if (rc != 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void
add_dir(struct cg *g, const char *dir)
{
	g->dir[g->ndirs] = xstrdup(dir);
	g->procs[g->ndirs] = xasprintf("%s/cgroup.procs", dir);
	g->ndirs++;
}

static void
cg_free(struct cg *g)
{
	for (int i = 0; i < g->ndirs; i++) {
		free(g->dir[i]);
		free(g->procs[i]);
	}
	if (g->lc != NULL)
		cgroup_free(&g->lc);
	free(g->name);
	free(g);
}

static const char *
lc_strerror(int rc)
{
	if (rc == ECGOTHER)
		return strerror(cgroup_get_last_errno());
	return cgroup_strerror(rc);
}

static int
create_v1(struct cg *g, int64_t mem_limit, int *unavailable, char *err,
    size_t errlen)
{
	static int init_rc = -1;
	struct cgroup_controller *c;
	int rc;

	if (init_rc == -1)
		init_rc = cgroup_init();
	if (init_rc != 0) {
		*unavailable = 1;
		snprintf(err, errlen, "no cgroups available: %s",
		    lc_strerror(init_rc));
		return -1;
	}
	g->lc = cgroup_new_cgroup(g->name);
	for (int i = 0; i < CG_MAXDIRS; i++) {
		char *mp = NULL, *dir;

		if (cgroup_get_subsys_mount_point(v1_ctls[i], &mp) != 0) {
			if (i == 0) {
				*unavailable = 1;
				snprintf(err, errlen, "no cgroups available: "
				    "no cpuacct hierarchy");
				return -1;
			}
			continue;
		}
		dir = xasprintf("%s/%s", mp, g->name);
		free(mp);
		if (access(dir, F_OK) == 0) {
			snprintf(err, errlen, "cgroup %s already exists", dir);
			free(dir);
			return -1;
		}
		add_dir(g, dir);
		free(dir);
		c = cgroup_add_controller(g->lc, v1_ctls[i]);
		if (c == NULL) {
			snprintf(err, errlen, "cgroup %s: cannot add %s",
			    g->name, v1_ctls[i]);
			return -1;
		}
		if (i == 1) {
			g->has_mem = 1;
			if (mem_limit > 0 && (rc = cgroup_add_value_uint64(c,
			    "memory.limit_in_bytes", (uint64_t)mem_limit)) != 0) {
				snprintf(err, errlen, "cgroup %s: %s", g->name,
				    cgroup_strerror(rc));
				return -1;
			}
		} else if (i == 2)
			g->has_freezer = 1;
	}
	if ((rc = cgroup_create_cgroup(g->lc, 0)) != 0) {
		int e = rc == ECGOTHER ? cgroup_get_last_errno() : 0;

		*unavailable = denied(e) || rc == ECGROUPNOTOWNER ||
		    rc == ECGROUPNOTALLOWED;
		snprintf(err, errlen, "%scgroup %s: %s",
		    *unavailable ? "no cgroups available: " : "", g->name,
		    lc_strerror(rc));
		cgroup_delete_cgroup(g->lc, 1);
		return -1;
	}
	return 0;
}

/* Turns on the memory controller for the children of dir, if it has one. */
static void
v2_enable_memory(const char *dir)
{
	char *path = xasprintf("%s/cgroup.controllers", dir);
	char buf[512], padded[520];

	if (read_ctl(path, buf, sizeof(buf)) == 0) {
		snprintf(padded, sizeof(padded), " %s ", buf);
		if (strstr(padded, " memory ") != NULL) {
			free(path);
			path = xasprintf("%s/cgroup.subtree_control", dir);
			write_ctl(path, "+memory");
		}
	}
	free(path);
}

static int
create_v2(struct cg *g, int64_t mem_limit, int *unavailable, char *err,
    size_t errlen)
{
	struct statfs fs;
	const char *root = CG_ROOT;
	char *dir, *p, *next;

	if (statfs(root, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		root = CG_ROOT "/unified";
	if (statfs(root, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		*unavailable = 1;
		snprintf(err, errlen, "no cgroups available: no cgroup2 mount");
		return -1;
	}
	dir = xasprintf("%s/%s", root, g->name);
	if (access(dir, F_OK) == 0) {
		snprintf(err, errlen, "cgroup %s already exists", dir);
		free(dir);
		return -1;
	}
	for (p = dir + strlen(root); p != NULL; p = next) {
		next = strchr(p + 1, '/');
		*p = '\0';
		v2_enable_memory(dir);
		*p = '/';
		if (next != NULL)
			*next = '\0';
		if (mkdir(dir, 0755) == -1 && (errno != EEXIST || next == NULL)) {
			*unavailable = denied(errno);
			snprintf(err, errlen, "%smkdir %s: %s",
			    *unavailable ? "no cgroups available: " : "", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
		if (next != NULL)
			*next = '/';
	}
	/* From here on cg_destroy can clean up. */
	add_dir(g, dir);
	if (mem_limit > 0) {
		char *path = xasprintf("%s/memory.max", dir);
		char val[32];

		snprintf(val, sizeof(val), "%" PRId64, mem_limit);
		if (access(path, F_OK) == 0 && write_ctl(path, val) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(path);
			free(dir);
			return -1;
		}
		free(path);
	}
	free(dir);
	return 0;
}

struct cg *
cg_create(const char *name, enum cg_mode mode, int64_t mem_limit,
    int *unavailable, char *err, size_t errlen)
{
	struct cg *g;
	int rc;

	*unavailable = 0;
	if (mode == CG_NONE) {
		*unavailable = 1;
		snprintf(err, errlen, "no cgroups available: not mounted");
		return NULL;
	}
	if (!valid_name(name)) {
		snprintf(err, errlen, "bad cgroup name \"%s\"", name);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->name = xstrdup(name);
	g->v2 = mode == CG_UNIFIED;
	rc = g->v2 ? create_v2(g, mem_limit, unavailable, err, errlen) :
	    create_v1(g, mem_limit, unavailable, err, errlen);
	if (rc == -1) {
		if (g->v2 && g->ndirs > 0)
			rmdir(g->dir[0]);
		cg_free(g);
		return NULL;
	}
	return g;
}

const char *
cg_measure(const struct cg *g)
{
	return g->v2 ? "cgroup-v2" : "cgroup-v1";
}

int
cg_attach(const struct cg *g, pid_t pid, char *err, size_t errlen)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", (long)pid);
	for (int i = 0; i < g->ndirs; i++)
		if (write_ctl(g->procs[i], buf) == -1) {
			snprintf(err, errlen, "%s: %s", g->procs[i],
			    strerror(errno));
			return -1;
		}
	return 0;
}

int
cg_cpu_usec(const struct cg *g, int64_t *usec, char *err, size_t errlen)
{
	char buf[64];

	if (g->v2) {
		char *path = xasprintf("%s/cpu.stat", g->dir[0]);
		int rc = read_key(path, "usage_usec", usec);

		if (rc == -1)
			snprintf(err, errlen, "%s: no usage_usec", path);
		free(path);
		return rc;
	}
	if (v1_read(g, "cpuacct", "cpuacct.usage", buf, sizeof(buf)) == -1) {
		snprintf(err, errlen, "cgroup %s: cannot read cpuacct.usage",
		    g->name);
		return -1;
	}
	*usec = strtoll(buf, NULL, 10) / 1000;
	return 0;
}

int64_t
cg_peak_mem(const struct cg *g)
{
	char buf[64];

	if (g->v2) {
		char *path = xasprintf("%s/memory.peak", g->dir[0]);
		int rc = read_ctl(path, buf, sizeof(buf));

		free(path);
		return rc == 0 ? strtoll(buf, NULL, 10) : -1;
	}
	if (!g->has_mem || v1_read(g, "memory", "memory.max_usage_in_bytes",
	    buf, sizeof(buf)) == -1)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Is the freezer in the wanted state yet? 1 yes, 0 not yet, -1 error. */
static int
freeze_reached(const struct cg *g, int freeze)
{
	char buf[32];

	if (g->v2) {
		char *path = xasprintf("%s/cgroup.events", g->dir[0]);
		int64_t v;
		int rc = read_key(path, "frozen", &v);

		free(path);
		return rc == -1 ? -1 : v == freeze;
	}
	if (v1_read(g, "freezer", "freezer.state", buf, sizeof(buf)) == -1)
		return -1;
	return strcmp(buf, freeze ? "FROZEN" : "THAWED") == 0;
}

int
cg_freeze(struct cg *g, int freeze, char *err, size_t errlen)
{
	int rc;

	if (g->v2) {
		char *path = xasprintf("%s/cgroup.freeze", g->dir[0]);

		rc = write_ctl(path, freeze ? "1" : "0");
		if (rc == -1)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		if (rc == -1)
			return -1;
	} else {
		struct cgroup *fz;
		struct cgroup_controller *c;

		if (!g->has_freezer) {
			snprintf(err, errlen, "cgroup %s: no freezer hierarchy",
			    g->name);
			return -1;
		}
		/* A struct of its own, so no other value is rewritten. */
		fz = cgroup_new_cgroup(g->name);
		c = cgroup_add_controller(fz, "freezer");
		rc = cgroup_set_value_string(c, "freezer.state",
		    freeze ? "FROZEN" : "THAWED");
		if (rc == 0)
			rc = cgroup_modify_cgroup(fz);
		cgroup_free(&fz);
		if (rc != 0) {
			snprintf(err, errlen, "cgroup %s: freezer.state: %s",
			    g->name, lc_strerror(rc));
			return -1;
		}
	}
	for (int i = 0; i < CG_WAIT_POLLS; i++) {
		if ((rc = freeze_reached(g, freeze)) == 1) {
			g->frozen = freeze;
			return 0;
		}
		if (rc == -1)
			break;
		pause_poll();
	}
	snprintf(err, errlen, "cgroup %s: did not %s", g->name,
	    freeze ? "freeze" : "thaw");
	return -1;
}

/*
 * Sends sig (0: none) to each process listed in every hierarchy; returns
 * the largest count found in one hierarchy, or -1.
 */
static int
each_proc(const struct cg *g, int sig)
{
	int most = 0;

	for (int i = 0; i < g->ndirs; i++) {
		FILE *f = fopen(g->procs[i], "re");
		long pid;
		int n = 0;

		if (f == NULL)
			return -1;
		while (fscanf(f, "%ld", &pid) == 1) {
			if (sig != 0)
				kill((pid_t)pid, sig);
			n++;
		}
		fclose(f);
		if (n > most)
			most = n;
	}
	return most;
}

int
cg_nprocs(const struct cg *g, char *err, size_t errlen)
{
	int n = each_proc(g, 0);

	if (n == -1)
		snprintf(err, errlen, "cgroup %s: cannot list processes: %s",
		    g->name, strerror(errno));
	return n;
}

int
cg_signal(struct cg *g, int sig, char *err, size_t errlen)
{
	char *killf = NULL;

	if (g->frozen && cg_freeze(g, 0, err, errlen) == -1)
		return -1;
	if (g->v2 && sig == SIGKILL) {
		killf = xasprintf("%s/cgroup.kill", g->dir[0]);
		if (access(killf, F_OK) == -1) {
			free(killf);
			killf = NULL;
		}
	}
	for (int i = 0; i < CG_WAIT_POLLS; i++) {
		int n;

		if (killf != NULL)
			write_ctl(killf, "1");
		if ((n = each_proc(g, sig)) == -1) {
			snprintf(err, errlen, "cgroup %s: cannot list "
			    "processes: %s", g->name, strerror(errno));
			free(killf);
			return -1;
		}
		if (sig != SIGKILL || n == 0) {
			free(killf);
			return 0;
		}
		pause_poll();
	}
	free(killf);
	snprintf(err, errlen, "cgroup %s: processes survive SIGKILL", g->name);
	return -1;
}

int
cg_destroy(struct cg *g, char *err, size_t errlen)
{
	int rc = cg_signal(g, SIGKILL, err, errlen);

	if (!g->v2)
		cgroup_delete_cgroup(g->lc, 0);
	for (int i = 0; i < g->ndirs; i++) {
		/* An exiting task can keep a v1 directory busy briefly. */
		for (int t = 0; t < CG_WAIT_POLLS; t++) {
			if (rmdir(g->dir[i]) == 0 || errno == ENOENT)
				break;
			pause_poll();
		}
		if (access(g->dir[i], F_OK) == 0 && rc == 0) {
			snprintf(err, errlen, "cgroup %s remains: %s",
			    g->dir[i], strerror(errno));
			rc = -1;
		}
	}
	cg_free(g);
	return rc;
}

/*
 * The directories of group `name` in every hierarchy (v1 controllers, the
 * hybrid unified tree, a v2 root), as a glob_t the caller globfree()s;
 * 0 if there are none.
 */
static size_t
dirs_of(const char *name, glob_t *gl)
{
	char *pat;
	size_t n;

	memset(gl, 0, sizeof(*gl));
	pat = xasprintf(CG_ROOT "/*/%s", name);
	glob(pat, GLOB_ONLYDIR | GLOB_NOSORT, NULL, gl);
	free(pat);
	pat = xasprintf(CG_ROOT "/%s", name);
	glob(pat, GLOB_ONLYDIR | GLOB_NOSORT | (gl->gl_pathc ? GLOB_APPEND :
	    0), NULL, gl);
	free(pat);
	n = gl->gl_pathc;
	if (n == 0)
		globfree(gl);
	return n;
}

void
cg_prune(const char *name)
{
	glob_t gl;

	if (!valid_name(name) || dirs_of(name, &gl) == 0)
		return;
	for (size_t i = 0; i < gl.gl_pathc; i++)
		rmdir(gl.gl_pathv[i]);
	globfree(&gl);
}

int
cg_reap_by_name(const char *name)
{
	glob_t gl;
	int left = 0;

	if (!valid_name(name))
		return -1;
	if (dirs_of(name, &gl) == 0)
		return 0;
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		char *f = xasprintf("%s/freezer.state", gl.gl_pathv[i]);

		/* Frozen tasks do not die before they are thawed. */
		if (access(f, F_OK) == 0)
			write_ctl(f, "THAWED");
		free(f);
		f = xasprintf("%s/cgroup.freeze", gl.gl_pathv[i]);
		if (access(f, F_OK) == 0)
			write_ctl(f, "0");
		free(f);
	}
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		char *f = xasprintf("%s/cgroup.kill", gl.gl_pathv[i]);
		FILE *fp;
		long pid;

		if (access(f, F_OK) == 0)
			write_ctl(f, "1");
		free(f);
		f = xasprintf("%s/cgroup.procs", gl.gl_pathv[i]);
		if ((fp = fopen(f, "re")) != NULL) {
			while (fscanf(fp, "%ld", &pid) == 1)
				kill((pid_t)pid, SIGKILL);
			fclose(fp);
		}
		free(f);
		if (rmdir(gl.gl_pathv[i]) == -1 && errno != ENOENT)
			left++;
	}
	globfree(&gl);
	return left;
}

char **
cg_children(const char *name)
{
	char **out = xcalloc(1, sizeof(*out));
	char *pat;
	size_t n = 0;
	glob_t gl;

	if (!valid_name(name))
		return out;
	pat = xasprintf("%s/*", name);
	if (dirs_of(pat, &gl) > 0) {
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			const char *base = strrchr(gl.gl_pathv[i], '/') + 1;
			size_t k;

			for (k = 0; k < n && strcmp(out[k], base) != 0; k++)
				;
			if (k < n)
				continue;
			out = xrealloc(out, (n + 2) * sizeof(*out));
			out[n++] = xstrdup(base);
			out[n] = NULL;
		}
		globfree(&gl);
	}
	free(pat);
	return out;
}

int
cg_usage_by_name(const char *name, int64_t *usec)
{
	char *path, buf[64];
	int rc = -1, fd;
	ssize_t n;

	if (!valid_name(name))
		return -1;
	path = xasprintf("/sys/fs/cgroup/cpuacct/%s/cpuacct.usage", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			*usec = strtoll(buf, NULL, 10) / 1000;
			rc = 0;
		}
	}
	free(path);
	for (int i = 0; rc == -1 && i < 2; i++) {
		path = xasprintf(i == 0 ? "/sys/fs/cgroup/%s/cpu.stat" :
		    "/sys/fs/cgroup/unified/%s/cpu.stat", name);
		rc = read_key(path, "usage_usec", usec);
		free(path);
	}
	return rc;
}
