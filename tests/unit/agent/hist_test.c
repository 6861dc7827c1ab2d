/* Tandem — MIT licence. Histogram tests: bucket error bound, percentiles, merge and diff. */
#include "agent/hist.h"
#include "tests/unit/common/cases.h"

static void
test_relative_error(void **state)
{
	static struct hist h;
	uint64_t v, got;
	double err;

	/* Every value from 1 us to 60 s, sampled geometrically, comes back within 1/64. */
	for (v = 1; v <= 60000000; v = v + v / 7 + 1) {
		hist_reset(&h);
		hist_record(&h, v);
		got = hist_percentile(&h, 50);
		err = (double)(got > v ? got - v : v - got) / (double)v;
		if (err > 1.0 / 64)
			fail_msg("value %llu came back as %llu", (unsigned long long)v,
			    (unsigned long long)got);
	}
}

static void
test_percentiles(void **state)
{
	static struct hist h;
	uint64_t i;

	hist_reset(&h);
	assert_int_equal(hist_percentile(&h, 50), 0);
	/* 1..10000 us, once each. */
	for (i = 1; i <= 10000; i++)
		hist_record(&h, i);
	assert_int_equal(h.count, 10000);
	CHECK(hist_percentile(&h, 50) >= 4900 && hist_percentile(&h, 50) <= 5100);
	CHECK(hist_percentile(&h, 99) >= 9800 && hist_percentile(&h, 99) <= 10000);
	CHECK(hist_percentile(&h, 99.9) >= 9890 && hist_percentile(&h, 99.9) <= 10000);
	assert_int_equal(hist_percentile(&h, 100), 10000);
	/* Small values are exact. */
	hist_reset(&h);
	hist_record_n(&h, 7, 999);
	hist_record(&h, 1000000);
	assert_int_equal(hist_percentile(&h, 50), 7);
	assert_int_equal(hist_percentile(&h, 99.9), 7);
	CHECK(hist_percentile(&h, 100) > 980000);
	/* Beyond the range: counted in the last bucket, reported as the maximum seen. */
	hist_reset(&h);
	hist_record(&h, UINT64_C(1) << 40);
	assert_int_equal(h.count, 1);
	CHECK(hist_percentile(&h, 50) >= HIST_MAX_US - HIST_MAX_US / 64);
}

static void
test_merge_diff(void **state)
{
	static struct hist a, b, d;
	uint64_t i;

	hist_reset(&a);
	hist_reset(&b);
	for (i = 0; i < 100; i++)
		hist_record(&a, 10);
	b = a;
	for (i = 0; i < 100; i++)
		hist_record(&a, 2000);
	hist_diff(&d, &a, &b);
	assert_int_equal(d.count, 100);
	CHECK(hist_percentile(&d, 1) >= 1970 && hist_percentile(&d, 1) <= 2030);
	hist_merge(&d, &b);
	assert_int_equal(d.count, 200);
	assert_int_equal(hist_percentile(&d, 50), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_error),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_merge_diff),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
