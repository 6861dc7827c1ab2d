/* Tandem — MIT licence. Queries over derived records (and raw events for short windows), copied out as JSON. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "common/derived.h"
#include "common/hist.h"
#include "common/store_schema.h"
#include "common/xalloc.h"
#include "monitor/growth.h"
#include "monitor/query.h"
#include "proto/agent.pb-c.h"

#define NAME_MAX_LEN	256
#define MODEL_TTL_MS	60000
#define SAMPLES_MAX	4096	/* queue samples fed to one verdict */
#define SERIES_MAX	1500	/* points in a queue series answer */

enum { KIND_QUEUE = 1, KIND_TXN = 2, KIND_JOB = 3, KIND_LOG = 4 };

struct app_cache {
	uint32_t	 app;
	int64_t		 refreshed_ms;
	int		 verdict;		/* worst growth verdict, enum growth_verdict */
	char		 queue[64];		/* the queue with it */
	uint32_t	 stuck;
	int64_t		 model_ms;		/* step model learnt at */
	uint32_t	 nsteps;
	uint32_t	 step_id[32];
	uint64_t	 step_p99_us[32];
};

struct query {
	MDB_env		*env;
	MDB_dbi		 ids, names, events;
	MDB_dbi		 meta, jobs, queues, steps, apps, live, done;
	int		 derived;	/* the derived databases exist */
	struct query_conf conf;
	struct app_cache *cache;	/* sorted by app */
	size_t		 ncache;
	size_t		 refresh_pos;
	struct hist	 h1, h2;	/* scratch */
};

static const char *const level_names[] = { "debug", "info", "warn", "error", "fatal" };

int
query_level(const char *s)
{
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
query_conf_default(struct query_conf *c)
{
	c->growth_window_ms = 15 * 60000;
	c->growth_floor = 10;
	c->stuck_factor = 3;
	c->stuck_min_ms = 10000;
	c->stuck_idle_ms = 3600000;
	c->silent_ms = 60000;
	c->model_window_ms = 3600000;
}

static int qfail(struct query_err *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

static int
qfail(struct query_err *e, int status, const char *param, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->param, sizeof(e->param), "%s", param != NULL ? param : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
open_dbis(struct query *q, MDB_txn *txn)
{
	int rc;

	if ((rc = mdb_dbi_open(txn, STORE_DB_IDS, 0, &q->ids)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_NAMES, 0, &q->names)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_EVENTS, 0, &q->events)) != 0)
		return rc;
	if (mdb_dbi_open(txn, DERIVED_DB_META, 0, &q->meta) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_JOBS, 0, &q->jobs) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_QUEUES, 0, &q->queues) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_STEPS, 0, &q->steps) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_APPS, 0, &q->apps) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_TXN_LIVE, 0, &q->live) == 0 &&
	    mdb_dbi_open(txn, DERIVED_DB_TXN_DONE, 0, &q->done) == 0)
		q->derived = 1;
	return 0;
}

struct query *
query_open(const char *path, const struct query_conf *conf, char *err, size_t errlen)
{
	struct query *q;
	MDB_txn *txn = NULL;
	int rc;

	if ((q = xcalloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->conf = *conf;
	if ((rc = mdb_env_create(&q->env)) != 0 || (rc = mdb_env_set_maxdbs(q->env, 64)) != 0 ||
	    (rc = mdb_env_set_maxreaders(q->env, 256)) != 0 ||
	    (rc = mdb_env_open(q->env, path, MDB_RDONLY | MDB_NOTLS, 0640)) != 0 ||
	    (rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = open_dbis(q, txn)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		snprintf(err, errlen, "store %s: %s", path, mdb_strerror(rc));
		if (txn != NULL && rc != 0)
			mdb_txn_abort(txn);
		query_close(q);
		return NULL;
	}
	return q;
}

void
query_close(struct query *q)
{
	if (q == NULL)
		return;
	if (q->env != NULL)
		mdb_env_close(q->env);
	xfree(q->cache);
	xfree(q);
}

/* A read transaction; the derived databases are looked for again while they are missing. */
static MDB_txn *
rd_begin(struct query *q, struct query_err *e)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn)) != 0) {
		qfail(e, 500, NULL, "store: %s", mdb_strerror(rc));
		return NULL;
	}
	if (!q->derived) {
		/* Handles opened in a read transaction stay valid once it ends. */
		mdb_txn_abort(txn);
		if (mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn) != 0)
			return NULL;
		open_dbis(q, txn);
		mdb_txn_commit(txn);
		if ((rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn)) != 0) {
			qfail(e, 500, NULL, "store: %s", mdb_strerror(rc));
			return NULL;
		}
	}
	return txn;
}

/* Names. */

static int
name_of(struct query *q, MDB_txn *txn, enum store_ns ns, uint32_t id, char *buf, size_t len)
{
	uint8_t kb[STORE_IDKEY_LEN];
	MDB_val k = { sizeof(kb), kb }, v;
	size_t n;

	kb[0] = (uint8_t)ns;
	store_put_be32(kb + 1, id);
	if (mdb_get(txn, q->ids, &k, &v) != 0) {
		snprintf(buf, len, "#%u", id);
		return 0;
	}
	n = v.mv_size < len - 1 ? v.mv_size : len - 1;
	memcpy(buf, v.mv_data, n);
	buf[n] = '\0';
	return 1;
}

static int
id_of(struct query *q, MDB_txn *txn, enum store_ns ns, const char *name, uint32_t *id)
{
	uint8_t kb[STORE_NAMEKEY_MAX];
	size_t n = strlen(name);
	MDB_val k = { n + 1, kb }, v;

	if (n == 0 || n >= sizeof(kb))
		return 0;
	kb[0] = (uint8_t)ns;
	memcpy(kb + 1, name, n);
	if (mdb_get(txn, q->names, &k, &v) != 0 || v.mv_size != 4)
		return 0;
	*id = store_get_be32(v.mv_data);
	return 1;
}

static int
app_id(struct query *q, MDB_txn *txn, const char *app, uint32_t *id, struct query_err *e)
{
	if (!id_of(q, txn, STORE_NS_APP, app, id))
		return qfail(e, 404, "app", "no application \"%s\"", app);
	return 0;
}

/* Derived records: the app status and minute ranges. */

/* Calls cb for each minute record of (app, id) in [from, to]; cb returns non-zero to stop. */
typedef int (*minute_cb)(int64_t minute, const MDB_val *v, void *arg);

static int
minute_range(MDB_txn *txn, MDB_dbi dbi, uint32_t app, uint32_t id, int64_t from, int64_t to,
    minute_cb cb, void *arg)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	uint32_t a, i;
	int64_t m;
	int rc;

	if (mdb_cursor_open(txn, dbi, &c) != 0)
		return -1;
	derived_minkey(kb, app, id, derived_minute(from));
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != DERIVED_MINKEY_LEN)
			break;
		derived_minkey_decode(k.mv_data, &a, &i, &m);
		if (a != app || i != id || m > to || cb(m, &v, arg))
			break;
	}
	mdb_cursor_close(c);
	return 0;
}

/* The ids of app's records in dbi (distinct second key field), at most max. */
static size_t
ids_of_app(MDB_txn *txn, MDB_dbi dbi, uint32_t app, uint32_t *out, size_t max)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	uint32_t a, id = 0;
	int64_t m;
	size_t n = 0;

	if (mdb_cursor_open(txn, dbi, &c) != 0)
		return 0;
	while (n < max) {
		derived_minkey(kb, app, id, 0);
		k.mv_data = kb;
		k.mv_size = sizeof(kb);
		if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size != sizeof(kb))
			break;
		derived_minkey_decode(k.mv_data, &a, &id, &m);
		if (a != app)
			break;
		out[n++] = id;
		if (id == UINT32_MAX)
			break;
		id++;
	}
	mdb_cursor_close(c);
	return n;
}

/* Apps. */

struct appmin_acc {
	struct derived_appmin	sum;
	int			n;
};

static int
appmin_cb(MDB_txn *txn, MDB_dbi dbi, uint32_t app, int64_t from, int64_t to,
    struct appmin_acc *acc)
{
	uint8_t kb[DERIVED_APPMINKEY_LEN];
	struct derived_appmin am;
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	unsigned i;

	memset(acc, 0, sizeof(*acc));
	if (mdb_cursor_open(txn, dbi, &c) != 0)
		return -1;
	derived_appminkey(kb, app, derived_minute(from));
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != sizeof(kb) || store_get_be32(k.mv_data) != app ||
		    (int64_t)store_get_be64((uint8_t *)k.mv_data + 4) > to)
			break;
		if (derived_appmin_decode(v.mv_data, v.mv_size, &am) == -1)
			continue;
		for (i = 0; i < DERIVED_KINDS; i++)
			acc->sum.kinds[i] += am.kinds[i];
		for (i = 0; i < DERIVED_LEVELS; i++)
			acc->sum.levels[i] += am.levels[i];
		acc->sum.txn_begin += am.txn_begin;
		acc->sum.txn_end += am.txn_end;
		acc->sum.txn_error += am.txn_error;
		acc->sum.jobs += am.jobs;
		acc->sum.job_errors += am.job_errors;
		acc->n++;
	}
	mdb_cursor_close(c);
	return 0;
}

static struct app_cache *
cache_find(struct query *q, uint32_t app)
{
	size_t lo = 0, hi = q->ncache;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (q->cache[mid].app == app)
			return &q->cache[mid];
		if (q->cache[mid].app < app)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct app_cache *
cache_get(struct query *q, uint32_t app)
{
	struct app_cache *c = cache_find(q, app), *nc;
	size_t i;

	if (c != NULL)
		return c;
	if ((nc = xrealloc(q->cache, (q->ncache + 1) * sizeof(*nc))) == NULL)
		return NULL;
	q->cache = nc;
	for (i = q->ncache; i > 0 && q->cache[i - 1].app > app; i--)
		q->cache[i] = q->cache[i - 1];
	memset(&q->cache[i], 0, sizeof(q->cache[i]));
	q->cache[i].app = app;
	q->cache[i].verdict = GROWTH_NOT_ENOUGH_DATA;
	q->ncache++;
	return &q->cache[i];
}

static int
verdict_rank(int v)
{
	switch (v) {
	case GROWTH_GROWING:	return 4;
	case GROWTH_STALLED:	return 3;
	case GROWTH_DRAINING:	return 2;
	case GROWTH_OK:		return 1;
	}
	return 0;
}

json_t *
query_apps(struct query *q, int64_t now_ms, struct query_err *e)
{
	uint8_t mk[DERIVED_METAKEY_LEN];
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	MDB_val k = { sizeof(mk), mk }, v;
	json_t *arr = json_array(), *o;
	struct derived_app as;
	struct appmin_acc acc;
	struct app_cache *ac;
	char name[NAME_MAX_LEN];
	int64_t from = now_ms - 5 * 60000;
	uint32_t app;
	int rc;

	if (arr == NULL || (txn = rd_begin(q, e)) == NULL) {
		json_decref(arr);
		return NULL;
	}
	if (q->derived && mdb_cursor_open(txn, q->meta, &c) == 0) {
		derived_metakey(mk, DERIVED_META_APP, 0);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			uint64_t logs = 0, errs;
			double secs;
			const char *health;

			if (k.mv_size != DERIVED_METAKEY_LEN ||
			    ((uint8_t *)k.mv_data)[0] != DERIVED_META_APP)
				break;
			app = store_get_be32((uint8_t *)k.mv_data + 1);
			if (derived_app_decode(v.mv_data, v.mv_size, &as) == -1)
				continue;
			name_of(q, txn, STORE_NS_APP, app, name, sizeof(name));
			appmin_cb(txn, q->apps, app, from, now_ms, &acc);
			for (unsigned i = 0; i < DERIVED_LEVELS; i++)
				logs += acc.sum.levels[i];
			errs = acc.sum.levels[3] + acc.sum.levels[4];
			secs = (double)(now_ms - derived_minute(from)) / 1000.0;
			ac = cache_find(q, app);
			if (ac == NULL)
				cache_get(q, app);	/* the refresher picks it up */
			if (now_ms - as.last_ms > q->conf.silent_ms)
				health = "silent";
			else if ((ac != NULL && (ac->verdict == GROWTH_GROWING || ac->stuck > 0)) ||
			    (logs > 0 && errs * 20 > logs) ||
			    (acc.sum.jobs > 0 && acc.sum.job_errors * 20 > acc.sum.jobs))
				health = "warning";
			else
				health = "ok";
			o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:s, "
			    "s:s?, s:I}",
			    "app", name, "health", health, "last_seen_ms", (json_int_t)as.last_ms,
			    "last_heartbeat_ms", (json_int_t)as.last_hb_ms,
			    "events", (json_int_t)as.events,
			    "events_per_s", (double)(acc.sum.kinds[1] + acc.sum.kinds[2] +
			    acc.sum.kinds[3] + acc.sum.kinds[4] + acc.sum.kinds[5]) / secs,
			    "log_error_rate", logs ? (double)errs / (double)logs : 0.0,
			    "job_error_rate", acc.sum.jobs ? (double)acc.sum.job_errors /
			    (double)acc.sum.jobs : 0.0,
			    "jobs_per_s", (double)acc.sum.jobs / secs,
			    "running_txns", (json_int_t)(as.live_txns > 0 ? as.live_txns : 0),
			    "stuck_txns", (json_int_t)(ac != NULL ? ac->stuck : 0),
			    "worst_queue_verdict", growth_verdict_name(ac != NULL ? ac->verdict :
			    GROWTH_NOT_ENOUGH_DATA),
			    "worst_queue", ac != NULL && ac->queue[0] ? ac->queue : NULL,
			    "verdict_age_ms", (json_int_t)(ac != NULL && ac->refreshed_ms ?
			    now_ms - ac->refreshed_ms : -1));
			if (o == NULL || json_array_append_new(arr, o) == -1)
				break;
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr), "apps", arr);
}

/* Queues. */

struct qseries {
	struct growth_sample	*s;
	size_t			 n;
	uint64_t		 min, max;
	int			 totals;	/* every sample had totals */
};

static int
qseries_add(struct qseries *qs, int64_t t, uint64_t depth, int has_tot, uint64_t enq,
    uint64_t compl)
{
	if (qs->n == SAMPLES_MAX) {
		/* Keep every other sample: the trend survives, the bound holds. */
		size_t i;

		for (i = 0; i < SAMPLES_MAX / 2; i++)
			qs->s[i] = qs->s[2 * i + 1];
		qs->n = SAMPLES_MAX / 2;
	}
	qs->s[qs->n].t_ms = t;
	qs->s[qs->n].depth = depth;
	qs->s[qs->n].enqueued = enq;
	qs->s[qs->n].completed = compl;
	if (qs->n == 0 || depth < qs->min)
		qs->min = depth;
	if (qs->n == 0 || depth > qs->max)
		qs->max = depth;
	if (qs->n == 0)
		qs->totals = has_tot;
	else if (!has_tot)
		qs->totals = 0;
	qs->n++;
	return 0;
}

static int
gs_cmp(const void *a, const void *b)
{
	const struct growth_sample *x = a, *y = b;

	return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

static int
qmin_cb(int64_t minute, const MDB_val *v, void *arg)
{
	struct qseries *qs = arg;
	struct derived_queue dq;

	if (derived_queue_decode(v->mv_data, v->mv_size, &dq) == -1 || dq.samples == 0)
		return 0;
	/* One point per minute at its trough: the verdict works on sub-window minima. */
	qseries_add(qs, minute + DERIVED_MINUTE_MS / 2, dq.min, dq.has_totals, dq.last_enq,
	    dq.last_compl);
	return 0;
}

/* Raw queue samples of (app, queue name) in [from, to]. */
static int
queue_raw(struct query *q, MDB_txn *txn, uint32_t app, const char *queue, int64_t from,
    int64_t to, struct qseries *qs)
{
	struct store_evkey ek = { app, KIND_QUEUE,
	    (uint64_t)(from > STORE_BLOCK_SPAN_MS ? from - STORE_BLOCK_SPAN_MS : 0), 0, 0 };
	uint8_t kb[STORE_EVKEY_LEN];
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	size_t scanned = 0;
	int rc;

	if (mdb_cursor_open(txn, q->events, &c) != 0)
		return -1;
	store_evkey_encode(kb, &ek);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && scanned < QUERY_SCAN_MAX;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct store_block_it it;
		const uint8_t *p;
		uint64_t d;
		size_t len;

		if (store_evkey_decode(k.mv_data, k.mv_size, &ek) == -1 || ek.app != app ||
		    ek.kind != KIND_QUEUE || (int64_t)ek.t0 > to)
			break;
		if (store_block_open(&it, v.mv_data, v.mv_size) == -1)
			continue;
		while (store_block_next(&it, &d, &p, &len) == 1) {
			Tandem__Event *ev;

			scanned++;
			if ((ev = tandem__event__unpack(NULL, len, p)) == NULL)
				continue;
			if (ev->kind_case == TANDEM__EVENT__KIND_QUEUE && ev->time_ms >= from &&
			    ev->time_ms <= to && ev->queue->queue != NULL &&
			    strcmp(ev->queue->queue, queue) == 0)
				qseries_add(qs, ev->time_ms, ev->queue->depth,
				    ev->queue->has_enqueued_total && ev->queue->has_completed_total,
				    ev->queue->enqueued_total, ev->queue->completed_total);
			tandem__event__free_unpacked(ev, NULL);
		}
	}
	mdb_cursor_close(c);
	qsort(qs->s, qs->n, sizeof(*qs->s), gs_cmp);
	return 0;
}

/* The samples of one queue over [from, to]: raw when short, minute troughs when long. */
static int
queue_series(struct query *q, MDB_txn *txn, uint32_t app, uint32_t qid, const char *qname,
    int64_t from, int64_t to, struct qseries *qs)
{
	memset(qs, 0, sizeof(*qs));
	if ((qs->s = xcalloc(SAMPLES_MAX, sizeof(*qs->s))) == NULL)
		return -1;
	if (to - from <= QUERY_RAW_WINDOW_MS)
		return queue_raw(q, txn, app, qname, from, to, qs);
	if (!q->derived)
		return 0;
	return minute_range(txn, q->queues, app, qid, from, to, qmin_cb, qs);
}

static json_t *
verdict_json(const struct growth_result *r)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f}",
	    "verdict", growth_verdict_name(r->verdict), "samples", (json_int_t)r->samples,
	    "depth", (json_int_t)r->depth, "depth_min", (json_int_t)r->depth_min,
	    "depth_max", (json_int_t)r->depth_max, "slope_per_s", r->slope_per_s,
	    "change", r->change);

	if (o == NULL)
		return NULL;
	if (r->has_rates) {
		json_object_set_new(o, "arrival_per_s", json_real(r->arrival_per_s));
		json_object_set_new(o, "completion_per_s", json_real(r->completion_per_s));
	}
	json_object_set_new(o, "eta_drain_s", r->eta_drain_s >= 0 ? json_real(r->eta_drain_s) :
	    json_null());
	json_object_set_new(o, "eta_limit_s", r->eta_limit_s >= 0 ? json_real(r->eta_limit_s) :
	    json_null());
	return o;
}

static void
judge(const struct query *q, const struct qseries *qs, int64_t window, uint64_t limit,
    struct growth_result *r)
{
	struct growth_conf gc;

	growth_conf_default(&gc, window);
	gc.floor = q->conf.growth_floor;
	gc.limit = limit;
	if (growth_eval(&gc, qs->s, qs->n, qs->totals, r) == -1) {
		memset(r, 0, sizeof(*r));
		r->verdict = GROWTH_NOT_ENOUGH_DATA;
		r->eta_drain_s = r->eta_limit_s = -1;
	}
}

/* Queue ids of app (from its minute records). */
static size_t
app_queues(struct query *q, MDB_txn *txn, uint32_t app, uint32_t *ids, size_t max)
{
	return q->derived ? ids_of_app(txn, q->queues, app, ids, max) : 0;
}

json_t *
query_queues(struct query *q, const char *app, int64_t from, int64_t to, struct query_err *e)
{
	uint32_t aid, ids[256];
	size_t n, i;
	MDB_txn *txn;
	json_t *arr, *o;
	char name[NAME_MAX_LEN];

	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if (app_id(q, txn, app, &aid, e) == -1) {
		mdb_txn_abort(txn);
		return NULL;
	}
	arr = json_array();
	n = app_queues(q, txn, aid, ids, 256);
	for (i = 0; i < n && arr != NULL; i++) {
		struct qseries qs;
		struct growth_result r;

		name_of(q, txn, STORE_NS_QUEUE, ids[i], name, sizeof(name));
		if (queue_series(q, txn, aid, ids[i], name, from, to, &qs) == -1)
			break;
		judge(q, &qs, to - from, 0, &r);
		xfree(qs.s);
		if ((o = verdict_json(&r)) != NULL) {
			json_object_set_new(o, "queue", json_string(name));
			json_array_append_new(arr, o);
		}
	}
	mdb_txn_abort(txn);
	return json_pack("{s:s, s:I, s:I, s:o}", "app", app, "from", (json_int_t)from, "to",
	    (json_int_t)to, "queues", arr);
}

json_t *
query_queue(struct query *q, const char *app, const char *queue, int64_t from, int64_t to,
    uint64_t limit_depth, struct query_err *e)
{
	uint32_t aid, qid = 0;
	MDB_txn *txn;
	struct qseries qs;
	struct growth_result r;
	json_t *o, *pts;
	size_t i, step;

	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if (app_id(q, txn, app, &aid, e) == -1 || (!id_of(q, txn, STORE_NS_QUEUE, queue, &qid) &&
	    qfail(e, 404, "queue", "no queue \"%s\"", queue))) {
		mdb_txn_abort(txn);
		return NULL;
	}
	if (queue_series(q, txn, aid, qid, queue, from, to, &qs) == -1) {
		mdb_txn_abort(txn);
		qfail(e, 500, NULL, "out of memory");
		return NULL;
	}
	mdb_txn_abort(txn);
	judge(q, &qs, to - from, limit_depth, &r);
	pts = json_array();
	step = qs.n > SERIES_MAX ? (qs.n + SERIES_MAX - 1) / SERIES_MAX : 1;
	for (i = 0; i < qs.n && pts != NULL; i += step)
		json_array_append_new(pts, json_pack("[I,I]", (json_int_t)qs.s[i].t_ms,
		    (json_int_t)qs.s[i].depth));
	xfree(qs.s);
	if ((o = verdict_json(&r)) == NULL) {
		json_decref(pts);
		return NULL;
	}
	json_object_set_new(o, "app", json_string(app));
	json_object_set_new(o, "queue", json_string(queue));
	json_object_set_new(o, "from", json_integer(from));
	json_object_set_new(o, "to", json_integer(to));
	json_object_set_new(o, "resolution", json_string(to - from <= QUERY_RAW_WINDOW_MS ?
	    "raw" : "minute-troughs"));
	json_object_set_new(o, "series", pts);
	return o;
}

/* Stuck detection: per-app step model (p99 of time in step), cached for MODEL_TTL_MS. */

static void
model_load(struct query *q, MDB_txn *txn, struct app_cache *ac, int64_t now)
{
	uint32_t ids[32];
	size_t n, i;

	if (ac->model_ms != 0 && now - ac->model_ms < MODEL_TTL_MS)
		return;
	n = q->derived ? ids_of_app(txn, q->steps, ac->app, ids, 32) : 0;
	for (i = 0; i < n; i++) {
		struct derived_step st;
		uint8_t kb[DERIVED_MINKEY_LEN];
		MDB_cursor *c;
		MDB_val k = { sizeof(kb), kb }, v;
		uint32_t a, id;
		int64_t m;
		int rc;

		hist_init(&q->h1);
		st.hist = &q->h2;
		if (mdb_cursor_open(txn, q->steps, &c) != 0)
			break;
		derived_minkey(kb, ac->app, ids[i], derived_minute(now - q->conf.model_window_ms));
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			derived_minkey_decode(k.mv_data, &a, &id, &m);
			if (a != ac->app || id != ids[i])
				break;
			if (derived_step_decode(v.mv_data, v.mv_size, &st) == 0)
				hist_merge(&q->h1, &q->h2);
		}
		mdb_cursor_close(c);
		ac->step_id[i] = ids[i];
		ac->step_p99_us[i] = q->h1.count >= 20 ? hist_percentile(&q->h1, 99) : 0;
	}
	ac->nsteps = (uint32_t)n;
	ac->model_ms = now;
}

/* 1 if the running transaction x counts as stuck; *limit_ms is its step's threshold. */
static int
is_stuck(const struct query *q, const struct app_cache *ac, const struct derived_txn *x,
    int64_t now, int64_t *limit_ms)
{
	uint32_t i;

	*limit_ms = -1;
	if (x->state != DERIVED_TXN_RUNNING)
		return 0;
	if (now - x->last_ms > q->conf.stuck_idle_ms)
		return 1;
	for (i = 0; ac != NULL && i < ac->nsteps; i++)
		if (ac->step_id[i] == x->step && ac->step_p99_us[i] > 0) {
			*limit_ms = (int64_t)(ac->step_p99_us[i] / 1000) * q->conf.stuck_factor;
			if (*limit_ms < q->conf.stuck_min_ms)
				*limit_ms = q->conf.stuck_min_ms;
			return now - x->step_ms > *limit_ms;
		}
	return 0;
}

static json_t *
txn_json(struct query *q, MDB_txn *txn, const char *app, const char *id, size_t idlen,
    const struct derived_txn *x, int64_t now, int stuck, int64_t limit_ms)
{
	char step[NAME_MAX_LEN];
	json_t *o, *attrs = json_object();
	const uint8_t *p = x->attrs;
	struct derived_attr a;
	char kbuf[DERIVED_ATTR_KEY_MAX + 1];

	name_of(q, txn, STORE_NS_STEP, x->step, step, sizeof(step));
	while (attrs != NULL && derived_attrs_next(&p, x->attrs + x->attrs_len, &a) == 1) {
		memcpy(kbuf, a.key, a.klen);
		kbuf[a.klen] = '\0';
		json_object_set_new(attrs, kbuf, json_stringn(a.val, a.vlen));
	}
	o = json_pack("{s:s, s:s%, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "app", app, "txn_id", id, idlen, "step", step,
	    "state", derived_txn_state_name(x->state), "stuck", stuck,
	    "begin_ms", (json_int_t)x->begin_ms, "step_since_ms", (json_int_t)x->step_ms,
	    "last_event_ms", (json_int_t)x->last_ms,
	    "time_in_step_ms", (json_int_t)(x->state == DERIVED_TXN_RUNNING ? now - x->step_ms :
	    x->last_ms - x->step_ms),
	    "events", (json_int_t)x->nevents, "steps_seen", (json_int_t)x->steps_total,
	    "attrs", attrs != NULL ? attrs : json_object());
	if (o != NULL && limit_ms >= 0)
		json_object_set_new(o, "stuck_after_ms", json_integer(limit_ms));
	return o;
}

/* Scans live transactions of app (0: all) into arr; returns rows matched. */
static size_t
live_scan(struct query *q, MDB_txn *txn, uint32_t app, const struct query_txn_filter *f,
    uint32_t step_id, int64_t now, json_t *arr, size_t *stuck_count)
{
	uint8_t kb[4];
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	struct derived_txn x;
	struct app_cache *ac = NULL;
	char name[NAME_MAX_LEN];
	uint32_t cur = UINT32_MAX;
	size_t matched = 0;
	int64_t limit_ms;
	int rc, stuck;

	if (!q->derived || mdb_cursor_open(txn, q->live, &c) != 0)
		return 0;
	store_put_be32(kb, app);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint32_t a;

		if (k.mv_size <= 4)
			continue;
		a = store_get_be32(k.mv_data);
		if (app != 0 && a != app)
			break;
		if (a != cur) {
			cur = a;
			name_of(q, txn, STORE_NS_APP, a, name, sizeof(name));
			if ((ac = cache_get(q, a)) != NULL)
				model_load(q, txn, ac, now);
		}
		if (derived_txn_decode(v.mv_data, v.mv_size, &x) == -1)
			continue;
		if (step_id != 0 && x.step != step_id)
			continue;
		stuck = is_stuck(q, ac, &x, now, &limit_ms);
		if (stuck_count != NULL)
			*stuck_count += (size_t)stuck;
		if (f == NULL)
			continue;
		if (f->state != NULL && strcmp(f->state, "stuck") == 0 && !stuck)
			continue;
		if (f->attr_key != NULL) {
			const uint8_t *p = x.attrs;
			struct derived_attr at;
			int hit = 0;

			while (!hit && derived_attrs_next(&p, x.attrs + x.attrs_len, &at) == 1)
				hit = at.klen == strlen(f->attr_key) &&
				    memcmp(at.key, f->attr_key, at.klen) == 0 &&
				    at.vlen == strlen(f->attr_val) &&
				    memcmp(at.val, f->attr_val, at.vlen) == 0;
			if (!hit)
				continue;
		}
		matched++;
		if (arr != NULL && json_array_size(arr) < f->limit)
			json_array_append_new(arr, txn_json(q, txn, name,
			    (const char *)k.mv_data + 4, k.mv_size - 4, &x, now, stuck, limit_ms));
	}
	mdb_cursor_close(c);
	return matched;
}

json_t *
query_txns(struct query *q, const struct query_txn_filter *f, int64_t now,
    struct query_err *e)
{
	MDB_txn *txn;
	uint32_t app = 0, step = 0;
	json_t *arr;
	size_t n;

	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if ((f->app != NULL && app_id(q, txn, f->app, &app, e) == -1) ||
	    (f->step != NULL && !id_of(q, txn, STORE_NS_STEP, f->step, &step) &&
	    qfail(e, 404, "step", "no step \"%s\"", f->step))) {
		mdb_txn_abort(txn);
		return NULL;
	}
	arr = json_array();
	n = live_scan(q, txn, app, f, step, now, arr, NULL);
	mdb_txn_abort(txn);
	return json_pack("{s:I, s:b, s:o}", "matched", (json_int_t)n, "truncated",
	    n > json_array_size(arr), "transactions", arr);
}

/* One transaction's timeline from raw events, bounded by its derived record. */
json_t *
query_txn(struct query *q, const char *app, const char *txn_id, struct query_err *e)
{
	uint8_t tk[DERIVED_TXNKEY_MAX], kb[STORE_EVKEY_LEN];
	size_t tlen;
	MDB_txn *txn;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	struct derived_txn x;
	struct store_evkey ek;
	json_t *o, *events;
	uint32_t aid;
	size_t scanned = 0;
	int rc, found = 0;

	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if (app_id(q, txn, app, &aid, e) == -1) {
		mdb_txn_abort(txn);
		return NULL;
	}
	if ((tlen = derived_txnkey(tk, aid, txn_id, strlen(txn_id))) == 0) {
		mdb_txn_abort(txn);
		qfail(e, 400, "txn_id", "bad transaction id");
		return NULL;
	}
	k.mv_data = tk;
	k.mv_size = tlen;
	if (q->derived && (mdb_get(txn, q->live, &k, &v) == 0 ||
	    mdb_get(txn, q->done, &k, &v) == 0) &&
	    derived_txn_decode(v.mv_data, v.mv_size, &x) == 0)
		found = 1;
	if (!found) {
		mdb_txn_abort(txn);
		qfail(e, 404, "txn_id", "no transaction \"%s\"", txn_id);
		return NULL;
	}
	o = txn_json(q, txn, app, txn_id, strlen(txn_id), &x, x.last_ms, 0, -1);
	events = json_array();
	ek.app = aid;
	ek.kind = KIND_TXN;
	ek.t0 = (uint64_t)(x.begin_ms > STORE_BLOCK_SPAN_MS ? x.begin_ms - STORE_BLOCK_SPAN_MS : 0);
	ek.agent = 0;
	ek.first_seq = 0;
	store_evkey_encode(kb, &ek);
	k.mv_data = kb;
	k.mv_size = sizeof(kb);
	if (mdb_cursor_open(txn, q->events, &c) == 0) {
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 &&
		    scanned < QUERY_SCAN_MAX; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			struct store_block_it it;
			const uint8_t *p;
			uint64_t d;
			size_t len;

			if (store_evkey_decode(k.mv_data, k.mv_size, &ek) == -1 || ek.app != aid ||
			    ek.kind != KIND_TXN || (int64_t)ek.t0 > x.last_ms)
				break;
			if (store_block_open(&it, v.mv_data, v.mv_size) == -1)
				continue;
			while (store_block_next(&it, &d, &p, &len) == 1) {
				Tandem__Event *ev;

				scanned++;
				if ((ev = tandem__event__unpack(NULL, len, p)) == NULL)
					continue;
				if (ev->kind_case == TANDEM__EVENT__KIND_TXN && ev->txn->txn_id &&
				    strcmp(ev->txn->txn_id, txn_id) == 0) {
					static const char *const st[] = { "begin", "step", "end",
					    "error" };
					json_t *attrs = json_object();
					size_t i;

					for (i = 0; i < ev->txn->n_attrs && attrs != NULL; i++)
						json_object_set_new(attrs, ev->txn->attrs[i]->key,
						    json_string(ev->txn->attrs[i]->value ?
						    ev->txn->attrs[i]->value : ""));
					json_array_append_new(events, json_pack("{s:I, s:I, s:s, s:s, "
					    "s:o}", "time_ms", (json_int_t)ev->time_ms,
					    "seq", (json_int_t)(ek.first_seq + d),
					    "step", ev->txn->step ? ev->txn->step : "",
					    "state", (unsigned)ev->txn->state < 4 ?
					    st[ev->txn->state] : "unknown", "attrs", attrs));
				}
				tandem__event__free_unpacked(ev, NULL);
			}
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	/* Time order (blocks of several agents may interleave), then durations. */
	{
		size_t i, n = json_array_size(events), j;

		for (i = 1; i < n; i++)
			for (j = i; j > 0 && json_integer_value(json_object_get(json_array_get(events,
			    j - 1), "time_ms")) > json_integer_value(json_object_get(
			    json_array_get(events, j), "time_ms")); j--) {
				json_t *a = json_incref(json_array_get(events, j - 1));

				json_array_set(events, j - 1, json_array_get(events, j));
				json_array_set_new(events, j, a);
			}
		for (i = 0; i + 1 < n; i++)
			json_object_set_new(json_array_get(events, i), "duration_ms", json_integer(
			    json_integer_value(json_object_get(json_array_get(events, i + 1),
			    "time_ms")) - json_integer_value(json_object_get(json_array_get(events,
			    i), "time_ms"))));
	}
	if (o != NULL)
		json_object_set_new(o, "timeline", events);
	else
		json_decref(events);
	return o;
}

/* Steps model. */

struct step_acc {
	struct derived_step	sum;
	struct hist		*h, *tmp;
};

static int
step_cb(int64_t minute, const MDB_val *v, void *arg)
{
	struct step_acc *sa = arg;
	struct derived_step st;

	st.hist = sa->tmp;
	if (derived_step_decode(v->mv_data, v->mv_size, &st) == -1)
		return 0;
	sa->sum.entries += st.entries;
	sa->sum.first_entries += st.first_entries;
	sa->sum.repeats += st.repeats;
	sa->sum.pos_sum += st.pos_sum;
	hist_merge(sa->h, sa->tmp);
	return 0;
}

json_t *
query_steps(struct query *q, const char *app, int64_t from, int64_t to, struct query_err *e)
{
	uint32_t aid, ids[64];
	struct appmin_acc acc;
	MDB_txn *txn;
	json_t *arr, *slowest = NULL;
	char name[NAME_MAX_LEN];
	uint64_t worst = 0;
	size_t n, i;

	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if (app_id(q, txn, app, &aid, e) == -1) {
		mdb_txn_abort(txn);
		return NULL;
	}
	appmin_cb(txn, q->apps, aid, from, to, &acc);
	arr = json_array();
	n = q->derived ? ids_of_app(txn, q->steps, aid, ids, 64) : 0;
	for (i = 0; i < n; i++) {
		struct step_acc sa = { .h = &q->h1, .tmp = &q->h2 };
		double skipped;
		json_t *o;

		memset(&sa.sum, 0, sizeof(sa.sum));
		hist_init(&q->h1);
		minute_range(txn, q->steps, aid, ids[i], from, to, step_cb, &sa);
		if (sa.sum.entries == 0 && q->h1.count == 0)
			continue;
		name_of(q, txn, STORE_NS_STEP, ids[i], name, sizeof(name));
		skipped = acc.sum.txn_begin > 0 && sa.sum.first_entries < acc.sum.txn_begin ?
		    1.0 - (double)sa.sum.first_entries / (double)acc.sum.txn_begin : 0.0;
		o = json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:f}",
		    "step", name, "entries", (json_int_t)sa.sum.entries,
		    "txns_entering", (json_int_t)sa.sum.first_entries,
		    "repeats", (json_int_t)sa.sum.repeats,
		    "avg_position", sa.sum.entries ? (double)sa.sum.pos_sum /
		    (double)sa.sum.entries : 0.0, "skipped_ratio", skipped,
		    "measured", (json_int_t)q->h1.count,
		    "p50_ms", (json_int_t)(hist_percentile(&q->h1, 50) / 1000),
		    "p95_ms", (json_int_t)(hist_percentile(&q->h1, 95) / 1000),
		    "p99_ms", (json_int_t)(hist_percentile(&q->h1, 99) / 1000),
		    "mean_ms", hist_mean(&q->h1) / 1000.0);
		if (o == NULL)
			continue;
		if (q->h1.count > 0 && hist_percentile(&q->h1, 95) >= worst) {
			worst = hist_percentile(&q->h1, 95);
			json_decref(slowest);
			slowest = json_string(name);
		}
		json_array_append_new(arr, o);
	}
	mdb_txn_abort(txn);
	/* Path order: by average position in the transactions. */
	{
		size_t a, b, m = json_array_size(arr);

		for (a = 1; a < m; a++)
			for (b = a; b > 0 && json_real_value(json_object_get(json_array_get(arr,
			    b - 1), "avg_position")) > json_real_value(json_object_get(
			    json_array_get(arr, b), "avg_position")); b--) {
				json_t *t = json_incref(json_array_get(arr, b - 1));

				json_array_set(arr, b - 1, json_array_get(arr, b));
				json_array_set_new(arr, b, t);
			}
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "app", app,
	    "from", (json_int_t)from, "to", (json_int_t)to,
	    "txns_begun", (json_int_t)acc.sum.txn_begin, "txns_ended", (json_int_t)acc.sum.txn_end,
	    "txns_failed", (json_int_t)acc.sum.txn_error,
	    "slowest_step", slowest != NULL ? slowest : json_null(), "steps", arr);
}

/* Performance. */

struct job_acc {
	uint64_t	count, errors;
	struct hist	*h, *tmp;
};

static int
job_cb(int64_t minute, const MDB_val *v, void *arg)
{
	struct job_acc *ja = arg;
	struct derived_job j;

	j.hist = ja->tmp;
	if (derived_job_decode(v->mv_data, v->mv_size, &j) == -1)
		return 0;
	ja->count += j.count;
	ja->errors += j.errors;
	hist_merge(ja->h, ja->tmp);
	return 0;
}

static json_t *
perf_json(const struct job_acc *ja)
{
	return json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:f, s:I}",
	    "count", (json_int_t)ja->count, "errors", (json_int_t)ja->errors,
	    "error_rate", ja->count ? (double)ja->errors / (double)ja->count : 0.0,
	    "p50_us", (json_int_t)hist_percentile(ja->h, 50),
	    "p95_us", (json_int_t)hist_percentile(ja->h, 95),
	    "p99_us", (json_int_t)hist_percentile(ja->h, 99),
	    "mean_us", hist_mean(ja->h), "max_us", (json_int_t)ja->h->max);
}

/* One (app, job) over [from, to] (and shifted): appended to arr. */
static void
perf_one(struct query *q, MDB_txn *txn, uint32_t aid, uint32_t jid, int64_t from, int64_t to,
    int64_t shift, json_t *arr)
{
	struct job_acc ja = { 0, 0, &q->h1, &q->h2 };
	char an[NAME_MAX_LEN], jn[NAME_MAX_LEN];
	json_t *o;

	hist_init(&q->h1);
	minute_range(txn, q->jobs, aid, jid, from, to, job_cb, &ja);
	if (ja.count == 0 && shift == 0)
		return;
	name_of(q, txn, STORE_NS_APP, aid, an, sizeof(an));
	name_of(q, txn, STORE_NS_JOB, jid, jn, sizeof(jn));
	if ((o = perf_json(&ja)) == NULL)
		return;
	json_object_set_new(o, "app", json_string(an));
	json_object_set_new(o, "job", json_string(jn));
	if (shift > 0) {
		struct job_acc jb = { 0, 0, &q->h1, &q->h2 };
		json_t *c;

		hist_init(&q->h1);
		minute_range(txn, q->jobs, aid, jid, from - shift, to - shift, job_cb, &jb);
		if ((c = perf_json(&jb)) != NULL) {
			json_object_set_new(c, "from", json_integer(from - shift));
			json_object_set_new(c, "to", json_integer(to - shift));
			json_object_set_new(o, "compare", c);
		}
	}
	json_array_append_new(arr, o);
}

/* Calls fn for every (app, job) pair with records (app 0: all apps). Bounded by the DB. */
static void
each_app_job(MDB_txn *txn, MDB_dbi dbi, uint32_t app,
    void (*fn)(uint32_t, uint32_t, void *), void *arg)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	MDB_cursor *c;
	MDB_val k, v;
	uint32_t a = app, j = 0;
	int64_t m;

	if (mdb_cursor_open(txn, dbi, &c) != 0)
		return;
	for (;;) {
		derived_minkey(kb, a, j, 0);
		k.mv_data = kb;
		k.mv_size = sizeof(kb);
		if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size != sizeof(kb))
			break;
		derived_minkey_decode(k.mv_data, &a, &j, &m);
		if (app != 0 && a != app)
			break;
		fn(a, j, arg);
		if (j == UINT32_MAX) {
			if (a == UINT32_MAX)
				break;
			a++;
			j = 0;
		} else
			j++;
	}
	mdb_cursor_close(c);
}

struct perf_ctx {
	struct query	*q;
	MDB_txn		*txn;
	int64_t		 from, to, shift;
	uint32_t	 job;	/* 0: every job */
	json_t		*arr;
};

static void
perf_each(uint32_t a, uint32_t j, void *arg)
{
	struct perf_ctx *p = arg;

	if (p->job == 0 || p->job == j)
		perf_one(p->q, p->txn, a, j, p->from, p->to, p->shift, p->arr);
}

json_t *
query_perf(struct query *q, const char *app, const char *job, int64_t from, int64_t to,
    int64_t shift_ms, struct query_err *e)
{
	struct perf_ctx p = { q, NULL, from, to, shift_ms, 0, NULL };
	uint32_t aid = 0;

	if ((p.txn = rd_begin(q, e)) == NULL)
		return NULL;
	if ((app != NULL && app_id(q, p.txn, app, &aid, e) == -1) ||
	    (job != NULL && !id_of(q, p.txn, STORE_NS_JOB, job, &p.job) &&
	    qfail(e, 404, "job", "no job \"%s\"", job))) {
		mdb_txn_abort(p.txn);
		return NULL;
	}
	p.arr = json_array();
	if (q->derived)
		each_app_job(p.txn, q->jobs, aid, perf_each, &p);
	mdb_txn_abort(p.txn);
	return json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to,
	    "jobs", p.arr);
}

static int
p99_desc(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "p99_us"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "p99_us"));

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
query_perf_top(struct query *q, uint32_t n, int64_t from, int64_t to, int64_t shift_ms,
    struct query_err *e)
{
	json_t *all = query_perf(q, NULL, NULL, from, to, shift_ms, e), *jobs, *top, **v;
	size_t i, cnt;

	if (all == NULL)
		return NULL;
	jobs = json_object_get(all, "jobs");
	cnt = json_array_size(jobs);
	if ((v = xcalloc(cnt + 1, sizeof(*v))) == NULL) {
		json_decref(all);
		qfail(e, 500, NULL, "out of memory");
		return NULL;
	}
	for (i = 0; i < cnt; i++)
		v[i] = json_array_get(jobs, i);
	qsort(v, cnt, sizeof(*v), p99_desc);
	top = json_array();
	for (i = 0; i < cnt && i < n; i++)
		json_array_append(top, v[i]);
	xfree(v);
	json_object_set_new(all, "jobs", top);
	json_object_set_new(all, "ranked_by", json_string("p99_us"));
	json_object_set_new(all, "candidates", json_integer((json_int_t)cnt));
	return all;
}

/* Logs: newest first, paged with an opaque cursor "time.agent.seq". */

struct logrow {
	int64_t		 t;
	uint32_t	 agent, app;
	uint64_t	 seq;
	int		 level;
	char		*msg;
};

static int
logrow_desc(const void *a, const void *b)
{
	const struct logrow *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	if (x->agent != y->agent)
		return x->agent < y->agent ? 1 : -1;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* 1 if row r comes strictly after the cursor position (older). */
static int
after_cursor(const struct logrow *r, int64_t ct, uint32_t ca, uint64_t cs)
{
	struct logrow c = { ct, ca, 0, cs, 0, NULL };

	return logrow_desc(&c, r) < 0;
}

int	query_parse_cursor(const char *, int64_t *, uint32_t *, uint64_t *);

int
query_parse_cursor(const char *s, int64_t *t, uint32_t *a, uint64_t *seq)
{
	long long tt;
	unsigned long aa;
	unsigned long long ss;
	int n = 0;

	if (sscanf(s, "%lld.%lu.%llu%n", &tt, &aa, &ss, &n) != 3 || s[n] != '\0' || tt < 0 ||
	    aa > UINT32_MAX)
		return -1;
	*t = tt;
	*a = (uint32_t)aa;
	*seq = ss;
	return 0;
}

json_t *
query_logs(struct query *q, const struct query_log_filter *f, struct query_err *e)
{
	struct logrow *rows = NULL, *nr;
	size_t nrows = 0, cap = 0, scanned = 0, i, keep;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[STORE_EVKEY_LEN];
	struct store_evkey ek;
	uint32_t aid = 0, ca = 0, cur_app;
	uint64_t cs = 0;
	int64_t ct = INT64_MAX, to = f->to;
	int truncated = 0, rc;
	json_t *arr, *o;
	char name[NAME_MAX_LEN];

	if (f->cursor != NULL && query_parse_cursor(f->cursor, &ct, &ca, &cs) == -1) {
		qfail(e, 400, "cursor", "not a cursor from a previous page");
		return NULL;
	}
	if (ct < to)
		to = ct;
	if ((txn = rd_begin(q, e)) == NULL)
		return NULL;
	if (f->app != NULL && app_id(q, txn, f->app, &aid, e) == -1) {
		mdb_txn_abort(txn);
		return NULL;
	}
	if (mdb_cursor_open(txn, q->events, &c) != 0) {
		mdb_txn_abort(txn);
		qfail(e, 500, NULL, "store cursor");
		return NULL;
	}
	/* Each app's log range backwards from `to`; keep at most limit rows per app. */
	cur_app = aid != 0 ? aid : 1;
	while (scanned < QUERY_SCAN_MAX) {
		size_t per_app = 0;
		int64_t app_oldest = INT64_MAX;

		ek.app = cur_app;
		ek.kind = KIND_LOG;
		ek.t0 = (uint64_t)to;
		ek.agent = UINT32_MAX;
		ek.first_seq = UINT64_MAX;
		store_evkey_encode(kb, &ek);
		k.mv_data = kb;
		k.mv_size = sizeof(kb);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_PREV) :
		    mdb_cursor_get(c, &k, &v, MDB_LAST);
		for (; rc == 0 && scanned < QUERY_SCAN_MAX; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
			struct store_block_it it;
			const uint8_t *p;
			uint64_t d;
			size_t len;

			if (store_evkey_decode(k.mv_data, k.mv_size, &ek) == -1 ||
			    ek.app != cur_app || ek.kind != KIND_LOG ||
			    (int64_t)ek.t0 + STORE_BLOCK_SPAN_MS < f->from)
				break;
			/*
			 * Blocks come newest t0 first and hold times in [t0, t0 + span]: once this
			 * app gave limit + 1 rows, a block ending before the oldest of them cannot
			 * hold anything newer than the limit-th row, nor can any block after it.
			 */
			if (per_app >= f->limit + 1 && (int64_t)ek.t0 + (int64_t)STORE_BLOCK_SPAN_MS <
			    app_oldest)
				break;
			if (store_block_open(&it, v.mv_data, v.mv_size) == -1)
				continue;
			while (store_block_next(&it, &d, &p, &len) == 1) {
				Tandem__Event *ev;
				struct logrow r;

				scanned++;
				if ((ev = tandem__event__unpack(NULL, len, p)) == NULL)
					continue;
				r.t = ev->time_ms;
				r.agent = ek.agent;
				r.app = ek.app;
				r.seq = ek.first_seq + d;
				r.level = ev->kind_case == TANDEM__EVENT__KIND_LOG ?
				    (int)ev->log->level : -1;
				if (r.level >= 0 && r.t >= f->from && r.t <= f->to &&
				    (f->level < 0 || r.level >= f->level) &&
				    (f->cursor == NULL || after_cursor(&r, ct, ca, cs)) &&
				    (f->text == NULL || (ev->log->message != NULL &&
				    strstr(ev->log->message, f->text) != NULL))) {
					if (nrows == cap) {
						cap = cap ? cap * 2 : 256;
						if ((nr = xrealloc(rows, cap * sizeof(*rows))) == NULL) {
							tandem__event__free_unpacked(ev, NULL);
							goto out;
						}
						rows = nr;
					}
					r.msg = xstrdup(ev->log->message ? ev->log->message : "");
					rows[nrows++] = r;
					per_app++;
					if (r.t < app_oldest)
						app_oldest = r.t;
				}
				tandem__event__free_unpacked(ev, NULL);
			}
		}
		/* Keep memory bounded: trim to limit + 1 newest after every app. */
		if (nrows > 4 * ((size_t)f->limit + 1)) {
			qsort(rows, nrows, sizeof(*rows), logrow_desc);
			for (i = f->limit + 1; i < nrows; i++)
				xfree(rows[i].msg);
			nrows = f->limit + 1;
		}
		if (aid != 0 || cur_app == UINT32_MAX)
			break;
		/* Next app that has anything at all. */
		ek.app = cur_app + 1;
		ek.kind = 0;
		ek.t0 = 0;
		ek.agent = 0;
		ek.first_seq = 0;
		store_evkey_encode(kb, &ek);
		k.mv_data = kb;
		k.mv_size = sizeof(kb);
		if (mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) != 0 ||
		    store_evkey_decode(k.mv_data, k.mv_size, &ek) == -1)
			break;
		cur_app = ek.app;
	}
	if (scanned >= QUERY_SCAN_MAX)
		truncated = 1;
out:
	mdb_cursor_close(c);
	qsort(rows, nrows, sizeof(*rows), logrow_desc);
	keep = nrows < f->limit ? nrows : f->limit;
	arr = json_array();
	for (i = 0; i < keep && arr != NULL; i++) {
		name_of(q, txn, STORE_NS_APP, rows[i].app, name, sizeof(name));
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I}", "time_ms",
		    (json_int_t)rows[i].t, "app", name, "level",
		    (unsigned)rows[i].level < 5 ? level_names[rows[i].level] : "unknown",
		    "message", rows[i].msg ? rows[i].msg : "", "seq", (json_int_t)rows[i].seq));
	}
	mdb_txn_abort(txn);
	o = json_pack("{s:o, s:b}", "logs", arr, "truncated", truncated);
	if (o != NULL && nrows > keep && keep > 0) {
		char cur[80];

		snprintf(cur, sizeof(cur), "%" PRId64 ".%u.%" PRIu64, rows[keep - 1].t,
		    rows[keep - 1].agent, rows[keep - 1].seq);
		json_object_set_new(o, "next_cursor", json_string(cur));
	} else if (o != NULL)
		json_object_set_new(o, "next_cursor", json_null());
	for (i = 0; i < nrows; i++)
		xfree(rows[i].msg);
	xfree(rows);
	return o;
}

/* Overview refresh: worst queue verdict and stuck count per app, a slice per call. */

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
refresh_app(struct query *q, MDB_txn *txn, struct app_cache *ac, int64_t now)
{
	uint32_t ids[64];
	size_t n = app_queues(q, txn, ac->app, ids, 64), i, stuck = 0;
	char name[NAME_MAX_LEN];

	ac->verdict = GROWTH_NOT_ENOUGH_DATA;
	ac->queue[0] = '\0';
	for (i = 0; i < n; i++) {
		struct qseries qs;
		struct growth_result r;

		name_of(q, txn, STORE_NS_QUEUE, ids[i], name, sizeof(name));
		if (queue_series(q, txn, ac->app, ids[i], name, now - q->conf.growth_window_ms, now,
		    &qs) == -1)
			break;
		judge(q, &qs, q->conf.growth_window_ms, 0, &r);
		xfree(qs.s);
		if (verdict_rank(r.verdict) > verdict_rank(ac->verdict)) {
			ac->verdict = r.verdict;
			snprintf(ac->queue, sizeof(ac->queue), "%.63s", name);
		}
	}
	model_load(q, txn, ac, now);
	live_scan(q, txn, ac->app, NULL, 0, now, NULL, &stuck);
	ac->stuck = (uint32_t)stuck;
	ac->refreshed_ms = now;
}

size_t
query_refresh(struct query *q, int64_t now, uint64_t budget_us)
{
	struct query_err e;
	uint8_t mk[DERIVED_METAKEY_LEN];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = { sizeof(mk), mk }, v;
	uint64_t t0 = mono_us();
	size_t done = 0, i;
	int rc;

	if ((txn = rd_begin(q, &e)) == NULL || !q->derived) {
		if (txn != NULL)
			mdb_txn_abort(txn);
		return 0;
	}
	/* Learn new apps. */
	if (mdb_cursor_open(txn, q->meta, &c) == 0) {
		derived_metakey(mk, DERIVED_META_APP, 0);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size != DERIVED_METAKEY_LEN ||
			    ((uint8_t *)k.mv_data)[0] != DERIVED_META_APP)
				break;
			cache_get(q, store_get_be32((uint8_t *)k.mv_data + 1));
		}
		mdb_cursor_close(c);
	}
	for (i = 0; i < q->ncache && mono_us() - t0 < budget_us; i++) {
		if (q->refresh_pos >= q->ncache)
			q->refresh_pos = 0;
		refresh_app(q, txn, &q->cache[q->refresh_pos++], now);
		done++;
	}
	mdb_txn_abort(txn);
	return done;
}

json_t *
query_queues_growing(struct query *q, int64_t now, struct query_err *e)
{
	MDB_txn *txn;
	json_t *arr = json_array();
	char name[NAME_MAX_LEN];
	size_t i;

	if ((txn = rd_begin(q, e)) == NULL) {
		json_decref(arr);
		return NULL;
	}
	/* Judged per app by the refresher; answer with its latest verdicts, re-judged here. */
	for (i = 0; i < q->ncache && arr != NULL; i++) {
		struct app_cache *ac = &q->cache[i];
		uint32_t ids[64];
		size_t n, j;

		if (ac->verdict != GROWTH_GROWING)
			continue;
		name_of(q, txn, STORE_NS_APP, ac->app, name, sizeof(name));
		n = app_queues(q, txn, ac->app, ids, 64);
		for (j = 0; j < n; j++) {
			struct qseries qs;
			struct growth_result r;
			char qn[NAME_MAX_LEN];
			json_t *o;

			name_of(q, txn, STORE_NS_QUEUE, ids[j], qn, sizeof(qn));
			if (queue_series(q, txn, ac->app, ids[j], qn,
			    now - q->conf.growth_window_ms, now, &qs) == -1)
				break;
			judge(q, &qs, q->conf.growth_window_ms, 0, &r);
			xfree(qs.s);
			if (r.verdict != GROWTH_GROWING || (o = verdict_json(&r)) == NULL)
				continue;
			json_object_set_new(o, "app", json_string(name));
			json_object_set_new(o, "queue", json_string(qn));
			json_array_append_new(arr, o);
		}
	}
	mdb_txn_abort(txn);
	return json_pack("{s:I, s:I, s:o}", "window_ms", (json_int_t)q->conf.growth_window_ms,
	    "count", (json_int_t)json_array_size(arr), "queues", arr);
}

long
query_db_scan(struct query *q, const char *db, const char *prefix,
    int (*fn)(void *, const void *, size_t, const void *, size_t), void *arg)
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k = { plen, (void *)prefix }, v;
	long n = 0;
	int rc;

	if (mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn) != 0)
		return -1;
	if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? 0 : -1;
	}
	if (mdb_cursor_open(txn, dbi, &c) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	rc = mdb_cursor_get(c, &k, &v, plen > 0 ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		n++;
		if (fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return n;
}
