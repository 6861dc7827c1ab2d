/* Tandem — MIT licence. monitord.conf: sorted keyword table, range-checked values, normalised output. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "monitor/monitor_conf.h"

struct parse_state {
	struct monitor_conf	*conf;
	struct conf_errors	*errs;
};

struct keyword {
	struct conf_keyword k;	/* first: conf_keyword_find */
	void		(*fn)(struct parse_state *, const struct conf_line *);
};

#define ERR_BUF	char err[160]

#define KW_STRING(fn, field)							\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	if (l->argv[1][0] == '\0' || strlen(l->argv[1]) > 4000)			\
		conf_error(ps->errs, l, "%s: 1..4000 bytes", l->argv[0]);	\
	else {									\
		xfree(ps->conf->field);						\
		ps->conf->field = xstrdup(l->argv[1]);				\
	}									\
}

KW_STRING(kw_store, store_path)
KW_STRING(kw_assets, assets_dir)
KW_STRING(kw_stats_file, stats_file)
KW_STRING(kw_ha_stats_file, ha_stats_file)
KW_STRING(kw_control_socket, control_socket)
CONF_KW_SIZE(kw_max_headers, max_headers, MIN_HTTP_SIZE, MAX_HTTP_SIZE)
CONF_KW_SIZE(kw_max_body, max_body, MIN_HTTP_SIZE, MAX_HTTP_SIZE)
CONF_KW_DURATION(kw_http_timeout, http_timeout_ms, MIN_HTTP_TIMEOUT_MS, MAX_HTTP_TIMEOUT_MS)
CONF_KW_DURATION(kw_growth_window, growth_window_ms, MIN_WINDOW_MS, MAX_WINDOW_MS)
CONF_KW_COUNT(kw_growth_floor, growth_floor, MIN_FLOOR, MAX_FLOOR)
CONF_KW_COUNT(kw_stuck_factor, stuck_factor, MIN_STUCK_FACTOR, MAX_STUCK_FACTOR)
CONF_KW_DURATION(kw_stuck_min, stuck_min_ms, 100, MAX_WINDOW_MS)
CONF_KW_DURATION(kw_stuck_idle, stuck_idle_ms, 1000, MAX_WINDOW_MS)
CONF_KW_DURATION(kw_silent_after, silent_after_ms, 1000, MAX_WINDOW_MS)
CONF_KW_DURATION(kw_refresh_interval, refresh_interval_ms, 100, 3600000)
CONF_KW_DURATION(kw_alarm_interval, alarm_interval_ms, MIN_ALARM_INTERVAL_MS, MAX_ALARM_INTERVAL_MS)
CONF_KW_DURATION(kw_notify_timeout, notify_timeout_ms, 100, 600000)
CONF_KW_DURATION(kw_notify_backoff, notify_backoff_ms, 10, 3600000)
CONF_KW_COUNT(kw_notify_attempts, notify_attempts, MIN_NOTIFY_ATTEMPTS, MAX_NOTIFY_ATTEMPTS)

/* rule NAME key=value ...: the syntax is alarm_engine's (monitor/alarm_engine.h). */
static void
kw_rule(struct parse_state *ps, const struct conf_line *l)
{
	struct monitor_conf *c = ps->conf;
	struct ae_rule r, *nr;
	int *nl, i;
	char err[256];

	if (l->argc < 3) {
		conf_error(ps->errs, l, "usage: rule NAME type=... [key=value ...]");
		return;
	}
	if (ae_rule_parse(&r, l->argv[1], l->argc - 2, l->argv + 2, err, sizeof(err)) == -1) {
		conf_error(ps->errs, l, "rule: %s", err);
		return;
	}
	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].r.name, r.r.name) == 0) {
			conf_error(ps->errs, l, "rule %s: defined twice", r.r.name);
			return;
		}
	if (c->nrules == AE_RULES_MAX ||
	    (nr = xrealloc(c->rules, (size_t)(c->nrules + 1) * sizeof(*nr))) == NULL) {
		conf_error(ps->errs, l, "rule: at most %d rules", AE_RULES_MAX);
		return;
	}
	c->rules = nr;
	if ((nl = xrealloc(c->rule_lines, (size_t)(c->nrules + 1) * sizeof(*nl))) == NULL) {
		conf_error(ps->errs, l, "rule: out of memory");
		return;
	}
	c->rule_lines = nl;
	c->rules[c->nrules] = r;
	c->rule_lines[c->nrules++] = l->lineno;
}

/* receiver NAME webhook URL | receiver NAME smtp smtp://HOST:PORT FROM TO */
static void
kw_receiver(struct parse_state *ps, const struct conf_line *l)
{
	struct monitor_conf *c = ps->conf;
	struct ae_receiver rc, *nr;
	int i;
	char err[256];

	if (ae_receiver_parse(&rc, l->argc - 1, l->argv + 1, err, sizeof(err)) == -1) {
		conf_error(ps->errs, l, "%s", err);
		return;
	}
	for (i = 0; i < c->nreceivers; i++)
		if (strcmp(c->receivers[i].name, rc.name) == 0) {
			conf_error(ps->errs, l, "receiver %s: defined twice", rc.name);
			return;
		}
	if (c->nreceivers == AE_RECEIVERS_MAX ||
	    (nr = xrealloc(c->receivers, (size_t)(c->nreceivers + 1) * sizeof(*nr))) == NULL) {
		conf_error(ps->errs, l, "receiver: at most %d receivers", AE_RECEIVERS_MAX);
		return;
	}
	c->receivers = nr;
	c->receivers[c->nreceivers++] = rc;
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
kw_token(struct parse_state *ps, const struct conf_line *l)
{
	if (l->argv[1][0] == '\0' || strlen(l->argv[1]) > 256)
		conf_error(ps->errs, l, "token: must be 1..256 bytes");
	else {
		xfree(ps->conf->token);
		ps->conf->token = xstrdup(l->argv[1]);
	}
}

/* Sorted by name: looked up with bsearch. */
static const struct keyword keywords[] = {
	{ { "alarm_interval",	1 }, kw_alarm_interval },
	{ { "assets",		1 }, kw_assets },
	{ { "control_socket",	1 }, kw_control_socket },
	{ { "growth_floor",	1 }, kw_growth_floor },
	{ { "growth_window",	1 }, kw_growth_window },
	{ { "ha_stats_file",	1 }, kw_ha_stats_file },
	{ { "http_timeout",	1 }, kw_http_timeout },
	{ { "listen",		1 }, kw_listen },
	{ { "max_body",		1 }, kw_max_body },
	{ { "max_headers",	1 }, kw_max_headers },
	{ { "notify_attempts",	1 }, kw_notify_attempts },
	{ { "notify_backoff",	1 }, kw_notify_backoff },
	{ { "notify_timeout",	1 }, kw_notify_timeout },
	{ { "receiver",		-1 }, kw_receiver },
	{ { "refresh_interval",	1 }, kw_refresh_interval },
	{ { "rule",		-1 }, kw_rule },
	{ { "silent_after",	1 }, kw_silent_after },
	{ { "stats_file",		1 }, kw_stats_file },
	{ { "store",		1 }, kw_store },
	{ { "stuck_factor",	1 }, kw_stuck_factor },
	{ { "stuck_idle",		1 }, kw_stuck_idle },
	{ { "stuck_min",		1 }, kw_stuck_min },
	{ { "token",		1 }, kw_token },
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
monitor_conf_init(struct monitor_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8080;
	c->store_path = xstrdup("/var/lib/tandem");
	c->max_headers = 8 << 10;
	c->max_body = 64 << 10;
	c->http_timeout_ms = 10000;
	c->growth_window_ms = 15 * 60000;
	c->growth_floor = 10;
	c->stuck_factor = 3;
	c->stuck_min_ms = 10000;
	c->stuck_idle_ms = 3600000;
	c->silent_after_ms = 60000;
	c->refresh_interval_ms = 1000;
	c->alarm_interval_ms = 5000;
	c->notify_timeout_ms = 10000;
	c->notify_attempts = 3;
	c->notify_backoff_ms = 1000;
}

int
monitor_conf_parse(struct monitor_conf *c, char *text, const char *name,
    struct conf_errors *errs)
{
	struct parse_state ps = { c, errs };
	int i, k, j;

	conf_parse_text(text, name, errs, parse_line, &ps);
	/* Rules may name receivers defined further down: checked once the file is read. */
	for (i = 0; i < c->nrules; i++)
		for (k = 0; k < c->rules[i].nreceivers; k++) {
			struct conf_line at = { .file = name, .lineno = c->rule_lines[i] };

			for (j = 0; j < c->nreceivers; j++)
				if (strcmp(c->receivers[j].name, c->rules[i].receivers[k]) == 0)
					break;
			if (j == c->nreceivers)
				conf_error(errs, &at, "rule %s: no receiver \"%s\"",
				    c->rules[i].r.name, c->rules[i].receivers[k]);
		}
	return errs->n == 0 ? 0 : -1;
}

int
monitor_conf_load(struct monitor_conf *c, const char *path, struct conf_errors *errs)
{
	struct conf_line whole = { .file = path, .lineno = 0 };
	char err[256], *text;
	int rc;

	if ((text = conf_read_file(path, err, sizeof(err))) == NULL) {
		conf_error(errs, &whole, "%s", err);
		return -1;
	}
	rc = monitor_conf_parse(c, text, path, errs);
	xfree(text);
	return rc;
}

void
monitor_conf_print(const struct monitor_conf *c, FILE *f)
{
	fprintf(f, strchr(c->listen_host, ':') ? "listen [%s]:%u\n" : "listen %s:%u\n",
	    c->listen_host, c->listen_port);
	conf_print_quoted(f, "store", c->store_path);
	if (c->stats_file)
		conf_print_quoted(f, "stats_file", c->stats_file);
	if (c->ha_stats_file)
		conf_print_quoted(f, "ha_stats_file", c->ha_stats_file);
	if (c->control_socket)
		conf_print_quoted(f, "control_socket", c->control_socket);
	if (c->assets_dir)
		conf_print_quoted(f, "assets", c->assets_dir);
	if (c->token)
		fputs("token \"********\"\n", f);
	conf_print_size(f, "max_headers", c->max_headers);
	conf_print_size(f, "max_body", c->max_body);
	conf_print_duration(f, "http_timeout", c->http_timeout_ms);
	conf_print_duration(f, "growth_window", c->growth_window_ms);
	fprintf(f, "growth_floor %" PRIu64 "\n", c->growth_floor);
	fprintf(f, "stuck_factor %" PRIu64 "\n", c->stuck_factor);
	conf_print_duration(f, "stuck_min", c->stuck_min_ms);
	conf_print_duration(f, "stuck_idle", c->stuck_idle_ms);
	conf_print_duration(f, "silent_after", c->silent_after_ms);
	conf_print_duration(f, "refresh_interval", c->refresh_interval_ms);
	conf_print_duration(f, "alarm_interval", c->alarm_interval_ms);
	conf_print_duration(f, "notify_timeout", c->notify_timeout_ms);
	fprintf(f, "notify_attempts %" PRIu64 "\n", c->notify_attempts);
	conf_print_duration(f, "notify_backoff", c->notify_backoff_ms);
	for (int i = 0; i < c->nreceivers; i++) {
		const struct ae_receiver *rc = &c->receivers[i];

		if (rc->type == AE_RCV_WEBHOOK)
			fprintf(f, "receiver %s webhook \"%s\"\n", rc->name, rc->url);
		else
			fprintf(f, "receiver %s smtp \"%s\" \"%s\" \"%s\"\n", rc->name, rc->url,
			    rc->from, rc->to);
	}
	for (int i = 0; i < c->nrules; i++)
		fprintf(f, "rule %s %s\n", c->rules[i].r.name, c->rules[i].spec);
}

void
monitor_conf_free(struct monitor_conf *c)
{
	XFREE(c->store_path);
	XFREE(c->stats_file);
	XFREE(c->ha_stats_file);
	XFREE(c->control_socket);
	XFREE(c->assets_dir);
	XFREE(c->token);
	XFREE(c->rules);
	XFREE(c->rule_lines);
	XFREE(c->receivers);
	c->nrules = c->nreceivers = 0;
}
