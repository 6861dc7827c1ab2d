/* Tandem — MIT licence. Service IP: idempotent add/renew/delete of an IPv4 address with a lifetime. */
#include <errno.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ha/nl.h"
#include "ha/vip.h"

int
vip_errno_ok(uint16_t type, int err)
{
	if (type == RTM_NEWADDR)
		return err == EEXIST;
	if (type == RTM_DELADDR)
		return err == EADDRNOTAVAIL || err == ENOENT || err == ESRCH || err == ENODEV;
	return 0;
}

static int
vip_request(struct nl *nl, const struct vip *v, uint16_t type, uint16_t flags)
{
	uint8_t buf[NL_ADDR_MSG_MAX];
	struct nl_addr_req req = {
		.type = type,
		.flags = flags,
		.seq = nl_next_seq(nl),
		.pid = 0,
		.ifindex = v->ifindex,
		.addr = v->addr,
		.prefixlen = v->prefixlen,
		.valid_lft = v->lifetime_s,
		.preferred_lft = v->lifetime_s,
	};
	size_t len;

	if ((len = nl_addr_build(buf, sizeof(buf), &req)) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (nl_talk(nl, buf, len) == -1) {
		if (vip_errno_ok(type, errno))
			return 0;
		return -1;
	}
	return 0;
}

int
vip_add(struct nl *nl, struct vip *v)
{
	/* REPLACE updates the lifetime of an existing address instead of failing with EEXIST. */
	if (vip_request(nl, v, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE) == -1)
		return -1;
	v->set = 1;
	return 0;
}

int
vip_del(struct nl *nl, struct vip *v)
{
	if (vip_request(nl, v, RTM_DELADDR, 0) == -1)
		return -1;
	v->set = 0;
	return 0;
}

int
vip_present(struct nl *nl, const struct vip *v)
{
	return nl_addr_present(nl, v->ifindex, v->addr, v->prefixlen);
}
