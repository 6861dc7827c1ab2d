/* Tandem — MIT licence. derive: rollups, queues, transactions, flush pacing, abort and crash recovery. */
#include "collector/derive.c"

#include <dirent.h>
#include <sys/stat.h>

#include "common/wire.h"
#include "tests/unit/collector/tmpstore.h"
#include "tests/unit/common/cases.h"

/* Stubs for the collector modules derive.c calls but these tests do not drive. */
int
ingest_commit(struct ingest *ing)
{
	return 0;
}

const char *
collector_role_name(enum collector_role r)
{
	return "test";
}

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

#define T0	1700000000000LL		/* a minute boundary: 1700000000000 % 60000 == 20000 */
#define MIN0	(T0 - T0 % 60000)

/* One collector with a store in a temporary directory and derive attached. */
struct fx {
	char			 dir[256];
	struct collector	 c;
	struct collector_conf	 conf;
	struct derive		*d;
	struct agent_state	 a;
	int64_t			 last_ms;
};

static void
fx_attach(struct fx *f)
{
	char err[256];

	memset(&f->c.hooks, 0, sizeof(f->c.hooks));
	derive_clock = fake_clock;
	if (derive_attach(&f->c, f->dir, err, sizeof(err)) == -1)
		fail_msg("derive_attach: %s", err);
	f->d = f->c.hooks.arg;
}

/* The highest sequence number durably stored for the agent: where it resumes. */
static uint64_t
durable_seq(struct fx *f)
{
	struct store_agent_rec r = { 0 };

	store_agent_get(f->c.store, f->a.num, &r);
	store_abort(f->c.store);
	return r.stored_seq;
}

static void
fx_open(struct fx *f)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	fake_now = 1000000;
	if (tmpdir_make(f->dir, sizeof(f->dir)) == -1)
		fail_msg("mkdtemp");
	if ((f->c.store = store_open(f->dir, 256ULL << 20, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	f->c.role = ROLE_SINGLE;
	f->c.conf = &f->conf;
	if (store_intern(f->c.store, STORE_NS_AGENT, "agent-1", &f->a.num) == -1 ||
	    store_intern(f->c.store, STORE_NS_APP, "app-1", &f->a.app) == -1 ||
	    store_commit(f->c.store) == -1)
		fail_msg("intern");
	fx_attach(f);
}

/* Drops derive's memory without writing anything: what kill -9 leaves. */
static void
fx_crash(struct fx *f)
{
	struct derive *d = f->d;

	store_abort(f->c.store);
	derive_reset(d);
	xfree(d->buckets);
	xfree(d->path);
	xfree(d);
	f->d = NULL;
}

static void
fx_close(struct fx *f)
{
	if (f->d != NULL)
		fx_crash(f);
	store_close(f->c.store);
	f->c.store = NULL;
	tmpdir_remove(f->dir);
}

/* Stores ev as agent a's event seq (a one-event block, as ingest would) and derives it. */
static void
feed(struct fx *f, uint64_t seq, Tandem__Event *ev)
{
	struct store_evkey k;
	struct msg_event me;
	uint8_t packed[4096], *p;
	size_t n = tandem__event__pack(ev, packed);

	k.app = f->a.app;
	k.kind = ev->kind_case == TANDEM__EVENT__KIND_QUEUE ? EV_QUEUE :
	    ev->kind_case == TANDEM__EVENT__KIND_TXN ? EV_TXN :
	    ev->kind_case == TANDEM__EVENT__KIND_JOB ? EV_JOB :
	    ev->kind_case == TANDEM__EVENT__KIND_LOG ? EV_LOG : EV_HEARTBEAT;
	k.t0 = (uint64_t)ev->time_ms;
	k.agent = f->a.num;
	k.first_seq = seq;
	if ((p = store_block_reserve(f->c.store, &k, 3 + 2 + 2 + n)) == NULL)
		fail_msg("block");
	p[0] = STORE_BLOCK_VERSION;
	p[1] = 1;
	p[2] = 0;
	p[3] = 0;
	wire_put_varint(p + 4, n);	/* n < 128 here: one byte */
	memcpy(p + 5, packed, n);
	me.raw = packed;
	me.len = n;
	me.ev = ev;
	me.kind = (enum ev_kind)k.kind;
	me.time_ms = ev->time_ms;
	f->c.hooks.event(f->c.hooks.arg, &f->a, seq, &me);
	f->a.accepted_seq = seq;
	if (ev->time_ms > f->last_ms)
		f->last_ms = ev->time_ms;
}

/* What ingest_commit does around the hooks. 0 or -1 (the commit hook failed). */
static int
commit(struct fx *f)
{
	struct store_agent_rec r = { 0 };

	if (!store_dirty(f->c.store))
		store_intern(f->c.store, STORE_NS_APP, "app-1", &f->a.app);
	if (f->c.hooks.commit(f->c.hooks.arg, f->c.store) == -1) {
		store_abort(f->c.store);
		f->c.hooks.aborted(f->c.hooks.arg);
		return -1;
	}
	r.stored_seq = f->a.accepted_seq;
	r.app = f->a.app;
	r.last_ms = (uint64_t)f->last_ms;
	if (store_agent_put(f->c.store, f->a.num, &r) == -1 || store_commit(f->c.store) == -1)
		fail_msg("commit: %s", store_strerror(f->c.store));
	f->c.hooks.committed(f->c.hooks.arg);
	return 0;
}

/* Advances the clock past the flush delay and commits until nothing is waiting. */
static void
settle(struct fx *f)
{
	int i;

	for (i = 0; i < 100 && (f->d->dhead != NULL || f->d->round_active ||
	    agents_pending(f->d)); i++) {
		fake_now += FLUSH_DELAY_MS;
		commit(f);
	}
	CHECK(f->d->dhead == NULL);
}

/* Event builders. */
struct evb {
	Tandem__Event		ev;
	Tandem__QueueSample	q;
	Tandem__TxnStep		t;
	Tandem__JobTiming	j;
	Tandem__LogLine		l;
	Tandem__AppHeartbeat	h;
	Tandem__Attr		attr, *attrp;
};

static Tandem__Event *
job(struct evb *b, int64_t t, const char *name, uint64_t us, int ok)
{
	tandem__event__init(&b->ev);
	tandem__job_timing__init(&b->j);
	b->ev.has_time_ms = 1;
	b->ev.time_ms = t;
	b->ev.kind_case = TANDEM__EVENT__KIND_JOB;
	b->ev.job = &b->j;
	b->j.job = (char *)name;
	b->j.has_duration_us = 1;
	b->j.duration_us = us;
	b->j.has_ok = 1;
	b->j.ok = ok;
	return &b->ev;
}

static Tandem__Event *
queue(struct evb *b, int64_t t, const char *name, uint64_t depth, uint64_t enq, uint64_t compl)
{
	tandem__event__init(&b->ev);
	tandem__queue_sample__init(&b->q);
	b->ev.has_time_ms = 1;
	b->ev.time_ms = t;
	b->ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
	b->ev.queue = &b->q;
	b->q.queue = (char *)name;
	b->q.has_depth = 1;
	b->q.depth = depth;
	if (enq || compl) {
		b->q.has_enqueued_total = b->q.has_completed_total = 1;
		b->q.enqueued_total = enq;
		b->q.completed_total = compl;
	}
	return &b->ev;
}

static Tandem__Event *
txn(struct evb *b, int64_t t, const char *id, const char *step, int state, const char *ak,
    const char *av)
{
	tandem__event__init(&b->ev);
	tandem__txn_step__init(&b->t);
	b->ev.has_time_ms = 1;
	b->ev.time_ms = t;
	b->ev.kind_case = TANDEM__EVENT__KIND_TXN;
	b->ev.txn = &b->t;
	b->t.txn_id = (char *)id;
	b->t.step = (char *)step;
	b->t.has_state = 1;
	b->t.state = (Tandem__TxnState)state;
	if (ak != NULL) {
		tandem__attr__init(&b->attr);
		b->attr.key = (char *)ak;
		b->attr.value = (char *)av;
		b->attrp = &b->attr;
		b->t.attrs = &b->attrp;
		b->t.n_attrs = 1;
	}
	return &b->ev;
}

static Tandem__Event *
logline(struct evb *b, int64_t t, int level)
{
	tandem__event__init(&b->ev);
	tandem__log_line__init(&b->l);
	b->ev.has_time_ms = 1;
	b->ev.time_ms = t;
	b->ev.kind_case = TANDEM__EVENT__KIND_LOG;
	b->ev.log = &b->l;
	b->l.has_level = 1;
	b->l.level = (Tandem__LogLevel)level;
	b->l.message = "m";
	return &b->ev;
}

/* Reads one derived record from the store (a read inside the store's own transaction). */
static int
get_rec(struct fx *f, unsigned int dbi, const uint8_t *key, size_t klen, uint8_t *buf,
    size_t *len)
{
	int rc = store_get(f->c.store, dbi, key, klen, buf, len);

	store_abort(f->c.store);
	return rc;
}

static uint32_t
name_id(struct fx *f, enum store_ns ns, const char *name)
{
	uint32_t id = 0;

	store_intern(f->c.store, ns, name, &id);
	store_abort(f->c.store);
	return id;
}

/* Cases. */

static void
test_job_rollup(void **state)
{
	static uint8_t buf[DERIVED_JOB_MAX];
	struct fx f;
	struct evb b;
	struct derived_job j;
	struct hist *h = hist_new();
	uint8_t key[DERIVED_MINKEY_LEN];
	size_t len = sizeof(buf);
	uint64_t i, seq = 0;

	fx_open(&f);
	for (i = 1; i <= 1000; i++)
		feed(&f, ++seq, job(&b, T0 + (int64_t)i, "pack", i * 1000, i % 10 != 0));
	for (i = 1; i <= 10; i++)
		feed(&f, ++seq, job(&b, T0 + 60000, "pack", 5, 1));	/* next minute */
	commit(&f);
	CHECK(derive_stats.flushed == 0);	/* nothing is written before the delay */
	settle(&f);
	derived_minkey(key, f.a.app, name_id(&f, STORE_NS_JOB, "pack"), MIN0);
	CHECK(get_rec(&f, f.d->dbi[DK_JOB], key, sizeof(key), buf, &len) == 1);
	j.hist = h;
	CHECK(derived_job_decode(buf, len, &j) == 0);
	CHECK(j.count == 1000);
	CHECK(j.errors == 100);
	/* p50 of 1..1000 ms is 500 ms; the histogram promises 1/128 relative error. */
	CHECK(hist_percentile(h, 50) >= 500000 - 500000 / 128 &&
	    hist_percentile(h, 50) <= 500000 + 500000 / 128);
	CHECK(hist_percentile(h, 99) >= 990000 - 990000 / 128 &&
	    hist_percentile(h, 99) <= 990000 + 990000 / 128);
	derived_minkey(key, f.a.app, name_id(&f, STORE_NS_JOB, "pack"), MIN0 + 60000);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi[DK_JOB], key, sizeof(key), buf, &len) == 1);
	CHECK(derived_job_decode(buf, len, &j) == 0 && j.count == 10 && j.errors == 0);
	hist_free(h);
	fx_close(&f);
}

static void
test_flush_pacing(void **state)
{
	struct fx f;
	struct evb b;
	uint64_t seq = 0, before;
	int i;

	fx_open(&f);
	memset(&derive_stats, 0, sizeof(derive_stats));
	feed(&f, ++seq, job(&b, T0, "pack", 10, 1));
	commit(&f);
	CHECK(derive_stats.flushed == 0);
	fake_now += FLUSH_DELAY_MS;
	commit(&f);
	before = derive_stats.flushed;
	CHECK(before == 3);	/* job minute, app minute, app status */
	/* A record hit by every event of the next second is written once, after it. */
	for (i = 0; i < 10; i++) {
		fake_now += 90;
		feed(&f, ++seq, job(&b, T0 + i, "pack", 10, 1));
		commit(&f);
	}
	CHECK(derive_stats.flushed == before);
	fake_now += FLUSH_DELAY_MS;
	commit(&f);
	CHECK(derive_stats.flushed == before + 3);
	fx_close(&f);
}

static void
test_flush_bounded(void **state)
{
	struct fx f;
	struct evb b;
	char id[32];
	uint64_t seq = 0, before;
	int i;

	fx_open(&f);
	memset(&derive_stats, 0, sizeof(derive_stats));
	for (i = 0; i < FLUSH_MAX_KEYS + 5000; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		feed(&f, ++seq, txn(&b, T0, id, "s1", TANDEM__TXN_STATE__TXN_BEGIN, NULL, NULL));
	}
	fake_now += FLUSH_DELAY_MS;
	commit(&f);
	/* One commit writes at most FLUSH_MAX_KEYS records (fewer if the time budget ends). */
	CHECK(derive_stats.flushed > 0 && derive_stats.flushed <= FLUSH_MAX_KEYS);
	CHECK(f.d->dhead != NULL);
	CHECK(f.d->round_active);	/* the watermark waits for the rest */
	before = derive_stats.rounds;
	settle(&f);
	CHECK(derive_stats.rounds > before);
	CHECK(f.d->agents[f.a.num & (AGENT_BUCKETS - 1)]->wm_seq == seq);
	fx_close(&f);
}

static void
test_txn_lifecycle(void **state)
{
	static uint8_t buf[DERIVED_TXN_MAX + DERIVED_STEP_MAX];
	struct fx f;
	struct evb b;
	struct derived_txn x;
	struct derived_step st;
	struct derived_app as;
	struct hist *h = hist_new();
	uint8_t key[DERIVED_TXNKEY_MAX], mk[DERIVED_METAKEY_LEN], sk[DERIVED_MINKEY_LEN];
	size_t klen = derived_txnkey(key, 1, "T1", 2), len;
	uint64_t seq = 0;

	fx_open(&f);
	klen = derived_txnkey(key, f.a.app, "T1", 2);
	feed(&f, ++seq, txn(&b, T0, "T1", "load", 0, "lot", "L1"));
	feed(&f, ++seq, txn(&b, T0 + 100, "T1", "weigh", 1, "station", "S2"));
	feed(&f, ++seq, txn(&b, T0 + 400, "T1", "load", 1, NULL, NULL));	/* repeated */
	settle(&f);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi[DK_TXN], key, klen, buf, &len) == 1);
	CHECK(derived_txn_decode(buf, len, &x) == 0);
	CHECK(x.state == DERIVED_TXN_RUNNING);
	CHECK(x.step == name_id(&f, STORE_NS_STEP, "load"));
	CHECK(x.begin_ms == T0 && x.step_ms == T0 + 400 && x.last_ms == T0 + 400);
	CHECK(x.nsteps == 3 && x.steps_total == 3 && x.nevents == 3);
	{
		const uint8_t *p = x.attrs;
		struct derived_attr a;
		int n = 0;

		while (derived_attrs_next(&p, x.attrs + x.attrs_len, &a) == 1)
			n++;
		CHECK(n == 2);
	}
	derived_metakey(mk, DERIVED_META_APP, f.a.app);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi[DK_APP], mk, sizeof(mk), buf, &len) == 1);
	CHECK(derived_app_decode(buf, len, &as) == 0 && as.live_txns == 1);
	/* End: out of txn_live, into txn_done; the step it ended in gets its time. */
	feed(&f, ++seq, txn(&b, T0 + 1400, "T1", "load", 2, NULL, NULL));
	settle(&f);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi[DK_TXN], key, klen, buf, &len) == 0);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi_done, key, klen, buf, &len) == 1);
	CHECK(derived_txn_decode(buf, len, &x) == 0 && x.state == DERIVED_TXN_DONE);
	len = sizeof(buf);
	CHECK(get_rec(&f, f.d->dbi[DK_APP], mk, sizeof(mk), buf, &len) == 1);
	CHECK(derived_app_decode(buf, len, &as) == 0 && as.live_txns == 0 && as.done_txns == 1);
	/* Step "load": entered twice (once a repeat), left after 100 ms and after 1000 ms. */
	derived_minkey(sk, f.a.app, name_id(&f, STORE_NS_STEP, "load"), MIN0);
	len = sizeof(buf);
	st.hist = h;
	CHECK(get_rec(&f, f.d->dbi[DK_STEP], sk, sizeof(sk), buf, &len) == 1);
	CHECK(derived_step_decode(buf, len, &st) == 0);
	CHECK(st.entries == 2 && st.repeats == 1 && st.first_entries == 1);
	CHECK(h->count == 2 && h->min == 100000 && h->max == 1000000);
	hist_free(h);
	fx_close(&f);
}

static void
test_queue_minute(void **state)
{
	static uint8_t buf[DERIVED_QUEUE_MAX];
	struct fx f;
	struct evb b;
	struct derived_queue q;
	uint8_t key[DERIVED_MINKEY_LEN];
	size_t len = sizeof(buf);
	uint64_t seq = 0;

	fx_open(&f);
	feed(&f, ++seq, queue(&b, T0 + 5000, "inbound", 40, 140, 100));
	feed(&f, ++seq, queue(&b, T0 + 1000, "inbound", 10, 100, 90));	/* late sample */
	feed(&f, ++seq, queue(&b, T0 + 9000, "inbound", 25, 150, 125));
	settle(&f);
	derived_minkey(key, f.a.app, name_id(&f, STORE_NS_QUEUE, "inbound"), MIN0);
	CHECK(get_rec(&f, f.d->dbi[DK_QUEUE], key, sizeof(key), buf, &len) == 1);
	CHECK(derived_queue_decode(buf, len, &q) == 0);
	CHECK(q.samples == 3 && q.min == 10 && q.max == 40 && q.last == 25);
	CHECK(q.last_ms == T0 + 9000 && q.has_totals);
	CHECK(q.first_enq == 100 && q.first_compl == 90 && q.last_enq == 150 &&
	    q.last_compl == 125);
	fx_close(&f);
}

/* Every derived record as "key=value" lines, watermarks left out. */
static char *
dump_derived(const char *dir)
{
	static const char *const dbs[] = { DERIVED_DB_META, DERIVED_DB_JOBS, DERIVED_DB_QUEUES,
	    DERIVED_DB_STEPS, DERIVED_DB_APPS, DERIVED_DB_TXN_LIVE, DERIVED_DB_TXN_DONE };
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k, v;
	char *out = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&out, &len);

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 32) != 0 ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0640) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		fail_msg("open %s", dir);
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		if (mdb_dbi_open(txn, dbs[i], 0, &dbi) != 0 || mdb_cursor_open(txn, dbi, &c) != 0)
			fail_msg("db %s", dbs[i]);
		fprintf(f, "[%s]\n", dbs[i]);
		while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
			if (i == 0 && ((uint8_t *)k.mv_data)[0] == DERIVED_META_WM)
				continue;
			for (j = 0; j < k.mv_size; j++)
				fprintf(f, "%02x", ((uint8_t *)k.mv_data)[j]);
			fputc('=', f);
			for (j = 0; j < v.mv_size; j++)
				fprintf(f, "%02x", ((uint8_t *)v.mv_data)[j]);
			fputc('\n', f);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	fclose(f);
	return out;
}

/* A mixed stream of n events, the same for every call. */
static void
workload(struct fx *f, uint64_t from, uint64_t to, int commit_every)
{
	static const char *const steps[] = { "load", "weigh", "mix", "pack" };
	struct evb b;
	char id[32];
	uint64_t s;
	int64_t t;

	for (s = from; s <= to; s++) {
		t = T0 + (int64_t)s * 37;
		snprintf(id, sizeof(id), "T%llu", (unsigned long long)(s / 7));
		switch (s % 5) {
		case 0:
			feed(f, s, job(&b, t, s % 2 ? "pack" : "print", s * 13 % 100000, s % 11));
			break;
		case 1:
			feed(f, s, queue(&b, t, s % 3 ? "inbound" : "wip", s % 97, s, s / 2));
			break;
		case 2:
		case 3:
			feed(f, s, txn(&b, t, id, steps[s % 4], s % 7 == 6 ? 2 : s % 7 == 0 ? 0 : 1,
			    "k", id));
			break;
		default:
			feed(f, s, logline(&b, t, (int)(s % 5)));
			break;
		}
		if (commit_every > 0 && s % (uint64_t)commit_every == 0) {
			fake_now += 130;
			commit(f);
		}
	}
}

struct crash_row {
	const char	*what;
	uint64_t	 n;		/* events before the crash */
	uint64_t	 crash_at;	/* events fed before the crash (not all durable) */
	int		 commit_every;
	int		 abort_instead;	/* an aborted transaction instead of kill -9 */
};

static const struct crash_row crash_rows[] = {
	{ "crash right after start", 3000, 50, 100, 0 },
	{ "crash mid-stream, many rounds done", 3000, 2500, 100, 0 },
	{ "crash with nothing flushed", 3000, 3000, 0, 0 },
	{ "aborted transaction, re-derived", 3000, 1700, 100, 1 },
	{ "crash after everything settled", 3000, 3000, -1, 0 },
};

/*
 * The same events with a crash (or an abort) in the middle give byte-identical derived
 * records to a run without one: nothing lost, nothing counted twice.
 */
static void
test_crash_recovery(void **state)
{
	const struct crash_row *r = ROW(struct crash_row, state);
	struct fx ref, f;
	uint64_t resume = r->crash_at;
	char *a, *b;

	fx_open(&ref);
	workload(&ref, 1, r->n, 100);
	settle(&ref);
	fx_crash(&ref);
	store_close(ref.c.store);
	ref.c.store = NULL;
	a = dump_derived(ref.dir);

	fx_open(&f);
	workload(&f, 1, r->crash_at, r->commit_every > 0 ? r->commit_every : 0);
	if (r->commit_every <= 0)
		commit(&f);	/* events durable, derived records due later */
	if (r->commit_every < 0)
		settle(&f);
	if (r->abort_instead) {
		/* More events in a transaction that fails: they are resent afterwards. */
		workload(&f, r->crash_at + 1, r->crash_at + 50, 0);
		store_abort(f.c.store);
		f.c.hooks.aborted(f.c.hooks.arg);
		f.a.accepted_seq = r->crash_at;
		CHECK(f.d->need_recover);
	} else {
		fx_crash(&f);
		resume = durable_seq(&f);
		f.a.accepted_seq = resume;
		fx_attach(&f);
		CHECK(derive_stats.recovery_skipped == 0);
	}
	/* The agent resends everything after what was durable. */
	workload(&f, resume + 1, r->n, 100);
	settle(&f);
	fx_crash(&f);
	store_close(f.c.store);
	f.c.store = NULL;
	b = dump_derived(f.dir);
	if (strcmp(a, b) != 0) {
		FILE *x = fopen("/tmp/derive_ref.txt", "w"), *y = fopen("/tmp/derive_got.txt", "w");

		if (x != NULL && y != NULL) {
			fputs(a, x);
			fputs(b, y);
		}
		if (x != NULL)
			fclose(x);
		if (y != NULL)
			fclose(y);
	}
	CHECK(strcmp(a, b) == 0);
	free(a);
	free(b);
	fx_close(&ref);
	fx_close(&f);
}

static void
test_standby_writes_nothing(void **state)
{
	struct fx f;
	struct evb b;

	fx_open(&f);
	memset(&derive_stats, 0, sizeof(derive_stats));
	f.c.role = ROLE_STANDBY;
	feed(&f, 1, job(&b, T0, "pack", 10, 1));
	fake_now += 5 * FLUSH_DELAY_MS;
	commit(&f);
	CHECK(derive_stats.flushed == 0 && derive_stats.events == 0);
	/* Becoming active re-derives from the store (the event is there) and writes it. */
	f.c.role = ROLE_ACTIVE;
	feed(&f, 2, job(&b, T0 + 1, "pack", 10, 1));
	settle(&f);
	CHECK(derive_stats.recovered_events == 1 && derive_stats.flushed > 0);
	fx_close(&f);
}

static void
test_codec_rejects(void **state)
{
	struct derived_queue q = { .samples = 3, .last = 2, .min = 1, .max = 9 };
	struct derived_txn x;
	uint8_t buf[DERIVED_QUEUE_MAX];
	size_t n = derived_queue_encode(&q, buf, sizeof(buf)), i;

	CHECK(n > 0);
	for (i = 0; i < n; i++)
		CHECK(derived_queue_decode(buf, i, &q) == -1);	/* every truncation */
	buf[0] = 9;
	CHECK(derived_queue_decode(buf, n, &q) == -1);	/* foreign version */
	CHECK(derived_queue_encode(&q, buf, 3) == 0);	/* no room */
	memset(buf, 0xff, sizeof(buf));
	CHECK(derived_txn_decode(buf, sizeof(buf), &x) == -1);
}

int
main(void)
{
	static struct cases cs;

	log_init(1, 0);
	cases_add(&cs, "job rollup: counts, errors, percentiles within 1/128", test_job_rollup,
	    NULL);
	cases_add(&cs, "flush pacing: after the delay, at most once a second", test_flush_pacing,
	    NULL);
	cases_add(&cs, "flush bounded per commit; watermark after the round",
	    test_flush_bounded, NULL);
	cases_add(&cs, "transaction: live, steps, repeats, attributes, done, durations",
	    test_txn_lifecycle, NULL);
	cases_add(&cs, "queue minute: min/max/last by time, totals", test_queue_minute, NULL);
	CASES_TABLE(&cs, "recovery", test_crash_recovery, crash_rows);
	cases_add(&cs, "standby derives and writes nothing; promotion re-derives",
	    test_standby_writes_nothing, NULL);
	cases_add(&cs, "codec: truncations, versions, room", test_codec_rejects, NULL);
	return cases_run(&cs, "derive");
}
