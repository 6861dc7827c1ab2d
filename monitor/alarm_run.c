/* Tandem — MIT licence. monitord's alarm wiring: engine over query.c, the store via collectord, notify, timers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "monitor/alarm_api.h"
#include "monitor/alarm_engine.h"
#include "monitor/alarm_run.h"
#include "monitor/api.h"
#include "monitor/ctl.h"
#include "monitor/monitor_conf.h"
#include "monitor/notify.h"
#include "monitor/query.h"

#define ALARMS_DB	"alarms"	/* collector/alarm_store.h: ALARM_STORE_DB */
#define FLUSH_MS	250		/* groups come due between rounds */

static struct {
	const struct monitor_conf	*conf;
	struct query			*q;
	struct alarm_engine		*e;
	struct notify			*notify;
	struct event			*eval_ev, *flush_ev;
	char				 role[32];
	int				 curl_init;
} ar;

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The rule inputs: query.c's answers. */

static json_t *
src_apps(void *arg, int64_t now)
{
	struct query_err e;

	return query_apps(ar.q, now, &e);
}

static json_t *
src_queues(void *arg, const char *app, int64_t from, int64_t to)
{
	struct query_err e;

	return query_queues(ar.q, app, from, to, &e);
}

static json_t *
src_perf(void *arg, const char *app, int64_t from, int64_t to)
{
	struct query_err e;

	return query_perf(ar.q, app, NULL, from, to, 0, &e);
}

static json_t *
src_stuck(void *arg, const char *app, int64_t now)
{
	struct query_txn_filter f = { .app = app, .state = "stuck", .limit = QUERY_LIMIT_MAX };
	struct query_err e;

	return query_txns(ar.q, &f, now, &e);
}

/* The store: writes through collectord, reads straight from LMDB. */

static int
st_put(void *arg, const char *key, const char *val, char *err, size_t errlen)
{
	return ctl_alarm_put(ar.conf->control_socket, key, val, err, errlen);
}

static int
st_del(void *arg, const char *key, char *err, size_t errlen)
{
	return ctl_alarm_del(ar.conf->control_socket, key, err, errlen);
}

static long
st_scan(void *arg, const char *prefix, int (*fn)(void *, const void *, size_t, const void *,
    size_t), void *fnarg)
{
	return query_db_scan(ar.q, ALARMS_DB, prefix, fn, fnarg);
}

/* Delivery. */

static int
nt_send(void *arg, uint64_t id, const struct ae_receiver *rc, const char *subject,
    const char *json_body, const char *text_body)
{
	return notify_send(ar.notify, id, rc, subject, json_body, text_body);
}

static void
nt_done(void *arg, uint64_t id, int ok, int attempts, const char *error)
{
	alarm_engine_notice_done(ar.e, id, ok, attempts, error, wall_ms());
}

static void
eval_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { (long)(ar.conf->alarm_interval_ms / 1000),
	    (long)(ar.conf->alarm_interval_ms % 1000) * 1000 };
	char role[32], err[256];
	int64_t now = wall_ms();
	int active;

	if (ar.conf->control_socket == NULL)
		snprintf(role, sizeof(role), "single");
	else if (ctl_role(ar.conf->control_socket, role, sizeof(role), err, sizeof(err)) == -1) {
		/* Not knowing is not being active: a stopped collector cannot store either. */
		if (strcmp(ar.role, "unknown") != 0)
			log_warnx("alarms: collector role unknown: %s", err);
		snprintf(role, sizeof(role), "unknown");
	}
	if (strcmp(role, ar.role) != 0) {
		log_info("alarms: collector role %s", role);
		snprintf(ar.role, sizeof(ar.role), "%s", role);
	}
	active = strcmp(role, "single") == 0 || strcmp(role, "active") == 0;
	alarm_engine_set_active(ar.e, active, now);
	if (active)
		alarm_engine_eval(ar.e, now);
	else if (ar.conf->control_socket != NULL)
		alarm_engine_load(ar.e, now);	/* show what the active recorded */
	evtimer_add(ar.eval_ev, &tv);
}

/* /metrics: the notifier's transfers by outcome and the engine's notices and rounds. */
static void
metrics_cb(struct evbuffer *out, void *arg)
{
	const struct notify_stats *ns = notify_stats(ar.notify);
	const struct ae_stats *es = alarm_engine_stats(ar.e);

	evbuffer_add_printf(out,
	    "# TYPE tandem_notifications_total counter\n"
	    "tandem_notifications_total{outcome=\"sent\"} %" PRIu64 "\n"
	    "tandem_notifications_total{outcome=\"failed\"} %" PRIu64 "\n"
	    "tandem_notifications_total{outcome=\"refused\"} %" PRIu64 "\n"
	    "tandem_notifications_total{outcome=\"suppressed\"} %" PRIu64 "\n"
	    "tandem_notifications_total{outcome=\"withdrawn\"} %" PRIu64 "\n"
	    "tandem_notifications_total{outcome=\"resent\"} %" PRIu64 "\n"
	    "# TYPE tandem_notification_attempts_total counter\n"
	    "tandem_notification_attempts_total %" PRIu64 "\n"
	    "tandem_notification_retries_total %" PRIu64 "\n"
	    "# TYPE tandem_alarm_rounds_total counter\n"
	    "tandem_alarm_rounds_total %" PRIu64 "\n"
	    "tandem_alarm_persist_errors_total %" PRIu64 "\n"
	    "tandem_alarm_dropped_total %" PRIu64 "\n"
	    "# TYPE tandem_alarm_evaluating gauge\n"
	    "tandem_alarm_evaluating %d\n",
	    ns->sent, ns->failed, ns->refused, es->notices_suppressed, es->notices_withdrawn,
	    es->notices_resent, ns->attempts, ns->retries, es->rounds, es->persist_errors,
	    es->alarms_dropped, strcmp(ar.role, "single") == 0 || strcmp(ar.role, "active") == 0);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, FLUSH_MS * 1000 };

	alarm_engine_flush(ar.e, wall_ms());
	evtimer_add(ar.flush_ev, &tv);
}

int
alarm_run_start(struct event_base *base, struct api *a, struct query *q,
    const struct monitor_conf *conf, char *err, size_t errlen)
{
	struct ae_conf ac = { (int64_t)conf->growth_window_ms, 10000, 3600000 };
	struct ae_source src = { src_apps, src_queues, src_perf, src_stuck, NULL };
	struct ae_persist st = { st_put, st_del, st_scan, NULL };
	struct ae_notifier nt = { nt_send, NULL };
	struct notify_conf nc;
	struct timeval now = { 0, 1000 };
	int i;

	ar.conf = conf;
	ar.q = q;
	snprintf(ar.role, sizeof(ar.role), "none");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(err, errlen, "curl_global_init failed");
		return -1;
	}
	ar.curl_init = 1;
	notify_conf_default(&nc);
	nc.timeout_ms = (long)conf->notify_timeout_ms;
	nc.attempts = (int)conf->notify_attempts;
	nc.backoff_ms = (long)conf->notify_backoff_ms;
	if ((ar.notify = notify_new(base, &nc, nt_done, NULL)) == NULL ||
	    (ar.e = alarm_engine_new(&ac, &src, conf->control_socket != NULL ? &st : NULL,
	    &nt)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (conf->control_socket == NULL)
		log_warnx("alarms: no control_socket: alarm state is kept in memory only and "
		    "lost on restart");
	for (i = 0; i < conf->nreceivers; i++)
		if (alarm_engine_add_receiver(ar.e, &conf->receivers[i]) == -1) {
			snprintf(err, errlen, "receiver %s", conf->receivers[i].name);
			return -1;
		}
	for (i = 0; i < conf->nrules; i++)
		if (alarm_engine_add_rule(ar.e, &conf->rules[i]) == -1) {
			snprintf(err, errlen, "rule %s", conf->rules[i].r.name);
			return -1;
		}
	a->metrics = metrics_cb;
	if (alarm_api_init(a, ar.e) == -1) {
		snprintf(err, errlen, "route table full");
		return -1;
	}
	if ((ar.eval_ev = evtimer_new(base, eval_cb, NULL)) == NULL ||
	    (ar.flush_ev = evtimer_new(base, flush_cb, NULL)) == NULL) {
		snprintf(err, errlen, "timer: out of memory");
		return -1;
	}
	evtimer_add(ar.eval_ev, &now);
	evtimer_add(ar.flush_ev, &now);
	log_info("alarms: %d rules, %d receivers, evaluated every %llu ms", conf->nrules,
	    conf->nreceivers, (unsigned long long)conf->alarm_interval_ms);
	return 0;
}

void
alarm_run_stop(void)
{
	if (ar.eval_ev != NULL)
		event_free(ar.eval_ev);
	if (ar.flush_ev != NULL)
		event_free(ar.flush_ev);
	ar.eval_ev = ar.flush_ev = NULL;
	notify_free(ar.notify);
	ar.notify = NULL;
	alarm_engine_free(ar.e);
	ar.e = NULL;
	if (ar.curl_init)
		curl_global_cleanup();
	ar.curl_init = 0;
}
