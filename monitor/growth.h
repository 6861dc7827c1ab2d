/* Tandem — MIT licence. Queue growth verdict over a window of depth samples (saw-tooth robust). */
#ifndef TANDEM_MONITOR_GROWTH_H
#define TANDEM_MONITOR_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#define GROWTH_INTERVALS_MIN	3
#define GROWTH_INTERVALS_MAX	32

enum growth_verdict {
	GROWTH_NOT_ENOUGH_DATA,	/* too few samples or the window is too short to judge */
	GROWTH_OK,		/* at or below the floor, or no significant trend */
	GROWTH_GROWING,		/* troughs rise over the window */
	GROWTH_DRAINING,	/* troughs fall over the window */
	GROWTH_STALLED,		/* above the floor, flat all window, no completions */
};

const char	*growth_verdict_name(enum growth_verdict);

struct growth_sample {
	int64_t		t_ms;		/* sample time; samples ascending (ties allowed) */
	uint64_t	depth;		/* waiting + in processing */
	uint64_t	enqueued;	/* cumulative totals, read only if has_totals */
	uint64_t	completed;
};

struct growth_conf {
	int64_t		window_ms;	/* span the caller meant to cover */
	uint32_t	min_samples;	/* fewer samples => NOT_ENOUGH_DATA */
	uint32_t	min_complete_pct; /* sample span < pct % of window_ms => NOT_ENOUGH_DATA */
	uint32_t	intervals;	/* sub-windows whose minima form the trend */
	uint64_t	floor;		/* last depth <= floor => OK (Burrow's allowed-lag) */
	uint64_t	min_change;	/* |trend over the window| must exceed this */
	uint64_t	stall_tolerance; /* max - min <= this counts as flat */
	uint64_t	limit;		/* 0: none; else time to reach it when growing */
};

struct growth_result {
	enum growth_verdict verdict;
	uint32_t	samples;
	uint32_t	intervals_used;	/* sub-windows holding at least one sample */
	int64_t		span_ms;
	uint64_t	depth;		/* last sample */
	uint64_t	depth_min;
	uint64_t	depth_max;
	double		slope_per_s;	/* Theil-Sen slope of the sub-window minima, depth/s */
	double		change;		/* slope_per_s * span: trend over the window */
	double		noise;		/* 3 x 1.4826 x MAD of the minima around the trend line */
	int		has_rates;	/* 1 if totals were given and monotone */
	double		arrival_per_s;
	double		completion_per_s;
	double		eta_drain_s;	/* DRAINING: depth / -slope, else -1 */
	double		eta_limit_s;	/* GROWING with a limit: (limit - depth) / slope, else -1 */
};

/* Fills conf with defaults for a window of window_ms (10 intervals, 6 samples, 80 %). */
void	growth_conf_default(struct growth_conf *conf, int64_t window_ms);

/*
 * Judges samples[0 .. n) (borrowed). has_totals says whether enqueued/completed are set.
 * Order of rules:
 *  1. n < min_samples or span < min_complete_pct of window_ms, or fewer than
 *     GROWTH_INTERVALS_MIN non-empty sub-windows => NOT_ENOUGH_DATA;
 *  2. last depth <= floor => OK;
 *  3. max - min <= stall_tolerance over the window and (without totals, or with no
 *     completion progress) => STALLED;
 *  4. the window is cut into `intervals` equal sub-windows; the Theil-Sen slope through
 *     (sub-window centre, sub-window minimum) gives the trend. The change over the window
 *     must exceed both min_change and the noise of the minima around the line, else OK;
 *     positive => GROWING, negative => DRAINING.
 * Using minima means a saw-tooth whose troughs rise is GROWING even though the depth
 * decreases after every peak (Burrow's rule 5 misses it: linkedin/Burrow#155, #453).
 * Returns 0, or -1 on bad input (conf out of range, samples not ascending in time).
 */
int	growth_eval(const struct growth_conf *conf, const struct growth_sample *samples,
	    size_t n, int has_totals, struct growth_result *out /* OUT */);

#endif
