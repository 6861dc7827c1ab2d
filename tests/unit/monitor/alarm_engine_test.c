/* Tandem — MIT licence. Unit tests for monitor/alarm_engine.c: fake clock, fake query data, fake notifier and store. */
#include <jansson.h>

#include "common/xalloc.h"
#include "monitor/alarm_engine.h"
#include "tests/unit/common/cases.h"

#define S	1000LL
#define MIN	(60 * S)

/* Fake query data: per (app, queue) a verdict and a depth. */
#define QMAX	8
static struct fq {
	const char	*app, *queue, *verdict;
	int		 depth;
} fq[QMAX];
static int nfq;

static json_t *
f_apps(void *arg, int64_t now)
{
	json_t *arr = json_array();
	int i, j, dup;

	for (i = 0; i < nfq; i++) {
		for (dup = 0, j = 0; j < i; j++)
			dup |= strcmp(fq[j].app, fq[i].app) == 0;
		if (!dup)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "app", fq[i].app,
			    "worst_queue_verdict", "growing", "last_seen_ms", (json_int_t)now));
	}
	return json_pack("{s:o}", "apps", arr);
}

static json_t *
f_queues(void *arg, const char *app, int64_t from, int64_t to)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; i < nfq; i++)
		if (strcmp(fq[i].app, app) == 0)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i}", "queue",
			    fq[i].queue, "verdict", fq[i].verdict, "depth", fq[i].depth,
			    "samples", 10));
	return json_pack("{s:o}", "queues", arr);
}

/* Fake notifier: records every notice, completes at once (or fails when told to). */
#define NMAX	64
static struct sent {
	uint64_t	id;
	char		receiver[ALARM_NAME_MAX];
	char		kind[16];
	int		nalarms;
} sent[NMAX];
static int nsent;
static int notify_fail;
static struct alarm_engine *cur;	/* for the synchronous completion */
static int64_t now_ms;

static int
f_send(void *arg, uint64_t id, const struct ae_receiver *rc, const char *subject,
    const char *json, const char *text)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);

	if (nsent < NMAX && j != NULL) {
		sent[nsent].id = id;
		snprintf(sent[nsent].receiver, sizeof(sent[0].receiver), "%s", rc->name);
		snprintf(sent[nsent].kind, sizeof(sent[0].kind), "%s",
		    json_string_value(json_object_get(j, "kind")));
		sent[nsent].nalarms = (int)json_array_size(json_object_get(j, "alarms"));
		nsent++;
	}
	json_decref(j);
	alarm_engine_notice_done(cur, id, !notify_fail, 1, notify_fail ? "refused" : NULL,
	    now_ms);
	return 0;
}

/* Fake store: sorted key/value pairs; put can be made to fail. */
#define KVMAX	1024
static struct kv {
	char	*k, *v;
} kv[KVMAX];
static int nkv, put_fail;

static int
f_put(void *arg, const char *key, const char *val, char *err, size_t errlen)
{
	int i, c = 1;

	if (put_fail) {
		snprintf(err, errlen, "store down");
		return -1;
	}
	for (i = 0; i < nkv && (c = strcmp(kv[i].k, key)) < 0; i++)
		;
	if (i < nkv && c == 0) {
		free(kv[i].v);
		kv[i].v = strdup(val);
		return 0;
	}
	if (nkv == KVMAX)
		return -1;
	memmove(&kv[i + 1], &kv[i], (size_t)(nkv - i) * sizeof(kv[0]));
	kv[i].k = strdup(key);
	kv[i].v = strdup(val);
	nkv++;
	return 0;
}

static int
f_del(void *arg, const char *key, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < nkv; i++)
		if (strcmp(kv[i].k, key) == 0) {
			free(kv[i].k);
			free(kv[i].v);
			memmove(&kv[i], &kv[i + 1], (size_t)(nkv - i - 1) * sizeof(kv[0]));
			nkv--;
			return 0;
		}
	return 0;
}

static long
f_scan(void *arg, const char *prefix, int (*fn)(void *, const void *, size_t, const void *,
    size_t), void *fnarg)
{
	long n = 0;
	int i;

	for (i = 0; i < nkv; i++)
		if (strncmp(kv[i].k, prefix, strlen(prefix)) == 0) {
			n++;
			if (fn(fnarg, kv[i].k, strlen(kv[i].k), kv[i].v, strlen(kv[i].v)) != 0)
				break;
		}
	return n;
}

static void
reset(void)
{
	int i;

	for (i = 0; i < nkv; i++) {
		free(kv[i].k);
		free(kv[i].v);
	}
	nkv = nsent = nfq = put_fail = notify_fail = 0;
	now_ms = 1000 * MIN;
}

static struct alarm_engine *
engine(const char *spec)
{
	struct ae_conf c = { 5 * MIN, 10 * S, 60 * MIN };
	struct ae_source src = { f_apps, f_queues, NULL, NULL, NULL };
	struct ae_persist st = { f_put, f_del, f_scan, NULL };
	struct ae_notifier nt = { f_send, NULL };
	struct ae_receiver hook = { .name = "hook", .type = AE_RCV_WEBHOOK,
	    .url = "http://127.0.0.1:1/x" };
	struct ae_receiver mail = { .name = "mail", .type = AE_RCV_SMTP,
	    .url = "smtp://127.0.0.1:1", .from = "a@b.c", .to = "d@e.f" };
	struct ae_rule r;
	char err[256];
	struct alarm_engine *e = alarm_engine_new(&c, &src, &st, &nt);

	if (e == NULL || alarm_engine_add_receiver(e, &hook) == -1 ||
	    alarm_engine_add_receiver(e, &mail) == -1 ||
	    ae_rule_parse_spec(&r, "grow", spec, err, sizeof(err)) == -1 ||
	    alarm_engine_add_rule(e, &r) == -1) {
		fprintf(stderr, "engine: %s\n", err);
		abort();
	}
	cur = e;
	alarm_engine_set_active(e, 1, now_ms);
	return e;
}

/* Rounds every 5 s up to until (relative to the current fake time). */
static void
run(struct alarm_engine *e, int64_t span)
{
	int64_t end = now_ms + span;

	for (; now_ms < end; now_ms += 5 * S)
		alarm_engine_eval(e, now_ms);
	alarm_engine_eval(e, now_ms);
}

static int
count(const char *kind)
{
	int i, n = 0;

	for (i = 0; i < nsent; i++)
		n += strcmp(sent[i].kind, kind) == 0;
	return n;
}

static void
set_queue(int i, const char *app, const char *queue, const char *verdict)
{
	fq[i].app = app;
	fq[i].queue = queue;
	fq[i].verdict = verdict;
	fq[i].depth = 100;
	if (i >= nfq)
		nfq = i + 1;
}

static uint64_t
first_id(struct alarm_engine *e, const char *state)
{
	json_t *o = alarm_engine_alarms_json(e, state, now_ms);
	uint64_t id = (uint64_t)json_integer_value(json_object_get(
	    json_array_get(json_object_get(o, "alarms"), 0), "id"));

	json_decref(o);
	return id;
}

#define SPEC "type=queue_growth app=* queue=* for=30s repeat=10m group_wait=10s"

static void
test_fires_once(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 25 * S);
	CHECK(nsent == 0);			/* pending: for=30s */
	run(e, 20 * S);				/* fired at 30 s, group_wait 10 s */
	CHECK(count("firing") == 2);		/* one per receiver */
	CHECK(strcmp(sent[0].receiver, sent[1].receiver) != 0);
	run(e, 5 * MIN);
	CHECK(nsent == 2);			/* dedup: no second notice */
	alarm_engine_free(e);
}

static void
test_repeat_interval(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	CHECK(count("firing") == 2);
	run(e, 9 * MIN);
	CHECK(count("repeat") == 0);
	run(e, 2 * MIN);			/* 10 min after the first notice */
	CHECK(count("repeat") == 2);
	run(e, 5 * MIN);
	CHECK(count("repeat") == 2);
	alarm_engine_free(e);
}

static void
test_ack_stops_repeats(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	uint64_t id;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	id = first_id(e, "firing");
	CHECK(id != 0);
	CHECK(alarm_engine_ack(e, id, "", "x", 0, now_ms, &err) == -1 && err.status == 400);
	CHECK(alarm_engine_ack(e, 999, "alice", "x", 0, now_ms, &err) == -1 &&
	    err.status == 404);
	CHECK(alarm_engine_ack(e, id, "alice", "on it", 0, now_ms, &err) == 0);
	CHECK(alarm_engine_ack(e, id, "bob", "me too", 0, now_ms, &err) == -1 &&
	    err.status == 409);
	run(e, 60 * MIN);
	CHECK(nsent == 2 && count("repeat") == 0);
	/* The queue drains: the acknowledged alarm resolves with one notice per receiver. */
	fq[0].verdict = "draining";
	run(e, 60 * S);
	CHECK(count("resolved") == 2);
	alarm_engine_free(e);
}

static void
test_ack_not_stored_changes_nothing(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	json_t *o;
	uint64_t id;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	id = first_id(e, "firing");
	put_fail = 1;
	CHECK(alarm_engine_ack(e, id, "alice", "on it", 0, now_ms, &err) == -1 &&
	    err.status == 503);
	put_fail = 0;
	o = alarm_engine_alarm_json(e, id, now_ms);
	CHECK(strcmp(json_string_value(json_object_get(o, "state")), "firing") == 0);
	CHECK(json_array_size(json_object_get(o, "history")) == 2);
	json_decref(o);
	alarm_engine_free(e);
}

static void
test_silence_suppresses(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	uint64_t sid;

	reset();
	e = engine(SPEC);
	CHECK(alarm_engine_silence_add(e, "grow", "app-2", now_ms, now_ms + 10 * MIN, "bob",
	    "", now_ms, &sid, &err) == -1);	/* a comment is mandatory */
	CHECK(alarm_engine_silence_add(e, "grow", "app-2", now_ms, 0, "bob", "x", now_ms,
	    &sid, &err) == -1);		/* and an expiry */
	CHECK(alarm_engine_silence_add(e, "grow", "app-2", now_ms, now_ms + 10 * MIN, "bob",
	    "deploy", now_ms, &sid, &err) == 0);
	set_queue(0, "app-2", "inbound", "growing");
	set_queue(1, "app-3", "inbound", "growing");
	run(e, 5 * MIN);
	CHECK(count("firing") == 2);		/* app-3 only */
	CHECK(sent[0].nalarms == 1);
	CHECK(alarm_engine_silence_del(e, sid, "bob", now_ms, &err) == 0);
	run(e, 30 * S);
	CHECK(count("firing") == 4);		/* app-2's held-back notice goes out */
	alarm_engine_free(e);
}

static void
test_maintenance_window(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	uint64_t sid;

	reset();
	e = engine(SPEC);
	/* A window on everything, starting in a minute. */
	CHECK(alarm_engine_silence_add(e, "*", "*", now_ms + MIN, now_ms + 30 * MIN, "ops",
	    "upgrade", now_ms, &sid, &err) == 0);
	now_ms += 2 * MIN;
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 20 * MIN);
	CHECK(nsent == 0);
	run(e, 10 * MIN);			/* the window ends */
	CHECK(count("firing") == 2);
	alarm_engine_free(e);
}

static void
test_resolve_once(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	fq[0].verdict = "ok";
	run(e, 30 * S);
	CHECK(count("resolved") == 2);
	run(e, 30 * MIN);
	CHECK(count("resolved") == 2 && count("firing") == 2 && nsent == 4);
	alarm_engine_free(e);
}

static void
test_user_resolve(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	json_t *o;
	uint64_t id;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	id = first_id(e, "firing");
	CHECK(alarm_engine_resolve(e, id, "carol", "restarted the consumer", now_ms, &err) == 0);
	run(e, 15 * S);
	CHECK(count("resolved") == 2);
	/* Still growing, so it is pending again; the history keeps who resolved it. */
	o = alarm_engine_alarm_json(e, id, now_ms);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o,
	    "history"), 2), "who")), "carol") == 0);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o,
	    "history"), 2), "to")), "resolved") == 0);
	json_decref(o);
	alarm_engine_free(e);
}

static void
test_grouping(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine("type=queue_growth app=* queue=* for=0s repeat=10m group_wait=10s");
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 5 * S);				/* app-2 fires: its group waits until 10 s */
	CHECK(nsent == 0);
	set_queue(1, "app-3", "inbound", "growing");
	set_queue(2, "app-3", "wip", "growing");
	run(e, 10 * S);				/* app-3's two join the open group */
	CHECK(count("firing") == 2);
	CHECK(sent[0].nalarms == 3 && sent[1].nalarms == 3);
	set_queue(3, "app-4", "inbound", "growing");
	run(e, 30 * S);				/* after the group went: a group of its own */
	CHECK(count("firing") == 4);
	CHECK(sent[2].nalarms == 1);
	alarm_engine_free(e);
}

static void
test_grouping_one_notice(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-1", "inbound", "growing");
	set_queue(1, "app-2", "inbound", "growing");
	set_queue(2, "app-3", "wip", "growing");
	run(e, 2 * MIN);
	CHECK(count("firing") == 2);		/* one notice per receiver for 3 alarms */
	CHECK(sent[0].nalarms == 3 && sent[1].nalarms == 3);
	alarm_engine_free(e);
}

static void
test_resolved_within_group_wait(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine("type=queue_growth app=* queue=* for=0s group_wait=1m");
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 20 * S);
	fq[0].verdict = "ok";
	run(e, 5 * MIN);
	CHECK(nsent == 0);
	CHECK(alarm_engine_stats(e)->notices_withdrawn == 1);
	alarm_engine_free(e);
}

static void
test_restart_resends_nothing(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	json_t *o;
	uint64_t id, sid;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	set_queue(1, "app-3", "inbound", "growing");
	run(e, 45 * S);
	CHECK(nsent == 2);
	id = first_id(e, "firing");
	CHECK(alarm_engine_ack(e, id, "alice", "on it", 0, now_ms, &err) == 0);
	CHECK(alarm_engine_silence_add(e, "grow", "app-9", now_ms, now_ms + MIN * 90, "bob",
	    "x", now_ms, &sid, &err) == 0);
	alarm_engine_free(e);
	/* A new process (or the standby after a failover) reads the state back. */
	e = engine(SPEC);
	o = alarm_engine_alarm_json(e, id, now_ms);
	CHECK(o != NULL);
	CHECK(strcmp(json_string_value(json_object_get(o, "state")), "acknowledged") == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "ack_by")), "alice") == 0);
	CHECK(strcmp(json_string_value(json_object_get(o, "history_source")), "store") == 0);
	CHECK(json_array_size(json_object_get(o, "history")) == 3);
	json_decref(o);
	o = alarm_engine_silences_json(e, now_ms);
	CHECK(json_integer_value(json_object_get(o, "count")) == 1);
	json_decref(o);
	run(e, 9 * MIN);
	CHECK(nsent == 2);			/* nothing re-sent */
	run(e, 3 * MIN);
	CHECK(count("repeat") == 2);		/* the unacknowledged one repeats on time */
	CHECK(sent[2].nalarms == 1);
	alarm_engine_free(e);
}

static void
test_pending_group_survives_restart(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 30 * S);				/* fired; its group waits 10 s */
	CHECK(nsent == 0);
	alarm_engine_free(e);
	e = engine(SPEC);
	run(e, 15 * S);
	CHECK(count("firing") == 2);		/* sent once, by the new process */
	run(e, 5 * MIN);
	CHECK(nsent == 2);
	alarm_engine_free(e);
}

static void
test_no_send_without_record(void **state)
{
	struct alarm_engine *e;

	reset();
	e = engine(SPEC);
	set_queue(0, "app-2", "inbound", "growing");
	put_fail = 1;				/* the store refuses: nothing may be sent */
	run(e, 2 * MIN);
	CHECK(nsent == 0);
	CHECK(alarm_engine_stats(e)->persist_errors > 0);
	put_fail = 0;
	run(e, 10 * S);
	CHECK(count("firing") == 2);
	alarm_engine_free(e);
}

static void
test_failed_delivery_recorded(void **state)
{
	struct alarm_engine *e;
	json_t *o;

	reset();
	e = engine(SPEC);
	notify_fail = 1;
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 45 * S);
	o = alarm_engine_notices_json(e, 10);
	CHECK(json_integer_value(json_object_get(o, "count")) == 2);
	CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(o,
	    "notifications"), 0), "status")), "failed") == 0);
	json_decref(o);
	CHECK(alarm_engine_stats(e)->notices_failed == 2);
	alarm_engine_free(e);
}

static void
test_not_active(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;

	reset();
	e = engine(SPEC);
	alarm_engine_set_active(e, 0, now_ms);
	set_queue(0, "app-2", "inbound", "growing");
	run(e, 5 * MIN);
	CHECK(nsent == 0);
	CHECK(alarm_engine_rule_put(e, "x", "type=queue_growth", "a", now_ms, &err) == -1 &&
	    err.status == 503);
	alarm_engine_free(e);
}

static void
test_api_rule_persists(void **state)
{
	struct alarm_engine *e;
	struct ae_err err;
	json_t *o;

	reset();
	e = engine(SPEC);
	CHECK(alarm_engine_rule_put(e, "grow", "type=queue_growth", "a", now_ms, &err) == -1 &&
	    err.status == 409);		/* config rules are not replaced */
	CHECK(alarm_engine_rule_put(e, "slow", "type=latency above=250ms receivers=nope",
	    "a", now_ms, &err) == -1 && err.status == 400);
	CHECK(alarm_engine_rule_put(e, "slow", "type=latency above=250ms clear_below=200ms",
	    "a", now_ms, &err) == 0);
	alarm_engine_free(e);
	e = engine(SPEC);
	o = alarm_engine_rules_json(e);
	CHECK(json_array_size(json_object_get(o, "rules")) == 2);
	CHECK(strstr(json_string_value(json_object_get(json_array_get(json_object_get(o,
	    "rules"), 1), "spec")), "above=250ms clear_below=200ms") != NULL);
	json_decref(o);
	CHECK(alarm_engine_rule_del(e, "slow", "a", now_ms, &err) == 0);
	CHECK(alarm_engine_rule_del(e, "grow", "a", now_ms, &err) == -1 && err.status == 409);
	alarm_engine_free(e);
}

struct parse_row {
	const char	*what;
	const char	*spec;
	int		 ok;
	const char	*want;		/* substring of the normalised spec, or of the error */
};

static const struct parse_row parse_rows[] = {
	{ "threshold", "type=threshold metric=queue_depth app=line-* queue=orders above=500 "
	    "clear_below=400 for=30s severity=critical", 1,
	    "metric=queue_depth app=line-* queue=orders above=500 clear_below=400 for=30s" },
	{ "clear defaults to above", "type=threshold metric=stuck_txns above=3", 1,
	    "above=3 clear_below=3" },
	{ "latency in time units", "type=latency job=assemble percentile=95 above=2s "
	    "clear_below=1500ms", 1, "job=assemble above=2s clear_below=1500ms" },
	{ "error rate", "type=error_rate above=0.05 clear_below=0.02 min_count=50", 1,
	    "min_count=50" },
	{ "app silent", "type=app_silent above=2m", 1, "above=2m clear_below=2m" },
	{ "stuck step", "type=stuck_step step=cure above=10m clear_below=1m", 1, "step=cure" },
	{ "receivers", "type=queue_growth receivers=a,b", 1, "receivers=a,b" },
	{ "no type", "above=3", 0, "type= is required" },
	{ "bad type", "type=bogus", 0, "type:" },
	{ "threshold without metric", "type=threshold above=3", 0, "needs metric" },
	{ "metric on latency", "type=latency metric=queue_depth above=1s", 0, "metric=" },
	{ "no above", "type=latency", 0, "above= is required" },
	{ "clear above trigger", "type=threshold metric=queue_depth above=5 clear_below=9", 0,
	    "clear threshold" },
	{ "error rate over 1", "type=error_rate above=1.5", 0, "0..1" },
	{ "unknown key", "type=queue_growth colour=red", 0, "unknown key" },
	{ "not key=value", "type=queue_growth loud", 0, "key=value" },
	{ "bad duration", "type=queue_growth for=soon", 0, "for:" },
	{ "bad percentile", "type=latency above=1s percentile=90", 0, "percentile" },
	{ "bad severity", "type=queue_growth severity=panic", 0, "severity" },
	{ "short window", "type=queue_growth window=1s", 0, "window" },
};

static void
test_parse(void **state)
{
	const struct parse_row *row = *state;
	struct ae_rule r, again;
	char err[256];
	int rc = ae_rule_parse_spec(&r, "r1", row->spec, err, sizeof(err));

	CHECK(rc == (row->ok ? 0 : -1));
	if (row->ok) {
		CHECK(strstr(r.spec, row->want) != NULL);
		/* The normalised spec reads back to itself. */
		CHECK(ae_rule_parse_spec(&again, "r1", r.spec, err, sizeof(err)) == 0);
		CHECK(strcmp(again.spec, r.spec) == 0);
	} else
		CHECK(strstr(err, row->want) != NULL);
}

int
main(void)
{
	struct cases cs = { 0 };

	cases_add(&cs, "engine: a growing queue fires once", test_fires_once, NULL);
	cases_add(&cs, "engine: repeat interval", test_repeat_interval, NULL);
	cases_add(&cs, "engine: ack stops repeats", test_ack_stops_repeats, NULL);
	cases_add(&cs, "engine: an ack that cannot be stored changes nothing",
	    test_ack_not_stored_changes_nothing, NULL);
	cases_add(&cs, "engine: silence suppresses", test_silence_suppresses, NULL);
	cases_add(&cs, "engine: maintenance window", test_maintenance_window, NULL);
	cases_add(&cs, "engine: resolved notice once", test_resolve_once, NULL);
	cases_add(&cs, "engine: resolved by a user", test_user_resolve, NULL);
	cases_add(&cs, "engine: grouping by group_wait", test_grouping, NULL);
	cases_add(&cs, "engine: one notice for a group", test_grouping_one_notice, NULL);
	cases_add(&cs, "engine: resolved within group_wait: no notice",
	    test_resolved_within_group_wait, NULL);
	cases_add(&cs, "engine: restart re-sends nothing, keeps acks", test_restart_resends_nothing,
	    NULL);
	cases_add(&cs, "engine: a waiting group survives a restart",
	    test_pending_group_survives_restart, NULL);
	cases_add(&cs, "engine: no send without its record", test_no_send_without_record, NULL);
	cases_add(&cs, "engine: failed delivery recorded", test_failed_delivery_recorded, NULL);
	cases_add(&cs, "engine: a node that is not active does nothing", test_not_active, NULL);
	cases_add(&cs, "engine: API rules persist", test_api_rule_persists, NULL);
	CASES_TABLE(&cs, "rule parse", test_parse, parse_rows);
	return cases_run(&cs, "alarm_engine");
}
