/* Tandem — MIT licence. collectord's control socket: the HA daemon and ops talk to the collector here. */
#ifndef TANDEM_COLLECTOR_CONTROL_H
#define TANDEM_COLLECTOR_CONTROL_H

#include <stddef.h>

struct collector;

/*
 * A Unix stream socket (config `control_socket PATH`, mode 0600) that only uid 0 (checked with
 * SO_PEERCRED) may use. One request per line, one JSON object per line in reply; a connection
 * may send many requests. Requests:
 *
 *   status
 *       {"node":"a","role":"active"|"standby"|"single"|"none","term":N,"accepting":true,
 *        "log_pos":N,            highest replication log position committed here
 *        "repl":{"mode":"replicated"|"local","peer":"host:port"|null,"connected":bool,
 *                "peer_pos":N,   position the standby has applied (on the active)
 *                "lag":N,        log_pos - peer_pos
 *                "protected":bool,
 *                "held_acks":N,  acks waiting for the standby
 *                "ring_first":N}, oldest position a returning peer can stream from
 *        "conns":N,"events_stored":N,"store_full":bool,"ok":true}
 *   role active TERM [alone]
 *       Become (or stay) the active node for TERM: accept agents, serve replication to a
 *       standby. Idempotent. With "alone" (the peer is known dead) acks do not wait
 *       repl_timeout for a standby first. -> {"ok":true,"role":"active","term":N}
 *   role standby TERM HOST:PORT
 *       Become a standby of the active whose replication listener is HOST:PORT: refuse and
 *       close agents (ERR_SHUTDOWN "not the active node"), follow the replication stream,
 *       taking a snapshot first when needed. Idempotent. -> {"ok":true,...}
 *   drain
 *       Switchover, step one on the active: stop reading agents, commit what was read, and
 *       answer once the standby has applied everything (or after 5 s with "ok":false).
 *       -> {"ok":true,"log_pos":N,"peer_pos":N}
 *   resume
 *       Undo drain (a refused or failed switchover). -> {"ok":true}
 *   alarm put HEXKEY HEXVALUE | alarm del HEXKEY
 *       monitord's alarm state into the `alarms` database, in a transaction of its own,
 *       durable and replicated when answered (collector/alarm_store.h). Single or active
 *       only. -> {"ok":true,"log_pos":N}
 *
 * Errors: {"ok":false,"error":"reason"}.
 */

/* Opens the socket if configured. 0, or -1 with a reason in err. */
int	control_start(struct collector *, char *err, size_t errlen);
void	control_stop(void);

#endif
