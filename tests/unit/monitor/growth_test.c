/* Tandem — MIT licence. Unit tests for monitor/growth.c on recorded-style depth series. */
#include <math.h>

#include "monitor/growth.h"
#include "tests/unit/common/cases.h"

#define NS	60		/* one sample every 10 s over 10 minutes */
#define STEP_MS	10000
#define WIN_MS	(NS * STEP_MS)

enum shape {
	S_STEADY, S_DRAINING, S_GROWING, S_SAW_GROWING, S_SAW_FLAT, S_NOISY_FLAT,
	S_BELOW_FLOOR, S_FEW, S_SHORT, S_STALLED, S_FLAT_PROGRESS, S_GROWING_LIMIT,
	S_SPIKE_FLAT,
};

struct series_row {
	const char	*what;
	enum shape	 shape;
	int		 totals;
	enum growth_verdict want;
};

static const struct series_row rows[] = {
	{ "steady depth with completions", S_STEADY, 1, GROWTH_OK },
	{ "draining linearly", S_DRAINING, 1, GROWTH_DRAINING },
	{ "growing linearly", S_GROWING, 1, GROWTH_GROWING },
	{ "saw-tooth whose troughs rise", S_SAW_GROWING, 0, GROWTH_GROWING },
	{ "saw-tooth with level troughs", S_SAW_FLAT, 0, GROWTH_OK },
	{ "noisy flat", S_NOISY_FLAT, 0, GROWTH_OK },
	{ "growing but below the floor", S_BELOW_FLOOR, 0, GROWTH_OK },
	{ "too few samples", S_FEW, 0, GROWTH_NOT_ENOUGH_DATA },
	{ "window too short", S_SHORT, 0, GROWTH_NOT_ENOUGH_DATA },
	{ "flat, no completions", S_STALLED, 1, GROWTH_STALLED },
	{ "flat without totals", S_STALLED, 0, GROWTH_STALLED },
	{ "flat but completing", S_FLAT_PROGRESS, 1, GROWTH_OK },
	{ "growing towards a limit", S_GROWING_LIMIT, 1, GROWTH_GROWING },
	{ "flat with single spikes", S_SPIKE_FLAT, 0, GROWTH_OK },
};

static uint64_t rng_state;

static double
noise(double amp)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return ((double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0) * amp;
}

static size_t
make_series(enum shape sh, struct growth_sample *s)
{
	size_t i, n = NS;
	double d;

	rng_state = 0x1234567 + (uint64_t)sh;
	for (i = 0; i < NS; i++) {
		s[i].t_ms = 1700000000000LL + (int64_t)i * STEP_MS;
		s[i].enqueued = 100000 + i * 50;
		s[i].completed = 90000 + i * 50;
		switch (sh) {
		case S_STEADY:
		case S_FLAT_PROGRESS:
			d = 400;
			break;
		case S_DRAINING:
			d = 3000 - 40.0 * i;
			s[i].completed = 90000 + i * 90;
			break;
		case S_GROWING:
		case S_GROWING_LIMIT:
			d = 500 + 25.0 * i;
			s[i].completed = 90000 + i * 25;
			break;
		case S_SAW_GROWING:
			/* Period 90 s: +300 ramps then a drop; the troughs rise by 40 per period. */
			d = 200 + 40.0 * (double)(i / 9) + 300.0 * (double)(i % 9) / 8.0;
			break;
		case S_SAW_FLAT:
			d = 200 + 300.0 * (double)(i % 9) / 8.0;
			break;
		case S_NOISY_FLAT:
			d = 1000 + noise(150);
			break;
		case S_BELOW_FLOOR:
			d = 10 + 1.0 * i;
			break;
		case S_FEW:
			d = 500 + 25.0 * i;
			break;
		case S_SHORT:
			d = 500 + 25.0 * i;
			s[i].t_ms = 1700000000000LL + (int64_t)i * 1000;
			break;
		case S_STALLED:
			d = 750;
			s[i].completed = 90000;
			s[i].enqueued = 100000;
			break;
		case S_SPIKE_FLAT:
			d = (i % 17 == 5) ? 5000 : 800 + noise(20);
			break;
		default:
			d = 0;
		}
		s[i].depth = d < 0 ? 0 : (uint64_t)llround(d);
	}
	if (sh == S_FEW)
		n = 4;
	return n;
}

static void
test_series(void **state)
{
	const struct series_row *r = ROW(struct series_row, state);
	struct growth_sample s[NS];
	struct growth_conf conf;
	struct growth_result res;
	size_t n = make_series(r->shape, s);

	growth_conf_default(&conf, WIN_MS);
	conf.floor = r->shape == S_BELOW_FLOOR ? 100 : 50;
	conf.min_change = 20;
	if (r->shape == S_GROWING_LIMIT)
		conf.limit = 10000;
	CHECK(growth_eval(&conf, s, n, r->totals, &res) == 0);
	if (res.verdict != r->want)
		fail_msg("%s: verdict %s (want %s), slope %.3f/s change %.1f noise %.1f",
		    r->what, growth_verdict_name(res.verdict), growth_verdict_name(r->want),
		    res.slope_per_s, res.change, res.noise);
	switch (r->shape) {
	case S_DRAINING:
		/* 3000 - 40 * 59 = 640 left at 4/s: 160 s. */
		CHECK(res.eta_drain_s > 140 && res.eta_drain_s < 180);
		CHECK(res.eta_limit_s == -1);
		CHECK(res.has_rates);
		CHECK(fabs(res.arrival_per_s - 5.0) < 1e-9);
		CHECK(fabs(res.completion_per_s - 9.0) < 1e-9);
		break;
	case S_GROWING_LIMIT:
		/* 500 + 25 * 59 = 1975; (10000 - 1975) / 2.5 per s = 3210 s. */
		CHECK(fabs(res.eta_limit_s - 3210.0) < 5.0);
		CHECK(res.eta_drain_s == -1);
		CHECK(res.arrival_per_s > res.completion_per_s);
		break;
	case S_GROWING:
		CHECK(fabs(res.slope_per_s - 2.5) < 0.01);
		CHECK(res.eta_limit_s == -1);	/* no limit configured */
		break;
	default:
		break;
	}
}

static void
test_bad_input(void **state)
{
	struct growth_sample s[NS];
	struct growth_conf conf;
	struct growth_result res;
	size_t n;

	(void)state;
	n = make_series(S_GROWING, s);
	growth_conf_default(&conf, WIN_MS);
	s[10].t_ms = s[9].t_ms - 1;
	CHECK(growth_eval(&conf, s, n, 0, &res) == -1);
	n = make_series(S_GROWING, s);
	conf.intervals = GROWTH_INTERVALS_MAX + 1;
	CHECK(growth_eval(&conf, s, n, 0, &res) == -1);
	conf.intervals = 2;
	CHECK(growth_eval(&conf, s, n, 0, &res) == -1);
	growth_conf_default(&conf, 0);
	CHECK(growth_eval(&conf, s, n, 0, &res) == -1);
	growth_conf_default(&conf, WIN_MS);
	CHECK(growth_eval(&conf, s, 0, 0, &res) == 0);
	CHECK(res.verdict == GROWTH_NOT_ENOUGH_DATA);
	/* Ties in time are fine. */
	s[3].t_ms = s[2].t_ms;
	CHECK(growth_eval(&conf, s, n, 0, &res) == 0);
	CHECK(res.verdict == GROWTH_GROWING);
}

/* A counter reset (agent restart) hides the rates but not the verdict. */
static void
test_counter_reset(void **state)
{
	struct growth_sample s[NS];
	struct growth_conf conf;
	struct growth_result res;
	size_t n = make_series(S_STALLED, s);

	(void)state;
	growth_conf_default(&conf, WIN_MS);
	s[30].completed = 0;
	s[31].completed = 5;
	CHECK(growth_eval(&conf, s, n, 1, &res) == 0);
	CHECK(!res.has_rates);
	CHECK(res.verdict == GROWTH_STALLED);
}

static void
test_names(void **state)
{
	int v;

	(void)state;
	for (v = GROWTH_NOT_ENOUGH_DATA; v <= GROWTH_STALLED; v++)
		CHECK(strcmp(growth_verdict_name(v), "unknown") != 0);
	CHECK(strcmp(growth_verdict_name((enum growth_verdict)42), "unknown") == 0);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "series", test_series, rows);
	cases_add(&cs, "bad input", test_bad_input, NULL);
	cases_add(&cs, "counter reset", test_counter_reset, NULL);
	cases_add(&cs, "verdict names", test_names, NULL);
	return cases_run(&cs, "growth");
}
