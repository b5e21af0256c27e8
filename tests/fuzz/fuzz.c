/*
 * fuzz: helpers shared by the fuzz harnesses (see fuzz.h). Holds the one
 * memfd behind fuzz_file() for the life of the process; no other state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "scheduler/carbon/ci.h"
#include "scheduler/carbon/provider.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_MAX_STEPS	8	/* more than any provider's refresh has */

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	size_t off = 0;

	if (fd == -1) {
		if ((fd = memfd_create("ebb-fuzz", 0)) == -1)
			fuzz_fail("memfd_create failed");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1)
		fuzz_fail("ftruncate failed");
	while (off < size) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		if (n <= 0)
			fuzz_fail("pwrite failed");
		off += (size_t)n;
	}
	return path;
}

char *
fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size != 0 ? size : 1);

	memcpy(p, data, size);
	return p;
}

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *p = xmalloc(size + 1);

	memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

void
fuzz_provider(const struct provider_ops *ops, const struct provider_conf *conf,
    const char *session, const uint8_t *data, size_t size)
{
	struct pstate st = { .conf = conf, .zone = "DE" };

	st.secret = xstrdup("secret");
	st.session = session != NULL ? xstrdup(session) : NULL;
	for (int step = 0; step < FUZZ_MAX_STEPS; step++) {
		struct preq req = { 0 };
		struct ci_batch b;
		struct ci_rejects rej = { 0 };
		char err[512], *body;
		int rc;

		rc = ops->request(&st, step, FUZZ_NOW, &req, err, sizeof(err));
		preq_clear(&req);
		if (rc != 1)
			break;
		ci_batch_init(&b, st.zone, ops->signal, ops->name);
		body = fuzz_copy(data, size);
		if (ops->response(&st, step, FUZZ_NOW, body, size, &b, err,
		    sizeof(err)) == 0)
			ci_sanitize(&b, FUZZ_NOW, &rej);
		free(body);
		ci_batch_free(&b);
	}
	if (ops->clear != NULL)
		ops->clear(&st);
	free(st.secret);
	free(st.session);
}
