/*
 * strbuf: a growing NUL-terminated string for text built piece by piece
 * (error lists, joined cells, exposition pages, response bodies).
 *
 * Appending is amortised O(1): the capacity doubles. A zeroed struct
 * (STRBUF_INIT) is an empty buffer; strbuf_str() of it is "". Allocation
 * aborts on out-of-memory (xmalloc), so nothing here fails. This module
 * does no formatting of its own beyond printf and no escaping.
 */
#ifndef EBB_STRBUF_H
#define EBB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char	*s;		/* NULL until the first append */
	size_t	 len, cap;
};

#define STRBUF_INIT	{ NULL, 0, 0 }

void	strbuf_add(struct strbuf *, const void *data, size_t n);
void	strbuf_adds(struct strbuf *, const char *s);
void	strbuf_addc(struct strbuf *, char c);
void	strbuf_addf(struct strbuf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	strbuf_vaddf(struct strbuf *, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* The text so far, borrowed until the next append: "" when empty. */
const char *strbuf_str(const struct strbuf *);
/* Hands the text to the caller (free(3) it; never NULL), empties b. */
char	*strbuf_take(struct strbuf *);
/* Releases the memory; b is empty again. */
void	strbuf_free(struct strbuf *);

#endif
