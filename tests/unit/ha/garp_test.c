/* Tandem — MIT licence. Unit tests for ha/garp.c: golden bytes of the gratuitous ARP frame (nothing is sent). */
#include <arpa/inet.h>
#include <errno.h>

#include "ha/garp.h"
#include "tests/unit/common/cases.h"

static const uint8_t mac[GARP_ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void
test_golden(void **state)
{
	static const uint8_t want[GARP_FRAME_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* destination: broadcast */
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56,	/* source */
		0x08, 0x06,				/* ethertype ARP */
		0x00, 0x01,				/* hardware: Ethernet */
		0x08, 0x00,				/* protocol: IPv4 */
		0x06, 0x04,				/* address lengths */
		0x00, 0x01,				/* op: request */
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56,	/* sender MAC */
		0xc0, 0x00, 0x02, 0x0a,			/* sender IP 192.0.2.10 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* target MAC: zero */
		0xc0, 0x00, 0x02, 0x0a,			/* target IP == sender IP */
		/* padding to the 60-byte Ethernet minimum */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t buf[GARP_FRAME_LEN + 4];
	struct in_addr ip;

	CHECK(inet_pton(AF_INET, "192.0.2.10", &ip) == 1);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(garp_build(buf, sizeof(buf), mac, ip), GARP_FRAME_LEN);
	assert_memory_equal(buf, want, GARP_FRAME_LEN);
	/* Nothing written past the frame. */
	CHECK(buf[GARP_FRAME_LEN] == 0xaa && buf[GARP_FRAME_LEN + 3] == 0xaa);
}

static void
test_other_address(void **state)
{
	uint8_t buf[GARP_FRAME_LEN];
	struct in_addr ip;

	CHECK(inet_pton(AF_INET, "10.255.0.1", &ip) == 1);
	assert_int_equal(garp_build(buf, sizeof(buf), mac, ip), GARP_FRAME_LEN);
	assert_memory_equal(buf + 28, "\x0a\xff\x00\x01", 4);
	assert_memory_equal(buf + 38, "\x0a\xff\x00\x01", 4);
}

static void
test_short_buffer(void **state)
{
	uint8_t buf[GARP_FRAME_LEN];
	struct in_addr ip = { 0 };

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(garp_build(buf, GARP_FRAME_LEN - 1, mac, ip), -1);
	CHECK(buf[0] == 0xaa);
}

static void
test_send_args(void **state)
{
	struct in_addr ip = { 0 };

	/* Argument checks fail before any socket use (fd -1 is never touched). */
	assert_int_equal(garp_send(-1, 1, mac, ip, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(garp_send(-1, 1, mac, ip, GARP_BURST_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "golden bytes", test_golden, NULL);
	cases_add(&cs, "addresses land in both protocol fields", test_other_address, NULL);
	cases_add(&cs, "short buffer refused", test_short_buffer, NULL);
	cases_add(&cs, "burst size checked", test_send_args, NULL);
	return cases_run(&cs, "garp");
}
