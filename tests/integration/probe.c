/* Tandem — MIT licence. probe: speaks the agent protocol badly on purpose; one scenario per bad input. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "common/arena.h"
#include "common/frame.h"
#include "proto/msg.h"

static const char *host = "127.0.0.1";
static int port;
static const char *token = "";
static int failures;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
dial(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	inet_pton(AF_INET, host, &sin.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, b, n, MSG_NOSIGNAL)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_evbuf(int fd, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	int rv = send_all(fd, evbuffer_pullup(b, (ssize_t)n), n);

	evbuffer_drain(b, n);
	return rv;
}

/* Reads exactly n bytes before the deadline. 0 or -1. */
static int
recv_exact(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	while (n > 0) {
		if (now_ms() >= deadline || poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			return -1;
		if ((r = recv(fd, p, n, 0)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads one frame within timeout_ms. Returns the decoded type, or -1 (closed/timeout/bad). */
static int
read_reply(int fd, int timeout_ms, int *err_code, uint64_t *seq)
{
	static uint8_t buf[1 << 16];
	int64_t deadline = now_ms() + timeout_ms;
	struct arena a;
	struct msg m;
	size_t len;
	char err[256];
	int type = -1;

	if (recv_exact(fd, buf, 4, deadline) == -1 ||
	    frame_parse(buf, 4, sizeof(buf) - 4, &len) != FRAME_NEED_MORE ||
	    recv_exact(fd, buf + 4, len, deadline) == -1)
		return -1;
	arena_init(&a, 1 << 20);
	if (msg_decode(buf + 4, len, &a, now_ms(), &m, err, sizeof(err)) == 0) {
		type = (int)m.type;
		if (m.type == MSGT_ERROR && err_code)
			*err_code = m.m->error->code;
		if (m.type == MSGT_WELCOME && seq)
			*seq = m.m->welcome->stored_seq;
		if (m.type == MSGT_ACK && seq)
			*seq = m.m->ack->upto_seq;
	}
	arena_shutdown(&a);
	return type;
}

/* Waits for an Error frame with the given code (other frames before it are skipped). */
static int
expect_error(int fd, int code, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int got = -1, type;

	while (now_ms() < deadline) {
		type = read_reply(fd, (int)(deadline - now_ms()), &got, NULL);
		if (type == MSGT_ERROR)
			return got == code ? 0 : -1;
		if (type == -1)
			return -1;
	}
	return -1;
}

static int
expect_closed(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b[4096];
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			return -1;
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			return 0;
		if (r == -1)
			return -1;
	}
	return -1;
}

static int
hello(int fd, const char *agent, const char *tok, uint32_t version, uint64_t *stored)
{
	Tandem__Message m = TANDEM__MESSAGE__INIT;
	Tandem__Hello h = TANDEM__HELLO__INIT;
	struct evbuffer *b = evbuffer_new();
	int rv;

	h.has_version = 1;
	h.version = version;
	h.agent_id = (char *)agent;
	h.app = "probe-app";
	h.host = "probe-host";
	h.token = (char *)tok;
	m.body_case = TANDEM__MESSAGE__BODY_HELLO;
	m.hello = &h;
	msg_send(b, &m);
	rv = send_evbuf(fd, b);
	evbuffer_free(b);
	if (rv == -1 || stored == NULL)
		return rv;
	return read_reply(fd, 3000, NULL, stored) == MSGT_WELCOME ? 0 : -1;
}

/* A batch of n job-timing events starting at first_seq; name_len pads the job name. */
static int
batch(int fd, uint64_t first_seq, size_t n, size_t name_len)
{
	Tandem__Event ev = TANDEM__EVENT__INIT;
	Tandem__JobTiming job = TANDEM__JOB_TIMING__INIT;
	struct evbuffer *b = evbuffer_new();
	uint8_t packed[4096], wire[4200], prefix[MSG_BATCH_PREFIX_MAX];
	char name[1024];
	size_t plen, wlen, i;
	int rv;

	memset(name, 'j', sizeof(name));
	name[name_len < sizeof(name) ? name_len : sizeof(name) - 1] = '\0';
	job.job = name;
	job.has_duration_us = 1;
	job.duration_us = 1234;
	job.has_ok = 1;
	job.ok = 1;
	ev.has_time_ms = 1;
	ev.time_ms = now_ms();
	ev.kind_case = TANDEM__EVENT__KIND_JOB;
	ev.job = &job;
	plen = tandem__event__pack(&ev, packed);
	wlen = msg_event_put(wire, packed, plen);
	evbuffer_add(b, prefix, msg_batch_prefix(prefix, first_seq, wlen * n));
	for (i = 0; i < n; i++)
		evbuffer_add(b, wire, wlen);
	rv = send_evbuf(fd, b);
	evbuffer_free(b);
	return rv;
}

static void
result(const char *name, int ok, const char *why)
{
	printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", name, ok ? "" : ": ", ok ? "" : why);
	fflush(stdout);
	if (!ok)
		failures++;
}

#define CODE(x)	TANDEM__ERROR_CODE__ERR_##x

static void
s_raw(const char *name, const void *bytes, size_t n, int code)
{
	int fd = dial();

	result(name, fd != -1 && send_all(fd, bytes, n) == 0 && expect_error(fd, code, 3000) == 0 &&
	    expect_closed(fd, 3000) == 0, "no error frame with the expected code, or not closed");
	if (fd != -1)
		close(fd);
}

static void
scenarios_bad(void)
{
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t garbage[] = { 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct evbuffer *b = evbuffer_new();
	uint64_t seq;
	int fd;

	s_raw("length-zero", zero, sizeof(zero), CODE(FRAME));
	s_raw("length-over-cap", huge, sizeof(huge), CODE(TOO_LARGE));
	s_raw("garbage-protobuf", garbage, sizeof(garbage), CODE(DECODE));

	/* A valid Welcome, which only a collector may send. */
	msg_send_welcome(b, 1, "x");
	{
		size_t n = evbuffer_get_length(b);
		s_raw("wrong-message-type", evbuffer_pullup(b, (ssize_t)n), n, CODE(UNEXPECTED));
		evbuffer_drain(b, n);
	}

	fd = dial();
	result("unknown-version", fd != -1 && hello(fd, "probe-v", token, 99, NULL) == 0 &&
	    expect_error(fd, CODE(VERSION), 3000) == 0, "no VERSION error");
	close(fd);

	fd = dial();
	result("wrong-token", fd != -1 && hello(fd, "probe-t", "not-the-token", 1, NULL) == 0 &&
	    expect_error(fd, CODE(AUTH), 3000) == 0, "no AUTH error");
	close(fd);

	fd = dial();
	result("missing-token", fd != -1 && hello(fd, "probe-t", "", 1, NULL) == 0 &&
	    expect_error(fd, CODE(AUTH), 3000) == 0, "no AUTH error");
	close(fd);

	fd = dial();
	result("events-before-hello", fd != -1 && batch(fd, 1, 1, 4) == 0 &&
	    expect_error(fd, CODE(UNEXPECTED), 3000) == 0, "no UNEXPECTED error");
	close(fd);

	fd = dial();
	result("second-hello", fd != -1 && hello(fd, "probe-h2", token, 1, &seq) == 0 &&
	    hello(fd, "probe-h2", token, 1, NULL) == 0 &&
	    expect_error(fd, CODE(UNEXPECTED), 3000) == 0, "no UNEXPECTED error");
	close(fd);

	fd = dial();
	result("seq-backwards", fd != -1 && hello(fd, "probe-seq", token, 1, &seq) == 0 &&
	    batch(fd, seq + 10, 2, 4) == 0 && batch(fd, seq + 5, 1, 4) == 0 &&
	    expect_error(fd, CODE(SEQ), 3000) == 0, "no SEQ error");
	close(fd);

	fd = dial();
	result("batch-over-4096-events", fd != -1 && hello(fd, "probe-big", token, 1, &seq) == 0 &&
	    batch(fd, seq + 1, MSG_MAX_EVENTS + 1, 4) == 0 &&
	    expect_error(fd, CODE(BOUNDS), 3000) == 0, "no BOUNDS error");
	close(fd);

	fd = dial();
	result("name-over-bound", fd != -1 && hello(fd, "probe-name", token, 1, &seq) == 0 &&
	    batch(fd, seq + 1, 1, MSG_MAX_NAME + 1) == 0 &&
	    expect_error(fd, CODE(BOUNDS), 3000) == 0, "no BOUNDS error");
	close(fd);

	fd = dial();
	result("silent-client", fd != -1 && expect_error(fd, CODE(IDLE), 15000) == 0,
	    "no IDLE error within 15 s (is hello_timeout short?)");
	close(fd);

	/* Truncated: the header promises 100 bytes, 10 arrive, then the write side closes. */
	fd = dial();
	{
		uint8_t t[14] = { 0, 0, 0, 100 };
		result("truncated-frame", fd != -1 && send_all(fd, t, sizeof(t)) == 0 &&
		    shutdown(fd, SHUT_WR) == 0 && expect_closed(fd, 3000) == 0,
		    "connection not closed");
	}
	close(fd);
	evbuffer_free(b);
}

/* Sends batches without ever reading acks: the collector must stop reading, not buffer. */
static void
scenario_no_reader(void)
{
	uint64_t seq, s;
	int fd = dial(), ok = 0, i, rcv = 4096;
	int64_t deadline;

	if (fd != -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (fd != -1 && hello(fd, "probe-noread", token, 1, &seq) == 0) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		s = seq + 1;
		deadline = now_ms() + 20000;
		/* Until sending blocks: the collector has stopped reading us. */
		for (i = 0; i < 2000000 && now_ms() < deadline; i++) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, 500) == 0) {
				ok = 1;
				break;
			}
			fcntl(fd, F_SETFL, 0);
			if (batch(fd, s, 1, 4) == -1)
				break;
			fcntl(fd, F_SETFL, O_NONBLOCK);
			s++;
		}
	}
	result("never-reads-acks", ok, "the collector kept reading (no backpressure)");
	if (fd != -1)
		close(fd);
}

/* Opens n connections, says Hello on each, expects a Welcome (or OVERLOAD) on every one. */
static void
scenario_many(int n)
{
	struct rlimit rl;
	int *fds = calloc((size_t)n, sizeof(int)), i, opened = 0, welcomed = 0;
	char name[64];
	uint64_t seq;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	/* Each says Hello as soon as it is connected; all stay open until every reply is read. */
	for (i = 0; i < n; i++) {
		if ((fds[i] = dial()) == -1)
			break;
		opened++;
		snprintf(name, sizeof(name), "probe-many-%d", i);
		hello(fds[i], name, token, 1, NULL);
	}
	for (i = 0; i < opened; i++)
		if (read_reply(fds[i], 10000, NULL, &seq) == MSGT_WELCOME)
			welcomed++;
	for (i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	printf("     %d connections opened, %d welcomed\n", opened, welcomed);
	result("many-connections", opened == n && welcomed == n,
	    "not every connection was opened and welcomed");
}

/* A well-behaved agent after all that: its events are acknowledged. */
static void
scenario_good(const char *agent, int n)
{
	uint64_t seq, acked = 0;
	int fd = dial(), i, ok = 0;

	if (fd != -1 && hello(fd, agent, token, 1, &seq) == 0) {
		for (i = 0; i < n; i++)
			batch(fd, seq + 1 + (uint64_t)i * 10, 10, 8);
		for (i = 0; i < n * 2 && acked < seq + (uint64_t)n * 10; i++)
			if (read_reply(fd, 5000, NULL, &acked) != MSGT_ACK)
				break;
		ok = acked == seq + (uint64_t)n * 10;
		printf("     agent %s: welcome stored_seq %llu, acked up to %llu\n", agent,
		    (unsigned long long)seq, (unsigned long long)acked);
	}
	result("good-agent-acked", ok, "events not acknowledged");
	if (fd != -1)
		close(fd);
}

int
main(int argc, char *argv[])
{
	const char *what;

	if (argc < 3) {
		fprintf(stderr, "usage: probe PORT bad|noread|many N|good AGENT N [token]\n");
		return 2;
	}
	port = atoi(argv[1]);
	what = argv[2];
	if (getenv("PROBE_TOKEN"))
		token = getenv("PROBE_TOKEN");
	if (strcmp(what, "bad") == 0)
		scenarios_bad();
	else if (strcmp(what, "noread") == 0)
		scenario_no_reader();
	else if (strcmp(what, "many") == 0 && argc > 3)
		scenario_many(atoi(argv[3]));
	else if (strcmp(what, "good") == 0 && argc > 4)
		scenario_good(argv[3], atoi(argv[4]));
	else
		return 2;
	return failures ? 1 : 0;
}
