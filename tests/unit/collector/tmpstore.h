/* Tandem — MIT licence. Collector unit tests: temporary store directories and raw block scans. */
#ifndef TANDEM_TEST_TMPSTORE_H
#define TANDEM_TEST_TMPSTORE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "common/store_schema.h"

/*
 * A fresh directory under $TEST_TMPDIR (or /tmp) per case. tmpdir_remove() deletes the files
 * in it (LMDB makes data.mdb and lock.mdb, nothing deeper) and then the directory.
 */
static inline int
tmpdir_make(char *dir, size_t len)
{
	const char *base = getenv("TEST_TMPDIR");

	snprintf(dir, len, "%s/tandem-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline void
tmpdir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (dir == NULL || dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
}

/* One events block as stored, read with LMDB directly (value length, header, events). */
struct raw_block {
	struct store_evkey	 key;
	size_t			 vlen;
	uint64_t		 count;
	uint64_t		 span_ms;
};

typedef int (*raw_event_cb)(const struct raw_block *, uint64_t seq, const uint8_t *ev,
		    size_t len, void *arg);

/*
 * Calls cb for every event of every block, the folded ranges in key order then the commit
 * log in commit order; blocks that do not parse fail the
 * scan. The caller must have closed its own writer environment on dir first (LMDB forbids
 * opening one environment twice in a process). Returns the number of blocks, or -1.
 */
static inline long
raw_scan(const char *dir, raw_event_cb cb, void *arg)
{
	char dbname[16];	/* "events" or an evlog partition */
	struct store_block_it it;
	struct raw_block b;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi;
	MDB_val k, v, key, body;
	const uint8_t *ev;
	uint64_t delta;
	size_t evlen, d;
	long blocks = 0;
	int rc = MDB_NOTFOUND, more;

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0 ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0640) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
		blocks = -1;
		goto out;
	}
	/* The folded ranges in key order, then the blocks still in the commit log. */
	for (d = 0; d < 1 + STORE_EVLOG_PARTS; d++) {
		if (d == 0)
			snprintf(dbname, sizeof(dbname), "%s", STORE_DB_EVENTS);
		else
			store_evlog_name(dbname, (int)d - 1);
		if (mdb_dbi_open(txn, dbname, 0, &dbi) != 0 || mdb_cursor_open(txn, dbi, &c) != 0) {
			blocks = -1;
			goto out;
		}
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			key = k;
			body = v;
			if (d >= 1) {
				/* evlog: the value starts with the block's events key. */
				if (v.mv_size < STORE_EVKEY_LEN) {
					blocks = -1;
					goto out;
				}
				key.mv_data = v.mv_data;
				key.mv_size = STORE_EVKEY_LEN;
				body.mv_data = (uint8_t *)v.mv_data + STORE_EVKEY_LEN;
				body.mv_size = v.mv_size - STORE_EVKEY_LEN;
			}
			if (store_evkey_decode(key.mv_data, key.mv_size, &b.key) == -1 ||
			    store_block_open(&it, body.mv_data, body.mv_size) == -1) {
				blocks = -1;
				goto out;
			}
			b.vlen = body.mv_size;
			b.count = it.count;
			b.span_ms = it.span_ms;
			blocks++;
			while ((more = store_block_next(&it, &delta, &ev, &evlen)) == 1)
				if (cb != NULL && cb(&b, b.key.first_seq + delta, ev, evlen, arg) != 0)
					break;
			if (more == -1) {
				blocks = -1;
				goto out;
			}
		}
		mdb_cursor_close(c);
		c = NULL;
		if (rc != MDB_NOTFOUND) {
			blocks = -1;
			goto out;
		}
	}
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return blocks;
}

#endif
