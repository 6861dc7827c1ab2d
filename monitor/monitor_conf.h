/* Tandem — MIT licence. monitord configuration: the struct, defaults, parsing and -nv printing. */
#ifndef TANDEM_MONITOR_CONF_H
#define TANDEM_MONITOR_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"
#include "monitor/alarm_engine.h"

#define MIN_HTTP_SIZE		1024ULL
#define MAX_HTTP_SIZE		(16ULL << 20)
#define MIN_HTTP_TIMEOUT_MS	1000ULL
#define MAX_HTTP_TIMEOUT_MS	600000ULL
#define MIN_WINDOW_MS		10000ULL
#define MAX_WINDOW_MS		(7ULL * 86400000)
#define MIN_STUCK_FACTOR	1
#define MAX_STUCK_FACTOR	1000
#define MIN_FLOOR		0
#define MAX_FLOOR		1000000000
#define MIN_ALARM_INTERVAL_MS	100ULL
#define MAX_ALARM_INTERVAL_MS	600000ULL
#define MIN_NOTIFY_ATTEMPTS	1
#define MAX_NOTIFY_ATTEMPTS	10

struct monitor_conf {
	char		 listen_host[256];
	uint16_t	 listen_port;
	char		*store_path;
	char		*stats_file;		/* collectord's stats_file, for /metrics */
	char		*ha_stats_file;		/* had's stats_file, for /metrics; NULL: none */
	char		*control_socket;	/* collectord's control socket, for /api/v1/cluster */
	char		*token;			/* bearer token of mutating routes; NULL: none */
	char		*assets_dir;		/* dashboard files; NULL: beside the binary */
	uint64_t	 max_headers;
	uint64_t	 max_body;
	uint64_t	 http_timeout_ms;
	uint64_t	 growth_window_ms;
	uint64_t	 growth_floor;
	uint64_t	 stuck_factor;
	uint64_t	 stuck_min_ms;
	uint64_t	 stuck_idle_ms;
	uint64_t	 silent_after_ms;
	uint64_t	 refresh_interval_ms;	/* overview cache refresh timer */
	/* Alarms (monitor/alarm_engine.h has the rule syntax). */
	uint64_t	 alarm_interval_ms;	/* evaluation round */
	uint64_t	 notify_timeout_ms;	/* per delivery attempt */
	uint64_t	 notify_attempts;
	uint64_t	 notify_backoff_ms;	/* before the second attempt, doubling */
	struct ae_rule	*rules;
	int		*rule_lines;		/* line of each rule, for receiver checks */
	int		 nrules;
	struct ae_receiver *receivers;
	int		 nreceivers;
};

void	monitor_conf_init(struct monitor_conf *);
/* 0, or -1 with every error in errs as "file:line: message"; the file is rejected whole. */
int	monitor_conf_load(struct monitor_conf *, const char *path, struct conf_errors *);
int	monitor_conf_parse(struct monitor_conf *, char *text, const char *name,
	    struct conf_errors *);
void	monitor_conf_print(const struct monitor_conf *, FILE *);
void	monitor_conf_free(struct monitor_conf *);

#endif
