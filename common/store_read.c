/* Tandem — MIT licence. Store reader: short read transactions, cursor range scans, nothing kept past a callback. */
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "common/store_read.h"
#include "common/xalloc.h"

struct store_reader {
	MDB_env		*env;
	MDB_dbi		 names, ids, agents, events, evlog[STORE_EVLOG_PARTS];
	char		 err[160];
};

static int
rd_fail(struct store_reader *r, int rc, const char *what)
{
	snprintf(r->err, sizeof(r->err), "%s: %s", what, mdb_strerror(rc));
	return -1;
}

struct store_reader *
store_reader_open(const char *path, char *err, size_t errlen)
{
	struct store_reader *r;
	MDB_txn *txn = NULL;
	int rc, i;

	if ((r = xcalloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = mdb_env_create(&r->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(r->env, 64)) != 0 ||
	    (rc = mdb_env_set_maxreaders(r->env, 256)) != 0 ||
	    (rc = mdb_env_open(r->env, path, MDB_RDONLY | MDB_NOTLS, 0640)) != 0) {
		snprintf(err, errlen, "open store %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	if ((rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_NAMES, 0, &r->names)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_IDS, 0, &r->ids)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_AGENTS, 0, &r->agents)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_EVENTS, 0, &r->events)) != 0) {
		snprintf(err, errlen, "store %s: %s (not a Tandem store?)", path,
		    mdb_strerror(rc));
		goto fail;
	}
	for (i = 0; i < STORE_EVLOG_PARTS; i++) {
		char name[8];

		store_evlog_name(name, i);
		if ((rc = mdb_dbi_open(txn, name, 0, &r->evlog[i])) != 0) {
			snprintf(err, errlen, "store %s: %s: %s", path, name, mdb_strerror(rc));
			goto fail;
		}
	}
	/* Database handles opened in a transaction survive only if it commits. */
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	return r;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (r->env != NULL)
		mdb_env_close(r->env);
	xfree(r);
	return NULL;
}

void
store_reader_close(struct store_reader *r)
{
	if (r == NULL)
		return;
	mdb_env_close(r->env);
	xfree(r);
}

const char *
store_reader_error(const struct store_reader *r)
{
	return r->err;
}

int
store_reader_name(struct store_reader *r, enum store_ns ns, uint32_t id, char *buf, size_t len)
{
	uint8_t kb[STORE_IDKEY_LEN];
	MDB_txn *txn;
	MDB_val k, v;
	size_t n;
	int rc;

	if ((rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rd_fail(r, rc, "txn");
	kb[0] = (uint8_t)ns;
	store_put_be32(kb + 1, id);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	rc = mdb_get(txn, r->ids, &k, &v);
	if (rc == 0 && len > 0) {
		n = v.mv_size < len - 1 ? v.mv_size : len - 1;
		memcpy(buf, v.mv_data, n);
		buf[n] = '\0';
	}
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : rd_fail(r, rc, "ids");
}

int
store_reader_id(struct store_reader *r, enum store_ns ns, const char *name, uint32_t *id)
{
	uint8_t kb[STORE_NAMEKEY_MAX];
	size_t n = strlen(name);
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if (n == 0 || n >= sizeof(kb))
		return 0;
	if ((rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rd_fail(r, rc, "txn");
	kb[0] = (uint8_t)ns;
	memcpy(kb + 1, name, n);
	k.mv_data = kb;
	k.mv_size = n + 1;
	rc = mdb_get(txn, r->names, &k, &v);
	if (rc == 0 && v.mv_size == 4)
		*id = store_get_be32(v.mv_data);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : rd_fail(r, rc, "names");
}

int
store_reader_agents(struct store_reader *r, store_agent_cb cb, void *arg)
{
	struct store_agent_rec rec;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rd_fail(r, rc, "txn");
	if ((rc = mdb_cursor_open(txn, r->agents, &c)) != 0) {
		mdb_txn_abort(txn);
		return rd_fail(r, rc, "cursor");
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 4 || store_agent_decode(v.mv_data, v.mv_size, &rec) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (cb(store_get_be32(k.mv_data), &rec, arg) != 0)
			break;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : rd_fail(r, rc, "agents");
}

/* Emits every event of one block. 1 when the callback asked to stop, -1 when malformed. */
static int
emit_block(const struct store_evkey *key, const MDB_val *v, store_event_cb cb, void *arg)
{
	struct store_block_it it;
	struct store_event ev;
	uint64_t delta;
	int more;

	if (store_block_open(&it, v->mv_data, v->mv_size) == -1)
		return -1;
	ev.app = key->app;
	ev.kind = key->kind;
	ev.agent = key->agent;
	ev.block_t0 = key->t0;
	while ((more = store_block_next(&it, &delta, &ev.data, &ev.len)) == 1) {
		ev.seq = key->first_seq + delta;
		if (cb(&ev, arg) != 0)
			return 1;
	}
	return more;
}

/*
 * Scans keys from start while they stay inside [app, kind] (when non-zero) and the block may
 * hold times in [from_ms, to_ms]. With app 0 every key is visited (a full scan, for tools).
 */
static int
scan_range(MDB_cursor *c, uint32_t app, uint8_t kind, uint64_t from_ms, uint64_t to_ms,
    store_event_cb cb, void *arg, int *stop)
{
	uint8_t kb[STORE_EVKEY_LEN];
	struct store_evkey key = { 0 };
	MDB_val k, v;
	int rc, r;

	key.app = app;
	key.kind = kind;
	key.t0 = app != 0 && from_ms > STORE_BLOCK_SPAN_MS ? from_ms - STORE_BLOCK_SPAN_MS : 0;
	store_evkey_encode(kb, &key);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (store_evkey_decode(k.mv_data, k.mv_size, &key) == -1)
			return MDB_CORRUPTED;
		if (app != 0 && (key.app != app || key.kind != kind || key.t0 > to_ms))
			break;
		if ((kind != 0 && key.kind != kind) || key.t0 > to_ms ||
		    key.t0 + STORE_BLOCK_SPAN_MS < from_ms)
			continue;
		if ((r = emit_block(&key, &v, cb, arg)) == -1)
			return -1;
		if (r == 1) {
			*stop = 1;
			return 0;
		}
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Blocks still in the commit log (not folded yet), filtered the same way. */
static int
scan_evlog(MDB_txn *txn, MDB_dbi evlog, uint32_t app, uint8_t kind, uint64_t from_ms,
    uint64_t to_ms, store_event_cb cb, void *arg, int *stop)
{
	struct store_evkey key;
	MDB_cursor *c;
	MDB_val k, v, body;
	int rc, r;

	if ((rc = mdb_cursor_open(txn, evlog, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size < STORE_EVKEY_LEN ||
		    store_evkey_decode(v.mv_data, STORE_EVKEY_LEN, &key) == -1) {
			rc = -1;
			break;
		}
		if ((app != 0 && key.app != app) || (kind != 0 && key.kind != kind) ||
		    key.t0 > to_ms || key.t0 + STORE_BLOCK_SPAN_MS < from_ms)
			continue;
		body.mv_data = (uint8_t *)v.mv_data + STORE_EVKEY_LEN;
		body.mv_size = v.mv_size - STORE_EVKEY_LEN;
		if ((r = emit_block(&key, &body, cb, arg)) == -1) {
			rc = -1;
			break;
		}
		if (r == 1) {
			*stop = 1;
			rc = 0;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_reader_events(struct store_reader *r, uint32_t app, uint8_t kind, uint64_t from_ms,
    uint64_t to_ms, store_event_cb cb, void *arg)
{
	MDB_cursor *c;
	MDB_txn *txn;
	int rc, k, stop = 0;

	if ((rc = mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn)) != 0)
		return rd_fail(r, rc, "txn");
	if ((rc = mdb_cursor_open(txn, r->events, &c)) != 0) {
		mdb_txn_abort(txn);
		return rd_fail(r, rc, "cursor");
	}
	if (app == 0)
		rc = scan_range(c, 0, kind, from_ms, to_ms, cb, arg, &stop);
	else if (kind != 0)
		rc = scan_range(c, app, kind, from_ms, to_ms, cb, arg, &stop);
	else
		for (k = 1; k < STORE_KINDS_MAX && rc == 0 && !stop; k++)
			rc = scan_range(c, app, (uint8_t)k, from_ms, to_ms, cb, arg, &stop);
	for (k = 0; k < STORE_EVLOG_PARTS && rc == 0 && !stop; k++)
		rc = scan_evlog(txn, r->evlog[k], app, kind, from_ms, to_ms, cb, arg, &stop);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (rc == -1) {
		snprintf(r->err, sizeof(r->err), "events: a malformed block");
		return -1;
	}
	return rc == 0 ? 0 : rd_fail(r, rc, "events");
}
