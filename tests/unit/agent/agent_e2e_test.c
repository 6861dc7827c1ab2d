/* Tandem — MIT licence. The agent library against a fake collector: renumbering, forced reconnect, resend, exactly-once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include <event2/event.h>

#include "agent/agent.h"
#include "proto/msg.h"
#include "tests/unit/agent/fake_collector.h"
#include "tests/unit/common/cases.h"

#define E2E_STORED	1000	/* what the collector holds from the agent's "previous life" */
#define E2E_EARLY	20	/* events enqueued before start: renumbered after Welcome */
#define E2E_EVENTS	3000
#define E2E_CLOSE_AT	400	/* the collector drops the connection once, unacked */
#define E2E_DEADLINE_S	20

struct e2e {
	struct event_base	*base;
	struct tandem_agent	*ag;
	struct fake_collector	*fc;
	struct event		*produce, *deadline;
	unsigned		 produced;
	uint64_t		 seen;		/* events stored by the collector, in order */
	uint64_t		 wrong;		/* out of order or wrong content */
	int			 flushed, timed_out;
};

static int
e2e_enqueue(struct e2e *e)
{
	char job[32];

	snprintf(job, sizeof(job), "job-%u", e->produced);
	if (tandem_agent_job(e->ag, 0, job, e->produced, 1) == -1)
		return -1;
	e->produced++;
	return 0;
}

static void
e2e_on_event(void *arg, const char *agent_id, uint64_t seq, const struct msg_event *me)
{
	struct e2e *e = arg;
	uint64_t idx = seq - E2E_STORED - 1;
	char job[32];

	snprintf(job, sizeof(job), "job-%llu", (unsigned long long)idx);
	if (seq != E2E_STORED + 1 + e->seen || me->ev->kind_case != TANDEM__EVENT__KIND_JOB ||
	    strcmp(me->ev->job->job, job) != 0 || me->ev->job->duration_us != idx) {
		if (e->wrong++ < 5)
			fprintf(stderr, "seq %llu: unexpected event (%s)\n",
			    (unsigned long long)seq,
			    me->ev->kind_case == TANDEM__EVENT__KIND_JOB ? me->ev->job->job : "?");
	}
	e->seen++;
}

static void
e2e_flushed(struct tandem_agent *ag, void *arg)
{
	struct e2e *e = arg;

	e->flushed = 1;
	event_base_loopexit(e->base, NULL);
}

static void
e2e_produce(evutil_socket_t fd, short what, void *arg)
{
	struct e2e *e = arg;
	unsigned i;

	for (i = 0; i < 50 && e->produced < E2E_EVENTS; i++)
		if (e2e_enqueue(e) == -1) {
			assert_int_equal(errno, EAGAIN);	/* full: try next tick */
			break;
		}
	if (e->produced == E2E_EVENTS) {
		event_del(e->produce);
		tandem_agent_flush(e->ag, e2e_flushed, e);
	}
}

static void
e2e_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct e2e *e = arg;

	e->timed_out = 1;
	event_base_loopexit(e->base, NULL);
}

static void
test_reconnect_resend(void **state)
{
	struct tandem_agent_conf conf;
	struct tandem_agent_stats st;
	struct fake_conf fconf;
	struct fake_stats fs;
	struct timeval tick = { 0, 1000 }, deadline = { E2E_DEADLINE_S, 0 };
	struct e2e e;
	char addr[64], err[256];
	uint16_t port;
	unsigned i;

	memset(&e, 0, sizeof(e));
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(e.base = event_base_new());
	memset(&fconf, 0, sizeof(fconf));
	fconf.initial_stored = E2E_STORED;
	fconf.close_after = E2E_CLOSE_AT;
	fconf.verify = 1;
	fconf.on_event = e2e_on_event;
	fconf.arg = &e;
	assert_non_null(e.fc = fake_new(e.base, &fconf, 0, &port));
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);

	memset(&conf, 0, sizeof(conf));
	conf.collectors[0] = addr;
	conf.agent_id = "e2e";
	conf.app = "test";
	conf.batch = 16;
	conf.max_events = 100;		/* small: the producer meets EAGAIN */
	conf.backoff_min_ms = 10;
	conf.backoff_max_ms = 40;
	e.ag = tandem_agent_new(e.base, &conf, err, sizeof(err));
	if (e.ag == NULL)
		fail_msg("tandem_agent_new: %s", err);
	/* Before any Welcome: numbered 1..20 locally, renumbered to follow stored_seq. */
	for (i = 0; i < E2E_EARLY; i++)
		assert_int_equal(e2e_enqueue(&e), 0);
	tandem_agent_stats(e.ag, &st);
	assert_int_equal(st.next_seq, E2E_EARLY + 1);

	assert_non_null(e.produce = event_new(e.base, -1, EV_PERSIST, e2e_produce, &e));
	assert_non_null(e.deadline = evtimer_new(e.base, e2e_deadline, &e));
	event_add(e.produce, &tick);
	event_add(e.deadline, &deadline);
	assert_int_equal(tandem_agent_start(e.ag), 0);
	assert_int_equal(tandem_agent_start(e.ag), -1);
	event_base_dispatch(e.base);

	tandem_agent_stats(e.ag, &st);
	fake_stats(e.fc, &fs);
	assert_false(e.timed_out);
	assert_true(e.flushed);
	assert_int_equal(e.produced, E2E_EVENTS);
	/* Every event arrived once, in order, with the right seq and content. */
	assert_int_equal(e.wrong, 0);
	assert_int_equal(e.seen, E2E_EVENTS);
	assert_int_equal(fake_stored(e.fc, "e2e"), E2E_STORED + E2E_EVENTS);
	assert_int_equal(fs.stored, E2E_EVENTS);
	assert_int_equal(fs.gaps, 0);
	assert_int_equal(fs.forced_closes, 1);
	/* Each event acked exactly once, and its latency recorded once. */
	assert_int_equal(st.enqueued, E2E_EVENTS);
	assert_int_equal(st.acked, E2E_EVENTS);
	assert_int_equal(tandem_agent_hist(e.ag)->count, E2E_EVENTS);
	/*
	 * Everything enqueued before the first Welcome is renumbered: the 20 early events and
	 * whatever the producer added before the Welcome arrived (more on a loaded machine).
	 * The seq checks above prove they all got stored_seq + their place.
	 */
	assert_true(st.renumbered >= E2E_EARLY);
	assert_true(st.renumbered <= E2E_EVENTS);
	assert_int_equal(st.window_events, 0);
	assert_int_equal(tandem_agent_unacked(e.ag), 0);
	assert_int_equal(st.next_seq, E2E_STORED + E2E_EVENTS + 1);
	assert_true(st.reconnects >= 1);
	assert_true(st.connects >= 2);
	assert_true(st.window_full > 0);
	assert_true(st.sent >= E2E_EVENTS);
	assert_int_equal(st.sent - st.resent, E2E_EVENTS);
	assert_true(tandem_agent_latency_us(e.ag, 50) > 0);

	tandem_agent_free(e.ag);
	fake_free(e.fc);
	event_free(e.produce);
	event_free(e.deadline);
	event_base_free(e.base);
}

/* No network: refusals are immediate, with the documented errno. */
static void
test_refusals(void **state)
{
	struct tandem_agent_conf conf;
	struct tandem_agent_stats st;
	struct tandem_agent *ag;
	struct event_base *base;
	const char *attrs[] = { "k", "v" };
	char err[256];
	unsigned i;

	assert_non_null(base = event_base_new());
	memset(&conf, 0, sizeof(conf));
	conf.collectors[0] = "127.0.0.1:9";
	conf.agent_id = "refuse";
	conf.app = "test";
	conf.max_events = 8;
	assert_non_null(ag = tandem_agent_new(base, &conf, err, sizeof(err)));
	errno = 0;
	assert_int_equal(tandem_agent_queue(ag, 0, "", 1, 0, 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tandem_agent_job(ag, 5, "j", 1, 1), -1);	/* time before 2000 */
	assert_int_equal(errno, EINVAL);
	for (i = 0; i < 8; i++)
		assert_int_equal(tandem_agent_txn(ag, 0, "T", "s", TANDEM__TXN_STATE__TXN_STEP,
		    attrs, 1), 0);
	errno = 0;
	assert_int_equal(tandem_agent_heartbeat(ag, 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(tandem_agent_log(ag, 0, TANDEM__LOG_LEVEL__LOG_INFO, "x"), -1);
	tandem_agent_stats(ag, &st);
	assert_int_equal(st.enqueued, 8);
	assert_int_equal(st.invalid, 2);
	assert_int_equal(st.window_full, 2);
	assert_int_equal(tandem_agent_unacked(ag), 8);
	tandem_agent_free(ag);
	/* Bad configurations are refused with a reason. */
	conf.agent_id = "";
	assert_null(tandem_agent_new(base, &conf, err, sizeof(err)));
	conf.agent_id = "a";
	conf.collectors[0] = "no-port";
	assert_null(tandem_agent_new(base, &conf, err, sizeof(err)));
	CHECK(strstr(err, "host:port") != NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_reconnect_resend),
	};

	return cmocka_run_group_tests_name("agent_e2e", tests, NULL, NULL);
}
