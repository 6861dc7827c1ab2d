/* Tandem — MIT licence. Unit tests for monitor/http.c, json.c, query_params.c over real loopback sockets. */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "monitor/http.h"
#include "monitor/json.h"
#include "monitor/query_params.h"
#include "tests/unit/common/cases.h"
#include "tests/unit/monitor/rawhttp.h"

#define TOKEN		"s3cret-token"
#define MAX_HEADERS	2048
#define MAX_BODY	1024

static struct event_base *base;
static struct http_server *srv;

static int
h_queues(struct http_req *r, void *arg)
{
	static const char *const allowed[] = { "limit", "from", "to", "state", NULL };
	struct query_params_err err;
	const char *st;
	uint32_t limit;
	int64_t from, to;

	if (query_params_allow(&r->qp, allowed, &err) == -1 ||
	    query_params_limit(&r->qp, 100, 1000, &limit, &err) == -1 ||
	    query_params_time_range(&r->qp, r->now_ms, 3600000, 7 * 86400000LL, &from, &to,
	    &err) == -1 ||
	    query_params_str(&r->qp, "state", 16, 0, &st, &err) == -1) {
		http_reply_param_error(r, &err);
		return 0;
	}
	http_reply(r, 200, json_pack("{s:s,s:i,s:I,s:I}", "app", http_path_param(r, "app"),
	    "limit", (int)limit, "from", (json_int_t)from, "to", (json_int_t)to));
	return 0;
}

static int
h_ack(struct http_req *r, void *arg)
{
	static const char *const allowed[] = { "who", "comment", "expires", NULL };
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	struct query_params_err err;
	size_t len = evbuffer_get_length(in);
	const char *who, *comment;
	int64_t expires;
	json_t *body;

	body = json_body_parse((const char *)evbuffer_pullup(in, -1), len, MAX_BODY, &err);
	if (body == NULL) {
		http_reply_param_error(r, &err);
		return 0;
	}
	if (json_fields_allow(body, allowed, &err) == -1 ||
	    json_field_str(body, "who", 63, 1, &who, &err) == -1 ||
	    json_field_str(body, "comment", 511, 0, &comment, &err) == -1 ||
	    json_field_int(body, "expires", 0, INT64_MAX, 0, 0, &expires, &err) == -1) {
		json_decref(body);
		http_reply_param_error(r, &err);
		return 0;
	}
	http_reply(r, 200, json_pack("{s:s,s:s}", "acked", http_path_param(r, "id"), "by", who));
	json_decref(body);
	return 0;
}

static int
h_fail(struct http_req *r, void *arg)
{
	return -1;
}

static const struct http_route routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/health", http_health, 0, "health" },
	{ EVHTTP_REQ_GET, "/api/v1/apps/{app}/queues", h_queues, 0, "queues" },
	{ EVHTTP_REQ_POST, "/api/v1/alarms/{id}/ack", h_ack, HTTP_ROUTE_AUTH, "ack" },
	{ EVHTTP_REQ_GET, "/api/v1/fail", h_fail, 0, "fail" },
};

struct reply {
	int	 status;	/* 0: connection closed without a status line */
	char	 head[4096];
	json_t	*body;		/* NULL if not JSON */
};

static void
request(const char *raw, size_t len, struct reply *out)
{
	char *body;

	memset(out, 0, sizeof(*out));
	body = rawhttp_exchange(base, http_port(srv), raw, len, &out->status, out->head,
	    sizeof(out->head));
	if (body != NULL)
		out->body = json_loads(body, 0, NULL);
	free(body);
}

static void
get(const char *target, const char *extra, struct reply *out)
{
	char raw[8192];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n",
	    target, extra != NULL ? extra : "");
	request(raw, strlen(raw), out);
}

static void
reply_free(struct reply *r)
{
	json_decref(r->body);
	r->body = NULL;
}

/* The reply is {"error": ..., "status": status}, naming param if given. */
static void
check_error(const struct reply *r, int status, const char *param)
{
	json_t *p;

	if (r->status != status)
		fail_msg("status %d, want %d", r->status, status);
	CHECK(r->body != NULL);
	CHECK(json_is_string(json_object_get(r->body, "error")));
	CHECK(json_integer_value(json_object_get(r->body, "status")) == status);
	CHECK(strstr(r->head, "Content-Type: application/json") != NULL);
	if (param != NULL) {
		p = json_object_get(r->body, "param");
		if (!json_is_string(p) || strcmp(json_string_value(p), param) != 0)
			fail_msg("param %s missing from the error",  param);
		CHECK(strstr(json_string_value(json_object_get(r->body, "error")), param) != NULL);
	}
}

static void
test_health(void **state)
{
	struct reply r;

	(void)state;
	get("/api/v1/health", NULL, &r);
	CHECK(r.status == 200);
	CHECK(r.body != NULL);
	CHECK(strcmp(json_string_value(json_object_get(r.body, "status")), "ok") == 0);
	CHECK(strstr(r.head, "Content-Type: application/json") != NULL);
	reply_free(&r);
	CHECK(http_route_latency(srv, 0)->count >= 1);
}

struct err_row {
	const char	*what;
	const char	*raw;		/* request without the final CRLF */
	int		 status;
	const char	*param;
};

static const struct err_row err_rows[] = {
	{ "unknown route", "GET /api/v1/nope HTTP/1.1", 404, NULL },
	{ "trailing slash is another route", "GET /api/v1/health/ HTTP/1.1", 404, NULL },
	{ "root", "GET / HTTP/1.1", 404, NULL },
	{ "POST on a GET route", "POST /api/v1/health HTTP/1.1\r\nContent-Length: 0", 405, NULL },
	{ "DELETE not allowed by the server", "DELETE /api/v1/health HTTP/1.1", 405, NULL },
	{ "TRACE refused", "TRACE /api/v1/health HTTP/1.1", 405, NULL },
	{ "non-numeric limit", "GET /api/v1/apps/a/queues?limit=ten HTTP/1.1", 400, "limit" },
	{ "huge limit", "GET /api/v1/apps/a/queues?limit=1000000 HTTP/1.1", 400, "limit" },
	{ "zero limit", "GET /api/v1/apps/a/queues?limit=0 HTTP/1.1", 400, "limit" },
	{ "overflowing limit", "GET /api/v1/apps/a/queues?limit=99999999999999999999 HTTP/1.1",
	    400, "limit" },
	{ "reversed range", "GET /api/v1/apps/a/queues?from=2000&to=1000 HTTP/1.1", 400, "from" },
	{ "relative reversed", "GET /api/v1/apps/a/queues?from=-1h&to=-2h HTTP/1.1", 400, "from" },
	{ "bad relative unit", "GET /api/v1/apps/a/queues?from=-1y HTTP/1.1", 400, "from" },
	{ "bad to", "GET /api/v1/apps/a/queues?to=yesterday HTTP/1.1", 400, "to" },
	{ "range too long", "GET /api/v1/apps/a/queues?from=-30d HTTP/1.1", 400, "from" },
	{ "unknown parameter", "GET /api/v1/apps/a/queues?colour=red HTTP/1.1", 400, "colour" },
	{ "repeated parameter", "GET /api/v1/apps/a/queues?limit=1&limit=2 HTTP/1.1", 400,
	    "limit" },
	{ "string too long", "GET /api/v1/apps/a/queues?state=aaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1",
	    400, "state" },
	{ "bad escape", "GET /api/v1/apps/a/queues?state=%zz HTTP/1.1", 400, "state" },
	{ "control char", "GET /api/v1/apps/a/queues?state=%0a HTTP/1.1", 400, "state" },
	{ "encoded slash in a path value", "GET /api/v1/apps/a%2fb/queues HTTP/1.1", 404, NULL },
	{ "missing token", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
	    401, NULL },
	{ "wrong token", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer nope\r\n"
	    "Content-Length: 2\r\n\r\n{}", 401, NULL },
	{ "token prefix only", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer s3cret"
	    "\r\nContent-Length: 2\r\n\r\n{}", 401, NULL },
	{ "malformed JSON", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Length: 5\r\n\r\n{\"who", 400, NULL },
	{ "JSON not an object", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer "
	    TOKEN "\r\nContent-Length: 2\r\n\r\n[]", 400, NULL },
	{ "missing field", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Length: 2\r\n\r\n{}", 400, "who" },
	{ "field of the wrong type", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer "
	    TOKEN "\r\nContent-Length: 10\r\n\r\n{\"who\":42}", 400, "who" },
	{ "unknown field", "POST /api/v1/alarms/7/ack HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Length: 20\r\n\r\n{\"who\":\"a\",\"evil\":1}", 400, "evil" },
	{ "handler failure is a 500", "GET /api/v1/fail HTTP/1.1", 500, NULL },
};

static void
test_errors(void **state)
{
	const struct err_row *row = ROW(struct err_row, state);
	char raw[4096];
	struct reply r;
	const char *body = strstr(row->raw, "\r\n\r\n");

	if (body != NULL)
		snprintf(raw, sizeof(raw), "%.*s\r\nHost: t\r\nConnection: close%s",
		    (int)(body - row->raw), row->raw, body);
	else
		snprintf(raw, sizeof(raw), "%s\r\nHost: t\r\nConnection: close\r\n\r\n", row->raw);
	request(raw, strlen(raw), &r);
	check_error(&r, row->status, row->param);
	if (row->status == 405 && strncmp(row->raw, "POST", 4) == 0)
		CHECK(strstr(r.head, "Allow: GET") != NULL);
	if (row->status == 401)
		CHECK(strstr(r.head, "WWW-Authenticate: Bearer") != NULL);
	reply_free(&r);
}

static void
test_queues_ok(void **state)
{
	char raw[256];
	struct reply r;

	(void)state;
	get("/api/v1/apps/mes%20line%201/queues?limit=50&from=1000&to=2000&state=run+ning", NULL, &r);
	CHECK(r.status == 200);
	CHECK(strcmp(json_string_value(json_object_get(r.body, "app")), "mes line 1") == 0);
	CHECK(json_integer_value(json_object_get(r.body, "limit")) == 50);
	CHECK(json_integer_value(json_object_get(r.body, "from")) == 1000);
	CHECK(json_integer_value(json_object_get(r.body, "to")) == 2000);
	reply_free(&r);
	get("/api/v1/apps/x/queues", NULL, &r);
	CHECK(r.status == 200);
	CHECK(json_integer_value(json_object_get(r.body, "limit")) == 100);
	CHECK(json_integer_value(json_object_get(r.body, "to")) -
	    json_integer_value(json_object_get(r.body, "from")) == 3600000);
	reply_free(&r);
	/* HEAD on a GET route: headers only. */
	snprintf(raw, sizeof(raw), "HEAD /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	request(raw, strlen(raw), &r);
	CHECK(r.status == 200);
	reply_free(&r);
}

static void
test_ack_ok(void **state)
{
	static const char body[] = "{\"who\":\"alice\",\"comment\":\"on it\"}";
	char raw[1024];
	struct reply r;

	(void)state;
	snprintf(raw, sizeof(raw), "POST /api/v1/alarms/42/ack HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nAuthorization: Bearer " TOKEN "\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	request(raw, strlen(raw), &r);
	CHECK(r.status == 200);
	CHECK(strcmp(json_string_value(json_object_get(r.body, "acked")), "42") == 0);
	CHECK(strcmp(json_string_value(json_object_get(r.body, "by")), "alice") == 0);
	reply_free(&r);
}

static void
test_oversized(void **state)
{
	static char raw[MAX_HEADERS * 4 + MAX_BODY * 4];
	struct reply r;
	size_t off;

	(void)state;
	/* Headers past the cap. */
	off = (size_t)snprintf(raw, sizeof(raw), "GET /api/v1/health HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nX-Big: ");
	memset(raw + off, 'a', MAX_HEADERS * 2);
	off += MAX_HEADERS * 2;
	off += (size_t)snprintf(raw + off, sizeof(raw) - off, "\r\n\r\n");
	request(raw, off, &r);
	if (!(r.status >= 400 && r.status < 500))
		fail_msg("oversized headers: status %d", r.status);
	reply_free(&r);
	/* Body past the cap. */
	off = (size_t)snprintf(raw, sizeof(raw), "POST /api/v1/alarms/1/ack HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\nAuthorization: Bearer " TOKEN "\r\nContent-Length: %d\r\n\r\n",
	    MAX_BODY * 2);
	memset(raw + off, ' ', MAX_BODY * 2);
	off += MAX_BODY * 2;
	request(raw, off, &r);
	if (!(r.status >= 400 && r.status < 500))
		fail_msg("oversized body: status %d", r.status);
	reply_free(&r);
	/* The server still answers afterwards. */
	get("/api/v1/health", NULL, &r);
	CHECK(r.status == 200);
	reply_free(&r);
}

static void
test_token_equal(void **state)
{
	(void)state;
	CHECK(http_token_equal("abc", 3, "abc", 3));
	CHECK(!http_token_equal("abd", 3, "abc", 3));
	CHECK(!http_token_equal("ab", 2, "abc", 3));
	CHECK(!http_token_equal("abcd", 4, "abc", 3));
	CHECK(!http_token_equal("", 0, "abc", 3));
	CHECK(http_token_equal("", 0, "", 0));
}

struct match_row {
	const char	*what;
	const char	*pattern;
	const char	*path;
	int		 want;
	const char	*value;
};

static const struct match_row match_rows[] = {
	{ "literal", "/a/b", "/a/b", 0, NULL },
	{ "literal mismatch", "/a/b", "/a/c", -1, NULL },
	{ "shorter path", "/a/b", "/a", -1, NULL },
	{ "longer path", "/a/b", "/a/b/c", -1, NULL },
	{ "placeholder", "/apps/{app}/q", "/apps/mes-1/q", 1, "mes-1" },
	{ "decoded placeholder", "/apps/{app}/q", "/apps/a%20b/q", 1, "a b" },
	{ "empty placeholder", "/apps/{app}/q", "/apps//q", -1, NULL },
	{ "encoded slash", "/apps/{app}/q", "/apps/a%2Fb/q", -1, NULL },
	{ "encoded NUL", "/apps/{app}/q", "/apps/a%00b/q", -1, NULL },
	{ "truncated escape", "/apps/{app}", "/apps/a%2", -1, NULL },
	{ "double slash", "/a/b", "//a/b", -1, NULL },
	{ "relative path", "/a", "a", -1, NULL },
};

static void
test_match(void **state)
{
	const struct match_row *row = ROW(struct match_row, state);
	struct http_req r;

	memset(&r, 0, sizeof(r));
	CHECK(http_path_match(row->pattern, row->path, &r) == row->want);
	if (row->value != NULL)
		CHECK(strcmp(r.params[0].value, row->value) == 0);
}

static void
test_bad_routes(void **state)
{
	static const struct http_route bad[] = {
		{ EVHTTP_REQ_GET, "no-slash", http_health, 0, "x" },
	};
	static const struct http_route bad2[] = {
		{ EVHTTP_REQ_GET, "/a/{}", http_health, 0, "x" },
	};
	struct http_conf conf;
	char err[128];

	(void)state;
	http_conf_default(&conf);
	CHECK(http_new(base, &conf, bad, 1, NULL, err, sizeof(err)) == NULL);
	CHECK(http_new(base, &conf, bad2, 1, NULL, err, sizeof(err)) == NULL);
	conf.addr = "not-an-address";
	CHECK(http_new(base, &conf, routes, 1, NULL, err, sizeof(err)) == NULL);
}

static void
test_stats(void **state)
{
	const struct http_stats *st = http_stats(srv);

	(void)state;
	CHECK(st->requests > 0);
	CHECK(st->status_2xx > 0 && st->status_4xx > 0 && st->status_5xx > 0);
	CHECK(st->not_found > 0 && st->unauthorized > 0 && st->bad_method > 0);
	CHECK(http_route_latency(srv, sizeof(routes) / sizeof(routes[0]))->count > 0);
	CHECK(http_route_latency(srv, 99) == NULL);
}

int
main(void)
{
	static struct cases cs;
	struct http_conf conf;
	char err[128];
	int failed;

	base = event_base_new();
	http_conf_default(&conf);
	conf.max_headers = MAX_HEADERS;
	conf.max_body = MAX_BODY;
	conf.timeout_s = 5;
	conf.token = TOKEN;
	srv = http_new(base, &conf, routes, sizeof(routes) / sizeof(routes[0]), NULL, err,
	    sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "http_new: %s\n", err);
		return 1;
	}
	if (http_port(srv) == 0) {
		fprintf(stderr, "no port bound\n");
		return 1;
	}
	cases_add(&cs, "GET /api/v1/health", test_health, NULL);
	CASES_TABLE(&cs, "error", test_errors, err_rows);
	cases_add(&cs, "queues route with parameters", test_queues_ok, NULL);
	cases_add(&cs, "authorised POST with JSON body", test_ack_ok, NULL);
	cases_add(&cs, "oversized headers and body", test_oversized, NULL);
	cases_add(&cs, "constant-time token compare", test_token_equal, NULL);
	CASES_TABLE(&cs, "path match", test_match, match_rows);
	cases_add(&cs, "bad routes and addresses refused", test_bad_routes, NULL);
	cases_add(&cs, "stats and latency", test_stats, NULL);
	failed = cases_run(&cs, "http");
	http_free(srv);
	event_base_free(base);
	return failed;
}
