/* Tandem — MIT licence. Notice delivery: libcurl multi on the libevent loop, webhooks and SMTP, retries. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "monitor/alarm_engine.h"
#include "monitor/notify.h"

struct notify_job {
	struct notify		*n;
	uint64_t		 id;
	struct ae_receiver	 rcv;
	CURL			*easy;
	struct curl_slist	*list;		/* headers (webhook) or recipients (SMTP) */
	char			*payload;	/* JSON body, or the whole mail */
	size_t			 len, off;
	int			 attempts;
	struct event		*retry_ev;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 mail_from[AE_ADDR_MAX + 2];	/* "<from>" */
	struct notify_job	*next;
};

/* One socket libcurl watches. */
struct notify_sock {
	struct event	*ev;
	curl_socket_t	 fd;
	int		 what;
};

struct notify {
	struct event_base	*base;
	struct notify_conf	 conf;
	CURLM			*multi;
	struct event		*timer;
	struct notify_job	*jobs;
	int			 njobs;
	void			(*done)(void *, uint64_t, int, int, const char *);
	void			*arg;
	struct notify_stats	 stats;
};

static void check_done(struct notify *);

void
notify_conf_default(struct notify_conf *c)
{
	c->timeout_ms = 10000;
	c->attempts = 3;
	c->backoff_ms = 1000;
}

const struct notify_stats *
notify_stats(const struct notify *n)
{
	return &n->stats;
}

/* libevent -> libcurl. */

static void
sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(n->multi, fd, flags, &running);
	check_done(n);
	if (running == 0)
		evtimer_del(n->timer);
}

static void
timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running;

	curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(n);
}

/* libcurl -> libevent: which sockets to watch, and when to call back. */

static int
multi_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct notify *n = userp;
	struct notify_sock *s = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			xfree(s);
			curl_multi_assign(n->multi, fd, NULL);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (s == NULL) {
		if ((s = xcalloc(1, sizeof(*s))) == NULL)
			return -1;
		curl_multi_assign(n->multi, fd, s);
	} else if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	s->fd = fd;
	s->what = what;
	if ((s->ev = event_new(n->base, fd, kind, sock_event_cb, n)) == NULL ||
	    event_add(s->ev, NULL) == -1)
		return -1;
	return 0;
}

static int
multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct notify *n = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(n->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	/* 0 means "at once": from the loop, never from inside this callback. */
	evtimer_add(n->timer, &tv);
	return 0;
}

static size_t
discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct notify_job *j = arg;
	size_t room = size * nmemb, left = j->len - j->off;

	if (room > left)
		room = left;
	memcpy(buf, j->payload + j->off, room);
	j->off += room;
	return room;
}

static void
job_unlink(struct notify_job *j)
{
	struct notify_job **pp;

	for (pp = &j->n->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			j->n->njobs--;
			return;
		}
}

static void
job_free(struct notify_job *j)
{
	if (j->easy != NULL) {
		curl_multi_remove_handle(j->n->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	curl_slist_free_all(j->list);
	if (j->retry_ev != NULL)
		event_free(j->retry_ev);
	xfree(j->payload);
	xfree(j);
}

/* A fresh easy handle for one attempt. 0 or -1. */
static int
job_start(struct notify_job *j)
{
	struct notify *n = j->n;
	CURL *e;

	if (j->easy != NULL) {
		curl_multi_remove_handle(n->multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	if ((e = curl_easy_init()) == NULL)
		return -1;
	j->easy = e;
	j->off = 0;
	j->errbuf[0] = '\0';
	j->attempts++;
	n->stats.attempts++;
	curl_easy_setopt(e, CURLOPT_URL, j->rcv.url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, n->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, n->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
	if (j->rcv.type == AE_RCV_WEBHOOK) {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->list);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->payload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->len);
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, j->mail_from);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->list);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)j->len);
	}
	if (curl_multi_add_handle(n->multi, e) != CURLM_OK)
		return -1;
	return 0;
}

static void
job_finish(struct notify_job *j, int ok, const char *error)
{
	struct notify *n = j->n;
	void (*done)(void *, uint64_t, int, int, const char *) = n->done;
	void *arg = n->arg;
	uint64_t id = j->id;
	int attempts = j->attempts;
	char err[CURL_ERROR_SIZE + 64];

	snprintf(err, sizeof(err), "%s", error != NULL ? error : "");
	if (ok)
		n->stats.sent++;
	else
		n->stats.failed++;
	job_unlink(j);
	job_free(j);
	if (done != NULL)
		done(arg, id, ok, attempts, err);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify_job *j = arg;

	if (job_start(j) == -1)
		job_finish(j, 0, "could not start a transfer");
}

/* Transfers that ended: success, a retry after a back-off, or the last failure. */
static void
check_done(struct notify *n)
{
	struct notify_job *j;
	struct timeval tv;
	CURLMsg *msg;
	long code = 0, delay;
	int left, ok, i;
	char why[CURL_ERROR_SIZE + 64];

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		j = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j == NULL)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (msg->data.result != CURLE_OK) {
			ok = 0;
			snprintf(why, sizeof(why), "%s", j->errbuf[0] ? j->errbuf :
			    curl_easy_strerror(msg->data.result));
		} else if (j->rcv.type == AE_RCV_WEBHOOK && (code < 200 || code > 299)) {
			ok = 0;
			snprintf(why, sizeof(why), "HTTP status %ld", code);
		} else
			ok = 1;
		if (ok || j->attempts >= n->conf.attempts) {
			job_finish(j, ok, ok ? NULL : why);
			continue;
		}
		n->stats.retries++;
		log_debug("notice %" PRIu64 " to %s: attempt %d failed (%s), retrying", j->id,
		    j->rcv.name, j->attempts, why);
		curl_multi_remove_handle(n->multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
		for (delay = n->conf.backoff_ms, i = 1; i < j->attempts && delay < 300000; i++)
			delay *= 2;
		tv.tv_sec = delay / 1000;
		tv.tv_usec = (delay % 1000) * 1000;
		if (j->retry_ev == NULL && (j->retry_ev = evtimer_new(n->base, retry_cb, j)) == NULL)
			job_finish(j, 0, "out of memory");
		else
			evtimer_add(j->retry_ev, &tv);
	}
}

struct notify *
notify_new(struct event_base *base, const struct notify_conf *conf,
    void (*done)(void *, uint64_t, int, int, const char *), void *arg)
{
	struct notify *n;

	if ((n = xcalloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->base = base;
	n->conf = *conf;
	n->done = done;
	n->arg = arg;
	if ((n->multi = curl_multi_init()) == NULL ||
	    (n->timer = evtimer_new(base, timer_event_cb, n)) == NULL) {
		notify_free(n);
		return NULL;
	}
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, multi_sock_cb);
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
	return n;
}

void
notify_free(struct notify *n)
{
	struct notify_job *j;

	if (n == NULL)
		return;
	while ((j = n->jobs) != NULL) {
		n->jobs = j->next;
		job_free(j);
	}
	if (n->multi != NULL)
		curl_multi_cleanup(n->multi);
	if (n->timer != NULL)
		event_free(n->timer);
	xfree(n);
}

/* The mail: headers, a blank line, the body with CRLF line ends. NULL on failure. */
static char *
mail_build(const struct ae_receiver *rc, uint64_t id, const char *subject,
    const char *body, size_t *len)
{
	size_t cap = strlen(subject) + 2 * strlen(body) + 1024, off;
	char date[64], *m, *sub;
	time_t now = time(NULL);
	struct tm tm;
	const char *p;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((m = xmalloc(cap)) == NULL || (sub = xstrdup(subject)) == NULL) {
		xfree(m);
		return NULL;
	}
	for (char *c = sub; *c != '\0'; c++)	/* no header injection through names */
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	off = (size_t)snprintf(m, cap, "Date: %s\r\nTo: <%s>\r\nFrom: <%s>\r\n"
	    "Subject: %s\r\nMessage-ID: <tandem-notice-%" PRIu64 "@tandem>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
	    date, rc->to, rc->from, sub, id);
	xfree(sub);
	for (p = body; *p != '\0' && off + 3 < cap; p++) {
		if (*p == '\n')
			m[off++] = '\r';
		m[off++] = *p;
	}
	m[off] = '\0';
	*len = off;
	return m;
}

int
notify_send(struct notify *n, uint64_t id, const struct ae_receiver *rc, const char *subject,
    const char *json_body, const char *text_body)
{
	struct notify_job *j;
	char rcpt[AE_ADDR_MAX + 2];

	if (n->njobs >= NOTIFY_INFLIGHT_MAX) {
		n->stats.refused++;
		return -1;
	}
	if ((j = xcalloc(1, sizeof(*j))) == NULL)
		return -1;
	j->n = n;
	j->id = id;
	j->rcv = *rc;
	if (rc->type == AE_RCV_WEBHOOK) {
		j->payload = xstrdup(json_body);
		j->len = j->payload != NULL ? strlen(j->payload) : 0;
		j->list = curl_slist_append(NULL, "Content-Type: application/json");
	} else {
		j->payload = mail_build(rc, id, subject, text_body, &j->len);
		snprintf(rcpt, sizeof(rcpt), "<%s>", rc->to);
		j->list = curl_slist_append(NULL, rcpt);
		snprintf(j->mail_from, sizeof(j->mail_from), "<%s>", rc->from);
	}
	if (j->payload == NULL || j->list == NULL) {
		job_free(j);
		return -1;
	}
	j->next = n->jobs;
	n->jobs = j;
	n->njobs++;
	if (job_start(j) == -1) {
		job_unlink(j);
		job_free(j);
		return -1;
	}
	n->stats.queued++;
	return 0;
}
