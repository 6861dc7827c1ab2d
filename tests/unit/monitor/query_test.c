/* Tandem — MIT licence. query: answers over a seeded temporary store (derived records and raw events). */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "common/derived.h"
#include "common/hist.h"
#include "common/store_schema.h"
#include "common/wire.h"
#include "monitor/query.h"
#include "proto/agent.pb-c.h"
#include "tests/unit/common/cases.h"

#define NOW	1700000000000LL
#define MIN(m)	(derived_minute(NOW) - (int64_t)(m) * 60000)

static char dir[256];
static MDB_env *env;
static MDB_txn *wt;

static MDB_dbi
db(const char *name)
{
	MDB_dbi d;

	if (mdb_dbi_open(wt, name, MDB_CREATE, &d) != 0)
		fail_msg("dbi %s", name);
	return d;
}

static void
put(const char *dbname, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_val kk = { kl, (void *)k }, vv = { vl, (void *)v };

	if (mdb_put(wt, db(dbname), &kk, &vv, 0) != 0)
		fail_msg("put %s", dbname);
}

static void
name(enum store_ns ns, const char *n, uint32_t id)
{
	uint8_t nk[STORE_NAMEKEY_MAX], ik[STORE_IDKEY_LEN], idb[4];
	size_t len = strlen(n);

	nk[0] = (uint8_t)ns;
	memcpy(nk + 1, n, len);
	store_put_be32(idb, id);
	put(STORE_DB_NAMES, nk, len + 1, idb, 4);
	ik[0] = (uint8_t)ns;
	store_put_be32(ik + 1, id);
	put(STORE_DB_IDS, ik, sizeof(ik), n, len);
}

/* One log event as a one-event block of agent 1, seq seq. */
static void
log_event(uint64_t seq, int64_t t, int level, const char *msg)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__LogLine l = TANDEM__LOG_LINE__INIT;
	struct store_evkey k = { 1, 4, (uint64_t)t, 1, seq };
	uint8_t kb[STORE_EVKEY_LEN], v[512];
	size_t n;

	ev.has_time_ms = 1;
	ev.time_ms = t;
	ev.kind_case = TANDEM__EVENT__KIND_LOG;
	ev.log = &l;
	l.has_level = 1;
	l.level = (Tandem__LogLevel)level;
	l.message = (char *)msg;
	n = tandem__event__pack(&ev, v + 5);
	v[0] = STORE_BLOCK_VERSION;
	v[1] = 1;
	v[2] = 0;
	v[3] = 0;
	v[4] = (uint8_t)n;
	store_evkey_encode(kb, &k);
	put(STORE_DB_EVENTS, kb, sizeof(kb), v, n + 5);
}

static void
seed(void)
{
	struct derived_app as = { .first_ms = MIN(40), .last_ms = NOW - 1000, .events = 999,
	    .live_txns = 2 };
	struct derived_job j = { 0 };
	struct derived_queue q = { 0 };
	struct derived_step st = { 0 };
	struct derived_txn x = { 0 };
	struct hist *h = hist_new();
	static uint8_t buf[DERIVED_JOB_MAX];
	uint8_t k[DERIVED_TXNKEY_MAX];
	size_t n, kl;
	int m, i;

	snprintf(dir, sizeof(dir), "%s/query-XXXXXX", getenv("TEST_TMPDIR") ?
	    getenv("TEST_TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL || mdb_env_create(&env) != 0 ||
	    mdb_env_set_maxdbs(env, 32) != 0 || mdb_env_set_mapsize(env, 64 << 20) != 0 ||
	    mdb_env_open(env, dir, 0, 0640) != 0 || mdb_txn_begin(env, NULL, 0, &wt) != 0)
		fail_msg("env");
	db(STORE_DB_AGENTS);
	name(STORE_NS_APP, "a1", 1);
	name(STORE_NS_JOB, "pack", 1);
	name(STORE_NS_QUEUE, "inbound", 1);
	name(STORE_NS_STEP, "weigh", 1);
	derived_metakey(k, DERIVED_META_APP, 1);
	n = derived_app_encode(&as, buf, sizeof(buf));
	put(DERIVED_DB_META, k, DERIVED_METAKEY_LEN, buf, n);
	/* Jobs: the last 3 minutes 100 timings each of 1..100 ms, 5 failed; a day ago 10x faster. */
	for (m = 0; m < 3; m++) {
		hist_init(h);
		for (i = 1; i <= 100; i++)
			hist_record(h, (uint64_t)i * 1000);
		j.count = 100;
		j.errors = 5;
		j.hist = h;
		n = derived_job_encode(&j, buf, sizeof(buf));
		derived_minkey(k, 1, 1, MIN(m));
		put(DERIVED_DB_JOBS, k, DERIVED_MINKEY_LEN, buf, n);
		hist_init(h);
		for (i = 1; i <= 100; i++)
			hist_record(h, (uint64_t)i * 100);
		n = derived_job_encode(&j, buf, sizeof(buf));
		derived_minkey(k, 1, 1, MIN(m) - 86400000);
		put(DERIVED_DB_JOBS, k, DERIVED_MINKEY_LEN, buf, n);
	}
	/* Queue: 30 minutes, a saw-tooth whose troughs rise 10 a minute. */
	for (m = 0; m < 30; m++) {
		q.samples = 6;
		q.min = (uint64_t)(100 + (30 - m) * 10);
		q.max = q.min + 80;
		q.last = q.min + 40;
		q.last_ms = MIN(m) + 50000;
		n = derived_queue_encode(&q, buf, sizeof(buf));
		derived_minkey(k, 1, 1, MIN(m));
		put(DERIVED_DB_QUEUES, k, DERIVED_MINKEY_LEN, buf, n);
	}
	/* Step "weigh": 100 stays of 1..100 ms in the last hour: p99 ~ 99 ms. */
	hist_init(h);
	for (i = 1; i <= 100; i++)
		hist_record(h, (uint64_t)i * 1000);
	st.entries = st.first_entries = 100;
	st.hist = h;
	n = derived_step_encode(&st, buf, sizeof(buf));
	derived_minkey(k, 1, 1, MIN(5));
	put(DERIVED_DB_STEPS, k, DERIVED_MINKEY_LEN, buf, n);
	/* Two running transactions in "weigh": one for 50 ms, one for an hour and a half. */
	x.state = DERIVED_TXN_RUNNING;
	x.step = 1;
	x.begin_ms = NOW - 100;
	x.step_ms = NOW - 50;
	x.last_ms = NOW - 50;
	x.nevents = 2;
	kl = derived_txnkey(k, 1, "fresh", 5);
	n = derived_txn_encode(&x, buf, sizeof(buf));
	put(DERIVED_DB_TXN_LIVE, k, kl, buf, n);
	x.begin_ms = x.step_ms = x.last_ms = NOW - 5400000;
	kl = derived_txnkey(k, 1, "old", 3);
	n = derived_txn_encode(&x, buf, sizeof(buf));
	put(DERIVED_DB_TXN_LIVE, k, kl, buf, n);
	db(DERIVED_DB_APPS);
	db(DERIVED_DB_TXN_DONE);
	/* 25 log lines, one a second, every fifth an error. */
	for (i = 0; i < 25; i++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "line %d%s", i, i % 5 == 0 ? " failed" : "");
		log_event((uint64_t)i + 1, NOW - 30000 + i * 1000, i % 5 == 0 ? 3 : 1, msg);
	}
	if (mdb_txn_commit(wt) != 0)
		fail_msg("commit");
	mdb_env_close(env);
	hist_free(h);
}

static void
unseed(void)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static struct query *
open_q(void)
{
	struct query_conf c;
	struct query *q;
	char err[256];

	query_conf_default(&c);
	c.growth_window_ms = 30 * 60000;
	if ((q = query_open(dir, &c, err, sizeof(err))) == NULL)
		fail_msg("query_open: %s", err);
	return q;
}

static json_int_t
geti(json_t *o, const char *path)
{
	return json_integer_value(json_object_get(o, path));
}

static void
test_perf(void **state)
{
	struct query *q = open_q();
	struct query_err e = { 0 };
	json_t *r = query_perf(q, "a1", "pack", NOW - 3 * 60000, NOW, 86400000, &e), *j;

	CHECK(r != NULL);
	j = json_array_get(json_object_get(r, "jobs"), 0);
	CHECK(geti(j, "count") == 300 && geti(j, "errors") == 15);
	CHECK(geti(j, "p50_us") >= 50000 - 50000 / 128 && geti(j, "p50_us") <= 50000 + 50000 / 128);
	CHECK(geti(j, "p99_us") >= 99000 - 99000 / 128 && geti(j, "p99_us") <= 99000 + 99000 / 128);
	CHECK(geti(json_object_get(j, "compare"), "count") == 300);
	CHECK(geti(json_object_get(j, "compare"), "p50_us") <= 5100);
	json_decref(r);
	/* One minute ("at"), and an app that does not exist. */
	r = query_perf(q, "a1", NULL, MIN(1), MIN(1) + 59999, 0, &e);
	CHECK(geti(json_array_get(json_object_get(r, "jobs"), 0), "count") == 100);
	json_decref(r);
	CHECK(query_perf(q, "nope", NULL, 0, NOW, 0, &e) == NULL && e.status == 404 &&
	    strcmp(e.param, "app") == 0);
	r = query_perf_top(q, 5, NOW - 3 * 60000, NOW, 0, &e);
	CHECK(json_array_size(json_object_get(r, "jobs")) == 1);
	json_decref(r);
	query_close(q);
}

static void
test_queue(void **state)
{
	struct query *q = open_q();
	struct query_err e = { 0 };
	json_t *r = query_queue(q, "a1", "inbound", NOW - 30 * 60000, NOW, 0, &e);

	CHECK(r != NULL);
	CHECK(strcmp(json_string_value(json_object_get(r, "verdict")), "growing") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r, "resolution")), "minute-troughs") == 0);
	CHECK(json_array_size(json_object_get(r, "series")) >= 29);
	json_decref(r);
	CHECK(query_queue(q, "a1", "nope", 0, NOW, 0, &e) == NULL && e.status == 404);
	/* The overview learns it through the refresher. */
	CHECK(query_refresh(q, NOW, 1000000) == 1);
	r = query_apps(q, NOW, &e);
	CHECK(geti(r, "count") == 1);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r, "apps"),
	    0), "worst_queue_verdict")), "growing") == 0);
	CHECK(geti(json_array_get(json_object_get(r, "apps"), 0), "stuck_txns") == 1);
	json_decref(r);
	r = query_queues_growing(q, NOW, &e);
	CHECK(geti(r, "count") == 1);
	json_decref(r);
	query_close(q);
}

static void
test_txns(void **state)
{
	struct query *q = open_q();
	struct query_err e = { 0 };
	struct query_txn_filter f = { .limit = 10 };
	json_t *r = query_txns(q, &f, NOW, &e), *t;

	CHECK(geti(r, "matched") == 2);
	json_decref(r);
	f.state = "stuck";
	r = query_txns(q, &f, NOW, &e);
	CHECK(geti(r, "matched") == 1);
	t = json_array_get(json_object_get(r, "transactions"), 0);
	CHECK(strcmp(json_string_value(json_object_get(t, "txn_id")), "old") == 0);
	CHECK(strcmp(json_string_value(json_object_get(t, "step")), "weigh") == 0);
	CHECK(geti(t, "time_in_step_ms") == 5400000);
	json_decref(r);
	f.state = NULL;
	f.limit = 1;
	r = query_txns(q, &f, NOW, &e);
	CHECK(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	f.step = "nope";
	CHECK(query_txns(q, &f, NOW, &e) == NULL && e.status == 404);
	query_close(q);
}

static void
test_logs(void **state)
{
	struct query *q = open_q();
	struct query_err e = { 0 };
	struct query_log_filter f = { "a1", -1, NOW - 60000, NOW, NULL, 10, NULL };
	json_t *r = query_logs(q, &f, &e), *r2;
	char cur[80];

	CHECK(json_array_size(json_object_get(r, "logs")) == 10);
	CHECK(geti(json_array_get(json_object_get(r, "logs"), 0), "time_ms") == NOW - 6000);
	snprintf(cur, sizeof(cur), "%s", json_string_value(json_object_get(r, "next_cursor")));
	f.cursor = cur;
	r2 = query_logs(q, &f, &e);
	CHECK(geti(json_array_get(json_object_get(r2, "logs"), 0), "time_ms") == NOW - 16000);
	json_decref(r);
	json_decref(r2);
	f.cursor = NULL;
	f.level = 3;
	f.limit = 100;
	r = query_logs(q, &f, &e);
	CHECK(json_array_size(json_object_get(r, "logs")) == 5);
	CHECK(json_is_null(json_object_get(r, "next_cursor")));
	json_decref(r);
	f.level = -1;
	f.text = "line 7";
	r = query_logs(q, &f, &e);
	CHECK(json_array_size(json_object_get(r, "logs")) == 1);
	json_decref(r);
	f.text = NULL;
	f.cursor = "x.y";
	CHECK(query_logs(q, &f, &e) == NULL && e.status == 400 && strcmp(e.param, "cursor") == 0);
	query_close(q);
}

static void
test_empty_store(void **state)
{
	struct query_conf c;
	struct query_err e = { 0 };
	struct query *q;
	char d2[300], err[256], p[320];
	MDB_env *en;
	MDB_txn *t;
	MDB_dbi x;
	json_t *r;

	/* A store a collector without derive wrote: no derived databases, empty answers. */
	snprintf(d2, sizeof(d2), "%.250s-empty", dir);
	CHECK(mkdir(d2, 0700) == 0);
	CHECK(mdb_env_create(&en) == 0 && mdb_env_set_maxdbs(en, 8) == 0 &&
	    mdb_env_open(en, d2, 0, 0640) == 0 && mdb_txn_begin(en, NULL, 0, &t) == 0);
	mdb_dbi_open(t, STORE_DB_NAMES, MDB_CREATE, &x);
	mdb_dbi_open(t, STORE_DB_IDS, MDB_CREATE, &x);
	mdb_dbi_open(t, STORE_DB_EVENTS, MDB_CREATE, &x);
	CHECK(mdb_txn_commit(t) == 0);
	mdb_env_close(en);
	query_conf_default(&c);
	CHECK((q = query_open(d2, &c, err, sizeof(err))) != NULL);
	r = query_apps(q, NOW, &e);
	CHECK(r != NULL && geti(r, "count") == 0);
	json_decref(r);
	query_close(q);
	snprintf(p, sizeof(p), "%s/data.mdb", d2);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", d2);
	unlink(p);
	rmdir(d2);
}

int
main(void)
{
	static struct cases cs;
	int rc;

	seed();
	cases_add(&cs, "perf: counts, error rate, percentiles, compare, at, top, 404",
	    test_perf, NULL);
	cases_add(&cs, "queue: minute troughs, growing verdict, overview, growing list",
	    test_queue, NULL);
	cases_add(&cs, "transactions: board, stuck beyond the step p99, limit, unknown step",
	    test_txns, NULL);
	cases_add(&cs, "logs: newest first, cursor pages, level, text, bad cursor", test_logs,
	    NULL);
	cases_add(&cs, "store without derived databases answers empty", test_empty_store, NULL);
	rc = cases_run(&cs, "query");
	unseed();
	return rc;
}
