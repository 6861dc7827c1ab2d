/* Tandem — MIT licence. LMDB writer: tick transactions, interning, event blocks, pruning, full-map refusal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "collector/store.h"
#include "common/log.h"
#include "common/repl_rec.h"
#include "common/wire.h"
#include "common/xalloc.h"

#define STORE_MAX_DBS	48

static uint64_t	store_instances;	/* stores opened so far: store_instance() */

struct store {
	uint64_t	 instance;	/* unique per store_open in this process */
	MDB_env		*env;
	MDB_txn		*txn;		/* the tick's write transaction, or NULL */
	MDB_dbi		 meta, names, ids, agents, events, evlog[STORE_EVLOG_PARTS];
	uint32_t	 evlog_n;	/* blocks appended in the open transaction */
	uint8_t		 evlog_dirty[STORE_EVLOG_PARTS];	/* may hold blocks to fold */
	uint64_t	 nwrites;	/* changes in the open transaction */
	uint64_t	 fold_dups;	/* blocks whose key was already in events */
	uint32_t	 next_id[8];	/* per namespace; 0: not loaded yet */
	int		 err;
	uint32_t	 prune_app;	/* where the last prune stopped */
	uint8_t		 prune_kind;
	char		*path;
	uint64_t	 map_size;
	uint64_t	 pos;		/* replication log position of the last commit */
	uint64_t	 term;		/* epoch of the last committed record */
	uint64_t	 next_term;	/* epoch the next records are written with */
	struct {
		MDB_dbi	 dbi;
		char	 name[REPL_DBNAME_MAX + 1];
	}		 dbs[STORE_MAX_DBS];
	int		 ndbs;
	/* Write-set capture for replication. */
	int		 capturing;
	struct repl_buf	 cap;
	int		 rec_ready;	/* cap holds the record of the last commit */
	const uint8_t	*pend_ptr;	/* MDB_RESERVE space the caller is filling */
	size_t		 pend_off, pend_len;
	void		(*on_commit)(void *, uint64_t pos, uint64_t term, const uint8_t *,
			    size_t);
	void		*on_commit_arg;
};

static const char *
db_name(struct store *s, MDB_dbi dbi)
{
	int i;

	for (i = 0; i < s->ndbs; i++)
		if (s->dbs[i].dbi == dbi)
			return s->dbs[i].name;
	return NULL;
}

static int
db_add(struct store *s, MDB_dbi dbi, const char *name)
{
	if (db_name(s, dbi) != NULL)
		return 0;
	if (s->ndbs == STORE_MAX_DBS || strlen(name) > REPL_DBNAME_MAX)
		return -1;
	s->dbs[s->ndbs].dbi = dbi;
	snprintf(s->dbs[s->ndbs].name, sizeof(s->dbs[0].name), "%s", name);
	s->ndbs++;
	return 0;
}

/* The caller filled the reserved space before this next store call: capture it now. */
static void
cap_settle(struct store *s)
{
	if (s->pend_ptr != NULL) {
		if (!s->cap.oom)
			memcpy(s->cap.p + s->pend_off, s->pend_ptr, s->pend_len);
		s->pend_ptr = NULL;
	}
}

static void
cap_put(struct store *s, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	const char *name;

	if (!s->capturing)
		return;
	cap_settle(s);
	if ((name = db_name(s, dbi)) == NULL) {
		s->cap.oom = 1;
		return;
	}
	repl_buf_put(&s->cap, name, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
}

static void
cap_del(struct store *s, MDB_dbi dbi, const MDB_val *k)
{
	const char *name;

	if (!s->capturing)
		return;
	cap_settle(s);
	if ((name = db_name(s, dbi)) == NULL) {
		s->cap.oom = 1;
		return;
	}
	repl_buf_del(&s->cap, name, k->mv_data, k->mv_size);
}

static int
meta_get_u64(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc;

	*v = 0;
	if ((rc = mdb_get(txn, meta, &k, &d)) == 0 && d.mv_size == 8)
		*v = store_get_be64(d.mv_data);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
meta_put_u64(MDB_txn *txn, MDB_dbi meta, const char *key, uint64_t v)
{
	uint8_t b[8];
	MDB_val k = { strlen(key), (void *)key }, d = { 8, b };

	store_put_be64(b, v);
	return mdb_put(txn, meta, &k, &d, 0);
}

static int
store_fail(struct store *s, int rc, const char *what)
{
	s->err = rc;
	if (rc != MDB_MAP_FULL)
		log_warnx("store: %s: %s", what, mdb_strerror(rc));
	return -1;
}

static int
open_evlogs(struct store *s, MDB_txn *txn)
{
	char name[8];
	int i, rc;

	for (i = 0; i < STORE_EVLOG_PARTS; i++) {
		store_evlog_name(name, i);
		if ((rc = mdb_dbi_open(txn, name, MDB_CREATE, &s->evlog[i])) != 0)
			return rc;
	}
	return 0;
}

struct store *
store_open(const char *path, uint64_t map_size, char *err, size_t errlen)
{
	struct store *s;
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int rc, dead, i;

	if ((s = xcalloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->instance = ++store_instances;
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 64)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 256)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_size)) != 0 ||
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS, 0640)) != 0) {
		snprintf(err, errlen, "lmdb open %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	if (dead > 0)
		log_info("store: cleared %d stale reader slots", dead);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_META, MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_NAMES, MDB_CREATE, &s->names)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_IDS, MDB_CREATE, &s->ids)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_AGENTS, MDB_CREATE, &s->agents)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_EVENTS, MDB_CREATE, &s->events)) != 0 ||
	    (rc = open_evlogs(s, txn)) != 0) {
		snprintf(err, errlen, "lmdb databases: %s", mdb_strerror(rc));
		goto fail;
	}
	k.mv_data = "schema";
	k.mv_size = 6;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_data = STORE_SCHEMA_VERSION;
		v.mv_size = strlen(STORE_SCHEMA_VERSION);
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != strlen(STORE_SCHEMA_VERSION) ||
	    memcmp(v.mv_data, STORE_SCHEMA_VERSION, v.mv_size) != 0)) {
		snprintf(err, errlen, "%s: schema version %.*s, this build reads %s", path,
		    (int)v.mv_size, (char *)v.mv_data, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (rc == 0)
		rc = meta_get_u64(txn, s->meta, "repl_pos", &s->pos);
	if (rc == 0)
		rc = meta_get_u64(txn, s->meta, "repl_term", &s->term);
	s->next_term = s->term;
	if (rc != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		snprintf(err, errlen, "lmdb schema: %s", mdb_strerror(rc));
		goto fail;
	}
	db_add(s, s->meta, STORE_DB_META);
	db_add(s, s->names, STORE_DB_NAMES);
	db_add(s, s->ids, STORE_DB_IDS);
	db_add(s, s->agents, STORE_DB_AGENTS);
	db_add(s, s->events, STORE_DB_EVENTS);
	for (i = 0; i < STORE_EVLOG_PARTS; i++) {
		char name[8];

		store_evlog_name(name, i);
		db_add(s, s->evlog[i], name);
	}
	memset(s->evlog_dirty, 1, sizeof(s->evlog_dirty));
	if ((s->path = xstrdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->map_size = map_size;
	return s;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	xfree(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_abort(s);
	mdb_env_close(s->env);
	repl_buf_free(&s->cap);
	xfree(s->path);
	xfree(s);
}

static int
store_begin(struct store *s)
{
	int rc;

	/*
	 * MDB_RESERVE space is only valid until the next update: every store call starts here,
	 * so capture what the caller wrote into it before LMDB can move it.
	 */
	cap_settle(s);
	if (s->txn != NULL)
		return 0;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &s->txn)) != 0) {
		s->txn = NULL;
		return store_fail(s, rc, "txn begin");
	}
	s->rec_ready = 0;
	s->pend_ptr = NULL;
	s->evlog_n = 0;
	s->nwrites = 0;
	if (s->capturing)
		repl_buf_reset(&s->cap, s->pos + 1, s->next_term);
	return 0;
}

int
store_dirty(const struct store *s)
{
	return s->txn != NULL;
}

int
store_commit(struct store *s)
{
	int rc;

	if (s->txn == NULL)
		return 0;
	if (s->nwrites == 0) {
		/* Reads only: no position, no record, no fsync. */
		mdb_txn_abort(s->txn);
		s->txn = NULL;
		s->pend_ptr = NULL;
		return 0;
	}
	cap_settle(s);
	if (s->capturing && s->cap.oom) {
		/* A record that cannot be shipped must not be committed. */
		store_abort(s);
		return store_fail(s, ENOMEM, "replication record");
	}
	if ((rc = meta_put_u64(s->txn, s->meta, "repl_pos", s->pos + 1)) != 0 ||
	    (rc = meta_put_u64(s->txn, s->meta, "repl_term", s->next_term)) != 0) {
		store_abort(s);
		return store_fail(s, rc, "commit position");
	}
	rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	if (rc != 0) {
		memset(s->next_id, 0, sizeof(s->next_id));
		return store_fail(s, rc, "commit");
	}
	s->pos++;
	s->term = s->next_term;
	if (s->capturing) {
		repl_buf_finish(&s->cap);
		s->rec_ready = 1;
		if (s->on_commit != NULL)
			s->on_commit(s->on_commit_arg, s->pos, s->term, s->cap.p, s->cap.len);
	}
	s->err = 0;
	return 0;
}

void
store_on_commit(struct store *s, void (*fn)(void *, uint64_t, uint64_t, const uint8_t *,
    size_t), void *arg)
{
	s->on_commit = fn;
	s->on_commit_arg = arg;
}

void
store_abort(struct store *s)
{
	if (s->txn == NULL)
		return;
	mdb_txn_abort(s->txn);
	s->txn = NULL;
	s->pend_ptr = NULL;
	s->rec_ready = 0;
	memset(s->evlog_dirty, 1, sizeof(s->evlog_dirty));
	/* Ids handed out in the dropped transaction are free again. */
	memset(s->next_id, 0, sizeof(s->next_id));
}

/* Aborts after a failed write: LMDB forbids further use of a transaction after MAP_FULL. */
static int
store_write_fail(struct store *s, int rc, const char *what)
{
	store_abort(s);
	return store_fail(s, rc, what);
}

static int
load_next_id(struct store *s, enum store_ns ns)
{
	uint8_t kb[STORE_IDKEY_LEN];
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(s->txn, s->ids, &c)) != 0)
		return store_fail(s, rc, "cursor");
	kb[0] = (uint8_t)ns + 1;
	store_put_be32(kb + 1, 0);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	s->next_id[ns] = 1;
	if (rc == 0 && k.mv_size == STORE_IDKEY_LEN && ((uint8_t *)k.mv_data)[0] == ns)
		s->next_id[ns] = store_get_be32((uint8_t *)k.mv_data + 1) + 1;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(s, rc, "ids scan");
	return 0;
}

int
store_intern(struct store *s, enum store_ns ns, const char *name, uint32_t *id)
{
	uint8_t nk[STORE_NAMEKEY_MAX], ik[STORE_IDKEY_LEN], idb[4];
	size_t len = strlen(name);
	MDB_val k, v;
	int rc;

	if (len == 0 || len > STORE_NAMEKEY_MAX - 1 || (unsigned)ns >= 8) {
		s->err = EINVAL;
		return -1;
	}
	if (store_begin(s) == -1)
		return -1;
	nk[0] = (uint8_t)ns;
	memcpy(nk + 1, name, len);
	k.mv_data = nk;
	k.mv_size = len + 1;
	rc = mdb_get(s->txn, s->names, &k, &v);
	if (rc == 0 && v.mv_size == 4) {
		*id = store_get_be32(v.mv_data);
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return store_fail(s, rc ? rc : MDB_CORRUPTED, "names get");
	if (s->next_id[ns] == 0 && load_next_id(s, ns) == -1)
		return -1;
	*id = s->next_id[ns];
	store_put_be32(idb, *id);
	v.mv_data = idb;
	v.mv_size = 4;
	if ((rc = mdb_put(s->txn, s->names, &k, &v, MDB_NOOVERWRITE)) != 0)
		return store_write_fail(s, rc, "names put");
	s->nwrites++;
	cap_put(s, s->names, &k, &v);
	ik[0] = (uint8_t)ns;
	store_put_be32(ik + 1, *id);
	k.mv_data = ik;
	k.mv_size = sizeof(ik);
	v.mv_data = (void *)name;
	v.mv_size = len;
	if ((rc = mdb_put(s->txn, s->ids, &k, &v, MDB_NOOVERWRITE)) != 0)
		return store_write_fail(s, rc, "ids put");
	cap_put(s, s->ids, &k, &v);
	s->next_id[ns]++;
	return 0;
}

int
store_agent_get(struct store *s, uint32_t agent, struct store_agent_rec *r)
{
	uint8_t kb[4];
	MDB_val k, v;
	int rc;

	if (store_begin(s) == -1)
		return -1;
	store_put_be32(kb, agent);
	k.mv_data = kb;
	k.mv_size = 4;
	rc = mdb_get(s->txn, s->agents, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, rc, "agents get");
	if (store_agent_decode(v.mv_data, v.mv_size, r) == -1)
		return store_fail(s, MDB_CORRUPTED, "agents record");
	return 1;
}

int
store_agent_put(struct store *s, uint32_t agent, const struct store_agent_rec *r)
{
	uint8_t kb[4], vb[STORE_AGENT_REC_LEN];
	MDB_val k, v;
	int rc;

	if (store_begin(s) == -1)
		return -1;
	store_put_be32(kb, agent);
	store_agent_encode(vb, r);
	k.mv_data = kb;
	k.mv_size = 4;
	v.mv_data = vb;
	v.mv_size = sizeof(vb);
	if ((rc = mdb_put(s->txn, s->agents, &k, &v, 0)) != 0)
		return store_write_fail(s, rc, "agents put");
	s->nwrites++;
	cap_put(s, s->agents, &k, &v);
	return 0;
}

void *
store_block_reserve(struct store *s, const struct store_evkey *key, size_t len)
{
	uint8_t kb[STORE_EVLOG_KEY_LEN];
	MDB_val k, v;
	uint8_t *p;
	int rc;

	if (store_begin(s) == -1)
		return NULL;
	/* Appended after everything committed so far: the position is the next commit's. */
	store_put_be64(kb, s->pos + 1);
	store_put_be32(kb + 8, s->evlog_n);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	v.mv_data = NULL;
	v.mv_size = STORE_EVKEY_LEN + len;
	/* Each partition gets keys in increasing order: the counter is shared by all. */
	rc = mdb_put(s->txn, s->evlog[key->app % STORE_EVLOG_PARTS], &k, &v,
	    MDB_RESERVE | MDB_APPEND);
	if (rc != 0) {
		store_write_fail(s, rc, "evlog put");
		return NULL;
	}
	s->evlog_n++;
	s->nwrites++;
	s->evlog_dirty[key->app % STORE_EVLOG_PARTS] = 1;
	p = v.mv_data;
	store_evkey_encode(p, key);
	if (s->capturing) {
		MDB_val none = { v.mv_size, NULL };

		cap_put(s, s->evlog[key->app % STORE_EVLOG_PARTS], &k, &none);
		/* The caller fills the space now; it is copied at the next store call. */
		s->pend_ptr = v.mv_data;
		s->pend_off = s->cap.len - v.mv_size;
		s->pend_len = v.mv_size;
	}
	return p + STORE_EVKEY_LEN;
}

/*
 * The fold. Every block of the commit log is read once, in commit order; each
 * (app, kind, agent)'s events are merged into blocks as full as the bounds allow (size and
 * time span) and written to events; then the log is emptied with one mdb_drop. Merging
 * keeps the number of entries (and their per-entry cost on disk) low; the drop frees the
 * log's pages without a delete per entry.
 */
struct fold_group {
	uint32_t	 app, agent;
	uint8_t		 kind;
	uint8_t		*buf;		/* entries of the open output block, no header */
	size_t		 len;
	uint64_t	 count, first_seq, last_seq;
	int64_t		 tmin, tmax;
};

struct fold {
	struct fold_group *g;
	uint32_t	*slot;		/* open addressing: 1 + index into g, 0 empty */
	size_t		 n, cap, nslots;
};

static struct fold_group *
fold_find(struct fold *f, uint32_t app, uint8_t kind, uint32_t agent)
{
	uint32_t h = (agent * 2654435761u) ^ (app * 40503u) ^ kind, i;
	struct fold_group *g;

	if (f->n * 2 >= f->nslots) {
		size_t ns = f->nslots ? f->nslots * 2 : 4096, j;
		uint32_t *slot = xcalloc(ns, sizeof(*slot));

		if (slot == NULL)
			return NULL;
		for (j = 0; j < f->n; j++) {
			uint32_t hh = (f->g[j].agent * 2654435761u) ^ (f->g[j].app * 40503u) ^
			    f->g[j].kind;

			for (i = hh & (ns - 1); slot[i] != 0; i = (i + 1) & (ns - 1))
				;
			slot[i] = (uint32_t)j + 1;
		}
		xfree(f->slot);
		f->slot = slot;
		f->nslots = ns;
	}
	for (i = h & (f->nslots - 1); f->slot[i] != 0; i = (i + 1) & (f->nslots - 1)) {
		g = &f->g[f->slot[i] - 1];
		if (g->agent == agent && g->app == app && g->kind == kind)
			return g;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct fold_group *ng = xrealloc(f->g, cap * sizeof(*ng));

		if (ng == NULL)
			return NULL;
		f->g = ng;
		f->cap = cap;
	}
	g = &f->g[f->n];
	memset(g, 0, sizeof(*g));
	g->app = app;
	g->agent = agent;
	g->kind = kind;
	if ((g->buf = xmalloc(STORE_BLOCK_MAX + 32)) == NULL)
		return NULL;
	f->slot[i] = (uint32_t)++f->n;
	return g;
}

/* Writes a group's open block to events. 0 or an LMDB error. */
static int
fold_flush(struct store *s, struct fold_group *g)
{
	uint8_t kb[STORE_EVKEY_LEN], *p;
	struct store_evkey key;
	MDB_val k, v;
	size_t hl;
	int rc;

	if (g->count == 0)
		return 0;
	key.app = g->app;
	key.kind = g->kind;
	key.t0 = (uint64_t)g->tmin;
	key.agent = g->agent;
	key.first_seq = g->first_seq;
	store_evkey_encode(kb, &key);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	hl = 1 + wire_varint_size(g->count) + wire_varint_size((uint64_t)(g->tmax - g->tmin));
	v.mv_data = NULL;
	v.mv_size = hl + g->len;
	rc = mdb_put(s->txn, s->events, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		/* Ingest's sequence numbers make this impossible: a bug, kept visible. */
		if (s->fold_dups++ == 0)
			log_warnx("store: fold: a block key already stored; kept the first");
		g->count = 0;
		g->len = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	p = v.mv_data;
	*p++ = STORE_BLOCK_VERSION;
	p += wire_put_varint(p, g->count);
	p += wire_put_varint(p, (uint64_t)(g->tmax - g->tmin));
	memcpy(p, g->buf, g->len);
	cap_put(s, s->events, &k, &v);
	s->nwrites++;
	g->count = 0;
	g->len = 0;
	return 0;
}

/* Adds one event to its group, flushing the open block first when the event does not fit. */
static int
fold_add(struct store *s, struct fold_group *g, uint64_t seq, int64_t tlo, int64_t thi,
    const uint8_t *ev, size_t evlen)
{
	size_t cost;
	int rc;

	if (g->count > 0) {
		int64_t lo = tlo < g->tmin ? tlo : g->tmin, hi = thi > g->tmax ? thi : g->tmax;

		cost = wire_varint_size(seq - g->first_seq) + wire_varint_size(evlen) + evlen;
		/* A block's sequence numbers only increase; anything else starts a new one
		 * (and a repeated one then meets its twin's key: counted, never stored twice). */
		if (g->len + cost + 7 > STORE_FOLD_BLOCK || hi - lo > STORE_BLOCK_SPAN_MS ||
		    seq <= g->last_seq) {
			if ((rc = fold_flush(s, g)) != 0)
				return rc;
		}
	}
	if (g->count == 0) {
		g->first_seq = seq;
		g->tmin = tlo;
		g->tmax = thi;
	}
	cost = wire_varint_size(seq - g->first_seq) + wire_varint_size(evlen) + evlen;
	if (g->len + cost > STORE_BLOCK_MAX + 32) {
		/* One event larger than a block: it gets a block of its own. */
		uint8_t *nb = xrealloc(g->buf, g->len + cost);

		if (nb == NULL)
			return ENOMEM;
		g->buf = nb;
	}
	g->len += wire_put_varint(g->buf + g->len, seq - g->first_seq);
	g->len += wire_put_varint(g->buf + g->len, evlen);
	memcpy(g->buf + g->len, ev, evlen);
	g->len += evlen;
	g->count++;
	g->last_seq = seq;
	if (tlo < g->tmin)
		g->tmin = tlo;
	if (thi > g->tmax)
		g->tmax = thi;
	if (g->len + 7 >= STORE_FOLD_BLOCK || evlen + 16 > STORE_FOLD_BLOCK)
		return fold_flush(s, g);
	return 0;
}

static long fold_part(struct store *, int);

long
store_fold(struct store *s, size_t max_blocks)
{
	long n, total = 0;
	int i;

	(void)max_blocks;
	for (i = 0; i < STORE_EVLOG_PARTS; i++) {
		if ((n = fold_part(s, i)) == -1)
			return -1;
		total += n;
	}
	return total;
}

long
store_fold_part(struct store *s, int part)
{
	return fold_part(s, part % STORE_EVLOG_PARTS);
}

static long
fold_part(struct store *s, int part)
{
	struct fold f = { 0 };
	struct store_evkey key;
	struct store_block_it it;
	MDB_cursor *c;
	MDB_val k, v;
	const uint8_t *ev;
	uint64_t delta;
	size_t evlen, i;
	long moved = 0;
	int rc, more;

	if (!s->evlog_dirty[part])
		return 0;
	if (store_begin(s) == -1)
		return -1;
	if ((rc = mdb_cursor_open(s->txn, s->evlog[part], &c)) != 0)
		return store_fail(s, rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct fold_group *g;

		if (v.mv_size < STORE_EVKEY_LEN ||
		    store_evkey_decode(v.mv_data, STORE_EVKEY_LEN, &key) == -1 ||
		    store_block_open(&it, (const uint8_t *)v.mv_data + STORE_EVKEY_LEN,
		    v.mv_size - STORE_EVKEY_LEN) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((g = fold_find(&f, key.app, key.kind, key.agent)) == NULL) {
			rc = ENOMEM;
			break;
		}
		/* The source block's bounds are exact for the events it holds. */
		while ((more = store_block_next(&it, &delta, &ev, &evlen)) == 1)
			if ((rc = fold_add(s, g, key.first_seq + delta, (int64_t)key.t0,
			    (int64_t)(key.t0 + it.span_ms), ev, evlen)) != 0)
				break;
		if (more == -1)
			rc = MDB_CORRUPTED;
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		moved++;
	}
	mdb_cursor_close(c);
	if (rc == 0 || rc == MDB_NOTFOUND)
		for (i = 0, rc = 0; i < f.n && rc == 0; i++)
			rc = fold_flush(s, &f.g[i]);
	if (rc == 0 && moved > 0) {
		if ((rc = mdb_drop(s->txn, s->evlog[part], 0)) == 0 && s->capturing) {
			cap_settle(s);
			repl_buf_clear(&s->cap, db_name(s, s->evlog[part]));
		}
	}
	for (i = 0; i < f.n; i++)
		xfree(f.g[i].buf);
	xfree(f.g);
	xfree(f.slot);
	if (rc != 0)
		return store_write_fail(s, rc, "fold");
	if (moved > 0)
		s->nwrites++;
	/* Empty now; a block appended later in this transaction marks it again. */
	s->evlog_dirty[part] = 0;
	return moved;
}

int
store_dbi(struct store *s, const char *name, unsigned int *dbi)
{
	MDB_dbi d;
	int rc;

	if (store_begin(s) == -1)
		return -1;
	if ((rc = mdb_dbi_open(s->txn, name, MDB_CREATE, &d)) != 0)
		return store_write_fail(s, rc, "dbi open");
	if (db_add(s, d, name) == -1) {
		store_abort(s);
		return store_fail(s, EINVAL, "too many databases or name too long");
	}
	/* Creating a database is a write: the commit below must not be skipped. */
	s->nwrites++;
	/* The handle outlives this transaction only if it commits. */
	if (store_commit(s) == -1)
		return -1;
	*dbi = d;
	return 0;
}

int
store_put(struct store *s, unsigned int dbi, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (store_begin(s) == -1)
		return -1;
	if ((rc = mdb_put(s->txn, dbi, &k, &v, 0)) != 0)
		return store_write_fail(s, rc, "put");
	s->nwrites++;
	cap_put(s, dbi, &k, &v);
	return 0;
}

int
store_get(struct store *s, unsigned int dbi, const void *key, size_t klen, void *val,
    size_t *len)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (store_begin(s) == -1)
		return -1;
	rc = mdb_get(s->txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_fail(s, rc, "get");
	memcpy(val, v.mv_data, v.mv_size < *len ? v.mv_size : *len);
	*len = v.mv_size;
	return 1;
}

int
store_del(struct store *s, unsigned int dbi, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (store_begin(s) == -1)
		return -1;
	rc = mdb_del(s->txn, dbi, &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return store_write_fail(s, rc, "del");
	s->nwrites++;
	cap_del(s, dbi, &k);
	return 0;
}

/*
 * Deletes the cursor's record (captured for replication): 0, or the LMDB error (nothing
 * deleted). On 0, k/v are the record after it and *next is 0, MDB_NOTFOUND after the last
 * one, or an LMDB error.
 */
static int
cursor_del(struct store *s, MDB_cursor *c, MDB_dbi dbi, MDB_val *k, MDB_val *v, int *next)
{
	int rc;

	cap_del(s, dbi, k);
	if ((rc = mdb_cursor_del(c, 0)) != 0)
		return rc;
	s->nwrites++;
	rc = mdb_cursor_get(c, k, v, MDB_GET_CURRENT);
	*next = rc == EINVAL ? MDB_NOTFOUND : rc;	/* EINVAL: deleted the last item */
	return 0;
}

/* The first key after every key that starts with key[0..n): the prefix plus one, or 0 (none). */
static size_t
prefix_next(uint8_t *key, size_t n)
{
	while (n > 0) {
		if (key[n - 1] != 0xff) {
			key[n - 1]++;
			return n;
		}
		n--;
	}
	return 0;
}

long
store_prune_db(struct store *s, unsigned int dbi, struct store_prune_it *it,
    enum store_prune_verdict (*verdict)(const uint8_t *, size_t, const uint8_t *, size_t,
    void *, size_t *), void *arg, size_t max_deletes, size_t max_visits)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t visits = 0, skip;
	long deleted = 0;
	int rc, next;

	if (store_begin(s) == -1)
		return -1;
	if ((rc = mdb_cursor_open(s->txn, dbi, &c)) != 0)
		return store_fail(s, rc, "cursor");
	k.mv_data = it->key;
	k.mv_size = it->len;
	rc = it->len > 0 ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && (size_t)deleted < max_deletes && visits < max_visits) {
		visits++;
		skip = 0;
		switch (verdict(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg, &skip)) {
		case STORE_PRUNE_DEL:
			if ((rc = cursor_del(s, c, dbi, &k, &v, &next)) != 0)
				break;
			deleted++;
			rc = next;
			continue;
		case STORE_PRUNE_SKIP:
			if (skip > 0 && skip <= k.mv_size && skip <= sizeof(it->key)) {
				memcpy(it->key, k.mv_data, skip);
				if ((it->len = prefix_next(it->key, skip)) == 0) {
					rc = MDB_NOTFOUND;
					break;
				}
				k.mv_data = it->key;
				k.mv_size = it->len;
				rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
				continue;
			}
			/* FALLTHROUGH */
		case STORE_PRUNE_KEEP:
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		break;
	}
	if (rc == 0) {
		/* Resume at the current key (not yet judged). */
		it->len = k.mv_size <= sizeof(it->key) ? k.mv_size : 0;
		memcpy(it->key, k.mv_data, it->len);
	} else
		it->len = 0;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_write_fail(s, rc, "prune");
	return deleted;
}

uint64_t
store_instance(const struct store *s)
{
	return s->instance;
}

/* Old blocks still in the commit log (a fold that never ran: a standby, a full map). */
static long prune_evlog_part(struct store *, int, uint64_t, size_t);

static long
prune_evlog(struct store *s, uint64_t cutoff_ms, size_t max_deletes)
{
	long n, deleted = 0;
	int i;

	for (i = 0; i < STORE_EVLOG_PARTS && (size_t)deleted < max_deletes; i++) {
		if ((n = prune_evlog_part(s, i, cutoff_ms, max_deletes - (size_t)deleted)) == -1)
			return -1;
		deleted += n;
	}
	return deleted;
}

static long
prune_evlog_part(struct store *s, int part, uint64_t cutoff_ms, size_t max_deletes)
{
	struct store_evkey key;
	MDB_cursor *c;
	MDB_val k, v;
	long deleted = 0;
	int rc, next;

	if ((rc = mdb_cursor_open(s->txn, s->evlog[part], &c)) != 0)
		return store_fail(s, rc, "cursor");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && (size_t)deleted < max_deletes;) {
		if (v.mv_size >= STORE_EVKEY_LEN &&
		    store_evkey_decode(v.mv_data, STORE_EVKEY_LEN, &key) == 0 &&
		    key.t0 + STORE_BLOCK_SPAN_MS < cutoff_ms) {
			if ((rc = cursor_del(s, c, s->evlog[part], &k, &v, &next)) != 0)
				break;
			deleted++;
			rc = next;
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_write_fail(s, rc, "prune evlog");
	return deleted;
}

long
store_prune(struct store *s, uint64_t cutoff_ms, size_t max_deletes)
{
	uint8_t kb[STORE_EVKEY_LEN];
	struct store_evkey key;
	MDB_cursor *c;
	MDB_val k, v;
	long deleted = 0;
	int rc, next;

	if (cutoff_ms <= STORE_BLOCK_SPAN_MS)
		return 0;
	/* No fold first: on a full map pruning must free space without needing any. */
	if (store_begin(s) == -1)
		return -1;
	if ((rc = mdb_cursor_open(s->txn, s->events, &c)) != 0)
		return store_fail(s, rc, "cursor");
	/*
	 * Walk app|kind ranges in key order from where the last call stopped; in each range
	 * delete from the oldest block while its newest possible event is older than the cutoff,
	 * then jump to the next range.
	 */
	memset(&key, 0, sizeof(key));
	key.app = s->prune_app;
	key.kind = s->prune_kind;
	store_evkey_encode(kb, &key);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && (size_t)deleted < max_deletes) {
		if (store_evkey_decode(k.mv_data, k.mv_size, &key) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (key.t0 + STORE_BLOCK_SPAN_MS < cutoff_ms) {
			if ((rc = cursor_del(s, c, s->events, &k, &v, &next)) != 0)
				break;
			deleted++;
			rc = next;
			continue;
		}
		/* Skip to the next app|kind range. */
		if (key.kind == 255) {
			key.app++;
			key.kind = 0;
		} else
			key.kind++;
		key.t0 = 0;
		key.agent = 0;
		key.first_seq = 0;
		if (key.app == 0)
			break;
		store_evkey_encode(kb, &key);
		k.mv_data = kb;
		k.mv_size = sizeof(kb);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		s->prune_app = 0;
		s->prune_kind = 0;
	} else if (rc == 0) {
		s->prune_app = key.app;
		s->prune_kind = key.kind;
	} else
		return store_write_fail(s, rc, "prune");
	if ((size_t)deleted < max_deletes) {
		long more = prune_evlog(s, cutoff_ms, max_deletes - (size_t)deleted);

		if (more == -1)
			return -1;
		deleted += more;
	}
	return deleted;
}

int
store_error(const struct store *s)
{
	return s->err;
}

const char *
store_strerror(const struct store *s)
{
	return s->err == 0 ? "no error" : mdb_strerror(s->err);
}

int
store_full(const struct store *s)
{
	return s->err == MDB_MAP_FULL;
}

int
store_usage(struct store *s, struct store_usage *u)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *txn;
	int rc, i;

	memset(u, 0, sizeof(*u));
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
		return store_fail(s, rc, "env info");
	u->map_size = info.me_mapsize;
	u->page_size = st.ms_psize;
	u->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_fail(s, rc, "txn begin");
	if ((rc = mdb_stat(txn, s->events, &st)) == 0) {
		u->event_entries = st.ms_entries;
		for (i = 0; i < STORE_EVLOG_PARTS && rc == 0; i++)
			if ((rc = mdb_stat(txn, s->evlog[i], &st)) == 0)
				u->event_entries += st.ms_entries;
	}
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : store_fail(s, rc, "stat");
}

uint64_t
store_pos(const struct store *s)
{
	return s->pos;
}

uint64_t
store_term(const struct store *s)
{
	return s->term;
}

void
store_set_term(struct store *s, uint64_t term)
{
	s->next_term = term;
}

void
store_capture(struct store *s, int on)
{
	s->capturing = on;
	s->rec_ready = 0;
	if (!on)
		repl_buf_free(&s->cap);
}

const uint8_t *
store_record(const struct store *s, size_t *len)
{
	if (!s->rec_ready)
		return NULL;
	*len = s->cap.len;
	return s->cap.p;
}

static int
dbi_by_name(struct store *s, const char *name, size_t len, MDB_dbi *dbi)
{
	char buf[REPL_DBNAME_MAX + 1];
	int i, rc;

	for (i = 0; i < s->ndbs; i++)
		if (strlen(s->dbs[i].name) == len && memcmp(s->dbs[i].name, name, len) == 0) {
			*dbi = s->dbs[i].dbi;
			return 0;
		}
	memcpy(buf, name, len);
	buf[len] = '\0';
	if ((rc = mdb_dbi_open(s->txn, buf, MDB_CREATE, dbi)) != 0)
		return rc;
	return db_add(s, *dbi, buf) == 0 ? 0 : MDB_DBS_FULL;
}

int
store_apply(struct store *s, const uint8_t *rec, size_t len, char *err, size_t errlen)
{
	struct repl_it it;
	struct repl_op op;
	uint64_t pos, term;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc = 0, r;

	if (repl_rec_open(rec, len, &pos, &term, &it) == -1) {
		snprintf(err, errlen, "malformed record header");
		return -1;
	}
	if (pos != s->pos + 1) {
		snprintf(err, errlen, "record at position %llu, expected %llu",
		    (unsigned long long)pos, (unsigned long long)s->pos + 1);
		return -2;
	}
	if (s->txn != NULL || store_begin(s) == -1) {
		snprintf(err, errlen, "cannot begin a transaction");
		return -1;
	}
	while ((r = repl_it_next(&it, &op)) == 1) {
		if ((rc = dbi_by_name(s, op.db, op.dblen, &dbi)) != 0)
			break;
		k.mv_data = (void *)op.key;
		k.mv_size = op.klen;
		if (op.type == REPL_OP_CLEAR) {
			rc = mdb_drop(s->txn, dbi, 0);
		} else if (op.type == REPL_OP_PUT) {
			v.mv_data = (void *)op.val;
			v.mv_size = op.vlen;
			rc = mdb_put(s->txn, dbi, &k, &v, 0);
		} else {
			rc = mdb_del(s->txn, dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		}
		if (rc != 0)
			break;
	}
	if (r == -1 && rc == 0) {
		store_abort(s);
		snprintf(err, errlen, "malformed record at position %llu",
		    (unsigned long long)pos);
		return -1;
	}
	if (rc == 0) {
		rc = meta_put_u64(s->txn, s->meta, "repl_pos", pos);
		if (rc == 0)
			rc = meta_put_u64(s->txn, s->meta, "repl_term", term);
	}
	if (rc != 0) {
		store_abort(s);
		s->err = rc;
		snprintf(err, errlen, "apply at position %llu: %s", (unsigned long long)pos,
		    mdb_strerror(rc));
		return -1;
	}
	rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	memset(s->next_id, 0, sizeof(s->next_id));
	if (rc != 0) {
		s->err = rc;
		snprintf(err, errlen, "commit at position %llu: %s", (unsigned long long)pos,
		    mdb_strerror(rc));
		return -1;
	}
	s->pos = pos;
	s->term = s->next_term = term;
	return 0;
}

int
store_copy_fd(struct store *s, int fd)
{
	int rc = mdb_env_copyfd2(s->env, fd, 0);

	if (rc != 0) {
		log_warnx("store: snapshot copy: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

uint64_t
store_map_size(const struct store *s)
{
	return s->map_size;
}

uint64_t
store_fold_dups(const struct store *s)
{
	return s->fold_dups;
}
