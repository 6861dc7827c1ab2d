/* Tandem — MIT licence. Heartbeat packet: fixed big-endian layout, encode, ordered validation, UDP I/O. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "ha/hb.h"
#include "ha/hb_auth.h"

static const char *const hb_reason_names[HB_REASON_MAX] = {
	[HB_OK] = "accepted",
	[HB_BAD_LEN] = "bad_length",
	[HB_BAD_MAGIC] = "bad_magic",
	[HB_BAD_VERSION] = "bad_version",
	[HB_BAD_CLUSTER] = "bad_cluster",
	[HB_BAD_MAC] = "bad_hmac",
	[HB_REPLAY] = "replay",
	[HB_BAD_ROLE] = "bad_role",
	[HB_BAD_NODE] = "bad_node",
	[HB_BAD_PAYLOAD] = "bad_payload",
	[HB_UNPROVEN] = "unproven",
};

static const char *const hb_role_names[HB_ROLE_MAX] = {
	[HB_ROLE_INIT] = "init",
	[HB_ROLE_STANDBY] = "standby",
	[HB_ROLE_ACTIVE] = "active",
	[HB_ROLE_FAULT] = "fault",
};

const char *
hb_reason_name(enum hb_reason r)
{
	if ((unsigned)r >= HB_REASON_MAX)
		return "unknown";
	return hb_reason_names[r];
}

const char *
hb_role_name(enum hb_role r)
{
	if ((unsigned)r >= HB_ROLE_MAX)
		return "unknown";
	return hb_role_names[r];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int
hb_key_set(struct hb_key *key, const void *k, size_t len)
{
	if (len < HB_KEY_MIN || len > HB_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(key, 0, sizeof(*key));
	memcpy(key->k, k, len);
	key->len = len;
	return 0;
}

uint64_t
hb_counter_seed(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 1;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + 1;
}

int
hb_encode(const struct hb_config *cfg, const struct hb_advert *adv, uint8_t *out, size_t outlen)
{
	if (outlen < HB_PKT_LEN)
		return -1;
	memset(out, 0, HB_PKT_LEN);
	put32(out + HB_OFF_MAGIC, HB_MAGIC);
	out[HB_OFF_VERSION] = HB_VERSION;
	out[HB_OFF_ROLE] = adv->role;
	put16(out + HB_OFF_FLAGS, adv->flags);
	put32(out + HB_OFF_CLUSTER, cfg->cluster_id);
	put32(out + HB_OFF_NODE, adv->node_id);
	out[HB_OFF_PRIO] = adv->priority;
	put16(out + HB_OFF_INTERVAL, adv->interval_ms);
	put64(out + HB_OFF_TERM, adv->term);
	put64(out + HB_OFF_LOGPOS, adv->log_pos);
	put64(out + HB_OFF_ACKPOS, adv->ack_pos);
	put64(out + HB_OFF_COUNTER, adv->counter);
	put64(out + HB_OFF_ECHO, adv->echo);
	if (hb_auth_mac(&cfg->key, out, HB_BODY_LEN, out + HB_OFF_MAC) == -1)
		return -1;
	return HB_PKT_LEN;
}

static enum hb_reason
hb_reject(struct hb_counters *ctr, enum hb_reason r)
{
	ctr->c[r]++;
	return r;
}

enum hb_reason
hb_validate(const struct hb_config *cfg, struct hb_peer *peer, struct hb_counters *ctr,
    const uint8_t *buf, size_t len, struct hb_advert *out)
{
	struct hb_advert a;

	/* The order is fixed (STYLE rule 12): cheap and unauthenticated checks first. */
	if (buf == NULL || len != HB_PKT_LEN)
		return hb_reject(ctr, HB_BAD_LEN);
	if (get32(buf + HB_OFF_MAGIC) != HB_MAGIC)
		return hb_reject(ctr, HB_BAD_MAGIC);
	if (buf[HB_OFF_VERSION] != HB_VERSION)
		return hb_reject(ctr, HB_BAD_VERSION);
	if (get32(buf + HB_OFF_CLUSTER) != cfg->cluster_id)
		return hb_reject(ctr, HB_BAD_CLUSTER);
	if (!hb_auth_verify(&cfg->key, buf, HB_BODY_LEN, buf + HB_OFF_MAC))
		return hb_reject(ctr, HB_BAD_MAC);

	memset(&a, 0, sizeof(a));
	a.role = buf[HB_OFF_ROLE];
	a.flags = get16(buf + HB_OFF_FLAGS);
	a.cluster_id = get32(buf + HB_OFF_CLUSTER);
	a.node_id = get32(buf + HB_OFF_NODE);
	a.priority = buf[HB_OFF_PRIO];
	a.interval_ms = get16(buf + HB_OFF_INTERVAL);
	a.term = get64(buf + HB_OFF_TERM);
	a.log_pos = get64(buf + HB_OFF_LOGPOS);
	a.ack_pos = get64(buf + HB_OFF_ACKPOS);
	a.counter = get64(buf + HB_OFF_COUNTER);
	a.echo = get64(buf + HB_OFF_ECHO);

	if (!hb_auth_replay_ok(peer, a.counter))
		return hb_reject(ctr, HB_REPLAY);

	/* Payload sanity: the sender holds the key, so these are bugs or version skew. */
	if (a.role >= HB_ROLE_MAX)
		return hb_reject(ctr, HB_BAD_ROLE);
	if (a.node_id == 0 || a.node_id == cfg->node_id ||
	    (peer->expect_node != 0 && a.node_id != peer->expect_node))
		return hb_reject(ctr, HB_BAD_NODE);
	if (buf[HB_OFF_RSV1] != 0 || get32(buf + HB_OFF_RSV2) != 0 ||
	    (a.flags & ~HB_F_ALL) != 0 || a.interval_ms == 0 || a.ack_pos > a.log_pos)
		return hb_reject(ctr, HB_BAD_PAYLOAD);

	hb_auth_replay_commit(peer, a.counter);
	if (cfg->own_first != 0 && a.echo < cfg->own_first)
		return hb_reject(ctr, HB_UNPROVEN);
	ctr->c[HB_OK]++;
	if (out != NULL)
		*out = a;
	return HB_OK;
}

int
hb_socket(const struct sockaddr *bind_addr, socklen_t alen, char *err, size_t errlen)
{
	int fd;

	fd = socket(bind_addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, bind_addr, alen) == -1) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int
hb_send(int fd, const struct sockaddr *to, socklen_t tolen, const struct hb_config *cfg,
    struct hb_advert *adv, uint64_t *counter)
{
	uint8_t pkt[HB_PKT_LEN];
	ssize_t n;

	adv->counter = (*counter)++;
	if (hb_encode(cfg, adv, pkt, sizeof(pkt)) == -1) {
		errno = EINVAL;
		return -1;
	}
	n = sendto(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_NOSIGNAL, to, tolen);
	if (n == -1)
		return -1;
	if ((size_t)n != sizeof(pkt)) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
hb_recv(int fd, const struct hb_config *cfg, struct hb_peer *peer, struct hb_counters *ctr,
    struct hb_advert *out, struct sockaddr_storage *from)
{
	/* One byte more than a packet, so an oversized datagram is seen as such, not truncated. */
	uint8_t buf[HB_PKT_LEN + 1];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&ss,
	    &sslen);
	if (n == -1)
		return -1;
	if (from != NULL)
		*from = ss;
	/* MSG_TRUNC returns the real datagram length, which may exceed buf. */
	if ((size_t)n > sizeof(buf))
		n = sizeof(buf);
	return (int)hb_validate(cfg, peer, ctr, buf, (size_t)n, out);
}

struct hb_listener {
	struct event		*ev;
	int			 fd;
	const struct hb_config	*cfg;
	struct hb_peer		*peer;
	struct hb_counters	*ctr;
	hb_recv_cb		 cb;
	void			*arg;
};

static void
hb_listener_read(evutil_socket_t fd, short what, void *arg)
{
	struct hb_listener *l = arg;
	struct hb_advert adv;
	int i, r;

	/* Bounded: a flood of datagrams cannot starve the rest of the loop. */
	for (i = 0; i < HB_RECV_BURST; i++) {
		r = hb_recv(fd, l->cfg, l->peer, l->ctr, &adv, NULL);
		if (r == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("%s: recvfrom", __func__);
			return;
		}
		if (r == HB_OK && l->cb != NULL)
			l->cb(&adv, l->arg);
	}
}

struct hb_listener *
hb_listener_new(struct event_base *base, int fd, const struct hb_config *cfg,
    struct hb_peer *peer, struct hb_counters *ctr, hb_recv_cb cb, void *arg)
{
	struct hb_listener *l;

	if ((l = xcalloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->fd = fd;
	l->cfg = cfg;
	l->peer = peer;
	l->ctr = ctr;
	l->cb = cb;
	l->arg = arg;
	if ((l->ev = event_new(base, fd, EV_READ | EV_PERSIST, hb_listener_read, l)) == NULL)
		goto fail;
	if (event_add(l->ev, NULL) == -1)
		goto fail;
	return l;
fail:
	if (l->ev != NULL)
		event_free(l->ev);
	XFREE(l);
	return NULL;
}

void
hb_listener_free(struct hb_listener *l)
{
	if (l == NULL)
		return;
	event_free(l->ev);
	l->ev = NULL;
	xfree(l);
}
