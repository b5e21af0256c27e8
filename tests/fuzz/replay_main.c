/*
 * replay_main: runs a fuzz harness without libFuzzer. Each argument is a
 * file or a directory of files (not recursive); every file is read and
 * passed once to LLVMFuzzerTestOneInput(). ctest uses it to replay the
 * corpora under the ASan+UBSan gcc build: a sanitizer report or a
 * fuzz_fail() aborts the run. Prints how many inputs it ran.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/xmalloc.h"
#include "tests/fuzz/fuzz.h"

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* Shrunk to size, so ASan catches reads past the input. */
	buf = xrealloc(buf, len ? len : 1);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t runs = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *e;
		DIR *d;

		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc |= run_file(argv[i]) == -1;
			runs++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			char *path;

			if (e->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", argv[i], e->d_name);
			rc |= run_file(path) == -1;
			runs++;
			free(path);
		}
		closedir(d);
	}
	printf("replayed %zu inputs\n", runs);
	return rc;
}
