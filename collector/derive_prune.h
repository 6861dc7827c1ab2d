/* Tandem — MIT licence. Retention for derived records: old rollups and finished transactions. */
#ifndef TANDEM_COLLECTOR_DERIVE_PRUNE_H
#define TANDEM_COLLECTOR_DERIVE_PRUNE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * Deletes, in the store's current write transaction, per-minute rollups (jobs, queues, steps,
 * applications) whose minute ended before cutoff_ms and finished transactions (d_txn_done)
 * whose last event is older than cutoff_ms: at most max_deletes per call, resuming where the
 * last call stopped and going round the databases in turn. Running transactions stay: the
 * board shows them, however old. The number deleted, or -1 (see store_error).
 */
long	derive_prune(struct store *, uint64_t cutoff_ms, size_t max_deletes);

#endif
