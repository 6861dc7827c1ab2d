/* Tandem — MIT licence. Follow a log file by polling, surviving rename+recreate and truncation. */
#ifndef TANDEM_LOGTAIL_H
#define TANDEM_LOGTAIL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/agent.pb-c.h"

struct logtail;

#define LOGTAIL_LINE_MAX	8192	/* longer lines are cut into pieces of this size */

struct logtail_stats {
	uint64_t	lines;		/* lines handed to emit and consumed */
	uint64_t	rotations;	/* the path came to name another file */
	uint64_t	truncations;	/* the file shrank below what was read */
	uint64_t	split;		/* pieces of overlong lines */
};

/*
 * Follows path, which need not exist yet. A file present at the first poll is read from its
 * end (from its start with from_start); any file that appears later is read from its start.
 * Returns NULL when out of memory.
 */
struct logtail	*logtail_new(const char *path, int from_start);
void		 logtail_free(struct logtail *);

/*
 * Polls once: notices rotation (another inode under path: the old file is read to its end
 * first) and truncation (size below our offset: restart at 0), reads at most about 1 MiB of
 * new data, and passes each complete line (without its newline or CR, NUL-terminated,
 * borrowed for the call) to emit. emit returns 0 when it took the line, -1 to stop: the line
 * stays for the next poll. Returns the number of lines taken, or -1 if emit refused one.
 */
int		 logtail_poll(struct logtail *,
		    int (*emit)(void *arg, const char *line, size_t len), void *arg);

void		 logtail_stats(const struct logtail *, struct logtail_stats * /* OUT */);
const char	*logtail_path(const struct logtail *);

/* Guesses a level from words such as FATAL, ERROR, WARN, DEBUG (any case); else INFO. */
Tandem__LogLevel logtail_guess_level(const char *line);

#endif
