/* Tandem — MIT licence. Replication, standby side: follow the active, apply records, take snapshots, ack. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/repl.h"
#include "collector/stats.h"
#include "collector/store.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/tcp.h"
#include "common/repl_rec.h"
#include "common/store_schema.h"
#include "common/tls.h"
#include "common/xalloc.h"

#define RETRY_MIN_MS	50
#define RETRY_MAX_MS	1000
#define FRAMES_PER_WAKEUP	256

struct repl_standby {
	struct collector	*c;
	char			 hostport[300];
	struct sockaddr_storage	 ss;
	int			 sslen;
	SSL_CTX			*tls;
	struct bufferevent	*bev;
	struct event		*retry_ev;
	struct event		*keepalive_ev;
	unsigned		 retry_ms;
	int			 connected;
	/* Snapshot being received. */
	int			 snap_fd;
	int			 snap_diverged;
	char			 snap_dir[4200];
};

static void sb_connect(struct repl_standby *);

static void
sb_drop(struct repl_standby *sb, const char *why)
{
	struct timeval tv;

	if (sb->bev != NULL) {
		log_warnx("replication: following %s: %s", sb->hostport, why);
		bufferevent_free(sb->bev);
		sb->bev = NULL;
	}
	if (sb->snap_fd >= 0) {
		close(sb->snap_fd);
		sb->snap_fd = -1;
	}
	sb->connected = 0;
	tv.tv_sec = sb->retry_ms / 1000;
	tv.tv_usec = (sb->retry_ms % 1000) * 1000;
	evtimer_add(sb->retry_ev, &tv);
	sb->retry_ms = sb->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : sb->retry_ms * 2;
}

static void
sb_hello(struct repl_standby *sb)
{
	uint8_t b[16];

	store_put_be64(b, store_pos(sb->c->store));
	store_put_be64(b + 8, store_term(sb->c->store));
	repl_send(bufferevent_get_output(sb->bev), REPL_HELLO, b, sizeof(b));
}

static void sb_ack(struct repl_standby *);

static void
keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct repl_standby *sb = arg;

	if (sb->bev != NULL && sb->connected && sb->snap_fd < 0)
		sb_ack(sb);
}

static void
sb_ack(struct repl_standby *sb)
{
	uint8_t b[8];

	store_put_be64(b, store_pos(sb->c->store));
	repl_send(bufferevent_get_output(sb->bev), REPL_ACK, b, sizeof(b));
}

static int
snap_begin(struct repl_standby *sb, const uint8_t *p, size_t len)
{
	char file[4300];

	if (len != 9)
		return -1;
	sb->snap_diverged = p[0];
	snprintf(sb->snap_dir, sizeof(sb->snap_dir), "%s.snap", store_path(sb->c->store));
	mkdir(sb->snap_dir, 0750);
	snprintf(file, sizeof(file), "%s/data.mdb", sb->snap_dir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/lock.mdb", sb->snap_dir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/data.mdb", sb->snap_dir);
	if ((sb->snap_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) == -1) {
		log_warn("replication: snapshot file %s", file);
		return -1;
	}
	log_info("replication: receiving a snapshot at position %llu",
	    (unsigned long long)store_get_be64(p + 1));
	return 0;
}

static int
snap_data(struct repl_standby *sb, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(sb->snap_fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("replication: writing the snapshot");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The snapshot is complete: set the old store aside, put the snapshot in its place. */
static int
snap_end(struct repl_standby *sb)
{
	struct collector *c = sb->c;
	char path[4096], aside[4400], err[256];
	uint64_t old_pos = store_pos(c->store), old_term = store_term(c->store);
	uint64_t map = store_map_size(c->store);

	if (fsync(sb->snap_fd) == -1 || close(sb->snap_fd) == -1) {
		sb->snap_fd = -1;
		log_warn("replication: snapshot fsync");
		return -1;
	}
	sb->snap_fd = -1;
	snprintf(path, sizeof(path), "%s", store_path(c->store));
	store_close(c->store);
	c->store = NULL;
	if (old_pos > 0) {
		/* Never drop what this node held: it may hold events only it has. */
		/* Unique: two snapshots may land within one second. */
		snprintf(aside, sizeof(aside), "%s.aside-%lld-%llu", path, (long long)time(NULL),
		    (unsigned long long)old_pos);
		for (int i = 1; access(aside, F_OK) == 0 && i < 1000; i++)
			snprintf(aside, sizeof(aside), "%s.aside-%lld-%llu-%d", path,
			    (long long)time(NULL), (unsigned long long)old_pos, i);
		if (rename(path, aside) == -1)
			fatal("replication: setting the old store aside as %s", aside);
		if (sb->snap_diverged)
			log_warnx("replication: this node's history DIVERGED from the active's: its "
			    "store (up to position %llu, epoch %llx) is kept aside at %s; events "
			    "only it held are there, not in the active's store",
			    (unsigned long long)old_pos, (unsigned long long)old_term, aside);
		else
			log_info("replication: the old store (position %llu) is kept at %s",
			    (unsigned long long)old_pos, aside);
		stats.stores_set_aside++;
	} else {
		char f[4200];

		snprintf(f, sizeof(f), "%s/data.mdb", path);
		unlink(f);
		snprintf(f, sizeof(f), "%s/lock.mdb", path);
		unlink(f);
		rmdir(path);
	}
	if (rename(sb->snap_dir, path) == -1)
		fatal("replication: moving the snapshot into place");
	if ((c->store = store_open(path, map, err, sizeof(err))) == NULL)
		fatalx("replication: opening the snapshot: %s", err);
	repl_master_rebind(c);
	if (c->hooks.reopened != NULL)
		c->hooks.reopened(c->hooks.arg, c->store);
	if (repl_ring_of(c) != NULL)
		repl_ring_clear(repl_ring_of(c));
	log_info("replication: snapshot in place at position %llu",
	    (unsigned long long)store_pos(c->store));
	return 0;
}

static void
sb_read_cb(struct bufferevent *bev, void *arg)
{
	struct repl_standby *sb = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[FRAME_HDR + 1];
	const uint8_t *body;
	char err[200];
	size_t len;
	int i, applied = 0, rc;

	for (i = 0; i < FRAMES_PER_WAKEUP; i++) {
		size_t avail = evbuffer_get_length(in);
		enum frame_status st;

		if (avail < FRAME_HDR + 1)
			break;
		evbuffer_copyout(in, hdr, FRAME_HDR);
		st = frame_parse(hdr, avail, REPL_REC_MAX_FRAME, &len);
		if (st == FRAME_NEED_MORE)
			break;
		if (st != FRAME_READY) {
			sb_drop(sb, "bad frame from the active");
			return;
		}
		if ((body = evbuffer_pullup(in, (ssize_t)(FRAME_HDR + len))) == NULL) {
			sb_drop(sb, "out of memory");
			return;
		}
		body += FRAME_HDR;
		switch (body[0]) {
		case REPL_RECORD: {
			uint64_t pos, epoch;
			struct repl_it it;

			rc = store_apply(sb->c->store, body + 1, len - 1, err, sizeof(err));
			if (rc != 0) {
				sb_drop(sb, err);
				return;
			}
			repl_rec_open(body + 1, len - 1, &pos, &epoch, &it);
			if (repl_ring_of(sb->c) != NULL)
				repl_ring_add(repl_ring_of(sb->c), pos, epoch, body + 1, len - 1);
			stats.repl_applied++;
			applied = 1;
			break;
		}
		case REPL_SNAP:
			if (snap_begin(sb, body + 1, len - 1) == -1) {
				sb_drop(sb, "cannot start the snapshot");
				return;
			}
			break;
		case REPL_SNAP_DATA:
			if (sb->snap_fd < 0 || snap_data(sb, body + 1, len - 1) == -1) {
				sb_drop(sb, "snapshot data out of place");
				return;
			}
			break;
		case REPL_SNAP_END:
			evbuffer_drain(in, FRAME_HDR + len);
			if (sb->snap_fd < 0 || snap_end(sb) == -1) {
				sb_drop(sb, "snapshot failed");
				return;
			}
			sb_hello(sb);
			continue;
		case REPL_ERROR:
			sb_drop(sb, "the active refused");
			return;
		default:
			sb_drop(sb, "unexpected message from the active");
			return;
		}
		evbuffer_drain(in, FRAME_HDR + len);
	}
	if (applied)
		sb_ack(sb);
	if (i == FRAMES_PER_WAKEUP && evbuffer_get_length(in) > FRAME_HDR)
		bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
		    BEV_TRIG_DEFER_CALLBACKS);
}

static void
sb_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct repl_standby *sb = arg;

	if (what & BEV_EVENT_CONNECTED) {
		log_info("replication: following %s from position %llu", sb->hostport,
		    (unsigned long long)store_pos(sb->c->store));
		sb->connected = 1;
		sb->retry_ms = RETRY_MIN_MS;
		if (tcp_nodelay(bufferevent_getfd(sb->bev)) == -1)
			log_warn("replication: TCP_NODELAY");
		sb_hello(sb);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		sb_drop(sb, what & BEV_EVENT_EOF ? "the active closed" : "connection failed");
}

static void
sb_connect(struct repl_standby *sb)
{
	SSL *ssl = NULL;

	if (sb->tls != NULL && (ssl = SSL_new(sb->tls)) == NULL) {
		sb_drop(sb, "TLS");
		return;
	}
	sb->bev = ssl != NULL ?
	    bufferevent_openssl_socket_new(sb->c->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(sb->c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (sb->bev == NULL) {
		sb_drop(sb, "out of memory");
		return;
	}
	bufferevent_setcb(sb->bev, sb_read_cb, NULL, sb_event_cb, sb);
	bufferevent_enable(sb->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(sb->bev, (struct sockaddr *)&sb->ss, sb->sslen) == -1)
		sb_drop(sb, "connect failed");
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct repl_standby *sb = arg;

	if (sb->bev == NULL)
		sb_connect(sb);
}

int
repl_standby_start(struct collector *c, const char *hostport, char *err, size_t errlen)
{
	struct repl_standby *sb = c->standby;

	if (sb != NULL && strcmp(sb->hostport, hostport) == 0)
		return 0;
	repl_standby_stop(c);
	if ((sb = xcalloc(1, sizeof(*sb))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sb->c = c;
	sb->snap_fd = -1;
	sb->retry_ms = RETRY_MIN_MS;
	snprintf(sb->hostport, sizeof(sb->hostport), "%s", hostport);
	sb->sslen = sizeof(sb->ss);
	if (evutil_parse_sockaddr_port(hostport, (struct sockaddr *)&sb->ss, &sb->sslen) == -1) {
		snprintf(err, errlen, "\"%s\" is not a numeric host:port", hostport);
		xfree(sb);
		return -1;
	}
	if (c->conf->repl_tls_cert != NULL &&
	    (sb->tls = tls_client_ctx(c->conf->repl_tls_ca, c->conf->repl_tls_cert,
	    c->conf->repl_tls_key, err, errlen)) == NULL) {
		xfree(sb);
		return -1;
	}
	if ((sb->retry_ev = evtimer_new(c->base, retry_cb, sb)) == NULL ||
	    (sb->keepalive_ev = event_new(c->base, -1, EV_PERSIST, keepalive_cb, sb)) == NULL) {
		if (sb->retry_ev != NULL)
			event_free(sb->retry_ev);
		SSL_CTX_free(sb->tls);
		xfree(sb);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->standby = sb;
	{
		struct timeval tv = { 0, REPL_KEEPALIVE_MS * 1000 };

		event_add(sb->keepalive_ev, &tv);
	}
	sb_connect(sb);
	return 0;
}

void
repl_standby_stop(struct collector *c)
{
	struct repl_standby *sb = c->standby;

	if (sb == NULL)
		return;
	if (sb->bev != NULL)
		bufferevent_free(sb->bev);
	if (sb->snap_fd >= 0)
		close(sb->snap_fd);
	event_free(sb->retry_ev);
	event_free(sb->keepalive_ev);
	SSL_CTX_free(sb->tls);
	xfree(sb);
	c->standby = NULL;
}

int
repl_standby_connected(const struct collector *c)
{
	return c->standby != NULL && c->standby->connected;
}
