/* Tandem — MIT licence. JSON event lines (jansson) -> Tandem__Event, strict about keys and types. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "agent/jsonev.h"

struct jsonev_name {
	const char	*name;
	int		 value;
};

static const struct jsonev_name jsonev_states[] = {
	{ "begin", TANDEM__TXN_STATE__TXN_BEGIN },
	{ "step", TANDEM__TXN_STATE__TXN_STEP },
	{ "end", TANDEM__TXN_STATE__TXN_END },
	{ "error", TANDEM__TXN_STATE__TXN_ERROR },
	{ NULL, 0 },
};

static const struct jsonev_name jsonev_levels[] = {
	{ "debug", TANDEM__LOG_LEVEL__LOG_DEBUG },
	{ "info", TANDEM__LOG_LEVEL__LOG_INFO },
	{ "warn", TANDEM__LOG_LEVEL__LOG_WARN },
	{ "warning", TANDEM__LOG_LEVEL__LOG_WARN },
	{ "error", TANDEM__LOG_LEVEL__LOG_ERROR },
	{ "fatal", TANDEM__LOG_LEVEL__LOG_FATAL },
	{ NULL, 0 },
};

static int
jsonev_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
jsonev_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Every key of o must be in allowed (NULL-terminated). */
static int
jsonev_keys(json_t *o, const char *const *allowed, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return jsonev_fail(err, errlen, "unknown key \"%s\"", key);
	}
	return 0;
}

/* A string member; required or optional (NULL when absent). */
static int
jsonev_str(json_t *o, const char *key, int required, const char **out, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return required ? jsonev_fail(err, errlen, "missing \"%s\"", key) : 0;
	if (!json_is_string(v))
		return jsonev_fail(err, errlen, "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* A non-negative integer member. Returns 1 present, 0 absent (when optional), -1 error. */
static int
jsonev_uint(json_t *o, const char *key, int required, uint64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return required ? jsonev_fail(err, errlen, "missing \"%s\"", key) : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return jsonev_fail(err, errlen, "\"%s\" must be a non-negative integer", key);
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

static int
jsonev_enum(json_t *o, const char *key, const struct jsonev_name *names, int def, int *out,
    char *err, size_t errlen)
{
	const char *s;
	size_t i;

	if (jsonev_str(o, key, 0, &s, err, errlen) == -1)
		return -1;
	if (s == NULL) {
		*out = def;
		return 0;
	}
	for (i = 0; names[i].name != NULL; i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].value;
			return 0;
		}
	return jsonev_fail(err, errlen, "\"%s\": unknown value \"%s\"", key, s);
}

static int
jsonev_queue(struct jsonev *je, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "time_ms", "queue", "depth",
	    "enqueued_total", "completed_total", NULL };
	int r;

	if (jsonev_keys(o, keys, err, errlen) == -1 ||
	    jsonev_str(o, "queue", 1, (const char **)&je->q.queue, err, errlen) == -1 ||
	    jsonev_uint(o, "depth", 1, &je->q.depth, err, errlen) == -1)
		return -1;
	je->q.has_depth = 1;
	if ((r = jsonev_uint(o, "enqueued_total", 0, &je->q.enqueued_total, err, errlen)) == -1)
		return -1;
	je->q.has_enqueued_total = r;
	if ((r = jsonev_uint(o, "completed_total", 0, &je->q.completed_total, err, errlen)) == -1)
		return -1;
	je->q.has_completed_total = r;
	je->ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
	je->ev.queue = &je->q;
	return 0;
}

static int
jsonev_txn(struct jsonev *je, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "time_ms", "txn_id", "step", "state",
	    "attrs", NULL };
	const char *key;
	json_t *attrs, *v;
	size_t n = 0;
	int state;

	if (jsonev_keys(o, keys, err, errlen) == -1 ||
	    jsonev_str(o, "txn_id", 1, (const char **)&je->t.txn_id, err, errlen) == -1 ||
	    jsonev_str(o, "step", 1, (const char **)&je->t.step, err, errlen) == -1 ||
	    jsonev_enum(o, "state", jsonev_states, TANDEM__TXN_STATE__TXN_STEP, &state, err,
	    errlen) == -1)
		return -1;
	je->t.has_state = 1;
	je->t.state = (Tandem__TxnState)state;
	if ((attrs = json_object_get(o, "attrs")) != NULL) {
		if (!json_is_object(attrs))
			return jsonev_fail(err, errlen, "\"attrs\" must be an object");
		if (json_object_size(attrs) > MSG_MAX_ATTRS)
			return jsonev_fail(err, errlen, "%zu attributes, at most %d",
			    json_object_size(attrs), MSG_MAX_ATTRS);
		json_object_foreach(attrs, key, v) {
			if (!json_is_string(v))
				return jsonev_fail(err, errlen,
				    "attribute \"%s\" must be a string", key);
			tandem__attr__init(&je->attr[n]);
			je->attr[n].key = (char *)key;
			je->attr[n].value = (char *)json_string_value(v);
			je->attrp[n] = &je->attr[n];
			n++;
		}
	}
	je->t.n_attrs = n;
	je->t.attrs = je->attrp;
	je->ev.kind_case = TANDEM__EVENT__KIND_TXN;
	je->ev.txn = &je->t;
	return 0;
}

static int
jsonev_job(struct jsonev *je, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "time_ms", "job", "duration_us", "ok",
	    NULL };
	json_t *ok;

	if (jsonev_keys(o, keys, err, errlen) == -1 ||
	    jsonev_str(o, "job", 1, (const char **)&je->j.job, err, errlen) == -1 ||
	    jsonev_uint(o, "duration_us", 1, &je->j.duration_us, err, errlen) == -1)
		return -1;
	je->j.has_duration_us = 1;
	je->j.has_ok = 1;
	je->j.ok = 1;
	if ((ok = json_object_get(o, "ok")) != NULL) {
		if (!json_is_boolean(ok))
			return jsonev_fail(err, errlen, "\"ok\" must be true or false");
		je->j.ok = json_is_true(ok);
	}
	je->ev.kind_case = TANDEM__EVENT__KIND_JOB;
	je->ev.job = &je->j;
	return 0;
}

static int
jsonev_log(struct jsonev *je, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "time_ms", "level", "message", NULL };
	int level;

	if (jsonev_keys(o, keys, err, errlen) == -1 ||
	    jsonev_enum(o, "level", jsonev_levels, TANDEM__LOG_LEVEL__LOG_INFO, &level, err,
	    errlen) == -1 ||
	    jsonev_str(o, "message", 1, (const char **)&je->l.message, err, errlen) == -1)
		return -1;
	je->l.has_level = 1;
	je->l.level = (Tandem__LogLevel)level;
	je->ev.kind_case = TANDEM__EVENT__KIND_LOG;
	je->ev.log = &je->l;
	return 0;
}

static int
jsonev_heartbeat(struct jsonev *je, json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "time_ms", "uptime_s", NULL };
	int r;

	if (jsonev_keys(o, keys, err, errlen) == -1 ||
	    (r = jsonev_uint(o, "uptime_s", 0, &je->hb.uptime_s, err, errlen)) == -1)
		return -1;
	je->hb.has_uptime_s = r;
	je->ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
	je->ev.heartbeat = &je->hb;
	return 0;
}

int
jsonev_parse(struct jsonev *je, const char *line, size_t len, int64_t now_ms, char *err,
    size_t errlen)
{
	static const struct {
		const char	*kind;
		int		(*parse)(struct jsonev *, json_t *, char *, size_t);
	} kinds[] = {
		{ "queue", jsonev_queue },
		{ "txn", jsonev_txn },
		{ "job", jsonev_job },
		{ "log", jsonev_log },
		{ "heartbeat", jsonev_heartbeat },
	};
	json_error_t jerr;
	const char *kind;
	uint64_t t = 0;
	json_t *root;
	size_t i;
	char why[256];

	memset(je, 0, sizeof(*je));
	tandem__event__init(&je->ev);
	tandem__queue_sample__init(&je->q);
	tandem__txn_step__init(&je->t);
	tandem__job_timing__init(&je->j);
	tandem__log_line__init(&je->l);
	tandem__app_heartbeat__init(&je->hb);
	if ((root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return jsonev_fail(err, errlen, "bad JSON at column %d: %s", jerr.column,
		    jerr.text);
	je->root = root;
	if (!json_is_object(root))
		return jsonev_fail(err, errlen, "not a JSON object");
	if (jsonev_str(root, "kind", 1, &kind, err, errlen) == -1)
		return -1;
	if (jsonev_uint(root, "time_ms", 0, &t, err, errlen) == -1)
		return -1;
	if (t > INT64_MAX)
		return jsonev_fail(err, errlen, "\"time_ms\" out of range");
	je->ev.has_time_ms = 1;
	je->ev.time_ms = t == 0 ? now_ms : (int64_t)t;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return jsonev_fail(err, errlen,
		    "unknown kind \"%s\" (queue, txn, job, log, heartbeat)", kind);
	if (kinds[i].parse(je, root, err, errlen) == -1)
		return -1;
	if (msg_check_event(&je->ev, now_ms, why, sizeof(why)) != 0)
		return jsonev_fail(err, errlen, "%s", why);
	return 0;
}

void
jsonev_clear(struct jsonev *je)
{
	if (je->root != NULL) {
		json_decref(je->root);
		je->root = NULL;
	}
}
