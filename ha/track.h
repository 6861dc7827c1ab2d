/* Tandem — MIT licence. Tracking target: is a given host reachable from this node (TCP connect probe)? */
#ifndef TANDEM_HA_TRACK_H
#define TANDEM_HA_TRACK_H

#include <netinet/in.h>

#include <stdint.h>

struct event_base;
struct track;

/*
 * Every interval, a non-blocking TCP connect to the target with the interval as its timeout.
 * The host counts as reachable when the connection is accepted OR refused (a RST is an
 * answer from the host: any port will do); a timeout or a network/host-unreachable error
 * counts as a failure. TRACK_FAILS failures in a row report lost; one success reports ok.
 * cb(ok, arg) is called on every change of verdict (and for the first verdict).
 * XXX ICMP echo would need CAP_NET_RAW or ping_group_range in the unprivileged child.
 */
#define TRACK_FAILS	2

typedef void	(*track_cb)(int ok, void *arg);

struct track	*track_new(struct event_base *, const struct sockaddr_in *target,
		    uint64_t interval_ms, track_cb cb, void *arg);
void		 track_free(struct track *);

#endif
