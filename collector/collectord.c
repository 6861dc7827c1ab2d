/* Tandem — MIT licence. collectord: getopt, config, limits, then the collector's event loop. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/conn.h"
#include "collector/derive.h"
#include "collector/control.h"
#include "collector/ingest.h"
#include "collector/listener.h"
#include "collector/repl.h"
#include "collector/stats.h"
#include "collector/store.h"
#include "common/daemon_args.h"
#include "common/log.h"

#define DECODE_BUDGET	(64u << 20)	/* arena bytes for one frame's decoded messages */

static struct collector the_collector;
static struct event *grace_ev;		/* shutdown: the grace period */
static struct event *close_poll_ev;	/* shutdown: waiting for the standby */

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("%s: setrlimit", __func__);
	}
}

/* The gauges of the stats file: log position and replication state. */
static void
stats_gauges(struct collector *c)
{
	uint64_t pos = store_pos(c->store), peer;

	stats.log_pos = pos;
	stats.repl_peer_connected = c->role == ROLE_STANDBY ? repl_standby_connected(c) :
	    repl_master_connected(c);
	stats.repl_protected = c->role == ROLE_ACTIVE && repl_master_protected(c);
	peer = repl_master_peer_pos(c);
	stats.repl_lag_records = c->role == ROLE_ACTIVE && stats.repl_peer_connected &&
	    peer < pos ? pos - peer : 0;
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct collector_stats last;
	static uint64_t last_pruned;
	struct collector *c = arg;
	double secs = (double)c->conf->stats_interval_ms / 1000.0;
	uint64_t commits = stats.commits - last.commits;

	log_info("rate: %.0f events/s stored, %.0f acks/s, %.0f duplicates/s, %.0f commits/s "
	    "(avg %.0f us), %" PRIu64 " connections, %" PRIu64 " events stored in total",
	    (double)(stats.events_stored - last.events_stored) / secs,
	    (double)(stats.acks - last.acks) / secs,
	    (double)(stats.duplicates - last.duplicates) / secs,
	    (double)commits / secs,
	    commits ? (double)(stats.commit_us_total - last.commit_us_total) / (double)commits : 0,
	    stats.conns_open, stats.events_stored);
	if (stats.pruned_blocks != last_pruned)
		log_info("retention: %" PRIu64 " blocks pruned so far", stats.pruned_blocks);
	last_pruned = stats.pruned_blocks;
	last = stats;
	if (c->conf->stats_file != NULL) {
		stats_gauges(c);
		if (stats_write_file(c->conf->stats_file) == -1)
			log_warn("stats file %s", c->conf->stats_file);
	}
}

static void
stats_file_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;

	stats_gauges(c);
	if (stats_write_file(c->conf->stats_file) == -1)
		log_warn("stats file %s", c->conf->stats_file);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct collector *c = arg;

	log_warnx("shutdown: %llu connections did not drain in time",
	    (unsigned long long)c->nconns);
	event_base_loopexit(c->base, NULL);
}

/*
 * Shutdown, step two: once the standby has applied what was committed (acks held for it are
 * then sent) or the grace period is half over, send the last frames and close.
 */
static void
shutdown_close_cb(evutil_socket_t fd, short what, void *arg)
{
	static int polls;
	struct collector *c = arg;
	struct timeval tv = { 0, 5000 };

	if (ingest_held(c->ingest) > 0 && repl_master_connected(c) &&
	    ++polls * 5 < (int)(c->conf->shutdown_grace_ms / 2)) {
		if (close_poll_ev == NULL &&
		    (close_poll_ev = evtimer_new(c->base, shutdown_close_cb, c)) == NULL)
			goto close;
		evtimer_add(close_poll_ev, &tv);
		return;
	}
close:
	conn_close_all(c);
	if (c->nconns == 0)
		event_base_loopexit(c->base, NULL);
}

static void
shutdown_cb(evutil_socket_t sig, short what, void *arg)
{
	struct collector *c = arg;
	struct timeval tv;

	if (c->draining)
		return;
	log_info("shutdown on signal %d: committing and acknowledging what was received",
	    (int)sig);
	c->draining = 1;
	listener_stop(c);
	conn_stop_reading_all(c);
	if (ingest_commit(c->ingest) == -1)
		log_warnx("shutdown: the last commit failed; agents will resend");
	tv.tv_sec = (long)(c->conf->shutdown_grace_ms / 1000);
	tv.tv_usec = (long)(c->conf->shutdown_grace_ms % 1000) * 1000;
	if ((grace_ev = evtimer_new(c->base, grace_cb, c)) == NULL)
		event_base_loopexit(c->base, NULL);
	else
		evtimer_add(grace_ev, &tv);
	shutdown_close_cb(-1, 0, c);
}

int
main(int argc, char *argv[])
{
	struct collector *c = &the_collector;
	struct collector_conf conf;
	struct conf_errors errs = { 0 };
	struct event *sigterm, *sigint, *stats_ev = NULL, *statsf_ev = NULL;
	struct daemon_args args;
	char err[256];

	daemon_args_parse(&args, "collectord", argc, argv);
	collector_conf_init(&conf);
	if (collector_conf_load(&conf, args.conffile, &errs) == -1) {
		daemon_conf_rejected(&args, &errs);
		collector_conf_free(&conf);
		return 1;
	}
	if (args.noaction) {
		if (args.verbose)
			collector_conf_print(&conf, stdout);
		fprintf(stderr, "configuration OK\n");
		collector_conf_free(&conf);
		return 0;
	}
	daemon_detach(&args, 1);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	c->conf = &conf;
	if ((c->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (arena_init(&c->arena, DECODE_BUDGET) == -1)
		fatalx("decode arena: out of memory");
	if ((c->store = store_open(conf.store_path, conf.map_size, err, sizeof(err))) == NULL)
		fatalx("store: %s", err);
	if (!conf.ha) {
		/* Blocks left in the commit log by a crash go to their ranges before anything
		 * reads the ranges. (An HA node folds only once active: as a standby its data
		 * must stay exactly the active's.) */
		long n, total = 0;

		while ((n = store_fold(c->store, 100000)) > 0) {
			total += n;
			if (store_commit(c->store) == -1)
				fatalx("store: folding the commit log: %s", store_strerror(c->store));
		}
		if (n == -1)
			fatalx("store: folding the commit log: %s", store_strerror(c->store));
		if (total > 0)
			log_info("store: folded %ld blocks left in the commit log", total);
	}
	if ((c->ingest = ingest_new(c)) == NULL)
		fatalx("ingest: out of memory");
	if (derive_attach(c, conf.store_path, err, sizeof(err)) == -1)
		fatalx("derive: %s", err);
	c->role = conf.ha ? ROLE_NONE : ROLE_SINGLE;
	c->term = 0;
	if (conf.repl_enabled) {
		if (repl_master_start(c, err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (c->role == ROLE_SINGLE)
			repl_master_activate(c, 0);
	}
	if (control_start(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (listener_start(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (conf.token == NULL && conf.n_agent_tokens == 0)
		log_warnx("no token configured: any agent may connect");
	sigterm = evsignal_new(c->base, SIGTERM, shutdown_cb, c);
	sigint = evsignal_new(c->base, SIGINT, shutdown_cb, c);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1)
		fatalx("signal events");
	if (conf.stats_interval_ms > 0) {
		struct timeval tv = { (long)(conf.stats_interval_ms / 1000),
		    (long)(conf.stats_interval_ms % 1000) * 1000 };

		if ((stats_ev = event_new(c->base, -1, EV_PERSIST, stats_cb, c)) == NULL ||
		    event_add(stats_ev, &tv) == -1)
			fatalx("stats timer");
	} else if (conf.stats_file != NULL) {
		struct timeval tv = { 1, 0 };

		if ((statsf_ev = event_new(c->base, -1, EV_PERSIST, stats_file_cb, c)) == NULL ||
		    event_add(statsf_ev, &tv) == -1)
			fatalx("stats timer");
	}
	log_info("node %s: store %s, map %" PRIu64 " MiB, position %" PRIu64 ", role %s, ready",
	    conf.node_name, conf.store_path, conf.map_size >> 20, store_pos(c->store),
	    collector_role_name(c->role));
	event_base_dispatch(c->base);

	/* Teardown in reverse order. */
	if (ingest_commit(c->ingest) == -1)
		log_warnx("final commit failed");
	if (conf.stats_file != NULL)
		stats_write_file(conf.stats_file);
	log_info("stopped: %" PRIu64 " events stored, %" PRIu64 " duplicates dropped, "
	    "%" PRIu64 " acks sent", stats.events_stored, stats.duplicates, stats.acks);
	if (stats_ev != NULL)
		event_free(stats_ev);
	if (statsf_ev != NULL)
		event_free(statsf_ev);
	event_free(sigterm);
	event_free(sigint);
	if (grace_ev != NULL)
		event_free(grace_ev);
	if (close_poll_ev != NULL)
		event_free(close_poll_ev);
	conn_free_all(c);
	control_stop();
	repl_standby_stop(c);
	repl_master_stop(c);
	listener_free();
	ingest_free(c->ingest);
	store_close(c->store);
	arena_shutdown(&c->arena);
	event_base_free(c->base);
	collector_conf_free(&conf);
	return 0;
}
