/* Tandem — MIT licence. Bump arena: a fixed block, a budget, reset between messages. */
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/xalloc.h"

static void *
arena_pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

static void
arena_pb_free(void *data, void *p)
{
	/* Memory comes back on arena_reset(). */
	(void)data;
	(void)p;
}

int
arena_init(struct arena *a, size_t budget)
{
	memset(a, 0, sizeof(*a));
	if ((a->base = xmalloc(budget)) == NULL)
		return -1;
	a->cap = budget;
	a->budget = budget;
	a->pb.alloc = arena_pb_alloc;
	a->pb.free = arena_pb_free;
	a->pb.allocator_data = a;
	return 0;
}

void
arena_shutdown(struct arena *a)
{
	XFREE(a->base);
	a->cap = a->used = a->budget = 0;
}

void
arena_reset(struct arena *a)
{
	a->used = 0;
	a->failed = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	size_t off = (a->used + 15) & ~(size_t)15;

	if (n == 0)
		n = 1;
	if (off > a->budget || n > a->budget - off) {
		a->failed++;
		return NULL;
	}
	a->used = off + n;
	return a->base + off;
}
