/* Tandem — MIT licence. collectord configuration: the struct, defaults, parsing and -nv printing. */
#ifndef TANDEM_COLLECTOR_CONF_H
#define TANDEM_COLLECTOR_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"

#define MIN_CONNECTIONS		1
#define MAX_CONNECTIONS		1000000
#define MIN_MAP_SIZE		(1ULL << 20)
#define MAX_MAP_SIZE		(1ULL << 44)
#define MIN_PENDING		(64ULL << 10)
#define MAX_PENDING		(1ULL << 30)
#define MIN_TIMEOUT_MS		100ULL
#define MAX_TIMEOUT_MS		(7ULL * 86400000)
#define MIN_RETENTION_MS	60000ULL
#define MAX_RETENTION_MS	(3650ULL * 86400000)
#define MIN_COMMIT_EVENTS	1
#define MAX_COMMIT_EVENTS	10000000
#define MAX_AGENT_TOKENS	4096

struct agent_token {
	char	*agent_id;
	char	*token;
};

struct collector_conf {
	char		 node_name[64];
	char		 listen_host[256];
	uint16_t	 listen_port;
	char		 tls_host[256];
	uint16_t	 tls_port;
	int		 tls_enabled;
	char		*tls_cert;
	char		*tls_key;
	char		*tls_client_ca;		/* set: mutual TLS required */
	char		*store_path;
	uint64_t	 map_size;
	uint64_t	 frame_max;
	uint64_t	 max_connections;
	uint64_t	 conn_out_max;		/* stop reading while unsent replies exceed this */
	uint64_t	 hello_timeout_ms;
	uint64_t	 idle_timeout_ms;
	uint64_t	 write_timeout_ms;
	uint64_t	 commit_max_events;
	uint64_t	 retention_ms;		/* raw events older than this are pruned */
	uint64_t	 retention_interval_ms;
	uint64_t	 stats_interval_ms;	/* 0: no periodic rate lines */
	uint64_t	 fold_interval_ms;	/* commit log -> ranges this often */
	uint64_t	 shutdown_grace_ms;
	char		*token;			/* default token; NULL: agents need none */
	struct agent_token *agent_tokens;	/* sorted by agent_id */
	int		 n_agent_tokens;
	char		*stats_file;		/* counters written here every stats interval */
	/* High availability. */
	int		 ha;			/* start with no role until told (by had) */
	char		*control_socket;
	int		 repl_enabled;
	char		 repl_host[256];
	uint16_t	 repl_port;
	int		 ack_mode_local;	/* 0: replicated (default), 1: local */
	uint64_t	 repl_timeout_ms;	/* standby gone this long: ack locally */
	uint64_t	 repl_ring_bytes;
	char		*repl_tls_cert;
	char		*repl_tls_key;
	char		*repl_tls_ca;
};

/* Fills in the defaults. */
void	collector_conf_init(struct collector_conf *);
/*
 * Parses a config file into conf (which holds the defaults). 0, or -1 with every error in
 * errs as "file:line: message"; a file with any error is rejected as a whole.
 */
int	collector_conf_load(struct collector_conf *, const char *path, struct conf_errors *);
/* Parses config text held in memory (modified in place). Same contract. */
int	collector_conf_parse(struct collector_conf *, char *text, const char *name,
	    struct conf_errors *);
/* Prints the normalised config (every setting, defaults included) as a valid config file. */
void	collector_conf_print(const struct collector_conf *, FILE *);
/* The token an agent must present, or NULL when none is required. Borrowed. */
const char *collector_conf_token_for(const struct collector_conf *, const char *agent_id);
void	collector_conf_free(struct collector_conf *);

#endif
