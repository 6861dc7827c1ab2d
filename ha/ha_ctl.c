/* Tandem — MIT licence. had's own control socket for tandemctl: root-only, one line in, one JSON line out. */
#include <sys/socket.h>

#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <jansson.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "ha/ha_ctl.h"

struct ha_ctl_conn {
	struct ha_ctl_conn	*next;
	struct ha_ctl		*ctl;
	struct bufferevent	*bev;
	uint64_t		 id;
	int			 busy;		/* a request awaits its reply */
	int			 closing;	/* close after the output is flushed */
};

struct ha_ctl {
	struct evconnlistener	*lev;
	struct ha_ctl_conn	*conns;
	int			 nconns;
	uint64_t		 next_id;
	ha_ctl_cmd_cb		 cb;
	void			*arg;
};

static void
ctl_conn_free(struct ha_ctl_conn *c)
{
	struct ha_ctl *ctl = c->ctl;
	struct ha_ctl_conn **pp;

	for (pp = &ctl->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ctl->nconns--;
	bufferevent_free(c->bev);
	c->bev = NULL;
	xfree(c);
}

static void ctl_read_cb(struct bufferevent *, void *);

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ha_ctl_conn *c = arg;

	if (c->closing)
		ctl_conn_free(c);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ha_ctl_conn *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_conn_free(c);	/* a pending reply to this id is dropped */
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ha_ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	if (c->busy || c->closing)
		return;
	if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > HA_CTL_LINE_MAX) {
			c->closing = 1;
			ha_ctl_error(c->ctl, c->id, "request too long");
		}
		return;
	}
	if (len > HA_CTL_LINE_MAX) {
		free(line);
		c->closing = 1;
		ha_ctl_error(c->ctl, c->id, "request too long");
		return;
	}
	c->busy = 1;
	bufferevent_disable(bev, EV_READ);
	c->ctl->cb(c->ctl, c->id, line, c->ctl->arg);	/* may reply at once */
	free(line);
}

static void
ctl_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int slen,
    void *arg)
{
	struct ha_ctl *ctl = arg;
	struct ha_ctl_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	static const char denied[] = "{\"ok\":false,\"error\":\"permission denied\"}\n";

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 || cred.uid != 0) {
		/* The socket file is 0600 root already; this is the second lock. */
		(void)send(fd, denied, sizeof(denied) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		evutil_closesocket(fd);
		log_warnx("control: refused a client with uid %ld", clen == sizeof(cred) ?
		    (long)cred.uid : -1L);
		return;
	}
	if (ctl->nconns >= HA_CTL_MAX_CONNS || (c = xcalloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if ((c->bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		xfree(c);
		return;
	}
	c->ctl = ctl;
	c->id = ++ctl->next_id;
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->nconns++;
	bufferevent_setcb(c->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

struct ha_ctl *
ha_ctl_new(struct event_base *base, int listen_fd, ha_ctl_cmd_cb cb, void *arg)
{
	struct ha_ctl *ctl;

	if ((ctl = xcalloc(1, sizeof(*ctl))) == NULL)
		return NULL;
	ctl->cb = cb;
	ctl->arg = arg;
	/* backlog 0: the socket already listens (bound by the root parent before the fork). */
	if ((ctl->lev = evconnlistener_new(base, ctl_accept_cb, ctl, 0, 0,
	    listen_fd)) == NULL) {
		xfree(ctl);
		return NULL;
	}
	return ctl;
}

void
ha_ctl_free(struct ha_ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		ctl_conn_free(ctl->conns);
	evconnlistener_free(ctl->lev);
	ctl->lev = NULL;
	xfree(ctl);
}

int
ha_ctl_reply(struct ha_ctl *ctl, uint64_t id, json_t *reply)
{
	struct ha_ctl_conn *c;
	char *s;

	for (c = ctl->conns; c != NULL; c = c->next)
		if (c->id == id)
			break;
	if (c == NULL)
		return -1;
	if ((s = json_dumps(reply, JSON_COMPACT)) == NULL)
		return -1;
	bufferevent_write(c->bev, s, strlen(s));
	bufferevent_write(c->bev, "\n", 1);
	free(s);
	c->busy = 0;
	if (!c->closing) {
		bufferevent_enable(c->bev, EV_READ);
		/* A pipelined next request may already be buffered. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			ctl_read_cb(c->bev, c);
	}
	return 0;
}

int
ha_ctl_error(struct ha_ctl *ctl, uint64_t id, const char *msg)
{
	json_t *j = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	int rv;

	if (j == NULL)
		return -1;
	rv = ha_ctl_reply(ctl, id, j);
	json_decref(j);
	return rv;
}
