/*
 * testutil: small helpers shared by the cmocka unit tests: the test data
 * directory, reading a whole file, one temporary directory per test with
 * files written into it, and checking a directory of golden error files.
 *
 * Failures (no EBB_TEST_DATA, a file that cannot be written) fail the
 * running test through cmocka; nothing here returns an error code. The
 * temporary directory is one per process: create it in a setup function
 * and remove it in the matching teardown. Not for production code.
 */
#ifndef EBB_TESTUTIL_H
#define EBB_TESTUTIL_H

#include <stddef.h>

/* $EBB_TEST_DATA (the tests/ source directory); fails the test if unset. */
const char *tu_data_dir(void);

/*
 * The whole file at path, NUL-terminated (caller frees), with its length
 * in *len when len is not NULL; NULL if it cannot be opened.
 */
char	*tu_slurp(const char *path, size_t *len);

/*
 * Creates a fresh directory /tmp/NAME.XXXXXX and returns its path, which
 * stays valid until tu_tmpdir_remove(). Fails the test if it cannot.
 */
const char *tu_tmpdir_create(const char *name);
/* The directory tu_tmpdir_create() made. */
const char *tu_tmpdir(void);
/* Removes that directory and all in it; nothing if none was made. */
void	tu_tmpdir_remove(void);

/*
 * cmocka setup and teardown for the common case: tu_setup() creates the
 * temporary directory, named after the test program; tu_teardown()
 * removes it. Both return 0 and leave *state alone.
 */
int	tu_setup(void **state);
int	tu_teardown(void **state);

/*
 * Writes text to the file name in the temporary directory; returns its
 * path (caller frees).
 */
char	*tu_write_tmp(const char *name, const char *text);

struct dirent;

/*
 * The NAME.yaml files in dir, sorted by name, as scandir(3) returns them:
 * their count (the caller frees each entry and *ents) or -1.
 */
int	tu_scan_yaml(const char *dir, struct dirent ***ents);

/*
 * Golden error files. Changes to the data directory, then for every
 * NAME.yaml in dir (relative to it) calls load(path, &errs), which returns
 * 0 when the file loads or -1 with its error text in errs (freed here);
 * the text must equal the file NAME.err. Prints each mismatch. Returns the
 * number of files checked (-1 if dir cannot be read) and sets *failed to
 * the number that did not fail as written.
 */
int	tu_golden(const char *dir,
	    int (*load)(const char *path, char **errs), int *failed);

#endif
