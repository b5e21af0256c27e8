/*
 * testutil: helpers shared by the unit tests (see testutil.h).
 *
 * Reads the environment and the file system and reports problems through
 * cmocka assertions. It knows nothing about the modules under test: the
 * golden check gets their loader as a callback.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "testutil.h"

static char tmpdir[128];

const char *
tu_data_dir(void)
{
	const char *d = getenv("EBB_TEST_DATA");

	assert_non_null(d);
	return d;
}

char *
tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096, got;
	char *buf;

	if (f == NULL)
		return NULL;
	/* Read to the end: sysfs and proc files report a size of 0. */
	buf = xmalloc(cap + 1);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
	}
	assert_false(ferror(f));
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = n;
	return buf;
}

const char *
tu_tmpdir_create(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(tmpdir));
	return tmpdir;
}

const char *
tu_tmpdir(void)
{
	return tmpdir;
}

void
tu_tmpdir_remove(void)
{
	if (tmpdir[0] == '\0')
		return;
	assert_int_equal(fs_rm_rf(tmpdir), 0);
	tmpdir[0] = '\0';
}

int
tu_setup(void **state)
{
	tu_tmpdir_create(program_invocation_short_name);
	return 0;
}

int
tu_teardown(void **state)
{
	tu_tmpdir_remove();
	return 0;
}

char *
tu_write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_yaml(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
}

int
tu_scan_yaml(const char *dir, struct dirent ***ents)
{
	return scandir(dir, ents, is_yaml, by_name);
}

int
tu_golden(const char *dir, int (*load)(const char *path, char **errs),
    int *failed)
{
	struct dirent **ents;
	int n;

	*failed = 0;
	assert_int_equal(chdir(tu_data_dir()), 0);
	if ((n = tu_scan_yaml(dir, &ents)) == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		char *yaml = xasprintf("%s/%s", dir, ents[i]->d_name);
		char *errf = xasprintf("%.*s.err", (int)strlen(yaml) - 5, yaml);
		char *want = tu_slurp(errf, NULL), *errs = NULL;

		if (load(yaml, &errs) == 0) {
			print_error("%s: loaded without errors\n", yaml);
			(*failed)++;
		} else if (want == NULL || errs == NULL ||
		    strcmp(want, errs) != 0) {
			print_error("%s: expected (%s):\n%sgot:\n%s", yaml,
			    errf, want ? want : "(missing)\n",
			    errs ? errs : "(nothing)\n");
			(*failed)++;
		}
		free(yaml);
		free(errf);
		free(want);
		free(errs);
		free(ents[i]);
	}
	free(ents);
	return n;
}
