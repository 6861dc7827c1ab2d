/* Tandem — MIT licence. Log-linear latency histogram: bucket index by leading bit, then 6 bits. */
#include <math.h>
#include <string.h>

#include "agent/hist.h"

static unsigned
hist_index(uint64_t v)
{
	unsigned msb;

	if (v < HIST_SUB)
		return (unsigned)v;
	if (v > HIST_MAX_US)
		v = HIST_MAX_US;
	msb = 63 - (unsigned)__builtin_clzll(v);
	return HIST_SUB + (msb - HIST_SUB_BITS) * HIST_SUB +
	    (unsigned)((v >> (msb - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Midpoint of bucket i. */
static uint64_t
hist_value(unsigned i)
{
	unsigned octave, sub, shift;
	uint64_t lo;

	if (i < HIST_SUB)
		return i;
	octave = (i - HIST_SUB) / HIST_SUB;
	sub = (i - HIST_SUB) % HIST_SUB;
	shift = octave;			/* msb - HIST_SUB_BITS */
	lo = (uint64_t)(HIST_SUB + sub) << shift;
	return lo + (((uint64_t)1 << shift) >> 1);
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_record_n(struct hist *h, uint64_t us, uint64_t n)
{
	h->buckets[hist_index(us)] += n;
	h->count += n;
	if (us > h->max_us)
		h->max_us = us;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
}

void
hist_diff(struct hist *dst, const struct hist *a, const struct hist *b)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] = a->buckets[i] - b->buckets[i];
	dst->count = a->count - b->count;
	dst->max_us = a->max_us;
}

uint64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (p <= 0)
		p = 0;
	if (p > 100)
		p = 100;
	/* The epsilon keeps 99.9% of 1000 at rank 999 despite binary fractions. */
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count - 1e-9);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			v = hist_value(i);
			/* Never report beyond the largest value seen. */
			return v > h->max_us && h->max_us > 0 ? h->max_us : v;
		}
	}
	return h->max_us;
}
