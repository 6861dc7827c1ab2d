/* Tandem — MIT licence. Alarm FSM (pending/firing/acked/resolved), rules, silences, history. */
#include <assert.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "monitor/alarm.h"

const char *
alarm_state_name(enum alarm_state s)
{
	switch (s) {
	case ALARM_ST_INACTIVE:	return "inactive";
	case ALARM_ST_PENDING:	return "pending";
	case ALARM_ST_FIRING:	return "firing";
	case ALARM_ST_ACKED:	return "acknowledged";
	case ALARM_ST_RESOLVED:	return "resolved";
	}
	return "unknown";
}

const char *
alarm_event_name(enum alarm_event e)
{
	switch (e) {
	case ALARM_EV_TRUE:		return "true";
	case ALARM_EV_NOT_TRUE:		return "not-true";
	case ALARM_EV_FOR_ELAPSED:	return "for-elapsed";
	case ALARM_EV_CLEAR:		return "clear";
	case ALARM_EV_ACK:		return "ack";
	case ALARM_EV_ACK_EXPIRED:	return "ack-expired";
	case ALARM_EV_RESOLVE:		return "resolve";
	case ALARM_EV_REPEAT_DUE:	return "repeat-due";
	}
	return "unknown";
}

const char *
alarm_action_name(enum alarm_action a)
{
	switch (a) {
	case ALARM_ACT_NOTIFY_FIRING:	return "notify-firing";
	case ALARM_ACT_NOTIFY_REPEAT:	return "notify-repeat";
	case ALARM_ACT_NOTIFY_RESOLVED:	return "notify-resolved";
	case ALARM_ACT_SUPPRESSED:	return "suppressed";
	}
	return "unknown";
}

const char *
alarm_rule_type_name(enum alarm_rule_type t)
{
	switch (t) {
	case ALARM_RULE_THRESHOLD:	return "threshold";
	case ALARM_RULE_QUEUE_GROWTH:	return "queue-growth";
	case ALARM_RULE_LATENCY:	return "latency";
	case ALARM_RULE_STUCK_STEP:	return "stuck-step";
	case ALARM_RULE_APP_SILENT:	return "app-silent";
	case ALARM_RULE_ERROR_RATE:	return "error-rate";
	}
	return "unknown";
}

const char *
alarm_cond_name(enum alarm_cond c)
{
	switch (c) {
	case ALARM_COND_TRUE:	return "true";
	case ALARM_COND_HOLD:	return "hold";
	case ALARM_COND_CLEAR:	return "clear";
	}
	return "unknown";
}

/* Rules. */

int
alarm_rule_check(const struct alarm_rule *r, char *err, size_t errlen)
{
	size_t len = strnlen(r->name, sizeof(r->name));

	if (len == 0 || len == sizeof(r->name)) {
		snprintf(err, errlen, "rule name empty or longer than %d bytes",
		    ALARM_NAME_MAX - 1);
		return -1;
	}
	if ((unsigned)r->type > ALARM_RULE_ERROR_RATE) {
		snprintf(err, errlen, "rule %s: unknown type", r->name);
		return -1;
	}
	if (r->type != ALARM_RULE_QUEUE_GROWTH &&
	    (!(r->trigger == r->trigger) || !(r->clear == r->clear) || r->clear > r->trigger)) {
		snprintf(err, errlen, "rule %s: clear threshold must be <= trigger", r->name);
		return -1;
	}
	if (r->type == ALARM_RULE_ERROR_RATE &&
	    (r->trigger < 0.0 || r->trigger > 1.0 || r->clear < 0.0)) {
		snprintf(err, errlen, "rule %s: error rate thresholds must be in 0..1", r->name);
		return -1;
	}
	if (r->for_ms < 0 || r->clear_for_ms < 0 || r->repeat_ms < 0) {
		snprintf(err, errlen, "rule %s: durations must not be negative", r->name);
		return -1;
	}
	return 0;
}

enum alarm_cond
alarm_rule_eval(const struct alarm_rule *r, const struct alarm_input *in)
{
	if (!in->has_data)
		return ALARM_COND_HOLD;
	switch (r->type) {
	case ALARM_RULE_QUEUE_GROWTH:
		switch (in->verdict) {
		case GROWTH_GROWING:
		case GROWTH_STALLED:
			return ALARM_COND_TRUE;
		case GROWTH_OK:
		case GROWTH_DRAINING:
			return ALARM_COND_CLEAR;
		case GROWTH_NOT_ENOUGH_DATA:
			return ALARM_COND_HOLD;
		}
		return ALARM_COND_HOLD;
	case ALARM_RULE_ERROR_RATE:
		if (in->count < r->min_count)
			return ALARM_COND_HOLD;
		/* FALLTHROUGH */
	case ALARM_RULE_THRESHOLD:
	case ALARM_RULE_LATENCY:
	case ALARM_RULE_STUCK_STEP:
	case ALARM_RULE_APP_SILENT:
		if (in->value > r->trigger)
			return ALARM_COND_TRUE;
		if (in->value < r->clear)
			return ALARM_COND_CLEAR;
		return ALARM_COND_HOLD;
	}
	return ALARM_COND_HOLD;
}

/* Keys and setup. */

int
alarm_key(char *buf, size_t cap, const char *rule, const char *app, const char *object)
{
	const char *parts[3] = { rule, app, object };
	size_t off = 0, i;
	const char *p;

	if (cap == 0)
		return -1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (off + 1 >= cap)
				return -1;
			buf[off++] = '/';
		}
		for (p = parts[i]; *p != '\0'; p++) {
			if (*p == '/' || *p == '\\') {
				if (off + 1 >= cap)
					return -1;
				buf[off++] = '\\';
			}
			if (off + 1 >= cap)
				return -1;
			buf[off++] = *p;
		}
	}
	buf[off] = '\0';
	return 0;
}

static int
copy_field(char *dst, size_t cap, const char *src, int required)
{
	size_t len;

	if (src == NULL)
		src = "";
	len = strlen(src);
	if ((required && len == 0) || len >= cap)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

int
alarm_init(struct alarm *a, const char *rule, const char *app, const char *object)
{
	memset(a, 0, sizeof(*a));
	if (copy_field(a->rule, sizeof(a->rule), rule, 1) == -1 ||
	    copy_field(a->app, sizeof(a->app), app, 1) == -1 ||
	    copy_field(a->object, sizeof(a->object), object, 0) == -1 ||
	    alarm_key(a->key, sizeof(a->key), a->rule, a->app, a->object) == -1)
		return -1;
	a->state = ALARM_ST_INACTIVE;
	a->pending_since_ms = -1;
	a->firing_since_ms = -1;
	a->cleared_since_ms = -1;
	a->resolved_ms = -1;
	return 0;
}

void
alarm_shutdown(struct alarm *a)
{
	size_t i;

	for (i = 0; i < a->nhistory; i++) {
		XFREE(a->history[i].who);
		XFREE(a->history[i].comment);
	}
	XFREE(a->history);
	a->nhistory = a->history_cap = 0;
}

/* Appends one history entry; on allocation failure counts it and carries on. */
static void
alarm_history_add(struct alarm *a, enum alarm_state from, enum alarm_state to,
    enum alarm_event ev, const struct alarm_evctx *ctx)
{
	struct alarm_history *h, *nh;
	size_t ncap;
	char *who = NULL, *comment = NULL;

	who = xstrdup(ctx->who != NULL ? ctx->who : "system");
	if (ctx->comment != NULL && (comment = xstrdup(ctx->comment)) == NULL)
		goto fail;
	if (who == NULL)
		goto fail;
	if (a->nhistory == ALARM_HISTORY_MAX) {
		XFREE(a->history[0].who);
		XFREE(a->history[0].comment);
		memmove(&a->history[0], &a->history[1],
		    (a->nhistory - 1) * sizeof(a->history[0]));
		a->nhistory--;
		a->history_dropped++;
	}
	if (a->nhistory == a->history_cap) {
		ncap = a->history_cap == 0 ? 8 : a->history_cap * 2;
		if (ncap > ALARM_HISTORY_MAX)
			ncap = ALARM_HISTORY_MAX;
		if ((nh = xrealloc(a->history, ncap * sizeof(*nh))) == NULL)
			goto fail;
		a->history = nh;
		a->history_cap = ncap;
	}
	h = &a->history[a->nhistory++];
	h->from = from;
	h->to = to;
	h->ev = ev;
	h->at_ms = ctx->now_ms;
	h->who = who;
	h->comment = comment;
	return;
fail:
	a->history_lost++;
	xfree(who);
	xfree(comment);
}

/* FSM actions. */

static void
act_pending(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	a->pending_since_ms = ctx->now_ms;
	a->firing_since_ms = -1;
	a->cleared_since_ms = -1;
	a->notified = 0;
	a->ack_by[0] = a->ack_comment[0] = a->resolved_by[0] = '\0';
	a->ack_ms = a->ack_expires_ms = 0;
	a->resolved_ms = -1;
}

static void
act_reset(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	a->pending_since_ms = -1;
}

static void
act_fire(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	a->firing_since_ms = ctx->now_ms;
	a->cleared_since_ms = -1;
	if (ctx->silenced) {
		*actions |= ALARM_ACT_SUPPRESSED;
		return;
	}
	*actions |= ALARM_ACT_NOTIFY_FIRING;
	a->notified = 1;
	a->last_notify_ms = ctx->now_ms;
}

static void
act_repeat(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	a->last_notify_ms = ctx->now_ms;
	*actions |= ctx->silenced ? ALARM_ACT_SUPPRESSED : ALARM_ACT_NOTIFY_REPEAT;
}

static void
act_ack(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	/* Lengths were checked by alarm_fsm before the table lookup. */
	snprintf(a->ack_by, sizeof(a->ack_by), "%s", ctx->who);
	snprintf(a->ack_comment, sizeof(a->ack_comment), "%s",
	    ctx->comment != NULL ? ctx->comment : "");
	a->ack_ms = ctx->now_ms;
	a->ack_expires_ms = ctx->expires_ms;
}

static void
act_unack(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	a->ack_by[0] = a->ack_comment[0] = '\0';
	a->ack_ms = a->ack_expires_ms = 0;
	if (a->notified)
		act_repeat(a, ctx, actions);
}

static void
act_resolve(struct alarm *a, const struct alarm_evctx *ctx, unsigned *actions)
{
	snprintf(a->resolved_by, sizeof(a->resolved_by), "%s",
	    ctx->who != NULL ? ctx->who : "system");
	a->resolved_ms = ctx->now_ms;
	a->pending_since_ms = -1;
	a->cleared_since_ms = -1;
	/* The resolved notice goes out at most once, and only if a firing notice did. */
	if (a->notified)
		*actions |= ctx->silenced ? ALARM_ACT_SUPPRESSED : ALARM_ACT_NOTIFY_RESOLVED;
	a->notified = 0;
}

struct alarm_transition {
	enum alarm_state state;
	enum alarm_event ev;
	void		(*action)(struct alarm *, const struct alarm_evctx *, unsigned *);
	enum alarm_state next;
};

static const struct alarm_transition alarm_fsm_tbl[] = {
	{ ALARM_ST_INACTIVE,	ALARM_EV_TRUE,		act_pending,	ALARM_ST_PENDING },
	{ ALARM_ST_RESOLVED,	ALARM_EV_TRUE,		act_pending,	ALARM_ST_PENDING },
	{ ALARM_ST_PENDING,	ALARM_EV_NOT_TRUE,	act_reset,	ALARM_ST_INACTIVE },
	{ ALARM_ST_PENDING,	ALARM_EV_FOR_ELAPSED,	act_fire,	ALARM_ST_FIRING },
	{ ALARM_ST_FIRING,	ALARM_EV_REPEAT_DUE,	act_repeat,	ALARM_ST_FIRING },
	{ ALARM_ST_FIRING,	ALARM_EV_ACK,		act_ack,	ALARM_ST_ACKED },
	{ ALARM_ST_FIRING,	ALARM_EV_CLEAR,		act_resolve,	ALARM_ST_RESOLVED },
	{ ALARM_ST_FIRING,	ALARM_EV_RESOLVE,	act_resolve,	ALARM_ST_RESOLVED },
	{ ALARM_ST_ACKED,	ALARM_EV_ACK_EXPIRED,	act_unack,	ALARM_ST_FIRING },
	{ ALARM_ST_ACKED,	ALARM_EV_CLEAR,		act_resolve,	ALARM_ST_RESOLVED },
	{ ALARM_ST_ACKED,	ALARM_EV_RESOLVE,	act_resolve,	ALARM_ST_RESOLVED },
};

int
alarm_fsm(struct alarm *a, enum alarm_event ev, const struct alarm_evctx *ctx,
    unsigned *actions)
{
	const struct alarm_transition *t = NULL;
	enum alarm_state from = a->state;
	size_t i;

	assert((unsigned)a->state < ALARM_ST_COUNT);
	if (ev == ALARM_EV_ACK || ev == ALARM_EV_RESOLVE) {
		if (ctx->who == NULL || ctx->who[0] == '\0' ||
		    strlen(ctx->who) >= ALARM_WHO_MAX ||
		    (ctx->comment != NULL && strlen(ctx->comment) >= ALARM_COMMENT_MAX))
			return -1;
		if (ev == ALARM_EV_ACK && ctx->expires_ms != 0 && ctx->expires_ms <= ctx->now_ms)
			return -1;
	}
	for (i = 0; i < sizeof(alarm_fsm_tbl) / sizeof(alarm_fsm_tbl[0]); i++) {
		if (alarm_fsm_tbl[i].state == from && alarm_fsm_tbl[i].ev == ev) {
			t = &alarm_fsm_tbl[i];
			break;
		}
	}
	if (t == NULL) {
		log_debug("alarm %s: event %s unexpected in state %s, ignored", a->key,
		    alarm_event_name(ev), alarm_state_name(from));
		return -1;
	}
	t->action(a, ctx, actions);
	if (t->next != from) {
		a->state = t->next;
		a->since_ms = ctx->now_ms;
		alarm_history_add(a, from, t->next, ev, ctx);
		log_debug("alarm %s: %s -> %s on %s by %s", a->key, alarm_state_name(from),
		    alarm_state_name(t->next), alarm_event_name(ev),
		    ctx->who != NULL ? ctx->who : "system");
	}
	return 0;
}

void
alarm_update(struct alarm *a, const struct alarm_rule *r, enum alarm_cond cond,
    int64_t now_ms, int silenced, unsigned *actions)
{
	struct alarm_evctx ctx = { .now_ms = now_ms, .silenced = silenced };

	*actions = 0;
	if ((a->state == ALARM_ST_INACTIVE || a->state == ALARM_ST_RESOLVED) &&
	    cond == ALARM_COND_TRUE)
		alarm_fsm(a, ALARM_EV_TRUE, &ctx, actions);
	if (a->state == ALARM_ST_PENDING) {
		/* Like Prometheus' `for`: true at every evaluation, else start over. */
		if (cond != ALARM_COND_TRUE)
			alarm_fsm(a, ALARM_EV_NOT_TRUE, &ctx, actions);
		else if (now_ms - a->pending_since_ms >= r->for_ms)
			alarm_fsm(a, ALARM_EV_FOR_ELAPSED, &ctx, actions);
		return;
	}
	if (a->state != ALARM_ST_FIRING && a->state != ALARM_ST_ACKED)
		return;
	if (cond == ALARM_COND_CLEAR) {
		if (a->cleared_since_ms < 0)
			a->cleared_since_ms = now_ms;
		if (now_ms - a->cleared_since_ms >= r->clear_for_ms) {
			alarm_fsm(a, ALARM_EV_CLEAR, &ctx, actions);
			return;
		}
	} else
		a->cleared_since_ms = -1;	/* the hysteresis band keeps it firing */
	if (a->state == ALARM_ST_ACKED && a->ack_expires_ms > 0 && now_ms >= a->ack_expires_ms)
		alarm_fsm(a, ALARM_EV_ACK_EXPIRED, &ctx, actions);
	if (a->state != ALARM_ST_FIRING)
		return;
	if (!a->notified) {
		/* The first notice was held back by a silence that no longer matches. */
		if (!silenced) {
			a->notified = 1;
			a->last_notify_ms = now_ms;
			*actions |= ALARM_ACT_NOTIFY_FIRING;
		}
		return;
	}
	if ((*actions & (ALARM_ACT_NOTIFY_REPEAT | ALARM_ACT_SUPPRESSED)) == 0 &&
	    r->repeat_ms > 0 && now_ms - a->last_notify_ms >= r->repeat_ms)
		alarm_fsm(a, ALARM_EV_REPEAT_DUE, &ctx, actions);
}

int
alarm_ack(struct alarm *a, int64_t now_ms, const char *who, const char *comment,
    int64_t expires_ms, unsigned *actions)
{
	struct alarm_evctx ctx = { .now_ms = now_ms, .who = who, .comment = comment,
	    .expires_ms = expires_ms };

	*actions = 0;
	return alarm_fsm(a, ALARM_EV_ACK, &ctx, actions);
}

int
alarm_resolve(struct alarm *a, int64_t now_ms, const char *who, const char *comment,
    int silenced, unsigned *actions)
{
	struct alarm_evctx ctx = { .now_ms = now_ms, .who = who, .comment = comment,
	    .silenced = silenced };

	*actions = 0;
	return alarm_fsm(a, ALARM_EV_RESOLVE, &ctx, actions);
}

/* Silences. */

int
alarm_silence_init(struct alarm_silence *s, const char *rule_pat, const char *app_pat,
    int64_t starts_ms, int64_t ends_ms, const char *who, const char *comment, char *err,
    size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (copy_field(s->rule, sizeof(s->rule), rule_pat, 1) == -1) {
		snprintf(err, errlen, "rule matcher empty or too long");
		return -1;
	}
	if (copy_field(s->app, sizeof(s->app), app_pat, 1) == -1) {
		snprintf(err, errlen, "app matcher empty or too long");
		return -1;
	}
	if (copy_field(s->created_by, sizeof(s->created_by), who, 1) == -1) {
		snprintf(err, errlen, "creator missing or too long");
		return -1;
	}
	if (copy_field(s->comment, sizeof(s->comment), comment, 1) == -1) {
		snprintf(err, errlen, "comment missing or too long");
		return -1;
	}
	if (ends_ms <= starts_ms) {
		snprintf(err, errlen, "expiry must be after the start");
		return -1;
	}
	if (ends_ms - starts_ms > ALARM_SILENCE_MAX_MS) {
		snprintf(err, errlen, "silence longer than %lld days",
		    (long long)(ALARM_SILENCE_MAX_MS / (24 * 3600 * 1000LL)));
		return -1;
	}
	s->starts_ms = starts_ms;
	s->ends_ms = ends_ms;
	return 0;
}

int
alarm_silence_matches(const struct alarm_silence *s, const struct alarm *a, int64_t now_ms)
{
	if (now_ms < s->starts_ms || now_ms >= s->ends_ms)
		return 0;
	return fnmatch(s->rule, a->rule, 0) == 0 && fnmatch(s->app, a->app, 0) == 0;
}

int
alarm_silenced(const struct alarm_silence *sil, size_t n, const struct alarm *a,
    int64_t now_ms)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (alarm_silence_matches(&sil[i], a, now_ms))
			return 1;
	return 0;
}
