/* Tandem — MIT licence. TCP socket options shared by the daemons. */
#ifndef TANDEM_COMMON_TCP_H
#define TANDEM_COMMON_TCP_H

/*
 * Sets TCP_NODELAY on fd (a listening socket passes it on to the sockets it accepts, on
 * Linux). Our replies are small frames written once per commit: acks, replication acks,
 * JSON replies. With Nagle, each waited for the peer's delayed ACK or its next data segment
 * (measured: agent acks 5 ms at p50 at a light load, with a disk sync of 0.05 ms). 0, or -1
 * with errno (logged by the caller, harmless to ignore).
 */
int	tcp_nodelay(int fd);

#endif
