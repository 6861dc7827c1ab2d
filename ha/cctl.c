/* Tandem — MIT licence. Client of collectord's control socket (collector/control.h): line requests, JSON replies. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <jansson.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "ha/cctl.h"

struct cctl_req {
	cctl_cb		 cb;
	void		*arg;
	uint64_t	 sent_ms;
};

struct cctl {
	struct bufferevent	*bev;
	int			 alive;
	struct cctl_req		 q[CCTL_QUEUE];
	int			 head, n;
};

static void
cctl_fail_all(struct cctl *c)
{
	struct cctl_req r;

	c->alive = 0;
	/* A callback may look at the client: pop before calling. */
	while (c->n > 0) {
		r = c->q[c->head];
		c->head = (c->head + 1) % CCTL_QUEUE;
		c->n--;
		if (r.cb != NULL)
			r.cb(NULL, r.arg);
	}
}

static void
cctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct cctl *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct cctl_req r;
	json_error_t jerr;
	json_t *j;
	size_t len;
	char *line;
	int i;

	for (i = 0; i < CCTL_QUEUE && c->alive; i++) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) > CCTL_LINE_MAX) {
				log_warnx("%s: reply line over %d bytes", __func__, CCTL_LINE_MAX);
				cctl_fail_all(c);
			}
			return;
		}
		j = json_loadb(line, len, 0, &jerr);
		free(line);
		if (c->n == 0 || j == NULL || !json_is_object(j)) {
			log_warnx("%s: %s from the collector", __func__,
			    c->n == 0 ? "unsolicited reply" : "reply is not a JSON object");
			json_decref(j);
			cctl_fail_all(c);
			return;
		}
		r = c->q[c->head];
		c->head = (c->head + 1) % CCTL_QUEUE;
		c->n--;
		if (r.cb != NULL)
			r.cb(j, r.arg);
		json_decref(j);
	}
}

static void
cctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cctl *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		log_warnx("collector control connection %s",
		    (what & BEV_EVENT_EOF) ? "closed" : "failed");
		cctl_fail_all(c);
	}
}

struct cctl *
cctl_new(struct event_base *base, int fd)
{
	struct cctl *c;

	if (evutil_make_socket_nonblocking(fd) == -1 || (c = xcalloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	if ((c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		XFREE(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, cctl_read_cb, NULL, cctl_event_cb, c);
	if (bufferevent_enable(c->bev, EV_READ) == -1) {
		bufferevent_free(c->bev);
		XFREE(c);
		return NULL;
	}
	c->alive = 1;
	return c;
}

void
cctl_free(struct cctl *c)
{
	if (c == NULL)
		return;
	cctl_fail_all(c);
	bufferevent_free(c->bev);
	c->bev = NULL;
	xfree(c);
}

int
cctl_alive(const struct cctl *c)
{
	return c != NULL && c->alive;
}

int
cctl_pending(const struct cctl *c)
{
	return c != NULL ? c->n : 0;
}

uint64_t
cctl_oldest_ms(const struct cctl *c, uint64_t now_ms)
{
	if (c == NULL || c->n == 0 || now_ms < c->q[c->head].sent_ms)
		return 0;
	return now_ms - c->q[c->head].sent_ms;
}

int
cctl_request(struct cctl *c, const char *line, uint64_t now_ms, cctl_cb cb, void *arg)
{
	struct cctl_req *r;

	if (!c->alive || c->n == CCTL_QUEUE)
		return -1;
	if (bufferevent_write(c->bev, line, strlen(line)) == -1 ||
	    bufferevent_write(c->bev, "\n", 1) == -1)
		return -1;
	r = &c->q[(c->head + c->n) % CCTL_QUEUE];
	r->cb = cb;
	r->arg = arg;
	r->sent_ms = now_ms;
	c->n++;
	log_debug("collector control: > %s", line);
	return 0;
}
