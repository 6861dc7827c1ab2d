/* Tandem — MIT licence. had's own control socket for tandemctl: root-only, one line in, one JSON line out. */
#ifndef TANDEM_HA_HA_CTL_H
#define TANDEM_HA_HA_CTL_H

#include <stdint.h>

#include <jansson.h>

struct event_base;
struct ha_ctl;

/*
 * Protocol (had.sock, a Unix stream socket, mode 0600; peers other than uid 0 are refused
 * after an SO_PEERCRED check):
 *   status                 -> {"ok":true, "role":..., "term":..., "peer":{...}, ...}
 *   failover               -> {"ok":true,...} once the peer is active, or {"ok":false,"error":...}
 *   maintenance on|off     -> {"ok":true,"maintenance":bool}
 * One request at a time per connection: the next line is read after the reply.
 */
#define HA_CTL_MAX_CONNS	16
#define HA_CTL_LINE_MAX		256

/* A request: reply later (or at once) with ha_ctl_reply(ctl, id, ...). line is borrowed. */
typedef void	(*ha_ctl_cmd_cb)(struct ha_ctl *, uint64_t id, const char *line, void *arg);

/* Serves listen_fd (already bound and listening; not closed by ha_ctl_free). NULL on failure. */
struct ha_ctl	*ha_ctl_new(struct event_base *, int listen_fd, ha_ctl_cmd_cb cb, void *arg);
void		 ha_ctl_free(struct ha_ctl *);
/* Writes reply (borrowed) to connection id. 0, or -1 if it is gone. */
int		 ha_ctl_reply(struct ha_ctl *, uint64_t id, json_t *reply);
/* Shorthand for {"ok":false,"error":msg}. */
int		 ha_ctl_error(struct ha_ctl *, uint64_t id, const char *msg);

#endif
