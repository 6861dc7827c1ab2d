/* Tandem — MIT licence. Unit tests for ha/election.c: elect() permutations, FSM scenarios in every event order. */
#include "ha/election.h"
#include "tests/unit/common/cases.h"

#define IV		100	/* heartbeat interval, ms */
#define SKEW		50
#define DOWN		(3 * IV + SKEW)
#define PERM_MAX	8

/* ---- elect() ---- */

struct elect_row {
	const char		*what;
	struct elect_cand	 c[4];
	size_t			 n;
	size_t			 want;	/* index in c[] */
};

static const struct elect_row elect_rows[] = {
	{ "higher term beats higher priority", { { 5, 10, 1 }, { 4, 250, 2 } }, 2, 0 },
	{ "higher term beats higher node id", { { 4, 10, 1 }, { 3, 10, 9 } }, 2, 0 },
	{ "equal term: higher priority", { { 3, 100, 1 }, { 3, 200, 2 } }, 2, 1 },
	{ "equal term: priority beats node id", { { 3, 200, 1 }, { 3, 100, 2 } }, 2, 0 },
	{ "equal term and priority: higher node id", { { 3, 100, 7 }, { 3, 100, 8 } }, 2, 1 },
	{ "demoted (priority 0) loses on equal term", { { 1, 0, 9 }, { 1, 1, 1 } }, 2, 1 },
	{ "three: term decides", { { 1, 255, 3 }, { 2, 1, 1 }, { 1, 200, 2 } }, 3, 1 },
	{ "three: priority decides", { { 2, 5, 3 }, { 2, 50, 1 }, { 2, 40, 2 } }, 3, 1 },
	{ "four: node id decides", { { 9, 5, 3 }, { 9, 5, 11 }, { 9, 5, 2 }, { 8, 99, 99 } }, 4, 1 },
	{ "four: max term at u64 max", { { UINT64_MAX, 1, 1 }, { UINT64_MAX - 1, 255, 2 },
	    { 0, 255, 3 }, { 7, 7, 7 } }, 4, 0 },
};

/* Lexicographic next permutation of an int array; handles repeated values (multisets). */
static int
next_perm(int *a, size_t n)
{
	size_t i, j;
	int t;

	if (n < 2)
		return 0;
	i = n - 1;
	while (i > 0 && a[i - 1] >= a[i])
		i--;
	if (i == 0)
		return 0;
	j = n - 1;
	while (a[j] <= a[i - 1])
		j--;
	t = a[i - 1]; a[i - 1] = a[j]; a[j] = t;
	for (j = n - 1; i < j; i++, j--) {
		t = a[i]; a[i] = a[j]; a[j] = t;
	}
	return 1;
}

/* Sorts ascending: the first permutation next_perm() starts from. */
static void
perm_first(int *a, size_t n)
{
	size_t i, j;
	int t;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t;
		}
}

static void
test_elect(void **state)
{
	const struct elect_row *r = ROW(struct elect_row, state);
	struct elect_cand c[4];
	int idx[4] = { 0, 1, 2, 3 };
	size_t i, j, w, perms = 0;

	/* Every insertion order of the candidates elects the same one. */
	do {
		for (i = 0; i < r->n; i++)
			c[i] = r->c[idx[i]];
		w = elect_best(c, r->n);
		if (idx[w] != (int)r->want)
			fail_msg("%s: order %d%d%d%d elected %d", r->what, idx[0], idx[1],
			    idx[2], idx[3], idx[w]);
		perms++;
	} while (next_perm(idx, r->n));
	CHECK(perms >= r->n);
	/* Pairwise: antisymmetric and consistent with the winner. */
	for (i = 0; i < r->n; i++)
		for (j = 0; j < r->n; j++) {
			if (i == j)
				continue;
			CHECK(elect(&r->c[i], &r->c[j]) == elect(&r->c[j], &r->c[i]) ||
			    memcmp(&r->c[i], &r->c[j], sizeof(r->c[i])) == 0);
			if (i == r->want)
				CHECK(elect(&r->c[i], &r->c[j]) == &r->c[i]);
		}
}

/* ---- a two-node world ---- */

struct node {
	struct election	 e;
	int		 vip;
	int		 accepting;
	int		 garp;		/* bursts sent */
	int		 resync;
	int		 refused;
	uint32_t	 acts;		/* of the last event */
};

struct world {
	struct node	 n[2];
	uint64_t	 now;
	int		 check_single;	/* assert never two VIP holders */
	int		 dead[2];	/* a dead node neither sends nor receives */
	const char	*what;
	char		 trace[512];
	size_t		 tlen;
};

static void
apply(struct world *w, int i, uint32_t acts)
{
	struct node *n = &w->n[i];

	n->acts = acts;
	if (acts & ELECT_ACT_STOP_ACCEPTING)
		n->accepting = 0;
	if (acts & ELECT_ACT_RELEASE_VIP)
		n->vip = 0;
	if (acts & ELECT_ACT_RESYNC)
		n->resync++;
	if (acts & ELECT_ACT_TAKE_VIP)
		n->vip = 1;
	if (acts & ELECT_ACT_SEND_GARP)
		n->garp++;
	if (acts & ELECT_ACT_START_ACCEPTING)
		n->accepting = 1;
	if (acts & ELECT_ACT_REFUSED)
		n->refused++;
	/* The FSM and the side effects agree. */
	if (n->e.state == ELECT_ST_ACTIVE && !n->e.handover)
		CHECK(n->vip && n->accepting);
	if (n->e.state != ELECT_ST_ACTIVE)
		CHECK(!n->vip && !n->accepting);
	if (w->check_single && w->n[0].vip && w->n[1].vip)
		fail_msg("%s: two VIP holders after [%s]", w->what, w->trace);
}

static void
world_init(struct world *w, const char *what, const struct elect_config *a,
    const struct elect_config *b)
{
	memset(w, 0, sizeof(*w));
	w->what = what;
	w->now = 1000;
	w->check_single = 1;
	election_init(&w->n[0].e, a, 0);
	election_init(&w->n[1].e, b, 0);
}

static void
trace(struct world *w, const char *s)
{
	int k = snprintf(w->trace + w->tlen, sizeof(w->trace) - w->tlen, "%s ", s);

	if (k > 0 && (size_t)k < sizeof(w->trace) - w->tlen)
		w->tlen += (size_t)k;
}

static void
ev(struct world *w, int i, enum elect_event e)
{
	if (w->dead[i])
		return;
	apply(w, i, election_fsm(&w->n[i].e, e, NULL, w->now));
}

/* i's current advert reaches the other node (if both are alive). */
static void
hb(struct world *w, int i)
{
	struct elect_peer p;

	if (w->dead[i] || w->dead[!i])
		return;
	election_advert(&w->n[i].e, &p);
	apply(w, !i, election_fsm(&w->n[!i].e, ELECT_EV_HB_RECEIVED, &p, w->now));
}

static void
tick(struct world *w, int i, uint64_t lag)
{
	if (w->dead[i])
		return;
	apply(w, i, election_tick(&w->n[i].e, w->now, lag));
}

/* One interval of normal life: both send, both tick. */
static void
round_trip(struct world *w)
{
	w->now += IV;
	hb(w, 0);
	hb(w, 1);
	tick(w, 0, 0);
	tick(w, 1, 0);
}

static void
settle(struct world *w, int rounds)
{
	int i;

	for (i = 0; i < rounds; i++)
		round_trip(w);
}

static int
nactive(const struct world *w)
{
	return (w->n[0].e.state == ELECT_ST_ACTIVE) + (w->n[1].e.state == ELECT_ST_ACTIVE);
}

static void
cfg_make(struct elect_config *c, uint32_t id, uint8_t prio, int preempt)
{
	memset(c, 0, sizeof(*c));
	c->node_id = id;
	c->priority = prio;
	c->interval_ms = IV;
	c->dead_intervals = 3;
	c->skew_ms = SKEW;
	c->preempt = preempt;
	c->demote_k = 3;
	c->switchover_max_lag = 100;
	c->switchover_timeout_ms = 1000;
}

/* A settled pair: node `act` active, the other standby, positions equal. */
static void
world_pair(struct world *w, const char *what, int act, int preempt)
{
	struct elect_config a, b;

	/* The active-to-be gets the better priority so start-up elects it. */
	cfg_make(&a, 1, act == 0 ? 200 : 100, preempt);
	cfg_make(&b, 2, act == 1 ? 200 : 100, preempt);
	world_init(w, what, &a, &b);
	ev(w, 0, ELECT_EV_START);
	ev(w, 1, ELECT_EV_START);
	settle(w, 3);
	CHECK(w->n[act].e.state == ELECT_ST_ACTIVE);
	CHECK(w->n[!act].e.state == ELECT_ST_STANDBY);
	w->tlen = 0;
	w->trace[0] = '\0';
}

/* ---- scenario steps, permuted ---- */

enum step {
	S_A_START, S_B_START, S_A_HB, S_B_HB, S_A_TICK, S_B_TICK, S_TIME,
	S_A_TRACK_LOST, S_B_POS, S_A_SWITCH, S_B_LOCAL_OK, S_A_MAINT_ON, S_A_MAINT_OFF,
	S_MAX
};

static const char *const step_names[S_MAX] = {
	"A.start", "B.start", "A>hb", "B>hb", "A.tick", "B.tick", "+iv",
	"A.track_lost", "B.pos", "A.switch", "B.ok", "A.maint_on", "A.maint_off",
};

static void
step(struct world *w, enum step s)
{
	trace(w, step_names[s]);
	switch (s) {
	case S_A_START: ev(w, 0, ELECT_EV_START); break;
	case S_B_START: ev(w, 1, ELECT_EV_START); break;
	case S_A_HB: hb(w, 0); break;
	case S_B_HB: hb(w, 1); break;
	case S_A_TICK: tick(w, 0, 0); break;
	case S_B_TICK: tick(w, 1, 0); break;
	case S_TIME: w->now += IV; break;
	case S_A_TRACK_LOST: ev(w, 0, ELECT_EV_TRACK_LOST); break;
	case S_B_POS:
		election_set_position(&w->n[1].e, w->n[0].e.log_pos, w->n[0].e.ack_pos);
		break;
	case S_A_SWITCH: ev(w, 0, ELECT_EV_SWITCHOVER_REQUEST); break;
	case S_B_LOCAL_OK: ev(w, 1, ELECT_EV_LOCAL_OK); break;
	case S_A_MAINT_ON: ev(w, 0, ELECT_EV_MAINT_ON); break;
	case S_A_MAINT_OFF: ev(w, 0, ELECT_EV_MAINT_OFF); break;
	default: fail_msg("bad step %d", s);
	}
}

/* A node sends heartbeats only once started: orderings that break this are skipped. */
static int
order_ok(const int *s, size_t n, int a_started)
{
	int started[2] = { a_started, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == S_A_START)
			started[0] = 1;
		if (s[i] == S_B_START)
			started[1] = 1;
		if ((s[i] == S_A_HB && !started[0]) || (s[i] == S_B_HB && !started[1]))
			return 0;
	}
	return 1;
}

/* ---- start-up ---- */

struct startup_row {
	const char	*what;
	uint32_t	 id[2];
	uint8_t		 prio[2];
	uint64_t	 term[2];	/* persisted from an earlier life */
	int		 want;		/* index of the node that must end active */
};

static const struct startup_row startup_rows[] = {
	{ "B has the higher priority", { 1, 2 }, { 100, 200 }, { 0, 0 }, 1 },
	{ "A has the higher priority, lower id", { 1, 2 }, { 200, 100 }, { 0, 0 }, 0 },
	{ "equal priority: higher id wins", { 5, 3 }, { 100, 100 }, { 0, 0 }, 0 },
	{ "equal priority, ids reversed", { 3, 5 }, { 100, 100 }, { 0, 0 }, 1 },
	{ "persisted terms do not matter between standbys", { 1, 2 }, { 100, 200 }, { 9, 8 }, 1 },
	{ "persisted terms do not matter, reversed", { 1, 2 }, { 200, 100 }, { 3, 8 }, 0 },
};

static void
test_startup(void **state)
{
	const struct startup_row *r = ROW(struct startup_row, state);
	int s[] = { S_A_START, S_B_START, S_A_HB, S_A_HB, S_B_HB, S_B_HB };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct elect_config a, b;
	struct world w;

	perm_first(s, n);
	do {
		if (!order_ok(s, n, 0))
			continue;
		cfg_make(&a, r->id[0], r->prio[0], 0);
		cfg_make(&b, r->id[1], r->prio[1], 0);
		world_init(&w, r->what, &a, &b);
		w.n[0].e.term = r->term[0];
		w.n[1].e.term = r->term[1];
		for (i = 0; i < n; i++)
			step(&w, s[i]);
		settle(&w, 5);
		if (w.n[r->want].e.state != ELECT_ST_ACTIVE || nactive(&w) != 1)
			fail_msg("%s: after [%s] states %s/%s", r->what, w.trace,
			    election_state_name(w.n[0].e.state),
			    election_state_name(w.n[1].e.state));
		CHECK(w.n[r->want].vip && !w.n[!r->want].vip);
		CHECK(w.n[r->want].garp >= 1);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs > 10);
}

static void
test_startup_alone(void **state)
{
	struct elect_config a, b;
	struct world w;
	int i;

	/* The peer never shows up: take over after master-down, not before. */
	cfg_make(&a, 1, 100, 0);
	cfg_make(&b, 2, 200, 0);
	world_init(&w, "alone", &a, &b);
	w.dead[1] = 1;
	ev(&w, 0, ELECT_EV_START);
	for (i = 0; i < 3; i++) {
		w.now += IV;
		tick(&w, 0, 0);
		CHECK(w.n[0].e.state == ELECT_ST_STANDBY);
	}
	w.now += IV;
	tick(&w, 0, 0);
	assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
	assert_int_equal(w.n[0].e.term, 1);
	CHECK(w.n[0].acts & ELECT_ACT_BUMP_TERM);
	/* The better node arrives later: no pre-emption, it follows. */
	w.dead[1] = 0;
	ev(&w, 1, ELECT_EV_START);
	settle(&w, 10);
	assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
	assert_int_equal(w.n[1].e.term, 1);
}

/* ---- active death ---- */

static void
test_active_death(void **state)
{
	/* B lags at first; it must not promote before it holds everything A acknowledged. */
	int s[] = { S_TIME, S_TIME, S_TIME, S_TIME, S_B_TICK, S_B_TICK, S_B_POS };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct world w;

	perm_first(s, n);
	do {
		world_pair(&w, "active death", 0, 0);
		election_set_position(&w.n[0].e, 500, 400);
		election_set_position(&w.n[1].e, 300, 300);
		round_trip(&w);		/* B learns A's ack position 400 */
		w.dead[0] = 1;
		w.n[0].vip = 0;		/* its address expires with the daemon */
		w.n[0].accepting = 0;
		for (i = 0; i < n; i++) {
			step(&w, s[i]);
			if (w.n[1].e.state == ELECT_ST_ACTIVE)
				CHECK(w.n[1].e.log_pos >= 400);
		}
		/* Within master-down plus one interval of ticks, once caught up. */
		for (i = 0; i < 5; i++) {
			w.now += IV;
			tick(&w, 1, 0);
		}
		if (w.n[1].e.state != ELECT_ST_ACTIVE)
			fail_msg("B not active after [%s]", w.trace);
		assert_int_equal(w.n[1].e.term, w.n[0].e.term + 1);
		CHECK(w.n[1].vip && w.n[1].garp >= 1);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs > 10);
}

static void
test_detection_time(void **state)
{
	struct world w;
	uint64_t died;

	world_pair(&w, "detection", 0, 0);
	w.dead[0] = 1;
	w.n[0].vip = w.n[0].accepting = 0;
	died = w.now;
	/* Tick every 10 ms: promotion exactly at master-down after the last heartbeat. */
	while (w.n[1].e.state != ELECT_ST_ACTIVE && w.now < died + 10 * DOWN) {
		w.now += 10;
		tick(&w, 1, 0);
	}
	assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
	CHECK(w.now - died >= DOWN - IV);
	CHECK(w.now - died <= DOWN + 10);
	assert_int_equal(election_master_down_ms(&w.n[1].e), DOWN);
}

/* ---- split brain ---- */

struct split_row {
	const char	*what;
	uint64_t	 term[2];
	uint8_t		 prio[2];
	int		 want;
};

static const struct split_row split_rows[] = {
	{ "A has the higher term", { 7, 5 }, { 100, 200 }, 0 },
	{ "B has the higher term", { 5, 7 }, { 200, 100 }, 1 },
	{ "equal terms: priority", { 6, 6 }, { 100, 200 }, 1 },
	{ "equal terms: priority, reversed", { 6, 6 }, { 200, 100 }, 0 },
	{ "equal terms and priority: node id", { 6, 6 }, { 100, 100 }, 1 },
};

static void
test_split_brain(void **state)
{
	const struct split_row *r = ROW(struct split_row, state);
	int s[] = { S_A_HB, S_B_HB, S_A_TICK, S_B_TICK, S_TIME };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct elect_config a, b;
	struct world w;
	int k, lose = !r->want;

	perm_first(s, n);
	do {
		cfg_make(&a, 1, r->prio[0], 0);
		cfg_make(&b, 2, r->prio[1], 0);
		world_init(&w, r->what, &a, &b);
		w.check_single = 0;
		/* Both went active during a partition. */
		for (k = 0; k < 2; k++) {
			w.dead[!k] = 1;
			ev(&w, k, ELECT_EV_START);
			w.n[k].e.term = r->term[k] - 1;
			w.now += DOWN;
			tick(&w, k, 0);
			CHECK(w.n[k].e.state == ELECT_ST_ACTIVE);
			w.dead[!k] = 0;
		}
		CHECK(w.n[0].e.term == r->term[0] && w.n[1].e.term == r->term[1]);
		/* Heal: the first heartbeat that crosses settles it, whichever way it goes. */
		for (i = 0; i < n; i++)
			step(&w, s[i]);
		w.check_single = 1;
		settle(&w, 5);
		if (w.n[r->want].e.state != ELECT_ST_ACTIVE || nactive(&w) != 1)
			fail_msg("%s: after [%s]: %s/%s", r->what, w.trace,
			    election_state_name(w.n[0].e.state),
			    election_state_name(w.n[1].e.state));
		assert_int_equal(w.n[lose].e.state, ELECT_ST_STANDBY);
		assert_int_equal(w.n[lose].resync, 1);
		CHECK(!w.n[lose].vip && !w.n[lose].accepting);
		/* The winner re-announced the address (a burst when the conflict resolved). */
		CHECK(w.n[r->want].garp >= 2);
		CHECK(w.n[lose].e.term >= w.n[r->want].e.term);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs == 120);
}

/* ---- pre-emption ---- */

static void
test_preempt(void **state)
{
	int preempt = *(const int *)*state;
	int s[] = { S_B_START, S_A_HB, S_A_HB, S_B_HB, S_B_HB };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct elect_config a, b;
	struct world w;

	perm_first(s, n);
	do {
		if (!order_ok(s, n, 1))
			continue;
		/* A (priority 100) is active alone; B (200) arrives. */
		cfg_make(&a, 1, 100, preempt);
		cfg_make(&b, 2, 200, preempt);
		world_init(&w, preempt ? "preempt on" : "preempt off", &a, &b);
		w.dead[1] = 1;
		ev(&w, 0, ELECT_EV_START);
		w.now += DOWN;
		tick(&w, 0, 0);
		CHECK(w.n[0].e.state == ELECT_ST_ACTIVE);
		w.dead[1] = 0;
		for (i = 0; i < n; i++)
			step(&w, s[i]);
		settle(&w, 10);
		CHECK(nactive(&w) == 1);
		if (preempt) {
			/* A handed over (no two holders at any point), and stays standby. */
			assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
			assert_int_equal(w.n[0].e.state, ELECT_ST_STANDBY);
			CHECK(w.n[1].e.term == 2);
		} else {
			assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
			assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
		}
		/* No flapping: nothing changes over a long quiet time. */
		settle(&w, 50);
		CHECK(w.n[preempt ? 1 : 0].e.state == ELECT_ST_ACTIVE);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs >= 5);
}

static const int preempt_off = 0, preempt_on = 1;

/* ---- tracking ---- */

static void
test_tracking(void **state)
{
	int s[] = { S_A_TRACK_LOST, S_A_HB, S_B_HB, S_B_TICK, S_TIME };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct world w;

	perm_first(s, n);
	do {
		world_pair(&w, "tracking lost on the active", 0, 0);
		for (i = 0; i < n; i++)
			step(&w, s[i]);
		settle(&w, 3);
		assert_int_equal(w.n[0].e.state, ELECT_ST_FAULT);
		assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
		/* Tracking comes back: standby, no flap back. */
		ev(&w, 0, ELECT_EV_TRACK_OK);
		assert_int_equal(w.n[0].e.state, ELECT_ST_STANDBY);
		settle(&w, 10);
		assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs == 120);
}

static void
test_tracking_standby(void **state)
{
	struct world w;
	int i;

	/* A standby that cannot reach the target does not claim when the active dies. */
	world_pair(&w, "tracking lost on the standby", 0, 0);
	ev(&w, 1, ELECT_EV_TRACK_LOST);
	assert_int_equal(w.n[1].e.state, ELECT_ST_FAULT);
	w.dead[0] = 1;
	w.n[0].vip = w.n[0].accepting = 0;
	for (i = 0; i < 10; i++) {
		w.now += IV;
		tick(&w, 1, 0);
	}
	assert_int_equal(w.n[1].e.state, ELECT_ST_FAULT);
	CHECK(!w.n[1].vip);
	/* Reachable again: standby, then it takes over on the next tick. */
	ev(&w, 1, ELECT_EV_TRACK_OK);
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
	w.now += IV;
	tick(&w, 1, 0);
	assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
}

/* ---- hysteresis ---- */

struct hyst_row {
	const char	*what;
	const char	*events;	/* F local fail, O local ok, L track lost, T track ok */
	enum elect_state want;
	uint8_t		 want_prio;
};

static const struct hyst_row hyst_rows[] = {
	{ "two failures: still active", "FF", ELECT_ST_ACTIVE, 200 },
	{ "three failures: demoted", "FFF", ELECT_ST_FAULT, 0 },
	{ "interrupted streak: not demoted", "FFOFF", ELECT_ST_ACTIVE, 200 },
	{ "demoted, two successes: still demoted", "FFFOO", ELECT_ST_FAULT, 0 },
	{ "demoted, three successes: restored", "FFFOOO", ELECT_ST_STANDBY, 200 },
	{ "demoted, success streak interrupted", "FFFOOFOO", ELECT_ST_FAULT, 0 },
	{ "demoted, interrupted then three", "FFFOOFOOO", ELECT_ST_STANDBY, 200 },
	{ "more failures while demoted", "FFFFFFFOOO", ELECT_ST_STANDBY, 200 },
	{ "successes alone change nothing", "OOOOOO", ELECT_ST_ACTIVE, 200 },
	{ "track ok does not undo a local demotion", "FFFLT", ELECT_ST_FAULT, 0 },
	{ "local restore does not undo a tracking fault", "LFFFOOO", ELECT_ST_FAULT, 200 },
	{ "both restored", "LFFFOOOT", ELECT_ST_STANDBY, 200 },
	{ "both restored, other order", "LFFFTOOO", ELECT_ST_STANDBY, 200 },
};

static void
test_hysteresis(void **state)
{
	const struct hyst_row *r = ROW(struct hyst_row, state);
	struct world w;
	const char *p;

	world_pair(&w, r->what, 0, 0);
	/* B stays out of it so the active's own path is what is measured. */
	w.dead[1] = 1;
	for (p = r->events; *p != '\0'; p++) {
		switch (*p) {
		case 'F': ev(&w, 0, ELECT_EV_LOCAL_FAIL); break;
		case 'O': ev(&w, 0, ELECT_EV_LOCAL_OK); break;
		case 'L': ev(&w, 0, ELECT_EV_TRACK_LOST); break;
		case 'T': ev(&w, 0, ELECT_EV_TRACK_OK); break;
		default: fail_msg("bad event %c", *p);
		}
	}
	if (w.n[0].e.state != r->want)
		fail_msg("%s: %s, want %s", r->what, election_state_name(w.n[0].e.state),
		    election_state_name(r->want));
	assert_int_equal(election_priority(&w.n[0].e), r->want_prio);
}

static void
test_demotion_failover(void **state)
{
	struct world w;
	struct elect_peer adv;
	int i;

	/* A demoted active releases, the standby takes over, the restored node stays standby. */
	world_pair(&w, "demotion failover", 0, 0);
	for (i = 0; i < 3; i++)
		ev(&w, 0, ELECT_EV_LOCAL_FAIL);
	assert_int_equal(w.n[0].e.state, ELECT_ST_FAULT);
	election_advert(&w.n[0].e, &adv);
	CHECK(!adv.healthy && adv.priority == 0 && adv.role == ELECT_ST_FAULT);
	settle(&w, 2);
	assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
	for (i = 0; i < 3; i++)
		ev(&w, 0, ELECT_EV_LOCAL_OK);
	assert_int_equal(w.n[0].e.state, ELECT_ST_STANDBY);
	settle(&w, 10);
	assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
	assert_int_equal(w.n[0].e.state, ELECT_ST_STANDBY);
}

/* ---- maintenance ---- */

static void
test_maintenance_active(void **state)
{
	int s[] = { S_A_MAINT_ON, S_A_TRACK_LOST, S_A_HB, S_B_HB, S_TIME };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct world w;
	int maint_first;

	perm_first(s, n);
	do {
		world_pair(&w, "maintenance on the active", 0, 0);
		maint_first = 1;
		for (i = 0; i < n; i++) {
			if (s[i] == S_A_TRACK_LOST && w.n[0].e.maint == 0)
				maint_first = 0;
			step(&w, s[i]);
		}
		settle(&w, 3);
		if (maint_first) {
			/* Frozen: still active despite the lost target; switchover refused. */
			assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
			assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
			step(&w, S_A_SWITCH);
			CHECK(w.n[0].refused == 1);
			step(&w, S_A_MAINT_OFF);
			assert_int_equal(w.n[0].e.state, ELECT_ST_FAULT);
		} else
			assert_int_equal(w.n[0].e.state, ELECT_ST_FAULT);
		settle(&w, 3);
		assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs == 120);
}

static void
test_maintenance_standby(void **state)
{
	struct world w;
	int i;

	world_pair(&w, "maintenance on the standby", 0, 0);
	ev(&w, 1, ELECT_EV_MAINT_ON);
	w.dead[0] = 1;
	w.n[0].vip = w.n[0].accepting = 0;
	for (i = 0; i < 10; i++) {
		w.now += IV;
		tick(&w, 1, 0);
	}
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
	/* Local failures are counted but the role stays frozen. */
	for (i = 0; i < 5; i++)
		ev(&w, 1, ELECT_EV_LOCAL_FAIL);
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
	for (i = 0; i < 3; i++)
		ev(&w, 1, ELECT_EV_LOCAL_OK);
	ev(&w, 1, ELECT_EV_MAINT_OFF);
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
	w.now += IV;
	tick(&w, 1, 0);
	assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
}

/* ---- stalls ---- */

struct stall_row {
	const char	*what;
	uint64_t	 stall;		/* ms the standby's loop did not run */
	int		 report_lag;	/* the loop reports its lag to the FSM */
	int		 peer_alive;	/* the active kept sending during the stall */
	int		 want_failover;
};

static const struct stall_row stall_rows[] = {
	{ "100 ms stall, lag reported", 100, 1, 1, 0 },
	{ "500 ms stall, lag reported", 500, 1, 1, 0 },
	{ "5 s stall, lag reported", 5000, 1, 1, 0 },
	{ "500 ms stall, lag not reported: false failover", 500, 0, 1, 1 },
	{ "peer really dead during a stall: still detected", 500, 1, 0, 1 },
};

static void
test_stall(void **state)
{
	const struct stall_row *r = ROW(struct stall_row, state);
	struct world w;
	int i;

	world_pair(&w, r->what, 0, 0);
	/* A false failover briefly makes two holders: that is what the row shows. */
	w.check_single = !(r->want_failover && r->peer_alive);
	/* The standby's loop stops; the active's heartbeats queue in its socket. */
	w.now += r->stall;
	if (!r->peer_alive) {
		w.dead[0] = 1;
		w.n[0].vip = w.n[0].accepting = 0;
	}
	/* On wake-up the timer runs first (the worst case), then the queued reads. */
	tick(&w, 1, r->report_lag ? r->stall : 0);
	hb(&w, 0);
	for (i = 0; i < 10; i++)
		round_trip(&w);
	if (r->want_failover) {
		if (r->peer_alive) {
			/* The false failover the stall rule prevents ends as split brain. */
			CHECK(w.n[1].e.term == 2);
		} else
			assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
	} else {
		assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
		assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
		assert_int_equal(w.n[1].e.term, 1);
	}
}

/* ---- switchover ---- */

static void
test_switchover(void **state)
{
	int s[] = { S_A_SWITCH, S_B_POS, S_A_HB, S_B_HB, S_B_HB };
	size_t n = sizeof(s) / sizeof(s[0]), i, runs = 0;
	struct world w;

	perm_first(s, n);
	do {
		world_pair(&w, "switchover", 0, 0);
		election_set_position(&w.n[0].e, 1000, 1000);
		election_set_position(&w.n[1].e, 950, 950);
		round_trip(&w);
		for (i = 0; i < n; i++)
			step(&w, s[i]);
		settle(&w, 3);
		assert_int_equal(w.n[0].refused, 0);
		if (w.n[1].e.state != ELECT_ST_ACTIVE || w.n[0].e.state != ELECT_ST_STANDBY)
			fail_msg("after [%s]: %s/%s", w.trace,
			    election_state_name(w.n[0].e.state),
			    election_state_name(w.n[1].e.state));
		CHECK(w.n[1].e.log_pos >= 1000);
		CHECK(w.n[1].e.term == 2);
		settle(&w, 20);
		assert_int_equal(w.n[1].e.state, ELECT_ST_ACTIVE);
		runs++;
	} while (next_perm(s, n));
	CHECK(runs == 60);
}

struct refuse_row {
	const char	*what;
	int		 who;		/* node asked */
	uint64_t	 b_pos;		/* standby position; A is at 1000 */
	int		 b_fault;	/* standby lost its tracking target */
	int		 b_dead;
	int		 a_maint;
};

static const struct refuse_row refuse_rows[] = {
	{ "target lags beyond the limit", 0, 800, 0, 0 },
	{ "target unhealthy", 0, 1000, 1, 0 },
	{ "target dead", 0, 1000, 0, 1 },
	{ "asked on the standby", 1, 1000, 0, 0 },
	{ "maintenance mode", 0, 1000, 0, 0, 1 },
};

static void
test_switch_refused(void **state)
{
	const struct refuse_row *r = ROW(struct refuse_row, state);
	struct world w;

	world_pair(&w, r->what, 0, 0);
	election_set_position(&w.n[0].e, 1000, 1000);
	election_set_position(&w.n[1].e, r->b_pos, r->b_pos);
	if (r->b_fault)
		ev(&w, 1, ELECT_EV_TRACK_LOST);
	round_trip(&w);
	if (r->a_maint)
		ev(&w, 0, ELECT_EV_MAINT_ON);
	if (r->b_dead) {
		w.dead[1] = 1;
		settle(&w, 5);
	}
	ev(&w, r->who, ELECT_EV_SWITCHOVER_REQUEST);
	CHECK(w.n[r->who].acts & ELECT_ACT_REFUSED);
	CHECK(election_refusal(&w.n[r->who].e) != NULL);
	/* Nothing moved: A still serves. */
	assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
	CHECK(w.n[0].accepting && w.n[0].vip);
}

static void
test_switch_timeout(void **state)
{
	struct world w;
	int i;

	/* Within the lag limit but never catching up: A resumes after the timeout. */
	world_pair(&w, "switchover timeout", 0, 0);
	election_set_position(&w.n[0].e, 1000, 1000);
	election_set_position(&w.n[1].e, 950, 950);
	round_trip(&w);
	ev(&w, 0, ELECT_EV_SWITCHOVER_REQUEST);
	CHECK(w.n[0].acts & ELECT_ACT_STOP_ACCEPTING);
	CHECK(!w.n[0].accepting);
	for (i = 0; i < 9; i++)
		round_trip(&w);
	CHECK(!w.n[0].accepting);
	round_trip(&w);
	CHECK(w.n[0].accepting);
	assert_int_equal(w.n[0].e.state, ELECT_ST_ACTIVE);
	assert_int_equal(w.n[1].e.state, ELECT_ST_STANDBY);
}

/* ---- table and names ---- */

static void
test_table(void **state)
{
	size_t i;
	int s, e;

	for (s = 0; s < ELECT_ST_MAX; s++)
		CHECK(strcmp(election_state_name(s), "UNKNOWN") != 0);
	for (e = 0; e < ELECT_EV_MAX; e++)
		CHECK(strcmp(election_event_name(e), "UNKNOWN") != 0);
	assert_string_equal(election_state_name(ELECT_ST_MAX), "UNKNOWN");
	assert_string_equal(election_event_name(ELECT_EV_MAX), "UNKNOWN");
	for (i = 0; i < election_table_len; i++) {
		const struct elect_transition *t = &election_table[i];

		CHECK(t->state < ELECT_ST_MAX && t->next < ELECT_ST_MAX);
		CHECK(t->event < ELECT_EV_MAX && t->what != NULL);
		/* HB_RECEIVED is turned into PEER_* before the table is consulted. */
		CHECK(t->event != ELECT_EV_HB_RECEIVED);
		/* Only INIT handles START, and INIT handles nothing else. */
		CHECK((t->state == ELECT_ST_INIT) == (t->event == ELECT_EV_START));
	}
	for (i = 0; i < ELECT_ACT_NBITS; i++)
		CHECK(strcmp(election_action_name(1u << i), "unknown") != 0);
}

static void
test_actions_str(void **state)
{
	char buf[128];

	assert_string_equal(election_actions_str(0, buf, sizeof(buf)), "none");
	assert_string_equal(election_actions_str(ELECT_ACT_TAKE_VIP | ELECT_ACT_BUMP_TERM, buf,
	    sizeof(buf)), "bump_term|take_vip");
	election_actions_str(0x3ff, buf, 12);
	CHECK(strlen(buf) < 12);
}

/* Every event in every state, in a long pseudo-random run: no crash, state in range. */
static void
test_random_walk(void **state)
{
	struct world w;
	uint32_t x = 12345;
	enum elect_event e;
	int i, k;

	world_pair(&w, "random walk", 0, 0);
	w.check_single = 0;
	for (i = 0; i < 3000; i++) {
		x = x * 1103515245u + 12345u;
		k = (int)((x >> 16) & 1);
		switch ((x >> 17) % 6) {
		case 0:
			e = (enum elect_event)((x >> 20) % ELECT_EV_MAX);
			if (e != ELECT_EV_HB_RECEIVED && e != ELECT_EV_PEER_CLAIMS_ACTIVE &&
			    e != ELECT_EV_PEER_PASSIVE)
				ev(&w, k, e);
			break;
		case 1: hb(&w, k); break;
		case 2: w.now += (x >> 20) % 200; tick(&w, k, (x >> 24) % 300); break;
		case 3: election_set_position(&w.n[k].e, w.n[k].e.log_pos + 1,
		    w.n[k].e.log_pos + 1); break;
		default: round_trip(&w); break;
		}
		CHECK(w.n[0].e.state < ELECT_ST_MAX && w.n[1].e.state < ELECT_ST_MAX);
	}
	/* Faults cleared and left alone, the pair converges to one active. */
	for (k = 0; k < 2; k++) {
		ev(&w, k, ELECT_EV_MAINT_OFF);
		ev(&w, k, ELECT_EV_TRACK_OK);
		for (i = 0; i < 3; i++)
			ev(&w, k, ELECT_EV_LOCAL_OK);
	}
	settle(&w, 30);
	assert_int_equal(nactive(&w), 1);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "elect", test_elect, elect_rows);
	CASES_TABLE(&cs, "start-up, every order", test_startup, startup_rows);
	cases_add(&cs, "start-up alone, better node arrives later", test_startup_alone, NULL);
	cases_add(&cs, "active death, every order, promote only when caught up",
	    test_active_death, NULL);
	cases_add(&cs, "detection within master-down", test_detection_time, NULL);
	CASES_TABLE(&cs, "split brain heal, every order", test_split_brain, split_rows);
	cases_add(&cs, "preemption off, every order", test_preempt, &preempt_off);
	cases_add(&cs, "preemption on, every order", test_preempt, &preempt_on);
	cases_add(&cs, "tracking lost on the active, every order", test_tracking, NULL);
	cases_add(&cs, "tracking lost on the standby", test_tracking_standby, NULL);
	CASES_TABLE(&cs, "hysteresis", test_hysteresis, hyst_rows);
	cases_add(&cs, "demotion hands the service over", test_demotion_failover, NULL);
	cases_add(&cs, "maintenance on the active, every order", test_maintenance_active, NULL);
	cases_add(&cs, "maintenance on the standby", test_maintenance_standby, NULL);
	CASES_TABLE(&cs, "stall", test_stall, stall_rows);
	cases_add(&cs, "switchover, every order", test_switchover, NULL);
	CASES_TABLE(&cs, "switchover refused", test_switch_refused, refuse_rows);
	cases_add(&cs, "switchover times out, active resumes", test_switch_timeout, NULL);
	cases_add(&cs, "table rows and names", test_table, NULL);
	cases_add(&cs, "action strings", test_actions_str, NULL);
	cases_add(&cs, "random walk converges", test_random_walk, NULL);
	return cases_run(&cs, "election");
}
