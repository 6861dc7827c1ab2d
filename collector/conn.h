/* Tandem — MIT licence. One agent connection: framing, the HELLO -> STREAM -> CLOSING state machine, replies. */
#ifndef TANDEM_CONN_H
#define TANDEM_CONN_H

#include <stdint.h>

#include <event2/util.h>

struct collector;
struct agent_state;
struct sockaddr;
struct ssl_st;

enum conn_state {
	CONN_ST_HELLO,		/* waiting for Hello */
	CONN_ST_STREAM,		/* receiving batches */
	CONN_ST_CLOSING,	/* flushing the last replies, reading nothing */
	CONN_ST_MAX,
};

enum conn_event {
	CONN_EV_HELLO,		/* a valid Hello arrived */
	CONN_EV_BATCH,		/* a valid batch arrived */
	CONN_EV_UNEXPECTED,	/* a valid message of the wrong type */
	CONN_EV_BAD_INPUT,	/* a frame or decode error */
	CONN_EV_TIMEOUT,
	CONN_EV_EOF,		/* peer closed or socket error */
	CONN_EV_FLUSHED,	/* output drained while closing */
	CONN_EV_MAX,
};

const char	*conn_state_name(enum conn_state);
const char	*conn_event_name(enum conn_event);

/* Takes ownership of fd (and ssl, when not NULL) and starts the handshake. */
void	conn_accept(struct collector *, evutil_socket_t fd, const struct sockaddr *, int socklen,
	    struct ssl_st *ssl);
/*
 * Sends an Error frame, stops reading and closes once the frame is flushed (bounded by the
 * write timeout). Never frees synchronously, so it is safe from any callback. Idempotent.
 */
void	conn_fail(struct conn *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Queues an Ack; pauses reading while replies pile up unread. */
void	conn_send_ack(struct conn *, uint64_t upto_seq);
/* The agent state is being freed: forget it. */
void	conn_detach(struct conn *);
/* Shutdown: stop reading on every connection (the caller then commits and acks). */
void	conn_stop_reading_all(struct collector *);
/* Switchover resumed: read every connection again. */
void	conn_resume_reading_all(struct collector *);
/* Shutdown: send Error(SHUTDOWN) after the acks and close every connection after flushing. */
void	conn_close_all(struct collector *);
/* Frees every connection at once (final teardown). */
void	conn_free_all(struct collector *);

#endif
