/* Tandem — MIT licence. jansson helpers: replies, errors as {"error","status"}, strict bodies. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "common/log.h"
#include "monitor/json.h"

const char *
json_status_reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 201:	return "Created";
	case 204:	return "No Content";
	case 400:	return "Bad Request";
	case 401:	return "Unauthorized";
	case 403:	return "Forbidden";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 409:	return "Conflict";
	case 413:	return "Payload Too Large";
	case 415:	return "Unsupported Media Type";
	case 500:	return "Internal Server Error";
	case 503:	return "Service Unavailable";
	}
	return "Error";
}

static int
json_dump_evbuffer(const char *buf, size_t size, void *arg)
{
	return evbuffer_add(arg, buf, size);
}

/* Last resort when even the error object cannot be built or encoded. */
static void
json_reply_500_static(struct evhttp_request *req)
{
	static const char body[] = "{\"error\":\"internal error\",\"status\":500}";
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add(out, body, sizeof(body) - 1);
	evhttp_send_reply(req, 500, json_status_reason(500), NULL);
}

int
json_reply(struct evhttp_request *req, int status, json_t *body)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_remove_header(hdr, "Content-Type");
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	if (body == NULL ||
	    json_dump_callback(body, json_dump_evbuffer, out, JSON_COMPACT) == -1 ||
	    evbuffer_add(out, "\n", 1) == -1) {
		log_warnx("%s: cannot encode a %d reply", __func__, status);
		json_decref(body);
		json_reply_500_static(req);
		return -1;
	}
	json_decref(body);
	evhttp_send_reply(req, status, json_status_reason(status), NULL);
	return 0;
}

json_t *
json_error_new(int status, const char *param, const char *msg)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "error", json_string(msg != NULL ? msg : "")) == -1 ||
	    json_object_set_new(o, "status", json_integer(status)) == -1 ||
	    (param != NULL && param[0] != '\0' &&
	    json_object_set_new(o, "param", json_string(param)) == -1)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
json_reply_error(struct evhttp_request *req, int status, const char *param, const char *msg)
{
	json_t *o = json_error_new(status, param, msg);

	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer");
	if (o == NULL) {
		json_reply_500_static(req);
		return;
	}
	json_reply(req, status, o);
}

static int
json_fail(struct query_params_err *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
json_fail(struct query_params_err *err, const char *param, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->param, sizeof(err->param), "%s", param != NULL ? param : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Nesting depth of buf, counted over brackets outside strings; stops early once over
 * the limit. jansson's own limit (2048) is far above what our API needs.
 */
static int
json_depth_ok(const char *buf, size_t len)
{
	size_t i;
	int depth = 0, in_str = 0, esc = 0;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[') {
			if (++depth > JSON_DEPTH_MAX)
				return 0;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return 1;
}

json_t *
json_body_parse(const char *buf, size_t len, size_t max, struct query_params_err *err)
{
	json_error_t jerr;
	json_t *o;

	memset(err, 0, sizeof(*err));
	if (len > max) {
		json_fail(err, NULL, "body longer than %zu bytes", max);
		return NULL;
	}
	if (len == 0) {
		json_fail(err, NULL, "empty body, expected a JSON object");
		return NULL;
	}
	if (!json_depth_ok(buf, len)) {
		json_fail(err, NULL, "JSON nested deeper than %d", JSON_DEPTH_MAX);
		return NULL;
	}
	/* Without JSON_ALLOW_NUL jansson rejects \u0000; JSON_REJECT_DUPLICATES keeps it unambiguous. */
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		json_fail(err, NULL, "malformed JSON at line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		json_fail(err, NULL, "body must be a JSON object");
		return NULL;
	}
	return o;
}

int
json_fields_allow(const json_t *obj, const char *const *allowed, struct query_params_err *err)
{
	const char *key;
	json_t *v;
	size_t j;

	json_object_foreach((json_t *)obj, key, v) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(key, allowed[j]) == 0)
				break;
		if (allowed[j] == NULL) {
			/* Do not echo arbitrary keys into the param slot beyond its size. */
			return json_fail(err, strlen(key) < sizeof(err->param) ? key : "",
			    "unknown field");
		}
	}
	return 0;
}

int
json_field_str(const json_t *obj, const char *key, size_t maxlen, int required,
    const char **out, struct query_params_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len, i;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return json_fail(err, key, "missing");
		return 0;
	}
	if (!json_is_string(v))
		return json_fail(err, key, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > maxlen)
		return json_fail(err, key, "longer than %zu bytes", maxlen);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return json_fail(err, key, "control character");
	*out = s;
	return 0;
}

int
json_field_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t def,
    int required, int64_t *out, struct query_params_err *err)
{
	json_t *v = json_object_get(obj, key);
	json_int_t x;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return json_fail(err, key, "missing");
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return json_fail(err, key, "must be an integer");
	x = json_integer_value(v);
	if (x < min || x > max)
		return json_fail(err, key, "must be in %" PRId64 "..%" PRId64, min, max);
	*out = x;
	return 0;
}
