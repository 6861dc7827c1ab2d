/* Tandem — MIT licence. Heartbeat authentication: HMAC-SHA256 and the per-peer replay check. */
#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ha/hb_auth.h"

int
hb_auth_mac(const struct hb_key *key, const uint8_t *data, size_t len, uint8_t mac[HB_MAC_LEN])
{
	unsigned int maclen = 0;

	/* HMAC() is the one-shot API that OpenSSL 3 keeps undeprecated. */
	if (HMAC(EVP_sha256(), key->k, (int)key->len, data, len, mac, &maclen) == NULL)
		return -1;
	if (maclen != HB_MAC_LEN)
		return -1;
	return 0;
}

int
hb_auth_verify(const struct hb_key *key, const uint8_t *data, size_t len,
    const uint8_t mac[HB_MAC_LEN])
{
	uint8_t want[HB_MAC_LEN];
	int ok;

	if (hb_auth_mac(key, data, len, want) == -1)
		return 0;
	ok = CRYPTO_memcmp(want, mac, HB_MAC_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int
hb_auth_replay_ok(const struct hb_peer *peer, uint64_t counter)
{
	/*
	 * CARP's "XXX Replay protection" gap, closed: a counter must strictly exceed the last one
	 * accepted. Counter 0 is never valid, so an all-zero forged body fails even on first contact.
	 */
	if (counter == 0)
		return 0;
	if (!peer->seen)
		return 1;
	return counter > peer->last_counter;
}

void
hb_auth_replay_commit(struct hb_peer *peer, uint64_t counter)
{
	peer->seen = 1;
	peer->last_counter = counter;
}
