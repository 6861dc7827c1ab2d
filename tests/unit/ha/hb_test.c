/* Tandem — MIT licence. Unit tests for ha/hb.c: layout, ordered validation, one counter per reason, replay. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include <event2/event.h>

#include "ha/hb.h"
#include "ha/hb_auth.h"
#include "tests/unit/common/cases.h"

#define CLUSTER		0x7a6e0001u
#define ME		1u
#define PEER		2u

static const char key_a[] = "tandem-test-key-AAAAAAAAAAAAAAAA";
static const char key_b[] = "tandem-test-key-BBBBBBBBBBBBBBBB";

static void
cfg_make(struct hb_config *cfg, uint32_t node, const char *key)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cluster_id = CLUSTER;
	cfg->node_id = node;
	CHECK(hb_key_set(&cfg->key, key, strlen(key)) == 0);
}

static void
adv_make(struct hb_advert *a, uint64_t counter)
{
	memset(a, 0, sizeof(*a));
	a->role = HB_ROLE_ACTIVE;
	a->flags = HB_F_HEALTHY | HB_F_TRACK_OK;
	a->node_id = PEER;
	a->priority = 150;
	a->interval_ms = 100;
	a->term = 0x0102030405060708ull;
	a->log_pos = 0x1111222233334444ull;
	a->ack_pos = 0x1111222233330000ull;
	a->counter = counter;
	a->echo = 7;
}

/* Re-signs a mutated body with the sender's key, so only the intended check can fail. */
static void
resign(uint8_t *pkt, const char *key)
{
	struct hb_key k;

	CHECK(hb_key_set(&k, key, strlen(key)) == 0);
	CHECK(hb_auth_mac(&k, pkt, HB_BODY_LEN, pkt + HB_OFF_MAC) == 0);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* ---- layout ---- */

static void
test_golden(void **state)
{
	static const uint8_t want[HB_BODY_LEN] = {
		0x54, 0x48, 0x42, 0x31,		/* magic "THB1" */
		0x02,				/* version */
		0x02,				/* role active */
		0x00, 0x03,			/* flags healthy|track_ok */
		0x7a, 0x6e, 0x00, 0x01,		/* cluster */
		0x00, 0x00, 0x00, 0x02,		/* node */
		0x96,				/* priority 150 */
		0x00,				/* reserved */
		0x00, 0x64,			/* interval 100 */
		0x00, 0x00, 0x00, 0x00,		/* reserved */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,	/* term */
		0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44,	/* log_pos */
		0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x00, 0x00,	/* ack_pos */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,	/* counter 42 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,	/* echo 7 */
	};
	struct hb_config tx;
	struct hb_advert a;
	struct hb_key k;
	uint8_t pkt[HB_PKT_LEN], mac[HB_MAC_LEN];

	cfg_make(&tx, PEER, key_a);
	adv_make(&a, 42);
	assert_int_equal(hb_encode(&tx, &a, pkt, sizeof(pkt)), HB_PKT_LEN);
	assert_memory_equal(pkt, want, sizeof(want));
	CHECK(hb_key_set(&k, key_a, strlen(key_a)) == 0);
	CHECK(hb_auth_mac(&k, want, sizeof(want), mac) == 0);
	assert_memory_equal(pkt + HB_OFF_MAC, mac, HB_MAC_LEN);
	assert_int_equal(hb_encode(&tx, &a, pkt, HB_PKT_LEN - 1), -1);
}

static void
test_hmac_rfc4231(void **state)
{
	/* RFC 4231 test case 2: the MAC primitive is plain HMAC-SHA256. */
	static const uint8_t want[HB_MAC_LEN] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26,
		0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	static const char msg[] = "what do ya want for nothing?";
	struct hb_key k = { .len = 4 };
	uint8_t mac[HB_MAC_LEN];

	memcpy(k.k, "Jefe", 4);
	CHECK(hb_auth_mac(&k, (const uint8_t *)msg, strlen(msg), mac) == 0);
	assert_memory_equal(mac, want, HB_MAC_LEN);
	CHECK(hb_auth_verify(&k, (const uint8_t *)msg, strlen(msg), want) == 1);
	mac[31] ^= 1;
	CHECK(hb_auth_verify(&k, (const uint8_t *)msg, strlen(msg), mac) == 0);
}

static void
test_key_bounds(void **state)
{
	struct hb_key k;
	uint8_t big[HB_KEY_MAX + 1] = { 0 };

	assert_int_equal(hb_key_set(&k, big, HB_KEY_MIN - 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hb_key_set(&k, big, HB_KEY_MAX + 1), -1);
	assert_int_equal(hb_key_set(&k, big, HB_KEY_MIN), 0);
	assert_int_equal(hb_key_set(&k, big, HB_KEY_MAX), 0);
	assert_int_equal(k.len, HB_KEY_MAX);
}

static void
test_round_trip(void **state)
{
	struct hb_config tx, rx;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { PEER, 0, 0 };
	struct hb_advert a, got;
	uint8_t pkt[HB_PKT_LEN];
	int r, i;

	cfg_make(&tx, PEER, key_a);
	cfg_make(&rx, ME, key_a);
	for (r = 0; r < HB_ROLE_MAX; r++) {
		adv_make(&a, 1000 + (uint64_t)r);
		a.role = (uint8_t)r;
		a.flags = (uint16_t)(r == 0 ? 0 : HB_F_ALL);
		a.priority = (uint8_t)(r * 80);
		a.ack_pos = a.log_pos = UINT64_MAX;
		CHECK(hb_encode(&tx, &a, pkt, sizeof(pkt)) == HB_PKT_LEN);
		memset(&got, 0xee, sizeof(got));
		assert_int_equal(hb_validate(&rx, &peer, &ctr, pkt, sizeof(pkt), &got), HB_OK);
		a.cluster_id = CLUSTER;
		assert_memory_equal(&got, &a, sizeof(a));
		assert_int_equal(peer.last_counter, a.counter);
	}
	assert_int_equal(ctr.c[HB_OK], HB_ROLE_MAX);
	for (i = 1; i < HB_REASON_MAX; i++)
		assert_int_equal(ctr.c[i], 0);
}

/* ---- one reason per malformed field ---- */

struct bad_row {
	const char	*what;
	void		(*mutate)(uint8_t *pkt, size_t *len, struct hb_config *rx,
			    struct hb_peer *peer);
	int		 resign;	/* re-sign after mutating, so the MAC is valid */
	enum hb_reason	 want;
};

static void m_null(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { }
static void m_empty(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { *l = 0; }
static void m_short(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { *l = HB_PKT_LEN - 1; }
static void m_body(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { *l = HB_BODY_LEN; }
static void m_long(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { *l = HB_PKT_LEN + 1; }
static void m_magic(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_MAGIC + 3] = '2'; }
static void m_version0(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_VERSION] = 0; }
static void m_version1(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_VERSION] = 1; }
static void m_version3(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_VERSION] = 3; }
/* Our run began after the counter the packet echoes (7): stale, or the sender has not heard us. */
static void m_echo_old(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { c->own_first = 8; }
static void m_echo_first(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { c->own_first = 7; }
static void m_echo_zero(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { c->own_first = 1; put64(p + HB_OFF_ECHO, 0); }
static void m_echo_changed(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_ECHO] ^= 0x40; }
static void m_cluster(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put32(p + HB_OFF_CLUSTER, CLUSTER + 1); }
static void m_mac(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_MAC + 31] ^= 0x01; }
static void m_term(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_TERM + 7] ^= 0x01; }
static void m_counter(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_COUNTER + 7] ^= 0x80; }
static void m_key(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { CHECK(hb_key_set(&c->key, key_b, strlen(key_b)) == 0); }
static void m_key_len(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { c->key.len--; }
static void m_ctr0(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put64(p + HB_OFF_COUNTER, 0); }
static void m_ctr_eq(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { pe->seen = 1; pe->last_counter = 500; }
static void m_ctr_lt(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { pe->seen = 1; pe->last_counter = 501; }
static void m_role4(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_ROLE] = HB_ROLE_MAX; }
static void m_role255(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_ROLE] = 255; }
static void m_node0(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put32(p + HB_OFF_NODE, 0); }
static void m_node_me(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put32(p + HB_OFF_NODE, ME); }
static void m_node_other(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put32(p + HB_OFF_NODE, 3); }
static void m_rsv1(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_RSV1] = 1; }
static void m_rsv2(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_RSV2 + 3] = 1; }
static void m_flags(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_FLAGS] = 0x80; }
static void m_interval(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { p[HB_OFF_INTERVAL] = 0; p[HB_OFF_INTERVAL + 1] = 0; }
static void m_ack(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { put64(p + HB_OFF_ACKPOS, 0x1111222233334445ull); }
/* Several defects at once: the first in check order is the one counted. */
static void m_magic_cluster(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_magic(p, l, c, pe); m_cluster(p, l, c, pe); }
static void m_short_magic(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_magic(p, l, c, pe); m_short(p, l, c, pe); }
static void m_version_cluster(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_version3(p, l, c, pe); m_cluster(p, l, c, pe); }
static void m_ack_echo(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_ack(p, l, c, pe); m_echo_old(p, l, c, pe); }
static void m_cluster_mac(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_cluster(p, l, c, pe); m_mac(p, l, c, pe); }
static void m_mac_replay(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_mac(p, l, c, pe); m_ctr_eq(p, l, c, pe); }
static void m_replay_role(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_role4(p, l, c, pe); m_ctr_eq(p, l, c, pe); }
static void m_role_node(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_role4(p, l, c, pe); m_node0(p, l, c, pe); }
static void m_node_ack(uint8_t *p, size_t *l, struct hb_config *c, struct hb_peer *pe) { m_node_me(p, l, c, pe); m_ack(p, l, c, pe); }

static const struct bad_row bad_rows[] = {
	{ "valid packet is accepted", m_null, 0, HB_OK },
	{ "empty", m_empty, 0, HB_BAD_LEN },
	{ "truncated by one byte", m_short, 0, HB_BAD_LEN },
	{ "body without MAC", m_body, 0, HB_BAD_LEN },
	{ "one byte too long", m_long, 0, HB_BAD_LEN },
	{ "magic", m_magic, 1, HB_BAD_MAGIC },
	{ "magic, MAC not fixed", m_magic, 0, HB_BAD_MAGIC },
	{ "version 0", m_version0, 1, HB_BAD_VERSION },
	{ "version 1 (the layout before the echo)", m_version1, 1, HB_BAD_VERSION },
	{ "version 3", m_version3, 1, HB_BAD_VERSION },
	{ "cluster id", m_cluster, 1, HB_BAD_CLUSTER },
	{ "MAC bit flipped", m_mac, 0, HB_BAD_MAC },
	{ "term changed, not re-signed", m_term, 0, HB_BAD_MAC },
	{ "counter changed, not re-signed", m_counter, 0, HB_BAD_MAC },
	{ "wrong key", m_key, 0, HB_BAD_MAC },
	{ "key one byte shorter", m_key_len, 0, HB_BAD_MAC },
	{ "counter 0", m_ctr0, 1, HB_REPLAY },
	{ "counter equal to last accepted", m_ctr_eq, 0, HB_REPLAY },
	{ "counter below last accepted", m_ctr_lt, 0, HB_REPLAY },
	{ "role out of range", m_role4, 1, HB_BAD_ROLE },
	{ "role 255", m_role255, 1, HB_BAD_ROLE },
	{ "node id 0", m_node0, 1, HB_BAD_NODE },
	{ "our own node id (reflected)", m_node_me, 1, HB_BAD_NODE },
	{ "not the configured peer", m_node_other, 1, HB_BAD_NODE },
	{ "reserved byte", m_rsv1, 1, HB_BAD_PAYLOAD },
	{ "reserved word", m_rsv2, 1, HB_BAD_PAYLOAD },
	{ "unknown flag", m_flags, 1, HB_BAD_PAYLOAD },
	{ "interval 0", m_interval, 1, HB_BAD_PAYLOAD },
	{ "ack beyond log position", m_ack, 1, HB_BAD_PAYLOAD },
	{ "echo changed, not re-signed", m_echo_changed, 0, HB_BAD_MAC },
	{ "echo below our first counter (stale or unheard)", m_echo_old, 0, HB_UNPROVEN },
	{ "echo 0: the sender heard nothing of us", m_echo_zero, 1, HB_UNPROVEN },
	{ "echo equal to our first counter is fresh", m_echo_first, 0, HB_OK },
	{ "order: length before magic", m_short_magic, 0, HB_BAD_LEN },
	{ "order: magic before cluster", m_magic_cluster, 1, HB_BAD_MAGIC },
	{ "order: version before cluster", m_version_cluster, 1, HB_BAD_VERSION },
	{ "order: cluster before MAC", m_cluster_mac, 0, HB_BAD_CLUSTER },
	{ "order: MAC before replay", m_mac_replay, 0, HB_BAD_MAC },
	{ "order: replay before role", m_replay_role, 1, HB_REPLAY },
	{ "order: role before node", m_role_node, 1, HB_BAD_ROLE },
	{ "order: node before other payload", m_node_ack, 1, HB_BAD_NODE },
	{ "order: payload before echo", m_ack_echo, 1, HB_BAD_PAYLOAD },
};

static void
test_bad(void **state)
{
	const struct bad_row *r = ROW(struct bad_row, state);
	struct hb_config tx, rx;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { PEER, 0, 0 }, before;
	struct hb_advert a, got, untouched;
	uint8_t pkt[HB_PKT_LEN + 8];
	size_t len = HB_PKT_LEN;
	enum hb_reason got_r;
	int i;

	cfg_make(&tx, PEER, key_a);
	cfg_make(&rx, ME, key_a);
	adv_make(&a, 500);
	memset(pkt, 0, sizeof(pkt));
	CHECK(hb_encode(&tx, &a, pkt, sizeof(pkt)) == HB_PKT_LEN);
	r->mutate(pkt, &len, &rx, &peer);
	if (r->resign)
		resign(pkt, key_a);
	before = peer;
	memset(&got, 0x5a, sizeof(got));
	untouched = got;
	got_r = hb_validate(&rx, &peer, &ctr, pkt, len, &got);
	if (got_r != r->want)
		fail_msg("%s: got %s, want %s", r->what, hb_reason_name(got_r),
		    hb_reason_name(r->want));
	for (i = 0; i < HB_REASON_MAX; i++)
		if (ctr.c[i] != (i == (int)r->want ? 1u : 0u))
			fail_msg("%s: counter %s is %llu", r->what, hb_reason_name(i),
			    (unsigned long long)ctr.c[i]);
	if (r->want == HB_UNPROVEN) {
		/* Authentic and in order: the replay state advances (we echo it); no output. */
		assert_int_equal(peer.last_counter, 500);
		assert_memory_equal(&got, &untouched, sizeof(got));
	} else if (r->want != HB_OK) {
		/* A rejected packet changes neither the replay state nor the output. */
		assert_memory_equal(&peer, &before, sizeof(peer));
		assert_memory_equal(&got, &untouched, sizeof(got));
	} else
		assert_int_equal(peer.last_counter, 500);
}

static void
test_null_buffer(void **state)
{
	struct hb_config rx;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { 0, 0, 0 };

	cfg_make(&rx, ME, key_a);
	assert_int_equal(hb_validate(&rx, &peer, &ctr, NULL, HB_PKT_LEN, NULL), HB_BAD_LEN);
	assert_int_equal(ctr.c[HB_BAD_LEN], 1);
}

/* ---- replay ---- */

static enum hb_reason
send_one(const struct hb_config *tx, const struct hb_config *rx, struct hb_peer *peer,
    struct hb_counters *ctr, uint64_t counter, uint8_t role)
{
	struct hb_advert a;
	uint8_t pkt[HB_PKT_LEN];

	adv_make(&a, counter);
	a.role = role;
	CHECK(hb_encode(tx, &a, pkt, sizeof(pkt)) == HB_PKT_LEN);
	return hb_validate(rx, peer, ctr, pkt, sizeof(pkt), NULL);
}

static void
test_replay(void **state)
{
	struct hb_config tx, rx;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { 0, 0, 0 };
	struct hb_advert a;
	uint8_t old[HB_PKT_LEN];

	cfg_make(&tx, PEER, key_a);
	cfg_make(&rx, ME, key_a);
	adv_make(&a, 10);
	CHECK(hb_encode(&tx, &a, old, sizeof(old)) == HB_PKT_LEN);
	/* The first packet from an unknown peer: any counter > 0. */
	assert_int_equal(hb_validate(&rx, &peer, &ctr, old, sizeof(old), NULL), HB_OK);
	/* The very same bytes again: a replay. */
	assert_int_equal(hb_validate(&rx, &peer, &ctr, old, sizeof(old), NULL), HB_REPLAY);
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 11, HB_ROLE_ACTIVE), HB_OK);
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 11, HB_ROLE_ACTIVE), HB_REPLAY);
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 9, HB_ROLE_ACTIVE), HB_REPLAY);
	/* Gaps are fine (lost datagrams). */
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 1000, HB_ROLE_ACTIVE), HB_OK);
	/* A rejected payload does not advance the counter... */
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 5000, 9), HB_BAD_ROLE);
	assert_int_equal(peer.last_counter, 1000);
	/* ...so a later valid packet below it is still accepted. */
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, 1001, HB_ROLE_ACTIVE), HB_OK);
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, UINT64_MAX, HB_ROLE_ACTIVE), HB_OK);
	assert_int_equal(send_one(&tx, &rx, &peer, &ctr, UINT64_MAX, HB_ROLE_ACTIVE), HB_REPLAY);
	assert_int_equal(ctr.c[HB_OK], 5);
	assert_int_equal(ctr.c[HB_REPLAY], 4);
	assert_int_equal(ctr.c[HB_BAD_ROLE], 1);
	/* The seed of a restarted sender exceeds a small counter. */
	CHECK(hb_counter_seed() > 1000000);
}

/*
 * Freshness by echo. Two nodes start with no knowledge of each other: the first packet each
 * way is unproven, the replies prove themselves. A receiver that restarts ignores packets
 * written before its restart (delivered late, as from a neighbour queue), however authentic.
 */
static void
test_echo(void **state)
{
	struct hb_config cfa, cfb;
	struct hb_counters ca = { { 0 } }, cb = { { 0 } };
	struct hb_peer pa = { PEER, 0, 0 }, pb = { ME, 0, 0 };	/* a's view of b, b's of a */
	struct hb_advert x, got;
	uint8_t stale[HB_PKT_LEN], pkt[HB_PKT_LEN];
	uint64_t a_ctr = 1000, b_ctr = 2000;

	cfg_make(&cfa, ME, key_a);
	cfg_make(&cfb, PEER, key_a);
	cfa.own_first = a_ctr;
	cfb.own_first = b_ctr;
#define SEND(from_cfg, from_node, ctr, echo_peer, out) do {			\
	adv_make(&x, (ctr)++);							\
	x.node_id = (from_node);						\
	x.echo = (echo_peer).seen ? (echo_peer).last_counter : 0;		\
	CHECK(hb_encode(&(from_cfg), &x, (out), HB_PKT_LEN) == HB_PKT_LEN);	\
} while (0)
	/* b speaks first: a has heard nothing from b, b nothing from a. */
	SEND(cfb, PEER, b_ctr, pb, pkt);
	assert_int_equal(hb_validate(&cfa, &pa, &ca, pkt, HB_PKT_LEN, &got), HB_UNPROVEN);
	/* a's reply echoes b's counter: fresh for b; b's next echoes a's: fresh for a. */
	SEND(cfa, ME, a_ctr, pa, pkt);
	assert_int_equal(hb_validate(&cfb, &pb, &cb, pkt, HB_PKT_LEN, &got), HB_OK);
	assert_int_equal(got.echo, 2000);
	SEND(cfb, PEER, b_ctr, pb, pkt);
	assert_int_equal(hb_validate(&cfa, &pa, &ca, pkt, HB_PKT_LEN, &got), HB_OK);
	assert_int_equal(got.echo, 1000);
	/* b writes a packet that the network holds; then a restarts (new run, no peer state). */
	SEND(cfb, PEER, b_ctr, pb, stale);
	cfa.own_first = a_ctr = 90000;
	memset(&pa, 0, sizeof(pa));
	pa.expect_node = PEER;
	assert_int_equal(hb_validate(&cfa, &pa, &ca, stale, HB_PKT_LEN, &got), HB_UNPROVEN);
	/* b hears the new a, and its next packet is fresh again. */
	SEND(cfa, ME, a_ctr, pa, pkt);
	assert_int_equal(hb_validate(&cfb, &pb, &cb, pkt, HB_PKT_LEN, &got), HB_OK);
	SEND(cfb, PEER, b_ctr, pb, pkt);
	assert_int_equal(hb_validate(&cfa, &pa, &ca, pkt, HB_PKT_LEN, &got), HB_OK);
	assert_int_equal(got.echo, 90000);
#undef SEND
	assert_int_equal(ca.c[HB_UNPROVEN], 2);
	assert_int_equal(ca.c[HB_OK], 2);
	assert_int_equal(cb.c[HB_OK], 2);
}

static void
test_names(void **state)
{
	int i, j;

	for (i = 0; i < HB_REASON_MAX; i++) {
		CHECK(hb_reason_name(i) != NULL);
		CHECK(strcmp(hb_reason_name(i), "unknown") != 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(hb_reason_name(i), hb_reason_name(j)) != 0);
	}
	assert_string_equal(hb_reason_name(HB_REASON_MAX), "unknown");
	assert_string_equal(hb_reason_name(HB_BAD_MAC), "bad_hmac");
	for (i = 0; i < HB_ROLE_MAX; i++)
		CHECK(strcmp(hb_role_name(i), "unknown") != 0);
	assert_string_equal(hb_role_name(HB_ROLE_MAX), "unknown");
}

/* ---- sockets: 127.0.0.1 only ---- */

static int
loop_socket(struct sockaddr_in *sin)
{
	socklen_t sl = sizeof(*sin);
	char err[128];
	int fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = hb_socket((struct sockaddr *)sin, sizeof(*sin), err, sizeof(err));
	if (fd == -1)
		fail_msg("hb_socket: %s", err);
	CHECK(getsockname(fd, (struct sockaddr *)sin, &sl) == 0);
	return fd;
}

static void
test_udp_loopback(void **state)
{
	struct hb_config tx, rx;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { PEER, 0, 0 };
	struct hb_advert a, got;
	struct sockaddr_in sin;
	uint64_t counter = 77;
	uint8_t junk[HB_PKT_LEN * 2];
	int fd;

	cfg_make(&tx, PEER, key_a);
	cfg_make(&rx, ME, key_a);
	fd = loop_socket(&sin);
	assert_int_equal(hb_recv(fd, &rx, &peer, &ctr, &got, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	adv_make(&a, 0);
	assert_int_equal(hb_send(fd, (struct sockaddr *)&sin, sizeof(sin), &tx, &a, &counter), 0);
	assert_int_equal(counter, 78);
	assert_int_equal(hb_recv(fd, &rx, &peer, &ctr, &got, NULL), HB_OK);
	assert_int_equal(got.counter, 77);
	assert_int_equal(got.term, a.term);
	/* An oversized datagram is a length error, not a truncated read of a valid one. */
	memset(junk, 0, sizeof(junk));
	CHECK(hb_encode(&tx, &a, junk, sizeof(junk)) == HB_PKT_LEN);
	CHECK(sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&sin, sizeof(sin)) ==
	    (ssize_t)sizeof(junk));
	assert_int_equal(hb_recv(fd, &rx, &peer, &ctr, &got, NULL), HB_BAD_LEN);
	close(fd);
}

struct cb_count {
	int	 n;
	uint64_t last;
};

static void
count_cb(const struct hb_advert *adv, void *arg)
{
	struct cb_count *c = arg;

	c->n++;
	c->last = adv->counter;
}

static void
test_listener(void **state)
{
	struct hb_config tx, rx, stranger;
	struct hb_counters ctr = { { 0 } };
	struct hb_peer peer = { PEER, 0, 0 };
	struct hb_advert a;
	struct hb_listener *l;
	struct event_base *base;
	struct sockaddr_in sin;
	struct cb_count cc = { 0, 0 };
	uint64_t counter = 1;
	int fd, i;

	cfg_make(&tx, PEER, key_a);
	cfg_make(&rx, ME, key_a);
	cfg_make(&stranger, 3, key_b);
	fd = loop_socket(&sin);
	CHECK((base = event_base_new()) != NULL);
	CHECK((l = hb_listener_new(base, fd, &rx, &peer, &ctr, count_cb, &cc)) != NULL);
	adv_make(&a, 0);
	for (i = 0; i < 3; i++)
		CHECK(hb_send(fd, (struct sockaddr *)&sin, sizeof(sin), &tx, &a, &counter) == 0);
	/* And one from a stranger with another key. */
	CHECK(hb_send(fd, (struct sockaddr *)&sin, sizeof(sin), &stranger, &a, &counter) == 0);
	for (i = 0; i < 10 && ctr.c[HB_OK] + ctr.c[HB_BAD_MAC] < 4; i++)
		CHECK(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) != -1);
	assert_int_equal(cc.n, 3);
	assert_int_equal(cc.last, 3);
	assert_int_equal(ctr.c[HB_OK], 3);
	assert_int_equal(ctr.c[HB_BAD_MAC], 1);
	hb_listener_free(l);
	hb_listener_free(NULL);
	event_base_free(base);
	close(fd);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "golden body bytes and MAC", test_golden, NULL);
	cases_add(&cs, "HMAC-SHA256 matches RFC 4231 case 2", test_hmac_rfc4231, NULL);
	cases_add(&cs, "key length bounds", test_key_bounds, NULL);
	cases_add(&cs, "round trip, every role", test_round_trip, NULL);
	CASES_TABLE(&cs, "validate", test_bad, bad_rows);
	cases_add(&cs, "NULL buffer is a length error", test_null_buffer, NULL);
	cases_add(&cs, "replay rejected, rejected packets do not advance", test_replay, NULL);
	cases_add(&cs, "echo: first packets unproven, replies fresh; stale after a restart",
	    test_echo, NULL);
	cases_add(&cs, "reason and role names", test_names, NULL);
	cases_add(&cs, "UDP send/recv on 127.0.0.1", test_udp_loopback, NULL);
	cases_add(&cs, "libevent listener drains and filters", test_listener, NULL);
	return cases_run(&cs, "hb");
}
