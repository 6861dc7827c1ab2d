/* Tandem — MIT licence. Protobuf wire scanning: enough to find field boundaries without unpacking. */
#include "common/wire.h"

size_t
wire_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < 10 && p + i < end; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			/* The tenth byte may only carry the top bit of 64. */
			if (i == 9 && p[i] > 1)
				return 0;
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

int
wire_next(const uint8_t **pp, const uint8_t *end, struct wire_field *f)
{
	const uint8_t *p = *pp;
	uint64_t tag, v;
	size_t n;

	if (p >= end)
		return 0;
	if ((n = wire_get_varint(p, end, &tag)) == 0)
		return -1;
	p += n;
	if ((tag >> 3) == 0 || (tag >> 3) > 536870911)
		return -1;
	f->num = (uint32_t)(tag >> 3);
	f->type = (enum wire_type)(tag & 7);
	f->data = NULL;
	switch (f->type) {
	case WIRE_VARINT:
		if ((n = wire_get_varint(p, end, &v)) == 0)
			return -1;
		f->value = v;
		p += n;
		break;
	case WIRE_I64:
		if (end - p < 8)
			return -1;
		f->value = 0;
		for (n = 0; n < 8; n++)
			f->value |= (uint64_t)p[n] << (8 * n);
		p += 8;
		break;
	case WIRE_I32:
		if (end - p < 4)
			return -1;
		f->value = 0;
		for (n = 0; n < 4; n++)
			f->value |= (uint64_t)p[n] << (8 * n);
		p += 4;
		break;
	case WIRE_LEN:
		if ((n = wire_get_varint(p, end, &v)) == 0)
			return -1;
		p += n;
		if (v > (uint64_t)(end - p))
			return -1;
		f->value = v;
		f->data = p;
		p += v;
		break;
	default:
		return -1;
	}
	*pp = p;
	return 1;
}

size_t
wire_put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t
wire_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}
