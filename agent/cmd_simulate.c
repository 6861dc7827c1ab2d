/* Tandem — MIT licence. tandem-agent simulate: N simulated apps, each its own agent, on one loop. */
#include <sys/resource.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agent/cli.h"
#include "agent/sim.h"
#include "common/log.h"
#include "common/xalloc.h"

#define SIM_TICK_US		1000
#define SIM_BURST_TICKS		20	/* tokens never pile up beyond 20 ms worth */
#define SIM_MAX_APPS		100000
#define SIM_NAME		32

struct simrun {
	struct event_base	*base;
	struct tandem_agent	**agents;
	unsigned		 napps;
	struct sim		*sim;
	struct hist		 hist, prev_hist, tmp_hist;
	double			 rate, tokens;
	uint64_t		 max_events, offered, refused_now;
	uint64_t		 start_us, last_us, end_us, drain_start_us;
	double			 drain_s;
	int			 generating;
	unsigned		 flushed;
	struct event		*tick, *report, *deadline, *sigint, *sigterm;
	unsigned		 seconds;
	uint64_t		 prev_offered, prev_sent, prev_acked;
	struct sim_event	 sev;
};

static void
simulate_usage(void)
{
	fprintf(stderr, "usage: tandem-agent simulate -c HOST:PORT -n N_APPS -r EVENTS_PER_SEC "
	    "-d SECONDS [-b BATCH] [--seed S] [--max-events N] [options]\n"
	    "  -n N              applications, each its own agent sim-<i> / app-<i>\n"
	    "  -r RATE           total offered events per second across all apps\n"
	    "  -d SECONDS        how long to offer events\n"
	    "  --seed S          generator seed (default 1)\n"
	    "  --max-events N    stop after offering N events\n"
	    "  --id-prefix P     agent ids P-<i> (default sim)\n"
	    CLI_COMMON_USAGE);
}

/* Sums every agent's counters. */
static void
simulate_sum(struct simrun *r, struct tandem_agent_stats *tot)
{
	struct tandem_agent_stats st;
	unsigned i, k;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < r->napps; i++) {
		tandem_agent_stats(r->agents[i], &st);
		tot->enqueued += st.enqueued;
		tot->invalid += st.invalid;
		tot->window_full += st.window_full;
		tot->sent += st.sent;
		tot->resent += st.resent;
		tot->frames += st.frames;
		tot->acked += st.acked;
		tot->renumbered += st.renumbered;
		tot->connects += st.connects;
		tot->reconnects += st.reconnects;
		tot->disconnects += st.disconnects;
		for (k = 0; k < TANDEM_AGENT_ERR_CODES; k++)
			tot->errors[k] += st.errors[k];
		tot->window_events += st.window_events;
		tot->window_bytes += st.window_bytes;
		tot->connected += st.connected;
	}
}

static void
simulate_flushed_cb(struct tandem_agent *ag, void *arg)
{
	struct simrun *r = arg;

	if (++r->flushed == r->napps)
		event_base_loopexit(r->base, NULL);
}

/* Stops offering events; waits (bounded) for every agent's window to empty. */
static void
simulate_drain(struct simrun *r)
{
	struct timeval tv;
	unsigned i;

	if (!r->generating)
		return;
	r->generating = 0;
	r->end_us = cli_mono_us();
	event_del(r->tick);
	tv.tv_sec = (time_t)r->drain_s;
	tv.tv_usec = (suseconds_t)((r->drain_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(r->deadline, &tv);
	log_info("offered %" PRIu64 " events; waiting up to %.1f s for acks", r->offered,
	    r->drain_s);
	for (i = 0; i < r->napps; i++)
		tandem_agent_flush(r->agents[i], simulate_flushed_cb, r);
}

static void
simulate_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simrun *r = arg;
	uint64_t now = cli_mono_us(), n, i;
	int64_t now_ms = cli_now_ms();
	unsigned app;

	if (now >= r->end_us) {
		simulate_drain(r);
		return;
	}
	r->tokens += r->rate * (double)(now - r->last_us) / 1e6;
	r->last_us = now;
	if (r->tokens > r->rate * SIM_BURST_TICKS * SIM_TICK_US / 1e6 + 1)
		r->tokens = r->rate * SIM_BURST_TICKS * SIM_TICK_US / 1e6 + 1;
	n = (uint64_t)r->tokens;
	if (r->max_events > 0 && n > r->max_events - r->offered)
		n = r->max_events - r->offered;
	r->tokens -= (double)n;
	for (i = 0; i < n; i++) {
		sim_next(r->sim, now_ms, &app, &r->sev);
		/* Refusals (EAGAIN) are counted by the agent: the offer is dropped, as a
		 * real application that must not block would. */
		(void)tandem_agent_event(r->agents[app], &r->sev.ev);
	}
	r->offered += n;
	if (r->max_events > 0 && r->offered >= r->max_events)
		simulate_drain(r);
}

static void
simulate_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simrun *r = arg;
	struct tandem_agent_stats t;

	simulate_sum(r, &t);
	hist_diff(&r->tmp_hist, &r->hist, &r->prev_hist);
	r->seconds++;
	printf("%4us offered %8" PRIu64 "/s sent %8" PRIu64 "/s acked %8" PRIu64
	    "/s refused %" PRIu64 " reconnects %" PRIu64 " connected %d/%u window %" PRIu64
	    " p50 %" PRIu64 " us p99 %" PRIu64 " us\n", r->seconds,
	    r->offered - r->prev_offered, t.sent - r->prev_sent, t.acked - r->prev_acked,
	    t.window_full, t.reconnects, t.connected, r->napps, t.window_events,
	    hist_percentile(&r->tmp_hist, 50), hist_percentile(&r->tmp_hist, 99));
	fflush(stdout);
	r->prev_offered = r->offered;
	r->prev_sent = t.sent;
	r->prev_acked = t.acked;
	r->prev_hist = r->hist;
}

static void
simulate_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct simrun *r = arg;

	log_warnx("acks still missing after %.1f s; giving up", r->drain_s);
	event_base_loopexit(r->base, NULL);
}

static void
simulate_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct simrun *r = arg;

	if (r->generating) {
		log_info("signal %d: stopping the offer", (int)sig);
		simulate_drain(r);
	} else
		event_base_loopexit(r->base, NULL);
}

/* Thousands of agents need thousands of descriptors. */
static void
simulate_raise_nofile(unsigned napps)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("%s: setrlimit", __func__);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)napps + 64)
		log_warnx("%s: only %llu descriptors for %u agents", __func__,
		    (unsigned long long)rl.rlim_cur, napps);
}

int
cmd_simulate(int argc, char **argv)
{
	enum { OPT_SEED = CLI_OPT_LOCAL, OPT_MAX, OPT_PREFIX };
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "apps",	required_argument,	NULL, 'n' },
		{ "rate",	required_argument,	NULL, 'r' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "seed",	required_argument,	NULL, OPT_SEED },
		{ "max-events",	required_argument,	NULL, OPT_MAX },
		{ "id-prefix",	required_argument,	NULL, OPT_PREFIX },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct simrun r;
	struct cli_opts o;
	struct tandem_agent_conf conf;
	struct tandem_agent_stats tot;
	char id[SIM_NAME], app[SIM_NAME], err[256];
	const char *prefix = "sim";
	uint64_t v, seed = 1, napps = 0, rate = 0;
	double duration = -1, elapsed;
	struct timeval tick = { 0, SIM_TICK_US }, second = { 1, 0 };
	unsigned i;
	int ch, rc, status = 1;

	memset(&r, 0, sizeof(r));
	cli_opts_init(&o);
	o.timeout_s = 10;
	optind = 1;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "n:r:d:h", longopts, NULL)) != -1) {
		if ((rc = cli_opts_handle(&o, ch, optarg)) == -1)
			return 2;
		if (rc == 1)
			continue;
		switch (ch) {
		case 'n':
			if (cli_number("-n", optarg, 1, SIM_MAX_APPS, &napps) == -1)
				return 2;
			break;
		case 'r':
			if (cli_number("-r", optarg, 1, UINT64_C(100000000), &rate) == -1)
				return 2;
			break;
		case 'd':
			if (cli_seconds("-d", optarg, &duration) == -1)
				return 2;
			break;
		case OPT_SEED:
			if (cli_number("--seed", optarg, 0, UINT64_MAX, &seed) == -1)
				return 2;
			break;
		case OPT_MAX:
			if (cli_number("--max-events", optarg, 1, UINT64_MAX, &v) == -1)
				return 2;
			r.max_events = v;
			break;
		case OPT_PREFIX:
			prefix = optarg;
			break;
		default:
			simulate_usage();
			return 2;
		}
	}
	if (optind != argc || o.ncollectors == 0 || napps == 0 || rate == 0 || duration < 0) {
		simulate_usage();
		return 2;
	}
	if (strlen(prefix) > 16) {
		fprintf(stderr, "tandem-agent: --id-prefix over 16 bytes\n");
		return 2;
	}
	simulate_raise_nofile((unsigned)napps);
	signal(SIGPIPE, SIG_IGN);
	r.napps = (unsigned)napps;
	r.rate = (double)rate;
	r.drain_s = o.timeout_s;
	if ((r.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((r.sim = sim_new(r.napps, seed)) == NULL ||
	    (r.agents = xcalloc(r.napps, sizeof(*r.agents))) == NULL)
		fatalx("out of memory for %u apps", r.napps);
	conf = o.conf;
	conf.hist = &r.hist;
	if (conf.max_events == 0) {
		/* A window per agent of 64K events times 5000 agents is too much memory;
		 * half a second of each agent's share of the rate, within [1024, 65536]. */
		v = rate / napps / 2;
		conf.max_events = v < 1024 ? 1024 : v > 65536 ? 65536 : (size_t)v;
	}
	for (i = 0; i < r.napps; i++) {
		snprintf(id, sizeof(id), "%s-%u", prefix, i);
		snprintf(app, sizeof(app), "app-%u", i);
		conf.agent_id = id;
		conf.app = app;
		if ((r.agents[i] = tandem_agent_new(r.base, &conf, err, sizeof(err))) == NULL)
			fatalx("agent %s: %s", id, err);
	}
	if ((r.tick = event_new(r.base, -1, EV_PERSIST, simulate_tick_cb, &r)) == NULL ||
	    (r.report = event_new(r.base, -1, EV_PERSIST, simulate_report_cb, &r)) == NULL ||
	    (r.deadline = evtimer_new(r.base, simulate_deadline_cb, &r)) == NULL ||
	    (r.sigint = evsignal_new(r.base, SIGINT, simulate_signal_cb, &r)) == NULL ||
	    (r.sigterm = evsignal_new(r.base, SIGTERM, simulate_signal_cb, &r)) == NULL)
		fatalx("cannot create events");
	event_add(r.sigint, NULL);
	event_add(r.sigterm, NULL);
	for (i = 0; i < r.napps; i++)
		tandem_agent_start(r.agents[i]);
	log_info("simulating %u apps at %" PRIu64 " events/s for %.1f s (batch %u)", r.napps,
	    rate, duration, conf.batch ? conf.batch : 64);
	r.start_us = r.last_us = cli_mono_us();
	r.end_us = r.start_us + (uint64_t)(duration * 1e6);
	r.generating = 1;
	event_add(r.tick, &tick);
	event_add(r.report, &second);
	event_base_dispatch(r.base);
	if (r.generating)
		r.end_us = cli_mono_us();

	simulate_sum(&r, &tot);
	elapsed = (double)(r.end_us - r.start_us) / 1e6;
	printf("total: %u apps, offered %" PRIu64 " events in %.2f s (%.0f/s), enqueued %"
	    PRIu64 ", acked %" PRIu64 " (%.0f/s over the offer)\n", r.napps, r.offered, elapsed,
	    elapsed > 0 ? (double)r.offered / elapsed : 0, tot.enqueued, tot.acked,
	    elapsed > 0 ? (double)tot.acked / elapsed : 0);
	printf("total: queue %" PRIu64 ", txn %" PRIu64 ", job %" PRIu64 ", log %" PRIu64
	    ", heartbeat %" PRIu64 "\n", sim_count(r.sim, TANDEM__EVENT__KIND_QUEUE),
	    sim_count(r.sim, TANDEM__EVENT__KIND_TXN), sim_count(r.sim, TANDEM__EVENT__KIND_JOB),
	    sim_count(r.sim, TANDEM__EVENT__KIND_LOG),
	    sim_count(r.sim, TANDEM__EVENT__KIND_HEARTBEAT));
	cli_print_summary("total", &tot, &r.hist, (double)(cli_mono_us() - r.start_us) / 1e6);
	status = tot.acked == tot.enqueued && tot.window_events == 0 ? 0 : 1;

	for (i = 0; i < r.napps; i++)
		tandem_agent_free(r.agents[i]);
	XFREE(r.agents);
	event_free(r.tick);
	event_free(r.report);
	event_free(r.deadline);
	event_free(r.sigint);
	event_free(r.sigterm);
	sim_free(r.sim);
	event_base_free(r.base);
	return status;
}
