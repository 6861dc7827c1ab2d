/* Tandem — MIT licence. Agent protocol codec: bounded decode through the arena, replies packed into evbuffers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/arena.h"
#include "common/frame.h"
#include "common/wire.h"
#include "proto/msg.h"

#define MSG_FIELD_BATCH		3	/* Message.batch */
#define BATCH_FIELD_FIRST_SEQ	1
#define BATCH_FIELD_EVENTS	2

const char *
msg_type_name(enum msg_type t)
{
	static const char *names[] = { "none", "hello", "welcome", "batch", "ack", "error" };

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

const char *
ev_kind_name(enum ev_kind k)
{
	static const char *names[] = { "none", "queue", "txn", "job", "log", "heartbeat" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

const char *
msg_error_name(int code)
{
	static const char *names[] = { "none", "frame", "too-large", "decode", "unexpected",
	    "version", "auth", "seq", "bounds", "store-full", "idle", "overload", "shutdown",
	    "replaced", "store" };

	return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) ?
	    names[code] : "unknown";
}

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A string field: present, within [min, max] bytes. */
static int
str_ok(const char *s, size_t min, size_t max)
{
	size_t n;

	if (s == NULL)
		return min == 0;
	n = strnlen(s, max + 1);
	return n >= min && n <= max;
}

#define BOUNDS	TANDEM__ERROR_CODE__ERR_BOUNDS

int
msg_check_event(const Tandem__Event *ev, int64_t now_ms, char *err, size_t errlen)
{
	size_t i;

	if (!ev->has_time_ms)
		return fail(err, errlen, BOUNDS, "event without time_ms");
	if (ev->time_ms < MSG_TIME_MIN_MS || ev->time_ms > now_ms + MSG_TIME_FUTURE_MS)
		return fail(err, errlen, BOUNDS, "event time_ms %lld out of range",
		    (long long)ev->time_ms);
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:
		if (!str_ok(ev->queue->queue, 1, MSG_MAX_NAME))
			return fail(err, errlen, BOUNDS, "queue name must be 1..%d bytes",
			    MSG_MAX_NAME);
		if (!ev->queue->has_depth)
			return fail(err, errlen, BOUNDS, "queue sample without depth");
		break;
	case TANDEM__EVENT__KIND_TXN:
		if (!str_ok(ev->txn->txn_id, 1, MSG_MAX_NAME) ||
		    !str_ok(ev->txn->step, 1, MSG_MAX_NAME))
			return fail(err, errlen, BOUNDS,
			    "transaction id and step must be 1..%d bytes", MSG_MAX_NAME);
		if (ev->txn->n_attrs > MSG_MAX_ATTRS)
			return fail(err, errlen, BOUNDS, "%zu attributes, at most %d",
			    ev->txn->n_attrs, MSG_MAX_ATTRS);
		for (i = 0; i < ev->txn->n_attrs; i++)
			if (!str_ok(ev->txn->attrs[i]->key, 1, MSG_MAX_ATTR_KEY) ||
			    !str_ok(ev->txn->attrs[i]->value, 0, MSG_MAX_ATTR_VALUE))
				return fail(err, errlen, BOUNDS,
				    "attribute key 1..%d, value 0..%d bytes",
				    MSG_MAX_ATTR_KEY, MSG_MAX_ATTR_VALUE);
		break;
	case TANDEM__EVENT__KIND_JOB:
		if (!str_ok(ev->job->job, 1, MSG_MAX_NAME))
			return fail(err, errlen, BOUNDS, "job type must be 1..%d bytes",
			    MSG_MAX_NAME);
		if (!ev->job->has_duration_us)
			return fail(err, errlen, BOUNDS, "job timing without duration_us");
		break;
	case TANDEM__EVENT__KIND_LOG:
		if (!str_ok(ev->log->message, 0, MSG_MAX_LOG))
			return fail(err, errlen, BOUNDS, "log message over %d bytes",
			    MSG_MAX_LOG);
		break;
	case TANDEM__EVENT__KIND_HEARTBEAT:
		break;
	default:
		return fail(err, errlen, BOUNDS, "event of no known kind");
	}
	return 0;
}

static enum ev_kind
kind_of(const Tandem__Event *ev)
{
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:		return EV_QUEUE;
	case TANDEM__EVENT__KIND_TXN:		return EV_TXN;
	case TANDEM__EVENT__KIND_JOB:		return EV_JOB;
	case TANDEM__EVENT__KIND_LOG:		return EV_LOG;
	case TANDEM__EVENT__KIND_HEARTBEAT:	return EV_HEARTBEAT;
	default:				return EV_NONE;
	}
}

/*
 * The batch path scans the wire format itself so that the event count is bounded before any
 * event is unpacked, and so each event's original bytes can be stored without repacking.
 */
static int
decode_batch(const uint8_t *p, size_t len, struct arena *a, int64_t now_ms, struct msg *out,
    char *err, size_t errlen)
{
	const uint8_t *end = p + len, *q;
	struct wire_field f;
	size_t n = 0, i;
	int r, code;

	out->first_seq = 0;
	for (q = p; (r = wire_next(&q, end, &f)) == 1;) {
		if (f.num == BATCH_FIELD_FIRST_SEQ) {
			if (f.type != WIRE_VARINT)
				return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE,
				    "batch: first_seq has wire type %d", f.type);
			out->first_seq = f.value;
		} else if (f.num == BATCH_FIELD_EVENTS) {
			if (f.type != WIRE_LEN)
				return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE,
				    "batch: events has wire type %d", f.type);
			if (++n > MSG_MAX_EVENTS)
				return fail(err, errlen, BOUNDS,
				    "batch: more than %d events", MSG_MAX_EVENTS);
		}
	}
	if (r < 0)
		return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE, "batch: malformed wire data");
	if (n == 0)
		return fail(err, errlen, BOUNDS, "batch: no events");
	if (out->first_seq == 0)
		return fail(err, errlen, BOUNDS, "batch: first_seq must be at least 1");
	if (out->first_seq > UINT64_MAX - n)
		return fail(err, errlen, BOUNDS, "batch: sequence numbers overflow");
	if ((out->events = arena_alloc(a, n * sizeof(*out->events))) == NULL)
		return fail(err, errlen, BOUNDS, "batch: over the decode budget");
	for (i = 0, q = p; wire_next(&q, end, &f) == 1;) {
		struct msg_event *e;

		if (f.num != BATCH_FIELD_EVENTS)
			continue;
		e = &out->events[i];
		e->raw = f.data;
		e->len = f.value;
		e->ev = (Tandem__Event *)protobuf_c_message_unpack(&tandem__event__descriptor,
		    &a->pb, f.value, f.data);
		if (e->ev == NULL)
			return fail(err, errlen, a->failed ? BOUNDS :
			    TANDEM__ERROR_CODE__ERR_DECODE, "batch: event %zu %s", i,
			    a->failed ? "over the decode budget" : "is not a valid Event");
		if ((code = msg_check_event(e->ev, now_ms, err, errlen)) != 0)
			return code;
		e->kind = kind_of(e->ev);
		e->time_ms = e->ev->time_ms;
		i++;
	}
	out->nevents = n;
	return 0;
}

static int
check_hello(const Tandem__Hello *h, char *err, size_t errlen)
{
	if (!str_ok(h->agent_id, 1, MSG_MAX_ID))
		return fail(err, errlen, BOUNDS, "hello: agent_id must be 1..%d bytes", MSG_MAX_ID);
	if (!str_ok(h->app, 1, MSG_MAX_ID))
		return fail(err, errlen, BOUNDS, "hello: app must be 1..%d bytes", MSG_MAX_ID);
	if (!str_ok(h->host, 0, MSG_MAX_ID))
		return fail(err, errlen, BOUNDS, "hello: host over %d bytes", MSG_MAX_ID);
	if (!str_ok(h->token, 0, MSG_MAX_TOKEN))
		return fail(err, errlen, BOUNDS, "hello: token over %d bytes", MSG_MAX_TOKEN);
	return 0;
}

int
msg_decode(const uint8_t *buf, size_t len, struct arena *a, int64_t now_ms, struct msg *out,
    char *err, size_t errlen)
{
	const uint8_t *q = buf, *end = buf + len;
	struct wire_field f, batch = { 0 };
	size_t nfields = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = wire_next(&q, end, &f)) == 1) {
		nfields++;
		if (f.num == MSG_FIELD_BATCH)
			batch = f;
	}
	if (r < 0)
		return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE, "malformed protobuf");
	if (batch.num == MSG_FIELD_BATCH) {
		if (nfields != 1 || batch.type != WIRE_LEN)
			return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE,
			    "a batch message must carry the batch alone");
		out->type = MSGT_BATCH;
		return decode_batch(batch.data, batch.value, a, now_ms, out, err, errlen);
	}
	out->m = (Tandem__Message *)protobuf_c_message_unpack(&tandem__message__descriptor,
	    &a->pb, len, buf);
	if (out->m == NULL)
		return fail(err, errlen, a->failed ? BOUNDS : TANDEM__ERROR_CODE__ERR_DECODE,
		    a->failed ? "message over the decode budget" : "not a valid Message");
	if (!protobuf_c_message_check(&out->m->base))
		return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE, "message check failed");
	switch (out->m->body_case) {
	case TANDEM__MESSAGE__BODY_HELLO:
		out->type = MSGT_HELLO;
		return check_hello(out->m->hello, err, errlen);
	case TANDEM__MESSAGE__BODY_WELCOME:
		out->type = MSGT_WELCOME;
		break;
	case TANDEM__MESSAGE__BODY_ACK:
		out->type = MSGT_ACK;
		break;
	case TANDEM__MESSAGE__BODY_ERROR:
		out->type = MSGT_ERROR;
		if (!str_ok(out->m->error->reason, 0, MSG_MAX_REASON))
			return fail(err, errlen, BOUNDS, "error reason over %d bytes",
			    MSG_MAX_REASON);
		break;
	default:
		return fail(err, errlen, TANDEM__ERROR_CODE__ERR_DECODE, "message with no body");
	}
	return 0;
}

int
msg_send(struct evbuffer *out, const Tandem__Message *m)
{
	size_t n = protobuf_c_message_get_packed_size(&m->base);
	struct evbuffer_iovec v;

	if (evbuffer_reserve_space(out, FRAME_HDR + n, &v, 1) < 1)
		return -1;
	frame_put_header(v.iov_base, (uint32_t)n);
	protobuf_c_message_pack(&m->base, (uint8_t *)v.iov_base + FRAME_HDR);
	v.iov_len = FRAME_HDR + n;
	return evbuffer_commit_space(out, &v, 1);
}

int
msg_send_welcome(struct evbuffer *out, uint64_t stored_seq, const char *node)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Welcome w = TANDEM__WELCOME__INIT;

	w.has_version = 1;
	w.version = MSG_VERSION;
	w.has_stored_seq = 1;
	w.stored_seq = stored_seq;
	w.node = (char *)node;
	w.has_max_batch = 1;
	w.max_batch = MSG_MAX_EVENTS;
	m.body_case = TANDEM__MESSAGE__BODY_WELCOME;
	m.welcome = &w;
	return msg_send(out, &m);
}

int
msg_send_ack(struct evbuffer *out, uint64_t upto_seq)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Ack ack = TANDEM__ACK__INIT;

	ack.has_upto_seq = 1;
	ack.upto_seq = upto_seq;
	m.body_case = TANDEM__MESSAGE__BODY_ACK;
	m.ack = &ack;
	return msg_send(out, &m);
}

int
msg_send_error(struct evbuffer *out, int code, const char *fmt, ...)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Error e = TANDEM__ERROR__INIT;
	char reason[MSG_MAX_REASON + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	e.has_code = 1;
	e.code = (Tandem__ErrorCode)code;
	e.reason = reason;
	m.body_case = TANDEM__MESSAGE__BODY_ERROR;
	m.error = &e;
	return msg_send(out, &m);
}

int
msg_send_hello(struct evbuffer *out, const char *agent_id, const char *app, const char *host,
    const char *token)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Hello h = TANDEM__HELLO__INIT;

	h.has_version = 1;
	h.version = MSG_VERSION;
	h.agent_id = (char *)agent_id;
	h.app = (char *)app;
	h.host = (char *)host;
	h.token = (char *)token;
	m.body_case = TANDEM__MESSAGE__BODY_HELLO;
	m.hello = &h;
	return msg_send(out, &m);
}

size_t
msg_event_wire_size(size_t packed_len)
{
	return 1 + wire_varint_size(packed_len) + packed_len;
}

size_t
msg_event_put(uint8_t *out, const uint8_t *packed, size_t packed_len)
{
	size_t n = 0;

	out[n++] = (BATCH_FIELD_EVENTS << 3) | WIRE_LEN;
	n += wire_put_varint(out + n, packed_len);
	memcpy(out + n, packed, packed_len);
	return n + packed_len;
}

size_t
msg_batch_prefix(uint8_t *out, uint64_t first_seq, size_t events_wire_bytes)
{
	size_t batch_len, msg_len, n = FRAME_HDR;

	batch_len = 1 + wire_varint_size(first_seq) + events_wire_bytes;
	msg_len = 1 + wire_varint_size(batch_len) + batch_len;
	frame_put_header(out, (uint32_t)msg_len);
	out[n++] = (MSG_FIELD_BATCH << 3) | WIRE_LEN;
	n += wire_put_varint(out + n, batch_len);
	out[n++] = (BATCH_FIELD_FIRST_SEQ << 3) | WIRE_VARINT;
	n += wire_put_varint(out + n, first_seq);
	return n;
}
