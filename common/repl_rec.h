/* Tandem — MIT licence. Replication records: the write-set of one committed transaction, encoded. */
#ifndef TANDEM_REPL_REC_H
#define TANDEM_REPL_REC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A record is what one committed write transaction changed, so a standby can apply it in one
 * transaction and hold byte-identical data:
 *
 *   pos u64 | term u64 | nops u32            (big-endian; pos is the log position, +1 per
 *                                              committed transaction; term the active's epoch)
 *   nops times:
 *     type u8 (1 put, 2 del, 3 clear) | dblen u8 | db name
 *     put and del: varint klen | key
 *     put only: varint vlen | value
 *     (clear empties the whole database: the fold of the commit log)
 *
 * Bounds: db names 1..31 bytes, keys 1..511 bytes (LMDB's limit), values up to
 * REPL_VALUE_MAX, a record up to REPL_REC_MAX.
 */
#define REPL_REC_HDR	20
#define REPL_DBNAME_MAX	31
#define REPL_KEY_MAX	511
#define REPL_VALUE_MAX	(16u << 20)
#define REPL_REC_MAX	(256u << 20)

enum repl_op_type {
	REPL_OP_PUT = 1,
	REPL_OP_DEL = 2,
	REPL_OP_CLEAR = 3,
};

struct repl_buf {
	uint8_t		*p;
	size_t		 len, cap;
	uint32_t	 nops;
	int		 oom;		/* an append failed: the record is incomplete */
};

struct repl_op {
	enum repl_op_type type;
	const char	*db;		/* not NUL-terminated: dblen bytes */
	size_t		 dblen;
	const uint8_t	*key;
	size_t		 klen;
	const uint8_t	*val;
	size_t		 vlen;
};

struct repl_it {
	const uint8_t	*p, *end;
	uint32_t	 left;
};

/* Starts an empty record (keeps the buffer's memory). */
void	repl_buf_reset(struct repl_buf *, uint64_t pos, uint64_t term);
void	repl_buf_free(struct repl_buf *);
/*
 * Appends a put with vlen value bytes; when val is NULL the value bytes are left for the
 * caller to fill at the returned offset (the buffer may move on later appends: use the
 * offset). Returns the value's offset, or (size_t)-1 on out of memory (buf->oom is set).
 */
size_t	repl_buf_put(struct repl_buf *, const char *db, const void *key, size_t klen,
	    const void *val, size_t vlen);
void	repl_buf_del(struct repl_buf *, const char *db, const void *key, size_t klen);
void	repl_buf_clear(struct repl_buf *, const char *db);
/* Writes nops into the header; the record is buf->p[0..buf->len). */
void	repl_buf_finish(struct repl_buf *);

/*
 * Reads a record's header and prepares iteration. 0, or -1 when malformed. Every op read by
 * repl_it_next is bounds-checked; 1 with an op, 0 at the end (the record must end exactly
 * there), -1 when malformed.
 */
int	repl_rec_open(const uint8_t *, size_t, uint64_t *pos /* OUT */, uint64_t *term /* OUT */,
	    struct repl_it * /* OUT */);
int	repl_it_next(struct repl_it *, struct repl_op * /* OUT */);

#endif
