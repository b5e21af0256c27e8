/*
 * b64: base64 (RFC 4648) for carrying raw bytes (job output) inside JSON.
 */
#ifndef EBB_B64_H
#define EBB_B64_H

#include <stddef.h>

/* Returns a NUL-terminated encoding; caller frees. */
char	*b64_encode(const void *data, size_t len);
/* Decodes into a new buffer (caller frees); NULL on malformed input. */
unsigned char *b64_decode(const char *s, size_t *len);

#endif
