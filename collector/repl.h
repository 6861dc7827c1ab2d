/* Tandem — MIT licence. Replication between the collectors of a pair: wire format, record ring, roles. */
#ifndef TANDEM_REPL_H
#define TANDEM_REPL_H

#include <stddef.h>
#include <stdint.h>

struct collector;
struct evbuffer;

/*
 * Wire: frames of 4-byte big-endian length N, then N bytes: a type byte and its payload.
 *   REPL_HELLO     standby -> active   pos u64 | epoch u64      (what it holds)
 *   REPL_RECORD    active -> standby   a replication record (common/repl_rec.h)
 *   REPL_ACK       standby -> active   pos u64                  (applied and durable)
 *   REPL_SNAP      active -> standby   diverged u8 | pos u64    (a snapshot follows)
 *   REPL_SNAP_DATA active -> standby   bytes of data.mdb
 *   REPL_SNAP_END  active -> standby   (then the standby sends HELLO again)
 *   REPL_ERROR     either              text
 * The epoch of a record is term << 16 | node tag, so two nodes that both took the same term
 * in a partition still write different epochs and a divergence is always seen.
 */
enum repl_type {
	REPL_HELLO = 1,
	REPL_RECORD,
	REPL_ACK,
	REPL_SNAP,
	REPL_SNAP_DATA,
	REPL_SNAP_END,
	REPL_ERROR,
};
#define REPL_FRAME_MAX		(REPL_REC_MAX_FRAME)
#define REPL_REC_MAX_FRAME	((256u << 20) + 64)
#define REPL_SNAP_CHUNK		(256u << 10)
#define REPL_KEEPALIVE_MS	500	/* the standby acks at least this often */

const char	*repl_type_name(int);
/* Appends one frame. 0 or -1. */
int		 repl_send(struct evbuffer *, int type, const void *payload, size_t len);

/* The ring of recent records, on both roles, so a returning peer can catch up by stream. */
struct repl_ring;
struct repl_ring *repl_ring_new(size_t max_bytes);
void		 repl_ring_free(struct repl_ring *);
/* Copies a record in; drops the oldest beyond the byte bound. 0 or -1. */
int		 repl_ring_add(struct repl_ring *, uint64_t pos, uint64_t epoch,
		    const uint8_t *rec, size_t len);
/* The record at pos (borrowed until the next add), or NULL when not held. */
const uint8_t	*repl_ring_get(const struct repl_ring *, uint64_t pos, size_t *len,
		    uint64_t *epoch);
uint64_t	 repl_ring_first(const struct repl_ring *);	/* 0 when empty */
uint64_t	 repl_ring_last(const struct repl_ring *);
void		 repl_ring_clear(struct repl_ring *);

/* Active side: a replication listener that serves one standby at a time. */
int		 repl_master_start(struct collector *, char *err, size_t errlen);
void		 repl_master_stop(struct collector *);
/* Role changes: capture records and gate acks on the standby / stop serving. */
void		 repl_master_activate(struct collector *, int pregate);
void		 repl_master_deactivate(struct collector *);
/* The store object was replaced (a snapshot): commits must reach the record ring again. */
void		 repl_master_rebind(struct collector *);
/* Status for the control socket. */
int		 repl_master_connected(const struct collector *);
uint64_t	 repl_master_peer_pos(const struct collector *);
int		 repl_master_protected(const struct collector *);
/* The port actually bound (for tests that use port 0). */
int		 repl_master_port(const struct collector *);

/* Standby side: follow the active at host:port. */
int		 repl_standby_start(struct collector *, const char *hostport, char *err,
		    size_t errlen);
void		 repl_standby_stop(struct collector *);
int		 repl_standby_connected(const struct collector *);

/* The epoch records are written with, from the term and this node's name. */
uint64_t	 repl_epoch(const struct collector *, uint64_t term);
struct repl_ring *repl_ring_of(struct collector *);

#endif
