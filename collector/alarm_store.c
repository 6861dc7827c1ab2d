/* Tandem — MIT licence. monitord's alarm state in the replicated store: the `alarms` database. */
#include <stdint.h>
#include <stdio.h>

#include "collector/alarm_store.h"
#include "collector/collector.h"
#include "collector/ingest.h"
#include "collector/store.h"
#include "common/log.h"

static unsigned int	 as_dbi;
static int		 as_open;
static uint64_t		 as_store;	/* store_instance of the handle's store */
static uint64_t		 as_term;	/* the term it was opened in */

/*
 * Makes the node ready for one change in a transaction of its own: a writer, the tick's
 * transaction committed (so a failed put cannot take agents' events with it), the database
 * open. store_dbi commits, which on an HA node is a replicated record: only while active.
 */
static int
as_prepare(struct collector *c, char *err, size_t errlen)
{
	if (c->role != ROLE_SINGLE && c->role != ROLE_ACTIVE) {
		snprintf(err, errlen, "not the active node (role %s)", collector_role_name(c->role));
		return -1;
	}
	if (c->paused || c->draining) {
		snprintf(err, errlen, "draining: not taking writes");
		return -1;
	}
	if (store_dirty(c->store) && ingest_commit(c->ingest) == -1) {
		snprintf(err, errlen, "store: %s", store_strerror(c->store));
		return -1;
	}
	if (!as_open || as_store != store_instance(c->store) || as_term != c->term) {
		if (store_dbi(c->store, ALARM_STORE_DB, &as_dbi) == -1) {
			snprintf(err, errlen, "store: %s: %s", ALARM_STORE_DB,
			    store_strerror(c->store));
			as_open = 0;
			return -1;
		}
		as_open = 1;
		as_store = store_instance(c->store);
		as_term = c->term;
	}
	return 0;
}

static int
as_check_key(size_t klen, char *err, size_t errlen)
{
	if (klen == 0 || klen > ALARM_STORE_KEY_MAX) {
		snprintf(err, errlen, "key of %zu bytes: 1..%d", klen, ALARM_STORE_KEY_MAX);
		return -1;
	}
	return 0;
}

static int
as_commit(struct collector *c, char *err, size_t errlen)
{
	if (store_commit(c->store) == -1) {
		snprintf(err, errlen, "store: commit: %s", store_strerror(c->store));
		return -1;
	}
	return 0;
}

int
alarm_store_put(struct collector *c, const void *key, size_t klen, const void *val,
    size_t vlen, char *err, size_t errlen)
{
	if (as_check_key(klen, err, errlen) == -1)
		return -1;
	if (vlen > ALARM_STORE_VAL_MAX) {
		snprintf(err, errlen, "value of %zu bytes: at most %d", vlen, ALARM_STORE_VAL_MAX);
		return -1;
	}
	if (as_prepare(c, err, errlen) == -1)
		return -1;
	if (store_put(c->store, as_dbi, key, klen, val, vlen) == -1) {
		snprintf(err, errlen, "store: put: %s", store_strerror(c->store));
		return -1;
	}
	return as_commit(c, err, errlen);
}

int
alarm_store_del(struct collector *c, const void *key, size_t klen, char *err, size_t errlen)
{
	if (as_check_key(klen, err, errlen) == -1 || as_prepare(c, err, errlen) == -1)
		return -1;
	if (store_del(c->store, as_dbi, key, klen) == -1) {
		snprintf(err, errlen, "store: del: %s", store_strerror(c->store));
		return -1;
	}
	return as_commit(c, err, errlen);
}
