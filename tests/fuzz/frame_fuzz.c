/* Tandem — MIT licence. libFuzzer target: the frame header codec, whole and in every split. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/frame.h"

/*
 * Each input is a byte stream as it could arrive on an agent connection. It is parsed whole,
 * then as it grows byte by byte (every split a reader can see), then consumed frame by frame,
 * under a few caps. Invariants (frame.h): READY means 1 <= body_len <= cap and the whole frame
 * is present; the verdict for a header never changes as more bytes arrive; an oversized or
 * zero length is refused as soon as the header is complete.
 */

#define GROW_MAX	(64 * 1024)	/* byte-by-byte growth is checked over this prefix */

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "frame_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)

static const size_t caps[] = { 1, 5, FRAME_MAX_MIN, FRAME_MAX_DEFAULT, FRAME_MAX_MAX };

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
check_one(const uint8_t *buf, size_t avail, size_t cap, enum frame_status st, size_t body_len)
{
	uint32_t hdr;

	CHECK(frame_status_name(st) != NULL);
	if (avail < FRAME_HDR) {
		CHECK(st == FRAME_NEED_MORE);
		CHECK(body_len == 0);
		return;
	}
	hdr = be32(buf);
	switch (st) {
	case FRAME_READY:
		CHECK(body_len == hdr);
		CHECK(body_len >= 1 && body_len <= cap);
		CHECK(avail >= FRAME_HDR + body_len);
		break;
	case FRAME_NEED_MORE:
		CHECK(body_len == hdr);
		CHECK(body_len >= 1 && body_len <= cap);
		CHECK(avail < FRAME_HDR + body_len);
		break;
	case FRAME_ERR_ZERO:
		CHECK(hdr == 0);
		CHECK(body_len == 0);
		break;
	case FRAME_ERR_TOO_LARGE:
		CHECK(hdr > cap);
		CHECK(body_len == 0);
		break;
	default:
		CHECK(!"status out of range");
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum frame_status st, whole, prev;
	size_t c, avail, len, whole_len, off, grow;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		size_t cap = caps[c];

		whole = frame_parse(data, size, cap, &whole_len);
		check_one(data, size, cap, whole, whole_len);

		/* Growth: once the verdict is not NEED_MORE it never changes again. */
		grow = size < GROW_MAX ? size : GROW_MAX;
		prev = FRAME_NEED_MORE;
		for (avail = 0; avail <= grow; avail++) {
			st = frame_parse(data, avail, cap, &len);
			check_one(data, avail, cap, st, len);
			if (prev != FRAME_NEED_MORE)
				CHECK(st == prev);
			if (avail == size)
				CHECK(st == whole && len == whole_len);
			prev = st;
		}

		/* Coalesced frames: consume whole frames; each step eats at least 5 bytes. */
		for (off = 0; off < size;) {
			st = frame_parse(data + off, size - off, cap, &len);
			check_one(data + off, size - off, cap, st, len);
			if (st != FRAME_READY)
				break;
			off += FRAME_HDR + len;
			CHECK(off <= size);
		}
	}
	return 0;
}
