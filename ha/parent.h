/* Tandem — MIT licence. had's root parent: service IP and GARP on the child's request, nothing else. */
#ifndef TANDEM_HA_PARENT_H
#define TANDEM_HA_PARENT_H

#include <sys/types.h>

struct ha_conf;
struct nl;

/* What the parent keeps after the fork; everything else was closed. */
struct parent_res {
	int		 ipc;		/* its end of the socketpair */
	pid_t		 child;
	struct nl	*nl;		/* NETLINK_ROUTE, for the VIP */
	int		 garp_fd;	/* AF_PACKET, send only */
	int		 ifindex;
};

/*
 * Drops every capability but CAP_NET_ADMIN (address changes), CAP_NET_RAW (ARP) and CAP_KILL
 * (stopping the child, which runs as another user), then runs the parent's loop: it serves
 * IPC_VIP_ADD / IPC_VIP_DEL / IPC_GARP / IPC_CTL_CONNECT from the child, and nothing else.
 * Ends when the child exits (the node must not stay half alive) or on SIGTERM/SIGINT (it asks
 * the child to stop first, bounded by 5 s). Always removes the service IP and the control
 * socket path before returning. Returns the process exit status: 0 after a requested stop,
 * 1 when the child died on its own. Malformed IPC from the child: VIP removed, then fatalx.
 */
int	parent_run(const struct ha_conf *, struct parent_res *);

#endif
