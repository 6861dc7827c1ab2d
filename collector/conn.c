/* Tandem — MIT licence. Agent connections: bounded framing, handshake FSM, fairness, backpressure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/conn.h"
#include "collector/ingest.h"
#include "collector/listener.h"
#include "collector/stats.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/msg.h"

#define FRAMES_PER_WAKEUP	64	/* then yield to other connections */
#define READ_CHUNK		(64 * 1024)
/*
 * Unread input kept per connection: small, so thousands of agents facing a busy collector
 * cannot pin gigabytes (5000 x 16 KiB = 80 MiB at most). A frame that needs more raises the
 * bound for itself only, up to frame_max.
 */
#define IN_HIGH			(16 * 1024)

struct conn {
	struct collector	*c;
	struct bufferevent	*bev;
	enum conn_state		 state;
	struct agent_state	*agent;
	uint64_t		 last_seq;	/* highest seq received on this connection */
	int			 paused;	/* reading stopped: replies not read by the peer */
	size_t			 in_high;	/* the read high watermark now */
	char			 peer[64];
	struct conn		*next, *prev;	/* every connection, for shutdown */
};

static struct conn *conns;

static void conn_read_cb(struct bufferevent *, void *);
static void conn_write_cb(struct bufferevent *, void *);
static void conn_event_cb(struct bufferevent *, short, void *);

const char *
conn_state_name(enum conn_state s)
{
	static const char *names[] = { "hello", "stream", "closing" };

	return (unsigned)s < CONN_ST_MAX ? names[s] : "unknown";
}

const char *
conn_event_name(enum conn_event e)
{
	static const char *names[] = { "hello", "batch", "unexpected", "bad-input", "timeout",
	    "eof", "flushed" };

	return (unsigned)e < CONN_EV_MAX ? names[e] : "unknown";
}

enum conn_action {
	CONN_ACT_NONE,
	CONN_ACT_STREAM,	/* Hello accepted: idle timeout from now on */
	CONN_ACT_FAIL,		/* Error frame already queued by the caller: close after flush */
	CONN_ACT_FREE,
};

/* The transition table: the only place a connection changes state. */
static const struct {
	enum conn_state		state;
	enum conn_event		event;
	enum conn_action	action;
	enum conn_state		next;
} conn_fsm_table[] = {
	{ CONN_ST_HELLO,	CONN_EV_HELLO,		CONN_ACT_STREAM,	CONN_ST_STREAM },
	{ CONN_ST_HELLO,	CONN_EV_BATCH,		CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_HELLO,	CONN_EV_UNEXPECTED,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_HELLO,	CONN_EV_BAD_INPUT,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_HELLO,	CONN_EV_TIMEOUT,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_HELLO,	CONN_EV_EOF,		CONN_ACT_FREE,		CONN_ST_CLOSING },
	{ CONN_ST_STREAM,	CONN_EV_BATCH,		CONN_ACT_NONE,		CONN_ST_STREAM },
	{ CONN_ST_STREAM,	CONN_EV_HELLO,		CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_STREAM,	CONN_EV_UNEXPECTED,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_STREAM,	CONN_EV_BAD_INPUT,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_STREAM,	CONN_EV_TIMEOUT,	CONN_ACT_FAIL,		CONN_ST_CLOSING },
	{ CONN_ST_STREAM,	CONN_EV_EOF,		CONN_ACT_FREE,		CONN_ST_CLOSING },
	{ CONN_ST_CLOSING,	CONN_EV_FLUSHED,	CONN_ACT_FREE,		CONN_ST_CLOSING },
	{ CONN_ST_CLOSING,	CONN_EV_EOF,		CONN_ACT_FREE,		CONN_ST_CLOSING },
	{ CONN_ST_CLOSING,	CONN_EV_TIMEOUT,	CONN_ACT_FREE,		CONN_ST_CLOSING },
};

static void
conn_free(struct conn *cn)
{
	struct collector *c = cn->c;

	if (cn->agent != NULL)
		ingest_unbind(c->ingest, cn->agent, cn);
	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	bufferevent_free(cn->bev);
	xfree(cn);
	c->nconns--;
	stats.conns_open--;
	listener_conn_closed(c);
}

/*
 * Runs one event through the table. Returns 0 when the connection lives on, -1 when it was
 * freed (the caller must not touch it again).
 */
static int
conn_fsm(struct conn *cn, enum conn_event ev)
{
	struct timeval tv;
	size_t i;

	for (i = 0; i < sizeof(conn_fsm_table) / sizeof(conn_fsm_table[0]); i++)
		if (conn_fsm_table[i].state == cn->state && conn_fsm_table[i].event == ev)
			break;
	if (i == sizeof(conn_fsm_table) / sizeof(conn_fsm_table[0])) {
		log_debug("conn %s: event %s ignored in state %s", cn->peer, conn_event_name(ev),
		    conn_state_name(cn->state));
		return 0;
	}
	if (cn->state != conn_fsm_table[i].next)
		log_debug("conn %s: %s -> %s on %s", cn->peer, conn_state_name(cn->state),
		    conn_state_name(conn_fsm_table[i].next), conn_event_name(ev));
	cn->state = conn_fsm_table[i].next;
	switch (conn_fsm_table[i].action) {
	case CONN_ACT_NONE:
		break;
	case CONN_ACT_STREAM:
		tv.tv_sec = (long)(cn->c->conf->idle_timeout_ms / 1000);
		tv.tv_usec = (long)(cn->c->conf->idle_timeout_ms % 1000) * 1000;
		bufferevent_set_timeouts(cn->bev, &tv, NULL);
		break;
	case CONN_ACT_FAIL:
		bufferevent_disable(cn->bev, EV_READ);
		tv.tv_sec = (long)(cn->c->conf->write_timeout_ms / 1000);
		tv.tv_usec = (long)(cn->c->conf->write_timeout_ms % 1000) * 1000;
		bufferevent_set_timeouts(cn->bev, NULL, &tv);
		bufferevent_setwatermark(cn->bev, EV_WRITE, 0, 0);
		if (evbuffer_get_length(bufferevent_get_output(cn->bev)) == 0) {
			conn_free(cn);
			return -1;
		}
		break;
	case CONN_ACT_FREE:
		conn_free(cn);
		return -1;
	}
	return 0;
}

static void
conn_error_frame(struct conn *cn, int code, const char *reason)
{
	if (code > 0 && code < STATS_ERR_CODES)
		stats.errors[code]++;
	if (code != TANDEM__ERROR_CODE__ERR_REPLACED && code != TANDEM__ERROR_CODE__ERR_SHUTDOWN &&
	    code != TANDEM__ERROR_CODE__ERR_STORE_FULL)
		log_info("conn %s%s%s: %s: %s", cn->peer, cn->agent ? " agent " : "",
		    cn->agent ? cn->agent->id : "", msg_error_name(code), reason);
	msg_send_error(bufferevent_get_output(cn->bev), code, "%s", reason);
}

void
conn_fail(struct conn *cn, int code, const char *fmt, ...)
{
	char reason[MSG_MAX_REASON + 1];
	va_list ap;

	if (cn->state == CONN_ST_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	conn_error_frame(cn, code, reason);
	conn_fsm(cn, CONN_EV_BAD_INPUT);
}

void
conn_detach(struct conn *cn)
{
	cn->agent = NULL;
}

static void
conn_pause(struct conn *cn)
{
	if (cn->paused || cn->state == CONN_ST_CLOSING)
		return;
	cn->paused = 1;
	stats.read_pauses++;
	bufferevent_disable(cn->bev, EV_READ);
	/* conn_write_cb resumes once the peer has read half of it. */
	bufferevent_setwatermark(cn->bev, EV_WRITE, cn->c->conf->conn_out_max / 2, 0);
}

void
conn_send_ack(struct conn *cn, uint64_t upto_seq)
{
	struct evbuffer *out = bufferevent_get_output(cn->bev);

	if (cn->state == CONN_ST_CLOSING && cn->c->draining == 0)
		return;
	if (msg_send_ack(out, upto_seq) == 0)
		stats.acks++;
	if (evbuffer_get_length(out) > cn->c->conf->conn_out_max)
		conn_pause(cn);
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
conn_on_hello(struct conn *cn, const struct msg *m)
{
	const Tandem__Hello *h = m->m->hello;
	const char *want;
	char err[MSG_MAX_REASON];
	int code;

	if (cn->state != CONN_ST_HELLO) {
		conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_UNEXPECTED, "a second Hello");
		return conn_fsm(cn, CONN_EV_HELLO);
	}
	if (!h->has_version || h->version != MSG_VERSION) {
		snprintf(err, sizeof(err), "protocol version %u is not supported (this collector "
		    "speaks %d)", h->has_version ? h->version : 0, MSG_VERSION);
		conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_VERSION, err);
		return conn_fsm(cn, CONN_EV_BAD_INPUT);
	}
	want = collector_conf_token_for(cn->c->conf, h->agent_id);
	if (want != NULL) {
		const char *got = h->token != NULL ? h->token : "";
		size_t wl = strlen(want), gl = strlen(got);

		if (wl != gl || CRYPTO_memcmp(want, got, wl) != 0) {
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_AUTH,
			    got[0] == '\0' ? "token missing" : "wrong token");
			return conn_fsm(cn, CONN_EV_BAD_INPUT);
		}
	}
	if (!collector_accepting(cn->c)) {
		conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_SHUTDOWN, cn->c->draining ?
		    "collector is stopping" : cn->c->paused ? "switching over: reconnect" :
		    "not the active node");
		return conn_fsm(cn, CONN_EV_BAD_INPUT);
	}
	cn->agent = ingest_hello(cn->c->ingest, cn, h->agent_id, h->app, &code, err, sizeof(err));
	if (cn->agent == NULL) {
		conn_error_frame(cn, code, err);
		return conn_fsm(cn, CONN_EV_BAD_INPUT);
	}
	stats.hellos++;
	log_debug("conn %s: hello from agent %s app %s, stored seq %llu", cn->peer, h->agent_id,
	    h->app, (unsigned long long)cn->agent->rec.stored_seq);
	msg_send_welcome(bufferevent_get_output(cn->bev), cn->agent->rec.stored_seq,
	    cn->c->conf->node_name);
	return conn_fsm(cn, CONN_EV_HELLO);
}

static int
conn_on_batch(struct conn *cn, const struct msg *m)
{
	char err[MSG_MAX_REASON];
	int code;

	if (cn->state != CONN_ST_STREAM) {
		conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_UNEXPECTED, "events before Hello");
		return conn_fsm(cn, CONN_EV_BATCH);
	}
	code = ingest_batch(cn->c->ingest, cn->agent, &cn->last_seq, m, err, sizeof(err));
	if (code != 0) {
		/* A failed transaction may already have failed this connection. */
		if (cn->state == CONN_ST_CLOSING)
			return 0;
		conn_error_frame(cn, code, err);
		return conn_fsm(cn, CONN_EV_BAD_INPUT);
	}
	if (cn->agent == NULL) {
		/* Detached by a failed commit (already closing). */
		return 0;
	}
	return conn_fsm(cn, CONN_EV_BATCH);
}

/* Handles one whole frame body. 0 to go on, -1 when the connection was freed or is closing. */
static int
conn_frame(struct conn *cn, const uint8_t *body, size_t len)
{
	struct collector *c = cn->c;
	char err[MSG_MAX_REASON];
	struct msg m;
	int code, rv;

	stats.frames_in++;
	stats.bytes_in += FRAME_HDR + len;
	code = msg_decode(body, len, &c->arena, wall_ms(), &m, err, sizeof(err));
	if (code != 0) {
		conn_error_frame(cn, code, err);
		rv = conn_fsm(cn, CONN_EV_BAD_INPUT);
	} else {
		switch (m.type) {
		case MSGT_HELLO:
			rv = conn_on_hello(cn, &m);
			break;
		case MSGT_BATCH:
			rv = conn_on_batch(cn, &m);
			break;
		default:
			snprintf(err, sizeof(err), "unexpected %s message from an agent",
			    msg_type_name(m.type));
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_UNEXPECTED, err);
			rv = conn_fsm(cn, CONN_EV_UNEXPECTED);
			break;
		}
	}
	arena_reset(&c->arena);
	if (rv == -1)
		return -1;
	return cn->state == CONN_ST_CLOSING ? -1 : 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[FRAME_HDR];
	const uint8_t *body;
	size_t avail, len;
	int frames;

	for (frames = 0; frames < FRAMES_PER_WAKEUP; frames++) {
		if (cn->state == CONN_ST_CLOSING || cn->paused || cn->c->paused)
			return;
		avail = evbuffer_get_length(in);
		if (avail < FRAME_HDR)
			return;
		evbuffer_copyout(in, hdr, FRAME_HDR);
		switch (frame_parse(hdr, avail, cn->c->conf->frame_max, &len)) {
		case FRAME_NEED_MORE:
			if (FRAME_HDR + len > cn->in_high) {
				/* A big frame: room for exactly it, then back to the small bound. */
				cn->in_high = FRAME_HDR + len;
				bufferevent_setwatermark(bev, EV_READ, 0, cn->in_high);
			}
			return;
		case FRAME_ERR_ZERO:
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_FRAME, "frame of length 0");
			conn_fsm(cn, CONN_EV_BAD_INPUT);
			return;
		case FRAME_ERR_TOO_LARGE:
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_TOO_LARGE, "frame length over "
			    "the cap");
			conn_fsm(cn, CONN_EV_BAD_INPUT);
			return;
		case FRAME_READY:
			break;
		}
		if ((body = evbuffer_pullup(in, (ssize_t)(FRAME_HDR + len))) == NULL) {
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_STORE, "out of memory");
			conn_fsm(cn, CONN_EV_BAD_INPUT);
			return;
		}
		if (conn_frame(cn, body + FRAME_HDR, len) == -1)
			return;
		evbuffer_drain(in, FRAME_HDR + len);
		if (cn->in_high != IN_HIGH) {
			cn->in_high = IN_HIGH;
			bufferevent_setwatermark(bev, EV_READ, 0, IN_HIGH);
		}
	}
	/* Yield: let other connections in, come back for the rest. */
	if (evbuffer_get_length(in) >= FRAME_HDR)
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
		    BEV_TRIG_DEFER_CALLBACKS);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;

	if (cn->state == CONN_ST_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_fsm(cn, CONN_EV_FLUSHED);
		return;
	}
	if (cn->paused) {
		cn->paused = 0;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_input(bev)) >= FRAME_HDR)
			bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *cn = arg;
	size_t left;

	if (what & BEV_EVENT_TIMEOUT) {
		if (cn->state != CONN_ST_CLOSING)
			conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_IDLE, cn->state ==
			    CONN_ST_HELLO ? "no Hello in time" : "idle for too long");
		conn_fsm(cn, CONN_EV_TIMEOUT);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		left = evbuffer_get_length(bufferevent_get_input(bev));
		if (left > 0 && cn->state != CONN_ST_CLOSING) {
			stats.errors[TANDEM__ERROR_CODE__ERR_FRAME]++;
			log_info("conn %s: truncated frame: %zu bytes left at close", cn->peer,
			    left);
		}
		conn_fsm(cn, CONN_EV_EOF);
	}
}

void
conn_accept(struct collector *c, evutil_socket_t fd, const struct sockaddr *sa, int socklen,
    SSL *ssl)
{
	struct conn *cn;
	struct timeval tv;
	char addr[INET6_ADDRSTRLEN];
	int port = 0;

	if ((cn = xcalloc(1, sizeof(*cn))) == NULL) {
		log_warnx("%s: out of memory", __func__);
		if (ssl != NULL)
			SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	addr[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
	}
	(void)socklen;
	snprintf(cn->peer, sizeof(cn->peer), "%s:%d", addr, port);
	cn->c = c;
	cn->state = CONN_ST_HELLO;
	if (ssl != NULL)
		cn->bev = bufferevent_openssl_socket_new(c->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	else
		cn->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cn->bev == NULL) {
		log_warnx("%s: bufferevent failed", __func__);
		if (ssl != NULL)
			SSL_free(ssl);
		evutil_closesocket(fd);
		xfree(cn);
		return;
	}
	bufferevent_set_max_single_read(cn->bev, READ_CHUNK);
	cn->in_high = IN_HIGH;
	bufferevent_setwatermark(cn->bev, EV_READ, 0, IN_HIGH);
	bufferevent_setcb(cn->bev, conn_read_cb, conn_write_cb, conn_event_cb, cn);
	tv.tv_sec = (long)(c->conf->hello_timeout_ms / 1000);
	tv.tv_usec = (long)(c->conf->hello_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(cn->bev, &tv, NULL);
	bufferevent_enable(cn->bev, EV_READ | EV_WRITE);
	cn->next = conns;
	if (conns != NULL)
		conns->prev = cn;
	conns = cn;
	c->nconns++;
	stats.conns_open++;
	stats.conns_accepted++;
}

void
conn_stop_reading_all(struct collector *c)
{
	struct conn *cn;

	for (cn = conns; cn != NULL; cn = cn->next)
		bufferevent_disable(cn->bev, EV_READ);
}

void
conn_resume_reading_all(struct collector *c)
{
	struct conn *cn;

	for (cn = conns; cn != NULL; cn = cn->next)
		if (cn->state != CONN_ST_CLOSING && !cn->paused) {
			bufferevent_enable(cn->bev, EV_READ);
			if (evbuffer_get_length(bufferevent_get_input(cn->bev)) >= FRAME_HDR)
				bufferevent_trigger(cn->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
				    BEV_TRIG_DEFER_CALLBACKS);
		}
}

void
conn_close_all(struct collector *c)
{
	struct conn *cn, *next;

	for (cn = conns; cn != NULL; cn = next) {
		next = cn->next;
		if (cn->state == CONN_ST_CLOSING)
			continue;
		conn_error_frame(cn, TANDEM__ERROR_CODE__ERR_SHUTDOWN,
		    "collector is stopping: reconnect");
		conn_fsm(cn, CONN_EV_BAD_INPUT);
	}
}

void
conn_free_all(struct collector *c)
{
	while (conns != NULL)
		conn_free(conns);
}
