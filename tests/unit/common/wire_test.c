/* Tandem — MIT licence. Unit tests for common/wire.c: varint edges, field scanning, bad input. */
#include "common/wire.h"
#include "tests/unit/common/cases.h"

#define MAXB	16

struct varint_row {
	const char	*what;
	uint8_t		 in[MAXB];
	size_t		 len;
	size_t		 want_n;	/* bytes consumed; 0 = refused */
	uint64_t	 want;
};

static const struct varint_row varint_rows[] = {
	{ "empty input", { 0 }, 0, 0, 0 },
	{ "0", { 0x00 }, 1, 1, 0 },
	{ "1", { 0x01 }, 1, 1, 1 },
	{ "127, largest 1-byte", { 0x7f }, 1, 1, 127 },
	{ "128, smallest 2-byte", { 0x80, 0x01 }, 2, 2, 128 },
	{ "300", { 0xac, 0x02 }, 2, 2, 300 },
	{ "stops at the first byte without the top bit", { 0x05, 0x80, 0x80 }, 3, 1, 5 },
	{ "2^32", { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5, 5, 1ULL << 32 },
	{ "2^63, 10 bytes", { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 },
	    10, 10, 1ULL << 63 },
	{ "UINT64_MAX, 10 bytes", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
	    10, 10, UINT64_MAX },
	{ "10th byte over 1 overflows 64 bits",
	    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 }, 10, 0, 0 },
	{ "10th byte with the continuation bit",
	    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00 }, 11, 0, 0 },
	{ "11 bytes (overlong zero)",
	    { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 11, 0, 0 },
	{ "overlong 2-byte zero is accepted", { 0x80, 0x00 }, 2, 2, 0 },
	{ "truncated after 1 byte", { 0x80 }, 1, 0, 0 },
	{ "truncated after 9 bytes", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	    9, 0, 0 },
};

static void
test_get_varint(void **state)
{
	const struct varint_row *r = ROW(struct varint_row, state);
	uint8_t *buf = malloc(r->len ? r->len : 1);	/* exact size: reads past it are caught */
	uint64_t v = 0xdeadbeef;
	size_t n;

	assert_non_null(buf);
	memcpy(buf, r->in, r->len);
	n = wire_get_varint(buf, buf + r->len, &v);
	free(buf);
	assert_int_equal(n, r->want_n);
	if (r->want_n)
		assert_int_equal(v, r->want);
}

static void
test_put_varint(void **state)
{
	uint8_t out[MAXB];
	uint64_t v, got;
	size_t n, bits;
	int d;

	(void)state;
	/* Both sides of every 7-bit boundary, and the ends. */
	for (bits = 0; bits <= 64; bits++) {
		for (d = -1; d <= 1; d++) {
			v = bits == 64 ? UINT64_MAX : (bits == 0 ? 0 : (1ULL << bits)) + d;
			if (bits == 0 && d < 0)
				continue;
			memset(out, 0xee, sizeof(out));
			n = wire_put_varint(out, v);
			if (n != wire_varint_size(v) || n < 1 || n > 10)
				fail_msg("%llu: put %zu bytes, size says %zu",
				    (unsigned long long)v, n, wire_varint_size(v));
			if (out[n] != 0xee)
				fail_msg("%llu: wrote past %zu bytes", (unsigned long long)v, n);
			if (wire_get_varint(out, out + n, &got) != n || got != v)
				fail_msg("%llu: reads back as %llu", (unsigned long long)v,
				    (unsigned long long)got);
		}
	}
	assert_int_equal(wire_varint_size(0), 1);
	assert_int_equal(wire_varint_size(127), 1);
	assert_int_equal(wire_varint_size(128), 2);
	assert_int_equal(wire_varint_size(UINT64_MAX), 10);
}

struct next_row {
	const char	*what;
	uint8_t		 in[MAXB];
	size_t		 len;
	int		 want_r;
	uint32_t	 num;
	enum wire_type	 type;
	uint64_t	 value;
	size_t		 data_off;	/* LEN: payload offset */
	size_t		 used;		/* bytes consumed on success */
};

static const struct next_row next_rows[] = {
	{ "end of buffer", { 0 }, 0, 0, 0, 0, 0, 0, 0 },
	{ "varint field 1 = 150", { 0x08, 0x96, 0x01 }, 3, 1, 1, WIRE_VARINT, 150, 0, 3 },
	{ "i64 field 2", { 0x11, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, 1, 2, WIRE_I64,
	    0x0807060504030201ULL, 0, 9 },
	{ "i32 field 3", { 0x1d, 1, 2, 3, 4 }, 5, 1, 3, WIRE_I32, 0x04030201, 0, 5 },
	{ "len field 4 of 3 bytes", { 0x22, 0x03, 'a', 'b', 'c' }, 5, 1, 4, WIRE_LEN, 3, 2, 5 },
	{ "len field of 0 bytes", { 0x22, 0x00 }, 2, 1, 4, WIRE_LEN, 0, 2, 2 },
	{ "only the first field is read", { 0x08, 0x01, 0x10, 0x02 }, 4, 1, 1, WIRE_VARINT, 1,
	    0, 2 },
	{ "largest field number", { 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00 }, 6, 1, 536870911,
	    WIRE_VARINT, 0, 0, 6 },
	{ "field number 536870912", { 0x80, 0x80, 0x80, 0x80, 0x10, 0x00 }, 6, -1 },
	{ "field number 0", { 0x00, 0x01 }, 2, -1 },
	{ "truncated tag", { 0x80 }, 1, -1 },
	{ "tag without its value", { 0x08 }, 1, -1 },
	{ "truncated varint value", { 0x08, 0x80 }, 2, -1 },
	{ "truncated i64", { 0x11, 1, 2, 3, 4, 5, 6, 7 }, 8, -1 },
	{ "truncated i32", { 0x1d, 1, 2, 3 }, 4, -1 },
	{ "len past the end", { 0x22, 0x05, 'a' }, 3, -1 },
	{ "len of UINT64_MAX", { 0x22, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x01 }, 11, -1 },
	{ "truncated len", { 0x22, 0x80 }, 2, -1 },
	{ "group start (wire type 3)", { 0x0b, 0x0c }, 2, -1 },
	{ "group end (wire type 4)", { 0x0c }, 1, -1 },
	{ "wire type 6", { 0x0e, 0x00 }, 2, -1 },
	{ "wire type 7", { 0x0f, 0x00 }, 2, -1 },
};

static void
test_next(void **state)
{
	const struct next_row *r = ROW(struct next_row, state);
	uint8_t *buf = malloc(r->len ? r->len : 1);
	const uint8_t *p;
	struct wire_field f;
	int rc;

	assert_non_null(buf);
	memcpy(buf, r->in, r->len);
	p = buf;
	rc = wire_next(&p, buf + r->len, &f);
	if (rc != r->want_r) {
		free(buf);
		fail_msg("returned %d, want %d", rc, r->want_r);
	}
	if (rc == 1) {
		CHECK(f.num == r->num);
		CHECK(f.type == r->type);
		CHECK(f.value == r->value);
		CHECK(p == buf + r->used);
		if (r->type == WIRE_LEN)
			CHECK(f.data == buf + r->data_off);
		else
			CHECK(f.data == NULL);
	} else {
		CHECK(p == buf);	/* no progress on the end or on an error */
	}
	free(buf);
}

/* Scanning a whole message field by field visits each field once and ends exactly. */
static void
test_scan(void **state)
{
	static const uint8_t msg[] = {
		0x08, 0x2a,				/* 1: varint 42 */
		0x12, 0x02, 0x08, 0x01,			/* 2: len 2 */
		0x1d, 0, 0, 0x80, 0x3f,			/* 3: i32 */
		0x21, 1, 0, 0, 0, 0, 0, 0, 0,		/* 4: i64 1 */
		0x2a, 0x00,				/* 5: empty len */
	};
	static const uint32_t nums[] = { 1, 2, 3, 4, 5 };
	const uint8_t *p = msg, *end = msg + sizeof(msg);
	struct wire_field f;
	size_t i = 0;
	int rc;

	(void)state;
	while ((rc = wire_next(&p, end, &f)) == 1) {
		assert_true(i < 5);
		assert_int_equal(f.num, nums[i]);
		i++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, 5);
	assert_ptr_equal(p, end);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "get_varint", test_get_varint, varint_rows);
	cases_add(&cs, "put_varint round trips at every 7-bit boundary", test_put_varint, NULL);
	CASES_TABLE(&cs, "next", test_next, next_rows);
	cases_add(&cs, "scan a message to its end", test_scan, NULL);
	return cases_run(&cs, "wire");
}
