/* Tandem — MIT licence. Ingest: agents, dedup, event blocks into the tick's transaction, group commit, acks. */
#ifndef TANDEM_INGEST_H
#define TANDEM_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct collector;
struct agent_state;
struct conn;
struct msg;

struct ingest	*ingest_new(struct collector *);
/* Commits nothing; the caller commits first if it wants to keep pending events. */
void		 ingest_free(struct ingest *);

/*
 * Hello: finds or loads the agent's state and binds it to conn (a previous connection of the
 * same agent is failed with ERR_REPLACED). Returns the state, or NULL with an ErrorCode in
 * *code and a reason in err.
 */
struct agent_state *ingest_hello(struct ingest *, struct conn *, const char *agent_id,
		    const char *app, int *code /* OUT */, char *err, size_t errlen);
/* The connection is going away: the agent stays known, unbound. */
void		 ingest_unbind(struct ingest *, struct agent_state *, struct conn *);

/*
 * One decoded batch from a bound agent. *last_seq is the highest seq seen on this connection
 * (a batch starting at or below it is ERR_SEQ). Duplicates (seq <= accepted) are counted and
 * dropped; the rest go into the tick's transaction and are acked after it commits.
 * Returns 0 or an ErrorCode with a reason in err.
 */
int		 ingest_batch(struct ingest *, struct agent_state *, uint64_t *last_seq,
		    const struct msg *, char *err, size_t errlen);

/* Commits the tick's transaction now and sends the acks. 0 or -1. */
int		 ingest_commit(struct ingest *);

/*
 * Replicated acks. With the gate on, the acks of each commit are held until
 * ingest_release() is told the standby applied its position. Turning the gate off releases
 * everything held (the active falls back to local acks).
 */
void		 ingest_set_gate(struct ingest *, int on);
int		 ingest_gated(const struct ingest *);
void		 ingest_release(struct ingest *, uint64_t upto_pos);
size_t		 ingest_held(const struct ingest *);
/* Not the active node any more: drop the transaction, forget agents, close their connections. */
void		 ingest_reset(struct ingest *);

#endif
