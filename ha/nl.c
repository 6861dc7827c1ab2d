/* Tandem — MIT licence. rtnetlink over libmnl: address message builder, talk-with-ACK, lookups. */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/xalloc.h"
#include "ha/nl.h"

struct nl {
	struct mnl_socket	*sock;
	uint32_t		 portid;
	uint32_t		 seq;
	uint8_t			 buf[NL_RECV_BUF];
};

size_t
nl_addr_build(void *buf, size_t buflen, const struct nl_addr_req *req)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct ifa_cacheinfo ci;

	if (buflen < NL_ADDR_MSG_MAX || req->prefixlen > 32 || req->ifindex <= 0)
		return 0;
	if (req->type != RTM_NEWADDR && req->type != RTM_DELADDR)
		return 0;
	memset(buf, 0, NL_ADDR_MSG_MAX);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = req->type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | req->flags;
	nlh->nlmsg_seq = req->seq;
	nlh->nlmsg_pid = req->pid;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = req->prefixlen;
	ifa->ifa_flags = 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)req->ifindex;
	/* IPv4 wants both: IFA_LOCAL is the address, IFA_ADDRESS the (same) peer address. */
	mnl_attr_put_u32(nlh, IFA_LOCAL, req->addr.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, req->addr.s_addr);
	if (req->type == RTM_NEWADDR && req->valid_lft != 0) {
		/* cstamp/tstamp are output-only; the kernel reads ifa_prefered and ifa_valid. */
		memset(&ci, 0, sizeof(ci));
		ci.ifa_prefered = req->preferred_lft;
		ci.ifa_valid = req->valid_lft;
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return nlh->nlmsg_len;
}

int
nl_ack_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	int rc;

	/*
	 * mnl_cb_run checks seq and portid, turns NLMSG_ERROR with error 0 into STOP and a
	 * negative error into -1 with errno set; NLMSG_DONE is STOP too.
	 */
	rc = mnl_cb_run(buf, len, seq, portid, NULL, NULL);
	if (rc == MNL_CB_ERROR)
		return -1;
	if (rc == MNL_CB_STOP)
		return 0;
	return 1;
}

struct nl_match {
	int		 ifindex;
	struct in_addr	 addr;
	uint8_t		 prefixlen;
	int		 found;
};

static int
nl_addr_attr_cb(const struct nlattr *attr, void *arg)
{
	struct in_addr *local = arg;

	if (mnl_attr_get_type(attr) == IFA_LOCAL &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		local->s_addr = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

int
nl_addr_match(const void *msg, size_t len, int ifindex, struct in_addr addr, uint8_t prefixlen)
{
	const struct nlmsghdr *nlh = msg;
	const struct ifaddrmsg *ifa;
	struct in_addr local = { 0 };

	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len))
		return 0;
	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != ifindex ||
	    ifa->ifa_prefixlen != prefixlen)
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*ifa), nl_addr_attr_cb, &local) < 0)
		return 0;
	return local.s_addr == addr.s_addr;
}

static int
nl_match_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_match *m = arg;

	if (nl_addr_match(nlh, nlh->nlmsg_len, m->ifindex, m->addr, m->prefixlen))
		m->found = 1;
	return MNL_CB_OK;
}

struct nl *
nl_open(char *err, size_t errlen)
{
	struct nl *nl;
	struct timeval tv = { NL_TALK_TIMEOUT_MS / 1000, (NL_TALK_TIMEOUT_MS % 1000) * 1000 };

	if ((nl = xcalloc(1, sizeof(*nl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		goto fail;
	}
	/* A receive timeout bounds every wait for the kernel. */
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1) {
		snprintf(err, errlen, "SO_RCVTIMEO: %s", strerror(errno));
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return nl;
fail:
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	XFREE(nl);
	return NULL;
}

void
nl_close(struct nl *nl)
{
	if (nl == NULL)
		return;
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	xfree(nl);
}

uint32_t
nl_next_seq(struct nl *nl)
{
	return ++nl->seq;
}

uint32_t
nl_portid(const struct nl *nl)
{
	return nl->portid;
}

/* Reads until cb-run says STOP or error; bounded by NL_TALK_MAX_READS and the receive timeout. */
static int
nl_wait(struct nl *nl, uint32_t seq, mnl_cb_t cb, void *arg)
{
	ssize_t n;
	int i, rc;

	for (i = 0; i < NL_TALK_MAX_READS; i++) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EWOULDBLOCK)
				errno = EAGAIN;
			return -1;
		}
		rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, arg);
		if (rc == MNL_CB_ERROR) {
			/* A late answer to an earlier, timed-out request: skip it. */
			if (errno == EPROTO)
				continue;
			return -1;
		}
		if (rc == MNL_CB_STOP)
			return 0;
	}
	errno = EAGAIN;
	return -1;
}

int
nl_talk(struct nl *nl, void *msg, size_t len)
{
	const struct nlmsghdr *nlh = msg;

	if (mnl_socket_sendto(nl->sock, msg, len) == -1)
		return -1;
	return nl_wait(nl, nlh->nlmsg_seq, NULL, NULL);
}

int
nl_addr_present(struct nl *nl, int ifindex, struct in_addr addr, uint8_t prefixlen)
{
	uint8_t req[NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifaddrmsg))];
	struct nl_match m = { ifindex, addr, prefixlen, 0 };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t seq = nl_next_seq(nl);

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) == -1)
		return -1;
	if (nl_wait(nl, seq, nl_match_cb, &m) == -1)
		return -1;
	return m.found;
}
