/* Tandem — MIT licence. Tracking target: is a given host reachable from this node (TCP connect probe)? */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "ha/track.h"

struct track {
	struct event_base	*base;
	struct sockaddr_in	 target;
	uint64_t		 interval_ms;
	struct event		*timer, *conn_ev;
	int			 fd;
	int			 verdict;	/* -1 unknown, 0 lost, 1 ok */
	unsigned		 fails;
	track_cb		 cb;
	void			*arg;
};

static void
track_result(struct track *t, int ok)
{
	if (t->fd != -1) {
		event_del(t->conn_ev);
		close(t->fd);
		t->fd = -1;
	}
	if (ok) {
		t->fails = 0;
		if (t->verdict != 1) {
			t->verdict = 1;
			t->cb(1, t->arg);
		}
	} else if (++t->fails >= TRACK_FAILS && t->verdict != 0) {
		t->verdict = 0;
		t->cb(0, t->arg);
	}
}

static void
track_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct track *t = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	if (what & EV_TIMEOUT) {
		track_result(t, 0);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	track_result(t, err == 0 || err == ECONNREFUSED);
}

static void
track_timer_cb(evutil_socket_t unused, short what, void *arg)
{
	struct track *t = arg;
	struct timeval tv = { (long)(t->interval_ms / 1000), (long)(t->interval_ms % 1000) * 1000 };

	if (t->fd != -1)
		track_result(t, 0);	/* still pending: counts as a timeout */
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd == -1) {
		log_warn("%s: socket", __func__);
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&t->target, sizeof(t->target)) == 0) {
		track_result(t, 1);
		return;
	}
	if (errno != EINPROGRESS) {
		track_result(t, errno == ECONNREFUSED);
		return;
	}
	event_assign(t->conn_ev, t->base, t->fd, EV_WRITE, track_conn_cb, t);
	event_add(t->conn_ev, &tv);
}

struct track *
track_new(struct event_base *base, const struct sockaddr_in *target, uint64_t interval_ms,
    track_cb cb, void *arg)
{
	struct timeval tv = { (long)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000 };
	struct track *t;

	if ((t = xcalloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->base = base;
	t->target = *target;
	t->interval_ms = interval_ms;
	t->fd = -1;
	t->verdict = -1;
	t->cb = cb;
	t->arg = arg;
	t->timer = event_new(base, -1, EV_PERSIST, track_timer_cb, t);
	t->conn_ev = event_new(base, -1, 0, track_conn_cb, t);
	if (t->timer == NULL || t->conn_ev == NULL || event_add(t->timer, &tv) == -1) {
		track_free(t);
		return NULL;
	}
	/* First probe at once rather than one interval late. */
	event_active(t->timer, EV_TIMEOUT, 0);
	return t;
}

void
track_free(struct track *t)
{
	if (t == NULL)
		return;
	if (t->fd != -1)
		close(t->fd);
	if (t->conn_ev != NULL)
		event_free(t->conn_ev);
	if (t->timer != NULL)
		event_free(t->timer);
	xfree(t);
}
