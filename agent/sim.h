/* Tandem — MIT licence. Deterministic, seeded MES event generator, usable without any network. */
#ifndef TANDEM_SIM_H
#define TANDEM_SIM_H

#include <stdint.h>

#include "proto/agent.pb-c.h"

struct sim;

#define SIM_MAX_ATTRS	2

/* Storage for one generated event; ev points into it (and into the sim for names). */
struct sim_event {
	Tandem__Event		ev;
	Tandem__QueueSample	q;
	Tandem__TxnStep		t;
	Tandem__Attr		attr[SIM_MAX_ATTRS];
	Tandem__Attr		*attrp[SIM_MAX_ATTRS];
	Tandem__JobTiming	j;
	Tandem__LogLine		l;
	Tandem__AppHeartbeat	hb;
	char			 attr_val[SIM_MAX_ATTRS][48];
	char			 text[192];
};

/*
 * A generator for napps (>= 1) applications. Each has three queues (draining, steady,
 * growing or saw-tooth growing), a process flow whose transactions begin, step and end (2%
 * error, 0.5% get stuck and are never heard of again), four job types with log-normal
 * durations, log lines (some apps much noisier) and heartbeats. Apps differ in volume.
 * The stream (apps and event contents) depends only on napps and seed; time_ms values given
 * to sim_next() are stamped as they are (and heartbeat uptimes derive from them), so the same
 * seed and the same clock give byte-identical events. NULL when out of memory.
 */
struct sim	*sim_new(unsigned napps, uint64_t seed);
void		 sim_free(struct sim *);

/*
 * Generates the next event, stamped time_ms. Writes the application index (0..napps-1) to
 * *app and fills out; out->ev and the strings it points to stay valid until the next call
 * with the same out or sim_free. Returns 0.
 */
int		 sim_next(struct sim *, int64_t time_ms, unsigned *app /* OUT */,
		    struct sim_event *out /* OUT */);

/* Names of the kinds of event generated so far, counted: for summaries. */
uint64_t	 sim_count(const struct sim *, Tandem__Event__KindCase);

#endif
