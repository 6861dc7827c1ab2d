/* Tandem — MIT licence. Fake collector: Hello -> Welcome(stored), batches -> dedup, store, Ack. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/arena.h"
#include "common/frame.h"
#include "common/wire.h"
#include "common/xalloc.h"
#include "proto/msg.h"
#include "tests/unit/agent/fake_collector.h"

#define FAKE_BUCKETS	4096

struct fake_agent {
	struct fake_agent	*next;
	char			*id;
	uint64_t		 stored;
};

struct fake_conn {
	struct fake_collector	*fc;
	struct bufferevent	*bev;
	struct fake_agent	*agent;
	struct fake_conn	*next;
};

struct fake_collector {
	struct event_base	*base;
	struct evconnlistener	*lis;
	struct fake_conf	 conf;
	struct fake_agent	*agents[FAKE_BUCKETS];
	struct fake_conn	*conns;
	struct fake_stats	 st;
	int			 closed_once;
	struct arena		 arena;
};

static unsigned
fake_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % FAKE_BUCKETS;
}

static struct fake_agent *
fake_agent(struct fake_collector *fc, const char *id, int create)
{
	struct fake_agent *a;
	unsigned h = fake_hash(id);

	for (a = fc->agents[h]; a != NULL; a = a->next)
		if (strcmp(a->id, id) == 0)
			return a;
	if (!create || (a = xcalloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->id = xstrdup(id)) == NULL) {
		xfree(a);
		return NULL;
	}
	a->stored = fc->conf.initial_stored;
	a->next = fc->agents[h];
	fc->agents[h] = a;
	return a;
}

static void
fake_conn_free(struct fake_conn *c)
{
	struct fake_conn **pp;

	for (pp = &c->fc->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_free(c->bev);
	xfree(c);
}

static int64_t
fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Counts a batch's events without unpacking them. 0 or -1. */
static int
fake_scan_batch(const uint8_t *p, size_t len, uint64_t *first, size_t *n)
{
	const uint8_t *q = p, *end = p + len, *bq, *bend;
	struct wire_field f, g;

	*first = 0;
	*n = 0;
	if (wire_next(&q, end, &f) != 1 || f.num != 3 || f.type != WIRE_LEN)
		return -1;
	bq = f.data;
	bend = f.data + f.value;
	while (wire_next(&bq, bend, &g) == 1) {
		if (g.num == 1)
			*first = g.value;
		else if (g.num == 2)
			(*n)++;
	}
	return *first > 0 && *n > 0 ? 0 : -1;
}

/* One frame. 0, or -1 when the connection was closed. */
static int
fake_frame(struct fake_conn *c, const uint8_t *body, size_t len)
{
	struct fake_collector *fc = c->fc;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t first, seq;
	char err[256];
	struct msg m;
	size_t n, i;
	int rc;

	if (c->agent == NULL || fc->conf.verify) {
		arena_reset(&fc->arena);
		if ((rc = msg_decode(body, len, &fc->arena, fake_now_ms(), &m, err,
		    sizeof(err))) != 0) {
			fc->st.bad++;
			msg_send_error(out, rc, "%s", err);
			return -1;
		}
		if (c->agent == NULL) {
			if (m.type != MSGT_HELLO) {
				fc->st.bad++;
				msg_send_error(out, TANDEM__ERROR_CODE__ERR_UNEXPECTED,
				    "expected Hello");
				return -1;
			}
			if ((c->agent = fake_agent(fc, m.m->hello->agent_id, 1)) == NULL)
				return -1;
			fc->st.hellos++;
			msg_send_welcome(out, c->agent->stored, "fake");
			return 0;
		}
		if (m.type != MSGT_BATCH) {
			fc->st.bad++;
			return -1;
		}
		first = m.first_seq;
		n = m.nevents;
	} else if (fake_scan_batch(body, len, &first, &n) == -1) {
		fc->st.bad++;
		msg_send_error(out, TANDEM__ERROR_CODE__ERR_DECODE, "bad batch");
		return -1;
	}
	fc->st.batches++;
	if (first > c->agent->stored + 1)
		fc->st.gaps++;
	for (i = 0; i < n; i++) {
		seq = first + i;
		if (seq <= c->agent->stored) {
			fc->st.dups++;
			continue;
		}
		c->agent->stored = seq;
		fc->st.stored++;
		if (fc->conf.verify && fc->conf.on_event != NULL)
			fc->conf.on_event(fc->conf.arg, c->agent->id, seq, &m.events[i]);
	}
	if (fc->conf.close_after > 0 && !fc->closed_once && fc->st.stored >= fc->conf.close_after) {
		/* Stored but never acked: the agent learns of it from the next Welcome. */
		fc->closed_once = 1;
		fc->st.forced_closes++;
		return -1;
	}
	return 0;
}

static void
fake_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint64_t before = c->agent ? c->agent->stored : 0;
	enum frame_status fs;
	const uint8_t *p;
	size_t avail, blen;
	int hello = c->agent == NULL;

	for (;;) {
		avail = evbuffer_get_length(in);
		if (avail < FRAME_HDR)
			break;
		p = evbuffer_pullup(in, FRAME_HDR);
		fs = frame_parse(p, avail, FRAME_MAX_DEFAULT, &blen);
		if (fs == FRAME_NEED_MORE)
			break;
		if (fs != FRAME_READY) {
			c->fc->st.bad++;
			fake_conn_free(c);
			return;
		}
		p = evbuffer_pullup(in, FRAME_HDR + blen);
		if (fake_frame(c, p + FRAME_HDR, blen) == -1) {
			fake_conn_free(c);
			return;
		}
		evbuffer_drain(in, FRAME_HDR + blen);
		if (hello) {
			hello = 0;
			before = c->agent->stored;
		}
	}
	/* One ack per wake-up: a group commit, as the real collector does. */
	if (c->agent != NULL && c->agent->stored > before) {
		msg_send_ack(bufferevent_get_output(bev), c->agent->stored);
		c->fc->st.acks++;
	}
}

static void
fake_event_cb(struct bufferevent *bev, short what, void *arg)
{
	fake_conn_free(arg);
}

static void
fake_accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct fake_collector *fc = arg;
	struct fake_conn *c;
	int one = 1;

	if ((c = xcalloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fc = fc;
	if ((c->bev = bufferevent_socket_new(fc->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		xfree(c);
		return;
	}
	c->next = fc->conns;
	fc->conns = c;
	fc->st.conns++;
	bufferevent_setcb(c->bev, fake_read_cb, NULL, fake_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

struct fake_collector *
fake_new(struct event_base *base, const struct fake_conf *conf, uint16_t port, uint16_t *bound)
{
	struct fake_collector *fc;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if ((fc = xcalloc(1, sizeof(*fc))) == NULL)
		return NULL;
	fc->base = base;
	fc->conf = *conf;
	if (arena_init(&fc->arena, 4 * 1024 * 1024) == -1)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	fc->lis = evconnlistener_new_bind(base, fake_accept_cb, fc,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096, (struct sockaddr *)&sin, sizeof(sin));
	if (fc->lis == NULL)
		goto fail;
	if (getsockname(evconnlistener_get_fd(fc->lis), (struct sockaddr *)&sin, &sl) == -1)
		goto fail;
	*bound = ntohs(sin.sin_port);
	return fc;
 fail:
	fake_free(fc);
	return NULL;
}

void
fake_free(struct fake_collector *fc)
{
	struct fake_agent *a, *n;
	unsigned i;

	if (fc == NULL)
		return;
	while (fc->conns != NULL)
		fake_conn_free(fc->conns);
	if (fc->lis != NULL)
		evconnlistener_free(fc->lis);
	for (i = 0; i < FAKE_BUCKETS; i++)
		for (a = fc->agents[i]; a != NULL; a = n) {
			n = a->next;
			xfree(a->id);
			xfree(a);
		}
	arena_shutdown(&fc->arena);
	xfree(fc);
}

void
fake_stats(const struct fake_collector *fc, struct fake_stats *out)
{
	*out = fc->st;
}

uint64_t
fake_stored(const struct fake_collector *fc, const char *agent_id)
{
	struct fake_agent *a = fake_agent((struct fake_collector *)fc, agent_id, 0);

	return a ? a->stored : 0;
}
