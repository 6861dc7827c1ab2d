/* Tandem — MIT licence. evhttp skeleton: limits, route table, JSON errors, auth, latency per route. */
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "common/hist.h"
#include "monitor/http.h"
#include "monitor/json.h"

#define HTTP_ALL_METHODS	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | \
	EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | \
	EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

struct http_server {
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct http_conf	 conf;
	char			*token;
	const struct http_route	*routes;
	size_t			 nroutes;
	void			*arg;
	struct hist		*lat;		/* nroutes + 1: the last one for unrouted */
	struct http_stats	 stats;
	uint16_t		 port;
};

void
http_conf_default(struct http_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->addr = "127.0.0.1";
	conf->port = 0;
	conf->max_headers = 8 * 1024;
	conf->max_body = 64 * 1024;
	conf->timeout_s = 10;
	conf->methods = EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE;
	conf->token = NULL;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
http_method_name(unsigned m)
{
	switch (m) {
	case EVHTTP_REQ_GET:		return "GET";
	case EVHTTP_REQ_POST:		return "POST";
	case EVHTTP_REQ_HEAD:		return "HEAD";
	case EVHTTP_REQ_PUT:		return "PUT";
	case EVHTTP_REQ_DELETE:		return "DELETE";
	case EVHTTP_REQ_OPTIONS:	return "OPTIONS";
	case EVHTTP_REQ_TRACE:		return "TRACE";
	case EVHTTP_REQ_CONNECT:	return "CONNECT";
	case EVHTTP_REQ_PATCH:		return "PATCH";
	}
	return "UNKNOWN";
}

/* Path matching. */

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

/* Decodes one raw path segment into out (cap bytes incl. NUL); -1 if unacceptable. */
static int
seg_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	unsigned char c;
	int hi, lo;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '/')
			return -1;
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int
http_path_match(const char *pattern, const char *path, struct http_req *r)
{
	const char *p = pattern, *q = path, *pe, *qe;
	size_t plen, qlen, nseg = 0;

	r->nparams = 0;
	if (*p != '/' || *q != '/')
		return -1;
	while (*p == '/' && *q == '/') {
		if (++nseg > HTTP_SEGMENTS_MAX)
			return -1;
		p++;
		q++;
		pe = strchr(p, '/');
		qe = strchr(q, '/');
		plen = pe != NULL ? (size_t)(pe - p) : strlen(p);
		qlen = qe != NULL ? (size_t)(qe - q) : strlen(q);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (r->nparams == HTTP_PATH_PARAMS_MAX)
				return -1;
			if (seg_decode(q, qlen, r->params[r->nparams].value,
			    sizeof(r->params[r->nparams].value)) == -1)
				return -1;
			r->params[r->nparams].name = p + 1;
			r->params[r->nparams].name_len = plen - 2;
			r->nparams++;
		} else if (plen != qlen || memcmp(p, q, plen) != 0)
			return -1;
		p += plen;
		q += qlen;
	}
	if (*p != '\0' || *q != '\0')
		return -1;
	return (int)r->nparams;
}

const char *
http_path_param(const struct http_req *r, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < r->nparams; i++)
		if (r->params[i].name_len == len && memcmp(r->params[i].name, name, len) == 0)
			return r->params[i].value;
	return NULL;
}

/* Checks a pattern once at startup: absolute, bounded, well-formed placeholders. */
static int
http_pattern_ok(const char *pat)
{
	size_t len, nparams = 0, nseg = 0;
	const char *p, *e;

	if (pat == NULL || pat[0] != '/' || strlen(pat) > HTTP_PATH_MAX)
		return 0;
	if (strcmp(pat, "/") == 0)	/* the root alone: the dashboard's page */
		return 1;
	for (p = pat; *p == '/'; p += len) {
		p++;
		e = strchr(p, '/');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == 0 || ++nseg > HTTP_SEGMENTS_MAX)
			return 0;
		if (p[0] == '{' && (len < 3 || p[len - 1] != '}' || ++nparams > HTTP_PATH_PARAMS_MAX))
			return 0;
	}
	return 1;
}

/* Replies. */

void
http_reply(struct http_req *r, int status, json_t *body)
{
	r->status = json_reply(r->req, status, body) == 0 ? status : 500;
}

void
http_reply_error(struct http_req *r, int status, const char *param, const char *msg)
{
	r->status = status;
	json_reply_error(r->req, status, param, msg);
}

void
http_reply_param_error(struct http_req *r, const struct query_params_err *err)
{
	char msg[sizeof(err->msg) + sizeof(err->param) + 32];

	if (err->param[0] != '\0')
		snprintf(msg, sizeof(msg), "bad parameter '%s': %s", err->param, err->msg);
	else
		snprintf(msg, sizeof(msg), "bad request: %s", err->msg);
	http_reply_error(r, 400, err->param, msg);
}

/* Auth. */

int
http_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char d = 0;
	size_t i;

	d |= (unsigned char)(alen != blen);
	for (i = 0; i < blen; i++)
		d |= (unsigned char)(b[i] ^ (i < alen ? a[i] : 0));
	return d == 0;
}

int
http_check_token(struct http_req *r)
{
	const char *h, *tok = r->srv->token;

	h = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
	if (tok == NULL || h == NULL || strncmp(h, "Bearer ", 7) != 0 ||
	    !http_token_equal(h + 7, strlen(h + 7), tok, strlen(tok))) {
		r->srv->stats.unauthorized++;
		http_reply_error(r, 401, NULL, "missing or wrong token");
		return -1;
	}
	return 0;
}

int
http_health(struct http_req *r, void *arg)
{
	json_t *o = json_pack("{s:s}", "status", "ok");

	if (o == NULL)
		return -1;
	http_reply(r, 200, o);
	return 0;
}

/* Dispatch. */

static void
http_count(struct http_server *srv, int status)
{
	if (status >= 200 && status < 300)
		srv->stats.status_2xx++;
	else if (status >= 400 && status < 500)
		srv->stats.status_4xx++;
	else if (status >= 500)
		srv->stats.status_5xx++;
}

static void
http_dispatch(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	struct http_req r;
	const struct http_route *rt = NULL;
	const struct evhttp_uri *uri;
	const char *path;
	struct query_params_err qerr;
	char allow[128], msg[96];
	unsigned method, want, allowed = 0;
	size_t i, ri = srv->nroutes;
	int64_t t0 = mono_us();

	memset(&r, 0, sizeof(r));
	r.req = req;
	r.srv = srv;
	r.now_ms = wall_ms();
	srv->stats.requests++;
	method = (unsigned)evhttp_request_get_command(req);
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if ((method & srv->conf.methods) == 0) {
		srv->stats.bad_method++;
		snprintf(msg, sizeof(msg), "method %s not allowed", http_method_name(method));
		http_reply_error(&r, 405, NULL, msg);
		goto done;
	}
	if (path == NULL || path[0] != '/' || strlen(path) > HTTP_PATH_MAX) {
		http_reply_error(&r, 400, NULL, "bad request path");
		goto done;
	}
	want = method == EVHTTP_REQ_HEAD ? (EVHTTP_REQ_HEAD | EVHTTP_REQ_GET) : method;
	for (i = 0; i < srv->nroutes; i++) {
		if (http_path_match(srv->routes[i].pattern, path, &r) == -1)
			continue;
		allowed |= srv->routes[i].methods;
		if (srv->routes[i].methods & want) {
			rt = &srv->routes[i];
			ri = i;
			break;
		}
	}
	if (rt == NULL && allowed == 0) {
		srv->stats.not_found++;
		http_reply_error(&r, 404, NULL, "no such route");
		goto done;
	}
	if (rt == NULL) {
		allow[0] = '\0';
		for (want = 1; want <= EVHTTP_REQ_PATCH; want <<= 1)
			if (allowed & want)
				snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
				    "%s%s", allow[0] != '\0' ? ", " : "", http_method_name(want));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
		srv->stats.bad_method++;
		snprintf(msg, sizeof(msg), "method %s not allowed here", http_method_name(method));
		http_reply_error(&r, 405, NULL, msg);
		goto done;
	}
	r.route = rt;
	if (query_params_parse(&r.qp, evhttp_uri_get_query(uri), &qerr) == -1) {
		http_reply_param_error(&r, &qerr);
		goto done;
	}
	if ((rt->flags & HTTP_ROUTE_AUTH) && http_check_token(&r) == -1)
		goto done;
	if (rt->handler(&r, srv->arg) == -1 && r.status == 0)
		http_reply_error(&r, 500, NULL, "internal error");
done:
	query_params_clear(&r.qp);
	hist_record(&srv->lat[ri], (uint64_t)(mono_us() - t0));
	http_count(srv, r.status);
}

struct http_server *
http_new(struct event_base *base, const struct http_conf *conf, const struct http_route *routes,
    size_t nroutes, void *arg, char *err, size_t errlen)
{
	struct http_server *srv;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	evutil_socket_t fd;
	size_t i;

	for (i = 0; i < nroutes; i++) {
		if (!http_pattern_ok(routes[i].pattern) || routes[i].handler == NULL ||
		    routes[i].methods == 0) {
			snprintf(err, errlen, "route %zu: bad pattern, handler or methods", i);
			return NULL;
		}
	}
	if ((srv = xcalloc(1, sizeof(*srv))) == NULL)
		goto oom;
	srv->base = base;
	srv->conf = *conf;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->arg = arg;
	if (conf->token != NULL && (srv->token = xstrdup(conf->token)) == NULL)
		goto oom;
	srv->conf.token = NULL;
	srv->conf.addr = NULL;
	if ((srv->lat = xcalloc(nroutes + 1, sizeof(*srv->lat))) == NULL)
		goto oom;
	if ((srv->http = evhttp_new(base)) == NULL)
		goto oom;
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)conf->max_headers);
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)conf->max_body);
	evhttp_set_timeout(srv->http, conf->timeout_s);
	/* Every method reaches http_dispatch so that a refusal is a JSON 405, not HTML. */
	evhttp_set_allowed_methods(srv->http, HTTP_ALL_METHODS);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_gencb(srv->http, http_dispatch, srv);
	/*
	 * XXX libevent 2.1 has no connection cap (evhttp_set_max_connections is 2.2) and no
	 * hook that reports when an evhttp connection closes; a pass-through filter
	 * bufferevent from evhttp_set_bevcb() does not work because 2.1's filter does not
	 * forward the fd evhttp sets afterwards. Until then evhttp_set_timeout bounds how
	 * long an idle or slow connection is held.
	 */
	srv->bound = evhttp_bind_socket_with_handle(srv->http, conf->addr, conf->port);
	if (srv->bound == NULL) {
		snprintf(err, errlen, "cannot bind %s:%u: %s", conf->addr, conf->port,
		    strerror(errno));
		goto fail;
	}
	fd = evhttp_bound_socket_get_fd(srv->bound);
	{
		/*
		 * Replies over one write (16 KiB in libevent) would otherwise wait for Nagle and
		 * the client's delayed ACK: ~40 ms. Accepted sockets inherit this on Linux.
		 */
		int one = 1;

		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			log_warn("%s: TCP_NODELAY", __func__);
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		goto fail;
	}
	if (ss.ss_family == AF_INET)
		srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return srv;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	http_free(srv);
	return NULL;
}

void
http_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->http != NULL)
		evhttp_free(srv->http);
	XFREE(srv->lat);
	XFREE(srv->token);
	xfree(srv);
}

uint16_t
http_port(const struct http_server *srv)
{
	return srv->port;
}

const struct http_stats *
http_stats(const struct http_server *srv)
{
	return &srv->stats;
}

const struct hist *
http_route_latency(const struct http_server *srv, size_t idx)
{
	return idx <= srv->nroutes ? &srv->lat[idx] : NULL;
}
