/* Tandem — MIT licence. libFuzzer target: LMDB value and key decoders of the store schema. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store_schema.h"

/*
 * Stored values are read back by the collector after a restart, by the standby after
 * replication and by monitord, so a damaged block must never be read out of bounds. The
 * input is a block value: iteration must stay inside it, end cleanly only when exactly
 * count events were read and nothing is left over, and terminate. The first bytes are also
 * decoded as an event key and an agent record, which must encode back to the same bytes.
 */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "store_block_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_block(const uint8_t *data, size_t size)
{
	struct store_block_it it;
	const uint8_t *ev;
	uint64_t delta;
	size_t evlen, steps = 0;
	int r;

	if (store_block_open(&it, data, size) == -1)
		return;
	CHECK(size >= 3 && data[0] == STORE_BLOCK_VERSION);
	CHECK(it.p > data && it.p <= data + size && it.end == data + size);
	/* Every event takes at least two bytes, so a good block ends within size / 2 steps. */
	while ((r = store_block_next(&it, &delta, &ev, &evlen)) == 1) {
		CHECK(++steps <= size / 2);
		CHECK(ev >= data && ev <= data + size);
		CHECK(evlen <= (size_t)(data + size - ev));
		CHECK(it.seen == steps && it.seen <= it.count);
		CHECK(it.p == ev + evlen);
	}
	if (r == 0) {
		CHECK(it.seen == it.count);
		CHECK(it.p == it.end);
	} else {
		CHECK(r == -1);
	}
	/* The iterator stays at its verdict. */
	CHECK(store_block_next(&it, &delta, &ev, &evlen) == r || r == -1);
}

static void
check_keys(const uint8_t *data, size_t size)
{
	struct store_evkey k;
	struct store_agent_rec rec;
	uint8_t out[STORE_AGENT_REC_LEN];

	CHECK(store_evkey_decode(data, size, &k) == (size == STORE_EVKEY_LEN ? 0 : -1));
	if (size >= STORE_EVKEY_LEN) {
		CHECK(store_evkey_decode(data, STORE_EVKEY_LEN, &k) == 0);
		store_evkey_encode(out, &k);
		CHECK(memcmp(out, data, STORE_EVKEY_LEN) == 0);
	}
	CHECK(store_agent_decode(data, size, &rec) == (size == STORE_AGENT_REC_LEN ? 0 : -1));
	if (size >= STORE_AGENT_REC_LEN) {
		CHECK(store_agent_decode(data, STORE_AGENT_REC_LEN, &rec) == 0);
		store_agent_encode(out, &rec);
		/* Bytes 12..15 are padding, always written as zero. */
		CHECK(memcmp(out, data, 12) == 0);
		CHECK(memcmp(out + 16, data + 16, STORE_AGENT_REC_LEN - 16) == 0);
		CHECK(store_get_be32(out + 12) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_block(data, size);
	check_keys(data, size);
	return 0;
}
