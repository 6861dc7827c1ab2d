/* Tandem — MIT licence. Shared option parsing and summaries for the tandem-agent subcommands. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "common/log.h"
#include "proto/msg.h"

void
cli_opts_init(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = 30;
}

int
cli_number(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
 bad:
	fprintf(stderr, "tandem-agent: %s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
	    what, s, min, max);
	return -1;
}

int
cli_seconds(const char *what, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !(v >= 0) || v > 1e7) {
		fprintf(stderr, "tandem-agent: %s: '%s' is not a number of seconds\n", what, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_opts_handle(struct cli_opts *o, int ch, const char *arg)
{
	uint64_t v;

	switch (ch) {
	case 'c':
		if (o->ncollectors == TANDEM_AGENT_MAX_COLLECTORS) {
			fprintf(stderr, "tandem-agent: at most %d collectors\n",
			    TANDEM_AGENT_MAX_COLLECTORS);
			return -1;
		}
		o->conf.collectors[o->ncollectors++] = arg;
		return 1;
	case 'a':
		o->conf.agent_id = arg;
		return 1;
	case 'A':
		o->conf.app = arg;
		return 1;
	case 't':
		o->conf.token = arg;
		return 1;
	case 'H':
		o->conf.host = arg;
		return 1;
	case 'b':
		if (cli_number("-b", arg, 1, MSG_MAX_EVENTS, &v) == -1)
			return -1;
		o->conf.batch = (unsigned)v;
		return 1;
	case 'w':
		if (cli_number("-w", arg, 1, UINT64_C(1) << 26, &v) == -1)
			return -1;
		o->conf.max_events = (size_t)v;
		return 1;
	case 'W':
		if (cli_number("-W", arg, 4096, UINT64_C(1) << 34, &v) == -1)
			return -1;
		o->conf.max_bytes = (size_t)v;
		return 1;
	case 'L':
		if (cli_number("-L", arg, 1, 10000000, &v) == -1)
			return -1;
		o->conf.linger_us = (unsigned)v;
		return 1;
	case 'v':
		log_setverbose(log_getverbose() + 1);
		return 1;
	case CLI_OPT_TLS:
		o->conf.tls = 1;
		return 1;
	case CLI_OPT_TLS_CA:
		o->conf.tls_ca_file = arg;
		return 1;
	case CLI_OPT_TLS_CERT:
		o->conf.tls_cert_file = arg;
		return 1;
	case CLI_OPT_TLS_KEY:
		o->conf.tls_key_file = arg;
		return 1;
	case CLI_OPT_TLS_NAME:
		o->conf.tls_server_name = arg;
		return 1;
	case CLI_OPT_TIMEOUT:
		return cli_seconds("--timeout", arg, &o->timeout_s) == -1 ? -1 : 1;
	default:
		return 0;
	}
}

uint64_t
cli_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cli_print_summary(const char *what, const struct tandem_agent_stats *st, const struct hist *h,
    double seconds)
{
	uint64_t errs = 0;
	unsigned i;

	for (i = 0; i < TANDEM_AGENT_ERR_CODES; i++)
		errs += st->errors[i];
	printf("%s: %.1f s, enqueued %" PRIu64 ", sent %" PRIu64 " (resent %" PRIu64
	    ") in %" PRIu64 " frames, acked %" PRIu64 ", unacked %" PRIu64 "\n",
	    what, seconds, st->enqueued, st->sent, st->resent, st->frames, st->acked,
	    st->window_events);
	printf("%s: refused window-full %" PRIu64 ", invalid %" PRIu64 ", reconnects %" PRIu64
	    ", collector errors %" PRIu64 "\n", what, st->window_full, st->invalid,
	    st->reconnects, errs);
	for (i = 0; i < TANDEM_AGENT_ERR_CODES; i++)
		if (st->errors[i] > 0)
			printf("%s:   error %s: %" PRIu64 "\n", what, msg_error_name((int)i),
			    st->errors[i]);
	if (h != NULL && h->count > 0)
		printf("%s: ack latency p50 %" PRIu64 " us, p99 %" PRIu64 " us, p99.9 %" PRIu64
		    " us, max %" PRIu64 " us (%" PRIu64 " events)\n", what,
		    hist_percentile(h, 50), hist_percentile(h, 99), hist_percentile(h, 99.9),
		    h->max_us, h->count);
}
