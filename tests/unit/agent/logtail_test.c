/* Tandem — MIT licence. Log follower tests: appends, partial lines, rename+recreate, truncation, refusal. */
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include "agent/logtail.h"
#include "tests/unit/common/cases.h"

struct got {
	char		lines[16][64];
	unsigned	n;
	int		refuse;		/* refuse this many emits */
};

static int
collect(void *arg, const char *line, size_t len)
{
	struct got *g = arg;

	if (g->refuse > 0) {
		g->refuse--;
		return -1;
	}
	if (g->n < 16)
		snprintf(g->lines[g->n++], sizeof(g->lines[0]), "%.*s", (int)len, line);
	return 0;
}

static void
append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void
expect(struct logtail *t, const char *const *want, unsigned n)
{
	struct got g;
	unsigned i;

	memset(&g, 0, sizeof(g));
	assert_int_equal(logtail_poll(t, collect, &g), (int)n);
	assert_int_equal(g.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(g.lines[i], want[i]);
}

static void
test_follow(void **state)
{
	char dir[] = "/tmp/logtail_test.XXXXXX", path[256], old[256];
	const char *bc[] = { "b", "c" }, *d[] = { "d" }, *ef[] = { "e old", "f new" };
	const char *gg[] = { "gg" }, *x[] = { "x" }, *crlf[] = { "crlf" };
	struct logtail_stats st;
	struct logtail *t;
	struct got g;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.log", dir);
	snprintf(old, sizeof(old), "%s/app.log.1", dir);
	append(path, "a before start\n");
	assert_non_null(t = logtail_new(path, 0));
	expect(t, NULL, 0);			/* starts at the end */
	append(path, "b\nc\n");
	expect(t, bc, 2);
	append(path, "d");			/* no newline yet: held back */
	expect(t, NULL, 0);
	append(path, "\n\n");			/* the empty line is skipped */
	expect(t, d, 1);
	/* Rotation: the old file's last lines come first, then the new file from 0. */
	assert_int_equal(rename(path, old), 0);
	append(old, "e old\n");
	append(path, "f new\n");
	expect(t, ef, 2);
	append(path, "gg\n");
	expect(t, gg, 1);
	/* Truncation in place, then a shorter content. */
	assert_int_equal(truncate(path, 0), 0);
	append(path, "x\n");
	expect(t, x, 1);
	append(path, "crlf\r\n");
	/* A refused line stays for the next poll. */
	memset(&g, 0, sizeof(g));
	g.refuse = 1;
	assert_int_equal(logtail_poll(t, collect, &g), -1);
	expect(t, crlf, 1);
	logtail_stats(t, &st);
	assert_int_equal(st.rotations, 1);
	assert_int_equal(st.truncations, 1);
	assert_int_equal(st.lines, 8);
	logtail_free(t);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

static void
test_missing_then_created(void **state)
{
	char dir[] = "/tmp/logtail_test.XXXXXX", path[256];
	const char *one[] = { "first" };
	struct logtail *t;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/late.log", dir);
	assert_non_null(t = logtail_new(path, 0));
	expect(t, NULL, 0);
	append(path, "first\n");		/* appeared later: read from its start */
	expect(t, one, 1);
	logtail_free(t);
	unlink(path);
	rmdir(dir);
}

struct level_row {
	const char		*what;
	Tandem__LogLevel	 level;
};

static const struct level_row level_rows[] = {
	{ "2024-01-01 ERROR db down", TANDEM__LOG_LEVEL__LOG_ERROR },
	{ "[warn] disk 91%", TANDEM__LOG_LEVEL__LOG_WARN },
	{ "WARNING: slow", TANDEM__LOG_LEVEL__LOG_WARN },
	{ "FATAL: out of memory", TANDEM__LOG_LEVEL__LOG_FATAL },
	{ "debug: tick", TANDEM__LOG_LEVEL__LOG_DEBUG },
	{ "order 17 released", TANDEM__LOG_LEVEL__LOG_INFO },
};

static void
test_level(void **state)
{
	const struct level_row *r = ROW(struct level_row, state);

	assert_int_equal(logtail_guess_level(r->what), r->level);
}

int
main(void)
{
	static struct cases cs;

	cases_add(&cs, "follow: append, partial, rotate, truncate, refuse", test_follow, NULL);
	cases_add(&cs, "follow: file created after start", test_missing_then_created, NULL);
	CASES_TABLE(&cs, "level", test_level, level_rows);
	return cases_run(&cs, "logtail");
}
