/* Tandem — MIT licence. Bounded window of packed events: a byte buffer plus a ring of lengths. */
#include <errno.h>
#include <string.h>

#include "agent/hist.h"
#include "agent/window.h"
#include "common/xalloc.h"
#include "proto/msg.h"

#define WINDOW_MIN_ENTS		64
#define WINDOW_MIN_BYTES	4096

int
window_init(struct window *w, size_t max_events, size_t max_bytes)
{
	memset(w, 0, sizeof(*w));
	if (max_events == 0 || max_bytes == 0) {
		errno = EINVAL;
		return -1;
	}
	w->max_events = max_events;
	w->max_bytes = max_bytes;
	w->base_seq = 1;
	return 0;
}

void
window_shutdown(struct window *w)
{
	XFREE(w->buf);
	XFREE(w->ents);
	w->buf_cap = w->ent_cap = w->count = w->nsent = 0;
	w->head_off = w->sent_off = w->tail_off = 0;
}

int
window_has_room(const struct window *w, size_t packed_len)
{
	return w->count < w->max_events &&
	    window_bytes(w) + msg_event_wire_size(packed_len) <= w->max_bytes;
}

/* Doubles the entry ring, unwrapping it so the oldest entry is at index 0. */
static int
window_grow_ents(struct window *w)
{
	struct window_ent *n;
	size_t cap = w->ent_cap ? w->ent_cap * 2 : WINDOW_MIN_ENTS, i;

	if ((n = xcalloc(cap, sizeof(*n))) == NULL)
		return -1;
	for (i = 0; i < w->count; i++)
		n[i] = w->ents[(w->head + i) & (w->ent_cap - 1)];
	xfree(w->ents);
	w->ents = n;
	w->ent_cap = cap;
	w->head = 0;
	return 0;
}

/* Makes room for need more bytes at the tail: slide live bytes down, or grow. */
static int
window_make_room(struct window *w, size_t need)
{
	size_t live = window_bytes(w), cap;
	uint8_t *n;

	if (w->buf_cap - w->tail_off >= need)
		return 0;
	/* Sliding costs the live bytes; do it only when at least as much is dead. */
	if (w->head_off >= live && w->buf_cap - live >= need) {
		memmove(w->buf, w->buf + w->head_off, live);
		w->sent_off -= w->head_off;
		w->tail_off -= w->head_off;
		w->head_off = 0;
		return 0;
	}
	cap = w->buf_cap ? w->buf_cap : WINDOW_MIN_BYTES;
	while (cap - live < need)
		cap *= 2;
	if (cap <= w->buf_cap)
		cap = w->buf_cap * 2;
	if ((n = xmalloc(cap)) == NULL)
		return -1;
	if (live > 0)
		memcpy(n, w->buf + w->head_off, live);
	xfree(w->buf);
	w->buf = n;
	w->buf_cap = cap;
	w->sent_off -= w->head_off;
	w->tail_off -= w->head_off;
	w->head_off = 0;
	return 0;
}

int
window_push(struct window *w, const uint8_t *packed, size_t packed_len, uint64_t enq_us)
{
	size_t wire = msg_event_wire_size(packed_len);
	struct window_ent *e;

	if (wire > w->max_bytes || wire > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (w->count >= w->max_events || window_bytes(w) + wire > w->max_bytes) {
		errno = EAGAIN;
		return -1;
	}
	if (w->count == w->ent_cap && window_grow_ents(w) == -1)
		goto nomem;
	if (window_make_room(w, wire) == -1)
		goto nomem;
	msg_event_put(w->buf + w->tail_off, packed, packed_len);
	w->tail_off += wire;
	e = &w->ents[(w->head + w->count) & (w->ent_cap - 1)];
	e->len = (uint32_t)wire;
	e->enq_us = enq_us;
	w->count++;
	return 0;
 nomem:
	errno = ENOMEM;
	return -1;
}

size_t
window_peek_unsent(const struct window *w, size_t max_events, size_t max_bytes,
    uint64_t *first_seq, const uint8_t **body, size_t *body_len)
{
	size_t n = 0, bytes = 0, len;

	*first_seq = w->base_seq + w->nsent;
	*body = w->buf + w->sent_off;
	while (w->nsent + n < w->count && n < max_events) {
		len = w->ents[(w->head + w->nsent + n) & (w->ent_cap - 1)].len;
		if (n > 0 && bytes + len > max_bytes)
			break;
		bytes += len;
		n++;
	}
	*body_len = bytes;
	return n;
}

void
window_mark_sent(struct window *w, size_t nevents, size_t body_len)
{
	w->nsent += nevents;
	w->sent_off += body_len;
}

void
window_rewind(struct window *w)
{
	w->nsent = 0;
	w->sent_off = w->head_off;
}

size_t
window_ack(struct window *w, uint64_t upto, int sent_only, uint64_t now_us, struct hist *h)
{
	size_t n, i, limit = sent_only ? w->nsent : w->count, bytes = 0;
	struct window_ent *e;

	if (upto < w->base_seq)
		return 0;
	n = upto - w->base_seq + 1 > limit ? limit : (size_t)(upto - w->base_seq + 1);
	for (i = 0; i < n; i++) {
		e = &w->ents[(w->head + i) & (w->ent_cap - 1)];
		bytes += e->len;
		if (h != NULL)
			hist_record(h, now_us > e->enq_us ? now_us - e->enq_us : 0);
	}
	if (n == 0)
		return 0;
	w->head = (w->head + n) & (w->ent_cap - 1);
	w->count -= n;
	w->base_seq += n;
	w->head_off += bytes;
	if (w->nsent >= n) {
		w->nsent -= n;
	} else {
		w->nsent = 0;
		w->sent_off = w->head_off;
	}
	if (w->count == 0)
		w->head_off = w->sent_off = w->tail_off = 0;
	return n;
}

void
window_renumber(struct window *w, uint64_t first)
{
	w->base_seq = first;
}
