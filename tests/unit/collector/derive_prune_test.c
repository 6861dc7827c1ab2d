/* Tandem — MIT licence. Unit tests for collector/derive_prune.c over a real store. */
#include <errno.h>

#include "collector/derive_prune.h"
#include "collector/store.h"
#include "common/derived.h"
#include "tests/unit/collector/tmpstore.h"
#include "tests/unit/common/cases.h"

#define MAP		(64ULL << 20)
#define MIN		60000ULL
#define T0		(1700000000000ULL / MIN * MIN)	/* a minute boundary */

struct fx {
	char		 dir[4096];
	struct store	*s;
	unsigned int	 jobs, apps, done;
};

static void
fx_open(struct fx *f)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	if (tmpdir_make(f->dir, sizeof(f->dir)) == -1)
		fail_msg("mkdtemp: %s", strerror(errno));
	if ((f->s = store_open(f->dir, MAP, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_dbi(f->s, DERIVED_DB_JOBS, &f->jobs), 0);
	assert_int_equal(store_dbi(f->s, DERIVED_DB_APPS, &f->apps), 0);
	assert_int_equal(store_dbi(f->s, DERIVED_DB_TXN_DONE, &f->done), 0);
}

static void
fx_close(struct fx *f)
{
	store_close(f->s);
	tmpdir_remove(f->dir);
}

/* napps x njobs job rollups for minutes T0 .. T0 + (nmin - 1) min, and app rollups alike. */
static void
put_rollups(struct fx *f, uint32_t napps, uint32_t njobs, uint64_t nmin)
{
	uint8_t k[DERIVED_MINKEY_LEN], v[8] = { 1, 0 };
	uint32_t a, j;
	uint64_t m;

	for (a = 1; a <= napps; a++)
		for (m = 0; m < nmin; m++) {
			for (j = 1; j <= njobs; j++) {
				derived_minkey(k, a, j, (int64_t)(T0 + m * MIN));
				assert_int_equal(store_put(f->s, f->jobs, k, sizeof(k), v, 2), 0);
			}
			derived_appminkey(k, a, (int64_t)(T0 + m * MIN));
			assert_int_equal(store_put(f->s, f->apps, k, DERIVED_APPMINKEY_LEN, v, 2), 0);
		}
	assert_int_equal(store_commit(f->s), 0);
}

static void
put_txn(struct fx *f, uint32_t app, const char *id, int64_t last_ms)
{
	struct derived_txn t;
	uint8_t k[DERIVED_TXNKEY_MAX], v[512];
	size_t klen, vlen;

	memset(&t, 0, sizeof(t));
	t.state = DERIVED_TXN_DONE;
	t.begin_ms = last_ms - 1000;
	t.step_ms = last_ms - 500;
	t.last_ms = last_ms;
	t.nevents = 2;
	klen = derived_txnkey(k, app, id, strlen(id));
	vlen = derived_txn_encode(&t, v, sizeof(v));
	assert_true(klen > 0 && vlen > 0);
	assert_int_equal(store_put(f->s, f->done, k, klen, v, vlen), 0);
}

/* Which of the rollups put_rollups wrote are still there: before and after the cutoff. */
static void
count_rollups(struct fx *f, uint32_t napps, uint32_t njobs, uint64_t nmin, uint64_t cutoff,
    size_t *young, size_t *old)
{
	uint8_t k[DERIVED_MINKEY_LEN], v[16];
	size_t len;
	uint32_t a, j;
	uint64_t m;
	int rc;

	*young = *old = 0;
	for (a = 1; a <= napps; a++)
		for (m = 0; m < nmin; m++)
			for (j = 0; j <= njobs; j++) {	/* j 0: the app rollup */
				len = sizeof(v);
				if (j == 0) {
					derived_appminkey(k, a, (int64_t)(T0 + m * MIN));
					rc = store_get(f->s, f->apps, k, DERIVED_APPMINKEY_LEN, v,
					    &len);
				} else {
					derived_minkey(k, a, j, (int64_t)(T0 + m * MIN));
					rc = store_get(f->s, f->jobs, k, sizeof(k), v, &len);
				}
				assert_true(rc >= 0);
				if (rc == 1 && T0 + m * MIN + MIN <= cutoff)
					(*old)++;
				else if (rc == 1)
					(*young)++;
			}
}

/* Rollups: everything before the cutoff goes, everything after stays, over many calls. */
static void
test_rollups(void **state)
{
	struct fx f;
	uint64_t cutoff = T0 + 30 * MIN;	/* minutes 0..29 go, 30..59 stay */
	size_t young, old, calls = 0;
	long n, total = 0;

	fx_open(&f);
	put_rollups(&f, 20, 5, 60);
	do {
		n = derive_prune(f.s, cutoff, 97);	/* an odd budget: resumes mid-range */
		assert_true(n >= 0);
		assert_true(n <= 97);
		total += n;
		assert_int_equal(store_commit(f.s), 0);
	} while ((n > 0 || ++calls < 8) && calls < 10000);
	assert_int_equal(total, 20 * 5 * 30 + 20 * 30);
	count_rollups(&f, 20, 5, 60, cutoff, &young, &old);
	assert_int_equal(old, 0);
	assert_int_equal(young, 20 * 5 * 30 + 20 * 30);
	store_abort(f.s);
	fx_close(&f);
}

/* Finished transactions go by their last event; the rest stay. */
static void
test_txn_done(void **state)
{
	struct fx f;
	uint64_t cutoff = T0 + 10 * MIN;
	uint8_t k[DERIVED_TXNKEY_MAX], v[512];
	size_t klen, len, left = 0;
	char id[32];
	long total = 0, n;
	int i;

	fx_open(&f);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "T-%04d", i);
		put_txn(&f, 1 + (uint32_t)i % 7, id, (int64_t)(T0 + (uint64_t)i * 4000));
	}
	assert_int_equal(store_commit(f.s), 0);
	for (i = 0; i < 50; i++) {
		n = derive_prune(f.s, cutoff, 10);
		assert_true(n >= 0);
		total += n;
		assert_int_equal(store_commit(f.s), 0);
	}
	/* last_ms = T0 + i * 4 s < T0 + 600 s: i < 150 */
	assert_int_equal(total, 150);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "T-%04d", i);
		klen = derived_txnkey(k, 1 + (uint32_t)i % 7, id, strlen(id));
		len = sizeof(v);
		n = store_get(f.s, f.done, k, klen, v, &len);
		assert_int_equal(n, i >= 150);
		left += (size_t)n;
	}
	assert_int_equal(left, 150);
	store_abort(f.s);
	fx_close(&f);
}

/* A cutoff before every record deletes nothing; an empty store is no error. */
static void
test_nothing(void **state)
{
	struct fx f;
	int i;

	fx_open(&f);
	for (i = 0; i < 6; i++)
		assert_int_equal(derive_prune(f.s, T0, 1000), 0);
	put_rollups(&f, 3, 2, 5);
	for (i = 0; i < 6; i++)
		assert_int_equal(derive_prune(f.s, T0, 1000), 0);
	store_abort(f.s);
	fx_close(&f);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "derive_prune: rollups before the cutoff go, resuming over calls",
	    test_rollups, NULL);
	cases_add(&cs, "derive_prune: finished transactions go by their last event",
	    test_txn_done, NULL);
	cases_add(&cs, "derive_prune: nothing older than the cutoff, nothing deleted",
	    test_nothing, NULL);
	return cases_run(&cs, "derive_prune");
}
