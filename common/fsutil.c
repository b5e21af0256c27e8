/*
 * fsutil: mkdir -p, atomic replacement of files, JSON files, rm -rf.
 * No caching, no locking: callers that need exclusivity use flock(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"

int
fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) == -1 && errno != EEXIST) {
				snprintf(err, errlen, "mkdir %s: %s", p,
				    strerror(errno));
				free(p);
				return -1;
			}
			if (c == '\0')
				break;
			*s = c;
		}
	}
	free(p);
	return 0;
}

int
fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, char *err, size_t errlen)
{
	char *tmp = xasprintf(".%s.tmp", name);
	const char *p = data;
	int fd;

	/* One fixed temporary name: a writer killed half-way leaves at most
	 * one stale file, which the next write replaces. O_EXCL and
	 * O_NOFOLLOW: never through a link someone planted there. */
	if (unlinkat(dirfd, tmp, 0) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode ? mode : 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fs_write_all(fd, p, len) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	free(tmp);
	fsync(dirfd);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	free(tmp);
	return -1;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char *copy = xstrdup(path), *copy2 = xstrdup(path);
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (dfd == -1) {
		snprintf(err, errlen, "%s: %s", copy, strerror(errno));
		rc = -1;
	} else {
		rc = fs_write_atomic_at(dfd, basename(copy2), data, len, mode,
		    err, errlen);
		close(dfd);
	}
	free(copy);
	free(copy2);
	return rc;
}

int
fs_write_json(const char *path, const json_t *doc, mode_t mode, char *err,
    size_t errlen)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	char *t = xasprintf("%s\n", s);
	int rc = fs_write_atomic(path, t, strlen(t), mode, err, errlen);

	free(s);
	free(t);
	return rc;
}

json_t *
fs_read_json_fd(int fd, const char *name, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc;
	char *data, why[256];
	size_t len;

	if (fs_read_fd(fd, FS_JSON_MAX, &data, &len, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		return NULL;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	if (doc == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", name, jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: not a JSON object", name);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int
fs_read_fd(int fd, size_t max, char **out, size_t *len, char *err,
    size_t errlen)
{
	size_t n = 0, cap = 4096;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				snprintf(err, errlen, "longer than %zu bytes",
				    max);
				free(buf);
				return -1;
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

json_t *
fs_read_json(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (doc == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

int
fs_rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
