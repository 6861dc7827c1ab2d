/* Tandem — MIT licence. collectord's control socket: root-only, one line per request, one JSON line per reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "collector/alarm_store.h"
#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/control.h"
#include "collector/ingest.h"
#include "collector/repl.h"
#include "collector/role.h"
#include "collector/stats.h"
#include "collector/store.h"
#include "common/log.h"
#include "common/xalloc.h"

#define CTL_LINE_MAX	(40 * 1024)	/* `alarm put` carries a hex record */
#define CTL_CLIENTS_MAX	16
#define WAIT_POLL_MS	1		/* a standby applies a record in about a millisecond */
#define WAIT_MAX_MS	5000		/* monitor/ctl.h: CTL_ALARM_TIMEOUT_MS waits longer */

struct ctl_client {
	struct collector	*c;
	struct bufferevent	*bev;
	/* A reply waiting for the standby to apply wait_pos (drain, alarm writes). */
	struct event		*wait_ev;
	uint64_t		 wait_pos;
	uint64_t		 wait_since_ms;	/* monotonic */
	int			 wait_protected_only;	/* stop waiting once unprotected */
	void			(*wait_done)(struct ctl_client *, int applied);
	struct ctl_client	*next;
};

static struct evconnlistener	*ctl_listener;
static struct ctl_client	*ctl_clients;
static int			 ctl_nclients;
static char			*ctl_path;

static void
client_free(struct ctl_client *cl)
{
	struct ctl_client **pp;

	for (pp = &ctl_clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	if (cl->wait_ev != NULL)
		event_free(cl->wait_ev);
	bufferevent_free(cl->bev);
	xfree(cl);
	ctl_nclients--;
}

static void
reply(struct ctl_client *cl, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		evbuffer_add(bufferevent_get_output(cl->bev), s, strlen(s));
		evbuffer_add(bufferevent_get_output(cl->bev), "\n", 1);
		free(s);
	}
	json_decref(j);
}

static void
reply_error(struct ctl_client *cl, const char *why)
{
	reply(cl, json_pack("{s:b,s:s}", "ok", 0, "error", why));
}

static json_t *
status_json(struct collector *c)
{
	uint64_t pos = store_pos(c->store), peer = repl_master_peer_pos(c);
	json_t *repl;

	repl = json_pack("{s:s,s:b,s:I,s:I,s:b,s:I,s:I}",
	    "mode", c->conf->ack_mode_local ? "local" : "replicated",
	    "connected", c->role == ROLE_STANDBY ? repl_standby_connected(c) :
	    repl_master_connected(c),
	    "peer_pos", (json_int_t)peer,
	    "lag", (json_int_t)(c->role == ROLE_ACTIVE && pos > peer ? pos - peer : 0),
	    "protected", repl_master_protected(c),
	    "held_acks", (json_int_t)ingest_held(c->ingest),
	    "ring_first", (json_int_t)(repl_ring_of(c) != NULL ? repl_ring_first(repl_ring_of(c)) : 0));
	return json_pack("{s:b,s:s,s:s,s:I,s:b,s:b,s:I,s:I,s:i,s:o,s:I,s:I,s:b}",
	    "ok", 1,
	    "node", c->conf->node_name,
	    "role", collector_role_name(c->role),
	    "term", (json_int_t)c->term,
	    "accepting", collector_accepting(c),
	    "paused", c->paused,
	    "log_pos", (json_int_t)pos,
	    "epoch", (json_int_t)store_term(c->store),
	    "repl_port", repl_master_port(c),
	    "repl", repl,
	    "conns", (json_int_t)stats.conns_open,
	    "events_stored", (json_int_t)stats.events_stored,
	    "store_full", stats.commit_failures > 0 && stats.store_full_refusals > 0);
}


static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes hex digits in place; the byte count, or -1 on an odd length or a bad digit. */
static long
unhex(char *s)
{
	size_t n = strlen(s), i;
	int hi, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = hexval(s[2 * i]);
		lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		s[i] = (char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static void	client_read_cb(struct bufferevent *, void *);

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Polls until the standby has applied cl->wait_pos (or the wait no longer applies, or
 * WAIT_MAX_MS passed), then calls wait_done and reads on. Reading is paused meanwhile, so
 * replies keep the order of the requests.
 */
static void
wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *cl = arg;
	struct collector *c = cl->c;
	struct timeval tv = { 0, WAIT_POLL_MS * 1000 };
	int applied = repl_master_peer_pos(c) >= cl->wait_pos;
	int relevant = c->role == ROLE_ACTIVE &&
	    (!cl->wait_protected_only || repl_master_protected(c));

	if (!applied && relevant && mono_ms() - cl->wait_since_ms < WAIT_MAX_MS) {
		evtimer_add(cl->wait_ev, &tv);
		return;
	}
	cl->wait_done(cl, applied);
	bufferevent_enable(cl->bev, EV_READ);
	if (what & EV_TIMEOUT)			/* not from handle(): its loop goes on itself */
		client_read_cb(cl->bev, cl);	/* requests that arrived meanwhile */
}

/* Starts a wait for the standby to apply pos; done replies. */
static void
wait_for_standby(struct ctl_client *cl, uint64_t pos, int protected_only,
    void (*done)(struct ctl_client *, int))
{
	if (cl->wait_ev == NULL &&
	    (cl->wait_ev = evtimer_new(cl->c->base, wait_cb, cl)) == NULL)
		return reply_error(cl, "out of memory");
	cl->wait_pos = pos;
	cl->wait_since_ms = mono_ms();
	cl->wait_protected_only = protected_only;
	cl->wait_done = done;
	bufferevent_disable(cl->bev, EV_READ);
	wait_cb(-1, 0, cl);
}

static void
alarm_done(struct ctl_client *cl, int applied)
{
	if (!applied && cl->c->role == ROLE_ACTIVE && repl_master_protected(cl->c))
		log_warnx("control: alarm write at %llu not applied by the standby in %d ms",
		    (unsigned long long)cl->wait_pos, WAIT_MAX_MS);
	reply(cl, json_pack("{s:b,s:I,s:b}", "ok", 1, "log_pos", (json_int_t)cl->wait_pos,
	    "replicated", applied));
}

static void
drain_done(struct ctl_client *cl, int applied)
{
	reply(cl, json_pack("{s:b,s:I,s:I}", "ok", applied, "log_pos",
	    (json_int_t)store_pos(cl->c->store), "peer_pos",
	    (json_int_t)repl_master_peer_pos(cl->c)));
}

/* alarm put HEXKEY HEXVALUE | alarm del HEXKEY: monitord's state (collector/alarm_store.h). */
static void
handle_alarm(struct ctl_client *cl, int argc, char **argv)
{
	char err[200];
	long klen, vlen = 0;
	int rc;

	if (!((argc == 4 && strcmp(argv[1], "put") == 0) ||
	    (argc == 3 && strcmp(argv[1], "del") == 0)))
		return reply_error(cl, "usage: alarm put HEXKEY HEXVALUE | alarm del HEXKEY");
	if ((klen = unhex(argv[2])) == -1 || (argc == 4 && (vlen = unhex(argv[3])) == -1))
		return reply_error(cl, "alarm: key and value must be hex");
	if (argc == 4)
		rc = alarm_store_put(cl->c, argv[2], (size_t)klen, argv[3], (size_t)vlen, err,
		    sizeof(err));
	else
		rc = alarm_store_del(cl->c, argv[2], (size_t)klen, err, sizeof(err));
	if (rc == -1)
		return reply_error(cl, err);
	/*
	 * Like an agent's events, an alarm change is acknowledged once the standby holds it
	 * (while the pair is protected): an acknowledgement given in the dashboard survives a
	 * failover right after it. Further requests wait (reading is paused).
	 */
	wait_for_standby(cl, store_pos(cl->c->store), 1, alarm_done);
}

static void
handle(struct ctl_client *cl, char *line)
{
	struct collector *c = cl->c;
	char *argv[8], *p, err[200];
	int argc = 0;
	unsigned long long term;

	for (p = strtok(line, " \t\r"); p != NULL && argc < 8; p = strtok(NULL, " \t\r"))
		argv[argc++] = p;
	if (argc == 0)
		return reply_error(cl, "empty request");
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		return reply(cl, status_json(c));
	if (strcmp(argv[0], "role") == 0 && argc >= 3) {
		char *end;

		term = strtoull(argv[2], &end, 10);
		if (*end != '\0')
			return reply_error(cl, "term is not a number");
		if (strcmp(argv[1], "active") == 0 && (argc == 3 ||
		    (argc == 4 && strcmp(argv[3], "alone") == 0))) {
			if (role_set_active(c, term, argc == 4, err, sizeof(err)) == -1)
				return reply_error(cl, err);
			return reply(cl, status_json(c));
		}
		if (strcmp(argv[1], "standby") == 0 && argc == 4) {
			if (role_set_standby(c, term, argv[3], err, sizeof(err)) == -1)
				return reply_error(cl, err);
			return reply(cl, status_json(c));
		}
		return reply_error(cl, "usage: role active TERM [alone] | role standby TERM HOST:PORT");
	}
	if (strcmp(argv[0], "drain") == 0 && argc == 1) {
		if (c->role != ROLE_ACTIVE)
			return reply_error(cl, "drain: not the active node");
		role_pause(c, 1);
		wait_for_standby(cl, store_pos(c->store), 0, drain_done);
		return;
	}
	if (strcmp(argv[0], "alarm") == 0)
		return handle_alarm(cl, argc, argv);
	if (strcmp(argv[0], "resume") == 0 && argc == 1) {
		role_pause(c, 0);
		return reply(cl, json_pack("{s:b}", "ok", 1));
	}
	reply_error(cl, "unknown request (status, role, drain, resume, alarm)");
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;
	int i;

	for (i = 0; i < 64; i++) {
		if (cl->wait_ev != NULL && evtimer_pending(cl->wait_ev, NULL))
			break;			/* a reply awaits the standby */
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL)
			break;
		if (n > CTL_LINE_MAX)
			reply_error(cl, "request too long");
		else
			handle(cl, line);
		free(line);
	}
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		log_warnx("control: request over %d bytes: closing", CTL_LINE_MAX);
		client_free(cl);
	}
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_free(arg);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen,
    void *arg)
{
	struct collector *c = arg;
	struct ctl_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		log_warnx("control: refused a client with uid %d", (int)cred.uid);
		evutil_closesocket(fd);
		return;
	}
	if (ctl_nclients >= CTL_CLIENTS_MAX || (cl = xcalloc(1, sizeof(*cl))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	cl->c = c;
	if ((cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		xfree(cl);
		return;
	}
	bufferevent_setcb(cl->bev, client_read_cb, NULL, client_event_cb, cl);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	cl->next = ctl_clients;
	ctl_clients = cl;
	ctl_nclients++;
}

int
control_start(struct collector *c, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;

	if (c->conf->control_socket == NULL)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->conf->control_socket) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control_socket: path too long");
		return -1;
	}
	strcpy(sun.sun_path, c->conf->control_socket);
	unlink(sun.sun_path);
	old = umask(0177);
	ctl_listener = evconnlistener_new_bind(c->base, accept_cb, c, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, 16, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ctl_listener == NULL) {
		snprintf(err, errlen, "control_socket %s: %s", sun.sun_path, strerror(errno));
		return -1;
	}
	ctl_path = xstrdup(sun.sun_path);
	log_info("control socket %s", sun.sun_path);
	return 0;
}

void
control_stop(void)
{
	while (ctl_clients != NULL)
		client_free(ctl_clients);
	if (ctl_listener != NULL)
		evconnlistener_free(ctl_listener);
	ctl_listener = NULL;
	if (ctl_path != NULL)
		unlink(ctl_path);
	XFREE(ctl_path);
}
