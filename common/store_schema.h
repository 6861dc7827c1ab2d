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
 *
 * An events block holds events of one kind from one agent that arrived in one group commit,
 * in sequence order, whose times all lie in [t0, t0 + STORE_BLOCK_SPAN_MS]. So one
 * application's events of one kind are read in time order by scanning the app|kind range from
 * t0 - STORE_BLOCK_SPAN_MS, without touching any other application or kind.
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

#define STORE_BLOCK_VERSION	1
#define STORE_BLOCK_SPAN_MS	60000	/* a block never spans more time than this */
#define STORE_BLOCK_MAX		1800	/* bytes; keeps blocks inside a 4 KiB leaf page */
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

#endif
