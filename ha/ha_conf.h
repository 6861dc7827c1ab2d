/* Tandem — MIT licence. had.conf: the HA daemon's configuration, defaults, parsing and -nv output. */
#ifndef TANDEM_HA_HA_CONF_H
#define TANDEM_HA_HA_CONF_H

#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"

#define HA_MIN_INTERVAL_MS	5ULL
#define HA_MAX_INTERVAL_MS	10000ULL
#define HA_MIN_DEAD		2
#define HA_MAX_DEAD		100
#define HA_MIN_LIFETIME_MS	1000ULL		/* the kernel counts address lifetimes in seconds */
#define HA_MAX_LIFETIME_MS	3600000ULL
#define HA_MIN_RENEW_MS		50ULL
#define HA_MIN_GARP		1
#define HA_MAX_GARP		16
#define HA_MAX_PATH		108		/* sun_path */

/* Addresses are numeric (inet_pton): the daemon must not depend on a resolver to fail over. */
struct ha_conf {
	uint32_t		 node_id;
	uint32_t		 cluster_id;
	uint8_t			 priority;
	struct sockaddr_in	 peer;			/* heartbeats go here */
	struct sockaddr_in	 bind;			/* heartbeats come in here */
	uint64_t		 interval_ms;
	uint32_t		 dead_after;		/* missed intervals */
	uint64_t		 dead_skew_ms;		/* added to dead_after x interval */
	char			*auth_key_file;
	char			 ifname[16];		/* IFNAMSIZ */
	struct in_addr		 service_ip;
	uint8_t			 prefixlen;
	uint64_t		 vip_lifetime_ms;	/* whole seconds */
	uint64_t		 vip_renew_ms;
	uint32_t		 garp_count;		/* frames per burst */
	uint64_t		 garp_repeat_ms;	/* delay of the second burst */
	uint64_t		 garp_refresh_ms;	/* slow periodic burst while active; 0 off */
	int			 preempt;
	int			 track_set;
	struct sockaddr_in	 track;			/* TCP connect target */
	uint64_t		 track_interval_ms;
	char			*collector_control;	/* collectord's control socket; NULL: none */
	int			 repl_set;
	struct sockaddr_in	 repl;			/* this node's collector replication listener */
	int			 peer_repl_set;
	struct sockaddr_in	 peer_repl;		/* the peer's; default: peer host, repl port */
	uint64_t		 switchover_max_lag;
	uint64_t		 switchover_timeout_ms;
	char			*control_socket;	/* ours, for tandemctl */
	char			*state_file;
	char			*stats_file;		/* counters for monitord's /metrics; NULL: none */
	char			*user;			/* the unprivileged child runs as this user */
};

/* Defaults (see had.conf for each). */
void	ha_conf_init(struct ha_conf *);
/*
 * Parses text (modified in place) named name. 0, or -1 with every error in errs; the file is
 * rejected as a whole. Required: node_id, cluster_id, peer, bind, auth_key_file, interface,
 * service_ip.
 */
int	ha_conf_parse(struct ha_conf *, char *text, const char *name, struct conf_errors *errs);
int	ha_conf_load(struct ha_conf *, const char *path, struct conf_errors *errs);
/* Normalised config (-nv): every setting, one per line, in keyword order; reads back unchanged. */
void	ha_conf_print(const struct ha_conf *, FILE *);
void	ha_conf_free(struct ha_conf *);

#endif
