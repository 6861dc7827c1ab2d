/* Tandem — MIT licence. Unit tests for proto/msg.c: round trips of every message, bounds, budgets. */
#include <event2/buffer.h>

#include "common/arena.h"
#include "common/frame.h"
#include "common/wire.h"
#include "proto/agent.pb-c.h"
#include "proto/msg.h"
#include "tests/unit/common/cases.h"

#define NOW		1700000000000LL
#define T_OK		(NOW - 10000)
#define BUDGET		(1024 * 1024)
#define BUF_MAX		(1024 * 1024)
#define BAD		TANDEM__ERROR_CODE__ERR_DECODE
#define BOUNDS		TANDEM__ERROR_CODE__ERR_BOUNDS

static struct arena arena;
static uint8_t buf[BUF_MAX];		/* built frames (header included) */
static char err[512];

static int
setup(void **state)
{
	(void)state;
	return arena_init(&arena, BUDGET);
}

static int
teardown(void **state)
{
	(void)state;
	arena_shutdown(&arena);
	return 0;
}

/* Decodes a whole frame (header included) into out. */
static int
decode_frame(const uint8_t *frame, size_t n, struct msg *out)
{
	size_t body;

	if (frame_parse(frame, n, FRAME_MAX_MAX, &body) != FRAME_READY || FRAME_HDR + body != n)
		fail_msg("not exactly one whole frame (%zu bytes)", n);
	arena_reset(&arena);
	err[0] = '\0';
	return msg_decode(frame + FRAME_HDR, body, &arena, NOW, out, err, sizeof(err));
}

/* Moves the evbuffer's frame to buf; returns its length. */
static size_t
take(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);

	assert_true(n <= BUF_MAX);
	assert_int_equal(evbuffer_remove(b, buf, n), (int)n);
	return n;
}

/* ---- Event builders ---- */

struct evspec {
	enum ev_kind	 kind;
	int64_t		 t;		/* 0: no time */
	size_t		 name_len;	/* queue/job/txn_id/step length; 0: default */
	size_t		 nattrs;
	size_t		 key_len, value_len;
	size_t		 log_len;
	int		 no_depth, no_duration;
};

static char *
str(size_t n, char c)
{
	static char pool[8][MSG_MAX_LOG + 2];
	static int next;
	char *s = pool[next++ % 8];

	assert_true(n <= MSG_MAX_LOG + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static size_t
pack_event(uint8_t *out, const struct evspec *s)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__QueueSample q = TANDEM__QUEUE_SAMPLE__INIT;
	Tandem__TxnStep txn = TANDEM__TXN_STEP__INIT;
	Tandem__Attr attr[MSG_MAX_ATTRS + 2], *attrs[MSG_MAX_ATTRS + 2];
	Tandem__JobTiming job = TANDEM__JOB_TIMING__INIT;
	Tandem__LogLine log = TANDEM__LOG_LINE__INIT;
	Tandem__AppHeartbeat hb = TANDEM__APP_HEARTBEAT__INIT;
	const char *name = s->name_len ? str(s->name_len, 'n') : "orders";
	size_t i;

	assert_true(s->nattrs <= MSG_MAX_ATTRS + 2);
	if (s->t != 0) {
		ev.has_time_ms = 1;
		ev.time_ms = s->t;
	}
	switch (s->kind) {
	case EV_QUEUE:
		q.queue = (char *)name;
		q.has_depth = !s->no_depth;
		q.depth = 17;
		ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
		ev.queue = &q;
		break;
	case EV_TXN:
		txn.txn_id = (char *)name;
		txn.step = "pick";
		txn.has_state = 1;
		txn.state = TANDEM__TXN_STATE__TXN_END;
		for (i = 0; i < s->nattrs; i++) {
			tandem__attr__init(&attr[i]);
			attr[i].key = str(s->key_len ? s->key_len : 3, 'k');
			attr[i].value = str(s->value_len, 'v');
			attrs[i] = &attr[i];
		}
		txn.n_attrs = s->nattrs;
		txn.attrs = attrs;
		ev.kind_case = TANDEM__EVENT__KIND_TXN;
		ev.txn = &txn;
		break;
	case EV_JOB:
		job.job = (char *)name;
		job.has_duration_us = !s->no_duration;
		job.duration_us = 99;
		job.has_ok = 1;
		job.ok = 1;
		ev.kind_case = TANDEM__EVENT__KIND_JOB;
		ev.job = &job;
		break;
	case EV_LOG:
		log.has_level = 1;
		log.level = TANDEM__LOG_LEVEL__LOG_ERROR;
		log.message = str(s->log_len, 'm');
		ev.kind_case = TANDEM__EVENT__KIND_LOG;
		ev.log = &log;
		break;
	case EV_HEARTBEAT:
		hb.has_uptime_s = 1;
		hb.uptime_s = 5;
		ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
		ev.heartbeat = &hb;
		break;
	default:
		break;
	}
	return tandem__event__pack(&ev, out);
}

/* A batch frame of n copies of one packed event, with msg_batch_prefix + msg_event_put. */
static size_t
batch_of(uint64_t first_seq, const uint8_t *ev, size_t evlen, size_t n)
{
	size_t i, off, wire = n * msg_event_wire_size(evlen);

	assert_true(MSG_BATCH_PREFIX_MAX + wire <= BUF_MAX);
	off = msg_batch_prefix(buf, first_seq, wire);
	assert_true(off <= MSG_BATCH_PREFIX_MAX);
	for (i = 0; i < n; i++)
		off += msg_event_put(buf + off, ev, evlen);
	return off;
}

static size_t
batch_spec(uint64_t first_seq, const struct evspec *s, size_t n)
{
	static uint8_t ev[16384];

	return batch_of(first_seq, ev, pack_event(ev, s), n);
}

/* ---- Round trips ---- */

static void
test_hello(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct msg m;
	size_t n;

	(void)state;
	assert_int_equal(msg_send_hello(b, "agent-01", "mes", "host-a", "s3cret"), 0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(m.type, MSGT_HELLO);
	assert_int_equal(m.m->hello->version, MSG_VERSION);
	assert_string_equal(m.m->hello->agent_id, "agent-01");
	assert_string_equal(m.m->hello->app, "mes");
	assert_string_equal(m.m->hello->host, "host-a");
	assert_string_equal(m.m->hello->token, "s3cret");
	assert_int_equal(msg_send_hello(b, "a", "b", NULL, NULL), 0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_null(m.m->hello->host);
	assert_null(m.m->hello->token);
	evbuffer_free(b);
}

/* A Welcome where any message decodes is reported as a Welcome: the caller refuses it. */
static void
test_welcome(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct msg m;
	size_t n;

	(void)state;
	assert_int_equal(msg_send_welcome(b, 12345678901ULL, "node-a"), 0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(m.type, MSGT_WELCOME);
	assert_int_equal(m.m->welcome->stored_seq, 12345678901ULL);
	assert_int_equal(m.m->welcome->version, MSG_VERSION);
	assert_int_equal(m.m->welcome->max_batch, MSG_MAX_EVENTS);
	assert_string_equal(m.m->welcome->node, "node-a");
	evbuffer_free(b);
}

static void
test_ack(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct msg m;
	size_t n;

	(void)state;
	assert_int_equal(msg_send_ack(b, UINT64_MAX), 0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(m.type, MSGT_ACK);
	assert_true(m.m->ack->has_upto_seq);
	assert_int_equal(m.m->ack->upto_seq, UINT64_MAX);
	evbuffer_free(b);
}

static void
test_error(void **state)
{
	struct evbuffer *b = evbuffer_new();
	struct msg m;
	size_t n;

	(void)state;
	assert_int_equal(msg_send_error(b, TANDEM__ERROR_CODE__ERR_SEQ, "seq %d went back", 7),
	    0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(m.type, MSGT_ERROR);
	assert_int_equal(m.m->error->code, TANDEM__ERROR_CODE__ERR_SEQ);
	assert_string_equal(m.m->error->reason, "seq 7 went back");
	/* A reason over the bound is cut to MSG_MAX_REASON by the sender, so it decodes. */
	assert_int_equal(msg_send_error(b, BOUNDS, "%s", str(1000, 'r')), 0);
	n = take(b);
	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(strlen(m.m->error->reason), MSG_MAX_REASON);
	evbuffer_free(b);
}

/* msg_batch_prefix + msg_event_put: byte-identical to protobuf-c packing, decodes the same. */
static void
test_batch_roundtrip(void **state)
{
	static uint8_t evs[EV_KINDS][1024], pc[BUF_MAX];
	Tandem__Message msg = TANDEM__MESSAGE__INIT;
	Tandem__EventBatch batch = TANDEM__EVENT_BATCH__INIT;
	Tandem__Event *unpacked[EV_KINDS];
	size_t lens[EV_KINDS], wire = 0, n, i, pcn;
	struct evspec s = { 0 };
	struct msg m;
	int k;

	(void)state;
	for (k = EV_QUEUE, i = 0; k < EV_KINDS; k++, i++) {
		s.kind = k;
		s.t = T_OK + k;
		s.nattrs = 2;
		s.log_len = 10;
		lens[i] = pack_event(evs[i], &s);
		wire += msg_event_wire_size(lens[i]);
		unpacked[i] = tandem__event__unpack(NULL, lens[i], evs[i]);
		assert_non_null(unpacked[i]);
	}
	n = msg_batch_prefix(buf, 300, wire);
	for (i = 0; i < EV_KINDS - 1; i++) {
		size_t put = msg_event_put(buf + n, evs[i], lens[i]);

		assert_int_equal(put, msg_event_wire_size(lens[i]));
		n += put;
	}
	/* The same batch packed by protobuf-c. */
	batch.has_first_seq = 1;
	batch.first_seq = 300;
	batch.n_events = EV_KINDS - 1;
	batch.events = unpacked;
	msg.body_case = TANDEM__MESSAGE__BODY_BATCH;
	msg.batch = &batch;
	pcn = tandem__message__pack(&msg, pc);
	assert_int_equal(n, FRAME_HDR + pcn);
	assert_memory_equal(buf + FRAME_HDR, pc, pcn);
	for (i = 0; i < EV_KINDS - 1; i++)
		tandem__event__free_unpacked(unpacked[i], NULL);

	assert_int_equal(decode_frame(buf, n, &m), 0);
	assert_int_equal(m.type, MSGT_BATCH);
	assert_null(m.m);
	assert_int_equal(m.first_seq, 300);
	assert_int_equal(m.nevents, EV_KINDS - 1);
	for (k = EV_QUEUE, i = 0; k < EV_KINDS; k++, i++) {
		assert_int_equal(m.events[i].kind, k);
		assert_int_equal(m.events[i].time_ms, T_OK + k);
		assert_int_equal(m.events[i].len, lens[i]);
		assert_memory_equal(m.events[i].raw, evs[i], lens[i]);
		assert_true(m.events[i].raw > buf && m.events[i].raw + lens[i] <= buf + n);
	}
	assert_string_equal(m.events[1].ev->txn->attrs[1]->key, "kkk");
}

/* ---- Bad input ---- */

struct bad_row {
	const char	*what;
	size_t		(*build)(const void *arg);	/* writes a whole frame to buf */
	const void	*arg;
	int		 want;		/* 0 or the error code */
	enum msg_type	 want_type;	/* checked on success */
};

static size_t
b_bytes(const void *arg)
{
	const uint8_t *p = arg;		/* p[0] = length, then the body */

	memcpy(buf + FRAME_HDR, p + 1, p[0]);
	frame_put_header(buf, p[0]);
	return FRAME_HDR + p[0];
}

static size_t
b_batch(const void *arg)
{
	const struct evspec *s = arg;

	return batch_spec(1, s, 1);
}

struct nspec {
	uint64_t	first_seq;
	size_t		n;
};

static size_t
b_batch_n(const void *arg)
{
	const struct nspec *ns = arg;
	struct evspec s = { EV_HEARTBEAT, T_OK };

	return batch_spec(ns->first_seq, &s, ns->n);
}

static size_t
b_batch_plus_ack(const void *arg)
{
	struct evspec s = { EV_QUEUE, T_OK };
	size_t n = batch_spec(1, &s, 1);

	(void)arg;
	buf[n++] = (4 << 3) | WIRE_LEN;
	buf[n++] = 0;
	frame_put_header(buf, (uint32_t)(n - FRAME_HDR));
	return n;
}

static size_t
b_ack_plus_batch(const void *arg)
{
	struct evspec s = { EV_QUEUE, T_OK };
	size_t n = batch_spec(1, &s, 1);

	(void)arg;
	memmove(buf + FRAME_HDR + 2, buf + FRAME_HDR, n - FRAME_HDR);
	buf[FRAME_HDR] = (4 << 3) | WIRE_LEN;
	buf[FRAME_HDR + 1] = 0;
	n += 2;
	frame_put_header(buf, (uint32_t)(n - FRAME_HDR));
	return n;
}

/* The batch with first_seq sent as a fixed64 instead of a varint. */
static size_t
b_seq_wire_type(const void *arg)
{
	static const uint8_t body[] = { 0x1a, 0x0b, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x00 };

	(void)arg;
	memcpy(buf + FRAME_HDR, body, sizeof(body));
	frame_put_header(buf, sizeof(body));
	return FRAME_HDR + sizeof(body);
}

static size_t
b_events_wire_type(const void *arg)
{
	static const uint8_t body[] = { 0x1a, 0x04, 0x08, 0x01, 0x10, 0x05 };

	(void)arg;
	memcpy(buf + FRAME_HDR, body, sizeof(body));
	frame_put_header(buf, sizeof(body));
	return FRAME_HDR + sizeof(body);
}

/* An event whose bytes are not a valid Event (a truncated inner field). */
static size_t
b_event_garbage(const void *arg)
{
	static const uint8_t ev[] = { 0x12, 0x05, 0x0a };

	(void)arg;
	return batch_of(1, ev, sizeof(ev), 1);
}

struct hspec {
	size_t	id, app, host, token;	/* lengths; SIZE_MAX = absent */
};

static size_t
b_hello(const void *arg)
{
	const struct hspec *h = arg;
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Hello hello = TANDEM__HELLO__INIT;

	hello.agent_id = h->id == SIZE_MAX ? NULL : str(h->id, 'i');
	hello.app = h->app == SIZE_MAX ? NULL : str(h->app, 'a');
	hello.host = h->host == SIZE_MAX ? NULL : str(h->host, 'h');
	hello.token = h->token == SIZE_MAX ? NULL : str(h->token, 't');
	m.body_case = TANDEM__MESSAGE__BODY_HELLO;
	m.hello = &hello;
	frame_put_header(buf, (uint32_t)tandem__message__pack(&m, buf + FRAME_HDR));
	return FRAME_HDR + tandem__message__get_packed_size(&m);
}

static size_t
b_error_reason(const void *arg)
{
	const size_t *len = arg;
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Error e = TANDEM__ERROR__INIT;

	e.has_code = 1;
	e.code = TANDEM__ERROR_CODE__ERR_IDLE;
	e.reason = str(*len, 'r');
	m.body_case = TANDEM__MESSAGE__BODY_ERROR;
	m.error = &e;
	frame_put_header(buf, (uint32_t)tandem__message__pack(&m, buf + FRAME_HDR));
	return FRAME_HDR + tandem__message__get_packed_size(&m);
}

#define BYTES(...)	((const uint8_t []){ sizeof((uint8_t []){ __VA_ARGS__ }), __VA_ARGS__ })
#define EV(...)		(&(const struct evspec){ __VA_ARGS__ })
#define NS(seq, n)	(&(const struct nspec){ (seq), (n) })
#define HS(...)		(&(const struct hspec){ __VA_ARGS__ })
#define LEN(n)		(&(const size_t){ (n) })
#define ABSENT		SIZE_MAX

static const struct bad_row bad_rows[] = {
	{ "garbage", b_bytes, BYTES(0xff, 0xfe, 0x00, 0x13), BAD },
	{ "truncated varint", b_bytes, BYTES(0x08, 0x80), BAD },
	{ "group wire type", b_bytes, BYTES(0x0b, 0x0c), BAD },
	{ "field number 0", b_bytes, BYTES(0x00), BAD },
	{ "message with no body", b_bytes, BYTES(0x08, 0x01), BAD },
	{ "unknown field only", b_bytes, BYTES(0x50, 0x01), BAD },
	{ "ack with an unknown field", b_bytes, BYTES(0x50, 0x01, 0x22, 0x02, 0x08, 0x07), 0,
	    MSGT_ACK },
	{ "batch with 0 events", b_batch_n, NS(1, 0), BOUNDS },
	{ "batch with 1 event", b_batch_n, NS(1, 1), 0, MSGT_BATCH },
	{ "batch with 4096 events", b_batch_n, NS(1, MSG_MAX_EVENTS), 0, MSGT_BATCH },
	{ "batch with 4097 events", b_batch_n, NS(1, MSG_MAX_EVENTS + 1), BOUNDS },
	{ "first_seq 0", b_batch_n, NS(0, 1), BOUNDS },
	{ "first_seq at the top of the range", b_batch_n, NS(UINT64_MAX - 2, 2), 0,
	    MSGT_BATCH },
	{ "sequence numbers overflow", b_batch_n, NS(UINT64_MAX - 1, 2), BOUNDS },
	{ "first_seq as fixed64", b_seq_wire_type, NULL, BAD },
	{ "events as a varint", b_events_wire_type, NULL, BAD },
	{ "batch as a varint", b_bytes, BYTES(0x18, 0x01), BAD },
	{ "batch alongside an ack", b_batch_plus_ack, NULL, BAD },
	{ "ack before a batch", b_ack_plus_batch, NULL, BAD },
	{ "event bytes are not an Event", b_event_garbage, NULL, BAD },
	{ "event missing time", b_batch, EV(EV_QUEUE, 0), BOUNDS },
	{ "event time 1999-12-31", b_batch, EV(EV_QUEUE, MSG_TIME_MIN_MS - 1), BOUNDS },
	{ "event time 2000-01-01", b_batch, EV(EV_QUEUE, MSG_TIME_MIN_MS), 0, MSGT_BATCH },
	{ "event time now + 1 day", b_batch, EV(EV_QUEUE, NOW + MSG_TIME_FUTURE_MS), 0,
	    MSGT_BATCH },
	{ "event time now + 1 day + 1 ms", b_batch, EV(EV_QUEUE, NOW + MSG_TIME_FUTURE_MS + 1),
	    BOUNDS },
	{ "event time negative", b_batch, EV(EV_QUEUE, -1), BOUNDS },
	{ "event of no kind", b_batch, EV(EV_NONE, T_OK), BOUNDS },
	{ "queue name 128 bytes", b_batch, EV(EV_QUEUE, T_OK, MSG_MAX_NAME), 0, MSGT_BATCH },
	{ "queue name 129 bytes", b_batch, EV(EV_QUEUE, T_OK, MSG_MAX_NAME + 1), BOUNDS },
	{ "queue without depth", b_batch, EV(EV_QUEUE, T_OK, .no_depth = 1), BOUNDS },
	{ "job name 129 bytes", b_batch, EV(EV_JOB, T_OK, MSG_MAX_NAME + 1), BOUNDS },
	{ "job without duration", b_batch, EV(EV_JOB, T_OK, .no_duration = 1), BOUNDS },
	{ "txn id 129 bytes", b_batch, EV(EV_TXN, T_OK, MSG_MAX_NAME + 1), BOUNDS },
	{ "txn with 16 attributes", b_batch, EV(EV_TXN, T_OK, .nattrs = MSG_MAX_ATTRS), 0,
	    MSGT_BATCH },
	{ "txn with 17 attributes", b_batch, EV(EV_TXN, T_OK, .nattrs = MSG_MAX_ATTRS + 1),
	    BOUNDS },
	{ "attribute key 64 bytes", b_batch, EV(EV_TXN, T_OK, .nattrs = 1,
	    .key_len = MSG_MAX_ATTR_KEY), 0, MSGT_BATCH },
	{ "attribute key 65 bytes", b_batch, EV(EV_TXN, T_OK, .nattrs = 1,
	    .key_len = MSG_MAX_ATTR_KEY + 1), BOUNDS },
	{ "attribute value 257 bytes", b_batch, EV(EV_TXN, T_OK, .nattrs = 1,
	    .value_len = MSG_MAX_ATTR_VALUE + 1), BOUNDS },
	{ "log 8192 bytes", b_batch, EV(EV_LOG, T_OK, .log_len = MSG_MAX_LOG), 0, MSGT_BATCH },
	{ "log 8193 bytes", b_batch, EV(EV_LOG, T_OK, .log_len = MSG_MAX_LOG + 1), BOUNDS },
	{ "hello minimal", b_hello, HS(1, 1, ABSENT, ABSENT), 0, MSGT_HELLO },
	{ "hello at every bound", b_hello, HS(MSG_MAX_ID, MSG_MAX_ID, MSG_MAX_ID, MSG_MAX_TOKEN),
	    0, MSGT_HELLO },
	{ "hello empty host and token", b_hello, HS(1, 1, 0, 0), 0, MSGT_HELLO },
	{ "hello without agent_id", b_hello, HS(ABSENT, 1, 0, 0), BOUNDS },
	{ "hello empty agent_id", b_hello, HS(0, 1, 0, 0), BOUNDS },
	{ "hello agent_id 129 bytes", b_hello, HS(MSG_MAX_ID + 1, 1, 0, 0), BOUNDS },
	{ "hello without app", b_hello, HS(1, ABSENT, 0, 0), BOUNDS },
	{ "hello app 129 bytes", b_hello, HS(1, MSG_MAX_ID + 1, 0, 0), BOUNDS },
	{ "hello host 129 bytes", b_hello, HS(1, 1, MSG_MAX_ID + 1, 0), BOUNDS },
	{ "hello token 257 bytes", b_hello, HS(1, 1, 0, MSG_MAX_TOKEN + 1), BOUNDS },
	{ "error reason 256 bytes", b_error_reason, LEN(MSG_MAX_REASON), 0, MSGT_ERROR },
	{ "error reason 257 bytes", b_error_reason, LEN(MSG_MAX_REASON + 1), BOUNDS },
};

static void
test_bad(void **state)
{
	const struct bad_row *r = ROW(struct bad_row, state);
	size_t n = r->build(r->arg);
	struct msg m;
	int code;

	code = decode_frame(buf, n, &m);
	if (code != r->want)
		fail_msg("decoded with %d (%s: %s), want %d (%s)", code, msg_error_name(code),
		    err, r->want, msg_error_name(r->want));
	if (code == 0) {
		assert_int_equal(m.type, r->want_type);
	} else {
		assert_true(err[0] != '\0');	/* every refusal says why */
	}
	assert_true(arena.used <= arena.budget);
}

/* ---- Budget ---- */

static void
test_budget(void **state)
{
	struct evspec s = { EV_LOG, T_OK, .log_len = 1000 };
	struct evbuffer *b;
	struct arena small;
	struct msg m;
	size_t n, body, need, budget;
	int code;

	(void)state;
	/* 100 events of 1000 bytes each cannot unpack in 64 KiB. */
	n = batch_spec(1, &s, 100);
	assert_int_equal(frame_parse(buf, n, FRAME_MAX_MAX, &body), FRAME_READY);
	assert_int_equal(arena_init(&small, 64 * 1024), 0);
	code = msg_decode(buf + FRAME_HDR, body, &small, NOW, &m, err, sizeof(err));
	assert_int_equal(code, BOUNDS);
	assert_true(small.failed > 0);
	assert_true(small.used <= small.budget);
	arena_shutdown(&small);

	/* 4096 events: the event table alone is over a 4 KiB budget. */
	n = batch_spec(1, &(struct evspec){ EV_HEARTBEAT, T_OK }, MSG_MAX_EVENTS);
	assert_int_equal(frame_parse(buf, n, FRAME_MAX_MAX, &body), FRAME_READY);
	assert_int_equal(arena_init(&small, 4096), 0);
	assert_int_equal(msg_decode(buf + FRAME_HDR, body, &small, NOW, &m, err, sizeof(err)),
	    BOUNDS);
	arena_shutdown(&small);

	/* A hello: find the smallest budget that works; one byte less fails with BOUNDS. */
	b = evbuffer_new();
	assert_int_equal(msg_send_hello(b, str(MSG_MAX_ID, 'i'), "app", "host", "token"), 0);
	n = take(b);
	evbuffer_free(b);
	body = n - FRAME_HDR;
	assert_int_equal(decode_frame(buf, n, &m), 0);
	need = arena.used;
	for (budget = need - 1; budget + 64 >= need && budget > 0; budget--) {
		assert_int_equal(arena_init(&small, budget), 0);
		code = msg_decode(buf + FRAME_HDR, body, &small, NOW, &m, err, sizeof(err));
		arena_shutdown(&small);
		if (code != BOUNDS)
			fail_msg("budget %zu of %zu: got %d", budget, need, code);
	}
	assert_int_equal(arena_init(&small, need), 0);
	assert_int_equal(msg_decode(buf + FRAME_HDR, body, &small, NOW, &m, err, sizeof(err)),
	    0);
	arena_shutdown(&small);
}

static void
test_names(void **state)
{
	int i;

	(void)state;
	for (i = MSGT_NONE; i <= MSGT_ERROR; i++)
		assert_string_not_equal(msg_type_name(i), "unknown");
	assert_string_equal(msg_type_name(MSGT_ERROR + 1), "unknown");
	for (i = EV_NONE; i < EV_KINDS; i++)
		assert_string_not_equal(ev_kind_name(i), "unknown");
	assert_string_equal(ev_kind_name(EV_KINDS), "unknown");
	for (i = 0; i <= TANDEM__ERROR_CODE__ERR_STORE; i++)
		assert_string_not_equal(msg_error_name(i), "unknown");
	assert_string_equal(msg_error_name(TANDEM__ERROR_CODE__ERR_STORE + 1), "unknown");
	assert_string_equal(msg_error_name(-1), "unknown");
}

/* A zero-length body never passes frame_parse, but the decoder refuses it on its own too. */
static void
test_empty(void **state)
{
	struct msg m;

	(void)state;
	arena_reset(&arena);
	assert_int_equal(msg_decode(buf, 0, &arena, NOW, &m, err, sizeof(err)), BAD);
	assert_int_equal(m.type, MSGT_NONE);
}

/* msg_event_put's size agrees with msg_event_wire_size across varint length boundaries. */
static void
test_event_put_sizes(void **state)
{
	static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 100000 };
	static uint8_t ev[100000], out[100000 + 16];
	size_t i, n;

	(void)state;
	memset(ev, 0x33, sizeof(ev));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = msg_event_put(out, ev, lens[i]);
		if (n != msg_event_wire_size(lens[i]))
			fail_msg("len %zu: put %zu, wire size %zu", lens[i], n,
			    msg_event_wire_size(lens[i]));
		assert_int_equal(out[0], (2 << 3) | WIRE_LEN);
	}
}

int
main(void)
{
	static struct cases cs;
	int failed;

	if (setup(NULL) != 0)
		return 1;
	cases_add(&cs, "round trip: hello", test_hello, NULL);
	cases_add(&cs, "round trip: welcome decodes as MSGT_WELCOME", test_welcome, NULL);
	cases_add(&cs, "round trip: ack", test_ack, NULL);
	cases_add(&cs, "round trip: error", test_error, NULL);
	cases_add(&cs, "round trip: batch prefix + event put == protobuf-c", test_batch_roundtrip,
	    NULL);
	CASES_TABLE(&cs, "decode", test_bad, bad_rows);
	cases_add(&cs, "arena budget exhaustion is ERR_BOUNDS", test_budget, NULL);
	cases_add(&cs, "empty body", test_empty, NULL);
	cases_add(&cs, "name tables", test_names, NULL);
	cases_add(&cs, "event put sizes", test_event_put_sizes, NULL);
	failed = cases_run(&cs, "msg");
	teardown(NULL);
	return failed;
}
