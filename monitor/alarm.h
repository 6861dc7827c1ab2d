/* Tandem — MIT licence. Alarm rules, the alarm FSM with an injected clock, silences, history. */
#ifndef TANDEM_MONITOR_ALARM_H
#define TANDEM_MONITOR_ALARM_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/growth.h"

#define ALARM_NAME_MAX		64	/* rule, app: bytes including the NUL */
#define ALARM_OBJECT_MAX	128	/* queue, job type, step ... */
#define ALARM_WHO_MAX		64
#define ALARM_COMMENT_MAX	512
#define ALARM_KEY_MAX		(2 * ALARM_NAME_MAX + 2 * ALARM_OBJECT_MAX)
#define ALARM_HISTORY_MAX	256	/* in memory; older entries are dropped and counted */
#define ALARM_SILENCE_MAX_MS	(30LL * 24 * 3600 * 1000)

enum alarm_state {
	ALARM_ST_INACTIVE,
	ALARM_ST_PENDING,	/* condition true, waiting for the `for` duration */
	ALARM_ST_FIRING,
	ALARM_ST_ACKED,		/* firing, acknowledged by someone: no repeats */
	ALARM_ST_RESOLVED,	/* condition cleared, or resolved by a user */
};
#define ALARM_ST_COUNT	5

enum alarm_event {
	ALARM_EV_TRUE,		/* condition true while not active */
	ALARM_EV_NOT_TRUE,	/* condition not true while pending: start over */
	ALARM_EV_FOR_ELAPSED,	/* pending for the rule's `for` duration */
	ALARM_EV_CLEAR,		/* below the clear threshold for clear_for */
	ALARM_EV_ACK,		/* a user acknowledges (who, comment, optional expiry) */
	ALARM_EV_ACK_EXPIRED,	/* the acknowledgement's expiry passed */
	ALARM_EV_RESOLVE,	/* a user resolves by hand */
	ALARM_EV_REPEAT_DUE,	/* firing, unacknowledged, repeat interval passed */
};
#define ALARM_EV_COUNT	8

/* Bits OR-ed into *actions; the caller turns them into notifications. */
enum alarm_action {
	ALARM_ACT_NOTIFY_FIRING		= 1 << 0,
	ALARM_ACT_NOTIFY_REPEAT		= 1 << 1,
	ALARM_ACT_NOTIFY_RESOLVED	= 1 << 2,
	ALARM_ACT_SUPPRESSED		= 1 << 3,	/* a notice was due but a silence matched */
};

enum alarm_rule_type {
	ALARM_RULE_THRESHOLD,		/* value > trigger; clear when value < clear */
	ALARM_RULE_QUEUE_GROWTH,	/* verdict GROWING or STALLED; clear on OK/DRAINING */
	ALARM_RULE_LATENCY,		/* value = latency percentile (us) vs trigger/clear */
	ALARM_RULE_STUCK_STEP,		/* value = oldest time in step (ms) vs trigger/clear */
	ALARM_RULE_APP_SILENT,		/* value = ms since the app's last event vs trigger/clear */
	ALARM_RULE_ERROR_RATE,		/* value = errors / total (0..1) vs trigger/clear, if count >= min_count */
};

/* What one evaluation of a rule against its input says. */
enum alarm_cond {
	ALARM_COND_TRUE,	/* above the trigger */
	ALARM_COND_HOLD,	/* between clear and trigger, or no data: keep the state */
	ALARM_COND_CLEAR,	/* below the clear threshold */
};

const char	*alarm_state_name(enum alarm_state);
const char	*alarm_event_name(enum alarm_event);
const char	*alarm_action_name(enum alarm_action);	/* one bit */
const char	*alarm_rule_type_name(enum alarm_rule_type);
const char	*alarm_cond_name(enum alarm_cond);

struct alarm_rule {
	char		name[ALARM_NAME_MAX];
	enum alarm_rule_type type;
	double		trigger;	/* condition true when value > trigger */
	double		clear;		/* condition cleared when value < clear; clear <= trigger */
	int64_t		for_ms;		/* pending time before firing; 0 fires at once */
	int64_t		clear_for_ms;	/* time below clear before resolving (keep-firing) */
	int64_t		repeat_ms;	/* re-notify while firing and unacknowledged; 0 = never */
	uint64_t	min_count;	/* ERROR_RATE: fewer requests than this => HOLD */
};

struct alarm_input {
	int		has_data;	/* 0: nothing known this round => HOLD */
	double		value;
	uint64_t	count;		/* ERROR_RATE: number of requests behind value */
	enum growth_verdict verdict;	/* QUEUE_GROWTH */
};

/* Checks a rule's ranges; -1 with a reason in err on trouble. */
int		alarm_rule_check(const struct alarm_rule *r, char *err, size_t errlen);
/* Evaluates rule r against in. Pure. */
enum alarm_cond	alarm_rule_eval(const struct alarm_rule *r, const struct alarm_input *in);

struct alarm_history {
	enum alarm_state from;
	enum alarm_state to;
	enum alarm_event ev;
	int64_t		at_ms;
	char		*who;		/* owned; "system" for automatic transitions */
	char		*comment;	/* owned; may be NULL */
};

struct alarm {
	char		key[ALARM_KEY_MAX];	/* dedup key: rule, app, object */
	char		rule[ALARM_NAME_MAX];
	char		app[ALARM_NAME_MAX];
	char		object[ALARM_OBJECT_MAX];
	enum alarm_state state;
	int64_t		since_ms;		/* entered the current state */
	int64_t		pending_since_ms;
	int64_t		firing_since_ms;
	int64_t		cleared_since_ms;	/* -1: not below clear */
	int64_t		last_notify_ms;
	int		notified;		/* a firing notice went out this episode */
	char		ack_by[ALARM_WHO_MAX];
	char		ack_comment[ALARM_COMMENT_MAX];
	int64_t		ack_ms;
	int64_t		ack_expires_ms;		/* 0: until resolved */
	char		resolved_by[ALARM_WHO_MAX];
	int64_t		resolved_ms;
	struct alarm_history *history;		/* oldest first */
	size_t		nhistory;
	size_t		history_cap;
	uint64_t	history_dropped;	/* oldest entries dropped at ALARM_HISTORY_MAX */
	uint64_t	history_lost;		/* entries not recorded for lack of memory */
};

/* Context of one event: the injected clock and, for user events, who and why. */
struct alarm_evctx {
	int64_t		now_ms;
	const char	*who;		/* borrowed; NULL = "system" */
	const char	*comment;	/* borrowed; may be NULL */
	int64_t		expires_ms;	/* ACK: 0 = until resolved */
	int		silenced;	/* a silence matches this alarm now */
};

/*
 * Builds the dedup key "rule/app/object" into buf, escaping '/' and '\' with '\'.
 * -1 if it does not fit. Same inputs, same key.
 */
int		alarm_key(char *buf, size_t cap, const char *rule, const char *app,
		    const char *object);

/* Initialises a in INACTIVE. -1 if a name is empty or too long. object may be "". */
int		alarm_init(struct alarm *a, const char *rule, const char *app,
		    const char *object);
/* Frees the history; a can be initialised again. */
void		alarm_shutdown(struct alarm *a);

/*
 * The FSM: looks ev up in the transition table for a->state, runs its action and
 * moves to the next state, appending a history entry (from, to, event, time, who,
 * comment) on every state change. Notification decisions are OR-ed into *actions.
 * Returns 0, or -1 if ev is not expected in this state (logged at debug, ignored) or
 * a user field is too long (nothing changes).
 */
int		alarm_fsm(struct alarm *a, enum alarm_event ev, const struct alarm_evctx *ctx,
		    unsigned *actions /* OUT, OR-ed */);

/*
 * One evaluation round: turns the rule's condition and the clock into FSM events
 * (TRUE, NOT_TRUE, FOR_ELAPSED, CLEAR, ACK_EXPIRED, REPEAT_DUE) and feeds them to
 * alarm_fsm. A firing alarm whose first notice was suppressed by a silence is notified
 * once the silence no longer matches. *actions is reset first.
 */
void		alarm_update(struct alarm *a, const struct alarm_rule *r, enum alarm_cond cond,
		    int64_t now_ms, int silenced, unsigned *actions /* OUT */);

/* User operations: -1 if not allowed in the current state or a field is too long. */
int		alarm_ack(struct alarm *a, int64_t now_ms, const char *who, const char *comment,
		    int64_t expires_ms, unsigned *actions /* OUT */);
int		alarm_resolve(struct alarm *a, int64_t now_ms, const char *who,
		    const char *comment, int silenced, unsigned *actions /* OUT */);

/*
 * A silence: fnmatch(3) patterns on rule and app ("*" matches all), a mandatory
 * creator, comment and end. Active for starts_ms <= now < ends_ms.
 */
struct alarm_silence {
	char		rule[ALARM_NAME_MAX];
	char		app[ALARM_NAME_MAX];
	int64_t		starts_ms;
	int64_t		ends_ms;
	char		created_by[ALARM_WHO_MAX];
	char		comment[ALARM_COMMENT_MAX];
};

/*
 * Fills s after checking: patterns non-empty and fitting, who and comment non-empty,
 * ends > starts, ends - starts <= ALARM_SILENCE_MAX_MS. -1 with a reason in err.
 */
int		alarm_silence_init(struct alarm_silence *s, const char *rule_pat,
		    const char *app_pat, int64_t starts_ms, int64_t ends_ms, const char *who,
		    const char *comment, char *err, size_t errlen);
/* 1 if s is active at now_ms and matches a's rule and app. */
int		alarm_silence_matches(const struct alarm_silence *s, const struct alarm *a,
		    int64_t now_ms);
/* 1 if any of sil[0 .. n) matches. */
int		alarm_silenced(const struct alarm_silence *sil, size_t n, const struct alarm *a,
		    int64_t now_ms);

#endif
