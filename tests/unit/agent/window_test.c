/* Tandem — MIT licence. Window tests: bounds, EAGAIN, ack trimming, renumbering, resend. */
#include <errno.h>

#include "agent/hist.h"
#include "agent/window.h"
#include "common/wire.h"
#include "proto/msg.h"
#include "tests/unit/common/cases.h"

/* A fake packed event of n bytes whose bytes all equal tag. */
static void
push(struct window *w, unsigned n, uint8_t tag, int expect_rc)
{
	uint8_t buf[512];

	memset(buf, tag, n);
	assert_int_equal(window_push(w, buf, n, 100), expect_rc);
}

/* Walks a batch body: returns the number of events and checks each one's tag. */
static size_t
body_events(const uint8_t *p, size_t len, uint8_t first_tag)
{
	const uint8_t *end = p + len;
	struct wire_field f;
	size_t n = 0, i;

	while (wire_next(&p, end, &f) == 1) {
		assert_int_equal(f.num, 2);
		for (i = 0; i < f.value; i++)
			assert_int_equal(f.data[i], (uint8_t)(first_tag + n));
		n++;
	}
	return n;
}

static void
test_bounded_events(void **state)
{
	struct window w;
	unsigned i;

	assert_int_equal(window_init(&w, 100, 1 << 20), 0);
	for (i = 0; i < 100; i++)
		push(&w, 10, (uint8_t)i, 0);
	errno = 0;
	push(&w, 10, 0, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(w.count, 100);
	assert_int_equal(window_next_seq(&w), 101);
	/* Acking makes room again. */
	assert_int_equal(window_ack(&w, 10, 0, 200, NULL), 10);
	push(&w, 10, 0, 0);
	window_shutdown(&w);
}

static void
test_bounded_bytes(void **state)
{
	struct window w;
	unsigned i;

	/* Each 100-byte event takes 102 wire bytes: ten fit in 1020, not eleven. */
	assert_int_equal(window_init(&w, 1000, 1020), 0);
	for (i = 0; i < 10; i++)
		push(&w, 100, 1, 0);
	push(&w, 100, 1, -1);
	assert_int_equal(errno, EAGAIN);
	assert_false(window_has_room(&w, 1));
	assert_int_equal(window_bytes(&w), 1020);
	/* Larger than the whole window: never fits. */
	window_ack(&w, 100, 0, 0, NULL);
	assert_int_equal(w.count, 0);
	push(&w, 500, 1, 0);
	window_shutdown(&w);
	assert_int_equal(window_init(&w, 10, 100), 0);
	push(&w, 200, 1, -1);
	assert_int_equal(errno, EMSGSIZE);
	window_shutdown(&w);
}

static void
test_batches_and_acks(void **state)
{
	struct window w;
	struct hist h;
	const uint8_t *body;
	uint64_t first;
	size_t len, n;
	unsigned i;

	hist_reset(&h);
	assert_int_equal(window_init(&w, 1000, 1 << 20), 0);
	for (i = 0; i < 10; i++)
		push(&w, 5, (uint8_t)i, 0);
	n = window_peek_unsent(&w, 4, 1 << 20, &first, &body, &len);
	assert_int_equal(n, 4);
	assert_int_equal(first, 1);
	assert_int_equal(body_events(body, len, 0), 4);
	window_mark_sent(&w, n, len);
	n = window_peek_unsent(&w, 4, 1 << 20, &first, &body, &len);
	assert_int_equal(first, 5);
	assert_int_equal(body_events(body, len, 4), 4);
	window_mark_sent(&w, n, len);
	/* An ack beyond what was sent is clamped to what was sent. */
	assert_int_equal(window_ack(&w, 100, 1, 150, &h), 8);
	assert_int_equal(h.count, 8);
	assert_int_equal(hist_percentile(&h, 50), 50);
	assert_int_equal(w.base_seq, 9);
	/* A stale ack changes nothing: nothing is acked twice. */
	assert_int_equal(window_ack(&w, 5, 1, 150, &h), 0);
	assert_int_equal(h.count, 8);
	n = window_peek_unsent(&w, 64, 1 << 20, &first, &body, &len);
	assert_int_equal(n, 2);
	assert_int_equal(first, 9);
	assert_int_equal(body_events(body, len, 8), 2);
	window_shutdown(&w);
}

static void
test_resend_after_reconnect(void **state)
{
	struct window w;
	const uint8_t *body;
	uint64_t first;
	size_t len, n;
	unsigned i;

	assert_int_equal(window_init(&w, 1000, 1 << 20), 0);
	for (i = 0; i < 6; i++)
		push(&w, 3, (uint8_t)i, 0);
	n = window_peek_unsent(&w, 64, 1 << 20, &first, &body, &len);
	window_mark_sent(&w, n, len);
	assert_int_equal(window_unsent(&w), 0);
	window_ack(&w, 2, 1, 0, NULL);
	/* Connection lost: everything unacked (3..6) goes again, nothing acked does. */
	window_rewind(&w);
	n = window_peek_unsent(&w, 64, 1 << 20, &first, &body, &len);
	assert_int_equal(n, 4);
	assert_int_equal(first, 3);
	assert_int_equal(body_events(body, len, 2), 4);
	/* The next Welcome says 4 is stored: 3 and 4 leave as acked, 5 and 6 are resent. */
	assert_int_equal(window_ack(&w, 4, 0, 0, NULL), 2);
	n = window_peek_unsent(&w, 64, 1 << 20, &first, &body, &len);
	assert_int_equal(n, 2);
	assert_int_equal(first, 5);
	assert_int_equal(body_events(body, len, 4), 2);
	window_shutdown(&w);
}

static void
test_renumber(void **state)
{
	struct window w;
	const uint8_t *body;
	uint64_t first;
	size_t len, n;
	unsigned i;

	assert_int_equal(window_init(&w, 1000, 1 << 20), 0);
	for (i = 0; i < 5; i++)
		push(&w, 4, (uint8_t)i, 0);
	/* First Welcome of a restarted process: the collector stored up to 1000. */
	window_renumber(&w, 1001);
	n = window_peek_unsent(&w, 64, 1 << 20, &first, &body, &len);
	assert_int_equal(n, 5);
	assert_int_equal(first, 1001);
	assert_int_equal(body_events(body, len, 0), 5);
	assert_int_equal(window_next_seq(&w), 1006);
	window_mark_sent(&w, n, len);
	assert_int_equal(window_ack(&w, 1003, 1, 0, NULL), 3);
	assert_int_equal(w.base_seq, 1004);
	window_shutdown(&w);
}

/* Many pushes and acks wrap the ring and slide the buffer; contents stay in order. */
static void
test_wrap_and_slide(void **state)
{
	struct window w;
	const uint8_t *body;
	uint64_t first, next_tag = 0;
	size_t len, n;
	unsigned round, i;

	assert_int_equal(window_init(&w, 200, 4096), 0);
	for (round = 0; round < 2000; round++) {
		for (i = 0; i < 7 && window_has_room(&w, 1 + round % 50); i++)
			push(&w, 1 + round % 50, (uint8_t)(w.base_seq + w.count - 1), 0);
		n = window_peek_unsent(&w, 5, 1 << 20, &first, &body, &len);
		if (n > 0) {
			assert_int_equal(body_events(body, len, (uint8_t)(first - 1)), n);
			window_mark_sent(&w, n, len);
		}
		next_tag += window_ack(&w, w.base_seq + round % 6, 1, 0, NULL);
		assert_int_equal(w.base_seq, next_tag + 1);
	}
	window_shutdown(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded_events),
		cmocka_unit_test(test_bounded_bytes),
		cmocka_unit_test(test_batches_and_acks),
		cmocka_unit_test(test_resend_after_reconnect),
		cmocka_unit_test(test_renumber),
		cmocka_unit_test(test_wrap_and_slide),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
