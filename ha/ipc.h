/* Tandem — MIT licence. Typed, size-checked messages between had's parent and child (SOCK_SEQPACKET). */
#ifndef TANDEM_HA_IPC_H
#define TANDEM_HA_IPC_H

#include <stddef.h>
#include <stdint.h>

/*
 * One message = one SOCK_SEQPACKET record: struct ipc_hdr, then exactly hdr.len payload bytes,
 * whose size is fixed per type (ipc_size()). A record of any other shape, or of a type the
 * receiving side does not handle, comes from our own process and is a bug: the caller ends
 * in fatalx (STYLE rule 7).
 *
 *   child -> parent                       parent -> child
 *   IPC_VIP_ADD      (none)  add/renew    IPC_RESULT  struct ipc_result
 *   IPC_VIP_DEL      (none)  remove       IPC_CTL_FD  struct ipc_result (+ fd if err == 0)
 *   IPC_GARP         struct ipc_garp
 *   IPC_CTL_CONNECT  (none)  connect to collectord's control socket and pass the fd
 */
enum ipc_type {
	IPC_NONE = 0,
	IPC_VIP_ADD,
	IPC_VIP_DEL,
	IPC_GARP,
	IPC_CTL_CONNECT,
	IPC_RESULT,
	IPC_CTL_FD,
	IPC_TYPE_MAX
};

struct ipc_hdr {
	uint32_t	 type;
	uint32_t	 len;
};

struct ipc_garp {
	uint32_t	 count;		/* frames, 1..GARP_BURST_MAX */
};

struct ipc_result {
	uint32_t	 req;		/* the request type answered */
	int32_t		 err;		/* 0, or an errno */
};

#define IPC_PAYLOAD_MAX		64

const char	*ipc_type_name(uint32_t type);
/* The payload size of type; (size_t)-1 for an unknown type. Pure. */
size_t		 ipc_size(uint32_t type);

/*
 * Sends one message, with fd passed by SCM_RIGHTS when pass_fd >= 0. len must equal
 * ipc_size(type). 0, or -1 with errno.
 */
int		 ipc_compose(int sock, uint32_t type, const void *payload, size_t len, int pass_fd);

/*
 * Receives one message into hdr and payload (OUT: IPC_PAYLOAD_MAX bytes), and a passed fd
 * into *fd_out (OUT: -1 if none; may be NULL, then a passed fd is closed). Returns 1 for a
 * message, 0 on EOF, -1 with errno on a read error (EAGAIN included), and -2 for a malformed
 * record (short, truncated, wrong size for its type, unknown type): the caller's fatalx.
 */
int		 ipc_recv(int sock, struct ipc_hdr *hdr, void *payload, int *fd_out);

/*
 * Synchronous request from the child: sends type/payload and waits up to timeout_ms for the
 * parent's IPC_RESULT or IPC_CTL_FD answering it. res (OUT) gets the answer; fd_out (OUT, may
 * be NULL) a passed fd. 0 on an answer, -1 with errno on send/receive failure or timeout
 * (ETIMEDOUT) or EOF (EPIPE), -2 for a malformed or unexpected answer (caller's fatalx).
 */
int		 ipc_call(int sock, uint32_t type, const void *payload, size_t len,
		    int timeout_ms, struct ipc_result *res, int *fd_out);

#endif
