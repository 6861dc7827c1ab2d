/* Tandem — MIT licence. Unit tests for monitor/hist.c: accuracy, merge, codec round trip and rejects. */
#include <math.h>

#include "common/hist.h"
#include "tests/unit/common/cases.h"

#define NVAL	20000
#define REL_ERR	(1.0 / 128.0)

/* Deterministic xorshift so the distributions are the same on every run. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;	/* [0, 1) */
}

enum dist { D_UNIFORM, D_EXP, D_LOGNORMAL, D_PARETO, D_BIMODAL, D_SMALL, D_CONST };

struct dist_row {
	const char	*what;
	enum dist	 d;
};

static const struct dist_row dist_rows[] = {
	{ "uniform 1 us .. 10 s", D_UNIFORM },
	{ "exponential, mean 20 ms", D_EXP },
	{ "log-normal around 5 ms", D_LOGNORMAL },
	{ "pareto long tail up to an hour", D_PARETO },
	{ "bimodal fast cache / slow disk", D_BIMODAL },
	{ "small exact values < 128 us", D_SMALL },
	{ "one constant value", D_CONST },
};

static uint64_t
draw(enum dist d)
{
	double u = rng_unit(), v;

	switch (d) {
	case D_UNIFORM:
		return 1 + rng() % 10000000;
	case D_EXP:
		return (uint64_t)(-log(1.0 - u) * 20000.0);
	case D_LOGNORMAL:
		v = sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * rng_unit());
		return (uint64_t)exp(log(5000.0) + 1.2 * v);
	case D_PARETO:
		v = 1000.0 / pow(1.0 - u, 1.0 / 1.1);
		return v > 3.6e9 ? 3600000000ULL : (uint64_t)v;
	case D_BIMODAL:
		return u < 0.9 ? 200 + rng() % 300 : 500000 + rng() % 1500000;
	case D_SMALL:
		return rng() % 128;
	case D_CONST:
		return 123456;
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t vals[NVAL];

static void
test_accuracy(void **state)
{
	const struct dist_row *r = ROW(struct dist_row, state);
	static const double pcts[] = { 0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100 };
	struct hist *h = hist_new();
	uint64_t sum = 0, exact, got, rank;
	size_t i;

	CHECK(h != NULL);
	rng_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)r->d;
	for (i = 0; i < NVAL; i++) {
		vals[i] = draw(r->d);
		sum += vals[i];
		hist_record(h, vals[i]);
	}
	qsort(vals, NVAL, sizeof(vals[0]), cmp_u64);
	CHECK(h->count == NVAL);
	CHECK(h->sum == sum);
	CHECK(h->min == vals[0]);
	CHECK(h->max == vals[NVAL - 1]);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		rank = (uint64_t)ceil(pcts[i] / 100.0 * NVAL);
		if (rank < 1)
			rank = 1;
		exact = vals[rank - 1];
		got = hist_percentile(h, pcts[i]);
		if (fabs((double)got - (double)exact) > REL_ERR * (double)exact + 1e-9)
			fail_msg("%s p%g: got %llu, exact %llu", r->what, pcts[i],
			    (unsigned long long)got, (unsigned long long)exact);
	}
	hist_free(h);
}

static void
test_layout(void **state)
{
	uint64_t v, lo, w;
	size_t idx, prev = 0;

	(void)state;
	/* Every bucket's bounds map back to it, and indexes grow with values. */
	for (idx = 0; idx < HIST_BUCKETS; idx++) {
		lo = hist_bucket_lower(idx);
		w = hist_bucket_width(idx);
		CHECK(hist_bucket_index(lo) == idx);
		CHECK(hist_bucket_index(lo + w - 1) == idx);
		if (idx >= HIST_LINEAR)
			CHECK((double)w / (double)lo <= 1.0 / HIST_SUB);
	}
	for (v = 1; v < (1ULL << 33); v = v * 3 / 2 + 1) {
		idx = hist_bucket_index(v);
		CHECK(idx >= prev);
		CHECK(idx < HIST_BUCKETS);
		prev = idx;
	}
	CHECK(hist_bucket_index(UINT64_MAX) == HIST_BUCKETS - 1);
	CHECK(hist_bucket_index(HIST_VALUE_MAX) == HIST_BUCKETS - 1);
}

static void
test_empty(void **state)
{
	struct hist h;

	(void)state;
	hist_init(&h);
	CHECK(hist_percentile(&h, 50) == 0);
	CHECK(hist_mean(&h) == 0.0);
	hist_record(&h, 7);
	CHECK(hist_percentile(&h, -5) == 7);
	CHECK(hist_percentile(&h, 500) == 7);
	CHECK(hist_percentile(&h, NAN) == 7);
}

static void
test_merge(void **state)
{
	struct hist *a = hist_new(), *b = hist_new(), *u = hist_new();
	uint64_t v;
	size_t i;

	(void)state;
	CHECK(a != NULL && b != NULL && u != NULL);
	rng_state = 42;
	for (i = 0; i < 5000; i++) {
		v = draw(D_LOGNORMAL);
		hist_record(i % 3 == 0 ? a : b, v);
		hist_record(u, v);
	}
	hist_record(b, 3600000000ULL);
	hist_record(u, 3600000000ULL);
	hist_merge(a, b);
	CHECK(memcmp(a, u, sizeof(*a)) == 0);
	/* Merging an empty histogram changes nothing, into an empty one copies. */
	hist_init(b);
	hist_merge(a, b);
	CHECK(memcmp(a, u, sizeof(*a)) == 0);
	hist_merge(b, u);
	CHECK(memcmp(b, u, sizeof(*b)) == 0);
	hist_free(a);
	hist_free(b);
	hist_free(u);
}

static uint8_t enc[HIST_ENCODE_MAX];

static void
test_roundtrip(void **state)
{
	struct hist *h = hist_new(), *d = hist_new();
	size_t len, i;

	(void)state;
	CHECK(h != NULL && d != NULL);
	/* Empty. */
	CHECK(hist_encode(h, enc, sizeof(enc), &len) == 0);
	CHECK(len == 6);
	CHECK(hist_decode(d, enc, len) == 0);
	CHECK(memcmp(h, d, sizeof(*h)) == 0);
	/* A realistic minute: compact. */
	rng_state = 7;
	for (i = 0; i < 10000; i++)
		hist_record(h, draw(D_LOGNORMAL));
	CHECK(hist_encode(h, enc, sizeof(enc), &len) == 0);
	CHECK(len < 2048);
	CHECK(hist_decode(d, enc, len) == 0);
	CHECK(memcmp(h, d, sizeof(*h)) == 0);
	/* Too small an output buffer. */
	CHECK(hist_encode(h, enc, len - 1, &len) == -1);
	/* Worst case: every bucket, huge counts and values. */
	for (i = 0; i < HIST_BUCKETS; i++)
		hist_record_n(h, hist_bucket_lower(i), (1ULL << 50) + i);
	hist_record(h, UINT64_MAX);
	CHECK(hist_encode(h, enc, sizeof(enc), &len) == 0);
	CHECK(len <= HIST_ENCODE_MAX);
	CHECK(hist_decode(d, enc, len) == 0);
	CHECK(memcmp(h, d, sizeof(*h)) == 0);
	hist_free(h);
	hist_free(d);
}

struct bad_row {
	const char	*what;
	uint8_t		 b[24];
	size_t		 len;
};

/* version, count, sum, min, max, nz, (gap, count)* */
static const struct bad_row bad_rows[] = {
	{ "empty input", { 0 }, 0 },
	{ "wrong version", { 2, 0, 0, 0, 0, 0 }, 6 },
	{ "truncated header", { 1, 1, 5, 5 }, 4 },
	{ "truncated bucket list", { 1, 1, 5, 5, 5, 1, 5 }, 7 },
	{ "trailing byte", { 1, 0, 0, 0, 0, 0, 0 }, 7 },
	{ "count 0 with a bucket", { 1, 0, 0, 0, 0, 1, 5, 1 }, 8 },
	{ "count 0 with a sum", { 1, 0, 9, 0, 0, 0 }, 6 },
	{ "count without buckets", { 1, 1, 5, 5, 5, 0 }, 6 },
	{ "bucket counts do not add up", { 1, 2, 5, 5, 5, 1, 5, 1 }, 8 },
	{ "zero bucket count", { 1, 1, 5, 5, 5, 2, 5, 1, 0, 0 }, 10 },
	{ "index out of range", { 1, 1, 5, 5, 5, 1, 0xc0, 0x0d, 1 }, 9 },
	{ "gap runs past the end", { 1, 2, 10, 5, 5, 2, 5, 1, 0xbf, 0x0d, 1 }, 11 },
	{ "more buckets than exist", { 1, 1, 5, 5, 5, 0xc1, 0x0d }, 7 },
	{ "min > max", { 1, 1, 5, 6, 5, 1, 5, 1 }, 8 },
	{ "min outside the first bucket", { 1, 1, 5, 4, 5, 1, 5, 1 }, 8 },
	{ "max outside the last bucket", { 1, 1, 5, 5, 9, 1, 5, 1 }, 8 },
	{ "varint longer than 10 bytes", { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0x01 }, 12 },
	{ "varint overflowing 64 bits", { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0x02 }, 11 },
	{ "non-canonical varint", { 1, 0x80, 0x00, 0, 0, 0, 0 }, 7 },
	{ "bucket counts overflow", { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x01, 0, 1, 2, 2, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 24 },
};

static void
test_bad(void **state)
{
	const struct bad_row *r = ROW(struct bad_row, state);
	struct hist *h = hist_new();

	CHECK(h != NULL);
	hist_record(h, 99);
	CHECK(hist_decode(h, r->b, r->len) == -1);
	CHECK(h->count == 0 && h->buckets[99] == 0);
	hist_free(h);
}

/* Every truncation of a valid encoding is rejected, never read past. */
static void
test_truncations(void **state)
{
	struct hist *h = hist_new(), *d = hist_new();
	size_t len, i;

	(void)state;
	CHECK(h != NULL && d != NULL);
	rng_state = 99;
	for (i = 0; i < 300; i++)
		hist_record(h, draw(D_PARETO));
	CHECK(hist_encode(h, enc, sizeof(enc), &len) == 0);
	for (i = 0; i < len; i++)
		CHECK(hist_decode(d, enc, i) == -1);
	CHECK(hist_decode(d, enc, len) == 0);
	hist_free(h);
	hist_free(d);
}

static void
test_saturation(void **state)
{
	struct hist h;

	(void)state;
	hist_init(&h);
	hist_record_n(&h, UINT64_MAX, 2);
	CHECK(h.sum == UINT64_MAX);
	CHECK(h.max == UINT64_MAX);
	CHECK(hist_percentile(&h, 50) == UINT64_MAX);
	hist_record_n(&h, 1, UINT64_MAX);
	CHECK(h.count == UINT64_MAX);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "accuracy", test_accuracy, dist_rows);
	cases_add(&cs, "bucket layout", test_layout, NULL);
	cases_add(&cs, "empty and clamped percentiles", test_empty, NULL);
	cases_add(&cs, "merge equals the union", test_merge, NULL);
	cases_add(&cs, "codec round trip", test_roundtrip, NULL);
	CASES_TABLE(&cs, "decode rejects", test_bad, bad_rows);
	cases_add(&cs, "decode rejects every truncation", test_truncations, NULL);
	cases_add(&cs, "saturating counters", test_saturation, NULL);
	return cases_run(&cs, "hist");
}
