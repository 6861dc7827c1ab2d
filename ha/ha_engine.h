/* Tandem — MIT licence. had's unprivileged child: heartbeat, election, collector control, tandemctl. */
#ifndef TANDEM_HA_HA_ENGINE_H
#define TANDEM_HA_HA_ENGINE_H

#include <stdint.h>

struct ha_conf;

/* What the child receives from the start-up code (all opened before the privilege drop). */
struct engine_res {
	int		 ipc;		/* its end of the socketpair to the root parent */
	int		 hb_fd;		/* UDP, bound to conf->bind */
	int		 ctl_fd;	/* listening had.sock (root 0600) */
	int		 state_fd;	/* the state file, read-write */
	int		 stats_fd;	/* the stats file, or -1 */
	uint64_t	 term;		/* read from the state file */
	uint8_t		 key[64];	/* the heartbeat key */
	size_t		 keylen;
};

/*
 * Runs the child's event loop (already unprivileged). Actions that need privilege go to the
 * parent over res->ipc, synchronously; a parent that does not answer or closes the channel
 * ends the child (fatalx: no half-alive node). Returns on SIGTERM/SIGINT after a graceful
 * release (drain, VIP removal, a last heartbeat that tells the peer to take over at once).
 * Returns the exit status.
 */
int	engine_run(const struct ha_conf *, struct engine_res *);

/* The state file's term (0 if empty or unreadable). */
uint64_t engine_read_term(int fd);

#endif
