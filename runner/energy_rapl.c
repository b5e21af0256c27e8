/*
 * energy_rapl: RAPL energy counters through the powercap sysfs class
 * (/sys/class/powercap, or a configured root for tests and containers).
 *
 * It reports every package zone "intel-rapl:N" named "package-K", the
 * "dram" subzone of each package (as "dram-K") and a top-level "psys"
 * zone, each with its max_energy_range_uj. Zones are recognised by their
 * name files, never by their index. Core and uncore subzones are left out
 * (the package already holds them), and so are the "intel-rapl-mmio:*"
 * duplicates of package limits, which would count a package twice.
 *
 * energy_uj is root-only since CVE-2020-8694: when the zones are there but
 * energy_uj cannot be read, open fails saying so and sets *present. It
 * does not correct wraps (energy.c does) or choose between psys and
 * packages (energy.c reports psys as the node when present).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "runner/energy.h"

#define RAPL_ROOT	"/sys/class/powercap"

struct rapl_zone {
	char			 name[ENERGY_ZONE_NAMELEN];
	enum energy_domain	 domain;
	char			*energy_path;
	int			 fd;		/* energy_path, kept open */
	uint64_t		 range_uj;
};

struct rapl {
	struct rapl_zone	 z[ENERGY_MAX_ZONES];
	size_t			 n;
};

/* The first line of path without its newline; -1 with errno set. */
static int
read_line(const char *path, char *buf, size_t len)
{
	ssize_t r;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* A decimal counter in path; -1 with errno set (EINVAL if not one). */
static int
read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;

	if (read_line(path, buf, sizeof(buf)) == -1)
		return -1;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (end == buf || *end != '\0' || errno != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * A zone's counter through its descriptor, opened when the meter was
 * (ebbd opens it as root and reads it after it dropped privileges: the
 * counters are root-only on current kernels). A file replaced under the
 * same name (a test's fake tree) is opened again. -1 with errno set.
 */
static int
zone_read(struct rapl_zone *z, uint64_t *v)
{
	struct stat a, b;
	char buf[64], *end;
	ssize_t n;

	if (z->fd < 0 || (stat(z->energy_path, &a) == 0 &&
	    fstat(z->fd, &b) == 0 && a.st_ino != b.st_ino)) {
		int fd = open(z->energy_path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (z->fd >= 0)
				close(z->fd);
			z->fd = fd;
		} else if (z->fd < 0)
			return -1;
	}
	if ((n = pread(z->fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (end == buf || *end != '\0' || errno != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
zone_name(const char *root, const char *dir, char *buf, size_t len)
{
	char *p = xasprintf("%s/%s/name", root, dir);
	int r = read_line(p, buf, len);

	free(p);
	return r;
}

/*
 * What the directory d holds: 1 and the zone's name and domain when it is
 * one we report, 0 when it is skipped.
 */
static int
classify(const char *root, const char *d, char *name, size_t len,
    enum energy_domain *dom)
{
	char zname[64], pdir[32], pname[64];
	unsigned int a, b;
	int end = 0;

	if (sscanf(d, "intel-rapl:%u:%u%n", &a, &b, &end) == 2 &&
	    d[end] == '\0') {
		if (zone_name(root, d, zname, sizeof(zname)) == -1 ||
		    strcmp(zname, "dram") != 0)
			return 0;
		snprintf(pdir, sizeof(pdir), "intel-rapl:%u", a);
		if (zone_name(root, pdir, pname, sizeof(pname)) == 0 &&
		    strncmp(pname, "package-", 8) == 0) {
			if (snprintf(name, len, "dram-%s", pname + 8) >=
			    (int)len)
				return 0;	/* a name we cannot keep */
		} else
			snprintf(name, len, "dram-%u", a);
		*dom = ENERGY_DRAM;
		return 1;
	}
	end = 0;
	if (sscanf(d, "intel-rapl:%u%n", &a, &end) != 1 || d[end] != '\0')
		return 0;
	if (zone_name(root, d, zname, sizeof(zname)) == -1)
		return 0;
	if (strncmp(zname, "package-", 8) == 0)
		*dom = ENERGY_PACKAGE;
	else if (strcmp(zname, "psys") == 0)
		*dom = ENERGY_PSYS;
	else
		return 0;
	return snprintf(name, len, "%s", zname) < (int)len;
}

static void
rapl_close(void *h)
{
	struct rapl *r = h;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->z[i].energy_path);
		if (r->z[i].fd >= 0)
			close(r->z[i].fd);
	}
	free(r);
}

static void *
rapl_open(const struct energy_config *cfg, int *present, char *err,
    size_t errlen)
{
	const char *root = cfg != NULL && cfg->powercap_root != NULL ?
	    cfg->powercap_root : RAPL_ROOT;
	struct dirent **ents;
	struct rapl *r;
	uint64_t v;
	int nents;

	*present = 0;
	if ((nents = scandir(root, &ents, NULL, alphasort)) == -1) {
		snprintf(err, errlen, "no RAPL: %s: %s", root, strerror(errno));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	for (int i = 0; i < nents; i++) {
		struct rapl_zone *z = &r->z[r->n];
		char *p;

		if (r->n < ENERGY_MAX_ZONES && classify(root, ents[i]->d_name,
		    z->name, sizeof(z->name), &z->domain)) {
			z->energy_path = xasprintf("%s/%s/energy_uj", root,
			    ents[i]->d_name);
			z->fd = -1;
			p = xasprintf("%s/%s/max_energy_range_uj", root,
			    ents[i]->d_name);
			if (read_u64(p, &z->range_uj) == -1)
				z->range_uj = 0;
			free(p);
			r->n++;
		}
		free(ents[i]);
	}
	free(ents);
	if (r->n == 0) {
		snprintf(err, errlen, "no RAPL zones under %s", root);
		rapl_close(r);
		return NULL;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (zone_read(&r->z[i], &v) == 0)
			continue;
		*present = 1;
		if (errno == EACCES || errno == EPERM)
			snprintf(err, errlen, "%s: %s (energy_uj is root-only "
			    "since CVE-2020-8694: run the meter as root or "
			    "with CAP_DAC_READ_SEARCH in its effective set, or "
			    "relax the file's mode at boot)",
			    r->z[i].energy_path, strerror(errno));
		else
			snprintf(err, errlen, "%s: %s", r->z[i].energy_path,
			    strerror(errno));
		rapl_close(r);
		return NULL;
	}
	return r;
}

static int
rapl_read(void *h, struct energy_reading *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	struct rapl *r = h;

	*n = 0;
	for (size_t i = 0; i < r->n && i < max; i++) {
		struct energy_reading *o = &out[i];

		if (zone_read(&r->z[i], &o->uj) == -1) {
			snprintf(err, errlen, "%s: %s", r->z[i].energy_path,
			    strerror(errno));
			return -1;
		}
		memcpy(o->name, r->z[i].name, sizeof(o->name));
		o->domain = r->z[i].domain;
		o->range_uj = r->z[i].range_uj;
		(*n)++;
	}
	return 0;
}

const struct energy_ops energy_rapl_ops = {
	.name = "rapl",
	.open = rapl_open,
	.read = rapl_read,
	.close = rapl_close,
	.rel_uncertainty = 0,
};
