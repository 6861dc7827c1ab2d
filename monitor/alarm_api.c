/* Tandem — MIT licence. The alarm routes: alarms, ack/resolve, silences, maintenance, rules, stats. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/xalloc.h"
#include "monitor/alarm_api.h"
#include "monitor/alarm_engine.h"
#include "monitor/api.h"
#include "monitor/http.h"
#include "monitor/json.h"

#define BODY_MAX	(16 * 1024)

static struct alarm_engine *engine;

static int
allow(struct http_req *r, const char *const *names)
{
	struct query_params_err err;

	if (query_params_allow(&r->qp, names, &err) == -1) {
		http_reply_param_error(r, &err);
		return -1;
	}
	return 0;
}

static int
reply_err(struct http_req *r, const struct ae_err *e)
{
	http_reply_error(r, e->status ? e->status : 500, NULL, e->msg);
	return 0;
}

/* The {id} placeholder as a number; replies 400 on trouble. */
static int
path_id(struct http_req *r, uint64_t *id)
{
	const char *s = http_path_param(r, "id");
	char *end;

	if (s == NULL || *s < '0' || *s > '9' ||
	    (*id = strtoull(s, &end, 10), *end != '\0') || *id == 0) {
		http_reply_error(r, 400, "id", "bad parameter 'id': a positive number");
		return -1;
	}
	return 0;
}

/* The request body as a JSON object with only the allowed keys; replies 4xx on trouble. */
static json_t *
body(struct http_req *r, const char *const *allowed)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct query_params_err err = { 0 };
	size_t len = evbuffer_get_length(in);
	unsigned char *p;
	json_t *j;

	if (len > BODY_MAX) {
		http_reply_error(r, 413, NULL, "body too large");
		return NULL;
	}
	if ((p = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL && len > 0) {
		http_reply_error(r, 500, NULL, "out of memory");
		return NULL;
	}
	if ((j = json_body_parse((const char *)p, len, BODY_MAX, &err)) == NULL) {
		http_reply_param_error(r, &err);
		return NULL;
	}
	if (json_fields_allow(j, allowed, &err) == -1) {
		json_decref(j);
		http_reply_param_error(r, &err);
		return NULL;
	}
	return j;
}

static int
field_str(struct http_req *r, json_t *j, const char *key, size_t max, int required,
    const char **out)
{
	struct query_params_err err = { 0 };

	if (json_field_str(j, key, max, required, out, &err) == -1) {
		http_reply_param_error(r, &err);
		return -1;
	}
	if (*out != NULL && (*out)[0] == '\0' && required) {
		http_reply_error(r, 400, key, "empty value");
		return -1;
	}
	return 0;
}

static int
h_alarms(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "state", NULL };
	const char *state = query_params_get(&r->qp, "state");

	if (allow(r, ok) == -1)
		return 0;
	if (state != NULL && strcmp(state, "pending") != 0 && strcmp(state, "firing") != 0 &&
	    strcmp(state, "acknowledged") != 0 && strcmp(state, "resolved") != 0 &&
	    strcmp(state, "inactive") != 0 && strcmp(state, "open") != 0) {
		http_reply_error(r, 400, "state", "bad parameter 'state': pending, firing, "
		    "acknowledged, resolved, inactive or open");
		return 0;
	}
	http_reply(r, 200, alarm_engine_alarms_json(engine, state, r->now_ms));
	return 0;
}

static int
h_alarm(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	uint64_t id;
	json_t *o;

	if (allow(r, ok) == -1 || path_id(r, &id) == -1)
		return 0;
	if ((o = alarm_engine_alarm_json(engine, id, r->now_ms)) == NULL) {
		http_reply_error(r, 404, "id", "no such alarm");
		return 0;
	}
	http_reply(r, 200, o);
	return 0;
}

static int
h_stats(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };

	if (allow(r, ok) == -1)
		return 0;
	http_reply(r, 200, alarm_engine_stats_json(engine, r->now_ms));
	return 0;
}

static int
h_notices(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "limit", NULL };
	struct query_params_err err;
	uint32_t limit;

	if (allow(r, ok) == -1)
		return 0;
	if (query_params_limit(&r->qp, 100, 1000, &limit, &err) == -1) {
		http_reply_param_error(r, &err);
		return 0;
	}
	http_reply(r, 200, alarm_engine_notices_json(engine, limit));
	return 0;
}

static int
h_ack(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	static const char *const keys[] = { "who", "comment", "expires_ms", NULL };
	struct query_params_err perr = { 0 };
	const char *who, *comment;
	struct ae_err e = { 0 };
	uint64_t id;
	int64_t expires;
	json_t *j;

	if (allow(r, ok) == -1 || path_id(r, &id) == -1 || (j = body(r, keys)) == NULL)
		return 0;
	if (field_str(r, j, "who", ALARM_WHO_MAX - 1, 1, &who) == -1 ||
	    field_str(r, j, "comment", ALARM_COMMENT_MAX - 1, 0, &comment) == -1)
		goto out;
	if (json_field_int(j, "expires_ms", 0, INT64_MAX, 0, 0, &expires, &perr) == -1) {
		http_reply_param_error(r, &perr);
		goto out;
	}
	if (alarm_engine_ack(engine, id, who, comment, expires, r->now_ms, &e) == -1)
		reply_err(r, &e);
	else
		http_reply(r, 200, alarm_engine_alarm_json(engine, id, r->now_ms));
out:
	json_decref(j);
	return 0;
}

static int
h_resolve(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	static const char *const keys[] = { "who", "comment", NULL };
	const char *who, *comment;
	struct ae_err e = { 0 };
	uint64_t id;
	json_t *j;

	if (allow(r, ok) == -1 || path_id(r, &id) == -1 || (j = body(r, keys)) == NULL)
		return 0;
	if (field_str(r, j, "who", ALARM_WHO_MAX - 1, 1, &who) == -1 ||
	    field_str(r, j, "comment", ALARM_COMMENT_MAX - 1, 0, &comment) == -1)
		goto out;
	if (alarm_engine_resolve(engine, id, who, comment, r->now_ms, &e) == -1)
		reply_err(r, &e);
	else
		http_reply(r, 200, alarm_engine_alarm_json(engine, id, r->now_ms));
out:
	json_decref(j);
	return 0;
}

static int
h_silences(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };

	if (allow(r, ok) == -1)
		return 0;
	http_reply(r, 200, alarm_engine_silences_json(engine, r->now_ms));
	return 0;
}

/* POST /api/v1/silences and /api/v1/maintenance (a silence on everything). */
static int
silence_post(struct http_req *r, int maintenance)
{
	static const char *const ok[] = { NULL };
	static const char *const keys[] = { "rule", "app", "starts_ms", "ends_ms", "duration",
	    "created_by", "comment", NULL };
	struct query_params_err perr = { 0 };
	const char *rule = NULL, *app = NULL, *who, *comment, *dur = NULL;
	struct ae_err e = { 0 };
	int64_t starts, ends, d;
	uint64_t id;
	json_t *j;

	if (allow(r, ok) == -1 || (j = body(r, keys)) == NULL)
		return 0;
	if ((!maintenance && (field_str(r, j, "rule", ALARM_NAME_MAX - 1, 0, &rule) == -1 ||
	    field_str(r, j, "app", ALARM_NAME_MAX - 1, 0, &app) == -1)) ||
	    field_str(r, j, "created_by", ALARM_WHO_MAX - 1, 1, &who) == -1 ||
	    field_str(r, j, "comment", ALARM_COMMENT_MAX - 1, 1, &comment) == -1 ||
	    field_str(r, j, "duration", 32, 0, &dur) == -1)
		goto out;
	if (json_field_int(j, "starts_ms", 0, INT64_MAX / 2, r->now_ms, 0, &starts,
	    &perr) == -1 ||
	    json_field_int(j, "ends_ms", 0, INT64_MAX / 2, 0, 0, &ends, &perr) == -1) {
		http_reply_param_error(r, &perr);
		goto out;
	}
	if (dur != NULL) {
		if (ends != 0 || query_params_duration(dur, &d) == -1 || d <= 0) {
			http_reply_error(r, 400, "duration", "bad parameter 'duration': e.g. 30m, "
			    "and not together with ends_ms");
			goto out;
		}
		ends = starts + d;
	}
	if (ends == 0) {
		http_reply_error(r, 400, "ends_ms", "an expiry is mandatory: ends_ms or duration");
		goto out;
	}
	if (alarm_engine_silence_add(engine, rule != NULL ? rule : "*", app != NULL ? app : "*",
	    starts, ends, who, comment, r->now_ms, &id, &e) == -1)
		reply_err(r, &e);
	else
		http_reply(r, 201, json_pack("{s:I, s:I, s:I}", "id", (json_int_t)id,
		    "starts_ms", (json_int_t)starts, "ends_ms", (json_int_t)ends));
out:
	json_decref(j);
	return 0;
}

static int
h_silence_post(struct http_req *r, void *arg)
{
	return silence_post(r, 0);
}

static int
h_maintenance_post(struct http_req *r, void *arg)
{
	return silence_post(r, 1);
}

static int
h_silence_del(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "who", NULL };
	const char *who = query_params_get(&r->qp, "who");
	struct ae_err e = { 0 };
	uint64_t id;

	if (allow(r, ok) == -1 || path_id(r, &id) == -1)
		return 0;
	if (who == NULL || who[0] == '\0' || strlen(who) >= ALARM_WHO_MAX) {
		http_reply_error(r, 400, "who", "bad parameter 'who': who ends the silence");
		return 0;
	}
	if (alarm_engine_silence_del(engine, id, who, r->now_ms, &e) == -1)
		return reply_err(r, &e);
	http_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "ended", 1));
	return 0;
}

static int
h_rules(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };

	if (allow(r, ok) == -1)
		return 0;
	http_reply(r, 200, alarm_engine_rules_json(engine));
	return 0;
}

static int
h_rule_post(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	static const char *const keys[] = { "name", "spec", "created_by", NULL };
	const char *name, *spec, *who;
	struct ae_err e = { 0 };
	json_t *j;

	if (allow(r, ok) == -1 || (j = body(r, keys)) == NULL)
		return 0;
	if (field_str(r, j, "name", ALARM_NAME_MAX - 1, 1, &name) == -1 ||
	    field_str(r, j, "spec", AE_SPEC_MAX - 1, 1, &spec) == -1 ||
	    field_str(r, j, "created_by", ALARM_WHO_MAX - 1, 1, &who) == -1)
		goto out;
	if (alarm_engine_rule_put(engine, name, spec, who, r->now_ms, &e) == -1)
		reply_err(r, &e);
	else
		http_reply(r, 201, alarm_engine_rules_json(engine));
out:
	json_decref(j);
	return 0;
}

static int
h_rule_del(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "who", NULL };
	const char *who = query_params_get(&r->qp, "who");
	const char *name = http_path_param(r, "name");
	struct ae_err e = { 0 };

	if (allow(r, ok) == -1)
		return 0;
	if (who == NULL || who[0] == '\0' || strlen(who) >= ALARM_WHO_MAX) {
		http_reply_error(r, 400, "who", "bad parameter 'who': who deletes the rule");
		return 0;
	}
	if (alarm_engine_rule_del(engine, name, who, r->now_ms, &e) == -1)
		return reply_err(r, &e);
	http_reply(r, 200, json_pack("{s:s, s:b}", "name", name, "deleted", 1));
	return 0;
}

/* Literal routes before the {id} ones: the first match wins. */
static const struct http_route alarm_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/alarms", h_alarms, 0, "alarms" },
	{ EVHTTP_REQ_GET, "/api/v1/alarms/stats", h_stats, 0, "alarms_stats" },
	{ EVHTTP_REQ_GET, "/api/v1/alarms/notifications", h_notices, 0, "alarms_notifications" },
	{ EVHTTP_REQ_GET, "/api/v1/alarms/{id}", h_alarm, 0, "alarm" },
	{ EVHTTP_REQ_POST, "/api/v1/alarms/{id}/ack", h_ack, HTTP_ROUTE_AUTH, "alarm_ack" },
	{ EVHTTP_REQ_POST, "/api/v1/alarms/{id}/resolve", h_resolve, HTTP_ROUTE_AUTH,
	    "alarm_resolve" },
	{ EVHTTP_REQ_GET, "/api/v1/silences", h_silences, 0, "silences" },
	{ EVHTTP_REQ_POST, "/api/v1/silences", h_silence_post, HTTP_ROUTE_AUTH, "silence_add" },
	{ EVHTTP_REQ_DELETE, "/api/v1/silences/{id}", h_silence_del, HTTP_ROUTE_AUTH,
	    "silence_del" },
	{ EVHTTP_REQ_POST, "/api/v1/maintenance", h_maintenance_post, HTTP_ROUTE_AUTH,
	    "maintenance" },
	{ EVHTTP_REQ_GET, "/api/v1/rules", h_rules, 0, "rules" },
	{ EVHTTP_REQ_POST, "/api/v1/rules", h_rule_post, HTTP_ROUTE_AUTH, "rule_put" },
	{ EVHTTP_REQ_DELETE, "/api/v1/rules/{name}", h_rule_del, HTTP_ROUTE_AUTH, "rule_del" },
};

int
alarm_api_init(struct api *a, struct alarm_engine *e)
{
	size_t i;

	engine = e;
	for (i = 0; i < sizeof(alarm_routes) / sizeof(alarm_routes[0]); i++)
		if (api_route_add(a, &alarm_routes[i]) == -1)
			return -1;
	return 0;
}
