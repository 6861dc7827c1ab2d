/* Tandem — MIT licence. Log file follower: inode and size checks on each poll, bounded reads. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "agent/logtail.h"
#include "common/log.h"
#include "common/xalloc.h"

#define LOGTAIL_CHUNK		(64 * 1024)
#define LOGTAIL_CHUNKS		16		/* per poll: about 1 MiB */

struct logtail {
	char		*path;
	int		 fd;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 off;		/* bytes read from fd */
	int		 first;		/* no poll yet */
	int		 from_start;
	int		 rotated;	/* path names another file: drain fd, then switch */
	struct evbuffer	*buf;
	struct logtail_stats st;
	char		 line[LOGTAIL_LINE_MAX + 1];
};

struct logtail *
logtail_new(const char *path, int from_start)
{
	struct logtail *t;

	if ((t = xcalloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = -1;
	t->first = 1;
	t->from_start = from_start;
	if ((t->path = xstrdup(path)) == NULL || (t->buf = evbuffer_new()) == NULL) {
		logtail_free(t);
		return NULL;
	}
	return t;
}

void
logtail_free(struct logtail *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->buf != NULL)
		evbuffer_free(t->buf);
	XFREE(t->path);
	xfree(t);
}

void
logtail_stats(const struct logtail *t, struct logtail_stats *out)
{
	*out = t->st;
}

const char *
logtail_path(const struct logtail *t)
{
	return t->path;
}

Tandem__LogLevel
logtail_guess_level(const char *s)
{
	static const struct {
		const char		*word;
		Tandem__LogLevel	 level;
	} words[] = {
		{ "FATAL", TANDEM__LOG_LEVEL__LOG_FATAL },
		{ "PANIC", TANDEM__LOG_LEVEL__LOG_FATAL },
		{ "CRIT", TANDEM__LOG_LEVEL__LOG_FATAL },
		{ "EMERG", TANDEM__LOG_LEVEL__LOG_FATAL },
		{ "ERROR", TANDEM__LOG_LEVEL__LOG_ERROR },
		{ "SEVERE", TANDEM__LOG_LEVEL__LOG_ERROR },
		{ "[ERR]", TANDEM__LOG_LEVEL__LOG_ERROR },
		{ " ERR ", TANDEM__LOG_LEVEL__LOG_ERROR },
		{ "WARN", TANDEM__LOG_LEVEL__LOG_WARN },
		{ "DEBUG", TANDEM__LOG_LEVEL__LOG_DEBUG },
		{ "TRACE", TANDEM__LOG_LEVEL__LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(s, words[i].word) != NULL)
			return words[i].level;
	return TANDEM__LOG_LEVEL__LOG_INFO;
}

/* Opens path; a missing file is not an error. 0 opened, 1 absent, -1 error. */
static int
logtail_open(struct logtail *t)
{
	struct stat sb;
	int fd;

	if ((fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return -1;
	}
	t->fd = fd;
	t->dev = sb.st_dev;
	t->ino = sb.st_ino;
	t->off = 0;
	if (t->first && !t->from_start && S_ISREG(sb.st_mode)) {
		if (lseek(fd, sb.st_size, SEEK_SET) == -1) {
			close(fd);
			t->fd = -1;
			return -1;
		}
		t->off = sb.st_size;
	}
	return 0;
}

/* Reads up to the per-poll bound; *eof tells whether the end of the file was reached. */
static size_t
logtail_read(struct logtail *t, int *eof)
{
	size_t total = 0;
	unsigned i;
	int n;

	*eof = 0;
	for (i = 0; i < LOGTAIL_CHUNKS; i++) {
		if ((n = evbuffer_read(t->buf, t->fd, LOGTAIL_CHUNK)) <= 0) {
			*eof = 1;
			break;
		}
		t->off += n;
		total += (size_t)n;
	}
	return total;
}

/*
 * Emits complete lines; with all, also a final line without newline. Overlong lines go out
 * in LOGTAIL_LINE_MAX pieces. Returns lines taken, or -1 if emit refused one.
 */
static int
logtail_lines(struct logtail *t, int all, int (*emit)(void *, const char *, size_t),
    void *arg)
{
	struct evbuffer_ptr p;
	size_t eol, len, take, avail;
	int n = 0;

	for (;;) {
		avail = evbuffer_get_length(t->buf);
		if (avail == 0)
			return n;
		p = evbuffer_search_eol(t->buf, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos < 0) {
			if (!all && avail < LOGTAIL_LINE_MAX)
				return n;
			len = avail;
			eol = 0;
		} else
			len = (size_t)p.pos;
		take = len;
		if (len > LOGTAIL_LINE_MAX) {
			take = LOGTAIL_LINE_MAX;
			eol = 0;
		}
		evbuffer_copyout(t->buf, t->line, take);
		t->line[take] = '\0';
		len = strnlen(t->line, take);	/* NUL bytes end a protobuf string anyway */
		while (len > 0 && (t->line[len - 1] == '\r' || t->line[len - 1] == '\n'))
			t->line[--len] = '\0';
		if (len > 0) {
			if (emit(arg, t->line, len) == -1)
				return -1;
			t->st.lines++;
			n++;
		}
		if (take == LOGTAIL_LINE_MAX && eol == 0 && take < avail)
			t->st.split++;
		evbuffer_drain(t->buf, take + eol);
	}
}

int
logtail_poll(struct logtail *t, int (*emit)(void *, const char *, size_t), void *arg)
{
	struct stat sb;
	int n, total = 0, rc, round, eof;

	/* Lines left over from a refused emit go first. */
	if ((n = logtail_lines(t, 0, emit, arg)) == -1)
		return -1;
	total += n;
	for (round = 0; round < 2; round++) {
		if (t->fd < 0) {
			rc = logtail_open(t);
			t->first = 0;
			if (rc != 0) {
				if (rc == -1)
					log_debug("%s: open %s: %s", __func__, t->path,
					    strerror(errno));
				return total;
			}
		} else if (!t->rotated) {
			if (stat(t->path, &sb) == -1 || sb.st_ino != t->ino || sb.st_dev != t->dev)
				t->rotated = 1;
			else if (fstat(t->fd, &sb) == 0 && sb.st_size < t->off) {
				/* Truncated in place (copytruncate): start over; a partial
				 * line from before is meaningless now. */
				t->st.truncations++;
				evbuffer_drain(t->buf, evbuffer_get_length(t->buf));
				if (lseek(t->fd, 0, SEEK_SET) == 0)
					t->off = 0;
			}
		}
		t->first = 0;
		(void)logtail_read(t, &eof);
		if (!t->rotated || !eof) {
			if ((n = logtail_lines(t, 0, emit, arg)) == -1)
				return -1;
			return total + n;
		}
		/* Rotated and the old file is read to its end: finish it, take the new one. */
		if ((n = logtail_lines(t, 1, emit, arg)) == -1)
			return -1;
		total += n;
		close(t->fd);
		t->fd = -1;
		t->rotated = 0;
		t->st.rotations++;
	}
	return total;
}
