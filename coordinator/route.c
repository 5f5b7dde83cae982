/* route.c - the route table and the query string parser (see route.h). */
#include "route.h"

#include <string.h>

static const struct route_spec {
	const char *pattern;    /* see ROUTE_TABLE */
	unsigned methods;       /* ROUTE_GET | ... */
	enum route_scope read;  /* scope of GET and HEAD */
	enum route_scope write; /* scope of every other method */
} specs[ROUTE__COUNT] = {
	/* No route: reading nothing needs read, writing nothing admin, so
	 * an unknown path tells a stranger no more than a known one. */
	[ROUTE_NONE] = {"", 0, ROUTE_SCOPE_READ, ROUTE_SCOPE_ADMIN},
#define ROUTE_SPEC(id, pattern, methods, read, write) \
	[id] = {pattern, methods, ROUTE_SCOPE_##read, ROUTE_SCOPE_##write},
	ROUTE_TABLE(ROUTE_SPEC)
#undef ROUTE_SPEC
};

static unsigned method_bit(const char *m)
{
	static const struct {
		const char *name; /* as on the request line */
		unsigned bit;     /* ROUTE_GET, ... */
	} map[] = {
		{"GET", ROUTE_GET}, {"HEAD", ROUTE_HEAD},
		{"POST", ROUTE_POST}, {"PUT", ROUTE_PUT},
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(m, map[i].name))
			return map[i].bit;
	return ROUTE_OTHER;
}

int64_t route_parse_id(const char *s, size_t len)
{
	int64_t v = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

/* A buildlet name: letters, digits, '.', '_', '-'; not "." or "..". */
static int buildlet_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > ROUTE_BUILDLET_NAME_MAX ||
	    (len <= 2 && !strncmp(s, "..", len)))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* A relative path whose components are neither empty, "." nor "..". */
static int rel_path_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return 0;
	while (i <= len) {
		size_t n = 0;

		while (i + n < len && s[i + n] != '/')
			n++;
		if (n == 0 || (n <= 2 && !strncmp(s + i, "..", n)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Match one placeholder ("{id}", ...) at path; the bytes it takes, or -1. */
static long match_hole(const char *hole, size_t hole_len, const char *path,
		       struct route *r)
{
	size_t seg = strcspn(path, "/"), rest = strlen(path);

	if (hole_len == 4 && !strncmp(hole, "{id}", 4)) {
		int64_t id = route_parse_id(path, seg);

		if (id < 0)
			return -1;
		r->num = id;
		return (long)seg;
	}
	if (hole_len == 6 && !strncmp(hole, "{name}", 6)) {
		if (!buildlet_name_ok(path, seg))
			return -1;
		memcpy(r->name, path, seg);
		r->name[seg] = '\0';
		return (long)seg;
	}
	/* {path}, {digest} and {file} take the rest of the path. */
	if (rest >= sizeof r->name ||
	    (hole_len == 6 && !strncmp(hole, "{path}", 6) && !rel_path_ok(path, rest)))
		return -1;
	memcpy(r->name, path, rest + 1);
	return (long)rest;
}

/* 1 if path has the shape of pattern (holes filled into r). */
static int match(const char *pat, const char *path, struct route *r)
{
	r->num = 0;
	r->name[0] = '\0';
	while (*pat) {
		const char *close;
		long n;

		if (*pat != '{') {
			if (*pat != *path)
				return 0;
			pat++;
			path++;
			continue;
		}
		close = strchr(pat, '}');
		n = match_hole(pat, (size_t)(close - pat + 1), path, r);
		if (n < 0)
			return 0;
		path += n;
		pat = close + 1;
	}
	return *path == '\0';
}

void route_parse(const char *method, const char *path, struct route *r)
{
	unsigned bit = method_bit(method);
	const struct route_spec *s;

	r->id = ROUTE_NONE;
	for (int i = ROUTE_NONE + 1; i < ROUTE__COUNT; i++) {
		/* Everything outside /api/ is the dashboard's; nothing inside. */
		if (i == ROUTE_DASHBOARD && !strncmp(path, "/api/", 5))
			break;
		if (match(specs[i].pattern, path, r)) {
			r->id = (enum route_id)i;
			break;
		}
	}
	if (r->id == ROUTE_NONE) {
		r->num = 0;
		r->name[0] = '\0';
	}
	s = &specs[r->id];
	r->allowed = (s->methods & bit) != 0;
	r->scope = bit & (ROUTE_GET | ROUTE_HEAD) ? s->read : s->write;
}

const char *route_pattern(enum route_id id)
{
	return (unsigned)id < ROUTE__COUNT ? specs[id].pattern : "";
}

const char *route_scope_name(enum route_scope s)
{
	static const char *const names[] = {"none", "read", "submit", "admin"};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ---- query strings ---- */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) ('+' is a space) into out[n], cutting to n - 1
 * bytes. Returns the full decoded length (which may be over n - 1), or -1
 * for a bad escape or a control byte, which no name or value may hold.
 */
static long decode(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i], hi, lo;

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (len - i < 3 || (hi = hex_digit(s[i + 1])) < 0 ||
			    (lo = hex_digit(s[i + 2])) < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 < n)
			out[o] = (char)c;
		o++;
	}
	if (n)
		out[o < n ? o : n - 1] = '\0';
	return (long)o;
}

int route_query_get(const char *q, size_t len, const char *name, char *out,
		    size_t n)
{
	char key[ROUTE_QUERY_NAME_MAX + 1];
	size_t i = 0;

	if (n)
		out[0] = '\0';
	if (len > ROUTE_QUERY_MAX)
		len = ROUTE_QUERY_MAX;
	while (i < len) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - q) : len;
		const char *eq = memchr(q + i, '=', end - i);
		long kl, vl;

		if (eq) {
			kl = decode(q + i, (size_t)(eq - q) - i, key, sizeof key);
			if (kl >= 0 && (size_t)kl < sizeof key && !strcmp(key, name)) {
				vl = decode(eq + 1, end - (size_t)(eq + 1 - q), out, n);
				if (vl < 0) {
					if (n)
						out[0] = '\0';
					return -1;
				}
				return (size_t)vl < n ? 1 : 2;
			}
		}
		i = end + 1;
	}
	return 0;
}
