/* Tandem — MIT licence. Read-only queries over the store for the API: short read transactions, results as JSON. */
#ifndef TANDEM_MONITOR_QUERY_H
#define TANDEM_MONITOR_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define QUERY_LIMIT_MAX		1000	/* rows per answer */
#define QUERY_SCAN_MAX		2000000	/* raw events looked at per request */
#define QUERY_RAW_WINDOW_MS	(15 * 60000)	/* queue series this short come from raw samples */

struct query;

struct query_conf {
	int64_t		growth_window_ms;	/* window of the queue verdicts */
	uint64_t	growth_floor;		/* depth at or below which a queue is fine */
	uint32_t	stuck_factor;		/* stuck: time in step > factor x the step's p99 */
	int64_t		stuck_min_ms;		/* ... and at least this long */
	int64_t		stuck_idle_ms;		/* or no event for this long */
	int64_t		silent_ms;		/* app with no event for this long: "silent" */
	int64_t		model_window_ms;	/* step p99 learnt over this window */
};

/* What went wrong: an HTTP status, a message and, for 400, the parameter. */
struct query_err {
	int	status;
	char	param[32];
	char	msg[192];
};

void	query_conf_default(struct query_conf *);

/*
 * Opens the store in path read-only (its own environment, many readers beside the one
 * writer). The derived databases may not exist yet (a collector that never ran): queries
 * then answer empty. NULL with a reason in err. conf is copied.
 */
struct query	*query_open(const char *path, const struct query_conf *conf, char *err,
		    size_t errlen);
void		 query_close(struct query *);

/*
 * Every query runs in one read transaction, copies what it needs into the returned JSON
 * (a new reference) and ends the transaction before returning. NULL with e filled: 404 for
 * an unknown app/queue/transaction, 500 for a store error.
 */

/* GET /api/v1/apps: one row per app from the overview cache plus live status. */
json_t	*query_apps(struct query *, int64_t now_ms, struct query_err *e);
/*
 * Refreshes the overview cache (queue verdicts, stuck counts) for some apps, at most
 * budget_us of work; call it from a timer. Returns the number of apps refreshed.
 */
size_t	 query_refresh(struct query *, int64_t now_ms, uint64_t budget_us);

json_t	*query_queues(struct query *, const char *app, int64_t from, int64_t to,
	    struct query_err *e);
json_t	*query_queue(struct query *, const char *app, const char *queue, int64_t from,
	    int64_t to, uint64_t limit_depth, struct query_err *e);
json_t	*query_queues_growing(struct query *, int64_t now_ms, struct query_err *e);

struct query_txn_filter {
	const char	*app;		/* NULL: every app */
	const char	*step;
	const char	*state;		/* NULL, "running" or "stuck" */
	const char	*attr_key;	/* attr=k:v */
	const char	*attr_val;
	uint32_t	 limit;
};
json_t	*query_txns(struct query *, const struct query_txn_filter *, int64_t now_ms,
	    struct query_err *e);
json_t	*query_txn(struct query *, const char *app, const char *txn_id, struct query_err *e);
json_t	*query_steps(struct query *, const char *app, int64_t from, int64_t to,
	    struct query_err *e);
/* app and job may be NULL (all). shift_ms > 0 adds "compare": the window shift_ms earlier. */
json_t	*query_perf(struct query *, const char *app, const char *job, int64_t from, int64_t to,
	    int64_t shift_ms, struct query_err *e);
json_t	*query_perf_top(struct query *, uint32_t n, int64_t from, int64_t to, int64_t shift_ms,
	    struct query_err *e);

struct query_log_filter {
	const char	*app;
	int		 level;		/* -1: any; else at least this level */
	int64_t		 from, to;
	const char	*text;		/* substring, or NULL */
	uint32_t	 limit;
	const char	*cursor;	/* from a previous page, or NULL */
};
json_t	*query_logs(struct query *, const struct query_log_filter *, struct query_err *e);

/*
 * Calls fn for every record of the named database whose key starts with prefix (NULL: all),
 * in key order, inside one read transaction (key and value borrowed for the call only;
 * fn returns non-zero to stop). A database that does not exist yet has no records.
 * The number of records passed, or -1 on a store error. For monitor/alarm_engine.c.
 */
long	query_db_scan(struct query *, const char *db, const char *prefix,
	    int (*fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen),
	    void *arg);

/* Level name ("debug" .. "fatal") to number, -1 if unknown. */
int	query_level(const char *);

#endif
