/* Tandem — MIT licence. Unit tests for common/arena.c: budget, alignment, reset, protobuf-c view. */
#include "common/arena.h"
#include "common/xalloc.h"
#include "tests/unit/common/cases.h"

#define MAXSTEPS	8

/* A sequence of allocations against a budget; want[i] says whether step i must succeed. */
struct seq_row {
	const char	*what;
	size_t		 budget;
	size_t		 sizes[MAXSTEPS];
	int		 want[MAXSTEPS];
	size_t		 nsteps;
	size_t		 want_failed;
};

static const struct seq_row seq_rows[] = {
	{ "one byte", 64, { 1 }, { 1 }, 1, 0 },
	{ "the whole budget at once", 64, { 64 }, { 1 }, 1, 0 },
	{ "one byte over the budget", 64, { 65 }, { 0 }, 1, 1 },
	{ "budget spent, then 1 byte", 64, { 64, 1 }, { 1, 0 }, 2, 1 },
	{ "padding counts against the budget", 40, { 17, 16, 8 }, { 1, 0, 1 }, 3, 1 },
	{ "a refusal does not poison later fits", 48, { 16, 64, 16, 16 }, { 1, 0, 1, 1 }, 4, 1 },
	{ "zero bytes still takes a slot", 32, { 0, 0, 0 }, { 1, 1, 0 }, 3, 1 },
	{ "SIZE_MAX does not wrap", 64, { 1, SIZE_MAX }, { 1, 0 }, 2, 1 },
	{ "SIZE_MAX - 15 does not wrap", 64, { 1, SIZE_MAX - 15 }, { 1, 0 }, 2, 1 },
	{ "zero budget", 0, { 1, 0 }, { 0, 0 }, 2, 2 },
	{ "every failure is counted", 16, { 16, 1, 2, 3 }, { 1, 0, 0, 0 }, 4, 3 },
};

static void
test_seq(void **state)
{
	const struct seq_row *r = ROW(struct seq_row, state);
	struct arena a;
	uint8_t *p, *prev_end = NULL;
	size_t i;

	assert_int_equal(arena_init(&a, r->budget), 0);
	for (i = 0; i < r->nsteps; i++) {
		p = arena_alloc(&a, r->sizes[i]);
		if ((p != NULL) != r->want[i]) {
			arena_shutdown(&a);
			fail_msg("step %zu (%zu bytes): got %p", i, r->sizes[i], (void *)p);
		}
		if (p == NULL)
			continue;
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(p >= a.base && p + r->sizes[i] <= a.base + a.budget);
		CHECK(prev_end == NULL || p >= prev_end);	/* no overlap */
		memset(p, 0x5a, r->sizes[i]);
		prev_end = p + (r->sizes[i] ? r->sizes[i] : 1);
	}
	CHECK(a.used <= a.budget);
	CHECK(a.failed == r->want_failed);
	arena_shutdown(&a);
}

static void
test_alignment(void **state)
{
	struct arena a;
	size_t n;
	void *p;

	(void)state;
	assert_int_equal(arena_init(&a, 64 * 1024), 0);
	for (n = 1; n <= 100; n++) {
		p = arena_alloc(&a, n);
		assert_non_null(p);
		if (((uintptr_t)p & 15) != 0)
			fail_msg("allocation of %zu bytes at %p is not 16-byte aligned", n, p);
	}
	arena_shutdown(&a);
}

static void
test_reset(void **state)
{
	struct arena a;
	void *first, *again;

	(void)state;
	assert_int_equal(arena_init(&a, 64), 0);
	first = arena_alloc(&a, 64);
	assert_non_null(first);
	assert_null(arena_alloc(&a, 1));
	assert_int_equal(a.failed, 1);
	arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_int_equal(a.failed, 0);
	again = arena_alloc(&a, 64);
	assert_ptr_equal(first, again);	/* memory is reused, not reallocated */
	arena_shutdown(&a);
	assert_null(a.base);
	arena_shutdown(&a);		/* twice is harmless */
}

static void
test_shutdown_zeroed(void **state)
{
	struct arena a;

	(void)state;
	memset(&a, 0, sizeof(a));
	arena_shutdown(&a);
	assert_null(a.base);
}

/* The protobuf-c allocator view allocates from the arena and never frees. */
static void
test_pb(void **state)
{
	struct arena a;
	void *p;

	(void)state;
	assert_int_equal(arena_init(&a, 64), 0);
	p = a.pb.alloc(a.pb.allocator_data, 32);
	assert_non_null(p);
	assert_true(a.used >= 32);
	a.pb.free(a.pb.allocator_data, p);
	assert_true(a.used >= 32);
	assert_null(a.pb.alloc(a.pb.allocator_data, 64));
	assert_int_equal(a.failed, 1);
	arena_shutdown(&a);
}

/* arena_init is the arena's only heap allocation: it fails cleanly when xalloc does. */
static void
test_init_fault(void **state)
{
	struct arena a;
	int rc;

	(void)state;
	xalloc_fail_after(0);
	rc = arena_init(&a, 1024);
	xalloc_fail_after(-1);
	assert_int_equal(rc, -1);
	assert_null(a.base);
	arena_shutdown(&a);
	xalloc_fail_after(1);
	rc = arena_init(&a, 1024);
	xalloc_fail_after(-1);
	assert_int_equal(rc, 0);
	arena_shutdown(&a);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "budget", test_seq, seq_rows);
	cases_add(&cs, "every size is 16-byte aligned", test_alignment, NULL);
	cases_add(&cs, "reset reuses memory and clears the failure count", test_reset, NULL);
	cases_add(&cs, "shutdown of a zeroed arena", test_shutdown_zeroed, NULL);
	cases_add(&cs, "protobuf-c allocator view", test_pb, NULL);
	cases_add(&cs, "init under allocation failure", test_init_fault, NULL);
	return cases_run(&cs, "arena");
}
