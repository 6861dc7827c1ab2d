/* Tandem — MIT licence. Role changes of the collector, as ordered by the HA daemon. */
#ifndef TANDEM_ROLE_H
#define TANDEM_ROLE_H

#include <stddef.h>
#include <stdint.h>

struct collector;

/*
 * Become active for term: take agents, write records with this term's epoch, serve the
 * standby; acks wait for it (ack_mode replicated) for up to repl_timeout, unless alone (the
 * peer is known dead: no standby to wait for, acks are local until one catches up). Idempotent.
 * -1 with a reason when term is older than the current one.
 */
int	role_set_active(struct collector *, uint64_t term, int alone, char *err, size_t errlen);
/*
 * Become the standby of the active whose replication listener is host:port: commit, close
 * every agent connection, follow the stream (snapshot first when needed). Idempotent.
 */
int	role_set_standby(struct collector *, uint64_t term, const char *active, char *err,
	    size_t errlen);
/* Switchover drain: stop reading agents and commit (on), or read again (off). */
void	role_pause(struct collector *, int on);

#endif
