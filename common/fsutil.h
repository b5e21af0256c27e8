/*
 * fsutil: small file-system helpers shared by ebbd and ebb-run.
 *
 * fs_write_atomic is the one way ebb publishes a file another process reads
 * (job specs, results): write to a temporary name, fsync, rename, fsync the
 * directory. A reader sees the old file, the whole new file, or nothing.
 */
#ifndef EBB_FSUTIL_H
#define EBB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* mkdir -p with the given mode for directories it creates. */
int	fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);
/*
 * Atomically replace name in the directory dirfd with data (mode 0644
 * unless `mode` given), through the fixed temporary ".NAME.tmp" created
 * with O_EXCL | O_NOFOLLOW (a stale one is removed first).
 */
/* Writes all of data to fd (retrying short writes); -1 with errno. */
int	fs_write_all(int fd, const void *data, size_t len);
int	fs_write_atomic_at(int dirfd, const char *name, const void *data,
	    size_t len, mode_t mode, char *err, size_t errlen);
/* The same for a path. */
int	fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char *err, size_t errlen);
/* Atomically write a JSON document (pretty-printed, trailing newline). */
int	fs_write_json(const char *path, const json_t *doc, mode_t mode,
	    char *err, size_t errlen);
#define FS_JSON_MAX	(16 << 20)	/* bytes of a JSON file we read */

/*
 * Read a JSON object of at most FS_JSON_MAX bytes from fd (named `name`
 * in errors; fd stays open); NULL with err set.
 */
json_t	*fs_read_json_fd(int fd, const char *name, char *err, size_t errlen);
/*
 * Reads fd to its end into a new NUL-terminated buffer (*out, caller
 * frees) of *len bytes; -1 with err set on error or past max bytes.
 */
int	fs_read_fd(int fd, size_t max, char **out, size_t *len, char *err,
	    size_t errlen);
/* Read a JSON object from path; NULL with err set ("path: reason"). */
json_t	*fs_read_json(const char *path, char *err, size_t errlen);
/* Remove a directory tree (best effort, no symlink following). */
int	fs_rm_rf(const char *path);

#endif
