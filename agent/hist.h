/* Tandem — MIT licence. Log-linear latency histogram (about 1.6% relative error, 1 us .. 60 s). */
#ifndef TANDEM_HIST_H
#define TANDEM_HIST_H

#include <stdint.h>

/*
 * Values are microseconds. Below 64 us every value has its own bucket; above, each power of
 * two is split into 64 equal buckets, so a bucket is at most 1/64 of its lower bound wide.
 * Values above HIST_MAX_US are counted in the last bucket.
 */
#define HIST_SUB_BITS	6
#define HIST_SUB	(1 << HIST_SUB_BITS)
#define HIST_MAX_MSB	25			/* 2^26 us > 60 s */
#define HIST_MAX_US	((UINT64_C(1) << (HIST_MAX_MSB + 1)) - 1)
#define HIST_BUCKETS	(HIST_SUB + (HIST_MAX_MSB + 1 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t	count;
	uint64_t	max_us;
	uint64_t	buckets[HIST_BUCKETS];
};

/* Zeroes the histogram. */
void		hist_reset(struct hist *);
/* Counts n values of us microseconds. */
void		hist_record_n(struct hist *, uint64_t us, uint64_t n);
/* Adds every count of src into dst. */
void		hist_merge(struct hist *dst, const struct hist *src);
/* dst = a - b, bucket by bucket; b must be an earlier copy of a. */
void		hist_diff(struct hist *dst, const struct hist *a, const struct hist *b);
/*
 * The value (us) at percentile p (0 < p <= 100): the midpoint of the bucket holding the
 * ceil(p% * count)-th smallest value, or 0 for an empty histogram.
 */
uint64_t	hist_percentile(const struct hist *, double p);

static inline void
hist_record(struct hist *h, uint64_t us)
{
	hist_record_n(h, us, 1);
}

#endif
