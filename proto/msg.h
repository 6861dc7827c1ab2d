/* Tandem — MIT licence. Agent protocol codec: decode a frame body into a checked message, encode replies. */
#ifndef TANDEM_MSG_H
#define TANDEM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/agent.pb-c.h"

struct arena;
struct evbuffer;

#define MSG_VERSION		1
#define MSG_MAX_EVENTS		4096	/* events per batch */
#define MSG_MAX_ID		128	/* agent_id, app, host */
#define MSG_MAX_TOKEN		256
#define MSG_MAX_NAME		128	/* queue, job, step, txn_id */
#define MSG_MAX_ATTRS		16
#define MSG_MAX_ATTR_KEY	64
#define MSG_MAX_ATTR_VALUE	256
#define MSG_MAX_LOG		8192
#define MSG_MAX_REASON		256
#define MSG_TIME_MIN_MS		946684800000LL	/* 2000-01-01T00:00:00Z */
#define MSG_TIME_FUTURE_MS	86400000LL	/* at most a day ahead of the collector */

enum msg_type {
	MSGT_NONE,
	MSGT_HELLO,
	MSGT_WELCOME,
	MSGT_BATCH,
	MSGT_ACK,
	MSGT_ERROR,
};

/* Event kinds as stored (one byte in store keys). Never renumber. */
enum ev_kind {
	EV_NONE = 0,
	EV_QUEUE = 1,
	EV_TXN = 2,
	EV_JOB = 3,
	EV_LOG = 4,
	EV_HEARTBEAT = 5,
};
#define EV_KINDS	6

struct msg_event {
	const uint8_t	*raw;		/* the Event's bytes, inside the decoded buffer */
	size_t		 len;
	Tandem__Event	*ev;		/* unpacked into the arena */
	enum ev_kind	 kind;
	int64_t		 time_ms;
};

struct msg {
	enum msg_type	 type;
	Tandem__Message	*m;		/* set for every type but MSGT_BATCH */
	uint64_t	 first_seq;	/* MSGT_BATCH */
	size_t		 nevents;
	struct msg_event *events;	/* in the arena */
};

const char	*msg_type_name(enum msg_type);
const char	*ev_kind_name(enum ev_kind);
const char	*msg_error_name(int code);

/*
 * Decodes one frame body. Everything allocated lives in the arena, borrowed until the arena
 * is reset; raw pointers point into buf. Checks wire validity, protobuf-c's message check and
 * every documented bound (event count is checked before any event is unpacked). now_ms bounds
 * event times. Returns 0, or a TANDEM__ERROR_CODE__* (> 0) with a reason in err.
 */
int	msg_decode(const uint8_t *buf, size_t len, struct arena *, int64_t now_ms,
	    struct msg *out /* OUT */, char *err, size_t errlen);

/* Checks one unpacked event against the bounds. 0 or an error code with a reason in err. */
int	msg_check_event(const Tandem__Event *, int64_t now_ms, char *err, size_t errlen);

/* Appends a whole frame (header + packed message) to out. 0 or -1 (out of memory). */
int	msg_send(struct evbuffer *out, const Tandem__Message *);
int	msg_send_welcome(struct evbuffer *out, uint64_t stored_seq, const char *node);
int	msg_send_ack(struct evbuffer *out, uint64_t upto_seq);
int	msg_send_error(struct evbuffer *out, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	msg_send_hello(struct evbuffer *out, const char *agent_id, const char *app,
	    const char *host, const char *token);

/*
 * Batch frames are assembled from already packed events without repacking them:
 *   prefix = msg_batch_prefix(hdr, first_seq, body) where body = sum of msg_event_wire_size()
 *   then each event as msg_event_put().
 * msg_batch_prefix writes at most MSG_BATCH_PREFIX_MAX bytes and returns how many.
 */
#define MSG_BATCH_PREFIX_MAX	32
size_t	msg_event_wire_size(size_t packed_len);
size_t	msg_event_put(uint8_t *out, const uint8_t *packed, size_t packed_len);
size_t	msg_batch_prefix(uint8_t *out, uint64_t first_seq, size_t events_wire_bytes);

#endif
