/* Tandem — MIT licence. Unit tests for collector/ingest.c: dedup, acks, block layout, full map, group commit. */
#include "collector/ingest.c"

#include <errno.h>

#include <lmdb.h>

#include "common/arena.h"
#include "common/store_read.h"
#include "tests/unit/collector/batch.h"
#include "tests/unit/collector/tmpstore.h"
#include "tests/unit/common/cases.h"

/* ---- Stubs for the connection module: they record what ingest asked for. ---- */

struct conn {
	int			 idx;
	uint64_t		 last_seq;	/* as conn.c keeps it */
	struct agent_state	*agent;
	int			 acks;
	uint64_t		 last_ack;
	int			 fails;
	int			 fail_code;
	int			 detaches;
};

static int total_acks;

void
conn_send_ack(struct conn *cn, uint64_t upto_seq)
{
	cn->acks++;
	cn->last_ack = upto_seq;
	total_acks++;
}

void
conn_fail(struct conn *cn, int code, const char *fmt, ...)
{
	cn->fails++;
	cn->fail_code = code;
}

void
conn_detach(struct conn *cn)
{
	cn->detaches++;
	cn->agent = NULL;
}

/* ---- Fixture: a collector with a real event base, store and ingest. ---- */

#define NCONNS		6
#define MAP_DEFAULT	(64ULL << 20)
#define MAP_SMALL	(1ULL << 20)

struct fx {
	char			 dir[4096];
	struct collector	 c;
	struct collector_conf	 conf;
	struct conn		 conns[NCONNS];
	int64_t			 t0;	/* event times start here */
};

static struct fx *
fx_open(uint64_t map_size, uint64_t commit_max)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int i;

	assert_non_null(f);
	memset(&stats, 0, sizeof(stats));
	total_acks = 0;
	if (tmpdir_make(f->dir, sizeof(f->dir)) == -1)
		fail_msg("mkdtemp: %s", strerror(errno));
	collector_conf_init(&f->conf);
	f->conf.map_size = map_size;
	if (commit_max != 0)
		f->conf.commit_max_events = commit_max;
	f->c.conf = &f->conf;
	assert_non_null(f->c.base = event_base_new());
	assert_int_equal(arena_init(&f->c.arena, 16u << 20), 0);
	if ((f->c.store = store_open(f->dir, map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_non_null(f->c.ingest = ingest_new(&f->c));
	for (i = 0; i < NCONNS; i++)
		f->conns[i].idx = i;
	f->t0 = test_now_ms() - 2 * 3600 * 1000;
	return f;
}

static void
fx_close(struct fx *f)
{
	if (f == NULL)
		return;
	ingest_free(f->c.ingest);
	store_close(f->c.store);
	arena_shutdown(&f->c.arena);
	event_base_free(f->c.base);
	collector_conf_free(&f->conf);
	tmpdir_remove(f->dir);
	free(f);
}

/* A restart: everything in memory goes, the store is reopened. Connections are new. */
static void
fx_restart(struct fx *f)
{
	char err[256];
	int i;

	ingest_free(f->c.ingest);
	store_close(f->c.store);
	if ((f->c.store = store_open(f->dir, f->conf.map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_non_null(f->c.ingest = ingest_new(&f->c));
	for (i = 0; i < NCONNS; i++) {
		memset(&f->conns[i], 0, sizeof(f->conns[i]));
		f->conns[i].idx = i;
	}
}

/* Runs fn on the store's files with the writer closed (LMDB: one env per process). */
static void
fx_with_store_closed(struct fx *f, void (*fn)(struct fx *, void *), void *arg)
{
	char err[256];

	assert_int_equal(store_dirty(f->c.store), 0);
	store_close(f->c.store);
	f->c.store = NULL;
	fn(f, arg);
	if ((f->c.store = store_open(f->dir, f->conf.map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
}

static struct agent_state *
find_agent(struct fx *f, const char *id)
{
	struct agent_state *a;

	for (a = f->c.ingest->buckets[hash_id(id)]; a != NULL; a = a->hnext)
		if (strcmp(a->id, id) == 0)
			return a;
	return NULL;
}

static int
hello(struct fx *f, int conn, const char *agent, const char *app, int *code)
{
	struct conn *cn = &f->conns[conn];
	char err[MSG_MAX_REASON];

	*code = 0;
	cn->last_seq = 0;
	cn->agent = ingest_hello(f->c.ingest, cn, agent, app, code, err, sizeof(err));
	return cn->agent != NULL ? 0 : -1;
}

/* Builds, decodes (msg_decode into the collector's arena) and ingests one batch. */
static int
batch(struct fx *f, int conn, const struct test_batch *spec)
{
	struct conn *cn = &f->conns[conn];
	struct test_batch b = *spec;
	char err[MSG_MAX_REASON];
	struct msg m;
	uint8_t *buf;
	size_t len;
	int code;

	if (b.t0 == 0)
		b.t0 = f->t0;
	buf = test_batch_frame(&b, &len);
	code = msg_decode(buf + FRAME_HDR, len - FRAME_HDR, &f->c.arena, test_now_ms(), &m, err,
	    sizeof(err));
	if (code != 0)
		fail_msg("msg_decode: %s", err);
	assert_int_equal(m.type, MSGT_BATCH);
	assert_int_equal(m.nevents, b.n);
	assert_non_null(cn->agent);
	code = ingest_batch(f->c.ingest, cn->agent, &cn->last_seq, &m, err, sizeof(err));
	arena_reset(&f->c.arena);
	free(buf);
	return code;
}

static int
batch_n(struct fx *f, int conn, uint64_t first, size_t n)
{
	struct test_batch b = { .first = first, .n = n, .step_ms = 10 };

	return batch(f, conn, &b);
}

/* ---- Reading the store back ---- */

#define SEQ_MAX		8192

struct agent_events {
	uint32_t	 agent;
	uint8_t		 count[SEQ_MAX];	/* per seq: times stored */
	size_t		 total;
	size_t		 mismatched;		/* stored bytes carry another seq */
	long		 blocks;
	size_t		 over_bound;		/* blocks longer than STORE_BLOCK_MAX */
	size_t		 over_span;		/* blocks spanning more than STORE_BLOCK_SPAN_MS */
	size_t		 bad_t0;		/* an event earlier than t0 or later than t0+span */
	size_t		 max_vlen;
	int64_t		 block_min, block_max;
	uint64_t	 last_key_first;
	int		 in_block;
	struct store_evkey cur;
};

static void
close_block(struct agent_events *ae)
{
	if (!ae->in_block)
		return;
	if ((uint64_t)(ae->block_max - ae->block_min) > STORE_BLOCK_SPAN_MS)
		ae->over_span++;
	if ((uint64_t)ae->block_min != ae->cur.t0)
		ae->bad_t0++;
	ae->in_block = 0;
}

static int
agent_events_cb(const struct raw_block *b, uint64_t seq, const uint8_t *ev, size_t len,
    void *arg)
{
	struct agent_events *ae = arg;
	uint64_t evseq;
	int64_t t = 0;

	if (b->key.agent != ae->agent)
		return 0;
	if (!ae->in_block || memcmp(&ae->cur, &b->key, sizeof(b->key)) != 0) {
		close_block(ae);
		ae->cur = b->key;
		ae->in_block = 1;
		ae->blocks++;
		if (b->vlen > STORE_BLOCK_MAX)
			ae->over_bound++;
		if (b->vlen > ae->max_vlen)
			ae->max_vlen = b->vlen;
		ae->block_min = INT64_MAX;
		ae->block_max = INT64_MIN;
	}
	test_event_seq(ev, len, &evseq, &t);
	if (evseq != seq)
		ae->mismatched++;
	if (t < ae->block_min)
		ae->block_min = t;
	if (t > ae->block_max)
		ae->block_max = t;
	if ((uint64_t)t < b->key.t0 || (uint64_t)t > b->key.t0 + b->span_ms)
		ae->bad_t0++;
	if (seq < SEQ_MAX)
		ae->count[seq]++;
	ae->total++;
	return 0;
}

static void
scan_agent(struct fx *f, void *arg)
{
	struct agent_events *ae = arg;
	long n;

	n = raw_scan(f->dir, agent_events_cb, ae);
	assert_true(n >= 0);
	close_block(ae);
}

/* Every stored event of agent num, block by block. */
static struct agent_events *
agent_events(struct fx *f, uint32_t num)
{
	struct agent_events *ae = calloc(1, sizeof(*ae));

	assert_non_null(ae);
	ae->agent = num;
	fx_with_store_closed(f, scan_agent, ae);
	return ae;
}

/* Exactly the seqs in [lo[i], hi[i]] are stored, each once. */
static void
check_seqs(const struct agent_events *ae, const uint64_t *lo, const uint64_t *hi, size_t n)
{
	uint64_t s;
	size_t i, want = 0;
	int in;

	for (s = 0; s < SEQ_MAX; s++) {
		for (in = 0, i = 0; i < n; i++)
			if (s >= lo[i] && s <= hi[i])
				in = 1;
		want += in;
		if (ae->count[s] != in)
			fail_msg("seq %llu stored %d times, want %d", (unsigned long long)s,
			    ae->count[s], in);
	}
	assert_int_equal(ae->total, want);
	assert_int_equal(ae->mismatched, 0);
}

/* ---- The dedup table: scenarios as steps ---- */

enum op {
	OP_END,
	OP_HELLO,	/* conn, agent, app: .seq = stored_seq in Welcome; .replaced */
	OP_BATCH,	/* conn, first, n: .code; .acks; .ack; .dups */
	OP_COMMIT,	/* .acks; .ack on conn */
	OP_LOOP,	/* one non-blocking pass of the event loop (end-of-tick commit) */
	OP_UNBIND,	/* conn goes away */
	OP_RESTART,
	OP_STORED,	/* agent: stored record .seq, .events, .dups and exact seq ranges */
	OP_ACKED,	/* conn's last ack is .ack, .acks in total */
	OP_DIRTY,	/* a commit is pending (transaction open or events buffered) == .code */
};

struct step {
	enum op		 op;
	int		 conn;
	const char	*agent;
	uint64_t	 first;
	size_t		 n;
	int		 code;
	uint64_t	 seq;
	int		 acks;		/* acks sent (all connections) during the step */
	uint64_t	 ack;		/* ... and the value conn got */
	int		 replaced;	/* HELLO: 1 + index of the conn that gets ERR_REPLACED */
	uint64_t	 dups;		/* BATCH: duplicates counted by this batch */
	uint64_t	 events;	/* STORED */
	uint64_t	 lo[3], hi[3];
	size_t		 nranges;
};

#define HELLO(c, ag, s, rep)	{ .op = OP_HELLO, .conn = c, .agent = ag, .seq = s, .replaced = rep }
#define BATCH(c, f, num, cd, na, a, d) \
	{ .op = OP_BATCH, .conn = c, .first = f, .n = num, .code = cd, .acks = na, .ack = a, \
	    .dups = d }
#define COMMIT(c, na, a)	{ .op = OP_COMMIT, .conn = c, .acks = na, .ack = a }
#define STORED(ag, s, ev, d, nr, ...) \
	{ .op = OP_STORED, .agent = ag, .seq = s, .events = ev, .dups = d, .nranges = nr, \
	    __VA_ARGS__ }
#define R1(a, b)		.lo = { a }, .hi = { b }
#define R2(a, b, c, d)		.lo = { a, c }, .hi = { b, d }

#define SEQ	TANDEM__ERROR_CODE__ERR_SEQ

struct dedup_row {
	const char	*what;
	uint64_t	 commit_max;	/* 0: the default */
	struct step	 steps[24];
	const char	*bug;		/* set: a known bug, the case is not run (see the text) */
};

/*
 * Fixed bug, kept as a regression case: a Hello's lookups open the tick's write transaction;
 * ingest_hello activates the end-of-tick commit so it closes in the same tick, and an empty
 * commit does not end the ERR_STORE_FULL back-off (conn_test "full map" checks that).
 */

static const struct dedup_row dedup_rows[] = {
	{ "new agent: stored 0; batch 1..10 then commit: one ack(10), 10 stored", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		{ .op = OP_DIRTY, .code = 1 },
		COMMIT(0, 1, 10),
		{ .op = OP_DIRTY, .code = 0 },
		STORED("a1", 10, 10, 0, 1, R1(1, 10)),
	} },
	{ "reconnect resending 5..15: 6 duplicates, 11..15 stored once", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		COMMIT(0, 1, 10),
		HELLO(1, "a1", 10, 1),
		BATCH(1, 5, 11, 0, 0, 0, 6),
		COMMIT(1, 1, 15),
		STORED("a1", 15, 15, 6, 1, R1(1, 15)),
	} },
	{ "all-duplicate batch with nothing pending: immediate ack of the stored seq", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		COMMIT(0, 1, 10),
		HELLO(1, "a1", 10, 1),
		BATCH(1, 3, 6, 0, 1, 10, 6),
		BATCH(1, 9, 2, 0, 1, 10, 2),
		COMMIT(1, 0, 0),
		/* A later commit with events persists the duplicate count too. */
		BATCH(1, 11, 2, 0, 0, 0, 0),
		COMMIT(1, 1, 12),
		STORED("a1", 12, 12, 8, 1, R1(1, 12)),
	} },
	{ "all-duplicate batch while a commit is pending: acked by that commit", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		HELLO(1, "a1", 0, 1),
		BATCH(1, 1, 5, 0, 0, 0, 5),
		COMMIT(1, 1, 10),
		{ .op = OP_ACKED, .conn = 0, .acks = 0 },
		STORED("a1", 10, 10, 5, 1, R1(1, 10)),
	} },
	{ "batch starting at the connection's last seq: ERR_SEQ", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 8, 0, 0, 0, 0),
		BATCH(0, 8, 3, SEQ, 0, 0, 0),
		BATCH(0, 9, 3, 0, 0, 0, 0),
		COMMIT(0, 1, 11),
		STORED("a1", 11, 11, 0, 1, R1(1, 11)),
	} },
	{ "batch starting below the connection's last seq: ERR_SEQ", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 8, 0, 0, 0, 0),
		COMMIT(0, 1, 8),
		BATCH(0, 2, 10, SEQ, 0, 0, 0),
		BATCH(0, 1, 1, SEQ, 0, 0, 0),
		{ .op = OP_DIRTY, .code = 0 },
		STORED("a1", 8, 8, 0, 1, R1(1, 8)),
	} },
	{ "gap: 20..25 after 15 is accepted", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 15, 0, 0, 0, 0),
		COMMIT(0, 1, 15),
		BATCH(0, 20, 6, 0, 0, 0, 0),
		COMMIT(0, 1, 25),
		STORED("a1", 25, 21, 0, 2, R2(1, 15, 20, 25)),
	} },
	{ "second Hello for an agent: the first connection is failed and detached", 0, {
		HELLO(0, "a1", 0, 0),
		HELLO(1, "a1", 0, 1),
		BATCH(1, 1, 3, 0, 0, 0, 0),
		COMMIT(1, 1, 3),
		{ .op = OP_ACKED, .conn = 0, .acks = 0 },
		HELLO(2, "a1", 3, 2),
	} },
	{ "restart: stored seq and counters persist", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		COMMIT(0, 1, 10),
		HELLO(1, "a1", 10, 1),
		BATCH(1, 5, 10, 0, 0, 0, 6),
		COMMIT(1, 1, 14),
		{ .op = OP_RESTART },
		HELLO(2, "a1", 14, 0),
		STORED("a1", 14, 14, 6, 1, R1(1, 14)),
		BATCH(2, 1, 14, 0, 1, 14, 14),
		BATCH(2, 15, 1, 0, 0, 0, 0),
		COMMIT(2, 1, 15),
		{ .op = OP_RESTART },
		STORED("a1", 15, 15, 20, 1, R1(1, 15)),
	} },
	{ "restart loses what was not committed", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 5, 0, 0, 0, 0),
		COMMIT(0, 1, 5),
		BATCH(0, 6, 5, 0, 0, 0, 0),
		{ .op = OP_RESTART },
		HELLO(1, "a1", 5, 0),
		STORED("a1", 5, 5, 0, 1, R1(1, 5)),
	} },
	{ "two agents: independent seqs, one ack each per commit", 0, {
		HELLO(0, "a1", 0, 0),
		HELLO(1, "a2", 0, 0),
		BATCH(0, 1, 5, 0, 0, 0, 0),
		BATCH(1, 1, 3, 0, 0, 0, 0),
		BATCH(0, 6, 5, 0, 0, 0, 0),
		COMMIT(0, 2, 10),
		{ .op = OP_ACKED, .conn = 1, .acks = 1, .ack = 3 },
		STORED("a1", 10, 10, 0, 1, R1(1, 10)),
		STORED("a2", 3, 3, 0, 1, R1(1, 3)),
	} },
	{ "several batches in one transaction: one ack for all", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 10, 0, 0, 0, 0),
		BATCH(0, 11, 5, 0, 0, 0, 0),
		/* Reconnect while they are pending: Welcome says 0, the resend overlaps. */
		HELLO(1, "a1", 0, 1),
		BATCH(1, 14, 4, 0, 0, 0, 2),
		COMMIT(1, 1, 17),
		STORED("a1", 17, 17, 2, 1, R1(1, 17)),
	} },
	{ "Hello alone: the end-of-tick commit closes its transaction", 0, {
		HELLO(0, "a1", 0, 0),
		{ .op = OP_LOOP, .conn = 0, .acks = 0 },
		{ .op = OP_DIRTY, .code = 0 },
	} },
	{ "end-of-tick commit from the event loop", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 4, 0, 0, 0, 0),
		{ .op = OP_LOOP, .conn = 0, .acks = 1, .ack = 4 },
		{ .op = OP_DIRTY, .code = 0 },
		{ .op = OP_LOOP, .conn = 0, .acks = 0 },
	} },
	{ "unbound agent: events stored, no ack, Hello gets the stored seq", 0, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 5, 0, 0, 0, 0),
		{ .op = OP_UNBIND, .conn = 0 },
		COMMIT(0, 0, 0),
		HELLO(1, "a1", 5, 0),
		STORED("a1", 5, 5, 0, 1, R1(1, 5)),
	} },
	{ "commit_max_events 5: the batch reaching it commits at once", 5, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 3, 0, 0, 0, 0),
		BATCH(0, 4, 3, 0, 1, 6, 0),
		{ .op = OP_DIRTY, .code = 0 },
		BATCH(0, 7, 10, 0, 1, 16, 0),
		BATCH(0, 17, 1, 0, 0, 0, 0),
		{ .op = OP_DIRTY, .code = 1 },
		COMMIT(0, 1, 17),
		STORED("a1", 17, 17, 0, 1, R1(1, 17)),
	} },
	{ "commit_max_events 1: every batch commits by itself", 1, {
		HELLO(0, "a1", 0, 0),
		BATCH(0, 1, 1, 0, 1, 1, 0),
		BATCH(0, 2, 2, 0, 1, 3, 0),
		{ .op = OP_DIRTY, .code = 0 },
		/* Duplicates do not count towards the limit. */
		HELLO(1, "a1", 3, 1),
		BATCH(1, 1, 3, 0, 1, 3, 3),
	} },
};

static void
run_step(struct fx *f, const struct step *st, size_t i)
{
	struct conn *cn = &f->conns[st->conn];
	struct agent_state *a;
	struct agent_events *ae;
	struct store_agent_rec rec;
	uint32_t num = 0;
	uint64_t dups0 = stats.duplicates;
	int acks0 = total_acks, code, before[NCONNS], k;

	for (k = 0; k < NCONNS; k++)
		before[k] = f->conns[k].fails;
	switch (st->op) {
	case OP_END:
		break;
	case OP_HELLO:
		if (hello(f, st->conn, st->agent, "mes", &code) != 0)
			fail_msg("step %zu: hello failed with code %d", i, code);
		if (cn->agent->rec.stored_seq != st->seq)
			fail_msg("step %zu: stored_seq %llu, want %llu", i,
			    (unsigned long long)cn->agent->rec.stored_seq,
			    (unsigned long long)st->seq);
		for (k = 0; k < NCONNS; k++) {
			int want = st->replaced == k + 1;

			if ((f->conns[k].fails - before[k]) != want)
				fail_msg("step %zu: conn %d failed %d times, want %d", i, k,
				    f->conns[k].fails - before[k], want);
			if (want) {
				assert_int_equal(f->conns[k].fail_code,
				    TANDEM__ERROR_CODE__ERR_REPLACED);
				assert_null(f->conns[k].agent);
				CHECK(f->conns[k].detaches > 0);
			}
		}
		break;
	case OP_BATCH:
		code = batch_n(f, st->conn, st->first, st->n);
		if (code != st->code)
			fail_msg("step %zu: batch %llu+%zu: code %d, want %d", i,
			    (unsigned long long)st->first, st->n, code, st->code);
		if (stats.duplicates - dups0 != st->dups)
			fail_msg("step %zu: %llu duplicates, want %llu", i,
			    (unsigned long long)(stats.duplicates - dups0),
			    (unsigned long long)st->dups);
		break;
	case OP_COMMIT:
		assert_int_equal(ingest_commit(f->c.ingest), 0);
		assert_int_equal(store_dirty(f->c.store), 0);
		break;
	case OP_LOOP:
		assert_true(event_base_loop(f->c.base, EVLOOP_NONBLOCK) >= 0);
		break;
	case OP_UNBIND:
		ingest_unbind(f->c.ingest, cn->agent, cn);
		cn->agent = NULL;
		break;
	case OP_RESTART:
		fx_restart(f);
		break;
	case OP_STORED:
		/* Commits first (Hello leaves its lookups open); expects no acks from that. */
		assert_int_equal(ingest_commit(f->c.ingest), 0);
		assert_int_equal(store_intern(f->c.store, STORE_NS_AGENT, st->agent, &num), 0);
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(store_agent_get(f->c.store, num, &rec), 1);
		store_abort(f->c.store);	/* lookups only */
		store_abort(f->c.store);
		if (rec.stored_seq != st->seq || rec.events != st->events ||
		    rec.duplicates != st->dups)
			fail_msg("step %zu: stored record seq %llu events %llu dups %llu, want "
			    "%llu %llu %llu", i, (unsigned long long)rec.stored_seq,
			    (unsigned long long)rec.events, (unsigned long long)rec.duplicates,
			    (unsigned long long)st->seq, (unsigned long long)st->events,
			    (unsigned long long)st->dups);
		CHECK(rec.first_ms >= (uint64_t)f->t0 && rec.last_ms >= rec.first_ms);
		ae = agent_events(f, num);
		check_seqs(ae, st->lo, st->hi, st->nranges);
		free(ae);
		if ((a = find_agent(f, st->agent)) != NULL)
			assert_int_equal(a->rec.stored_seq, st->seq);
		break;
	case OP_ACKED:
		assert_int_equal(cn->acks, st->acks);
		if (st->acks > 0)
			assert_int_equal(cn->last_ack, st->ack);
		return;
	case OP_DIRTY:
		assert_int_equal(store_dirty(f->c.store) || f->c.ingest->touched != NULL, st->code);
		return;
	}
	if (st->op == OP_BATCH || st->op == OP_COMMIT || st->op == OP_LOOP ||
	    st->op == OP_UNBIND || st->op == OP_STORED) {
		if (total_acks - acks0 != st->acks)
			fail_msg("step %zu: %d acks, want %d", i, total_acks - acks0, st->acks);
		if (st->acks > 0 && cn->last_ack != st->ack)
			fail_msg("step %zu: conn %d acked %llu, want %llu", i, st->conn,
			    (unsigned long long)cn->last_ack, (unsigned long long)st->ack);
		for (k = 0; k < NCONNS; k++)
			if (f->conns[k].fails != before[k])
				fail_msg("step %zu: conn %d failed (code %d)", i, k,
				    f->conns[k].fail_code);
	}
}

static void
test_dedup(void **state)
{
	const struct dedup_row *row = ROW(struct dedup_row, state);
	struct fx *f;
	size_t i;

	if (row->bug != NULL && getenv("TANDEM_RUN_KNOWN_BUGS") == NULL) {
		/* Not cmocka's skip(): tests/run_all.sh counts "not ok N # SKIP" as a failure. */
		print_message("KNOWN BUG, not run (TANDEM_RUN_KNOWN_BUGS=1 runs it): %s\n",
		    row->bug);
		return;
	}
	f = fx_open(MAP_DEFAULT, row->commit_max);
	for (i = 0; i < sizeof(row->steps) / sizeof(row->steps[0]) &&
	    row->steps[i].op != OP_END; i++)
		run_step(f, &row->steps[i], i);
	fx_close(f);
}

/* ---- Block layout ---- */

struct block_row {
	const char	*what;
	struct test_batch b;
	size_t		 min_blocks;	/* at least this many blocks */
	size_t		 max_blocks;	/* at most (0: no bound) */
	int		 big_ok;	/* one block may exceed the bound (an event that large) */
};

/* Offsets that make tmin and tmax move both ways. */
static const int64_t zigzag[] = {
	50000, 100000, 20000, 70000, 75000, 10000, 0, 59999, 60000, 120000,
	180000, 121000, 61000, 119000, 240000, 180001, 179999, 300000, 240001, 1,
};
/* Every adjacent pair more than a span apart: one event per block. */
static const int64_t far[] = { 0, 90000, 10, 90010, 200000, 20, 300000, 140000 };

static const struct block_row block_rows[] = {
	{ "200 logs of 150 bytes at one time: split by size", {
		.first = 1, .n = 200, .kind = EV_LOG, .pad = 150 }, 17, 25, 0 },
	{ "4096 tiny heartbeats: split by size", {
		.first = 1, .n = 4096, .kind = EV_HEARTBEAT, .step_ms = 0 }, 30, 0, 0 },
	{ "30 queue samples 7 s apart: split by span", {
		.first = 1, .n = 30, .kind = EV_QUEUE, .step_ms = 7000 }, 4, 4, 0 },
	{ "times moving both ways: split by span", {
		.first = 100, .n = 20, .kind = EV_JOB, .times = zigzag }, 5, 0, 0 },
	{ "every pair more than a span apart: one event per block", {
		.first = 1, .n = 8, .kind = EV_TXN, .times = far }, 8, 8, 0 },
	{ "an event over the bound gets a block of its own", {
		.first = 1, .n = 40, .kind = EV_LOG, .pad = 100, .big_at = 20,
		.big_pad = 4000 }, 4, 0, 1 },
	{ "size and span at once", {
		.first = 1, .n = 300, .kind = EV_LOG, .pad = 120, .step_ms = 1000 }, 20, 0, 0 },
};

static void
test_blocks(void **state)
{
	const struct block_row *row = ROW(struct block_row, state);
	struct fx *f = fx_open(MAP_DEFAULT, 0);
	struct agent_events *ae;
	uint64_t lo = row->b.first, hi = row->b.first + row->b.n - 1;
	int code;

	assert_int_equal(hello(f, 0, "a1", "mes", &code), 0);
	assert_int_equal(batch(f, 0, &row->b), 0);
	assert_int_equal(ingest_commit(f->c.ingest), 0);
	assert_int_equal(f->conns[0].last_ack, hi);
	ae = agent_events(f, f->conns[0].agent->num);
	check_seqs(ae, &lo, &hi, 1);
	assert_int_equal(ae->over_bound, row->big_ok ? 1 : 0);
	if (!row->big_ok)
		CHECK(ae->max_vlen <= STORE_BLOCK_MAX);
	assert_int_equal(ae->over_span, 0);
	assert_int_equal(ae->bad_t0, 0);
	if ((size_t)ae->blocks < row->min_blocks ||
	    (row->max_blocks != 0 && (size_t)ae->blocks > row->max_blocks))
		fail_msg("%ld blocks, want %zu..%zu", ae->blocks, row->min_blocks,
		    row->max_blocks);
	assert_int_equal(stats.blocks, (uint64_t)ae->blocks);
	assert_int_equal(stats.events_stored, row->b.n);
	free(ae);
	fx_close(f);
}

/* Mixed kinds from two agents of two apps: per app|kind ranges, time order, each seq once. */
struct kind_scan {
	uint8_t		kind;
	uint32_t	agent;
	int64_t		last_time;
	size_t		out_of_order, wrong_kind, wrong_agent, n;
	uint8_t		count[SEQ_MAX];
};

static int
kind_cb(const struct store_event *e, void *arg)
{
	struct kind_scan *ks = arg;
	uint64_t seq;
	int64_t t = 0;

	if (test_event_seq(e->data, e->len, &seq, &t) != (enum ev_kind)ks->kind ||
	    e->kind != ks->kind)
		ks->wrong_kind++;
	if (e->agent != ks->agent)
		ks->wrong_agent++;
	if (seq != e->seq)
		ks->wrong_kind++;
	if (t < ks->last_time)
		ks->out_of_order++;
	ks->last_time = t;
	if (e->seq < SEQ_MAX)
		ks->count[e->seq]++;
	ks->n++;
	return 0;
}

struct mixed_arg {
	uint32_t	app[2], agent[2];
	size_t		n[2];
};

static void
scan_mixed(struct fx *f, void *arg)
{
	struct mixed_arg *ma = arg;
	struct store_reader *r;
	struct kind_scan *ks = calloc(1, sizeof(*ks));
	uint8_t seen[2][SEQ_MAX];
	char err[256];
	size_t total;
	int who, k;
	uint64_t s;

	assert_non_null(ks);
	memset(seen, 0, sizeof(seen));
	if ((r = store_reader_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("reader: %s", err);
	for (who = 0; who < 2; who++) {
		total = 0;
		for (k = EV_QUEUE; k < EV_KINDS; k++) {
			memset(ks, 0, sizeof(*ks));
			ks->kind = (uint8_t)k;
			ks->agent = ma->agent[who];
			assert_int_equal(store_reader_events(r, ma->app[who], (uint8_t)k, 0,
			    UINT64_MAX, kind_cb, ks), 0);
			if (ks->wrong_kind || ks->wrong_agent || ks->out_of_order)
				fail_msg("app %u kind %d: %zu wrong kind, %zu wrong agent, %zu out "
				    "of time order", ma->app[who], k, ks->wrong_kind,
				    ks->wrong_agent, ks->out_of_order);
			/* Every fifth event is of this kind. */
			assert_int_equal(ks->n, (ma->n[who] + 4 - (size_t)(k - EV_QUEUE)) / 5);
			for (s = 0; s < SEQ_MAX; s++)
				seen[who][s] += ks->count[s];
			total += ks->n;
		}
		assert_int_equal(total, ma->n[who]);
		for (s = 1; s < SEQ_MAX; s++)
			if (seen[who][s] != (s <= ma->n[who]))
				fail_msg("app %u seq %llu seen %d times", ma->app[who],
				    (unsigned long long)s, seen[who][s]);
	}
	store_reader_close(r);
	free(ks);
}

static void
test_mixed_kinds(void **state)
{
	struct fx *f = fx_open(MAP_DEFAULT, 0);
	struct test_batch b = { .first = 1, .n = 53, .kind = 0, .step_ms = 1500, .pad = 60 };
	struct mixed_arg ma;
	int code;

	(void)state;
	assert_int_equal(hello(f, 0, "a1", "mes", &code), 0);
	assert_int_equal(hello(f, 1, "a2", "erp", &code), 0);
	assert_int_equal(batch(f, 0, &b), 0);
	b.n = 30;
	b.step_ms = 40000;	/* several spans: several blocks per kind */
	assert_int_equal(batch(f, 1, &b), 0);
	b.first = 31;
	b.n = 7;
	b.t0 = f->t0 + 30 * 40000;
	assert_int_equal(batch(f, 1, &b), 0);
	assert_int_equal(ingest_commit(f->c.ingest), 0);
	assert_int_equal(f->conns[0].last_ack, 53);
	assert_int_equal(f->conns[1].last_ack, 37);
	CHECK(f->conns[0].agent->app != f->conns[1].agent->app);
	ma.app[0] = f->conns[0].agent->app;
	ma.app[1] = f->conns[1].agent->app;
	ma.agent[0] = f->conns[0].agent->num;
	ma.agent[1] = f->conns[1].agent->num;
	ma.n[0] = 53;
	ma.n[1] = 37;
	fx_with_store_closed(f, scan_mixed, &ma);
	fx_close(f);
}

/* ---- Full map ---- */

struct full_row {
	const char	*what;
	size_t		 per_batch;	/* events per batch */
	size_t		 pad;		/* log bytes per event */
	size_t		 batches_per_commit;
	int		 in_commit;	/* 1: the failure must come from ingest_commit */
};

static const struct full_row full_rows[] = {
	/* Batches only buffer events; blocks are written at commit, so that is where the map
	 * runs out, whatever the batch pattern. */
	{ "MAP_FULL at the commit of big batches", 40, 1000, 1, 1 },
	{ "MAP_FULL at the commit of many batches", 10, 600, 5, 1 },
	{ "MAP_FULL at the commit of one-event batches", 1, 400, 1, 1 },
};

/*
 * Fills the 1 MiB map through ingest until a write fails. Returns 1 when the failure came
 * from ingest_batch, 2 from ingest_commit. *acked is the last seq acked before.
 */
static int
fill(struct fx *f, int conn, uint64_t *next, size_t per_batch, size_t pad, size_t per_commit,
    int *code)
{
	struct test_batch b = { .n = per_batch, .kind = EV_LOG, .pad = pad, .step_ms = 1 };
	size_t i;

	for (i = 0; i < 2000; i++) {
		b.first = *next;
		if ((*code = batch(f, conn, &b)) != 0)
			return 1;
		*next += per_batch;
		if ((i + 1) % per_commit == 0 && ingest_commit(f->c.ingest) == -1)
			return 2;
	}
	fail_msg("a 1 MiB map took 2000 batches");
	return 0;
}

static void
test_full(void **state)
{
	static const size_t pads[] = { 0, 800, 200, 1500, 300, 600 };
	const struct full_row *row = ROW(struct full_row, state);
	struct fx *f = NULL;
	struct agent_events *ae;
	struct test_batch b = { .n = 1, .kind = EV_LOG, .pad = 10 };
	uint64_t next, acked, lo = 1;
	uint32_t num;
	int code, where = 0, acks;
	size_t attempt;

	for (attempt = 0; attempt < sizeof(pads) / sizeof(pads[0]); attempt++) {
		fx_close(f);
		f = fx_open(MAP_SMALL, 0);
		next = 1;
		assert_int_equal(hello(f, 0, "a1", "mes", &code), 0);
		/* a2 is bound and idle: it has nothing in the failed transaction. */
		assert_int_equal(hello(f, 1, "a2", "mes", &code), 0);
		assert_int_equal(batch_n(f, 1, 1, 2), 0);
		assert_int_equal(ingest_commit(f->c.ingest), 0);
		num = f->conns[0].agent->num;
		where = fill(f, 0, &next, row->per_batch, pads[attempt] ? pads[attempt] : row->pad,
		    row->batches_per_commit, &code);
		if (where == (row->in_commit ? 2 : 1))
			break;
	}
	assert_int_equal(where, row->in_commit ? 2 : 1);
	if (where == 1)
		assert_int_equal(code, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	acked = f->conns[0].last_ack;
	acks = f->conns[0].acks;
	CHECK(acked > 0);
	/* Nothing acknowledged: the failed batch's events were never acked. */
	CHECK(acked < next);
	assert_int_equal(f->conns[0].fails, 1);
	assert_int_equal(f->conns[0].fail_code, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_null(f->conns[0].agent);
	CHECK(f->conns[0].detaches > 0);
	assert_int_equal(stats.commit_failures, 1);
	assert_int_equal(store_dirty(f->c.store), 0);
	assert_int_equal(f->c.ingest->full, 1);
	assert_null(find_agent(f, "a1"));
	/*
	 * The idle agent's connection is failed and detached too: every agent is forgotten,
	 * since ids interned in the lost transaction (agent or app) are gone.
	 */
	assert_int_equal(f->conns[1].fails, 1);
	assert_int_equal(f->conns[1].fail_code, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_null(f->conns[1].agent);
	assert_int_equal(f->conns[1].acks, 1);

	/* Reconnect: the Welcome carries what is durable; the next batch is refused at once. */
	assert_int_equal(hello(f, 2, "a1", "mes", &code), 0);
	assert_int_equal(f->conns[2].agent->rec.stored_seq, acked);
	b.first = acked + 1;
	stats.store_full_refusals = 0;
	assert_int_equal(batch(f, 2, &b), TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_int_equal(stats.store_full_refusals, 1);
	assert_int_equal(f->conns[2].fails, 0);		/* conn.c sends the Error frame */
	assert_int_equal(f->conns[0].acks, acks);
	assert_int_equal(stats.commit_failures, 1);	/* nothing was tried */

	/* Committed data is intact. */
	assert_int_equal(ingest_commit(f->c.ingest), 0);	/* Hello's lookups only */
	ae = agent_events(f, num);
	check_seqs(ae, &lo, &acked, 1);
	free(ae);

	/* After the retry interval the write is tried again, and fails again. */
	f->c.ingest->full_retry_ms = 0;
	assert_int_equal(hello(f, 3, "a1", "mes", &code), 0);
	b.first = acked + 1;
	b.n = 400;
	b.pad = 1000;
	code = batch(f, 3, &b);
	if (code == 0)		/* buffered: the write happens, and fails, at commit */
		assert_int_equal(ingest_commit(f->c.ingest), -1);
	else
		assert_int_equal(code, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_int_equal(f->conns[3].fail_code, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_int_equal(stats.commit_failures, 2);
	CHECK(f->c.ingest->full_retry_ms > 0);

	/* Pruning frees space: writes work again and are acked. */
	assert_true(store_prune(f->c.store, (uint64_t)test_now_ms() + 2 * STORE_BLOCK_SPAN_MS,
	    100000) > 0);
	assert_int_equal(ingest_commit(f->c.ingest), 0);
	/* A commit without events proves nothing: the store stays marked full ... */
	assert_int_equal(f->c.ingest->full, 1);
	f->c.ingest->full_retry_ms = 0;
	assert_int_equal(hello(f, 4, "a1", "mes", &code), 0);
	assert_int_equal(f->conns[4].agent->rec.stored_seq, acked);
	b.first = acked + 1;
	b.n = 5;
	b.pad = 10;
	assert_int_equal(batch(f, 4, &b), 0);
	assert_int_equal(ingest_commit(f->c.ingest), 0);
	assert_int_equal(f->conns[4].last_ack, acked + 5);
	/* ... until one that held events succeeds. */
	assert_int_equal(f->c.ingest->full, 0);
	fx_close(f);
}

struct plain_row {
	const char		*what;
	CMUnitTestFunction	 fn;
};

static const struct plain_row plain_rows[] = {
	{ "mixed kinds and apps: per app|kind ranges in time order, each seq once",
	    test_mixed_kinds },
};

int
main(void)
{
	static struct cases cs;
	size_t i;

	for (i = 0; i < sizeof(plain_rows) / sizeof(plain_rows[0]); i++) {
		char name[256];

		snprintf(name, sizeof(name), "ingest: %s", plain_rows[i].what);
		cases_add(&cs, name, plain_rows[i].fn, &plain_rows[i]);
	}
	CASES_TABLE(&cs, "dedup", test_dedup, dedup_rows);
	CASES_TABLE(&cs, "blocks", test_blocks, block_rows);
	CASES_TABLE(&cs, "full", test_full, full_rows);
	return cases_run(&cs, "ingest");
}
