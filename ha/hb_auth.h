/* Tandem — MIT licence. Heartbeat authentication: HMAC-SHA256 and the per-peer replay check. */
#ifndef TANDEM_HA_HB_AUTH_H
#define TANDEM_HA_HB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ha/hb.h"

/* HMAC-SHA256(key, data) into mac (OUT: HB_MAC_LEN bytes). 0, or -1 if OpenSSL fails. */
int	hb_auth_mac(const struct hb_key *key, const uint8_t *data, size_t len,
	    uint8_t mac[HB_MAC_LEN]);

/*
 * Recomputes the MAC over data and compares it with mac in constant time (CRYPTO_memcmp).
 * 1 if it matches, 0 if not (or if the MAC cannot be computed).
 */
int	hb_auth_verify(const struct hb_key *key, const uint8_t *data, size_t len,
	    const uint8_t mac[HB_MAC_LEN]);

/* 1 if counter is acceptable from peer (exceeds the last accepted one), else 0. Pure. */
int	hb_auth_replay_ok(const struct hb_peer *peer, uint64_t counter);

/* Records counter as the last accepted from peer. Call only once the whole packet is accepted. */
void	hb_auth_replay_commit(struct hb_peer *peer, uint64_t counter);

#endif
