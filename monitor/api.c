/* Tandem — MIT licence. API handlers: strict parameters (400 naming the parameter), query.c, JSON replies. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/hist.h"
#include "monitor/api.h"
#include "monitor/monitor_conf.h"
#include "monitor/query.h"

#define HOUR_MS		3600000LL
#define DAY_MS		(24 * HOUR_MS)
#define MAX_SPAN_MS	(400 * DAY_MS)
#define CTL_TIMEOUT_MS	300
#define STATS_FILE_MAX	(256 * 1024)

static int
reply_query(struct http_req *r, json_t *o, const struct query_err *e)
{
	if (o == NULL) {
		http_reply_error(r, e->status ? e->status : 500, e->param[0] ? e->param : NULL,
		    e->msg[0] ? e->msg : "internal error");
		return 0;
	}
	http_reply(r, 200, o);
	return 0;
}

/* Checks the parameter names; on failure replies 400 and returns -1. */
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
range(struct http_req *r, int64_t def_span, int64_t *from, int64_t *to)
{
	struct query_params_err err;

	if (query_params_time_range(&r->qp, r->now_ms, def_span, MAX_SPAN_MS, from, to,
	    &err) == -1) {
		http_reply_param_error(r, &err);
		return -1;
	}
	return 0;
}

static int
str(struct http_req *r, const char *name, size_t max, const char **out)
{
	struct query_params_err err;

	if (query_params_str(&r->qp, name, max, 0, out, &err) == -1) {
		http_reply_param_error(r, &err);
		return -1;
	}
	if (*out != NULL && (*out)[0] == '\0') {
		http_reply_error(r, 400, name, "empty value");
		return -1;
	}
	return 0;
}

/* compare=1d|7d: the shift in ms (0 if absent); -1 after a 400. */
static int
compare(struct http_req *r, int64_t *shift)
{
	const char *c = query_params_get(&r->qp, "compare");

	*shift = 0;
	if (c == NULL)
		return 0;
	if (strcmp(c, "1d") == 0)
		*shift = DAY_MS;
	else if (strcmp(c, "7d") == 0)
		*shift = 7 * DAY_MS;
	else {
		http_reply_error(r, 400, "compare", "bad parameter 'compare': 1d or 7d");
		return -1;
	}
	return 0;
}

static int
h_apps(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	struct api *a = arg;
	struct query_err e = { 0 };

	if (allow(r, ok) == -1)
		return 0;
	return reply_query(r, query_apps(a->q, r->now_ms, &e), &e);
}

static int
h_queues(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "from", "to", NULL };
	struct api *a = arg;
	struct query_err e = { 0 };
	int64_t from, to;

	if (allow(r, ok) == -1 || range(r, (int64_t)a->conf->growth_window_ms, &from, &to) == -1)
		return 0;
	return reply_query(r, query_queues(a->q, http_path_param(r, "app"), from, to, &e), &e);
}

static int
h_queue(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "from", "to", "limit_depth", NULL };
	struct api *a = arg;
	struct query_err e = { 0 };
	struct query_params_err perr;
	int64_t from, to, lim;

	if (allow(r, ok) == -1 || range(r, (int64_t)a->conf->growth_window_ms, &from, &to) == -1)
		return 0;
	if (query_params_int(&r->qp, "limit_depth", 0, INT64_MAX, 0, &lim, &perr) == -1) {
		http_reply_param_error(r, &perr);
		return 0;
	}
	return reply_query(r, query_queue(a->q, http_path_param(r, "app"),
	    http_path_param(r, "queue"), from, to, (uint64_t)lim, &e), &e);
}

static int
h_growing(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	struct api *a = arg;
	struct query_err e = { 0 };

	if (allow(r, ok) == -1)
		return 0;
	return reply_query(r, query_queues_growing(a->q, r->now_ms, &e), &e);
}

static int
txns(struct http_req *r, struct api *a, int stuck)
{
	static const char *const ok[] = { "app", "step", "state", "attr", "limit", NULL };
	struct query_txn_filter f = { 0 };
	struct query_params_err perr;
	struct query_err e = { 0 };
	const char *attr;
	char kbuf[QUERY_PARAMS_VALUE_MAX + 1], *colon;

	if (allow(r, ok) == -1 || str(r, "app", 128, &f.app) == -1 ||
	    str(r, "step", 128, &f.step) == -1 || str(r, "state", 16, &f.state) == -1 ||
	    str(r, "attr", 64 + 1 + 256, &attr) == -1)
		return 0;
	if (query_params_limit(&r->qp, 100, QUERY_LIMIT_MAX, &f.limit, &perr) == -1) {
		http_reply_param_error(r, &perr);
		return 0;
	}
	if (stuck)
		f.state = "stuck";
	else if (f.state != NULL && strcmp(f.state, "running") != 0 &&
	    strcmp(f.state, "stuck") != 0) {
		http_reply_error(r, 400, "state", "bad parameter 'state': running or stuck");
		return 0;
	}
	if (attr != NULL) {
		snprintf(kbuf, sizeof(kbuf), "%s", attr);
		if ((colon = strchr(kbuf, ':')) == NULL || colon == kbuf) {
			http_reply_error(r, 400, "attr", "bad parameter 'attr': key:value");
			return 0;
		}
		*colon = '\0';
		f.attr_key = kbuf;
		f.attr_val = colon + 1;
	}
	return reply_query(r, query_txns(a->q, &f, r->now_ms, &e), &e);
}

static int
h_txns(struct http_req *r, void *arg)
{
	return txns(r, arg, 0);
}

static int
h_stuck(struct http_req *r, void *arg)
{
	return txns(r, arg, 1);
}

static int
h_txn(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	struct api *a = arg;
	struct query_err e = { 0 };

	if (allow(r, ok) == -1)
		return 0;
	return reply_query(r, query_txn(a->q, http_path_param(r, "app"),
	    http_path_param(r, "txn_id"), &e), &e);
}

static int
h_steps(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "from", "to", NULL };
	struct api *a = arg;
	struct query_err e = { 0 };
	int64_t from, to;

	if (allow(r, ok) == -1 || range(r, HOUR_MS, &from, &to) == -1)
		return 0;
	return reply_query(r, query_steps(a->q, http_path_param(r, "app"), from, to, &e), &e);
}

/* at=T: the minute holding T; else from/to (default the last hour). */
static int
perf_range(struct http_req *r, int64_t *from, int64_t *to)
{
	const char *at = query_params_get(&r->qp, "at");
	int64_t t;

	if (at == NULL)
		return range(r, HOUR_MS, from, to);
	if (query_params_get(&r->qp, "from") || query_params_get(&r->qp, "to")) {
		http_reply_error(r, 400, "at", "bad parameter 'at': not with from/to");
		return -1;
	}
	if (query_params_time(at, r->now_ms, &t) == -1 || t < 0) {
		http_reply_error(r, 400, "at", "bad parameter 'at': a time");
		return -1;
	}
	*from = t - t % 60000;
	*to = *from + 59999;
	return 0;
}

static int
h_perf(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "app", "job", "from", "to", "at", "compare", NULL };
	struct api *a = arg;
	struct query_err e = { 0 };
	const char *app, *job;
	int64_t from, to, shift;

	if (allow(r, ok) == -1 || str(r, "app", 128, &app) == -1 ||
	    str(r, "job", 128, &job) == -1 || perf_range(r, &from, &to) == -1 ||
	    compare(r, &shift) == -1)
		return 0;
	return reply_query(r, query_perf(a->q, app, job, from, to, shift, &e), &e);
}

static int
h_perf_top(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "n", "from", "to", "at", "compare", NULL };
	struct api *a = arg;
	struct query_err e = { 0 };
	struct query_params_err perr;
	int64_t from, to, shift, n;

	if (allow(r, ok) == -1 || perf_range(r, &from, &to) == -1 || compare(r, &shift) == -1)
		return 0;
	if (query_params_int(&r->qp, "n", 1, QUERY_LIMIT_MAX, 10, &n, &perr) == -1) {
		http_reply_param_error(r, &perr);
		return 0;
	}
	return reply_query(r, query_perf_top(a->q, (uint32_t)n, from, to, shift, &e), &e);
}

static int
h_logs(struct http_req *r, void *arg)
{
	static const char *const ok[] = { "app", "level", "from", "to", "q", "limit", "cursor",
	    NULL };
	struct api *a = arg;
	struct query_log_filter f = { 0 };
	struct query_params_err perr;
	struct query_err e = { 0 };
	const char *level;

	if (allow(r, ok) == -1 || str(r, "app", 128, &f.app) == -1 ||
	    str(r, "level", 16, &level) == -1 || str(r, "q", 256, &f.text) == -1 ||
	    str(r, "cursor", 80, &f.cursor) == -1 || range(r, HOUR_MS, &f.from, &f.to) == -1)
		return 0;
	if (query_params_limit(&r->qp, 100, QUERY_LIMIT_MAX, &f.limit, &perr) == -1) {
		http_reply_param_error(r, &perr);
		return 0;
	}
	f.level = -1;
	if (level != NULL && (f.level = query_level(level)) < 0) {
		http_reply_error(r, 400, "level",
		    "bad parameter 'level': debug, info, warn, error or fatal");
		return 0;
	}
	return reply_query(r, query_logs(a->q, &f, &e), &e);
}

/* One request line to collectord's control socket; the reply line into buf. 0 or -1. */
static int
ctl_status(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	size_t have = 0;
	ssize_t n;
	int fd, rc = -1;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path too long");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A Unix connect completes at once or fails; only the reply is waited for, briefly. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    write(fd, "status\n", 7) != 7) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (have < len - 1 && memchr(buf, '\n', have) == NULL) {
		if (poll(&pfd, 1, CTL_TIMEOUT_MS) <= 0) {
			snprintf(err, errlen, "%s: no reply within %d ms", path, CTL_TIMEOUT_MS);
			goto out;
		}
		if ((n = read(fd, buf + have, len - 1 - have)) <= 0) {
			snprintf(err, errlen, "%s: closed", path);
			goto out;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
h_cluster(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	struct api *a = arg;
	char buf[8192], err[256];
	json_t *st, *o;
	json_error_t je;

	if (allow(r, ok) == -1)
		return 0;
	if (a->conf->control_socket == NULL) {
		http_reply(r, 200, json_pack("{s:s, s:s}", "mode", "single", "role", "single"));
		return 0;
	}
	if (ctl_status(a->conf->control_socket, buf, sizeof(buf), err, sizeof(err)) == -1) {
		http_reply(r, 200, json_pack("{s:s, s:s, s:s}", "mode", "cluster", "role", "unknown",
		    "error", err));
		return 0;
	}
	if ((st = json_loads(buf, JSON_REJECT_DUPLICATES, &je)) == NULL || !json_is_object(st)) {
		json_decref(st);
		http_reply_error(r, 502, NULL, "collectord's status did not parse");
		return 0;
	}
	o = json_pack("{s:s, s:O, s:O, s:O, s:O}", "mode", "cluster",
	    "node", json_object_get(st, "node") ? json_object_get(st, "node") : json_null(),
	    "role", json_object_get(st, "role") ? json_object_get(st, "role") : json_null(),
	    "term", json_object_get(st, "term") ? json_object_get(st, "term") : json_null(),
	    "repl", json_object_get(st, "repl") ? json_object_get(st, "repl") : json_null());
	if (o != NULL)
		json_object_set_new(o, "status", st);
	else
		json_decref(st);
	http_reply(r, 200, o);
	return 0;
}

/* Appends "prefix<name> value" lines of a "name value" file; 0 or -1 when unreadable. */
static int
metrics_file(struct evbuffer *out, const char *path, const char *prefix)
{
	char line[256], name[128];
	unsigned long long v;
	FILE *f;
	size_t total = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return -1;
	while (total < STATS_FILE_MAX && fgets(line, sizeof(line), f) != NULL) {
		total += strlen(line);
		if (sscanf(line, "%127[a-zA-Z0-9_] %llu", name, &v) == 2)
			evbuffer_add_printf(out, "%s%s %llu\n", prefix, name, v);
	}
	fclose(f);
	return 0;
}

static int
h_metrics(struct http_req *r, void *arg)
{
	static const char *const ok[] = { NULL };
	struct api *a = arg;
	struct evbuffer *out;
	const struct http_stats *hs;
	char path[4200];
	size_t i;

	if (allow(r, ok) == -1)
		return 0;
	if ((out = evbuffer_new()) == NULL)
		return -1;
	evbuffer_add_printf(out, "# Tandem collector counters (collectord stats_file)\n");
	if (metrics_file(out, a->conf->stats_file, "tandem_collector_") == -1)
		evbuffer_add_printf(out, "tandem_collector_stats_available 0\n");
	if (a->conf->stats_file != NULL) {
		snprintf(path, sizeof(path), "%s.derive", a->conf->stats_file);
		metrics_file(out, path, "tandem_collector_");
	}
	if (a->conf->ha_stats_file != NULL) {
		evbuffer_add_printf(out, "# Tandem had counters (had stats_file)\n");
		if (metrics_file(out, a->conf->ha_stats_file, "tandem_ha_") == -1)
			evbuffer_add_printf(out, "tandem_ha_stats_available 0\n");
	}
	if (a->srv != NULL) {
		hs = http_stats(a->srv);
		evbuffer_add_printf(out, "# TYPE tandem_http_requests_total counter\n"
		    "tandem_http_requests_total %" PRIu64 "\n"
		    "tandem_http_responses_total{class=\"2xx\"} %" PRIu64 "\n"
		    "tandem_http_responses_total{class=\"4xx\"} %" PRIu64 "\n"
		    "tandem_http_responses_total{class=\"5xx\"} %" PRIu64 "\n",
		    hs->requests, hs->status_2xx, hs->status_4xx, hs->status_5xx);
		evbuffer_add_printf(out, "# TYPE tandem_http_latency_us summary\n");
		for (i = 0; i <= a->nroutes; i++) {
			const struct hist *h = http_route_latency(a->srv, i);
			const char *name = i < a->nroutes ? a->routes[i].name : "unrouted";

			if (h == NULL || h->count == 0)
				continue;
			evbuffer_add_printf(out,
			    "tandem_http_latency_us{route=\"%s\",quantile=\"0.5\"} %" PRIu64 "\n"
			    "tandem_http_latency_us{route=\"%s\",quantile=\"0.99\"} %" PRIu64 "\n"
			    "tandem_http_latency_us_sum{route=\"%s\"} %" PRIu64 "\n"
			    "tandem_http_latency_us_count{route=\"%s\"} %" PRIu64 "\n",
			    name, hist_percentile(h, 50), name, hist_percentile(h, 99), name, h->sum,
			    name, h->count);
		}
	}
	if (a->metrics != NULL)
		a->metrics(out, a->metrics_arg);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(r->req, 200, "OK", out);
	evbuffer_free(out);
	r->status = 200;
	return 0;
}

static const struct http_route api_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/health", http_health, 0, "health" },
	{ EVHTTP_REQ_GET, "/api/v1/apps", h_apps, 0, "apps" },
	{ EVHTTP_REQ_GET, "/api/v1/apps/{app}/queues", h_queues, 0, "app_queues" },
	{ EVHTTP_REQ_GET, "/api/v1/apps/{app}/queues/{queue}", h_queue, 0, "queue" },
	{ EVHTTP_REQ_GET, "/api/v1/apps/{app}/transactions/{txn_id}", h_txn, 0, "txn" },
	{ EVHTTP_REQ_GET, "/api/v1/apps/{app}/steps", h_steps, 0, "steps" },
	{ EVHTTP_REQ_GET, "/api/v1/queues/growing", h_growing, 0, "queues_growing" },
	{ EVHTTP_REQ_GET, "/api/v1/transactions", h_txns, 0, "transactions" },
	{ EVHTTP_REQ_GET, "/api/v1/transactions/stuck", h_stuck, 0, "transactions_stuck" },
	{ EVHTTP_REQ_GET, "/api/v1/perf", h_perf, 0, "perf" },
	{ EVHTTP_REQ_GET, "/api/v1/perf/top", h_perf_top, 0, "perf_top" },
	{ EVHTTP_REQ_GET, "/api/v1/logs", h_logs, 0, "logs" },
	{ EVHTTP_REQ_GET, "/api/v1/cluster", h_cluster, 0, "cluster" },
	{ EVHTTP_REQ_GET, "/metrics", h_metrics, 0, "metrics" },
};

void
api_init(struct api *a, struct query *q, const struct monitor_conf *conf)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->q = q;
	a->conf = conf;
	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++)
		api_route_add(a, &api_routes[i]);
}

int
api_route_add(struct api *a, const struct http_route *rt)
{
	if (a->nroutes == API_ROUTES_MAX)
		return -1;
	a->routes[a->nroutes++] = *rt;
	return 0;
}
