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

static int
fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;

	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode ? mode : 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	fsync_dir_of(path);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
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
