/* Tandem — MIT licence. Election: pure FSM (init/standby/active/fault), elect(), demotion hysteresis. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "ha/election.h"

#define ELECT_DEFAULT_INTERVAL_MS	100
#define ELECT_DEFAULT_DEAD		3
#define ELECT_DEFAULT_DEMOTE_K		3
#define ELECT_DEFAULT_SWITCH_MS		5000

static const char *const state_names[ELECT_ST_MAX] = {
	[ELECT_ST_INIT] = "INIT",
	[ELECT_ST_STANDBY] = "STANDBY",
	[ELECT_ST_ACTIVE] = "ACTIVE",
	[ELECT_ST_FAULT] = "FAULT",
};

static const char *const event_names[ELECT_EV_MAX] = {
	[ELECT_EV_START] = "START",
	[ELECT_EV_HB_RECEIVED] = "HB_RECEIVED",
	[ELECT_EV_PEER_CLAIMS_ACTIVE] = "PEER_CLAIMS_ACTIVE",
	[ELECT_EV_PEER_PASSIVE] = "PEER_PASSIVE",
	[ELECT_EV_PEER_TIMEOUT] = "PEER_TIMEOUT",
	[ELECT_EV_LOCAL_FAIL] = "LOCAL_FAIL",
	[ELECT_EV_LOCAL_OK] = "LOCAL_OK",
	[ELECT_EV_TRACK_LOST] = "TRACK_LOST",
	[ELECT_EV_TRACK_OK] = "TRACK_OK",
	[ELECT_EV_MAINT_ON] = "MAINT_ON",
	[ELECT_EV_MAINT_OFF] = "MAINT_OFF",
	[ELECT_EV_SWITCHOVER_REQUEST] = "SWITCHOVER_REQUEST",
	[ELECT_EV_SWITCHOVER_TIMEOUT] = "SWITCHOVER_TIMEOUT",
};

static const char *const action_names[ELECT_ACT_NBITS] = {
	"bump_term", "stop_accepting", "release_vip", "resync", "take_vip",
	"send_garp", "start_accepting", "send_hb", "record", "refused",
};

const char *
election_state_name(enum elect_state s)
{
	if ((unsigned)s >= ELECT_ST_MAX)
		return "UNKNOWN";
	return state_names[s];
}

const char *
election_event_name(enum elect_event ev)
{
	if ((unsigned)ev >= ELECT_EV_MAX)
		return "UNKNOWN";
	return event_names[ev];
}

const char *
election_action_name(uint32_t bit)
{
	unsigned i;

	for (i = 0; i < ELECT_ACT_NBITS; i++)
		if (bit == (1u << i))
			return action_names[i];
	return "unknown";
}

char *
election_actions_str(uint32_t acts, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < ELECT_ACT_NBITS; i++) {
		if (!(acts & (1u << i)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "|" : "", action_names[i]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "none");
	return buf;
}

/* ---- the pure decision ---- */

const struct elect_cand *
elect(const struct elect_cand *a, const struct elect_cand *b)
{
	if (a->term != b->term)
		return a->term > b->term ? a : b;
	if (a->priority != b->priority)
		return a->priority > b->priority ? a : b;
	if (a->node_id != b->node_id)
		return a->node_id > b->node_id ? a : b;
	return a;
}

size_t
elect_best(const struct elect_cand *c, size_t n)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++)
		if (elect(&c[best], &c[i]) == &c[i])
			best = i;
	return best;
}

/* ---- facts ---- */

uint64_t
election_master_down_ms(const struct election *e)
{
	return (uint64_t)e->cfg.dead_intervals * e->cfg.interval_ms + e->cfg.skew_ms;
}

uint8_t
election_priority(const struct election *e)
{
	return (e->faults & ELECT_FAULT_LOCAL) ? 0 : e->cfg.priority;
}

static struct elect_cand
self_cand(const struct election *e)
{
	struct elect_cand c = { e->term, election_priority(e), e->cfg.node_id };

	return c;
}

static struct elect_cand
peer_cand(const struct election *e)
{
	struct elect_cand c = { e->peer.term, e->peer.priority, e->peer.node_id };

	return c;
}

/* NULL if this node may take the service now (as far as it alone can tell), else why not. */
static const char *
promote_block(const struct election *e)
{
	if (e->maint)
		return "maintenance mode";
	if (e->faults & ELECT_FAULT_TRACK)
		return "tracking target lost";
	if (e->faults & ELECT_FAULT_LOCAL)
		return "demoted after local failures";
	/* Never promote without every event the active acknowledged. */
	if (e->log_pos < e->peer_ack_max)
		return "replication behind the peer's acknowledged position";
	return NULL;
}

/* The peer is a standby that could take the service, judged with the same rules it uses. */
static int
peer_candidate(const struct election *e)
{
	const struct elect_peer *p = &e->peer;

	return p->role == ELECT_ST_STANDBY && p->healthy && p->track_ok && !p->maint &&
	    !p->yield && p->priority > 0 && p->log_pos >= e->ack_pos;
}

static const char *
switch_block(const struct election *e)
{
	const struct elect_peer *p = &e->peer;

	if (e->maint)
		return "maintenance mode";
	if (e->handover)
		return "switchover already in progress";
	if (e->peer_state != ELECT_PEER_ALIVE)
		return "peer not alive";
	if (p->role != ELECT_ST_STANDBY || p->maint || p->yield)
		return "peer is not an available standby";
	if (!p->healthy || !p->track_ok || p->priority == 0)
		return "peer unhealthy";
	if (p->log_pos < e->log_pos && e->log_pos - p->log_pos > e->cfg.switchover_max_lag)
		return "peer lags too far behind";
	return NULL;
}

/* ---- guards ---- */

static int
g_faulted(const struct election *e)
{
	return e->faults != 0;
}

static int
g_faulted_unfrozen(const struct election *e)
{
	return e->faults != 0 && !e->maint;
}

static int
g_restored(const struct election *e)
{
	return e->faults == 0;
}

static int
g_restored_unfrozen(const struct election *e)
{
	return e->faults == 0 && !e->maint;
}

static int
g_can_promote_alone(const struct election *e)
{
	return promote_block(e) == NULL;
}

static int
g_wins_passive(const struct election *e)
{
	/*
	 * Neither is active: priority, then node id. Terms are left out on purpose: standbys
	 * adopt each other's term as they hear it, so including it would make the outcome depend
	 * on which heartbeat arrived first. Data safety comes from the position rule instead.
	 */
	struct elect_cand s = { 0, election_priority(e), e->cfg.node_id };
	struct elect_cand p = { 0, e->peer.priority, e->peer.node_id };

	if (promote_block(e) != NULL)
		return 0;
	if (e->yield)
		return 0;	/* we just handed over: wait for the peer to take it */
	if (e->peer.yield)
		return 1;
	return !peer_candidate(e) || elect(&s, &p) == &s;
}

static int
g_preempted(const struct election *e)
{
	/*
	 * Pre-emption (a pair-wide setting) is a handover started by the active when a better
	 * standby shows up: priority and node id decide (the term would always favour the sitting
	 * active), and the standby must be close enough to catch up. No two holders, no data
	 * left behind.
	 */
	struct elect_cand s = { 0, election_priority(e), e->cfg.node_id };
	struct elect_cand p = { 0, e->peer.priority, e->peer.node_id };

	if (!e->cfg.preempt || e->handover || e->maint || !peer_candidate(e))
		return 0;
	if (e->peer.log_pos < e->log_pos &&
	    e->log_pos - e->peer.log_pos > e->cfg.switchover_max_lag)
		return 0;
	return elect(&s, &p) == &p;
}

static int
g_peer_wins(const struct election *e)
{
	struct elect_cand s = self_cand(e), p = peer_cand(e);

	return elect(&s, &p) == &p;
}

static int
g_handover(const struct election *e)
{
	return e->handover;
}

static int
g_handover_ready(const struct election *e)
{
	const struct elect_peer *p = &e->peer;

	return e->handover && !e->handover_hold && p->role == ELECT_ST_STANDBY &&
	    p->healthy && p->track_ok && !p->maint && p->log_pos >= e->log_pos;
}

static int
g_peer_returned(const struct election *e)
{
	return e->peer_returned;
}

static int
g_switch_ok(const struct election *e)
{
	return switch_block(e) == NULL;
}

/* ---- actions ---- */

static uint32_t
a_hb(struct election *e)
{
	return ELECT_ACT_SEND_HB;
}

static uint32_t
a_record(struct election *e)
{
	return ELECT_ACT_SEND_HB | ELECT_ACT_RECORD;
}

static uint32_t
a_promote(struct election *e)
{
	uint64_t t = e->term > e->peer.term ? e->term : e->peer.term;

	e->term = t + 1;
	e->handover = 0;
	e->yield = 0;
	e->noclaim = NULL;
	return ELECT_ACT_BUMP_TERM | ELECT_ACT_TAKE_VIP | ELECT_ACT_SEND_GARP |
	    ELECT_ACT_START_ACCEPTING | ELECT_ACT_SEND_HB | ELECT_ACT_RECORD;
}

static uint32_t
a_step_down(struct election *e)
{
	log_warnx("%s: split brain: peer %u (term %llu) wins over us (term %llu); stepping down",
	    __func__, e->peer.node_id, (unsigned long long)e->peer.term,
	    (unsigned long long)e->term);
	e->handover = 0;
	return ELECT_ACT_STOP_ACCEPTING | ELECT_ACT_RELEASE_VIP | ELECT_ACT_RESYNC |
	    ELECT_ACT_SEND_HB | ELECT_ACT_RECORD;
}

static uint32_t
a_assert(struct election *e)
{
	/* Conflict resolved in our favour: re-announce the address to clients at once. */
	log_warnx("%s: split brain: we win over peer %u (term %llu vs %llu)", __func__,
	    e->peer.node_id, (unsigned long long)e->term, (unsigned long long)e->peer.term);
	return ELECT_ACT_SEND_GARP | ELECT_ACT_SEND_HB;
}

static uint32_t
a_reannounce(struct election *e)
{
	/*
	 * The peer is back after we declared it dead (a healed partition). If it was active on
	 * its side, clients may still hold its MAC: re-announce, whichever heartbeat came first.
	 */
	log_info("election: peer %u is back; re-announcing the service address", e->peer.node_id);
	return ELECT_ACT_SEND_GARP | ELECT_ACT_SEND_HB;
}

static uint32_t
a_release_fault(struct election *e)
{
	e->handover = 0;
	return ELECT_ACT_STOP_ACCEPTING | ELECT_ACT_RELEASE_VIP | ELECT_ACT_SEND_HB |
	    ELECT_ACT_RECORD;
}

static uint32_t
a_noclaim(struct election *e)
{
	const char *why = promote_block(e);

	if (why != NULL && why != e->noclaim)
		log_warnx("%s: peer dead but not taking over: %s", __func__, why);
	e->noclaim = why;
	return 0;
}

static uint32_t
a_peer_lost(struct election *e)
{
	log_warnx("%s: peer %u lost: active without a standby", __func__, e->peer.node_id);
	return 0;
}

static uint32_t
a_switch_begin(struct election *e)
{
	e->handover = 1;
	e->handover_start_ms = e->now_ms;
	e->refusal = NULL;
	return ELECT_ACT_STOP_ACCEPTING | ELECT_ACT_SEND_HB;
}

static uint32_t
a_preempt(struct election *e)
{
	log_info("election: pre-emption: handing over to better standby %u", e->peer.node_id);
	return a_switch_begin(e);
}

static uint32_t
a_switch_refuse(struct election *e)
{
	e->refusal = switch_block(e);
	log_warnx("%s: switchover refused: %s", __func__, e->refusal);
	return ELECT_ACT_REFUSED;
}

static uint32_t
a_refuse_not_active(struct election *e)
{
	e->refusal = "not the active node";
	return ELECT_ACT_REFUSED;
}

static uint32_t
a_switch_abort(struct election *e)
{
	log_warnx("%s: switchover abandoned: standby did not catch up", __func__);
	e->handover = 0;
	e->handover_hold = 0;
	return ELECT_ACT_START_ACCEPTING | ELECT_ACT_SEND_HB;
}

static uint32_t
a_handover(struct election *e)
{
	/* Release first, then the standby sees HB_F_YIELD and promotes: never two holders. */
	e->handover = 0;
	e->yield = 1;
	e->yield_start_ms = e->now_ms;
	return ELECT_ACT_RELEASE_VIP | ELECT_ACT_SEND_HB | ELECT_ACT_RECORD;
}

/* ---- the table ---- */

#define ROW(s, ev, g, a, n, w)	{ ELECT_ST_##s, ELECT_EV_##ev, g, a, ELECT_ST_##n, w }

/*
 * Rows are tried in order; the first whose state and event match and whose guard passes
 * (NULL: always) runs. Rows with a NULL action document events that are expected and need
 * nothing. Events with no row are logged at debug level and ignored.
 */
const struct elect_transition election_table[] = {
	ROW(INIT, START, g_faulted, a_record, FAULT, "start unfit"),
	ROW(INIT, START, NULL, a_hb, STANDBY, "start: wait for the peer"),

	ROW(STANDBY, PEER_PASSIVE, g_wins_passive, a_promote, ACTIVE, "no active, we win"),
	ROW(STANDBY, PEER_PASSIVE, NULL, NULL, STANDBY, "no active, peer wins"),
	ROW(STANDBY, PEER_CLAIMS_ACTIVE, NULL, NULL, STANDBY, "follow the active"),
	ROW(STANDBY, PEER_TIMEOUT, g_can_promote_alone, a_promote, ACTIVE, "peer dead, take over"),
	ROW(STANDBY, PEER_TIMEOUT, NULL, a_noclaim, STANDBY, "peer dead, cannot take over"),
	ROW(STANDBY, LOCAL_FAIL, g_faulted_unfrozen, a_record, FAULT, "demoted"),
	ROW(STANDBY, LOCAL_FAIL, NULL, NULL, STANDBY, "failure counted"),
	ROW(STANDBY, LOCAL_OK, NULL, NULL, STANDBY, "success counted"),
	ROW(STANDBY, TRACK_LOST, g_faulted_unfrozen, a_record, FAULT, "tracking lost"),
	ROW(STANDBY, TRACK_OK, NULL, NULL, STANDBY, "tracking ok"),
	ROW(STANDBY, MAINT_ON, NULL, a_hb, STANDBY, "freeze"),
	ROW(STANDBY, MAINT_OFF, g_faulted, a_record, FAULT, "unfreeze unfit"),
	ROW(STANDBY, MAINT_OFF, NULL, a_hb, STANDBY, "unfreeze"),
	ROW(STANDBY, SWITCHOVER_REQUEST, NULL, a_refuse_not_active, STANDBY, "refuse"),

	ROW(ACTIVE, PEER_CLAIMS_ACTIVE, g_peer_wins, a_step_down, STANDBY, "split brain lost"),
	ROW(ACTIVE, PEER_CLAIMS_ACTIVE, NULL, a_assert, ACTIVE, "split brain won"),
	ROW(ACTIVE, PEER_PASSIVE, g_handover_ready, a_handover, STANDBY, "hand over"),
	ROW(ACTIVE, PEER_PASSIVE, g_preempted, a_preempt, ACTIVE, "better standby: hand over"),
	ROW(ACTIVE, PEER_PASSIVE, g_peer_returned, a_reannounce, ACTIVE, "peer back"),
	ROW(ACTIVE, PEER_PASSIVE, NULL, NULL, ACTIVE, "standby follows"),
	ROW(ACTIVE, PEER_TIMEOUT, g_handover, a_switch_abort, ACTIVE, "switchover target lost"),
	ROW(ACTIVE, PEER_TIMEOUT, NULL, a_peer_lost, ACTIVE, "standby lost"),
	ROW(ACTIVE, LOCAL_FAIL, g_faulted_unfrozen, a_release_fault, FAULT, "demoted"),
	ROW(ACTIVE, LOCAL_FAIL, NULL, NULL, ACTIVE, "failure counted"),
	ROW(ACTIVE, LOCAL_OK, NULL, NULL, ACTIVE, "success counted"),
	ROW(ACTIVE, TRACK_LOST, g_faulted_unfrozen, a_release_fault, FAULT, "tracking lost"),
	ROW(ACTIVE, TRACK_OK, NULL, NULL, ACTIVE, "tracking ok"),
	ROW(ACTIVE, MAINT_ON, NULL, a_hb, ACTIVE, "freeze"),
	ROW(ACTIVE, MAINT_OFF, g_faulted, a_release_fault, FAULT, "unfreeze unfit"),
	ROW(ACTIVE, MAINT_OFF, NULL, a_hb, ACTIVE, "unfreeze"),
	ROW(ACTIVE, SWITCHOVER_REQUEST, g_switch_ok, a_switch_begin, ACTIVE, "drain"),
	ROW(ACTIVE, SWITCHOVER_REQUEST, NULL, a_switch_refuse, ACTIVE, "refuse"),
	ROW(ACTIVE, SWITCHOVER_TIMEOUT, g_handover, a_switch_abort, ACTIVE, "abandon"),

	ROW(FAULT, LOCAL_OK, g_restored_unfrozen, a_record, STANDBY, "restored"),
	ROW(FAULT, LOCAL_OK, NULL, NULL, FAULT, "success counted"),
	ROW(FAULT, LOCAL_FAIL, NULL, NULL, FAULT, "failure counted"),
	ROW(FAULT, TRACK_OK, g_restored_unfrozen, a_record, STANDBY, "restored"),
	ROW(FAULT, TRACK_OK, NULL, NULL, FAULT, "still unfit"),
	ROW(FAULT, TRACK_LOST, NULL, NULL, FAULT, "tracking lost"),
	ROW(FAULT, MAINT_ON, NULL, a_hb, FAULT, "freeze"),
	ROW(FAULT, MAINT_OFF, g_restored, a_record, STANDBY, "unfreeze restored"),
	ROW(FAULT, MAINT_OFF, NULL, a_hb, FAULT, "unfreeze"),
	ROW(FAULT, PEER_PASSIVE, NULL, NULL, FAULT, "no claim"),
	ROW(FAULT, PEER_CLAIMS_ACTIVE, NULL, NULL, FAULT, "no claim"),
	ROW(FAULT, PEER_TIMEOUT, NULL, NULL, FAULT, "no claim"),
	ROW(FAULT, SWITCHOVER_REQUEST, NULL, a_refuse_not_active, FAULT, "refuse"),
};
const size_t election_table_len = sizeof(election_table) / sizeof(election_table[0]);

/* ---- entry points ---- */

void
election_init(struct election *e, const struct elect_config *cfg, uint64_t term)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.interval_ms == 0)
		e->cfg.interval_ms = ELECT_DEFAULT_INTERVAL_MS;
	if (e->cfg.dead_intervals == 0)
		e->cfg.dead_intervals = ELECT_DEFAULT_DEAD;
	if (e->cfg.stall_ms == 0)
		e->cfg.stall_ms = e->cfg.interval_ms;
	if (e->cfg.demote_k == 0)
		e->cfg.demote_k = ELECT_DEFAULT_DEMOTE_K;
	if (e->cfg.switchover_timeout_ms == 0)
		e->cfg.switchover_timeout_ms = ELECT_DEFAULT_SWITCH_MS;
	e->state = ELECT_ST_INIT;
	e->term = term;
	e->peer_state = ELECT_PEER_UNKNOWN;
}

void
election_set_hold(struct election *e, int hold)
{
	e->handover_hold = hold;
}

void
election_set_position(struct election *e, uint64_t log_pos, uint64_t ack_pos)
{
	e->log_pos = log_pos;
	e->ack_pos = ack_pos;
}

const char *
election_refusal(const struct election *e)
{
	return e->refusal;
}

void
election_advert(const struct election *e, struct elect_peer *out)
{
	memset(out, 0, sizeof(*out));
	out->node_id = e->cfg.node_id;
	out->priority = election_priority(e);
	out->term = e->term;
	out->role = e->state;
	out->healthy = !(e->faults & ELECT_FAULT_LOCAL);
	out->track_ok = !(e->faults & ELECT_FAULT_TRACK);
	out->maint = e->maint;
	out->yield = e->yield;
	out->log_pos = e->log_pos;
	/* The heartbeat rejects ack > log; a standby may know of acks it does not hold yet. */
	out->ack_pos = e->ack_pos < e->log_pos ? e->ack_pos : e->log_pos;
}

/* Updates the facts an event carries before the table decides. */
static void
election_note(struct election *e, enum elect_event ev, const struct elect_peer *p)
{
	switch (ev) {
	case ELECT_EV_START:
		e->last_hb_ms = e->now_ms;
		e->peer_state = ELECT_PEER_UNKNOWN;
		break;
	case ELECT_EV_HB_RECEIVED:
	case ELECT_EV_PEER_CLAIMS_ACTIVE:
	case ELECT_EV_PEER_PASSIVE:
		e->peer = *p;
		e->peer_returned = e->peer_state == ELECT_PEER_DEAD;
		e->peer_state = ELECT_PEER_ALIVE;
		e->last_hb_ms = e->now_ms;
		if (p->ack_pos > e->peer_ack_max)
			e->peer_ack_max = p->ack_pos;
		if (p->role == ELECT_ST_ACTIVE)
			e->yield = 0;	/* the handover is complete */
		break;
	case ELECT_EV_LOCAL_FAIL:
		e->ok_streak = 0;
		if (e->fail_streak < UINT32_MAX)
			e->fail_streak++;
		if (e->fail_streak >= e->cfg.demote_k && !(e->faults & ELECT_FAULT_LOCAL)) {
			e->faults |= ELECT_FAULT_LOCAL;
			log_warnx("%s: %u local failures in a row: demoting", __func__,
			    e->fail_streak);
		}
		break;
	case ELECT_EV_LOCAL_OK:
		e->fail_streak = 0;
		/* Only the demotion applied here is undone here (relayd's changed_by). */
		if (e->faults & ELECT_FAULT_LOCAL) {
			if (++e->ok_streak >= e->cfg.demote_k) {
				e->faults &= ~ELECT_FAULT_LOCAL;
				e->ok_streak = 0;
				log_info("election: %u local successes in a row: demotion lifted",
				    e->cfg.demote_k);
			}
		}
		break;
	case ELECT_EV_TRACK_LOST:
		e->faults |= ELECT_FAULT_TRACK;
		break;
	case ELECT_EV_TRACK_OK:
		e->faults &= ~ELECT_FAULT_TRACK;
		break;
	case ELECT_EV_MAINT_ON:
		e->maint = 1;
		break;
	case ELECT_EV_MAINT_OFF:
		e->maint = 0;
		break;
	default:
		break;
	}
}

static uint32_t
election_dispatch(struct election *e, enum elect_event ev)
{
	const struct elect_transition *t;
	enum elect_state old = e->state;
	uint32_t acts = 0;
	char buf[160];
	size_t i;

	for (i = 0; i < election_table_len; i++) {
		t = &election_table[i];
		if (t->state != e->state || t->event != ev)
			continue;
		if (t->guard != NULL && !t->guard(e))
			continue;
		if (t->action != NULL)
			acts = t->action(e);
		e->state = t->next;
		if (old != e->state) {
			e->changed_ms = e->now_ms;
			log_info("election: %s -> %s on %s (%s; term %llu; actions %s)",
			    election_state_name(old), election_state_name(e->state),
			    election_event_name(ev), t->what, (unsigned long long)e->term,
			    election_actions_str(acts, buf, sizeof(buf)));
		} else if (acts != 0)
			log_debug("election: %s on %s (%s; actions %s)",
			    election_state_name(old), election_event_name(ev), t->what,
			    election_actions_str(acts, buf, sizeof(buf)));
		return acts;
	}
	log_debug("election: %s ignores %s", election_state_name(e->state),
	    election_event_name(ev));
	return 0;
}

uint32_t
election_fsm(struct election *e, enum elect_event ev, const struct elect_peer *peer,
    uint64_t now_ms)
{
	uint32_t acts;

	assert(e->state >= ELECT_ST_INIT && e->state < ELECT_ST_MAX);
	if ((unsigned)ev >= ELECT_EV_MAX) {
		log_warnx("%s: event %d out of range", __func__, (int)ev);
		return 0;
	}
	e->now_ms = now_ms;
	if (ev == ELECT_EV_HB_RECEIVED || ev == ELECT_EV_PEER_CLAIMS_ACTIVE ||
	    ev == ELECT_EV_PEER_PASSIVE) {
		if (peer == NULL) {
			log_warnx("%s: %s without peer info", __func__,
			    election_event_name(ev));
			return 0;
		}
		if ((unsigned)peer->role >= ELECT_ST_MAX) {
			log_warnx("%s: peer role %d out of range", __func__, (int)peer->role);
			return 0;
		}
		/* HB_RECEIVED becomes the event the table decides on. */
		ev = peer->role == ELECT_ST_ACTIVE ? ELECT_EV_PEER_CLAIMS_ACTIVE :
		    ELECT_EV_PEER_PASSIVE;
	}
	election_note(e, ev, peer);
	acts = election_dispatch(e, ev);
	/* Adopt the peer's epoch only after the table compared terms. */
	if (peer != NULL && (ev == ELECT_EV_PEER_CLAIMS_ACTIVE || ev == ELECT_EV_PEER_PASSIVE) &&
	    peer->term > e->term) {
		e->term = peer->term;
	}
	return acts;
}

uint32_t
election_tick(struct election *e, uint64_t now_ms, uint64_t lag_ms)
{
	uint64_t down = election_master_down_ms(e), ref;
	uint32_t acts = 0;

	e->now_ms = now_ms;
	if (lag_ms >= e->cfg.stall_ms) {
		/* Our loop did not run: unread heartbeats may be queued. Silence counts from now. */
		e->stall_wake_ms = now_ms;
		log_debug("election: loop stalled %llu ms; not counting missed heartbeats",
		    (unsigned long long)lag_ms);
	}
	if (e->state == ELECT_ST_INIT)
		return 0;
	if (e->handover && now_ms - e->handover_start_ms >= e->cfg.switchover_timeout_ms)
		acts |= election_fsm(e, ELECT_EV_SWITCHOVER_TIMEOUT, NULL, now_ms);
	if (e->yield && now_ms - e->yield_start_ms >= down)
		e->yield = 0;

	ref = e->last_hb_ms > e->stall_wake_ms ? e->last_hb_ms : e->stall_wake_ms;
	if (e->peer_state != ELECT_PEER_DEAD) {
		if (now_ms >= ref && now_ms - ref >= down) {
			e->peer_state = ELECT_PEER_DEAD;
			acts |= election_fsm(e, ELECT_EV_PEER_TIMEOUT, NULL, now_ms);
		}
	} else if (e->state == ELECT_ST_STANDBY)
		acts |= election_fsm(e, ELECT_EV_PEER_TIMEOUT, NULL, now_ms);
	return acts;
}
