/* Tandem — MIT licence. collectord's counters: always on, one per reason. */
#ifndef TANDEM_STATS_H
#define TANDEM_STATS_H

#include <stdint.h>
#include <stdio.h>

#define STATS_ERR_CODES	16

struct collector_stats {
	uint64_t	conns_accepted;
	uint64_t	conns_open;
	uint64_t	conns_refused;		/* at the cap or on accept errors */
	uint64_t	hellos;
	uint64_t	frames_in;
	uint64_t	bytes_in;
	uint64_t	batches;
	uint64_t	events_in;		/* events received, duplicates included */
	uint64_t	events_stored;
	uint64_t	duplicates;
	uint64_t	blocks;
	uint64_t	acks;
	uint64_t	commits;
	uint64_t	commit_failures;
	uint64_t	commit_us_total;
	uint64_t	commit_us_max;
	uint64_t	store_full_refusals;
	uint64_t	pruned_blocks;
	uint64_t	pruned_derived;		/* rollups and finished transactions past the retention */
	uint64_t	folded_blocks;		/* moved from the commit log to their ranges */
	uint64_t	fold_us_total;		/* time in folds (with their commits) */
	uint64_t	fold_us_max;
	uint64_t	read_pauses;		/* reading stopped because replies piled up */
	uint64_t	repl_applied;		/* records applied as a standby */
	uint64_t	repl_unprotected;	/* times the active fell back to local acks */
	uint64_t	repl_snapshots;		/* snapshots sent to a standby */
	uint64_t	stores_set_aside;	/* stores replaced by a snapshot, kept aside */
	/* Gauges, set before each write of the stats file. */
	uint64_t	log_pos;		/* this store's replication log position */
	uint64_t	repl_peer_connected;	/* 1 while a standby (active) or the active (standby) is connected */
	uint64_t	repl_protected;		/* 1 while acks wait for the standby */
	uint64_t	repl_lag_records;	/* active: log records the standby has not applied */
	uint64_t	errors[STATS_ERR_CODES];	/* Error frames sent, by ErrorCode */
};

extern struct collector_stats stats;

/* Writes every counter as "name value" lines (errors as errors_<reason>). */
void	stats_print(FILE *);
/* Writes the counters to path atomically (temp file + rename). 0 or -1. */
int	stats_write_file(const char *path);

#endif
