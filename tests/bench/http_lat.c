/* Tandem — MIT licence. http_lat: sequential HTTP GET latency of one URL path (libevent client). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/*
 * Sends GET PATH to 127.0.0.1:PORT one request at a time over one keep-alive HTTP/1.1
 * connection (evhttp reconnects by itself if the server closes it; that time is part of the
 * request that needed it), -n times or until -T seconds have
 * passed, whichever comes first, after -w warm-up requests that are not counted. Each request
 * is timed with CLOCK_MONOTONIC from just before it is queued to the callback that has the
 * whole reply body. Prints one line:
 *
 *   n N errors E p50_us X p99_us Y min_us . mean_us . max_us . bytes B last_status S noreply R
 *
 * A reply with a status other than 200 (or none within the request timeout) counts as an
 * error; its time is still recorded. -o FILE writes the last reply body there (to check it).
 */

#define REQ_TIMEOUT_S	30
#define MAX_REQS	1000000

struct ctx {
	struct event_base	*base;
	int			 done;
	int			 status;
	size_t			 bytes;
	struct evbuffer		*last;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
usage(void)
{
	fprintf(stderr, "usage: http_lat -p PORT -u PATH [-n REQUESTS] [-T SECONDS] [-w WARMUP] "
	    "[-o BODY_FILE]\n");
	exit(2);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct ctx *c = arg;
	struct evbuffer *in;

	c->done = 1;
	c->status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	c->bytes = 0;
	if (req != NULL && (in = evhttp_request_get_input_buffer(req)) != NULL) {
		c->bytes = evbuffer_get_length(in);
		evbuffer_drain(c->last, evbuffer_get_length(c->last));
		evbuffer_add_buffer(c->last, in);
	}
	event_base_loopbreak(c->base);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the values at or below it. */
static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t r;

	if (n == 0)
		return 0;
	r = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

/* One request; returns its time in us, and its status in c->status (0: none). */
static uint64_t
one(struct ctx *c, struct evhttp_connection *conn, const char *path, uint16_t port)
{
	struct evhttp_request *req;
	char host[32];
	uint64_t t0;

	c->done = 0;
	c->status = 0;
	if ((req = evhttp_request_new(done_cb, c)) == NULL) {
		fprintf(stderr, "http_lat: evhttp_request_new failed\n");
		exit(1);
	}
	snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "keep-alive");
	t0 = mono_us();
	if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, path) != 0) {
		fprintf(stderr, "http_lat: evhttp_make_request failed\n");
		exit(1);
	}
	/* The connection's own timeout bounds this loop. */
	while (!c->done)
		if (event_base_loop(c->base, EVLOOP_ONCE) == -1)
			break;
	return mono_us() - t0;
}

int
main(int argc, char *argv[])
{
	struct ctx c;
	struct evhttp_connection *conn;
	const char *path = NULL, *outfile = NULL;
	unsigned long nreq = 300, warm = 3, port = 0;
	double tmax = 60, sum = 0;
	uint64_t *lat, t_end, dt;
	size_t n = 0, errors = 0, bytes = 0, i;
	unsigned noreply = 0;
	char *end;
	int ch;

	while ((ch = getopt(argc, argv, "p:u:n:T:w:o:")) != -1) {
		switch (ch) {
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*end != '\0' || port == 0 || port > 65535)
				usage();
			break;
		case 'u':
			path = optarg;
			break;
		case 'n':
			nreq = strtoul(optarg, &end, 10);
			if (*end != '\0' || nreq == 0 || nreq > MAX_REQS)
				usage();
			break;
		case 'T':
			tmax = strtod(optarg, &end);
			if (*end != '\0' || !(tmax > 0) || tmax > 3600)
				usage();
			break;
		case 'w':
			warm = strtoul(optarg, &end, 10);
			if (*end != '\0' || warm > 1000)
				usage();
			break;
		case 'o':
			outfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || path == NULL || port == 0 || path[0] != '/')
		usage();

	memset(&c, 0, sizeof(c));
	if ((lat = calloc(nreq, sizeof(*lat))) == NULL || (c.base = event_base_new()) == NULL ||
	    (c.last = evbuffer_new()) == NULL) {
		fprintf(stderr, "http_lat: out of memory\n");
		return 1;
	}
	if ((conn = evhttp_connection_base_new(c.base, NULL, "127.0.0.1", (uint16_t)port)) == NULL) {
		fprintf(stderr, "http_lat: evhttp_connection_base_new failed\n");
		return 1;
	}
	evhttp_connection_set_timeout(conn, REQ_TIMEOUT_S);
	evhttp_connection_set_retries(conn, 0);

	t_end = mono_us() + (uint64_t)(tmax * 1e6);
	for (i = 0; i < warm && mono_us() < t_end; i++)
		(void)one(&c, conn, path, (uint16_t)port);
	while (n < nreq && mono_us() < t_end) {
		dt = one(&c, conn, path, (uint16_t)port);
		lat[n++] = dt;
		sum += (double)dt;
		bytes += c.bytes;
		if (c.status != 200)
			errors++;
		if (c.status == 0)
			noreply++;
	}
	if (outfile != NULL) {
		FILE *f = fopen(outfile, "w");
		size_t len = evbuffer_get_length(c.last);

		if (f == NULL || (len > 0 && fwrite(evbuffer_pullup(c.last, -1), 1, len, f) != len) ||
		    fclose(f) != 0)
			fprintf(stderr, "http_lat: %s: %s\n", outfile, strerror(errno));
	}
	qsort(lat, n, sizeof(*lat), u64_cmp);
	printf("n %zu errors %zu p50_us %" PRIu64 " p99_us %" PRIu64 " min_us %" PRIu64
	    " mean_us %.0f max_us %" PRIu64 " bytes %zu last_status %d noreply %u\n",
	    n, errors, pct(lat, n, 50), pct(lat, n, 99), n ? lat[0] : 0,
	    n ? sum / (double)n : 0, n ? lat[n - 1] : 0, n ? bytes / n : 0, c.status, noreply);
	evhttp_connection_free(conn);
	evbuffer_free(c.last);
	event_base_free(c.base);
	free(lat);
	return n > 0 && errors == 0 ? 0 : 1;
}
