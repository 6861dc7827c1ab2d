/* Tandem — MIT licence. Unit tests for ha/ipc.c: typed, size-checked records and fd passing. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "ha/ipc.h"
#include "tests/unit/common/cases.h"

/* A SOCK_SEQPACKET pair: sp[0] the parent's end, sp[1] the child's. */
static void
pair(int sp[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
}

static void
unpair(int sp[2])
{
	close(sp[0]);
	close(sp[1]);
}

/* Every type goes through with its own payload size; other sizes are refused on send. */
static void
test_round_trip(void **state)
{
	struct ipc_garp g = { 3 };
	struct ipc_result res = { IPC_VIP_ADD, 0 }, got;
	struct ipc_hdr hdr;
	uint8_t pl[IPC_PAYLOAD_MAX];
	int sp[2], fd;

	pair(sp);
	assert_int_equal(ipc_compose(sp[1], IPC_VIP_ADD, NULL, 0, -1), 0);
	assert_int_equal(ipc_recv(sp[0], &hdr, pl, &fd), 1);
	assert_int_equal(hdr.type, IPC_VIP_ADD);
	assert_int_equal(hdr.len, 0);
	assert_int_equal(fd, -1);
	assert_int_equal(ipc_compose(sp[1], IPC_GARP, &g, sizeof(g), -1), 0);
	assert_int_equal(ipc_recv(sp[0], &hdr, pl, NULL), 1);
	assert_int_equal(hdr.type, IPC_GARP);
	assert_int_equal(((struct ipc_garp *)pl)->count, 3);
	assert_int_equal(ipc_compose(sp[0], IPC_RESULT, &res, sizeof(res), -1), 0);
	assert_int_equal(ipc_recv(sp[1], &hdr, &got, NULL), 1);
	assert_int_equal(got.req, IPC_VIP_ADD);
	assert_int_equal(got.err, 0);
	/* Wrong sizes and unknown types never leave the sender. */
	errno = 0;
	assert_int_equal(ipc_compose(sp[1], IPC_GARP, &g, sizeof(g) - 1, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_compose(sp[1], IPC_VIP_DEL, &g, sizeof(g), -1), -1);
	assert_int_equal(ipc_compose(sp[1], IPC_TYPE_MAX, NULL, 0, -1), -1);
	assert_int_equal(ipc_compose(sp[1], IPC_NONE, NULL, 0, -1), -1);
	/* Nothing else arrived. */
	assert_int_equal(ipc_recv(sp[0], &hdr, pl, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	assert_string_equal(ipc_type_name(IPC_CTL_FD), "CTL_FD");
	assert_string_equal(ipc_type_name(999), "UNKNOWN");
	unpair(sp);
}

/* Records of the wrong shape, written raw: each is reported malformed (-2), none crashes. */
struct bad_row {
	const char	*what;
	uint32_t	 type, len;
	size_t		 send;		/* bytes actually sent (header + payload) */
};

static const struct bad_row bad_rows[] = {
	{ "shorter than a header", IPC_VIP_ADD, 0, 5 },
	{ "unknown type", 77, 0, sizeof(struct ipc_hdr) },
	{ "type 0", IPC_NONE, 0, sizeof(struct ipc_hdr) },
	{ "length not the type's size", IPC_GARP, 2, sizeof(struct ipc_hdr) + 2 },
	{ "payload shorter than its length", IPC_GARP, 4, sizeof(struct ipc_hdr) + 2 },
	{ "payload longer than its length", IPC_VIP_ADD, 0, sizeof(struct ipc_hdr) + 4 },
	{ "over the largest payload", IPC_RESULT, 8, sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX + 8 },
};

static void
test_bad(void **state)
{
	const struct bad_row *r = ROW(struct bad_row, state);
	uint8_t raw[sizeof(struct ipc_hdr) + IPC_PAYLOAD_MAX + 16] = { 0 };
	struct ipc_hdr hdr = { r->type, r->len };
	uint8_t pl[IPC_PAYLOAD_MAX];
	int sp[2], fd = 1234;

	pair(sp);
	memcpy(raw, &hdr, sizeof(hdr));
	CHECK(send(sp[1], raw, r->send, 0) == (ssize_t)r->send);
	if (ipc_recv(sp[0], &hdr, pl, &fd) != -2)
		fail_msg("%s: not reported malformed", r->what);
	assert_int_equal(fd, -1);
	unpair(sp);
}

/* An fd passed with IPC_CTL_FD arrives working; a malformed record's fd is closed, not leaked. */
static void
test_fd_passing(void **state)
{
	struct ipc_result res = { IPC_CTL_CONNECT, 0 };
	struct ipc_hdr hdr;
	uint8_t pl[IPC_PAYLOAD_MAX];
	int sp[2], p[2], fd;
	char c = 0;

	pair(sp);
	CHECK(pipe(p) == 0);
	assert_int_equal(ipc_compose(sp[0], IPC_CTL_FD, &res, sizeof(res), p[1]), 0);
	close(p[1]);
	assert_int_equal(ipc_recv(sp[1], &hdr, pl, &fd), 1);
	assert_int_equal(hdr.type, IPC_CTL_FD);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(write(fd, "x", 1) == 1);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	close(fd);
	/* With every writer closed, the pipe reads EOF: the received copy was the last one. */
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);
	unpair(sp);
}

/* ipc_call: an answer already waiting; a wrong answer; silence (timeout); the parent gone. */
static void
test_call(void **state)
{
	struct ipc_result ans = { IPC_VIP_ADD, EEXIST }, res;
	struct ipc_garp g = { 2 };
	int sp[2];

	pair(sp);
	assert_int_equal(ipc_compose(sp[0], IPC_RESULT, &ans, sizeof(ans), -1), 0);
	assert_int_equal(ipc_call(sp[1], IPC_VIP_ADD, NULL, 0, 1000, &res, NULL), 0);
	assert_int_equal(res.req, IPC_VIP_ADD);
	assert_int_equal(res.err, EEXIST);
	/* A result for another request is a bug on the other side. */
	ans.req = IPC_VIP_DEL;
	assert_int_equal(ipc_compose(sp[0], IPC_RESULT, &ans, sizeof(ans), -1), 0);
	assert_int_equal(ipc_call(sp[1], IPC_GARP, &g, sizeof(g), 1000, &res, NULL), -2);
	/* A request instead of an answer, likewise. */
	assert_int_equal(ipc_compose(sp[0], IPC_VIP_ADD, NULL, 0, -1), 0);
	assert_int_equal(ipc_call(sp[1], IPC_VIP_DEL, NULL, 0, 1000, &res, NULL), -2);
	/* No answer within the bound. */
	errno = 0;
	assert_int_equal(ipc_call(sp[1], IPC_VIP_DEL, NULL, 0, 50, &res, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* The parent's end closed: the request fails rather than hangs. */
	close(sp[0]);
	assert_int_equal(ipc_call(sp[1], IPC_VIP_ADD, NULL, 0, 1000, &res, NULL), -1);
	CHECK(errno == EPIPE || errno == ECONNRESET);
	close(sp[1]);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "every type round trips at its size; other sizes refused", test_round_trip,
	    NULL);
	CASES_TABLE(&cs, "malformed record", test_bad, bad_rows);
	cases_add(&cs, "fd passing", test_fd_passing, NULL);
	cases_add(&cs, "ipc_call: answer, wrong answer, timeout, parent gone", test_call, NULL);
	return cases_run(&cs, "ipc");
}
