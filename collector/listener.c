/* Tandem — MIT licence. Agent listeners: stop accepting at the cap or on EMFILE instead of failing. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/conn.h"
#include "collector/listener.h"
#include "collector/stats.h"
#include "common/log.h"
#include "common/tcp.h"
#include "common/tls.h"

#define ACCEPT_RETRY_MS	100

static struct evconnlistener	*plain, *tls;
static SSL_CTX			*tls_ctx;
static struct event		*retry_ev;
static int			 paused, stopped;

static void
listener_set(int on)
{
	if (plain != NULL)
		on ? evconnlistener_enable(plain) : evconnlistener_disable(plain);
	if (tls != NULL)
		on ? evconnlistener_enable(tls) : evconnlistener_disable(tls);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen,
    void *arg)
{
	struct collector *c = arg;
	SSL *ssl = NULL;

	if (c->draining || c->nconns >= c->conf->max_connections) {
		/* Should not happen while paused; refuse politely if it does. */
		stats.conns_refused++;
		evutil_closesocket(fd);
		return;
	}
	if (l == tls && (ssl = SSL_new(tls_ctx)) == NULL) {
		stats.conns_refused++;
		evutil_closesocket(fd);
		return;
	}
	conn_accept(c, fd, sa, socklen, ssl);
	if (c->nconns >= c->conf->max_connections && !paused) {
		log_warnx("%s: %llu connections: at the cap, not accepting", __func__,
		    (unsigned long long)c->nconns);
		paused = 1;
		listener_set(0);
	}
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;

	if (!stopped && c->nconns < c->conf->max_connections) {
		paused = 0;
		listener_set(1);
	}
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
	int e = EVUTIL_SOCKET_ERROR();

	stats.conns_refused++;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* Out of descriptors: stop accepting for a moment instead of spinning. */
		log_warnx("%s: accept: %s: pausing accepts", __func__, strerror(e));
		paused = 1;
		listener_set(0);
		evtimer_add(retry_ev, &tv);
	}
}

static struct evconnlistener *
bind_one(struct collector *c, const char *host, int port, char *err, size_t errlen)
{
	struct evconnlistener *l;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	int sslen;

	/* evutil_parse_sockaddr_port() refuses port 0, which tests use to get a free port. */
	memset(&ss, 0, sizeof(ss));
	if (evutil_inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*s4);
	} else if (evutil_inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*s6);
	} else {
		snprintf(err, errlen, "listen %s: not a numeric IPv4 or IPv6 address", host);
		return NULL;
	}
	l = evconnlistener_new_bind(c->base, accept_cb, c, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024, (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		snprintf(err, errlen, "listen %s port %d: %s", host, port, strerror(errno));
		return NULL;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	/* Inherited by every agent connection: acks go out at once (common/tcp.h). */
	if (tcp_nodelay(evconnlistener_get_fd(l)) == -1)
		log_warn("listen %s port %d: TCP_NODELAY", host, port);
	return l;
}

int
listener_start(struct collector *c, char *err, size_t errlen)
{
	if ((retry_ev = evtimer_new(c->base, retry_cb, c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((plain = bind_one(c, c->conf->listen_host, c->conf->listen_port, err, errlen)) == NULL)
		return -1;
	if (c->conf->tls_enabled) {
		if ((tls_ctx = tls_server_ctx(c->conf->tls_cert, c->conf->tls_key,
		    c->conf->tls_client_ca, err, errlen)) == NULL)
			return -1;
		if ((tls = bind_one(c, c->conf->tls_host, c->conf->tls_port, err, errlen)) == NULL)
			return -1;
	}
	log_info("listening on %s:%d%s", c->conf->listen_host, listener_port(0),
	    c->conf->tls_enabled ? "" : " (no TLS listener)");
	if (tls != NULL)
		log_info("listening for TLS on %s:%d%s", c->conf->tls_host, listener_port(1),
		    c->conf->tls_client_ca ? " (client certificates required)" : "");
	return 0;
}

int
listener_port(int want_tls)
{
	struct evconnlistener *l = want_tls ? tls : plain;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (l == NULL || getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
	    &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

void
listener_stop(struct collector *c)
{
	stopped = 1;
	listener_set(0);
}

void
listener_conn_closed(struct collector *c)
{
	if (c->draining && c->nconns == 0) {
		event_base_loopexit(c->base, NULL);
		return;
	}
	if (paused && !stopped && c->nconns < c->conf->max_connections &&
	    !evtimer_pending(retry_ev, NULL)) {
		paused = 0;
		listener_set(1);
	}
}

void
listener_free(void)
{
	if (plain != NULL)
		evconnlistener_free(plain);
	if (tls != NULL)
		evconnlistener_free(tls);
	if (retry_ev != NULL)
		event_free(retry_ev);
	SSL_CTX_free(tls_ctx);
	plain = tls = NULL;
	retry_ev = NULL;
	tls_ctx = NULL;
}
