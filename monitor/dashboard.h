/* Tandem — MIT licence. The dashboard: static files from one assets directory, served by monitord. */
#ifndef TANDEM_MONITOR_DASHBOARD_H
#define TANDEM_MONITOR_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>

#define DASHBOARD_NAME_MAX	100		/* bytes of one path segment */
#define DASHBOARD_FILE_MAX	(8 << 20)	/* larger files are refused (500) */

struct api;

struct dashboard_stats {
	uint64_t	served;		/* 200 */
	uint64_t	not_modified;	/* 304 on a matching If-None-Match */
	uint64_t	refused;	/* 404: bad name, unknown type, missing, not a file */
};

/*
 * Opens the assets directory and adds the routes "/", "/assets/{f}" and
 * "/assets/{d}/{f}" to a (one dashboard per process: the state is this module's).
 * dir, when not NULL, must hold index.html, else -1 with a reason in err. Without dir,
 * the first of these that holds index.html is used:
 *   <directory of the executable>/assets
 *   <directory of the executable>/../share/tandem/assets
 *   <executable>.runfiles/tandem/monitor/assets		(bazel-bin)
 * and when none does, the routes answer 404 "dashboard not installed" and 0 is returned.
 * -1 also when the route table is full.
 */
int		 dashboard_init(struct api *a, const char *dir, char *err, size_t errlen);
/* Closes the directory; the routes then answer 404. */
void		 dashboard_shutdown(void);
/* The directory served, or NULL when none was found. Borrowed. */
const char	*dashboard_dir(void);
const struct dashboard_stats *dashboard_stats(void);

/*
 * 1 if seg may name a file or directory under the assets directory: 1 ..
 * DASHBOARD_NAME_MAX bytes of [A-Za-z0-9._-], not starting with '.' (so no "..", no
 * hidden files). Pure.
 */
int		 dashboard_name_ok(const char *seg);
/* Content-Type for name's extension, or NULL for a type we do not serve. Pure. */
const char	*dashboard_content_type(const char *name);

#endif
