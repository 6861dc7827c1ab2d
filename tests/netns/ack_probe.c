/* Tandem — MIT licence. ack_probe: one agent sending an event every 2 ms; the longest time without an ack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "agent/agent.h"

/*
 * ack_probe HOST:PORT DURATION_MS [ID]
 *     Sends a heartbeat event every 2 ms for DURATION_MS (reconnect backoff 10..100 ms), then
 *     waits up to 15 s for every event to be acknowledged. Prints
 *       max_ack_gap_ms G gap_start_ns S gap_end_ns E enqueued N acked M unacked U
 *     where the gap is the longest time between two acknowledgements (CLOCK_REALTIME ns), i.e.
 *     how long agents were not acknowledged around a failover. Exit 0 if everything was acked.
 */
struct probe {
	struct event_base	*base;
	struct tandem_agent	*agent;
	struct event		*tick, *stop, *deadline;
	uint64_t		 last_acked;
	int64_t			 last_ack_ns, gap, gap_start, gap_end;
	int			 generating;
};

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
on_acked(struct tandem_agent *a, void *arg)
{
	struct probe *p = arg;
	struct tandem_agent_stats st;
	int64_t t = real_ns();

	tandem_agent_stats(a, &st);
	if (st.acked == p->last_acked)
		return;
	p->last_acked = st.acked;
	if (p->last_ack_ns != 0 && t - p->last_ack_ns > p->gap) {
		p->gap = t - p->last_ack_ns;
		p->gap_start = p->last_ack_ns;
		p->gap_end = t;
	}
	p->last_ack_ns = t;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	if (p->generating)
		(void)tandem_agent_heartbeat(p->agent, 0);
}

static void
flushed_cb(struct tandem_agent *a, void *arg)
{
	event_base_loopexit(((struct probe *)arg)->base, NULL);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct timeval tv = { 15, 0 };

	p->generating = 0;
	tandem_agent_flush(p->agent, flushed_cb, p);
	evtimer_add(p->deadline, &tv);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(((struct probe *)arg)->base, NULL);
}

int
main(int argc, char *argv[])
{
	struct tandem_agent_conf conf;
	struct tandem_agent_stats st;
	struct probe p;
	struct timeval tick = { 0, 2000 }, dur;
	char err[256];
	long ms;

	if (argc < 3) {
		fprintf(stderr, "usage: ack_probe HOST:PORT DURATION_MS [ID]\n");
		return 2;
	}
	ms = strtol(argv[2], NULL, 10);
	dur.tv_sec = ms / 1000;
	dur.tv_usec = (ms % 1000) * 1000;
	memset(&p, 0, sizeof(p));
	memset(&conf, 0, sizeof(conf));
	conf.collectors[0] = argv[1];
	conf.agent_id = argc > 3 ? argv[3] : "ack-probe";
	conf.app = "ack-probe";
	conf.batch = 1;
	conf.linger_us = 0;
	conf.backoff_min_ms = 10;
	conf.backoff_max_ms = 100;
	conf.handshake_ms = 1000;
	conf.on_acked = on_acked;
	conf.cb_arg = &p;
	if ((p.base = event_base_new()) == NULL)
		return 1;
	if ((p.agent = tandem_agent_new(p.base, &conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ack_probe: %s\n", err);
		return 1;
	}
	p.tick = event_new(p.base, -1, EV_PERSIST, tick_cb, &p);
	p.stop = evtimer_new(p.base, stop_cb, &p);
	p.deadline = evtimer_new(p.base, deadline_cb, &p);
	if (p.tick == NULL || p.stop == NULL || p.deadline == NULL)
		return 1;
	p.generating = 1;
	tandem_agent_start(p.agent);
	event_add(p.tick, &tick);
	evtimer_add(p.stop, &dur);
	event_base_dispatch(p.base);
	tandem_agent_stats(p.agent, &st);
	printf("max_ack_gap_ms %.1f gap_start_ns %lld gap_end_ns %lld enqueued %llu acked %llu "
	    "unacked %zu\n", (double)p.gap / 1e6, (long long)p.gap_start, (long long)p.gap_end,
	    (unsigned long long)st.enqueued, (unsigned long long)st.acked,
	    tandem_agent_unacked(p.agent));
	return tandem_agent_unacked(p.agent) == 0 ? 0 : 1;
}
