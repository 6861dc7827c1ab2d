/* Tandem — MIT licence. Derived state: per-minute rollups, queue series, live transactions, app status. */
#ifndef TANDEM_DERIVE_H
#define TANDEM_DERIVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct collector;
struct derive;

/*
 * Creates the derived-state writer for collector c (whose store and ingest are open), opens
 * its databases (common/store_schema.h, "Derived state"), recovers what a crash left out
 * (re-scan of raw events after each agent's derived watermark, see derive.c) and installs
 * itself in c->hooks. Must run before agents are accepted. 0, or -1 with a reason in err
 * (startup: the caller treats it as fatal).
 */
int	derive_attach(struct collector *c, const char *store_path, char *err, size_t errlen);

/* Counters, always on; also written to "<stats_file>.derive" every second. */
struct derive_stats {
	uint64_t	events;		/* events applied */
	uint64_t	keys;		/* records held in memory */
	uint64_t	dirty;		/* records waiting to be written */
	uint64_t	oldest_dirty_ms;	/* age of the oldest waiting record */
	uint64_t	flushed;	/* record writes */
	uint64_t	flush_calls;	/* commits that wrote records */
	uint64_t	flush_us_total;
	uint64_t	flush_us_max;
	uint64_t	rounds;		/* watermark rounds completed */
	uint64_t	evicted;
	uint64_t	aborts;		/* transactions dropped: memory reset and re-derived */
	uint64_t	recoveries;
	uint64_t	recovered_events;	/* raw events re-applied by recoveries */
	uint64_t	recovery_skipped;	/* raw events left out (past the re-scan bound) */
	uint64_t	recovery_ms;
	uint64_t	errors;		/* store errors while loading or writing */
};
extern struct derive_stats derive_stats;

/* Writes the counters as "derive_<name> value" lines. */
void	derive_stats_print(FILE *);

#endif
