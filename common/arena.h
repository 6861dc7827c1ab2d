/* Tandem — MIT licence. Bump arena with a hard byte budget; backs protobuf-c unpacking. */
#ifndef TANDEM_ARENA_H
#define TANDEM_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena {
	unsigned char	*base;
	size_t		 cap;		/* bytes reserved in base */
	size_t		 used;
	size_t		 budget;	/* allocations beyond this fail */
	size_t		 failed;	/* allocations refused since the last reset */
	ProtobufCAllocator pb;		/* protobuf-c view of this arena */
};

/* Prepares an arena that may hand out up to budget bytes. 0 or -1 (out of memory). */
int	 arena_init(struct arena *, size_t budget);
/* Frees the arena's memory. Safe on a zeroed or already shut down arena. */
void	 arena_shutdown(struct arena *);
/* Forgets every allocation; memory is kept for reuse. */
void	 arena_reset(struct arena *);
/* 16-byte aligned allocation; NULL once the budget is spent. Freed only by reset. */
void	*arena_alloc(struct arena *, size_t);

#endif
