/* Tandem — MIT licence. Ingest: exactly-once storage through per-agent sequence numbers and group commit. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/conn.h"
#include "collector/derive_prune.h"
#include "collector/ingest.h"
#include "collector/stats.h"
#include "collector/store.h"
#include "common/log.h"
#include "common/wire.h"
#include "common/xalloc.h"
#include "proto/msg.h"

#define AGENT_BUCKETS		16384	/* power of two */
#define FULL_RETRY_MS		1000	/* after a full map, try writing again this often */
#define PRUNE_BATCH		20000	/* blocks deleted per tick at most */
#define BLOCK_HDR_MAX		(1 + 3 + 3)

/* An ack held until the standby has applied the transaction that made it durable. */
struct held_ack {
	uint64_t		 pos;
	struct agent_state	*a;
	uint64_t		 seq;
};

struct ingest {
	struct collector	*c;
	int			 gated;		/* hold acks for the standby */
	struct held_ack		*held;		/* ring of held acks, in position order */
	size_t			 held_cap, held_head, held_n;
	struct agent_state	*buckets[AGENT_BUCKETS];
	struct agent_state	*touched;	/* agents with events in the open transaction */
	uint64_t		 pending;	/* events in the open transaction */
	struct event		*commit_ev;	/* end-of-tick commit */
	struct event		*prune_ev;
	struct event		*fold_ev;
	unsigned		 fold_part;	/* next commit-log partition to fold */
	int			 full;		/* the last write failed on a full map */
	uint64_t		 full_retry_ms;
	uint8_t			*tb;		/* the tick buffer: events of the open transaction */
	size_t			 tb_len, tb_cap;
};

static void hold_ack(struct ingest *, uint64_t, struct agent_state *, uint64_t);
static int put_blocks(struct ingest *);
static void tick_reset(struct ingest *);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint32_t
hash_id(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (AGENT_BUCKETS - 1);
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	ingest_commit(arg);
}

static void
prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ing = arg;
	uint64_t now = now_ms(), cutoff = now - ing->c->conf->retention_ms;
	struct timeval tv;
	long n = 0, d = 0;

	if (!ing->full && !ing->c->draining && collector_accepting(ing->c)) {
		n = store_prune(ing->c->store, cutoff, PRUNE_BATCH);
		/* Then the derived records the same retention covers, in the same budget. */
		if (n >= 0 && n < PRUNE_BATCH &&
		    (d = derive_prune(ing->c->store, cutoff, PRUNE_BATCH - (size_t)n)) == -1)
			n = -1;
		if (n > 0 || d > 0) {
			stats.pruned_blocks += (uint64_t)n;
			stats.pruned_derived += (uint64_t)d;
			log_debug("%s: pruned %ld blocks and %ld derived records older than the "
			    "retention", __func__, n, d);
			ingest_commit(ing);
		} else if (n == -1)
			ingest_commit(ing);
	}
	/* A full batch of deletions means more may be waiting: come back soon. */
	if (n >= 0 && n + d == PRUNE_BATCH)
		n = PRUNE_BATCH;
	tv.tv_sec = n == PRUNE_BATCH ? 0 : (long)(ing->c->conf->retention_interval_ms / 1000);
	tv.tv_usec = n == PRUNE_BATCH ? 100000 :
	    (long)(ing->c->conf->retention_interval_ms % 1000) * 1000;
	evtimer_add(ing->prune_ev, &tv);
}

/* Moves committed blocks from the commit log to their ranges, in bounded slices. */
static void
fold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *ing = arg;
	struct timeval tv;
	long n = 0;

	if (collector_accepting(ing->c) && !ing->full) {
		uint64_t t0 = mono_us(), dt;

		/* One partition per call: each fold touches an eighth of the ranges. */
		if ((n = store_fold_part(ing->c->store, ing->fold_part++)) > 0)
			stats.folded_blocks += (uint64_t)n;
		ingest_commit(ing);
		dt = mono_us() - t0;
		stats.fold_us_total += dt;
		if (dt > stats.fold_us_max)
			stats.fold_us_max = dt;
	}
	/* Every partition once per fold interval. */
	tv.tv_sec = 0;
	tv.tv_usec = (long)(ing->c->conf->fold_interval_ms * 1000 / STORE_EVLOG_PARTS);
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec = tv.tv_usec / 1000000;
		tv.tv_usec %= 1000000;
	}
	evtimer_add(ing->fold_ev, &tv);
}

struct ingest *
ingest_new(struct collector *c)
{
	struct ingest *ing;
	struct timeval tv = { 1, 0 };

	if ((ing = xcalloc(1, sizeof(*ing))) == NULL)
		return NULL;
	ing->c = c;
	if ((ing->commit_ev = event_new(c->base, -1, 0, commit_cb, ing)) == NULL ||
	    (ing->prune_ev = evtimer_new(c->base, prune_cb, ing)) == NULL ||
	    (ing->fold_ev = evtimer_new(c->base, fold_cb, ing)) == NULL) {
		ingest_free(ing);
		return NULL;
	}
	evtimer_add(ing->prune_ev, &tv);
	evtimer_add(ing->fold_ev, &tv);
	return ing;
}

static void
agent_free(struct agent_state *a)
{
	if (a == NULL)
		return;
	xfree(a->id);
	xfree(a);
}

/* Forgets every agent (after a failed transaction whose interned ids are gone). */
static void
ingest_forget_all(struct ingest *ing, int code, const char *reason)
{
	struct agent_state *a, *next;
	size_t i;

	for (i = 0; i < AGENT_BUCKETS; i++) {
		for (a = ing->buckets[i]; a != NULL; a = next) {
			next = a->hnext;
			if (a->conn != NULL) {
				conn_detach(a->conn);
				if (code != 0)
					conn_fail(a->conn, code, "%s", reason);
			}
			agent_free(a);
		}
		ing->buckets[i] = NULL;
	}
	ing->touched = NULL;
	ing->pending = 0;
	/* Held acks point at the agents just freed; their events are durable here, and the
	 * agents learn that from the next Welcome. */
	ing->held_head = ing->held_n = 0;
}

void
ingest_free(struct ingest *ing)
{
	if (ing == NULL)
		return;
	ingest_forget_all(ing, 0, NULL);
	xfree(ing->held);
	xfree(ing->tb);
	if (ing->commit_ev != NULL)
		event_free(ing->commit_ev);
	if (ing->prune_ev != NULL)
		event_free(ing->prune_ev);
	if (ing->fold_ev != NULL)
		event_free(ing->fold_ev);
	xfree(ing);
}

/* The open transaction is lost: nothing in it is acked, every agent resends. */
static void
ingest_txn_failed(struct ingest *ing)
{
	struct store *s = ing->c->store;
	int code;
	char reason[160];

	stats.commit_failures++;
	if (ing->c->hooks.aborted != NULL)
		ing->c->hooks.aborted(ing->c->hooks.arg);
	if (store_full(s)) {
		code = TANDEM__ERROR_CODE__ERR_STORE_FULL;
		snprintf(reason, sizeof(reason), "store is full: nothing acknowledged, retry later");
		if (!ing->full)
			log_warnx("store: map full: refusing writes until space is freed "
			    "(raise map_size or shorten retention)");
		ing->full = 1;
		ing->full_retry_ms = now_ms() + FULL_RETRY_MS;
	} else {
		code = TANDEM__ERROR_CODE__ERR_STORE;
		snprintf(reason, sizeof(reason), "store error: %s: nothing acknowledged",
		    store_strerror(s));
		log_warnx("store: write failed: %s", store_strerror(s));
	}
	store_abort(s);
	tick_reset(ing);
	ingest_forget_all(ing, code, reason);
}

int
ingest_commit(struct ingest *ing)
{
	struct store *s = ing->c->store;
	struct agent_state *a;
	uint64_t t0, dt;

	if (!store_dirty(s) && ing->touched == NULL)
		return 0;
	if (put_blocks(ing) == -1) {
		if (store_full(s))
			stats.store_full_refusals++;
		ingest_txn_failed(ing);
		return -1;
	}
	if (ing->c->hooks.commit != NULL && ing->c->hooks.commit(ing->c->hooks.arg, s) == -1) {
		ingest_txn_failed(ing);
		return -1;
	}
	for (a = ing->touched; a != NULL; a = a->touched_next) {
		struct store_agent_rec r = a->rec;

		r.stored_seq = a->accepted_seq;
		r.events += a->pending;
		r.duplicates += a->pending_dups;
		if (a->pending > 0) {
			if (r.first_ms == 0 || (uint64_t)a->pending_first_ms < r.first_ms)
				r.first_ms = (uint64_t)a->pending_first_ms;
			if ((uint64_t)a->pending_last_ms > r.last_ms)
				r.last_ms = (uint64_t)a->pending_last_ms;
		}
		if (store_agent_put(s, a->num, &r) == -1) {
			ingest_txn_failed(ing);
			return -1;
		}
	}
	t0 = mono_us();
	if (store_commit(s) == -1) {
		ingest_txn_failed(ing);
		return -1;
	}
	dt = mono_us() - t0;
	if (ing->c->hooks.committed != NULL)
		ing->c->hooks.committed(ing->c->hooks.arg);
	stats.commits++;
	stats.commit_us_total += dt;
	if (dt > stats.commit_us_max)
		stats.commit_us_max = dt;
	/* Only a commit that held events proves the store takes writes again. */
	if (ing->full && ing->touched != NULL) {
		log_info("store: writes succeed again");
		ing->full = 0;
	}
	stats.events_stored += ing->pending;
	ing->pending = 0;
	tick_reset(ing);
	while ((a = ing->touched) != NULL) {
		ing->touched = a->touched_next;
		a->touched_next = NULL;
		a->touched = 0;
		a->rec.stored_seq = a->accepted_seq;
		a->rec.events += a->pending;
		a->rec.duplicates += a->pending_dups;
		if (a->pending > 0) {
			if (a->rec.first_ms == 0 || (uint64_t)a->pending_first_ms < a->rec.first_ms)
				a->rec.first_ms = (uint64_t)a->pending_first_ms;
			if ((uint64_t)a->pending_last_ms > a->rec.last_ms)
				a->rec.last_ms = (uint64_t)a->pending_last_ms;
		}
		a->pending = a->pending_dups = 0;
		if (ing->gated)
			hold_ack(ing, store_pos(s), a, a->rec.stored_seq);
		else if (a->conn != NULL)
			conn_send_ack(a->conn, a->rec.stored_seq);
	}
	return 0;
}

static void
hold_ack(struct ingest *ing, uint64_t pos, struct agent_state *a, uint64_t seq)
{
	struct held_ack *h;

	if (ing->held_n == ing->held_cap) {
		size_t cap = ing->held_cap ? ing->held_cap * 2 : 1024, i;

		if ((h = xcalloc(cap, sizeof(*h))) == NULL) {
			/* Cannot hold it: ack now rather than never. */
			log_warnx("%s: out of memory: acking without the standby", __func__);
			if (a->conn != NULL)
				conn_send_ack(a->conn, seq);
			return;
		}
		for (i = 0; i < ing->held_n; i++)
			h[i] = ing->held[(ing->held_head + i) % ing->held_cap];
		xfree(ing->held);
		ing->held = h;
		ing->held_cap = cap;
		ing->held_head = 0;
	}
	h = &ing->held[(ing->held_head + ing->held_n) % ing->held_cap];
	h->pos = pos;
	h->a = a;
	h->seq = seq;
	ing->held_n++;
}

void
ingest_release(struct ingest *ing, uint64_t upto_pos)
{
	struct held_ack *h;

	while (ing->held_n > 0) {
		h = &ing->held[ing->held_head];
		if (h->pos > upto_pos)
			break;
		if (h->a->conn != NULL && h->a->rec.stored_seq >= h->seq)
			conn_send_ack(h->a->conn, h->seq);
		ing->held_head = (ing->held_head + 1) % ing->held_cap;
		ing->held_n--;
	}
}

void
ingest_set_gate(struct ingest *ing, int on)
{
	if (!on)
		ingest_release(ing, UINT64_MAX);
	ing->gated = on;
}

int
ingest_gated(const struct ingest *ing)
{
	return ing->gated;
}

size_t
ingest_held(const struct ingest *ing)
{
	return ing->held_n;
}

void
ingest_reset(struct ingest *ing)
{
	store_abort(ing->c->store);
	ingest_forget_all(ing, TANDEM__ERROR_CODE__ERR_SHUTDOWN, "not the active node");
	ing->full = 0;
}

static void
touch(struct ingest *ing, struct agent_state *a)
{
	if (a->touched)
		return;
	a->touched = 1;
	a->touched_next = ing->touched;
	ing->touched = a;
	event_active(ing->commit_ev, 0, 0);
}

struct agent_state *
ingest_hello(struct ingest *ing, struct conn *conn, const char *agent_id, const char *app,
    int *code, char *err, size_t errlen)
{
	struct store *s = ing->c->store;
	struct agent_state *a;
	uint32_t h = hash_id(agent_id), app_id;
	int found;

	for (a = ing->buckets[h]; a != NULL; a = a->hnext)
		if (strcmp(a->id, agent_id) == 0)
			break;
	if (a == NULL) {
		if ((a = xcalloc(1, sizeof(*a))) == NULL || (a->id = xstrdup(agent_id)) == NULL) {
			agent_free(a);
			*code = TANDEM__ERROR_CODE__ERR_STORE;
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		if (store_intern(s, STORE_NS_AGENT, agent_id, &a->num) == -1 ||
		    (found = store_agent_get(s, a->num, &a->rec)) == -1)
			goto store_failed;
		if (!found)
			memset(&a->rec, 0, sizeof(a->rec));
		a->accepted_seq = a->rec.stored_seq;
		a->hnext = ing->buckets[h];
		ing->buckets[h] = a;
	}
	if (store_intern(s, STORE_NS_APP, app, &app_id) == -1) {
		a = NULL;
		goto store_failed;
	}
	a->app = app_id;
	a->rec.app = app_id;
	if (a->conn != NULL && a->conn != conn) {
		struct conn *old = a->conn;

		conn_detach(old);
		conn_fail(old, TANDEM__ERROR_CODE__ERR_REPLACED,
		    "a newer connection of agent %s took over", agent_id);
	}
	a->conn = conn;
	/* The lookups (and any new ids) opened the tick's transaction: commit it this tick. */
	event_active(ing->commit_ev, 0, 0);
	return a;

store_failed:
	if (a != NULL && a->hnext == NULL && ing->buckets[h] != a)
		agent_free(a);
	if (!store_dirty(s)) {
		/* The write failed and the transaction is gone with everything in it. */
		ingest_txn_failed(ing);
	}
	*code = store_full(s) ? TANDEM__ERROR_CODE__ERR_STORE_FULL : TANDEM__ERROR_CODE__ERR_STORE;
	snprintf(err, errlen, "store: %s", store_strerror(s));
	return NULL;
}

void
ingest_unbind(struct ingest *ing, struct agent_state *a, struct conn *conn)
{
	if (a != NULL && a->conn == conn)
		a->conn = NULL;
}

static size_t
event_cost(uint64_t seq_delta, size_t len)
{
	return wire_varint_size(seq_delta) + wire_varint_size(len) + len;
}

/*
 * The tick buffer: every accepted event of the open transaction, copied out of its frame, in
 * arrival order. Each agent chains its entries per kind (offsets into the buffer), so at
 * commit one agent's events of one kind become as few blocks as the bounds allow.
 */
struct tick_entry {
	uint32_t	next;		/* offset of the next entry of this agent and kind, 0: none */
	uint32_t	len;
	uint64_t	seq;
	int64_t		time_ms;
	/* then len bytes of the Event */
};

#define TE(ing, off)	((struct tick_entry *)((ing)->tb + (off)))
#define TE_SIZE(len)	((sizeof(struct tick_entry) + (len) + 7) & ~(size_t)7)

static int
tick_add(struct ingest *ing, struct agent_state *a, uint64_t seq, const struct msg_event *e)
{
	size_t need = TE_SIZE(e->len), off;
	struct tick_entry *t;
	int k = e->kind;

	if (ing->tb_len + need > ing->tb_cap) {
		size_t cap = ing->tb_cap ? ing->tb_cap : (1u << 20);
		uint8_t *p;

		while (cap < ing->tb_len + need)
			cap *= 2;
		if (cap > UINT32_MAX || (p = xrealloc(ing->tb, cap)) == NULL)
			return -1;
		ing->tb = p;
		ing->tb_cap = cap;
	}
	if (ing->tb_len == 0)
		ing->tb_len = 8;	/* offset 0 means "none" */
	off = ing->tb_len;
	t = TE(ing, off);
	t->next = 0;
	t->len = (uint32_t)e->len;
	t->seq = seq;
	t->time_ms = e->time_ms;
	memcpy(t + 1, e->raw, e->len);
	ing->tb_len += need;
	if (a->kind_head[k] == 0)
		a->kind_head[k] = (uint32_t)off;
	else
		TE(ing, a->kind_tail[k])->next = (uint32_t)off;
	a->kind_tail[k] = (uint32_t)off;
	return 0;
}

/* Writes the entries [from, to) of one chain (to 0: the end) as one block. */
static int
put_block(struct ingest *ing, struct agent_state *a, int kind, uint32_t from, uint32_t to,
    size_t n, int64_t tmin, int64_t tmax)
{
	struct store_evkey key;
	uint64_t first = TE(ing, from)->seq;
	uint32_t o;
	size_t len;
	uint8_t *p;

	len = 1 + wire_varint_size(n) + wire_varint_size((uint64_t)(tmax - tmin));
	for (o = from; o != to; o = TE(ing, o)->next)
		len += event_cost(TE(ing, o)->seq - first, TE(ing, o)->len);
	key.app = a->app;
	key.kind = (uint8_t)kind;
	key.t0 = (uint64_t)tmin;
	key.agent = a->num;
	key.first_seq = first;
	if ((p = store_block_reserve(ing->c->store, &key, len)) == NULL)
		return -1;
	*p++ = STORE_BLOCK_VERSION;
	p += wire_put_varint(p, n);
	p += wire_put_varint(p, (uint64_t)(tmax - tmin));
	for (o = from; o != to; o = TE(ing, o)->next) {
		struct tick_entry *t = TE(ing, o);

		p += wire_put_varint(p, t->seq - first);
		p += wire_put_varint(p, t->len);
		memcpy(p, t + 1, t->len);
		p += t->len;
	}
	stats.blocks++;
	return 0;
}

/* Turns one agent's chain of one kind into blocks bounded in bytes and time span. */
static int
put_kind(struct ingest *ing, struct agent_state *a, int kind)
{
	uint32_t o, from = a->kind_head[kind];
	size_t n = 0, bytes = BLOCK_HDR_MAX;
	int64_t tmin = 0, tmax = 0, t;

	for (o = from; o != 0; o = TE(ing, o)->next) {
		struct tick_entry *e = TE(ing, o);
		size_t cost = event_cost(e->seq - TE(ing, from)->seq, e->len);

		t = e->time_ms;
		if (n > 0 && (bytes + cost > STORE_BLOCK_MAX ||
		    (t > tmax ? t : tmax) - (t < tmin ? t : tmin) > STORE_BLOCK_SPAN_MS)) {
			if (put_block(ing, a, kind, from, o, n, tmin, tmax) == -1)
				return -1;
			from = o;
			n = 0;
			bytes = BLOCK_HDR_MAX;
			cost = event_cost(0, e->len);
		}
		if (n == 0)
			tmin = tmax = t;
		else {
			if (t < tmin)
				tmin = t;
			if (t > tmax)
				tmax = t;
		}
		bytes += cost;
		n++;
	}
	return n > 0 ? put_block(ing, a, kind, from, 0, n, tmin, tmax) : 0;
}

/* At commit: every touched agent's buffered events into blocks. 0 or -1 (store error). */
static int
put_blocks(struct ingest *ing)
{
	struct agent_state *a;
	int k;

	for (a = ing->touched; a != NULL; a = a->touched_next)
		for (k = EV_QUEUE; k < EV_KINDS; k++)
			if (a->kind_head[k] != 0 && put_kind(ing, a, k) == -1)
				return -1;
	return 0;
}

static void
tick_reset(struct ingest *ing)
{
	struct agent_state *a;

	for (a = ing->touched; a != NULL; a = a->touched_next)
		memset(a->kind_head, 0, sizeof(a->kind_head));
	ing->tb_len = 0;
	/* A burst may have grown the buffer far beyond the usual tick: give it back. */
	if (ing->tb_cap > (64u << 20)) {
		XFREE(ing->tb);
		ing->tb_cap = 0;
	}
}

int
ingest_batch(struct ingest *ing, struct agent_state *a, uint64_t *last_seq, const struct msg *m,
    char *err, size_t errlen)
{
	uint64_t last = m->first_seq + m->nevents - 1;
	size_t skip, i;

	if (m->first_seq <= *last_seq) {
		snprintf(err, errlen, "sequence went backwards: batch starts at %llu after %llu",
		    (unsigned long long)m->first_seq, (unsigned long long)*last_seq);
		return TANDEM__ERROR_CODE__ERR_SEQ;
	}
	*last_seq = last;
	stats.batches++;
	stats.events_in += m->nevents;
	if (last <= a->accepted_seq) {
		/* All duplicates: ack at once unless a commit that covers them is pending. */
		stats.duplicates += m->nevents;
		a->pending_dups += m->nevents;
		if (a->touched)
			return 0;
		a->rec.duplicates += m->nevents;
		a->pending_dups = 0;
		if (a->conn != NULL)
			conn_send_ack(a->conn, a->rec.stored_seq);
		return 0;
	}
	if (ing->full) {
		if (now_ms() < ing->full_retry_ms) {
			stats.store_full_refusals++;
			snprintf(err, errlen, "store is full: nothing acknowledged, retry later");
			return TANDEM__ERROR_CODE__ERR_STORE_FULL;
		}
		ing->full_retry_ms = now_ms() + FULL_RETRY_MS;
	}
	skip = m->first_seq > a->accepted_seq ? 0 : (size_t)(a->accepted_seq - m->first_seq + 1);
	for (i = skip; i < m->nevents; i++) {
		if (tick_add(ing, a, m->first_seq + i, &m->events[i]) == -1) {
			/* Out of memory: the transaction is dropped; every agent resends. */
			snprintf(err, errlen, "out of memory: nothing acknowledged");
			ingest_txn_failed(ing);
			return TANDEM__ERROR_CODE__ERR_STORE;
		}
	}
	if (skip > 0) {
		stats.duplicates += skip;
		a->pending_dups += skip;
	}
	for (i = skip; i < m->nevents; i++) {
		int64_t t = m->events[i].time_ms;

		if (a->pending == 0 && i == skip)
			a->pending_first_ms = a->pending_last_ms = t;
		if (t < a->pending_first_ms)
			a->pending_first_ms = t;
		if (t > a->pending_last_ms)
			a->pending_last_ms = t;
	}
	if (ing->c->hooks.event != NULL)
		for (i = skip; i < m->nevents; i++)
			ing->c->hooks.event(ing->c->hooks.arg, a, m->first_seq + i, &m->events[i]);
	a->pending += m->nevents - skip;
	ing->pending += m->nevents - skip;
	a->accepted_seq = last;
	touch(ing, a);
	if (ing->pending >= ing->c->conf->commit_max_events) {
		if (ingest_commit(ing) == 0)
			return 0;
		snprintf(err, errlen, "store: %s: nothing acknowledged",
		    store_strerror(ing->c->store));
		return store_full(ing->c->store) ? TANDEM__ERROR_CODE__ERR_STORE_FULL :
		    TANDEM__ERROR_CODE__ERR_STORE;
	}
	return 0;
}
