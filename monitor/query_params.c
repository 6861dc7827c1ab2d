/* Tandem — MIT licence. Strict query-string parsing: every malformed input names its parameter. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "monitor/query_params.h"

static int
qp_fail(struct query_params_err *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
qp_fail(struct query_params_err *err, const char *param, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->param, sizeof(err->param), "%s", param != NULL ? param : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0 .. len) into a new string; -1 on a bad escape, control byte, or length. */
static int
qp_decode(const char *s, size_t len, size_t max, char **out)
{
	char *d;
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	*out = NULL;
	if ((d = xmalloc(len + 1)) == NULL)
		return -2;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)	/* needs s[i + 1] and s[i + 2] */
				goto fail;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto fail;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			goto fail;
		d[o++] = (char)c;
	}
	if (o > max)
		goto fail;
	d[o] = '\0';
	*out = d;
	return 0;
fail:
	xfree(d);
	return -1;
}

static int
qp_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= QUERY_PARAMS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

void
query_params_clear(struct query_params *qp)
{
	size_t i;

	for (i = 0; i < qp->n; i++) {
		XFREE(qp->kv[i].name);
		XFREE(qp->kv[i].value);
	}
	qp->n = 0;
}

const char *
query_params_get(const struct query_params *qp, const char *name)
{
	size_t i;

	for (i = 0; i < qp->n; i++)
		if (strcmp(qp->kv[i].name, name) == 0)
			return qp->kv[i].value;
	return NULL;
}

int
query_params_parse(struct query_params *qp, const char *query, struct query_params_err *err)
{
	const char *p, *end, *eq, *seg_end;
	char *name = NULL, *value = NULL;
	size_t qlen, nlen;
	int rc;

	qp->n = 0;
	memset(err, 0, sizeof(*err));
	if (query == NULL)
		return 0;
	qlen = strnlen(query, QUERY_PARAMS_QUERY_MAX + 1);
	if (qlen > QUERY_PARAMS_QUERY_MAX)
		return qp_fail(err, NULL, "query string longer than %d bytes",
		    QUERY_PARAMS_QUERY_MAX);
	end = query + qlen;
	for (p = query; p < end; p = seg_end + 1) {
		if ((seg_end = memchr(p, '&', (size_t)(end - p))) == NULL)
			seg_end = end;
		if (seg_end == p)
			continue;
		eq = memchr(p, '=', (size_t)(seg_end - p));
		nlen = (size_t)((eq != NULL ? eq : seg_end) - p);
		if (!qp_name_ok(p, nlen)) {
			qp_fail(err, NULL, "malformed parameter name");
			goto fail;
		}
		if (qp->n == QUERY_PARAMS_MAX) {
			qp_fail(err, NULL, "more than %d parameters", QUERY_PARAMS_MAX);
			goto fail;
		}
		if ((name = xstrndup(p, nlen)) == NULL) {
			qp_fail(err, NULL, "out of memory");
			goto fail;
		}
		if (query_params_get(qp, name) != NULL) {
			qp_fail(err, name, "parameter given more than once");
			goto fail;
		}
		rc = eq == NULL ? qp_decode("", 0, 0, &value) :
		    qp_decode(eq + 1, (size_t)(seg_end - eq - 1), QUERY_PARAMS_VALUE_MAX, &value);
		if (rc == -2) {
			qp_fail(err, name, "out of memory");
			goto fail;
		}
		if (rc == -1) {
			qp_fail(err, name, "malformed value (bad %%-escape, control character "
			    "or longer than %d bytes)", QUERY_PARAMS_VALUE_MAX);
			goto fail;
		}
		qp->kv[qp->n].name = name;
		qp->kv[qp->n].value = value;
		qp->n++;
		name = value = NULL;
		if (seg_end == end)
			break;
	}
	return 0;
fail:
	XFREE(name);
	XFREE(value);
	query_params_clear(qp);
	return -1;
}

int
query_params_allow(const struct query_params *qp, const char *const *allowed,
    struct query_params_err *err)
{
	size_t i, j;

	for (i = 0; i < qp->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(qp->kv[i].name, allowed[j]) == 0)
				break;
		if (allowed[j] == NULL)
			return qp_fail(err, qp->kv[i].name, "unknown parameter");
	}
	return 0;
}

/* Strict decimal: optional '-', 1 .. 19 digits, nothing else. */
static int
parse_i64(const char *s, int64_t *out)
{
	const char *p = s;
	char *endp;
	long long v;

	if (*p == '-')
		p++;
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &endp, 10);
	if (errno != 0 || *endp != '\0')
		return -1;
	*out = v;
	return 0;
}

int
query_params_int(const struct query_params *qp, const char *name, int64_t min, int64_t max,
    int64_t def, int64_t *out, struct query_params_err *err)
{
	const char *v = query_params_get(qp, name);
	int64_t x;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (parse_i64(v, &x) == -1)
		return qp_fail(err, name, "not an integer");
	if (x < min || x > max)
		return qp_fail(err, name, "must be in %" PRId64 "..%" PRId64, min, max);
	*out = x;
	return 0;
}

int
query_params_limit(const struct query_params *qp, uint32_t def, uint32_t max, uint32_t *out,
    struct query_params_err *err)
{
	int64_t v;

	if (query_params_int(qp, "limit", 1, max, def, &v, err) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
query_params_str(const struct query_params *qp, const char *name, size_t maxlen, int required,
    const char **out, struct query_params_err *err)
{
	const char *v = query_params_get(qp, name);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return qp_fail(err, name, "missing");
		return 0;
	}
	if (strlen(v) > maxlen)
		return qp_fail(err, name, "longer than %zu bytes", maxlen);
	*out = v;
	return 0;
}

int
query_params_duration(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};
	int64_t n = 0;
	size_t i, digits = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits == 12)	/* 10^12 weeks overflows; keep it far from INT64_MAX */
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (digits == 0 || n == 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > INT64_MAX / units[i].ms)
				return -1;
			*ms = n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

int
query_params_time(const char *s, int64_t now_ms, int64_t *ms)
{
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	if (s[0] == '-') {
		if (query_params_duration(s + 1, &d) == -1 || d > now_ms)
			return -1;
		*ms = now_ms - d;
		return 0;
	}
	if (s[0] == '\0' || parse_i64(s, &d) == -1 || d < 0)
		return -1;
	*ms = d;
	return 0;
}

int
query_params_time_range(const struct query_params *qp, int64_t now_ms, int64_t def_span_ms,
    int64_t max_span_ms, int64_t *from, int64_t *to, struct query_params_err *err)
{
	const char *vf = query_params_get(qp, "from"), *vt = query_params_get(qp, "to");
	int64_t f, t;

	if (vt == NULL)
		t = now_ms;
	else if (query_params_time(vt, now_ms, &t) == -1)
		return qp_fail(err, "to", "not a time (ms since the epoch, \"now\" or -<n>ms|s|m|h|d|w)");
	if (vf == NULL)
		f = t > def_span_ms ? t - def_span_ms : 0;
	else if (query_params_time(vf, now_ms, &f) == -1)
		return qp_fail(err, "from", "not a time (ms since the epoch, \"now\" or -<n>ms|s|m|h|d|w)");
	if (f >= t)
		return qp_fail(err, "from", "must be before 'to'");
	if (max_span_ms > 0 && t - f > max_span_ms)
		return qp_fail(err, "from", "range longer than %" PRId64 " ms", max_span_ms);
	*from = f;
	*to = t;
	return 0;
}
