/* Tandem — MIT licence. Gratuitous ARP: frame builder (pure) and AF_PACKET sender. */
#ifndef TANDEM_HA_GARP_H
#define TANDEM_HA_GARP_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define GARP_ETH_ALEN		6
/* Ethernet header (14) + ARP for IPv4 over Ethernet (28), zero-padded to the 60-byte minimum. */
#define GARP_FRAME_LEN		60
#define GARP_BURST_MAX		16

/*
 * Builds a gratuitous ARP request into out (OUT: GARP_FRAME_LEN bytes): destination
 * ff:ff:ff:ff:ff:ff, source mac, op 1 (request), sender = target = ip, target hardware address
 * zero (RFC 5227 §3: the request form is what every stack updates its cache from). Returns
 * GARP_FRAME_LEN, or -1 if outlen is too small.
 */
int	garp_build(uint8_t *out, size_t outlen, const uint8_t mac[GARP_ETH_ALEN],
	    struct in_addr ip);

/* AF_PACKET raw socket for sending only (protocol 0: receives nothing). Needs CAP_NET_RAW. */
int	garp_socket(char *err, size_t errlen);

/* The interface's hardware address (OUT: mac). 0, or -1 with errno. */
int	garp_if_mac(int ifindex, uint8_t mac[GARP_ETH_ALEN]);

/*
 * Sends count (1..GARP_BURST_MAX) copies of the gratuitous ARP for ip out of ifindex.
 * Returns how many were sent, or -1 with errno if none was. The delayed second burst is the
 * caller's timer.
 */
int	garp_send(int fd, int ifindex, const uint8_t mac[GARP_ETH_ALEN], struct in_addr ip,
	    int count);

#endif
