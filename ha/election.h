/* Tandem — MIT licence. Election: pure FSM (init/standby/active/fault), elect(), demotion hysteresis. */
#ifndef TANDEM_HA_ELECTION_H
#define TANDEM_HA_ELECTION_H

#include <stddef.h>
#include <stdint.h>

/*
 * The FSM owns no socket, timer or clock. The caller feeds it events with the current
 * monotonic time in ms and carries out the actions it returns (ELECT_ACT_* bits), in bit
 * order, which is the takeover order of STYLE rule 14 and its reverse for release:
 *
 *   takeover: BUMP_TERM (persist e->term) -> TAKE_VIP -> SEND_GARP (burst now and a second
 *             burst shortly after) -> START_ACCEPTING -> RECORD
 *   release:  STOP_ACCEPTING -> RELEASE_VIP -> RESYNC -> RECORD
 *
 * SEND_HB asks for a heartbeat now rather than at the next interval, so the peer learns a
 * role change at once.
 */

enum elect_state {
	ELECT_ST_INIT = 0,
	ELECT_ST_STANDBY,
	ELECT_ST_ACTIVE,
	ELECT_ST_FAULT,
	ELECT_ST_MAX
};

enum elect_event {
	ELECT_EV_START = 0,		/* config loaded, begin listening for the peer */
	ELECT_EV_HB_RECEIVED,		/* an accepted heartbeat; peer info required */
	ELECT_EV_PEER_CLAIMS_ACTIVE,	/* derived from HB_RECEIVED (or fed directly): peer is active */
	ELECT_EV_PEER_PASSIVE,		/* derived from HB_RECEIVED: peer is not active */
	ELECT_EV_PEER_TIMEOUT,		/* master-down elapsed (election_tick emits it) */
	ELECT_EV_LOCAL_FAIL,		/* a heartbeat send or storage operation failed */
	ELECT_EV_LOCAL_OK,		/* a heartbeat send or storage operation succeeded */
	ELECT_EV_TRACK_LOST,		/* the tracking target stopped answering */
	ELECT_EV_TRACK_OK,		/* the tracking target answers */
	ELECT_EV_MAINT_ON,		/* freeze roles */
	ELECT_EV_MAINT_OFF,		/* unfreeze; the next tick re-evaluates */
	ELECT_EV_SWITCHOVER_REQUEST,	/* ops asks the active to hand over to the standby */
	ELECT_EV_SWITCHOVER_TIMEOUT,	/* the standby did not catch up in time (election_tick) */
	ELECT_EV_MAX
};

/* Actions, in execution order. */
#define ELECT_ACT_BUMP_TERM		0x0001
#define ELECT_ACT_STOP_ACCEPTING	0x0002	/* release starts here */
#define ELECT_ACT_RELEASE_VIP		0x0004
#define ELECT_ACT_RESYNC		0x0008	/* split-brain loser: set own-only events aside, resync */
#define ELECT_ACT_TAKE_VIP		0x0010
#define ELECT_ACT_SEND_GARP		0x0020
#define ELECT_ACT_START_ACCEPTING	0x0040
#define ELECT_ACT_SEND_HB		0x0080
#define ELECT_ACT_RECORD		0x0100	/* role changed: raise the alarm event, record the time */
#define ELECT_ACT_REFUSED		0x0200	/* a request was refused; see election_refusal() */
#define ELECT_ACT_NBITS			10

/* Bits of election.faults: why the node is unfit. Each is undone only by its own cause. */
#define ELECT_FAULT_LOCAL		0x01	/* K local failures in a row (hysteresis) */
#define ELECT_FAULT_TRACK		0x02	/* tracking target lost */

/* What a heartbeat told us about the peer (filled by the caller from struct hb_advert). */
struct elect_peer {
	uint32_t	 node_id;
	uint8_t		 priority;	/* effective */
	uint64_t	 term;
	enum elect_state role;
	int		 healthy;
	int		 track_ok;
	int		 maint;
	int		 yield;		/* handing over: not a candidate */
	uint64_t	 log_pos;
	uint64_t	 ack_pos;
};

/* What elect() compares. */
struct elect_cand {
	uint64_t	 term;
	uint8_t		 priority;	/* effective */
	uint32_t	 node_id;
};

struct elect_config {
	uint32_t	 node_id;		/* non-zero, distinct from the peer's */
	uint8_t		 priority;		/* 1..255; 0 is what a demoted node advertises */
	uint32_t	 interval_ms;		/* heartbeat interval */
	uint32_t	 dead_intervals;	/* N: peer dead after N missed heartbeats */
	uint32_t	 skew_ms;		/* added to N x interval */
	uint32_t	 stall_ms;		/* a loop lag >= this counts as a stall (0: interval_ms) */
	int		 preempt;		/* pair-wide: the active hands over to a better standby */
	uint32_t	 demote_k;		/* failures in a row to demote, successes to restore */
	uint64_t	 switchover_max_lag;	/* refuse a switchover to a peer further behind */
	uint32_t	 switchover_timeout_ms;	/* give up waiting for the standby to catch up */
};

enum elect_peer_state {
	ELECT_PEER_UNKNOWN = 0,		/* nothing heard since START */
	ELECT_PEER_ALIVE,
	ELECT_PEER_DEAD
};

struct election {
	struct elect_config	 cfg;
	enum elect_state	 state;
	uint64_t		 term;
	int			 maint;
	unsigned		 faults;		/* ELECT_FAULT_* */
	uint32_t		 fail_streak;		/* LOCAL_FAIL in a row */
	uint32_t		 ok_streak;		/* LOCAL_OK in a row while demoted */
	uint64_t		 log_pos;		/* local replication position */
	uint64_t		 ack_pos;		/* local acknowledged position */

	enum elect_peer_state	 peer_state;
	int			 peer_returned;		/* this heartbeat ended a DEAD period */
	struct elect_peer	 peer;			/* last heartbeat */
	uint64_t		 peer_ack_max;		/* highest ack_pos the peer ever advertised */
	uint64_t		 last_hb_ms;		/* last heartbeat, or START */
	uint64_t		 stall_wake_ms;		/* when the loop last woke from a stall */

	int			 handover;		/* switchover: draining, waiting for the peer */
	int			 handover_hold;		/* the caller's drain is not done yet */
	uint64_t		 handover_start_ms;
	int			 yield;			/* handed over: advertise HB_F_YIELD */
	uint64_t		 yield_start_ms;

	uint64_t		 now_ms;		/* time of the event being processed */
	uint64_t		 changed_ms;		/* last state change */
	const char		*refusal;		/* why the last request was refused */
	const char		*noclaim;		/* why a standby last declined to promote */
};

/* One row of the transition table; exposed for table-coverage tests. */
struct elect_transition {
	enum elect_state	 state;
	enum elect_event	 event;
	int			(*guard)(const struct election *);	/* NULL: always */
	uint32_t		(*action)(struct election *);		/* returns ELECT_ACT_* */
	enum elect_state	 next;
	const char		*what;
};
extern const struct elect_transition	election_table[];
extern const size_t			election_table_len;

const char	*election_state_name(enum elect_state);
const char	*election_event_name(enum elect_event);
const char	*election_action_name(uint32_t bit);
/* Writes "take_vip|send_garp|..." (or "none") into buf; returns buf. */
char		*election_actions_str(uint32_t acts, char *buf, size_t len);

/*
 * Pure: the winner of a and b, comparing term, then effective priority, then node id, higher
 * wins each. Identical keys: a. Used to settle split brain and the start-up race.
 */
const struct elect_cand *elect(const struct elect_cand *a, const struct elect_cand *b);
/* Index of the winner among n >= 1 candidates (same order); independent of their order. */
size_t		 elect_best(const struct elect_cand *c, size_t n);

/* Fills missing fields with defaults (N 3, stall = interval, demote_k 3, ...), state INIT. */
void		 election_init(struct election *, const struct elect_config *, uint64_t term);

/*
 * The single entry point. peer is required for HB_RECEIVED and PEER_CLAIMS_ACTIVE/PASSIVE
 * (borrowed, copied), ignored otherwise. now_ms is the monotonic time. Returns the actions
 * to perform (ELECT_ACT_*). Events without a matching row are logged at debug and ignored.
 */
uint32_t	 election_fsm(struct election *, enum elect_event, const struct elect_peer *peer,
		    uint64_t now_ms);

/*
 * Timer work, called every interval from the loop with lag_ms = how late this call ran
 * against its schedule. Stall rule: a lag >= stall_ms means the loop did not run, so the
 * peer's heartbeats may be queued unread; the silence check then measures from the wake-up,
 * i.e. the peer is dead when now - max(last_hb, last_stall_wake) >= master_down. A real death
 * during a stall is detected at most one master-down later. Emits PEER_TIMEOUT (again every
 * tick while a standby's peer stays dead, so a standby that could not promote yet retries),
 * SWITCHOVER_TIMEOUT, and ends a handover's yield after master-down. Returns actions.
 */
uint32_t	 election_tick(struct election *, uint64_t now_ms, uint64_t lag_ms);

/*
 * While hold is set, a handover in progress does not complete even if the peer looks caught
 * up: the caller's drain (stop reading agents, commit, replicate) has not answered yet, so
 * the local position it compares against may still move. Cleared by the caller; a new
 * switchover request or an abandoned one clears it too.
 */
void		 election_set_hold(struct election *, int hold);

/* Local replication positions (log: held; ack: acknowledged to agents). */
void		 election_set_position(struct election *, uint64_t log_pos, uint64_t ack_pos);

/* N x interval + skew. */
uint64_t	 election_master_down_ms(const struct election *);
/* Effective priority: cfg.priority, or 0 while ELECT_FAULT_LOCAL is set. */
uint8_t		 election_priority(const struct election *);
/* What the local node advertises now (OUT: role, term, priority, flags, positions). */
void		 election_advert(const struct election *, struct elect_peer *out);
/* Why the last ELECT_ACT_REFUSED happened (static string), or NULL. */
const char	*election_refusal(const struct election *);

#endif
