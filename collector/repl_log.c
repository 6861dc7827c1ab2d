/* Tandem — MIT licence. Replication record ring: recent records by position, bounded in bytes. */
#include <string.h>

#include <event2/buffer.h>

#include "collector/repl.h"
#include "common/frame.h"
#include "common/repl_rec.h"
#include "common/xalloc.h"

struct ring_rec {
	uint64_t	 pos, epoch;
	uint8_t		*p;
	size_t		 len;
};

struct repl_ring {
	struct ring_rec	*r;
	size_t		 cap, head, n;	/* slots */
	size_t		 bytes, max_bytes;
};

const char *
repl_type_name(int t)
{
	static const char *names[] = { "none", "hello", "record", "ack", "snap", "snap-data",
	    "snap-end", "error" };

	return t >= 0 && (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

int
repl_send(struct evbuffer *out, int type, const void *payload, size_t len)
{
	uint8_t hdr[FRAME_HDR + 1];

	frame_put_header(hdr, (uint32_t)(len + 1));
	hdr[FRAME_HDR] = (uint8_t)type;
	if (evbuffer_add(out, hdr, sizeof(hdr)) == -1)
		return -1;
	return len > 0 ? evbuffer_add(out, payload, len) : 0;
}

struct repl_ring *
repl_ring_new(size_t max_bytes)
{
	struct repl_ring *g;

	if ((g = xcalloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->max_bytes = max_bytes;
	return g;
}

static void
drop_oldest(struct repl_ring *g)
{
	struct ring_rec *r = &g->r[g->head];

	g->bytes -= r->len;
	XFREE(r->p);
	g->head = (g->head + 1) % g->cap;
	g->n--;
}

void
repl_ring_clear(struct repl_ring *g)
{
	while (g->n > 0)
		drop_oldest(g);
	g->head = 0;
}

void
repl_ring_free(struct repl_ring *g)
{
	if (g == NULL)
		return;
	repl_ring_clear(g);
	xfree(g->r);
	xfree(g);
}

int
repl_ring_add(struct repl_ring *g, uint64_t pos, uint64_t epoch, const uint8_t *rec, size_t len)
{
	struct ring_rec *r;
	uint8_t *copy;

	/* Positions must follow each other; anything else starts the ring afresh. */
	if (g->n > 0 && pos != repl_ring_last(g) + 1)
		repl_ring_clear(g);
	if ((copy = xmalloc(len)) == NULL)
		return -1;
	memcpy(copy, rec, len);
	while (g->n > 0 && g->bytes + len > g->max_bytes)
		drop_oldest(g);
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 256, i;
		struct ring_rec *nr = xcalloc(cap, sizeof(*nr));

		if (nr == NULL) {
			xfree(copy);
			return -1;
		}
		for (i = 0; i < g->n; i++)
			nr[i] = g->r[(g->head + i) % g->cap];
		xfree(g->r);
		g->r = nr;
		g->cap = cap;
		g->head = 0;
	}
	r = &g->r[(g->head + g->n) % g->cap];
	r->pos = pos;
	r->epoch = epoch;
	r->p = copy;
	r->len = len;
	g->n++;
	g->bytes += len;
	return 0;
}

uint64_t
repl_ring_first(const struct repl_ring *g)
{
	return g->n ? g->r[g->head].pos : 0;
}

uint64_t
repl_ring_last(const struct repl_ring *g)
{
	return g->n ? g->r[(g->head + g->n - 1) % g->cap].pos : 0;
}

const uint8_t *
repl_ring_get(const struct repl_ring *g, uint64_t pos, size_t *len, uint64_t *epoch)
{
	const struct ring_rec *r;
	uint64_t first = repl_ring_first(g);

	if (g->n == 0 || pos < first || pos > repl_ring_last(g))
		return NULL;
	r = &g->r[(g->head + (pos - first)) % g->cap];
	*len = r->len;
	if (epoch != NULL)
		*epoch = r->epoch;
	return r->p;
}
