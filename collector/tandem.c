/* Tandem — MIT licence. tandem: read a node's store directly — count, dump, verify exactly-once, digest. */
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/store_read.h"
#include "common/xalloc.h"
#include "proto/agent.pb-c.h"
#include "proto/msg.h"

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: tandem count  -s STORE            events and sequence numbers per agent\n"
	    "       tandem dump   -s STORE [-a APP] [-k KIND] [--from MS] [--to MS] [-n MAX]\n"
	    "                                         events as JSON lines\n"
	    "       tandem verify -s STORE            check every (agent, seq) is stored once\n"
	    "       tandem digest -s STORE            a digest of every stored event (order-independent)\n"
	    "       tandem ctl SOCKET REQUEST...       a request to collectord's control socket\n"
	    "                                         (status | role active T | role standby T H:P |\n"
	    "                                          drain | resume)\n");
	exit(2);
}

struct opts {
	const char	*store;
	const char	*app;
	int		 kind;
	uint64_t	 from, to, max;
};

static struct store_reader *
open_store(const struct opts *o)
{
	struct store_reader *r;
	char err[256];

	if (o->store == NULL)
		usage();
	if ((r = store_reader_open(o->store, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tandem: %s\n", err);
		exit(1);
	}
	return r;
}

/* count */

struct count_ctx {
	struct store_reader	*r;
	uint64_t		 agents, events, dups;
};

static int
count_agent(uint32_t agent, const struct store_agent_rec *rec, void *arg)
{
	struct count_ctx *cc = arg;
	char id[160], app[160];

	if (store_reader_name(cc->r, STORE_NS_AGENT, agent, id, sizeof(id)) != 1)
		snprintf(id, sizeof(id), "#%u", agent);
	if (store_reader_name(cc->r, STORE_NS_APP, rec->app, app, sizeof(app)) != 1)
		snprintf(app, sizeof(app), "#%u", rec->app);
	printf("agent %s app %s stored_seq %" PRIu64 " events %" PRIu64 " duplicates %" PRIu64
	    "\n", id, app, rec->stored_seq, rec->events, rec->duplicates);
	cc->agents++;
	cc->events += rec->events;
	cc->dups += rec->duplicates;
	return 0;
}

static int
cmd_count(const struct opts *o)
{
	struct count_ctx cc = { .r = open_store(o) };

	if (store_reader_agents(cc.r, count_agent, &cc) == -1) {
		fprintf(stderr, "tandem: %s\n", store_reader_error(cc.r));
		return 1;
	}
	printf("total agents %" PRIu64 " events %" PRIu64 " duplicates %" PRIu64 "\n",
	    cc.agents, cc.events, cc.dups);
	store_reader_close(cc.r);
	return 0;
}

/* dump */

struct dump_ctx {
	struct store_reader	*r;
	uint64_t		 from, to, n, max;
	uint32_t		 last_agent, last_app;
	char			 agent[160], app[160];
	int			 bad;
};

static const char *
state_name(Tandem__TxnState s)
{
	switch (s) {
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
	static const char *names[] = { "debug", "info", "warn", "error", "fatal" };

	return (unsigned)l < 5 ? names[l] : "unknown";
}

static json_t *
event_json(const Tandem__Event *e)
{
	json_t *j = json_object(), *attrs;
	size_t i;

	json_object_set_new(j, "time_ms", json_integer(e->time_ms));
	switch (e->kind_case) {
	case TANDEM__EVENT__KIND_QUEUE:
		json_object_set_new(j, "queue", json_string(e->queue->queue));
		json_object_set_new(j, "depth", json_integer((json_int_t)e->queue->depth));
		if (e->queue->has_enqueued_total)
			json_object_set_new(j, "enqueued_total",
			    json_integer((json_int_t)e->queue->enqueued_total));
		if (e->queue->has_completed_total)
			json_object_set_new(j, "completed_total",
			    json_integer((json_int_t)e->queue->completed_total));
		break;
	case TANDEM__EVENT__KIND_TXN:
		json_object_set_new(j, "txn_id", json_string(e->txn->txn_id));
		json_object_set_new(j, "step", json_string(e->txn->step));
		json_object_set_new(j, "state", json_string(state_name(e->txn->state)));
		attrs = json_object();
		for (i = 0; i < e->txn->n_attrs; i++)
			json_object_set_new(attrs, e->txn->attrs[i]->key,
			    json_string(e->txn->attrs[i]->value ? e->txn->attrs[i]->value : ""));
		json_object_set_new(j, "attrs", attrs);
		break;
	case TANDEM__EVENT__KIND_JOB:
		json_object_set_new(j, "job", json_string(e->job->job));
		json_object_set_new(j, "duration_us", json_integer((json_int_t)e->job->duration_us));
		json_object_set_new(j, "ok", json_boolean(!e->job->has_ok || e->job->ok));
		break;
	case TANDEM__EVENT__KIND_LOG:
		json_object_set_new(j, "level", json_string(level_name(e->log->level)));
		json_object_set_new(j, "message", json_string(e->log->message ? e->log->message : ""));
		break;
	default:
		break;
	}
	return j;
}

static int
dump_event(const struct store_event *ev, void *arg)
{
	struct dump_ctx *d = arg;
	Tandem__Event *e;
	json_t *j;
	char *s;

	e = tandem__event__unpack(NULL, ev->len, ev->data);
	if (e == NULL) {
		d->bad++;
		return 0;
	}
	if ((uint64_t)e->time_ms < d->from || (uint64_t)e->time_ms > d->to) {
		tandem__event__free_unpacked(e, NULL);
		return 0;
	}
	if (ev->agent != d->last_agent &&
	    store_reader_name(d->r, STORE_NS_AGENT, ev->agent, d->agent, sizeof(d->agent)) != 1)
		snprintf(d->agent, sizeof(d->agent), "#%u", ev->agent);
	if (ev->app != d->last_app &&
	    store_reader_name(d->r, STORE_NS_APP, ev->app, d->app, sizeof(d->app)) != 1)
		snprintf(d->app, sizeof(d->app), "#%u", ev->app);
	d->last_agent = ev->agent;
	d->last_app = ev->app;
	j = event_json(e);
	json_object_set_new(j, "agent", json_string(d->agent));
	json_object_set_new(j, "app", json_string(d->app));
	json_object_set_new(j, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(j, "kind", json_string(ev_kind_name(ev->kind)));
	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		puts(s);
		free(s);
	}
	json_decref(j);
	tandem__event__free_unpacked(e, NULL);
	return ++d->n >= d->max;
}

static int
cmd_dump(const struct opts *o)
{
	struct dump_ctx d = { .r = open_store(o), .from = o->from, .to = o->to, .max = o->max,
	    .last_agent = 0, .last_app = 0 };
	uint32_t app = 0;

	if (o->app != NULL && store_reader_id(d.r, STORE_NS_APP, o->app, &app) != 1) {
		fprintf(stderr, "tandem: no application \"%s\" in the store\n", o->app);
		return 1;
	}
	if (store_reader_events(d.r, app, (uint8_t)o->kind, o->from, o->to, dump_event, &d) == -1) {
		fprintf(stderr, "tandem: %s\n", store_reader_error(d.r));
		return 1;
	}
	store_reader_close(d.r);
	if (d.bad) {
		fprintf(stderr, "tandem: %d stored events did not decode\n", d.bad);
		return 1;
	}
	return 0;
}

/* verify: every stored (agent, seq) exactly once */

struct seen {
	uint8_t		*bits;
	uint64_t	 nbits;
	uint64_t	 count, dups, max;
};

struct verify_ctx {
	struct seen	*agents;
	uint32_t	 nagents;
	uint64_t	 events, dups;
	int		 oom;
};

static int
verify_event(const struct store_event *ev, void *arg)
{
	struct verify_ctx *v = arg;
	struct seen *s;

	if (ev->agent >= v->nagents) {
		uint32_t n = ev->agent + 1024;
		struct seen *na = xrealloc(v->agents, n * sizeof(*na));

		if (na == NULL) {
			v->oom = 1;
			return 1;
		}
		memset(na + v->nagents, 0, (n - v->nagents) * sizeof(*na));
		v->agents = na;
		v->nagents = n;
	}
	s = &v->agents[ev->agent];
	if (ev->seq >= s->nbits) {
		uint64_t nb = (ev->seq + 1) * 2 + 4096;
		uint8_t *b = xrealloc(s->bits, (size_t)(nb / 8 + 1));

		if (b == NULL) {
			v->oom = 1;
			return 1;
		}
		memset(b + (s->nbits ? s->nbits / 8 + 1 : 0), 0,
		    (size_t)(nb / 8 + 1 - (s->nbits ? s->nbits / 8 + 1 : 0)));
		s->bits = b;
		s->nbits = nb;
	}
	if (s->bits[ev->seq / 8] & (1u << (ev->seq % 8))) {
		s->dups++;
		v->dups++;
	} else {
		s->bits[ev->seq / 8] |= (uint8_t)(1u << (ev->seq % 8));
		s->count++;
	}
	if (ev->seq > s->max)
		s->max = ev->seq;
	v->events++;
	return 0;
}

static int
verify_agent(uint32_t agent, const struct store_agent_rec *rec, void *arg)
{
	struct verify_ctx *v = arg;
	struct seen none = { 0 }, *s = agent < v->nagents ? &v->agents[agent] : &none;

	if (s->max > rec->stored_seq) {
		printf("agent #%u: event seq %" PRIu64 " above stored_seq %" PRIu64 "\n", agent,
		    s->max, rec->stored_seq);
		v->dups++;
	}
	if (s->count != rec->events) {
		printf("agent #%u: %" PRIu64 " distinct events stored, record says %" PRIu64 "\n",
		    agent, s->count, rec->events);
		v->dups++;
	}
	return 0;
}

static int
cmd_verify(const struct opts *o)
{
	struct store_reader *r = open_store(o);
	struct verify_ctx v = { 0 };
	uint32_t i;

	if (store_reader_events(r, 0, 0, 0, UINT64_MAX, verify_event, &v) == -1 ||
	    store_reader_agents(r, verify_agent, &v) == -1) {
		fprintf(stderr, "tandem: %s\n", store_reader_error(r));
		return 1;
	}
	if (v.oom) {
		fprintf(stderr, "tandem: out of memory\n");
		return 1;
	}
	for (i = 0; i < v.nagents; i++)
		xfree(v.agents[i].bits);
	xfree(v.agents);
	store_reader_close(r);
	printf("verify: %" PRIu64 " events, %" PRIu64 " problems\n", v.events, v.dups);
	return v.dups == 0 ? 0 : 1;
}

/* digest: order-independent, so two stores that hold the same events agree however their
 * blocks are laid out (folded or still in the commit log, merged differently). */

struct digest_ctx {
	uint64_t	lane[4];	/* sum of every event's SHA-256, lane by lane, mod 2^64 */
	uint64_t	count;
};

static int
digest_event(const struct store_event *ev, void *arg)
{
	struct digest_ctx *d = arg;
	unsigned char h[32];
	uint8_t hdr[4 + 8 + 4];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n;
	int i;

	if (md == NULL)
		return 1;
	store_put_be32(hdr, ev->agent);
	store_put_be64(hdr + 4, ev->seq);
	store_put_be32(hdr + 12, (uint32_t)ev->len);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, hdr, sizeof(hdr));
	EVP_DigestUpdate(md, ev->data, ev->len);
	EVP_DigestFinal_ex(md, h, &n);
	EVP_MD_CTX_free(md);
	for (i = 0; i < 4; i++)
		d->lane[i] += store_get_be64(h + 8 * i);
	d->count++;
	return 0;
}

static int
cmd_digest(const struct opts *o)
{
	struct store_reader *r = open_store(o);
	struct digest_ctx d = { { 0 }, 0 };

	if (store_reader_events(r, 0, 0, 0, UINT64_MAX, digest_event, &d) == -1) {
		fprintf(stderr, "tandem: %s\n", store_reader_error(r));
		return 1;
	}
	printf("%016llx%016llx%016llx%016llx %llu events\n", (unsigned long long)d.lane[0],
	    (unsigned long long)d.lane[1], (unsigned long long)d.lane[2],
	    (unsigned long long)d.lane[3], (unsigned long long)d.count);
	store_reader_close(r);
	return 0;
}

static int
kind_from(const char *s)
{
	int k;

	for (k = 1; k < EV_KINDS; k++)
		if (strcmp(s, ev_kind_name((enum ev_kind)k)) == 0)
			return k;
	fprintf(stderr, "tandem: unknown kind \"%s\" (queue, txn, job, log, heartbeat)\n", s);
	exit(2);
}

static uint64_t
u64_from(const char *s, const char *what)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "tandem: %s: \"%s\" is not a number\n", what, s);
		exit(2);
	}
	return v;
}

/* ctl: one request line to the control socket, one reply line back (10 s at most). */
static int
cmd_ctl(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char req[1024] = "", buf[65536];
	struct pollfd pfd;
	size_t have = 0;
	ssize_t n;
	int fd, i;

	if (argc < 4 || strlen(argv[2]) >= sizeof(sun.sun_path))
		usage();
	for (i = 3; i < argc; i++) {
		strncat(req, argv[i], sizeof(req) - strlen(req) - 2);
		strncat(req, i + 1 < argc ? " " : "\n", sizeof(req) - strlen(req) - 1);
	}
	strcpy(sun.sun_path, argv[2]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(argv[2]);
		return 1;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		perror("write");
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (have < sizeof(buf) - 1 && memchr(buf, '\n', have) == NULL) {
		if (poll(&pfd, 1, 10000) <= 0 || (n = read(fd, buf + have,
		    sizeof(buf) - 1 - have)) <= 0) {
			fprintf(stderr, "tandem: no reply from %s\n", argv[2]);
			return 1;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	fputs(buf, stdout);
	close(fd);
	return strstr(buf, "\"ok\":true") != NULL ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "app", required_argument, NULL, 'a' },
		{ "kind", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "max", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .to = UINT64_MAX, .max = UINT64_MAX };
	const char *cmd;
	int ch;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "ctl") == 0)
		return cmd_ctl(argc, argv);
	optind = 2;
	while ((ch = getopt_long(argc, argv, "s:a:k:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.store = optarg; break;
		case 'a': o.app = optarg; break;
		case 'k': o.kind = kind_from(optarg); break;
		case 'F': o.from = u64_from(optarg, "--from"); break;
		case 'T': o.to = u64_from(optarg, "--to"); break;
		case 'n': o.max = u64_from(optarg, "-n"); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (strcmp(cmd, "count") == 0)
		return cmd_count(&o);
	if (strcmp(cmd, "dump") == 0)
		return cmd_dump(&o);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&o);
	if (strcmp(cmd, "digest") == 0)
		return cmd_digest(&o);
	usage();
}
