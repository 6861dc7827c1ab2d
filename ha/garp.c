/* Tandem — MIT licence. Gratuitous ARP: frame builder (pure) and AF_PACKET sender. */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ha/garp.h"

int
garp_build(uint8_t *out, size_t outlen, const uint8_t mac[GARP_ETH_ALEN], struct in_addr ip)
{
	uint8_t *p = out;

	if (outlen < GARP_FRAME_LEN)
		return -1;
	memset(out, 0, GARP_FRAME_LEN);
	/* Ethernet: broadcast destination, our source, type ARP. */
	memset(p, 0xff, GARP_ETH_ALEN);
	memcpy(p + 6, mac, GARP_ETH_ALEN);
	p[12] = ETHERTYPE_ARP >> 8;
	p[13] = ETHERTYPE_ARP & 0xff;
	p += 14;
	/* ARP: Ethernet/IPv4, request. */
	p[0] = 0;
	p[1] = ARPHRD_ETHER;
	p[2] = ETHERTYPE_IP >> 8;
	p[3] = ETHERTYPE_IP & 0xff;
	p[4] = GARP_ETH_ALEN;
	p[5] = 4;
	p[6] = 0;
	p[7] = ARPOP_REQUEST;
	memcpy(p + 8, mac, GARP_ETH_ALEN);	/* sender hardware address */
	memcpy(p + 14, &ip.s_addr, 4);		/* sender protocol address (network order) */
	/* p + 18: target hardware address stays zero */
	memcpy(p + 24, &ip.s_addr, 4);		/* target protocol address == sender's */
	return GARP_FRAME_LEN;
}

int
garp_socket(char *err, size_t errlen)
{
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		snprintf(err, errlen, "socket(AF_PACKET): %s", strerror(errno));
	return fd;
}

int
garp_if_mac(int ifindex, uint8_t mac[GARP_ETH_ALEN])
{
	struct ifreq ifr;
	int fd, rc = -1, saved;

	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname((unsigned)ifindex, ifr.ifr_name) == NULL)
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1)
		goto end;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		errno = EAFNOSUPPORT;
		goto end;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, GARP_ETH_ALEN);
	rc = 0;
end:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
garp_send(int fd, int ifindex, const uint8_t mac[GARP_ETH_ALEN], struct in_addr ip, int count)
{
	uint8_t frame[GARP_FRAME_LEN];
	struct sockaddr_ll sll;
	int i, sent = 0, err = 0;

	if (count < 1 || count > GARP_BURST_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (garp_build(frame, sizeof(frame), mac, ip) == -1) {
		errno = EINVAL;
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ARP);
	sll.sll_ifindex = ifindex;
	sll.sll_halen = GARP_ETH_ALEN;
	memset(sll.sll_addr, 0xff, GARP_ETH_ALEN);
	for (i = 0; i < count; i++) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll,
		    sizeof(sll)) == -1)
			err = errno;
		else
			sent++;
	}
	if (sent == 0) {
		errno = err;
		return -1;
	}
	return sent;
}
