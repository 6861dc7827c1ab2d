/* Tandem — MIT licence. Derived-state records: big-endian keys, varint values with a contributor header. */
#include <string.h>

#include "common/derived.h"
#include "common/wire.h"

/* Bounded writer and reader over a byte buffer; an overflow or a short read sticks. */
struct wbuf {
	uint8_t	*p, *end;
	int	 bad;
};
struct rbuf {
	const uint8_t	*p, *end;
	int		 bad;
};

static void
w_u8(struct wbuf *w, uint8_t v)
{
	if (w->p >= w->end) {
		w->bad = 1;
		return;
	}
	*w->p++ = v;
}

static void
w_var(struct wbuf *w, uint64_t v)
{
	if ((size_t)(w->end - w->p) < wire_varint_size(v)) {
		w->bad = 1;
		return;
	}
	w->p += wire_put_varint(w->p, v);
}

static void
w_bytes(struct wbuf *w, const void *b, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->bad = 1;
		return;
	}
	if (n > 0)		/* memcpy(p, NULL, 0) is undefined behaviour */
		memcpy(w->p, b, n);
	w->p += n;
}

static uint8_t
r_u8(struct rbuf *r)
{
	if (r->p >= r->end) {
		r->bad = 1;
		return 0;
	}
	return *r->p++;
}

static uint64_t
r_var(struct rbuf *r)
{
	uint64_t v = 0;
	size_t n;

	if (r->bad || (n = wire_get_varint(r->p, r->end, &v)) == 0) {
		r->bad = 1;
		return 0;
	}
	r->p += n;
	return v;
}

static void
w_hdr(struct wbuf *w, const struct derived_hdr *h)
{
	uint8_t b[12];
	unsigned i;

	w_u8(w, DERIVED_VERSION);
	w_u8(w, h->n);
	for (i = 0; i < h->n && i < DERIVED_CONTRIB_MAX; i++) {
		store_put_be32(b, h->c[i].agent);
		store_put_be64(b + 4, h->c[i].seq);
		w_bytes(w, b, sizeof(b));
	}
}

static void
r_hdr(struct rbuf *r, struct derived_hdr *h)
{
	unsigned i;

	memset(h, 0, sizeof(*h));
	if (r_u8(r) != DERIVED_VERSION) {
		r->bad = 1;
		return;
	}
	h->n = r_u8(r);
	if (h->n > DERIVED_CONTRIB_MAX || (size_t)(r->end - r->p) < (size_t)h->n * 12) {
		r->bad = 1;
		h->n = 0;
		return;
	}
	for (i = 0; i < h->n; i++) {
		h->c[i].agent = store_get_be32(r->p);
		h->c[i].seq = store_get_be64(r->p + 4);
		r->p += 12;
	}
}

int
derived_hdr_has(const struct derived_hdr *h, uint32_t agent, uint64_t seq)
{
	unsigned i;

	for (i = 0; i < h->n; i++)
		if (h->c[i].agent == agent)
			return seq <= h->c[i].seq;
	return 0;
}

void
derived_hdr_note(struct derived_hdr *h, uint32_t agent, uint64_t seq)
{
	unsigned i, low = 0;

	for (i = 0; i < h->n; i++) {
		if (h->c[i].agent == agent) {
			if (seq > h->c[i].seq)
				h->c[i].seq = seq;
			return;
		}
		if (h->c[i].seq < h->c[low].seq)
			low = i;
	}
	if (h->n < DERIVED_CONTRIB_MAX)
		low = h->n++;
	/* XXX a fifth agent on one record evicts one: its replay filtering is lost. */
	h->c[low].agent = agent;
	h->c[low].seq = seq;
}

const char *
derived_txn_state_name(int s)
{
	switch (s) {
	case DERIVED_TXN_RUNNING:	return "running";
	case DERIVED_TXN_DONE:		return "done";
	case DERIVED_TXN_FAILED:	return "failed";
	}
	return "unknown";
}

/* Keys. */

void
derived_minkey(uint8_t out[DERIVED_MINKEY_LEN], uint32_t app, uint32_t id, int64_t minute_ms)
{
	store_put_be32(out, app);
	store_put_be32(out + 4, id);
	store_put_be64(out + 8, (uint64_t)minute_ms);
}

void
derived_minkey_decode(const uint8_t *p, uint32_t *app, uint32_t *id, int64_t *minute_ms)
{
	*app = store_get_be32(p);
	*id = store_get_be32(p + 4);
	*minute_ms = (int64_t)store_get_be64(p + 8);
}

void
derived_appminkey(uint8_t out[DERIVED_APPMINKEY_LEN], uint32_t app, int64_t minute_ms)
{
	store_put_be32(out, app);
	store_put_be64(out + 4, (uint64_t)minute_ms);
}

void
derived_metakey(uint8_t out[DERIVED_METAKEY_LEN], uint8_t tag, uint32_t id)
{
	out[0] = tag;
	store_put_be32(out + 1, id);
}

size_t
derived_txnkey(uint8_t out[DERIVED_TXNKEY_MAX], uint32_t app, const char *txn_id, size_t idlen)
{
	if (idlen == 0 || idlen > DERIVED_TXN_ID_MAX)
		return 0;
	store_put_be32(out, app);
	memcpy(out + 4, txn_id, idlen);
	return 4 + idlen;
}

int64_t
derived_minute(int64_t t_ms)
{
	return t_ms - t_ms % DERIVED_MINUTE_MS;
}

/* Values. */

static size_t
w_done(struct wbuf *w, uint8_t *start)
{
	return w->bad ? 0 : (size_t)(w->p - start);
}

static size_t
w_hist(struct wbuf *w, const struct hist *h)
{
	size_t n;

	if (w->bad || hist_encode(h, w->p, (size_t)(w->end - w->p), &n) == -1) {
		w->bad = 1;
		return 0;
	}
	w->p += n;
	return n;
}

static int
r_hist(struct rbuf *r, struct hist *h)
{
	if (r->bad)
		return -1;
	if (h != NULL && hist_decode(h, r->p, (size_t)(r->end - r->p)) == -1)
		return -1;
	r->p = r->end;
	return 0;
}

size_t
derived_job_encode(const struct derived_job *j, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };

	w_hdr(&w, &j->h);
	w_var(&w, j->count);
	w_var(&w, j->errors);
	w_hist(&w, j->hist);
	return w_done(&w, out);
}

int
derived_job_decode(const uint8_t *p, size_t len, struct derived_job *j)
{
	struct rbuf r = { p, p + len, 0 };

	r_hdr(&r, &j->h);
	j->count = r_var(&r);
	j->errors = r_var(&r);
	return r_hist(&r, j->hist);
}

size_t
derived_step_encode(const struct derived_step *s, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };

	w_hdr(&w, &s->h);
	w_var(&w, s->entries);
	w_var(&w, s->first_entries);
	w_var(&w, s->repeats);
	w_var(&w, s->pos_sum);
	w_hist(&w, s->hist);
	return w_done(&w, out);
}

int
derived_step_decode(const uint8_t *p, size_t len, struct derived_step *s)
{
	struct rbuf r = { p, p + len, 0 };

	r_hdr(&r, &s->h);
	s->entries = r_var(&r);
	s->first_entries = r_var(&r);
	s->repeats = r_var(&r);
	s->pos_sum = r_var(&r);
	return r_hist(&r, s->hist);
}

static int
r_end(struct rbuf *r)
{
	return r->bad || r->p != r->end ? -1 : 0;
}

size_t
derived_queue_encode(const struct derived_queue *q, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };

	w_hdr(&w, &q->h);
	w_var(&w, q->samples);
	w_var(&w, q->last);
	w_var(&w, q->min);
	w_var(&w, q->max);
	w_var(&w, (uint64_t)q->last_ms);
	w_u8(&w, q->has_totals);
	if (q->has_totals) {
		w_var(&w, (uint64_t)q->first_tot_ms);
		w_var(&w, (uint64_t)q->last_tot_ms);
		w_var(&w, q->first_enq);
		w_var(&w, q->first_compl);
		w_var(&w, q->last_enq);
		w_var(&w, q->last_compl);
	}
	return w_done(&w, out);
}

int
derived_queue_decode(const uint8_t *p, size_t len, struct derived_queue *q)
{
	struct rbuf r = { p, p + len, 0 };

	memset(q, 0, sizeof(*q));
	r_hdr(&r, &q->h);
	q->samples = r_var(&r);
	q->last = r_var(&r);
	q->min = r_var(&r);
	q->max = r_var(&r);
	q->last_ms = (int64_t)r_var(&r);
	q->has_totals = r_u8(&r);
	if (q->has_totals) {
		q->first_tot_ms = (int64_t)r_var(&r);
		q->last_tot_ms = (int64_t)r_var(&r);
		q->first_enq = r_var(&r);
		q->first_compl = r_var(&r);
		q->last_enq = r_var(&r);
		q->last_compl = r_var(&r);
	}
	return r_end(&r);
}

size_t
derived_appmin_encode(const struct derived_appmin *a, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };
	unsigned i;

	w_hdr(&w, &a->h);
	for (i = 0; i < DERIVED_KINDS; i++)
		w_var(&w, a->kinds[i]);
	for (i = 0; i < DERIVED_LEVELS; i++)
		w_var(&w, a->levels[i]);
	w_var(&w, a->txn_begin);
	w_var(&w, a->txn_end);
	w_var(&w, a->txn_error);
	w_var(&w, a->jobs);
	w_var(&w, a->job_errors);
	return w_done(&w, out);
}

int
derived_appmin_decode(const uint8_t *p, size_t len, struct derived_appmin *a)
{
	struct rbuf r = { p, p + len, 0 };
	unsigned i;

	r_hdr(&r, &a->h);
	for (i = 0; i < DERIVED_KINDS; i++)
		a->kinds[i] = r_var(&r);
	for (i = 0; i < DERIVED_LEVELS; i++)
		a->levels[i] = r_var(&r);
	a->txn_begin = r_var(&r);
	a->txn_end = r_var(&r);
	a->txn_error = r_var(&r);
	a->jobs = r_var(&r);
	a->job_errors = r_var(&r);
	return r_end(&r);
}

/* Signed values (live_txns can dip below zero on a replay gap) as zig-zag varints. */
static uint64_t
zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t
unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

size_t
derived_app_encode(const struct derived_app *a, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };

	w_hdr(&w, &a->h);
	w_var(&w, (uint64_t)a->first_ms);
	w_var(&w, (uint64_t)a->last_ms);
	w_var(&w, (uint64_t)a->last_hb_ms);
	w_var(&w, a->uptime_s);
	w_var(&w, a->events);
	w_var(&w, zz(a->live_txns));
	w_var(&w, a->done_txns);
	return w_done(&w, out);
}

int
derived_app_decode(const uint8_t *p, size_t len, struct derived_app *a)
{
	struct rbuf r = { p, p + len, 0 };

	r_hdr(&r, &a->h);
	a->first_ms = (int64_t)r_var(&r);
	a->last_ms = (int64_t)r_var(&r);
	a->last_hb_ms = (int64_t)r_var(&r);
	a->uptime_s = r_var(&r);
	a->events = r_var(&r);
	a->live_txns = unzz(r_var(&r));
	a->done_txns = r_var(&r);
	return r_end(&r);
}

size_t
derived_txn_encode(const struct derived_txn *t, uint8_t *out, size_t cap)
{
	struct wbuf w = { out, out + cap, 0 };
	uint32_t i, n = t->nsteps < DERIVED_TXN_STEPS_MAX ? t->nsteps : DERIVED_TXN_STEPS_MAX;

	w_hdr(&w, &t->h);
	w_u8(&w, t->state);
	w_u8(&w, t->last_event);
	w_var(&w, t->step);
	w_var(&w, (uint64_t)t->begin_ms);
	w_var(&w, (uint64_t)t->step_ms);
	w_var(&w, (uint64_t)t->last_ms);
	w_var(&w, t->nevents);
	w_var(&w, t->steps_total);
	w_var(&w, n);
	for (i = 0; i < n; i++)
		w_var(&w, t->steps[i]);
	w_var(&w, t->attrs_len);
	w_bytes(&w, t->attrs, t->attrs_len);
	return w_done(&w, out);
}

int
derived_txn_decode(const uint8_t *p, size_t len, struct derived_txn *t)
{
	struct rbuf r = { p, p + len, 0 };
	uint64_t n, i;

	r_hdr(&r, &t->h);
	t->state = r_u8(&r);
	t->last_event = r_u8(&r);
	t->step = (uint32_t)r_var(&r);
	t->begin_ms = (int64_t)r_var(&r);
	t->step_ms = (int64_t)r_var(&r);
	t->last_ms = (int64_t)r_var(&r);
	t->nevents = (uint32_t)r_var(&r);
	t->steps_total = (uint32_t)r_var(&r);
	n = r_var(&r);
	if (n > DERIVED_TXN_STEPS_MAX)
		return -1;
	t->nsteps = (uint32_t)n;
	for (i = 0; i < n; i++)
		t->steps[i] = (uint32_t)r_var(&r);
	n = r_var(&r);
	if (r.bad || n > DERIVED_ATTRS_BYTES_MAX || n != (uint64_t)(r.end - r.p))
		return -1;
	t->attrs_len = (uint32_t)n;
	t->attrs = r.p;
	return 0;
}

void
derived_wm_encode(const struct derived_wm *wm, uint8_t out[DERIVED_WM_LEN])
{
	store_put_be64(out, wm->seq);
	store_put_be64(out + 8, (uint64_t)wm->time_ms);
}

int
derived_wm_decode(const uint8_t *p, size_t len, struct derived_wm *wm)
{
	if (len != DERIVED_WM_LEN)
		return -1;
	wm->seq = store_get_be64(p);
	wm->time_ms = (int64_t)store_get_be64(p + 8);
	return 0;
}

/* Attributes. */

int
derived_attrs_next(const uint8_t **pp, const uint8_t *end, struct derived_attr *a)
{
	struct rbuf r = { *pp, end, 0 };
	uint64_t n;

	if (*pp >= end)
		return 0;
	n = r_var(&r);
	if (r.bad || n == 0 || n > DERIVED_ATTR_KEY_MAX || n > (uint64_t)(end - r.p))
		return -1;
	a->key = (const char *)r.p;
	a->klen = (size_t)n;
	r.p += n;
	n = r_var(&r);
	if (r.bad || n > DERIVED_ATTR_VALUE_MAX || n > (uint64_t)(end - r.p))
		return -1;
	a->val = (const char *)r.p;
	a->vlen = (size_t)n;
	r.p += n;
	*pp = r.p;
	return 1;
}

static void
w_attr(struct wbuf *w, const char *k, size_t kl, const char *v, size_t vl)
{
	w_var(w, kl);
	w_bytes(w, k, kl);
	w_var(w, vl);
	w_bytes(w, v, vl);
}

size_t
derived_attrs_merge(const uint8_t *old, size_t oldlen, const struct derived_attr *add,
    size_t nadd, uint8_t *out)
{
	struct wbuf w = { out, out + DERIVED_ATTRS_BYTES_MAX, 0 };
	const uint8_t *p = old, *end = old + oldlen;
	struct derived_attr a;
	uint32_t used = 0;	/* bit i: add[i] replaced an old key */
	size_t i, n = 0;

	while (n < DERIVED_ATTRS_MAX && derived_attrs_next(&p, end, &a) == 1) {
		for (i = 0; i < nadd && i < 32; i++)
			if (add[i].klen == a.klen && memcmp(add[i].key, a.key, a.klen) == 0)
				break;
		if (i < nadd && i < 32) {
			used |= 1u << i;
			w_attr(&w, a.key, a.klen, add[i].val, add[i].vlen);
		} else
			w_attr(&w, a.key, a.klen, a.val, a.vlen);
		n++;
	}
	for (i = 0; i < nadd && i < 32 && n < DERIVED_ATTRS_MAX; i++) {
		if (used & (1u << i) || add[i].klen == 0 || add[i].klen > DERIVED_ATTR_KEY_MAX ||
		    add[i].vlen > DERIVED_ATTR_VALUE_MAX)
			continue;
		w_attr(&w, add[i].key, add[i].klen, add[i].val, add[i].vlen);
		n++;
	}
	return w.bad ? 0 : (size_t)(w.p - out);
}
