/* Tandem — MIT licence. Unit tests for collector/conn.c: the handshake FSM over a socketpair, with the real ingest and store. */
#include "collector/conn.c"
#include "collector/ingest.c"

#include <errno.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/arena.h"
#include "tests/unit/collector/batch.h"
#include "tests/unit/collector/tmpstore.h"
#include "tests/unit/common/cases.h"

/* The listener is not linked: a closed connection only needs to be counted. */
static int listener_closed_calls;

void
listener_conn_closed(struct collector *c)
{
	listener_closed_calls++;
}

#define DEADLINE_MS	2000
#define QUIET_PASSES	20	/* loop passes (5 ms each at most) that must bring nothing */
#define MAX_REPLIES	128
#define NCLIENTS	2

struct reply {
	int		type;		/* MSGT_* */
	uint64_t	v;		/* Welcome: stored_seq; Ack: upto_seq; Error: code */
};

struct client {
	int		fd;
	uint8_t		buf[65536];
	size_t		len;
	struct reply	r[MAX_REPLIES];
	size_t		n;
	int		eof;
	int		junk;		/* replies that do not parse */
};

struct fx {
	char			 dir[4096];
	struct collector	 c;
	struct collector_conf	 conf;
	struct client		 cl[NCLIENTS];
	struct event		*tick;
	int64_t			 t0;
};

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static struct fx *
fx_open(const char *token, uint64_t hello_ms, uint64_t idle_ms, uint64_t frame_max)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	memset(&stats, 0, sizeof(stats));
	listener_closed_calls = 0;
	conns = NULL;	/* a failed case may have left its connections behind */
	if (tmpdir_make(f->dir, sizeof(f->dir)) == -1)
		fail_msg("mkdtemp: %s", strerror(errno));
	collector_conf_init(&f->conf);
	f->conf.map_size = 64ULL << 20;
	if (token != NULL)
		assert_non_null(f->conf.token = strdup(token));
	if (hello_ms != 0)
		f->conf.hello_timeout_ms = hello_ms;
	if (idle_ms != 0)
		f->conf.idle_timeout_ms = idle_ms;
	if (frame_max != 0)
		f->conf.frame_max = frame_max;
	f->c.conf = &f->conf;
	assert_non_null(f->c.base = event_base_new());
	assert_int_equal(arena_init(&f->c.arena, 16u << 20), 0);
	if ((f->c.store = store_open(f->dir, f->conf.map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_non_null(f->c.ingest = ingest_new(&f->c));
	assert_non_null(f->tick = evtimer_new(f->c.base, tick_cb, NULL));
	f->cl[0].fd = f->cl[1].fd = -1;
	f->t0 = test_now_ms() - 3600 * 1000;
	return f;
}

/* A client: one end of a socketpair; the other end goes to conn_accept. */
static struct client *
fx_connect(struct fx *f, int i)
{
	struct sockaddr_un sun;
	int sv[2];

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[1]), 0);
	conn_accept(&f->c, sv[0], (struct sockaddr *)&sun, sizeof(sun), NULL);
	memset(&f->cl[i], 0, sizeof(f->cl[i]));
	f->cl[i].fd = sv[1];
	return &f->cl[i];
}

static void
fx_close(struct fx *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < NCLIENTS; i++)
		if (f->cl[i].fd != -1)
			close(f->cl[i].fd);
	conn_free_all(&f->c);
	ingest_commit(f->c.ingest);
	ingest_free(f->c.ingest);
	store_close(f->c.store);
	event_free(f->tick);
	arena_shutdown(&f->c.arena);
	event_base_free(f->c.base);
	collector_conf_free(&f->conf);
	tmpdir_remove(f->dir);
	free(f);
}

static void
client_send(struct client *cl, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(cl->fd, p, len);
		if (n <= 0)
			fail_msg("client write: %s", n == 0 ? "0 bytes" : strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* Reads what the collector sent and parses whole frames into replies. */
static void
client_read(struct client *cl)
{
	Tandem__Message *m;
	size_t body, off;
	ssize_t n;

	while (!cl->eof && cl->len < sizeof(cl->buf)) {
		n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
		if (n == 0 || (n == -1 && errno == ECONNRESET)) {
			cl->eof = 1;
			break;
		}
		if (n == -1)
			break;
		cl->len += (size_t)n;
	}
	off = 0;
	while (frame_parse(cl->buf + off, cl->len - off, FRAME_MAX_MAX, &body) == FRAME_READY) {
		m = tandem__message__unpack(NULL, body, cl->buf + off + FRAME_HDR);
		off += FRAME_HDR + body;
		if (m == NULL || cl->n == MAX_REPLIES) {
			cl->junk++;
			if (m != NULL)
				tandem__message__free_unpacked(m, NULL);
			continue;
		}
		switch (m->body_case) {
		case TANDEM__MESSAGE__BODY_WELCOME:
			cl->r[cl->n].type = MSGT_WELCOME;
			cl->r[cl->n].v = m->welcome->stored_seq;
			break;
		case TANDEM__MESSAGE__BODY_ACK:
			cl->r[cl->n].type = MSGT_ACK;
			cl->r[cl->n].v = m->ack->upto_seq;
			break;
		case TANDEM__MESSAGE__BODY_ERROR:
			cl->r[cl->n].type = MSGT_ERROR;
			cl->r[cl->n].v = (uint64_t)m->error->code;
			break;
		default:
			cl->r[cl->n].type = MSGT_NONE;
			break;
		}
		cl->n++;
		tandem__message__free_unpacked(m, NULL);
	}
	memmove(cl->buf, cl->buf + off, cl->len - off);
	cl->len -= off;
}

/* One pass of the event loop, waiting at most 5 ms for something to happen. */
static void
loop_once(struct fx *f)
{
	struct timeval tv = { 0, 5000 };

	evtimer_add(f->tick, &tv);
	assert_true(event_base_loop(f->c.base, EVLOOP_ONCE) >= 0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until client i has want replies (and EOF when want_eof) or the deadline. */
static void
pump(struct fx *f, int i, size_t want, int want_eof)
{
	int64_t end = mono_ms() + DEADLINE_MS;

	while (mono_ms() < end) {
		loop_once(f);
		client_read(&f->cl[i]);
		if (f->cl[i].n >= want && (!want_eof || f->cl[i].eof))
			return;
	}
}

/* Runs the loop until no connection is open or the deadline. */
static void
pump_until_freed(struct fx *f)
{
	int64_t end = mono_ms() + DEADLINE_MS;

	while (stats.conns_open > 0 && mono_ms() < end)
		loop_once(f);
}

/* ---- Client frames ---- */

enum cf_kind {
	CF_END,
	CF_HELLO,	/* agent, token, version (0: MSG_VERSION, -1: none) */
	CF_BATCH,	/* first, n */
	CF_WELCOME,
	CF_ACK,
	CF_ZERO,	/* a header of length 0 */
	CF_HEADER,	/* a header of length len, no body */
	CF_GARBAGE,	/* a frame whose body is not protobuf */
	CF_TRUNCATED,	/* a header of length len and 10 bytes of body */
};

struct cframe {
	enum cf_kind	 kind;
	const char	*agent;
	const char	*token;
	int		 version;
	uint64_t	 first;
	size_t		 n;
	uint32_t	 len;
};

static size_t
pack_frame(uint8_t *out, const Tandem__Message *m)
{
	size_t n = tandem__message__pack(m, out + FRAME_HDR);

	frame_put_header(out, (uint32_t)n);
	return FRAME_HDR + n;
}

static void
send_frame(struct fx *f, struct client *cl, const struct cframe *cf)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Hello h = TANDEM__HELLO__INIT;
	Tandem__Welcome w = TANDEM__WELCOME__INIT;
	Tandem__Ack a = TANDEM__ACK__INIT;
	struct test_batch b = { .first = cf->first, .n = cf->n, .t0 = f->t0, .step_ms = 100 };
	uint8_t buf[1024], *p;
	size_t len;

	switch (cf->kind) {
	case CF_END:
		return;
	case CF_HELLO:
		h.has_version = cf->version != -1;
		h.version = cf->version > 0 ? (uint32_t)cf->version : MSG_VERSION;
		h.agent_id = (char *)cf->agent;
		h.app = "mes";
		h.host = "host1";
		h.token = (char *)cf->token;
		m.body_case = TANDEM__MESSAGE__BODY_HELLO;
		m.hello = &h;
		client_send(cl, buf, pack_frame(buf, &m));
		return;
	case CF_BATCH:
		p = test_batch_frame(&b, &len);
		client_send(cl, p, len);
		free(p);
		return;
	case CF_WELCOME:
		w.has_version = 1;
		w.version = MSG_VERSION;
		w.has_stored_seq = 1;
		m.body_case = TANDEM__MESSAGE__BODY_WELCOME;
		m.welcome = &w;
		client_send(cl, buf, pack_frame(buf, &m));
		return;
	case CF_ACK:
		a.has_upto_seq = 1;
		a.upto_seq = 1;
		m.body_case = TANDEM__MESSAGE__BODY_ACK;
		m.ack = &a;
		client_send(cl, buf, pack_frame(buf, &m));
		return;
	case CF_ZERO:
		frame_put_header(buf, 0);
		client_send(cl, buf, FRAME_HDR);
		return;
	case CF_HEADER:
		frame_put_header(buf, cf->len);
		client_send(cl, buf, FRAME_HDR);
		return;
	case CF_GARBAGE:
		frame_put_header(buf, 4);
		memcpy(buf + FRAME_HDR, "\xff\xff\xff\xff", 4);
		client_send(cl, buf, FRAME_HDR + 4);
		return;
	case CF_TRUNCATED:
		frame_put_header(buf, cf->len);
		memset(buf + FRAME_HDR, 0, 10);
		client_send(cl, buf, FRAME_HDR + 10);
		return;
	}
}

/* ---- The scenario table ---- */

#define E_(c)	{ MSGT_ERROR, TANDEM__ERROR_CODE__ERR_ ## c }
#define W_(s)	{ MSGT_WELCOME, s }
#define A_(s)	{ MSGT_ACK, s }
#define HELLO_(ag)		{ .kind = CF_HELLO, .agent = ag }
#define HELLO_TOK(ag, t)	{ .kind = CF_HELLO, .agent = ag, .token = t }
#define HELLO_VER(ag, v)	{ .kind = CF_HELLO, .agent = ag, .version = v }
#define BATCH_(f, num)		{ .kind = CF_BATCH, .first = f, .n = num }

struct conn_row {
	const char	*what;
	const char	*token;		/* conf.token */
	uint64_t	 hello_ms;	/* 0: defaults */
	uint64_t	 idle_ms;
	uint64_t	 frame_max;
	struct cframe	 frames[6];
	struct reply	 want[4];
	size_t		 nwant;
	int		 closed;	/* the collector closes the connection */
	uint64_t	 frame_errors;	/* stats.errors[ERR_FRAME] at the end */
};

static const struct conn_row conn_rows[] = {
	{ "Hello -> Welcome(0)", NULL, 0, 0, 0,
	    { HELLO_("a1") }, { W_(0) }, 1, 0, 0 },
	{ "Hello, batch 1..5 -> Welcome, Ack(5)", NULL, 0, 0, 0,
	    { HELLO_("a1"), BATCH_(1, 5) }, { W_(0), A_(5) }, 2, 0, 0 },
	{ "Hello, two batches -> one Ack for the tick", NULL, 0, 0, 0,
	    { HELLO_("a1"), BATCH_(1, 5), BATCH_(6, 3) }, { W_(0), A_(8) }, 2, 0, 0 },
	{ "batch before Hello -> ERR_UNEXPECTED, closed", NULL, 0, 0, 0,
	    { BATCH_(1, 5) }, { E_(UNEXPECTED) }, 1, 1, 0 },
	{ "second Hello -> ERR_UNEXPECTED, closed", NULL, 0, 0, 0,
	    { HELLO_("a1"), HELLO_("a1") }, { W_(0), E_(UNEXPECTED) }, 2, 1, 0 },
	{ "seq backwards on the connection -> ERR_SEQ, closed, no Ack", NULL, 0, 0, 0,
	    { HELLO_("a1"), BATCH_(1, 5), BATCH_(3, 2) }, { W_(0), E_(SEQ) }, 2, 1, 0 },
	{ "protocol version 2 -> ERR_VERSION, closed", NULL, 0, 0, 0,
	    { HELLO_VER("a1", 2) }, { E_(VERSION) }, 1, 1, 0 },
	{ "Hello without a version -> ERR_VERSION, closed", NULL, 0, 0, 0,
	    { HELLO_VER("a1", -1) }, { E_(VERSION) }, 1, 1, 0 },
	{ "token required, none sent -> ERR_AUTH, closed", "s3cret", 0, 0, 0,
	    { HELLO_("a1") }, { E_(AUTH) }, 1, 1, 0 },
	{ "token required, empty sent -> ERR_AUTH, closed", "s3cret", 0, 0, 0,
	    { HELLO_TOK("a1", "") }, { E_(AUTH) }, 1, 1, 0 },
	{ "wrong token -> ERR_AUTH, closed", "s3cret", 0, 0, 0,
	    { HELLO_TOK("a1", "s3creT") }, { E_(AUTH) }, 1, 1, 0 },
	{ "token a prefix of the right one -> ERR_AUTH, closed", "s3cret", 0, 0, 0,
	    { HELLO_TOK("a1", "s3cre") }, { E_(AUTH) }, 1, 1, 0 },
	{ "right token -> Welcome", "s3cret", 0, 0, 0,
	    { HELLO_TOK("a1", "s3cret"), BATCH_(1, 1) }, { W_(0), A_(1) }, 2, 0, 0 },
	{ "zero-length frame -> ERR_FRAME, closed", NULL, 0, 0, 0,
	    { { .kind = CF_ZERO } }, { E_(FRAME) }, 1, 1, 1 },
	{ "zero-length frame after Hello -> ERR_FRAME, closed", NULL, 0, 0, 0,
	    { HELLO_("a1"), { .kind = CF_ZERO } }, { W_(0), E_(FRAME) }, 2, 1, 1 },
	{ "length over frame_max, no body sent -> ERR_TOO_LARGE, closed", NULL, 0, 0, 0,
	    { { .kind = CF_HEADER, .len = FRAME_MAX_DEFAULT + 1 } }, { E_(TOO_LARGE) }, 1, 1,
	    0 },
	{ "length over a 4 KiB frame_max -> ERR_TOO_LARGE, closed", NULL, 0, 0, 4096,
	    { HELLO_("a1"), { .kind = CF_HEADER, .len = 4097 } }, { W_(0), E_(TOO_LARGE) }, 2,
	    1, 0 },
	{ "length at frame_max, body pending -> nothing yet", NULL, 0, 0, 4096,
	    { HELLO_("a1"), { .kind = CF_HEADER, .len = 4096 } }, { W_(0) }, 1, 0, 1 },
	{ "garbage body -> ERR_DECODE, closed", NULL, 0, 0, 0,
	    { { .kind = CF_GARBAGE } }, { E_(DECODE) }, 1, 1, 0 },
	{ "Hello with an empty agent_id -> ERR_BOUNDS, closed", NULL, 0, 0, 0,
	    { HELLO_("") }, { E_(BOUNDS) }, 1, 1, 0 },
	{ "Welcome from the client -> ERR_UNEXPECTED, closed", NULL, 0, 0, 0,
	    { { .kind = CF_WELCOME } }, { E_(UNEXPECTED) }, 1, 1, 0 },
	{ "Ack from the client after Hello -> ERR_UNEXPECTED, closed", NULL, 0, 0, 0,
	    { HELLO_("a1"), { .kind = CF_ACK } }, { W_(0), E_(UNEXPECTED) }, 2, 1, 0 },
	{ "no Hello within 200 ms -> ERR_IDLE, closed", NULL, 200, 0, 0,
	    { { .kind = CF_END } }, { E_(IDLE) }, 1, 1, 0 },
	{ "idle 200 ms after Welcome -> ERR_IDLE, closed", NULL, 0, 200, 0,
	    { HELLO_("a1") }, { W_(0), E_(IDLE) }, 2, 1, 0 },
	{ "peer closes mid-frame: counted as a frame error, freed", NULL, 0, 0, 0,
	    { HELLO_("a1"), { .kind = CF_TRUNCATED, .len = 100 } }, { W_(0) }, 1, 0, 1 },
};

static void
check_replies(const struct client *cl, const struct reply *want, size_t nwant)
{
	size_t i;

	assert_int_equal(cl->junk, 0);
	for (i = 0; i < cl->n && i < nwant; i++)
		if (cl->r[i].type != want[i].type || cl->r[i].v != want[i].v)
			fail_msg("reply %zu: %s %llu, want %s %llu", i, msg_type_name(cl->r[i].type),
			    (unsigned long long)cl->r[i].v, msg_type_name(want[i].type),
			    (unsigned long long)want[i].v);
	if (cl->n != nwant)
		fail_msg("%zu replies, want %zu", cl->n, nwant);
}

static void
test_conn(void **state)
{
	const struct conn_row *row = ROW(struct conn_row, state);
	struct fx *f = fx_open(row->token, row->hello_ms, row->idle_ms, row->frame_max);
	struct client *cl = fx_connect(f, 0);
	size_t i;

	assert_int_equal(stats.conns_open, 1);
	assert_int_equal(f->c.nconns, 1);
	for (i = 0; i < sizeof(row->frames) / sizeof(row->frames[0]); i++)
		send_frame(f, cl, &row->frames[i]);
	pump(f, 0, row->nwant, row->closed);
	if (!row->closed) {
		/* Nothing more comes, and the connection stays. */
		for (i = 0; i < QUIET_PASSES; i++) {
			loop_once(f);
			client_read(cl);
		}
	}
	check_replies(cl, row->want, row->nwant);
	assert_int_equal(cl->eof, row->closed);
	if (row->closed) {
		pump_until_freed(f);
		assert_int_equal(stats.conns_open, 0);
	} else {
		assert_int_equal(stats.conns_open, 1);
		/* The peer goes away: the connection is freed. */
		close(cl->fd);
		cl->fd = -1;
		pump_until_freed(f);
		assert_int_equal(stats.conns_open, 0);
	}
	assert_int_equal(f->c.nconns, 0);
	assert_int_equal(listener_closed_calls, 1);
	assert_null(conns);
	assert_int_equal(stats.errors[TANDEM__ERROR_CODE__ERR_FRAME], row->frame_errors);
	fx_close(f);
}

/* A second connection of the same agent replaces the first, which gets ERR_REPLACED. */
static void
test_replaced(void **state)
{
	static const struct reply want_a[] = { W_(0), A_(3), E_(REPLACED) };
	static const struct reply want_b[] = { W_(3), A_(5) };
	static const struct cframe hello = HELLO_("a1"), b1 = BATCH_(1, 3), b2 = BATCH_(2, 4);
	struct fx *f = fx_open(NULL, 0, 0, 0);
	struct client *a = fx_connect(f, 0), *b;

	(void)state;
	send_frame(f, a, &hello);
	send_frame(f, a, &b1);
	pump(f, 0, 2, 0);
	b = fx_connect(f, 1);
	assert_int_equal(stats.conns_open, 2);
	send_frame(f, b, &hello);
	pump(f, 1, 1, 0);
	pump(f, 0, 3, 1);
	check_replies(a, want_a, 3);
	assert_int_equal(a->eof, 1);
	/* The new connection resends 2..5: 2..3 are duplicates, 4..5 are stored. */
	send_frame(f, b, &b2);
	pump(f, 1, 2, 0);
	check_replies(b, want_b, 2);
	assert_int_equal(b->eof, 0);
	assert_int_equal(stats.duplicates, 2);
	assert_int_equal(stats.events_stored, 5);
	assert_int_equal(stats.errors[TANDEM__ERROR_CODE__ERR_REPLACED], 1);
	pump_until_freed(f);	/* frees the replaced one; b stays */
	assert_int_equal(stats.conns_open, 1);
	close(b->fd);
	b->fd = -1;
	pump_until_freed(f);
	assert_int_equal(stats.conns_open, 0);
	fx_close(f);
}

/* After a restart the Welcome carries the stored seq. */
static void
test_welcome_after_restart(void **state)
{
	static const struct reply want1[] = { W_(0), A_(7) };
	static const struct reply want2[] = { W_(7) };
	static const struct cframe hello = HELLO_("a1"), b1 = BATCH_(1, 7);
	struct fx *f = fx_open(NULL, 0, 0, 0);
	struct client *a = fx_connect(f, 0);
	char err[256];

	(void)state;
	send_frame(f, a, &hello);
	send_frame(f, a, &b1);
	pump(f, 0, 2, 0);
	check_replies(a, want1, 2);
	close(a->fd);
	a->fd = -1;
	pump_until_freed(f);
	ingest_free(f->c.ingest);
	store_close(f->c.store);
	if ((f->c.store = store_open(f->dir, f->conf.map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_non_null(f->c.ingest = ingest_new(&f->c));
	a = fx_connect(f, 0);
	send_frame(f, a, &hello);
	pump(f, 0, 1, 0);
	check_replies(a, want2, 1);
	fx_close(f);
}

/* A full map: the batch or its commit fails, the agent gets ERR_STORE_FULL and is closed. */
static void
test_store_full(void **state)
{
	static const struct cframe hello = HELLO_("a1");
	struct test_batch b = { .n = 40, .kind = EV_LOG, .pad = 1000, .step_ms = 1 };
	struct fx *f = fx_open(NULL, 0, 0, 0);
	struct client *a;
	uint64_t next = 1, acked = 0;
	size_t i, len;
	uint8_t *p;
	char err[256];

	(void)state;
	/* Reopen the store with the smallest map. */
	f->conf.map_size = 1ULL << 20;
	ingest_free(f->c.ingest);
	store_close(f->c.store);
	if ((f->c.store = store_open(f->dir, f->conf.map_size, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_non_null(f->c.ingest = ingest_new(&f->c));
	a = fx_connect(f, 0);
	send_frame(f, a, &hello);
	pump(f, 0, 1, 0);
	assert_int_equal(a->n, 1);
	assert_int_equal(a->r[0].type, MSGT_WELCOME);
	b.t0 = f->t0;
	for (i = 0; i < 100 && !a->eof; i++) {
		b.first = next;
		p = test_batch_frame(&b, &len);
		client_send(a, p, len);
		free(p);
		pump(f, 0, a->n + 1, 0);
		assert_int_equal(a->n, i + 2);
		if (a->r[a->n - 1].type == MSGT_ERROR)
			break;
		assert_int_equal(a->r[a->n - 1].type, MSGT_ACK);
		assert_int_equal(a->r[a->n - 1].v, next + b.n - 1);
		acked = next + b.n - 1;
		next += b.n;
	}
	CHECK(acked > 0);
	assert_int_equal(a->r[a->n - 1].type, MSGT_ERROR);
	assert_int_equal(a->r[a->n - 1].v, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	pump(f, 0, a->n, 1);
	assert_int_equal(a->eof, 1);
	pump_until_freed(f);
	assert_int_equal(stats.conns_open, 0);

	/* Reconnect: Welcome says what is durable; the resend is refused while the map is full. */
	close(a->fd);
	a = fx_connect(f, 0);
	send_frame(f, a, &hello);
	b.first = acked + 1;
	p = test_batch_frame(&b, &len);
	client_send(a, p, len);
	free(p);
	pump(f, 0, 2, 1);
	assert_int_equal(a->n, 2);
	assert_int_equal(a->r[0].type, MSGT_WELCOME);
	assert_int_equal(a->r[0].v, acked);
	assert_int_equal(a->r[1].type, MSGT_ERROR);
	assert_int_equal(a->r[1].v, TANDEM__ERROR_CODE__ERR_STORE_FULL);
	assert_int_equal(a->eof, 1);
	CHECK(stats.store_full_refusals >= 1);
	fx_close(f);
}

struct plain_row {
	const char		*what;
	CMUnitTestFunction	 fn;
};

static const struct plain_row plain_rows[] = {
	{ "a second connection of an agent replaces the first", test_replaced },
	{ "Welcome after a restart carries the stored seq", test_welcome_after_restart },
	{ "full map: ERR_STORE_FULL, closed; the resend is refused", test_store_full },
};

int
main(void)
{
	static struct cases cs;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(plain_rows) / sizeof(plain_rows[0]); i++) {
		char name[256];

		snprintf(name, sizeof(name), "conn: %s", plain_rows[i].what);
		cases_add(&cs, name, plain_rows[i].fn, &plain_rows[i]);
	}
	CASES_TABLE(&cs, "conn", test_conn, conn_rows);
	return cases_run(&cs, "conn");
}
