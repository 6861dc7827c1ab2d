/* Tandem — MIT licence. malloc wrappers; a countdown fault injector lets tests walk OOM paths. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static long xalloc_countdown = -1;
static long xalloc_count;

static int
xalloc_fails(void)
{
	xalloc_count++;
	if (xalloc_countdown < 0)
		return 0;
	if (xalloc_countdown == 0)
		return 1;
	xalloc_countdown--;
	return 0;
}

long
xalloc_fail_after(long n)
{
	long made = xalloc_count;

	xalloc_countdown = n;
	xalloc_count = 0;
	return made;
}

void *
xmalloc(size_t n)
{
	return xalloc_fails() ? NULL : malloc(n);
}

void *
xcalloc(size_t n, size_t size)
{
	return xalloc_fails() ? NULL : calloc(n, size);
}

void *
xrealloc(void *p, size_t n)
{
	return xalloc_fails() ? NULL : realloc(p, n);
}

char *
xstrdup(const char *s)
{
	return xalloc_fails() ? NULL : strdup(s);
}

char *
xstrndup(const char *s, size_t n)
{
	return xalloc_fails() ? NULL : strndup(s, n);
}

void
xfree(void *p)
{
	free(p);
}
