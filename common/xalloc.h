/* Tandem — MIT licence. All heap allocation: malloc wrappers with a test-build fault injector. */
#ifndef TANDEM_XALLOC_H
#define TANDEM_XALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup: NULL on failure (or on an injected failure). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	 xfree(void *);

/* Frees and sets the pointer to NULL on the same line. */
#define XFREE(p)	do { xfree(p); (p) = NULL; } while (0)

/*
 * Fault injection: after n further successful allocations, every allocation fails until
 * xalloc_fail_after(-1). Returns how many allocations were made since the last call.
 */
long	xalloc_fail_after(long n);

#endif
