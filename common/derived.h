/* Tandem — MIT licence. Derived-state records (rollups, queue series, live transactions): keys and codecs. */
#ifndef TANDEM_DERIVED_H
#define TANDEM_DERIVED_H

#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"
#include "common/store_schema.h"

/*
 * The layout is documented in common/store_schema.h ("Derived state"). These helpers are the
 * only code that encodes or decodes it: the writer (collector/derive.c) and the readers
 * (monitor/query.c) share them.
 */

#define DERIVED_VERSION		1
#define DERIVED_MINUTE_MS	60000
#define DERIVED_CONTRIB_MAX	4	/* agents remembered per record for replay filtering */
#define DERIVED_TXN_STEPS_MAX	32	/* step path kept per transaction */
#define DERIVED_ATTRS_MAX	16
#define DERIVED_ATTR_KEY_MAX	64
#define DERIVED_ATTR_VALUE_MAX	256
#define DERIVED_ATTRS_BYTES_MAX	(DERIVED_ATTRS_MAX * (2 + DERIVED_ATTR_KEY_MAX + 2 + \
	DERIVED_ATTR_VALUE_MAX))
#define DERIVED_LEVELS		5	/* LogLevel DEBUG .. FATAL */
#define DERIVED_KINDS		6	/* enum ev_kind, 0 unused */
#define DERIVED_TXN_ID_MAX	128

#define DERIVED_MINKEY_LEN	16	/* app(4) | id(4) | minute_ms(8) */
#define DERIVED_APPMINKEY_LEN	12	/* app(4) | minute_ms(8) */
#define DERIVED_METAKEY_LEN	5	/* tag(1) | id(4) */
#define DERIVED_TXNKEY_MAX	(4 + DERIVED_TXN_ID_MAX)
#define DERIVED_WM_LEN		16	/* seq(8) | time_ms(8) */

#define DERIVED_META_WM		'W'	/* 'W' | agent: struct derived_wm */
#define DERIVED_META_APP	'A'	/* 'A' | app: struct derived_app */

/* Value size bounds, for buffers. */
#define DERIVED_HDR_MAX		(2 + DERIVED_CONTRIB_MAX * 12)
#define DERIVED_JOB_MAX		(DERIVED_HDR_MAX + 20 + HIST_ENCODE_MAX)
#define DERIVED_STEP_MAX	(DERIVED_HDR_MAX + 40 + HIST_ENCODE_MAX)
#define DERIVED_QUEUE_MAX	(DERIVED_HDR_MAX + 13 * 10)
#define DERIVED_APPMIN_MAX	(DERIVED_HDR_MAX + 20 * 10)
#define DERIVED_APP_MAX		(DERIVED_HDR_MAX + 10 * 10)
#define DERIVED_TXN_MAX		(DERIVED_HDR_MAX + 16 * 10 + DERIVED_TXN_STEPS_MAX * 5 + 2 + \
	DERIVED_ATTRS_BYTES_MAX)

/*
 * Which agents' events a record holds: for each (at most DERIVED_CONTRIB_MAX), the highest
 * sequence number applied. Events are applied in sequence order per agent, so on a replay an
 * event (agent, seq) is already in the record iff seq <= the stored seq for that agent.
 */
struct derived_contrib {
	uint32_t	agent;
	uint64_t	seq;
};
struct derived_hdr {
	uint8_t			n;
	struct derived_contrib	c[DERIVED_CONTRIB_MAX];
};

/* 1 if (agent, seq) is already counted in the record. */
int	derived_hdr_has(const struct derived_hdr *, uint32_t agent, uint64_t seq);
/* Records (agent, seq) as applied; a full list drops its entry with the lowest seq. */
void	derived_hdr_note(struct derived_hdr *, uint32_t agent, uint64_t seq);

/* Job rollup of one (app, job, minute). hist: durations in microseconds. */
struct derived_job {
	struct derived_hdr	h;
	uint64_t		count;
	uint64_t		errors;
	struct hist		*hist;		/* borrowed from the caller */
};

/* Queue samples of one (app, queue, minute). */
struct derived_queue {
	struct derived_hdr	h;
	uint64_t		samples;
	uint64_t		last, min, max;	/* depth */
	int64_t			last_ms;	/* time of the sample giving `last` */
	uint8_t			has_totals;	/* 1: the totals below are set */
	int64_t			first_tot_ms, last_tot_ms;
	uint64_t		first_enq, first_compl;	/* totals at the earliest sample */
	uint64_t		last_enq, last_compl;	/* totals at the latest sample */
};

/* Step durations of one (app, step, minute). */
struct derived_step {
	struct derived_hdr	h;
	uint64_t		entries;	/* times a transaction entered the step */
	uint64_t		first_entries;	/* ... for the first time in that transaction */
	uint64_t		repeats;	/* ... again after another step */
	uint64_t		pos_sum;	/* sum of 0-based positions in the step path */
	struct hist		*hist;		/* time spent in the step (us), at leaving it */
};

/* Per-app counters of one minute. */
struct derived_appmin {
	struct derived_hdr	h;
	uint64_t		kinds[DERIVED_KINDS];	/* events by enum ev_kind */
	uint64_t		levels[DERIVED_LEVELS];	/* log lines by level */
	uint64_t		txn_begin, txn_end, txn_error;
	uint64_t		jobs, job_errors;
};

/* Per-app status. */
struct derived_app {
	struct derived_hdr	h;
	int64_t			first_ms, last_ms;	/* event times seen */
	int64_t			last_hb_ms;		/* 0: never */
	uint64_t		uptime_s;		/* of the last heartbeat */
	uint64_t		events;
	int64_t			live_txns;		/* running transactions */
	uint64_t		done_txns;
};

/* Per-agent derived watermark: every event with seq <= seq is in the derived state. */
struct derived_wm {
	uint64_t	seq;
	int64_t		time_ms;	/* time of the event at seq (re-scan starts near it) */
};

enum derived_txn_state {
	DERIVED_TXN_RUNNING = 0,
	DERIVED_TXN_DONE = 1,
	DERIVED_TXN_FAILED = 2,
};
const char *derived_txn_state_name(int);

/* One transaction (live or done). */
struct derived_txn {
	struct derived_hdr	h;
	uint8_t			state;		/* enum derived_txn_state */
	uint8_t			last_event;	/* TxnState of the last event */
	uint32_t		step;		/* current (or last) step id */
	int64_t			begin_ms;	/* first event seen */
	int64_t			step_ms;	/* entered the current step */
	int64_t			last_ms;	/* last event */
	uint32_t		nevents;
	uint32_t		nsteps;		/* entries in steps[] (path, capped) */
	uint32_t		steps_total;	/* steps entered, uncapped */
	uint32_t		steps[DERIVED_TXN_STEPS_MAX];
	uint32_t		attrs_len;	/* encoded attributes, see derived_attrs_* */
	const uint8_t		*attrs;		/* borrowed */
};

/* Keys. */
void	derived_minkey(uint8_t out[DERIVED_MINKEY_LEN], uint32_t app, uint32_t id,
	    int64_t minute_ms);
void	derived_minkey_decode(const uint8_t *, uint32_t *app, uint32_t *id,
	    int64_t *minute_ms);
void	derived_appminkey(uint8_t out[DERIVED_APPMINKEY_LEN], uint32_t app, int64_t minute_ms);
void	derived_metakey(uint8_t out[DERIVED_METAKEY_LEN], uint8_t tag, uint32_t id);
/* app | txn_id bytes; returns the length, 0 if txn_id is empty or too long. */
size_t	derived_txnkey(uint8_t out[DERIVED_TXNKEY_MAX], uint32_t app, const char *txn_id,
	    size_t idlen);
int64_t	derived_minute(int64_t t_ms);

/*
 * Encoders write into out (cap bytes, the *_MAX constants always suffice) and return the
 * length, or 0 if cap is too small. Decoders parse exactly len bytes and return 0, or -1 on
 * a malformed or foreign-version value (the output is then unspecified). Job and step
 * decoders fill the caller's hist (hist == NULL skips it).
 */
size_t	derived_job_encode(const struct derived_job *, uint8_t *out, size_t cap);
int	derived_job_decode(const uint8_t *, size_t, struct derived_job * /* OUT */);
size_t	derived_queue_encode(const struct derived_queue *, uint8_t *out, size_t cap);
int	derived_queue_decode(const uint8_t *, size_t, struct derived_queue * /* OUT */);
size_t	derived_step_encode(const struct derived_step *, uint8_t *out, size_t cap);
int	derived_step_decode(const uint8_t *, size_t, struct derived_step * /* OUT */);
size_t	derived_appmin_encode(const struct derived_appmin *, uint8_t *out, size_t cap);
int	derived_appmin_decode(const uint8_t *, size_t, struct derived_appmin * /* OUT */);
size_t	derived_app_encode(const struct derived_app *, uint8_t *out, size_t cap);
int	derived_app_decode(const uint8_t *, size_t, struct derived_app * /* OUT */);
size_t	derived_txn_encode(const struct derived_txn *, uint8_t *out, size_t cap);
/* t->attrs borrows from the input. */
int	derived_txn_decode(const uint8_t *, size_t, struct derived_txn * /* OUT */);
void	derived_wm_encode(const struct derived_wm *, uint8_t out[DERIVED_WM_LEN]);
int	derived_wm_decode(const uint8_t *, size_t, struct derived_wm * /* OUT */);

/*
 * Attributes: repeated (varint klen | key | varint vlen | value), keys unique, at most
 * DERIVED_ATTRS_MAX. derived_attrs_next iterates: 1 with the next pair (borrowed), 0 at the
 * end, -1 if malformed. derived_attrs_merge writes into out (DERIVED_ATTRS_BYTES_MAX) the
 * pairs of old with each new key set to its new value (new keys appended while room) and
 * returns the length.
 */
struct derived_attr {
	const char	*key;
	size_t		 klen;
	const char	*val;
	size_t		 vlen;
};
int	derived_attrs_next(const uint8_t **p, const uint8_t *end,
	    struct derived_attr * /* OUT */);
size_t	derived_attrs_merge(const uint8_t *old, size_t oldlen, const struct derived_attr *add,
	    size_t nadd, uint8_t *out);

#endif
