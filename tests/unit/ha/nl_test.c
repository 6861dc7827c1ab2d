/* Tandem — MIT licence. Unit tests for ha/nl.c and ha/vip.c: golden netlink bytes, ACK parsing, errno policy. */
#include <arpa/inet.h>
#include <errno.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "ha/nl.h"
#include "ha/vip.h"
#include "tests/unit/common/cases.h"

/* Netlink is host byte order; the golden bytes below are little-endian. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LE	1
#else
#define LE	0
#endif

static struct nl_addr_req
req_make(uint16_t type, uint16_t flags)
{
	struct nl_addr_req r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.flags = flags;
	r.seq = 0x01020304;
	r.pid = 0;
	r.ifindex = 7;
	CHECK(inet_pton(AF_INET, "192.0.2.10", &r.addr) == 1);
	r.prefixlen = 24;
	r.valid_lft = 30;
	r.preferred_lft = 20;
	return r;
}

static void
test_newaddr(void **state)
{
	static const uint8_t want[] = {
		0x3c, 0x00, 0x00, 0x00,		/* nlmsg_len 60 */
		0x14, 0x00,			/* RTM_NEWADDR */
		0x05, 0x05,			/* REQUEST|ACK|REPLACE|CREATE */
		0x04, 0x03, 0x02, 0x01,		/* seq */
		0x00, 0x00, 0x00, 0x00,		/* pid */
		0x02, 0x18, 0x00, 0x00,		/* AF_INET, /24, flags 0, scope universe */
		0x07, 0x00, 0x00, 0x00,		/* ifindex 7 */
		0x08, 0x00, 0x02, 0x00,		/* IFA_LOCAL */
		0xc0, 0x00, 0x02, 0x0a,
		0x08, 0x00, 0x01, 0x00,		/* IFA_ADDRESS */
		0xc0, 0x00, 0x02, 0x0a,
		0x14, 0x00, 0x06, 0x00,		/* IFA_CACHEINFO, 16 bytes */
		0x14, 0x00, 0x00, 0x00,		/* preferred 20 s */
		0x1e, 0x00, 0x00, 0x00,		/* valid 30 s */
		0x00, 0x00, 0x00, 0x00,		/* cstamp */
		0x00, 0x00, 0x00, 0x00,		/* tstamp */
	};
	struct nl_addr_req r = req_make(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	uint8_t buf[NL_ADDR_MSG_MAX];

	if (!LE)
		skip();
	assert_int_equal(nl_addr_build(buf, sizeof(buf), &r), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* What we add is what the presence check finds. */
	assert_int_equal(nl_addr_match(buf, sizeof(want), 7, r.addr, 24), 1);
}

static void
test_deladdr(void **state)
{
	static const uint8_t want[] = {
		0x28, 0x00, 0x00, 0x00,		/* nlmsg_len 40 */
		0x15, 0x00,			/* RTM_DELADDR */
		0x05, 0x00,			/* REQUEST|ACK */
		0x04, 0x03, 0x02, 0x01,
		0x00, 0x00, 0x00, 0x00,
		0x02, 0x18, 0x00, 0x00,
		0x07, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x02, 0x00, 0xc0, 0x00, 0x02, 0x0a,
		0x08, 0x00, 0x01, 0x00, 0xc0, 0x00, 0x02, 0x0a,
	};
	struct nl_addr_req r = req_make(RTM_DELADDR, 0);
	uint8_t buf[NL_ADDR_MSG_MAX];

	if (!LE)
		skip();
	/* No lifetimes on delete even if the request carries them. */
	assert_int_equal(nl_addr_build(buf, sizeof(buf), &r), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* A DELADDR is not a present address. */
	assert_int_equal(nl_addr_match(buf, sizeof(want), 7, r.addr, 24), 0);
}

static void
test_permanent(void **state)
{
	struct nl_addr_req r = req_make(RTM_NEWADDR, 0);
	uint8_t buf[NL_ADDR_MSG_MAX];

	r.valid_lft = 0;
	/* Lifetime 0: no IFA_CACHEINFO, the kernel keeps the address forever. */
	assert_int_equal(nl_addr_build(buf, sizeof(buf), &r), 40);
}

struct build_bad_row {
	const char	*what;
	size_t		 buflen;
	uint16_t	 type;
	int		 ifindex;
	uint8_t		 prefixlen;
};

static const struct build_bad_row build_bad_rows[] = {
	{ "buffer too small", NL_ADDR_MSG_MAX - 1, RTM_NEWADDR, 7, 24 },
	{ "prefix 33", NL_ADDR_MSG_MAX, RTM_NEWADDR, 7, 33 },
	{ "ifindex 0", NL_ADDR_MSG_MAX, RTM_NEWADDR, 0, 24 },
	{ "negative ifindex", NL_ADDR_MSG_MAX, RTM_DELADDR, -1, 24 },
	{ "not an address message", NL_ADDR_MSG_MAX, RTM_NEWLINK, 7, 24 },
};

static void
test_build_bad(void **state)
{
	const struct build_bad_row *b = ROW(struct build_bad_row, state);
	struct nl_addr_req r = req_make(b->type, 0);
	uint8_t buf[NL_ADDR_MSG_MAX];

	r.ifindex = b->ifindex;
	r.prefixlen = b->prefixlen;
	assert_int_equal(nl_addr_build(buf, b->buflen, &r), 0);
}

static void
test_match(void **state)
{
	struct nl_addr_req r = req_make(RTM_NEWADDR, 0);
	struct in_addr other;
	uint8_t buf[NL_ADDR_MSG_MAX];
	size_t len;

	len = nl_addr_build(buf, sizeof(buf), &r);
	CHECK(len > 0);
	CHECK(inet_pton(AF_INET, "192.0.2.11", &other) == 1);
	assert_int_equal(nl_addr_match(buf, len, 7, r.addr, 24), 1);
	assert_int_equal(nl_addr_match(buf, len, 8, r.addr, 24), 0);
	assert_int_equal(nl_addr_match(buf, len, 7, r.addr, 32), 0);
	assert_int_equal(nl_addr_match(buf, len, 7, other, 24), 0);
	assert_int_equal(nl_addr_match(buf, len - 1, 7, r.addr, 24), 0);
	assert_int_equal(nl_addr_match(buf, 8, 7, r.addr, 24), 0);
}

/* An NLMSG_ERROR answer as the kernel writes it: header, error, the request's header. */
static size_t
err_msg(uint8_t *buf, int error, uint32_t seq, uint32_t portid)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;

	memset(buf, 0, NLMSG_SPACE(sizeof(*e)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = portid;
	e = NLMSG_DATA(nlh);
	e->error = error;
	e->msg.nlmsg_seq = seq;
	return nlh->nlmsg_len;
}

struct ack_row {
	const char	*what;
	int		 error;		/* negative errno in the answer */
	uint32_t	 seq;		/* in the answer; we wait for 100 on port 55 */
	uint32_t	 portid;
	int		 want;
	int		 want_errno;
};

static const struct ack_row ack_rows[] = {
	{ "ACK", 0, 100, 55, 0, 0 },
	{ "EEXIST", -EEXIST, 100, 55, -1, EEXIST },
	{ "EADDRNOTAVAIL", -EADDRNOTAVAIL, 100, 55, -1, EADDRNOTAVAIL },
	{ "EPERM", -EPERM, 100, 55, -1, EPERM },
	{ "answer to another request", 0, 99, 55, -1, EPROTO },
	{ "answer for another socket", 0, 100, 56, -1, ESRCH },
	{ "kernel-originated (port 0) is accepted", 0, 100, 0, 0, 0 },
};

static void
test_ack(void **state)
{
	const struct ack_row *r = ROW(struct ack_row, state);
	uint8_t buf[256];
	size_t len;
	int rc;

	len = err_msg(buf, r->error, r->seq, r->portid);
	errno = 0;
	rc = nl_ack_parse(buf, len, 100, 55);
	if (rc != r->want)
		fail_msg("%s: rc %d, want %d", r->what, rc, r->want);
	if (r->want == -1)
		assert_int_equal(errno, r->want_errno);
}

static void
test_ack_other(void **state)
{
	struct nl_addr_req r = req_make(RTM_NEWADDR, 0);
	uint8_t buf[256];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t len;

	/* A data message, not an answer: keep reading. */
	r.seq = 100;
	len = nl_addr_build(buf, sizeof(buf), &r);
	assert_int_equal(nl_ack_parse(buf, len, 100, 0), 1);
	/* NLMSG_DONE ends a dump. */
	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(int));
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_seq = 100;
	assert_int_equal(nl_ack_parse(buf, nlh->nlmsg_len, 100, 0), 0);
	/* Truncated error message. */
	len = err_msg(buf, -EEXIST, 100, 0);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	assert_int_equal(nl_ack_parse(buf, nlh->nlmsg_len, 100, 0), -1);
}

struct errno_row {
	const char	*what;
	uint16_t	 type;
	int		 err;
	int		 want;
};

static const struct errno_row errno_rows[] = {
	{ "add: EEXIST is done", RTM_NEWADDR, EEXIST, 1 },
	{ "add: EPERM fails", RTM_NEWADDR, EPERM, 0 },
	{ "add: ENODEV fails", RTM_NEWADDR, ENODEV, 0 },
	{ "add: EADDRNOTAVAIL fails", RTM_NEWADDR, EADDRNOTAVAIL, 0 },
	{ "del: EADDRNOTAVAIL is done", RTM_DELADDR, EADDRNOTAVAIL, 1 },
	{ "del: ENOENT is done", RTM_DELADDR, ENOENT, 1 },
	{ "del: ESRCH is done", RTM_DELADDR, ESRCH, 1 },
	{ "del: ENODEV is done", RTM_DELADDR, ENODEV, 1 },
	{ "del: EPERM fails", RTM_DELADDR, EPERM, 0 },
	{ "del: EEXIST fails", RTM_DELADDR, EEXIST, 0 },
	{ "other type", RTM_NEWLINK, EEXIST, 0 },
};

static void
test_errno(void **state)
{
	const struct errno_row *r = ROW(struct errno_row, state);

	assert_int_equal(vip_errno_ok(r->type, r->err), r->want);
}

static void
test_present_readonly(void **state)
{
	struct in_addr lo, absent;
	char err[128];
	struct nl *nl;
	int rc;

	/* A read-only dump on the loopback interface; no address is changed, nothing is sent. */
	if ((nl = nl_open(err, sizeof(err))) == NULL) {
		print_message("# skipped: %s\n", err);
		skip();
	}
	CHECK(inet_pton(AF_INET, "127.0.0.1", &lo) == 1);
	CHECK(inet_pton(AF_INET, "192.0.2.77", &absent) == 1);
	rc = nl_addr_present(nl, 1, lo, 8);
	CHECK(rc == 0 || rc == 1);	/* a fresh sandbox netns may have lo down and empty */
	assert_int_equal(nl_addr_present(nl, 1, absent, 32), 0);
	nl_close(nl);
	nl_close(NULL);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "golden RTM_NEWADDR with lifetimes", test_newaddr, NULL);
	cases_add(&cs, "golden RTM_DELADDR", test_deladdr, NULL);
	cases_add(&cs, "permanent address has no cacheinfo", test_permanent, NULL);
	CASES_TABLE(&cs, "build refused", test_build_bad, build_bad_rows);
	cases_add(&cs, "address match", test_match, NULL);
	CASES_TABLE(&cs, "ack", test_ack, ack_rows);
	cases_add(&cs, "data, done and truncated answers", test_ack_other, NULL);
	CASES_TABLE(&cs, "errno policy", test_errno, errno_rows);
	cases_add(&cs, "presence check (read-only dump)", test_present_readonly, NULL);
	return cases_run(&cs, "nl");
}
