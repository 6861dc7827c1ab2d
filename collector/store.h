/* Tandem — MIT licence. The LMDB writer: one environment, one write transaction per event-loop tick. */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/store_schema.h"

struct store;

/*
 * Opens (creating if needed) the environment in directory path with the given map size,
 * runs mdb_reader_check and checks the schema version. NULL with a reason in err.
 */
struct store	*store_open(const char *path, uint64_t map_size, char *err, size_t errlen);
/* Aborts any open transaction and closes. store_close(NULL) is a no-op. */
void		 store_close(struct store *);

/*
 * Interns name in namespace ns: its id, creating one inside the tick's write transaction when
 * new. 0, or -1 (see store_error). The id is durable only once the tick commits.
 */
int	store_intern(struct store *, enum store_ns, const char *name, uint32_t *id /* OUT */);
/* The stored record of an agent: 1 found, 0 not stored, -1 error. */
int	store_agent_get(struct store *, uint32_t agent, struct store_agent_rec * /* OUT */);
/* Writes an agent record in the tick's transaction. 0 or -1. */
int	store_agent_put(struct store *, uint32_t agent, const struct store_agent_rec *);
/*
 * Reserves len bytes for an events block with key k, appended to the commit log in the tick's
 * transaction (store_fold moves it under k later), and returns where to write them (valid
 * until the next store call), or NULL on error (see store_error).
 */
void	*store_block_reserve(struct store *, const struct store_evkey *k, size_t len);

/*
 * Generic access to further named databases (derived state: rollups, live transactions).
 * store_dbi opens (creating) a database by name once; keep the handle. The put/get/del calls
 * use the tick's write transaction. get copies at most *len bytes into val and sets *len to
 * the stored length: 1 found, 0 not found, -1 error. put and del return 0 or -1 (del of a
 * missing key is 0).
 */
int	store_dbi(struct store *, const char *name, unsigned int *dbi /* OUT */);
int	store_put(struct store *, unsigned int dbi, const void *key, size_t klen,
	    const void *val, size_t vlen);
int	store_get(struct store *, unsigned int dbi, const void *key, size_t klen, void *val,
	    size_t *len /* IN: room, OUT: stored length */);
int	store_del(struct store *, unsigned int dbi, const void *key, size_t klen);

/*
 * Moves every block of the commit log (evlog) into the app|kind ranges (events), merging
 * each agent's consecutive blocks of a kind into full ones, and empties the log, in the
 * tick's transaction. max_blocks is reserved (the whole log is folded). The number of log
 * blocks folded, or -1.
 */
long	store_fold(struct store *, size_t max_blocks);
/* The same for one partition of the commit log (0 .. STORE_EVLOG_PARTS - 1). */
long	store_fold_part(struct store *, int part);
/* Blocks the fold found already stored under their key (kept the first; never expected). */
uint64_t store_fold_dups(const struct store *);

/* 1 while a write transaction is open. */
int	store_dirty(const struct store *);
/* Commits the tick's transaction durably. 0, or -1: the transaction is gone (aborted). */
int	store_commit(struct store *);
/* Drops the tick's transaction. */
void	store_abort(struct store *);

/*
 * Deletes events blocks whose newest possible event is older than cutoff_ms, at most
 * max_deletes per call, resuming where the previous call stopped. Uses the tick's
 * transaction. Returns the number deleted, or -1.
 */
long	store_prune(struct store *, uint64_t cutoff_ms, size_t max_deletes);

/*
 * Generic pruning of a named database (derived records). Walks keys in order from it->key,
 * asking verdict for each: STORE_PRUNE_DEL deletes the record, STORE_PRUNE_KEEP goes on with
 * the next key, STORE_PRUNE_SKIP goes on after every key that shares the first *skip bytes of
 * this one (the rest of a time-ordered range is younger). Stops after max_deletes deletions or
 * max_visits records and keeps its place in it (empty at the end: the next call starts over).
 * Deletions are captured for replication. The number deleted, or -1.
 */
#define STORE_PRUNE_KEY_MAX	511
struct store_prune_it {
	uint8_t	key[STORE_PRUNE_KEY_MAX];
	size_t	len;
};
enum store_prune_verdict { STORE_PRUNE_KEEP, STORE_PRUNE_DEL, STORE_PRUNE_SKIP };
long	store_prune_db(struct store *, unsigned int dbi, struct store_prune_it *,
	    enum store_prune_verdict (*verdict)(const uint8_t *key, size_t klen,
	    const uint8_t *val, size_t vlen, void *arg, size_t *skip /* OUT */), void *arg,
	    size_t max_deletes, size_t max_visits);

/*
 * A number unique to this open store in the process: database handles kept by other modules
 * belong to it (a snapshot replaces the store, perhaps at the same address).
 */
uint64_t	store_instance(const struct store *);

/* The last LMDB error code (0: none) and its text. */
int		 store_error(const struct store *);
const char	*store_strerror(const struct store *);
/* 1 when the last failure was a full map. */
int		 store_full(const struct store *);

/*
 * Replication. Every commit advances the log position by one (stored in meta with the term,
 * in the same transaction). With capture on, the write-set of each committed transaction is
 * kept as a replication record (common/repl_rec.h) until the next transaction begins.
 */
uint64_t	 store_pos(const struct store *);
/* The epoch of the last committed record; store_set_term sets the epoch of the next ones. */
uint64_t	 store_term(const struct store *);
void		 store_set_term(struct store *, uint64_t);
void		 store_capture(struct store *, int on);
/*
 * With capture on, fn is called after every successful commit, wherever it was made, with
 * the record (borrowed for the call). Every position reaches it, so the ring has no gaps.
 */
void		 store_on_commit(struct store *, void (*fn)(void *, uint64_t pos, uint64_t term,
		    const uint8_t *rec, size_t len), void *arg);
/* The record of the last commit (borrowed until the next write), or NULL. */
const uint8_t	*store_record(const struct store *, size_t *len /* OUT */);
/*
 * Standby: applies one record in one transaction (no other transaction may be open).
 * 0; -2 when the record is not the next position (a gap: resynchronise); -1 on a malformed
 * record or a store error, with a reason in err.
 */
int		 store_apply(struct store *, const uint8_t *rec, size_t len, char *err,
		    size_t errlen);
/* Writes a consistent copy of the environment to fd (blocking; any thread). 0 or -1. */
int		 store_copy_fd(struct store *, int fd);
const char	*store_path(const struct store *);
uint64_t	 store_map_size(const struct store *);

struct store_usage {
	uint64_t	map_size;
	uint64_t	used_bytes;	/* (last page + 1) * page size */
	uint64_t	page_size;
	uint64_t	event_entries;
};
int	store_usage(struct store *, struct store_usage * /* OUT */);

#endif
