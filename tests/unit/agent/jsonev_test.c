/* Tandem — MIT licence. JSON event line tests: good lines per kind, bad lines with their reasons. */
#include <time.h>

#include "agent/jsonev.h"
#include "tests/unit/common/cases.h"

#define NOW_MS	1700000000000LL

struct good_row {
	const char		*what;
	const char		*line;
	Tandem__Event__KindCase	 kind;
	int64_t			 time_ms;
};

struct bad_row {
	const char	*what;
	const char	*line;
	const char	*reason;	/* a substring of the error */
};

static const struct good_row good_rows[] = {
	{ "queue", "{\"kind\":\"queue\",\"queue\":\"q1\",\"depth\":5}",
	    TANDEM__EVENT__KIND_QUEUE, NOW_MS },
	{ "queue with totals and time", "{\"kind\":\"queue\",\"queue\":\"q1\",\"depth\":5,"
	    "\"enqueued_total\":9,\"completed_total\":4,\"time_ms\":1690000000000}",
	    TANDEM__EVENT__KIND_QUEUE, 1690000000000LL },
	{ "txn with attrs", "{\"kind\":\"txn\",\"txn_id\":\"T1\",\"step\":\"load\","
	    "\"state\":\"begin\",\"attrs\":{\"lot\":\"A7\",\"line\":\"2\"}}",
	    TANDEM__EVENT__KIND_TXN, NOW_MS },
	{ "txn default state", "{\"kind\":\"txn\",\"txn_id\":\"T1\",\"step\":\"mix\"}",
	    TANDEM__EVENT__KIND_TXN, NOW_MS },
	{ "job", "{\"kind\":\"job\",\"job\":\"assemble\",\"duration_us\":1200,\"ok\":false}",
	    TANDEM__EVENT__KIND_JOB, NOW_MS },
	{ "log", "{\"kind\":\"log\",\"level\":\"error\",\"message\":\"boom\"}",
	    TANDEM__EVENT__KIND_LOG, NOW_MS },
	{ "log empty message", "{\"kind\":\"log\",\"message\":\"\"}",
	    TANDEM__EVENT__KIND_LOG, NOW_MS },
	{ "heartbeat", "{\"kind\":\"heartbeat\"}", TANDEM__EVENT__KIND_HEARTBEAT, NOW_MS },
	{ "time 0 means now", "{\"kind\":\"heartbeat\",\"time_ms\":0}",
	    TANDEM__EVENT__KIND_HEARTBEAT, NOW_MS },
	{ "spaces around", "  {\"kind\" : \"heartbeat\"}  ", TANDEM__EVENT__KIND_HEARTBEAT,
	    NOW_MS },
};

static const struct bad_row bad_rows[] = {
	{ "not json", "not json", "bad JSON" },
	{ "truncated", "{\"kind\":\"queue\"", "bad JSON" },
	{ "array", "[1,2]", "not a JSON object" },
	{ "no kind", "{\"queue\":\"q\",\"depth\":1}", "missing \"kind\"" },
	{ "unknown kind", "{\"kind\":\"metric\"}", "unknown kind" },
	{ "unknown key", "{\"kind\":\"heartbeat\",\"colour\":1}", "unknown key \"colour\"" },
	{ "duplicate key", "{\"kind\":\"heartbeat\",\"kind\":\"log\"}", "bad JSON" },
	{ "queue without depth", "{\"kind\":\"queue\",\"queue\":\"q\"}", "missing \"depth\"" },
	{ "negative depth", "{\"kind\":\"queue\",\"queue\":\"q\",\"depth\":-1}",
	    "non-negative" },
	{ "depth as string", "{\"kind\":\"queue\",\"queue\":\"q\",\"depth\":\"5\"}",
	    "non-negative" },
	{ "empty queue name", "{\"kind\":\"queue\",\"queue\":\"\",\"depth\":1}",
	    "queue name" },
	{ "bad state", "{\"kind\":\"txn\",\"txn_id\":\"T\",\"step\":\"s\",\"state\":\"done\"}",
	    "unknown value \"done\"" },
	{ "attr not string", "{\"kind\":\"txn\",\"txn_id\":\"T\",\"step\":\"s\","
	    "\"attrs\":{\"n\":1}}", "must be a string" },
	{ "ok not bool", "{\"kind\":\"job\",\"job\":\"j\",\"duration_us\":1,\"ok\":1}",
	    "true or false" },
	{ "bad level", "{\"kind\":\"log\",\"level\":\"loud\",\"message\":\"m\"}",
	    "unknown value" },
	{ "time too old", "{\"kind\":\"heartbeat\",\"time_ms\":5}", "out of range" },
	{ "time too far ahead", "{\"kind\":\"heartbeat\",\"time_ms\":1800000000000}",
	    "out of range" },
};

static void
test_good(void **state)
{
	const struct good_row *r = ROW(struct good_row, state);
	struct jsonev je;
	char err[256] = "";

	if (jsonev_parse(&je, r->line, strlen(r->line), NOW_MS, err, sizeof(err)) != 0)
		fail_msg("%s: %s", r->what, err);
	CHECK(je.ev.kind_case == r->kind);
	CHECK(je.ev.has_time_ms && je.ev.time_ms == r->time_ms);
	if (r->kind == TANDEM__EVENT__KIND_TXN && strstr(r->line, "attrs") != NULL) {
		CHECK(je.ev.txn->n_attrs == 2);
		CHECK(strcmp(je.ev.txn->attrs[0]->key, "lot") == 0);
		CHECK(strcmp(je.ev.txn->attrs[0]->value, "A7") == 0);
		CHECK(je.ev.txn->state == TANDEM__TXN_STATE__TXN_BEGIN);
	}
	if (r->kind == TANDEM__EVENT__KIND_JOB)
		CHECK(je.ev.job->duration_us == 1200 && !je.ev.job->ok);
	/* What it parsed packs. */
	CHECK(protobuf_c_message_get_packed_size(&je.ev.base) > 0);
	jsonev_clear(&je);
	jsonev_clear(&je);
}

static void
test_bad(void **state)
{
	const struct bad_row *r = ROW(struct bad_row, state);
	struct jsonev je;
	char err[256] = "";

	CHECK(jsonev_parse(&je, r->line, strlen(r->line), NOW_MS, err, sizeof(err)) == -1);
	if (strstr(err, r->reason) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", r->what, err, r->reason);
	jsonev_clear(&je);
}

int
main(void)
{
	static struct cases cs;

	CASES_TABLE(&cs, "good", test_good, good_rows);
	CASES_TABLE(&cs, "bad", test_bad, bad_rows);
	return cases_run(&cs, "jsonev");
}
