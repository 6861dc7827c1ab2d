/* Tandem — MIT licence. had.conf: sorted keyword table, range-checked values, normalised output. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "ha/ha_conf.h"

struct parse_state {
	struct ha_conf		*conf;
	struct conf_errors	*errs;
	unsigned		 seen;		/* SEEN_* of required keywords */
};

#define SEEN_NODE	0x01
#define SEEN_CLUSTER	0x02
#define SEEN_PEER	0x04
#define SEEN_BIND	0x08
#define SEEN_KEY	0x10
#define SEEN_IF		0x20
#define SEEN_VIP	0x40
#define SEEN_ALL	0x7f

typedef void (*kw_fn)(struct parse_state *, const struct conf_line *);

struct keyword {
	struct conf_keyword k;	/* first: conf_keyword_find */
	kw_fn		 fn;
};

#define ERR_BUF	char err[160]

static void
set_string(char **dst, const char *v)
{
	xfree(*dst);
	*dst = xstrdup(v);
}

/* "A.B.C.D:PORT" into sa. */
static int
get_inet(const char *s, struct sockaddr_in *sa, int port_zero_ok, char *err, size_t errlen)
{
	char host[64];
	uint16_t port;

	if (conf_get_hostport(s, host, sizeof(host), &port, err, errlen) == -1)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		snprintf(err, errlen, "\"%s\" is not a numeric IPv4 address", host);
		return -1;
	}
	if (port == 0 && !port_zero_ok) {
		snprintf(err, errlen, "port 0 is not allowed here");
		return -1;
	}
	sa->sin_port = htons(port);
	return 0;
}

#define KW_INET(fn, field, flag, zero_ok)					\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	ERR_BUF;								\
	if (get_inet(l->argv[1], &ps->conf->field, zero_ok, err, sizeof(err)) == -1) \
		conf_error(ps->errs, l, "%s: %s", l->argv[0], err);		\
	else									\
		flag;								\
}

#define KW_INT(fn, field, type, min, max, flag)					\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	ERR_BUF;								\
	int64_t v;								\
	if (conf_get_int(l->argv[1], min, max, &v, err, sizeof(err)) == -1)	\
		conf_error(ps->errs, l, "%s: %s", l->argv[0], err);		\
	else {									\
		ps->conf->field = (type)v;					\
		flag;								\
	}									\
}

#define KW_PATH(fn, field, flag)						\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	size_t n = strlen(l->argv[1]);						\
	if (n == 0 || n >= HA_MAX_PATH || l->argv[1][0] != '/')		\
		conf_error(ps->errs, l, "%s: an absolute path of at most %d bytes", \
		    l->argv[0], HA_MAX_PATH - 1);				\
	else {									\
		set_string(&ps->conf->field, l->argv[1]);			\
		flag;								\
	}									\
}

KW_INT(kw_node_id, node_id, uint32_t, 1, UINT32_MAX, ps->seen |= SEEN_NODE)
KW_INT(kw_cluster_id, cluster_id, uint32_t, 1, UINT32_MAX, ps->seen |= SEEN_CLUSTER)
KW_INT(kw_priority, priority, uint8_t, 1, 255, (void)0)
KW_INT(kw_dead_after, dead_after, uint32_t, HA_MIN_DEAD, HA_MAX_DEAD, (void)0)
KW_INT(kw_garp_count, garp_count, uint32_t, HA_MIN_GARP, HA_MAX_GARP, (void)0)
KW_INT(kw_switchover_max_lag, switchover_max_lag, uint64_t, 0, INT64_MAX, (void)0)
KW_INET(kw_peer, peer, ps->seen |= SEEN_PEER, 0)
KW_INET(kw_bind, bind, ps->seen |= SEEN_BIND, 0)
KW_INET(kw_track, track, ps->conf->track_set = 1, 0)
KW_INET(kw_collector_repl, repl, ps->conf->repl_set = 1, 0)
KW_INET(kw_peer_collector_repl, peer_repl, ps->conf->peer_repl_set = 1, 0)
CONF_KW_DURATION(kw_interval, interval_ms, HA_MIN_INTERVAL_MS, HA_MAX_INTERVAL_MS)
CONF_KW_DURATION(kw_dead_skew, dead_skew_ms, 0, 10000)
CONF_KW_DURATION(kw_vip_lifetime, vip_lifetime_ms, HA_MIN_LIFETIME_MS, HA_MAX_LIFETIME_MS)
CONF_KW_DURATION(kw_vip_renew, vip_renew_ms, HA_MIN_RENEW_MS, HA_MAX_LIFETIME_MS)
CONF_KW_DURATION(kw_garp_repeat, garp_repeat_ms, 10, 10000)
CONF_KW_DURATION(kw_garp_refresh, garp_refresh_ms, 0, 86400000)
CONF_KW_DURATION(kw_track_interval, track_interval_ms, 100, 600000)
CONF_KW_DURATION(kw_switchover_timeout, switchover_timeout_ms, 100, 600000)
KW_PATH(kw_auth_key_file, auth_key_file, ps->seen |= SEEN_KEY)
KW_PATH(kw_collector_control, collector_control, (void)0)
KW_PATH(kw_control_socket, control_socket, (void)0)
KW_PATH(kw_state_file, state_file, (void)0)
KW_PATH(kw_stats_file, stats_file, (void)0)

static void
kw_interface(struct parse_state *ps, const struct conf_line *l)
{
	size_t n = strlen(l->argv[1]);

	if (n == 0 || n >= sizeof(ps->conf->ifname) || strchr(l->argv[1], '/') != NULL) {
		conf_error(ps->errs, l, "interface: not an interface name");
		return;
	}
	memcpy(ps->conf->ifname, l->argv[1], n + 1);
	ps->seen |= SEEN_IF;
}

static void
kw_service_ip(struct parse_state *ps, const struct conf_line *l)
{
	char buf[32], *slash;
	int64_t plen = 32;
	ERR_BUF;

	if (strlen(l->argv[1]) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", l->argv[1]);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if (conf_get_int(slash, 1, 32, &plen, err, sizeof(err)) == -1)
			goto bad;
	}
	if (inet_pton(AF_INET, buf, &ps->conf->service_ip) != 1)
		goto bad;
	ps->conf->prefixlen = (uint8_t)plen;
	ps->seen |= SEEN_VIP;
	return;
bad:
	conf_error(ps->errs, l, "service_ip: \"%s\" is not A.B.C.D/PREFIX", l->argv[1]);
}

static void
kw_preempt(struct parse_state *ps, const struct conf_line *l)
{
	ERR_BUF;

	if (conf_get_bool(l->argv[1], &ps->conf->preempt, err, sizeof(err)) == -1)
		conf_error(ps->errs, l, "preempt: %s", err);
}

static void
kw_user(struct parse_state *ps, const struct conf_line *l)
{
	size_t n = strlen(l->argv[1]);

	if (n == 0 || n > 32)
		conf_error(ps->errs, l, "user: 1..32 bytes");
	else
		set_string(&ps->conf->user, l->argv[1]);
}

/* Sorted by name: looked up with bsearch. */
static const struct keyword keywords[] = {
	{ { "auth_key_file",		1 }, kw_auth_key_file },
	{ { "bind",			1 }, kw_bind },
	{ { "cluster_id",			1 }, kw_cluster_id },
	{ { "collector_control",		1 }, kw_collector_control },
	{ { "collector_repl",		1 }, kw_collector_repl },
	{ { "control_socket",		1 }, kw_control_socket },
	{ { "dead_after",			1 }, kw_dead_after },
	{ { "dead_skew",			1 }, kw_dead_skew },
	{ { "garp_count",			1 }, kw_garp_count },
	{ { "garp_refresh",		1 }, kw_garp_refresh },
	{ { "garp_repeat",		1 }, kw_garp_repeat },
	{ { "interface",			1 }, kw_interface },
	{ { "interval",			1 }, kw_interval },
	{ { "node_id",			1 }, kw_node_id },
	{ { "peer",			1 }, kw_peer },
	{ { "peer_collector_repl",	1 }, kw_peer_collector_repl },
	{ { "preempt",			1 }, kw_preempt },
	{ { "priority",			1 }, kw_priority },
	{ { "service_ip",			1 }, kw_service_ip },
	{ { "state_file",			1 }, kw_state_file },
	{ { "stats_file",			1 }, kw_stats_file },
	{ { "switchover_max_lag",		1 }, kw_switchover_max_lag },
	{ { "switchover_timeout",		1 }, kw_switchover_timeout },
	{ { "track",			1 }, kw_track },
	{ { "track_interval",		1 }, kw_track_interval },
	{ { "user",			1 }, kw_user },
	{ { "vip_lifetime",		1 }, kw_vip_lifetime },
	{ { "vip_renew",			1 }, kw_vip_renew },
};

static void
parse_line(const struct conf_line *l, void *arg)
{
	struct parse_state *ps = arg;
	const struct keyword *kw;

	kw = conf_keyword_find(keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), l, ps->errs);
	if (kw != NULL)
		kw->fn(ps, l);
}

void
ha_conf_init(struct ha_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->priority = 100;
	c->interval_ms = 100;
	c->dead_after = 3;
	c->dead_skew_ms = 0;
	c->vip_lifetime_ms = 2000;
	c->vip_renew_ms = 500;
	c->garp_count = 3;
	c->garp_repeat_ms = 200;
	c->garp_refresh_ms = 10000;
	c->track_interval_ms = 1000;
	c->switchover_max_lag = 1000;
	c->switchover_timeout_ms = 5000;
	c->control_socket = xstrdup("/run/tandem/had.sock");
	c->state_file = xstrdup("/var/lib/tandem/had.state");
	c->user = xstrdup("nobody");
}

static int
conf_validate(struct ha_conf *c, const char *name, struct parse_state *ps)
{
	struct conf_line whole = { .file = name, .lineno = 0 };
	static const struct { unsigned bit; const char *kw; } req[] = {
		{ SEEN_NODE, "node_id" }, { SEEN_CLUSTER, "cluster_id" }, { SEEN_PEER, "peer" },
		{ SEEN_BIND, "bind" }, { SEEN_KEY, "auth_key_file" }, { SEEN_IF, "interface" },
		{ SEEN_VIP, "service_ip" },
	};
	size_t i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(ps->seen & req[i].bit))
			conf_error(ps->errs, &whole, "%s is required", req[i].kw);
	if (c->control_socket == NULL || c->state_file == NULL || c->user == NULL)
		conf_error(ps->errs, &whole, "out of memory");
	if (c->vip_lifetime_ms % 1000 != 0)
		conf_error(ps->errs, &whole, "vip_lifetime: whole seconds only");
	if (c->vip_renew_ms * 2 > c->vip_lifetime_ms)
		conf_error(ps->errs, &whole, "vip_renew must be at most half of vip_lifetime");
	if (c->interval_ms > 65535)
		conf_error(ps->errs, &whole, "interval: at most 65535ms (the heartbeat's field)");
	if (c->peer_repl_set && !c->repl_set)
		conf_error(ps->errs, &whole, "peer_collector_repl without collector_repl");
	if (c->collector_control != NULL && !c->repl_set)
		conf_error(ps->errs, &whole, "collector_control needs collector_repl (the "
		    "standby's collector is told whom to follow)");
	if (c->repl_set && c->collector_control == NULL)
		conf_error(ps->errs, &whole, "collector_repl without collector_control");
	if (c->repl_set && !c->peer_repl_set) {
		/* The pair mirrors: the peer's listener is on the peer's host, same port. */
		c->peer_repl = c->repl;
		c->peer_repl.sin_addr = c->peer.sin_addr;
	}
	return ps->errs->n == 0 ? 0 : -1;
}

int
ha_conf_parse(struct ha_conf *c, char *text, const char *name, struct conf_errors *errs)
{
	struct parse_state ps = { c, errs, 0 };

	conf_parse_text(text, name, errs, parse_line, &ps);
	if (errs->n > 0)
		return -1;
	return conf_validate(c, name, &ps);
}

int
ha_conf_load(struct ha_conf *c, const char *path, struct conf_errors *errs)
{
	char err[256], *text;
	int rv;

	if ((text = conf_read_file(path, err, sizeof(err))) == NULL) {
		conf_error(errs, NULL, "%s", err);
		return -1;
	}
	rv = ha_conf_parse(c, text, path, errs);
	xfree(text);
	return rv;
}

static void
put_inet(FILE *f, const char *kw, const struct sockaddr_in *sa)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a));
	fprintf(f, "%s %s:%u\n", kw, a, ntohs(sa->sin_port));
}

void
ha_conf_print(const struct ha_conf *c, FILE *f)
{
	char a[INET_ADDRSTRLEN];

	conf_print_quoted(f, "auth_key_file", c->auth_key_file);
	put_inet(f, "bind", &c->bind);
	fprintf(f, "cluster_id %" PRIu32 "\n", c->cluster_id);
	if (c->collector_control != NULL)
		conf_print_quoted(f, "collector_control", c->collector_control);
	if (c->repl_set)
		put_inet(f, "collector_repl", &c->repl);
	conf_print_quoted(f, "control_socket", c->control_socket);
	fprintf(f, "dead_after %" PRIu32 "\n", c->dead_after);
	conf_print_duration(f, "dead_skew", c->dead_skew_ms);
	fprintf(f, "garp_count %" PRIu32 "\n", c->garp_count);
	conf_print_duration(f, "garp_refresh", c->garp_refresh_ms);
	conf_print_duration(f, "garp_repeat", c->garp_repeat_ms);
	conf_print_quoted(f, "interface", c->ifname);
	conf_print_duration(f, "interval", c->interval_ms);
	fprintf(f, "node_id %" PRIu32 "\n", c->node_id);
	put_inet(f, "peer", &c->peer);
	if (c->repl_set)
		put_inet(f, "peer_collector_repl", &c->peer_repl);
	fprintf(f, "preempt %s\n", c->preempt ? "yes" : "no");
	fprintf(f, "priority %u\n", c->priority);
	inet_ntop(AF_INET, &c->service_ip, a, sizeof(a));
	fprintf(f, "service_ip %s/%u\n", a, c->prefixlen);
	conf_print_quoted(f, "state_file", c->state_file);
	if (c->stats_file != NULL)
		conf_print_quoted(f, "stats_file", c->stats_file);
	fprintf(f, "switchover_max_lag %" PRIu64 "\n", c->switchover_max_lag);
	conf_print_duration(f, "switchover_timeout", c->switchover_timeout_ms);
	if (c->track_set)
		put_inet(f, "track", &c->track);
	conf_print_duration(f, "track_interval", c->track_interval_ms);
	conf_print_quoted(f, "user", c->user);
	conf_print_duration(f, "vip_lifetime", c->vip_lifetime_ms);
	conf_print_duration(f, "vip_renew", c->vip_renew_ms);
}

void
ha_conf_free(struct ha_conf *c)
{
	XFREE(c->auth_key_file);
	XFREE(c->collector_control);
	XFREE(c->control_socket);
	XFREE(c->state_file);
	XFREE(c->stats_file);
	XFREE(c->user);
}
