/* Tandem — MIT licence. Simulator tests: same seed, same stream; every event within protocol bounds. */
#include "agent/sim.h"
#include "proto/msg.h"
#include "tests/unit/common/cases.h"

#define SIM_N		20000
#define SIM_TIME	1700000000000LL

static void
test_deterministic(void **state)
{
	static uint8_t pa[16384], pb[16384];
	struct sim_event ea, eb;
	struct sim *a, *b, *c;
	unsigned appa, appb, appc, differ = 0, i;
	size_t la, lb;
	char err[256];

	assert_non_null(a = sim_new(7, 42));
	assert_non_null(b = sim_new(7, 42));
	assert_non_null(c = sim_new(7, 43));
	for (i = 0; i < SIM_N; i++) {
		sim_next(a, SIM_TIME + i, &appa, &ea);
		sim_next(b, SIM_TIME + i, &appb, &eb);
		assert_int_equal(appa, appb);
		assert_true(appa < 7);
		if (msg_check_event(&ea.ev, SIM_TIME + i, err, sizeof(err)) != 0)
			fail_msg("event %u: %s", i, err);
		la = protobuf_c_message_pack(&ea.ev.base, pa);
		lb = protobuf_c_message_pack(&eb.ev.base, pb);
		assert_int_equal(la, lb);
		assert_memory_equal(pa, pb, la);
		sim_next(c, SIM_TIME + i, &appc, &eb);
		lb = protobuf_c_message_pack(&eb.ev.base, pb);
		differ += appc != appa || la != lb || memcmp(pa, pb, la) != 0;
	}
	assert_true(differ > SIM_N / 2);
	/* The mix has every kind. */
	assert_true(sim_count(a, TANDEM__EVENT__KIND_QUEUE) > SIM_N / 10);
	assert_true(sim_count(a, TANDEM__EVENT__KIND_TXN) > SIM_N / 5);
	assert_true(sim_count(a, TANDEM__EVENT__KIND_JOB) > SIM_N / 5);
	assert_true(sim_count(a, TANDEM__EVENT__KIND_LOG) > SIM_N / 20);
	assert_true(sim_count(a, TANDEM__EVENT__KIND_HEARTBEAT) > 0);
	sim_free(a);
	sim_free(b);
	sim_free(c);
}

static void
test_transactions(void **state)
{
	struct sim_event e;
	struct sim *s;
	unsigned app, i, begins = 0, ends = 0, errors = 0;

	assert_non_null(s = sim_new(3, 7));
	for (i = 0; i < SIM_N; i++) {
		sim_next(s, SIM_TIME, &app, &e);
		if (e.ev.kind_case != TANDEM__EVENT__KIND_TXN)
			continue;
		begins += e.t.state == TANDEM__TXN_STATE__TXN_BEGIN;
		ends += e.t.state == TANDEM__TXN_STATE__TXN_END;
		errors += e.t.state == TANDEM__TXN_STATE__TXN_ERROR;
	}
	/* Most finish, a few fail, some are left hanging. */
	assert_true(ends > begins / 2);
	assert_true(errors > 0 && errors < begins / 5);
	assert_true(ends + errors < begins);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_transactions),
	};

	return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
