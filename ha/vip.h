/* Tandem — MIT licence. Service IP: idempotent add/renew/delete of an IPv4 address with a lifetime. */
#ifndef TANDEM_HA_VIP_H
#define TANDEM_HA_VIP_H

#include <netinet/in.h>

#include <stdint.h>

struct nl;

/*
 * One service address. The active adds it with a lifetime and renews it well before the
 * lifetime runs out; if the daemon dies, the kernel removes the address by itself.
 * `set` tracks whether we believe we hold it, so each step can be repeated harmlessly.
 */
struct vip {
	int		 ifindex;
	struct in_addr	 addr;		/* network order */
	uint8_t		 prefixlen;
	uint32_t	 lifetime_s;	/* valid and preferred lifetime; 0: permanent */
	int		 set;
};

/*
 * Whether err (an errno from nl_talk) still means "done" for this request type: EEXIST for
 * RTM_NEWADDR; EADDRNOTAVAIL, ENOENT, ESRCH and ENODEV (interface gone, so the address too)
 * for RTM_DELADDR. Pure.
 */
int	vip_errno_ok(uint16_t type, int err);

/*
 * Adds the address, or renews its lifetime if present (NLM_F_CREATE | NLM_F_REPLACE), and
 * waits for the kernel's ACK. 0 (v->set = 1), or -1 with errno.
 */
int	vip_add(struct nl *, struct vip *v);

/* Removes the address; absent already counts as success. 0 (v->set = 0), or -1 with errno. */
int	vip_del(struct nl *, struct vip *v);

/* 1 if the kernel has the address on the interface, 0 if not, -1 with errno. */
int	vip_present(struct nl *, const struct vip *v);

#endif
