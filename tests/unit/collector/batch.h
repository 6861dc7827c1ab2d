/* Tandem — MIT licence. Collector unit tests: batch frames built the way agents build them. */
#ifndef TANDEM_TEST_BATCH_H
#define TANDEM_TEST_BATCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/frame.h"
#include "proto/msg.h"

/*
 * Every test event carries its own sequence number, so a stored event can be matched to the
 * seq the store filed it under: queue depth, txn id "t<seq>", job duration, log message
 * "seq=<seq>" (padded with 'x' to pad bytes), heartbeat uptime.
 */
static inline int64_t
test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Packs one Event into out (room for pad + 64 bytes). Returns the packed length. */
static inline size_t
test_pack_event(uint8_t *out, enum ev_kind kind, int64_t time_ms, uint64_t seq, size_t pad)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__QueueSample q = TANDEM__QUEUE_SAMPLE__INIT;
	Tandem__TxnStep t = TANDEM__TXN_STEP__INIT;
	Tandem__JobTiming j = TANDEM__JOB_TIMING__INIT;
	Tandem__LogLine l = TANDEM__LOG_LINE__INIT;
	Tandem__AppHeartbeat h = TANDEM__APP_HEARTBEAT__INIT;
	char id[32], *msg = NULL;
	size_t n;

	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	switch (kind) {
	case EV_QUEUE:
		q.queue = "orders";
		q.has_depth = 1;
		q.depth = seq;
		ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
		ev.queue = &q;
		break;
	case EV_TXN:
		snprintf(id, sizeof(id), "t%llu", (unsigned long long)seq);
		t.txn_id = id;
		t.step = "pick";
		ev.kind_case = TANDEM__EVENT__KIND_TXN;
		ev.txn = &t;
		break;
	case EV_JOB:
		j.job = "report";
		j.has_duration_us = 1;
		j.duration_us = seq;
		ev.kind_case = TANDEM__EVENT__KIND_JOB;
		ev.job = &j;
		break;
	case EV_LOG:
		n = pad > 40 ? pad : 40;
		if ((msg = malloc(n + 1)) == NULL)
			abort();
		memset(msg, 'x', n);
		msg[n] = '\0';
		snprintf(id, sizeof(id), "seq=%llu;", (unsigned long long)seq);
		memcpy(msg, id, strlen(id));
		if (pad < 40)
			msg[strlen(id)] = '\0';
		l.message = msg;
		ev.kind_case = TANDEM__EVENT__KIND_LOG;
		ev.log = &l;
		break;
	default:
		h.has_uptime_s = 1;
		h.uptime_s = seq;
		ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
		ev.heartbeat = &h;
		break;
	}
	n = tandem__event__pack(&ev, out);
	free(msg);
	return n;
}

/* The kind and seq an Event's bytes carry (see above); kind EV_NONE when they do not unpack. */
static inline enum ev_kind
test_event_seq(const uint8_t *p, size_t len, uint64_t *seq, int64_t *time_ms)
{
	Tandem__Event *ev = tandem__event__unpack(NULL, len, p);
	enum ev_kind k = EV_NONE;

	*seq = 0;
	if (ev == NULL)
		return EV_NONE;
	*time_ms = ev->time_ms;
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:
		k = EV_QUEUE;
		*seq = ev->queue->depth;
		break;
	case TANDEM__EVENT__KIND_TXN:
		k = EV_TXN;
		*seq = strtoull(ev->txn->txn_id + 1, NULL, 10);
		break;
	case TANDEM__EVENT__KIND_JOB:
		k = EV_JOB;
		*seq = ev->job->duration_us;
		break;
	case TANDEM__EVENT__KIND_LOG:
		k = EV_LOG;
		*seq = strtoull(ev->log->message + 4, NULL, 10);
		break;
	case TANDEM__EVENT__KIND_HEARTBEAT:
		k = EV_HEARTBEAT;
		*seq = ev->heartbeat->uptime_s;
		break;
	default:
		break;
	}
	tandem__event__free_unpacked(ev, NULL);
	return k;
}

/* A batch: events first..first+n-1; kind 0 cycles through the five kinds. */
struct test_batch {
	uint64_t	 first;
	size_t		 n;
	int		 kind;
	int64_t		 t0;		/* time of event 0 */
	int64_t		 step_ms;	/* time step between events, when times is NULL */
	const int64_t	*times;		/* per-event offsets from t0 */
	size_t		 pad;		/* log messages are this long */
	size_t		 big_at;	/* 1-based: this event is a log of big_pad bytes */
	size_t		 big_pad;
};

static inline enum ev_kind
test_batch_kind(const struct test_batch *b, size_t i)
{
	if (b->big_at != 0 && i + 1 == b->big_at)
		return EV_LOG;
	return b->kind != 0 ? (enum ev_kind)b->kind : (enum ev_kind)(EV_QUEUE + i % 5);
}

static inline int64_t
test_batch_time(const struct test_batch *b, size_t i)
{
	return b->t0 + (b->times != NULL ? b->times[i] : (int64_t)i * b->step_ms);
}

/* A whole batch frame (header included) in malloc'd memory; its length in *len. */
static inline uint8_t *
test_batch_frame(const struct test_batch *b, size_t *len)
{
	size_t cap = MSG_BATCH_PREFIX_MAX, i, evlen, wire = 0, off, maxpad;
	uint8_t *buf, *ev;

	maxpad = b->pad > b->big_pad ? b->pad : b->big_pad;
	cap += b->n * (maxpad + 96);
	if ((buf = malloc(cap)) == NULL || (ev = malloc(maxpad + 96)) == NULL)
		abort();
	for (i = 0; i < b->n; i++) {
		evlen = test_pack_event(ev, test_batch_kind(b, i), test_batch_time(b, i),
		    b->first + i, b->big_at == i + 1 ? b->big_pad : b->pad);
		wire += msg_event_wire_size(evlen);
	}
	off = msg_batch_prefix(buf, b->first, wire);
	for (i = 0; i < b->n; i++) {
		evlen = test_pack_event(ev, test_batch_kind(b, i), test_batch_time(b, i),
		    b->first + i, b->big_at == i + 1 ? b->big_pad : b->pad);
		off += msg_event_put(buf + off, ev, evlen);
	}
	free(ev);
	*len = off;
	return buf;
}

#endif
