/*
 * route.h - the coordinator's one table of HTTP routes.
 *
 * Pure: a method and a path in, which route matched, the ids and names in
 * the path, whether the route takes that method (405 rather than 404) and
 * the API-token scope the request needs. http.c asks it what a request
 * needs before any body is read, and both http.c and api.c dispatch on it,
 * so the gate and the handlers can never disagree about a path. The query
 * string parser lives here too, for the same reason: no I/O, easy to test
 * and to fuzz.
 *
 * The path is the one libwebsockets hands over: already percent-decoded,
 * with "//", "/./" and "/../" collapsed and the query split off.
 */
#ifndef RFARM_ROUTE_H
#define RFARM_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* Methods, as bits of a route's mask. */
#define ROUTE_GET 0x01
#define ROUTE_HEAD 0x02
#define ROUTE_POST 0x04
#define ROUTE_PUT 0x08
#define ROUTE_OTHER 0x10 /* DELETE, PATCH, OPTIONS, ... */

/*
 * X(id, pattern, methods, scope of GET/HEAD, scope of other methods):
 * every route, in matching order. In a pattern, {id} is a build, job or
 * repository id, {name} a buildlet name or a commit (hash or prefix), {path} a relative artifact path, {digest}
 * whatever follows /blobs/ (the handler checks it is a SHA-256, so a bad
 * one is 400, not 404) and {file} a dashboard file: any path outside
 * /api/. A method the route does not take is 405, after the gate: it
 * still needs the scope of its column, as every write does.
 */
#define ROUTE_TABLE(X)                                                       \
	X(ROUTE_ALIVE, "/alive", ROUTE_GET | ROUTE_HEAD, NONE, NONE)          \
	X(ROUTE_READY, "/ready", ROUTE_GET | ROUTE_HEAD, NONE, NONE)          \
	X(ROUTE_METRICS, "/metrics", ROUTE_GET | ROUTE_HEAD, READ, ADMIN)     \
	X(ROUTE_BUILDS, "/api/v1/builds", ROUTE_GET | ROUTE_POST, READ, SUBMIT) \
	X(ROUTE_BUILD, "/api/v1/builds/{id}", ROUTE_GET, READ, ADMIN)         \
	X(ROUTE_BUILD_CANCEL, "/api/v1/builds/{id}/cancel", ROUTE_POST, READ, \
	  ADMIN)                                                              \
	X(ROUTE_BUILD_RETRY, "/api/v1/builds/{id}/retry", ROUTE_POST, READ,   \
	  ADMIN)                                                              \
	X(ROUTE_JOB, "/api/v1/jobs/{id}", ROUTE_GET, READ, ADMIN)             \
	X(ROUTE_JOB_LOG, "/api/v1/jobs/{id}/log", ROUTE_GET, READ, ADMIN)     \
	X(ROUTE_JOB_ARTIFACTS, "/api/v1/jobs/{id}/artifacts", ROUTE_GET, READ, \
	  ADMIN)                                                              \
	X(ROUTE_JOB_ARTIFACT, "/api/v1/jobs/{id}/artifacts/{path}", ROUTE_GET, \
	  READ, ADMIN)                                                        \
	X(ROUTE_BUILDLETS, "/api/v1/buildlets", ROUTE_GET, READ, ADMIN)       \
	X(ROUTE_BUILDLET_DRAIN, "/api/v1/buildlets/{name}/drain", ROUTE_POST, \
	  READ, ADMIN)                                                        \
	X(ROUTE_BUILDLET_UNDRAIN, "/api/v1/buildlets/{name}/undrain",         \
	  ROUTE_POST, READ, ADMIN)                                            \
	X(ROUTE_PURGE, "/api/v1/purge", ROUTE_POST, READ, ADMIN)              \
	X(ROUTE_CONFIG, "/api/v1/config", ROUTE_GET, READ, ADMIN)             \
	X(ROUTE_RELOAD, "/api/v1/reload", ROUTE_POST, READ, ADMIN)            \
	X(ROUTE_REPOS, "/api/v1/repos", ROUTE_GET, READ, ADMIN)               \
	X(ROUTE_REPO_COMMITS, "/api/v1/repos/{id}/commits", ROUTE_GET, READ,  \
	  ADMIN)                                                              \
	X(ROUTE_COMMIT_RETRY, "/api/v1/commits/{name}/retry", ROUTE_POST,     \
	  READ, ADMIN)                                                        \
	X(ROUTE_REPO_POLL, "/api/v1/repos/{id}/poll", ROUTE_POST, READ, ADMIN) \
	/* Proved by the hook secret, not by an API token (hooks.c). */       \
	X(ROUTE_HOOK_GIT, "/api/v1/hooks/git", ROUTE_POST, NONE, NONE)        \
	X(ROUTE_BLOB, "/api/v1/blobs/{digest}",                               \
	  ROUTE_GET | ROUTE_HEAD | ROUTE_PUT, READ, SUBMIT)                   \
	X(ROUTE_DASHBOARD, "/{file}", ROUTE_GET, READ, ADMIN)

enum route_id {
	ROUTE_NONE = 0, /* no route: 404 */
#define ROUTE_ENUM(id, pattern, methods, read, write) id,
	ROUTE_TABLE(ROUTE_ENUM)
#undef ROUTE_ENUM
	ROUTE__COUNT
};

/* What a request must carry once API tokens exist; ordered, so a token
 * of a scope may do what any lower scope may. */
enum route_scope {
	ROUTE_SCOPE_NONE = 0, /* anyone: /alive, /ready */
	ROUTE_SCOPE_READ,     /* GET/HEAD of the API, the dashboard, /metrics */
	ROUTE_SCOPE_SUBMIT,   /* POST /api/v1/builds, PUT /api/v1/blobs/... */
	ROUTE_SCOPE_ADMIN,    /* cancel, retry, drain, undrain, purge,
				 reload, and
				 any other write */
};

/* Largest {name}, {path} or {digest}, with its NUL; longer ones do not
 * match. As large as a request path (struct http_conn.path). */
#define ROUTE_NAME_MAX 512
/* Longest buildlet name. */
#define ROUTE_BUILDLET_NAME_MAX 64

struct route {
	enum route_id id;         /* what matched; ROUTE_NONE: nothing */
	int allowed;              /* the route takes this method (else 405) */
	enum route_scope scope;   /* what the request needs */
	int64_t num;              /* {id}: in [1, 2^53), else 0 */
	char name[ROUTE_NAME_MAX]; /* {name}, {path}, {digest} or {file}; "" */
};

/* Fill r for a request; never fails (an unknown path is ROUTE_NONE, whose
 * scope is read for GET and HEAD and admin otherwise). */
void route_parse(const char *method, const char *path, struct route *r);
/* A decimal id in [1, 2^53): 1 to 15 digits, no sign; -1 otherwise. */
int64_t route_parse_id(const char *s, size_t len);

/* "/api/v1/builds/{id}"; "" for ROUTE_NONE or out of range. */
const char *route_pattern(enum route_id id);
/* "none", "read", "submit", "admin". */
const char *route_scope_name(enum route_scope s);

/* Longest raw query string looked at, and longest decoded name. */
#define ROUTE_QUERY_MAX 8192
#define ROUTE_QUERY_NAME_MAX 64

/*
 * Find name in a raw query string q[0..len) ("state=queued&limit=5", no
 * '?'); pairs are split on '&', "%XX" and '+' are decoded in names and
 * values, and the first pair whose decoded name is name wins (a pair
 * without '=' has no value and never matches). The decoded value goes to
 * out[n]. Returns 1 if found, 2 if found but cut to n - 1 bytes, 0 if
 * absent, -1 if its value has a bad escape or decodes to a control byte;
 * out is "" unless 1 or 2. Only the first ROUTE_QUERY_MAX bytes of q are
 * read.
 */
int route_query_get(const char *q, size_t len, const char *name, char *out,
		    size_t n);

#endif
