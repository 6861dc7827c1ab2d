/* Tandem — MIT licence. Unit tests for common/frame.c: boundaries, split and coalesced reads. */
#include "common/frame.h"
#include "tests/unit/common/cases.h"

#define CAP	FRAME_MAX_MIN

struct parse_row {
	const char	*what;
	uint32_t	 hdr;		/* length written in the header */
	int		 hdr_bytes;	/* how many header bytes are present (0..4) */
	size_t		 body;		/* body bytes present after a full header */
	size_t		 cap;
	enum frame_status want;
	size_t		 want_len;
};

static const struct parse_row parse_rows[] = {
	{ "nothing yet", 0, 0, 0, CAP, FRAME_NEED_MORE, 0 },
	{ "1 header byte", 1, 1, 0, CAP, FRAME_NEED_MORE, 0 },
	{ "3 header bytes", 1, 3, 0, CAP, FRAME_NEED_MORE, 0 },
	{ "length 0 is refused", 0, 4, 0, CAP, FRAME_ERR_ZERO, 0 },
	{ "length 0 refused even with bytes after", 0, 4, 10, CAP, FRAME_ERR_ZERO, 0 },
	{ "length 1, body missing", 1, 4, 0, CAP, FRAME_NEED_MORE, 1 },
	{ "length 1, body present", 1, 4, 1, CAP, FRAME_READY, 1 },
	{ "length cap, header only", CAP, 4, 0, CAP, FRAME_NEED_MORE, CAP },
	{ "length cap, one byte short", CAP, 4, CAP - 1, CAP, FRAME_NEED_MORE, CAP },
	{ "length cap, whole", CAP, 4, CAP, CAP, FRAME_READY, CAP },
	{ "length cap+1 refused on the header", CAP + 1, 4, 0, CAP, FRAME_ERR_TOO_LARGE, 0 },
	{ "length cap+1 refused with its body", CAP + 1, 4, CAP + 1, CAP, FRAME_ERR_TOO_LARGE, 0 },
	{ "default cap exactly", FRAME_MAX_DEFAULT, 4, 0, FRAME_MAX_DEFAULT, FRAME_NEED_MORE,
	    FRAME_MAX_DEFAULT },
	{ "default cap + 1", FRAME_MAX_DEFAULT + 1, 4, 0, FRAME_MAX_DEFAULT,
	    FRAME_ERR_TOO_LARGE, 0 },
	{ "UINT32_MAX under the largest cap", UINT32_MAX, 4, 0, FRAME_MAX_MAX,
	    FRAME_ERR_TOO_LARGE, 0 },
	{ "coalesced: more bytes than the frame", 5, 4, 5 + 100, CAP, FRAME_READY, 5 },
};

static uint8_t bigbuf[FRAME_HDR + CAP + 200];

static void
test_parse(void **state)
{
	const struct parse_row *r = ROW(struct parse_row, state);
	size_t len = 12345, avail;
	enum frame_status st;

	memset(bigbuf, 0xa5, sizeof(bigbuf));
	frame_put_header(bigbuf, r->hdr);
	avail = r->hdr_bytes < FRAME_HDR ? (size_t)r->hdr_bytes : FRAME_HDR + r->body;
	CHECK(avail <= sizeof(bigbuf));
	st = frame_parse(bigbuf, avail, r->cap, &len);
	if (st != r->want)
		fail_msg("%s: status %s, want %s", r->what, frame_status_name(st),
		    frame_status_name(r->want));
	assert_int_equal(len, r->want_len);
}

struct hdr_row {
	const char	*what;
	uint32_t	 len;
	uint8_t		 bytes[FRAME_HDR];
};

static const struct hdr_row hdr_rows[] = {
	{ "1", 1, { 0, 0, 0, 1 } },
	{ "255", 255, { 0, 0, 0, 0xff } },
	{ "256", 256, { 0, 0, 1, 0 } },
	{ "1 MiB", FRAME_MAX_DEFAULT, { 0, 0x10, 0, 0 } },
	{ "0x01020304 is big-endian", 0x01020304, { 1, 2, 3, 4 } },
	{ "UINT32_MAX", UINT32_MAX, { 0xff, 0xff, 0xff, 0xff } },
};

static void
test_header(void **state)
{
	const struct hdr_row *r = ROW(struct hdr_row, state);
	uint8_t out[FRAME_HDR + 1];
	size_t len;

	memset(out, 0xee, sizeof(out));
	frame_put_header(out, r->len);
	assert_memory_equal(out, r->bytes, FRAME_HDR);
	assert_int_equal(out[FRAME_HDR], 0xee);	/* nothing written past the header */
	if (r->len <= FRAME_MAX_MAX) {
		CHECK(frame_parse(out, FRAME_HDR, FRAME_MAX_MAX, &len) == FRAME_NEED_MORE);
		assert_int_equal(len, r->len);
	}
}

/*
 * A stream of frames delivered in chunks of every size from 1 byte to all at once, through a
 * reader that buffers and consumes whole frames in a loop, as a connection does.
 */
static const size_t stream_bodies[] = { 1, 7, 300, 1, CAP, 2 };
#define NBODIES	(sizeof(stream_bodies) / sizeof(stream_bodies[0]))

static size_t
make_stream(uint8_t *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < NBODIES; i++) {
		frame_put_header(out + n, (uint32_t)stream_bodies[i]);
		n += FRAME_HDR;
		for (j = 0; j < stream_bodies[i]; j++)
			out[n++] = (uint8_t)(i + j);
	}
	return n;
}

static void
test_split(void **state)
{
	static uint8_t stream[8192], rbuf[8192];
	size_t total = make_stream(stream), chunk, fed, have, body, got, j;
	enum frame_status st;

	(void)state;
	assert_true(total <= sizeof(stream));
	for (chunk = 1; chunk <= total; chunk++) {
		fed = have = got = 0;
		while (fed < total) {
			size_t n = total - fed < chunk ? total - fed : chunk;

			memcpy(rbuf + have, stream + fed, n);
			fed += n;
			have += n;
			while ((st = frame_parse(rbuf, have, CAP, &body)) == FRAME_READY) {
				if (got == NBODIES || body != stream_bodies[got])
					fail_msg("chunk %zu: frame %zu has length %zu", chunk, got,
					    body);
				for (j = 0; j < body; j++)
					if (rbuf[FRAME_HDR + j] != (uint8_t)(got + j))
						fail_msg("chunk %zu: frame %zu byte %zu differs",
						    chunk, got, j);
				got++;
				memmove(rbuf, rbuf + FRAME_HDR + body, have - FRAME_HDR - body);
				have -= FRAME_HDR + body;
			}
			if (st != FRAME_NEED_MORE)
				fail_msg("chunk %zu: status %s", chunk, frame_status_name(st));
		}
		if (got != NBODIES || have != 0)
			fail_msg("chunk %zu: %zu frames, %zu bytes left", chunk, got, have);
	}
}

static void
test_names(void **state)
{
	int s;

	(void)state;
	for (s = FRAME_NEED_MORE; s <= FRAME_ERR_TOO_LARGE; s++)
		assert_string_not_equal(frame_status_name(s), "unknown");
	assert_string_equal(frame_status_name((enum frame_status)99), "unknown");
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "parse", test_parse, parse_rows);
	CASES_TABLE(&cs, "header", test_header, hdr_rows);
	cases_add(&cs, "split and coalesced reads, every chunk size", test_split, NULL);
	cases_add(&cs, "status names", test_names, NULL);
	return cases_run(&cs, "frame");
}
