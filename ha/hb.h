/* Tandem — MIT licence. Heartbeat packet: fixed big-endian layout, encode, ordered validation, UDP I/O. */
#ifndef TANDEM_HA_HB_H
#define TANDEM_HA_HB_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

/*
 * Wire layout, version 2, all integers big-endian, 96 bytes, no padding:
 *
 *   off len field
 *     0   4 magic         "THB1" = 0x54484231
 *     4   1 version       1
 *     5   1 role          enum hb_role (0 init, 1 standby, 2 active, 3 fault)
 *     6   2 flags         HB_F_* bits; unknown bits must be 0
 *     8   4 cluster_id    both nodes of a pair share it; others are dropped
 *    12   4 node_id       sender, non-zero, must differ from the receiver's
 *    16   1 priority      sender's effective priority (0 = demoted)
 *    17   1 reserved      must be 0
 *    18   2 interval_ms   sender's heartbeat interval, non-zero
 *    20   4 reserved      must be 0
 *    24   8 term          election epoch
 *    32   8 log_pos       last replication log position the sender holds
 *    40   8 ack_pos       last position the sender knows was acknowledged to agents (<= log_pos)
 *    48   8 counter       64-bit send counter; strictly increasing per sender (replay check)
 *    56   8 echo          the last counter the sender accepted from the receiver (0: none)
 *    64  32 mac           HMAC-SHA256(key, bytes 0..63)
 *
 * The echo proves a packet fresh: a receiver acts only on packets that echo a counter of its
 * own current run. A packet written before the receiver (re)started -- held in a neighbour
 * queue while a link was down, say, and delivered seconds later -- cannot, however authentic.
 */
#define HB_MAGIC		0x54484231u
#define HB_VERSION		2
#define HB_BODY_LEN		64
#define HB_MAC_LEN		32
#define HB_PKT_LEN		(HB_BODY_LEN + HB_MAC_LEN)
#define HB_KEY_MIN		16	/* shorter shared keys are refused by hb_key_set() */
#define HB_KEY_MAX		64

/* Field offsets, for tests and the fuzz target. */
#define HB_OFF_MAGIC		0
#define HB_OFF_VERSION		4
#define HB_OFF_ROLE		5
#define HB_OFF_FLAGS		6
#define HB_OFF_CLUSTER		8
#define HB_OFF_NODE		12
#define HB_OFF_PRIO		16
#define HB_OFF_RSV1		17
#define HB_OFF_INTERVAL		18
#define HB_OFF_RSV2		20
#define HB_OFF_TERM		24
#define HB_OFF_LOGPOS		32
#define HB_OFF_ACKPOS		40
#define HB_OFF_COUNTER		48
#define HB_OFF_ECHO		56
#define HB_OFF_MAC		64

enum hb_role {
	HB_ROLE_INIT = 0,
	HB_ROLE_STANDBY,
	HB_ROLE_ACTIVE,
	HB_ROLE_FAULT,
	HB_ROLE_MAX
};

#define HB_F_HEALTHY		0x0001	/* no local failure demotion in force */
#define HB_F_TRACK_OK		0x0002	/* the tracking target is reachable (or none configured) */
#define HB_F_MAINT		0x0004	/* maintenance mode: roles frozen */
#define HB_F_YIELD		0x0008	/* handing over: sender does not want to be active */
#define HB_F_ALL		0x000f

/* Validation outcomes, in check order. HB_OK counts accepted packets. */
enum hb_reason {
	HB_OK = 0,
	HB_BAD_LEN,		/* 1. length != HB_PKT_LEN */
	HB_BAD_MAGIC,		/* 2. magic */
	HB_BAD_VERSION,		/* 2. version */
	HB_BAD_CLUSTER,		/* 3. cluster id */
	HB_BAD_MAC,		/* 4. HMAC */
	HB_REPLAY,		/* 5. counter <= last accepted from this peer */
	HB_BAD_ROLE,		/* 6. role out of range */
	HB_BAD_NODE,		/* 6. node id 0, our own id, or not the configured peer */
	HB_BAD_PAYLOAD,		/* 6. reserved bits/bytes, unknown flags, interval 0, ack > log */
	HB_UNPROVEN,		/* 7. authentic and in order, but its echo predates our run */
	HB_REASON_MAX
};

/* Always-on per-reason counters; index by enum hb_reason. */
struct hb_counters {
	uint64_t	 c[HB_REASON_MAX];
};

struct hb_key {
	uint8_t		 k[HB_KEY_MAX];
	size_t		 len;
};

/* What both ends agree on, plus who we are. */
struct hb_config {
	uint32_t	 cluster_id;
	uint32_t	 node_id;	/* ours: packets carrying it are dropped as HB_BAD_NODE */
	struct hb_key	 key;
	uint64_t	 own_first;	/* our first send counter of this run; 0: no echo check */
};

/*
 * Receiver-side state for one peer. The caller keeps it (and may persist last_counter across
 * restarts to keep old packets out after a restart of the receiver). expect_node 0 means any
 * node id other than ours is accepted.
 */
struct hb_peer {
	uint32_t	 expect_node;
	int		 seen;		/* a packet has been accepted */
	uint64_t	 last_counter;	/* counter of the last accepted packet */
};

/* Decoded packet contents (host byte order). */
struct hb_advert {
	uint8_t		 role;		/* enum hb_role */
	uint16_t	 flags;
	uint32_t	 cluster_id;
	uint32_t	 node_id;
	uint8_t		 priority;
	uint16_t	 interval_ms;
	uint64_t	 term;
	uint64_t	 log_pos;
	uint64_t	 ack_pos;
	uint64_t	 counter;
	uint64_t	 echo;		/* the last counter the sender accepted from us */
};

const char	*hb_reason_name(enum hb_reason);
const char	*hb_role_name(enum hb_role);

/* Copies a shared key of HB_KEY_MIN..HB_KEY_MAX bytes. 0, or -1 with errno EINVAL. */
int		 hb_key_set(struct hb_key *, const void *key, size_t len);

/*
 * A starting send counter that exceeds any counter this node sent before it restarted, so a
 * peer's replay state need not be reset: CLOCK_REALTIME in microseconds (a node sends far fewer
 * than 10^6 heartbeats a second). Pass the result to the first hb_encode(), then increment.
 */
uint64_t	 hb_counter_seed(void);

/*
 * Writes the packet for adv (its cluster_id is ignored: cfg->cluster_id is used) into
 * out (OUT: HB_PKT_LEN bytes). Returns HB_PKT_LEN, or -1 if outlen is too small or the
 * MAC cannot be computed.
 */
int		 hb_encode(const struct hb_config *cfg, const struct hb_advert *adv,
		    uint8_t *out, size_t outlen);

/*
 * Validates buf in the fixed order documented in enum hb_reason and bumps exactly one counter
 * in ctr (HB_OK on acceptance). On HB_OK the packet is decoded into out (OUT, may be NULL) and
 * peer->last_counter advances. HB_UNPROVEN (the echo is below cfg->own_first: the sender has
 * not heard this run of ours yet, or the packet is older than it) also advances
 * peer->last_counter, so the next packet we send echoes it and the peer's next one proves
 * itself; out is left alone and the caller acts on nothing in it. On any other failure neither
 * peer nor out change. Never fails on any input bytes other than by returning a reason.
 */
enum hb_reason	 hb_validate(const struct hb_config *cfg, struct hb_peer *peer,
		    struct hb_counters *ctr, const uint8_t *buf, size_t len, struct hb_advert *out);

/*
 * UDP socket bound to bind_addr, non-blocking and close-on-exec. Returns the fd, or -1 with
 * a message in err.
 */
int		 hb_socket(const struct sockaddr *bind_addr, socklen_t alen, char *err, size_t errlen);

/*
 * Encodes adv with counter *counter, sends one datagram to `to`, then increments *counter
 * (also after a failed send: a counter value is never reused). 0, or -1 with errno
 * (EAGAIN when the socket buffer is full): the caller counts send failures.
 */
int		 hb_send(int fd, const struct sockaddr *to, socklen_t tolen,
		    const struct hb_config *cfg, struct hb_advert *adv, uint64_t *counter);

/*
 * Reads one datagram and validates it. Returns the reason (>= 0), or -1 with errno when
 * nothing was read (EAGAIN: drained). from (OUT, may be NULL) receives the source address.
 */
int		 hb_recv(int fd, const struct hb_config *cfg, struct hb_peer *peer,
		    struct hb_counters *ctr, struct hb_advert *out, struct sockaddr_storage *from);

/* Called for each accepted heartbeat. adv is borrowed for the duration of the call. */
typedef void	(*hb_recv_cb)(const struct hb_advert *adv, void *arg);

struct hb_listener;

/*
 * libevent integration: a persistent read event on fd that drains at most HB_RECV_BURST
 * datagrams per wake-up, validates each and calls cb for accepted ones. cfg, peer and ctr
 * are borrowed and must outlive the listener. Returns NULL on allocation or libevent failure.
 */
#define HB_RECV_BURST		32
struct hb_listener *hb_listener_new(struct event_base *base, int fd,
		    const struct hb_config *cfg, struct hb_peer *peer, struct hb_counters *ctr,
		    hb_recv_cb cb, void *arg);
/* Stops and frees; does not close fd. NULL is a no-op. */
void		 hb_listener_free(struct hb_listener *);

#endif
