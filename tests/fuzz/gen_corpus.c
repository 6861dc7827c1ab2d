/* Tandem — MIT licence. Writes the fuzz seed corpora; run by tests/fuzz/gen_corpus.sh. */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/frame.h"
#include "common/store_schema.h"
#include "common/wire.h"
#include "proto/agent.pb-c.h"
#include "proto/msg.h"

/*
 * Seeds are built with the real encoders (protobuf-c, msg_send_*, msg_batch_prefix) so they
 * follow the schema, then damaged by hand for the malformed cases. The output is fully
 * determined by this file: re-running it over the committed corpus changes nothing.
 *
 *   corpus/frame_fuzz/        byte streams: frames of every type, coalesced, split, bad headers
 *   corpus/msg_fuzz/          frame bodies: every message type, every event kind, bound breaks
 *   corpus/store_block_fuzz/  block values, event keys and agent records, good and damaged
 */

#define T_OK		1699999990000LL	/* 10 s before msg_fuzz's fixed clock */
#define BUF_MAX		(64 * 1024)

static const char *outdir;
static int nwritten;

static void
die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put(const char *target, const char *name, const void *p, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		die(path);
	if (n > 0 && fwrite(p, 1, n, f) != n)
		die(path);
	if (fclose(f) == EOF)
		die(path);
	nwritten++;
}

/* Writes a whole frame to frame_fuzz and its body to msg_fuzz. */
static void
put_frame(const char *name, const uint8_t *frame, size_t n)
{
	put("frame_fuzz", name, frame, n);
	if (n >= FRAME_HDR)
		put("msg_fuzz", name, frame + FRAME_HDR, n - FRAME_HDR);
}

static void
put_evbuffer(const char *name, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);

	put_frame(name, evbuffer_pullup(b, -1), n);
	evbuffer_drain(b, n);
}

/* One event of the given kind, packed. */
static size_t
pack_event(uint8_t *out, enum ev_kind kind, int64_t t)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__QueueSample q = TANDEM__QUEUE_SAMPLE__INIT;
	Tandem__TxnStep txn = TANDEM__TXN_STEP__INIT;
	Tandem__Attr attr = TANDEM__ATTR__INIT, *attrs[1] = { &attr };
	Tandem__JobTiming job = TANDEM__JOB_TIMING__INIT;
	Tandem__LogLine log = TANDEM__LOG_LINE__INIT;
	Tandem__AppHeartbeat hb = TANDEM__APP_HEARTBEAT__INIT;

	if (t != 0) {
		ev.has_time_ms = 1;
		ev.time_ms = t;
	}
	switch (kind) {
	case EV_QUEUE:
		q.queue = "orders";
		q.has_depth = q.has_enqueued_total = q.has_completed_total = 1;
		q.depth = 17;
		q.enqueued_total = 1000;
		q.completed_total = 983;
		ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
		ev.queue = &q;
		break;
	case EV_TXN:
		txn.txn_id = "T-0001";
		txn.step = "pick";
		txn.has_state = 1;
		txn.state = TANDEM__TXN_STATE__TXN_STEP;
		attr.key = "station";
		attr.value = "S7";
		txn.n_attrs = 1;
		txn.attrs = attrs;
		ev.kind_case = TANDEM__EVENT__KIND_TXN;
		ev.txn = &txn;
		break;
	case EV_JOB:
		job.job = "nightly-close";
		job.has_duration_us = job.has_ok = 1;
		job.duration_us = 1234567;
		job.ok = 1;
		ev.kind_case = TANDEM__EVENT__KIND_JOB;
		ev.job = &job;
		break;
	case EV_LOG:
		log.has_level = 1;
		log.level = TANDEM__LOG_LEVEL__LOG_WARN;
		log.message = "line 3 stopped: sensor timeout";
		ev.kind_case = TANDEM__EVENT__KIND_LOG;
		ev.log = &log;
		break;
	case EV_HEARTBEAT:
		hb.has_uptime_s = 1;
		hb.uptime_s = 86400;
		ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
		ev.heartbeat = &hb;
		break;
	default:
		break;
	}
	return tandem__event__pack(&ev, out);
}

/* A batch frame of packed events (evs, lens) with msg_batch_prefix + msg_event_put. */
static size_t
batch_frame(uint8_t *out, uint64_t first_seq, uint8_t *const *evs, const size_t *lens,
    size_t n)
{
	size_t i, wire = 0, off;

	for (i = 0; i < n; i++)
		wire += msg_event_wire_size(lens[i]);
	off = msg_batch_prefix(out, first_seq, wire);
	for (i = 0; i < n; i++)
		off += msg_event_put(out + off, evs[i], lens[i]);
	return off;
}

/* A batch of one event of kind k at time t. */
static size_t
batch_one(uint8_t *out, uint64_t first_seq, enum ev_kind k, int64_t t)
{
	uint8_t ev[1024], *evs[1] = { ev };
	size_t len = pack_event(ev, k, t);

	return batch_frame(out, first_seq, evs, &len, 1);
}

static size_t
pack_message(uint8_t *out, const Tandem__Message *m)
{
	size_t n = tandem__message__pack(m, out + FRAME_HDR);

	frame_put_header(out, (uint32_t)n);
	return FRAME_HDR + n;
}

static void
gen_messages(void)
{
	static uint8_t buf[BUF_MAX], ev[BUF_MAX], *evs[EV_KINDS];
	static char big[MSG_MAX_LOG + 2];
	struct evbuffer *b;
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Hello h = TANDEM__HELLO__INIT;
	size_t lens[EV_KINDS], n, i;
	char name[64];
	int k;

	if ((b = evbuffer_new()) == NULL)
		die("evbuffer_new");

	/* Every message type, as the real senders write it. */
	msg_send_hello(b, "agent-01", "mes-line3", "host-a", "s3cret");
	put_evbuffer("hello", b);
	msg_send_hello(b, "a", "b", NULL, NULL);
	put_evbuffer("hello-minimal", b);
	msg_send_welcome(b, 0, "node-a");
	put_evbuffer("welcome", b);
	msg_send_welcome(b, UINT64_MAX, NULL);
	put_evbuffer("welcome-max-seq", b);
	msg_send_ack(b, 42);
	put_evbuffer("ack", b);
	msg_send_ack(b, UINT64_MAX);
	put_evbuffer("ack-max", b);
	msg_send_error(b, TANDEM__ERROR_CODE__ERR_BOUNDS, "batch: more than %d events",
	    MSG_MAX_EVENTS);
	put_evbuffer("error", b);

	/* Batches: one per kind, then all kinds in one batch. */
	for (k = EV_QUEUE; k < EV_KINDS; k++) {
		n = batch_one(buf, 1, k, T_OK);
		snprintf(name, sizeof(name), "batch-%s", ev_kind_name(k));
		put_frame(name, buf, n);
	}
	for (k = EV_QUEUE, i = 0; k < EV_KINDS; k++, i++) {
		evs[i] = ev + i * 1024;
		lens[i] = pack_event(evs[i], k, T_OK + k);
	}
	n = batch_frame(buf, 1000, evs, lens, i);
	put_frame("batch-all-kinds", buf, n);

	/* Bound breaks the decoder must refuse. */
	n = batch_one(buf, 0, EV_QUEUE, T_OK);
	put_frame("bad-batch-seq0", buf, n);
	n = batch_one(buf, UINT64_MAX, EV_QUEUE, T_OK);
	put_frame("bad-batch-seq-overflow", buf, n);
	n = batch_one(buf, 1, EV_JOB, 0);
	put_frame("bad-event-no-time", buf, n);
	n = batch_one(buf, 1, EV_LOG, MSG_TIME_MIN_MS - 1);
	put_frame("bad-event-too-old", buf, n);
	n = batch_one(buf, 1, EV_LOG, INT64_MAX);
	put_frame("bad-event-future", buf, n);
	n = batch_one(buf, 1, EV_NONE, T_OK);
	put_frame("bad-event-no-kind", buf, n);
	n = batch_frame(buf, 1, evs, lens, 0);
	put_frame("bad-batch-empty", buf, n);
	{
		Tandem__Event e = TANDEM__EVENT__INIT;
		Tandem__LogLine l = TANDEM__LOG_LINE__INIT;
		uint8_t *one[1] = { ev };
		size_t len;

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		e.has_time_ms = 1;
		e.time_ms = T_OK;
		e.kind_case = TANDEM__EVENT__KIND_LOG;
		e.log = &l;
		l.message = big;
		len = tandem__event__pack(&e, ev);
		n = batch_frame(buf, 1, one, &len, 1);
		put_frame("bad-log-too-long", buf, n);
	}
	/* A batch with another field next to it in Message. */
	n = batch_one(buf, 1, EV_HEARTBEAT, T_OK);
	buf[n++] = (4 << 3) | WIRE_LEN;		/* ack = {} */
	buf[n++] = 0;
	frame_put_header(buf, (uint32_t)(n - FRAME_HDR));
	put_frame("bad-batch-plus-ack", buf, n);
	/* Truncated batch: the length says more than there is. */
	n = batch_one(buf, 1, EV_TXN, T_OK);
	frame_put_header(buf, (uint32_t)(n - FRAME_HDR - 3));
	put_frame("bad-batch-truncated", buf, n - 3);
	/* Hello bounds. */
	memset(big, 'h', MSG_MAX_ID + 1);
	big[MSG_MAX_ID + 1] = '\0';
	h.agent_id = big;
	h.app = "app";
	m.body_case = TANDEM__MESSAGE__BODY_HELLO;
	m.hello = &h;
	n = pack_message(buf, &m);
	put_frame("bad-hello-long-id", buf, n);
	h.agent_id = "";
	n = pack_message(buf, &m);
	put_frame("bad-hello-empty-id", buf, n);
	/* No body, garbage, wrong wire types, an overlong varint. */
	m.body_case = TANDEM__MESSAGE__BODY__NOT_SET;
	n = pack_message(buf, &m);
	put_frame("bad-empty-message", buf, n);
	{
		static const uint8_t garbage[] = { 0xff, 0xfe, 0x00, 0x13, 0x37, 0x80 };
		static const uint8_t wt_batch[] = { (3 << 3) | WIRE_VARINT, 0x01 };
		static const uint8_t wt_group[] = { (1 << 3) | 3, 0x00 };
		static const uint8_t varint11[] = { (4 << 3) | WIRE_LEN, 0x0b, 0x08,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
		static const uint8_t unknown[] = { (9 << 3) | WIRE_I32, 1, 2, 3, 4,
		    (4 << 3) | WIRE_LEN, 0x02, 0x08, 0x07 };

		put("msg_fuzz", "bad-garbage", garbage, sizeof(garbage));
		put("msg_fuzz", "bad-batch-wire-type", wt_batch, sizeof(wt_batch));
		put("msg_fuzz", "bad-group", wt_group, sizeof(wt_group));
		put("msg_fuzz", "bad-varint-overflow", varint11, sizeof(varint11));
		put("msg_fuzz", "ack-unknown-field", unknown, sizeof(unknown));
	}

	/* Streams for frame_fuzz: coalesced frames, a split one, bad headers. */
	n = 0;
	msg_send_hello(b, "agent-01", "mes-line3", "host-a", "s3cret");
	msg_send_ack(b, 7);
	msg_send_welcome(b, 6, "node-a");
	n = evbuffer_get_length(b);
	memcpy(buf, evbuffer_pullup(b, -1), n);
	evbuffer_drain(b, n);
	put("frame_fuzz", "stream-three-frames", buf, n);
	put("frame_fuzz", "stream-split", buf, n - 5);
	{
		static const uint8_t zero[] = { 0, 0, 0, 0, 0x0a };
		static const uint8_t over[] = { 0x00, 0x10, 0x00, 0x01, 0x0a };	/* 1 MiB + 1 */
		static const uint8_t at_cap[] = { 0x00, 0x10, 0x00, 0x00, 0x0a };	/* 1 MiB */
		static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
		static const uint8_t partial[] = { 0x00, 0x00 };
		static const uint8_t minimal[] = { 0, 0, 0, 1, 0x00 };

		put("frame_fuzz", "bad-zero-length", zero, sizeof(zero));
		put("frame_fuzz", "bad-over-cap", over, sizeof(over));
		put("frame_fuzz", "need-more-at-cap", at_cap, sizeof(at_cap));
		put("frame_fuzz", "bad-huge", huge, sizeof(huge));
		put("frame_fuzz", "need-more-header", partial, sizeof(partial));
		put("frame_fuzz", "one-byte-body", minimal, sizeof(minimal));
		put("frame_fuzz", "empty", NULL, 0);
	}
	evbuffer_free(b);
}

/* Writes a block of n events (seq deltas 0..n-1) in the schema's value format. */
static size_t
block(uint8_t *out, uint8_t *const *evs, const size_t *lens, size_t n, uint64_t count)
{
	size_t off = 0, i;

	out[off++] = STORE_BLOCK_VERSION;
	off += wire_put_varint(out + off, count);
	off += wire_put_varint(out + off, 1500);	/* max_time - t0 */
	for (i = 0; i < n; i++) {
		off += wire_put_varint(out + off, i);
		off += wire_put_varint(out + off, lens[i]);
		memcpy(out + off, evs[i], lens[i]);
		off += lens[i];
	}
	return off;
}

static void
gen_store(void)
{
	static uint8_t buf[BUF_MAX], ev[BUF_MAX], *evs[EV_KINDS];
	struct store_evkey key = { 7, EV_QUEUE, (uint64_t)T_OK, 3, 1000 };
	struct store_agent_rec rec = { 1005, 7, 0, 1005, 2, (uint64_t)T_OK - 5000,
	    (uint64_t)T_OK };
	uint8_t k[STORE_AGENT_REC_LEN];
	size_t lens[EV_KINDS], n, i;
	int kind;

	for (kind = EV_QUEUE, i = 0; kind < EV_KINDS; kind++, i++) {
		evs[i] = ev + i * 1024;
		lens[i] = pack_event(evs[i], kind, T_OK + kind);
	}
	n = block(buf, evs, lens, 1, 1);
	put("store_block_fuzz", "block-one", buf, n);
	n = block(buf, evs, lens, i, i);
	put("store_block_fuzz", "block-all-kinds", buf, n);
	n = block(buf, evs, lens, 0, 0);
	put("store_block_fuzz", "block-empty", buf, n);
	n = block(buf, evs, lens, i, i);
	put("store_block_fuzz", "bad-block-truncated", buf, n - 2);
	n = block(buf, evs, lens, i, i + 1);
	put("store_block_fuzz", "bad-block-count-high", buf, n);
	n = block(buf, evs, lens, i, i - 1);
	put("store_block_fuzz", "bad-block-trailing", buf, n);
	n = block(buf, evs, lens, 1, 1);
	buf[0] = STORE_BLOCK_VERSION + 1;
	put("store_block_fuzz", "bad-block-version", buf, n);
	{
		static const uint8_t huge_len[] = { STORE_BLOCK_VERSION, 1, 0, 0,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x08 };
		static const uint8_t huge_count[] = { STORE_BLOCK_VERSION,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0 };

		put("store_block_fuzz", "bad-block-huge-len", huge_len, sizeof(huge_len));
		put("store_block_fuzz", "bad-block-huge-count", huge_count, sizeof(huge_count));
	}
	store_evkey_encode(k, &key);
	put("store_block_fuzz", "evkey", k, STORE_EVKEY_LEN);
	store_agent_encode(k, &rec);
	put("store_block_fuzz", "agent-rec", k, STORE_AGENT_REC_LEN);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus corpus-dir\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) == -1 && errno != EEXIST)
		die(outdir);
	gen_messages();
	gen_store();
	printf("gen_corpus: wrote %d files under %s\n", nwritten, outdir);
	return 0;
}
