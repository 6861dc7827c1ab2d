/* Tandem — MIT licence. had's unprivileged child: heartbeat, election, collector control, tandemctl. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <jansson.h>

#include "common/log.h"
#include "ha/cctl.h"
#include "ha/election.h"
#include "ha/ha_conf.h"
#include "ha/ha_ctl.h"
#include "ha/ha_engine.h"
#include "ha/hb.h"
#include "ha/ipc.h"
#include "ha/track.h"

#define ENGINE_IPC_TIMEOUT_MS	3000	/* the parent answers in well under a millisecond */
#define ENGINE_CC_RETRY_MS	500	/* reconnect to the collector's control socket */
#define ENGINE_CC_TIMEOUT_MS	3000	/* an answer older than this: drop the connection */
#define ENGINE_CC_DRAIN_MS	10000	/* drain may take the collector's 5 s and more */
#define ENGINE_STOP_DRAIN_MS	2000	/* graceful stop: bound on the drain */
#define ENGINE_STOP_LAST_MS	300	/* graceful stop: time for the last heartbeats and role */
#define ENGINE_STATE_LEN	32

/* One role change, as shown by `tandemctl status`. */
struct engine_record {
	int			 valid;
	time_t			 at;
	enum elect_state	 from, to;
	uint64_t		 term;
	char			 why[64];
	uint64_t		 detect_ms;	/* peer silence when the decision was made */
	uint64_t		 takeover_ms;	/* decision to the last step (collector role acked) */
	int			 done;
	uint64_t		 start_ms;
};

struct engine {
	const struct ha_conf	*conf;
	struct engine_res	*r;
	struct event_base	*base;
	struct election		 e;

	/* heartbeat */
	struct hb_config	 hbc;
	struct hb_peer		 hbp;
	struct hb_counters	 hbctr;
	struct hb_listener	*hbl;
	uint64_t		 hb_counter;
	uint64_t		 hb_sent, hb_send_fail;
	int			 hb_fail_tick;	/* a send failed since the last health check */
	uint64_t		 hb_missed;	/* intervals that passed without the peer's heartbeat */
	uint64_t		 miss_due_ms;	/* the next heartbeat is missed after this; 0: none heard */
	uint64_t		 stats_ms;	/* last write of the stats file */

	/* timers and signals */
	struct event		*hb_timer, *tick_timer, *renew_timer, *garp2_timer, *refresh_timer;
	struct event		*ipc_ev, *sigterm, *sigint, *stop_timer;
	uint64_t		 tick_ms, tick_expect, last_health_ms, max_lag_ms, stalls;

	/* service IP (through the parent) */
	int			 vip_held;
	uint64_t		 vip_renew_fail, garp_bursts;

	/* collector */
	struct cctl		*cc;
	uint64_t		 cc_last_try_ms, cc_connects, cc_failures;
	int			 cc_status_pending, cc_role_pending, cc_ok, cc_seen;
	json_t			*cc_status;
	int			 cc_role_acked;		/* enum elect_state, -1 none */
	uint64_t		 cc_term_acked;
	int			 drain_pending, drained;
	uint64_t		 log_pos, ack_pos;

	/* tandemctl */
	struct ha_ctl		*ctl;
	uint64_t		 fo_waiter;		/* connection awaiting the failover answer */
	uint64_t		 fo_start_ms;
	int			 fo_handed;
	uint64_t		 switchovers;

	struct engine_record	 cur, last;
	uint64_t		 failovers;		/* times this node became active */
	uint64_t		 term_saved;

	struct track		*track;
	int			 track_ok;

	int			 stopping, stop_released;
	int			 status;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval tv = { (long)(ms / 1000), (long)(ms % 1000) * 1000 };

	return tv;
}

static void engine_do(struct engine *, uint32_t acts, enum elect_state prev, const char *why);
static void engine_sync_collector(struct engine *);
static void engine_send_hb(struct engine *);

/* ---- state file ---- */

uint64_t
engine_read_term(int fd)
{
	char buf[ENGINE_STATE_LEN + 1];
	ssize_t n;

	n = pread(fd, buf, ENGINE_STATE_LEN, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (strncmp(buf, "term ", 5) != 0)
		return 0;
	return strtoull(buf + 5, NULL, 10);
}

/* One fixed-size record rewritten in place: a single sector, so never torn. */
static void
engine_save_term(struct engine *g)
{
	char buf[ENGINE_STATE_LEN];

	if (g->e.term == g->term_saved)
		return;
	memset(buf, ' ', sizeof(buf));
	snprintf(buf, sizeof(buf), "term %" PRIu64, g->e.term);
	buf[strlen(buf)] = ' ';
	buf[sizeof(buf) - 1] = '\n';
	if (pwrite(g->r->state_fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fdatasync(g->r->state_fd) == -1) {
		log_warn("%s: state file", __func__);
		return;
	}
	g->term_saved = g->e.term;
}

/* ---- the parent ---- */

static int
engine_parent(struct engine *g, uint32_t type, const void *payload, size_t len, int *fd_out)
{
	struct ipc_result res;
	int r;

	event_del(g->ipc_ev);
	r = ipc_call(g->r->ipc, type, payload, len, ENGINE_IPC_TIMEOUT_MS, &res, fd_out);
	event_add(g->ipc_ev, NULL);
	if (r == -2)
		fatalx("engine: malformed answer from the parent to %s", ipc_type_name(type));
	if (r == -1)
		fatal("engine: the parent did not answer %s", ipc_type_name(type));
	if (res.err != 0) {
		errno = res.err;
		return -1;
	}
	return 0;
}

static void
engine_ipc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *g = arg;
	uint8_t payload[IPC_PAYLOAD_MAX];
	struct ipc_hdr h;
	int r;

	/* Outside a call the parent never writes: this is its exit, or a bug. */
	r = ipc_recv(g->r->ipc, &h, payload, NULL);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r == 0 || r == -1)
		fatalx("engine: the parent is gone; stopping");
	fatalx("engine: unsolicited message from the parent (type %u %s)", h.type,
	    ipc_type_name(h.type));
}

static void
engine_vip_add(struct engine *g, const char *what)
{
	if (engine_parent(g, IPC_VIP_ADD, NULL, 0, NULL) == -1) {
		g->vip_renew_fail++;
		log_warn("engine: %s of the service address failed", what);
		return;
	}
	g->vip_held = 1;
}

static void
engine_garp(struct engine *g)
{
	struct ipc_garp ga = { g->conf->garp_count };

	if (engine_parent(g, IPC_GARP, &ga, sizeof(ga), NULL) == -1)
		log_warn("engine: gratuitous ARP burst failed");
	else
		g->garp_bursts++;
}

static void
engine_renew_cb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *g = arg;

	if (g->vip_held && !g->stopping)
		engine_vip_add(g, "renewal");
}

static void
engine_garp2_cb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *g = arg;

	if (g->e.state == ELECT_ST_ACTIVE && g->vip_held)
		engine_garp(g);
}

/* ---- collector control ---- */

static int
engine_cc_configured(const struct engine *g)
{
	return g->conf->collector_control != NULL;
}

static uint64_t
json_u64(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (uint64_t)json_integer_value(v) : 0;
}

static void
engine_cc_status_cb(json_t *j, void *arg)
{
	struct engine *g = arg;
	json_t *repl, *ok, *v;
	uint64_t log_pos, peer_pos;
	int prot = 0, replicated = 0;

	g->cc_status_pending = 0;
	if (j == NULL) {
		g->cc_ok = 0;
		return;
	}
	json_decref(g->cc_status);
	g->cc_status = json_incref(j);
	g->cc_seen = 1;
	ok = json_object_get(j, "ok");
	g->cc_ok = (ok == NULL || json_is_true(ok)) && !json_is_true(json_object_get(j,
	    "store_full"));
	log_pos = json_u64(j, "log_pos");
	repl = json_object_get(j, "repl");
	peer_pos = json_u64(repl, "peer_pos");
	if (json_is_object(repl)) {
		v = json_object_get(repl, "mode");
		replicated = json_is_string(v) && strcmp(json_string_value(v), "replicated") == 0;
		prot = json_is_true(json_object_get(repl, "protected"));
	}
	g->log_pos = log_pos;
	/* What agents were told is safe: in replicated mode only what the standby applied. */
	if (g->e.state == ELECT_ST_ACTIVE)
		g->ack_pos = replicated && prot ? (peer_pos < log_pos ? peer_pos : log_pos) :
		    log_pos;
	else
		g->ack_pos = 0;
	election_set_position(&g->e, g->log_pos, g->ack_pos);
}

static void
engine_cc_drop(struct engine *g, const char *why)
{
	if (g->cc == NULL)
		return;
	log_warnx("engine: collector control connection dropped: %s", why);
	g->cc_failures++;
	cctl_free(g->cc);
	g->cc = NULL;
	g->cc_ok = 0;
	g->cc_status_pending = g->cc_role_pending = g->drain_pending = 0;
	/* A reconnected collector is told its role again. */
	g->cc_role_acked = -1;
}

static void
engine_cc_connect(struct engine *g, uint64_t now)
{
	int fd = -1;

	if (g->cc != NULL && !cctl_alive(g->cc))
		engine_cc_drop(g, "closed");
	if (g->cc != NULL || now - g->cc_last_try_ms < ENGINE_CC_RETRY_MS)
		return;
	g->cc_last_try_ms = now;
	/* The socket is root-only: the parent connects and passes the descriptor. */
	if (engine_parent(g, IPC_CTL_CONNECT, NULL, 0, &fd) == -1) {
		if (g->cc_connects == 0 && g->cc_failures++ % 20 == 0)
			log_warn("engine: collector control %s", g->conf->collector_control);
		g->cc_ok = 0;
		return;
	}
	if ((g->cc = cctl_new(g->base, fd)) == NULL) {
		log_warnx("engine: collector control: out of memory");
		return;
	}
	g->cc_connects++;
	g->cc_role_acked = -1;
	log_info("engine: connected to the collector's control socket");
}

struct role_req {
	struct engine	*g;
	int		 role;
	uint64_t	 term;
};

static struct role_req	the_role_req;

static void
engine_cc_role_cb(json_t *j, void *arg)
{
	struct role_req *rq = arg;
	struct engine *g = rq->g;
	json_t *err;

	g->cc_role_pending = 0;
	if (j == NULL)
		return;
	if (!json_is_true(json_object_get(j, "ok"))) {
		err = json_object_get(j, "error");
		log_warnx("engine: the collector refused role %s: %s",
		    election_state_name(rq->role), json_is_string(err) ?
		    json_string_value(err) : "?");
		return;
	}
	g->cc_role_acked = rq->role;
	g->cc_term_acked = rq->term;
	log_info("engine: collector is now %s for term %" PRIu64,
	    rq->role == ELECT_ST_ACTIVE ? "active" : "standby", rq->term);
	if (rq->role == ELECT_ST_ACTIVE && g->cur.valid && !g->cur.done &&
	    g->cur.to == ELECT_ST_ACTIVE) {
		g->cur.takeover_ms = now_ms() - g->cur.start_ms;
		g->cur.done = 1;
		g->last = g->cur;
	}
	engine_sync_collector(g);
}

/* Tells the collector the role the election decided, once per (role, term). */
static void
engine_sync_collector(struct engine *g)
{
	char line[128], a[INET_ADDRSTRLEN];
	int want;

	if (!engine_cc_configured(g) || !cctl_alive(g->cc) || g->cc_role_pending)
		return;
	switch (g->e.state) {
	case ELECT_ST_ACTIVE:
		want = ELECT_ST_ACTIVE;
		break;
	case ELECT_ST_STANDBY:
	case ELECT_ST_FAULT:
		want = ELECT_ST_STANDBY;
		break;
	default:
		return;
	}
	if (g->stopping && want == ELECT_ST_ACTIVE)
		return;
	if (want == g->cc_role_acked && g->e.term == g->cc_term_acked)
		return;
	if (want == ELECT_ST_ACTIVE) {
		/* With the peer dead there is no standby to wait for: acks go local at once. */
		snprintf(line, sizeof(line), "role active %" PRIu64 "%s", g->e.term,
		    g->e.peer_state == ELECT_PEER_DEAD ? " alone" : "");
	} else {
		inet_ntop(AF_INET, &g->conf->peer_repl.sin_addr, a, sizeof(a));
		snprintf(line, sizeof(line), "role standby %" PRIu64 " %s:%u", g->e.term, a,
		    ntohs(g->conf->peer_repl.sin_port));
	}
	the_role_req.g = g;
	the_role_req.role = want;
	the_role_req.term = g->e.term;
	if (cctl_request(g->cc, line, now_ms(), engine_cc_role_cb, &the_role_req) == 0)
		g->cc_role_pending = 1;
}

static void
engine_cc_resume_cb(json_t *j, void *arg)
{
	if (j != NULL && !json_is_true(json_object_get(j, "ok")))
		log_warnx("engine: the collector refused resume");
}

static void engine_fo_fail(struct engine *, const char *);

static void
engine_cc_drain_cb(json_t *j, void *arg)
{
	struct engine *g = arg;
	enum elect_state prev = g->e.state;
	uint32_t acts;

	g->drain_pending = 0;
	if (g->stopping)
		return;
	if (j != NULL && json_is_true(json_object_get(j, "ok"))) {
		g->log_pos = json_u64(j, "log_pos");
		election_set_position(&g->e, g->log_pos, g->ack_pos);
		election_set_hold(&g->e, 0);
		log_info("engine: collector drained at position %" PRIu64 " (standby at %"
		    PRIu64 "); handing over at the next heartbeat", g->log_pos,
		    json_u64(j, "peer_pos"));
		return;
	}
	/* The standby did not catch up (or the collector is gone): abandon now. */
	log_warnx("engine: drain failed; abandoning the switchover");
	election_set_hold(&g->e, 0);
	acts = election_fsm(&g->e, ELECT_EV_SWITCHOVER_TIMEOUT, NULL, now_ms());
	engine_do(g, acts, prev, "drain failed");
}

static void
engine_cc_poll(struct engine *g, uint64_t now)
{
	uint64_t age;

	if (!engine_cc_configured(g))
		return;
	engine_cc_connect(g, now);
	if (!cctl_alive(g->cc))
		return;
	age = cctl_oldest_ms(g->cc, now);
	if (age > (g->drain_pending ? ENGINE_CC_DRAIN_MS : ENGINE_CC_TIMEOUT_MS)) {
		engine_cc_drop(g, "no answer");
		return;
	}
	if (!g->cc_status_pending && cctl_pending(g->cc) < CCTL_QUEUE / 2 &&
	    cctl_request(g->cc, "status", now, engine_cc_status_cb, g) == 0)
		g->cc_status_pending = 1;
	engine_sync_collector(g);
}

/* ---- failover bookkeeping (tandemctl failover) ---- */

static void
engine_fo_fail(struct engine *g, const char *why)
{
	if (g->fo_waiter == 0)
		return;
	ha_ctl_error(g->ctl, g->fo_waiter, why);
	g->fo_waiter = 0;
	g->fo_handed = 0;
}

static void
engine_fo_done(struct engine *g, uint64_t now)
{
	json_t *j;

	if (g->fo_waiter == 0)
		return;
	j = json_pack("{s:b,s:I,s:I,s:I}", "ok", 1, "new_active", (json_int_t)g->e.peer.node_id,
	    "term", (json_int_t)g->e.peer.term, "duration_ms",
	    (json_int_t)(now - g->fo_start_ms));
	if (j != NULL) {
		ha_ctl_reply(g->ctl, g->fo_waiter, j);
		json_decref(j);
	}
	g->switchovers++;
	g->fo_waiter = 0;
	g->fo_handed = 0;
}

/* ---- carrying out the election's actions ---- */

static void
engine_record(struct engine *g, enum elect_state prev, const char *why, uint64_t now)
{
	struct engine_record *c = &g->cur;

	memset(c, 0, sizeof(*c));
	c->valid = 1;
	c->at = time(NULL);
	c->from = prev;
	c->to = g->e.state;
	c->term = g->e.term;
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->start_ms = now;
	c->detect_ms = now >= g->e.last_hb_ms ? now - g->e.last_hb_ms : 0;
	if (c->to == ELECT_ST_ACTIVE) {
		g->failovers++;
		/* Done when the collector acknowledges the role (at once without a collector). */
		if (!engine_cc_configured(g)) {
			c->done = 1;
			g->last = *c;
		}
	} else {
		c->done = 1;
		if (prev == ELECT_ST_ACTIVE)
			g->last = *c;
	}
	log_info("engine: %s -> %s (term %" PRIu64 ", %s)", election_state_name(prev),
	    election_state_name(c->to), c->term, why);
}

static void
engine_do(struct engine *g, uint32_t acts, enum elect_state prev, const char *why)
{
	uint64_t now = now_ms();
	struct timeval tv;

	if (acts == 0 && g->e.state == prev) {
		engine_save_term(g);
		return;
	}
	/* In bit order: the takeover order of STYLE rule 14 and its reverse for release. */
	if (acts & ELECT_ACT_BUMP_TERM) {
		g->cur.start_ms = now;
		engine_save_term(g);
	}
	if (acts & ELECT_ACT_STOP_ACCEPTING) {
		if (g->e.state == ELECT_ST_ACTIVE && g->e.handover) {
			/* Switchover: the collector stops reading, commits, waits for the standby. */
			if (cctl_alive(g->cc) && cctl_request(g->cc, "drain", now,
			    engine_cc_drain_cb, g) == 0) {
				g->drain_pending = 1;
				g->drained = 1;
				election_set_hold(&g->e, 1);
			}
		}
		/* Otherwise the collector is told "role standby" below (refuses agents). */
	}
	if (acts & ELECT_ACT_RELEASE_VIP) {
		if (engine_parent(g, IPC_VIP_DEL, NULL, 0, NULL) == -1)
			log_warn("engine: removing the service address");
		g->vip_held = 0;
		event_del(g->renew_timer);
		event_del(g->refresh_timer);
		event_del(g->garp2_timer);
	}
	if (acts & ELECT_ACT_RESYNC)
		/* The collector, told "role standby", keeps events only it holds aside. */
		log_warnx("engine: split brain lost: the collector resynchronises from the peer");
	if (acts & ELECT_ACT_TAKE_VIP) {
		engine_vip_add(g, "adding");
		tv = ms_tv(g->conf->vip_renew_ms);
		event_add(g->renew_timer, &tv);
	}
	if (acts & ELECT_ACT_SEND_GARP) {
		engine_garp(g);
		tv = ms_tv(g->conf->garp_repeat_ms);
		event_add(g->garp2_timer, &tv);
		if (g->conf->garp_refresh_ms > 0) {
			tv = ms_tv(g->conf->garp_refresh_ms);
			event_add(g->refresh_timer, &tv);
		}
	}
	if (acts & ELECT_ACT_START_ACCEPTING) {
		if (g->drained && cctl_alive(g->cc) &&
		    cctl_request(g->cc, "resume", now, engine_cc_resume_cb, g) == 0)
			g->drained = 0;
		if (g->fo_waiter != 0 && !g->fo_handed && prev == ELECT_ST_ACTIVE)
			engine_fo_fail(g, "switchover abandoned: the standby did not catch up");
	}
	if (acts & ELECT_ACT_RECORD)
		engine_record(g, prev, why, now);
	if (prev == ELECT_ST_ACTIVE && g->e.state != ELECT_ST_ACTIVE && g->fo_waiter != 0)
		g->fo_handed = g->e.yield;
	if (g->e.state == ELECT_ST_ACTIVE)
		g->drained = g->drained && g->e.handover;
	engine_sync_collector(g);
	if (acts & ELECT_ACT_SEND_HB)
		engine_send_hb(g);
	engine_save_term(g);
}

/* ---- heartbeat ---- */

static void
engine_send_hb(struct engine *g)
{
	struct elect_peer me;
	struct hb_advert adv;

	election_advert(&g->e, &me);
	memset(&adv, 0, sizeof(adv));
	adv.role = (uint8_t)me.role;
	adv.node_id = me.node_id;
	adv.priority = me.priority;
	adv.interval_ms = (uint16_t)g->conf->interval_ms;
	adv.term = me.term;
	adv.log_pos = me.log_pos;
	adv.ack_pos = me.ack_pos;
	adv.echo = g->hbp.seen ? g->hbp.last_counter : 0;
	adv.flags = (me.healthy ? HB_F_HEALTHY : 0) | (me.track_ok ? HB_F_TRACK_OK : 0) |
	    (me.maint ? HB_F_MAINT : 0) | (me.yield ? HB_F_YIELD : 0);
	if (g->stopping && g->stop_released) {
		/* Going away: not a candidate, not active; the peer takes over at once. */
		adv.role = HB_ROLE_FAULT;
		adv.flags = HB_F_YIELD;
		adv.priority = 0;
	}
	if (hb_send(g->r->hb_fd, (const struct sockaddr *)&g->conf->peer, sizeof(g->conf->peer),
	    &g->hbc, &adv, &g->hb_counter) == -1) {
		g->hb_send_fail++;
		g->hb_fail_tick = 1;
	} else
		g->hb_sent++;
}

static void
engine_hb_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	engine_send_hb(arg);
}

static void
engine_hb_recv(const struct hb_advert *adv, void *arg)
{
	struct engine *g = arg;
	struct elect_peer p;
	enum elect_state prev = g->e.state;
	uint32_t acts;

	if (g->stopping)
		return;
	memset(&p, 0, sizeof(p));
	p.node_id = adv->node_id;
	p.priority = adv->priority;
	p.term = adv->term;
	p.role = (enum elect_state)adv->role;
	p.healthy = (adv->flags & HB_F_HEALTHY) != 0;
	p.track_ok = (adv->flags & HB_F_TRACK_OK) != 0;
	p.maint = (adv->flags & HB_F_MAINT) != 0;
	p.yield = (adv->flags & HB_F_YIELD) != 0;
	p.log_pos = adv->log_pos;
	p.ack_pos = adv->ack_pos;
	g->miss_due_ms = now_ms() + g->conf->interval_ms + g->conf->interval_ms / 2;
	acts = election_fsm(&g->e, ELECT_EV_HB_RECEIVED, &p, now_ms());
	engine_do(g, acts, prev, "heartbeat");
	if (g->fo_waiter != 0 && g->fo_handed && p.role == ELECT_ST_ACTIVE)
		engine_fo_done(g, now_ms());
}

/* ---- tick: FSM timers, health, collector polling ---- */

/*
 * Heartbeat loss: one count per interval that passed without an accepted heartbeat, once
 * the peer was heard. Intervals in which our own loop stalled are not the peer's loss.
 */
static void
engine_count_missed(struct engine *g, uint64_t now, uint64_t lag)
{
	if (g->miss_due_ms == 0)
		return;
	if (lag >= g->e.cfg.stall_ms) {
		g->miss_due_ms = now + g->conf->interval_ms;
		return;
	}
	while (now >= g->miss_due_ms) {
		g->hb_missed++;
		g->miss_due_ms += g->conf->interval_ms;
	}
}

/* Rewrites the stats file in place ("name value" lines): monitord serves it on /metrics. */
static void
engine_write_stats(struct engine *g, uint64_t now)
{
	const struct election *e = &g->e;
	char buf[2048];
	size_t n = 0;
	int i;

	if (g->r->stats_fd == -1 || now - g->stats_ms < 1000)
		return;
	g->stats_ms = now;
#define STAT(name, v)	do {							\
	int w_ = snprintf(buf + n, sizeof(buf) - n, "%s %" PRIu64 "\n", (name), (uint64_t)(v)); \
	if (w_ > 0 && (size_t)w_ < sizeof(buf) - n)					\
		n += (size_t)w_;							\
} while (0)
	STAT("hb_sent", g->hb_sent);
	STAT("hb_send_failures", g->hb_send_fail);
	STAT("hb_received", g->hbctr.c[HB_OK]);
	for (i = 1; i < HB_REASON_MAX; i++) {
		char name[48];

		snprintf(name, sizeof(name), "hb_rejected_%s", hb_reason_name(i));
		STAT(name, g->hbctr.c[i]);
	}
	STAT("hb_missed", g->hb_missed);
	STAT("loop_stalls", g->stalls);
	STAT("max_loop_lag_ms", g->max_lag_ms);
	STAT("active", e->state == ELECT_ST_ACTIVE);
	STAT("term", e->term);
	STAT("peer_alive", e->peer_state == ELECT_PEER_ALIVE);
	STAT("repl_lag_records", g->log_pos > e->peer.log_pos ? g->log_pos - e->peer.log_pos : 0);
	STAT("vip_held", g->vip_held);
	STAT("vip_renew_failures", g->vip_renew_fail);
	STAT("garp_bursts", g->garp_bursts);
	STAT("failovers", g->failovers);
	STAT("switchovers", g->switchovers);
	STAT("last_failover_ms", g->last.valid ? g->last.detect_ms + g->last.takeover_ms : 0);
#undef STAT
	if (pwrite(g->r->stats_fd, buf, n, 0) != (ssize_t)n ||
	    ftruncate(g->r->stats_fd, (off_t)n) == -1)
		log_warn("engine: stats file");
}

static void
engine_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *g = arg;
	enum elect_state prev = g->e.state;
	uint64_t now = now_ms(), lag = 0;
	uint32_t acts;
	int ok;

	if (now > g->tick_expect)
		lag = now - g->tick_expect;
	g->tick_expect += g->tick_ms;
	if (g->tick_expect < now)
		g->tick_expect = now + g->tick_ms;	/* a long stall: restart the schedule */
	if (lag > g->max_lag_ms)
		g->max_lag_ms = lag;
	if (lag >= g->e.cfg.stall_ms)
		g->stalls++;
	engine_count_missed(g, now, lag);
	engine_write_stats(g, now);
	if (g->stopping)
		return;
	acts = election_tick(&g->e, now, lag);
	engine_do(g, acts, prev, g->e.peer_state == ELECT_PEER_DEAD ? "peer silent" : "timer");

	engine_cc_poll(g, now);
	if (now - g->last_health_ms >= g->conf->interval_ms) {
		/* One verdict per interval: heartbeat sends and the collector's health. */
		g->last_health_ms = now;
		ok = !g->hb_fail_tick && (!engine_cc_configured(g) || (g->cc_ok &&
		    cctl_alive(g->cc)));
		g->hb_fail_tick = 0;
		prev = g->e.state;
		acts = election_fsm(&g->e, ok ? ELECT_EV_LOCAL_OK : ELECT_EV_LOCAL_FAIL, NULL, now);
		engine_do(g, acts, prev, ok ? "local health restored" : "local failure");
	}
	if (g->fo_waiter != 0 && now - g->fo_start_ms > g->conf->switchover_timeout_ms + 2000)
		engine_fo_fail(g, "switchover timed out");
}

static void
engine_track_cb(int ok, void *arg)
{
	struct engine *g = arg;
	enum elect_state prev = g->e.state;
	uint32_t acts;
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &g->conf->track.sin_addr, a, sizeof(a));
	log_info("engine: tracking target %s %s", a, ok ? "reachable" : "lost");
	g->track_ok = ok;
	acts = election_fsm(&g->e, ok ? ELECT_EV_TRACK_OK : ELECT_EV_TRACK_LOST, NULL, now_ms());
	engine_do(g, acts, prev, ok ? "tracking target back" : "tracking target lost");
}

/* ---- tandemctl ---- */

static const char *
peer_state_name(enum elect_peer_state s)
{
	switch (s) {
	case ELECT_PEER_ALIVE:
		return "alive";
	case ELECT_PEER_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}

static json_t *
engine_record_json(const struct engine_record *r)
{
	char at[32];
	struct tm tm;

	if (!r->valid)
		return json_null();
	gmtime_r(&r->at, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I}", "at", at,
	    "from", election_state_name(r->from), "to", election_state_name(r->to),
	    "term", (json_int_t)r->term, "why", r->why,
	    "detect_ms", (json_int_t)r->detect_ms, "takeover_ms", (json_int_t)r->takeover_ms,
	    "duration_ms", (json_int_t)(r->detect_ms + r->takeover_ms));
}

static json_t *
engine_status_json(struct engine *g)
{
	const struct election *e = &g->e;
	char vip[INET_ADDRSTRLEN + 4], a[INET_ADDRSTRLEN];
	json_t *j, *hb, *peer, *repl, *cc;
	uint64_t now = now_ms();
	int i;

	inet_ntop(AF_INET, &g->conf->service_ip, a, sizeof(a));
	snprintf(vip, sizeof(vip), "%s/%u", a, g->conf->prefixlen);
	hb = json_pack("{s:I,s:I}", "sent", (json_int_t)g->hb_sent, "send_failures",
	    (json_int_t)g->hb_send_fail);
	for (i = 0; i < HB_REASON_MAX; i++)
		json_object_set_new(hb, i == HB_OK ? "received" : hb_reason_name(i),
		    json_integer((json_int_t)g->hbctr.c[i]));
	json_object_set_new(hb, "interval_ms", json_integer((json_int_t)g->conf->interval_ms));
	json_object_set_new(hb, "max_loop_lag_ms", json_integer((json_int_t)g->max_lag_ms));
	json_object_set_new(hb, "stalls", json_integer((json_int_t)g->stalls));
	json_object_set_new(hb, "missed", json_integer((json_int_t)g->hb_missed));
	peer = json_pack("{s:s,s:I,s:s,s:I,s:i,s:b,s:b,s:b,s:b,s:I,s:I,s:I}",
	    "state", peer_state_name(e->peer_state),
	    "node_id", (json_int_t)e->peer.node_id,
	    "role", election_state_name(e->peer.role),
	    "term", (json_int_t)e->peer.term,
	    "priority", (int)e->peer.priority,
	    "healthy", e->peer.healthy, "track_ok", e->peer.track_ok,
	    "maintenance", e->peer.maint, "yield", e->peer.yield,
	    "log_pos", (json_int_t)e->peer.log_pos, "ack_pos", (json_int_t)e->peer.ack_pos,
	    "last_heard_ms_ago", (json_int_t)(e->peer_state == ELECT_PEER_UNKNOWN ? 0 :
	    now - e->last_hb_ms));
	repl = json_pack("{s:I,s:I,s:I,s:I}", "log_pos", (json_int_t)g->log_pos,
	    "ack_pos", (json_int_t)g->ack_pos, "peer_log_pos", (json_int_t)e->peer.log_pos,
	    "lag", (json_int_t)(g->log_pos > e->peer.log_pos ? g->log_pos - e->peer.log_pos :
	    0));
	cc = json_pack("{s:b,s:b,s:b}", "configured", engine_cc_configured(g),
	    "connected", cctl_alive(g->cc), "healthy", g->cc_ok);
	if (g->cc_status != NULL)
		json_object_set(cc, "status", g->cc_status);
	j = json_pack("{s:b,s:I,s:s,s:I,s:i,s:b,s:o,s:o,s:o,s:o,s:o,s:{s:s,s:b,s:I,s:I},"
	    "s:I,s:I,s:o}",
	    "ok", 1, "node_id", (json_int_t)g->conf->node_id,
	    "role", election_state_name(e->state), "term", (json_int_t)e->term,
	    "priority", (int)election_priority(e), "maintenance", e->maint,
	    "faults", json_pack("{s:b,s:b}", "local", (e->faults & ELECT_FAULT_LOCAL) != 0,
	    "track", (e->faults & ELECT_FAULT_TRACK) != 0),
	    "peer", peer, "heartbeat", hb, "replication", repl, "collector", cc,
	    "vip", "address", vip, "held", g->vip_held,
	    "renew_failures", (json_int_t)g->vip_renew_fail,
	    "garp_bursts", (json_int_t)g->garp_bursts,
	    "failovers", (json_int_t)g->failovers, "switchovers", (json_int_t)g->switchovers,
	    "last_failover", engine_record_json(&g->last));
	if (j != NULL && e->noclaim != NULL && e->state == ELECT_ST_STANDBY &&
	    e->peer_state == ELECT_PEER_DEAD)
		json_object_set_new(j, "not_claiming", json_string(e->noclaim));
	if (j != NULL && e->handover)
		json_object_set_new(j, "switchover", json_string("draining"));
	return j;
}

static void
engine_ctl_cb(struct ha_ctl *ctl, uint64_t id, const char *line, void *arg)
{
	struct engine *g = arg;
	enum elect_state prev = g->e.state;
	uint32_t acts;
	json_t *j;

	if (strcmp(line, "status") == 0) {
		if ((j = engine_status_json(g)) == NULL) {
			ha_ctl_error(ctl, id, "out of memory");
			return;
		}
		ha_ctl_reply(ctl, id, j);
		json_decref(j);
	} else if (strcmp(line, "failover") == 0) {
		if (g->fo_waiter != 0) {
			ha_ctl_error(ctl, id, "a switchover is already in progress");
			return;
		}
		if (g->stopping) {
			ha_ctl_error(ctl, id, "stopping");
			return;
		}
		acts = election_fsm(&g->e, ELECT_EV_SWITCHOVER_REQUEST, NULL, now_ms());
		if (acts & ELECT_ACT_REFUSED) {
			ha_ctl_error(ctl, id, election_refusal(&g->e) != NULL ?
			    election_refusal(&g->e) : "refused");
			return;
		}
		log_info("engine: switchover requested: draining, then handing over to node %u",
		    g->e.peer.node_id);
		g->fo_waiter = id;
		g->fo_start_ms = now_ms();
		g->fo_handed = 0;
		engine_do(g, acts, prev, "switchover");
	} else if (strcmp(line, "maintenance on") == 0 || strcmp(line, "maintenance off") == 0) {
		int on = strcmp(line, "maintenance on") == 0;

		acts = election_fsm(&g->e, on ? ELECT_EV_MAINT_ON : ELECT_EV_MAINT_OFF, NULL,
		    now_ms());
		engine_do(g, acts, prev, "maintenance");
		j = json_pack("{s:b,s:b,s:s}", "ok", 1, "maintenance", g->e.maint, "role",
		    election_state_name(g->e.state));
		ha_ctl_reply(ctl, id, j);
		json_decref(j);
	} else
		ha_ctl_error(ctl, id, "unknown command (status, failover, maintenance on|off)");
}

/* ---- graceful stop ---- */

static void
engine_stop_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *g = arg;

	event_base_loopexit(g->base, NULL);
}

static void
engine_stop_release(struct engine *g)
{
	struct timeval tv = ms_tv(ENGINE_STOP_LAST_MS);

	if (g->stop_released)
		return;
	g->stop_released = 1;
	event_del(g->stop_timer);
	if (g->vip_held && engine_parent(g, IPC_VIP_DEL, NULL, 0, NULL) == -1)
		log_warn("engine: removing the service address");
	g->vip_held = 0;
	event_del(g->renew_timer);
	/* The collector refuses agents from now on; the peer sees we are gone and takes over. */
	if (g->e.state == ELECT_ST_ACTIVE) {
		g->e.state = ELECT_ST_STANDBY;
		g->cur.valid = 0;
	}
	engine_sync_collector(g);
	engine_send_hb(g);
	engine_send_hb(g);
	evtimer_assign(g->stop_timer, g->base, engine_stop_finish_cb, g);
	evtimer_add(g->stop_timer, &tv);
}

static void
engine_stop_drained(json_t *j, void *arg)
{
	struct engine *g = arg;

	g->drain_pending = 0;
	engine_stop_release(g);
}

static void
engine_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	log_warnx("engine: stop: drain did not finish in time");
	engine_stop_release(arg);
}

static void
engine_sig_cb(evutil_socket_t sig, short what, void *arg)
{
	struct engine *g = arg;
	struct timeval tv = ms_tv(ENGINE_STOP_DRAIN_MS);

	if (g->stopping)
		return;
	g->stopping = 1;
	engine_fo_fail(g, "stopping");
	log_info("engine: stop on signal %d (%s)", (int)sig, election_state_name(g->e.state));
	if (g->e.state == ELECT_ST_ACTIVE && cctl_alive(g->cc) &&
	    cctl_request(g->cc, "drain", now_ms(), engine_stop_drained, g) == 0) {
		g->drain_pending = 1;
		evtimer_assign(g->stop_timer, g->base, engine_stop_timeout_cb, g);
		evtimer_add(g->stop_timer, &tv);
		return;
	}
	engine_stop_release(g);
}

/* ---- set-up ---- */

int
engine_run(const struct ha_conf *conf, struct engine_res *r)
{
	struct engine eng, *g = &eng;
	struct elect_config ec;
	struct timeval tv;
	uint32_t acts;

	memset(g, 0, sizeof(*g));
	g->conf = conf;
	g->r = r;
	g->cc_role_acked = -1;
	g->track_ok = 1;
	log_procinit("had");
	if ((g->base = event_base_new()) == NULL)
		fatalx("engine: event_base_new failed");

	g->hbc.cluster_id = conf->cluster_id;
	g->hbc.node_id = conf->node_id;
	if (hb_key_set(&g->hbc.key, r->key, r->keylen) == -1)
		fatalx("engine: heartbeat key must be %d..%d bytes", HB_KEY_MIN, HB_KEY_MAX);
	explicit_bzero(r->key, sizeof(r->key));
	g->hb_counter = hb_counter_seed();
	g->hbc.own_first = g->hb_counter;

	memset(&ec, 0, sizeof(ec));
	ec.node_id = conf->node_id;
	ec.priority = conf->priority;
	ec.interval_ms = (uint32_t)conf->interval_ms;
	ec.dead_intervals = conf->dead_after;
	ec.skew_ms = (uint32_t)conf->dead_skew_ms;
	ec.preempt = conf->preempt;
	ec.switchover_max_lag = conf->switchover_max_lag;
	ec.switchover_timeout_ms = (uint32_t)conf->switchover_timeout_ms;
	election_init(&g->e, &ec, r->term);
	g->term_saved = r->term;

	/* The FSM's timers are checked 4x per interval: detection is late by at most 1/4. */
	g->tick_ms = conf->interval_ms / 4 > 0 ? conf->interval_ms / 4 : 1;
	g->hbl = hb_listener_new(g->base, r->hb_fd, &g->hbc, &g->hbp, &g->hbctr,
	    engine_hb_recv, g);
	g->hb_timer = event_new(g->base, -1, EV_PERSIST, engine_hb_timer_cb, g);
	g->tick_timer = event_new(g->base, -1, EV_PERSIST, engine_tick_cb, g);
	g->renew_timer = event_new(g->base, -1, EV_PERSIST, engine_renew_cb, g);
	g->refresh_timer = event_new(g->base, -1, EV_PERSIST, engine_garp2_cb, g);
	g->garp2_timer = evtimer_new(g->base, engine_garp2_cb, g);
	g->stop_timer = evtimer_new(g->base, engine_stop_finish_cb, g);
	g->ipc_ev = event_new(g->base, r->ipc, EV_READ | EV_PERSIST, engine_ipc_cb, g);
	g->sigterm = evsignal_new(g->base, SIGTERM, engine_sig_cb, g);
	g->sigint = evsignal_new(g->base, SIGINT, engine_sig_cb, g);
	g->ctl = ha_ctl_new(g->base, r->ctl_fd, engine_ctl_cb, g);
	if (g->hbl == NULL || g->hb_timer == NULL || g->tick_timer == NULL ||
	    g->renew_timer == NULL || g->refresh_timer == NULL || g->garp2_timer == NULL ||
	    g->stop_timer == NULL || g->ipc_ev == NULL || g->sigterm == NULL ||
	    g->sigint == NULL || g->ctl == NULL || event_add(g->ipc_ev, NULL) == -1 ||
	    evsignal_add(g->sigterm, NULL) == -1 || evsignal_add(g->sigint, NULL) == -1)
		fatalx("engine: events");
	if (conf->track_set && (g->track = track_new(g->base, &conf->track,
	    conf->track_interval_ms, engine_track_cb, g)) == NULL)
		fatalx("engine: tracking");

	/* A collector first, if there is one, so the first role command goes out at once. */
	engine_cc_poll(g, now_ms());
	acts = election_fsm(&g->e, ELECT_EV_START, NULL, now_ms());
	engine_do(g, acts, ELECT_ST_INIT, "start");
	tv = ms_tv(conf->interval_ms);
	event_add(g->hb_timer, &tv);
	tv = ms_tv(g->tick_ms);
	g->tick_expect = now_ms() + g->tick_ms;
	event_add(g->tick_timer, &tv);
	log_info("engine: node %u (priority %u, term %" PRIu64 ") running; heartbeat every %"
	    PRIu64 " ms, peer dead after %" PRIu64 " ms", conf->node_id, conf->priority,
	    g->e.term, conf->interval_ms, election_master_down_ms(&g->e));

	event_base_dispatch(g->base);

	log_info("engine: stopped (%" PRIu64 " heartbeats sent, %" PRIu64 " received)",
	    g->hb_sent, g->hbctr.c[HB_OK]);
	track_free(g->track);
	cctl_free(g->cc);
	json_decref(g->cc_status);
	ha_ctl_free(g->ctl);
	event_free(g->sigint);
	event_free(g->sigterm);
	event_free(g->ipc_ev);
	event_free(g->stop_timer);
	event_free(g->garp2_timer);
	event_free(g->refresh_timer);
	event_free(g->renew_timer);
	event_free(g->tick_timer);
	event_free(g->hb_timer);
	hb_listener_free(g->hbl);
	event_base_free(g->base);
	return g->status;
}
