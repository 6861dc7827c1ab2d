/* Tandem — MIT licence. Client of collectord's control socket (collector/control.h): line requests, JSON replies. */
#ifndef TANDEM_HA_CCTL_H
#define TANDEM_HA_CCTL_H

#include <stdint.h>

#include <jansson.h>

struct event_base;
struct cctl;

/*
 * Called once per request: reply is the parsed JSON object (borrowed for the call), or NULL
 * when the connection broke or the reply was not a JSON object (then the connection is
 * closed and every queued request gets NULL, in order).
 */
typedef void	(*cctl_cb)(json_t *reply, void *arg);

#define CCTL_QUEUE		16
#define CCTL_LINE_MAX		65536

/* Takes ownership of fd (a connected stream socket). NULL on failure (fd closed). */
struct cctl	*cctl_new(struct event_base *, int fd);
/* Closes the connection; queued callbacks get NULL first. NULL is a no-op. */
void		 cctl_free(struct cctl *);
/* 1 while the connection is usable. */
int		 cctl_alive(const struct cctl *);
/* Requests waiting for their reply. */
int		 cctl_pending(const struct cctl *);
/* Age in ms of the oldest unanswered request (0 if none), given the current time. */
uint64_t	 cctl_oldest_ms(const struct cctl *, uint64_t now_ms);
/*
 * Queues line (no newline) and its callback. 0, or -1 if the queue is full or the connection
 * is dead (cb is not called then).
 */
int		 cctl_request(struct cctl *, const char *line, uint64_t now_ms, cctl_cb cb,
		    void *arg);

#endif
