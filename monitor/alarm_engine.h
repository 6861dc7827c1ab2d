/* Tandem — MIT licence. The alarm engine: rules, evaluation rounds, grouping, silences, notices, persistence. */
#ifndef TANDEM_MONITOR_ALARM_ENGINE_H
#define TANDEM_MONITOR_ALARM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "monitor/alarm.h"

#define AE_RULES_MAX		256
#define AE_RECEIVERS_MAX	16
#define AE_RULE_RECEIVERS_MAX	8
#define AE_ALARMS_MAX		20000	/* alarms held; new keys beyond it are counted, not kept */
#define AE_GROUP_ALARMS_MAX	64	/* alarms listed in one notice; more are counted */
#define AE_NOTICES_KEEP		2000	/* notification log entries kept in memory */
#define AE_SPEC_MAX		1024
#define AE_URL_MAX		512
#define AE_ADDR_MAX		256

/*
 * Rule syntax (monitord.conf `rule NAME key=value ...`, or the spec string of POST /api/v1/rules):
 *
 *   type=threshold|queue_growth|latency|stuck_step|app_silent|error_rate   (required)
 *   metric=queue_depth|stuck_txns|running_txns|events_per_s|job_error_rate|log_error_rate
 *                              threshold only (required there)
 *   app=GLOB                   fnmatch(3) on the application (default *)
 *   queue=GLOB | job=GLOB | step=GLOB   the object (queue for queue_depth and queue_growth,
 *                              job for latency and error_rate, step for stuck_step; default *)
 *   above=V  clear_below=V     trigger when value > above; clear when value < clear_below
 *                              (default: above). Durations (ms, s, m, h) for latency (job
 *                              percentile), stuck_step (time in step) and app_silent (time
 *                              since the last event); a fraction 0..1 for error_rate.
 *   for=DUR                    pending this long before firing (default 0)
 *   clear_for=DUR              below clear_below this long before resolving (default 0)
 *   repeat=DUR                 re-notify while firing and unacknowledged (default 1h; 0: never)
 *   group_wait=DUR             wait before the first notice of a group (default 10s)
 *   window=DUR                 data window: queue verdicts, latency, error rate (default 5m)
 *   percentile=50|95|99        latency (default 99)
 *   min_count=N                error_rate: fewer jobs in the window hold the state (default 20)
 *   severity=info|warning|critical      (default warning)
 *   receivers=NAME[,NAME...]   (default: every receiver)
 *   send_resolved=yes|no       (default yes)
 */
enum ae_metric {
	AE_METRIC_NONE,
	AE_METRIC_QUEUE_DEPTH,
	AE_METRIC_STUCK_TXNS,
	AE_METRIC_RUNNING_TXNS,
	AE_METRIC_EVENTS_PER_S,
	AE_METRIC_JOB_ERROR_RATE,
	AE_METRIC_LOG_ERROR_RATE,
};

enum ae_receiver_type {
	AE_RCV_WEBHOOK,
	AE_RCV_SMTP,
};

/* Notice kinds. */
enum ae_kind {
	AE_KIND_FIRING,
	AE_KIND_REPEAT,
	AE_KIND_RESOLVED,
};
#define AE_KINDS	3

enum ae_notice_status {
	AE_NOTICE_SENDING,	/* recorded before the send (write-ahead) */
	AE_NOTICE_SENT,
	AE_NOTICE_FAILED,	/* every retry failed */
	AE_NOTICE_NO_RECEIVER,	/* the rule routes to no receiver: logged only */
};

const char	*ae_metric_name(enum ae_metric);
const char	*ae_kind_name(enum ae_kind);
const char	*ae_notice_status_name(enum ae_notice_status);
const char	*ae_receiver_type_name(enum ae_receiver_type);

struct ae_receiver {
	char			 name[ALARM_NAME_MAX];
	enum ae_receiver_type	 type;
	char			 url[AE_URL_MAX];	/* http(s)://... or smtp://host:port */
	char			 from[AE_ADDR_MAX];	/* SMTP only */
	char			 to[AE_ADDR_MAX];	/* SMTP only: one address */
};

struct ae_rule {
	struct alarm_rule	 r;
	enum ae_metric		 metric;
	char			 app[ALARM_NAME_MAX];		/* glob */
	char			 object[ALARM_OBJECT_MAX];	/* glob */
	int64_t			 window_ms;
	int			 percentile;
	char			 severity[16];
	char			 receivers[AE_RULE_RECEIVERS_MAX][ALARM_NAME_MAX];
	int			 nreceivers;			/* 0: every receiver */
	int64_t			 group_wait_ms;
	int			 send_resolved;
	int			 from_api;			/* stored; deletable by the API */
	char			 created_by[ALARM_WHO_MAX];
	int64_t			 created_ms;
	char			 spec[AE_SPEC_MAX];		/* normalised */
};

/*
 * Parses argv[0 .. argc) ("key=value" words) into r named name. -1 with a reason in err.
 * ae_rule_parse_spec splits spec on blanks first.
 */
int	ae_rule_parse(struct ae_rule *r, const char *name, int argc, char *const *argv,
	    char *err, size_t errlen);
int	ae_rule_parse_spec(struct ae_rule *r, const char *name, const char *spec, char *err,
	    size_t errlen);
/* receiver NAME webhook URL | receiver NAME smtp URL FROM TO. -1 with a reason in err. */
int	ae_receiver_parse(struct ae_receiver *rc, int argc, char *const *argv, char *err,
	    size_t errlen);

/*
 * Where rule inputs come from: query.c's answers (or a test's fakes), as new references in
 * the JSON shapes of query_apps ({"apps":[{app,last_seen_ms,stuck_txns,running_txns,
 * events_per_s,job_error_rate,log_error_rate}]}), query_queues ({"queues":[{queue,verdict,
 * depth}]}), query_perf with app set ({"jobs":[{job,count,errors,p50_us,p95_us,p99_us}]})
 * and query_txns with state "stuck" ({"transactions":[{step,time_in_step_ms}]}).
 * NULL means no data this round (the alarms hold their state).
 */
struct ae_source {
	json_t	*(*apps)(void *arg, int64_t now_ms);
	json_t	*(*queues)(void *arg, const char *app, int64_t from_ms, int64_t to_ms);
	json_t	*(*perf)(void *arg, const char *app, int64_t from_ms, int64_t to_ms);
	json_t	*(*stuck)(void *arg, const char *app, int64_t now_ms);
	void	*arg;
};

/*
 * The replicated store (monitor/ctl.c through collectord): put and del are durable when they
 * return 0; scan reads records with a key prefix. All NULL: state lives in memory only.
 */
struct ae_persist {
	int	(*put)(void *arg, const char *key, const char *val, char *err, size_t errlen);
	int	(*del)(void *arg, const char *key, char *err, size_t errlen);
	long	(*scan)(void *arg, const char *prefix, int (*fn)(void *, const void *, size_t,
		    const void *, size_t), void *fnarg);
	void	*arg;
};

/*
 * Delivery (monitor/notify.c): send queues one notice and returns 0, or -1 if it cannot
 * even be queued. The outcome comes back through alarm_engine_notice_done.
 */
struct ae_notifier {
	int	(*send)(void *arg, uint64_t notice_id, const struct ae_receiver *rcv,
		    const char *subject, const char *json_body, const char *text_body);
	void	*arg;
};

struct ae_conf {
	int64_t		default_window_ms;
	int64_t		default_group_wait_ms;
	int64_t		default_repeat_ms;
};

struct ae_stats {
	uint64_t	rounds;
	uint64_t	notices_sent;
	uint64_t	notices_failed;
	uint64_t	notices_suppressed;	/* due while silenced */
	uint64_t	notices_withdrawn;	/* firing notice dropped: resolved within group_wait */
	uint64_t	notices_resent;		/* interrupted by a restart or failover: sent again */
	uint64_t	persist_errors;
	uint64_t	alarms_dropped;		/* over AE_ALARMS_MAX */
	uint64_t	loads;
};

struct alarm_engine;

/* Copies conf, source, persist and notifier. NULL on allocation failure. */
struct alarm_engine	*alarm_engine_new(const struct ae_conf *, const struct ae_source *,
			    const struct ae_persist *, const struct ae_notifier *);
void			 alarm_engine_free(struct alarm_engine *);

/* Configured rules and receivers (before the first load); -1 on a duplicate or when full. */
int	alarm_engine_add_receiver(struct alarm_engine *, const struct ae_receiver *);
int	alarm_engine_add_rule(struct alarm_engine *, const struct ae_rule *);

/*
 * Drops the state held in memory and reads it back from the store: API rules, alarms with
 * their history, silences, the notification log, pending group membership. Notices left
 * "sending" (the process stopped mid-delivery) are sent again once active. 0 or -1.
 */
int	alarm_engine_load(struct alarm_engine *, int64_t now_ms);

/*
 * Only the active node evaluates and notifies. Becoming active reloads the state first, so
 * what the previous active recorded is honoured (no second notice, no lost ack).
 */
void	alarm_engine_set_active(struct alarm_engine *, int active, int64_t now_ms);
int	alarm_engine_active(const struct alarm_engine *);

/* One evaluation round at now_ms: rules, FSMs, persistence, due groups sent. */
void	alarm_engine_eval(struct alarm_engine *, int64_t now_ms);
/* Sends groups that came due between rounds (the caller's timer). */
void	alarm_engine_flush(struct alarm_engine *, int64_t now_ms);

/* The outcome of a notice handed to the notifier. */
void	alarm_engine_notice_done(struct alarm_engine *, uint64_t notice_id, int ok,
	    int attempts, const char *error, int64_t now_ms);

/* Errors of user operations: an HTTP status and a message. */
struct ae_err {
	int	status;
	char	msg[192];
};

/* User operations: 0, or -1 with e filled (404, 409, 400, 503 not active or not stored). */
int	alarm_engine_ack(struct alarm_engine *, uint64_t id, const char *who,
	    const char *comment, int64_t expires_ms, int64_t now_ms, struct ae_err *e);
int	alarm_engine_resolve(struct alarm_engine *, uint64_t id, const char *who,
	    const char *comment, int64_t now_ms, struct ae_err *e);
int	alarm_engine_silence_add(struct alarm_engine *, const char *rule_pat,
	    const char *app_pat, int64_t starts_ms, int64_t ends_ms, const char *who,
	    const char *comment, int64_t now_ms, uint64_t *id /* OUT */, struct ae_err *e);
int	alarm_engine_silence_del(struct alarm_engine *, uint64_t id, const char *who,
	    int64_t now_ms, struct ae_err *e);
int	alarm_engine_rule_put(struct alarm_engine *, const char *name, const char *spec,
	    const char *who, int64_t now_ms, struct ae_err *e);
int	alarm_engine_rule_del(struct alarm_engine *, const char *name, const char *who,
	    int64_t now_ms, struct ae_err *e);

/* JSON answers (new references; NULL on allocation failure or, for one alarm, 404). */
json_t	*alarm_engine_alarms_json(struct alarm_engine *, const char *state, int64_t now_ms);
json_t	*alarm_engine_alarm_json(struct alarm_engine *, uint64_t id, int64_t now_ms);
json_t	*alarm_engine_stats_json(struct alarm_engine *, int64_t now_ms);
json_t	*alarm_engine_silences_json(struct alarm_engine *, int64_t now_ms);
json_t	*alarm_engine_rules_json(struct alarm_engine *);
json_t	*alarm_engine_notices_json(struct alarm_engine *, size_t limit);

const struct ae_stats	*alarm_engine_stats(const struct alarm_engine *);

#endif
