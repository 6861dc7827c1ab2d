/* Tandem — MIT licence. libFuzzer target: agent message decoding through a bounded arena. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/arena.h"
#include "common/frame.h"
#include "proto/msg.h"

/*
 * msg_decode() over arbitrary frame bodies, with a 1 MiB arena budget and a fixed clock.
 * A success is checked against every documented bound again, independently of msg.c, and
 * then re-encoded (msg_send for replies and hello, msg_batch_prefix + msg_event_put for
 * batches) and decoded a second time: the result must be the same message. A failure must
 * carry a known error code and a reason. The arena is reset after every input.
 */

#define FUZZ_BUDGET	(1024 * 1024)
#define FUZZ_NOW_MS	1700000000000LL		/* 2023-11-14 */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "msg_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)

static struct arena arena, arena2;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
in_buf(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static int
str_in(const char *s, size_t min, size_t max)
{
	size_t n;

	if (s == NULL)
		return min == 0;
	n = strlen(s);
	return n >= min && n <= max;
}

static void
check_batch(const struct msg *m, const uint8_t *data, size_t size)
{
	char err[256];
	size_t i;

	CHECK(m->m == NULL);
	CHECK(m->nevents >= 1 && m->nevents <= MSG_MAX_EVENTS);
	CHECK(m->events != NULL);
	CHECK(m->first_seq >= 1 && m->first_seq <= UINT64_MAX - m->nevents);
	for (i = 0; i < m->nevents; i++) {
		const struct msg_event *e = &m->events[i];

		CHECK(e->raw != NULL && in_buf(e->raw, e->len, data, size));
		CHECK(e->ev != NULL);
		CHECK(e->kind > EV_NONE && e->kind < EV_KINDS);
		CHECK(strcmp(ev_kind_name(e->kind), "unknown") != 0);
		CHECK(e->ev->has_time_ms && e->time_ms == e->ev->time_ms);
		CHECK(e->time_ms >= MSG_TIME_MIN_MS && e->time_ms <= FUZZ_NOW_MS + MSG_TIME_FUTURE_MS);
		CHECK(msg_check_event(e->ev, FUZZ_NOW_MS, err, sizeof(err)) == 0);
	}
}

static void
check_other(const struct msg *m)
{
	const Tandem__Message *pm = m->m;

	CHECK(pm != NULL);
	CHECK(m->nevents == 0 && m->events == NULL);
	switch (m->type) {
	case MSGT_HELLO:
		CHECK(pm->body_case == TANDEM__MESSAGE__BODY_HELLO);
		CHECK(str_in(pm->hello->agent_id, 1, MSG_MAX_ID));
		CHECK(str_in(pm->hello->app, 1, MSG_MAX_ID));
		CHECK(str_in(pm->hello->host, 0, MSG_MAX_ID));
		CHECK(str_in(pm->hello->token, 0, MSG_MAX_TOKEN));
		break;
	case MSGT_WELCOME:
		CHECK(pm->body_case == TANDEM__MESSAGE__BODY_WELCOME);
		break;
	case MSGT_ACK:
		CHECK(pm->body_case == TANDEM__MESSAGE__BODY_ACK);
		break;
	case MSGT_ERROR:
		CHECK(pm->body_case == TANDEM__MESSAGE__BODY_ERROR);
		CHECK(str_in(pm->error->reason, 0, MSG_MAX_REASON));
		break;
	default:
		CHECK(!"type out of range");
	}
}

static void
strip_unknown(ProtobufCMessage *pm)
{
	const ProtobufCMessageDescriptor *d = pm->descriptor;
	unsigned i;

	pm->n_unknown_fields = 0;
	/* Message's bodies are flat messages: one level down is all there is. */
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *sub;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		sub = *(ProtobufCMessage **)((char *)pm + f->offset);
		if (sub != NULL)
			sub->n_unknown_fields = 0;
	}
}

/* Encodes the decoded message again into out (a whole frame). */
static void
reencode(struct msg *m, struct evbuffer *out)
{
	size_t i, wire = 0, n;
	uint8_t *p;

	if (m->type != MSGT_BATCH) {
		/*
		 * Unknown fields are dropped first: protobuf-c 1.4 keeps a nested field whose
		 * tag is an overlong zero (80 00) as an unknown field of number 0, and packs it
		 * back as 00, which it then refuses. Nothing repacks what an agent sent (batches
		 * keep the raw event bytes), so only known fields must survive a round trip.
		 */
		strip_unknown(&m->m->base);
		CHECK(msg_send(out, m->m) == 0);
		return;
	}
	for (i = 0; i < m->nevents; i++)
		wire += msg_event_wire_size(m->events[i].len);
	CHECK((p = malloc(MSG_BATCH_PREFIX_MAX + wire)) != NULL);
	n = msg_batch_prefix(p, m->first_seq, wire);
	CHECK(n <= MSG_BATCH_PREFIX_MAX);
	for (i = 0; i < m->nevents; i++)
		n += msg_event_put(p + n, m->events[i].raw, m->events[i].len);
	CHECK(evbuffer_add(out, p, n) == 0);
	free(p);
}

static void
check_roundtrip(struct msg *m)
{
	struct evbuffer *out;
	struct msg m2;
	char err[256];
	size_t len, body;
	uint8_t *p;
	int code;

	CHECK((out = evbuffer_new()) != NULL);
	reencode(m, out);
	len = evbuffer_get_length(out);
	CHECK((p = evbuffer_pullup(out, -1)) != NULL);
	CHECK(frame_parse(p, len, FRAME_MAX_MAX, &body) == FRAME_READY);
	CHECK(len == FRAME_HDR + body);
	arena_reset(&arena2);
	code = msg_decode(p + FRAME_HDR, body, &arena2, FUZZ_NOW_MS, &m2, err, sizeof(err));
	/* Re-encoding keeps or merges fields (never adds any), so it fits the same budget. */
	if (code != 0)
		fprintf(stderr, "msg_fuzz: re-encoded %s fails: %s\n", msg_type_name(m->type), err);
	CHECK(code == 0);
	CHECK(m2.type == m->type);
	if (m->type == MSGT_BATCH) {
		CHECK(m2.first_seq == m->first_seq);
		CHECK(m2.nevents == m->nevents);
		for (size_t i = 0; i < m->nevents; i++) {
			CHECK(m2.events[i].len == m->events[i].len);
			CHECK(memcmp(m2.events[i].raw, m->events[i].raw, m->events[i].len) == 0);
			CHECK(m2.events[i].kind == m->events[i].kind);
		}
	}
	evbuffer_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m;
	char err[256];
	int code;

	if (arena.base == NULL && (arena_init(&arena, FUZZ_BUDGET) == -1 ||
	    arena_init(&arena2, FUZZ_BUDGET) == -1))
		abort();
	arena_reset(&arena);
	err[0] = '\0';
	code = msg_decode(data, size, &arena, FUZZ_NOW_MS, &m, err, sizeof(err));
	CHECK(arena.used <= arena.budget);
	if (code != 0) {
		CHECK(code > 0 && code <= TANDEM__ERROR_CODE__ERR_STORE);
		CHECK(strcmp(msg_error_name(code), "unknown") != 0);
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
	} else {
		CHECK(strcmp(msg_type_name(m.type), "unknown") != 0);
		if (m.type == MSGT_BATCH)
			check_batch(&m, data, size);
		else
			check_other(&m);
		check_roundtrip(&m);
	}
	arena_reset(&arena);
	return 0;
}
