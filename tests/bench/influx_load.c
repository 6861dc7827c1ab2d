/* Tandem — MIT licence. influx_load: the simulator's event stream, written to InfluxDB 1.x. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "agent/sim.h"
#include "common/xalloc.h"

/*
 * The same generator as `tandem-agent simulate` (agent/sim.c, same napps and seed), so both
 * stores are fed the same events. Each event becomes one line-protocol point:
 *
 *   queue,app=A,queue=Q       depth=,enqueued_total=,completed_total=
 *   txn,app=A,step=S          txn_id="",state="",<attr key>=""
 *   job,app=A,job=J           duration_us=,ok=
 *   log,app=A                 level="",message=""
 *   heartbeat,app=A           uptime_s=
 *
 * Timestamps (precision=ms) are one millisecond apart, ending now: the simulator stamps
 * wall-clock time, and many events share a millisecond there, which in InfluxDB would make
 * points of one series overwrite each other. Distinct times keep every event a point.
 * With --span-ms S the -N points are instead spread evenly over the S milliseconds before
 * now (precision=ns, still distinct), so that they cover the same time as a Tandem store
 * filled in S milliseconds (tests/bench/monitor_bench.sh).
 *
 * Batches of -B points are POSTed over -C connections at once (curl multi). The clock starts
 * at the first POST and stops when the last one returned 204. Failed POSTs are retried (at
 * most MAX_TRIES times each); what never succeeded is reported and not counted.
 */

#define MAX_CONNS	32
#define MAX_TRIES	5
#define RESP_MAX	512
#define LINE_MAX_BYTES	(2 * 8192 + 4096)	/* bound on one point, escaping included */
#define HARD_EXTRA_S	60		/* in-flight POSTs get this long after -d */

struct slot {
	CURL		*easy;
	char		*buf;
	size_t		 len, cap;
	uint64_t	 npoints;
	unsigned	 tries;
	int		 busy;
	char		 resp[RESP_MAX];
	size_t		 resplen;
};

struct load {
	struct sim	*sim;
	struct sim_event sev;
	int64_t		 base_ms;
	uint64_t	 generated, max_points;
	unsigned	 batch;
	int64_t		 span_base_ns;	/* --span-ms: first point's time in ns, else 0 */
	double		 span_step_ns;
};

static void
usage(void)
{
	fprintf(stderr, "usage: influx_load -u http://127.0.0.1:PORT --db NAME -n N_APPS "
	    "[--seed S] [-N MAX_POINTS] [-d SECONDS] [-B BATCH] [-C CONNS] [--span-ms S]\n"
	    "  -n N         applications (as tandem-agent simulate -n)\n"
	    "  --seed S     generator seed (default 1, as simulate)\n"
	    "  -N POINTS    stop after this many points (default 50000000)\n"
	    "  -d SECONDS   stop generating after this long (default 10)\n"
	    "  -B BATCH     points per POST (default 5000)\n"
	    "  -C CONNS     concurrent POSTs (default 4, at most 32)\n"
	    "  --span-ms S  spread the -N points over the S ms before now (ns timestamps)\n");
	exit(2);
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
number(const char *what, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '-' || errno != 0 || *end != '\0' || end == s || v < min || v > max) {
		fprintf(stderr, "influx_load: %s: '%s' is not a number in %" PRIu64 "..%"
		    PRIu64 "\n", what, s, min, max);
		exit(2);
	}
	return v;
}

/* Appends to a slot's buffer; the caller made room (LINE_MAX_BYTES per point). */
static void
put(struct slot *s, const char *p, size_t n)
{
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
puts_raw(struct slot *s, const char *p)
{
	put(s, p, strlen(p));
}

/* Measurement names, tag keys and tag values: escape commas, spaces and equals signs. */
static void
put_tag(struct slot *s, const char *key, const char *val)
{
	s->buf[s->len++] = ',';
	puts_raw(s, key);
	s->buf[s->len++] = '=';
	for (; *val != '\0'; val++) {
		if (*val == ',' || *val == ' ' || *val == '=' || *val == '\\')
			s->buf[s->len++] = '\\';
		s->buf[s->len++] = *val;
	}
}

/* A string field: double quotes and backslashes escaped. first: no leading comma. */
static void
put_str(struct slot *s, int first, const char *key, const char *val)
{
	if (!first)
		s->buf[s->len++] = ',';
	puts_raw(s, key);
	put(s, "=\"", 2);
	for (; *val != '\0'; val++) {
		if (*val == '"' || *val == '\\')
			s->buf[s->len++] = '\\';
		s->buf[s->len++] = *val;
	}
	s->buf[s->len++] = '"';
}

static void
put_int(struct slot *s, int first, const char *key, uint64_t v)
{
	char tmp[32];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s%s=%" PRIu64 "i", first ? "" : ",", key, v);
	put(s, tmp, (size_t)n);
}

static const char *
state_name(Tandem__TxnState st)
{
	switch (st) {
	case TANDEM__TXN_STATE__TXN_BEGIN:	return "begin";
	case TANDEM__TXN_STATE__TXN_STEP:	return "step";
	case TANDEM__TXN_STATE__TXN_END:	return "end";
	case TANDEM__TXN_STATE__TXN_ERROR:	return "error";
	default:				return "unknown";
	}
}

static const char *
level_name(Tandem__LogLevel l)
{
	switch (l) {
	case TANDEM__LOG_LEVEL__LOG_DEBUG:	return "debug";
	case TANDEM__LOG_LEVEL__LOG_INFO:	return "info";
	case TANDEM__LOG_LEVEL__LOG_WARN:	return "warn";
	case TANDEM__LOG_LEVEL__LOG_ERROR:	return "error";
	case TANDEM__LOG_LEVEL__LOG_FATAL:	return "fatal";
	default:				return "unknown";
	}
}

/* One event as one line, at time ts (in the write's precision). */
static void
put_event(struct slot *s, const Tandem__Event *ev, unsigned app, int64_t ts)
{
	char appname[32], tmp[32];
	size_t i;
	int n;

	snprintf(appname, sizeof(appname), "app-%u", app);
	switch (ev->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:
		puts_raw(s, "queue");
		put_tag(s, "app", appname);
		put_tag(s, "queue", ev->queue->queue);
		s->buf[s->len++] = ' ';
		put_int(s, 1, "depth", ev->queue->depth);
		put_int(s, 0, "enqueued_total", ev->queue->enqueued_total);
		put_int(s, 0, "completed_total", ev->queue->completed_total);
		break;
	case TANDEM__EVENT__KIND_TXN:
		puts_raw(s, "txn");
		put_tag(s, "app", appname);
		put_tag(s, "step", ev->txn->step);
		s->buf[s->len++] = ' ';
		put_str(s, 1, "txn_id", ev->txn->txn_id);
		put_str(s, 0, "state", state_name(ev->txn->state));
		for (i = 0; i < ev->txn->n_attrs; i++)
			put_str(s, 0, ev->txn->attrs[i]->key, ev->txn->attrs[i]->value);
		break;
	case TANDEM__EVENT__KIND_JOB:
		puts_raw(s, "job");
		put_tag(s, "app", appname);
		put_tag(s, "job", ev->job->job);
		s->buf[s->len++] = ' ';
		put_int(s, 1, "duration_us", ev->job->duration_us);
		puts_raw(s, ev->job->ok ? ",ok=true" : ",ok=false");
		break;
	case TANDEM__EVENT__KIND_LOG:
		puts_raw(s, "log");
		put_tag(s, "app", appname);
		s->buf[s->len++] = ' ';
		put_str(s, 1, "level", level_name(ev->log->level));
		put_str(s, 0, "message", ev->log->message);
		break;
	case TANDEM__EVENT__KIND_HEARTBEAT:
		puts_raw(s, "heartbeat");
		put_tag(s, "app", appname);
		s->buf[s->len++] = ' ';
		put_int(s, 1, "uptime_s", ev->heartbeat->uptime_s);
		break;
	default:
		fprintf(stderr, "influx_load: unknown event kind %d\n", (int)ev->kind_case);
		exit(1);
	}
	n = snprintf(tmp, sizeof(tmp), " %" PRId64 "\n", ts);
	put(s, tmp, (size_t)n);
}

/* Fills a slot with the next batch; 0 when the stream is exhausted. */
static uint64_t
fill(struct load *ld, struct slot *s)
{
	unsigned app;
	char *p;

	s->len = 0;
	s->npoints = 0;
	while (s->npoints < ld->batch && ld->generated < ld->max_points) {
		if (s->cap - s->len < LINE_MAX_BYTES) {
			if ((p = xrealloc(s->buf, s->cap * 2 + LINE_MAX_BYTES)) == NULL) {
				fprintf(stderr, "influx_load: out of memory\n");
				exit(1);
			}
			s->buf = p;
			s->cap = s->cap * 2 + LINE_MAX_BYTES;
		}
		sim_next(ld->sim, ld->base_ms + (int64_t)ld->generated, &app, &ld->sev);
		put_event(s, &ld->sev.ev, app, ld->span_base_ns != 0 ? ld->span_base_ns +
		    (int64_t)((double)ld->generated * ld->span_step_ns) : ld->sev.ev.time_ms);
		s->npoints++;
		ld->generated++;
	}
	return s->npoints;
}

static size_t
resp_cb(char *p, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = size * n, room = RESP_MAX - 1 - s->resplen;

	if (len < room)
		room = len;
	memcpy(s->resp + s->resplen, p, room);
	s->resplen += room;
	s->resp[s->resplen] = '\0';
	return len;
}

static void
submit(CURLM *multi, struct slot *s)
{
	s->resplen = 0;
	s->resp[0] = '\0';
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->buf);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
	s->tries++;
	s->busy = 1;
	curl_multi_add_handle(multi, s->easy);
}

int
main(int argc, char *argv[])
{
	enum { OPT_DB = 1000, OPT_SEED, OPT_SPAN };
	static const struct option longopts[] = {
		{ "url",	required_argument,	NULL, 'u' },
		{ "db",		required_argument,	NULL, OPT_DB },
		{ "apps",	required_argument,	NULL, 'n' },
		{ "seed",	required_argument,	NULL, OPT_SEED },
		{ "span-ms",	required_argument,	NULL, OPT_SPAN },
		{ NULL, 0, NULL, 0 },
	};
	struct load ld;
	struct slot slots[MAX_CONNS], *s;
	struct curl_slist *hdrs = NULL;
	const char *url = NULL, *db = NULL;
	char wurl[1024];
	uint64_t napps = 0, seed = 1, max_points = 50000000, written = 0, failed = 0;
	uint64_t retries = 0, posts = 0, bytes = 0, t0 = 0, t_last = 0, gen_end, hard_end;
	double duration = 10, secs;
	uint64_t span_ms = 0;
	unsigned batch = 5000, nconns = 4, i, busy;
	CURLM *multi;
	CURLMsg *msg;
	long code;
	char *end;
	int ch, left, running, status;

	while ((ch = getopt_long(argc, argv, "u:n:N:d:B:C:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case OPT_DB:
			db = optarg;
			break;
		case 'n':
			napps = number("-n", optarg, 1, 100000);
			break;
		case OPT_SEED:
			seed = number("--seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_SPAN:
			span_ms = number("--span-ms", optarg, 1, UINT64_C(100) * 86400 * 1000);
			break;
		case 'N':
			max_points = number("-N", optarg, 1, UINT64_C(1000000000));
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end != '\0' || !(duration > 0) || duration > 3600)
				usage();
			break;
		case 'B':
			batch = (unsigned)number("-B", optarg, 1, 100000);
			break;
		case 'C':
			nconns = (unsigned)number("-C", optarg, 1, MAX_CONNS);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || url == NULL || db == NULL || napps == 0)
		usage();
	snprintf(wurl, sizeof(wurl), "%s/write?db=%s&precision=%s", url, db,
	    span_ms > 0 ? "ns" : "ms");

	memset(&ld, 0, sizeof(ld));
	if ((ld.sim = sim_new((unsigned)napps, seed)) == NULL) {
		fprintf(stderr, "influx_load: out of memory\n");
		return 1;
	}
	ld.max_points = max_points;
	ld.batch = batch;
	/* One millisecond per point, the last one a second before now. */
	ld.base_ms = now_ms() - (int64_t)max_points - 1000;
	if (span_ms > 0) {
		/* Distinct times need a step of at least 1 ns. */
		if (span_ms * 1000000 < max_points) {
			fprintf(stderr, "influx_load: --span-ms %" PRIu64 " is too short for %" PRIu64
			    " distinct nanosecond times\n", span_ms, max_points);
			return 2;
		}
		ld.span_base_ns = (now_ms() - (int64_t)span_ms) * 1000000;
		ld.span_step_ns = (double)span_ms * 1e6 / (double)max_points;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "influx_load: curl init failed\n");
		return 1;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nconns);
	hdrs = curl_slist_append(hdrs, "Content-Type: text/plain; charset=utf-8");
	hdrs = curl_slist_append(hdrs, "Expect:");	/* no 100-continue round trip */
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < nconns; i++) {
		s = &slots[i];
		if ((s->easy = curl_easy_init()) == NULL) {
			fprintf(stderr, "influx_load: curl_easy_init failed\n");
			return 1;
		}
		curl_easy_setopt(s->easy, CURLOPT_URL, wurl);
		curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, resp_cb);
		curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->easy, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	}

	t0 = mono_us();
	gen_end = t0 + (uint64_t)(duration * 1e6);
	hard_end = gen_end + HARD_EXTRA_S * 1000000ULL;
	for (;;) {
		uint64_t now = mono_us();

		busy = 0;
		for (i = 0; i < nconns; i++) {
			s = &slots[i];
			if (!s->busy && now < gen_end && ld.generated < ld.max_points) {
				s->tries = 0;
				if (fill(&ld, s) > 0)
					submit(multi, s);
			}
			busy += (unsigned)s->busy;
		}
		if (busy == 0 || now >= hard_end)
			break;
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			code = 0;
			curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(multi, s->easy);
			s->busy = 0;
			posts++;
			if (msg->data.result == CURLE_OK && code == 204) {
				written += s->npoints;
				bytes += s->len;
				t_last = mono_us();
				continue;
			}
			fprintf(stderr, "influx_load: POST failed (%s, HTTP %ld): %.200s\n",
			    curl_easy_strerror(msg->data.result), code, s->resp);
			if (s->tries < MAX_TRIES) {
				retries++;
				submit(multi, s);
			} else
				failed += s->npoints;
		}
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	busy = 0;
	for (i = 0; i < nconns; i++)
		if (slots[i].busy) {
			busy++;
			failed += slots[i].npoints;
		}
	if (busy > 0)
		fprintf(stderr, "influx_load: %u POSTs still open after %d s; not counted\n", busy,
		    HARD_EXTRA_S);

	secs = t_last > t0 ? (double)(t_last - t0) / 1e6 : 0;
	printf("influxdb: %" PRIu64 " points in %.2f s = %.0f points/s (batch %u, %u connections)\n",
	    written, secs, secs > 0 ? (double)written / secs : 0, batch, nconns);
	printf("influxdb: %" PRIu64 " POSTs, %" PRIu64 " retried, %" PRIu64 " points failed, "
	    "%.1f bytes of line protocol per point\n", posts, retries, failed,
	    written ? (double)bytes / (double)written : 0);
	status = failed == 0 && written > 0 ? 0 : 1;

	for (i = 0; i < nconns; i++) {
		if (slots[i].busy)
			curl_multi_remove_handle(multi, slots[i].easy);
		curl_easy_cleanup(slots[i].easy);
		xfree(slots[i].buf);
	}
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	sim_free(ld.sim);
	return status;
}
