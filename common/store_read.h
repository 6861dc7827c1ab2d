/* Tandem — MIT licence. Read-only access to a node's store, for tools and the monitor. */
#ifndef TANDEM_STORE_READ_H
#define TANDEM_STORE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common/store_schema.h"

struct store_reader;

/* Opens the environment in directory path read-only. NULL with a reason in err. */
struct store_reader *store_reader_open(const char *path, char *err, size_t errlen);
void	store_reader_close(struct store_reader *);

/*
 * Each call below runs in its own short read transaction; nothing borrowed from LMDB
 * outlives the callback. Callbacks return 0 to go on, non-zero to stop the scan.
 * Functions return 0, or -1 with a reason from store_reader_error().
 */

/* Name of an interned id into buf (NUL-terminated, truncated to len). 1 found, 0 not, -1. */
int	store_reader_name(struct store_reader *, enum store_ns, uint32_t id, char *buf,
	    size_t len);
/* Id of an interned name. 1 found, 0 not, -1. */
int	store_reader_id(struct store_reader *, enum store_ns, const char *name,
	    uint32_t * /* OUT */);

typedef int (*store_agent_cb)(uint32_t agent, const struct store_agent_rec *, void *arg);
int	store_reader_agents(struct store_reader *, store_agent_cb, void *arg);

/* One stored event: its key fields, sequence number and Event protobuf bytes (borrowed). */
struct store_event {
	uint32_t	 app;
	uint8_t		 kind;
	uint32_t	 agent;
	uint64_t	 seq;
	uint64_t	 block_t0;
	const uint8_t	*data;
	size_t		 len;
};
typedef int (*store_event_cb)(const struct store_event *, void *arg);

/*
 * Events of app (0: every app) and kind (0: every kind) in blocks that may hold times in
 * [from_ms, to_ms]: first the folded ranges in key order (per app and kind, block time
 * order), then the blocks still in the commit log, in commit order. Events inside a block
 * are in sequence order; callers that need exact bounds filter on the event's own time.
 */
int	store_reader_events(struct store_reader *, uint32_t app, uint8_t kind, uint64_t from_ms,
	    uint64_t to_ms, store_event_cb, void *arg);

const char *store_reader_error(const struct store_reader *);

#endif
