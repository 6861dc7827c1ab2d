/* Tandem — MIT licence. monitord's alarm wiring: engine over query.c, the store via collectord, notify, timers. */
#ifndef TANDEM_MONITOR_ALARM_RUN_H
#define TANDEM_MONITOR_ALARM_RUN_H

#include <stddef.h>

struct api;
struct event_base;
struct monitor_conf;
struct query;

/*
 * Builds the alarm engine from conf (rules, receivers), adds its routes to a (before
 * http_new) and starts the evaluation timer on base. Every round first asks collectord's
 * control socket for the role: only a single or active node evaluates and notifies;
 * becoming active reads the state back from the store. Without control_socket the state
 * lives in memory only (logged). Borrowed arguments must outlive alarm_run_stop.
 * 0, or -1 with a reason in err.
 */
int	alarm_run_start(struct event_base *base, struct api *a, struct query *q,
	    const struct monitor_conf *conf, char *err, size_t errlen);
void	alarm_run_stop(void);

#endif
