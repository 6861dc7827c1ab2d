/* Tandem — MIT licence. collectord.conf: sorted keyword table, range-checked values, normalised output. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "collector/collector_conf.h"
#include "common/frame.h"
#include "common/xalloc.h"

struct parse_state {
	struct collector_conf	*conf;
	struct conf_errors	*errs;
};

typedef void (*kw_fn)(struct parse_state *, const struct conf_line *);

struct keyword {
	struct conf_keyword k;	/* first: conf_keyword_find */
	kw_fn		 fn;
};

static void
set_string(char **dst, const char *v)
{
	xfree(*dst);
	*dst = xstrdup(v);
}

#define ERR_BUF	char err[160]

static void
kw_agent_token(struct parse_state *ps, const struct conf_line *l)
{
	struct collector_conf *c = ps->conf;
	struct agent_token *t;

	if (c->n_agent_tokens == MAX_AGENT_TOKENS) {
		conf_error(ps->errs, l, "more than %d agent_token lines", MAX_AGENT_TOKENS);
		return;
	}
	if (strlen(l->argv[1]) > 128 || strlen(l->argv[2]) > 256 || l->argv[2][0] == '\0') {
		conf_error(ps->errs, l, "agent id at most 128 bytes, token 1..256 bytes");
		return;
	}
	t = xrealloc(c->agent_tokens, sizeof(*t) * (size_t)(c->n_agent_tokens + 1));
	if (t == NULL) {
		conf_error(ps->errs, l, "out of memory");
		return;
	}
	c->agent_tokens = t;
	t[c->n_agent_tokens].agent_id = xstrdup(l->argv[1]);
	t[c->n_agent_tokens].token = xstrdup(l->argv[2]);
	c->n_agent_tokens++;
}

#define KW_STRING(fn, field)							\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	if (l->argv[1][0] == '\0')						\
		conf_error(ps->errs, l, "%s: empty value", l->argv[0]);	\
	else									\
		set_string(&ps->conf->field, l->argv[1]);			\
}

CONF_KW_DURATION(kw_hello_timeout, hello_timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)
CONF_KW_DURATION(kw_idle_timeout, idle_timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)
CONF_KW_DURATION(kw_write_timeout, write_timeout_ms, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)
CONF_KW_DURATION(kw_retention, retention_ms, MIN_RETENTION_MS, MAX_RETENTION_MS)
CONF_KW_DURATION(kw_retention_interval, retention_interval_ms, 1000, 86400000)
CONF_KW_DURATION(kw_stats_interval, stats_interval_ms, 0, 86400000)
CONF_KW_DURATION(kw_fold_interval, fold_interval_ms, 10, 60000)
CONF_KW_DURATION(kw_shutdown_grace, shutdown_grace_ms, 0, 600000)
CONF_KW_SIZE(kw_map_size, map_size, MIN_MAP_SIZE, MAX_MAP_SIZE)
CONF_KW_SIZE(kw_frame_max, frame_max, FRAME_MAX_MIN, FRAME_MAX_MAX)
CONF_KW_SIZE(kw_conn_out_max, conn_out_max, MIN_PENDING, MAX_PENDING)
CONF_KW_COUNT(kw_max_connections, max_connections, MIN_CONNECTIONS, MAX_CONNECTIONS)
CONF_KW_COUNT(kw_commit_max_events, commit_max_events, MIN_COMMIT_EVENTS, MAX_COMMIT_EVENTS)
KW_STRING(kw_store, store_path)
KW_STRING(kw_tls_cert, tls_cert)
KW_STRING(kw_tls_key, tls_key)
KW_STRING(kw_tls_client_ca, tls_client_ca)
KW_STRING(kw_stats_file, stats_file)
KW_STRING(kw_control_socket, control_socket)
KW_STRING(kw_repl_tls_cert, repl_tls_cert)
KW_STRING(kw_repl_tls_key, repl_tls_key)
KW_STRING(kw_repl_tls_ca, repl_tls_ca)
CONF_KW_DURATION(kw_repl_timeout, repl_timeout_ms, 10, 600000)
CONF_KW_SIZE(kw_repl_ring, repl_ring_bytes, 1ULL << 20, 16ULL << 30)

static void
kw_ha(struct parse_state *ps, const struct conf_line *l)
{
	ERR_BUF;

	if (conf_get_bool(l->argv[1], &ps->conf->ha, err, sizeof(err)) == -1)
		conf_error(ps->errs, l, "ha: %s", err);
}

static void
kw_ack_mode(struct parse_state *ps, const struct conf_line *l)
{
	if (strcmp(l->argv[1], "replicated") == 0)
		ps->conf->ack_mode_local = 0;
	else if (strcmp(l->argv[1], "local") == 0)
		ps->conf->ack_mode_local = 1;
	else
		conf_error(ps->errs, l, "ack_mode: \"%s\" is not replicated or local",
		    l->argv[1]);
}

static void
kw_repl_listen(struct parse_state *ps, const struct conf_line *l)
{
	ERR_BUF;

	if (conf_get_hostport(l->argv[1], ps->conf->repl_host, sizeof(ps->conf->repl_host),
	    &ps->conf->repl_port, err, sizeof(err)) == -1)
		conf_error(ps->errs, l, "repl_listen: %s", err);
	else
		ps->conf->repl_enabled = 1;
}

static void
kw_token(struct parse_state *ps, const struct conf_line *l)
{
	if (l->argv[1][0] == '\0' || strlen(l->argv[1]) > 256)
		conf_error(ps->errs, l, "token: must be 1..256 bytes");
	else
		set_string(&ps->conf->token, l->argv[1]);
}

static void
kw_node_name(struct parse_state *ps, const struct conf_line *l)
{
	size_t n = strlen(l->argv[1]);

	if (n == 0 || n >= sizeof(ps->conf->node_name))
		conf_error(ps->errs, l, "node_name: must be 1..%zu bytes",
		    sizeof(ps->conf->node_name) - 1);
	else
		memcpy(ps->conf->node_name, l->argv[1], n + 1);
}

static void
kw_listen(struct parse_state *ps, const struct conf_line *l)
{
	ERR_BUF;

	if (conf_get_hostport(l->argv[1], ps->conf->listen_host,
	    sizeof(ps->conf->listen_host), &ps->conf->listen_port, err, sizeof(err)) == -1)
		conf_error(ps->errs, l, "listen: %s", err);
}

static void
kw_listen_tls(struct parse_state *ps, const struct conf_line *l)
{
	ERR_BUF;

	if (conf_get_hostport(l->argv[1], ps->conf->tls_host, sizeof(ps->conf->tls_host),
	    &ps->conf->tls_port, err, sizeof(err)) == -1)
		conf_error(ps->errs, l, "listen_tls: %s", err);
	else
		ps->conf->tls_enabled = 1;
}

/* Sorted by name: looked up with bsearch. */
static const struct keyword keywords[] = {
	{ { "ack_mode",		1 }, kw_ack_mode },
	{ { "agent_token",	2 }, kw_agent_token },
	{ { "commit_max_events",	1 }, kw_commit_max_events },
	{ { "conn_out_max",	1 }, kw_conn_out_max },
	{ { "control_socket",	1 }, kw_control_socket },
	{ { "fold_interval",	1 }, kw_fold_interval },
	{ { "frame_max",		1 }, kw_frame_max },
	{ { "ha",			1 }, kw_ha },
	{ { "hello_timeout",	1 }, kw_hello_timeout },
	{ { "idle_timeout",	1 }, kw_idle_timeout },
	{ { "listen",		1 }, kw_listen },
	{ { "listen_tls",		1 }, kw_listen_tls },
	{ { "map_size",		1 }, kw_map_size },
	{ { "max_connections",	1 }, kw_max_connections },
	{ { "node_name",		1 }, kw_node_name },
	{ { "repl_listen",	1 }, kw_repl_listen },
	{ { "repl_ring",		1 }, kw_repl_ring },
	{ { "repl_timeout",	1 }, kw_repl_timeout },
	{ { "repl_tls_ca",	1 }, kw_repl_tls_ca },
	{ { "repl_tls_cert",	1 }, kw_repl_tls_cert },
	{ { "repl_tls_key",	1 }, kw_repl_tls_key },
	{ { "retention",		1 }, kw_retention },
	{ { "retention_interval",	1 }, kw_retention_interval },
	{ { "shutdown_grace",	1 }, kw_shutdown_grace },
	{ { "stats_file",		1 }, kw_stats_file },
	{ { "stats_interval",	1 }, kw_stats_interval },
	{ { "store",		1 }, kw_store },
	{ { "tls_cert",		1 }, kw_tls_cert },
	{ { "tls_client_ca",	1 }, kw_tls_client_ca },
	{ { "tls_key",		1 }, kw_tls_key },
	{ { "token",		1 }, kw_token },
	{ { "write_timeout",	1 }, kw_write_timeout },
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
collector_conf_init(struct collector_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->node_name, sizeof(c->node_name), "tandem");
	snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
	c->listen_port = 7400;
	snprintf(c->tls_host, sizeof(c->tls_host), "0.0.0.0");
	c->tls_port = 7401;
	c->store_path = xstrdup("/var/lib/tandem");
	c->map_size = 8ULL << 30;
	c->frame_max = FRAME_MAX_DEFAULT;
	c->max_connections = 20000;
	c->conn_out_max = 256 << 10;
	c->hello_timeout_ms = 10000;
	c->idle_timeout_ms = 300000;
	c->write_timeout_ms = 30000;
	c->commit_max_events = 200000;
	c->retention_ms = 7ULL * 86400000;
	c->retention_interval_ms = 60000;
	c->fold_interval_ms = 1000;
	c->stats_interval_ms = 0;
	c->shutdown_grace_ms = 5000;
	c->repl_timeout_ms = 2000;
	c->repl_ring_bytes = 256ULL << 20;
}

static int
token_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_token *)a)->agent_id,
	    ((const struct agent_token *)b)->agent_id);
}

static int
conf_validate(struct collector_conf *c, const char *name, struct conf_errors *errs)
{
	struct conf_line whole = { .file = name, .lineno = 0 };
	int i;

	for (i = 0; i < c->n_agent_tokens; i++)
		if (c->agent_tokens[i].agent_id == NULL || c->agent_tokens[i].token == NULL) {
			conf_error(errs, &whole, "out of memory");
			return -1;
		}
	if (c->n_agent_tokens > 0)
		qsort(c->agent_tokens, (size_t)c->n_agent_tokens, sizeof(*c->agent_tokens),
		    token_cmp);
	for (i = 1; i < c->n_agent_tokens; i++)
		if (strcmp(c->agent_tokens[i - 1].agent_id, c->agent_tokens[i].agent_id) == 0)
			conf_error(errs, &whole, "agent_token: \"%s\" given twice",
			    c->agent_tokens[i].agent_id);
	if (c->tls_enabled && (c->tls_cert == NULL || c->tls_key == NULL))
		conf_error(errs, &whole, "listen_tls needs tls_cert and tls_key");
	if (c->tls_client_ca != NULL && !c->tls_enabled)
		conf_error(errs, &whole, "tls_client_ca without listen_tls");
	if (c->idle_timeout_ms < c->hello_timeout_ms)
		conf_error(errs, &whole, "idle_timeout is shorter than hello_timeout");
	if ((c->repl_tls_cert != NULL) != (c->repl_tls_key != NULL) ||
	    (c->repl_tls_cert != NULL && c->repl_tls_ca == NULL))
		conf_error(errs, &whole, "replication TLS needs repl_tls_cert, repl_tls_key and "
		    "repl_tls_ca (mutual authentication)");
	if (c->ha && (c->control_socket == NULL || !c->repl_enabled))
		conf_error(errs, &whole, "ha needs control_socket and repl_listen");
	return errs->n == 0 ? 0 : -1;
}

int
collector_conf_parse(struct collector_conf *c, char *text, const char *name,
    struct conf_errors *errs)
{
	struct parse_state ps = { c, errs };

	conf_parse_text(text, name, errs, parse_line, &ps);
	if (errs->n > 0)
		return -1;
	return conf_validate(c, name, errs);
}

int
collector_conf_load(struct collector_conf *c, const char *path, struct conf_errors *errs)
{
	char err[256], *text;
	int rv;

	if ((text = conf_read_file(path, err, sizeof(err))) == NULL) {
		conf_error(errs, NULL, "%s", err);
		return -1;
	}
	rv = collector_conf_parse(c, text, path, errs);
	xfree(text);
	return rv;
}

const char *
collector_conf_token_for(const struct collector_conf *c, const char *agent_id)
{
	struct agent_token key = { .agent_id = (char *)agent_id }, *t;

	if (c->n_agent_tokens == 0)
		return c->token;
	t = bsearch(&key, c->agent_tokens, (size_t)c->n_agent_tokens, sizeof(key), token_cmp);
	return t != NULL ? t->token : c->token;
}

void
collector_conf_print(const struct collector_conf *c, FILE *f)
{
	int i;

	conf_print_quoted(f, "node_name", c->node_name);
	fprintf(f, strchr(c->listen_host, ':') ? "listen [%s]:%u\n" : "listen %s:%u\n",
	    c->listen_host, c->listen_port);
	if (c->tls_enabled)
		fprintf(f, strchr(c->tls_host, ':') ? "listen_tls [%s]:%u\n" :
		    "listen_tls %s:%u\n", c->tls_host, c->tls_port);
	if (c->tls_cert)
		conf_print_quoted(f, "tls_cert", c->tls_cert);
	if (c->tls_key)
		conf_print_quoted(f, "tls_key", c->tls_key);
	if (c->tls_client_ca)
		conf_print_quoted(f, "tls_client_ca", c->tls_client_ca);
	conf_print_quoted(f, "store", c->store_path);
	conf_print_size(f, "map_size", c->map_size);
	conf_print_size(f, "frame_max", c->frame_max);
	fprintf(f, "max_connections %" PRIu64 "\n", c->max_connections);
	conf_print_size(f, "conn_out_max", c->conn_out_max);
	conf_print_duration(f, "hello_timeout", c->hello_timeout_ms);
	conf_print_duration(f, "idle_timeout", c->idle_timeout_ms);
	conf_print_duration(f, "write_timeout", c->write_timeout_ms);
	fprintf(f, "commit_max_events %" PRIu64 "\n", c->commit_max_events);
	conf_print_duration(f, "retention", c->retention_ms);
	conf_print_duration(f, "retention_interval", c->retention_interval_ms);
	conf_print_duration(f, "fold_interval", c->fold_interval_ms);
	conf_print_duration(f, "stats_interval", c->stats_interval_ms);
	if (c->stats_file)
		conf_print_quoted(f, "stats_file", c->stats_file);
	conf_print_duration(f, "shutdown_grace", c->shutdown_grace_ms);
	fprintf(f, "ha %s\n", c->ha ? "yes" : "no");
	if (c->control_socket)
		conf_print_quoted(f, "control_socket", c->control_socket);
	if (c->repl_enabled)
		fprintf(f, strchr(c->repl_host, ':') ? "repl_listen [%s]:%u\n" :
		    "repl_listen %s:%u\n", c->repl_host, c->repl_port);
	fprintf(f, "ack_mode %s\n", c->ack_mode_local ? "local" : "replicated");
	conf_print_duration(f, "repl_timeout", c->repl_timeout_ms);
	conf_print_size(f, "repl_ring", c->repl_ring_bytes);
	if (c->repl_tls_cert)
		conf_print_quoted(f, "repl_tls_cert", c->repl_tls_cert);
	if (c->repl_tls_key)
		conf_print_quoted(f, "repl_tls_key", c->repl_tls_key);
	if (c->repl_tls_ca)
		conf_print_quoted(f, "repl_tls_ca", c->repl_tls_ca);
	if (c->token)
		fputs("token \"********\"\n", f);
	for (i = 0; i < c->n_agent_tokens; i++) {
		fputs("agent_token ", f);
		conf_put_quoted(f, c->agent_tokens[i].agent_id);
		fputs(" \"********\"\n", f);
	}
}

void
collector_conf_free(struct collector_conf *c)
{
	int i;

	for (i = 0; i < c->n_agent_tokens; i++) {
		XFREE(c->agent_tokens[i].agent_id);
		XFREE(c->agent_tokens[i].token);
	}
	XFREE(c->agent_tokens);
	c->n_agent_tokens = 0;
	XFREE(c->tls_cert);
	XFREE(c->tls_key);
	XFREE(c->tls_client_ca);
	XFREE(c->store_path);
	XFREE(c->token);
	XFREE(c->stats_file);
	XFREE(c->control_socket);
	XFREE(c->repl_tls_cert);
	XFREE(c->repl_tls_key);
	XFREE(c->repl_tls_ca);
}
