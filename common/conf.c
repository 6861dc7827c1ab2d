/* Tandem — MIT licence. Config tokenizer and typed value parsers; strict, with file:line errors. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/xalloc.h"

#define CONF_FILE_MAX	(1024 * 1024)

void
conf_error(struct conf_errors *e, const struct conf_line *l, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (e->n < CONF_MAX_ERRORS && l != NULL && l->lineno > 0)
		snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s:%d: %s", l->file, l->lineno, buf);
	else if (e->n < CONF_MAX_ERRORS)
		snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s: %s", l ? l->file : "-", buf);
	e->n++;
}

/* Splits one NUL-terminated line into words. 0, or -1 with the error recorded. */
static int
conf_split_line(char *p, struct conf_line *l, struct conf_errors *errs)
{
	char *w, *o;

	l->argc = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (l->argc == CONF_MAX_ARGS) {
			conf_error(errs, l, "more than %d words on one line", CONF_MAX_ARGS);
			return -1;
		}
		if (*p == '"') {
			w = o = ++p;
			while (*p != '"' && *p != '\0') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				*o++ = *p++;
			}
			if (*p != '"') {
				conf_error(errs, l, "unterminated quoted string");
				return -1;
			}
			p++;
			if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#') {
				conf_error(errs, l, "text right after a closing quote");
				return -1;
			}
			*o = '\0';
		} else {
			w = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
				p++;
			if (*p == '#') {
				*p = '\0';
				l->argv[l->argc++] = w;
				return 0;
			}
			if (*p != '\0')
				*p++ = '\0';
		}
		l->argv[l->argc++] = w;
	}
}

int
conf_parse_text(char *text, const char *file, struct conf_errors *errs,
    void (*cb)(const struct conf_line *, void *), void *arg)
{
	struct conf_line l;
	char *p = text, *nl;
	int before = errs->n;

	l.file = file;
	l.lineno = 0;
	while (*p != '\0') {
		l.lineno++;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if (conf_split_line(p, &l, errs) == 0 && l.argc > 0)
			cb(&l, arg);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return errs->n - before;
}

char *
conf_read_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 MiB", path);
		goto fail;
	}
	if ((buf = xmalloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: read failed", path);
			goto fail;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	if (strlen(buf) != off) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto fail;
	}
	close(fd);
	return buf;
fail:
	xfree(buf);
	close(fd);
	return NULL;
}

static int
get_u64(const char *s, uint64_t *v, const char **rest)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	*rest = end;
	return 0;
}

int
conf_get_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		snprintf(err, errlen, "\"%s\" is not an integer", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%lld is out of range %" PRId64 "..%" PRId64, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
conf_get_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
    size_t errlen)
{
	uint64_t v, mul = 1;
	const char *rest;

	if (get_u64(s, &v, &rest) == -1)
		goto bad;
	switch (*rest) {
	case '\0':			break;
	case 'K': case 'k':	mul = 1ULL << 10; rest++; break;
	case 'M': case 'm':	mul = 1ULL << 20; rest++; break;
	case 'G': case 'g':	mul = 1ULL << 30; rest++; break;
	case 'T': case 't':	mul = 1ULL << 40; rest++; break;
	default:		goto bad;
	}
	if (*rest == 'B' || *rest == 'b')
		rest++;
	if (*rest != '\0' || (v != 0 && mul > UINT64_MAX / v))
		goto bad;
	v *= mul;
	if (v < min || v > max) {
		char a[32], b[32];

		conf_fmt_size(a, sizeof(a), min);
		conf_fmt_size(b, sizeof(b), max);
		snprintf(err, errlen, "size %s is out of range %s..%s", s, a, b);
		return -1;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not a size (like 64K, 16M, 8G)", s);
	return -1;
}

int
conf_get_duration(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out, char *err,
    size_t errlen)
{
	uint64_t v, mul;
	const char *rest;

	if (get_u64(s, &v, &rest) == -1)
		goto bad;
	if (strcmp(rest, "ms") == 0)
		mul = 1;
	else if (strcmp(rest, "s") == 0 || *rest == '\0')
		mul = 1000;
	else if (strcmp(rest, "m") == 0)
		mul = 60000;
	else if (strcmp(rest, "h") == 0)
		mul = 3600000;
	else if (strcmp(rest, "d") == 0)
		mul = 86400000;
	else
		goto bad;
	if (v != 0 && mul > UINT64_MAX / v)
		goto bad;
	v *= mul;
	if (v < min_ms || v > max_ms) {
		char a[32], b[32];

		conf_fmt_duration(a, sizeof(a), min_ms);
		conf_fmt_duration(b, sizeof(b), max_ms);
		snprintf(err, errlen, "duration %s is out of range %s..%s", s, a, b);
		return -1;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not a duration (like 250ms, 10s, 5m, 7d)", s);
	return -1;
}

int
conf_get_bool(const char *s, int *out, char *err, size_t errlen)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "on") == 0 || strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "off") == 0 || strcmp(s, "false") == 0)
		*out = 0;
	else {
		snprintf(err, errlen, "\"%s\" is not yes or no", s);
		return -1;
	}
	return 0;
}

int
conf_get_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, char *err,
    size_t errlen)
{
	const char *colon, *h = s;
	size_t hl;
	int64_t p;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		goto bad;
	if (conf_get_int(colon + 1, 0, 65535, &p, err, errlen) == -1)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not host:port", s);
	return -1;
}

void
conf_fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 4; i >= 1; i--) {
		uint64_t m = 1ULL << (10 * i);

		if (v != 0 && v % m == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", v / m, units[i - 1]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, v);
}

void
conf_fmt_duration(char *buf, size_t len, uint64_t ms)
{
	if (ms != 0 && ms % 86400000 == 0)
		snprintf(buf, len, "%" PRIu64 "d", ms / 86400000);
	else if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}

static int
keyword_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct conf_keyword *)elem)->name);
}

const void *
conf_keyword_find(const void *table, size_t n, size_t size, const struct conf_line *l,
    struct conf_errors *errs)
{
	const struct conf_keyword *kw;

	if ((kw = bsearch(l->argv[0], table, n, size, keyword_cmp)) == NULL) {
		conf_error(errs, l, "unknown keyword \"%s\"", l->argv[0]);
		return NULL;
	}
	if (kw->nargs >= 0 && l->argc - 1 != kw->nargs) {
		conf_error(errs, l, "%s takes %d argument%s, got %d", kw->name, kw->nargs,
		    kw->nargs == 1 ? "" : "s", l->argc - 1);
		return NULL;
	}
	return kw;
}

void
conf_put_quoted(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

void
conf_print_quoted(FILE *f, const char *kw, const char *v)
{
	fprintf(f, "%s ", kw);
	conf_put_quoted(f, v);
	fputc('\n', f);
}

void
conf_print_duration(FILE *f, const char *kw, uint64_t ms)
{
	char buf[32];

	conf_fmt_duration(buf, sizeof(buf), ms);
	fprintf(f, "%s %s\n", kw, buf);
}

void
conf_print_size(FILE *f, const char *kw, uint64_t v)
{
	char buf[32];

	conf_fmt_size(buf, sizeof(buf), v);
	fprintf(f, "%s %s\n", kw, buf);
}
