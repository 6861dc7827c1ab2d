/* Tandem — MIT licence. Accepting agents: plain and TLS listeners, the connection cap, EMFILE backoff. */
#ifndef TANDEM_LISTENER_H
#define TANDEM_LISTENER_H

#include <stddef.h>

struct collector;

/* Binds the configured listeners and starts accepting. 0, or -1 with a reason in err. */
int	listener_start(struct collector *, char *err, size_t errlen);
/* Stops accepting for good (shutdown). */
void	listener_stop(struct collector *);
/* A connection closed: accept again if the cap had stopped us. */
void	listener_conn_closed(struct collector *);
/* The bound port of the plain (tls = 0) or TLS listener, 0 when none. */
int	listener_port(int tls);
void	listener_free(void);

#endif
