/*
 * b64: standard-alphabet base64 with padding, encode and strict decode.
 */
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/xmalloc.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
b64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

unsigned char *
b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *out, *o;

	if (n % 4 != 0)
		return NULL;
	out = o = xmalloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		unsigned v = 0;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			const char *p;

			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (pad || s[i + k] == '\0' ||
			    (p = strchr(alphabet, s[i + k])) == NULL) {
				free(out);
				return NULL;
			}
			v = v << 6 | (unsigned)(p - alphabet);
		}
		*o++ = (unsigned char)(v >> 16);
		if (pad < 2)
			*o++ = (unsigned char)(v >> 8);
		if (pad < 1)
			*o++ = (unsigned char)v;
	}
	*len = (size_t)(o - out);
	return out;
}
