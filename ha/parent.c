/* Tandem — MIT licence. had's root parent: service IP and GARP on the child's request, nothing else. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <linux/capability.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "ha/garp.h"
#include "ha/ha_conf.h"
#include "ha/ipc.h"
#include "ha/nl.h"
#include "ha/parent.h"
#include "ha/vip.h"

#define PARENT_STOP_GRACE_S	5
#define PARENT_IPC_BURST	32

struct parent {
	const struct ha_conf	*conf;
	struct parent_res	*r;
	struct event_base	*base;
	struct event		*ipc_ev, *sigchld, *sigterm, *sigint, *sighup, *grace;
	struct vip		 vip;
	int			 stopping;
	int			 status;	/* exit status */
	unsigned long		 vip_adds, vip_dels, garps, ctl_fds;
};

static void
parent_release(struct parent *p)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->vip.addr, a, sizeof(a));
	/* Always, not only when we think we hold it: deleting an absent address is a no-op. */
	if (vip_del(p->r->nl, &p->vip) == -1)
		log_warn("%s: removing %s/%u", __func__, a, p->vip.prefixlen);
	else
		log_info("parent: service address %s/%u removed", a, p->vip.prefixlen);
}

static __attribute__((noreturn)) void
parent_fatalx(struct parent *p, const char *what, uint32_t type)
{
	parent_release(p);
	fatalx("parent: %s from the child (type %u %s): internal error", what, type,
	    ipc_type_name(type));
}

/* Keeps CAP_NET_ADMIN, CAP_NET_RAW and CAP_KILL; drops the rest, bounding set included. */
static void
parent_drop_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	uint64_t keep = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW) | (1ULL << CAP_KILL);
	int cap;

	for (cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL)
			fatal("prctl(PR_CAPBSET_DROP, %d)", cap);
	}
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
}

static int
parent_ctl_connect(struct parent *p, int *err)
{
	struct sockaddr_un sun;
	int fd;

	*err = 0;
	if (p->conf->collector_control == NULL) {
		*err = ENOENT;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->conf->collector_control);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*err = errno;
		return -1;
	}
	/* A local stream connect completes at once or fails at once. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

static void
parent_reply(struct parent *p, uint32_t rtype, uint32_t req, int err, int fd)
{
	struct ipc_result res = { req, err };

	if (ipc_compose(p->r->ipc, rtype, &res, sizeof(res), fd) == -1)
		log_warn("%s: answering %s", __func__, ipc_type_name(req));
}

static void
parent_dispatch(struct parent *p, const struct ipc_hdr *h, const void *payload)
{
	struct ipc_garp g;
	uint8_t mac[GARP_ETH_ALEN];
	int err = 0, fd, n;

	switch (h->type) {
	case IPC_VIP_ADD:
		if (p->stopping) {
			err = ESHUTDOWN;
		} else if (vip_add(p->r->nl, &p->vip) == -1) {
			err = errno;
			log_warn("%s: adding the service address", __func__);
		} else
			p->vip_adds++;
		parent_reply(p, IPC_RESULT, h->type, err, -1);
		break;
	case IPC_VIP_DEL:
		if (vip_del(p->r->nl, &p->vip) == -1) {
			err = errno;
			log_warn("%s: removing the service address", __func__);
		} else
			p->vip_dels++;
		parent_reply(p, IPC_RESULT, h->type, err, -1);
		break;
	case IPC_GARP:
		memcpy(&g, payload, sizeof(g));
		if (g.count < 1 || g.count > GARP_BURST_MAX)
			parent_fatalx(p, "GARP count out of range", h->type);
		if (garp_if_mac(p->r->ifindex, mac) == -1 ||
		    (n = garp_send(p->r->garp_fd, p->r->ifindex, mac, p->vip.addr,
		    (int)g.count)) == -1) {
			err = errno;
			log_warn("%s: gratuitous ARP", __func__);
		} else {
			p->garps += (unsigned long)n;
			log_debug("parent: %d gratuitous ARP frames sent", n);
		}
		parent_reply(p, IPC_RESULT, h->type, err, -1);
		break;
	case IPC_CTL_CONNECT:
		fd = parent_ctl_connect(p, &err);
		parent_reply(p, IPC_CTL_FD, h->type, err, fd);
		if (fd != -1) {
			p->ctl_fds++;
			close(fd);
		}
		break;
	default:
		parent_fatalx(p, "unexpected message", h->type);
	}
}

static void
parent_stop(struct parent *p, int status)
{
	p->status = status;
	event_base_loopexit(p->base, NULL);
}

static void
parent_ipc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;
	uint8_t payload[IPC_PAYLOAD_MAX];
	struct ipc_hdr h;
	int i, r;

	for (i = 0; i < PARENT_IPC_BURST; i++) {
		r = ipc_recv(p->r->ipc, &h, payload, NULL);
		if (r == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("%s: recv", __func__);
			return;
		}
		if (r == 0) {
			if (!p->stopping)
				log_warnx("parent: the child closed its channel; stopping");
			event_del(p->ipc_ev);
			return;		/* SIGCHLD follows and ends the loop */
		}
		if (r == -2)
			parent_fatalx(p, "malformed message", 0);
		parent_dispatch(p, &h, payload);
	}
}

static void
parent_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct parent *p = arg;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != p->r->child)
			continue;
		if (p->stopping) {
			log_info("parent: child stopped");
			parent_stop(p, 0);
		} else {
			if (WIFSIGNALED(st))
				log_warnx("parent: child died on signal %d; stopping the node",
				    WTERMSIG(st));
			else
				log_warnx("parent: child exited with %d; stopping the node",
				    WEXITSTATUS(st));
			parent_stop(p, 1);
		}
		return;
	}
}

static void
parent_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parent *p = arg;

	log_warnx("parent: child did not stop within %d s; killing it", PARENT_STOP_GRACE_S);
	kill(p->r->child, SIGKILL);
}

static void
parent_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct parent *p = arg;
	struct timeval tv = { PARENT_STOP_GRACE_S, 0 };

	if (p->stopping)
		return;
	log_info("parent: stop on signal %d; asking the child to hand over and stop", (int)sig);
	p->stopping = 1;
	if (kill(p->r->child, SIGTERM) == -1)
		log_warn("%s: kill", __func__);
	if (evtimer_add(p->grace, &tv) == -1)
		kill(p->r->child, SIGKILL);
}

int
parent_run(const struct ha_conf *conf, struct parent_res *r)
{
	struct parent p;

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.r = r;
	p.vip.ifindex = r->ifindex;
	p.vip.addr = conf->service_ip;
	p.vip.prefixlen = conf->prefixlen;
	p.vip.lifetime_s = (uint32_t)(conf->vip_lifetime_ms / 1000);
	log_procinit("had-parent");
	parent_drop_caps();
	if ((p.base = event_base_new()) == NULL)
		fatalx("parent: event_base_new failed");
	p.ipc_ev = event_new(p.base, r->ipc, EV_READ | EV_PERSIST, parent_ipc_cb, &p);
	p.sigchld = evsignal_new(p.base, SIGCHLD, parent_sigchld, &p);
	p.sigterm = evsignal_new(p.base, SIGTERM, parent_sigterm, &p);
	p.sigint = evsignal_new(p.base, SIGINT, parent_sigterm, &p);
	p.sighup = evsignal_new(p.base, SIGHUP, parent_sigterm, &p);
	p.grace = evtimer_new(p.base, parent_grace_cb, &p);
	if (p.ipc_ev == NULL || p.sigchld == NULL || p.sigterm == NULL || p.sigint == NULL ||
	    p.sighup == NULL || p.grace == NULL || event_add(p.ipc_ev, NULL) == -1 ||
	    evsignal_add(p.sigchld, NULL) == -1 || evsignal_add(p.sigterm, NULL) == -1 ||
	    evsignal_add(p.sigint, NULL) == -1 || evsignal_add(p.sighup, NULL) == -1)
		fatalx("parent: events");
	/* The child may have died before SIGCHLD was watched. */
	parent_sigchld(SIGCHLD, 0, &p);
	if (!event_base_got_exit(p.base))
		event_base_dispatch(p.base);

	parent_release(&p);
	if (unlink(conf->control_socket) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s", __func__, conf->control_socket);
	log_info("parent: stopped (%lu address adds/renewals, %lu removals, %lu ARP frames, "
	    "%lu collector connections passed)", p.vip_adds, p.vip_dels, p.garps, p.ctl_fds);
	event_free(p.grace);
	event_free(p.sighup);
	event_free(p.sigint);
	event_free(p.sigterm);
	event_free(p.sigchld);
	event_free(p.ipc_ev);
	event_base_free(p.base);
	return p.status;
}
