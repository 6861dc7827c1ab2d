/* Tandem — MIT licence. had's privilege separation: open what needs root, fork, drop privileges. */
#ifndef TANDEM_HA_PROC_H
#define TANDEM_HA_PROC_H

struct ha_conf;

/*
 * As root: reads the heartbeat key, resolves the user and the interface, opens netlink and the
 * AF_PACKET socket (kept by the parent), the heartbeat UDP socket, had.sock (0600) and the
 * state file (passed to the child), and a SOCK_SEQPACKET socketpair. Forks: the child drops
 * to conf->user (setgroups, setresgid, setresuid, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG) and
 * runs engine_run(); the parent runs parent_run(). Returns the process's exit status; set-up
 * failures are fatal (startup).
 */
int	proc_start(const struct ha_conf *);

#endif
