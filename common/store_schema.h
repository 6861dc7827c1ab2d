/* Tandem — MIT licence. LMDB schema shared by the writer (collector) and readers (tools, monitor). */
#ifndef TANDEM_STORE_SCHEMA_H
#define TANDEM_STORE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/*
 * One LMDB environment per node, with these named databases. All integers in keys are
 * big-endian and fixed-width, so cursor order is numeric order.
 *
 *   meta     "schema" -> "1"                      (string keys, small values)
 *   names    ns(1) | name bytes -> id(4)          interning: name -> small id, per namespace
 *   ids      ns(1) | id(4) -> name bytes          the reverse
 *   agents   agent(4) -> struct store_agent_rec   highest stored seq and counters per agent
 *   events   app(4) | kind(1) | t0(8) | agent(4) | first_seq(8) -> block
 *   evlog0..evlog7  pos(8) | n(4) -> key of the block in events (25 bytes) | block
 *                   (the commit log, partitioned by app id modulo STORE_EVLOG_PARTS)
 *
 * An events block holds events of one kind from one agent that arrived in one group commit,
 * in sequence order, whose times all lie in [t0, t0 + STORE_BLOCK_SPAN_MS]. So one
 * application's events of one kind are read in time order by scanning the app|kind range from
 * t0 - STORE_BLOCK_SPAN_MS, without touching any other application or kind.
 *
 * Commits do not write into events directly: an app|kind range per application and kind
 * means a page rewritten per range per commit. A commit appends its blocks to evlog instead
 * (MDB_APPEND, key = the commit's log position and a counter: full pages, a few written per
 * commit), and a fold moves them into events, one partition at a time so each fold touches
 * an eighth of the ranges (all of them at start-up). Readers of events alone see data as of
 * the last fold of its partition (one fold interval at most); common/store_read includes
 * the commit log.
 *
 * Block value:  version(1)=1 | varint count | varint (max_time - t0)
 *               then count times: varint (seq - first_seq) | varint len | Event protobuf bytes
 * The Event bytes are exactly what the agent sent (proto/agent.proto, message Event).
 */

#define STORE_SCHEMA_VERSION	"1"
#define STORE_DB_META		"meta"
#define STORE_DB_NAMES		"names"
#define STORE_DB_IDS		"ids"
#define STORE_DB_AGENTS		"agents"
#define STORE_DB_EVENTS		"events"
#define STORE_DB_EVLOG		"evlog"	/* prefix: evlog0 .. evlog7 */
#define STORE_EVLOG_PARTS	8
#define STORE_EVLOG_KEY_LEN	12

#define STORE_BLOCK_VERSION	1
#define STORE_BLOCK_SPAN_MS	60000	/* a block never spans more time than this */
#define STORE_BLOCK_MAX		1800	/* bytes; keeps blocks inside a 4 KiB leaf page */
/*
 * The fold merges blocks up to this size. Smaller than STORE_BLOCK_MAX on purpose: with four
 * or more blocks per page, pages split by LMDB stay well filled (measured, 3.2M events:
 * 1800 -> 80 bytes per event, 1200 -> 61, 960 -> 52, 720 -> 52, 480 -> 55).
 */
#define STORE_FOLD_BLOCK	960
#define STORE_KINDS_MAX		8	/* kind bytes in use are below this */

enum store_ns {
	STORE_NS_APP = 1,
	STORE_NS_AGENT = 2,
	STORE_NS_QUEUE = 3,
	STORE_NS_JOB = 4,
	STORE_NS_STEP = 5,
};

#define STORE_EVKEY_LEN		25
#define STORE_IDKEY_LEN		5
#define STORE_NAMEKEY_MAX	(1 + 256)

struct store_evkey {
	uint32_t	app;
	uint8_t		kind;
	uint64_t	t0;
	uint32_t	agent;
	uint64_t	first_seq;
};

/* Per agent: everything needed to answer Hello and to count. Stored big-endian, 48 bytes. */
struct store_agent_rec {
	uint64_t	stored_seq;	/* highest sequence durably stored */
	uint32_t	app;		/* app id of the last Hello */
	uint32_t	pad;
	uint64_t	events;		/* events stored */
	uint64_t	duplicates;	/* events dropped as duplicates */
	uint64_t	first_ms;	/* first and last time this agent's events were stored */
	uint64_t	last_ms;
};
#define STORE_AGENT_REC_LEN	48

/* The name of commit-log partition part (0 .. STORE_EVLOG_PARTS - 1): "evlog0" ... */
void	store_evlog_name(char out[8], int part);

void	store_put_be32(uint8_t *, uint32_t);
void	store_put_be64(uint8_t *, uint64_t);
uint32_t store_get_be32(const uint8_t *);
uint64_t store_get_be64(const uint8_t *);

void	store_evkey_encode(uint8_t out[STORE_EVKEY_LEN], const struct store_evkey *);
/* 0, or -1 when len is not STORE_EVKEY_LEN. */
int	store_evkey_decode(const uint8_t *, size_t len, struct store_evkey * /* OUT */);

void	store_agent_encode(uint8_t out[STORE_AGENT_REC_LEN], const struct store_agent_rec *);
int	store_agent_decode(const uint8_t *, size_t len, struct store_agent_rec * /* OUT */);

/* Block iteration over a stored value; pointers borrow from the value. */
struct store_block_it {
	const uint8_t	*p, *end;
	uint64_t	 count;		/* events in the block */
	uint64_t	 span_ms;	/* max_time - t0 */
	uint64_t	 seen;
};
/* 0, or -1 when the header is malformed. */
int	store_block_open(struct store_block_it *, const uint8_t *val, size_t len);
/* 1 with the next event, 0 at the end, -1 when malformed. */
int	store_block_next(struct store_block_it *, uint64_t *seq_delta /* OUT */,
	    const uint8_t **ev /* OUT */, size_t *evlen /* OUT */);

/*
 * Derived state (written by collector/derive.c inside the collector's own write
 * transactions, read by monitord; codecs in common/derived.c). Queries over long ranges read
 * these, never raw events. Both nodes of a pair hold identical numbers because these records
 * are ordinary LMDB writes in the replicated transactions.
 *
 *   d_meta       'W' | agent(4) -> seq(8) | time_ms(8)
 *                    derived watermark: every event of the agent with seq <= seq is in the
 *                    derived records; time_ms is that event's time (re-scan starts near it)
 *                'A' | app(4) -> app status: first/last event time, last heartbeat time and
 *                    uptime, events, running transactions, finished transactions
 *   d_jobs_1m    app(4) | job(4) | minute_ms(8) -> count, errors, latency histogram (us)
 *   d_queues_1m  app(4) | queue(4) | minute_ms(8) -> samples, last/min/max depth, time of
 *                    the last sample, and when the agent sends totals: enqueued/completed
 *                    totals at the first and at the last sample of the minute
 *   d_steps_1m   app(4) | step(4) | minute_ms(8) -> entries, first entries, re-entries
 *                    (repeated steps), sum of path positions, histogram of time spent in the
 *                    step (us), counted in the minute the transaction left the step
 *   d_apps_1m    app(4) | minute_ms(8) -> events by kind, log lines by level, transactions
 *                    begun/ended/failed, jobs and failed jobs
 *   d_txn_live   app(4) | txn_id bytes -> running transaction: current step, state, begin
 *                    time, time it entered the current step, last event time, events, step
 *                    path (first 32), last attributes (merged by key, at most 16)
 *   d_txn_done   app(4) | txn_id bytes -> the same record once the transaction ended or
 *                    failed (moved out of d_txn_live in the same write); the index the
 *                    timeline query uses to bound its raw-event scan to [begin, last]
 *
 * minute_ms is the event time rounded down to the minute; ids are interned names (queue:
 * STORE_NS_QUEUE, job: STORE_NS_JOB, step: STORE_NS_STEP). Every value starts with
 * version(1)=1 | n(1) | n x (agent(4) | seq(8)): the highest sequence number of each
 * contributing agent already counted in the record, so a replay after a crash skips what a
 * record holds. The rest is varints (see common/derived.c); histograms use common/hist.h's
 * sparse encoding and come last.
 */
#define DERIVED_DB_META		"d_meta"
#define DERIVED_DB_JOBS		"d_jobs_1m"
#define DERIVED_DB_QUEUES	"d_queues_1m"
#define DERIVED_DB_STEPS	"d_steps_1m"
#define DERIVED_DB_APPS		"d_apps_1m"
#define DERIVED_DB_TXN_LIVE	"d_txn_live"
#define DERIVED_DB_TXN_DONE	"d_txn_done"

#endif
