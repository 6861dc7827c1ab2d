/* Tandem — MIT licence. Notice delivery: libcurl multi on the libevent loop, webhooks and SMTP, retries. */
#ifndef TANDEM_MONITOR_NOTIFY_H
#define TANDEM_MONITOR_NOTIFY_H

#include <stdint.h>

struct ae_receiver;
struct event_base;
struct notify;

#define NOTIFY_INFLIGHT_MAX	256

struct notify_conf {
	long	timeout_ms;	/* per attempt, connect included */
	int	attempts;	/* 1 = no retry */
	long	backoff_ms;	/* before the second attempt; doubles after each */
};

struct notify_stats {
	uint64_t	queued;
	uint64_t	sent;
	uint64_t	failed;		/* every attempt failed */
	uint64_t	attempts;
	uint64_t	retries;
	uint64_t	refused;	/* more than NOTIFY_INFLIGHT_MAX in flight */
};

void	notify_conf_default(struct notify_conf *);

/*
 * A notifier on base: transfers are driven by curl_multi_socket_action from socket events
 * and one timer, so nothing blocks the loop. done is called once per notice with the
 * outcome (error borrowed for the call). NULL on failure.
 */
struct notify	*notify_new(struct event_base *base, const struct notify_conf *conf,
		    void (*done)(void *arg, uint64_t id, int ok, int attempts, const char *error),
		    void *arg);
/* Cancels transfers in flight (done is not called for them); NULL is a no-op. */
void		 notify_free(struct notify *);

/*
 * Queues one notice: a webhook receiver gets json_body POSTed (Content-Type
 * application/json; any 2xx is success), an SMTP receiver a text/plain mail with subject
 * and text_body. Strings are copied. 0, or -1 (nothing queued).
 */
int		 notify_send(struct notify *, uint64_t id, const struct ae_receiver *rcv,
		    const char *subject, const char *json_body, const char *text_body);
const struct notify_stats *notify_stats(const struct notify *);

#endif
