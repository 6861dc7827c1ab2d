/* Tandem — MIT licence. Agent library: connection FSM, Hello/Welcome/Ack handling, batching. */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "agent/agent.h"
#include "agent/agent_tls.h"
#include "agent/window.h"
#include "common/arena.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/msg.h"

#define AGENT_DEF_MAX_EVENTS	65536
#define AGENT_DEF_MAX_BYTES	(16u * 1024 * 1024)
#define AGENT_DEF_BATCH		64
#define AGENT_DEF_LINGER_US	1000
#define AGENT_DEF_BACKOFF_MIN	50
#define AGENT_DEF_BACKOFF_MAX	5000
#define AGENT_DEF_HANDSHAKE_MS	5000
#define AGENT_REPLY_MAX		(64 * 1024)	/* collector replies are small */
#define AGENT_ARENA		(16 * 1024)
#define AGENT_READ_HIGH		(256 * 1024)	/* bounds the input buffer and frames per read */
#define AGENT_BATCH_BYTES	(FRAME_MAX_DEFAULT - MSG_BATCH_PREFIX_MAX)
/* Larger than any event msg_check_event() accepts (log 8 KiB, txn with 16 attributes). */
#define AGENT_SCRATCH		(16 * 1024)

enum agent_state {
	AGENT_ST_IDLE,		/* not started, or stopped */
	AGENT_ST_CONNECTING,	/* TCP (and TLS) connect in progress */
	AGENT_ST_HELLO,		/* Hello sent, waiting for Welcome */
	AGENT_ST_STREAM,	/* sending batches, receiving acks */
	AGENT_ST_BACKOFF,	/* waiting before the next attempt */
	AGENT_ST_MAX,
};

enum agent_ev {
	AGENT_EV_START,
	AGENT_EV_STOP,
	AGENT_EV_CONNECTED,
	AGENT_EV_WELCOME,
	AGENT_EV_FAIL,		/* I/O error, EOF, Error frame, protocol violation, timeout */
	AGENT_EV_TIMER,		/* backoff expired */
	AGENT_EV_MAX,
};

struct tandem_agent {
	struct event_base	*base;
	char			*collectors[TANDEM_AGENT_MAX_COLLECTORS];
	unsigned		 ncollectors;
	unsigned		 next_collector;
	char			*agent_id, *app, *host, *token, *tls_server_name;
	unsigned		 batch, batch_eff, linger_us;
	unsigned		 backoff_min, backoff_max, backoff_cur, handshake_ms;
	struct window		 win;
	struct hist		*hist, *own_hist;
	SSL_CTX			*ssl_ctx;
	struct bufferevent	*bev;
	struct event		*conn_timer;	/* backoff, or handshake timeout */
	struct event		*linger_ev;
	const struct timeval	*linger_tv;	/* a libevent common timeout */
	int			 linger_armed;
	struct event		*flush_ev;
	void			(*flush_cb)(struct tandem_agent *, void *);
	void			*flush_arg;
	void			(*on_acked)(struct tandem_agent *, void *);
	void			*cb_arg;
	enum agent_state	 state;
	struct arena		 arena;
	int			 welcomed_once;	/* a Welcome arrived in this process */
	int			 ever_acked;	/* an ack arrived in this process */
	int			 failing;	/* consecutive failures: log them at debug level */
	uint64_t		 max_sent_seq;	/* highest seq ever written */
	uint64_t		 welcome_seq;	/* stored_seq of the Welcome being handled */
	unsigned		 welcome_max_batch;
	const char		*reason;	/* why AGENT_EV_FAIL was raised */
	char			 reason_buf[320];
	uint64_t		 rng;
	int64_t			 wall_off_us;	/* realtime - monotonic */
	uint64_t		 wall_off_at;
	struct tandem_agent_stats st;
	uint8_t			 scratch[AGENT_SCRATCH];
};

static void	agent_fsm(struct tandem_agent *, enum agent_ev);
static void	agent_pump(struct tandem_agent *, int force);
static void	agent_read_cb(struct bufferevent *, void *);
static void	agent_event_cb(struct bufferevent *, short, void *);

static const char *
agent_state_name(enum agent_state s)
{
	static const char *names[] = { "idle", "connecting", "hello", "stream", "backoff" };

	return (unsigned)s < AGENT_ST_MAX ? names[s] : "unknown";
}

static const char *
agent_ev_name(enum agent_ev e)
{
	static const char *names[] = { "start", "stop", "connected", "welcome", "fail",
	    "timer" };

	return (unsigned)e < AGENT_EV_MAX ? names[e] : "unknown";
}

static uint64_t
agent_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wall-clock milliseconds derived from the monotonic clock; re-anchored once a second. */
static int64_t
agent_now_ms(struct tandem_agent *ag, uint64_t mono)
{
	struct timespec ts;

	if (ag->wall_off_at == 0 || mono - ag->wall_off_at > 1000000) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ag->wall_off_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 -
		    (int64_t)mono;
		ag->wall_off_at = mono;
	}
	return ((int64_t)mono + ag->wall_off_us) / 1000;
}

static uint64_t
agent_rand(struct tandem_agent *ag)
{
	/* xorshift64*: jitter only, no quality needed. */
	ag->rng ^= ag->rng >> 12;
	ag->rng ^= ag->rng << 25;
	ag->rng ^= ag->rng >> 27;
	return ag->rng * UINT64_C(2685821657736338717);
}

static void
agent_set_reason(struct tandem_agent *ag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
agent_set_reason(struct tandem_agent *ag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ag->reason_buf, sizeof(ag->reason_buf), fmt, ap);
	va_end(ap);
	ag->reason = ag->reason_buf;
}

static void
agent_fail(struct tandem_agent *ag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Raises AGENT_EV_FAIL with a reason. The bufferevent is gone when this returns. */
static void
agent_fail(struct tandem_agent *ag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ag->reason_buf, sizeof(ag->reason_buf), fmt, ap);
	va_end(ap);
	ag->reason = ag->reason_buf;
	agent_fsm(ag, AGENT_EV_FAIL);
}

static void
agent_close(struct tandem_agent *ag)
{
	if (ag->bev != NULL) {
		bufferevent_free(ag->bev);
		ag->bev = NULL;
	}
	evtimer_del(ag->conn_timer);
	evtimer_del(ag->linger_ev);
	ag->linger_armed = 0;
	window_rewind(&ag->win);
	ag->st.connected = 0;
}

/* --- sending ------------------------------------------------------------------------- */

static void
agent_arm_linger(struct tandem_agent *ag)
{
	if (!ag->linger_armed) {
		ag->linger_armed = 1;
		evtimer_add(ag->linger_ev, ag->linger_tv);
	}
}

/* Writes one batch frame: prefix, then the window's wire bytes as they are. 0 or -1. */
static int
agent_write_batch(struct tandem_agent *ag, uint64_t first, const uint8_t *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(ag->bev);
	uint8_t prefix[MSG_BATCH_PREFIX_MAX];
	struct evbuffer_iovec v;
	size_t plen;

	plen = msg_batch_prefix(prefix, first, len);
	if (evbuffer_reserve_space(out, plen + len, &v, 1) < 1)
		return -1;
	memcpy(v.iov_base, prefix, plen);
	memcpy((uint8_t *)v.iov_base + plen, body, len);
	v.iov_len = plen + len;
	return evbuffer_commit_space(out, &v, 1);
}

/*
 * Sends whole batches of unsent events; with force, the last partial batch too. A partial
 * batch left behind arms the linger timer.
 */
static void
agent_pump(struct tandem_agent *ag, int force)
{
	const uint8_t *body;
	uint64_t first, last;
	size_t n, len;

	while (ag->state == AGENT_ST_STREAM) {
		n = window_peek_unsent(&ag->win, ag->batch_eff, AGENT_BATCH_BYTES, &first,
		    &body, &len);
		if (n == 0)
			return;
		if (n < ag->batch_eff && !force) {
			agent_arm_linger(ag);
			return;
		}
		if (agent_write_batch(ag, first, body, len) == -1) {
			agent_fail(ag, "out of memory writing a batch");
			return;
		}
		last = first + n - 1;
		if (ag->max_sent_seq >= first)
			ag->st.resent += (ag->max_sent_seq >= last ? n :
			    (size_t)(ag->max_sent_seq - first + 1));
		if (last > ag->max_sent_seq)
			ag->max_sent_seq = last;
		window_mark_sent(&ag->win, n, len);
		ag->st.sent += n;
		ag->st.frames++;
	}
}

static void
agent_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tandem_agent *ag = arg;

	ag->linger_armed = 0;
	agent_pump(ag, 1);
}

static void
agent_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tandem_agent *ag = arg;
	void (*cb)(struct tandem_agent *, void *) = ag->flush_cb;

	if (cb == NULL || ag->win.count > 0)
		return;
	ag->flush_cb = NULL;
	cb(ag, ag->flush_arg);
}

static void
agent_acked(struct tandem_agent *ag, size_t n)
{
	if (n == 0)
		return;
	ag->st.acked += n;
	ag->ever_acked = 1;
	if (ag->win.count == 0 && ag->flush_cb != NULL)
		event_active(ag->flush_ev, EV_TIMEOUT, 1);
	if (ag->on_acked != NULL)
		ag->on_acked(ag, ag->cb_arg);
}

/* --- FSM actions --------------------------------------------------------------------- */

/* Splits "host:port" or "[v6]:port". 0 or -1. */
static int
agent_split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = addr, *hend;

	if (addr[0] == '[') {
		h = addr + 1;
		if ((hend = strchr(h, ']')) == NULL || hend[1] != ':')
			return -1;
		colon = hend + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return -1;
		hend = colon;
	}
	if (hend == h || (size_t)(hend - h) >= hostlen || colon[1] == '\0' ||
	    strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, h, hend - h);
	host[hend - h] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int
act_connect(struct tandem_agent *ag)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[16], err[256];
	const char *addr;
	struct timeval tv;
	SSL *ssl;
	int rc;

	addr = ag->collectors[ag->next_collector];
	ag->next_collector = (ag->next_collector + 1) % ag->ncollectors;
	if (ag->st.connects + ag->st.disconnects > 0)
		ag->st.reconnects++;
	if (agent_split_addr(addr, host, sizeof(host), port, sizeof(port)) == -1) {
		agent_set_reason(ag, "bad collector address %s", addr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	/* XXX blocking resolution for host names; collectors are normally IP literals. */
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		agent_set_reason(ag, "resolve %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	if (ag->ssl_ctx != NULL) {
		ssl = agent_tls_ssl_new(ag->ssl_ctx,
		    ag->tls_server_name ? ag->tls_server_name : host, err, sizeof(err));
		if (ssl == NULL) {
			agent_set_reason(ag, "%s", err);
			goto fail;
		}
		ag->bev = bufferevent_openssl_socket_new(ag->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (ag->bev == NULL) {
			SSL_free(ssl);
		} else
			bufferevent_openssl_set_allow_dirty_shutdown(ag->bev, 1);
	} else
		ag->bev = bufferevent_socket_new(ag->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (ag->bev == NULL) {
		agent_set_reason(ag, "cannot create a bufferevent");
		goto fail;
	}
	bufferevent_setwatermark(ag->bev, EV_READ, 0, AGENT_READ_HIGH);
	/*
	 * libevent 2.1 reports even an immediate connect failure from the loop, never from
	 * inside bufferevent_socket_connect(), so the callbacks cannot re-enter the FSM here.
	 */
	bufferevent_setcb(ag->bev, agent_read_cb, NULL, agent_event_cb, ag);
	if (bufferevent_enable(ag->bev, EV_READ | EV_WRITE) == -1) {
		agent_set_reason(ag, "cannot enable the connection");
		goto fail;
	}
	if (bufferevent_socket_connect(ag->bev, res->ai_addr, (int)res->ai_addrlen) == -1) {
		agent_set_reason(ag, "connect %s: %s", addr,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	freeaddrinfo(res);
	tv.tv_sec = ag->handshake_ms / 1000;
	tv.tv_usec = (ag->handshake_ms % 1000) * 1000;
	evtimer_add(ag->conn_timer, &tv);
	log_debug("%s: connecting to %s", ag->agent_id, addr);
	return 0;
 fail:
	freeaddrinfo(res);
	return -1;
}

static int
act_hello(struct tandem_agent *ag)
{
	evutil_socket_t fd = bufferevent_getfd(ag->bev);
	int one = 1;

	/* We batch ourselves; Nagle would only add latency to acks we wait for. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (msg_send_hello(bufferevent_get_output(ag->bev), ag->agent_id, ag->app, ag->host,
	    ag->token) == -1) {
		agent_set_reason(ag, "out of memory writing Hello");
		return -1;
	}
	return 0;
}

static int
act_welcome(struct tandem_agent *ag)
{
	uint64_t s = ag->welcome_seq;
	size_t n;

	evtimer_del(ag->conn_timer);
	if (!ag->welcomed_once && !ag->ever_acked) {
		/*
		 * A fresh process numbers from 1; the collector may hold our previous life's
		 * events. Seqs live only in batch headers, so renumbering is one assignment.
		 */
		if (ag->win.base_seq <= s) {
			ag->st.renumbered += ag->win.count;
			if (ag->win.count > 0)
				log_info("%s: renumbering %zu pending events from %llu to %llu",
				    ag->agent_id, ag->win.count,
				    (unsigned long long)ag->win.base_seq,
				    (unsigned long long)s + 1);
			window_renumber(&ag->win, s + 1);
		}
	} else {
		/* Whatever the collector stored is durable: those events count as acked. */
		n = window_ack(&ag->win, s, 0, agent_mono_us(), ag->hist);
		if (s >= window_next_seq(&ag->win)) {
			log_warnx("%s: collector stored seq %llu beyond ours (%llu); "
			    "continuing after it", ag->agent_id, (unsigned long long)s,
			    (unsigned long long)window_next_seq(&ag->win) - 1);
			window_renumber(&ag->win, s + 1);
		}
		agent_acked(ag, n);
	}
	ag->welcomed_once = 1;
	ag->st.stored_seq = s;
	ag->st.connects++;
	ag->st.connected = 1;
	ag->failing = 0;
	ag->backoff_cur = ag->backoff_min;
	ag->batch_eff = ag->batch;
	if (ag->welcome_max_batch > 0 && ag->welcome_max_batch < ag->batch_eff)
		ag->batch_eff = ag->welcome_max_batch;
	window_rewind(&ag->win);
	agent_pump(ag, 1);
	return 0;
}

static int
act_backoff(struct tandem_agent *ag)
{
	struct timeval tv;
	unsigned delay;

	ag->st.disconnects++;
	if (ag->failing++ == 0 || log_getverbose() > 0)
		log_warnx("%s: connection lost (%s); retrying", ag->agent_id,
		    ag->reason ? ag->reason : "unknown");
	agent_close(ag);
	/* Full jitter over the upper half: [cur/2, cur]. */
	delay = ag->backoff_cur / 2 + (unsigned)(agent_rand(ag) % (ag->backoff_cur / 2 + 1));
	if (ag->backoff_cur < ag->backoff_max)
		ag->backoff_cur = ag->backoff_cur * 2 > ag->backoff_max ? ag->backoff_max :
		    ag->backoff_cur * 2;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(ag->conn_timer, &tv);
	return 0;
}

static int
act_close(struct tandem_agent *ag)
{
	agent_close(ag);
	return 0;
}

static const struct {
	enum agent_state	 state;
	enum agent_ev		 ev;
	int			(*action)(struct tandem_agent *);
	enum agent_state	 next;
} agent_fsm_tab[] = {
	{ AGENT_ST_IDLE,	AGENT_EV_START,		act_connect,	AGENT_ST_CONNECTING },
	{ AGENT_ST_CONNECTING,	AGENT_EV_CONNECTED,	act_hello,	AGENT_ST_HELLO },
	{ AGENT_ST_CONNECTING,	AGENT_EV_FAIL,		act_backoff,	AGENT_ST_BACKOFF },
	{ AGENT_ST_CONNECTING,	AGENT_EV_STOP,		act_close,	AGENT_ST_IDLE },
	{ AGENT_ST_HELLO,	AGENT_EV_WELCOME,	act_welcome,	AGENT_ST_STREAM },
	{ AGENT_ST_HELLO,	AGENT_EV_FAIL,		act_backoff,	AGENT_ST_BACKOFF },
	{ AGENT_ST_HELLO,	AGENT_EV_STOP,		act_close,	AGENT_ST_IDLE },
	{ AGENT_ST_STREAM,	AGENT_EV_FAIL,		act_backoff,	AGENT_ST_BACKOFF },
	{ AGENT_ST_STREAM,	AGENT_EV_STOP,		act_close,	AGENT_ST_IDLE },
	{ AGENT_ST_BACKOFF,	AGENT_EV_TIMER,		act_connect,	AGENT_ST_CONNECTING },
	{ AGENT_ST_BACKOFF,	AGENT_EV_STOP,		act_close,	AGENT_ST_IDLE },
};

static void
agent_fsm(struct tandem_agent *ag, enum agent_ev ev)
{
	enum agent_state prev = ag->state;
	size_t i;

	for (i = 0; i < sizeof(agent_fsm_tab) / sizeof(agent_fsm_tab[0]); i++)
		if (agent_fsm_tab[i].state == prev && agent_fsm_tab[i].ev == ev)
			break;
	if (i == sizeof(agent_fsm_tab) / sizeof(agent_fsm_tab[0])) {
		log_debug("%s: event %s ignored in state %s", ag->agent_id, agent_ev_name(ev),
		    agent_state_name(prev));
		return;
	}
	/* The next state is set first: actions such as act_welcome already stream. */
	ag->state = agent_fsm_tab[i].next;
	log_debug("%s: %s -[%s]-> %s", ag->agent_id, agent_state_name(prev),
	    agent_ev_name(ev), agent_state_name(ag->state));
	if (agent_fsm_tab[i].action(ag) == -1) {
		ag->state = AGENT_ST_BACKOFF;
		act_backoff(ag);
		return;
	}
	ag->reason = NULL;
}

/* --- network callbacks --------------------------------------------------------------- */

static void
agent_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tandem_agent *ag = arg;

	if (ag->state == AGENT_ST_BACKOFF)
		agent_fsm(ag, AGENT_EV_TIMER);
	else
		agent_fail(ag, "no Welcome within %u ms", ag->handshake_ms);
}

static void
agent_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tandem_agent *ag = arg;
	unsigned long e;
	char buf[160];

	if (what & BEV_EVENT_CONNECTED) {
		agent_fsm(ag, AGENT_EV_CONNECTED);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		agent_fail(ag, "connection closed by the collector");
		return;
	}
	if (ag->ssl_ctx != NULL && (e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		agent_fail(ag, "TLS: %s", buf);
		return;
	}
	agent_fail(ag, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Handles one decoded reply. 0, or -1 once the connection has been failed. */
static int
agent_handle(struct tandem_agent *ag, const struct msg *m)
{
	const Tandem__Welcome *w;
	const Tandem__Error *e;
	size_t n;
	int code;

	switch (m->type) {
	case MSGT_WELCOME:
		if (ag->state != AGENT_ST_HELLO) {
			agent_fail(ag, "Welcome while %s", agent_state_name(ag->state));
			return -1;
		}
		w = m->m->welcome;
		if (w->has_version && w->version != MSG_VERSION) {
			agent_fail(ag, "collector speaks protocol version %u", w->version);
			return -1;
		}
		ag->welcome_seq = w->has_stored_seq ? w->stored_seq : 0;
		ag->welcome_max_batch = w->has_max_batch ? w->max_batch : 0;
		log_debug("%s: welcome from %s, stored_seq %llu", ag->agent_id,
		    w->node ? w->node : "?", (unsigned long long)ag->welcome_seq);
		agent_fsm(ag, AGENT_EV_WELCOME);
		return ag->state == AGENT_ST_STREAM ? 0 : -1;
	case MSGT_ACK:
		if (ag->state != AGENT_ST_STREAM) {
			agent_fail(ag, "Ack before Welcome");
			return -1;
		}
		if (!m->m->ack->has_upto_seq)
			return 0;
		if (m->m->ack->upto_seq >= ag->win.base_seq + ag->win.nsent)
			log_debug("%s: ack %llu beyond what was sent (%llu)", ag->agent_id,
			    (unsigned long long)m->m->ack->upto_seq,
			    (unsigned long long)(ag->win.base_seq + ag->win.nsent - 1));
		n = window_ack(&ag->win, m->m->ack->upto_seq, 1, agent_mono_us(), ag->hist);
		agent_acked(ag, n);
		return 0;
	case MSGT_ERROR:
		e = m->m->error;
		code = e->has_code ? (int)e->code : 0;
		ag->st.errors[code >= 0 && code < TANDEM_AGENT_ERR_CODES ? code : 0]++;
		agent_fail(ag, "collector error %s: %s", msg_error_name(code),
		    e->reason ? e->reason : "");
		return -1;
	default:
		agent_fail(ag, "unexpected %s from the collector", msg_type_name(m->type));
		return -1;
	}
}

static void
agent_read_cb(struct bufferevent *bev, void *arg)
{
	struct tandem_agent *ag = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char err[MSG_MAX_REASON + 64];
	enum frame_status fs;
	const uint8_t *p;
	size_t avail, blen;
	struct msg m;
	int rc;

	/* The read watermark bounds the input, so this loop is bounded too. */
	for (;;) {
		avail = evbuffer_get_length(in);
		if (avail < FRAME_HDR)
			return;
		p = evbuffer_pullup(in, FRAME_HDR);
		fs = frame_parse(p, avail, AGENT_REPLY_MAX, &blen);
		if (fs == FRAME_NEED_MORE)
			return;
		if (fs != FRAME_READY) {
			agent_fail(ag, "bad reply frame: %s", frame_status_name(fs));
			return;
		}
		if ((p = evbuffer_pullup(in, FRAME_HDR + blen)) == NULL) {
			agent_fail(ag, "out of memory reading a reply");
			return;
		}
		arena_reset(&ag->arena);
		rc = msg_decode(p + FRAME_HDR, blen, &ag->arena, agent_now_ms(ag, agent_mono_us()),
		    &m, err, sizeof(err));
		if (rc != 0) {
			agent_fail(ag, "bad reply: %s", err);
			return;
		}
		if (agent_handle(ag, &m) == -1 || ag->bev != bev)
			return;
		evbuffer_drain(in, FRAME_HDR + blen);
	}
}

/* --- public API ---------------------------------------------------------------------- */

static char *
agent_strdup_opt(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = xstrdup(s)) == NULL)
		*failed = 1;
	return d;
}

struct tandem_agent *
tandem_agent_new(struct event_base *base, const struct tandem_agent_conf *conf, char *err,
    size_t errlen)
{
	struct tandem_agent *ag;
	struct timeval linger;
	char hostname[256];
	int failed = 0;
	unsigned i;

	if (conf->agent_id == NULL || strlen(conf->agent_id) < 1 ||
	    strlen(conf->agent_id) > MSG_MAX_ID) {
		snprintf(err, errlen, "agent_id must be 1..%d bytes", MSG_MAX_ID);
		return NULL;
	}
	if (conf->app == NULL || strlen(conf->app) < 1 || strlen(conf->app) > MSG_MAX_ID) {
		snprintf(err, errlen, "app must be 1..%d bytes", MSG_MAX_ID);
		return NULL;
	}
	if (conf->token != NULL && strlen(conf->token) > MSG_MAX_TOKEN) {
		snprintf(err, errlen, "token over %d bytes", MSG_MAX_TOKEN);
		return NULL;
	}
	if (conf->host != NULL && strlen(conf->host) > MSG_MAX_ID) {
		snprintf(err, errlen, "host over %d bytes", MSG_MAX_ID);
		return NULL;
	}
	if (conf->collectors[0] == NULL) {
		snprintf(err, errlen, "no collector address");
		return NULL;
	}
	if (conf->batch > MSG_MAX_EVENTS) {
		snprintf(err, errlen, "batch over %d events", MSG_MAX_EVENTS);
		return NULL;
	}
	if ((ag = xcalloc(1, sizeof(*ag))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ag->base = base;
	for (i = 0; i < TANDEM_AGENT_MAX_COLLECTORS && conf->collectors[i] != NULL; i++) {
		char h[256], p[16];

		if (agent_split_addr(conf->collectors[i], h, sizeof(h), p, sizeof(p)) == -1) {
			snprintf(err, errlen, "collector address %s is not host:port",
			    conf->collectors[i]);
			goto fail;
		}
		ag->collectors[i] = agent_strdup_opt(conf->collectors[i], &failed);
	}
	ag->ncollectors = i;
	ag->agent_id = agent_strdup_opt(conf->agent_id, &failed);
	ag->app = agent_strdup_opt(conf->app, &failed);
	ag->token = agent_strdup_opt(conf->token, &failed);
	if (conf->host != NULL)
		ag->host = agent_strdup_opt(conf->host, &failed);
	else {
		if (gethostname(hostname, sizeof(hostname)) == -1)
			hostname[0] = '\0';
		hostname[sizeof(hostname) - 1] = '\0';
		hostname[MSG_MAX_ID] = '\0';
		ag->host = agent_strdup_opt(hostname, &failed);
	}
	ag->tls_server_name = agent_strdup_opt(conf->tls_server_name, &failed);
	if (failed) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ag->batch = ag->batch_eff = conf->batch ? conf->batch : AGENT_DEF_BATCH;
	ag->linger_us = conf->linger_us ? conf->linger_us : AGENT_DEF_LINGER_US;
	ag->backoff_min = conf->backoff_min_ms ? conf->backoff_min_ms : AGENT_DEF_BACKOFF_MIN;
	ag->backoff_max = conf->backoff_max_ms ? conf->backoff_max_ms : AGENT_DEF_BACKOFF_MAX;
	if (ag->backoff_max < ag->backoff_min)
		ag->backoff_max = ag->backoff_min;
	ag->backoff_cur = ag->backoff_min;
	ag->handshake_ms = conf->handshake_ms ? conf->handshake_ms : AGENT_DEF_HANDSHAKE_MS;
	ag->on_acked = conf->on_acked;
	ag->cb_arg = conf->cb_arg;
	ag->rng = (uint64_t)agent_mono_us() ^ ((uint64_t)(uintptr_t)ag << 17) ^ 0x9e3779b97f4a7c15ULL;
	if (window_init(&ag->win, conf->max_events ? conf->max_events : AGENT_DEF_MAX_EVENTS,
	    conf->max_bytes ? conf->max_bytes : AGENT_DEF_MAX_BYTES) == -1) {
		snprintf(err, errlen, "bad window limits");
		goto fail;
	}
	if (conf->hist != NULL)
		ag->hist = conf->hist;
	else {
		if ((ag->own_hist = xcalloc(1, sizeof(*ag->own_hist))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		ag->hist = ag->own_hist;
	}
	if (arena_init(&ag->arena, AGENT_ARENA) == -1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (conf->tls || conf->tls_ca_file != NULL) {
		if ((ag->ssl_ctx = agent_tls_ctx_new(conf->tls_ca_file, conf->tls_cert_file,
		    conf->tls_key_file, err, errlen)) == NULL)
			goto fail;
	}
	linger.tv_sec = ag->linger_us / 1000000;
	linger.tv_usec = ag->linger_us % 1000000;
	/* Many agents share one linger: a common timeout is a queue, not a heap entry each. */
	if ((ag->linger_tv = event_base_init_common_timeout(base, &linger)) == NULL ||
	    (ag->linger_ev = evtimer_new(base, agent_linger_cb, ag)) == NULL ||
	    (ag->conn_timer = evtimer_new(base, agent_conn_timer_cb, ag)) == NULL ||
	    (ag->flush_ev = event_new(base, -1, 0, agent_flush_cb, ag)) == NULL) {
		snprintf(err, errlen, "cannot create timers");
		goto fail;
	}
	ag->state = AGENT_ST_IDLE;
	ag->st.next_seq = 1;
	return ag;
 fail:
	tandem_agent_free(ag);
	return NULL;
}

void
tandem_agent_free(struct tandem_agent *ag)
{
	unsigned i;

	if (ag == NULL)
		return;
	if (ag->bev != NULL) {
		bufferevent_free(ag->bev);
		ag->bev = NULL;
	}
	if (ag->flush_ev != NULL)
		event_free(ag->flush_ev);
	if (ag->conn_timer != NULL)
		event_free(ag->conn_timer);
	if (ag->linger_ev != NULL)
		event_free(ag->linger_ev);
	if (ag->ssl_ctx != NULL)
		SSL_CTX_free(ag->ssl_ctx);
	arena_shutdown(&ag->arena);
	window_shutdown(&ag->win);
	XFREE(ag->own_hist);
	for (i = 0; i < TANDEM_AGENT_MAX_COLLECTORS; i++)
		XFREE(ag->collectors[i]);
	XFREE(ag->agent_id);
	XFREE(ag->app);
	XFREE(ag->host);
	XFREE(ag->token);
	XFREE(ag->tls_server_name);
	xfree(ag);
}

int
tandem_agent_start(struct tandem_agent *ag)
{
	if (ag->state != AGENT_ST_IDLE)
		return -1;
	agent_fsm(ag, AGENT_EV_START);
	return 0;
}

void
tandem_agent_stop(struct tandem_agent *ag)
{
	agent_fsm(ag, AGENT_EV_STOP);
}

/* Every field is within a bound msg_check_event() enforces, so the packing fits scratch. */
static int
agent_event_fits(const Tandem__Event *ev)
{
	const ProtobufCMessage *sub;
	size_t i;

	if (ev->base.n_unknown_fields != 0)
		return 0;
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:		sub = &ev->queue->base; break;
	case TANDEM__EVENT__KIND_TXN:
		for (i = 0; i < ev->txn->n_attrs; i++)
			if (ev->txn->attrs[i]->base.n_unknown_fields != 0)
				return 0;
		sub = &ev->txn->base;
		break;
	case TANDEM__EVENT__KIND_JOB:		sub = &ev->job->base; break;
	case TANDEM__EVENT__KIND_LOG:		sub = &ev->log->base; break;
	case TANDEM__EVENT__KIND_HEARTBEAT:	sub = &ev->heartbeat->base; break;
	default:				return 0;
	}
	return sub->n_unknown_fields == 0 ||
	    protobuf_c_message_get_packed_size(&ev->base) <= AGENT_SCRATCH;
}

int
tandem_agent_event(struct tandem_agent *ag, const Tandem__Event *in)
{
	Tandem__Event ev = *in;
	uint64_t mono = agent_mono_us();
	int64_t now_ms = agent_now_ms(ag, mono);
	char err[160];
	size_t len;

	if (!ev.has_time_ms || ev.time_ms == 0) {
		ev.has_time_ms = 1;
		ev.time_ms = now_ms;
	}
	if (msg_check_event(&ev, now_ms, err, sizeof(err)) != 0 || !agent_event_fits(&ev)) {
		ag->st.invalid++;
		log_debug("%s: event refused: %s", ag->agent_id, err);
		errno = EINVAL;
		return -1;
	}
	if (ag->win.count >= ag->win.max_events) {
		ag->st.window_full++;
		errno = EAGAIN;
		return -1;
	}
	len = protobuf_c_message_pack(&ev.base, ag->scratch);
	if (window_push(&ag->win, ag->scratch, len, mono) == -1) {
		if (errno == EAGAIN)
			ag->st.window_full++;
		else if (errno == EMSGSIZE)
			ag->st.invalid++;
		return -1;
	}
	ag->st.enqueued++;
	if (ag->state == AGENT_ST_STREAM) {
		if (window_unsent(&ag->win) >= ag->batch_eff)
			agent_pump(ag, 0);
		else
			agent_arm_linger(ag);
	}
	return 0;
}

int
tandem_agent_queue(struct tandem_agent *ag, int64_t time_ms, const char *queue,
    uint64_t depth, int has_totals, uint64_t enqueued_total, uint64_t completed_total)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__QueueSample q = TANDEM__QUEUE_SAMPLE__INIT;

	q.queue = (char *)queue;
	q.has_depth = 1;
	q.depth = depth;
	if (has_totals) {
		q.has_enqueued_total = q.has_completed_total = 1;
		q.enqueued_total = enqueued_total;
		q.completed_total = completed_total;
	}
	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
	ev.queue = &q;
	return tandem_agent_event(ag, &ev);
}

int
tandem_agent_txn(struct tandem_agent *ag, int64_t time_ms, const char *txn_id,
    const char *step, Tandem__TxnState state, const char *const *attrs, size_t nattrs)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__TxnStep t = TANDEM__TXN_STEP__INIT;
	Tandem__Attr a[MSG_MAX_ATTRS], *ap[MSG_MAX_ATTRS];
	size_t i;

	if (nattrs > MSG_MAX_ATTRS) {
		ag->st.invalid++;
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < nattrs; i++) {
		tandem__attr__init(&a[i]);
		a[i].key = (char *)attrs[2 * i];
		a[i].value = (char *)attrs[2 * i + 1];
		ap[i] = &a[i];
	}
	t.txn_id = (char *)txn_id;
	t.step = (char *)step;
	t.has_state = 1;
	t.state = state;
	t.n_attrs = nattrs;
	t.attrs = ap;
	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	ev.kind_case = TANDEM__EVENT__KIND_TXN;
	ev.txn = &t;
	return tandem_agent_event(ag, &ev);
}

int
tandem_agent_job(struct tandem_agent *ag, int64_t time_ms, const char *job,
    uint64_t duration_us, int ok)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__JobTiming j = TANDEM__JOB_TIMING__INIT;

	j.job = (char *)job;
	j.has_duration_us = 1;
	j.duration_us = duration_us;
	j.has_ok = 1;
	j.ok = ok != 0;
	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	ev.kind_case = TANDEM__EVENT__KIND_JOB;
	ev.job = &j;
	return tandem_agent_event(ag, &ev);
}

int
tandem_agent_log(struct tandem_agent *ag, int64_t time_ms, Tandem__LogLevel level,
    const char *text)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__LogLine l = TANDEM__LOG_LINE__INIT;

	l.has_level = 1;
	l.level = level;
	l.message = (char *)text;
	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	ev.kind_case = TANDEM__EVENT__KIND_LOG;
	ev.log = &l;
	return tandem_agent_event(ag, &ev);
}

int
tandem_agent_heartbeat(struct tandem_agent *ag, int64_t time_ms)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__AppHeartbeat hb = TANDEM__APP_HEARTBEAT__INIT;

	ev.has_time_ms = 1;
	ev.time_ms = time_ms;
	ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
	ev.heartbeat = &hb;
	return tandem_agent_event(ag, &ev);
}

int
tandem_agent_flush(struct tandem_agent *ag, void (*cb)(struct tandem_agent *, void *),
    void *arg)
{
	if (ag->linger_armed) {
		evtimer_del(ag->linger_ev);
		ag->linger_armed = 0;
	}
	agent_pump(ag, 1);
	ag->flush_cb = cb;
	ag->flush_arg = arg;
	if (cb != NULL && ag->win.count == 0)
		event_active(ag->flush_ev, EV_TIMEOUT, 1);
	return 0;
}

size_t
tandem_agent_unacked(const struct tandem_agent *ag)
{
	return ag->win.count;
}

void
tandem_agent_stats(const struct tandem_agent *ag, struct tandem_agent_stats *out)
{
	*out = ag->st;
	out->window_events = ag->win.count;
	out->window_bytes = window_bytes(&ag->win);
	out->next_seq = window_next_seq(&ag->win);
}

const struct hist *
tandem_agent_hist(const struct tandem_agent *ag)
{
	return ag->hist;
}

uint64_t
tandem_agent_latency_us(const struct tandem_agent *ag, double p)
{
	return hist_percentile(ag->hist, p);
}

const char *
tandem_agent_id(const struct tandem_agent *ag)
{
	return ag->agent_id;
}
