/* Tandem — MIT licence. The agent's bounded window of unacknowledged, already packed events. */
#ifndef TANDEM_WINDOW_H
#define TANDEM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct hist;

/*
 * Events live in one contiguous byte buffer in their batch wire form (field tag, length,
 * packed Event), so a run of unsent events is a batch body as it is. Sequence numbers are not
 * stored: the event at position i (0 = oldest) has seq base_seq + i, which makes renumbering
 * a single assignment. Events leave only through window_ack() (or window_ack_upto()).
 */
struct window_ent {
	uint32_t	len;		/* wire bytes */
	uint32_t	pad;
	uint64_t	enq_us;		/* monotonic enqueue time */
};

struct window {
	uint8_t		*buf;
	size_t		 buf_cap;
	size_t		 head_off;	/* first live byte */
	size_t		 sent_off;	/* first unsent byte */
	size_t		 tail_off;	/* end of live bytes */
	struct window_ent *ents;	/* ring of ent_cap (a power of two) entries */
	size_t		 ent_cap;
	size_t		 head;		/* ring index of the oldest event */
	size_t		 count;		/* events in the window */
	size_t		 nsent;		/* events from the oldest already sent on this connection */
	uint64_t	 base_seq;	/* seq of the oldest event, or of the next one if empty */
	size_t		 max_events;
	size_t		 max_bytes;
};

/* Prepares an empty window numbered from 1. Memory grows on demand up to the limits. 0/-1. */
int	window_init(struct window *, size_t max_events, size_t max_bytes);
/* Frees the window's memory; safe twice. */
void	window_shutdown(struct window *);

/*
 * Appends one packed Event (copied; the caller keeps packed). 0, or -1 with errno EAGAIN
 * (limits reached: try after acks), EMSGSIZE (larger than the whole byte limit) or ENOMEM.
 */
int	window_push(struct window *, const uint8_t *packed, size_t packed_len, uint64_t enq_us);

/* 1 when one more event of packed_len bytes would fit now. */
int	window_has_room(const struct window *, size_t packed_len);

/*
 * The next run of unsent events: at most max_events events and max_bytes wire bytes (but at
 * least one event when any is unsent). Sets *first_seq, *body (borrowed until the window
 * changes) and *body_len; returns the number of events, 0 when nothing is unsent.
 * window_mark_sent() then records that the run went out.
 */
size_t	window_peek_unsent(const struct window *, size_t max_events, size_t max_bytes,
	    uint64_t *first_seq /* OUT */, const uint8_t **body /* OUT */,
	    size_t *body_len /* OUT */);
void	window_mark_sent(struct window *, size_t nevents, size_t body_len);

/* Forgets what was sent on the connection: everything in the window is unsent again. */
void	window_rewind(struct window *);

/*
 * Removes every event with seq <= upto (clamped to the events sent so far on this connection
 * when sent_only is set, else to the whole window), recording each one's latency
 * (now_us - enq_us) in h if h is not NULL. Returns the number removed.
 */
size_t	window_ack(struct window *, uint64_t upto, int sent_only, uint64_t now_us,
	    struct hist *h);

/* Renumbers the window so its oldest event (or the next one if empty) gets seq first. */
void	window_renumber(struct window *, uint64_t first);

static inline size_t
window_unsent(const struct window *w)
{
	return w->count - w->nsent;
}

static inline uint64_t
window_next_seq(const struct window *w)
{
	return w->base_seq + w->count;
}

static inline size_t
window_bytes(const struct window *w)
{
	return w->tail_off - w->head_off;
}

#endif
