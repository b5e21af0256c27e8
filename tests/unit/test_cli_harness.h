/*
 * test_cli_harness: runs ebb commands inside a test with a fixed clock,
 * working directory and environment, collecting stdout and stderr in
 * memory, and a scripted stand-in for ebbd on a real Unix socket that
 * answers each request with the next canned reply and logs what it got.
 * Included by the test_cli_*.c files; not a test itself.
 */
#ifndef EBB_TEST_CLI_HARNESS_H
#define EBB_TEST_CLI_HARNESS_H

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/proto.h"
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

/* One misuse of ebb: up to three arguments and the exact stderr it earns. */
struct usage_case {
	const char	*args[4];	/* args[3] stays NULL */
	const char	*msg;
};

/* Each case must exit CLI_USAGE with exactly msg on stderr and no stdout. */
static inline void
h_usage_cases(const struct usage_case *cases, size_t n)
{
	struct harness h;

	for (size_t i = 0; i < n; i++) {
		h_init(&h, t_env);
		assert_int_equal(h_run(&h, cases[i].args[0], cases[i].args[1],
		    cases[i].args[2], cases[i].args[3], NULL), CLI_USAGE);
		assert_string_equal(h.err, cases[i].msg);
		assert_string_equal(h.out, "");
		h_done(&h);
	}
}

struct fake {
	char	 dir[64], sock[96], log[96];
	pid_t	 pid;
	json_t	*reqs;		/* what it got, after fake_wait */
};

/* Starts a server answering the n-th request with replies[n]. */
static inline void
fake_start(struct fake *f, const char *const *replies)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls, fd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_cli.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/s", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->sock);
	assert_true((ls = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_true((f->pid = fork()) >= 0);
	if (f->pid == 0) {
		FILE *lf = fopen(f->log, "w");
		char err[256], *s;
		json_t *req, *rep;

		if (lf == NULL || (fd = accept(ls, NULL, NULL)) == -1)
			_exit(1);
		for (size_t i = 0; replies[i] != NULL; i++) {
			if ((req = proto_recv(fd, err, sizeof(err))) == NULL)
				_exit(2);
			s = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(lf, "%s\n", s);
			fflush(lf);
			if ((rep = json_loads(replies[i], 0, NULL)) == NULL ||
			    proto_send(fd, rep, err, sizeof(err)) == -1)
				_exit(3);
		}
		_exit(0);
	}
	close(ls);
}

/* Waits for the server and loads the requests it logged. */
static inline void
fake_wait(struct fake *f)
{
	char line[4096];
	int status;
	FILE *lf;

	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	f->reqs = json_array();
	assert_non_null(lf = fopen(f->log, "r"));
	while (fgets(line, sizeof(line), lf) != NULL)
		json_array_append_new(f->reqs, json_loads(line, 0, NULL));
	fclose(lf);
	unlink(f->log);
	unlink(f->sock);
	rmdir(f->dir);
}

/* Request i, as compact sorted JSON, must be want. */
static inline void
assert_req(const struct fake *f, size_t i, const char *want)
{
	char *s = json_dumps(json_array_get(f->reqs, i), JSON_COMPACT |
	    JSON_SORT_KEYS);

	assert_string_equal(s, want);
	free(s);
}

#endif
