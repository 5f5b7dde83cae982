/*
 * fuzz_route.c - libFuzzer target for the route table and the query
 * string parser (coordinator/route.c).
 *
 * Input: one byte picks the method, then the path up to a newline (cut to
 * what struct http_conn keeps), then the raw query. Beyond the
 * sanitizers, the target checks what the rest of the coordinator relies
 * on: a route's name is a NUL-terminated piece of the path, an artifact
 * name never climbs out with "..", a buildlet name fits its column, ids
 * are positive and exact, a refused method is never "allowed", and a
 * query value never overruns its buffer or carries a control byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

#define PATH_MAX_LEN 511 /* struct http_conn.path holds 512 bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why, const char *path)
{
	fprintf(stderr, "fuzz_route: %s (path \"%.600s\")\n", why, path);
	abort();
}

static int has_dotdot_component(const char *s)
{
	size_t n = strlen(s);

	return !strcmp(s, "..") || !strncmp(s, "../", 3) || strstr(s, "/../") ||
	       (n >= 3 && !strcmp(s + n - 3, "/.."));
}

static void check_route(const char *method, const char *path)
{
	struct route r;

	route_parse(method, path, &r);
	if (r.id >= ROUTE__COUNT || (unsigned)r.scope > ROUTE_SCOPE_ADMIN)
		die("route or scope out of range", path);
	if (memchr(r.name, '\0', sizeof r.name) == NULL || !strstr(path, r.name))
		die("the name is not a piece of the path", path);
	if (r.id == ROUTE_NONE && (r.allowed || r.num || r.name[0]))
		die("no route, yet something was parsed", path);
	if (r.num < 0 || r.num >= ((int64_t)1 << 53))
		die("id out of range", path);
	if (strstr(route_pattern(r.id), "{id}") && r.num <= 0)
		die("a route with an id has none", path);
	if (r.id == ROUTE_JOB_ARTIFACT && (has_dotdot_component(r.name) || r.name[0] == '/'))
		die("an artifact name leaves its job", path);
	if ((r.id == ROUTE_BUILDLET_DRAIN || r.id == ROUTE_BUILDLET_UNDRAIN) &&
	    (strlen(r.name) > ROUTE_BUILDLET_NAME_MAX || strchr(r.name, '/') ||
	     !strcmp(r.name, "..")))
		die("a bad buildlet name", path);
	if (r.id == ROUTE_DASHBOARD && !strncmp(path, "/api/", 5))
		die("an API path went to the dashboard", path);
	if (r.scope == ROUTE_SCOPE_NONE && r.id != ROUTE_ALIVE && r.id != ROUTE_READY)
		die("a route other than /alive and /ready needs no token", path);
	if (strcmp(method, "GET") && strcmp(method, "HEAD") && r.scope < ROUTE_SCOPE_SUBMIT &&
	    r.scope != ROUTE_SCOPE_NONE)
		die("a write needs only read", path);
}

static void check_query(const char *q, size_t len, const char *name)
{
	static const size_t sizes[] = {1, 2, 8, 64};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char out[80];
		int r;

		memset(out, 'Z', sizeof out);
		r = route_query_get(q, len, name, out, sizes[i]);
		if (r < -1 || r > 2 || out[sizes[i]] != 'Z' ||
		    strlen(out) > sizes[i] - 1 || ((r <= 0) && out[0]))
			die("query value overruns or lies", name);
		for (const char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				die("a control byte in a query value", name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT",
					      "DELETE", "OPTIONS", ""};
	char path[PATH_MAX_LEN + 1], name[ROUTE_QUERY_NAME_MAX + 2];
	const uint8_t *nl;
	size_t plen;

	if (size < 1)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	plen = (nl ? (size_t)(nl - data) : size) - 1;
	if (plen > PATH_MAX_LEN)
		plen = PATH_MAX_LEN;
	memcpy(path, data + 1, plen);
	path[plen] = '\0'; /* a NUL inside cuts it, as C strings do */
	check_route(methods[data[0] % (sizeof methods / sizeof methods[0])], path);
	if (!nl)
		return 0;
	/* The query, asked for the names the API uses and for the path as a
	 * name (so the fuzzer can make names match). */
	nl++;
	size -= (size_t)(nl - data);
	check_query((const char *)nl, size, "state");
	check_query((const char *)nl, size, "limit");
	snprintf(name, sizeof name, "%s", path);
	check_query((const char *)nl, size, name);
	return 0;
}
