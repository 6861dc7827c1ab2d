/* Tandem — MIT licence. Config file reading: tokenizer with file:line errors and typed value parsers. */
#ifndef TANDEM_CONF_H
#define TANDEM_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_MAX_ARGS	24
#define CONF_MAX_ERRORS	32

/* One logical line: a keyword and its arguments, with where it came from. */
struct conf_line {
	const char	*file;
	int		 lineno;
	int		 argc;
	char		*argv[CONF_MAX_ARGS];	/* argv[0] is the keyword */
};

struct conf_errors {
	int	 n;
	char	 msg[CONF_MAX_ERRORS][256];
};

/* Records "file:line: message" (at most CONF_MAX_ERRORS are kept; the count goes on). */
void	conf_error(struct conf_errors *, const struct conf_line *, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Splits text into lines of whitespace-separated words; '#' starts a comment; double quotes
 * group words and allow \" and \\. Calls cb for every non-empty line. Tokenizer errors (an
 * unterminated quote, too many words) are recorded in errs and the line is skipped.
 * The text is modified in place. Returns the number of errors recorded.
 */
int	conf_parse_text(char *text, const char *file, struct conf_errors *errs,
	    void (*cb)(const struct conf_line *, void *), void *arg);

/* Reads a whole file (at most 1 MiB) into a NUL-terminated heap buffer; NULL on error. */
char	*conf_read_file(const char *path, char *err, size_t errlen);

/* Typed value parsers: 0, or -1 with a reason in err. Ranges are inclusive. */
int	conf_get_int(const char *, int64_t min, int64_t max, int64_t * /* OUT */,
	    char *err, size_t errlen);
/* Sizes: a number with an optional K, M, G or T suffix (powers of 1024). */
int	conf_get_size(const char *, uint64_t min, uint64_t max, uint64_t * /* OUT */,
	    char *err, size_t errlen);
/* Durations in milliseconds: a number with a unit ms, s, m, h or d (no unit: seconds). */
int	conf_get_duration(const char *, uint64_t min_ms, uint64_t max_ms, uint64_t * /* OUT */,
	    char *err, size_t errlen);
int	conf_get_bool(const char *, int * /* OUT */, char *err, size_t errlen);
/* "host:port" or "[v6]:port"; port 0..65535. host and port are copied out. */
int	conf_get_hostport(const char *, char *host, size_t hostlen, uint16_t *port,
	    char *err, size_t errlen);

/*
 * Keyword tables. Each daemon's table entry starts with a struct conf_keyword (its first
 * member) and the table is sorted by name. conf_keyword_find looks the line's keyword up with
 * bsearch and checks the argument count (nargs -1: the handler checks): the entry, or NULL
 * with the error recorded.
 */
struct conf_keyword {
	const char	*name;
	int		 nargs;		/* arguments after the keyword; -1: any */
};
const void *conf_keyword_find(const void *table, size_t n, size_t size,
	    const struct conf_line *, struct conf_errors *);

/*
 * Handlers for typed values, for parsers whose state is `struct parse_state` with members
 * `conf` (the config being filled) and `errs`: CONF_KW_DURATION(kw_x, field, MIN, MAX) defines
 * `static void kw_x(struct parse_state *, const struct conf_line *)`.
 */
#define CONF_KW_DURATION(fn, field, min, max)					\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	char err[160];								\
	if (conf_get_duration(l->argv[1], min, max, &ps->conf->field, err,	\
	    sizeof(err)) == -1)							\
		conf_error(ps->errs, l, "%s: %s", l->argv[0], err);		\
}

#define CONF_KW_SIZE(fn, field, min, max)					\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	char err[160];								\
	if (conf_get_size(l->argv[1], min, max, &ps->conf->field, err,		\
	    sizeof(err)) == -1)							\
		conf_error(ps->errs, l, "%s: %s", l->argv[0], err);		\
}

#define CONF_KW_COUNT(fn, field, min, max)					\
static void									\
fn(struct parse_state *ps, const struct conf_line *l)				\
{										\
	char err[160];								\
	int64_t v;								\
	if (conf_get_int(l->argv[1], min, max, &v, err, sizeof(err)) == -1)	\
		conf_error(ps->errs, l, "%s: %s", l->argv[0], err);		\
	else									\
		ps->conf->field = (uint64_t)v;					\
}

/* Formats for -nv output: the shortest exact unit. */
void	conf_fmt_size(char *, size_t, uint64_t);
void	conf_fmt_duration(char *, size_t, uint64_t ms);
/* -nv lines: `kw "v"` (quotes and backslashes escaped, so it reads back), `kw 30s`, `kw 8G`. */
void	conf_put_quoted(FILE *, const char *v);
void	conf_print_quoted(FILE *, const char *kw, const char *v);
void	conf_print_duration(FILE *, const char *kw, uint64_t ms);
void	conf_print_size(FILE *, const char *kw, uint64_t v);

#endif
