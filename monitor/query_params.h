/* Tandem — MIT licence. Strict query-string parsing: integers, limits, time ranges, strings. */
#ifndef TANDEM_MONITOR_QUERY_PARAMS_H
#define TANDEM_MONITOR_QUERY_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define QUERY_PARAMS_MAX	32	/* parameters per request */
#define QUERY_PARAMS_QUERY_MAX	4096	/* raw query string bytes */
#define QUERY_PARAMS_NAME_MAX	32	/* bytes including the NUL */
#define QUERY_PARAMS_VALUE_MAX	1024	/* decoded bytes, excluding the NUL */

/* What went wrong and with which parameter (or body field); param "" if none. */
struct query_params_err {
	char		param[QUERY_PARAMS_NAME_MAX];
	char		msg[192];
};

struct query_param {
	char		*name;		/* owned, [a-z0-9_.-], 1 .. QUERY_PARAMS_NAME_MAX - 1 bytes */
	char		*value;		/* owned, percent-decoded, no control characters */
};

struct query_params {
	size_t		n;
	struct query_param kv[QUERY_PARAMS_MAX];
};

/*
 * Parses query (may be NULL or "") into qp. Accepts "a=1&b=x%20y+z" ('+' is a space,
 * empty segments are skipped, "a" alone means a=""). Returns -1 with err filled, and qp
 * empty, on: query longer than QUERY_PARAMS_QUERY_MAX, more than QUERY_PARAMS_MAX
 * parameters, a bad name, a bad %-escape, a decoded control character or NUL, a value
 * longer than QUERY_PARAMS_VALUE_MAX, a repeated name, or allocation failure.
 */
int		 query_params_parse(struct query_params *qp, const char *query,
		    struct query_params_err *err /* OUT */);
/* Frees everything qp owns; qp is empty afterwards. */
void		 query_params_clear(struct query_params *qp);
/* Value of name, or NULL. Borrowed, valid until query_params_clear. */
const char	*query_params_get(const struct query_params *qp, const char *name);
/* -1 naming the first parameter not in the NULL-terminated list allowed. */
int		 query_params_allow(const struct query_params *qp, const char *const *allowed,
		    struct query_params_err *err /* OUT */);

/*
 * Integer parameter in [min, max]: decimal digits with an optional '-', nothing else.
 * Absent => def. -1 naming the parameter if not an integer or out of range.
 */
int		 query_params_int(const struct query_params *qp, const char *name, int64_t min,
		    int64_t max, int64_t def, int64_t *out /* OUT */,
		    struct query_params_err *err /* OUT */);

/*
 * "limit": absent => def; must be an integer in 1 .. max. A larger value is rejected with
 * 400 rather than clamped: a silent clamp makes a client believe it saw everything.
 */
int		 query_params_limit(const struct query_params *qp, uint32_t def, uint32_t max,
		    uint32_t *out /* OUT */, struct query_params_err *err /* OUT */);

/*
 * Bounded string: absent => *out = NULL (or -1 if required); longer than maxlen bytes
 * => -1. Borrowed, valid until query_params_clear.
 */
int		 query_params_str(const struct query_params *qp, const char *name, size_t maxlen,
		    int required, const char **out /* OUT */,
		    struct query_params_err *err /* OUT */);

/*
 * Duration "<n><unit>" with unit ms, s, m, h, d or w (n > 0) into milliseconds.
 * -1 on anything else or overflow.
 */
int		 query_params_duration(const char *s, int64_t *ms /* OUT */);
/*
 * One time value: milliseconds since the epoch (digits), "now", or "-<duration>" meaning
 * that long before now_ms. -1 on anything else.
 */
int		 query_params_time(const char *s, int64_t now_ms, int64_t *ms /* OUT */);

/*
 * "from" and "to": to defaults to now_ms, from to (to - def_span_ms). -1 naming the
 * parameter if a value is malformed, from >= to (reversed or empty), or to - from >
 * max_span_ms (max_span_ms 0: unlimited).
 */
int		 query_params_time_range(const struct query_params *qp, int64_t now_ms,
		    int64_t def_span_ms, int64_t max_span_ms, int64_t *from /* OUT */,
		    int64_t *to /* OUT */, struct query_params_err *err /* OUT */);

#endif
