/*
 * xmalloc: allocation that never returns NULL.
 *
 * Every allocation in ebb goes through these wrappers; on out-of-memory they
 * print a message and abort, so ordinary code carries no NULL checks.
 * Memory returned is owned by the caller and released with free(3).
 */
#ifndef EBB_XMALLOC_H
#define EBB_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated lists of strings (NULL is an empty list). */
char	**strv_dup(char *const *);
/* Frees the strings and the list. */
void	 strv_free(char **);
int	 strv_has(char *const *, const char *);

#endif
