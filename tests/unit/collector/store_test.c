/* Tandem — MIT licence. Unit tests for collector/store.c: interning, agent records, blocks, full map, pruning. */
#include <errno.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "collector/store.h"
#include "common/store_read.h"
#include "common/wire.h"
#include "tests/unit/collector/tmpstore.h"
#include "tests/unit/common/cases.h"

#define MAP_DEFAULT	(16ULL << 20)
#define T_BASE		1700000000000ULL	/* a plausible event time, ms */

/* Every case gets its own directory and an open store; teardown closes and removes both. */
struct fx {
	char		 dir[4096];
	struct store	*s;
	char		 err[256];
};

static struct fx *
fx_open(uint64_t map_size)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if (tmpdir_make(f->dir, sizeof(f->dir)) == -1)
		fail_msg("mkdtemp: %s", strerror(errno));
	f->s = store_open(f->dir, map_size, f->err, sizeof(f->err));
	if (f->s == NULL)
		fail_msg("store_open: %s", f->err);
	return f;
}

static void
fx_close(struct fx *f)
{
	if (f == NULL)
		return;
	store_close(f->s);
	tmpdir_remove(f->dir);
	free(f);
}

/* Closes and reopens the writer (a restart); the map size stays. */
static void
fx_reopen(struct fx *f, uint64_t map_size)
{
	store_close(f->s);
	f->s = store_open(f->dir, map_size, f->err, sizeof(f->err));
	if (f->s == NULL)
		fail_msg("store_open again: %s", f->err);
}

/* Writes one block of n events of evlen bytes each (byte value = seq & 0xff). 0 or -1. */
static int
put_block(struct store *s, const struct store_evkey *k, size_t n, size_t evlen, uint64_t span)
{
	uint8_t *p, *start;
	size_t len, i;

	len = 1 + wire_varint_size(n) + wire_varint_size(span);
	for (i = 0; i < n; i++)
		len += wire_varint_size(i) + wire_varint_size(evlen) + evlen;
	if ((p = start = store_block_reserve(s, k, len)) == NULL)
		return -1;
	*p++ = STORE_BLOCK_VERSION;
	p += wire_put_varint(p, n);
	p += wire_put_varint(p, span);
	for (i = 0; i < n; i++) {
		p += wire_put_varint(p, i);
		p += wire_put_varint(p, evlen);
		memset(p, (int)((k->first_seq + i) & 0xff), evlen);
		p += evlen;
	}
	assert_int_equal((size_t)(p - start), len);
	return 0;
}

static struct store_evkey
evkey(uint32_t app, uint8_t kind, uint64_t t0, uint32_t agent, uint64_t first_seq)
{
	struct store_evkey k = { app, kind, t0, agent, first_seq };

	return k;
}

/* ---- Reading back through common/store_read (the writer is closed meanwhile). ---- */

#define SEEN_MAX	256

struct seen {
	size_t			n;
	struct store_event	ev[SEEN_MAX];
	uint8_t			first_byte[SEEN_MAX];
};

static int
seen_cb(const struct store_event *e, void *arg)
{
	struct seen *sn = arg;

	if (sn->n == SEEN_MAX)
		return 1;
	sn->ev[sn->n] = *e;
	sn->first_byte[sn->n] = e->len > 0 ? e->data[0] : 0;
	sn->ev[sn->n].data = NULL;	/* borrowed: gone after the callback */
	sn->n++;
	return 0;
}

/* Events of app/kind (0: all) through a reader, with the writer closed; reopens it after. */
static void
read_events(struct fx *f, uint32_t app, uint8_t kind, struct seen *sn)
{
	struct store_reader *r;
	char err[256];

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(store_dirty(f->s), 0);
	store_close(f->s);
	f->s = NULL;
	if ((r = store_reader_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("store_reader_open: %s", err);
	assert_int_equal(store_reader_events(r, app, kind, 0, UINT64_MAX, seen_cb, sn), 0);
	store_reader_close(r);
	fx_reopen(f, MAP_DEFAULT);
}

struct counted {
	size_t	n;
	size_t	bad;		/* events whose bytes do not match their seq */
};

static int
count_cb(const struct store_event *e, void *arg)
{
	struct counted *cn = arg;
	size_t i;

	cn->n++;
	for (i = 0; i < e->len; i++)
		if (e->data[i] != (e->seq & 0xff)) {
			cn->bad++;
			break;
		}
	return 0;
}

/* Every stored event through a reader; counts events with wrong content in *bad. */
static size_t
count_events(struct fx *f, uint64_t map_size, size_t *bad)
{
	struct store_reader *r;
	struct counted cn = { 0, 0 };
	char err[256];

	store_close(f->s);
	f->s = NULL;
	if ((r = store_reader_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("store_reader_open: %s", err);
	assert_int_equal(store_reader_events(r, 0, 0, 0, UINT64_MAX, count_cb, &cn), 0);
	store_reader_close(r);
	fx_reopen(f, map_size);
	*bad = cn.bad;
	return cn.n;
}

static long
count_blocks(struct fx *f, uint64_t map_size)
{
	long n;

	store_close(f->s);
	f->s = NULL;
	n = raw_scan(f->dir, NULL, NULL);
	fx_reopen(f, map_size);
	return n;
}

/* ---- open ---- */

static void
test_open_creates(void **state)
{
	char dir[4096], sub[4200], file[4300], err[256];
	struct store *s;
	struct store_usage u;
	struct stat st;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir)), 0);
	snprintf(sub, sizeof(sub), "%s/db", dir);
	s = store_open(sub, MAP_DEFAULT, err, sizeof(err));
	if (s == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(stat(sub, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	snprintf(file, sizeof(file), "%s/data.mdb", sub);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(store_dirty(s), 0);
	assert_int_equal(store_error(s), 0);
	assert_string_equal(store_strerror(s), "no error");
	assert_int_equal(store_full(s), 0);
	assert_int_equal(store_usage(s, &u), 0);
	assert_int_equal(u.event_entries, 0);
	assert_int_equal(store_commit(s), 0);	/* nothing open: a no-op */
	store_close(s);
	store_close(NULL);

	/* Reopening an existing store works; a readers' view of it has the five databases. */
	s = store_open(sub, MAP_DEFAULT, err, sizeof(err));
	if (s == NULL)
		fail_msg("store_open again: %s", err);
	store_close(s);
	{
		struct store_reader *r = store_reader_open(sub, err, sizeof(err));

		if (r == NULL)
			fail_msg("store_reader_open: %s", err);
		store_reader_close(r);
	}
	snprintf(file, sizeof(file), "%s/data.mdb", sub);
	unlink(file);
	snprintf(file, sizeof(file), "%s/lock.mdb", sub);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

static void
test_open_fails(void **state)
{
	char dir[4096], path[4300], err[256];
	struct store *s;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir)), 0);

	/* A parent that does not exist: mkdir fails, the reason names the path. */
	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	err[0] = '\0';
	s = store_open(path, MAP_DEFAULT, err, sizeof(err));
	assert_null(s);
	CHECK(strstr(err, "mkdir") != NULL && strstr(err, path) != NULL);

	/* A store of another schema version is refused. */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, STORE_DB_META, MDB_CREATE, &dbi), 0);
	k.mv_data = "schema";
	k.mv_size = 6;
	v.mv_data = "99";
	v.mv_size = 2;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	err[0] = '\0';
	s = store_open(dir, MAP_DEFAULT, err, sizeof(err));
	assert_null(s);
	CHECK(strstr(err, "schema version 99") != NULL);
	tmpdir_remove(dir);
}

/* ---- interning ---- */

struct intern_step {
	enum store_ns	 ns;
	const char	*name;
	uint32_t	 id;	/* expected */
};

static void
intern_all(struct store *s, const struct intern_step *st, size_t n)
{
	uint32_t id;
	size_t i;

	for (i = 0; i < n; i++) {
		id = 0;
		if (store_intern(s, st[i].ns, st[i].name, &id) != 0)
			fail_msg("intern ns %d %s: %s", st[i].ns, st[i].name, store_strerror(s));
		if (id != st[i].id)
			fail_msg("intern ns %d %s: id %u, want %u", st[i].ns, st[i].name, id,
			    st[i].id);
	}
}

static void
test_intern(void **state)
{
	/* Namespaces count separately from 1; the same name in two namespaces is two entries. */
	static const struct intern_step first[] = {
		{ STORE_NS_APP, "mes", 1 },
		{ STORE_NS_AGENT, "mes", 1 },
		{ STORE_NS_APP, "erp", 2 },
		{ STORE_NS_QUEUE, "orders", 1 },
		{ STORE_NS_APP, "mes", 1 },
		{ STORE_NS_AGENT, "agent-7", 2 },
		{ STORE_NS_STEP, "s", 1 },
		{ STORE_NS_APP, "wms", 3 },
	};
	/* After commit and reopen: old names keep ids, new ones continue per namespace. */
	static const struct intern_step second[] = {
		{ STORE_NS_APP, "wms", 3 },
		{ STORE_NS_AGENT, "mes", 1 },
		{ STORE_NS_APP, "new-app", 4 },		/* a middle namespace with a later one stored */
		{ STORE_NS_AGENT, "agent-8", 3 },
		{ STORE_NS_JOB, "j", 1 },
		{ STORE_NS_QUEUE, "orders", 1 },
		{ STORE_NS_QUEUE, "returns", 2 },
		{ STORE_NS_STEP, "t", 2 },
	};
	struct fx *f = fx_open(MAP_DEFAULT);
	struct store_reader *r;
	char name[64], err[256];
	uint32_t id;

	(void)state;
	intern_all(f->s, first, sizeof(first) / sizeof(first[0]));
	assert_int_equal(store_dirty(f->s), 1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_dirty(f->s), 0);
	/* In a new transaction of the same writer. */
	intern_all(f->s, first, sizeof(first) / sizeof(first[0]));
	assert_int_equal(store_commit(f->s), 0);
	fx_reopen(f, MAP_DEFAULT);
	intern_all(f->s, second, sizeof(second) / sizeof(second[0]));
	assert_int_equal(store_commit(f->s), 0);

	/* Readers see both directions. */
	store_close(f->s);
	f->s = NULL;
	if ((r = store_reader_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("reader: %s", err);
	assert_int_equal(store_reader_name(r, STORE_NS_APP, 4, name, sizeof(name)), 1);
	assert_string_equal(name, "new-app");
	assert_int_equal(store_reader_name(r, STORE_NS_AGENT, 2, name, sizeof(name)), 1);
	assert_string_equal(name, "agent-7");
	assert_int_equal(store_reader_name(r, STORE_NS_APP, 5, name, sizeof(name)), 0);
	assert_int_equal(store_reader_id(r, STORE_NS_QUEUE, "returns", &id), 1);
	assert_int_equal(id, 2);
	assert_int_equal(store_reader_id(r, STORE_NS_JOB, "orders", &id), 0);
	store_reader_close(r);
	fx_reopen(f, MAP_DEFAULT);
	fx_close(f);
}

struct bad_name_row {
	const char	*what;
	int		 ns;
	size_t		 len;
};

static const struct bad_name_row bad_name_rows[] = {
	{ "empty name", STORE_NS_APP, 0 },
	{ "name of 257 bytes", STORE_NS_APP, 257 },
	{ "namespace 8", 8, 3 },
	{ "namespace -1", -1, 3 },
};

static void
test_intern_bad(void **state)
{
	const struct bad_name_row *row = ROW(struct bad_name_row, state);
	struct fx *f = fx_open(MAP_DEFAULT);
	char name[300];
	uint32_t id = 77;

	memset(name, 'n', sizeof(name));
	name[row->len] = '\0';
	assert_int_equal(store_intern(f->s, (enum store_ns)row->ns, name, &id), -1);
	assert_int_equal(store_error(f->s), EINVAL);
	assert_int_equal(id, 77);
	/* 256 bytes is the longest name allowed. */
	memset(name, 'n', sizeof(name));
	name[256] = '\0';
	assert_int_equal(store_intern(f->s, STORE_NS_APP, name, &id), 0);
	assert_int_equal(id, 1);
	fx_close(f);
}

static void
test_intern_abort(void **state)
{
	static const struct intern_step before[] = {
		{ STORE_NS_APP, "kept", 1 },
	};
	static const struct intern_step dropped[] = {
		{ STORE_NS_APP, "x", 2 },
		{ STORE_NS_APP, "y", 3 },
		{ STORE_NS_AGENT, "a", 1 },
	};
	/* The aborted ids are handed out again, and the aborted names are unknown. */
	static const struct intern_step after[] = {
		{ STORE_NS_APP, "z", 2 },
		{ STORE_NS_AGENT, "b", 1 },
		{ STORE_NS_APP, "y", 3 },
		{ STORE_NS_APP, "kept", 1 },
	};
	struct fx *f = fx_open(MAP_DEFAULT);

	(void)state;
	intern_all(f->s, before, 1);
	assert_int_equal(store_commit(f->s), 0);
	intern_all(f->s, dropped, 3);
	store_abort(f->s);
	assert_int_equal(store_dirty(f->s), 0);
	store_abort(f->s);	/* idempotent */
	intern_all(f->s, after, 4);
	assert_int_equal(store_commit(f->s), 0);
	fx_reopen(f, MAP_DEFAULT);
	intern_all(f->s, after, 4);
	store_abort(f->s);
	fx_close(f);
}

/* ---- agent records ---- */

static int
agents_cb(uint32_t agent, const struct store_agent_rec *r, void *arg)
{
	struct store_agent_rec *out = arg;

	if (agent == 42)
		*out = *r;
	return 0;
}

static void
test_agent_rec(void **state)
{
	struct store_agent_rec in = {
		.stored_seq = 0x0102030405060708ULL, .app = 9, .pad = 0xdead,
		.events = 1ULL << 40, .duplicates = 12345, .first_ms = T_BASE,
		.last_ms = T_BASE + 99,
	}, out, want;
	struct fx *f = fx_open(MAP_DEFAULT);
	struct store_reader *r;
	char err[256];

	(void)state;
	want = in;
	want.pad = 0;		/* not stored */
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(store_agent_get(f->s, 42, &out), 0);
	assert_int_equal(store_agent_put(f->s, 42, &in), 0);
	assert_int_equal(store_agent_get(f->s, 42, &out), 1);	/* inside the transaction */
	assert_memory_equal(&out, &want, sizeof(want));
	assert_int_equal(store_agent_get(f->s, 43, &out), 0);
	assert_int_equal(store_commit(f->s), 0);
	fx_reopen(f, MAP_DEFAULT);
	memset(&out, 0, sizeof(out));
	assert_int_equal(store_agent_get(f->s, 42, &out), 1);
	assert_memory_equal(&out, &want, sizeof(want));
	/* Overwriting replaces the record. */
	in.stored_seq = 7;
	want.stored_seq = 7;
	assert_int_equal(store_agent_put(f->s, 42, &in), 0);
	assert_int_equal(store_commit(f->s), 0);
	store_close(f->s);
	f->s = NULL;
	if ((r = store_reader_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("reader: %s", err);
	memset(&out, 0, sizeof(out));
	assert_int_equal(store_reader_agents(r, agents_cb, &out), 0);
	store_reader_close(r);
	assert_memory_equal(&out, &want, sizeof(want));
	fx_reopen(f, MAP_DEFAULT);
	fx_close(f);
}

/* ---- blocks ---- */

static void
test_blocks_key_order(void **state)
{
	/* Written out of order; read back in key order: app, kind, t0, agent, first_seq. */
	static const struct {
		struct store_evkey	k;
		size_t			n;
	} w[] = {
		/* One block per (app, kind, agent): the fold has nothing to merge. */
		{ { 2, 1, T_BASE, 1, 100 }, 2 },
		{ { 1, 3, T_BASE, 1, 50 }, 1 },
		{ { 1, 1, T_BASE + 5, 1, 10 }, 3 },
		{ { 1, 1, T_BASE, 2, 7 }, 1 },
		{ { 1, 1, T_BASE, 3, 20 }, 2 },
		{ { 1, 1, T_BASE, 4, 1 }, 2 },
	};
	/* Expected (app, kind, agent, seq) in reading order: app, kind, t0, agent, seq. */
	static const uint64_t want[][4] = {
		{ 1, 1, 2, 7 },
		{ 1, 1, 3, 20 }, { 1, 1, 3, 21 },
		{ 1, 1, 4, 1 }, { 1, 1, 4, 2 },
		{ 1, 1, 1, 10 }, { 1, 1, 1, 11 }, { 1, 1, 1, 12 },
		{ 1, 3, 1, 50 },
		{ 2, 1, 1, 100 }, { 2, 1, 1, 101 },
	};
	struct fx *f = fx_open(MAP_DEFAULT);
	struct seen *sn = calloc(1, sizeof(*sn));
	size_t i;

	(void)state;
	assert_non_null(sn);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		assert_int_equal(put_block(f->s, &w[i].k, w[i].n, 5 + i, 3), 0);
	assert_int_equal(store_commit(f->s), 0);
	/* Committed blocks wait in the commit log; the fold puts them in key order. */
	assert_int_equal(store_fold(f->s, 1000), (long)(sizeof(w) / sizeof(w[0])));
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_fold(f->s, 1000), 0);
	store_abort(f->s);
	read_events(f, 0, 0, sn);
	assert_int_equal(sn->n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sn->n; i++) {
		if (sn->ev[i].app != want[i][0] || sn->ev[i].kind != want[i][1] ||
		    sn->ev[i].agent != want[i][2] || sn->ev[i].seq != want[i][3])
			fail_msg("event %zu: app %u kind %u agent %u seq %llu", i, sn->ev[i].app,
			    sn->ev[i].kind, sn->ev[i].agent, (unsigned long long)sn->ev[i].seq);
		assert_int_equal(sn->first_byte[i], sn->ev[i].seq & 0xff);
	}
	/* One app and kind only. */
	read_events(f, 1, 1, sn);
	assert_int_equal(sn->n, 8);
	read_events(f, 2, 0, sn);
	assert_int_equal(sn->n, 2);
	assert_int_equal(sn->ev[0].seq, 100);
	free(sn);
	fx_close(f);
}

static void
test_blocks_uncommitted(void **state)
{
	struct store_evkey k = evkey(1, 1, T_BASE, 1, 1);
	struct fx *f = fx_open(MAP_DEFAULT);
	struct seen *sn = calloc(1, sizeof(*sn));

	(void)state;
	assert_non_null(sn);
	assert_int_equal(put_block(f->s, &k, 4, 10, 0), 0);
	store_abort(f->s);
	read_events(f, 0, 0, sn);
	assert_int_equal(sn->n, 0);
	/* The same key is free again after the abort. */
	assert_int_equal(put_block(f->s, &k, 4, 10, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	read_events(f, 0, 0, sn);
	assert_int_equal(sn->n, 4);
	free(sn);
	fx_close(f);
}

struct dup_row {
	const char	*what;
	int		 same_txn;	/* the first write is still in the open transaction */
};

static const struct dup_row dup_rows[] = {
	{ "key committed earlier", 0 },
	{ "key written earlier in the same transaction", 1 },
};

static void
test_block_duplicate(void **state)
{
	const struct dup_row *row = ROW(struct dup_row, state);
	struct store_evkey k = evkey(3, 2, T_BASE, 4, 1000), other = evkey(3, 2, T_BASE, 4, 2000);
	struct fx *f = fx_open(MAP_DEFAULT);
	struct seen *sn = calloc(1, sizeof(*sn));

	assert_non_null(sn);
	assert_int_equal(put_block(f->s, &other, 1, 8, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(put_block(f->s, &k, 2, 8, 0), 0);
	if (!row->same_txn)
		assert_int_equal(store_commit(f->s), 0);
	/*
	 * Appending to the commit log cannot see a duplicate key; the fold can. Ingest's
	 * sequence numbers never produce one, so the fold keeps the first block, counts the
	 * second and goes on (a wedged fold would stop every later block).
	 */
	assert_int_equal(put_block(f->s, &k, 1, 8, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_fold(f->s, 1000), 3);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_fold_dups(f->s), 1);
	read_events(f, 0, 0, sn);
	assert_int_equal(sn->n, 3);
	/* The writer goes on: a new key commits. */
	k.first_seq = 3000;
	assert_int_equal(put_block(f->s, &k, 1, 8, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_error(f->s), 0);
	read_events(f, 0, 0, sn);
	assert_int_equal(sn->n, 4);
	free(sn);
	fx_close(f);
}

/* ---- full map ---- */

#define SMALL_MAP	(1ULL << 20)
#define FILL_EVLEN	400
#define FILL_PER_BLOCK	4		/* ~1.6 KiB per block */
#define FILL_PER_COMMIT	20

static void
test_map_full(void **state)
{
	struct fx *f = fx_open(SMALL_MAP);
	struct store_evkey k;
	size_t committed = 0, in_txn = 0, i, events_before, bad;
	long deleted, total_deleted;
	int full = 0;
	uint32_t id;

	(void)state;
	assert_int_equal(store_intern(f->s, STORE_NS_APP, "app", &id), 0);
	assert_int_equal(store_commit(f->s), 0);
	/* 1 MiB holds well under 1000 blocks of 1.6 KiB: the loop ends by filling the map. */
	for (i = 0; i < 1000 && !full; i++) {
		k = evkey(1, 1, T_BASE + i, 1, i * FILL_PER_BLOCK + 1);
		if (put_block(f->s, &k, FILL_PER_BLOCK, FILL_EVLEN, 0) == -1) {
			full = 1;
			break;
		}
		in_txn++;
		if (in_txn == FILL_PER_COMMIT) {
			if (store_commit(f->s) == -1) {
				full = 1;
				break;
			}
			committed += in_txn;
			in_txn = 0;
		}
	}
	assert_int_equal(full, 1);
	CHECK(committed > 0);
	assert_int_equal(store_full(f->s), 1);
	assert_int_equal(store_error(f->s), MDB_MAP_FULL);
	assert_int_equal(store_dirty(f->s), 0);		/* the transaction is gone */
	/* Ids handed out in the lost transaction are forgotten, committed ones kept. */
	assert_int_equal(store_intern(f->s, STORE_NS_APP, "app", &id), 0);
	assert_int_equal(id, 1);
	store_abort(f->s);

	/* Everything committed before still reads. */
	events_before = count_events(f, SMALL_MAP, &bad);
	assert_int_equal(events_before, committed * FILL_PER_BLOCK);
	assert_int_equal(bad, 0);
	assert_int_equal(count_blocks(f, SMALL_MAP), (long)committed);

	/* Pruning everything older than the newest block frees space; writes work again. */
	total_deleted = 0;
	for (i = 0; i < 100; i++) {
		deleted = store_prune(f->s, T_BASE + committed / 2 + STORE_BLOCK_SPAN_MS, 50);
		if (deleted == -1)
			fail_msg("prune: %s", store_strerror(f->s));
		if (store_commit(f->s) == -1)
			fail_msg("prune commit: %s", store_strerror(f->s));
		total_deleted += deleted;
		if (deleted == 0)
			break;
	}
	/* t0 = T_BASE + i for block i: exactly the blocks with i < committed / 2 are older. */
	assert_int_equal(total_deleted, (long)(committed / 2));
	assert_int_equal(count_blocks(f, SMALL_MAP), (long)committed - total_deleted);
	k = evkey(1, 1, T_BASE + 5000, 1, 1000000);
	assert_int_equal(put_block(f->s, &k, FILL_PER_BLOCK, FILL_EVLEN, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_full(f->s), 0);
	assert_int_equal(store_error(f->s), 0);
	assert_int_equal(count_blocks(f, SMALL_MAP), (long)committed - total_deleted + 1);
	fx_close(f);
}

/* ---- pruning ---- */

/* Blocks: ranges app|kind with t0 offsets (ms after T_BASE). */
static const struct store_evkey prune_blocks[] = {
	{ 1, 1, T_BASE + 0, 1, 1 },
	{ 1, 1, T_BASE + 1000, 1, 2 },
	{ 1, 1, T_BASE + 1000, 2, 1 },
	{ 1, 1, T_BASE + 100000, 1, 3 },
	{ 1, 2, T_BASE + 0, 1, 10 },
	{ 1, 2, T_BASE + 500000, 1, 11 },
	{ 1, 255, T_BASE + 0, 1, 20 },
	{ 2, 1, T_BASE + 0, 1, 30 },
	{ 2, 1, T_BASE + 1, 1, 31 },
	{ 2, 4, T_BASE + 200000, 1, 40 },
	{ 3, 5, T_BASE + 2000, 3, 50 },
};
#define NPRUNE	(sizeof(prune_blocks) / sizeof(prune_blocks[0]))

struct prune_row {
	const char	*what;
	uint64_t	 cutoff;	/* absolute ms */
	size_t		 max;		/* per call */
	long		 per_call[8];	/* expected returns, until 0 */
	uint32_t	 kept;		/* bit i: prune_blocks[i] survives */
};

#define SPAN	STORE_BLOCK_SPAN_MS
#define ALL	((1u << NPRUNE) - 1)

static const struct prune_row prune_rows[] = {
	{ "cutoff at most one span: nothing", SPAN, 100, { 0 }, ALL },
	{ "cutoff below every block's end", T_BASE + SPAN - 1000, 100, { 0 }, ALL },
	{ "a block ending exactly at the cutoff stays", T_BASE + SPAN, 100, { 0 }, ALL },
	{ "one ms later the t0=0 blocks go", T_BASE + SPAN + 1, 100, { 4, 0 },
	    ALL & ~(1u << 0 | 1u << 4 | 1u << 6 | 1u << 7) },
	{ "cutoff T+SPAN+1001: also t0 1 and 1000", T_BASE + SPAN + 1001, 100, { 7, 0 },
	    (1u << 3 | 1u << 5 | 1u << 9 | 1u << 10) },
	{ "bounded: 2 per call, resumes", T_BASE + SPAN + 1001, 2, { 2, 2, 2, 1, 0 },
	    (1u << 3 | 1u << 5 | 1u << 9 | 1u << 10) },
	{ "bounded: 1 per call", T_BASE + SPAN + 2001, 1, { 1, 1, 1, 1, 1, 1, 1, 1 },
	    (1u << 3 | 1u << 5 | 1u << 9) },
	{ "everything", T_BASE + 10000000, 100, { 11, 0 }, 0 },
	{ "everything, 3 per call", T_BASE + 10000000, 3, { 3, 3, 3, 2, 0 }, 0 },
};

struct keys_seen {
	uint32_t	kept;
	int		unknown;
};

static int
keys_cb(const struct raw_block *b, uint64_t seq, const uint8_t *ev, size_t len, void *arg)
{
	struct keys_seen *ks = arg;
	size_t i;

	for (i = 0; i < NPRUNE; i++)
		if ((b->key.app == prune_blocks[i].app && b->key.kind == prune_blocks[i].kind &&
		    b->key.t0 == prune_blocks[i].t0 && b->key.agent == prune_blocks[i].agent &&
		    b->key.first_seq == prune_blocks[i].first_seq)) {
			ks->kept |= 1u << i;
			return 0;
		}
	ks->unknown++;
	return 0;
}

static void
test_prune(void **state)
{
	const struct prune_row *row = ROW(struct prune_row, state);
	struct fx *f = fx_open(MAP_DEFAULT);
	struct keys_seen ks = { 0 };
	size_t i;
	long n;

	for (i = 0; i < NPRUNE; i++)
		assert_int_equal(put_block(f->s, &prune_blocks[i], 1, 4, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	for (i = 0; i < 8; i++) {
		n = store_prune(f->s, row->cutoff, row->max);
		if (n != row->per_call[i])
			fail_msg("call %zu: %ld deleted, want %ld", i, n, row->per_call[i]);
		assert_int_equal(store_commit(f->s), 0);
		if (n == 0)
			break;
	}
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_scan(f->dir, keys_cb, &ks), __builtin_popcount(row->kept));
	fx_reopen(f, MAP_DEFAULT);
	assert_int_equal(ks.unknown, 0);
	if (ks.kept != row->kept)
		fail_msg("kept 0x%x, want 0x%x", ks.kept, row->kept);
	fx_close(f);
}

/* Many blocks over several leaf pages: deletions across page boundaries miss nothing. */
static void
test_prune_many(void **state)
{
	struct fx *f = fx_open(MAP_DEFAULT);
	struct store_evkey k;
	long n, total = 0;
	size_t i, calls;
	uint32_t app;
	uint8_t kind;

	(void)state;
	/* 3 apps x 2 kinds x 400 blocks; in each range the first 300 are old. */
	for (app = 1; app <= 3; app++)
		for (kind = 1; kind <= 2; kind++)
			for (i = 0; i < 400; i++) {
				k = evkey(app, kind, T_BASE + (i < 300 ? i : 1000000 + i), 1,
				    i + 1);
				assert_int_equal(put_block(f->s, &k, 1, 60, 0), 0);
			}
	assert_int_equal(store_commit(f->s), 0);
	for (calls = 0; calls < 100; calls++) {
		n = store_prune(f->s, T_BASE + 1000 + SPAN, 97);
		assert_true(n >= 0 && n <= 97);
		assert_int_equal(store_commit(f->s), 0);
		total += n;
		if (n == 0)
			break;
	}
	assert_int_equal(total, 6 * 300);
	assert_int_equal(count_blocks(f, MAP_DEFAULT), 6 * 100);
	fx_close(f);
}

/* ---- usage ---- */

static void
test_usage(void **state)
{
	struct fx *f = fx_open(MAP_DEFAULT);
	struct store_usage u0, u1, u2;
	struct store_evkey k;
	size_t i;

	(void)state;
	assert_int_equal(store_usage(f->s, &u0), 0);
	assert_int_equal(u0.map_size, MAP_DEFAULT);
	CHECK(u0.page_size >= 512 && (u0.page_size & (u0.page_size - 1)) == 0);
	CHECK(u0.used_bytes > 0 && u0.used_bytes <= u0.map_size);
	assert_int_equal(u0.used_bytes % u0.page_size, 0);
	assert_int_equal(u0.event_entries, 0);
	for (i = 0; i < 200; i++) {
		k = evkey(1, 1, T_BASE, 1, i + 1);
		assert_int_equal(put_block(f->s, &k, 2, 200, 0), 0);
	}
	/* Not committed yet: a reader's view (usage) does not count them. */
	assert_int_equal(store_usage(f->s, &u1), 0);
	assert_int_equal(u1.event_entries, 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_usage(f->s, &u2), 0);
	assert_int_equal(u2.event_entries, 200);
	/* 200 blocks of ~400 bytes take at least 80 KB more. */
	CHECK(u2.used_bytes >= u0.used_bytes + 200 * 400);
	CHECK(u2.used_bytes <= u2.map_size);
	assert_int_equal(u2.map_size, MAP_DEFAULT);
	fx_close(f);
}

struct plain_row {
	const char		*what;
	CMUnitTestFunction	 fn;
};

/*
 * The fold merges one agent's consecutive blocks of a kind from many commits into full
 * blocks, within the size bound, keeping every event once and in sequence order.
 */
static void
test_fold_merges(void **state)
{
	struct fx *f = fx_open(MAP_DEFAULT);
	struct seen *sn = calloc(1, sizeof(*sn));
	struct store_evkey k;
	size_t i, commits = 40, per = 3, evlen = 20;
	long folded, blocks;

	(void)state;
	assert_non_null(sn);
	/* 40 commits of 3 events each, one agent and kind: 40 small blocks in the log ... */
	for (i = 0; i < commits; i++) {
		k = evkey(7, 2, T_BASE + i, 9, 1 + i * per);
		assert_int_equal(put_block(f->s, &k, per, evlen, 0), 0);
		assert_int_equal(store_commit(f->s), 0);
	}
	/* ... and another agent's block, which stays apart. */
	k = evkey(7, 2, T_BASE, 10, 1);
	assert_int_equal(put_block(f->s, &k, 1, evlen, 0), 0);
	assert_int_equal(store_commit(f->s), 0);
	folded = store_fold(f->s, 1000);
	assert_int_equal(folded, (long)commits + 1);
	assert_int_equal(store_commit(f->s), 0);
	/* 120 events of ~22 bytes (~2.7 KB) in full blocks of STORE_FOLD_BLOCK, plus agent 10's:
	 * far fewer than the 41 blocks the commits wrote. */
	blocks = count_blocks(f, MAP_DEFAULT);
	CHECK(blocks >= 1 + (long)((commits * per * (evlen + 2)) / STORE_FOLD_BLOCK));
	CHECK(blocks <= 2 + (long)((commits * per * (evlen + 2)) / (STORE_FOLD_BLOCK / 2)));
	read_events(f, 7, 2, sn);
	assert_int_equal(sn->n, commits * per + 1);
	for (i = 0; i < sn->n; i++) {
		if (sn->ev[i].agent == 10)
			continue;
		assert_int_equal(sn->first_byte[i], sn->ev[i].seq & 0xff);
	}
	/* The log is empty after the fold; a second fold finds nothing. */
	assert_int_equal(store_fold(f->s, 1000), 0);
	store_abort(f->s);
	free(sn);
	fx_close(f);
}

static const struct plain_row plain_rows[] = {
	{ "fold merges an agent's small blocks into full ones", test_fold_merges },
	{ "open creates the directory and environment", test_open_creates },
	{ "open refuses a bad path and another schema version", test_open_fails },
	{ "intern: stable ids across commit and reopen, per namespace", test_intern },
	{ "intern: an aborted transaction gives the ids back", test_intern_abort },
	{ "agent record round trip", test_agent_rec },
	{ "blocks read back in key order", test_blocks_key_order },
	{ "aborted blocks are not stored", test_blocks_uncommitted },
	{ "1 MiB map filled until MAP_FULL, then pruned and written again", test_map_full },
	{ "prune across leaf pages", test_prune_many },
	{ "usage numbers", test_usage },
};

int
main(void)
{
	static struct cases cs;
	size_t i;

	for (i = 0; i < sizeof(plain_rows) / sizeof(plain_rows[0]); i++) {
		char name[256];

		snprintf(name, sizeof(name), "store: %s", plain_rows[i].what);
		cases_add(&cs, name, plain_rows[i].fn, &plain_rows[i]);
	}
	CASES_TABLE(&cs, "intern bad", test_intern_bad, bad_name_rows);
	CASES_TABLE(&cs, "duplicate block key", test_block_duplicate, dup_rows);
	CASES_TABLE(&cs, "prune", test_prune, prune_rows);
	return cases_run(&cs, "store");
}
