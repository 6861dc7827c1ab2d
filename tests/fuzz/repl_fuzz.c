/* Tandem — MIT licence. libFuzzer target: replication records as a standby receives them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/repl_rec.h"

/*
 * Each input is one record body (what follows the frame's type byte). It is parsed as
 * store_apply() does before touching LMDB. Invariants: every op lies inside the input, has a
 * known type and bounded sizes, and a record that parses re-encodes to the same bytes (so
 * nothing is accepted that the writer would not have produced in the same form).
 */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "repl_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repl_buf b = { 0 };
	struct repl_it it;
	struct repl_op op;
	uint64_t pos, term;
	char db[REPL_DBNAME_MAX + 1];
	int r;

	if (repl_rec_open(data, size, &pos, &term, &it) == -1) {
		CHECK(size < REPL_REC_HDR || size > REPL_REC_MAX);
		return 0;
	}
	repl_buf_reset(&b, pos, term);
	while ((r = repl_it_next(&it, &op)) == 1) {
		CHECK(op.db >= (const char *)data && op.db + op.dblen <= (const char *)data + size);
		CHECK(op.dblen >= 1 && op.dblen <= REPL_DBNAME_MAX);
		memcpy(db, op.db, op.dblen);
		db[op.dblen] = '\0';
		switch (op.type) {
		case REPL_OP_PUT:
			CHECK(op.key >= data && op.key + op.klen <= data + size);
			CHECK(op.val >= data && op.val + op.vlen <= data + size);
			CHECK(op.klen >= 1 && op.klen <= REPL_KEY_MAX && op.vlen <= REPL_VALUE_MAX);
			repl_buf_put(&b, db, op.key, op.klen, op.val, op.vlen);
			break;
		case REPL_OP_DEL:
			CHECK(op.key >= data && op.key + op.klen <= data + size);
			CHECK(op.klen >= 1 && op.klen <= REPL_KEY_MAX);
			repl_buf_del(&b, db, op.key, op.klen);
			break;
		case REPL_OP_CLEAR:
			CHECK(op.klen == 0);
			repl_buf_clear(&b, db);
			break;
		default:
			CHECK(0);
		}
	}
	if (r == 0) {
		/*
		 * A fully parsed record is exactly what the writer would have produced, unless a
		 * database name holds a NUL byte (the writer takes names as C strings).
		 */
		struct repl_it it2;
		struct repl_op o2;
		int nul = 0;

		repl_buf_finish(&b);
		repl_rec_open(data, size, &pos, &term, &it2);
		while (repl_it_next(&it2, &o2) == 1)
			if (memchr(o2.db, '\0', o2.dblen) != NULL)
				nul = 1;
		if (!b.oom && !nul) {
			CHECK(b.len == size);
			CHECK(memcmp(b.p, data, size) == 0);
		}
	}
	repl_buf_free(&b);
	return 0;
}
