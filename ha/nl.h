/* Tandem — MIT licence. rtnetlink over libmnl: address message builder, talk-with-ACK, lookups. */
#ifndef TANDEM_HA_NL_H
#define TANDEM_HA_NL_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

/* Largest message nl_addr_build() writes: nlmsghdr 16 + ifaddrmsg 8 + 2 x u32 attr 16 + cacheinfo 20. */
#define NL_ADDR_MSG_MAX		64
/* Receive buffer: dumps come in skbs of up to 32 KiB (libmnl advises >= 8 KiB). */
#define NL_RECV_BUF		32768
/* How long nl_talk() waits for the kernel's answer. */
#define NL_TALK_TIMEOUT_MS	1000
/* Bound on datagrams read while waiting for one ACK or one dump. */
#define NL_TALK_MAX_READS	64

/* An IPv4 address request, all fields host order except addr. */
struct nl_addr_req {
	uint16_t	 type;		/* RTM_NEWADDR or RTM_DELADDR */
	uint16_t	 flags;		/* NLM_F_* added to NLM_F_REQUEST | NLM_F_ACK */
	uint32_t	 seq;
	uint32_t	 pid;		/* nlmsg_pid: 0 addresses the kernel */
	int		 ifindex;
	struct in_addr	 addr;		/* network order */
	uint8_t		 prefixlen;	/* 0..32 */
	/*
	 * Seconds. With valid_lft != 0 on RTM_NEWADDR an IFA_CACHEINFO attribute makes the
	 * kernel expire the address by itself unless it is renewed (0xffffffff: forever).
	 */
	uint32_t	 valid_lft;
	uint32_t	 preferred_lft;
};

struct nl;

/*
 * Builds the request into buf (OUT; zeroed first): nlmsghdr, ifaddrmsg (AF_INET, prefixlen,
 * scope universe, ifindex), IFA_LOCAL, IFA_ADDRESS, then IFA_CACHEINFO when asked. Pure.
 * Returns the message length, or 0 if buflen < NL_ADDR_MSG_MAX or the request is invalid.
 */
size_t		 nl_addr_build(void *buf, size_t buflen, const struct nl_addr_req *req);

/*
 * Parses a kernel answer to request seq on port portid. 0: ACK; 1: no ACK in these messages
 * (read more); -1: errno is the kernel's error (or EPROTO / ESRCH for a malformed or foreign
 * answer). Pure.
 */
int		 nl_ack_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid);

/* 1 if the RTM_NEWADDR message at msg (len bytes) is addr/prefixlen on ifindex, else 0. Pure. */
int		 nl_addr_match(const void *msg, size_t len, int ifindex, struct in_addr addr,
		    uint8_t prefixlen);

/* NETLINK_ROUTE socket, bound, close-on-exec. NULL with a message in err. Needs no privilege. */
struct nl	*nl_open(char *err, size_t errlen);
void		 nl_close(struct nl *);
uint32_t	 nl_next_seq(struct nl *);
uint32_t	 nl_portid(const struct nl *);

/*
 * Sends msg (its nlmsg_seq must be a value from nl_next_seq) and waits up to
 * NL_TALK_TIMEOUT_MS for the ACK. 0, or -1 with errno: the kernel's error, EAGAIN on timeout.
 */
int		 nl_talk(struct nl *, void *msg, size_t len);

/* Whether addr/prefixlen is configured on ifindex (RTM_GETADDR dump). 1, 0, or -1 with errno. */
int		 nl_addr_present(struct nl *, int ifindex, struct in_addr addr, uint8_t prefixlen);

#endif
