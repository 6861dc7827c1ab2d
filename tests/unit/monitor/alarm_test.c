/* Tandem — MIT licence. Unit tests for monitor/alarm.c: the alarm FSM driven by a fake clock. */
#include "common/xalloc.h"
#include "monitor/alarm.h"
#include "tests/unit/common/cases.h"

#define S	1000LL
#define MIN	(60 * S)

static struct alarm_rule
rule_threshold(int64_t for_ms, int64_t repeat_ms)
{
	struct alarm_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "queue-depth");
	r.type = ALARM_RULE_THRESHOLD;
	r.trigger = 1000;
	r.clear = 800;
	r.for_ms = for_ms;
	r.repeat_ms = repeat_ms;
	return r;
}

/* One evaluation at now with a value; returns the actions. */
static unsigned
step(struct alarm *a, const struct alarm_rule *r, int64_t now, double value, int silenced)
{
	struct alarm_input in = { .has_data = 1, .value = value };
	unsigned act;

	alarm_update(a, r, alarm_rule_eval(r, &in), now, silenced, &act);
	return act;
}

static void
test_pending_then_firing(void **state)
{
	struct alarm_rule r = rule_threshold(5 * MIN, 0);
	struct alarm a;
	int64_t t;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1500, 0) == 0);
	CHECK(a.state == ALARM_ST_PENDING);
	for (t = MIN; t < 5 * MIN; t += MIN) {
		CHECK(step(&a, &r, t, 1500, 0) == 0);
		CHECK(a.state == ALARM_ST_PENDING);
	}
	CHECK(step(&a, &r, 5 * MIN, 1500, 0) == ALARM_ACT_NOTIFY_FIRING);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(a.firing_since_ms == 5 * MIN);
	/* Still firing: no repeat configured, nothing more. */
	CHECK(step(&a, &r, 6 * MIN, 1500, 0) == 0);
	alarm_shutdown(&a);
}

static void
test_for_zero(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "") == 0);
	CHECK(step(&a, &r, 10, 1001, 0) == ALARM_ACT_NOTIFY_FIRING);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(a.nhistory == 2);
	alarm_shutdown(&a);
}

static void
test_flapping_never_fires(void **state)
{
	struct alarm_rule r = rule_threshold(3 * MIN, 0);
	struct alarm a;
	int64_t t;
	unsigned act = 0;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	/* True for 2 minutes, then 1 minute in the hysteresis band, for an hour. */
	for (t = 0; t < 60 * MIN; t += MIN) {
		act |= step(&a, &r, t, (t / MIN) % 3 == 2 ? 900 : 1500, 0);
		CHECK(a.state == ALARM_ST_PENDING || a.state == ALARM_ST_INACTIVE);
	}
	CHECK(act == 0);
	alarm_shutdown(&a);
}

static void
test_hysteresis(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1200, 0) == ALARM_ACT_NOTIFY_FIRING);
	/* Below the trigger but above clear: keeps firing. */
	CHECK(step(&a, &r, MIN, 950, 0) == 0);
	CHECK(step(&a, &r, 2 * MIN, 801, 0) == 0);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(step(&a, &r, 3 * MIN, 800, 0) == 0);	/* clear is strictly below */
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(step(&a, &r, 4 * MIN, 799, 0) == ALARM_ACT_NOTIFY_RESOLVED);
	CHECK(a.state == ALARM_ST_RESOLVED);
	CHECK(strcmp(a.resolved_by, "system") == 0);
	alarm_shutdown(&a);
}

static void
test_clear_for(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;

	(void)state;
	r.clear_for_ms = 2 * MIN;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1200, 0) == ALARM_ACT_NOTIFY_FIRING);
	CHECK(step(&a, &r, MIN, 100, 0) == 0);
	CHECK(step(&a, &r, 2 * MIN, 900, 0) == 0);	/* band: the clear timer restarts */
	CHECK(step(&a, &r, 3 * MIN, 100, 0) == 0);
	CHECK(step(&a, &r, 4 * MIN, 100, 0) == 0);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(step(&a, &r, 5 * MIN, 100, 0) == ALARM_ACT_NOTIFY_RESOLVED);
	alarm_shutdown(&a);
}

static void
test_repeat_and_ack(void **state)
{
	struct alarm_rule r = rule_threshold(0, 10 * MIN);
	struct alarm a;
	unsigned act;
	int64_t t;
	int repeats = 0;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1200, 0) == ALARM_ACT_NOTIFY_FIRING);
	for (t = MIN; t <= 30 * MIN; t += MIN) {
		act = step(&a, &r, t, 1200, 0);
		CHECK(act == 0 || act == ALARM_ACT_NOTIFY_REPEAT);
		if (act == ALARM_ACT_NOTIFY_REPEAT) {
			repeats++;
			CHECK(t % (10 * MIN) == 0);
		}
	}
	CHECK(repeats == 3);
	/* Acknowledged: no more repeats, but the resolved notice still goes out once. */
	CHECK(alarm_ack(&a, 31 * MIN, "alice", "looking at it", 0, &act) == 0);
	CHECK(act == 0);
	CHECK(a.state == ALARM_ST_ACKED);
	CHECK(strcmp(a.ack_by, "alice") == 0 && a.ack_ms == 31 * MIN);
	for (t = 32 * MIN; t <= 90 * MIN; t += MIN)
		CHECK(step(&a, &r, t, 1200, 0) == 0);
	CHECK(step(&a, &r, 91 * MIN, 10, 0) == ALARM_ACT_NOTIFY_RESOLVED);
	for (t = 92 * MIN; t <= 100 * MIN; t += MIN)
		CHECK(step(&a, &r, t, 10, 0) == 0);
	/* Ack in a state that does not allow it. */
	CHECK(alarm_ack(&a, 101 * MIN, "bob", NULL, 0, &act) == -1);
	alarm_shutdown(&a);
}

static void
test_ack_expiry(void **state)
{
	struct alarm_rule r = rule_threshold(0, 60 * MIN);
	struct alarm a;
	unsigned act;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1200, 0) == ALARM_ACT_NOTIFY_FIRING);
	CHECK(alarm_ack(&a, MIN, "alice", "till noon", MIN, &act) == -1);	/* expiry not in the future */
	CHECK(alarm_ack(&a, MIN, "", "x", 0, &act) == -1);			/* nobody */
	CHECK(alarm_ack(&a, MIN, "alice", "till later", 20 * MIN, &act) == 0);
	CHECK(step(&a, &r, 10 * MIN, 1200, 0) == 0);
	CHECK(step(&a, &r, 20 * MIN, 1200, 0) == ALARM_ACT_NOTIFY_REPEAT);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(a.ack_by[0] == '\0');
	alarm_shutdown(&a);
}

static void
test_silence(void **state)
{
	struct alarm_rule r = rule_threshold(0, 10 * MIN);
	struct alarm_silence sil;
	struct alarm a;
	char err[128];
	int64_t t;
	unsigned act, all = 0;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	/* Mandatory comment, creator and expiry. */
	CHECK(alarm_silence_init(&sil, "*", "mes-*", 0, 30 * MIN, "carol", "", err,
	    sizeof(err)) == -1);
	CHECK(alarm_silence_init(&sil, "*", "mes-*", 0, 30 * MIN, "", "patch", err,
	    sizeof(err)) == -1);
	CHECK(alarm_silence_init(&sil, "*", "mes-*", 30 * MIN, 30 * MIN, "carol", "patch", err,
	    sizeof(err)) == -1);
	CHECK(alarm_silence_init(&sil, "*", "mes-*", 0, ALARM_SILENCE_MAX_MS + 1, "carol",
	    "patch", err, sizeof(err)) == -1);
	CHECK(alarm_silence_init(&sil, "queue-*", "mes-*", 0, 30 * MIN, "carol", "patch night",
	    err, sizeof(err)) == 0);
	CHECK(alarm_silenced(&sil, 1, &a, 0) == 1);
	CHECK(alarm_silenced(&sil, 1, &a, 30 * MIN) == 0);
	/* Fires while silenced: recorded, not notified. */
	act = step(&a, &r, 0, 1200, alarm_silenced(&sil, 1, &a, 0));
	CHECK(act == ALARM_ACT_SUPPRESSED);
	CHECK(a.state == ALARM_ST_FIRING);
	for (t = MIN; t < 30 * MIN; t += MIN)
		all |= step(&a, &r, t, 1200, alarm_silenced(&sil, 1, &a, t));
	CHECK((all & (ALARM_ACT_NOTIFY_FIRING | ALARM_ACT_NOTIFY_REPEAT)) == 0);
	/* The silence expired: the held-back firing notice goes out now, once. */
	CHECK(step(&a, &r, 30 * MIN, 1200, alarm_silenced(&sil, 1, &a, 30 * MIN)) ==
	    ALARM_ACT_NOTIFY_FIRING);
	CHECK(step(&a, &r, 31 * MIN, 1200, 0) == 0);
	CHECK(step(&a, &r, 40 * MIN, 1200, 0) == ALARM_ACT_NOTIFY_REPEAT);
	/* A silence on another app does not match. */
	CHECK(alarm_silence_init(&sil, "*", "erp-*", 0, 60 * MIN, "carol", "x", err,
	    sizeof(err)) == 0);
	CHECK(alarm_silenced(&sil, 1, &a, 41 * MIN) == 0);
	alarm_shutdown(&a);
}

static void
test_silenced_never_notified_resolves_quietly(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	CHECK(step(&a, &r, 0, 1200, 1) == ALARM_ACT_SUPPRESSED);
	CHECK(step(&a, &r, MIN, 10, 1) == 0);	/* nothing was sent, so nothing to resolve */
	CHECK(a.state == ALARM_ST_RESOLVED);
	alarm_shutdown(&a);
}

static void
test_manual_resolve_and_history(void **state)
{
	struct alarm_rule r = rule_threshold(2 * MIN, 0);
	struct alarm a;
	unsigned act;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	step(&a, &r, 0, 1500, 0);
	step(&a, &r, 2 * MIN, 1500, 0);
	CHECK(alarm_ack(&a, 3 * MIN, "alice", "on it", 0, &act) == 0);
	CHECK(alarm_resolve(&a, 4 * MIN, "bob", "restarted consumer", 0, &act) == 0);
	CHECK(act == ALARM_ACT_NOTIFY_RESOLVED);
	CHECK(a.state == ALARM_ST_RESOLVED);
	CHECK(strcmp(a.resolved_by, "bob") == 0);
	CHECK(alarm_resolve(&a, 5 * MIN, "bob", NULL, 0, &act) == -1);
	/* Condition still true: a new episode starts pending. */
	CHECK(step(&a, &r, 6 * MIN, 1500, 0) == 0);
	CHECK(a.state == ALARM_ST_PENDING);

	CHECK(a.nhistory == 5);
	CHECK(a.history[0].from == ALARM_ST_INACTIVE && a.history[0].to == ALARM_ST_PENDING);
	CHECK(a.history[0].at_ms == 0 && strcmp(a.history[0].who, "system") == 0);
	CHECK(a.history[1].to == ALARM_ST_FIRING && a.history[1].at_ms == 2 * MIN);
	CHECK(a.history[2].to == ALARM_ST_ACKED && strcmp(a.history[2].who, "alice") == 0);
	CHECK(strcmp(a.history[2].comment, "on it") == 0);
	CHECK(a.history[3].to == ALARM_ST_RESOLVED && a.history[3].ev == ALARM_EV_RESOLVE);
	CHECK(strcmp(a.history[3].who, "bob") == 0);
	CHECK(strcmp(a.history[3].comment, "restarted consumer") == 0);
	CHECK(a.history[4].from == ALARM_ST_RESOLVED && a.history[4].to == ALARM_ST_PENDING);
	alarm_shutdown(&a);
}

static void
test_history_bounded(void **state)
{
	struct alarm_rule r = rule_threshold(MIN, 0);
	struct alarm a;
	int64_t t;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	for (t = 0; t < 1000 * MIN; t += MIN)
		step(&a, &r, t, (t / MIN) % 2 ? 1500 : 100, 0);
	CHECK(a.nhistory == ALARM_HISTORY_MAX);
	CHECK(a.history_dropped == 999 - ALARM_HISTORY_MAX);	/* one transition a minute from t = 1 */
	CHECK(a.history[ALARM_HISTORY_MAX - 1].at_ms == 999 * MIN);
	alarm_shutdown(&a);
}

static void
test_history_oom(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;

	(void)state;
	CHECK(alarm_init(&a, r.name, "mes-01", "orders") == 0);
	xalloc_fail_after(0);
	CHECK(step(&a, &r, 0, 1500, 0) == ALARM_ACT_NOTIFY_FIRING);	/* state still moves */
	xalloc_fail_after(-1);
	CHECK(a.state == ALARM_ST_FIRING);
	CHECK(a.history_lost == 2 && a.nhistory == 0);
	alarm_shutdown(&a);
}

struct eval_row {
	const char		*what;
	enum alarm_rule_type	 type;
	struct alarm_input	 in;
	enum alarm_cond		 want;
};

static const struct eval_row eval_rows[] = {
	{ "threshold above", ALARM_RULE_THRESHOLD, { 1, 1001, 0, 0 }, ALARM_COND_TRUE },
	{ "threshold at trigger", ALARM_RULE_THRESHOLD, { 1, 1000, 0, 0 }, ALARM_COND_HOLD },
	{ "threshold below clear", ALARM_RULE_THRESHOLD, { 1, 10, 0, 0 }, ALARM_COND_CLEAR },
	{ "no data holds", ALARM_RULE_THRESHOLD, { 0, 5000, 0, 0 }, ALARM_COND_HOLD },
	{ "latency p99 above", ALARM_RULE_LATENCY, { 1, 2000, 0, 0 }, ALARM_COND_TRUE },
	{ "stuck step below clear", ALARM_RULE_STUCK_STEP, { 1, 0, 0, 0 }, ALARM_COND_CLEAR },
	{ "app silent too long", ALARM_RULE_APP_SILENT, { 1, 99999, 0, 0 }, ALARM_COND_TRUE },
	{ "error rate, too few requests", ALARM_RULE_ERROR_RATE, { 1, 0.9, 3, 0 },
	    ALARM_COND_HOLD },
	{ "error rate above", ALARM_RULE_ERROR_RATE, { 1, 0.9, 500, 0 }, ALARM_COND_TRUE },
	{ "error rate clear", ALARM_RULE_ERROR_RATE, { 1, 0.01, 500, 0 }, ALARM_COND_CLEAR },
	{ "queue growing", ALARM_RULE_QUEUE_GROWTH, { 1, 0, 0, GROWTH_GROWING }, ALARM_COND_TRUE },
	{ "queue stalled", ALARM_RULE_QUEUE_GROWTH, { 1, 0, 0, GROWTH_STALLED }, ALARM_COND_TRUE },
	{ "queue draining", ALARM_RULE_QUEUE_GROWTH, { 1, 0, 0, GROWTH_DRAINING },
	    ALARM_COND_CLEAR },
	{ "queue ok", ALARM_RULE_QUEUE_GROWTH, { 1, 0, 0, GROWTH_OK }, ALARM_COND_CLEAR },
	{ "queue unknown", ALARM_RULE_QUEUE_GROWTH, { 1, 0, 0, GROWTH_NOT_ENOUGH_DATA },
	    ALARM_COND_HOLD },
};

static void
test_eval(void **state)
{
	const struct eval_row *row = ROW(struct eval_row, state);
	struct alarm_rule r = rule_threshold(0, 0);
	char err[128];

	r.type = row->type;
	if (row->type == ALARM_RULE_ERROR_RATE) {
		r.trigger = 0.5;
		r.clear = 0.1;
		r.min_count = 100;
	}
	CHECK(alarm_rule_check(&r, err, sizeof(err)) == 0);
	CHECK(alarm_rule_eval(&r, &row->in) == row->want);
}

static void
test_rule_check_and_keys(void **state)
{
	struct alarm_rule r = rule_threshold(0, 0);
	struct alarm a;
	char err[128], key[64];

	(void)state;
	r.clear = 2000;
	CHECK(alarm_rule_check(&r, err, sizeof(err)) == -1);
	r = rule_threshold(-1, 0);
	CHECK(alarm_rule_check(&r, err, sizeof(err)) == -1);
	r = rule_threshold(0, 0);
	r.name[0] = '\0';
	CHECK(alarm_rule_check(&r, err, sizeof(err)) == -1);
	CHECK(alarm_key(key, sizeof(key), "r", "a/b", "o\\x") == 0);
	CHECK(strcmp(key, "r/a\\/b/o\\\\x") == 0);
	CHECK(alarm_key(key, 5, "rule", "app", "") == -1);
	CHECK(alarm_init(&a, "", "app", "") == -1);
	CHECK(alarm_init(&a, "r", "a", "") == 0);
	CHECK(strcmp(a.key, "r/a/") == 0);
	alarm_shutdown(&a);
}

static void
test_unexpected_events(void **state)
{
	struct alarm a;
	struct alarm_evctx ctx = { .now_ms = 5 };
	unsigned act = 0;
	int ev;

	(void)state;
	CHECK(alarm_init(&a, "r", "a", "") == 0);
	for (ev = 0; ev < ALARM_EV_COUNT; ev++)
		if (ev != ALARM_EV_TRUE)
			CHECK(alarm_fsm(&a, ev, &ctx, &act) == -1);
	CHECK(a.state == ALARM_ST_INACTIVE && act == 0 && a.nhistory == 0);
	for (ev = 0; ev < ALARM_ST_COUNT; ev++)
		CHECK(strcmp(alarm_state_name(ev), "unknown") != 0);
	for (ev = 0; ev < ALARM_EV_COUNT; ev++)
		CHECK(strcmp(alarm_event_name(ev), "unknown") != 0);
	CHECK(strcmp(alarm_action_name(ALARM_ACT_SUPPRESSED), "suppressed") == 0);
	CHECK(strcmp(alarm_rule_type_name(ALARM_RULE_ERROR_RATE), "error-rate") == 0);
	CHECK(strcmp(alarm_cond_name(ALARM_COND_HOLD), "hold") == 0);
	alarm_shutdown(&a);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "pending -> firing after for", test_pending_then_firing, NULL);
	cases_add(&cs, "for 0 fires on the first evaluation", test_for_zero, NULL);
	cases_add(&cs, "flapping below for never fires", test_flapping_never_fires, NULL);
	cases_add(&cs, "clear threshold hysteresis", test_hysteresis, NULL);
	cases_add(&cs, "clear_for keeps firing", test_clear_for, NULL);
	cases_add(&cs, "repeat interval, ack stops repeats, resolved once", test_repeat_and_ack,
	    NULL);
	cases_add(&cs, "ack expiry re-notifies", test_ack_expiry, NULL);
	cases_add(&cs, "silence with expiry", test_silence, NULL);
	cases_add(&cs, "silenced and never notified resolves quietly",
	    test_silenced_never_notified_resolves_quietly, NULL);
	cases_add(&cs, "manual resolve and history", test_manual_resolve_and_history, NULL);
	cases_add(&cs, "history bounded", test_history_bounded, NULL);
	cases_add(&cs, "history survives allocation failure", test_history_oom, NULL);
	CASES_TABLE(&cs, "rule eval", test_eval, eval_rows);
	cases_add(&cs, "rule checks and dedup keys", test_rule_check_and_keys, NULL);
	cases_add(&cs, "unexpected events ignored", test_unexpected_events, NULL);
	return cases_run(&cs, "alarm");
}
