/* Tandem — MIT licence. monitord's client of collectord's control socket: role, alarm state writes. */
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

#include "common/xalloc.h"
#include "monitor/ctl.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
ctl_request(const char *path, const char *line, char *buf, size_t len, int timeout_ms,
    char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	size_t have = 0, off = 0, n = strlen(line);
	int64_t deadline = mono_ms() + timeout_ms, left;
	ssize_t r;
	char *nl;
	int fd, rc = -1;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path missing or too long");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	pfd.fd = fd;
	/* The request, then its newline; a long `alarm put` may need several writes. */
	while (off <= n) {
		const char *p = off < n ? line + off : "\n";
		size_t want = off < n ? n - off : 1;

		if ((left = deadline - mono_ms()) <= 0) {
			snprintf(err, errlen, "%s: request not written within %d ms", path,
			    timeout_ms);
			goto out;
		}
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((r = write(fd, p, want)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)r;
	}
	pfd.events = POLLIN;
	while ((nl = memchr(buf, '\n', have)) == NULL) {
		if (have >= len - 1) {
			snprintf(err, errlen, "%s: reply longer than %zu bytes", path, len - 1);
			goto out;
		}
		if ((left = deadline - mono_ms()) <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			snprintf(err, errlen, "%s: no reply within %d ms", path, timeout_ms);
			goto out;
		}
		if ((r = read(fd, buf + have, len - 1 - have)) <= 0) {
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			snprintf(err, errlen, "%s: closed", path);
			goto out;
		}
		have += (size_t)r;
	}
	*nl = '\0';
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Sends line; 0 if the reply says "ok":true, else -1 with its "error" in err. */
static int
ctl_ok(const char *path, const char *line, int timeout_ms, json_t **reply, char *err,
    size_t errlen)
{
	char buf[4096];
	json_error_t je;
	json_t *j;
	const char *e;

	if (ctl_request(path, line, buf, sizeof(buf), timeout_ms, err, errlen) == -1)
		return -1;
	if ((j = json_loads(buf, 0, &je)) == NULL || !json_is_object(j)) {
		json_decref(j);
		snprintf(err, errlen, "%s: reply did not parse", path);
		return -1;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		e = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "collectord: %s", e != NULL ? e : "refused");
		json_decref(j);
		return -1;
	}
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return 0;
}

int
ctl_role(const char *path, char *role, size_t rolelen, char *err, size_t errlen)
{
	json_t *j;
	const char *r;

	if (ctl_ok(path, "status", CTL_TIMEOUT_MS_DEFAULT, &j, err, errlen) == -1)
		return -1;
	r = json_string_value(json_object_get(j, "role"));
	snprintf(role, rolelen, "%s", r != NULL ? r : "unknown");
	json_decref(j);
	return 0;
}

static char *
hex_append(char *p, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	for (; *s != '\0'; s++) {
		*p++ = digits[(unsigned char)*s >> 4];
		*p++ = digits[(unsigned char)*s & 15];
	}
	return p;
}

static int
ctl_alarm(const char *path, const char *verb, const char *key, const char *val, char *err,
    size_t errlen)
{
	size_t n = strlen("alarm ") + strlen(verb) + 2 + 2 * strlen(key) +
	    (val != NULL ? 2 * strlen(val) : 0) + 1;
	char *line, *p;
	int rc;

	if ((line = xmalloc(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p = line + snprintf(line, n, "alarm %s ", verb);
	p = hex_append(p, key);
	if (val != NULL) {
		*p++ = ' ';
		p = hex_append(p, val);
	}
	*p = '\0';
	rc = ctl_ok(path, line, CTL_ALARM_TIMEOUT_MS, NULL, err, errlen);
	xfree(line);
	return rc;
}

int
ctl_alarm_put(const char *path, const char *key, const char *val, char *err, size_t errlen)
{
	return ctl_alarm(path, "put", key, val, err, errlen);
}

int
ctl_alarm_del(const char *path, const char *key, char *err, size_t errlen)
{
	return ctl_alarm(path, "del", key, NULL, err, errlen);
}
