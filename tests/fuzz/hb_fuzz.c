/* Tandem — MIT licence. libFuzzer target: heartbeat validation (ha/hb.c), plus its seed generator. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha/hb.h"
#include "ha/hb_auth.h"

/*
 * Input: one mode byte, then the datagram.
 *   mode & 1  re-sign: if the datagram is a whole packet, its MAC is recomputed with the shared
 *             key first, so the fuzzer reaches the replay and payload checks it could never
 *             reach by guessing an HMAC;
 *   mode & 2  the receiver expects a specific peer node id (FUZZ_PEER);
 *   mode & 4  a packet with counter FUZZ_LAST was accepted before.
 * The receiver's run began at counter FUZZ_OWN_FIRST: a packet echoing less is unproven.
 * Invariants: exactly one counter moves, and it is the returned reason; a rejected packet
 * changes neither the peer state nor the output (an unproven one advances the peer state
 * only); an accepted packet is canonical (encoding
 * the decoded advert gives back the same bytes) and the same bytes again are a replay.
 *
 * Built with -DHB_FUZZ_GEN it is instead the seed generator: `hb_fuzz_gen CORPUS_ROOT` writes
 * CORPUS_ROOT/hb/<seed> (tests/unit/ha/gen_hb_corpus.sh runs it on tests/fuzz/corpus;
 * //tests/fuzz:hb_corpus_test checks the committed seeds are current).
 */

#define FUZZ_CLUSTER	0x7a6e0001u
#define FUZZ_ME		1u
#define FUZZ_PEER	2u
#define FUZZ_LAST	1000u
#define FUZZ_OWN_FIRST	500u
#define FUZZ_KEY	"tandem-fuzz-key-0123456789abcdef"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "hb_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort();						\
	}								\
} while (0)

static void
fuzz_cfg(struct hb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cluster_id = FUZZ_CLUSTER;
	cfg->node_id = FUZZ_ME;
	cfg->own_first = FUZZ_OWN_FIRST;
	CHECK(hb_key_set(&cfg->key, FUZZ_KEY, strlen(FUZZ_KEY)) == 0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hb_config cfg;
	static int ready;
	struct hb_counters ctr;
	struct hb_peer peer, before;
	struct hb_advert adv, untouched;
	uint8_t pkt[HB_PKT_LEN + 64], again[HB_PKT_LEN];
	const uint8_t *in;
	enum hb_reason r;
	uint64_t sum;
	uint8_t mode;
	size_t n, i;

	if (!ready) {
		fuzz_cfg(&cfg);
		ready = 1;
	}
	if (size == 0)
		return 0;
	mode = data[0];
	n = size - 1;
	if (n > sizeof(pkt)) {
		in = data + 1;		/* a length error all the same: validated in place */
	} else {
		memcpy(pkt, data + 1, n);
		in = pkt;
	}
	if ((mode & 1) && n == HB_PKT_LEN)
		CHECK(hb_auth_mac(&cfg.key, pkt, HB_BODY_LEN, pkt + HB_OFF_MAC) == 0);

	memset(&peer, 0, sizeof(peer));
	if (mode & 2)
		peer.expect_node = FUZZ_PEER;
	if (mode & 4) {
		peer.seen = 1;
		peer.last_counter = FUZZ_LAST;
	}
	before = peer;
	memset(&ctr, 0, sizeof(ctr));
	memset(&adv, 0xa5, sizeof(adv));
	untouched = adv;

	r = hb_validate(&cfg, &peer, &ctr, in, n, &adv);
	CHECK((unsigned)r < HB_REASON_MAX);
	for (sum = 0, i = 0; i < HB_REASON_MAX; i++)
		sum += ctr.c[i];
	CHECK(sum == 1 && ctr.c[r] == 1);
	CHECK(hb_reason_name(r) != NULL);
	if (r == HB_UNPROVEN) {
		CHECK(n == HB_PKT_LEN && peer.seen && peer.last_counter > before.last_counter);
		CHECK(memcmp(&adv, &untouched, sizeof(adv)) == 0);
		return 0;
	}
	if (r != HB_OK) {
		CHECK(memcmp(&peer, &before, sizeof(peer)) == 0);
		CHECK(memcmp(&adv, &untouched, sizeof(adv)) == 0);
		return 0;
	}
	CHECK(n == HB_PKT_LEN);
	CHECK(adv.role < HB_ROLE_MAX && adv.ack_pos <= adv.log_pos && adv.counter != 0);
	CHECK(adv.node_id != FUZZ_ME && adv.node_id != 0 && adv.echo >= FUZZ_OWN_FIRST);
	CHECK(peer.seen && peer.last_counter == adv.counter);
	CHECK(hb_encode(&cfg, &adv, again, sizeof(again)) == HB_PKT_LEN);
	CHECK(memcmp(again, pkt, HB_PKT_LEN) == 0);
	CHECK(hb_validate(&cfg, &peer, &ctr, pkt, HB_PKT_LEN, NULL) == HB_REPLAY);
	return 0;
}

#ifdef HB_FUZZ_GEN

#include <sys/stat.h>

static int
put_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "hb_fuzz_gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(&mode, 1, 1, f) != 1 || (len > 0 && fwrite(p, 1, len, f) != len)) {
		fprintf(stderr, "hb_fuzz_gen: %s: write failed\n", path);
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return 0;
}

static void
base_advert(struct hb_advert *a)
{
	memset(a, 0, sizeof(*a));
	a->role = HB_ROLE_ACTIVE;
	a->flags = HB_F_HEALTHY | HB_F_TRACK_OK;
	a->node_id = FUZZ_PEER;
	a->priority = 100;
	a->interval_ms = 100;
	a->term = 3;
	a->log_pos = 5000;
	a->ack_pos = 4990;
	a->counter = FUZZ_LAST + 1;
	a->echo = FUZZ_OWN_FIRST;
}

/* Field edits for the re-signed seeds: {name, offset, byte value}. */
static const struct {
	const char	*name;
	size_t		 off;
	uint8_t		 val;
} edits[] = {
	{ "resign-bad-role", HB_OFF_ROLE, HB_ROLE_MAX },
	{ "resign-node-zero", HB_OFF_NODE + 3, 0 },
	{ "resign-node-self", HB_OFF_NODE + 3, FUZZ_ME },
	{ "resign-node-other", HB_OFF_NODE + 3, 3 },
	{ "resign-reserved1", HB_OFF_RSV1, 1 },
	{ "resign-reserved2", HB_OFF_RSV2 + 2, 1 },
	{ "resign-flags-unknown", HB_OFF_FLAGS, 0x40 },
	{ "resign-interval-zero", HB_OFF_INTERVAL + 1, 0 },
	{ "resign-ack-over-log", HB_OFF_ACKPOS + 5, 0xff },
	{ "resign-counter-old", HB_OFF_COUNTER + 6, 0 },
	{ "resign-echo-old", HB_OFF_ECHO + 6, 0 },
	{ "unsigned-bad-magic", HB_OFF_MAGIC, 'X' },
	{ "unsigned-bad-version", HB_OFF_VERSION, 9 },
	{ "unsigned-bad-cluster", HB_OFF_CLUSTER + 3, 2 },
	{ "unsigned-bad-mac", HB_OFF_MAC + 5, 0 },
	{ "unsigned-body-edit", HB_OFF_TERM + 7, 4 },
};

int
main(int argc, char *argv[])
{
	struct hb_config cfg;
	struct hb_advert a;
	uint8_t pkt[HB_PKT_LEN], copy[HB_PKT_LEN + 1];
	char root[4000];
	const char *dir;
	size_t i;
	int r, fail = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: hb_fuzz_gen CORPUS_ROOT\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s/hb", argv[1]);
	if (mkdir(argv[1], 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "hb_fuzz_gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (mkdir(root, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "hb_fuzz_gen: %s: %s\n", root, strerror(errno));
		return 1;
	}
	dir = root;
	fuzz_cfg(&cfg);
	base_advert(&a);
	CHECK(hb_encode(&cfg, &a, pkt, sizeof(pkt)) == HB_PKT_LEN);

	fail |= put_seed(dir, "valid-active", 0, pkt, sizeof(pkt));
	fail |= put_seed(dir, "valid-active-expect-peer", 2, pkt, sizeof(pkt));
	fail |= put_seed(dir, "valid-after-last", 4, pkt, sizeof(pkt));
	for (r = 0; r < HB_ROLE_MAX; r++) {
		char name[64];

		base_advert(&a);
		a.role = (uint8_t)r;
		a.flags = (uint16_t)(r == HB_ROLE_FAULT ? 0 : HB_F_ALL);
		a.log_pos = a.ack_pos = UINT64_MAX;
		a.counter = UINT64_MAX;
		CHECK(hb_encode(&cfg, &a, copy, sizeof(copy)) == HB_PKT_LEN);
		snprintf(name, sizeof(name), "valid-%s-max", hb_role_name(r));
		fail |= put_seed(dir, name, 0, copy, HB_PKT_LEN);
	}
	fail |= put_seed(dir, "empty", 0, pkt, 0);
	fail |= put_seed(dir, "truncated", 0, pkt, HB_PKT_LEN - 1);
	fail |= put_seed(dir, "body-only", 1, pkt, HB_BODY_LEN);
	memcpy(copy, pkt, HB_PKT_LEN);
	copy[HB_PKT_LEN] = 0;
	fail |= put_seed(dir, "one-byte-long", 0, copy, HB_PKT_LEN + 1);
	base_advert(&a);
	a.counter = FUZZ_LAST;
	CHECK(hb_encode(&cfg, &a, copy, sizeof(copy)) == HB_PKT_LEN);
	fail |= put_seed(dir, "replay-same-counter", 4, copy, HB_PKT_LEN);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(copy, pkt, HB_PKT_LEN);
		copy[edits[i].off] = edits[i].val;
		fail |= put_seed(dir, edits[i].name,
		    strncmp(edits[i].name, "resign", 6) == 0 ? 7 : 0, copy, HB_PKT_LEN);
	}
	return fail ? 1 : 0;
}

#endif
