/* Tandem — MIT licence. Retention for derived records: old rollups and finished transactions. */
#include <stdint.h>
#include <string.h>

#include "collector/derive_prune.h"
#include "collector/store.h"
#include "common/derived.h"
#include "common/store_schema.h"

#define VISITS_PER_CALL	20000	/* records looked at per call: a bounded slice of a tick */

/* The databases in the order they are pruned; time_off: where minute_ms sits in the key. */
static const struct {
	const char	*name;
	size_t		 time_off;	/* 0: the time is in the value (finished transactions) */
} dbs[] = {
	{ DERIVED_DB_JOBS,	8 },
	{ DERIVED_DB_QUEUES,	8 },
	{ DERIVED_DB_STEPS,	8 },
	{ DERIVED_DB_APPS,	4 },
	{ DERIVED_DB_TXN_DONE,	0 },
};
#define NDBS	(sizeof(dbs) / sizeof(dbs[0]))

static struct {
	uint64_t		 instance;	/* store_instance of the handles' store; 0 none */
	unsigned int		 dbi[NDBS];
	size_t			 cur;		/* the database being walked */
	struct store_prune_it	 it;
} dp;

struct verdict_arg {
	uint64_t	 cutoff_ms;
	size_t		 time_off;
};

/* A rollup key: app | [id |] minute_ms; the rest of its range is younger than this minute. */
static enum store_prune_verdict
rollup_verdict(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg,
    size_t *skip)
{
	const struct verdict_arg *va = arg;
	uint64_t minute;

	if (klen != va->time_off + 8)
		return STORE_PRUNE_KEEP;	/* not ours to judge */
	minute = store_get_be64(key + va->time_off);
	if (minute + 60000 <= va->cutoff_ms)
		return STORE_PRUNE_DEL;
	*skip = va->time_off;
	return STORE_PRUNE_SKIP;
}

static enum store_prune_verdict
txn_verdict(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg,
    size_t *skip)
{
	const struct verdict_arg *va = arg;
	struct derived_txn t;

	if (derived_txn_decode(val, vlen, &t) == -1)
		return STORE_PRUNE_KEEP;	/* `tandem verify` reports it; never guess */
	return t.last_ms >= 0 && (uint64_t)t.last_ms < va->cutoff_ms ? STORE_PRUNE_DEL :
	    STORE_PRUNE_KEEP;
}

static int
open_dbis(struct store *s)
{
	size_t i;

	if (dp.instance == store_instance(s))
		return 0;
	dp.instance = 0;
	for (i = 0; i < NDBS; i++)
		if (store_dbi(s, dbs[i].name, &dp.dbi[i]) == -1)
			return -1;
	dp.instance = store_instance(s);
	dp.cur = 0;
	dp.it.len = 0;
	return 0;
}

long
derive_prune(struct store *s, uint64_t cutoff_ms, size_t max_deletes)
{
	struct verdict_arg va = { cutoff_ms, 0 };
	long n, deleted = 0;
	size_t i;

	if (cutoff_ms <= 60000 || open_dbis(s) == -1)
		return cutoff_ms <= 60000 ? 0 : -1;
	/* Each database at most once per call; a walk that ends moves on to the next. */
	for (i = 0; i < NDBS && (size_t)deleted < max_deletes; i++) {
		va.time_off = dbs[dp.cur].time_off;
		n = store_prune_db(s, dp.dbi[dp.cur], &dp.it, va.time_off > 0 ? rollup_verdict :
		    txn_verdict, &va, max_deletes - (size_t)deleted, VISITS_PER_CALL);
		if (n == -1)
			return -1;
		deleted += n;
		if (dp.it.len != 0)
			break;			/* a budget ran out: resume here next time */
		dp.cur = (dp.cur + 1) % NDBS;
	}
	return deleted;
}
