/* Tandem — MIT licence. fake-collector: the test collector as a process, for agent benchmarks. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tests/unit/agent/fake_collector.h"

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct fake_conf conf;
	struct fake_collector *fc;
	struct fake_stats st;
	struct event_base *base;
	struct event *sigint, *sigterm, *limit;
	struct timeval tv = { 600, 0 };
	uint16_t port = 0, bound;
	int ch;

	memset(&conf, 0, sizeof(conf));
	while ((ch = getopt(argc, argv, "p:s:Vt:")) != -1) {
		switch (ch) {
		case 'p':
			port = (uint16_t)atoi(optarg);
			break;
		case 's':
			conf.initial_stored = strtoull(optarg, NULL, 10);
			break;
		case 'V':
			conf.verify = 1;
			break;
		case 't':
			tv.tv_sec = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: fake-collector [-p PORT] [-s STORED] [-V] "
			    "[-t SECONDS]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return 1;
	if ((fc = fake_new(base, &conf, port, &bound)) == NULL) {
		fprintf(stderr, "fake-collector: cannot listen\n");
		return 1;
	}
	printf("port %u\n", bound);
	fflush(stdout);
	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	limit = evtimer_new(base, stop_cb, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_add(limit, &tv);	/* never runs unbounded */
	event_base_dispatch(base);
	fake_stats(fc, &st);
	printf("fake-collector: conns %" PRIu64 " hellos %" PRIu64 " batches %" PRIu64
	    " stored %" PRIu64 " dups %" PRIu64 " gaps %" PRIu64 " acks %" PRIu64 " bad %"
	    PRIu64 "\n", st.conns, st.hellos, st.batches, st.stored, st.dups, st.gaps, st.acks,
	    st.bad);
	event_free(sigint);
	event_free(sigterm);
	event_free(limit);
	fake_free(fc);
	event_base_free(base);
	return 0;
}
