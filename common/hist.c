/* Tandem — MIT licence. Log-linear latency histogram: record, merge, percentile, sparse codec. */
#include <math.h>
#include <string.h>

#include "common/xalloc.h"
#include "common/hist.h"

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

struct hist *
hist_new(void)
{
	return xcalloc(1, sizeof(struct hist));
}

void
hist_free(struct hist *h)
{
	xfree(h);
}

size_t
hist_bucket_index(uint64_t us)
{
	unsigned e;

	if (us < HIST_LINEAR)
		return (size_t)us;
	if (us > HIST_VALUE_MAX)
		us = HIST_VALUE_MAX;
	e = 63 - (unsigned)__builtin_clzll(us);		/* HIST_EXP_MIN .. HIST_EXP_MAX */
	return HIST_LINEAR + (size_t)(e - HIST_EXP_MIN) * HIST_SUB +
	    (size_t)((us >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

uint64_t
hist_bucket_lower(size_t idx)
{
	size_t k;
	unsigned e;

	if (idx < HIST_LINEAR)
		return idx;
	k = idx - HIST_LINEAR;
	e = HIST_EXP_MIN + (unsigned)(k / HIST_SUB);
	return (uint64_t)(HIST_SUB + k % HIST_SUB) << (e - HIST_SUB_BITS);
}

uint64_t
hist_bucket_width(size_t idx)
{
	if (idx < HIST_LINEAR)
		return 1;
	return (uint64_t)1 << (HIST_EXP_MIN + (idx - HIST_LINEAR) / HIST_SUB - HIST_SUB_BITS);
}

void
hist_record_n(struct hist *h, uint64_t us, uint64_t n)
{
	size_t idx;

	if (n == 0)
		return;
	idx = hist_bucket_index(us);
	if (h->count == 0 || us < h->min)
		h->min = us;
	if (h->count == 0 || us > h->max)
		h->max = us;
	h->count = sat_add(h->count, n);
	h->buckets[idx] = sat_add(h->buckets[idx], n);
	if (us != 0 && n > UINT64_MAX / us)
		h->sum = UINT64_MAX;
	else
		h->sum = sat_add(h->sum, us * n);
}

void
hist_record(struct hist *h, uint64_t us)
{
	hist_record_n(h, us, 1);
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	size_t i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->count = sat_add(dst->count, src->count);
	dst->sum = sat_add(dst->sum, src->sum);
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] = sat_add(dst->buckets[i], src->buckets[i]);
}

uint64_t
hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, cum = 0, v;
	double r;
	size_t i;

	if (h->count == 0)
		return 0;
	if (!(pct >= 0.0))		/* also catches NaN */
		pct = 0.0;
	if (pct > 100.0)
		pct = 100.0;
	r = ceil(pct / 100.0 * (double)h->count);
	rank = r < 1.0 ? 1 : (r >= (double)h->count ? h->count : (uint64_t)r);
	for (i = 0; i < HIST_BUCKETS; i++) {
		cum = sat_add(cum, h->buckets[i]);
		if (cum >= rank)
			break;
	}
	if (i == HIST_BUCKETS)		/* counts saturated: report the max */
		return h->max;
	v = hist_bucket_lower(i) + hist_bucket_width(i) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

double
hist_mean(const struct hist *h)
{
	return h->count == 0 ? 0.0 : (double)h->sum / (double)h->count;
}

/* Varint (LEB128, 7 bits per byte, at most 10 bytes for 64 bits). */
static int
put_varint(uint8_t *out, size_t cap, size_t *off, uint64_t v)
{
	do {
		if (*off >= cap)
			return -1;
		out[(*off)++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return 0;
}

static int
get_varint(const uint8_t *buf, size_t len, size_t *off, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift;
	uint8_t b;

	for (shift = 0; shift < 70; shift += 7) {
		if (*off >= len)
			return -1;
		b = buf[(*off)++];
		if (shift == 63 && b > 1)	/* bits beyond 64 */
			return -1;
		r |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			if (b == 0 && shift != 0)	/* non-canonical trailing zero byte */
				return -1;
			*v = r;
			return 0;
		}
	}
	return -1;
}

int
hist_encode(const struct hist *h, uint8_t *out, size_t cap, size_t *len)
{
	size_t i, off = 0, nz = 0, prev = 0;
	int first = 1;

	*len = 0;
	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->buckets[i] != 0)
			nz++;
	if (cap < 1)
		return -1;
	out[off++] = HIST_CODEC_VERSION;
	if (put_varint(out, cap, &off, h->count) == -1 ||
	    put_varint(out, cap, &off, h->sum) == -1 ||
	    put_varint(out, cap, &off, h->min) == -1 ||
	    put_varint(out, cap, &off, h->max) == -1 ||
	    put_varint(out, cap, &off, nz) == -1)
		return -1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		if (h->buckets[i] == 0)
			continue;
		if (put_varint(out, cap, &off, first ? i : i - prev - 1) == -1 ||
		    put_varint(out, cap, &off, h->buckets[i]) == -1)
			return -1;
		prev = i;
		first = 0;
	}
	*len = off;
	return 0;
}

int
hist_decode(struct hist *h, const uint8_t *buf, size_t len)
{
	uint64_t count, sum, min, max, nz, gap, c, total = 0, n;
	size_t off = 0, idx = 0, first_idx = 0;

	hist_init(h);
	if (len < 1 || buf[off++] != HIST_CODEC_VERSION)
		goto fail;
	if (get_varint(buf, len, &off, &count) == -1 ||
	    get_varint(buf, len, &off, &sum) == -1 ||
	    get_varint(buf, len, &off, &min) == -1 ||
	    get_varint(buf, len, &off, &max) == -1 ||
	    get_varint(buf, len, &off, &nz) == -1)
		goto fail;
	/* Checked before the loop: the bucket count bounds the work, not the input. */
	if (nz > HIST_BUCKETS)
		goto fail;
	if (count == 0 && (nz != 0 || sum != 0 || min != 0 || max != 0))
		goto fail;
	if (count != 0 && (nz == 0 || min > max))
		goto fail;
	for (n = 0; n < nz; n++) {
		if (get_varint(buf, len, &off, &gap) == -1 ||
		    get_varint(buf, len, &off, &c) == -1)
			goto fail;
		if (gap >= HIST_BUCKETS)
			goto fail;
		idx = n == 0 ? (size_t)gap : idx + 1 + (size_t)gap;
		if (idx >= HIST_BUCKETS || c == 0)
			goto fail;
		if (c > UINT64_MAX - total)
			goto fail;
		total += c;
		if (n == 0)
			first_idx = idx;
		h->buckets[idx] = c;
	}
	if (off != len || total != count)
		goto fail;
	if (count != 0 && (hist_bucket_index(min) != first_idx ||
	    hist_bucket_index(max) != idx))
		goto fail;
	h->count = count;
	h->sum = sum;
	h->min = min;
	h->max = max;
	return 0;
fail:
	hist_init(h);
	return -1;
}
