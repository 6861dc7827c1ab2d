/* Tandem — MIT licence. Replication record codec: append ops while a transaction runs; parse with bounds. */
#include <string.h>

#include "common/repl_rec.h"
#include "common/store_schema.h"
#include "common/wire.h"
#include "common/xalloc.h"

static int
reserve(struct repl_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n)
		cap *= 2;
	if ((p = xrealloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
repl_buf_reset(struct repl_buf *b, uint64_t pos, uint64_t term)
{
	b->len = 0;
	b->nops = 0;
	b->oom = 0;
	if (reserve(b, REPL_REC_HDR) == -1)
		return;
	store_put_be64(b->p, pos);
	store_put_be64(b->p + 8, term);
	store_put_be32(b->p + 16, 0);
	b->len = REPL_REC_HDR;
}

void
repl_buf_free(struct repl_buf *b)
{
	XFREE(b->p);
	b->len = b->cap = 0;
}

static int
put_head(struct repl_buf *b, enum repl_op_type type, const char *db, const void *key,
    size_t klen, size_t extra)
{
	size_t dl = strlen(db);

	if (reserve(b, 2 + dl + 10 + klen + extra) == -1)
		return -1;
	b->p[b->len++] = (uint8_t)type;
	b->p[b->len++] = (uint8_t)dl;
	memcpy(b->p + b->len, db, dl);
	b->len += dl;
	b->len += wire_put_varint(b->p + b->len, klen);
	memcpy(b->p + b->len, key, klen);
	b->len += klen;
	b->nops++;
	return 0;
}

size_t
repl_buf_put(struct repl_buf *b, const char *db, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	size_t off;

	if (put_head(b, REPL_OP_PUT, db, key, klen, 10 + vlen) == -1)
		return (size_t)-1;
	b->len += wire_put_varint(b->p + b->len, vlen);
	off = b->len;
	if (val != NULL)
		memcpy(b->p + off, val, vlen);
	b->len += vlen;
	return off;
}

void
repl_buf_del(struct repl_buf *b, const char *db, const void *key, size_t klen)
{
	put_head(b, REPL_OP_DEL, db, key, klen, 0);
}

void
repl_buf_clear(struct repl_buf *b, const char *db)
{
	size_t dl = strlen(db);

	if (reserve(b, 2 + dl) == -1)
		return;
	b->p[b->len++] = REPL_OP_CLEAR;
	b->p[b->len++] = (uint8_t)dl;
	memcpy(b->p + b->len, db, dl);
	b->len += dl;
	b->nops++;
}

void
repl_buf_finish(struct repl_buf *b)
{
	if (b->len >= REPL_REC_HDR)
		store_put_be32(b->p + 16, b->nops);
}

int
repl_rec_open(const uint8_t *p, size_t len, uint64_t *pos, uint64_t *term, struct repl_it *it)
{
	if (len < REPL_REC_HDR || len > REPL_REC_MAX)
		return -1;
	*pos = store_get_be64(p);
	*term = store_get_be64(p + 8);
	it->left = store_get_be32(p + 16);
	it->p = p + REPL_REC_HDR;
	it->end = p + len;
	return 0;
}

int
repl_it_next(struct repl_it *it, struct repl_op *op)
{
	uint64_t v;
	size_t n;

	if (it->left == 0)
		return it->p == it->end ? 0 : -1;
	if (it->end - it->p < 2)
		return -1;
	op->type = (enum repl_op_type)it->p[0];
	op->dblen = it->p[1];
	it->p += 2;
	if ((op->type != REPL_OP_PUT && op->type != REPL_OP_DEL && op->type != REPL_OP_CLEAR) ||
	    op->dblen == 0 || op->dblen > REPL_DBNAME_MAX || (size_t)(it->end - it->p) < op->dblen)
		return -1;
	op->db = (const char *)it->p;
	it->p += op->dblen;
	op->key = op->val = NULL;
	op->klen = op->vlen = 0;
	if (op->type == REPL_OP_CLEAR) {
		it->left--;
		return 1;
	}
	if ((n = wire_get_varint(it->p, it->end, &v)) == 0 || v == 0 || v > REPL_KEY_MAX)
		return -1;
	it->p += n;
	if ((uint64_t)(it->end - it->p) < v)
		return -1;
	op->key = it->p;
	op->klen = (size_t)v;
	it->p += v;
	op->val = NULL;
	op->vlen = 0;
	if (op->type == REPL_OP_PUT) {
		if ((n = wire_get_varint(it->p, it->end, &v)) == 0 || v > REPL_VALUE_MAX)
			return -1;
		it->p += n;
		if ((uint64_t)(it->end - it->p) < v)
			return -1;
		op->val = it->p;
		op->vlen = (size_t)v;
		it->p += v;
	}
	it->left--;
	return 1;
}
