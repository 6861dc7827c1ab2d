/* Tandem — MIT licence. LMDB key and value encodings: big-endian keys, varint-framed blocks. */
#include <string.h>

#include "common/store_schema.h"
#include "common/wire.h"

void
store_evlog_name(char out[8], int part)
{
	memcpy(out, STORE_DB_EVLOG, 5);
	out[5] = (char)('0' + (part & 7));
	out[6] = '\0';
}

void
store_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
store_put_be64(uint8_t *p, uint64_t v)
{
	store_put_be32(p, (uint32_t)(v >> 32));
	store_put_be32(p + 4, (uint32_t)v);
}

uint32_t
store_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
store_get_be64(const uint8_t *p)
{
	return (uint64_t)store_get_be32(p) << 32 | store_get_be32(p + 4);
}

void
store_evkey_encode(uint8_t out[STORE_EVKEY_LEN], const struct store_evkey *k)
{
	store_put_be32(out, k->app);
	out[4] = k->kind;
	store_put_be64(out + 5, k->t0);
	store_put_be32(out + 13, k->agent);
	store_put_be64(out + 17, k->first_seq);
}

int
store_evkey_decode(const uint8_t *p, size_t len, struct store_evkey *k)
{
	if (len != STORE_EVKEY_LEN)
		return -1;
	k->app = store_get_be32(p);
	k->kind = p[4];
	k->t0 = store_get_be64(p + 5);
	k->agent = store_get_be32(p + 13);
	k->first_seq = store_get_be64(p + 17);
	return 0;
}

void
store_agent_encode(uint8_t out[STORE_AGENT_REC_LEN], const struct store_agent_rec *r)
{
	store_put_be64(out, r->stored_seq);
	store_put_be32(out + 8, r->app);
	store_put_be32(out + 12, 0);
	store_put_be64(out + 16, r->events);
	store_put_be64(out + 24, r->duplicates);
	store_put_be64(out + 32, r->first_ms);
	store_put_be64(out + 40, r->last_ms);
}

int
store_agent_decode(const uint8_t *p, size_t len, struct store_agent_rec *r)
{
	if (len != STORE_AGENT_REC_LEN)
		return -1;
	memset(r, 0, sizeof(*r));
	r->stored_seq = store_get_be64(p);
	r->app = store_get_be32(p + 8);
	r->events = store_get_be64(p + 16);
	r->duplicates = store_get_be64(p + 24);
	r->first_ms = store_get_be64(p + 32);
	r->last_ms = store_get_be64(p + 40);
	return 0;
}

int
store_block_open(struct store_block_it *it, const uint8_t *val, size_t len)
{
	const uint8_t *p = val, *end = val + len;
	size_t n;

	memset(it, 0, sizeof(*it));
	if (len < 3 || *p++ != STORE_BLOCK_VERSION)
		return -1;
	if ((n = wire_get_varint(p, end, &it->count)) == 0)
		return -1;
	p += n;
	if ((n = wire_get_varint(p, end, &it->span_ms)) == 0)
		return -1;
	p += n;
	it->p = p;
	it->end = end;
	return 0;
}

int
store_block_next(struct store_block_it *it, uint64_t *seq_delta, const uint8_t **ev,
    size_t *evlen)
{
	uint64_t len;
	size_t n;

	if (it->seen == it->count)
		return it->p == it->end ? 0 : -1;
	if ((n = wire_get_varint(it->p, it->end, seq_delta)) == 0)
		return -1;
	it->p += n;
	if ((n = wire_get_varint(it->p, it->end, &len)) == 0)
		return -1;
	it->p += n;
	if (len > (uint64_t)(it->end - it->p))
		return -1;
	*ev = it->p;
	*evlen = len;
	it->p += len;
	it->seen++;
	return 1;
}
