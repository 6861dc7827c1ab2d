/* Tandem — MIT licence. jansson helpers: JSON replies and errors, bounded request bodies. */
#ifndef TANDEM_MONITOR_JSON_H
#define TANDEM_MONITOR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "monitor/query_params.h"

#define JSON_BODY_MAX_DEFAULT	(64 * 1024)
#define JSON_DEPTH_MAX		16	/* nesting accepted in request bodies */

struct evhttp_request;

/* Reason phrase for the status codes we send ("Bad Request"); "Error" otherwise. */
const char	*json_status_reason(int status);

/*
 * Sends body with status, Content-Type application/json and Cache-Control no-store.
 * Takes ownership of body (a NULL body sends 500). If encoding fails, sends a 500 JSON
 * error instead. Returns 0, or -1 if it had to fall back.
 */
int		 json_reply(struct evhttp_request *req, int status, json_t *body);

/*
 * New error object {"error": msg, "status": status} plus "param": param when param is
 * non-empty. NULL on allocation failure.
 */
json_t		*json_error_new(int status, const char *param, const char *msg);
/* Sends json_error_new(...) with that status; a 401 also gets WWW-Authenticate: Bearer. */
void		 json_reply_error(struct evhttp_request *req, int status, const char *param,
		    const char *msg);

/*
 * Parses buf[0 .. len) as a JSON object. Rejects: len > max (413 for the caller), invalid
 * JSON or trailing bytes, a top level that is not an object, nesting deeper than
 * JSON_DEPTH_MAX, NUL inside strings. Returns a new reference or NULL with err filled
 * (err->param names the offending field where there is one).
 */
json_t		*json_body_parse(const char *buf, size_t len, size_t max,
		    struct query_params_err *err /* OUT */);

/* -1 naming the first key of obj not in the NULL-terminated list allowed. */
int		 json_fields_allow(const json_t *obj, const char *const *allowed,
		    struct query_params_err *err /* OUT */);
/*
 * String field: absent or null => *out NULL (-1 if required); not a string, longer than
 * maxlen bytes or holding a control character => -1. Borrowed from obj.
 */
int		 json_field_str(const json_t *obj, const char *key, size_t maxlen, int required,
		    const char **out /* OUT */, struct query_params_err *err /* OUT */);
/* Integer field in [min, max]: absent => def (-1 if required); reals and strings => -1. */
int		 json_field_int(const json_t *obj, const char *key, int64_t min, int64_t max,
		    int64_t def, int required, int64_t *out /* OUT */,
		    struct query_params_err *err /* OUT */);

#endif
