/* Tandem — MIT licence. The dashboard's static files: name checks, content types, ETag revalidation. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/log.h"
#include "monitor/api.h"
#include "monitor/dashboard.h"
#include "monitor/http.h"

/*
 * Nothing but files from the directory opened at start-up is ever served, and every
 * name is checked segment by segment before openat(): the router has already refused
 * empty segments and a %-encoded '/', and dashboard_name_ok refuses "." and ".." (any
 * leading dot). Symbolic links inside the directory are followed on purpose: Bazel's
 * runfiles tree is made of them, and the directory belongs to the operator.
 */

#define CSP	"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " \
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

struct dashboard {
	int			dirfd;		/* -1: not installed */
	char			dir[PATH_MAX];
	struct dashboard_stats	stats;
};

/* One per process: route handlers only get the struct api as their argument. */
static struct dashboard dash = { .dirfd = -1 };

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{ ".css",	"text/css; charset=utf-8" },
	{ ".html",	"text/html; charset=utf-8" },
	{ ".ico",	"image/x-icon" },
	{ ".js",	"text/javascript; charset=utf-8" },
	{ ".json",	"application/json" },
	{ ".map",	"application/json" },
	{ ".png",	"image/png" },
	{ ".svg",	"image/svg+xml" },
	{ ".txt",	"text/plain; charset=utf-8" },
	{ ".woff2",	"font/woff2" },
};

int
dashboard_name_ok(const char *seg)
{
	size_t i;

	if (seg == NULL || seg[0] == '\0' || seg[0] == '.')
		return 0;
	for (i = 0; seg[i] != '\0'; i++) {
		if (i >= DASHBOARD_NAME_MAX)
			return 0;
		if (!((seg[i] >= 'a' && seg[i] <= 'z') || (seg[i] >= 'A' && seg[i] <= 'Z') ||
		    (seg[i] >= '0' && seg[i] <= '9') || seg[i] == '.' || seg[i] == '_' ||
		    seg[i] == '-'))
			return 0;
	}
	return 1;
}

const char *
dashboard_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static void
refuse(struct http_req *r, const char *msg)
{
	dash.stats.refused++;
	http_reply_error(r, 404, NULL, msg);
}

/*
 * Sends dir/sub/name (sub may be NULL). Vendored libraries may be cached for a day; our
 * own files are revalidated on every load (Cache-Control: no-cache + ETag), so an
 * upgraded monitord never runs with a stale app.js.
 */
static int
serve(struct http_req *r, const char *sub, const char *name)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
	struct evbuffer *body;
	const char *type, *inm;
	char rel[2 * DASHBOARD_NAME_MAX + 2], etag[64];
	struct stat st;
	size_t have = 0;
	int fd, n;

	if (dash.dirfd == -1) {
		refuse(r, "dashboard not installed (see 'assets' in monitord.conf)");
		return 0;
	}
	if ((sub != NULL && !dashboard_name_ok(sub)) || !dashboard_name_ok(name) ||
	    (type = dashboard_content_type(name)) == NULL) {
		refuse(r, "no such file");
		return 0;
	}
	snprintf(rel, sizeof(rel), "%s%s%s", sub != NULL ? sub : "", sub != NULL ? "/" : "",
	    name);
	if ((fd = openat(dash.dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("dashboard: %s/%s", dash.dir, rel);
		refuse(r, "no such file");
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		refuse(r, "no such file");
		return 0;
	}
	if (st.st_size > DASHBOARD_FILE_MAX) {
		close(fd);
		log_warnx("dashboard: %s/%s: larger than %d bytes", dash.dir, rel,
		    DASHBOARD_FILE_MAX);
		http_reply_error(r, 500, NULL, "file too large");
		return 0;
	}
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
	    (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Cache-Control", sub != NULL && strcmp(sub, "vendor") == 0 ?
	    "public, max-age=86400" : "no-cache");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	if (strcmp(name, "index.html") == 0) {
		evhttp_add_header(out, "Content-Security-Policy", CSP);
		evhttp_add_header(out, "X-Frame-Options", "DENY");
	}
	inm = evhttp_find_header(evhttp_request_get_input_headers(r->req), "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		dash.stats.not_modified++;
		evhttp_send_reply(r->req, 304, "Not Modified", NULL);
		r->status = 304;
		return 0;
	}
	evhttp_remove_header(out, "Content-Type");
	evhttp_add_header(out, "Content-Type", type);
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
		/* libevent 2.1 would send a body on HEAD too: send the length alone. */
		char len[24];

		close(fd);
		snprintf(len, sizeof(len), "%lld", (long long)st.st_size);
		evhttp_add_header(out, "Content-Length", len);
		dash.stats.served++;
		evhttp_send_reply(r->req, 200, "OK", NULL);
		r->status = 200;
		return 0;
	}
	body = evhttp_request_get_output_buffer(r->req);
	while (have < (size_t)st.st_size) {
		n = evbuffer_read(body, fd, (int)((size_t)st.st_size - have));
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have != (size_t)st.st_size) {
		log_warnx("dashboard: %s/%s: short read", dash.dir, rel);
		evbuffer_drain(body, evbuffer_get_length(body));
		http_reply_error(r, 500, NULL, "cannot read file");
		return 0;
	}
	dash.stats.served++;
	evhttp_send_reply(r->req, 200, "OK", NULL);
	r->status = 200;
	return 0;
}

static int
h_index(struct http_req *r, void *arg)
{
	return serve(r, NULL, "index.html");
}

static int
h_asset(struct http_req *r, void *arg)
{
	return serve(r, NULL, http_path_param(r, "f"));
}

static int
h_asset_sub(struct http_req *r, void *arg)
{
	return serve(r, http_path_param(r, "d"), http_path_param(r, "f"));
}

static const struct http_route dashboard_routes[] = {
	{ EVHTTP_REQ_GET, "/", h_index, 0, "dashboard" },
	{ EVHTTP_REQ_GET, "/assets/{f}", h_asset, 0, "dashboard_asset" },
	{ EVHTTP_REQ_GET, "/assets/{d}/{f}", h_asset_sub, 0, "dashboard_asset" },
};

/* Opens path if it holds a readable index.html; 0 or -1 (errno set). */
static int
try_dir(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fstatat(fd, "index.html", &st, 0) == -1 || !S_ISREG(st.st_mode) ||
	    faccessat(fd, "index.html", R_OK, 0) == -1) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	if (realpath(path, dash.dir) == NULL)
		snprintf(dash.dir, sizeof(dash.dir), "%s", path);
	dash.dirfd = fd;
	return 0;
}

/* Looks for the assets beside the executable; 0 if found. */
static int
find_dir(void)
{
	char exe[PATH_MAX], c1[PATH_MAX + 64], c2[PATH_MAX + 64], c3[PATH_MAX + 64], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(c3, sizeof(c3), "%s.runfiles/tandem/monitor/assets", exe);
	if ((slash = strrchr(exe, '/')) == NULL)
		return -1;
	*slash = '\0';
	snprintf(c1, sizeof(c1), "%s/assets", exe);
	snprintf(c2, sizeof(c2), "%s/../share/tandem/assets", exe);
	return try_dir(c1) == 0 || try_dir(c2) == 0 || try_dir(c3) == 0 ? 0 : -1;
}

int
dashboard_init(struct api *a, const char *dir, char *err, size_t errlen)
{
	size_t i;

	dashboard_shutdown();
	memset(&dash.stats, 0, sizeof(dash.stats));
	if (dir != NULL) {
		if (try_dir(dir) == -1) {
			snprintf(err, errlen, "assets %s: %s (needs index.html)", dir,
			    strerror(errno));
			return -1;
		}
	} else if (find_dir() == -1)
		log_warnx("dashboard: no assets beside the executable; set 'assets' in "
		    "monitord.conf to serve it");
	for (i = 0; i < sizeof(dashboard_routes) / sizeof(dashboard_routes[0]); i++) {
		if (api_route_add(a, &dashboard_routes[i]) == -1) {
			snprintf(err, errlen, "route table full");
			dashboard_shutdown();
			return -1;
		}
	}
	return 0;
}

void
dashboard_shutdown(void)
{
	if (dash.dirfd != -1)
		close(dash.dirfd);
	dash.dirfd = -1;
	dash.dir[0] = '\0';
}

const char *
dashboard_dir(void)
{
	return dash.dirfd != -1 ? dash.dir : NULL;
}

const struct dashboard_stats *
dashboard_stats(void)
{
	return &dash.stats;
}
