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
/* Atomically replace path with data (mode 0644 unless `mode` given). */
int	fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char *err, size_t errlen);
/* Atomically write a JSON document (pretty-printed, trailing newline). */
int	fs_write_json(const char *path, const json_t *doc, mode_t mode,
	    char *err, size_t errlen);
/* Read a JSON object from path; NULL with err set ("path: reason"). */
json_t	*fs_read_json(const char *path, char *err, size_t errlen);
/* Remove a directory tree (best effort, no symlink following). */
int	fs_rm_rf(const char *path);

#endif
