/* Tandem — MIT licence. Unit tests for monitor/dashboard.c: names, types, serving over a loopback socket. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "monitor/api.h"
#include "monitor/dashboard.h"
#include "monitor/http.h"
#include "tests/unit/common/cases.h"
#include "tests/unit/monitor/rawhttp.h"

static struct event_base *base;
static struct http_server *srv;
static char top[64];		/* a temporary directory holding outside.js and */
static char dir[80];		/* the assets directory, top/assets */

struct name_row {
	const char	*what;
	const char	*seg;
	int		 ok;
};

static const struct name_row name_rows[] = {
	{ "plain file", "app.js", 1 },
	{ "dashes and underscores", "uPlot.iife_min-1.js", 1 },
	{ "dot-dot", "..", 0 },
	{ "dot", ".", 0 },
	{ "hidden file", ".htaccess", 0 },
	{ "empty", "", 0 },
	{ "slash", "a/b", 0 },
	{ "backslash", "a\\b", 0 },
	{ "space", "a b.js", 0 },
	{ "percent", "a%2e.js", 0 },
	{ "non-ASCII", "caf\xc3\xa9.js", 0 },
	{ "100 bytes", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
	{ "101 bytes", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
};

static void
test_name(void **state)
{
	const struct name_row *r = *state;

	CHECK(dashboard_name_ok(r->seg) == r->ok);
}

struct type_row {
	const char	*what;
	const char	*name;
	const char	*type;		/* NULL: refused */
};

static const struct type_row type_rows[] = {
	{ "html", "index.html", "text/html; charset=utf-8" },
	{ "javascript", "app.js", "text/javascript; charset=utf-8" },
	{ "css", "uPlot.min.css", "text/css; charset=utf-8" },
	{ "svg", "favicon.svg", "image/svg+xml" },
	{ "no extension", "VERSION", NULL },
	{ "shell script", "setup.sh", NULL },
	{ "extension only in the middle", "app.js.bak", NULL },
};

static void
test_type(void **state)
{
	const struct type_row *r = *state;
	const char *t = dashboard_content_type(r->name);

	if (r->type == NULL)
		CHECK(t == NULL);
	else
		CHECK(t != NULL && strcmp(t, r->type) == 0);
}

/* A raw HTTP/1.1 exchange on the test's event base. */
struct reply {
	int	 status;
	char	 head[4096];
	char	 body[4096];
};

static void
request(const char *method, const char *target, const char *extra, struct reply *out)
{
	char raw[2048], *body;

	memset(out, 0, sizeof(*out));
	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n",
	    method, target, extra != NULL ? extra : "");
	body = rawhttp_exchange(base, http_port(srv), raw, strlen(raw), &out->status, out->head,
	    sizeof(out->head));
	if (body != NULL)
		snprintf(out->body, sizeof(out->body), "%s", body);
	free(body);
}

struct serve_row {
	const char	*what;
	const char	*method;
	const char	*target;
	int		 status;
	const char	*head;		/* a header line the reply must hold, or NULL */
	const char	*body;		/* the exact body, or NULL */
};

static const struct serve_row serve_rows[] = {
	{ "root is index.html", "GET", "/", 200, "Content-Type: text/html; charset=utf-8",
	    "<p>hi</p>\n" },
	{ "page has a CSP", "GET", "/", 200, "Content-Security-Policy: default-src 'self'", NULL },
	{ "our files revalidate", "GET", "/assets/app.js", 200, "Cache-Control: no-cache",
	    "let x = 1;\n" },
	{ "vendored files are cached", "GET", "/assets/vendor/lib.js", 200,
	    "Cache-Control: public, max-age=86400", "lib();\n" },
	{ "nosniff", "GET", "/assets/app.css", 200, "X-Content-Type-Options: nosniff", "b{}\n" },
	{ "HEAD has headers, no body", "HEAD", "/assets/app.js", 200, "Content-Length: 11", "" },
	{ "missing file", "GET", "/assets/none.js", 404, NULL, NULL },
	{ "unknown type", "GET", "/assets/notes.sh", 404, NULL, NULL },
	{ "hidden file", "GET", "/assets/.secret.js", 404, NULL, NULL },
	{ "encoded dot-dot", "GET", "/assets/%2e%2e/outside.js", 404, NULL, NULL },
	{ "plain dot-dot", "GET", "/assets/../outside.js", 404, NULL, NULL },
	{ "encoded dot-dot file", "GET", "/assets/vendor/%2e%2e", 404, NULL, NULL },
	{ "encoded slash", "GET", "/assets/vendor%2flib.js", 404, NULL, NULL },
	{ "directory named like a file", "GET", "/assets/dir.js", 404, NULL, NULL },
	{ "too deep", "GET", "/assets/vendor/x/lib.js", 404, NULL, NULL },
	{ "POST refused", "POST", "/assets/app.js", 405, NULL, NULL },
};

static void
test_serve(void **state)
{
	const struct serve_row *r = *state;
	struct reply rep;

	request(r->method, r->target, NULL, &rep);
	if (rep.status != r->status)
		fail_msg("%s %s: status %d, want %d", r->method, r->target, rep.status, r->status);
	if (r->head != NULL && strstr(rep.head, r->head) == NULL)
		fail_msg("no \"%s\" in:\n%s", r->head, rep.head);
	if (r->body != NULL && strcmp(rep.body, r->body) != 0)
		fail_msg("body \"%s\", want \"%s\"", rep.body, r->body);
	if (r->status == 404)
		CHECK(strstr(rep.head, "Content-Type: application/json") != NULL);
}

/* If-None-Match with the ETag just served: 304 and no body. */
static void
test_not_modified(void **state)
{
	struct reply rep;
	char etag[128], hdr[160], *p;
	uint64_t before = dashboard_stats()->not_modified;

	(void)state;
	request("GET", "/assets/app.js", NULL, &rep);
	CHECK(rep.status == 200);
	p = strstr(rep.head, "ETag: ");
	CHECK(p != NULL);
	CHECK(sscanf(p + 6, "%127[^\r\n]", etag) == 1);
	snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", etag);
	request("GET", "/assets/app.js", hdr, &rep);
	CHECK(rep.status == 304);
	CHECK(rep.body[0] == '\0');
	CHECK(dashboard_stats()->not_modified == before + 1);
	request("GET", "/assets/app.js", "If-None-Match: \"other\"\r\n", &rep);
	CHECK(rep.status == 200);
}

/* Without a directory holding index.html: -1 when one was named. */
static void
test_init_errors(void **state)
{
	static struct api a;
	char err[256];

	(void)state;
	memset(&a, 0, sizeof(a));
	CHECK(dashboard_init(&a, "/nonexistent-tandem-assets", err, sizeof(err)) == -1);
	CHECK(strstr(err, "index.html") != NULL);
	CHECK(dashboard_dir() == NULL);
}

static void
put(const char *rel, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static void
rm_rf(void)
{
	static const char *const files[] = { "index.html", "app.js", "app.css", "notes.sh",
	    ".secret.js", "vendor/lib.js", NULL };
	char path[256];
	int i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/vendor", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/dir.js", dir);
	rmdir(path);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s/outside.js", top);
	unlink(path);
	rmdir(top);
}

int
main(void)
{
	static struct cases cs;
	static struct api a;
	struct http_conf conf;
	char err[256], path[128];
	int failed;

	snprintf(top, sizeof(top), "/tmp/tandem-dash.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/assets", top);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dir.js", dir);
	mkdir(path, 0755);
	put("index.html", "<p>hi</p>\n");
	put("app.js", "let x = 1;\n");
	put("app.css", "b{}\n");
	put("notes.sh", "echo no\n");
	put(".secret.js", "secret\n");
	put("vendor/lib.js", "lib();\n");
	put("../outside.js", "outside();\n");	/* what a traversal would reach */

	memset(&a, 0, sizeof(a));
	if (dashboard_init(&a, dir, err, sizeof(err)) == -1) {
		fprintf(stderr, "dashboard_init: %s\n", err);
		return 1;
	}
	base = event_base_new();
	http_conf_default(&conf);
	conf.timeout_s = 5;
	srv = http_new(base, &conf, a.routes, a.nroutes, &a, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "http_new: %s\n", err);
		return 1;
	}
	CASES_TABLE(&cs, "name", test_name, name_rows);
	CASES_TABLE(&cs, "type", test_type, type_rows);
	CASES_TABLE(&cs, "serve", test_serve, serve_rows);
	cases_add(&cs, "ETag revalidation answers 304", test_not_modified, NULL);
	cases_add(&cs, "a named directory without index.html is refused", test_init_errors,
	    NULL);
	failed = cases_run(&cs, "dashboard");
	http_free(srv);
	event_base_free(base);
	dashboard_shutdown();
	rm_rf();
	return failed;
}
