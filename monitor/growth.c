/* Tandem — MIT licence. Queue growth verdict: Theil-Sen trend over sub-window minima, floor, stall. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/growth.h"

/* Pairs of sub-windows: GROWTH_INTERVALS_MAX choose 2. */
#define GROWTH_PAIRS_MAX	(GROWTH_INTERVALS_MAX * (GROWTH_INTERVALS_MAX - 1) / 2)

const char *
growth_verdict_name(enum growth_verdict v)
{
	switch (v) {
	case GROWTH_NOT_ENOUGH_DATA:	return "not-enough-data";
	case GROWTH_OK:			return "ok";
	case GROWTH_GROWING:		return "growing";
	case GROWTH_DRAINING:		return "draining";
	case GROWTH_STALLED:		return "stalled";
	}
	return "unknown";
}

void
growth_conf_default(struct growth_conf *conf, int64_t window_ms)
{
	memset(conf, 0, sizeof(*conf));
	conf->window_ms = window_ms;
	conf->min_samples = 6;
	conf->min_complete_pct = 80;
	conf->intervals = 10;
	conf->floor = 0;
	conf->min_change = 1;
	conf->stall_tolerance = 0;
	conf->limit = 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0 .. n), n >= 1; reorders v. */
static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int
growth_eval(const struct growth_conf *conf, const struct growth_sample *s, size_t n,
    int has_totals, struct growth_result *out)
{
	double mx[GROWTH_INTERVALS_MAX], my[GROWTH_INTERVALS_MAX];
	double tmp[GROWTH_PAIRS_MAX];
	uint64_t imin[GROWTH_INTERVALS_MAX];
	int64_t itime[GROWTH_INTERVALS_MAX];
	int ifilled[GROWTH_INTERVALS_MAX];
	double span_s, slope, icept, mad;
	size_t i, j, k, m, np;
	int64_t span;
	int progress_unknown = 1, no_progress = 0;

	memset(out, 0, sizeof(*out));
	out->verdict = GROWTH_NOT_ENOUGH_DATA;
	out->eta_drain_s = -1;
	out->eta_limit_s = -1;
	if (conf->window_ms <= 0 || conf->intervals < GROWTH_INTERVALS_MIN ||
	    conf->intervals > GROWTH_INTERVALS_MAX || conf->min_complete_pct > 100)
		return -1;
	for (i = 1; i < n; i++)
		if (s[i].t_ms < s[i - 1].t_ms)
			return -1;
	out->samples = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	if (n == 0)
		return 0;

	span = s[n - 1].t_ms - s[0].t_ms;
	out->span_ms = span;
	out->depth = s[n - 1].depth;
	out->depth_min = out->depth_max = s[0].depth;
	for (i = 1; i < n; i++) {
		if (s[i].depth < out->depth_min)
			out->depth_min = s[i].depth;
		if (s[i].depth > out->depth_max)
			out->depth_max = s[i].depth;
	}
	span_s = (double)span / 1000.0;

	if (has_totals && s[n - 1].enqueued >= s[0].enqueued &&
	    s[n - 1].completed >= s[0].completed) {
		/* Totals only ever grow; a drop means an agent restart, so rates are unknown. */
		for (i = 1; i < n; i++)
			if (s[i].enqueued < s[i - 1].enqueued ||
			    s[i].completed < s[i - 1].completed)
				break;
		if (i == n) {
			progress_unknown = 0;
			no_progress = s[n - 1].completed == s[0].completed;
			if (span > 0) {
				out->has_rates = 1;
				out->arrival_per_s =
				    (double)(s[n - 1].enqueued - s[0].enqueued) / span_s;
				out->completion_per_s =
				    (double)(s[n - 1].completed - s[0].completed) / span_s;
			}
		}
	}

	/* Rule 1: completeness. */
	if (n < conf->min_samples || span <= 0 ||
	    (double)span * 100.0 < (double)conf->window_ms * conf->min_complete_pct)
		return 0;
	k = conf->intervals;
	memset(ifilled, 0, sizeof(ifilled));
	for (i = 0; i < n; i++) {
		j = (size_t)((double)(s[i].t_ms - s[0].t_ms) * (double)k / ((double)span + 1.0));
		if (j >= k)
			j = k - 1;
		if (!ifilled[j] || s[i].depth < imin[j]) {
			imin[j] = s[i].depth;
			itime[j] = s[i].t_ms;
			ifilled[j] = 1;
		}
	}
	for (i = 0, m = 0; i < k; i++) {
		if (!ifilled[i])
			continue;
		mx[m] = (double)(itime[i] - s[0].t_ms) / 1000.0;
		my[m] = (double)imin[i];
		m++;
	}
	out->intervals_used = (uint32_t)m;
	if (m < GROWTH_INTERVALS_MIN)
		return 0;

	/* Rule 2: the floor. */
	if (out->depth <= conf->floor) {
		out->verdict = GROWTH_OK;
		return 0;
	}

	/* Rule 3: flat all window and nothing completed (or nothing known about completions). */
	if (out->depth_max - out->depth_min <= conf->stall_tolerance &&
	    (progress_unknown || no_progress)) {
		out->verdict = GROWTH_STALLED;
		return 0;
	}

	/* Rule 4: Theil-Sen slope over the minima, intercept and residual MAD. */
	for (i = 0, np = 0; i < m; i++)
		for (j = i + 1; j < m; j++)
			if (mx[j] > mx[i])
				tmp[np++] = (my[j] - my[i]) / (mx[j] - mx[i]);
	slope = np == 0 ? 0.0 : median(tmp, np);
	for (i = 0; i < m; i++)
		tmp[i] = my[i] - slope * mx[i];
	icept = median(tmp, m);
	for (i = 0; i < m; i++)
		tmp[i] = fabs(my[i] - (icept + slope * mx[i]));
	mad = median(tmp, m);
	out->slope_per_s = slope;
	out->change = slope * span_s;
	out->noise = 3.0 * 1.4826 * mad;

	if (fabs(out->change) <= (double)conf->min_change || fabs(out->change) <= out->noise) {
		out->verdict = GROWTH_OK;
		return 0;
	}
	if (slope > 0) {
		out->verdict = GROWTH_GROWING;
		if (conf->limit > 0)
			out->eta_limit_s = out->depth >= conf->limit ? 0.0 :
			    (double)(conf->limit - out->depth) / slope;
	} else {
		out->verdict = GROWTH_DRAINING;
		out->eta_drain_s = (double)out->depth / -slope;
	}
	return 0;
}
