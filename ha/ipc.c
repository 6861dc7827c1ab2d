/* Tandem — MIT licence. Typed, size-checked messages between had's parent and child (SOCK_SEQPACKET). */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "ha/ipc.h"

static const struct {
	const char	*name;
	size_t		 size;
} ipc_types[IPC_TYPE_MAX] = {
	[IPC_NONE] = { "NONE", (size_t)-1 },
	[IPC_VIP_ADD] = { "VIP_ADD", 0 },
	[IPC_VIP_DEL] = { "VIP_DEL", 0 },
	[IPC_GARP] = { "GARP", sizeof(struct ipc_garp) },
	[IPC_CTL_CONNECT] = { "CTL_CONNECT", 0 },
	[IPC_RESULT] = { "RESULT", sizeof(struct ipc_result) },
	[IPC_CTL_FD] = { "CTL_FD", sizeof(struct ipc_result) },
};

const char *
ipc_type_name(uint32_t type)
{
	if (type >= IPC_TYPE_MAX)
		return "UNKNOWN";
	return ipc_types[type].name;
}

size_t
ipc_size(uint32_t type)
{
	if (type >= IPC_TYPE_MAX)
		return (size_t)-1;
	return ipc_types[type].size;
}

int
ipc_compose(int sock, uint32_t type, const void *payload, size_t len, int pass_fd)
{
	struct ipc_hdr hdr = { type, (uint32_t)len };
	struct iovec iov[2];
	struct msghdr msg;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;

	if (ipc_size(type) != len || len > IPC_PAYLOAD_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	if (pass_fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != sizeof(hdr) + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
ipc_recv(int sock, struct ipc_hdr *hdr, void *payload, int *fd_out)
{
	uint8_t buf[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX + 1];
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg;
	struct cmsghdr *c;
	int fd = -1, bad = 0, k, nfd;
	ssize_t n;

	if (fd_out != NULL)
		*fd_out = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	/* Collect every passed fd first, so none leaks whatever the verdict. */
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < nfd; k++) {
			int one;

			memcpy(&one, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (fd == -1)
				fd = one;
			else {
				close(one);
				bad = 1;
			}
		}
	}
	if (n == 0 && fd == -1)
		return 0;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		bad = 1;
	if ((size_t)n < sizeof(*hdr))
		bad = 1;
	else {
		memcpy(hdr, buf, sizeof(*hdr));
		if (ipc_size(hdr->type) == (size_t)-1 || hdr->len != ipc_size(hdr->type) ||
		    (size_t)n != sizeof(*hdr) + hdr->len)
			bad = 1;
		else
			memcpy(payload, buf + sizeof(*hdr), hdr->len);
	}
	if (bad) {
		if (fd != -1)
			close(fd);
		return -2;
	}
	if (fd_out != NULL)
		*fd_out = fd;
	else if (fd != -1)
		close(fd);
	return 1;
}

static int64_t
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ipc_call(int sock, uint32_t type, const void *payload, size_t len, int timeout_ms,
    struct ipc_result *res, int *fd_out)
{
	uint8_t pl[IPC_PAYLOAD_MAX];
	struct pollfd pfd = { sock, POLLIN, 0 };
	struct ipc_hdr hdr;
	int64_t deadline = ipc_now_ms() + timeout_ms, left;
	int r, fd = -1;

	if (fd_out != NULL)
		*fd_out = -1;
	if (ipc_compose(sock, type, payload, len, -1) == -1)
		return -1;
	for (;;) {
		left = deadline - ipc_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			continue;
		r = ipc_recv(sock, &hdr, pl, &fd);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		if (r == -2)
			return -2;
		break;
	}
	if ((hdr.type != IPC_RESULT && hdr.type != IPC_CTL_FD) ||
	    (hdr.type == IPC_CTL_FD) != (type == IPC_CTL_CONNECT)) {
		if (fd != -1)
			close(fd);
		return -2;
	}
	memcpy(res, pl, sizeof(*res));
	if (res->req != type || (hdr.type == IPC_CTL_FD && (res->err == 0) != (fd != -1)) ||
	    (hdr.type == IPC_RESULT && fd != -1)) {
		if (fd != -1)
			close(fd);
		return -2;
	}
	if (fd_out != NULL)
		*fd_out = fd;
	else if (fd != -1)
		close(fd);
	return 0;
}
