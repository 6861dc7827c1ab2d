/* Tandem — MIT licence. tandemctl: status, failover and maintenance over had's root-only control socket. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define CTL_TIMEOUT_MS		30000	/* failover waits for the drain and the peer */
#define CTL_REPLY_MAX		(1 << 20)

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: tandemctl [-j] [-s socket] status | failover | maintenance on|off\n"
	    "  -s socket  had's control socket (default /run/tandem/had.sock)\n"
	    "  -j         print the JSON reply as is\n");
	exit(2);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends req and returns the reply line (heap), or NULL with a message on stderr. */
static char *
ctl_call(const char *path, const char *req)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	int64_t deadline = mono_ms() + CTL_TIMEOUT_MS;
	size_t len = 0, cap = 4096;
	char *buf = NULL, *nl;
	ssize_t n;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path)) {
		fprintf(stderr, "tandemctl: %s: path too long\n", path);
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "tandemctl: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "tandemctl: write: %s\n", strerror(errno));
		goto fail;
	}
	if ((buf = malloc(cap)) == NULL)
		goto fail;
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)(deadline - mono_ms() > 0 ? deadline - mono_ms() : 0));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "tandemctl: no answer from had within %d s\n",
			    CTL_TIMEOUT_MS / 1000);
			goto fail;
		}
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= CTL_REPLY_MAX || (nb = realloc(buf, cap * 2)) == NULL)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0) {
			fprintf(stderr, "tandemctl: connection closed without an answer\n");
			goto fail;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			close(fd);
			return buf;
		}
	}
fail:
	free(buf);
	if (fd != -1)
		close(fd);
	return NULL;
}

static json_int_t
geti(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
gets_(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "-";
}

static const char *
yn(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "yes" : "no";
}

static void
print_status(json_t *j)
{
	json_t *peer = json_object_get(j, "peer"), *hb = json_object_get(j, "heartbeat");
	json_t *repl = json_object_get(j, "replication"), *cc = json_object_get(j, "collector");
	json_t *vip = json_object_get(j, "vip"), *lf = json_object_get(j, "last_failover");
	json_t *st = json_object_get(cc, "status"), *ccr = json_object_get(st, "repl");
	const char *k;
	json_t *v;

	printf("node %lld: %s, term %lld, priority %lld%s%s\n", (long long)geti(j, "node_id"),
	    gets_(j, "role"), (long long)geti(j, "term"), (long long)geti(j, "priority"),
	    json_is_true(json_object_get(j, "maintenance")) ? ", MAINTENANCE" : "",
	    json_is_string(json_object_get(j, "switchover")) ? ", switchover draining" : "");
	if (json_is_string(json_object_get(j, "not_claiming")))
		printf("  not taking over: %s\n", gets_(j, "not_claiming"));
	printf("service ip %s: %s (renew failures %lld, GARP bursts %lld)\n", gets_(vip,
	    "address"), json_is_true(json_object_get(vip, "held")) ? "held here" : "not here",
	    (long long)geti(vip, "renew_failures"), (long long)geti(vip, "garp_bursts"));
	printf("peer %lld: %s, %s, term %lld, priority %lld, healthy %s, tracking ok %s, "
	    "heard %lld ms ago\n", (long long)geti(peer, "node_id"), gets_(peer, "state"),
	    gets_(peer, "role"), (long long)geti(peer, "term"), (long long)geti(peer, "priority"),
	    yn(peer, "healthy"), yn(peer, "track_ok"), (long long)geti(peer, "last_heard_ms_ago"));
	printf("heartbeat: every %lld ms, sent %lld, send failures %lld, loop stalls %lld "
	    "(max lag %lld ms)\n  received:", (long long)geti(hb, "interval_ms"),
	    (long long)geti(hb, "sent"), (long long)geti(hb, "send_failures"),
	    (long long)geti(hb, "stalls"), (long long)geti(hb, "max_loop_lag_ms"));
	json_object_foreach(hb, k, v) {
		if (strcmp(k, "sent") == 0 || strcmp(k, "send_failures") == 0 ||
		    strcmp(k, "interval_ms") == 0 || strcmp(k, "max_loop_lag_ms") == 0 ||
		    strcmp(k, "stalls") == 0)
			continue;
		printf(" %s %lld", k, (long long)json_integer_value(v));
	}
	printf("\n");
	printf("replication: log position %lld, acknowledged %lld, peer at %lld, lag %lld",
	    (long long)geti(repl, "log_pos"), (long long)geti(repl, "ack_pos"),
	    (long long)geti(repl, "peer_log_pos"), (long long)geti(repl, "lag"));
	if (json_is_object(ccr))
		printf(" (collector: mode %s, %s, applied by standby %lld, lag %lld)",
		    gets_(ccr, "mode"), json_is_true(json_object_get(ccr, "protected")) ?
		    "protected" : "UNPROTECTED", (long long)geti(ccr, "peer_pos"),
		    (long long)geti(ccr, "lag"));
	printf("\n");
	if (json_is_true(json_object_get(cc, "configured")))
		printf("collector: %s, %s, role %s\n",
		    json_is_true(json_object_get(cc, "connected")) ? "connected" : "NOT CONNECTED",
		    json_is_true(json_object_get(cc, "healthy")) ? "healthy" : "UNHEALTHY",
		    gets_(st, "role"));
	else
		printf("collector: not configured\n");
	printf("failovers to this node %lld, switchovers from it %lld\n",
	    (long long)geti(j, "failovers"), (long long)geti(j, "switchovers"));
	if (json_is_object(lf))
		printf("last failover: %s %s -> %s term %lld (%s): detected after %lld ms, "
		    "taken over in %lld ms, %lld ms in all\n", gets_(lf, "at"), gets_(lf, "from"),
		    gets_(lf, "to"), (long long)geti(lf, "term"), gets_(lf, "why"),
		    (long long)geti(lf, "detect_ms"), (long long)geti(lf, "takeover_ms"),
		    (long long)geti(lf, "duration_ms"));
	else
		printf("last failover: none\n");
}

int
main(int argc, char *argv[])
{
	const char *path = "/run/tandem/had.sock";
	char req[64], *reply;
	json_error_t jerr;
	json_t *j;
	int ch, raw = 0, rv;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
			raw = 1;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 && (strcmp(argv[0], "status") == 0 || strcmp(argv[0], "failover") == 0))
		snprintf(req, sizeof(req), "%s", argv[0]);
	else if (argc == 2 && strcmp(argv[0], "maintenance") == 0 &&
	    (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0))
		snprintf(req, sizeof(req), "maintenance %s", argv[1]);
	else
		usage();
	if ((reply = ctl_call(path, req)) == NULL)
		return 1;
	if ((j = json_loads(reply, 0, &jerr)) == NULL || !json_is_object(j)) {
		fprintf(stderr, "tandemctl: bad reply: %s\n", reply);
		free(reply);
		return 1;
	}
	rv = json_is_true(json_object_get(j, "ok")) ? 0 : 1;
	if (raw)
		printf("%s\n", reply);
	else if (rv != 0)
		fprintf(stderr, "tandemctl: %s refused: %s\n", req, gets_(j, "error"));
	else if (strcmp(req, "status") == 0)
		print_status(j);
	else if (strcmp(req, "failover") == 0)
		printf("failover done: node %lld is active for term %lld after %lld ms\n",
		    (long long)geti(j, "new_active"), (long long)geti(j, "term"),
		    (long long)geti(j, "duration_ms"));
	else
		printf("maintenance %s (role %s)\n", json_is_true(json_object_get(j,
		    "maintenance")) ? "on: roles frozen" : "off", gets_(j, "role"));
	json_decref(j);
	free(reply);
	return rv;
}
