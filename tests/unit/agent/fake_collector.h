/* Tandem — MIT licence. A tiny in-process collector for agent tests and benchmarks. */
#ifndef TANDEM_FAKE_COLLECTOR_H
#define TANDEM_FAKE_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fake_collector;
struct msg_event;

struct fake_conf {
	uint64_t	initial_stored;	/* stored_seq for an agent id seen for the first time */
	uint64_t	close_after;	/* once this many events are stored, close the connection
					   before acking the batch that crossed it (0: never) */
	int		verify;		/* unpack and check every event (else count fields only) */
	/* With verify: called for each newly stored event (seq > stored before). */
	void		(*on_event)(void *arg, const char *agent_id, uint64_t seq,
			    const struct msg_event *);
	void		*arg;
};

struct fake_stats {
	uint64_t	hellos;
	uint64_t	batches;
	uint64_t	stored;		/* events stored (seq was new) */
	uint64_t	dups;		/* events at or below the stored seq */
	uint64_t	gaps;		/* batches starting beyond stored + 1 */
	uint64_t	acks;
	uint64_t	forced_closes;
	uint64_t	bad;		/* undecodable frames (answered with Error) */
	uint64_t	conns;
};

/* Listens on 127.0.0.1:port (0: any) on base. NULL on failure. *bound gets the port. */
struct fake_collector *fake_new(struct event_base *, const struct fake_conf *, uint16_t port,
		    uint16_t *bound /* OUT */);
void		 fake_free(struct fake_collector *);
void		 fake_stats(const struct fake_collector *, struct fake_stats * /* OUT */);
/* Highest stored seq for agent_id (0 if unknown). */
uint64_t	 fake_stored(const struct fake_collector *, const char *agent_id);

#endif
