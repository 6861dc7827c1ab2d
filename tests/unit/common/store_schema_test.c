/* Tandem — MIT licence. Unit tests for common/store_schema.c: key order, records, block iteration. */
#include "common/store_schema.h"
#include "common/wire.h"
#include "tests/unit/common/cases.h"

struct be_row {
	const char	*what;
	uint64_t	 v;
	uint8_t		 be64[8];
};

static const struct be_row be_rows[] = {
	{ "0", 0, { 0 } },
	{ "1", 1, { 0, 0, 0, 0, 0, 0, 0, 1 } },
	{ "0x0102030405060708", 0x0102030405060708ULL, { 1, 2, 3, 4, 5, 6, 7, 8 } },
	{ "2^32", 1ULL << 32, { 0, 0, 0, 1, 0, 0, 0, 0 } },
	{ "UINT64_MAX", UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
};

static void
test_be(void **state)
{
	const struct be_row *r = ROW(struct be_row, state);
	uint8_t out[9];

	memset(out, 0xee, sizeof(out));
	store_put_be64(out, r->v);
	assert_memory_equal(out, r->be64, 8);
	assert_int_equal(out[8], 0xee);
	assert_int_equal(store_get_be64(out), r->v);
	memset(out, 0xee, sizeof(out));
	store_put_be32(out, (uint32_t)r->v);
	assert_memory_equal(out, r->be64 + 4, 4);
	assert_int_equal(out[4], 0xee);
	assert_int_equal(store_get_be32(out), (uint32_t)r->v);
}

struct key_row {
	const char		*what;
	struct store_evkey	 k;
};

static const struct key_row key_rows[] = {
	{ "all zero", { 0, 0, 0, 0, 0 } },
	{ "typical", { 7, 1, 1700000000000ULL, 3, 1000 } },
	{ "all ones", { UINT32_MAX, 0xff, UINT64_MAX, UINT32_MAX, UINT64_MAX } },
	{ "byte-boundary values", { 256, 128, 1ULL << 32, 65536, (1ULL << 63) + 1 } },
};

static void
test_key_roundtrip(void **state)
{
	const struct key_row *r = ROW(struct key_row, state);
	uint8_t buf[STORE_EVKEY_LEN + 1];
	struct store_evkey k;

	memset(buf, 0xee, sizeof(buf));
	store_evkey_encode(buf, &r->k);
	assert_int_equal(buf[STORE_EVKEY_LEN], 0xee);
	assert_int_equal(store_evkey_decode(buf, STORE_EVKEY_LEN, &k), 0);
	CHECK(k.app == r->k.app && k.kind == r->k.kind && k.t0 == r->k.t0 &&
	    k.agent == r->k.agent && k.first_seq == r->k.first_seq);
	assert_int_equal(store_evkey_decode(buf, STORE_EVKEY_LEN - 1, &k), -1);
	assert_int_equal(store_evkey_decode(buf, STORE_EVKEY_LEN + 1, &k), -1);
	assert_int_equal(store_evkey_decode(buf, 0, &k), -1);
}

static int
tuple_cmp(const struct store_evkey *a, const struct store_evkey *b)
{
#define CMP(f)	if (a->f != b->f) return a->f < b->f ? -1 : 1
	CMP(app);
	CMP(kind);
	CMP(t0);
	CMP(agent);
	CMP(first_seq);
#undef CMP
	return 0;
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Deterministic values biased towards byte and sign boundaries. */
static uint64_t
pick(uint64_t *seed, uint64_t max)
{
	static const uint64_t edges[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
	    UINT32_MAX, 1ULL << 32, INT64_MAX, 1ULL << 63, UINT64_MAX };
	uint64_t v;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	v = *seed >> 11;
	if ((*seed >> 60) < 8)
		v = edges[(*seed >> 33) % (sizeof(edges) / sizeof(edges[0]))];
	return v > max ? v % (max + 1) : v;
}

/* memcmp order of encoded keys is the numeric order of the tuples, for every pair. */
static void
test_key_order(void **state)
{
	enum { N = 300 };
	static struct store_evkey keys[N];
	static uint8_t enc[N][STORE_EVKEY_LEN];
	uint64_t seed = 42;
	size_t i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		keys[i].app = (uint32_t)pick(&seed, UINT32_MAX) % 4;	/* shared prefixes */
		keys[i].kind = (uint8_t)pick(&seed, 0xff);
		keys[i].t0 = pick(&seed, UINT64_MAX);
		keys[i].agent = (uint32_t)pick(&seed, UINT32_MAX);
		keys[i].first_seq = pick(&seed, UINT64_MAX);
		if (i > 0 && i % 5 == 0) {	/* same prefix, later fields differ */
			keys[i] = keys[i - 1];
			keys[i].first_seq = pick(&seed, UINT64_MAX);
		}
		store_evkey_encode(enc[i], &keys[i]);
	}
	for (i = 0; i < N; i++)
		for (j = 0; j < N; j++)
			if (sign(memcmp(enc[i], enc[j], STORE_EVKEY_LEN)) !=
			    tuple_cmp(&keys[i], &keys[j]))
				fail_msg("keys %zu and %zu: byte order differs from numeric order",
				    i, j);
}

static void
test_agent_rec(void **state)
{
	struct store_agent_rec in = { 1005, 7, 0xdeadbeef, 1005, 2, 1699999985000ULL,
	    UINT64_MAX }, out;
	uint8_t buf[STORE_AGENT_REC_LEN + 1];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	store_agent_encode(buf, &in);
	assert_int_equal(buf[STORE_AGENT_REC_LEN], 0xee);
	assert_int_equal(store_get_be64(buf), 1005);		/* big-endian on disk */
	assert_int_equal(store_get_be32(buf + 12), 0);		/* padding written as 0 */
	assert_int_equal(store_agent_decode(buf, STORE_AGENT_REC_LEN, &out), 0);
	assert_int_equal(out.stored_seq, in.stored_seq);
	assert_int_equal(out.app, in.app);
	assert_int_equal(out.pad, 0);
	assert_int_equal(out.events, in.events);
	assert_int_equal(out.duplicates, in.duplicates);
	assert_int_equal(out.first_ms, in.first_ms);
	assert_int_equal(out.last_ms, in.last_ms);
	assert_int_equal(store_agent_decode(buf, STORE_AGENT_REC_LEN - 1, &out), -1);
	assert_int_equal(store_agent_decode(buf, STORE_AGENT_REC_LEN + 1, &out), -1);
}

/* Block values: a builder, then good and malformed rows. */
#define BLK_MAX	256

static size_t
blk(uint8_t *out, uint64_t count, size_t nev, int version)
{
	size_t n = 0, i, j;

	out[n++] = (uint8_t)version;
	n += wire_put_varint(out + n, count);
	n += wire_put_varint(out + n, 1500);
	for (i = 0; i < nev; i++) {
		n += wire_put_varint(out + n, i * 2);	/* seq deltas 0, 2, 4, ... */
		n += wire_put_varint(out + n, i + 1);	/* event i has i + 1 bytes of i */
		for (j = 0; j <= i; j++)
			out[n++] = (uint8_t)i;
	}
	return n;
}

struct block_row {
	const char	*what;
	uint64_t	 count;		/* header count */
	size_t		 nev;		/* events actually written */
	int		 version;
	int		 chop;		/* bytes removed from the end (negative: garbage added) */
	int		 want_open;
	size_t		 want_good;	/* events read before the verdict */
	int		 want_end;	/* last store_block_next result */
};

static const struct block_row block_rows[] = {
	{ "one event", 1, 1, 1, 0, 0, 1, 0 },
	{ "five events", 5, 5, 1, 0, 0, 5, 0 },
	{ "empty block", 0, 0, 1, 0, 0, 0, 0 },
	{ "version 2", 1, 1, 2, 0, -1, 0, 0 },
	{ "version 0", 1, 1, 0, 0, -1, 0, 0 },
	{ "header cut to 2 bytes", 0, 0, 1, 1, -1, 0, 0 },
	{ "count says more than there are", 3, 2, 1, 0, 0, 2, -1 },
	{ "count says fewer: trailing bytes", 1, 2, 1, 0, 0, 1, -1 },
	{ "last event cut short", 3, 3, 1, 1, 0, 2, -1 },
	{ "last event's length cut", 3, 3, 1, 4, 0, 2, -1 },
	{ "garbage after the last event", 2, 2, 1, -1, 0, 2, -1 },
};

static void
test_block(void **state)
{
	const struct block_row *r = ROW(struct block_row, state);
	uint8_t val[BLK_MAX], *copy;
	struct store_block_it it;
	const uint8_t *ev;
	uint64_t delta;
	size_t len, evlen, good = 0, j;
	int rc;

	len = blk(val, r->count, r->nev, r->version);
	if (r->chop >= 0)
		len -= (size_t)r->chop;
	else
		val[len++] = 0x42;
	copy = malloc(len);		/* exact size: ASan sees any read past the value */
	assert_non_null(copy);
	memcpy(copy, val, len);
	rc = store_block_open(&it, copy, len);
	if (rc != r->want_open) {
		free(copy);
		fail_msg("open returned %d", rc);
	}
	if (rc == 0) {
		while (good < 16 && (rc = store_block_next(&it, &delta, &ev, &evlen)) == 1) {
			CHECK(delta == good * 2);
			CHECK(evlen == good + 1);
			for (j = 0; j < evlen; j++)
				CHECK(ev[j] == (uint8_t)good);
			good++;
		}
		if (rc != r->want_end || good != r->want_good) {
			free(copy);
			fail_msg("%zu events then %d; want %zu then %d", good, rc, r->want_good,
			    r->want_end);
		}
		CHECK(it.count == r->count && it.span_ms == 1500);
	}
	free(copy);
}

static void
test_block_huge_len(void **state)
{
	static const uint8_t v[] = { STORE_BLOCK_VERSION, 1, 0, 0,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x08 };
	struct store_block_it it;
	const uint8_t *ev;
	uint64_t delta;
	size_t evlen;

	(void)state;
	assert_int_equal(store_block_open(&it, v, sizeof(v)), 0);
	assert_int_equal(store_block_next(&it, &delta, &ev, &evlen), -1);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "be", test_be, be_rows);
	CASES_TABLE(&cs, "evkey round trip", test_key_roundtrip, key_rows);
	cases_add(&cs, "evkey byte order is numeric tuple order", test_key_order, NULL);
	cases_add(&cs, "agent record round trip", test_agent_rec, NULL);
	CASES_TABLE(&cs, "block", test_block, block_rows);
	cases_add(&cs, "block: event length of UINT64_MAX", test_block_huge_len, NULL);
	return cases_run(&cs, "store_schema");
}
