/* Tandem — MIT licence. TCP socket options shared by the daemons. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common/tcp.h"

int
tcp_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
