/* Tandem — MIT licence. monitord: getopt, config, the store read-only, the HTTP API on one event loop. */
#include <sys/prctl.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "common/daemon_args.h"
#include "common/log.h"
#include "monitor/alarm_run.h"
#include "monitor/api.h"
#include "monitor/dashboard.h"
#include "monitor/http.h"
#include "monitor/monitor_conf.h"
#include "monitor/query.h"

#define REFRESH_BUDGET_US	20000	/* overview work per timer tick */

struct monitord {
	struct event_base	*base;
	struct query		*q;
	struct monitor_conf	*conf;
	struct event		*refresh;
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the overview (queue verdicts, stuck counts) fresh in bounded slices. */
static void
refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitord *m = arg;
	struct timeval tv = { (long)(m->conf->refresh_interval_ms / 1000),
	    (long)(m->conf->refresh_interval_ms % 1000) * 1000 };

	query_refresh(m->q, wall_ms(), REFRESH_BUDGET_US);
	evtimer_add(m->refresh, &tv);
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct monitord *m = arg;

	log_info("stopping on signal %d", (int)sig);
	event_base_loopexit(m->base, NULL);
}

int
main(int argc, char *argv[])
{
	static struct api api;
	struct monitord m = { 0 };
	struct monitor_conf conf;
	struct conf_errors errs = { 0 };
	struct query_conf qc;
	struct http_conf hc;
	struct http_server *srv;
	struct event *sigterm, *sigint;
	struct timeval tv = { 0, 1000 };
	struct daemon_args args;
	char err[512];

	daemon_args_parse(&args, "monitord", argc, argv);
	monitor_conf_init(&conf);
	if (monitor_conf_load(&conf, args.conffile, &errs) == -1) {
		daemon_conf_rejected(&args, &errs);
		monitor_conf_free(&conf);
		return 1;
	}
	if (args.noaction) {
		if (args.verbose)
			monitor_conf_print(&conf, stdout);
		fprintf(stderr, "configuration OK\n");
		monitor_conf_free(&conf);
		return 0;
	}
	daemon_detach(&args, 1);
	signal(SIGPIPE, SIG_IGN);
	/* Parses network input: never gains privileges (XXX no setuid to a user yet). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
	query_conf_default(&qc);
	qc.growth_window_ms = (int64_t)conf.growth_window_ms;
	qc.growth_floor = conf.growth_floor;
	qc.stuck_factor = (uint32_t)conf.stuck_factor;
	qc.stuck_min_ms = (int64_t)conf.stuck_min_ms;
	qc.stuck_idle_ms = (int64_t)conf.stuck_idle_ms;
	qc.silent_ms = (int64_t)conf.silent_after_ms;
	m.conf = &conf;
	if ((m.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((m.q = query_open(conf.store_path, &qc, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	api_init(&api, m.q, &conf);
	if (alarm_run_start(m.base, &api, m.q, &conf, err, sizeof(err)) == -1)
		fatalx("alarms: %s", err);
	if (dashboard_init(&api, conf.assets_dir, err, sizeof(err)) == -1)
		fatalx("dashboard: %s", err);
	http_conf_default(&hc);
	hc.addr = conf.listen_host;
	hc.port = conf.listen_port;
	hc.max_headers = conf.max_headers;
	hc.max_body = conf.max_body;
	hc.timeout_s = (int)((conf.http_timeout_ms + 999) / 1000);
	hc.token = conf.token;
	if ((srv = http_new(m.base, &hc, api.routes, api.nroutes, &api, err, sizeof(err))) == NULL)
		fatalx("http: %s", err);
	api.srv = srv;
	if ((m.refresh = evtimer_new(m.base, refresh_cb, &m)) == NULL)
		fatalx("timer");
	evtimer_add(m.refresh, &tv);
	sigterm = evsignal_new(m.base, SIGTERM, stop_cb, &m);
	sigint = evsignal_new(m.base, SIGINT, stop_cb, &m);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1)
		fatalx("signal events");
	log_info("listening on %s:%u, store %s", conf.listen_host, http_port(srv),
	    conf.store_path);
	if (dashboard_dir() != NULL)
		log_info("dashboard at http://%s:%u/ from %s", conf.listen_host, http_port(srv),
		    dashboard_dir());
	event_base_dispatch(m.base);

	event_free(sigterm);
	event_free(sigint);
	event_free(m.refresh);
	http_free(srv);
	alarm_run_stop();
	dashboard_shutdown();
	query_close(m.q);
	event_base_free(m.base);
	monitor_conf_free(&conf);
	return 0;
}
