/*
 * fuzz: helpers the fuzz harnesses (tests/fuzz/fuzz_*.c) share.
 *
 * Each harness defines LLVMFuzzerTestOneInput(). Built with -DEBB_FUZZ=ON
 * and clang, libFuzzer drives it; otherwise replay_main.c calls it once per
 * corpus file so ctest replays the corpora under the ASan+UBSan gcc build.
 * A harness that finds a broken invariant calls fuzz_fail(), which aborts
 * so both drivers report it as a crash. Nothing here is used by ebb itself.
 */
#ifndef EBB_FUZZ_H
#define EBB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct provider_ops;
struct provider_conf;

/* "now" for every harness: 2023-03-14T12:01:00Z, the provider samples'. */
#define FUZZ_NOW	1678795260

/* The libFuzzer entry point every harness defines. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A path whose file holds exactly data[0..size): one memfd per process,
 * rewritten on each call, for loaders that take a path. Owned by the
 * helper; valid until the next call.
 */
const char *fuzz_file(const uint8_t *data, size_t size);

/* An xmalloc'd copy of data without a terminating NUL, so that ASan sees
 * any read past `size`. */
char	*fuzz_copy(const uint8_t *data, size_t size);

/* data as an xmalloc'd NUL-terminated string (embedded NULs kept). */
char	*fuzz_string(const uint8_t *data, size_t size);

/*
 * Feeds data to every step of an HTTP provider's refresh as its response
 * body, as the carbon manager would (request, response, ci_sanitize),
 * starting with session as the provider's session token (NULL: none, so
 * WattTime logs in first).
 */
void	fuzz_provider(const struct provider_ops *, const struct provider_conf *,
	    const char *session, const uint8_t *data, size_t size);

/* Prints msg to stderr and aborts: a harness's invariant does not hold. */
void	fuzz_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
