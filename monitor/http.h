/* Tandem — MIT licence. evhttp server skeleton: limits, route table, JSON errors, token check. */
#ifndef TANDEM_MONITOR_HTTP_H
#define TANDEM_MONITOR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/hist.h"
#include "monitor/query_params.h"

#define HTTP_PATH_MAX		1024	/* raw path bytes */
#define HTTP_SEGMENTS_MAX	16	/* path segments matched against a pattern */
#define HTTP_PATH_PARAMS_MAX	4	/* {name} placeholders per pattern */
#define HTTP_PATH_PARAM_MAX	128	/* decoded bytes of one placeholder value */

#define HTTP_ROUTE_AUTH		0x1	/* mutating route: needs the bearer token */

struct event_base;
struct evhttp_request;
struct http_server;

struct http_req;

struct http_route {
	unsigned	 methods;	/* EVHTTP_REQ_* bits; GET also answers HEAD */
	const char	*pattern;	/* "/api/v1/apps/{app}/queues": literal or {name} segments */
	/* Must reply (json_reply*) before returning 0; -1 without a reply => 500. */
	int		(*handler)(struct http_req *r, void *arg);
	unsigned	 flags;		/* HTTP_ROUTE_AUTH */
	const char	*name;		/* label for metrics, e.g. "health" */
};

struct http_conf {
	const char	*addr;		/* numeric address, e.g. "127.0.0.1" */
	uint16_t	 port;		/* 0: the kernel picks; read it back with http_port() */
	size_t		 max_headers;	/* evhttp_set_max_headers_size */
	size_t		 max_body;	/* evhttp_set_max_body_size */
	int		 timeout_s;	/* evhttp_set_timeout: read/write per connection */
	unsigned	 methods;	/* server-wide allow-list, EVHTTP_REQ_* bits */
	const char	*token;		/* bearer token for HTTP_ROUTE_AUTH routes; NULL: refuse all */
};

/* One request being dispatched; borrowed by handlers, valid during the handler call. */
struct http_req {
	struct evhttp_request	*req;
	struct http_server	*srv;
	const struct http_route	*route;
	size_t			 nparams;
	struct {
		const char	*name;		/* points into route->pattern */
		size_t		 name_len;
		char		 value[HTTP_PATH_PARAM_MAX + 1];
	}			 params[HTTP_PATH_PARAMS_MAX];
	struct query_params	 qp;		/* parsed and validated syntax only */
	int64_t			 now_ms;	/* wall clock at dispatch */
	int			 status;	/* set by http_reply*; 0 until replied */
};

struct http_stats {
	uint64_t	requests;
	uint64_t	status_2xx;
	uint64_t	status_4xx;
	uint64_t	status_5xx;
	uint64_t	not_found;
	uint64_t	bad_method;
	uint64_t	unauthorized;
};

/*
 * Defaults: 8 KiB headers, 64 KiB body, 10 s timeout, GET/HEAD/POST/PUT/DELETE.
 * XXX no connection cap yet: libevent 2.1 offers no hook for one (see http.c).
 */
void		 http_conf_default(struct http_conf *conf);

/*
 * Binds conf->addr:conf->port on base and serves routes[0 .. nroutes) (borrowed, must
 * outlive the server; patterns are checked here). arg is passed to every handler.
 * Returns NULL with a reason in err on a bad pattern, bind failure or allocation failure.
 */
struct http_server *http_new(struct event_base *base, const struct http_conf *conf,
		    const struct http_route *routes, size_t nroutes, void *arg, char *err,
		    size_t errlen);
/* Closes the listener and every connection; NULL is a no-op. */
void		 http_free(struct http_server *srv);
/* Port actually bound (the kernel's choice when conf->port was 0). */
uint16_t	 http_port(const struct http_server *srv);
const struct http_stats *http_stats(const struct http_server *srv);
/* Handler latency of route idx (0 .. nroutes-1), or of unrouted requests at idx == nroutes. */
const struct hist *http_route_latency(const struct http_server *srv, size_t idx);

/*
 * Replies through json_reply / json_reply_error and records the status for the
 * counters. Takes ownership of body. After either call r->req must not be used.
 */
void		 http_reply(struct http_req *r, int status, json_t *body);
void		 http_reply_error(struct http_req *r, int status, const char *param,
		    const char *msg);
/* 400 naming err->param, for query_params_* and json_field_* failures. */
void		 http_reply_param_error(struct http_req *r, const struct query_params_err *err);

/* Value of path placeholder name, or NULL. Borrowed from r. */
const char	*http_path_param(const struct http_req *r, const char *name);

/*
 * Checks "Authorization: Bearer <token>" against the configured token in constant time.
 * Returns 0 if it matches; else replies 401 JSON and returns -1. The dispatcher calls it
 * for HTTP_ROUTE_AUTH routes before the handler.
 */
int		 http_check_token(struct http_req *r);
/* 1 if a[0 .. alen) equals b[0 .. blen); time depends on blen only. */
int		 http_token_equal(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Matches path against pattern; on a match fills values (decoded, NUL-terminated) for
 * each {name} and returns the number of placeholders, else -1. A placeholder never
 * matches an empty segment, a %-decoded '/', NUL or control byte, or more than
 * HTTP_PATH_PARAM_MAX bytes. Pure, for tests and the fuzzer.
 */
int		 http_path_match(const char *pattern, const char *path,
		    struct http_req *r /* OUT: params */);

/* GET /api/v1/health: {"status":"ok"}. */
int		 http_health(struct http_req *r, void *arg);

#endif
