/* Tandem — MIT licence. libFuzzer target: monitor query-string, path and JSON-body parsing helpers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/hist.h"
#include "monitor/http.h"
#include "monitor/json.h"
#include "monitor/query_params.h"

/*
 * Input: first byte selects the parser, the rest is its input.
 *   0: query string through every query_params_* helper
 *   1: JSON body through json_body_parse and the field helpers
 *   2: path matched against the API's patterns
 *   3: histogram decode (LMDB rollup values are read back with it)
 */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_query(const char *s)
{
	static const char *const allowed[] = { "limit", "from", "to", "app", "state", NULL };
	struct query_params qp;
	struct query_params_err err;
	const char *str;
	uint32_t limit;
	int64_t v, from, to;

	if (query_params_parse(&qp, s, &err) == -1)
		return;
	(void)query_params_allow(&qp, allowed, &err);
	(void)query_params_limit(&qp, 100, 1000, &limit, &err);
	(void)query_params_int(&qp, "n", INT64_MIN, INT64_MAX, 0, &v, &err);
	(void)query_params_time_range(&qp, 1700000000000LL, 3600000, 0, &from, &to, &err);
	(void)query_params_str(&qp, "app", 64, 0, &str, &err);
	if ((str = query_params_get(&qp, "from")) != NULL) {
		(void)query_params_time(str, 1700000000000LL, &v);
		(void)query_params_duration(str, &v);
	}
	query_params_clear(&qp);
}

static void
fuzz_json(const char *s, size_t len)
{
	static const char *const allowed[] = { "who", "comment", "expires", NULL };
	struct query_params_err err;
	const char *str;
	int64_t v;
	json_t *o;

	if ((o = json_body_parse(s, len, JSON_BODY_MAX_DEFAULT, &err)) == NULL)
		return;
	(void)json_fields_allow(o, allowed, &err);
	(void)json_field_str(o, "who", 63, 1, &str, &err);
	(void)json_field_str(o, "comment", 511, 0, &str, &err);
	(void)json_field_int(o, "expires", 0, INT64_MAX, 0, 0, &v, &err);
	json_decref(o);
}

static void
fuzz_path(const char *s)
{
	static const char *const patterns[] = {
		"/api/v1/health", "/api/v1/apps/{app}/queues",
		"/api/v1/apps/{app}/queues/{queue}", "/api/v1/alarms/{id}/ack",
	};
	struct http_req r;
	size_t i;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		memset(&r, 0, sizeof(r));
		if (http_path_match(patterns[i], s, &r) >= 0)
			(void)http_path_param(&r, "app");
	}
}

static void
fuzz_hist(const uint8_t *b, size_t len)
{
	static struct hist h;
	static uint8_t out[HIST_ENCODE_MAX];
	size_t n;

	if (hist_decode(&h, b, len) == -1)
		return;
	/* A decoded histogram re-encodes to exactly the same bytes. */
	if (hist_encode(&h, out, sizeof(out), &n) == -1 || n != len || memcmp(out, b, n) != 0)
		abort();
	(void)hist_percentile(&h, 99);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 64 * 1024)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';		/* C-string parsers see up to the first NUL */
	switch (data[0] % 4) {
	case 0:
		fuzz_query(s);
		break;
	case 1:
		fuzz_json(s, size - 1);
		break;
	case 2:
		fuzz_path(s);
		break;
	case 3:
		fuzz_hist(data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}
