/* Tandem — MIT licence. The versioned JSON API: route table, parameter checks, handlers over query.c. */
#ifndef TANDEM_MONITOR_API_H
#define TANDEM_MONITOR_API_H

#include <stddef.h>

#include "monitor/http.h"

#define API_ROUTES_MAX	64

struct evbuffer;

/* Appends Prometheus text lines of one module's counters to out. */
typedef void	api_metrics_fn(struct evbuffer *out, void *arg);

struct monitor_conf;
struct query;

struct api {
	struct query			*q;
	const struct monitor_conf	*conf;
	struct http_server		*srv;	/* set by the caller after http_new */
	struct http_route		 routes[API_ROUTES_MAX];
	size_t				 nroutes;
	api_metrics_fn			*metrics;	/* NULL, or set by the alarm module */
	void				*metrics_arg;
};

/*
 * Fills api->routes with the read-only API (borrowed q and conf must outlive api). Other
 * modules (alarms, dashboard) add theirs with api_route_add before http_new is given
 * api->routes; their handlers get the same arg (the struct api) and may use api->q.
 */
void	api_init(struct api *, struct query *, const struct monitor_conf *);
/* 0, or -1 when the table is full. The route is copied; its strings are borrowed. */
int	api_route_add(struct api *, const struct http_route *);

#endif
