/* Tandem — MIT licence. The alarm engine: rules, evaluation rounds, grouping, silences, notices, persistence. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "monitor/alarm_engine.h"

#define KEY_MAX		96
#define MAX_DUR_MS	(30ULL * 86400000)

/*
 * Records in the store (`alarms` database), JSON values:
 *   a/<id:016x>             one alarm: state, times, ack, resolve, pending group membership
 *   h/<id:016x>/<seq:010>   one history entry of an alarm (transition, who, comment)
 *   n/<id:016x>             one notice: rule, kind, receiver, alarm ids, status, attempts
 *   s/<id:016x>             one silence (deleting one ends it; the record stays)
 *   r/<name>                one rule added through the API
 */

struct ae_alarm {
	struct alarm	 a;
	uint64_t	 id;
	char		 severity[16];
	double		 value;
	int		 has_value;
	int		 silenced;
	int		 seen;		/* observed in this round */
	int		 dirty;		/* changed and not yet stored */
	uint64_t	 hist_seq;	/* history entries stored so far */
	int		 pending_kind;	/* -1, or the kind of the group it waits in */
	int64_t		 pending_since_ms;
};

struct ae_group {
	char		 rule[ALARM_NAME_MAX];
	enum ae_kind	 kind;
	int64_t		 due_ms;
	uint64_t	*ids;
	size_t		 n, cap;
	struct ae_group	*next;
};

struct ae_notice {
	uint64_t	 id;
	char		 rule[ALARM_NAME_MAX];
	enum ae_kind	 kind;
	char		 receiver[ALARM_NAME_MAX];
	uint64_t	*ids;
	size_t		 nids;
	enum ae_notice_status status;
	int		 attempts;
	int64_t		 created_ms, done_ms;
	char		 error[160];
	int		 dirty;
	int		 resend;	/* left "sending" by a previous process */
};

struct ae_silence {
	uint64_t		 id;
	struct alarm_silence	 s;
	int64_t			 created_ms;
	char			 deleted_by[ALARM_WHO_MAX];
	int64_t			 deleted_ms;	/* 0: not deleted */
};

struct alarm_engine {
	struct ae_conf		 conf;
	struct ae_source	 src;
	struct ae_persist	 persist;
	struct ae_notifier	 notifier;
	struct ae_receiver	 rcv[AE_RECEIVERS_MAX];
	int			 nrcv;
	struct ae_rule		*rules[AE_RULES_MAX];
	int			 nrules;
	int			 nconf_rules;	/* rules[0 .. nconf_rules) come from the config */
	struct ae_alarm		**alarms;
	size_t			 nalarms, alarms_cap;
	struct ae_group		*groups;
	struct ae_notice	**notices;	/* oldest first */
	size_t			 nnotices, notices_cap;
	struct ae_silence	*silences;
	size_t			 nsilences, silences_cap;
	uint64_t		 next_alarm, next_notice, next_silence;
	int			 active;
	json_t			*apps;		/* this round's apps answer */
	struct ae_stats		 stats;
};

/* Names. */

const char *
ae_metric_name(enum ae_metric m)
{
	switch (m) {
	case AE_METRIC_NONE:		return "none";
	case AE_METRIC_QUEUE_DEPTH:	return "queue_depth";
	case AE_METRIC_STUCK_TXNS:	return "stuck_txns";
	case AE_METRIC_RUNNING_TXNS:	return "running_txns";
	case AE_METRIC_EVENTS_PER_S:	return "events_per_s";
	case AE_METRIC_JOB_ERROR_RATE:	return "job_error_rate";
	case AE_METRIC_LOG_ERROR_RATE:	return "log_error_rate";
	}
	return "unknown";
}

const char *
ae_kind_name(enum ae_kind k)
{
	switch (k) {
	case AE_KIND_FIRING:	return "firing";
	case AE_KIND_REPEAT:	return "repeat";
	case AE_KIND_RESOLVED:	return "resolved";
	}
	return "unknown";
}

const char *
ae_notice_status_name(enum ae_notice_status s)
{
	switch (s) {
	case AE_NOTICE_SENDING:		return "sending";
	case AE_NOTICE_SENT:		return "sent";
	case AE_NOTICE_FAILED:		return "failed";
	case AE_NOTICE_NO_RECEIVER:	return "no-receiver";
	}
	return "unknown";
}

const char *
ae_receiver_type_name(enum ae_receiver_type t)
{
	switch (t) {
	case AE_RCV_WEBHOOK:	return "webhook";
	case AE_RCV_SMTP:	return "smtp";
	}
	return "unknown";
}

/* The rule types as written in rules: alarm.h's names use '-', the syntax '_'. */
static const struct {
	const char		*name;
	enum alarm_rule_type	 type;
} rule_types[] = {
	{ "threshold",		ALARM_RULE_THRESHOLD },
	{ "queue_growth",	ALARM_RULE_QUEUE_GROWTH },
	{ "latency",		ALARM_RULE_LATENCY },
	{ "stuck_step",		ALARM_RULE_STUCK_STEP },
	{ "app_silent",		ALARM_RULE_APP_SILENT },
	{ "error_rate",		ALARM_RULE_ERROR_RATE },
};

static const char *
rule_type_word(enum alarm_rule_type t)
{
	size_t i;

	for (i = 0; i < sizeof(rule_types) / sizeof(rule_types[0]); i++)
		if (rule_types[i].type == t)
			return rule_types[i].name;
	return "unknown";
}

static int
metric_parse(const char *s, enum ae_metric *m)
{
	enum ae_metric i;

	for (i = AE_METRIC_QUEUE_DEPTH; i <= AE_METRIC_LOG_ERROR_RATE; i++)
		if (strcmp(s, ae_metric_name(i)) == 0) {
			*m = i;
			return 0;
		}
	return -1;
}

/* Rules. */

static int
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* Thresholds: durations for time-valued types, plain numbers otherwise. */
static int
parse_value(const struct ae_rule *r, const char *key, const char *v, double *out, char *err,
    size_t errlen)
{
	uint64_t ms;
	char *end;

	if (r->r.type == ALARM_RULE_LATENCY || r->r.type == ALARM_RULE_STUCK_STEP ||
	    r->r.type == ALARM_RULE_APP_SILENT) {
		if (conf_get_duration(v, 0, MAX_DUR_MS, &ms, err, errlen) == -1)
			return -1;
		*out = (double)ms;
		return 0;
	}
	*out = strtod(v, &end);
	if (end == v || *end != '\0' || !(*out == *out)) {
		snprintf(err, errlen, "%s: not a number: \"%s\"", key, v);
		return -1;
	}
	return 0;
}

static int
parse_dur(const char *key, const char *v, int64_t *out, char *err, size_t errlen)
{
	uint64_t ms;
	char e2[128];

	if (conf_get_duration(v, 0, MAX_DUR_MS, &ms, e2, sizeof(e2)) == -1) {
		snprintf(err, errlen, "%s: %s", key, e2);
		return -1;
	}
	*out = (int64_t)ms;
	return 0;
}

static void
rule_format(struct ae_rule *r)
{
	char *p = r->spec, *end = r->spec + sizeof(r->spec);
	const char *objkey = r->r.type == ALARM_RULE_LATENCY ||
	    r->r.type == ALARM_RULE_ERROR_RATE ? "job" : r->r.type == ALARM_RULE_STUCK_STEP ?
	    "step" : "queue";
	char d1[32], d2[32];
	int i;

#define ADD(...) do {								\
	int n_ = snprintf(p, (size_t)(end - p), __VA_ARGS__);			\
	if (n_ > 0 && n_ < end - p)						\
		p += n_;							\
} while (0)
	ADD("type=%s", rule_type_word(r->r.type));
	if (r->metric != AE_METRIC_NONE)
		ADD(" metric=%s", ae_metric_name(r->metric));
	ADD(" app=%s", r->app);
	if (r->r.type != ALARM_RULE_APP_SILENT && (r->r.type != ALARM_RULE_THRESHOLD ||
	    r->metric == AE_METRIC_QUEUE_DEPTH))
		ADD(" %s=%s", objkey, r->object);
	if (r->r.type == ALARM_RULE_LATENCY || r->r.type == ALARM_RULE_STUCK_STEP ||
	    r->r.type == ALARM_RULE_APP_SILENT) {
		/* Time thresholds keep their unit: a bare number would read back as seconds. */
		conf_fmt_duration(d1, sizeof(d1), (uint64_t)r->r.trigger);
		conf_fmt_duration(d2, sizeof(d2), (uint64_t)r->r.clear);
		ADD(" above=%s clear_below=%s", d1, d2);
	} else if (r->r.type != ALARM_RULE_QUEUE_GROWTH)
		ADD(" above=%.15g clear_below=%.15g", r->r.trigger, r->r.clear);
	conf_fmt_duration(d1, sizeof(d1), (uint64_t)r->r.for_ms);
	conf_fmt_duration(d2, sizeof(d2), (uint64_t)r->r.clear_for_ms);
	ADD(" for=%s clear_for=%s", d1, d2);
	conf_fmt_duration(d1, sizeof(d1), (uint64_t)r->r.repeat_ms);
	conf_fmt_duration(d2, sizeof(d2), (uint64_t)r->group_wait_ms);
	ADD(" repeat=%s group_wait=%s", d1, d2);
	conf_fmt_duration(d1, sizeof(d1), (uint64_t)r->window_ms);
	ADD(" window=%s", d1);
	if (r->r.type == ALARM_RULE_LATENCY)
		ADD(" percentile=%d", r->percentile);
	if (r->r.type == ALARM_RULE_ERROR_RATE)
		ADD(" min_count=%" PRIu64, r->r.min_count);
	ADD(" severity=%s", r->severity);
	if (r->nreceivers > 0) {
		ADD(" receivers=");
		for (i = 0; i < r->nreceivers; i++)
			ADD("%s%s", i ? "," : "", r->receivers[i]);
	}
	ADD(" send_resolved=%s", r->send_resolved ? "yes" : "no");
#undef ADD
}

int
ae_rule_parse(struct ae_rule *r, const char *name, int argc, char *const *argv, char *err,
    size_t errlen)
{
	int i, have_type = 0, have_above = 0, have_clear = 0;
	double clear = 0;
	const char *p;

	memset(r, 0, sizeof(*r));
	if (copy_str(r->r.name, sizeof(r->r.name), name) == -1 || strchr(name, '/') != NULL) {
		snprintf(err, errlen, "rule name: 1..%d bytes, no '/'", ALARM_NAME_MAX - 1);
		return -1;
	}
	snprintf(r->app, sizeof(r->app), "*");
	snprintf(r->object, sizeof(r->object), "*");
	snprintf(r->severity, sizeof(r->severity), "warning");
	r->r.repeat_ms = 3600000;
	r->group_wait_ms = 10000;
	r->window_ms = 5 * 60000;
	r->percentile = 99;
	r->r.min_count = 20;
	r->send_resolved = 1;
	/* The type first: it decides how thresholds are read. */
	for (i = 0; i < argc; i++) {
		size_t t;

		if (strncmp(argv[i], "type=", 5) != 0)
			continue;
		for (t = 0; t < sizeof(rule_types) / sizeof(rule_types[0]); t++)
			if (strcmp(argv[i] + 5, rule_types[t].name) == 0)
				break;
		if (t == sizeof(rule_types) / sizeof(rule_types[0])) {
			snprintf(err, errlen, "type: threshold, queue_growth, latency, stuck_step, "
			    "app_silent or error_rate");
			return -1;
		}
		r->r.type = rule_types[t].type;
		have_type = 1;
	}
	if (!have_type) {
		snprintf(err, errlen, "rule %s: type= is required", name);
		return -1;
	}
	for (i = 0; i < argc; i++) {
		char key[32];
		const char *v;

		if ((p = strchr(argv[i], '=')) == NULL || p == argv[i] ||
		    (size_t)(p - argv[i]) >= sizeof(key)) {
			snprintf(err, errlen, "\"%s\": key=value expected", argv[i]);
			return -1;
		}
		memcpy(key, argv[i], (size_t)(p - argv[i]));
		key[p - argv[i]] = '\0';
		v = p + 1;
		if (strcmp(key, "type") == 0)
			continue;
		if (*v == '\0') {
			snprintf(err, errlen, "%s: empty value", key);
			return -1;
		}
		if (strcmp(key, "metric") == 0) {
			if (metric_parse(v, &r->metric) == -1) {
				snprintf(err, errlen, "metric: queue_depth, stuck_txns, running_txns, "
				    "events_per_s, job_error_rate or log_error_rate");
				return -1;
			}
		} else if (strcmp(key, "app") == 0) {
			if (copy_str(r->app, sizeof(r->app), v) == -1)
				goto toolong;
		} else if (strcmp(key, "queue") == 0 || strcmp(key, "job") == 0 ||
		    strcmp(key, "step") == 0) {
			if (copy_str(r->object, sizeof(r->object), v) == -1)
				goto toolong;
		} else if (strcmp(key, "above") == 0) {
			if (parse_value(r, key, v, &r->r.trigger, err, errlen) == -1)
				return -1;
			have_above = 1;
		} else if (strcmp(key, "clear_below") == 0) {
			if (parse_value(r, key, v, &clear, err, errlen) == -1)
				return -1;
			have_clear = 1;
		} else if (strcmp(key, "for") == 0) {
			if (parse_dur(key, v, &r->r.for_ms, err, errlen) == -1)
				return -1;
		} else if (strcmp(key, "clear_for") == 0) {
			if (parse_dur(key, v, &r->r.clear_for_ms, err, errlen) == -1)
				return -1;
		} else if (strcmp(key, "repeat") == 0) {
			if (parse_dur(key, v, &r->r.repeat_ms, err, errlen) == -1)
				return -1;
		} else if (strcmp(key, "group_wait") == 0) {
			if (parse_dur(key, v, &r->group_wait_ms, err, errlen) == -1)
				return -1;
		} else if (strcmp(key, "window") == 0) {
			if (parse_dur(key, v, &r->window_ms, err, errlen) == -1)
				return -1;
			if (r->window_ms < 10000) {
				snprintf(err, errlen, "window: at least 10s");
				return -1;
			}
		} else if (strcmp(key, "percentile") == 0) {
			r->percentile = atoi(v);
			if (r->percentile != 50 && r->percentile != 95 && r->percentile != 99) {
				snprintf(err, errlen, "percentile: 50, 95 or 99");
				return -1;
			}
		} else if (strcmp(key, "min_count") == 0) {
			char *end;

			r->r.min_count = strtoull(v, &end, 10);
			if (*end != '\0' || *v == '-') {
				snprintf(err, errlen, "min_count: a count");
				return -1;
			}
		} else if (strcmp(key, "severity") == 0) {
			if (strcmp(v, "info") != 0 && strcmp(v, "warning") != 0 &&
			    strcmp(v, "critical") != 0) {
				snprintf(err, errlen, "severity: info, warning or critical");
				return -1;
			}
			snprintf(r->severity, sizeof(r->severity), "%s", v);
		} else if (strcmp(key, "receivers") == 0) {
			const char *s = v, *c;

			r->nreceivers = 0;
			while (*s != '\0') {
				size_t n;

				c = strchr(s, ',');
				n = c != NULL ? (size_t)(c - s) : strlen(s);
				if (n == 0 || n >= ALARM_NAME_MAX ||
				    r->nreceivers == AE_RULE_RECEIVERS_MAX) {
					snprintf(err, errlen, "receivers: at most %d names of 1..%d "
					    "bytes", AE_RULE_RECEIVERS_MAX, ALARM_NAME_MAX - 1);
					return -1;
				}
				memcpy(r->receivers[r->nreceivers], s, n);
				r->receivers[r->nreceivers++][n] = '\0';
				s = c != NULL ? c + 1 : s + n;
			}
		} else if (strcmp(key, "send_resolved") == 0) {
			if (strcmp(v, "yes") == 0)
				r->send_resolved = 1;
			else if (strcmp(v, "no") == 0)
				r->send_resolved = 0;
			else {
				snprintf(err, errlen, "send_resolved: yes or no");
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown key \"%s\"", key);
			return -1;
		}
	}
	if (r->r.type == ALARM_RULE_THRESHOLD && r->metric == AE_METRIC_NONE) {
		snprintf(err, errlen, "rule %s: threshold needs metric=", name);
		return -1;
	}
	if (r->r.type != ALARM_RULE_THRESHOLD && r->metric != AE_METRIC_NONE) {
		snprintf(err, errlen, "rule %s: metric= is for type=threshold", name);
		return -1;
	}
	if (r->r.type != ALARM_RULE_QUEUE_GROWTH && !have_above) {
		snprintf(err, errlen, "rule %s: above= is required", name);
		return -1;
	}
	r->r.clear = have_clear ? clear : r->r.trigger;
	if (alarm_rule_check(&r->r, err, errlen) == -1)
		return -1;
	rule_format(r);
	return 0;
toolong:
	snprintf(err, errlen, "%s: too long", argv[i]);
	return -1;
}

int
ae_rule_parse_spec(struct ae_rule *r, const char *name, const char *spec, char *err,
    size_t errlen)
{
	char buf[AE_SPEC_MAX], *argv[32], *p;
	int argc = 0;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "spec longer than %d bytes", AE_SPEC_MAX - 1);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	for (p = strtok(buf, " \t\r\n"); p != NULL; p = strtok(NULL, " \t\r\n")) {
		if (argc == 32) {
			snprintf(err, errlen, "more than 32 words");
			return -1;
		}
		argv[argc++] = p;
	}
	return ae_rule_parse(r, name, argc, argv, err, errlen);
}

int
ae_receiver_parse(struct ae_receiver *rc, int argc, char *const *argv, char *err,
    size_t errlen)
{
	memset(rc, 0, sizeof(*rc));
	if (argc < 3 || copy_str(rc->name, sizeof(rc->name), argv[0]) == -1) {
		snprintf(err, errlen, "usage: receiver NAME webhook URL | receiver NAME smtp "
		    "smtp://HOST:PORT FROM TO");
		return -1;
	}
	if (strcmp(argv[1], "webhook") == 0 && argc == 3) {
		rc->type = AE_RCV_WEBHOOK;
		if ((strncmp(argv[2], "http://", 7) != 0 && strncmp(argv[2], "https://", 8) != 0) ||
		    copy_str(rc->url, sizeof(rc->url), argv[2]) == -1) {
			snprintf(err, errlen, "receiver %s: URL must be http(s)://, up to %d bytes",
			    argv[0], AE_URL_MAX - 1);
			return -1;
		}
		return 0;
	}
	if (strcmp(argv[1], "smtp") == 0 && argc == 5) {
		rc->type = AE_RCV_SMTP;
		if ((strncmp(argv[2], "smtp://", 7) != 0 && strncmp(argv[2], "smtps://", 8) != 0) ||
		    copy_str(rc->url, sizeof(rc->url), argv[2]) == -1) {
			snprintf(err, errlen, "receiver %s: URL must be smtp(s)://HOST:PORT",
			    argv[0]);
			return -1;
		}
		if (copy_str(rc->from, sizeof(rc->from), argv[3]) == -1 ||
		    copy_str(rc->to, sizeof(rc->to), argv[4]) == -1 ||
		    strchr(rc->from, '@') == NULL || strchr(rc->to, '@') == NULL ||
		    strpbrk(rc->from, "\r\n<>") != NULL || strpbrk(rc->to, "\r\n<>") != NULL) {
			snprintf(err, errlen, "receiver %s: FROM and TO must be mail addresses",
			    argv[0]);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "usage: receiver NAME webhook URL | receiver NAME smtp "
	    "smtp://HOST:PORT FROM TO");
	return -1;
}

/* The engine. */

struct alarm_engine *
alarm_engine_new(const struct ae_conf *conf, const struct ae_source *src,
    const struct ae_persist *persist, const struct ae_notifier *notifier)
{
	struct alarm_engine *e;

	if ((e = xcalloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->conf = *conf;
	e->src = *src;
	if (persist != NULL)
		e->persist = *persist;
	if (notifier != NULL)
		e->notifier = *notifier;
	e->next_alarm = e->next_notice = e->next_silence = 1;
	return e;
}

static void
group_free(struct ae_group *g)
{
	xfree(g->ids);
	xfree(g);
}

static void
notice_free(struct ae_notice *n)
{
	if (n == NULL)
		return;
	xfree(n->ids);
	xfree(n);
}

/* Drops everything loaded from the store or built at run time; config rules stay. */
static void
engine_clear(struct alarm_engine *e)
{
	struct ae_group *g;
	size_t i;
	int r;

	for (i = 0; i < e->nalarms; i++) {
		alarm_shutdown(&e->alarms[i]->a);
		xfree(e->alarms[i]);
	}
	e->nalarms = 0;
	while ((g = e->groups) != NULL) {
		e->groups = g->next;
		group_free(g);
	}
	for (i = 0; i < e->nnotices; i++)
		notice_free(e->notices[i]);
	e->nnotices = 0;
	e->nsilences = 0;
	for (r = e->nconf_rules; r < e->nrules; r++)
		XFREE(e->rules[r]);
	e->nrules = e->nconf_rules;
	e->next_alarm = e->next_notice = e->next_silence = 1;
}

void
alarm_engine_free(struct alarm_engine *e)
{
	int r;

	if (e == NULL)
		return;
	engine_clear(e);
	for (r = 0; r < e->nrules; r++)
		xfree(e->rules[r]);
	xfree(e->alarms);
	xfree(e->notices);
	xfree(e->silences);
	json_decref(e->apps);
	xfree(e);
}

const struct ae_stats *
alarm_engine_stats(const struct alarm_engine *e)
{
	return &e->stats;
}

int
alarm_engine_active(const struct alarm_engine *e)
{
	return e->active;
}

int
alarm_engine_add_receiver(struct alarm_engine *e, const struct ae_receiver *rc)
{
	int i;

	if (e->nrcv == AE_RECEIVERS_MAX)
		return -1;
	for (i = 0; i < e->nrcv; i++)
		if (strcmp(e->rcv[i].name, rc->name) == 0)
			return -1;
	e->rcv[e->nrcv++] = *rc;
	return 0;
}

static struct ae_rule *
rule_find(struct alarm_engine *e, const char *name)
{
	int i;

	for (i = 0; i < e->nrules; i++)
		if (strcmp(e->rules[i]->r.name, name) == 0)
			return e->rules[i];
	return NULL;
}

static int
rule_insert(struct alarm_engine *e, const struct ae_rule *r)
{
	struct ae_rule *copy;

	if (e->nrules == AE_RULES_MAX || rule_find(e, r->r.name) != NULL ||
	    (copy = xmalloc(sizeof(*copy))) == NULL)
		return -1;
	*copy = *r;
	e->rules[e->nrules++] = copy;
	return 0;
}

int
alarm_engine_add_rule(struct alarm_engine *e, const struct ae_rule *r)
{
	if (e->nrules != e->nconf_rules || rule_insert(e, r) == -1)
		return -1;
	e->nconf_rules++;
	return 0;
}

/* Persistence. */

static int
persisting(const struct alarm_engine *e)
{
	return e->persist.put != NULL;
}

/* Stores obj (consumed) under key; 0, or -1 counted and logged. */
static int
put_json(struct alarm_engine *e, const char *key, json_t *obj)
{
	char *s, err[256];
	int rc = 0;

	if (obj == NULL) {
		e->stats.persist_errors++;
		return -1;
	}
	if (!persisting(e)) {
		json_decref(obj);
		return 0;
	}
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (s == NULL || e->persist.put(e->persist.arg, key, s, err, sizeof(err)) == -1) {
		e->stats.persist_errors++;
		log_warnx("%s: %s: %s", __func__, key, s == NULL ? "out of memory" : err);
		rc = -1;
	}
	free(s);
	return rc;
}

static json_t *
alarm_record(const struct ae_alarm *x)
{
	const struct alarm *a = &x->a;
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:s, "
	    "s:I, s:I, s:s, s:I, s:I, s:i, s:I}",
	    "id", (json_int_t)x->id, "rule", a->rule, "app", a->app, "object", a->object,
	    "severity", x->severity, "state", alarm_state_name(a->state),
	    "since_ms", (json_int_t)a->since_ms,
	    "pending_since_ms", (json_int_t)a->pending_since_ms,
	    "firing_since_ms", (json_int_t)a->firing_since_ms,
	    "cleared_since_ms", (json_int_t)a->cleared_since_ms,
	    "last_notify_ms", (json_int_t)a->last_notify_ms, "notified", a->notified,
	    "ack_by", a->ack_by, "ack_comment", a->ack_comment, "ack_ms", (json_int_t)a->ack_ms,
	    "ack_expires_ms", (json_int_t)a->ack_expires_ms, "resolved_by", a->resolved_by,
	    "resolved_ms", (json_int_t)a->resolved_ms, "hist_seq", (json_int_t)x->hist_seq,
	    "pending_kind", x->pending_kind,
	    "pending_since_notice_ms", (json_int_t)x->pending_since_ms);
	if (o != NULL && x->has_value)
		json_object_set_new(o, "value", json_real(x->value));
	return o;
}

static json_t *
history_record(const struct alarm_history *h)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?}", "at_ms", (json_int_t)h->at_ms,
	    "from", alarm_state_name(h->from), "to", alarm_state_name(h->to),
	    "event", alarm_event_name(h->ev), "who", h->who != NULL ? h->who : "system",
	    "comment", h->comment);
}

/* Stores the alarm's new history entries, then the alarm. 0, or -1 (still dirty). */
static int
alarm_store(struct alarm_engine *e, struct ae_alarm *x)
{
	char key[KEY_MAX];
	uint64_t total = x->a.history_dropped + x->a.nhistory, seq;
	size_t idx;

	for (seq = x->hist_seq; seq < total; seq++) {
		if (seq < x->a.history_dropped)
			continue;	/* rotated out before it could be stored */
		idx = (size_t)(seq - x->a.history_dropped);
		snprintf(key, sizeof(key), "h/%016" PRIx64 "/%010" PRIu64, x->id, seq);
		if (put_json(e, key, history_record(&x->a.history[idx])) == -1)
			return -1;
		x->hist_seq = seq + 1;
	}
	snprintf(key, sizeof(key), "a/%016" PRIx64, x->id);
	if (put_json(e, key, alarm_record(x)) == -1)
		return -1;
	x->dirty = 0;
	return 0;
}

static json_t *
ids_json(const uint64_t *ids, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_integer((json_int_t)ids[i]));
	return arr;
}

static int
notice_store(struct alarm_engine *e, struct ae_notice *n)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "n/%016" PRIx64, n->id);
	if (put_json(e, key, json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:i, s:I, s:I, s:s}",
	    "id", (json_int_t)n->id, "rule", n->rule, "kind", ae_kind_name(n->kind),
	    "receiver", n->receiver, "alarms", ids_json(n->ids, n->nids),
	    "status", ae_notice_status_name(n->status), "attempts", n->attempts,
	    "created_ms", (json_int_t)n->created_ms, "done_ms", (json_int_t)n->done_ms,
	    "error", n->error)) == -1)
		return -1;
	n->dirty = 0;
	return 0;
}

static json_t *
silence_json(const struct ae_silence *s, int64_t now)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:s, s:I, s:b}",
	    "id", (json_int_t)s->id, "rule", s->s.rule, "app", s->s.app,
	    "starts_ms", (json_int_t)s->s.starts_ms, "ends_ms", (json_int_t)s->s.ends_ms,
	    "created_by", s->s.created_by, "comment", s->s.comment,
	    "created_ms", (json_int_t)s->created_ms, "deleted_by", s->deleted_by,
	    "deleted_ms", (json_int_t)s->deleted_ms,
	    "active", now >= s->s.starts_ms && now < s->s.ends_ms);
}

static int
silence_store(struct alarm_engine *e, const struct ae_silence *s)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "s/%016" PRIx64, s->id);
	return put_json(e, key, silence_json(s, 0));
}

/* Lookups. */

static struct ae_alarm *
alarm_by_id(struct alarm_engine *e, uint64_t id)
{
	size_t i;

	for (i = 0; i < e->nalarms; i++)
		if (e->alarms[i]->id == id)
			return e->alarms[i];
	return NULL;
}

static struct ae_alarm *
alarm_by_key(struct alarm_engine *e, const char *key)
{
	size_t i;

	for (i = 0; i < e->nalarms; i++)
		if (strcmp(e->alarms[i]->a.key, key) == 0)
			return e->alarms[i];
	return NULL;
}

static struct ae_alarm *
alarm_add(struct alarm_engine *e, const char *rule, const char *app, const char *object,
    uint64_t id)
{
	struct ae_alarm *x, **na;
	size_t ncap;

	if (e->nalarms == AE_ALARMS_MAX) {
		e->stats.alarms_dropped++;
		return NULL;
	}
	if (e->nalarms == e->alarms_cap) {
		ncap = e->alarms_cap ? e->alarms_cap * 2 : 64;
		if ((na = xrealloc(e->alarms, ncap * sizeof(*na))) == NULL)
			return NULL;
		e->alarms = na;
		e->alarms_cap = ncap;
	}
	if ((x = xcalloc(1, sizeof(*x))) == NULL)
		return NULL;
	if (alarm_init(&x->a, rule, app, object) == -1) {
		xfree(x);
		return NULL;
	}
	x->id = id != 0 ? id : e->next_alarm;
	if (x->id >= e->next_alarm)
		e->next_alarm = x->id + 1;
	x->pending_kind = -1;
	e->alarms[e->nalarms++] = x;
	return x;
}

static int
silenced(struct alarm_engine *e, const struct alarm *a, int64_t now)
{
	size_t i;

	for (i = 0; i < e->nsilences; i++)
		if (alarm_silence_matches(&e->silences[i].s, a, now))
			return 1;
	return 0;
}

/* Groups. */

static struct ae_group *
group_find(struct alarm_engine *e, const char *rule, enum ae_kind kind)
{
	struct ae_group *g;

	for (g = e->groups; g != NULL; g = g->next)
		if (g->kind == kind && strcmp(g->rule, rule) == 0)
			return g;
	return NULL;
}

static void
group_remove_id(struct ae_group *g, uint64_t id)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->ids[i] == id) {
			memmove(&g->ids[i], &g->ids[i + 1], (g->n - i - 1) * sizeof(g->ids[0]));
			g->n--;
			return;
		}
}

/* Puts x in the (rule, kind) group, due group_wait after the group opened. */
static int
group_add(struct alarm_engine *e, struct ae_alarm *x, enum ae_kind kind, int64_t due_ms)
{
	struct ae_group *g = group_find(e, x->a.rule, kind);
	uint64_t *nids;
	size_t i, ncap;

	if (g == NULL) {
		if ((g = xcalloc(1, sizeof(*g))) == NULL)
			return -1;
		snprintf(g->rule, sizeof(g->rule), "%s", x->a.rule);
		g->kind = kind;
		g->due_ms = due_ms;
		g->next = e->groups;
		e->groups = g;
	}
	for (i = 0; i < g->n; i++)
		if (g->ids[i] == x->id)
			return 0;	/* dedup */
	if (g->n == g->cap) {
		ncap = g->cap ? g->cap * 2 : 8;
		if ((nids = xrealloc(g->ids, ncap * sizeof(*nids))) == NULL)
			return -1;
		g->ids = nids;
		g->cap = ncap;
	}
	g->ids[g->n++] = x->id;
	return 0;
}

/* Takes x out of a waiting group of that kind, if it is in one. 1 if it was. */
static int
group_withdraw(struct alarm_engine *e, struct ae_alarm *x, enum ae_kind kind)
{
	struct ae_group *g = group_find(e, x->a.rule, kind);
	size_t before;

	if (g == NULL)
		return 0;
	before = g->n;
	group_remove_id(g, x->id);
	return g->n < before;
}

/* Turns the FSM's actions for x into group membership. */
static void
handle_actions(struct alarm_engine *e, const struct ae_rule *r, struct ae_alarm *x,
    unsigned act, int64_t now)
{
	if (act & ALARM_ACT_SUPPRESSED)
		e->stats.notices_suppressed++;
	if (act & ALARM_ACT_NOTIFY_FIRING) {
		if (group_add(e, x, AE_KIND_FIRING, now + r->group_wait_ms) == 0) {
			x->pending_kind = AE_KIND_FIRING;
			x->pending_since_ms = now;
		}
		x->dirty = 1;
	}
	if (act & ALARM_ACT_NOTIFY_REPEAT) {
		if (group_add(e, x, AE_KIND_REPEAT, now) == 0) {
			x->pending_kind = AE_KIND_REPEAT;
			x->pending_since_ms = now;
		}
		x->dirty = 1;
	}
	if (act & ALARM_ACT_NOTIFY_RESOLVED) {
		group_withdraw(e, x, AE_KIND_REPEAT);
		if (group_withdraw(e, x, AE_KIND_FIRING)) {
			/* Resolved within group_wait: nobody heard of it, nothing to resolve. */
			e->stats.notices_withdrawn++;
			x->pending_kind = -1;
		} else if (r == NULL || r->send_resolved) {
			if (group_add(e, x, AE_KIND_RESOLVED, now +
			    (r != NULL ? r->group_wait_ms : 0)) == 0) {
				x->pending_kind = AE_KIND_RESOLVED;
				x->pending_since_ms = now;
			}
		} else
			x->pending_kind = -1;
		x->dirty = 1;
	}
}

/* Notices. */

static const struct ae_receiver *
receiver_find(const struct alarm_engine *e, const char *name)
{
	int i;

	for (i = 0; i < e->nrcv; i++)
		if (strcmp(e->rcv[i].name, name) == 0)
			return &e->rcv[i];
	return NULL;
}

static int
notice_append(struct alarm_engine *e, struct ae_notice *n)
{
	struct ae_notice **nn;
	size_t ncap, i;

	/* Bounded: the oldest finished entry goes (the store keeps every record). */
	if (e->nnotices >= AE_NOTICES_KEEP) {
		for (i = 0; i < e->nnotices; i++)
			if (e->notices[i]->status != AE_NOTICE_SENDING && !e->notices[i]->dirty) {
				notice_free(e->notices[i]);
				memmove(&e->notices[i], &e->notices[i + 1],
				    (e->nnotices - i - 1) * sizeof(e->notices[0]));
				e->nnotices--;
				break;
			}
	}
	if (e->nnotices == e->notices_cap) {
		ncap = e->notices_cap ? e->notices_cap * 2 : 64;
		if ((nn = xrealloc(e->notices, ncap * sizeof(*nn))) == NULL)
			return -1;
		e->notices = nn;
		e->notices_cap = ncap;
	}
	e->notices[e->nnotices++] = n;
	if (n->id >= e->next_notice)
		e->next_notice = n->id + 1;
	return 0;
}

static struct ae_notice *
notice_by_id(struct alarm_engine *e, uint64_t id)
{
	size_t i;

	for (i = e->nnotices; i > 0; i--)
		if (e->notices[i - 1]->id == id)
			return e->notices[i - 1];
	return NULL;
}

static json_t *
alarm_brief(const struct ae_alarm *x)
{
	const struct alarm *a = &x->a;
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)x->id,
	    "key", a->key, "rule", a->rule, "app", a->app, "object", a->object,
	    "state", alarm_state_name(a->state), "starts_ms", (json_int_t)a->firing_since_ms);

	if (o == NULL)
		return NULL;
	if (x->has_value)
		json_object_set_new(o, "value", json_real(x->value));
	if (a->state == ALARM_ST_RESOLVED)
		json_object_set_new(o, "ends_ms", json_integer(a->resolved_ms));
	if (a->ack_by[0] != '\0')
		json_object_set_new(o, "acknowledged_by", json_string(a->ack_by));
	return o;
}

/* Builds and hands one notice to the notifier; its record says "sending" already. */
static void
notice_send(struct alarm_engine *e, struct ae_notice *n, int64_t now)
{
	const struct ae_receiver *rc = receiver_find(e, n->receiver);
	const struct ae_rule *r = rule_find(e, n->rule);
	json_t *body, *arr = json_array();
	char subject[512], *json = NULL, *text = NULL;
	size_t i, shown = 0, tlen = 0, tcap = 4096;
	struct ae_alarm *first = NULL;
	const char *status = n->kind == AE_KIND_RESOLVED ? "resolved" : "firing";

	if ((text = xmalloc(tcap)) == NULL || arr == NULL)
		goto fail;
	tlen = (size_t)snprintf(text, tcap, "Tandem alarm notice %" PRIu64 ": rule %s (%s), %s\n"
	    "\n", n->id, n->rule, r != NULL ? r->severity : "-", ae_kind_name(n->kind));
	for (i = 0; i < n->nids; i++) {
		struct ae_alarm *x = alarm_by_id(e, n->ids[i]);

		if (x == NULL)
			continue;
		if (first == NULL)
			first = x;
		if (shown < AE_GROUP_ALARMS_MAX) {
			json_array_append_new(arr, alarm_brief(x));
			if (tlen + 512 < tcap)
				tlen += (size_t)snprintf(text + tlen, tcap - tlen,
				    "  #%" PRIu64 " %s/%s  %s  value %g  since %" PRId64 "%s%s\n",
				    x->id, x->a.app, x->a.object[0] ? x->a.object : "-",
				    alarm_state_name(x->a.state), x->value, x->a.firing_since_ms,
				    x->a.ack_by[0] ? "  acknowledged by " : "", x->a.ack_by);
			shown++;
		}
	}
	if (n->nids == 1 && first != NULL)
		snprintf(subject, sizeof(subject), "[Tandem] %s %s %s: %s/%s",
		    n->kind == AE_KIND_RESOLVED ? "RESOLVED" : n->kind == AE_KIND_REPEAT ?
		    "STILL FIRING" : "FIRING", r != NULL ? r->severity : "-", n->rule,
		    first->a.app, first->a.object[0] ? first->a.object : "-");
	else
		snprintf(subject, sizeof(subject), "[Tandem] %s %s %s: %zu alarms",
		    n->kind == AE_KIND_RESOLVED ? "RESOLVED" : n->kind == AE_KIND_REPEAT ?
		    "STILL FIRING" : "FIRING", r != NULL ? r->severity : "-", n->rule, n->nids);
	body = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:I}",
	    "version", "1", "notification_id", (json_int_t)n->id, "receiver", n->receiver,
	    "status", status, "kind", ae_kind_name(n->kind), "group_key", n->rule,
	    "rule", n->rule, "severity", r != NULL ? r->severity : "-",
	    "count", (json_int_t)n->nids, "truncated_alarms", (json_int_t)(n->nids - shown),
	    "alarms", arr, "sent_ms", (json_int_t)now);
	arr = NULL;
	if (body == NULL || (json = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		goto fail;
	}
	json_decref(body);
	n->attempts = 0;
	if (rc == NULL || e->notifier.send == NULL) {
		alarm_engine_notice_done(e, n->id, 0, 0, rc == NULL ? "receiver not configured" :
		    "no notifier", now);
	} else if (e->notifier.send(e->notifier.arg, n->id, rc, subject, json, text) == -1)
		alarm_engine_notice_done(e, n->id, 0, 0, "could not be queued", now);
	free(json);
	xfree(text);
	return;
fail:
	json_decref(arr);
	xfree(text);
	alarm_engine_notice_done(e, n->id, 0, 0, "out of memory", now);
}

void
alarm_engine_notice_done(struct alarm_engine *e, uint64_t id, int ok, int attempts,
    const char *error, int64_t now_ms)
{
	struct ae_notice *n = notice_by_id(e, id);

	if (n == NULL || n->status != AE_NOTICE_SENDING)
		return;		/* from before a reload: the store has its own account */
	n->status = ok ? AE_NOTICE_SENT : AE_NOTICE_FAILED;
	n->attempts = attempts;
	n->done_ms = now_ms;
	snprintf(n->error, sizeof(n->error), "%s", ok || error == NULL ? "" : error);
	if (ok)
		e->stats.notices_sent++;
	else {
		e->stats.notices_failed++;
		log_warnx("alarm notice %" PRIu64 " (%s, %s) to %s failed after %d attempts: %s",
		    n->id, n->rule, ae_kind_name(n->kind), n->receiver, attempts,
		    n->error);
	}
	n->dirty = 1;
	notice_store(e, n);
}

/*
 * Sends one due group: a notice per receiver, each recorded as "sending" before the send
 * (write-ahead), then the members' pending marks cleared. Nothing is sent while a member's
 * own state is not yet stored. 0 when done (the group can go), -1 to retry later.
 */
static int
group_send(struct alarm_engine *e, struct ae_group *g, int64_t now)
{
	const struct ae_rule *r = rule_find(e, g->rule);
	struct ae_notice *made[AE_RECEIVERS_MAX];
	const char *names[AE_RECEIVERS_MAX];
	int nnames = 0, i, k;
	size_t j, live = 0;

	for (j = 0; j < g->n; j++) {
		struct ae_alarm *x = alarm_by_id(e, g->ids[j]);

		if (x != NULL && x->dirty && alarm_store(e, x) == -1)
			return -1;
		if (x != NULL)
			g->ids[live++] = g->ids[j];
	}
	g->n = live;
	if (g->n == 0)
		return 0;
	if (r != NULL && r->nreceivers > 0)
		for (i = 0; i < r->nreceivers; i++)
			names[nnames++] = r->receivers[i];
	else
		for (i = 0; i < e->nrcv; i++)
			names[nnames++] = e->rcv[i].name;
	if (nnames == 0)
		names[nnames++] = "";
	for (k = 0; k < nnames; k++) {
		struct ae_notice *n;

		if ((n = xcalloc(1, sizeof(*n))) == NULL ||
		    (n->ids = xmalloc(g->n * sizeof(*n->ids))) == NULL) {
			notice_free(n);
			goto fail;
		}
		n->id = e->next_notice++;
		snprintf(n->rule, sizeof(n->rule), "%s", g->rule);
		n->kind = g->kind;
		snprintf(n->receiver, sizeof(n->receiver), "%s", names[k]);
		memcpy(n->ids, g->ids, g->n * sizeof(*n->ids));
		n->nids = g->n;
		n->status = names[k][0] == '\0' ? AE_NOTICE_NO_RECEIVER : AE_NOTICE_SENDING;
		n->created_ms = now;
		if (notice_store(e, n) == -1 || notice_append(e, n) == -1) {
			notice_free(n);
			goto fail;
		}
		made[k] = n;
	}
	for (j = 0; j < g->n; j++) {
		struct ae_alarm *x = alarm_by_id(e, g->ids[j]);

		if (x != NULL && x->pending_kind == (int)g->kind) {
			x->pending_kind = -1;
			x->dirty = 1;
			alarm_store(e, x);	/* on failure: load sees the notice record */
		}
	}
	for (k = 0; k < nnames; k++)
		if (made[k]->status == AE_NOTICE_SENDING)
			notice_send(e, made[k], now);
	return 0;
fail:
	/*
	 * Notices already recorded stay "sending" in the store; they go out with the next
	 * attempt's or after a reload. XXX a partial group can then be sent twice to a receiver.
	 */
	while (k-- > 0)
		notice_send(e, made[k], now);
	return -1;
}

void
alarm_engine_flush(struct alarm_engine *e, int64_t now)
{
	struct ae_group **pg = &e->groups, *g;
	size_t i;

	if (!e->active)
		return;
	/* Notices a previous process left "sending": at least once, so send them again. */
	for (i = 0; i < e->nnotices; i++)
		if (e->notices[i]->resend) {
			e->notices[i]->resend = 0;
			e->stats.notices_resent++;
			notice_send(e, e->notices[i], now);
		}
	while ((g = *pg) != NULL) {
		if (g->due_ms <= now && group_send(e, g, now) == 0) {
			*pg = g->next;
			group_free(g);
			continue;
		}
		pg = &g->next;
	}
	for (i = 0; i < e->nnotices; i++)
		if (e->notices[i]->dirty)
			notice_store(e, e->notices[i]);
}

/* Evaluation. */

static int
glob_ok(const char *pat, const char *s)
{
	return fnmatch(pat, s, 0) == 0;
}

static json_t *
rows(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);

	return json_is_array(a) ? a : NULL;
}

static const char *
str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static double
num_of(json_t *o, const char *key, int *ok)
{
	json_t *v = json_object_get(o, key);

	if (json_is_number(v)) {
		if (ok != NULL)
			*ok = 1;
		return json_number_value(v);
	}
	if (ok != NULL)
		*ok = 0;
	return 0;
}

static enum growth_verdict
verdict_of(const char *s)
{
	enum growth_verdict v;

	for (v = GROWTH_NOT_ENOUGH_DATA; v <= GROWTH_STALLED; v++)
		if (strcmp(s, growth_verdict_name(v)) == 0)
			return v;
	return GROWTH_NOT_ENOUGH_DATA;
}

/* One observation of (rule, app, object) in this round. */
static void
observe(struct alarm_engine *e, const struct ae_rule *r, const char *app, const char *object,
    const struct alarm_input *in, int64_t now)
{
	char key[ALARM_KEY_MAX];
	struct ae_alarm *x;
	enum alarm_cond cond = alarm_rule_eval(&r->r, in);
	enum alarm_state st;
	uint64_t hist;
	int64_t last;
	unsigned act;

	if (alarm_key(key, sizeof(key), r->r.name, app, object) == -1)
		return;
	if ((x = alarm_by_key(e, key)) == NULL) {
		if (cond != ALARM_COND_TRUE)
			return;		/* alarms are made by a true condition only */
		if ((x = alarm_add(e, r->r.name, app, object, 0)) == NULL)
			return;
		snprintf(x->severity, sizeof(x->severity), "%s", r->severity);
		x->dirty = 1;
	}
	x->seen = 1;
	if (in->has_data) {
		x->value = in->value;
		x->has_value = r->r.type != ALARM_RULE_QUEUE_GROWTH || in->value != 0;
	}
	x->silenced = silenced(e, &x->a, now);
	st = x->a.state;
	hist = x->a.history_dropped + x->a.nhistory;
	last = x->a.last_notify_ms;
	alarm_update(&x->a, &r->r, cond, now, x->silenced, &act);
	if (x->a.state != st || x->a.history_dropped + x->a.nhistory != hist ||
	    x->a.last_notify_ms != last)
		x->dirty = 1;
	handle_actions(e, r, x, act, now);
}

static void
eval_queues(struct alarm_engine *e, const struct ae_rule *r, const char *app, int64_t now)
{
	json_t *ans, *arr, *row;
	size_t i;

	if (e->src.queues == NULL ||
	    (ans = e->src.queues(e->src.arg, app, now - r->window_ms, now)) == NULL)
		return;
	if ((arr = rows(ans, "queues")) != NULL)
		json_array_foreach(arr, i, row) {
			struct alarm_input in = { 0 };
			const char *qn = str_of(row, "queue");
			int ok;

			if (!glob_ok(r->object, qn))
				continue;
			in.verdict = verdict_of(str_of(row, "verdict"));
			in.value = num_of(row, "depth", &ok);
			if (r->r.type == ALARM_RULE_QUEUE_GROWTH)
				in.has_data = 1;
			else
				in.has_data = ok && num_of(row, "samples", NULL) > 0;
			observe(e, r, app, qn, &in, now);
		}
	json_decref(ans);
}

static void
eval_perf(struct alarm_engine *e, const struct ae_rule *r, const char *app, int64_t now)
{
	json_t *ans, *arr, *row;
	char pk[16];
	size_t i;

	if (e->src.perf == NULL ||
	    (ans = e->src.perf(e->src.arg, app, now - r->window_ms, now)) == NULL)
		return;
	snprintf(pk, sizeof(pk), "p%d_us", r->percentile);
	if ((arr = rows(ans, "jobs")) != NULL)
		json_array_foreach(arr, i, row) {
			struct alarm_input in = { 0 };
			const char *jn = str_of(row, "job");
			double count = num_of(row, "count", NULL);

			if (!glob_ok(r->object, jn))
				continue;
			in.has_data = count > 0;
			in.count = (uint64_t)count;
			if (r->r.type == ALARM_RULE_LATENCY)
				in.value = num_of(row, pk, NULL) / 1000.0;
			else
				in.value = count > 0 ? num_of(row, "errors", NULL) / count : 0;
			observe(e, r, app, jn, &in, now);
		}
	json_decref(ans);
}

static void
eval_stuck(struct alarm_engine *e, const struct ae_rule *r, const char *app, int64_t now)
{
	json_t *ans, *arr, *row, *worst;
	const char *step;
	void *it;
	size_t i;

	if (e->src.stuck == NULL || (ans = e->src.stuck(e->src.arg, app, now)) == NULL)
		return;
	/* The oldest time in step per step among the stuck transactions. */
	if ((worst = json_object()) != NULL && (arr = rows(ans, "transactions")) != NULL)
		json_array_foreach(arr, i, row) {
			double t = num_of(row, "time_in_step_ms", NULL);
			json_t *cur;

			step = str_of(row, "step");
			if (!glob_ok(r->object, step))
				continue;
			cur = json_object_get(worst, step);
			if (cur == NULL || json_number_value(cur) < t)
				json_object_set_new(worst, step, json_real(t));
		}
	json_object_foreach_safe(worst, it, step, row) {
		struct alarm_input in = { .has_data = 1, .value = json_number_value(row) };

		observe(e, r, app, step, &in, now);
	}
	json_decref(worst);
	json_decref(ans);
}

static double
app_metric(json_t *row, enum ae_metric m, int *ok)
{
	switch (m) {
	case AE_METRIC_STUCK_TXNS:	return num_of(row, "stuck_txns", ok);
	case AE_METRIC_RUNNING_TXNS:	return num_of(row, "running_txns", ok);
	case AE_METRIC_EVENTS_PER_S:	return num_of(row, "events_per_s", ok);
	case AE_METRIC_JOB_ERROR_RATE:	return num_of(row, "job_error_rate", ok);
	case AE_METRIC_LOG_ERROR_RATE:	return num_of(row, "log_error_rate", ok);
	case AE_METRIC_NONE:
	case AE_METRIC_QUEUE_DEPTH:
		break;
	}
	*ok = 0;
	return 0;
}

/* 1 if rule r has an open (pending, firing, acked) alarm for app. */
static int
app_has_open(struct alarm_engine *e, const struct ae_rule *r, const char *app)
{
	size_t i;

	for (i = 0; i < e->nalarms; i++) {
		const struct alarm *a = &e->alarms[i]->a;

		if ((a->state == ALARM_ST_PENDING || a->state == ALARM_ST_FIRING ||
		    a->state == ALARM_ST_ACKED) && strcmp(a->rule, r->r.name) == 0 &&
		    strcmp(a->app, app) == 0)
			return 1;
	}
	return 0;
}

static void
eval_rule(struct alarm_engine *e, const struct ae_rule *r, int64_t now)
{
	json_t *arr, *row;
	size_t i;

	if ((arr = rows(e->apps, "apps")) == NULL)
		return;
	json_array_foreach(arr, i, row) {
		const char *app = str_of(row, "app");
		struct alarm_input in = { 0 };
		int ok;

		if (app[0] == '\0' || !glob_ok(r->app, app))
			continue;
		switch (r->r.type) {
		case ALARM_RULE_QUEUE_GROWTH: {
			/* Only apps the overview finds growing, or with an open alarm to clear. */
			enum growth_verdict v = verdict_of(str_of(row, "worst_queue_verdict"));

			if (v == GROWTH_GROWING || v == GROWTH_STALLED || app_has_open(e, r, app))
				eval_queues(e, r, app, now);
			break;
		}
		case ALARM_RULE_THRESHOLD:
			if (r->metric == AE_METRIC_QUEUE_DEPTH) {
				eval_queues(e, r, app, now);
				break;
			}
			in.value = app_metric(row, r->metric, &ok);
			in.has_data = ok;
			observe(e, r, app, "", &in, now);
			break;
		case ALARM_RULE_LATENCY:
		case ALARM_RULE_ERROR_RATE:
			eval_perf(e, r, app, now);
			break;
		case ALARM_RULE_STUCK_STEP:
			if (num_of(row, "stuck_txns", NULL) > 0 || app_has_open(e, r, app))
				eval_stuck(e, r, app, now);
			break;
		case ALARM_RULE_APP_SILENT:
			in.value = (double)(now - (int64_t)num_of(row, "last_seen_ms", &ok));
			in.has_data = ok;
			observe(e, r, app, "", &in, now);
			break;
		}
	}
}

void
alarm_engine_eval(struct alarm_engine *e, int64_t now)
{
	struct alarm_input none = { 0 }, zero = { .has_data = 1, .value = 0 };
	size_t i;
	int k;

	if (!e->active)
		return;
	e->stats.rounds++;
	for (i = 0; i < e->nalarms; i++)
		e->alarms[i]->seen = 0;
	json_decref(e->apps);
	e->apps = e->src.apps != NULL ? e->src.apps(e->src.arg, now) : NULL;
	for (k = 0; k < e->nrules; k++)
		eval_rule(e, e->rules[k], now);
	/* Alarms not observed: a stuck step with no stuck transaction is clear; else hold. */
	for (i = 0; i < e->nalarms; i++) {
		struct ae_alarm *x = e->alarms[i];
		const struct ae_rule *r;

		if (x->seen || (r = rule_find(e, x->a.rule)) == NULL)
			continue;
		if (x->a.state == ALARM_ST_INACTIVE || x->a.state == ALARM_ST_RESOLVED)
			continue;
		observe(e, r, x->a.app, x->a.object, r->r.type == ALARM_RULE_STUCK_STEP &&
		    e->apps != NULL ? &zero : &none, now);
	}
	for (i = 0; i < e->nalarms; i++)
		if (e->alarms[i]->dirty)
			alarm_store(e, e->alarms[i]);
	alarm_engine_flush(e, now);
}

/* Loading. */

struct load_ctx {
	struct alarm_engine	*e;
	int64_t			 now;
	int			 errors;
};

static json_t *
load_json(const void *val, size_t vlen)
{
	json_error_t je;
	json_t *j = json_loadb(val, vlen, 0, &je);

	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static enum alarm_state
state_of(const char *s)
{
	enum alarm_state st;

	for (st = ALARM_ST_INACTIVE; st <= ALARM_ST_RESOLVED; st++)
		if (strcmp(s, alarm_state_name(st)) == 0)
			return st;
	return ALARM_ST_INACTIVE;
}

static enum alarm_event
event_of(const char *s)
{
	enum alarm_event ev;

	for (ev = ALARM_EV_TRUE; ev <= ALARM_EV_REPEAT_DUE; ev++)
		if (strcmp(s, alarm_event_name(ev)) == 0)
			return ev;
	return ALARM_EV_TRUE;
}

static int64_t
int_of(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static int
load_alarm(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	json_t *j = load_json(val, vlen);
	struct ae_alarm *x;
	struct alarm *a;

	if (j == NULL || (x = alarm_add(lc->e, str_of(j, "rule"), str_of(j, "app"),
	    str_of(j, "object"), (uint64_t)int_of(j, "id"))) == NULL) {
		lc->errors++;
		json_decref(j);
		return 0;
	}
	a = &x->a;
	snprintf(x->severity, sizeof(x->severity), "%s", str_of(j, "severity"));
	a->state = state_of(str_of(j, "state"));
	a->since_ms = int_of(j, "since_ms");
	a->pending_since_ms = int_of(j, "pending_since_ms");
	a->firing_since_ms = int_of(j, "firing_since_ms");
	a->cleared_since_ms = int_of(j, "cleared_since_ms");
	a->last_notify_ms = int_of(j, "last_notify_ms");
	a->notified = json_is_true(json_object_get(j, "notified"));
	snprintf(a->ack_by, sizeof(a->ack_by), "%s", str_of(j, "ack_by"));
	snprintf(a->ack_comment, sizeof(a->ack_comment), "%s", str_of(j, "ack_comment"));
	a->ack_ms = int_of(j, "ack_ms");
	a->ack_expires_ms = int_of(j, "ack_expires_ms");
	snprintf(a->resolved_by, sizeof(a->resolved_by), "%s", str_of(j, "resolved_by"));
	a->resolved_ms = int_of(j, "resolved_ms");
	x->hist_seq = (uint64_t)int_of(j, "hist_seq");
	x->pending_kind = (int)int_of(j, "pending_kind");
	if (x->pending_kind < -1 || x->pending_kind >= AE_KINDS)
		x->pending_kind = -1;
	x->pending_since_ms = int_of(j, "pending_since_notice_ms");
	x->value = num_of(j, "value", &x->has_value);
	json_decref(j);
	return 0;
}

/* Appends a stored history entry to the alarm's in-memory history (the newest kept). */
static int
load_history(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	char idbuf[17];
	struct ae_alarm *x;
	struct alarm *a;
	struct alarm_history *h, *nh;
	json_t *j;
	const char *c;
	size_t ncap;

	if (klen < 2 + 16 || (j = load_json(val, vlen)) == NULL)
		return 0;
	memcpy(idbuf, (const char *)key + 2, 16);
	idbuf[16] = '\0';
	if ((x = alarm_by_id(lc->e, strtoull(idbuf, NULL, 16))) == NULL) {
		json_decref(j);
		return 0;
	}
	a = &x->a;
	if (a->nhistory == ALARM_HISTORY_MAX) {
		xfree(a->history[0].who);
		xfree(a->history[0].comment);
		memmove(&a->history[0], &a->history[1], (a->nhistory - 1) * sizeof(*h));
		a->nhistory--;
		a->history_dropped++;
	}
	if (a->nhistory == a->history_cap) {
		ncap = a->history_cap ? a->history_cap * 2 : 8;
		if (ncap > ALARM_HISTORY_MAX)
			ncap = ALARM_HISTORY_MAX;
		if ((nh = xrealloc(a->history, ncap * sizeof(*nh))) == NULL) {
			json_decref(j);
			return 0;
		}
		a->history = nh;
		a->history_cap = ncap;
	}
	h = &a->history[a->nhistory];
	h->from = state_of(str_of(j, "from"));
	h->to = state_of(str_of(j, "to"));
	h->ev = event_of(str_of(j, "event"));
	h->at_ms = int_of(j, "at_ms");
	h->who = xstrdup(str_of(j, "who"));
	c = json_string_value(json_object_get(j, "comment"));
	h->comment = c != NULL ? xstrdup(c) : NULL;
	a->nhistory++;
	json_decref(j);
	return 0;
}

static int
kind_of(const char *s)
{
	int k;

	for (k = 0; k < AE_KINDS; k++)
		if (strcmp(s, ae_kind_name((enum ae_kind)k)) == 0)
			return k;
	return -1;
}

static int
load_notice(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	json_t *j = load_json(val, vlen), *ids, *v;
	struct ae_notice *n;
	const char *st;
	size_t i;

	if (j == NULL)
		return 0;
	if ((n = xcalloc(1, sizeof(*n))) == NULL)
		goto out;
	n->id = (uint64_t)int_of(j, "id");
	snprintf(n->rule, sizeof(n->rule), "%s", str_of(j, "rule"));
	n->kind = (enum ae_kind)(kind_of(str_of(j, "kind")) < 0 ? 0 : kind_of(str_of(j, "kind")));
	snprintf(n->receiver, sizeof(n->receiver), "%s", str_of(j, "receiver"));
	ids = json_object_get(j, "alarms");
	if (json_is_array(ids) && json_array_size(ids) > 0 &&
	    (n->ids = xcalloc(json_array_size(ids), sizeof(*n->ids))) != NULL)
		json_array_foreach(ids, i, v)
			n->ids[n->nids++] = (uint64_t)json_integer_value(v);
	st = str_of(j, "status");
	n->status = strcmp(st, "sent") == 0 ? AE_NOTICE_SENT : strcmp(st, "failed") == 0 ?
	    AE_NOTICE_FAILED : strcmp(st, "no-receiver") == 0 ? AE_NOTICE_NO_RECEIVER :
	    AE_NOTICE_SENDING;
	n->resend = n->status == AE_NOTICE_SENDING;
	n->attempts = (int)int_of(j, "attempts");
	n->created_ms = int_of(j, "created_ms");
	n->done_ms = int_of(j, "done_ms");
	snprintf(n->error, sizeof(n->error), "%s", str_of(j, "error"));
	if (notice_append(lc->e, n) == -1)
		notice_free(n);
out:
	json_decref(j);
	return 0;
}

static int
load_silence(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	struct alarm_engine *e = lc->e;
	json_t *j = load_json(val, vlen);
	struct ae_silence *s, *ns;
	char err[128];
	size_t ncap;

	if (j == NULL)
		return 0;
	if (e->nsilences == e->silences_cap) {
		ncap = e->silences_cap ? e->silences_cap * 2 : 16;
		if ((ns = xrealloc(e->silences, ncap * sizeof(*ns))) == NULL)
			goto out;
		e->silences = ns;
		e->silences_cap = ncap;
	}
	s = &e->silences[e->nsilences];
	memset(s, 0, sizeof(*s));
	if (alarm_silence_init(&s->s, str_of(j, "rule"), str_of(j, "app"),
	    int_of(j, "starts_ms"), int_of(j, "ends_ms"), str_of(j, "created_by"),
	    str_of(j, "comment"), err, sizeof(err)) == -1) {
		lc->errors++;
		goto out;
	}
	s->id = (uint64_t)int_of(j, "id");
	s->created_ms = int_of(j, "created_ms");
	snprintf(s->deleted_by, sizeof(s->deleted_by), "%s", str_of(j, "deleted_by"));
	s->deleted_ms = int_of(j, "deleted_ms");
	e->nsilences++;
	if (s->id >= e->next_silence)
		e->next_silence = s->id + 1;
out:
	json_decref(j);
	return 0;
}

static int
load_rule(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct load_ctx *lc = arg;
	json_t *j = load_json(val, vlen);
	struct ae_rule r;
	char err[200];

	if (j == NULL)
		return 0;
	if (ae_rule_parse_spec(&r, str_of(j, "name"), str_of(j, "spec"), err,
	    sizeof(err)) == -1) {
		log_warnx("%s: stored rule %s: %s", __func__, str_of(j, "name"), err);
		lc->errors++;
	} else {
		r.from_api = 1;
		snprintf(r.created_by, sizeof(r.created_by), "%s", str_of(j, "created_by"));
		r.created_ms = int_of(j, "created_ms");
		if (rule_insert(lc->e, &r) == -1)
			lc->errors++;
	}
	json_decref(j);
	return 0;
}

/* 1 if a stored notice of that kind names x and was made after x joined its group. */
static int
notice_covers(struct alarm_engine *e, const struct ae_alarm *x)
{
	size_t i, j;

	for (i = 0; i < e->nnotices; i++) {
		const struct ae_notice *n = e->notices[i];

		if ((int)n->kind != x->pending_kind || n->created_ms < x->pending_since_ms ||
		    strcmp(n->rule, x->a.rule) != 0)
			continue;
		for (j = 0; j < n->nids; j++)
			if (n->ids[j] == x->id)
				return 1;
	}
	return 0;
}

int
alarm_engine_load(struct alarm_engine *e, int64_t now)
{
	struct load_ctx lc = { e, now, 0 };
	const struct ae_rule *r;
	size_t i;

	if (e->persist.scan == NULL)
		return 0;
	engine_clear(e);
	e->stats.loads++;
	if (e->persist.scan(e->persist.arg, "r/", load_rule, &lc) == -1 ||
	    e->persist.scan(e->persist.arg, "a/", load_alarm, &lc) == -1 ||
	    e->persist.scan(e->persist.arg, "h/", load_history, &lc) == -1 ||
	    e->persist.scan(e->persist.arg, "n/", load_notice, &lc) == -1 ||
	    e->persist.scan(e->persist.arg, "s/", load_silence, &lc) == -1) {
		log_warnx("%s: the alarms database could not be read", __func__);
		return -1;
	}
	/* Group membership that had not become a notice yet is waiting again. */
	for (i = 0; i < e->nalarms; i++) {
		struct ae_alarm *x = e->alarms[i];

		/* History entries past what the record counted were stored already. */
		if (x->hist_seq < x->a.history_dropped + x->a.nhistory)
			x->hist_seq = x->a.history_dropped + x->a.nhistory;
		if (x->pending_kind < 0)
			continue;
		if (notice_covers(e, x)) {
			x->pending_kind = -1;
			x->dirty = 1;
			continue;
		}
		r = rule_find(e, x->a.rule);
		if (group_add(e, x, (enum ae_kind)x->pending_kind, x->pending_since_ms +
		    (r != NULL ? r->group_wait_ms : 0)) == -1)
			lc.errors++;
	}
	if (lc.errors > 0)
		log_warnx("%s: %d records of the alarms database skipped", __func__, lc.errors);
	log_debug("alarms: loaded %zu alarms, %zu notices, %zu silences, %d API rules",
	    e->nalarms, e->nnotices, e->nsilences, e->nrules - e->nconf_rules);
	return 0;
}

void
alarm_engine_set_active(struct alarm_engine *e, int active, int64_t now)
{
	if (active && !e->active) {
		alarm_engine_load(e, now);
		log_info("alarms: evaluating and notifying (%zu alarms, %zu silences loaded)",
		    e->nalarms, e->nsilences);
	} else if (!active && e->active)
		log_info("alarms: not the active node: not evaluating");
	e->active = active;
}

/* User operations. */

static int
efail(struct ae_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
efail(struct ae_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Undoes a user transition that could not be stored (unless history rotated meanwhile). */
struct alarm_saved {
	struct alarm	a;
	int		pending_kind;
	int64_t		pending_since_ms;
};

static void
alarm_save(const struct ae_alarm *x, struct alarm_saved *s)
{
	s->a = x->a;
	s->pending_kind = x->pending_kind;
	s->pending_since_ms = x->pending_since_ms;
}

static void
alarm_restore(struct ae_alarm *x, const struct alarm_saved *s)
{
	struct alarm_history *h = x->a.history;
	size_t i, cap = x->a.history_cap;

	if (x->a.history_dropped != s->a.history_dropped)
		return;
	for (i = s->a.nhistory; i < x->a.nhistory; i++) {
		xfree(h[i].who);
		xfree(h[i].comment);
	}
	x->a = s->a;
	x->a.history = h;
	x->a.history_cap = cap;
	x->pending_kind = s->pending_kind;
	x->pending_since_ms = s->pending_since_ms;
	x->dirty = 0;
}

static int
writable(struct alarm_engine *e, struct ae_err *err)
{
	if (!e->active)
		return efail(err, 503, "not the active node: alarms are changed on the active");
	return 0;
}

int
alarm_engine_ack(struct alarm_engine *e, uint64_t id, const char *who, const char *comment,
    int64_t expires_ms, int64_t now, struct ae_err *err)
{
	struct ae_alarm *x;
	struct alarm_saved saved;
	unsigned act;

	if (writable(e, err) == -1)
		return -1;
	if ((x = alarm_by_id(e, id)) == NULL)
		return efail(err, 404, "no alarm %" PRIu64, id);
	if (x->a.state != ALARM_ST_FIRING)
		return efail(err, 409, "alarm %" PRIu64 " is %s: only a firing alarm is "
		    "acknowledged", id, alarm_state_name(x->a.state));
	alarm_save(x, &saved);
	if (alarm_ack(&x->a, now, who, comment, expires_ms, &act) == -1)
		return efail(err, 400, "who (1..%d bytes), comment (< %d bytes) and a future "
		    "expiry are required", ALARM_WHO_MAX - 1, ALARM_COMMENT_MAX);
	x->dirty = 1;
	if (alarm_store(e, x) == -1) {
		alarm_restore(x, &saved);
		return efail(err, 503, "the acknowledgement could not be stored: nothing changed");
	}
	/* Acknowledged: a repeat still waiting in a group is not sent. */
	if (group_withdraw(e, x, AE_KIND_REPEAT) && x->pending_kind == AE_KIND_REPEAT) {
		x->pending_kind = -1;
		x->dirty = 1;
		alarm_store(e, x);
	}
	log_info("alarm %" PRIu64 " (%s) acknowledged by %s", id, x->a.key, who);
	return 0;
}

int
alarm_engine_resolve(struct alarm_engine *e, uint64_t id, const char *who,
    const char *comment, int64_t now, struct ae_err *err)
{
	struct ae_alarm *x;
	struct alarm_saved saved;
	unsigned act;

	if (writable(e, err) == -1)
		return -1;
	if ((x = alarm_by_id(e, id)) == NULL)
		return efail(err, 404, "no alarm %" PRIu64, id);
	if (x->a.state != ALARM_ST_FIRING && x->a.state != ALARM_ST_ACKED)
		return efail(err, 409, "alarm %" PRIu64 " is %s: only a firing or acknowledged "
		    "alarm is resolved", id, alarm_state_name(x->a.state));
	alarm_save(x, &saved);
	if (alarm_resolve(&x->a, now, who, comment, silenced(e, &x->a, now), &act) == -1)
		return efail(err, 400, "who (1..%d bytes) is required, comment < %d bytes",
		    ALARM_WHO_MAX - 1, ALARM_COMMENT_MAX);
	handle_actions(e, rule_find(e, x->a.rule), x, act, now);
	x->dirty = 1;
	if (alarm_store(e, x) == -1) {
		group_withdraw(e, x, AE_KIND_RESOLVED);
		alarm_restore(x, &saved);
		return efail(err, 503, "the resolution could not be stored: nothing changed");
	}
	log_info("alarm %" PRIu64 " (%s) resolved by %s", id, x->a.key, who);
	return 0;
}

int
alarm_engine_silence_add(struct alarm_engine *e, const char *rule_pat, const char *app_pat,
    int64_t starts_ms, int64_t ends_ms, const char *who, const char *comment, int64_t now,
    uint64_t *id, struct ae_err *err)
{
	struct ae_silence s, *ns;
	size_t ncap;

	if (writable(e, err) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	if (ends_ms <= now)
		return efail(err, 400, "the silence must end in the future (ends_ms)");
	if (alarm_silence_init(&s.s, rule_pat, app_pat, starts_ms, ends_ms, who, comment,
	    err->msg, sizeof(err->msg)) == -1) {
		err->status = 400;
		return -1;
	}
	if (e->nsilences == e->silences_cap) {
		ncap = e->silences_cap ? e->silences_cap * 2 : 16;
		if ((ns = xrealloc(e->silences, ncap * sizeof(*ns))) == NULL)
			return efail(err, 503, "out of memory");
		e->silences = ns;
		e->silences_cap = ncap;
	}
	s.id = e->next_silence;
	s.created_ms = now;
	if (silence_store(e, &s) == -1)
		return efail(err, 503, "the silence could not be stored: nothing changed");
	e->next_silence++;
	e->silences[e->nsilences++] = s;
	*id = s.id;
	log_info("silence %" PRIu64 " (rule %s, app %s) by %s until %" PRId64, s.id, rule_pat,
	    app_pat, who, ends_ms);
	return 0;
}

int
alarm_engine_silence_del(struct alarm_engine *e, uint64_t id, const char *who, int64_t now,
    struct ae_err *err)
{
	struct ae_silence *s = NULL, copy;
	size_t i;

	if (writable(e, err) == -1)
		return -1;
	for (i = 0; i < e->nsilences; i++)
		if (e->silences[i].id == id)
			s = &e->silences[i];
	if (s == NULL)
		return efail(err, 404, "no silence %" PRIu64, id);
	if (s->deleted_ms != 0 || s->s.ends_ms <= now)
		return efail(err, 409, "silence %" PRIu64 " has ended already", id);
	copy = *s;
	copy.deleted_ms = now;
	snprintf(copy.deleted_by, sizeof(copy.deleted_by), "%s", who);
	if (copy.s.starts_ms > now)
		copy.s.starts_ms = now - 1;
	copy.s.ends_ms = now;
	if (silence_store(e, &copy) == -1)
		return efail(err, 503, "could not be stored: nothing changed");
	*s = copy;
	return 0;
}

int
alarm_engine_rule_put(struct alarm_engine *e, const char *name, const char *spec,
    const char *who, int64_t now, struct ae_err *err)
{
	struct ae_rule r, *old;
	char key[KEY_MAX + ALARM_NAME_MAX];
	int i;

	if (writable(e, err) == -1)
		return -1;
	if (ae_rule_parse_spec(&r, name, spec, err->msg, sizeof(err->msg)) == -1) {
		err->status = 400;
		return -1;
	}
	for (i = 0; i < r.nreceivers; i++)
		if (receiver_find(e, r.receivers[i]) == NULL)
			return efail(err, 400, "no receiver \"%s\"", r.receivers[i]);
	if ((old = rule_find(e, name)) != NULL && !old->from_api)
		return efail(err, 409, "rule %s comes from the config file", name);
	r.from_api = 1;
	snprintf(r.created_by, sizeof(r.created_by), "%s", who);
	r.created_ms = now;
	snprintf(key, sizeof(key), "r/%s", name);
	if (put_json(e, key, json_pack("{s:s, s:s, s:s, s:I}", "name", name, "spec", r.spec,
	    "created_by", who, "created_ms", (json_int_t)now)) == -1)
		return efail(err, 503, "the rule could not be stored: nothing changed");
	if (old != NULL)
		*old = r;
	else if (rule_insert(e, &r) == -1)
		return efail(err, 507, "at most %d rules", AE_RULES_MAX);
	log_info("rule %s set by %s: %s", name, who, r.spec);
	return 0;
}

int
alarm_engine_rule_del(struct alarm_engine *e, const char *name, const char *who,
    int64_t now, struct ae_err *err)
{
	struct ae_rule *r;
	char key[KEY_MAX + ALARM_NAME_MAX], perr[256];
	size_t i;
	int k;

	if (writable(e, err) == -1)
		return -1;
	if ((r = rule_find(e, name)) == NULL)
		return efail(err, 404, "no rule %s", name);
	if (!r->from_api)
		return efail(err, 409, "rule %s comes from the config file", name);
	snprintf(key, sizeof(key), "r/%s", name);
	if (persisting(e) && e->persist.del(e->persist.arg, key, perr, sizeof(perr)) == -1)
		return efail(err, 503, "could not be stored: %s", perr);
	/* Its open alarms are resolved by whoever deleted it. */
	for (i = 0; i < e->nalarms; i++) {
		struct ae_alarm *x = e->alarms[i];
		unsigned act;

		if (strcmp(x->a.rule, name) != 0)
			continue;
		if (x->a.state == ALARM_ST_FIRING || x->a.state == ALARM_ST_ACKED) {
			alarm_resolve(&x->a, now, who, "rule deleted", silenced(e, &x->a, now),
			    &act);
			handle_actions(e, r, x, act, now);
		} else if (x->a.state == ALARM_ST_PENDING) {
			struct alarm_evctx ctx = { .now_ms = now, .who = who };

			alarm_fsm(&x->a, ALARM_EV_NOT_TRUE, &ctx, &act);
		}
		x->dirty = 1;
		alarm_store(e, x);
	}
	for (k = 0; k < e->nrules; k++)
		if (e->rules[k] == r) {
			xfree(r);
			memmove(&e->rules[k], &e->rules[k + 1],
			    (size_t)(e->nrules - k - 1) * sizeof(e->rules[0]));
			e->nrules--;
			break;
		}
	log_info("rule %s deleted by %s", name, who);
	return 0;
}

/* Answers. */

static json_t *
alarm_json(struct alarm_engine *e, const struct ae_alarm *x, int64_t now)
{
	json_t *o = alarm_record(x);

	if (o == NULL)
		return NULL;
	json_object_del(o, "hist_seq");
	json_object_del(o, "pending_kind");
	json_object_del(o, "pending_since_notice_ms");
	json_object_set_new(o, "key", json_string(x->a.key));
	json_object_set_new(o, "silenced", json_boolean(silenced(e, &x->a, now)));
	json_object_set_new(o, "notice_pending", x->pending_kind >= 0 ?
	    json_string(ae_kind_name((enum ae_kind)x->pending_kind)) : json_null());
	return o;
}

json_t *
alarm_engine_alarms_json(struct alarm_engine *e, const char *state, int64_t now)
{
	json_t *arr = json_array();
	size_t i;

	for (i = e->nalarms; arr != NULL && i > 0; i--) {
		const struct ae_alarm *x = e->alarms[i - 1];

		if (state != NULL && strcmp(state, alarm_state_name(x->a.state)) != 0 &&
		    !(strcmp(state, "open") == 0 && (x->a.state == ALARM_ST_FIRING ||
		    x->a.state == ALARM_ST_ACKED || x->a.state == ALARM_ST_PENDING)))
			continue;
		json_array_append_new(arr, alarm_json(e, x, now));
	}
	return json_pack("{s:b, s:I, s:I, s:o}", "active_node", e->active,
	    "rounds", (json_int_t)e->stats.rounds, "count", (json_int_t)json_array_size(arr),
	    "alarms", arr);
}

struct hist_ctx {
	json_t	*arr;
};

static int
hist_row(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct hist_ctx *hc = arg;
	json_t *j = load_json(val, vlen);

	if (j != NULL)
		json_array_append_new(hc->arr, j);
	return 0;
}

static json_t *
notice_json(const struct ae_notice *n)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:i, s:I, s:I, s:s}",
	    "id", (json_int_t)n->id, "rule", n->rule, "kind", ae_kind_name(n->kind),
	    "receiver", n->receiver, "alarms", ids_json(n->ids, n->nids),
	    "status", ae_notice_status_name(n->status), "attempts", n->attempts,
	    "created_ms", (json_int_t)n->created_ms, "done_ms", (json_int_t)n->done_ms,
	    "error", n->error);
}

json_t *
alarm_engine_alarm_json(struct alarm_engine *e, uint64_t id, int64_t now)
{
	struct ae_alarm *x = alarm_by_id(e, id);
	struct hist_ctx hc;
	char prefix[KEY_MAX];
	json_t *o, *notices;
	size_t i, j;

	if (x == NULL || (o = alarm_json(e, x, now)) == NULL)
		return NULL;
	hc.arr = json_array();
	snprintf(prefix, sizeof(prefix), "h/%016" PRIx64 "/", id);
	/* The whole history from the store when there is one, else what memory holds. */
	if (e->persist.scan != NULL && x->hist_seq > 0 && !x->dirty &&
	    e->persist.scan(e->persist.arg, prefix, hist_row, &hc) >= 0)
		json_object_set_new(o, "history_source", json_string("store"));
	else {
		json_array_clear(hc.arr);
		for (i = 0; i < x->a.nhistory; i++)
			json_array_append_new(hc.arr, history_record(&x->a.history[i]));
		json_object_set_new(o, "history_source", json_string("memory"));
		json_object_set_new(o, "history_dropped", json_integer(
		    (json_int_t)x->a.history_dropped));
	}
	json_object_set_new(o, "history", hc.arr);
	notices = json_array();
	for (i = 0; notices != NULL && i < e->nnotices; i++)
		for (j = 0; j < e->notices[i]->nids; j++)
			if (e->notices[i]->ids[j] == id) {
				json_array_append_new(notices, notice_json(e->notices[i]));
				break;
			}
	json_object_set_new(o, "notifications", notices);
	return o;
}

struct app_stat {
	char		 app[ALARM_NAME_MAX];
	uint64_t	 fired, acked, resolved, open;
	double		 tta_sum, ttr_sum;
};

static struct app_stat *
app_stat_get(struct app_stat **v, size_t *n, size_t *cap, const char *app)
{
	struct app_stat *nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].app, app) == 0)
			return &(*v)[i];
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((nv = xrealloc(*v, *cap * sizeof(*nv))) == NULL)
			return NULL;
		*v = nv;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	snprintf((*v)[*n].app, sizeof((*v)[0].app), "%s", app);
	return &(*v)[(*n)++];
}

static int
stat_cmp(const void *a, const void *b)
{
	const struct app_stat *x = a, *y = b;

	if (x->fired != y->fired)
		return x->fired < y->fired ? 1 : -1;
	return strcmp(x->app, y->app);
}

json_t *
alarm_engine_stats_json(struct alarm_engine *e, int64_t now)
{
	struct app_stat *v = NULL, *s;
	size_t n = 0, cap = 0, i, h;
	uint64_t fired = 0, acked = 0, resolved = 0;
	double tta = 0, ttr = 0;
	json_t *arr, *o;

	/* Episodes from each alarm's history: fired, then acknowledged and/or resolved. */
	for (i = 0; i < e->nalarms; i++) {
		const struct alarm *a = &e->alarms[i]->a;
		int64_t fired_at = -1;

		if ((s = app_stat_get(&v, &n, &cap, a->app)) == NULL)
			break;
		if (a->state == ALARM_ST_FIRING || a->state == ALARM_ST_ACKED)
			s->open++;
		for (h = 0; h < a->nhistory; h++) {
			const struct alarm_history *x = &a->history[h];

			if (x->to == ALARM_ST_FIRING && x->from == ALARM_ST_PENDING) {
				fired_at = x->at_ms;
				s->fired++;
			} else if (x->to == ALARM_ST_ACKED && fired_at >= 0) {
				s->acked++;
				s->tta_sum += (double)(x->at_ms - fired_at);
			} else if (x->to == ALARM_ST_RESOLVED && fired_at >= 0) {
				s->resolved++;
				s->ttr_sum += (double)(x->at_ms - fired_at);
				fired_at = -1;
			}
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), stat_cmp);
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		fired += v[i].fired;
		acked += v[i].acked;
		resolved += v[i].resolved;
		tta += v[i].tta_sum;
		ttr += v[i].ttr_sum;
		if (v[i].fired == 0 && v[i].open == 0)
			continue;
		o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "app", v[i].app,
		    "fired", (json_int_t)v[i].fired, "open", (json_int_t)v[i].open,
		    "acknowledged", (json_int_t)v[i].acked, "resolved", (json_int_t)v[i].resolved);
		if (o != NULL) {
			json_object_set_new(o, "mean_time_to_ack_ms", v[i].acked ?
			    json_real(v[i].tta_sum / (double)v[i].acked) : json_null());
			json_object_set_new(o, "mean_time_to_resolve_ms", v[i].resolved ?
			    json_real(v[i].ttr_sum / (double)v[i].resolved) : json_null());
		}
		json_array_append_new(arr, o);
	}
	xfree(v);
	o = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "fired", (json_int_t)fired, "acknowledged", (json_int_t)acked,
	    "resolved", (json_int_t)resolved,
	    "mean_time_to_ack_ms", acked ? json_real(tta / (double)acked) : json_null(),
	    "mean_time_to_resolve_ms", resolved ? json_real(ttr / (double)resolved) :
	    json_null(), "failing_services", arr != NULL ? arr : json_array(),
	    "notifications", "sent", (json_int_t)e->stats.notices_sent,
	    "failed", (json_int_t)e->stats.notices_failed,
	    "suppressed", (json_int_t)e->stats.notices_suppressed,
	    "withdrawn", (json_int_t)e->stats.notices_withdrawn,
	    "resent_after_restart", (json_int_t)e->stats.notices_resent,
	    "persist_errors", (json_int_t)e->stats.persist_errors);
	return o;
}

json_t *
alarm_engine_silences_json(struct alarm_engine *e, int64_t now)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < e->nsilences; i++)
		json_array_append_new(arr, silence_json(&e->silences[i], now));
	return json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr),
	    "silences", arr);
}

json_t *
alarm_engine_rules_json(struct alarm_engine *e)
{
	json_t *arr = json_array(), *rc = json_array(), *o;
	int i;

	for (i = 0; arr != NULL && i < e->nrules; i++) {
		const struct ae_rule *r = e->rules[i];

		o = json_pack("{s:s, s:s, s:s, s:s}", "name", r->r.name,
		    "type", rule_type_word(r->r.type), "spec", r->spec,
		    "source", r->from_api ? "api" : "config");
		if (o != NULL && r->from_api) {
			json_object_set_new(o, "created_by", json_string(r->created_by));
			json_object_set_new(o, "created_ms", json_integer(r->created_ms));
		}
		json_array_append_new(arr, o);
	}
	for (i = 0; rc != NULL && i < e->nrcv; i++)
		json_array_append_new(rc, json_pack("{s:s, s:s}", "name", e->rcv[i].name,
		    "type", ae_receiver_type_name(e->rcv[i].type)));
	return json_pack("{s:o, s:o}", "rules", arr, "receivers", rc);
}

json_t *
alarm_engine_notices_json(struct alarm_engine *e, size_t limit)
{
	json_t *arr = json_array();
	size_t i;

	for (i = e->nnotices; arr != NULL && i > 0 && json_array_size(arr) < limit; i--)
		json_array_append_new(arr, notice_json(e->notices[i - 1]));
	return json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr),
	    "notifications", arr);
}
