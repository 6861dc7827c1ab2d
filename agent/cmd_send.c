/* Tandem — MIT licence. tandem-agent send: JSON-line events from stdin to the collector. */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent/cli.h"
#include "agent/jsonev.h"
#include "common/log.h"
#include "common/xalloc.h"

#define SEND_LINE_MAX		(64 * 1024)	/* a log message of 8 KiB, escaped, fits */
#define SEND_READ_CHUNK		(64 * 1024)
#define SEND_BUF_HIGH		(1024 * 1024)	/* stop reading while this much is buffered */
#define SEND_LINES_PER_CALL	4096		/* then yield to the loop */

enum send_status {
	SEND_BLOCKED,		/* the window is full; resume after acks */
	SEND_NEED_INPUT,	/* no complete line buffered */
	SEND_YIELD,		/* processed a slice; continue from the loop */
};

struct sendrun {
	struct event_base	*base;
	struct tandem_agent	*ag;
	struct evbuffer		*in;
	int			 fd;
	int			 regular;	/* a plain file: read() never waits */
	int			 eof;
	int			 blocked;
	int			 skipping;	/* inside an overlong line */
	int			 finishing;
	uint64_t		 lineno;	/* lines consumed */
	uint64_t		 good, bad;
	struct event		*rd, *more, *deadline, *sigint, *sigterm;
	double			 timeout_s;
	char			 line[SEND_LINE_MAX + 1];
};

static void
send_usage(void)
{
	fprintf(stderr, "usage: tandem-agent send -c HOST:PORT -a AGENT_ID -A APP [-t TOKEN] "
	    "[options] < events.jsonl\n"
	    "  one JSON event per line, e.g.\n"
	    "    {\"kind\":\"queue\",\"queue\":\"q1\",\"depth\":5}\n"
	    "    {\"kind\":\"txn\",\"txn_id\":\"T1\",\"step\":\"load\",\"state\":\"begin\","
	    "\"attrs\":{\"lot\":\"A7\"}}\n"
	    "    {\"kind\":\"job\",\"job\":\"assemble\",\"duration_us\":1200,\"ok\":true}\n"
	    "    {\"kind\":\"log\",\"level\":\"error\",\"message\":\"...\"}\n"
	    "    {\"kind\":\"heartbeat\"}          (any line may add \"time_ms\")\n"
	    CLI_COMMON_USAGE);
}

static void
send_bad(struct sendrun *r, const char *why)
{
	fprintf(stderr, "tandem-agent send: line %" PRIu64 ": %s (skipped)\n", r->lineno + 1,
	    why);
	r->bad++;
}

/* Consumes the line at the head of the buffer (len bytes plus its end of line). */
static void
send_consume(struct sendrun *r, size_t len, size_t eol)
{
	evbuffer_drain(r->in, len + eol);
	r->lineno++;
}

static enum send_status
send_lines(struct sendrun *r)
{
	struct evbuffer_ptr p;
	struct jsonev je;
	char err[512];
	size_t eol, len, raw, avail, i;
	unsigned k;
	int rc;

	for (k = 0; k < SEND_LINES_PER_CALL; k++) {
		avail = evbuffer_get_length(r->in);
		p = evbuffer_search_eol(r->in, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos < 0) {
			if (avail == 0 || (!r->eof && avail <= SEND_LINE_MAX))
				return SEND_NEED_INPUT;
			if (!r->eof) {
				/* Overlong and still growing: report once, then skip to its end. */
				if (!r->skipping)
					send_bad(r, "line longer than 64 KiB");
				r->skipping = 1;
				evbuffer_drain(r->in, avail);
				return SEND_NEED_INPUT;
			}
			len = avail;		/* the last line has no newline */
			eol = 0;
		} else
			len = (size_t)p.pos;
		raw = len;
		if (r->skipping) {
			r->skipping = 0;
			send_consume(r, raw, eol);
			continue;
		}
		if (len > SEND_LINE_MAX) {
			send_bad(r, "line longer than 64 KiB");
			send_consume(r, raw, eol);
			continue;
		}
		evbuffer_copyout(r->in, r->line, len);
		if (len > 0 && r->line[len - 1] == '\r')
			len--;
		r->line[len] = '\0';
		for (i = 0; i < len && (r->line[i] == ' ' || r->line[i] == '\t'); i++)
			;
		if (i == len) {			/* blank lines are allowed */
			send_consume(r, raw, eol);
			continue;
		}
		if (jsonev_parse(&je, r->line, len, cli_now_ms(), err, sizeof(err)) == -1) {
			jsonev_clear(&je);
			send_bad(r, err);
			send_consume(r, raw, eol);
			continue;
		}
		rc = tandem_agent_event(r->ag, &je.ev);
		jsonev_clear(&je);
		if (rc == -1 && errno == EAGAIN) {
			r->blocked = 1;
			return SEND_BLOCKED;	/* the line stays buffered */
		}
		if (rc == -1)
			send_bad(r, strerror(errno));
		else
			r->good++;
		send_consume(r, raw, eol);
	}
	return SEND_YIELD;
}

static void
send_flushed_cb(struct tandem_agent *ag, void *arg)
{
	struct sendrun *r = arg;

	event_base_loopexit(r->base, NULL);
}

static void
send_finish(struct sendrun *r)
{
	struct timeval tv;

	if (r->finishing)
		return;
	r->finishing = 1;
	tv.tv_sec = (time_t)r->timeout_s;
	tv.tv_usec = (suseconds_t)((r->timeout_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(r->deadline, &tv);
	tandem_agent_flush(r->ag, send_flushed_cb, r);
}

/* Reads once; 0, or -1 on a read error (treated as end of input). */
static int
send_read(struct sendrun *r)
{
	int n = evbuffer_read(r->in, r->fd, SEND_READ_CHUNK);

	if (n == 0)
		r->eof = 1;
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		log_warn("%s: reading stdin", __func__);
		r->eof = 1;
		return -1;
	}
	return 0;
}

/* Moves lines from input to the agent until blocked, out of input, or a slice is done. */
static void
send_pump(struct sendrun *r)
{
	unsigned chunks;

	for (chunks = 0; chunks < 16; chunks++) {
		switch (send_lines(r)) {
		case SEND_BLOCKED:
			return;
		case SEND_YIELD:
			event_active(r->more, EV_TIMEOUT, 1);
			return;
		case SEND_NEED_INPUT:
			break;
		}
		if (r->eof) {
			if (evbuffer_get_length(r->in) == 0)
				send_finish(r);
			return;
		}
		if (!r->regular) {
			event_add(r->rd, NULL);
			return;
		}
		send_read(r);
	}
	event_active(r->more, EV_TIMEOUT, 1);
}

static void
send_rd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sendrun *r = arg;

	send_read(r);
	send_pump(r);
}

static void
send_more_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sendrun *r = arg;

	if (!r->blocked && !r->finishing)
		send_pump(r);
}

static void
send_acked_cb(struct tandem_agent *ag, void *arg)
{
	struct sendrun *r = arg;

	/* Deferred: this runs inside the agent's own read callback. */
	if (r->blocked) {
		r->blocked = 0;
		event_active(r->more, EV_TIMEOUT, 1);
	}
}

static void
send_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sendrun *r = arg;

	if (what & EV_SIGNAL)
		log_info("signal %d: stopping", (int)fd);
	else
		log_warnx("acks still missing after %.1f s", r->timeout_s);
	event_base_loopexit(r->base, NULL);
}

int
cmd_send(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tandem_agent_stats st;
	struct cli_opts o;
	struct sendrun *r;
	struct stat sb;
	char err[256];
	uint64_t start;
	int ch, rc, status;

	cli_opts_init(&o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		if ((rc = cli_opts_handle(&o, ch, optarg)) == -1)
			return 2;
		if (rc == 0) {
			send_usage();
			return 2;
		}
	}
	if (optind != argc || o.ncollectors == 0 || o.conf.agent_id == NULL ||
	    o.conf.app == NULL) {
		send_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r = xcalloc(1, sizeof(*r))) == NULL)
		fatal("xcalloc");
	r->fd = STDIN_FILENO;
	r->timeout_s = o.timeout_s;
	if (fstat(r->fd, &sb) == -1)
		fatal("fstat stdin");
	/* epoll refuses plain files; they never block, so they are read without waiting. */
	r->regular = S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode);
	o.conf.on_acked = send_acked_cb;
	o.conf.cb_arg = r;
	if ((r->base = event_base_new()) == NULL || (r->in = evbuffer_new()) == NULL)
		fatalx("libevent setup failed");
	if ((r->ag = tandem_agent_new(r->base, &o.conf, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((r->rd = event_new(r->base, r->fd, EV_READ, send_rd_cb, r)) == NULL ||
	    (r->more = event_new(r->base, -1, 0, send_more_cb, r)) == NULL ||
	    (r->deadline = evtimer_new(r->base, send_stop_cb, r)) == NULL ||
	    (r->sigint = evsignal_new(r->base, SIGINT, send_stop_cb, r)) == NULL ||
	    (r->sigterm = evsignal_new(r->base, SIGTERM, send_stop_cb, r)) == NULL)
		fatalx("libevent setup failed");
	event_add(r->sigint, NULL);
	event_add(r->sigterm, NULL);
	start = cli_mono_us();
	tandem_agent_start(r->ag);
	event_active(r->more, EV_TIMEOUT, 1);
	event_base_dispatch(r->base);

	tandem_agent_stats(r->ag, &st);
	printf("send: %" PRIu64 " lines read, %" PRIu64 " events accepted, %" PRIu64
	    " bad lines skipped, %" PRIu64 " acked, %" PRIu64 " not acked%s\n", r->lineno,
	    r->good, r->bad, st.acked, st.window_events,
	    r->eof && evbuffer_get_length(r->in) == 0 ? "" : " (input not finished)");
	cli_print_summary("send", &st, tandem_agent_hist(r->ag),
	    (double)(cli_mono_us() - start) / 1e6);
	status = r->eof && evbuffer_get_length(r->in) == 0 && st.window_events == 0 &&
	    st.acked == st.enqueued ? 0 : 1;

	tandem_agent_free(r->ag);
	event_free(r->rd);
	event_free(r->more);
	event_free(r->deadline);
	event_free(r->sigint);
	event_free(r->sigterm);
	evbuffer_free(r->in);
	event_base_free(r->base);
	xfree(r);
	return status;
}
