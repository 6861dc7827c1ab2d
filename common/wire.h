/* Tandem — MIT licence. Minimal protobuf wire-format scanning and writing (varints, fields). */
#ifndef TANDEM_WIRE_H
#define TANDEM_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_I64 = 1,
	WIRE_LEN = 2,
	WIRE_I32 = 5,
};

struct wire_field {
	uint32_t	 num;		/* field number */
	enum wire_type	 type;
	uint64_t	 value;		/* VARINT, I64, I32: the value; LEN: the length */
	const uint8_t	*data;		/* LEN: the payload, inside the scanned buffer */
};

/* Decodes a varint at p (< end). Bytes consumed, or 0 when truncated or over 10 bytes. */
size_t	wire_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v /* OUT */);

/*
 * Reads the field at *pp and advances *pp past it. 1 on success, 0 at end of buffer,
 * -1 on malformed input (bad tag, truncated value, groups, unknown wire type).
 */
int	wire_next(const uint8_t **pp, const uint8_t *end, struct wire_field *f /* OUT */);

/* Writes v as a varint into out (at least 10 bytes); returns the bytes written. */
size_t	wire_put_varint(uint8_t *out, uint64_t v);
/* Bytes a varint of v takes. */
size_t	wire_varint_size(uint64_t v);

#endif
