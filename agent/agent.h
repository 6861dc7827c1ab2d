/* Tandem — MIT licence. Agent library: streams MES events to a collector over one connection. */
#ifndef TANDEM_AGENT_H
#define TANDEM_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/hist.h"
#include "proto/agent.pb-c.h"

struct event_base;
struct tandem_agent;

#define TANDEM_AGENT_MAX_COLLECTORS	8
#define TANDEM_AGENT_ERR_CODES		16	/* > highest tandem.ErrorCode */

/*
 * Configuration. Zero or NULL fields take the default in brackets. Strings are copied by
 * tandem_agent_new(); the conf may be discarded afterwards, except hist (borrowed).
 */
struct tandem_agent_conf {
	const char	*collectors[TANDEM_AGENT_MAX_COLLECTORS]; /* "host:port", tried in turn */
	const char	*agent_id;	/* required, 1..128 bytes, stable across restarts */
	const char	*app;		/* required, 1..128 bytes */
	const char	*host;		/* [gethostname()] */
	const char	*token;		/* [none] */
	size_t		 max_events;	/* unacked events [65536] */
	size_t		 max_bytes;	/* unacked packed bytes [16 MiB] */
	unsigned	 batch;		/* events per frame [64], at most 4096 */
	unsigned	 linger_us;	/* wait before sending a partial batch [1000] */
	unsigned	 backoff_min_ms; /* reconnect delay, doubled per failure [50] */
	unsigned	 backoff_max_ms; /* [5000] */
	unsigned	 handshake_ms;	/* connect + Welcome must finish within [5000] */
	int		 tls;		/* 1: TLS, verifying the collector against tls_ca_file */
	const char	*tls_ca_file;	/* [system default paths]; setting it implies tls */
	const char	*tls_cert_file;	/* client certificate chain for mutual TLS [none] */
	const char	*tls_key_file;	/* its private key [none] */
	const char	*tls_server_name; /* name to verify [the host part of the address] */
	struct hist	*hist;		/* ack latencies go here (borrowed, may be shared by many
					   agents of one thread) [a histogram of the agent's own] */
	/* Called after acks shrank the window (room for more, or flushed). */
	void		(*on_acked)(struct tandem_agent *, void *arg);
	void		*cb_arg;
};

struct tandem_agent_stats {
	uint64_t	enqueued;	/* events accepted */
	uint64_t	invalid;	/* events refused as invalid (EINVAL/EMSGSIZE) */
	uint64_t	window_full;	/* events refused with EAGAIN */
	uint64_t	sent;		/* events written, resends included */
	uint64_t	resent;		/* of which sent again after a reconnect */
	uint64_t	frames;		/* batch frames written */
	uint64_t	acked;		/* events acknowledged (each counted once) */
	uint64_t	renumbered;	/* events renumbered after the first Welcome */
	uint64_t	connects;	/* connections that reached Welcome */
	uint64_t	reconnects;	/* connection attempts after the first */
	uint64_t	disconnects;	/* connections lost or refused, for any reason */
	uint64_t	errors[TANDEM_AGENT_ERR_CODES];	/* Error frames received, by code */
	uint64_t	window_events;	/* now: events waiting for an ack */
	uint64_t	window_bytes;	/* now: their packed bytes */
	uint64_t	next_seq;	/* now: sequence number the next event gets */
	uint64_t	stored_seq;	/* stored_seq of the last Welcome */
	int		connected;	/* now: 1 when Welcome was received on this connection */
};

/*
 * Creates an agent on base (borrowed; single-threaded: every call below must come from the
 * thread running base). Nothing happens on the network before tandem_agent_start(). Returns
 * NULL with a reason in err on a bad configuration or out of memory (or TLS setup failure).
 */
struct tandem_agent *tandem_agent_new(struct event_base *base,
		    const struct tandem_agent_conf *conf, char *err, size_t errlen);
/* Closes the connection, drops unacked events and frees the agent. NULL is a no-op. */
void		tandem_agent_free(struct tandem_agent *);

/* Begins connecting (and reconnecting, with backoff, until stopped). 0, or -1 if stopped
 * was not the state (already started). */
int		tandem_agent_start(struct tandem_agent *);
/* Closes the connection and stops reconnecting. Unacked events stay and are resent after
 * the next start. */
void		tandem_agent_stop(struct tandem_agent *);

/*
 * Enqueue one event; never blocks and never waits for the network. time_ms 0 means now.
 * Returns 0 once the event is packed into the window, or -1 with errno:
 *   EINVAL    the event breaks a protocol bound (msg_check_event); counted as invalid
 *   EMSGSIZE  the event is larger than the whole window byte limit
 *   EAGAIN    the window is full; retry after on_acked or drop: the caller decides
 *   ENOMEM    out of memory
 * Borrowed arguments are only read during the call.
 */
int	tandem_agent_queue(struct tandem_agent *, int64_t time_ms, const char *queue,
	    uint64_t depth, int has_totals, uint64_t enqueued_total, uint64_t completed_total);
int	tandem_agent_txn(struct tandem_agent *, int64_t time_ms, const char *txn_id,
	    const char *step, Tandem__TxnState state, const char *const *attrs /* k,v pairs */,
	    size_t nattrs);
int	tandem_agent_job(struct tandem_agent *, int64_t time_ms, const char *job,
	    uint64_t duration_us, int ok);
int	tandem_agent_log(struct tandem_agent *, int64_t time_ms, Tandem__LogLevel level,
	    const char *msg);
int	tandem_agent_heartbeat(struct tandem_agent *, int64_t time_ms);
/* Any event; time_ms unset or 0 means now. */
int	tandem_agent_event(struct tandem_agent *, const Tandem__Event *);

/*
 * Sends any partial batch now. If cb is not NULL it is called once, from the event loop,
 * as soon as every event enqueued so far has been acked (immediately, but still from the
 * loop, if the window is already empty). A later flush replaces an earlier callback.
 * 0 or -1 (out of memory).
 */
int	tandem_agent_flush(struct tandem_agent *,
	    void (*cb)(struct tandem_agent *, void *arg), void *arg);
/* Events enqueued and not yet acked; 0 means everything is durable. */
size_t	tandem_agent_unacked(const struct tandem_agent *);

/* Copies the counters. */
void	tandem_agent_stats(const struct tandem_agent *, struct tandem_agent_stats * /* OUT */);
/* The histogram ack latencies are recorded into (borrowed, the agent's or conf->hist). */
const struct hist *tandem_agent_hist(const struct tandem_agent *);
/* Ack latency in microseconds at percentile p (e.g. 50, 99, 99.9); 0 when nothing acked. */
uint64_t tandem_agent_latency_us(const struct tandem_agent *, double p);
/* The agent id given at creation. */
const char *tandem_agent_id(const struct tandem_agent *);

#endif
