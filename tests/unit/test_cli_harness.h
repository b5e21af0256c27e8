/*
 * test_cli_harness: runs ebb commands inside a test with a fixed clock,
 * working directory and environment, collecting stdout and stderr in
 * memory. Included by the test_cli_*.c files; not a test itself.
 */
#ifndef EBB_TEST_CLI_HARNESS_H
#define EBB_TEST_CLI_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/cli/cli.h"

#define T_NOW	INT64_C(1700000000)	/* 2023-11-14T22:13:20Z */
#define T_CWD	"/home/u/work"

static char *t_env[] = {
	"HOME=/home/u", "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "EMPTY=", NULL,
};

struct harness {
	struct cli	 c;
	char		*out, *err;
	size_t		 outlen, errlen;
};

static inline void
h_init(struct harness *h, char **envp)
{
	memset(h, 0, sizeof(*h));
	h->c.out = open_memstream(&h->out, &h->outlen);
	h->c.err = open_memstream(&h->err, &h->errlen);
	h->c.envp = envp;
	h->c.cwd = T_CWD;
	h->c.now = T_NOW;
}

/* Runs `ebb ARGS...` (NULL-terminated); returns the exit status. */
static inline int
h_run(struct harness *h, ...)
{
	char *argv[64];
	int argc = 0, rc;
	va_list ap;

	argv[argc++] = "ebb";
	va_start(ap, h);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	rc = ebb_main(&h->c, argc, argv);
	fflush(h->c.out);
	fflush(h->c.err);
	return rc;
}

static inline void
h_done(struct harness *h)
{
	cli_done(&h->c);
	fclose(h->c.out);
	fclose(h->c.err);
	free(h->out);
	free(h->err);
}

#endif
