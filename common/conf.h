/* Tandem — MIT licence. Config file reading: tokenizer with file:line errors and typed value parsers. */
#ifndef TANDEM_CONF_H
#define TANDEM_CONF_H

#include <stddef.h>
#include <stdint.h>

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

/* Formats for -nv output: the shortest exact unit. */
void	conf_fmt_size(char *, size_t, uint64_t);
void	conf_fmt_duration(char *, size_t, uint64_t ms);

#endif
