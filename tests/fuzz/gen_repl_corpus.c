/* Tandem — MIT licence. Writes the seed corpus of repl_fuzz: records as the writer makes them, and broken ones. */
#include <stdio.h>
#include <string.h>

#include "common/repl_rec.h"
#include "common/store_schema.h"

static void
save(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return;
	}
	fwrite(p, 1, len, f);
	fclose(f);
}

int
main(int argc, char *argv[])
{
	struct repl_buf b = { 0 };
	uint8_t key[STORE_EVKEY_LEN] = { 0, 0, 0, 1, 2 }, val[64];
	const char *dir = argc > 1 ? argv[1] : ".";

	memset(val, 0xab, sizeof(val));
	repl_buf_reset(&b, 1, 1ULL << 16 | 7);
	repl_buf_finish(&b);
	save(dir, "empty", b.p, b.len);

	repl_buf_reset(&b, 42, 3ULL << 16 | 9);
	repl_buf_put(&b, STORE_DB_NAMES, "\x01" "app-1", 6, "\0\0\0\1", 4);
	repl_buf_put(&b, STORE_DB_EVLOG, key, sizeof(key), val, sizeof(val));
	repl_buf_del(&b, STORE_DB_EVENTS, key, sizeof(key));
	repl_buf_finish(&b);
	save(dir, "put-put-del", b.p, b.len);

	repl_buf_reset(&b, 43, 3ULL << 16 | 9);
	repl_buf_put(&b, STORE_DB_EVENTS, key, sizeof(key), val, sizeof(val));
	repl_buf_clear(&b, STORE_DB_EVLOG);
	repl_buf_finish(&b);
	save(dir, "fold-clear", b.p, b.len);
	/* Broken: truncated in the middle of an op, and a count that promises more. */
	save(dir, "bad-truncated", b.p, b.len - 5);
	b.p[19]++;
	save(dir, "bad-count", b.p, b.len);
	b.p[19]--;
	b.p[REPL_REC_HDR] = 9;
	save(dir, "bad-type", b.p, b.len);
	save(dir, "bad-short", b.p, 7);
	repl_buf_free(&b);
	return 0;
}
