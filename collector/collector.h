/* Tandem — MIT licence. Structures shared by collectord's modules. */
#ifndef TANDEM_COLLECTOR_H
#define TANDEM_COLLECTOR_H

#include <stdint.h>

#include "common/arena.h"
#include "common/store_schema.h"

struct bufferevent;
struct event;
struct event_base;
struct collector_conf;
struct store;
struct ingest;
struct conn;
struct repl_master;
struct repl_standby;

/* What the collector knows about one agent_id, connected or not. */
struct agent_state {
	char			*id;
	uint32_t		 num;		/* interned agent id */
	uint32_t		 app;		/* interned app id */
	uint64_t		 accepted_seq;	/* highest seq stored or in the open transaction */
	struct store_agent_rec	 rec;		/* durable state (rec.stored_seq) and counters */
	uint64_t		 pending;	/* events in the open transaction */
	uint64_t		 pending_dups;
	int64_t			 pending_first_ms, pending_last_ms;
	uint32_t		 kind_head[8];	/* this tick's events per kind (tick buffer) */
	uint32_t		 kind_tail[8];
	struct conn		*conn;		/* current connection, or NULL */
	struct agent_state	*touched_next;	/* in the open transaction's list */
	int			 touched;
	struct agent_state	*hnext;		/* hash chain */
};

struct msg_event;

/*
 * Optional observers of ingest, for derived state (rollups, live transactions) and
 * replication. All run on the collector's loop; any may be NULL.
 *   event:     one event accepted into the open transaction (not a duplicate)
 *   commit:    the open transaction is about to commit: write derived state into it;
 *              -1 fails the transaction (as a store error would)
 *   committed: the transaction is durable
 *   aborted:   the transaction was dropped: forget what event() saw since the last commit
 */
struct ingest_hooks {
	void	(*event)(void *arg, const struct agent_state *, uint64_t seq,
		    const struct msg_event *);
	int	(*commit)(void *arg, struct store *);
	void	(*committed)(void *arg);
	void	(*aborted)(void *arg);
	/* The store was replaced (a standby took a snapshot): reopen database handles. */
	void	(*reopened)(void *arg, struct store *);
	void	*arg;
};

enum collector_role {
	ROLE_SINGLE,		/* no HA: always accepting */
	ROLE_NONE,		/* HA, told nothing yet: accepting nothing */
	ROLE_ACTIVE,
	ROLE_STANDBY,
};

/* The collector process: everything one event loop owns. */
struct collector {
	struct event_base	*base;
	struct collector_conf	*conf;
	struct store		*store;
	struct ingest		*ingest;
	struct arena		 arena;		/* decode arena, reset after every frame */
	struct ingest_hooks	 hooks;
	uint64_t		 nconns;
	int			 draining;	/* SIGTERM: no new frames, commit, ack, exit */
	int			 paused;	/* switchover drain: no new frames */
	enum collector_role	 role;
	uint64_t		 term;
	struct repl_master	*master;	/* serves a standby (any role but standby) */
	struct repl_standby	*standby;	/* follows the active (standby role) */
};

/* 1 when this node takes agents' events (single or active, not paused or stopping). */
static inline int
collector_accepting(const struct collector *c)
{
	return (c->role == ROLE_SINGLE || c->role == ROLE_ACTIVE) && !c->draining && !c->paused;
}

const char	*collector_role_name(enum collector_role);

#endif
