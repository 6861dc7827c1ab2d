/* Tandem — MIT licence. Mergeable log-linear latency histogram (microseconds) and its codec. */
#ifndef TANDEM_COMMON_HIST_H
#define TANDEM_COMMON_HIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bucket layout (fixed, so two histograms merge by adding counts):
 *  - values 0 .. 127 us have one exact bucket each;
 *  - above that every power of two [2^e, 2^(e+1)) is split into HIST_SUB = 64 equal
 *    sub-buckets of width 2^(e-6), for e = 7 .. 31.
 * Values above HIST_VALUE_MAX (2^32 - 1 us, about 71.6 minutes) are counted in the top
 * bucket; sum, min and max keep the real value.
 *
 * Relative error: a bucket's width is at most 1/64 of its lower bound, and queries report
 * the bucket's midpoint, so a reported percentile is within 1/128 (0.79 %) of the true
 * sample at that rank for every value >= 128 us, exact below 128 us, and clamped into
 * [min, max] so the extremes are exact.
 */
#define HIST_SUB_BITS	6
#define HIST_SUB	(1u << HIST_SUB_BITS)		/* 64 sub-buckets per octave */
#define HIST_LINEAR	(2u * HIST_SUB)			/* 128 exact buckets */
#define HIST_EXP_MIN	(HIST_SUB_BITS + 1)		/* 7: first log octave is 2^7 */
#define HIST_EXP_MAX	31
#define HIST_BUCKETS	(HIST_LINEAR + (HIST_EXP_MAX - HIST_EXP_MIN + 1) * HIST_SUB)	/* 1728 */
#define HIST_VALUE_MAX	UINT32_MAX

/* Encoding: version byte, then varints; worst case every bucket non-zero. */
#define HIST_CODEC_VERSION	1
#define HIST_ENCODE_MAX	(1 + 5 * 10 + HIST_BUCKETS * (2 + 10))

struct hist {
	uint64_t	count;
	uint64_t	sum;		/* saturates at UINT64_MAX */
	uint64_t	min;		/* 0 while count == 0 */
	uint64_t	max;
	uint64_t	buckets[HIST_BUCKETS];
};

/* Zeroes h. */
void		 hist_init(struct hist *h);
/* Allocates an empty histogram (~14 KiB); NULL on allocation failure. */
struct hist	*hist_new(void);
/* Frees h; NULL is a no-op. */
void		 hist_free(struct hist *h);

/* Records one value (n values) in microseconds. Counts saturate, never wrap. */
void		 hist_record(struct hist *h, uint64_t us);
void		 hist_record_n(struct hist *h, uint64_t us, uint64_t n);
/* Adds src into dst: afterwards dst equals the histogram of the union of both inputs. */
void		 hist_merge(struct hist *dst, const struct hist *src);

/*
 * Value at percentile pct (0 .. 100): the bucket midpoint of the sample of rank
 * ceil(pct/100 * count) (at least 1), clamped into [min, max]. 0 when empty;
 * pct outside [0, 100] is clamped.
 */
uint64_t	 hist_percentile(const struct hist *h, double pct);
/* Mean in microseconds, 0 when empty. */
double		 hist_mean(const struct hist *h);

/* Layout helpers: index for a value; lower bound and width of a bucket (idx < HIST_BUCKETS). */
size_t		 hist_bucket_index(uint64_t us);
uint64_t	 hist_bucket_lower(size_t idx);
uint64_t	 hist_bucket_width(size_t idx);

/*
 * Sparse encoding: u8 version, varint count, sum, min, max, number of non-zero buckets,
 * then per non-zero bucket (ascending): varint index gap (index - previous index - 1;
 * the first is the index itself) and varint count. An empty histogram takes 6 bytes.
 * hist_encode writes at most cap bytes into out and sets *len; -1 if cap is too small
 * (HIST_ENCODE_MAX always suffices).
 */
int		 hist_encode(const struct hist *h, uint8_t *out, size_t cap,
		    size_t *len /* OUT */);
/*
 * Decodes exactly len bytes into *h. Returns -1, leaving *h zeroed, on a wrong version,
 * truncated or over-long varint, bucket index out of range or not ascending, zero bucket
 * count, bucket counts not adding up to count (or overflowing), min/max inconsistent with
 * the first/last non-zero bucket, or trailing bytes. Never reads past buf + len.
 */
int		 hist_decode(struct hist *h, const uint8_t *buf, size_t len);

#endif
