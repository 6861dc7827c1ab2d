/* Tandem — MIT licence. vip_probe: how soon, and how continuously, a TCP service answers (netns tests). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * vip_probe first A.B.C.D:PORT TIMEOUT_MS [SINCE_NS]
 *     connects again and again (each attempt bounded by ATTEMPT_MS; a refusal is retried after
 *     1 ms) until one succeeds; prints the ms from SINCE_NS (CLOCK_REALTIME ns, e.g. the
 *     moment of a kill; default: start) to that success. Exit 0, or 1 on timeout.
 * vip_probe gap A.B.C.D:PORT DURATION_MS
 *     connects every 2 ms for DURATION_MS; prints the longest time without a successful
 *     connect ("max_gap_ms N ok N failed N"). Exit 0 if any connect succeeded.
 * vip_probe host A.B.C.D:PORT TIMEOUT_MS
 *     like first, but a refusal counts as an answer: the host is reachable.
 * Used only against addresses inside the test's own namespaces.
 */
#define ATTEMPT_MS	20
#define GAP_EVERY_US	2000

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* 1 connected, 0 refused or timed out. */
static int
attempt(const struct sockaddr_in *sa, int *refused)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, r;

	*refused = 0;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		return 1;
	}
	if (errno != EINPROGRESS) {
		*refused = 1;
		close(fd);
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		r = poll(&pfd, 1, ATTEMPT_MS);
	} while (r == -1 && errno == EINTR);
	if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
		close(fd);
		return 1;
	}
	*refused = r == 1;
	close(fd);
	return 0;
}

static int
parse(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (c == NULL || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sa;
	int64_t start = real_ns(), since, limit, t, last_ok, gap = 0;
	unsigned long ok = 0, failed = 0;
	int refused;

	if (argc < 4 || parse(argv[2], &sa) == -1) {
		fprintf(stderr, "usage: vip_probe first|gap A.B.C.D:PORT MS [SINCE_NS]\n");
		return 2;
	}
	limit = start + strtoll(argv[3], NULL, 10) * 1000000;
	if (strcmp(argv[1], "first") == 0 || strcmp(argv[1], "host") == 0) {
		int host = strcmp(argv[1], "host") == 0;

		since = argc > 4 ? strtoll(argv[4], NULL, 10) : start;
		while (real_ns() < limit) {
			if (attempt(&sa, &refused) || (host && refused)) {
				printf("%.1f\n", (double)(real_ns() - since) / 1e6);
				return 0;
			}
			if (refused)
				usleep(1000);
		}
		printf("timeout\n");
		return 1;
	}
	if (strcmp(argv[1], "gap") == 0) {
		last_ok = start;
		while ((t = real_ns()) < limit) {
			if (attempt(&sa, &refused)) {
				t = real_ns();
				if (t - last_ok > gap)
					gap = t - last_ok;
				last_ok = t;
				ok++;
			} else
				failed++;
			usleep(GAP_EVERY_US);
		}
		if (real_ns() - last_ok > gap)
			gap = real_ns() - last_ok;
		printf("max_gap_ms %.1f ok %lu failed %lu\n", (double)gap / 1e6, ok, failed);
		return ok > 0 ? 0 : 1;
	}
	fprintf(stderr, "vip_probe: unknown mode %s\n", argv[1]);
	return 2;
}
