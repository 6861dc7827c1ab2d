/* Tandem — MIT licence. Monitor unit tests: one raw HTTP exchange with a server on 127.0.0.1. */
#ifndef TANDEM_TEST_RAWHTTP_H
#define TANDEM_TEST_RAWHTTP_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "tests/unit/common/cases.h"

struct rawhttp_client {
	struct evbuffer	*resp;
	int		 done;
};

static void
rawhttp_read(struct bufferevent *bev, void *arg)
{
	struct rawhttp_client *c = arg;

	evbuffer_add_buffer(c->resp, bufferevent_get_input(bev));
}

static void
rawhttp_event(struct bufferevent *bev, short what, void *arg)
{
	struct rawhttp_client *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(c->resp, bufferevent_get_input(bev));
		c->done = 1;
		event_base_loopexit(bufferevent_get_base(bev), NULL);
	}
}

static void
rawhttp_timeout(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

/*
 * Sends raw[0..len) to 127.0.0.1:port on base (the server's own loop) and reads until the
 * server closes, at most 5 s (else the case fails). *status gets the status code (0: no
 * status line), head (OUT, headlen bytes) the header block; returns the body, malloc'd and
 * NUL-terminated (free it), or NULL when there was no header/body separator.
 */
static char *
rawhttp_exchange(struct event_base *base, uint16_t port, const char *raw, size_t len,
    int *status, char *head, size_t headlen)
{
	struct sockaddr_in sin;
	struct rawhttp_client c = { .resp = evbuffer_new() };
	struct bufferevent *bev;
	struct event *tmo;
	struct timeval tv = { 5, 0 };
	char *all, *sep, *body = NULL;
	size_t n;

	assert_non_null(c.resp);
	*status = 0;
	head[0] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	bufferevent_setcb(bev, rawhttp_read, NULL, rawhttp_event, &c);
	bufferevent_enable(bev, EV_READ);
	assert_int_equal(bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)), 0);
	bufferevent_write(bev, raw, len);
	tmo = evtimer_new(base, rawhttp_timeout, base);
	evtimer_add(tmo, &tv);
	event_base_dispatch(base);
	event_free(tmo);
	bufferevent_free(bev);
	if (!c.done)
		fail_msg("no reply within 5 s");
	n = evbuffer_get_length(c.resp);
	all = calloc(1, n + 1);
	assert_non_null(all);
	evbuffer_remove(c.resp, all, n);
	evbuffer_free(c.resp);
	if (sscanf(all, "HTTP/1.%*d %d", status) != 1)
		*status = 0;
	if ((sep = strstr(all, "\r\n\r\n")) != NULL) {
		snprintf(head, headlen, "%.*s", (int)(sep - all), all);
		body = strdup(sep + 4);
		assert_non_null(body);
	}
	free(all);
	return body;
}

#endif
