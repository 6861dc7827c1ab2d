/* Tandem — MIT licence. Replication, active side: snapshot then stream to one standby; acks gate on its applies. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/ingest.h"
#include "collector/repl.h"
#include "collector/stats.h"
#include "collector/store.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/tcp.h"
#include "common/repl_rec.h"
#include "common/store_schema.h"
#include "common/tls.h"
#include "common/xalloc.h"

#define OUT_HIGH	(8u << 20)	/* stop feeding the standby above this much unsent */
#define CATCHUP_SLACK	64		/* a standby this close counts as caught up */

enum sess_state {
	SESS_HELLO,		/* waiting for the standby's position */
	SESS_SNAPSHOT,		/* copying the store */
	SESS_STREAM,		/* sending records from the ring */
};

struct repl_master {
	struct collector	*c;
	struct evconnlistener	*listener;
	SSL_CTX			*tls;
	struct repl_ring	*ring;
	/* The one standby session. */
	struct bufferevent	*bev;
	enum sess_state		 state;
	uint64_t		 next_send;	/* next position to send */
	uint64_t		 peer_pos;	/* applied by the standby */
	char			 peer[64];
	/* Snapshot copy thread. */
	pthread_t		 thread;
	int			 thread_on;
	int			 snap_fd;	/* read end of the copy pipe */
	int			 snap_wfd;	/* write end, owned by the copy thread */
	struct event		*snap_ev;
	/* Protection: acks wait for the standby while it is there. */
	struct event		*absent_ev;	/* repl_timeout after losing the standby */
	int			 protected;
};

static void sess_close(struct repl_master *, const char *why);
static void sess_pump(struct repl_master *);

uint64_t
repl_epoch(const struct collector *c, uint64_t term)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = c->conf->node_name; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return term << 16 | (h & 0xffff);
}

struct repl_ring *
repl_ring_of(struct collector *c)
{
	return c->master != NULL ? c->master->ring : NULL;
}

static void
set_protected(struct repl_master *m, int on, const char *why)
{
	if (m->c->conf->ack_mode_local)
		return;
	if (on && !m->protected)
		log_info("replication: protected (%s): acks wait for the standby", why);
	else if (!on && m->protected) {
		log_warnx("replication: UNPROTECTED (%s): acking without the standby", why);
		stats.repl_unprotected++;
	}
	m->protected = on;
	ingest_set_gate(m->c->ingest, on);
}

static void
absent_cb(evutil_socket_t fd, short what, void *arg)
{
	set_protected(arg, 0, "no standby within repl_timeout");
}

static void
arm_absent(struct repl_master *m)
{
	struct timeval tv;

	tv.tv_sec = (long)(m->c->conf->repl_timeout_ms / 1000);
	tv.tv_usec = (long)(m->c->conf->repl_timeout_ms % 1000) * 1000;
	evtimer_add(m->absent_ev, &tv);
}

/* Called by the store after every commit on this node while capturing (active role). */
static void
master_committed(void *arg, uint64_t pos, uint64_t term, const uint8_t *rec, size_t len)
{
	struct repl_master *m = arg;

	if (repl_ring_add(m->ring, pos, term, rec, len) == -1)
		log_warnx("replication: out of memory keeping position %llu",
		    (unsigned long long)pos);
	if (m->bev != NULL && m->state == SESS_STREAM)
		sess_pump(m);
}

/* Sends records from the ring while the standby keeps up. */
static void
sess_pump(struct repl_master *m)
{
	struct evbuffer *out = bufferevent_get_output(m->bev);
	const uint8_t *rec;
	size_t len;

	while (m->next_send <= store_pos(m->c->store) && evbuffer_get_length(out) < OUT_HIGH) {
		if ((rec = repl_ring_get(m->ring, m->next_send, &len, NULL)) == NULL) {
			sess_close(m, "the standby fell out of the record ring");
			return;
		}
		if (repl_send(out, REPL_RECORD, rec, len) == -1) {
			sess_close(m, "out of memory");
			return;
		}
		m->next_send++;
	}
}

static void *
snap_thread(void *arg)
{
	struct repl_master *m = arg;

	store_copy_fd(m->c->store, m->snap_wfd);
	close(m->snap_wfd);
	return NULL;
}

static void
snap_stop(struct repl_master *m)
{
	if (m->snap_ev != NULL) {
		event_free(m->snap_ev);
		m->snap_ev = NULL;
	}
	if (m->snap_fd >= 0) {
		close(m->snap_fd);
		m->snap_fd = -1;
	}
	if (m->thread_on) {
		pthread_join(m->thread, NULL);
		m->thread_on = 0;
	}
}

static void
snap_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[REPL_SNAP_CHUNK];
	struct repl_master *m = arg;
	struct evbuffer *out = bufferevent_get_output(m->bev);
	ssize_t n;
	int i;

	for (i = 0; i < 16 && evbuffer_get_length(out) < OUT_HIGH; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			snap_stop(m);
			repl_send(out, REPL_SNAP_END, NULL, 0);
			log_info("replication: snapshot sent to %s", m->peer);
			m->state = SESS_HELLO;
			return;
		}
		repl_send(out, REPL_SNAP_DATA, buf, (size_t)n);
	}
	/* Output is full: wait for the write callback. */
	if (evbuffer_get_length(out) >= OUT_HIGH)
		event_del(m->snap_ev);
}

static int
snap_start(struct repl_master *m, int diverged)
{
	uint8_t hdr[9];
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	m->snap_fd = p[0];
	m->snap_wfd = p[1];
	if (pthread_create(&m->thread, NULL, snap_thread, m) != 0) {
		close(p[0]);
		close(p[1]);
		m->snap_fd = -1;
		return -1;
	}
	m->thread_on = 1;
	if ((m->snap_ev = event_new(m->c->base, p[0], EV_READ | EV_PERSIST, snap_read_cb, m)) ==
	    NULL || event_add(m->snap_ev, NULL) == -1)
		return -1;
	hdr[0] = (uint8_t)diverged;
	store_put_be64(hdr + 1, store_pos(m->c->store));
	repl_send(bufferevent_get_output(m->bev), REPL_SNAP, hdr, sizeof(hdr));
	m->state = SESS_SNAPSHOT;
	stats.repl_snapshots++;
	log_info("replication: sending a snapshot at position %llu to %s (%s)",
	    (unsigned long long)store_pos(m->c->store), m->peer,
	    diverged ? "its history diverged" : "it is new or too far behind");
	return 0;
}

/* The standby says what it holds: stream from there, or send a snapshot. */
static void
on_hello(struct repl_master *m, uint64_t pos, uint64_t epoch)
{
	struct store *s = m->c->store;
	uint64_t ours = store_pos(s), e;
	size_t len;
	int diverged = -1;

	if (pos == ours)
		diverged = pos != 0 && epoch != store_term(s);
	else if (pos > ours)
		diverged = 1;
	else if (pos == 0 && repl_ring_first(m->ring) == 1)
		diverged = 0;
	else if (repl_ring_get(m->ring, pos, &len, &e) != NULL &&
	    repl_ring_get(m->ring, pos + 1, &len, NULL) != NULL)
		diverged = e != epoch;
	if (diverged == 0 || (pos == ours && diverged == 0)) {
		m->state = SESS_STREAM;
		m->next_send = pos + 1;
		m->peer_pos = pos;
		log_info("replication: %s at position %llu, streaming from %llu", m->peer,
		    (unsigned long long)pos, (unsigned long long)pos + 1);
		sess_pump(m);
		return;
	}
	/* Diverged, or not verifiable from the ring: the standby sets its store aside. */
	if (snap_start(m, diverged == 1) == -1)
		sess_close(m, "cannot start a snapshot");
}

static void
sess_read_cb(struct bufferevent *bev, void *arg)
{
	struct repl_master *m = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[FRAME_HDR + 1 + 16];
	size_t len;
	int i;

	for (i = 0; i < 1024; i++) {
		size_t avail = evbuffer_get_length(in);

		if (avail < FRAME_HDR)
			return;
		evbuffer_copyout(in, hdr, FRAME_HDR);
		if (frame_parse(hdr, avail, 64, &len) == FRAME_NEED_MORE)
			return;
		if (frame_parse(hdr, avail, 64, &len) != FRAME_READY) {
			sess_close(m, "bad frame from the standby");
			return;
		}
		evbuffer_remove(in, hdr, FRAME_HDR + len);
		switch (hdr[FRAME_HDR]) {
		case REPL_HELLO:
			if (len != 17 || m->state != SESS_HELLO) {
				sess_close(m, "unexpected hello");
				return;
			}
			on_hello(m, store_get_be64(hdr + FRAME_HDR + 1),
			    store_get_be64(hdr + FRAME_HDR + 9));
			if (m->bev == NULL)
				return;
			break;
		case REPL_ACK:
			if (len != 9) {
				sess_close(m, "bad ack");
				return;
			}
			m->peer_pos = store_get_be64(hdr + FRAME_HDR + 1);
			ingest_release(m->c->ingest, m->peer_pos);
			if (m->state == SESS_STREAM &&
			    m->peer_pos + CATCHUP_SLACK >= store_pos(m->c->store) &&
			    m->c->role != ROLE_NONE) {
				/* A standby that keeps up protects the acks again. */
				evtimer_del(m->absent_ev);
				if (!m->protected)
					set_protected(m, 1, "standby caught up");
			}
			break;
		default:
			sess_close(m, "unexpected message from the standby");
			return;
		}
	}
}

static void
sess_write_cb(struct bufferevent *bev, void *arg)
{
	struct repl_master *m = arg;

	if (m->state == SESS_STREAM)
		sess_pump(m);
	else if (m->state == SESS_SNAPSHOT && m->snap_ev != NULL)
		event_add(m->snap_ev, NULL);
}

static void
sess_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		sess_close(arg, what & BEV_EVENT_EOF ? "standby closed" : "standby lost");
}

static void
sess_close(struct repl_master *m, const char *why)
{
	if (m->bev == NULL)
		return;
	log_warnx("replication: session with %s ended: %s", m->peer, why);
	snap_stop(m);
	bufferevent_free(m->bev);
	m->bev = NULL;
	m->state = SESS_HELLO;
	/* Acks wait up to repl_timeout for a standby to come back, then go local. */
	if (m->protected)
		arm_absent(m);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen,
    void *arg)
{
	struct repl_master *m = arg;
	struct timeval tv;
	SSL *ssl = NULL;

	if (m->c->role == ROLE_STANDBY || m->c->role == ROLE_NONE) {
		/* Only the active serves a standby. */
		evutil_closesocket(fd);
		return;
	}
	if (m->bev != NULL)
		sess_close(m, "a new standby connection replaces it");
	if (tcp_nodelay(fd) == -1)
		log_warn("replication: TCP_NODELAY");
	if (m->tls != NULL && (ssl = SSL_new(m->tls)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	m->bev = ssl != NULL ?
	    bufferevent_openssl_socket_new(m->c->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(m->c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (m->bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if (sa->sa_family == AF_INET) {
		char a[INET_ADDRSTRLEN];
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		evutil_inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(m->peer, sizeof(m->peer), "%s:%u", a, ntohs(s4->sin_port));
	} else
		snprintf(m->peer, sizeof(m->peer), "standby");
	(void)socklen;
	m->state = SESS_HELLO;
	m->peer_pos = 0;
	bufferevent_setcb(m->bev, sess_read_cb, sess_write_cb, sess_event_cb, m);
	bufferevent_setwatermark(m->bev, EV_WRITE, OUT_HIGH / 2, 0);
	/* The standby acks at least every REPL_KEEPALIVE_MS; three missed ones end it. */
	tv.tv_sec = 3 * REPL_KEEPALIVE_MS / 1000;
	tv.tv_usec = (3 * REPL_KEEPALIVE_MS % 1000) * 1000;
	bufferevent_set_timeouts(m->bev, &tv, NULL);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
	log_info("replication: standby connected from %s", m->peer);
}

int
repl_master_start(struct collector *c, char *err, size_t errlen)
{
	struct repl_master *m;
	struct sockaddr_in sin;

	if (c->master != NULL)
		return 0;
	if ((m = xcalloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->c = c;
	m->snap_fd = -1;
	if ((m->ring = repl_ring_new(c->conf->repl_ring_bytes)) == NULL ||
	    (m->absent_ev = evtimer_new(c->base, absent_cb, m)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->conf->repl_tls_cert != NULL &&
	    (m->tls = tls_server_ctx(c->conf->repl_tls_cert, c->conf->repl_tls_key,
	    c->conf->repl_tls_ca, err, errlen)) == NULL)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(c->conf->repl_port);
	if (evutil_inet_pton(AF_INET, c->conf->repl_host, &sin.sin_addr) != 1) {
		snprintf(err, errlen, "repl_listen: %s is not an IPv4 address", c->conf->repl_host);
		goto fail;
	}
	m->listener = evconnlistener_new_bind(c->base, accept_cb, m, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 16, (struct sockaddr *)&sin, sizeof(sin));
	if (m->listener == NULL) {
		snprintf(err, errlen, "repl_listen %s:%u: %s", c->conf->repl_host,
		    c->conf->repl_port, strerror(errno));
		goto fail;
	}
	c->master = m;
	store_on_commit(c->store, master_committed, m);
	log_info("replication: listening on %s:%d%s", c->conf->repl_host, repl_master_port(c),
	    m->tls ? " (mutual TLS)" : "");
	return 0;
fail:
	repl_ring_free(m->ring);
	if (m->absent_ev != NULL)
		event_free(m->absent_ev);
	SSL_CTX_free(m->tls);
	xfree(m);
	return -1;
}

/* Becoming active: acks wait for a standby (unless ack_mode local) for up to repl_timeout. */
void
repl_master_activate(struct collector *c, int pregate)
{
	struct repl_master *m = c->master;

	if (m == NULL)
		return;
	store_capture(c->store, 1);
	if (c->conf->ack_mode_local || !pregate)
		return;
	if (m->bev == NULL || m->state != SESS_STREAM) {
		m->protected = 0;
		set_protected(m, 1, "active: waiting for the standby");
		arm_absent(m);
	}
}

void
repl_master_deactivate(struct collector *c)
{
	struct repl_master *m = c->master;

	if (m == NULL)
		return;
	sess_close(m, "this node is no longer active");
	store_capture(c->store, 0);
	evtimer_del(m->absent_ev);
	m->protected = 0;
	ingest_set_gate(c->ingest, 0);
}

void
repl_master_rebind(struct collector *c)
{
	if (c->master != NULL)
		store_on_commit(c->store, master_committed, c->master);
}

void
repl_master_stop(struct collector *c)
{
	struct repl_master *m = c->master;

	if (m == NULL)
		return;
	sess_close(m, "stopping");
	snap_stop(m);
	evconnlistener_free(m->listener);
	event_free(m->absent_ev);
	repl_ring_free(m->ring);
	SSL_CTX_free(m->tls);
	store_capture(c->store, 0);
	store_on_commit(c->store, NULL, NULL);
	c->master = NULL;
	xfree(m);
}

int
repl_master_connected(const struct collector *c)
{
	return c->master != NULL && c->master->bev != NULL;
}

uint64_t
repl_master_peer_pos(const struct collector *c)
{
	return c->master != NULL ? c->master->peer_pos : 0;
}

int
repl_master_protected(const struct collector *c)
{
	return c->master != NULL && c->master->protected;
}

int
repl_master_port(const struct collector *c)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (c->master == NULL || getsockname(evconnlistener_get_fd(c->master->listener),
	    (struct sockaddr *)&sin, &len) == -1)
		return 0;
	return ntohs(sin.sin_port);
}
