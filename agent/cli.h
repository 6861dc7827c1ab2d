/* Tandem — MIT licence. Options and helpers shared by the tandem-agent subcommands. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"

struct event_base;

enum {
	CLI_OPT_TLS = 1000,
	CLI_OPT_TLS_CA,
	CLI_OPT_TLS_CERT,
	CLI_OPT_TLS_KEY,
	CLI_OPT_TLS_NAME,
	CLI_OPT_TIMEOUT,
	CLI_OPT_LOCAL,		/* first value free for subcommands */
};

#define CLI_SHORTOPTS	"c:a:A:t:H:b:w:W:L:v"
#define CLI_LONGOPTS \
	{ "collector",		required_argument,	NULL, 'c' }, \
	{ "agent-id",		required_argument,	NULL, 'a' }, \
	{ "app",		required_argument,	NULL, 'A' }, \
	{ "token",		required_argument,	NULL, 't' }, \
	{ "host",		required_argument,	NULL, 'H' }, \
	{ "batch",		required_argument,	NULL, 'b' }, \
	{ "window",		required_argument,	NULL, 'w' }, \
	{ "window-bytes",	required_argument,	NULL, 'W' }, \
	{ "linger-us",		required_argument,	NULL, 'L' }, \
	{ "verbose",		no_argument,		NULL, 'v' }, \
	{ "tls",		no_argument,		NULL, CLI_OPT_TLS }, \
	{ "tls-ca",		required_argument,	NULL, CLI_OPT_TLS_CA }, \
	{ "tls-cert",		required_argument,	NULL, CLI_OPT_TLS_CERT }, \
	{ "tls-key",		required_argument,	NULL, CLI_OPT_TLS_KEY }, \
	{ "tls-name",		required_argument,	NULL, CLI_OPT_TLS_NAME }, \
	{ "timeout",		required_argument,	NULL, CLI_OPT_TIMEOUT }

#define CLI_COMMON_USAGE \
	"  -c HOST:PORT      collector address (repeat for fallbacks, tried in turn)\n" \
	"  -a ID -A APP      agent id and application name\n" \
	"  -t TOKEN -H HOST  auth token, host name sent in Hello\n" \
	"  -b N              events per batch (default 64)\n" \
	"  -w N -W BYTES     window: unacked events / bytes (default 65536 / 16 MiB)\n" \
	"  -L US             linger before a partial batch is sent (default 1000)\n" \
	"  --tls --tls-ca F --tls-cert F --tls-key F --tls-name NAME   TLS options\n" \
	"  --timeout S       bound on waiting for acks at the end (default 30)\n" \
	"  -v                verbose (debug logging)\n"

struct cli_opts {
	struct tandem_agent_conf conf;
	unsigned	 ncollectors;
	double		 timeout_s;
};

/* Defaults for the shared options. */
void	cli_opts_init(struct cli_opts *);

/*
 * Handles one getopt result if it is a shared option. Returns 1 when handled, 0 when it is
 * not a shared option, -1 (with a message on stderr) when its argument is bad.
 */
int	cli_opts_handle(struct cli_opts *, int ch, const char *arg);

/* Parses an unsigned integer within [min, max]. 0 or -1 (message on stderr naming what). */
int	cli_number(const char *what, const char *s, uint64_t min, uint64_t max,
	    uint64_t *out /* OUT */);
/* Parses a non-negative number of seconds (fractions allowed). 0 or -1. */
int	cli_seconds(const char *what, const char *s, double *out /* OUT */);

/* Monotonic microseconds. */
uint64_t cli_mono_us(void);
/* Wall-clock milliseconds since the epoch. */
int64_t	cli_now_ms(void);

/* Prints the common part of a final summary for one agent's counters and latencies. */
void	cli_print_summary(const char *what, const struct tandem_agent_stats *,
	    const struct hist *, double seconds);

/* Subcommands: each gets argv with argv[0] = its name. Exit status. */
int	cmd_send(int argc, char **argv);
int	cmd_tail(int argc, char **argv);
int	cmd_simulate(int argc, char **argv);

#endif
