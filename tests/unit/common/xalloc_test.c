/* Tandem — MIT licence. Unit tests for common/xalloc.c: every wrapper and the countdown fault injector. */
#include "common/xalloc.h"
#include "tests/unit/common/cases.h"

/* One allocation through a wrapper; returns the pointer (to be freed with xfree). */
typedef void	*(*alloc_fn)(void);

static void *
do_malloc(void)
{
	return xmalloc(16);
}

static void *
do_calloc(void)
{
	return xcalloc(4, 4);
}

static void *
do_realloc(void)
{
	return xrealloc(NULL, 16);
}

static void *
do_strdup(void)
{
	return xstrdup("tandem");
}

static void *
do_strndup(void)
{
	return xstrndup("tandem", 3);
}

struct fn_row {
	const char	*what;
	alloc_fn	 fn;
};

static const struct fn_row fn_rows[] = {
	{ "xmalloc", do_malloc },
	{ "xcalloc", do_calloc },
	{ "xrealloc", do_realloc },
	{ "xstrdup", do_strdup },
	{ "xstrndup", do_strndup },
};

/* Countdown n: exactly n allocations succeed, then all fail until the injector is off. */
static void
test_countdown(void **state)
{
	const struct fn_row *r = ROW(struct fn_row, state);
	void *p[8];
	long n, i;

	for (n = 0; n < 5; n++) {
		xalloc_fail_after(n);
		for (i = 0; i < 8; i++)
			p[i] = r->fn();
		xalloc_fail_after(-1);
		for (i = 0; i < 8; i++) {
			if ((p[i] != NULL) != (i < n))
				fail_msg("countdown %ld: allocation %ld %s", n, i,
				    p[i] ? "succeeded" : "failed");
			XFREE(p[i]);
		}
	}
	/* Off: everything succeeds. */
	p[0] = r->fn();
	assert_non_null(p[0]);
	XFREE(p[0]);
}

static void
test_contents(void **state)
{
	char *s;
	unsigned char *z;
	size_t i;

	(void)state;
	s = xstrdup("tandem");
	assert_string_equal(s, "tandem");
	XFREE(s);
	assert_null(s);
	s = xstrndup("tandem", 3);
	assert_string_equal(s, "tan");
	XFREE(s);
	z = xcalloc(8, 8);
	assert_non_null(z);
	for (i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	XFREE(z);
	xfree(NULL);		/* a no-op */
	XFREE(z);		/* on NULL too */
}

/* A failed xrealloc leaves the old block valid, like realloc. */
static void
test_realloc_fail(void **state)
{
	char *p, *q;

	(void)state;
	p = xstrdup("keep me");
	assert_non_null(p);
	xalloc_fail_after(0);
	q = xrealloc(p, 1024);
	xalloc_fail_after(-1);
	assert_null(q);
	assert_string_equal(p, "keep me");
	q = xrealloc(p, 1024);
	assert_non_null(q);
	assert_string_equal(q, "keep me");
	XFREE(q);
}

/* xalloc_fail_after returns the number of allocations made since the previous call. */
static void
test_count(void **state)
{
	void *p[3];
	int i;

	(void)state;
	xalloc_fail_after(-1);
	for (i = 0; i < 3; i++)
		p[i] = xmalloc(1);
	assert_int_equal(xalloc_fail_after(1), 3);
	for (i = 0; i < 3; i++)
		xfree(p[i]);
	p[0] = xmalloc(1);
	p[1] = xmalloc(1);	/* fails, and is still counted */
	assert_int_equal(xalloc_fail_after(-1), 2);
	assert_non_null(p[0]);
	assert_null(p[1]);
	xfree(p[0]);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "countdown", test_countdown, fn_rows);
	cases_add(&cs, "contents and XFREE", test_contents, NULL);
	cases_add(&cs, "failed xrealloc keeps the block", test_realloc_fail, NULL);
	cases_add(&cs, "allocation count", test_count, NULL);
	return cases_run(&cs, "xalloc");
}
