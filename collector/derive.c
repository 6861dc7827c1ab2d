/* Tandem — MIT licence. Derived state: accumulate per event in memory, write bounded batches in the tick's transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <lmdb.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/derive.h"
#include "collector/ingest.h"
#include "collector/store.h"
#include "common/derived.h"
#include "common/hist.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/msg.h"

/*
 * How derived state stays consistent with the raw events, cheaply.
 *
 * Every accepted event is applied at once to records held in memory (rollup minutes, queue
 * minutes, step minutes, app minutes, app status, transactions), each loaded from LMDB the
 * first time it is touched, so memory always holds a record's full value. A record that
 * changes goes to the tail of a dirty FIFO; the commit hook writes records from the head
 * once they have been dirty for FLUSH_DELAY_MS (so each record is written at most about once
 * a second however many events hit it), at most FLUSH_MAX_KEYS and FLUSH_BUDGET_US per
 * commit, so a commit never stalls long. A periodic timer commits on its own when ingest is
 * idle, so the last second of derived state does not wait for the next event.
 *
 * Every record carries, per contributing agent (up to DERIVED_CONTRIB_MAX), the highest
 * sequence number applied to it. Events reach a record in sequence order per agent, so on
 * any replay "seq <= stored seq" means "already counted": replays never double count.
 *
 * Watermarks. A round starts at a commit: it notes each agent's applied sequence number.
 * When every record that was dirty at the round's start has been written (the FIFO head is
 * younger than the round), everything up to the noted numbers is in derived records, and
 * the commit that sees it writes 'W'|agent -> (seq, time) in the same transaction.
 *
 * Crash recovery. At start-up (and after an aborted transaction, which loses the records it
 * wrote and the events it held) memory is dropped and rebuilt: for every agent whose stored
 * sequence is above its watermark, the raw events after the watermark are re-scanned,
 * sorted by (agent, seq) and applied again; the per-record contributor seqs skip what a
 * record already holds. The re-scan reads blocks from RESCAN_SLACK_MS before the watermark
 * event's time, never further back than RESCAN_MAX_MS before the agent's last event.
 *
 * XXX residual gaps, each small and counted where countable:
 *  - an event re-scanned out of the bound above (its time lies more than RESCAN_SLACK_MS
 *    before the watermark event's, or the agent fell more than RESCAN_MAX_MS behind) is
 *    left out (derive_stats.recovery_skipped);
 *  - values computed from a transaction's state (step durations, app live counts) are lost
 *    for an event whose transaction record was written but whose step/app record was not;
 *  - a record with more than DERIVED_CONTRIB_MAX agents forgets the oldest one's seq;
 *  - derived databases are not pruned (store.h has no range scan for them; see the report);
 *  - a transaction never ended stays in txn_live for ever (same reason).
 * XXX store.h offers no read cursor, so the re-scan opens the environment a second time,
 * read-only and with MDB_NOLOCK, only while this (single-threaded) process is not
 * committing: it sees the last committed snapshot, whose pages no writer may reuse before
 * the next commit. A store_scan() in store.c would make this unnecessary.
 */

#define FLUSH_DELAY_MS		1000
#define FLUSH_BUDGET_US		1500
#define FLUSH_MAX_KEYS		20000
#define FLUSH_EVERY_MS		100	/* most ingest commits (and their acks) carry no flush */
#define TICK_MS			250
#define EVICT_IDLE_MS		10000
#define EVICT_SCAN		4096	/* buckets looked at per pass, at least */
#define EVICT_EVERY_MS		50	/* passes at most this often (not on every commit) */
#define EVICT_SWEEP_PASSES	32	/* a pass covers at least 1/32 of the table */
#define BUCKETS_MIN		4096
#define NAME_BUCKETS		1024
#define AGENT_BUCKETS		1024
#define RESCAN_SLACK_MS		(2 * STORE_BLOCK_SPAN_MS)
#define RESCAN_MAX_MS		(30 * 60000)
#define RECOVER_MAX_EVENTS	(4u << 20)

enum dk_type {
	DK_JOB = 1,
	DK_QUEUE,
	DK_STEP,
	DK_APPMIN,
	DK_APP,
	DK_TXN,
	DK_TYPES
};

#define DKEY_PENDING	16	/* histogram samples held before a merge */

struct dkey {
	struct dkey	*hnext;
	struct dkey	*dnext;		/* dirty FIFO */
	struct dkey	*inext;		/* written in the open transaction */
	uint64_t	 dirty_ms;
	uint64_t	 touch_ms;
	uint32_t	 hash;
	uint8_t		 type;
	uint8_t		 dirty;
	uint8_t		 inflight;
	uint8_t		 in_live;	/* DK_TXN: a txn_live record exists */
	uint8_t		 klen;
	union {
		struct derived_hdr	h;	/* every member starts with it */
		struct derived_job	job;
		struct derived_queue	q;
		struct derived_step	step;
		struct derived_appmin	am;
		struct derived_app	app;
		struct derived_txn	txn;
	} v;
	uint8_t		*attrs;		/* DK_TXN: owned; v.txn.attrs points here */
	/*
	 * DK_JOB, DK_STEP: the histogram lives encoded (hist_encode, a few hundred bytes) plus a
	 * few pending samples, merged through the one scratch histogram when the samples fill up
	 * or the record is written: a dense histogram per record is 14 KB, and 5000 applications
	 * with ten jobs and steps each would hold 700 MB of them.
	 */
	uint8_t		*henc;
	uint32_t	 henc_len;
	uint8_t		 npend;
	uint32_t	 pend[DKEY_PENDING];
	uint8_t		 key[];
};

struct dname {
	struct dname	*next;
	uint32_t	 id;
	uint8_t		 ns;
	char		 name[];
};

struct dagent {
	struct dagent	*next;
	uint32_t	 agent;
	uint64_t	 applied_seq;
	int64_t		 applied_ms;
	uint64_t	 wm_seq;	/* durable watermark */
	uint64_t	 snap_seq;	/* noted at the round's start */
	int64_t		 snap_ms;
	uint64_t	 inflight_seq;	/* watermark written in the open transaction */
};

struct derive {
	uint64_t	 last_flush_ms;	/* ingest commits carry a flush at most this often */
	struct collector	*c;
	struct store		*s;
	char			*path;
	unsigned int		 dbi[DK_TYPES];	/* by dk_type; DK_APP is the meta db */
	unsigned int		 dbi_done;
	struct dkey		**buckets;
	size_t			 nbuckets, nkeys, evict_pos;
	uint64_t		 evict_ms;	/* the last eviction pass */
	struct dkey		*dhead, *dtail;	/* dirty FIFO */
	struct dkey		*inflight;
	struct dname		*names[NAME_BUCKETS];
	struct dagent		*agents[AGENT_BUCKETS];
	int			 round_active;
	uint64_t		 round_start_ms;
	int			 wm_inflight;
	int			 need_recover;
	int			 failed;	/* a store error in the open transaction */
	int			 dbis_open;
	int			 was_active;	/* single or active at the last look */
	struct event		*tick;
	uint64_t		(*clock_ms)(void);	/* monotonic; tests replace it */
	uint8_t			 buf[DERIVED_JOB_MAX + DERIVED_TXN_MAX];
	uint8_t			 abuf[DERIVED_ATTRS_BYTES_MAX];
	struct hist		 scratch;
};

struct derive_stats derive_stats;

static uint64_t	mono_ms(void);
/* The clock every new derive uses (monotonic ms); unit tests set a fake one. */
static uint64_t	(*derive_clock)(void) = mono_ms;

static int	derive_check_role(struct derive *);

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
mono_us_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* Records in memory. */

static struct hist **
dkey_histp(struct dkey *k)
{
	return k->type == DK_JOB ? &k->v.job.hist : &k->v.step.hist;
}

/* Encodes the scratch histogram into the record's compact form. 0, or -1 out of memory. */
static int
dkey_hist_store(struct derive *d, struct dkey *k)
{
	uint8_t enc[HIST_ENCODE_MAX];
	size_t n = 0;
	uint8_t *p;

	if (hist_encode(&d->scratch, enc, sizeof(enc), &n) == -1)
		return -1;
	if ((p = xrealloc(k->henc, n)) == NULL)
		return -1;
	memcpy(p, enc, n);
	k->henc = p;
	k->henc_len = (uint32_t)n;
	return 0;
}

/*
 * Brings a job or step record's histogram, with its pending samples, into the scratch
 * histogram and points the record at it (valid until the next dkey_hist_* call); the encoded
 * form is brought up to date. 0, or -1 out of memory.
 */
static int
dkey_hist_open(struct derive *d, struct dkey *k)
{
	int i, had_pending = k->npend > 0;

	hist_init(&d->scratch);
	if (k->henc != NULL && hist_decode(&d->scratch, k->henc, k->henc_len) == -1)
		hist_init(&d->scratch);
	for (i = 0; i < k->npend; i++)
		hist_record(&d->scratch, k->pend[i]);
	k->npend = 0;
	*dkey_histp(k) = &d->scratch;
	if (!had_pending && k->henc != NULL)
		return 0;
	return dkey_hist_store(d, k);
}

/* One sample into a job or step record's histogram. */
static void
dkey_hist_record(struct derive *d, struct dkey *k, uint64_t us)
{
	if (k->npend == DKEY_PENDING && dkey_hist_open(d, k) == -1)
		derive_stats.errors++;
	if (k->npend < DKEY_PENDING)
		k->pend[k->npend++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	*dkey_histp(k) = NULL;
}

/* After decoding a stored record into the scratch histogram: keep it encoded. */
static void
dkey_hist_keep(struct derive *d, struct dkey *k)
{
	k->npend = 0;
	if (dkey_hist_store(d, k) == -1)
		derive_stats.errors++;
	*dkey_histp(k) = NULL;
}

static void
dkey_free(struct dkey *k)
{
	if (k == NULL)
		return;
	xfree(k->henc);
	xfree(k->attrs);
	xfree(k);
}

/* Drops every record, name and agent: memory is rebuilt from LMDB and the raw events. */
static void
derive_reset(struct derive *d)
{
	struct dkey *k, *kn;
	struct dname *n, *nn;
	struct dagent *a, *an;
	size_t i;

	for (i = 0; i < d->nbuckets; i++) {
		for (k = d->buckets[i]; k != NULL; k = kn) {
			kn = k->hnext;
			dkey_free(k);
		}
		d->buckets[i] = NULL;
	}
	for (i = 0; i < NAME_BUCKETS; i++) {
		for (n = d->names[i]; n != NULL; n = nn) {
			nn = n->next;
			xfree(n);
		}
		d->names[i] = NULL;
	}
	for (i = 0; i < AGENT_BUCKETS; i++) {
		for (a = d->agents[i]; a != NULL; a = an) {
			an = a->next;
			xfree(a);
		}
		d->agents[i] = NULL;
	}
	d->nkeys = 0;
	d->dhead = d->dtail = NULL;
	d->inflight = NULL;
	d->round_active = 0;
	d->wm_inflight = 0;
	d->failed = 0;
	derive_stats.keys = derive_stats.dirty = 0;
}

static int
derive_grow(struct derive *d)
{
	struct dkey **nb, *k, *kn;
	size_t n = d->nbuckets * 2, i;

	if ((nb = xcalloc(n, sizeof(*nb))) == NULL)
		return -1;
	for (i = 0; i < d->nbuckets; i++) {
		for (k = d->buckets[i]; k != NULL; k = kn) {
			kn = k->hnext;
			k->hnext = nb[k->hash & (n - 1)];
			nb[k->hash & (n - 1)] = k;
		}
	}
	xfree(d->buckets);
	d->buckets = nb;
	d->nbuckets = n;
	d->evict_pos = 0;
	return 0;
}

static unsigned int
dbi_of(const struct derive *d, const struct dkey *k)
{
	return d->dbi[k->type];
}

/* Loads a record's stored value into k (found: 1, not found: 0, -1 error). */
static int
dkey_load(struct derive *d, struct dkey *k)
{
	size_t len = sizeof(d->buf);
	int rc, bad = 0;

	rc = store_get(d->s, dbi_of(d, k), k->key, k->klen, d->buf, &len);
	if (rc == 0 && k->type == DK_TXN) {
		len = sizeof(d->buf);
		rc = store_get(d->s, d->dbi_done, k->key, k->klen, d->buf, &len);
	} else if (rc == 1 && k->type == DK_TXN)
		k->in_live = 1;
	if (rc != 1)
		return rc;
	if (len > sizeof(d->buf))
		bad = 1;
	else switch (k->type) {
	case DK_JOB:
		hist_init(&d->scratch);
		k->v.job.hist = &d->scratch;
		bad = derived_job_decode(d->buf, len, &k->v.job);
		break;
	case DK_QUEUE:
		bad = derived_queue_decode(d->buf, len, &k->v.q);
		break;
	case DK_STEP:
		hist_init(&d->scratch);
		k->v.step.hist = &d->scratch;
		bad = derived_step_decode(d->buf, len, &k->v.step);
		break;
	case DK_APPMIN:
		bad = derived_appmin_decode(d->buf, len, &k->v.am);
		break;
	case DK_APP:
		bad = derived_app_decode(d->buf, len, &k->v.app);
		break;
	case DK_TXN:
		if ((bad = derived_txn_decode(d->buf, len, &k->v.txn)) == 0 &&
		    k->v.txn.attrs_len > 0) {
			if ((k->attrs = xmalloc(k->v.txn.attrs_len)) == NULL)
				return -1;
			memcpy(k->attrs, k->v.txn.attrs, k->v.txn.attrs_len);
		}
		k->v.txn.attrs = k->attrs;
		break;
	}
	if (bad) {
		/* Keep going from zero rather than stall ingest on one bad record. */
		log_warnx("%s: undecodable derived record (type %d, %zu bytes): restarting it",
		    __func__, k->type, len);
		derive_stats.errors++;
		if (k->type == DK_JOB || k->type == DK_STEP) {
			hist_init(&d->scratch);
			dkey_hist_keep(d, k);
		}
		return 0;
	}
	if (k->type == DK_JOB || k->type == DK_STEP)
		dkey_hist_keep(d, k);
	return 1;
}

/* The record (type, key), from memory or LMDB or new. NULL (and d->failed) on error. */
static struct dkey *
dkey_get(struct derive *d, int type, const uint8_t *key, size_t klen)
{
	uint8_t t = (uint8_t)type;
	uint32_t h = fnv(fnv(2166136261u, &t, 1), key, klen);
	struct dkey *k;

	for (k = d->buckets[h & (d->nbuckets - 1)]; k != NULL; k = k->hnext)
		if (k->hash == h && k->type == type && k->klen == klen &&
		    memcmp(k->key, key, klen) == 0) {
			k->touch_ms = d->clock_ms();
			return k;
		}
	if (d->nkeys >= d->nbuckets * 2 && derive_grow(d) == -1)
		goto fail;
	if ((k = xcalloc(1, sizeof(*k) + klen)) == NULL)
		goto fail;
	k->hash = h;
	k->type = t;
	k->klen = (uint8_t)klen;
	memcpy(k->key, key, klen);
	if (dkey_load(d, k) == -1) {
		dkey_free(k);
		goto fail;
	}
	k->touch_ms = d->clock_ms();
	k->hnext = d->buckets[h & (d->nbuckets - 1)];
	d->buckets[h & (d->nbuckets - 1)] = k;
	d->nkeys++;
	derive_stats.keys = d->nkeys;
	return k;
fail:
	derive_stats.errors++;
	d->failed = 1;
	return NULL;
}

static void
dkey_dirty(struct derive *d, struct dkey *k, uint32_t agent, uint64_t seq)
{
	derived_hdr_note(&k->v.h, agent, seq);
	if (k->dirty)
		return;
	k->dirty = 1;
	k->dirty_ms = d->clock_ms();
	k->dnext = NULL;
	if (d->dtail != NULL)
		d->dtail->dnext = k;
	else
		d->dhead = k;
	d->dtail = k;
	derive_stats.dirty++;
}

/*
 * The record to apply event (agent, seq) to, or NULL when it already holds it (or on an
 * error, which sets d->failed).
 */
static struct dkey *
rec(struct derive *d, int type, const uint8_t *key, size_t klen, uint32_t agent, uint64_t seq)
{
	struct dkey *k = dkey_get(d, type, key, klen);

	if (k == NULL || derived_hdr_has(&k->v.h, agent, seq))
		return NULL;
	return k;
}

static int
intern(struct derive *d, enum store_ns ns, const char *name, uint32_t *id)
{
	size_t len = strlen(name);
	uint8_t b = (uint8_t)ns;
	uint32_t h = fnv(fnv(2166136261u, &b, 1), name, len) & (NAME_BUCKETS - 1);
	struct dname *n;

	for (n = d->names[h]; n != NULL; n = n->next)
		if (n->ns == ns && strcmp(n->name, name) == 0) {
			*id = n->id;
			return 0;
		}
	if (store_intern(d->s, ns, name, id) == -1 || (n = xmalloc(sizeof(*n) + len + 1)) == NULL) {
		derive_stats.errors++;
		d->failed = 1;
		return -1;
	}
	n->id = *id;
	n->ns = b;
	memcpy(n->name, name, len + 1);
	n->next = d->names[h];
	d->names[h] = n;
	return 0;
}

static struct dagent *
agent_get(struct derive *d, uint32_t agent)
{
	struct dagent *a;
	uint32_t h = agent & (AGENT_BUCKETS - 1);

	for (a = d->agents[h]; a != NULL; a = a->next)
		if (a->agent == agent)
			return a;
	if ((a = xcalloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->agent = agent;
	a->next = d->agents[h];
	d->agents[h] = a;
	return a;
}

/* Applying one event. */

static void
apply_queue(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    const Tandem__QueueSample *qs)
{
	struct derived_queue *q;
	uint8_t kb[DERIVED_MINKEY_LEN];
	struct dkey *k;
	uint32_t qid;

	if (qs->queue == NULL || qs->queue[0] == '\0' || intern(d, STORE_NS_QUEUE, qs->queue,
	    &qid) == -1)
		return;
	derived_minkey(kb, app, qid, derived_minute(t));
	if ((k = rec(d, DK_QUEUE, kb, sizeof(kb), agent, seq)) == NULL)
		return;
	q = &k->v.q;
	if (q->samples == 0 || qs->depth < q->min)
		q->min = qs->depth;
	if (q->samples == 0 || qs->depth > q->max)
		q->max = qs->depth;
	if (q->samples == 0 || t >= q->last_ms) {
		q->last = qs->depth;
		q->last_ms = t;
	}
	q->samples++;
	if (qs->has_enqueued_total && qs->has_completed_total) {
		if (!q->has_totals || t < q->first_tot_ms) {
			q->first_tot_ms = t;
			q->first_enq = qs->enqueued_total;
			q->first_compl = qs->completed_total;
		}
		if (!q->has_totals || t >= q->last_tot_ms) {
			q->last_tot_ms = t;
			q->last_enq = qs->enqueued_total;
			q->last_compl = qs->completed_total;
		}
		q->has_totals = 1;
	}
	dkey_dirty(d, k, agent, seq);
}

static void
apply_job(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    const Tandem__JobTiming *j, struct derived_appmin *am)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	struct dkey *k;
	uint32_t jid;
	int ok = !j->has_ok || j->ok;

	if (am != NULL) {
		am->jobs++;
		am->job_errors += !ok;
	}
	if (j->job == NULL || j->job[0] == '\0' || intern(d, STORE_NS_JOB, j->job, &jid) == -1)
		return;
	derived_minkey(kb, app, jid, derived_minute(t));
	if ((k = rec(d, DK_JOB, kb, sizeof(kb), agent, seq)) == NULL)
		return;
	k->v.job.count++;
	k->v.job.errors += !ok;
	dkey_hist_record(d, k, j->duration_us);
	dkey_dirty(d, k, agent, seq);
}

/* A transaction entered step sid at t (position pos in its path). */
static void
step_enter(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    uint32_t sid, int repeat, uint32_t pos)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	struct dkey *k;

	derived_minkey(kb, app, sid, derived_minute(t));
	if ((k = rec(d, DK_STEP, kb, sizeof(kb), agent, seq)) == NULL)
		return;
	k->v.step.entries++;
	if (repeat)
		k->v.step.repeats++;
	else
		k->v.step.first_entries++;
	k->v.step.pos_sum += pos;
	dkey_dirty(d, k, agent, seq);
}

/* A transaction left step sid at t after dur_ms in it. */
static void
step_leave(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    uint32_t sid, int64_t dur_ms)
{
	uint8_t kb[DERIVED_MINKEY_LEN];
	struct dkey *k;

	if (sid == 0)
		return;
	derived_minkey(kb, app, sid, derived_minute(t));
	if ((k = rec(d, DK_STEP, kb, sizeof(kb), agent, seq)) == NULL)
		return;
	dkey_hist_record(d, k, dur_ms > 0 ? (uint64_t)dur_ms * 1000 : 0);
	dkey_dirty(d, k, agent, seq);
}

static void
apply_txn(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    const Tandem__TxnStep *ts, struct derived_appmin *am, struct derived_app *as)
{
	struct derived_attr add[DERIVED_ATTRS_MAX];
	uint8_t kb[DERIVED_TXNKEY_MAX];
	struct derived_txn *x;
	struct dkey *k;
	size_t klen, i, n, alen;
	uint32_t sid = 0, p;
	int repeat, state = ts->has_state ? ts->state : TANDEM__TXN_STATE__TXN_BEGIN;

	if (ts->txn_id == NULL ||
	    (klen = derived_txnkey(kb, app, ts->txn_id, strlen(ts->txn_id))) == 0)
		return;
	if (ts->step != NULL && ts->step[0] != '\0' && intern(d, STORE_NS_STEP, ts->step,
	    &sid) == -1)
		return;
	if ((k = rec(d, DK_TXN, kb, klen, agent, seq)) == NULL)
		return;
	x = &k->v.txn;
	if (x->nevents == 0) {
		x->state = DERIVED_TXN_RUNNING;
		x->begin_ms = x->step_ms = x->last_ms = t;
		if (am != NULL)
			am->txn_begin++;
		if (as != NULL)
			as->live_txns++;
		if (sid != 0) {
			x->step = sid;
			x->steps[x->nsteps++] = sid;
			x->steps_total = 1;
			step_enter(d, agent, app, seq, t, sid, 0, 0);
		}
	} else if (x->state == DERIVED_TXN_RUNNING && sid != 0 && sid != x->step) {
		step_leave(d, agent, app, seq, t, x->step, t - x->step_ms);
		for (repeat = 0, i = 0; i < x->nsteps; i++)
			if (x->steps[i] == sid)
				repeat = 1;
		p = x->steps_total++;
		if (x->nsteps < DERIVED_TXN_STEPS_MAX)
			x->steps[x->nsteps++] = sid;
		step_enter(d, agent, app, seq, t, sid, repeat, p);
		x->step = sid;
		x->step_ms = t;
	} else if (x->state == DERIVED_TXN_RUNNING && sid == x->step && sid != 0 &&
	    (state == TANDEM__TXN_STATE__TXN_END || state == TANDEM__TXN_STATE__TXN_ERROR)) {
		/* Ending in the step it was in: that step's time is now known. */
		step_leave(d, agent, app, seq, t, sid, t - x->step_ms);
	}
	if (x->state == DERIVED_TXN_RUNNING && (state == TANDEM__TXN_STATE__TXN_END ||
	    state == TANDEM__TXN_STATE__TXN_ERROR)) {
		x->state = state == TANDEM__TXN_STATE__TXN_END ? DERIVED_TXN_DONE :
		    DERIVED_TXN_FAILED;
		if (am != NULL) {
			if (state == TANDEM__TXN_STATE__TXN_END)
				am->txn_end++;
			else
				am->txn_error++;
		}
		if (as != NULL) {
			as->live_txns--;
			as->done_txns++;
		}
	}
	if (t > x->last_ms)
		x->last_ms = t;
	if (t < x->begin_ms)
		x->begin_ms = t;
	x->nevents++;
	x->last_event = (uint8_t)state;
	n = ts->n_attrs < DERIVED_ATTRS_MAX ? ts->n_attrs : DERIVED_ATTRS_MAX;
	for (i = 0; i < n; i++) {
		add[i].key = ts->attrs[i]->key != NULL ? ts->attrs[i]->key : "";
		add[i].klen = strlen(add[i].key);
		add[i].val = ts->attrs[i]->value != NULL ? ts->attrs[i]->value : "";
		add[i].vlen = strlen(add[i].val);
	}
	if (n > 0) {
		uint8_t *na;

		alen = derived_attrs_merge(k->attrs, x->attrs_len, add, n, d->abuf);
		if (alen > 0 && (na = xrealloc(k->attrs, alen)) != NULL) {
			memcpy(na, d->abuf, alen);
			k->attrs = na;
			x->attrs_len = (uint32_t)alen;
		}
		x->attrs = k->attrs;
	}
	dkey_dirty(d, k, agent, seq);
}

/* Applies one event of agent (filed under app) to every record it feeds. */
static void
derive_apply(struct derive *d, uint32_t agent, uint32_t app, uint64_t seq, int64_t t,
    const Tandem__Event *ev)
{
	uint8_t mk[DERIVED_METAKEY_LEN], ak[DERIVED_APPMINKEY_LEN];
	struct dkey *ks, *km;
	struct derived_app *as = NULL;
	struct derived_appmin *am = NULL;
	struct dagent *ag;
	enum ev_kind kind;

	derive_stats.events++;
	if ((ag = agent_get(d, agent)) == NULL) {
		d->failed = 1;
		return;
	}
	if (seq > ag->applied_seq) {
		ag->applied_seq = seq;
		ag->applied_ms = t;
	}
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:		kind = EV_QUEUE; break;
	case TANDEM__EVENT__KIND_TXN:		kind = EV_TXN; break;
	case TANDEM__EVENT__KIND_JOB:		kind = EV_JOB; break;
	case TANDEM__EVENT__KIND_LOG:		kind = EV_LOG; break;
	case TANDEM__EVENT__KIND_HEARTBEAT:	kind = EV_HEARTBEAT; break;
	default:				return;
	}
	derived_metakey(mk, DERIVED_META_APP, app);
	if ((ks = rec(d, DK_APP, mk, sizeof(mk), agent, seq)) != NULL) {
		as = &ks->v.app;
		if (as->events == 0 || t < as->first_ms)
			as->first_ms = t;
		if (t > as->last_ms)
			as->last_ms = t;
		as->events++;
	}
	derived_appminkey(ak, app, derived_minute(t));
	if ((km = rec(d, DK_APPMIN, ak, sizeof(ak), agent, seq)) != NULL) {
		am = &km->v.am;
		am->kinds[kind]++;
	}
	switch (kind) {
	case EV_QUEUE:
		apply_queue(d, agent, app, seq, t, ev->queue);
		break;
	case EV_TXN:
		apply_txn(d, agent, app, seq, t, ev->txn, am, as);
		break;
	case EV_JOB:
		apply_job(d, agent, app, seq, t, ev->job, am);
		break;
	case EV_LOG:
		if (am != NULL && (unsigned)ev->log->level < DERIVED_LEVELS)
			am->levels[ev->log->level]++;
		break;
	case EV_HEARTBEAT:
		if (as != NULL && t >= as->last_hb_ms) {
			as->last_hb_ms = t;
			as->uptime_s = ev->heartbeat->uptime_s;
		}
		break;
	default:
		break;
	}
	if (ks != NULL)
		dkey_dirty(d, ks, agent, seq);
	if (km != NULL)
		dkey_dirty(d, km, agent, seq);
}

/* Recovery: re-apply the raw events each agent's watermark does not cover. */

struct rref {
	uint32_t	 agent, app;
	uint64_t	 seq;
	const uint8_t	*data;
	uint32_t	 len;
};

struct rneed {
	uint32_t	agent, app;
	uint64_t	lo, hi;		/* re-apply seqs in (lo, hi] */
	int64_t		from_ms;
};

static int
rref_cmp(const void *a, const void *b)
{
	const struct rref *x = a, *y = b;

	if (x->agent != y->agent)
		return x->agent < y->agent ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
rneed_cmp(const void *a, const void *b)
{
	const struct rneed *x = a, *y = b;

	if (x->app != y->app)
		return x->app < y->app ? -1 : 1;
	return x->agent < y->agent ? -1 : x->agent > y->agent;
}

/* The recovery's list of events to re-apply. */
struct rrefs {
	struct rref	*v;
	size_t		 n, cap;
};

/*
 * Adds the events of one stored block (key ek, body val/len) whose seq lies in (lo, hi] to r.
 * 0, or -1 out of memory. Stops quietly at RECOVER_MAX_EVENTS.
 */
static int
rrefs_add_block(struct rrefs *r, const struct store_evkey *ek, const uint8_t *val, size_t len,
    uint64_t lo, uint64_t hi)
{
	struct store_block_it it;
	const uint8_t *evp;
	uint64_t delta, seq;
	size_t evlen;
	struct rref *nr;

	if (store_block_open(&it, val, len) == -1)
		return 0;
	while (store_block_next(&it, &delta, &evp, &evlen) == 1) {
		seq = ek->first_seq + delta;
		if (seq <= lo || seq > hi || r->n == RECOVER_MAX_EVENTS)
			continue;
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			if ((nr = xrealloc(r->v, r->cap * sizeof(*nr))) == NULL)
				return -1;
			r->v = nr;
		}
		r->v[r->n].agent = ek->agent;
		r->v[r->n].app = ek->app;
		r->v[r->n].seq = seq;
		r->v[r->n].data = evp;
		r->v[r->n].len = (uint32_t)evlen;
		r->n++;
	}
	return 0;
}

static int
derive_recover(struct derive *d)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi agents, events, evlog, meta;
	int part;
	MDB_val k, v;
	struct rneed *need = NULL, *nn;
	struct rrefs rr = { NULL, 0, 0 };
	size_t nneed = 0, capneed = 0, i, j, e;
	uint64_t t0 = d->clock_ms(), expected = 0, applied = 0;
	int rc, ret = -1;

	d->need_recover = 0;
	derive_reset(d);
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 64)) != 0 ||
	    (rc = mdb_env_open(env, d->path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0640)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_AGENTS, 0, &agents)) != 0 ||
	    (rc = mdb_dbi_open(txn, STORE_DB_EVENTS, 0, &events)) != 0 ||
	    (rc = mdb_dbi_open(txn, DERIVED_DB_META, 0, &meta)) != 0 ||
	    (rc = mdb_cursor_open(txn, agents, &cur)) != 0) {
		log_warnx("%s: %s", __func__, mdb_strerror(rc));
		goto out;
	}
	/* Each agent: stored seq vs derived watermark. */
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_agent_rec ar;
		struct derived_wm wm = { 0, 0 };
		struct dagent *ag;
		uint8_t mk[DERIVED_METAKEY_LEN];
		MDB_val mkv, mv;

		if (k.mv_size != 4 || store_agent_decode(v.mv_data, v.mv_size, &ar) == -1)
			continue;
		derived_metakey(mk, DERIVED_META_WM, store_get_be32(k.mv_data));
		mkv.mv_data = mk;
		mkv.mv_size = sizeof(mk);
		if (mdb_get(txn, meta, &mkv, &mv) == 0)
			derived_wm_decode(mv.mv_data, mv.mv_size, &wm);
		if ((ag = agent_get(d, store_get_be32(k.mv_data))) == NULL)
			goto out;
		ag->wm_seq = wm.seq;
		ag->applied_seq = ar.stored_seq > wm.seq ? ar.stored_seq : wm.seq;
		ag->applied_ms = (int64_t)ar.last_ms;
		if (ar.stored_seq <= wm.seq)
			continue;
		if (nneed == capneed) {
			capneed = capneed ? capneed * 2 : 256;
			if ((nn = xrealloc(need, capneed * sizeof(*need))) == NULL)
				goto out;
			need = nn;
		}
		need[nneed].agent = ag->agent;
		need[nneed].app = ar.app;
		need[nneed].lo = wm.seq;
		need[nneed].hi = ar.stored_seq;
		need[nneed].from_ms = wm.seq > 0 ? wm.time_ms - RESCAN_SLACK_MS : 0;
		if (need[nneed].from_ms < (int64_t)ar.last_ms - RESCAN_MAX_MS)
			need[nneed].from_ms = (int64_t)ar.last_ms - RESCAN_MAX_MS;
		if (need[nneed].from_ms < 0)
			need[nneed].from_ms = 0;
		expected += ar.stored_seq - wm.seq;
		nneed++;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (nneed == 0) {
		ret = 0;
		goto out;
	}
	qsort(need, nneed, sizeof(*need), rneed_cmp);
	if ((rc = mdb_cursor_open(txn, events, &cur)) != 0)
		goto out;
	/* Per app (its agents are adjacent in need[]), every kind from the earliest bound. */
	for (i = 0; i < nneed; i = j) {
		int64_t from = need[i].from_ms;
		uint8_t kind;

		for (j = i; j < nneed && need[j].app == need[i].app; j++)
			if (need[j].from_ms < from)
				from = need[j].from_ms;
		for (kind = 1; kind < STORE_KINDS_MAX; kind++) {
			struct store_evkey ek = { need[i].app, kind,
			    from > STORE_BLOCK_SPAN_MS ? (uint64_t)(from - STORE_BLOCK_SPAN_MS) : 0,
			    0, 0 };
			uint8_t kb[STORE_EVKEY_LEN];

			store_evkey_encode(kb, &ek);
			k.mv_data = kb;
			k.mv_size = sizeof(kb);
			for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
			    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
				if (store_evkey_decode(k.mv_data, k.mv_size, &ek) == -1 ||
				    ek.app != need[i].app || ek.kind != kind)
					break;
				for (e = i; e < j && need[e].agent != ek.agent; e++)
					;
				if (e < j && rrefs_add_block(&rr, &ek, v.mv_data, v.mv_size,
				    need[e].lo, need[e].hi) == -1)
					goto out;
			}
			if (rc != 0 && rc != MDB_NOTFOUND)
				goto out;
		}
	}
	/* Blocks committed but not folded into their ranges yet are in the commit log. */
	mdb_cursor_close(cur);
	cur = NULL;
	for (part = 0, rc = 0; part < STORE_EVLOG_PARTS && (rc == 0 || rc == MDB_NOTFOUND); part++) {
		char name[8];

		store_evlog_name(name, part);
		if ((rc = mdb_dbi_open(txn, name, 0, &evlog)) != 0 ||
		    (rc = mdb_cursor_open(txn, evlog, &cur)) != 0)
			break;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			struct store_evkey ek;

			if (v.mv_size < STORE_EVKEY_LEN ||
			    store_evkey_decode(v.mv_data, STORE_EVKEY_LEN, &ek) == -1)
				continue;
			for (e = 0; e < nneed && need[e].agent != ek.agent; e++)
				;
			if (e < nneed && rrefs_add_block(&rr, &ek, (const uint8_t *)v.mv_data +
			    STORE_EVKEY_LEN, v.mv_size - STORE_EVKEY_LEN, need[e].lo, need[e].hi) == -1)
				goto out;
		}
		mdb_cursor_close(cur);
		cur = NULL;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	/* Per agent in sequence order: contributor seqs rely on it. */
	qsort(rr.v, rr.n, sizeof(*rr.v), rref_cmp);
	for (i = 0; i < rr.n; i++) {
		Tandem__Event *ev = tandem__event__unpack(NULL, rr.v[i].len, rr.v[i].data);

		if (ev == NULL)
			continue;
		derive_apply(d, rr.v[i].agent, rr.v[i].app, rr.v[i].seq, ev->time_ms, ev);
		tandem__event__free_unpacked(ev, NULL);
		applied++;
		if (d->failed)
			goto out;
	}
	ret = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	xfree(need);
	xfree(rr.v);
	derive_stats.recoveries++;
	derive_stats.recovered_events += applied;
	derive_stats.recovery_skipped += expected > applied ? expected - applied : 0;
	derive_stats.recovery_ms += d->clock_ms() - t0;
	if (nneed > 0 || ret == -1)
		log_info("derive: recovery re-applied %" PRIu64 " events of %zu agents in %" PRIu64
		    " ms%s; %" PRIu64 " beyond the re-scan bound", applied, nneed,
		    d->clock_ms() - t0, ret == -1 ? " (FAILED)" : "",
		    expected > applied ? expected - applied : 0);
	return ret;
}

/* Writing. */

static int
dkey_write(struct derive *d, struct dkey *k)
{
	unsigned int dbi = dbi_of(d, k);
	size_t n = 0;

	switch (k->type) {
	case DK_JOB:
		if (dkey_hist_open(d, k) == -1)
			return -1;
		n = derived_job_encode(&k->v.job, d->buf, sizeof(d->buf));
		k->v.job.hist = NULL;
		break;
	case DK_QUEUE:
		n = derived_queue_encode(&k->v.q, d->buf, sizeof(d->buf));
		break;
	case DK_STEP:
		if (dkey_hist_open(d, k) == -1)
			return -1;
		n = derived_step_encode(&k->v.step, d->buf, sizeof(d->buf));
		k->v.step.hist = NULL;
		break;
	case DK_APPMIN:
		n = derived_appmin_encode(&k->v.am, d->buf, sizeof(d->buf));
		break;
	case DK_APP:
		n = derived_app_encode(&k->v.app, d->buf, sizeof(d->buf));
		break;
	case DK_TXN:
		n = derived_txn_encode(&k->v.txn, d->buf, sizeof(d->buf));
		if (k->v.txn.state != DERIVED_TXN_RUNNING) {
			if (k->in_live && store_del(d->s, dbi, k->key, k->klen) == -1)
				return -1;
			k->in_live = 0;
			dbi = d->dbi_done;
		} else
			k->in_live = 1;
		break;
	}
	if (n == 0) {
		log_warnx("%s: record type %d does not encode", __func__, k->type);
		return 0;
	}
	derive_stats.flushed++;
	return store_put(d->s, dbi, k->key, k->klen, d->buf, n);
}

static int
agents_pending(struct derive *d)
{
	struct dagent *a;
	size_t i;

	for (i = 0; i < AGENT_BUCKETS; i++)
		for (a = d->agents[i]; a != NULL; a = a->next)
			if (a->applied_seq > a->wm_seq)
				return 1;
	return 0;
}

static void
round_start(struct derive *d)
{
	struct dagent *a;
	size_t i;

	for (i = 0; i < AGENT_BUCKETS; i++)
		for (a = d->agents[i]; a != NULL; a = a->next) {
			a->snap_seq = a->applied_seq;
			a->snap_ms = a->applied_ms;
		}
	d->round_active = 1;
	d->round_start_ms = d->clock_ms();
}

static int
round_finish(struct derive *d)
{
	struct derived_wm wm;
	uint8_t mk[DERIVED_METAKEY_LEN], vb[DERIVED_WM_LEN];
	struct dagent *a;
	size_t i;

	for (i = 0; i < AGENT_BUCKETS; i++)
		for (a = d->agents[i]; a != NULL; a = a->next) {
			if (a->snap_seq <= a->wm_seq)
				continue;
			wm.seq = a->snap_seq;
			wm.time_ms = a->snap_ms;
			derived_metakey(mk, DERIVED_META_WM, a->agent);
			derived_wm_encode(&wm, vb);
			if (store_put(d->s, d->dbi[DK_APP], mk, sizeof(mk), vb, sizeof(vb)) == -1)
				return -1;
			a->inflight_seq = a->snap_seq;
			d->wm_inflight = 1;
		}
	d->round_active = 0;
	derive_stats.rounds++;
	return 0;
}

/*
 * Writes the records due (bounded) and, when a round is complete, the watermarks, into the
 * tick's transaction. 0, or -1 on a store error (the transaction is lost).
 */
static int
derive_flush(struct derive *d)
{
	uint64_t now = d->clock_ms(), t0 = mono_us_now(), dt;
	struct dkey *k;
	size_t n = 0;

	if (!d->round_active && (d->dhead != NULL || agents_pending(d)))
		round_start(d);
	while ((k = d->dhead) != NULL && k->dirty_ms + FLUSH_DELAY_MS <= now &&
	    n < FLUSH_MAX_KEYS) {
		if ((n & 15) == 15 && mono_us_now() - t0 > FLUSH_BUDGET_US)
			break;
		d->dhead = k->dnext;
		if (d->dhead == NULL)
			d->dtail = NULL;
		k->dnext = NULL;
		k->dirty = 0;
		derive_stats.dirty--;
		if (dkey_write(d, k) == -1)
			return -1;
		if (!k->inflight) {
			k->inflight = 1;
			k->inext = d->inflight;
			d->inflight = k;
		}
		n++;
	}
	if (d->round_active && (d->dhead == NULL || d->dhead->dirty_ms > d->round_start_ms) &&
	    round_finish(d) == -1)
		return -1;
	if (n > 0) {
		dt = mono_us_now() - t0;
		derive_stats.flush_calls++;
		derive_stats.flush_us_total += dt;
		if (dt > derive_stats.flush_us_max)
			derive_stats.flush_us_max = dt;
	}
	derive_stats.oldest_dirty_ms = d->dhead != NULL ? now - d->dhead->dirty_ms : 0;
	return 0;
}

/* Hooks. */

static void
hook_event(void *arg, const struct agent_state *a, uint64_t seq, const struct msg_event *e)
{
	struct derive *d = arg;

	if (derive_check_role(d) == -1)
		return;
	if (d->need_recover && derive_recover(d) == -1)
		d->failed = 1;
	if (e->ev != NULL)
		derive_apply(d, a->num, a->app, seq, e->time_ms, e->ev);
}

static int
hook_commit(void *arg, struct store *s)
{
	struct derive *d = arg;

	if (derive_check_role(d) == -1)
		return 0;
	if (d->need_recover && derive_recover(d) == -1)
		d->failed = 1;
	if (d->failed) {
		log_warnx("derive: a store error earlier in this transaction: failing it");
		return -1;
	}
	if (d->clock_ms() < d->last_flush_ms + FLUSH_EVERY_MS)
		return 0;
	d->last_flush_ms = d->clock_ms();
	return derive_flush(d);
}

static void
hook_committed(void *arg)
{
	struct derive *d = arg;
	struct dkey *k, **pp;
	struct dagent *a;
	uint64_t now = d->clock_ms();
	size_t i, b, scan;

	while ((k = d->inflight) != NULL) {
		d->inflight = k->inext;
		k->inext = NULL;
		k->inflight = 0;
	}
	if (d->wm_inflight) {
		for (i = 0; i < AGENT_BUCKETS; i++)
			for (a = d->agents[i]; a != NULL; a = a->next)
				if (a->inflight_seq > a->wm_seq)
					a->wm_seq = a->inflight_seq;
		d->wm_inflight = 0;
	}
	/*
	 * Evict clean records nobody touched lately (and finished transactions), in passes at
	 * most every EVICT_EVERY_MS: a pass per commit cost 13 % of the collector's CPU at
	 * 30 000 events/s (perf) and held every ack behind it.
	 */
	if (now - d->evict_ms < EVICT_EVERY_MS && now >= d->evict_ms)
		return;
	d->evict_ms = now;
	scan = d->nbuckets / EVICT_SWEEP_PASSES > EVICT_SCAN ? d->nbuckets / EVICT_SWEEP_PASSES :
	    EVICT_SCAN;
	for (i = 0; i < scan && i < d->nbuckets; i++) {
		b = (d->evict_pos + i) & (d->nbuckets - 1);
		for (pp = &d->buckets[b]; (k = *pp) != NULL;) {
			if (!k->dirty && !k->inflight && (now - k->touch_ms > EVICT_IDLE_MS ||
			    (k->type == DK_TXN && k->v.txn.state != DERIVED_TXN_RUNNING))) {
				*pp = k->hnext;
				dkey_free(k);
				d->nkeys--;
				derive_stats.evicted++;
			} else
				pp = &k->hnext;
		}
	}
	d->evict_pos = (d->evict_pos + i) & (d->nbuckets - 1);
	derive_stats.keys = d->nkeys;
}

static void
hook_aborted(void *arg)
{
	struct derive *d = arg;

	/*
	 * The transaction's events will be resent; records written in it are gone. Memory is
	 * rebuilt from what is durable before anything else is applied (next hook call).
	 */
	derive_stats.aborts++;
	derive_reset(d);
	d->need_recover = 1;
}

/* A standby replaced its store with a snapshot: handles of the old one are gone. */
static void
hook_reopened(void *arg, struct store *s)
{
	struct derive *d = arg;

	derive_reset(d);
	d->s = s;
	d->dbis_open = 0;
	d->need_recover = 1;
	d->was_active = 0;
}

/* Commits on its own when ingest is idle, so due records do not wait for the next event. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct derive *d = arg;
	struct timeval tv = { 0, TICK_MS * 1000 };
	char path[4096];
	FILE *f;

	if (!store_dirty(d->s) && !d->c->draining && !d->c->paused &&
	    derive_check_role(d) == 0 && (d->dhead != NULL || d->need_recover ||
	    (d->round_active || agents_pending(d)))) {
		if (d->need_recover && derive_recover(d) == -1)
			d->failed = 1;
		if (d->failed || derive_flush(d) == -1)
			store_abort(d->s), hook_aborted(d);
		else if (store_dirty(d->s))
			ingest_commit(d->c->ingest);
	}
	if (d->c->conf != NULL && d->c->conf->stats_file != NULL) {
		snprintf(path, sizeof(path), "%s.derive.tmp", d->c->conf->stats_file);
		if ((f = fopen(path, "w")) != NULL) {
			derive_stats_print(f);
			if (fclose(f) == 0) {
				char dst[4096];

				snprintf(dst, sizeof(dst), "%s.derive", d->c->conf->stats_file);
				rename(path, dst);
			}
		}
	}
	evtimer_add(d->tick, &tv);
}

#define SP(f)	fprintf(out, "derive_%s %" PRIu64 "\n", #f, derive_stats.f)

void
derive_stats_print(FILE *out)
{
	SP(events);
	SP(keys);
	SP(dirty);
	SP(oldest_dirty_ms);
	SP(flushed);
	SP(flush_calls);
	SP(flush_us_total);
	SP(flush_us_max);
	SP(rounds);
	SP(evicted);
	SP(aborts);
	SP(recoveries);
	SP(recovered_events);
	SP(recovery_skipped);
	SP(recovery_ms);
	SP(errors);
}

/*
 * Opens (creating) the derived databases. store_dbi commits a transaction of its own, which
 * on an HA node is a replicated record: so it runs only while the node writes (single or
 * active) and nothing else is in the transaction.
 */
static int
derive_open_dbis(struct derive *d, int startup)
{
	struct store *s = d->s;

	if (d->dbis_open)
		return 0;
	/* At start-up whatever is open is the collector's own set-up: it commits with these. */
	if ((!startup && store_dirty(s)) ||
	    store_dbi(s, DERIVED_DB_JOBS, &d->dbi[DK_JOB]) == -1 ||
	    store_dbi(s, DERIVED_DB_QUEUES, &d->dbi[DK_QUEUE]) == -1 ||
	    store_dbi(s, DERIVED_DB_STEPS, &d->dbi[DK_STEP]) == -1 ||
	    store_dbi(s, DERIVED_DB_APPS, &d->dbi[DK_APPMIN]) == -1 ||
	    store_dbi(s, DERIVED_DB_META, &d->dbi[DK_APP]) == -1 ||
	    store_dbi(s, DERIVED_DB_TXN_LIVE, &d->dbi[DK_TXN]) == -1 ||
	    store_dbi(s, DERIVED_DB_TXN_DONE, &d->dbi_done) == -1)
		return -1;
	d->dbis_open = 1;
	return 0;
}

static int
derive_writer(const struct derive *d)
{
	return d->c->role == ROLE_SINGLE || d->c->role == ROLE_ACTIVE;
}

/*
 * Only a writing node derives. Leaving that role drops memory (the new active's records
 * arrive by replication); taking it re-derives from what the store holds. 0, or -1 when
 * the node is not writing or the databases cannot be opened yet.
 */
static int
derive_check_role(struct derive *d)
{
	if (!derive_writer(d)) {
		if (d->was_active) {
			derive_reset(d);
			d->was_active = 0;
			d->need_recover = 1;
		}
		return -1;
	}
	if (!d->dbis_open && derive_open_dbis(d, 0) == -1)
		return -1;
	d->was_active = 1;
	return 0;
}

static struct derive *
derive_new(struct collector *c, struct store *s, const char *path, char *err, size_t errlen)
{
	struct derive *d;

	if ((d = xcalloc(1, sizeof(*d))) == NULL || (d->path = xstrdup(path)) == NULL ||
	    (d->buckets = xcalloc(BUCKETS_MIN, sizeof(*d->buckets))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	d->c = c;
	d->s = s;
	d->nbuckets = BUCKETS_MIN;
	d->clock_ms = derive_clock;
	/* An HA node starts with no role: it opens them once it is told to be active. */
	if ((c->conf == NULL || !c->conf->ha) && derive_open_dbis(d, 1) == -1) {
		snprintf(err, errlen, "derived databases: %s", store_strerror(s));
		goto fail;
	}
	return d;
fail:
	if (d != NULL) {
		xfree(d->buckets);
		xfree(d->path);
		xfree(d);
	}
	return NULL;
}

int
derive_attach(struct collector *c, const char *store_path, char *err, size_t errlen)
{
	struct timeval tv = { 0, TICK_MS * 1000 };
	struct derive *d;

	/* For measuring what derive costs ingest: the same binary with it off. */
	if (getenv("TANDEM_DERIVE_OFF") != NULL) {
		log_warnx("derive: off (TANDEM_DERIVE_OFF): no derived state is written");
		return 0;
	}
	if ((d = derive_new(c, c->store, store_path, err, errlen)) == NULL)
		return -1;
	if (d->dbis_open) {
		if (derive_recover(d) == -1 || d->failed) {
			snprintf(err, errlen, "recovery of derived state failed");
			return -1;
		}
		d->was_active = 1;
	} else
		d->need_recover = 1;
	/* Anything re-derived is written by the first commits; persist it soon. */
	if (c->base != NULL) {
		if ((d->tick = evtimer_new(c->base, tick_cb, d)) == NULL) {
			snprintf(err, errlen, "timer: out of memory");
			return -1;
		}
		evtimer_add(d->tick, &tv);
	}
	c->hooks.event = hook_event;
	c->hooks.commit = hook_commit;
	c->hooks.committed = hook_committed;
	c->hooks.aborted = hook_aborted;
	c->hooks.reopened = hook_reopened;
	c->hooks.arg = d;
	return 0;
}
